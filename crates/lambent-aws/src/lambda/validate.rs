//! AWS's validation rules for function configuration, with AWS's messages.
//!
//! Model-constraint failures (lengths, ranges, patterns) are collected and reported together as
//! one `ValidationException` ("2 validation errors detected: ...; ..."), as AWS does; semantic
//! failures (reserved variables, the 4 KB environment) are `InvalidParameterValueException`.

use super::model::Variables;
use super::LambdaError;

pub const MIN_MEMORY: u32 = 128;
pub const MAX_MEMORY: u32 = 10_240;
pub const MAX_TIMEOUT: u32 = 900;
pub const MIN_EPHEMERAL: u32 = 512;
pub const MAX_EPHEMERAL: u32 = 10_240;
pub const MAX_ENV_BYTES: usize = 4096;
pub const MAX_HANDLER_LEN: usize = 128;
pub const MAX_DESCRIPTION_LEN: usize = 256;

/// Every runtime AWS's CreateFunction accepts today, in the order AWS lists them.
pub const RUNTIMES: &[&str] = &[
    "nodejs20.x",
    "python3.14",
    "provided.al2023",
    "python3.12",
    "python3.13",
    "nodejs24.x",
    "nodejs22.x",
    "java25",
    "python3.10",
    "python3.11",
    "java21",
    "ruby3.3",
    "ruby3.4",
    "ruby3.2",
    "python3.8",
    "python3.9",
    "java17",
    "nodejs16.x",
    "dotnet10",
    "dotnet8",
    "java11",
    "dotnet6",
    "nodejs18.x",
    "provided.al2",
    "java8.al2",
];

/// Runtimes AWS no longer accepts for new functions or updates.
pub const DEPRECATED_RUNTIMES: &[&str] = &[
    "provided",
    "python2.7",
    "python3.6",
    "python3.7",
    "nodejs",
    "nodejs4.3",
    "nodejs6.10",
    "nodejs8.10",
    "nodejs10.x",
    "nodejs12.x",
    "nodejs14.x",
    "java8",
    "go1.x",
    "dotnetcore1.0",
    "dotnetcore2.0",
    "dotnetcore2.1",
    "dotnetcore3.1",
    "ruby2.5",
    "ruby2.7",
];

/// Variables Lambda sets itself; a function may not define them.
pub const RESERVED_VARIABLES: &[&str] = &[
    "_HANDLER",
    "_X_AMZN_TRACE_ID",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "AWS_EXECUTION_ENV",
    "AWS_LAMBDA_FUNCTION_NAME",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
    "AWS_LAMBDA_FUNCTION_VERSION",
    "AWS_LAMBDA_INITIALIZATION_TYPE",
    "AWS_LAMBDA_LOG_GROUP_NAME",
    "AWS_LAMBDA_LOG_STREAM_NAME",
    "AWS_ACCESS_KEY",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_LAMBDA_RUNTIME_API",
    "LAMBDA_TASK_ROOT",
    "LAMBDA_RUNTIME_DIR",
];

/// Collects model-constraint violations, then reports them as AWS does.
#[derive(Default)]
pub struct Violations(Vec<String>);

impl Violations {
    pub fn push(&mut self, value: impl std::fmt::Display, member: &str, constraint: &str) {
        self.0.push(format!(
            "Value '{value}' at '{member}' failed to satisfy constraint: {constraint}"
        ));
    }

    pub fn push_null(&mut self, member: &str) {
        self.0.push(format!(
            "Value null at '{member}' failed to satisfy constraint: Member must not be null"
        ));
    }

    pub fn range(&mut self, value: Option<i64>, member: &str, min: i64, max: i64) {
        match value {
            Some(v) if v < min => self.push(
                v,
                member,
                &format!("Member must have value greater than or equal to {min}"),
            ),
            Some(v) if v > max => self.push(
                v,
                member,
                &format!("Member must have value less than or equal to {max}"),
            ),
            _ => {}
        }
    }

    pub fn into_result(self) -> Result<(), LambdaError> {
        match self.0.len() {
            0 => Ok(()),
            1 => Err(LambdaError::Validation(format!(
                "1 validation error detected: {}",
                self.0[0]
            ))),
            n => Err(LambdaError::Validation(format!(
                "{n} validation errors detected: {}",
                self.0.join("; ")
            ))),
        }
    }
}

/// Checks the handler's model constraints (length, no whitespace).
pub fn handler(v: &mut Violations, handler: &str) {
    if handler.len() > MAX_HANDLER_LEN {
        v.push(
            handler,
            "handler",
            "Member must have length less than or equal to 128",
        );
    } else if handler.is_empty() || handler.chars().any(char::is_whitespace) {
        v.push(
            handler,
            "handler",
            "Member must satisfy regular expression pattern: [^\\s]+",
        );
    }
}

