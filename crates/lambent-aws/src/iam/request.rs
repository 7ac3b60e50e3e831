//! The request being authorized: who (a [`Principal`]), what (`service:Action`), on which
//! resource, and the condition context (keys case-insensitive, each with one or more values).
//!
//! Principal-derived global keys (`aws:PrincipalArn`, `aws:PrincipalAccount`,
//! `aws:PrincipalType`, `aws:userid`, `aws:username`, `aws:PrincipalTag/<k>`) are answered from
//! the principal when the context does not carry them, so callers need not copy them.

use std::collections::BTreeMap;

use super::matcher::Resolve;

/// What kind of caller a principal is (`aws:PrincipalType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PrincipalKind {
    /// The account's root user: allowed everything in its account unless explicitly denied.
    Root,
    User,
    AssumedRole,
    FederatedUser,
    Anonymous,
    /// An AWS service principal such as `s3.amazonaws.com` (its name is the principal's `arn`).
    Service,
    /// A web-identity or SAML caller of `AssumeRoleWith*`; `arn` is the provider
    /// (`cognito-identity.amazonaws.com`, `arn:aws:iam::A:oidc-provider/host`).
    WebIdentity,
}

/// The caller, as resolved from its credentials.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub kind: PrincipalKind,
    /// User, root, session or federated-user ARN; the service or provider name for
    /// `Service`/`WebIdentity`; `anonymous` for anonymous callers.
    pub arn: String,
    /// The principal's account id (empty for anonymous and service callers).
    pub account: String,
    /// `aws:userid`: `AIDA...` for users, `AROA...:session` for role sessions.
    pub user_id: String,
    /// `aws:username`, for IAM users only.
    pub username: Option<String>,
    /// For role sessions, the role's own ARN (with its path): resource policies and trust
    /// policies may name it, and it is the session's `aws:PrincipalArn`.
    pub role_arn: Option<String>,
    /// Principal tags (`aws:PrincipalTag/<key>`, key case-insensitive).
    pub tags: Vec<(String, String)>,
}

impl Principal {
    /// A principal of `kind` with only its ARN and account set.
    pub fn new(kind: PrincipalKind, arn: &str, account: &str) -> Principal {
        Principal {
            kind,
            arn: arn.to_owned(),
            account: account.to_owned(),
            user_id: String::new(),
            username: None,
            role_arn: None,
            tags: Vec::new(),
        }
    }

    pub fn is_root(&self) -> bool {
        self.kind == PrincipalKind::Root
    }

    /// Whether IAM identity-based policies can apply to this caller at all.
    pub(crate) fn has_identity(&self) -> bool {
        matches!(
            self.kind,
            PrincipalKind::Root
                | PrincipalKind::User
                | PrincipalKind::AssumedRole
                | PrincipalKind::FederatedUser
        )
    }

    fn type_name(&self) -> Option<&'static str> {
        match self.kind {
            PrincipalKind::Root => Some("Account"),
            PrincipalKind::User => Some("User"),
            PrincipalKind::AssumedRole => Some("AssumedRole"),
            PrincipalKind::FederatedUser => Some("FederatedUser"),
            PrincipalKind::Anonymous => Some("Anonymous"),
            PrincipalKind::Service | PrincipalKind::WebIdentity => None,
        }
    }
}

/// Condition keys and their values; keys are compared case-insensitively, values as given.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Context {
    keys: BTreeMap<String, Vec<String>>,
}

impl Context {
    pub fn new() -> Context {
        Context::default()
    }

    /// Sets `key` to a single value, replacing any earlier values.
    pub fn insert(&mut self, key: &str, value: &str) -> &mut Context {
        self.keys
            .insert(key.to_ascii_lowercase(), vec![value.to_owned()]);
        self
    }

    /// Sets `key` to several values (a multivalued key such as `aws:TagKeys`); an empty list
    /// is kept and behaves as a missing key.
    pub fn insert_many(&mut self, key: &str, values: &[&str]) -> &mut Context {
        self.keys.insert(
            key.to_ascii_lowercase(),
            values.iter().map(|v| (*v).to_owned()).collect(),
        );
        self
    }

    fn get(&self, key_lower: &str) -> Option<&[String]> {
        self.keys.get(key_lower).map(Vec::as_slice)
    }
}

/// One authorization question. The caller asks once per resource.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    pub principal: &'a Principal,
    /// `service:Action`, e.g. `s3:GetObject` (compared case-insensitively).
    pub action: &'a str,
    /// The resource ARN, or `*` for actions without a resource type.
    pub resource: &'a str,
    /// The account that owns the resource; `None` takes it from the ARN, and an ARN without
    /// one (S3) is taken to be in the principal's account.
    pub resource_account: Option<&'a str>,
    pub context: &'a Context,
}

/// The values of one key in the request: from the context or derived from the principal.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Values<'a> {
    Many(&'a [String]),
    One(&'a str),
}

impl<'a> Values<'a> {
    pub(crate) fn len(&self) -> usize {
        match self {
            Values::Many(v) => v.len(),
            Values::One(_) => 1,
        }
    }

    pub(crate) fn get(&self, i: usize) -> Option<&'a str> {
        match self {
            Values::Many(v) => v.get(i).map(String::as_str),
            Values::One(s) if i == 0 => Some(s),
            Values::One(_) => None,
        }
    }
}

impl<'a> Request<'a> {
    /// The resource's account, as used to tell same-account from cross-account access.
    pub(crate) fn resource_account(&self) -> &'a str {
        if let Some(a) = self.resource_account {
            return a;
        }
        match self.resource.split(':').nth(4) {
            Some(a) if !a.is_empty() => a,
            _ => &self.principal.account,
        }
    }

    pub(crate) fn is_cross_account(&self) -> bool {
        self.principal.has_identity() && self.resource_account() != self.principal.account
    }

    /// The values of a lowercased key; `None` when missing or empty.
    pub(crate) fn values(&self, key_lower: &str) -> Option<Values<'a>> {
        if let Some(v) = self.context.get(key_lower) {
            return if v.is_empty() {
                None
            } else {
                Some(Values::Many(v))
            };
        }
        let p = self.principal;
        let one = |s: &'a str| (!s.is_empty()).then_some(Values::One(s));
        match key_lower {
            "aws:principalarn" if p.has_identity() => one(p.role_arn.as_deref().unwrap_or(&p.arn)),
            "aws:principalaccount" if p.has_identity() => one(&p.account),
            "aws:principaltype" => p.type_name().map(Values::One),
            "aws:userid" => one(&p.user_id),
            "aws:username" if p.kind == PrincipalKind::User => p.username.as_deref().and_then(one),
            "aws:principalisawsservice" => Some(Values::One(if p.kind == PrincipalKind::Service {
                "true"
            } else {
                "false"
            })),
            "aws:principalservicename" if p.kind == PrincipalKind::Service => one(&p.arn),
            _ => {
                let tag = key_lower.strip_prefix("aws:principaltag/")?;
                p.tags
                    .iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case(tag))
                    .map(|(_, v)| Values::One(v))
            }
        }
    }
}

impl Resolve for Request<'_> {
    /// A variable resolves only from a single-valued key: multivalued keys cannot be variables.
    fn resolve(&self, key_lower: &str) -> Option<&str> {
        let v = self.values(key_lower)?;
        if v.len() == 1 {
            v.get(0)
        } else {
            None
        }
    }
}
