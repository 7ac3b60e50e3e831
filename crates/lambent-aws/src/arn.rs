//! Function ARNs and the three spellings of a `FunctionName` (name, partial ARN, full ARN).

use std::fmt;

/// The account id every lambent resource lives in: one machine is one account.
pub const ACCOUNT_ID: &str = "000000000000";

/// A function name as a client may spell it, parsed into name and optional qualifier.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FunctionRef {
    pub name: String,
    pub qualifier: Option<String>,
    /// The region named in a full ARN, if any; callers compare it with their own.
    pub region: Option<String>,
}

/// Why a `FunctionName` could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FunctionRefError {
    /// The value does not match AWS's pattern for function names.
    Pattern,
    /// The name part is longer than 64 characters.
    NameTooLong,
}

const NAME_PATTERN: &str = r"(arn:(aws[a-zA-Z-]*)?:lambda:)?((eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1}:)?(\d{12}:)?(function:)?([a-zA-Z0-9-_]+)(:(\$LATEST|[a-zA-Z0-9-_]+))?";

impl FunctionRef {
    /// Parses `my-fn`, `my-fn:alias`, `123456789012:function:my-fn[:q]` and
    /// `arn:aws:lambda:us-east-1:123456789012:function:my-fn[:q]`.
    pub fn parse(raw: &str) -> Result<FunctionRef, FunctionRefError> {
        let parts: Vec<&str> = raw.split(':').collect();
        let (name, qualifier, region) = match parts.as_slice() {
            [name] => (*name, None, None),
            [name, q] => (*name, Some(*q), None),
            [account, "function", name] if is_account(account) => (*name, None, None),
            [account, "function", name, q] if is_account(account) => (*name, Some(*q), None),
            ["arn", partition, "lambda", region, account, "function", name]
                if is_partition(partition) && is_region(region) && is_account(account) =>
            {
                (*name, None, Some(*region))
            }
            ["arn", partition, "lambda", region, account, "function", name, q]
                if is_partition(partition) && is_region(region) && is_account(account) =>
            {
                (*name, Some(*q), Some(*region))
            }
            _ => return Err(FunctionRefError::Pattern),
        };
        if !is_name(name) {
            return Err(FunctionRefError::Pattern);
        }
        if let Some(q) = qualifier {
            if q != "$LATEST" && !is_name(q) {
                return Err(FunctionRefError::Pattern);
            }
        }
        if name.len() > 64 {
            return Err(FunctionRefError::NameTooLong);
        }
        Ok(FunctionRef {
            name: name.to_string(),
            qualifier: qualifier.map(str::to_string),
            region: region.map(str::to_string),
        })
    }

    /// The regular expression AWS quotes in its validation message.
    pub fn pattern() -> &'static str {
        NAME_PATTERN
    }
}

fn is_name(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

fn is_account(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit())
}

fn is_partition(s: &str) -> bool {
    s.strip_prefix("aws")
        .is_some_and(|rest| rest.bytes().all(|b| b.is_ascii_alphabetic() || b == b'-'))
}

fn is_region(s: &str) -> bool {
    // [a-z]{2}(-gov)?-[a-z]+-\d
    let mut it = s.split('-');
    let Some(cc) = it.next() else { return false };
    if cc.len() != 2 || !cc.bytes().all(|b| b.is_ascii_lowercase()) {
        return false;
    }
    let rest: Vec<&str> = it.collect();
    let rest = match rest.as_slice() {
        ["gov", r @ ..] => r,
        r => r,
    };
    matches!(rest, [word, digit] if !word.is_empty()
        && word.bytes().all(|b| b.is_ascii_lowercase())
        && digit.len() == 1 && digit.bytes().all(|b| b.is_ascii_digit()))
}

/// `arn:aws:lambda:{region}:{account}:function:{name}[:{qualifier}]`.
pub struct FunctionArn<'a> {
    pub region: &'a str,
    pub name: &'a str,
    pub qualifier: Option<&'a str>,
}

