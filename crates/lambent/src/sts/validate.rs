//! STS's model constraints with AWS's `ValidationError` wording: every failed constraint of
//! a request is collected, then reported in one message
//! (`2 validation errors detected: Value 'x' at 'roleSessionName' failed to satisfy
//! constraint: ...; Value ...`).

use super::StsError;

/// A pattern as AWS writes it, and the test of each character it allows.
pub type Pattern = (&'static str, fn(char) -> bool);

/// The failed constraints of one request, in member order.
#[derive(Default)]
pub struct Violations(Vec<String>);

/// The members AssumeRole and AssumeRoleWithWebIdentity share, checked in member order.
pub struct SessionMembers<'a> {
    pub role_arn: Option<&'a str>,
    pub session_name: Option<&'a str>,
    pub policy_arns: Vec<&'a str>,
    pub policy: Option<&'a str>,
    pub duration: Option<i64>,
}

impl Violations {
    /// Checks the members every AssumeRole* request has.
    pub fn session_members<'a>(
        &mut self,
        params: &'a super::query::Params,
    ) -> Result<SessionMembers<'a>, StsError> {
        let role_arn = self.required(params.get("RoleArn"), "roleArn");
        self.text(role_arn, "roleArn", 20, 2048, None);
        let session_name = self.required(params.get("RoleSessionName"), "roleSessionName");
        self.text(session_name, "roleSessionName", 2, 64, Some(SESSION_NAME));
        let policy_arns = params.list("PolicyArns", ".arn");
        self.count(policy_arns.len(), "policyArns", 10);
        for arn in &policy_arns {
            self.text(Some(arn), "policyArns.member.arn", 20, 2048, None);
        }
        let policy = params.get("Policy");
        self.text(policy, "policy", 1, 2048, None);
        let duration = self.integer(
            params.get("DurationSeconds"),
            "durationSeconds",
            900,
            43_200,
        )?;
        Ok(SessionMembers {
            role_arn,
            session_name,
            policy_arns,
            policy,
            duration,
        })
    }

    fn push(&mut self, value: Option<&str>, member: &str, constraint: &str) {
        let value = match value {
            Some(v) => format!("'{v}'"),
            None => "null".into(),
        };
        self.0.push(format!(
            "Value {value} at '{member}' failed to satisfy constraint: Member must {constraint}"
        ));
    }

    /// A required member.
    pub fn required<'a>(&mut self, value: Option<&'a str>, member: &str) -> Option<&'a str> {
        if value.is_none() {
            self.push(None, member, "not be null");
        }
        value
    }

    /// A string's length (in characters) and, if given, its `[\w+=,.@-]*`-like pattern.
    pub fn text(
        &mut self,
        value: Option<&str>,
        member: &str,
        min: usize,
        max: usize,
        pattern: Option<Pattern>,
    ) {
        let Some(v) = value else { return };
        let len = v.chars().count();
        if len < min {
            self.push(
                Some(v),
                member,
                &format!("have length greater than or equal to {min}"),
            );
        }
        if len > max {
            self.push(
                Some(v),
                member,
                &format!("have length less than or equal to {max}"),
            );
        }
        if let Some((text, allowed)) = pattern {
            if !v.chars().all(allowed) {
                self.push(
                    Some(v),
                    member,
                    &format!("satisfy regular expression pattern: {text}"),
                );
            }
        }
    }

    /// An integer member within `min..=max`; `Err` when it is not a number at all.
    pub fn integer(
        &mut self,
        value: Option<&str>,
        member: &str,
        min: i64,
        max: i64,
    ) -> Result<Option<i64>, StsError> {
        let Some(v) = value else { return Ok(None) };
        let n: i64 = v.trim().parse().map_err(|_| {
            StsError::validation(format!(
                "1 validation error detected: Value '{v}' at '{member}' failed to satisfy \
                 constraint: Member must be a number"
            ))
        })?;
        if n < min {
            self.push(
                Some(v),
                member,
                &format!("have value greater than or equal to {min}"),
            );
        }
        if n > max {
            self.push(
                Some(v),
                member,
                &format!("have value less than or equal to {max}"),
            );
        }
        Ok(Some(n))
    }

    /// A list's number of members.
    pub fn count(&mut self, len: usize, member: &str, max: usize) {
        if len > max {
            self.0.push(format!(
                "Value '[...]' at '{member}' failed to satisfy constraint: Member must have \
                 length less than or equal to {max}"
            ));
        }
    }

    /// `Err` with AWS's message if any constraint failed.
    pub fn finish(self) -> Result<(), StsError> {
        match self.0.len() {
            0 => Ok(()),
            1 => Err(StsError::validation(format!(
                "1 validation error detected: {}",
                self.0[0]
            ))),
            n => Err(StsError::validation(format!(
                "{n} validation errors detected: {}",
                self.0.join("; ")
            ))),
        }
    }
}

