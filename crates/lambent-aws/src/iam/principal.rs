//! The Principal/NotPrincipal element of resource and trust policies, and how a caller matches
//! it. How it matched matters: naming the session or user ARN grants directly, naming the role
//! ARN grants like an identity policy would (capped by boundary and session policies), naming
//! the account only delegates to the account's own IAM policies.

use serde_json::Value;

use super::policy::{strings, PolicyError};
use super::request::{Principal, PrincipalKind};

/// How a caller matched a Principal element, weakest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Grant {
    /// The caller's account (`"123456789012"` or `arn:aws:iam::123456789012:root`).
    Account,
    /// The role whose session the caller is (role ARN or `AROA...` id).
    Role,
    /// The caller itself: its ARN or unique id, its service or provider name, or `*`.
    Direct,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Entry {
    Everyone,
    Account(String),
    Arn(String),
    UniqueId(String),
    Service(String),
    Federated(String),
    /// S3's canonical user ids: lambent has none, so they never match.
    CanonicalUser,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PrincipalSet {
    pub negated: bool,
    entries: Vec<Entry>,
}

fn invalid(kind: &str, value: &str) -> PolicyError {
    PolicyError::Malformed(format!(
        "Invalid principal in policy: \"{kind}\":\"{value}\""
    ))
}

fn is_account(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit())
}

fn aws_entry(v: &str) -> Result<Entry, PolicyError> {
    if v == "*" {
        return Ok(Entry::Everyone);
    }
    if is_account(v) {
        return Ok(Entry::Account(v.to_owned()));
    }
    let unique = v.len() == 21
        && (v.starts_with("AIDA") || v.starts_with("AROA"))
        && v.bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit());
    if unique {
        return Ok(Entry::UniqueId(v.to_owned()));
    }
    let parts: Vec<&str> = v.splitn(6, ':').collect();
    if let ["arn", partition, service, "", account, resource] = parts.as_slice() {
        if partition.starts_with("aws") && is_account(account) && !v.contains('*') {
            let ok = match *service {
                "iam" => {
                    *resource == "root"
                        || resource.starts_with("user/")
                        || resource.starts_with("role/")
                }
                "sts" => {
                    resource.starts_with("assumed-role/") || resource.starts_with("federated-user/")
                }
                _ => false,
            };
            if ok && *resource == "root" {
                return Ok(Entry::Account((*account).to_owned()));
            }
            if ok {
                return Ok(Entry::Arn(v.to_owned()));
            }
        }
    }
    Err(invalid("AWS", v))
}

impl PrincipalSet {
    /// The ARNs it names under `AWS` (users, roles, sessions; not accounts or `*`).
    pub(crate) fn arns(&self) -> impl Iterator<Item = &str> {
        self.entries.iter().filter_map(|e| match e {
            Entry::Arn(a) => Some(a.as_str()),
            _ => None,
        })
    }

    pub(crate) fn parse(v: &Value, negated: bool) -> Result<PrincipalSet, PolicyError> {
        let mut entries = Vec::new();
        match v {
            Value::String(s) if s == "*" => entries.push(Entry::Everyone),
            Value::Object(map) if !map.is_empty() => {
                for (kind, values) in map {
                    for value in strings(values)? {
                        entries.push(match kind.as_str() {
                            "AWS" => aws_entry(&value)?,
                            "Service" if !value.is_empty() => Entry::Service(value),
                            "Federated" if !value.is_empty() => Entry::Federated(value),
                            "CanonicalUser" => Entry::CanonicalUser,
                            _ => return Err(invalid(kind, &value)),
                        });
                    }
                }
            }
            Value::String(s) => return Err(invalid("AWS", s)),
            _ => return Err(PolicyError::Malformed(super::policy::SYNTAX.into())),
        }
        Ok(PrincipalSet { negated, entries })
    }

    /// How `p` matches the listed principals (the strongest way), ignoring negation.
    fn listed(&self, p: &Principal) -> Option<Grant> {
        self.entries.iter().filter_map(|e| entry_grant(e, p)).max()
    }

    /// How the statement's principal element applies to `p`; `None` if it does not.
    /// NotPrincipal applies to every caller it does not list by its own ARN or id, as a
    /// direct grant: as AWS documents, a listed account ARN spares only the account principal,
    /// and a listed role ARN does not spare its sessions.
    pub(crate) fn applies(&self, p: &Principal) -> Option<Grant> {
        match (self.negated, self.listed(p)) {
            (false, g) => g,
            (true, Some(Grant::Direct)) => None,
            (true, _) => Some(Grant::Direct),
        }
    }
}

fn entry_grant(e: &Entry, p: &Principal) -> Option<Grant> {
    let iam = p.has_identity();
    match e {
        Entry::Everyone => Some(Grant::Direct),
        Entry::Account(a) if iam && *a == p.account => {
            if p.is_root() {
                Some(Grant::Direct)
            } else {
                Some(Grant::Account)
            }
        }
        Entry::Arn(arn) if iam && *arn == p.arn => Some(Grant::Direct),
        Entry::Arn(arn)
            if p.kind == PrincipalKind::AssumedRole && p.role_arn.as_deref() == Some(arn) =>
        {
            Some(Grant::Role)
        }
        Entry::UniqueId(id) if iam && *id == p.user_id => Some(Grant::Direct),
        Entry::UniqueId(id)
            if p.kind == PrincipalKind::AssumedRole
                && p.user_id
                    .strip_prefix(id.as_str())
                    .is_some_and(|r| r.starts_with(':')) =>
        {
            Some(Grant::Role)
        }
        Entry::Service(s) if p.kind == PrincipalKind::Service && s.eq_ignore_ascii_case(&p.arn) => {
            Some(Grant::Direct)
        }
        Entry::Federated(f) if p.kind == PrincipalKind::WebIdentity && *f == p.arn => {
            Some(Grant::Direct)
        }
        _ => None,
    }
}
