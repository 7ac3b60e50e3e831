//! The decision for one request, as AWS's policy evaluation logic makes it, and AWS's
//! AccessDenied wording for a refusal.
//!
//! Order: an explicit Deny in any policy wins. Within an account, an Allow from an
//! identity-based policy or from the resource-based policy is enough; a resource policy naming
//! the caller's own ARN (user, session, federated user) allows regardless of boundary and
//! session policies, one naming the role ARN counts as an identity Allow (capped by both), one
//! naming the account only delegates. A boundary, and session policies, when present, must also
//! allow. Across accounts the identity chain and the resource policy must both allow. The root
//! user is allowed everything in its account that nothing denies. A role trust policy must
//! itself allow.

use super::policy::{Effect, Policy, PolicyKind, Statement};
use super::principal::Grant;
use super::request::{PrincipalKind, Request};

/// A policy taking part in an evaluation, with the id reported in matched statements (its ARN,
/// or the caller's name for an inline policy).
#[derive(Debug, Clone, Copy)]
pub struct Source<'a> {
    pub id: &'a str,
    pub policy: &'a Policy,
}

/// Every policy that applies to one request.
#[derive(Debug, Clone, Default)]
pub struct PolicySet<'a> {
    /// The caller's policies: a user's own and its groups', or the role's.
    pub identity: Vec<Source<'a>>,
    /// The resource's policy (bucket, function) or, for `sts:AssumeRole*`, the trust policy.
    pub resource: Option<Source<'a>>,
    pub boundary: Option<Source<'a>>,
    /// The session's inline and managed session policies; an Allow in any of them counts.
    pub session: Vec<Source<'a>>,
}

/// A statement that matched the request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MatchedStatement {
    pub kind: PolicyKind,
    pub policy_id: String,
    pub sid: Option<String>,
    /// The statement's position in its document, from 0.
    pub index: usize,
}

/// The decision, and which kind of policy made it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Allow,
    /// Denied by a Deny statement in a policy of this kind.
    ExplicitDeny(PolicyKind),
    /// Nothing of this kind allowed the request.
    ImplicitDeny(PolicyKind),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    pub outcome: Outcome,
    /// For Allow, the Allow statements that matched; for ExplicitDeny, the Deny statements
    /// (the first is the one reported); empty for ImplicitDeny.
    pub matched: Vec<MatchedStatement>,
}

impl Decision {
    pub fn is_allowed(&self) -> bool {
        self.outcome == Outcome::Allow
    }

    /// `EvalDecision` as SimulatePrincipalPolicy/SimulateCustomPolicy spell it.
    pub fn eval_decision(&self) -> &'static str {
        match self.outcome {
            Outcome::Allow => "allowed",
            Outcome::ExplicitDeny(_) => "explicitDeny",
            Outcome::ImplicitDeny(_) => "implicitDeny",
        }
    }

    /// AWS's AccessDenied message for a refusal (`None` when allowed). `quote_resource` puts
    /// the resource in double quotes, as S3 does.
    pub fn denial_message(&self, req: &Request<'_>, quote_resource: bool) -> Option<String> {
        let user = if req.principal.kind == PrincipalKind::Anonymous {
            "anonymous"
        } else {
            req.principal.arn.as_str()
        };
        let action = req.action;
        let mut msg = format!("User: {user} is not authorized to perform: {action}");
        if !req.resource.is_empty() && req.resource != "*" {
            if quote_resource {
                msg.push_str(&format!(" on resource: \"{}\"", req.resource));
            } else {
                msg.push_str(&format!(" on resource: {}", req.resource));
            }
        }
        let reason = match self.outcome {
            Outcome::Allow => return None,
            // AWS gives no reason when a trust policy does not allow AssumeRole.
            Outcome::ImplicitDeny(PolicyKind::Trust) => return Some(msg),
            Outcome::ImplicitDeny(kind) => {
                format!(
                    " because no {} allows the {action} action",
                    implicit_name(kind)
                )
            }
            Outcome::ExplicitDeny(kind) => {
                format!(" with an explicit deny in {}", explicit_name(kind))
            }
        };
        msg.push_str(&reason);
        Some(msg)
    }
}

fn implicit_name(kind: PolicyKind) -> &'static str {
    match kind {
        PolicyKind::Identity => "identity-based policy",
        PolicyKind::Resource => "resource-based policy",
        PolicyKind::Trust => "role trust policy",
        PolicyKind::PermissionsBoundary => "permissions boundary",
        PolicyKind::Session => "session policy",
    }
}

fn explicit_name(kind: PolicyKind) -> &'static str {
    match kind {
        PolicyKind::Identity => "an identity-based policy",
        PolicyKind::Resource => "a resource-based policy",
        PolicyKind::Trust => "the role trust policy",
        PolicyKind::PermissionsBoundary => "a permissions boundary",
        PolicyKind::Session => "a sessions policy",
    }
}