/// A handler that would make the runtime load code from outside the function's own
/// directory: AWS fails these at run time; lambent refuses them up front.
pub fn handler_path(handler: &str) -> Result<(), LambdaError> {
    let escapes = handler.starts_with('/')
        || handler.starts_with('\\')
        || handler.contains('\0')
        || handler
            .split(['/', '\\'])
            .any(|seg| seg == ".." || seg.starts_with(".."));
    if escapes {
        return Err(LambdaError::InvalidParameterValue(format!(
            "The handler '{handler}' is invalid: it must name a file inside the function's code, without an absolute path or '..'."
        )));
    }
    Ok(())
}

/// `Runtime` must be one of AWS's current runtimes.
pub fn runtime(runtime: &str) -> Result<(), LambdaError> {
    if DEPRECATED_RUNTIMES.contains(&runtime) {
        return Err(LambdaError::InvalidParameterValue(format!(
            "The runtime parameter of {runtime} is no longer supported for creating or updating AWS Lambda functions. We recommend you use a supported runtime while creating or updating functions."
        )));
    }
    if !RUNTIMES.contains(&runtime) {
        return Err(LambdaError::InvalidParameterValue(format!(
            "Value {runtime} at 'runtime' failed to satisfy constraint: Member must satisfy enum value set: [{}] or be a valid ARN",
            RUNTIMES.join(", ")
        )));
    }
    Ok(())
}

/// Environment variables: AWS's key pattern, reserved keys, and the 4 KB total.
pub fn environment(vars: &Variables) -> Result<(), LambdaError> {
    let bad_key = vars.keys().any(|k| {
        let b = k.as_bytes();
        b.len() < 2
            || !b[0].is_ascii_alphabetic()
            || !b[1..]
                .iter()
                .all(|c| c.is_ascii_alphanumeric() || *c == b'_')
    });
    if bad_key {
        return Err(LambdaError::Validation(
            "1 validation error detected: Value at 'environment.variables' failed to satisfy constraint: Map keys must satisfy constraint: [Member must satisfy regular expression pattern: [a-zA-Z]([a-zA-Z0-9_])+]".into(),
        ));
    }
    let reserved: Vec<&str> = vars
        .keys()
        .filter(|k| RESERVED_VARIABLES.contains(k))
        .collect();
    if !reserved.is_empty() {
        return Err(LambdaError::InvalidParameterValue(format!(
            "Lambda was unable to configure your environment variables because the environment variables you have provided contains reserved keys that are currently not supported for modification. Reserved keys used in this request: {}",
            reserved.join(", ")
        )));
    }
    let measured = serde_json::to_string(vars).unwrap_or_default();
    if measured.len() > MAX_ENV_BYTES {
        return Err(LambdaError::InvalidParameterValue(format!(
            "Lambda was unable to configure your environment variables because the environment variables you have provided exceeded the 4KB limit. String measured: {measured}"
        )));
    }
    Ok(())
}

/// Alias names: `(?!^[0-9]+$)([a-zA-Z0-9-_]+)`, 1..128.
pub fn is_alias_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 128
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        && !name.bytes().all(|b| b.is_ascii_digit())
}

/// `DestinationArn` (an asynchronous invocation's or event source's destination), as AWS
/// quotes it in its validation message.
pub const DESTINATION_ARN_PATTERN: &str = r"$|kafka://([^.]([a-zA-Z0-9\-_.]{0,248}))|arn:(aws[a-zA-Z0-9-]*):([a-zA-Z0-9\-])+:((eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1})?:(\d{12})?:(.*)";
pub const MAX_DESTINATION_ARN_LEN: usize = 350;

/// Whether the whole of `s` matches [`DESTINATION_ARN_PATTERN`]: empty, a `kafka://` topic,
/// or an ARN of any service with an optional region and account.
pub fn is_destination_arn(s: &str) -> bool {
    if s.is_empty() {
        return true;
    }
    if let Some(topic) = s.strip_prefix("kafka://") {
        let mut chars = topic.chars();
        return match chars.next() {
            Some(first) if first != '.' && !is_line_end(first) => {
                let rest = chars.as_str();
                rest.len() <= 248
                    && rest
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.')
            }
            _ => false,
        };
    }
    // Partition, service, region and account cannot hold a colon, so splitting is exact.
    let parts: Vec<&str> = s.splitn(6, ':').collect();
    let ["arn", partition, service, region, account, resource] = parts.as_slice() else {
        return false;
    };
    partition
        .strip_prefix("aws")
        .is_some_and(|rest| rest.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'))
        && !service.is_empty()
        && service
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        && (region.is_empty() || is_destination_region(region))
        && (account.is_empty()
            || (account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit())))
        && !resource.chars().any(is_line_end)
}

/// What Java's `.` does not match.
fn is_line_end(c: char) -> bool {
    matches!(c, '\n' | '\r' | '\u{85}' | '\u{2028}' | '\u{2029}')
}

