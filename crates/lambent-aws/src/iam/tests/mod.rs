//! Table tests for the evaluator: one row per example from AWS's IAM documentation (policy
//! evaluation logic, condition operators, policy variables, NotAction/NotResource, resource
//! policies, boundaries, session policies, cross-account access), parser rejections with
//! AWS's messages, and a seeded mutation test that nothing panics.

mod conditions;
mod evaluation;
mod fuzz;
mod parse;

use super::*;

pub(super) const ACCOUNT: &str = "111122223333";
pub(super) const OTHER: &str = "444455556666";

pub(super) fn alice() -> Principal {
    let mut p = Principal::new(
        PrincipalKind::User,
        "arn:aws:iam::111122223333:user/alice",
        ACCOUNT,
    );
    p.user_id = "AIDAJQABLZS4A3QDU576Q".into();
    p.username = Some("alice".into());
    p.tags = vec![("team".into(), "blue".into())];
    p
}

pub(super) fn session() -> Principal {
    let mut p = Principal::new(
        PrincipalKind::AssumedRole,
        "arn:aws:sts::111122223333:assumed-role/app/s1",
        ACCOUNT,
    );
    p.user_id = "AROAJQABLZS4A3QDU576Q:s1".into();
    p.role_arn = Some("arn:aws:iam::111122223333:role/service/app".into());
    p.tags = vec![("Department".into(), "Engineering".into())];
    p
}

pub(super) fn bob_other_account() -> Principal {
    let mut p = Principal::new(
        PrincipalKind::User,
        "arn:aws:iam::444455556666:user/bob",
        OTHER,
    );
    p.user_id = "AIDAEXAMPLEBOBXXXXXXX".into();
    p.username = Some("bob".into());
    p
}

pub(super) fn root() -> Principal {
    Principal::new(
        PrincipalKind::Root,
        "arn:aws:iam::111122223333:root",
        ACCOUNT,
    )
}

pub(super) fn anonymous() -> Principal {
    Principal::new(PrincipalKind::Anonymous, "anonymous", "")
}

pub(super) fn service(name: &str) -> Principal {
    Principal::new(PrincipalKind::Service, name, "")
}

pub(super) fn web_identity(provider: &str) -> Principal {
    Principal::new(PrincipalKind::WebIdentity, provider, "")
}

pub(super) fn federated_user() -> Principal {
    let mut p = Principal::new(
        PrincipalKind::FederatedUser,
        "arn:aws:sts::111122223333:federated-user/carol",
        ACCOUNT,
    );
    p.user_id = "111122223333:carol".into();
    p
}

/// The expected decision of a row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Want {
    Allow,
    Explicit(PolicyKind),
    Implicit(PolicyKind),
}

pub(super) use PolicyKind::{
    Identity as Id, PermissionsBoundary as Pb, Resource as Rp, Session as Sp, Trust as Tp,
};
pub(super) use Want::{Allow, Explicit, Implicit};

/// One row: a policy set, a request and the expected decision.
pub(super) struct Case {
    pub name: &'static str,
    pub identity: Vec<&'static str>,
    pub resource: Option<(&'static str, PolicyKind)>,
    pub boundary: Option<&'static str>,
    pub session: Vec<&'static str>,
    pub principal: Principal,
    pub action: &'static str,
    pub arn: &'static str,
    pub resource_account: Option<&'static str>,
    pub context: Context,
    pub want: Want,
}

pub(super) fn case(name: &'static str, principal: Principal) -> Case {
    Case {
        name,
        identity: Vec::new(),
        resource: None,
        boundary: None,
        session: Vec::new(),
        principal,
        action: "s3:GetObject",
        arn: "arn:aws:s3:::bucket/key",
        resource_account: None,
        context: Context::new(),
        want: Implicit(Id),
    }
}

impl Case {
    pub fn id(mut self, doc: &'static str) -> Case {
        self.identity.push(doc);
        self
    }
    pub fn res(mut self, doc: &'static str) -> Case {
        self.resource = Some((doc, Rp));
        self
    }
    pub fn trust(mut self, doc: &'static str) -> Case {
        self.resource = Some((doc, Tp));
        self
    }
    pub fn boundary(mut self, doc: &'static str) -> Case {
        self.boundary = Some(doc);
        self
    }
    pub fn session(mut self, doc: &'static str) -> Case {
        self.session.push(doc);
        self
    }
    pub fn req(mut self, action: &'static str, arn: &'static str) -> Case {
        self.action = action;
        self.arn = arn;
        self
    }
    pub fn owner(mut self, account: &'static str) -> Case {
        self.resource_account = Some(account);
        self
    }
    pub fn ctx(mut self, key: &str, values: &[&str]) -> Case {
        self.context.insert_many(key, values);
        self
    }
    pub fn want(mut self, want: Want) -> Case {
        self.want = want;
        self
    }

    /// Parses every document (panicking on a bad one: rows hold valid documents) and decides.
    pub fn decide(&self) -> Decision {
        let parse = |doc: &str, kind| {
            Policy::parse(doc, kind, &SizeLimit::None)
                .unwrap_or_else(|e| panic!("{}: {kind:?} policy refused: {e}", self.name))
        };
        let identity: Vec<Policy> = self.identity.iter().map(|d| parse(d, Id)).collect();
        let resource = self.resource.map(|(d, k)| parse(d, k));
        let boundary = self.boundary.map(|d| parse(d, Pb));
        let session: Vec<Policy> = self.session.iter().map(|d| parse(d, Sp)).collect();
        let set = PolicySet {
            identity: identity
                .iter()
                .map(|policy| Source {
                    id: "identity",
                    policy,
                })
                .collect(),
            resource: resource.as_ref().map(|policy| Source {
                id: "resource",
                policy,
            }),
            boundary: boundary.as_ref().map(|policy| Source {
                id: "boundary",
                policy,
            }),
            session: session
                .iter()
                .map(|policy| Source {
                    id: "session",
                    policy,
                })
                .collect(),
        };
        evaluate(&set, &self.request())
    }

    pub fn request(&self) -> Request<'_> {
        Request {
            principal: &self.principal,
            action: self.action,
            resource: self.arn,
            resource_account: self.resource_account,
            context: &self.context,
        }
    }
}

/// Runs every row, reporting all failures at once.
pub(super) fn run(cases: Vec<Case>) -> usize {
    let mut failures = Vec::new();
    for c in &cases {
        let got = c.decide().outcome;
        let want = match c.want {
            Allow => Outcome::Allow,
            Explicit(k) => Outcome::ExplicitDeny(k),
            Implicit(k) => Outcome::ImplicitDeny(k),
        };
        if got != want {
            failures.push(format!("{}: got {got:?}, want {want:?}", c.name));
        }
    }
    assert!(
        failures.is_empty(),
        "{} rows failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    cases.len()
}