/// What one policy said about the request.
#[derive(Default)]
struct Verdict {
    denies: Vec<MatchedStatement>,
    allows: Vec<(MatchedStatement, Grant)>,
}

impl Verdict {
    fn best_grant(&self) -> Option<Grant> {
        self.allows.iter().map(|(_, g)| *g).max()
    }
}

fn judge(source: &Source<'_>, kind: PolicyKind, req: &Request<'_>, into: &mut Verdict) {
    for (index, st) in source.policy.statements.iter().enumerate() {
        let Some(grant) = applies(st, req) else {
            continue;
        };
        let m = MatchedStatement {
            kind,
            policy_id: source.id.to_owned(),
            sid: st.sid.clone(),
            index,
        };
        match st.effect {
            Effect::Deny => into.denies.push(m),
            Effect::Allow => into.allows.push((m, grant)),
        }
    }
}

/// Whether `st` covers the request, and how its principal element matched (identity-grammar
/// statements have none and grant directly).
fn applies(st: &Statement, req: &Request<'_>) -> Option<Grant> {
    let action = st
        .actions
        .patterns
        .iter()
        .any(|p| p.matches(req.action, true, req));
    if action == st.actions.negated {
        return None;
    }
    if let Some(res) = &st.resources {
        let hit = res.patterns.iter().any(|p| p.matches(req.resource, req));
        if hit == res.negated {
            return None;
        }
    }
    let grant = match &st.principals {
        Some(set) => set.applies(req.principal)?,
        None => Grant::Direct,
    };
    st.conditions.iter().all(|c| c.holds(req)).then_some(grant)
}

/// Decides `req` against `policies`.
pub fn evaluate(policies: &PolicySet<'_>, req: &Request<'_>) -> Decision {
    let p = req.principal;
    let mut identity = Verdict::default();
    if p.has_identity() {
        for s in &policies.identity {
            judge(s, PolicyKind::Identity, req, &mut identity);
        }
    }
    let resource_kind = policies
        .resource
        .map(|s| s.policy.kind())
        .filter(|k| *k == PolicyKind::Trust)
        .unwrap_or(PolicyKind::Resource);
    let mut resource = Verdict::default();
    if let Some(s) = &policies.resource {
        judge(s, resource_kind, req, &mut resource);
    }
    let mut boundary = Verdict::default();
    let mut session = Verdict::default();
    if p.has_identity() {
        if let Some(s) = &policies.boundary {
            judge(s, PolicyKind::PermissionsBoundary, req, &mut boundary);
        }
        for s in &policies.session {
            judge(s, PolicyKind::Session, req, &mut session);
        }
    }

    let denies: Vec<MatchedStatement> = [&identity, &resource, &boundary, &session]
        .iter()
        .flat_map(|v| v.denies.iter().cloned())
        .collect();
    if let Some(first) = denies.first() {
        return Decision {
            outcome: Outcome::ExplicitDeny(first.kind),
            matched: denies,
        };
    }

    let allowed = |verdicts: &[&Verdict]| Decision {
        outcome: Outcome::Allow,
        matched: verdicts
            .iter()
            .flat_map(|v| v.allows.iter().map(|(m, _)| m.clone()))
            .collect(),
    };
    let implicit = |kind| Decision {
        outcome: Outcome::ImplicitDeny(kind),
        matched: Vec::new(),
    };
    let best = resource.best_grant();

    // Callers without IAM identities (anonymous, services, web identities) have only the
    // resource or trust policy.
    if !p.has_identity() {
        return match best {
            Some(_) => allowed(&[&resource]),
            None => implicit(resource_kind),
        };
    }
    if resource_kind == PolicyKind::Trust && best.is_none() {
        return implicit(PolicyKind::Trust);
    }
    let cross = req.is_cross_account();
    if !cross {
        if p.is_root() {
            return allowed(&[&identity, &resource]);
        }
        if best == Some(Grant::Direct) {
            return allowed(&[&identity, &resource]);
        }
    }
    let identity_ok =
        !identity.allows.is_empty() || p.is_root() || (!cross && best == Some(Grant::Role));
    if !identity_ok {
        return implicit(PolicyKind::Identity);
    }
    if policies.boundary.is_some() && boundary.allows.is_empty() && !p.is_root() {
        return implicit(PolicyKind::PermissionsBoundary);
    }
    if !policies.session.is_empty() && session.allows.is_empty() && !p.is_root() {
        return implicit(PolicyKind::Session);
    }
    if cross && best.is_none() {
        return implicit(resource_kind);
    }
    allowed(&[&identity, &resource, &boundary, &session])
}