/// Java's `\w`, as AWS's patterns mean it.
fn word(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// `[\w+=,.@-]*`: role session names and source identities.
pub const SESSION_NAME: Pattern = (r"[\w+=,.@-]*", |c| word(c) || "+=,.@-".contains(c));

/// `[\w+=,.@:\/-]*`: external ids.
pub const EXTERNAL_ID: Pattern = (r"[\w+=,.@:\/-]*", |c| word(c) || "+=,.@:/-".contains(c));

/// Whether `arn` has an ARN's six fields with partition, service and resource present;
/// AWS refuses others with `<arn> is invalid`.
pub fn arn_is_valid(arn: &str) -> bool {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    parts.len() == 6
        && parts[0] == "arn"
        && !parts[1].is_empty()
        && !parts[2].is_empty()
        && !parts[5].is_empty()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session_name(name: &str) -> Result<(), StsError> {
        let mut v = Violations::default();
        v.text(Some(name), "roleSessionName", 2, 64, Some(SESSION_NAME));
        v.finish()
    }

    #[test]
    fn session_names_follow_aws() {
        for ok in ["ab", "my-session", "a_b+c=d,e.f@g-h", &"x".repeat(64)] {
            assert!(session_name(ok).is_ok(), "{ok}");
        }
        assert_eq!(
            session_name("Session1:2").unwrap_err().message,
            "1 validation error detected: Value 'Session1:2' at 'roleSessionName' failed to \
             satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*"
        );
        assert_eq!(
            session_name("a").unwrap_err().message,
            "1 validation error detected: Value 'a' at 'roleSessionName' failed to satisfy \
             constraint: Member must have length greater than or equal to 2"
        );
        let long = format!("{}:", "y".repeat(64));
        let e = session_name(&long).unwrap_err();
        assert_eq!(e.code, "ValidationError");
        assert!(
            e.message.starts_with("2 validation errors detected: "),
            "{}",
            e.message
        );
        assert!(session_name("sp ce").is_err());
        assert!(session_name("é-accent").is_err());
    }

    #[test]
    fn durations_and_required_members() {
        let mut v = Violations::default();
        assert_eq!(
            v.integer(Some("899"), "durationSeconds", 900, 43200)
                .unwrap(),
            Some(899)
        );
        assert_eq!(
            v.finish().unwrap_err().message,
            "1 validation error detected: Value '899' at 'durationSeconds' failed to satisfy \
             constraint: Member must have value greater than or equal to 900"
        );
        let mut v = Violations::default();
        assert!(v
            .integer(Some("ten"), "durationSeconds", 900, 43200)
            .is_err());
        assert!(v.required(None, "roleArn").is_none());
        assert!(v
            .finish()
            .unwrap_err()
            .message
            .contains("Value null at 'roleArn'"));
    }

    #[test]
    fn arns_as_aws_recorded() {
        for bad in [
            "nothing-valid-in-here",
            "arn::b:::something/test-role",
            "arn:a::::something/test-role",
            "arn:a:::something/test-role",
            "arn:a:a::aaaaaaaaaa:",
        ] {
            assert!(!arn_is_valid(bad), "{bad}");
        }
        assert!(arn_is_valid("arn:aws:iam::000000000000:role/r"));
    }
}