impl fmt::Display for FunctionArn<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "arn:aws:lambda:{}:{}:function:{}",
            self.region, ACCOUNT_ID, self.name
        )?;
        if let Some(q) = self.qualifier {
            write!(f, ":{q}")?;
        }
        Ok(())
    }
}

/// `arn:aws:iam::{account}:role/{path}`: the pattern CreateFunction's `Role` must match.
pub fn is_role_arn(s: &str) -> bool {
    let Some(rest) = s.strip_prefix("arn:") else {
        return false;
    };
    let Some((partition, rest)) = rest.split_once(':') else {
        return false;
    };
    if !partition.is_empty() && !is_partition(partition) {
        return false;
    }
    let Some(rest) = rest.strip_prefix("iam::") else {
        return false;
    };
    let Some((account, rest)) = rest.split_once(':') else {
        return false;
    };
    let Some(path) = rest.strip_prefix("role") else {
        return false;
    };
    let path = path.strip_prefix('/').unwrap_or(path);
    is_account(account)
        && !path.is_empty()
        && path
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_+=,.@-/".contains(&b))
}

/// The role name at the end of a role ARN (`.../role/path/name` gives `name`).
pub fn role_name(role_arn: &str) -> &str {
    role_arn.rsplit('/').next().unwrap_or(role_arn)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_spelling() {
        let cases = [
            ("my-fn", "my-fn", None, None),
            ("my-fn:live", "my-fn", Some("live"), None),
            ("my-fn:$LATEST", "my-fn", Some("$LATEST"), None),
            ("123456789012:function:my-fn", "my-fn", None, None),
            ("123456789012:function:my-fn:3", "my-fn", Some("3"), None),
            (
                "arn:aws:lambda:us-east-1:123456789012:function:my-fn",
                "my-fn",
                None,
                Some("us-east-1"),
            ),
            (
                "arn:aws:lambda:eu-west-2:123456789012:function:my-fn:prod",
                "my-fn",
                Some("prod"),
                Some("eu-west-2"),
            ),
            (
                "arn:aws-us-gov:lambda:us-gov-west-1:123456789012:function:f",
                "f",
                None,
                Some("us-gov-west-1"),
            ),
        ];
        for (raw, name, q, region) in cases {
            let r = FunctionRef::parse(raw).unwrap_or_else(|e| panic!("{raw}: {e:?}"));
            assert_eq!(r.name, name, "{raw}");
            assert_eq!(r.qualifier.as_deref(), q, "{raw}");
            assert_eq!(r.region.as_deref(), region, "{raw}");
        }
    }

    #[test]
    fn rejects_bad_names() {
        for raw in [
            "",
            "bad name",
            "a/b",
            "arn:aws:lambda:us-east-1:12:function:f",
            "arn:aws:s3:::bucket",
            "f:a:b",
            "f:",
            ":f",
            "fn\0",
        ] {
            assert_eq!(
                FunctionRef::parse(raw),
                Err(FunctionRefError::Pattern),
                "{raw:?}"
            );
        }
        assert_eq!(
            FunctionRef::parse(&"a".repeat(65)),
            Err(FunctionRefError::NameTooLong)
        );
    }

    #[test]
    fn role_arns() {
        assert!(is_role_arn("arn:aws:iam::123456789012:role/r"));
        assert!(is_role_arn("arn:aws:iam::123456789012:role/path/to/r-1"));
        assert!(is_role_arn("arn::iam::123456789012:role/r"));
        assert!(!is_role_arn("r1"));
        assert!(!is_role_arn("arn:aws:iam::1234:role/r"));
        assert!(!is_role_arn("arn:aws:iam::123456789012:user/r"));
        assert!(!is_role_arn("arn:aws:iam::123456789012:role/"));
        assert_eq!(role_name("arn:aws:iam::123456789012:role/a/b"), "b");
    }

    #[test]
    fn formats_arns() {
        let arn = FunctionArn {
            region: "us-east-1",
            name: "f",
            qualifier: Some("1"),
        };
        assert_eq!(
            arn.to_string(),
            "arn:aws:lambda:us-east-1:000000000000:function:f:1"
        );
    }
}
