//! AWS's constraints on IAM's request members (names, paths, descriptions, ARNs), with
//! AWS's `ValidationError` wording.

use super::error::IamApiError;
use super::query::camel;

/// `[\w+=,.@-]+`: the characters of user, group, role and policy names.
fn name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "_+=,.@-".contains(c)
}

fn failed(member: &str, value: &str, constraint: &str) -> IamApiError {
    IamApiError::validation(format!(
        "1 validation error detected: Value '{value}' at '{}' failed to satisfy constraint: {constraint}",
        camel(member)
    ))
}

fn length(member: &str, value: &str, min: usize, max: usize) -> Result<(), IamApiError> {
    let n = value.chars().count();
    if n < min {
        return Err(failed(
            member,
            value,
            &format!("Member must have length greater than or equal to {min}"),
        ));
    }
    if n > max {
        return Err(failed(
            member,
            value,
            &format!("Member must have length less than or equal to {max}"),
        ));
    }
    Ok(())
}

/// A user, role (max 64), group or policy (max 128) name.
pub fn name(member: &str, value: &str, max: usize) -> Result<(), IamApiError> {
    length(member, value, 1, max)?;
    if !value.chars().all(name_char) {
        return Err(failed(
            member,
            value,
            r"Member must satisfy regular expression pattern: [\w+=,.@-]+",
        ));
    }
    Ok(())
}

/// A path: `/` or `/a/b/` of printable ASCII, at most 512 characters.
pub fn path(member: &str, value: &str) -> Result<(), IamApiError> {
    length(member, value, 1, 512)?;
    let printable = value.chars().all(|c| ('\u{21}'..='\u{7e}').contains(&c));
    if !(value == "/"
        || (printable && value.len() >= 2 && value.starts_with('/') && value.ends_with('/')))
    {
        return Err(failed(
            member,
            value,
            r"Member must satisfy regular expression pattern: (\u002F)|(\u002F[\u0021-\u007E]+\u002F)",
        ));
    }
    Ok(())
}

/// A `PathPrefix`: `/` then printable ASCII.
pub fn path_prefix(value: &str) -> Result<(), IamApiError> {
    length("PathPrefix", value, 1, 512)?;
    if !value.starts_with('/') || !value.chars().all(|c| ('\u{21}'..='\u{7f}').contains(&c)) {
        return Err(failed(
            "PathPrefix",
            value,
            r"Member must satisfy regular expression pattern: \u002F[\u0021-\u007F]*",
        ));
    }
    Ok(())
}

/// A description of at most 1,000 characters.
pub fn description(value: &str) -> Result<(), IamApiError> {
    length("Description", value, 0, 1000)
}

/// A tag: key 1..128, value 0..256, of `[\p{L}\p{Z}\p{N}_.:/=+\-@]`.
pub fn tag(key: &str, value: &str) -> Result<(), IamApiError> {
    let allowed = |c: char| c.is_alphanumeric() || c.is_whitespace() || "_.:/=+-@".contains(c);
    length("Tags.member.key", key, 1, 128)?;
    length("Tags.member.value", value, 0, 256)?;
    if !key.chars().all(allowed) {
        return Err(failed(
            "tags.member.key",
            key,
            r"Member must satisfy regular expression pattern: [\p{L}\p{Z}\p{N}_.:/=+\-@]+",
        ));
    }
    if !value.chars().all(allowed) {
        return Err(failed(
            "tags.member.value",
            value,
            r"Member must satisfy regular expression pattern: [\p{L}\p{Z}\p{N}_.:/=+\-@]*",
        ));
    }
    Ok(())
}

/// A policy ARN: AWS answers an unparsable one before looking it up.
pub fn policy_arn(value: &str) -> Result<(), IamApiError> {
    length("PolicyArn", value, 20, 2048)?;
    let parts: Vec<&str> = value.splitn(6, ':').collect();
    if parts.len() != 6 || parts[0] != "arn" || parts[1].is_empty() || parts[2].is_empty() {
        return Err(IamApiError::validation(format!(
            "Invalid ARN: {} Could not be parsed!",
            ""
        )));
    }
    Ok(())
}

/// An access key id: 16..128 word characters.
pub fn access_key_id(value: &str) -> Result<(), IamApiError> {
    length("AccessKeyId", value, 16, 128)?;
    if !value.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err(failed(
            "AccessKeyId",
            value,
            r"Member must satisfy regular expression pattern: [\w]+",
        ));
    }
    Ok(())
}

/// A policy version id: `v1`, `v2`, ...
pub fn version_id(value: &str) -> Result<(), IamApiError> {
    let digits = value.strip_prefix('v').unwrap_or("");
    if digits.is_empty()
        || digits.starts_with('0')
        || !digits.chars().all(|c| c.is_ascii_digit())
        || digits.len() > 9
    {
        return Err(failed(
            "VersionId",
            value,
            r"Member must satisfy regular expression pattern: v[1-9][0-9]*(\.[A-Za-z0-9-]*)?",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_aws_pattern_and_length() {
        assert!(name("UserName", "alice+ops=1,x.y@z-_", 64).is_ok());
        assert!(name("UserName", "", 64).is_err());
        assert!(name("UserName", &"a".repeat(65), 64).is_err());
        let e = name("UserName", "bad name", 64).unwrap_err();
        assert_eq!(e.code, "ValidationError");
        assert!(e.message.contains("'userName'"), "{}", e.message);
    }

    #[test]
    fn paths_begin_and_end_with_a_slash() {
        assert!(path("Path", "/").is_ok());
        assert!(path("Path", "/a/b/").is_ok());
        assert!(path("Path", "a/").is_err());
        assert!(path("Path", "/a").is_err());
        assert!(path("Path", "/a b/").is_err());
        assert!(path_prefix("/a").is_ok());
        assert!(path_prefix("a").is_err());
    }

    #[test]
    fn arns_and_versions() {
        assert!(policy_arn("arn:aws:iam::aws:policy/AdministratorAccess").is_ok());
        assert_eq!(
            policy_arn("not-an-arn-at-all-really").unwrap_err().message,
            "Invalid ARN:  Could not be parsed!"
        );
        assert!(version_id("v12").is_ok());
        assert!(version_id("v0").is_err());
        assert!(version_id("12").is_err());
    }
}
