//! Execution roles lambent creates itself: the examples' role (`lambent up --examples`) and
//! the roles an upgrade gives functions whose role IAM never held. Each trusts Lambda, as
//! the console's "basic Lambda permissions" role does. A role that exists is left as the
//! user has it.

use lambent_store::iam::{EntityKind, IamError, IamStore, NewRole};

/// The trust policy of a role Lambda may assume.
pub const TRUSTS_LAMBDA: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;

/// A role to create, and the policies it gets.
pub struct ExecutionRole<'a> {
    /// `/` or `/path/`.
    pub path: &'a str,
    pub name: &'a str,
    pub description: &'a str,
    /// AWS-managed (or the account's) policies to attach, by ARN.
    pub managed: &'a [&'a str],
    /// Inline policies: name and document.
    pub inline: &'a [(&'a str, &'a str)],
}

/// Creates `role` with its policies unless a role of that name exists; whether it did.
pub fn ensure(store: &IamStore, role: &ExecutionRole<'_>) -> Result<bool, IamError> {
    match store.role(role.name) {
        Ok(_) => return Ok(false),
        Err(IamError::NoSuchEntity { .. }) => {}
        Err(e) => return Err(e),
    }
    store.create_role(&NewRole {
        name: role.name.to_string(),
        path: Some(role.path.to_string()),
        trust_policy: TRUSTS_LAMBDA.to_string(),
        description: Some(role.description.to_string()),
        max_session_duration: None,
        permissions_boundary: None,
        tags: Vec::new(),
    })?;
    for arn in role.managed {
        store.attach_policy(EntityKind::Role, role.name, arn)?;
    }
    for (name, document) in role.inline {
        store.put_inline_policy(EntityKind::Role, role.name, name, document)?;
    }
    Ok(true)
}

/// The path and name of a role ARN (`arn:aws:iam::A:role/path/name` → `/path/`, `name`).
pub fn path_and_name(role_arn: &str) -> (String, &str) {
    let resource = role_arn.splitn(6, ':').nth(5).unwrap_or("");
    let rest = resource.strip_prefix("role").unwrap_or(resource);
    match rest.rfind('/') {
        Some(i) if i > 0 => (format!("{}/", &rest[..i]), &rest[i + 1..]),
        Some(i) => ("/".to_string(), &rest[i + 1..]),
        None => ("/".to_string(), rest),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_role_arn_splits_into_its_path_and_name() {
        for (arn, path, name) in [
            ("arn:aws:iam::000000000000:role/r", "/", "r"),
            ("arn:aws:iam::000000000000:role/service/r", "/service/", "r"),
            ("arn:aws:iam::000000000000:role/a/b/r", "/a/b/", "r"),
        ] {
            assert_eq!(path_and_name(arn), (path.to_string(), name), "{arn}");
        }
    }
}