/// `(eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1}`.
fn is_destination_region(s: &str) -> bool {
    let lower = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_lowercase());
    // `-[a-z]+-\d`
    let tail = |s: &str| {
        s.strip_prefix('-')
            .and_then(|s| s.rsplit_once('-'))
            .is_some_and(|(word, digit)| {
                lower(word) && digit.len() == 1 && digit.bytes().all(|b| b.is_ascii_digit())
            })
    };
    let core = |s: &str| {
        if s.len() < 2 || !s.is_char_boundary(2) || !lower(&s[..2]) {
            return false;
        }
        let r = &s[2..];
        let iso = r.strip_prefix("-iso");
        tail(r)
            || r.strip_prefix("-gov").is_some_and(tail)
            || iso.is_some_and(tail)
            || iso.is_some_and(|i| {
                i.as_bytes().first().is_some_and(u8::is_ascii_lowercase) && tail(&i[1..])
            })
    };
    core(s) || s.strip_prefix("eusc-").is_some_and(core)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn collects_violations_like_aws() {
        let mut v = Violations::default();
        v.range(Some(1000), "timeout", 1, 900);
        assert_eq!(
            v.into_result().unwrap_err().to_string(),
            "1 validation error detected: Value '1000' at 'timeout' failed to satisfy constraint: Member must have value less than or equal to 900"
        );
        let mut v = Violations::default();
        v.range(Some(64), "memorySize", 128, 10240);
        v.range(Some(0), "timeout", 1, 900);
        let msg = v.into_result().unwrap_err().to_string();
        assert!(msg.starts_with("2 validation errors detected: Value '64' at 'memorySize'"));
        assert!(msg.contains("; Value '0' at 'timeout'"));
    }

    #[test]
    fn handlers() {
        for bad in ["a b", "", &"x".repeat(129)] {
            let mut v = Violations::default();
            handler(&mut v, bad);
            assert!(v.into_result().is_err(), "{bad:?}");
        }
        for bad in ["/etc/passwd.x", "../x.handler", "a/../../b.h", "..\\x.h"] {
            assert!(handler_path(bad).is_err(), "{bad}");
        }
        for ok in ["app.handler", "dir/sub/app.handler", "pkg.mod.fn"] {
            let mut v = Violations::default();
            handler(&mut v, ok);
            assert!(v.into_result().is_ok());
            assert!(handler_path(ok).is_ok());
        }
    }

    #[test]
    fn runtimes() {
        assert!(runtime("python3.12").is_ok());
        assert!(runtime("provided.al2023").is_ok());
        let e = runtime("PYTHON3.9").unwrap_err();
        assert!(e.to_string().starts_with("Value PYTHON3.9 at 'runtime'"));
        let e = runtime("python3.7").unwrap_err();
        assert!(e.to_string().contains("no longer supported"));
    }

    #[test]
    fn environments() {
        let mut vars = Variables::default();
        vars.insert("GOOD".to_string(), "x".to_string());
        assert!(environment(&vars).is_ok());
        vars.insert("AWS_REGION".to_string(), "x".to_string());
        assert!(matches!(
            environment(&vars),
            Err(LambdaError::InvalidParameterValue(m)) if m.contains("AWS_REGION")
        ));
        let mut big = Variables::default();
        big.insert("A".repeat(10), "v".repeat(4100));
        assert!(matches!(
            environment(&big),
            Err(LambdaError::InvalidParameterValue(m)) if m.contains("4KB")
        ));
        let mut bad = Variables::default();
        bad.insert("1X".to_string(), "v".to_string());
        assert!(matches!(environment(&bad), Err(LambdaError::Validation(_))));
    }

    #[test]
    fn alias_names() {
        assert!(is_alias_name("live"));
        assert!(is_alias_name("v-1_x"));
        assert!(!is_alias_name("12"));
        assert!(!is_alias_name("a b"));
        assert!(!is_alias_name(""));
    }

    #[test]
    fn destination_arns() {
        for ok in [
            "",
            "arn:aws:lambda:us-east-1:000000000000:function:f",
            "arn:aws:sqs:us-east-1:000000000000:q",
            "arn:aws:iam:us-east-1:111111111111:function:f",
            "arn:aws:s3:::bucket",
            "arn:aws-us-gov:sns:us-gov-west-1:000000000000:t",
            "arn:aws:events:us-isob-east-1:000000000000:event-bus/default",
            "arn:aws:events:eusc-de-east-1:000000000000:event-bus/x:y",
            "kafka://my-topic.v1",
        ] {
            assert!(is_destination_arn(ok), "{ok}");
        }
        for bad in [
            "arn:aws:_-/!lambda:us-east-1:000000000000:function:f",
            "arn:aws:lambda:us-east-1:000000000000",
            "arn:amazon:sqs:us-east-1:000000000000:q",
            "arn:aws:sqs:useast1:000000000000:q",
            "arn:aws:sqs:us-east-1:123:q",
            "arn:aws:sqs:us-east-1:000000000000:q\n",
            "kafka://.topic",
            "kafka://",
            "sqs-queue",
        ] {
            assert!(!is_destination_arn(bad), "{bad:?}");
        }
    }
}
