//! The one authorizer: may this principal perform this action on this resource? Every
//! operation of every service is asked here, by the edge, before it runs.
//!
//! A principal's policies are read from the IAM store and compiled once, then kept until the
//! store's generation moves; a request costs one atomic load (the generation), one read of
//! the cache and the evaluation of compiled policies. Nothing that fails to parse or load is
//! ever an Allow: such a principal is denied until the store changes.

use super::keyring::{Principal, RoleSession};
use lambent_aws::iam::{
    self, Context, Decision, Outcome, Policy, PolicyKind, PolicySet, PrincipalKind, SizeLimit,
    Source,
};
use lambent_store::iam::{IamError, IamStore, Paging, PolicySource, Principal as StorePrincipal};
use std::collections::HashMap;
use std::sync::{Arc, RwLock};

/// What a request is authorized as, beside its principal, action and resource.
pub struct RequestFacts<'a> {
    /// The client's address (`aws:SourceIp`).
    pub source_ip: &'a str,
    /// The region the request was signed for (`aws:RequestedRegion`).
    pub region: &'a str,
    /// Whether the denial message quotes the resource, as S3's does.
    pub quote_resource: bool,
    /// The service's own condition keys for this request (`s3:prefix`,
    /// `iam:PassedToService`, `aws:SourceArn` for a service caller).
    pub keys: &'a [(&'a str, &'a str)],
    /// The resource's own policy, which takes part in the decision.
    pub resource_policy: ResourcePolicy<'a>,
}

impl<'a> RequestFacts<'a> {
    /// Facts with no service keys and no resource policy.
    pub fn new(source_ip: &'a str, region: &'a str) -> RequestFacts<'a> {
        RequestFacts {
            source_ip,
            region,
            quote_resource: false,
            keys: &[],
            resource_policy: ResourcePolicy::None,
        }
    }
}

/// A resource's policy (a bucket policy, a function's permissions), as the decision takes it.
#[derive(Clone, Copy)]
pub enum ResourcePolicy<'a> {
    None,
    /// Evaluated beside the identity policies: it may allow or deny (a bucket policy).
    Given(&'a Policy),
    /// A policy that only ever allows (Lambda's permissions), read only when the identity
    /// policies alone do not allow: a caller they allow never pays for the lookup.
    WhenDenied(&'a dyn Fn() -> Option<Arc<Policy>>),
}

/// Who is asking: a signed request's principal, an unsigned request, or an AWS service
/// acting for a resource (S3 invoking a function for a bucket's notification).
#[derive(Clone, Copy)]
pub enum Caller<'a> {
    Signed(&'a Principal),
    Anonymous,
    /// The service principal's name (`s3.amazonaws.com`).
    Service(&'a str),
}

/// The client's address, which the edge puts in a request's extensions for the services
/// that authorize inside a library's hook (S3).
#[derive(Debug, Clone, Copy)]
pub struct ClientAddr(pub std::net::IpAddr);

/// A principal's policies, compiled, as of one generation of the IAM store.
struct Compiled {
    generation: u64,
    policies: Policies,
}

enum Policies {
    /// The user's or role's identity policies and boundary.
    Found {
        id: String,
        tags: Vec<(String, String)>,
        identity: Vec<(String, Policy)>,
        boundary: Option<(String, Policy)>,
    },
    /// The store does not hold the role (users' keys exist only while the user does).
    Missing,
    /// A document would not parse, or the store failed: nothing is allowed.
    Broken,
}

/// What applies to one caller's request before any resource policy.
enum Identity {
    /// Root, anonymous callers and services: no identity-based policies.
    Nothing,
    /// Refused whatever the resource says: unreadable policies, a session gone wrong.
    Denied(PolicyKind),
    Policies(Arc<Compiled>, Option<Arc<CompiledSession>>),
}

/// Session policies (AssumeRole's `Policy` and `PolicyArns`), compiled.
struct CompiledSession {
    generation: u64,
    policies: Option<Vec<(String, Policy)>>,
}

/// The authorizer: a cheap-clone handle over the IAM store and the compiled policies.
#[derive(Clone)]
pub struct Authorizer {
    inner: Arc<Inner>,
}

struct Inner {
    store: Arc<IamStore>,
    /// Compiled policies by `user/NAME` or `role/NAME`. A std `RwLock`: every request reads,
    /// only a change to IAM makes anyone write, and neither holds it across an await or a
    /// store read (compiling happens outside it, the result is inserted after).
    principals: RwLock<HashMap<String, Arc<Compiled>>>,
    /// Session policies by their text and ARNs, the same way.
    sessions: RwLock<HashMap<String, Arc<CompiledSession>>>,
    /// Resource policies by a key that names their revision, so a changed policy is a new
    /// entry (old ones go when the cache is full).
    resources: RwLock<HashMap<String, Option<Arc<Policy>>>>,
}

/// Bounds the caches: past this many entries, a compile clears them (IAM writes clear them in
/// effect anyway).
const MAX_ENTRIES: usize = 10_000;

impl Authorizer {
    pub fn new(store: Arc<IamStore>) -> Authorizer {
        Authorizer {
            inner: Arc::new(Inner {
                store,
                principals: RwLock::new(HashMap::new()),
                sessions: RwLock::new(HashMap::new()),
                resources: RwLock::new(HashMap::new()),
            }),
        }
    }

    pub fn account(&self) -> &str {
        self.inner.store.account()
    }

    /// The caller as IAM's evaluator sees it (ARN, account, user id, name, tags).
    pub fn evaluator_principal(&self, principal: &Principal) -> iam::Principal {
        let account = self.account();
        match principal {
            Principal::Root => {
                let mut p = iam::Principal::new(
                    PrincipalKind::Root,
                    &format!("arn:aws:iam::{account}:root"),
                    account,
                );
                p.user_id = account.to_string();
                p
            }
            Principal::User { arn, id, name } => {
                let mut p = iam::Principal::new(PrincipalKind::User, arn, account);
                p.user_id = id.clone();
                p.username = Some(name.clone());
                p
            }
            Principal::Role(session) => {
                let mut p = iam::Principal::new(
                    PrincipalKind::AssumedRole,
                    &session.arn(),
                    session.account(),
                );
                p.role_arn = Some(session.role_arn.clone());
                p.tags = session.tags.clone();
                if let Some(id) = &session.role_id {
                    p.user_id = format!("{id}:{}", session.session_name);
                }
                p
            }
        }
    }

    /// The decision for `principal` performing `action` on `resource`, and AWS's
    /// AccessDenied message when it is a refusal.
    pub fn authorize(
        &self,
        principal: &Principal,
        action: &str,
        resource: &str,
        facts: &RequestFacts<'_>,
    ) -> (Decision, Option<String>) {
        self.authorize_caller(Caller::Signed(principal), action, resource, facts)
    }

    /// [`Authorizer::authorize`] for any caller, signed or not.
    pub fn authorize_caller(
        &self,
        caller: Caller<'_>,
        action: &str,
        resource: &str,
        facts: &RequestFacts<'_>,
    ) -> (Decision, Option<String>) {
        let mut context = context(facts);
        for (k, v) in facts.keys {
            context.insert(k, v);
        }
        let (who, identity) = match caller {
            Caller::Signed(principal) => {
                if let Principal::Role(s) = principal {
                    for (k, v) in &s.context {
                        context.insert(k, v);
                    }
                }
                self.identity(principal)
            }
            Caller::Anonymous => (
                iam::Principal::new(PrincipalKind::Anonymous, "anonymous", ""),
                Identity::Nothing,
            ),
            Caller::Service(name) => (
                iam::Principal::new(PrincipalKind::Service, name, ""),
                Identity::Nothing,
            ),
        };
        let req = request(&who, action, resource, &context);
        let decide = |policy: Option<&Policy>| -> Decision {
            let resource = policy.map(|policy| Source {
                id: resource,
                policy,
            });
            let (compiled, session) = match &identity {
                Identity::Nothing => {
                    let set = PolicySet {
                        resource,
                        ..PolicySet::default()
                    };
                    return iam::evaluate(&set, &req);
                }
                Identity::Denied(kind) => {
                    return Decision {
                        outcome: Outcome::ImplicitDeny(*kind),
                        matched: Vec::new(),
                    }
                }
                Identity::Policies(compiled, session) => (compiled, session),
            };
            let Policies::Found {
                identity, boundary, ..
            } = &compiled.policies
            else {
                return Decision {
                    outcome: Outcome::ImplicitDeny(PolicyKind::Identity),
                    matched: Vec::new(),
                };
            };
            let set = PolicySet {
                identity: identity
                    .iter()
                    .map(|(id, policy)| Source { id, policy })
                    .collect(),
                resource,
                boundary: boundary.as_ref().map(|(id, policy)| Source { id, policy }),
                session: session
                    .as_deref()
                    .and_then(|s| s.policies.as_ref())
                    .map(|p| p.iter().map(|(id, policy)| Source { id, policy }).collect())
                    .unwrap_or_default(),
            };
            iam::evaluate(&set, &req)
        };
        let decision = match facts.resource_policy {
            ResourcePolicy::None => decide(None),
            ResourcePolicy::Given(p) => decide(Some(p)),
            ResourcePolicy::WhenDenied(read) => {
                let d = decide(None);
                match d.outcome {
                    Outcome::ImplicitDeny(_) => match read() {
                        Some(p) => decide(Some(&p)),
                        None => d,
                    },
                    _ => d,
                }
            }
        };
        let message = if decision.is_allowed() {
            None
        } else {
            decision.denial_message(&req, facts.quote_resource)
        };
        (decision, message)
    }

    /// The evaluator's view of a signed request's principal, and the policies that apply to it.
    fn identity(&self, principal: &Principal) -> (iam::Principal, Identity) {
        let mut who = self.evaluator_principal(principal);
        let (compiled, session) = match principal {
            // No identity policies apply to root: the evaluator allows it unless a Deny
            // applies, so a resource policy can deny it.
            Principal::Root => return (who, Identity::Nothing),
            Principal::User { name, .. } => (self.compiled(StorePrincipal::User(name)), None),
            Principal::Role(s) if s.account() == self.account() => {
                (self.compiled(StorePrincipal::Role(s.role_name())), Some(s))
            }
            Principal::Role(s) => (
                Arc::new(Compiled {
                    generation: 0,
                    policies: Policies::Missing,
                }),
                Some(s),
            ),
        };
        let identity = match &compiled.policies {
            Policies::Broken => Identity::Denied(PolicyKind::Identity),
            // A role deleted, or of another account: its sessions may do nothing.
            Policies::Missing => Identity::Denied(PolicyKind::Identity),
            Policies::Found { id, tags, .. } => {
                if who.user_id.is_empty() || matches!(principal, Principal::Role(_)) {
                    who.user_id = match session {
                        Some(s) => format!("{id}:{}", s.session_name),
                        None => id.clone(),
                    };
                }
                who.tags.extend(tags.iter().cloned());
                let session_policies = session.and_then(|s| self.session_policies(s));
                match session_policies.as_deref() {
                    Some(CompiledSession { policies: None, .. }) => {
                        Identity::Denied(PolicyKind::Session)
                    }
                    _ => Identity::Policies(compiled.clone(), session_policies),
                }
            }
        };
        (who, identity)
    }

    /// The users and roles of this account whose own policies allow them everything, by ARN:
    /// what `lambent doctor` reports. The test is the evaluator's own: an action and a
    /// resource no policy names are allowed (by `*`, or by a `NotAction`), unconditionally.
    pub fn full_access(&self) -> Result<Vec<String>, IamError> {
        let store = &self.inner.store;
        let facts = RequestFacts::new("127.0.0.1", "");
        let allowed = |p: &Principal| {
            self.authorize(
                p,
                "lambent:DoctorProbe",
                "arn:aws:lambent:::doctor-probe",
                &facts,
            )
            .0
            .is_allowed()
        };
        let mut out = Vec::new();
        let mut paging = Paging::first(1000);
        loop {
            let page = store.list_users(None, &paging)?;
            for u in page.items {
                let p = Principal::User {
                    arn: u.arn.clone(),
                    id: u.id,
                    name: u.name,
                };
                if allowed(&p) {
                    out.push(u.arn);
                }
            }
            match page.marker {
                Some(m) => paging.marker = Some(m),
                None => break,
            }
        }
        let mut paging = Paging::first(1000);
        loop {
            let page = store.list_roles(None, &paging)?;
            for r in page.items {
                let p = Principal::Role(Arc::new(RoleSession {
                    role_arn: r.arn.clone(),
                    role_id: Some(r.id),
                    session_name: "lambent-doctor".into(),
                    ..RoleSession::default()
                }));
                if allowed(&p) {
                    out.push(r.arn);
                }
            }
            match page.marker {
                Some(m) => paging.marker = Some(m),
                None => break,
            }
        }
        Ok(out)
    }

    /// Whether the AWS service `service` (`lambda.amazonaws.com`) may assume the role
    /// `role_arn`: the role is this account's, named exactly (path included), and its trust
    /// policy allows the service `sts:AssumeRole`. How Lambda checks an execution role.
    pub fn service_may_assume(&self, service: &str, role_arn: &str) -> bool {
        if role_arn.split(':').nth(4) != Some(self.account()) {
            return false;
        }
        let role = match self.inner.store.role(lambent_aws::arn::role_name(role_arn)) {
            Ok(role) if role.arn == role_arn => role,
            _ => return false,
        };
        let Ok(trust) = Policy::parse(&role.trust_policy, PolicyKind::Trust, &SizeLimit::None)
        else {
            return false;
        };
        let facts = RequestFacts {
            resource_policy: ResourcePolicy::Given(&trust),
            ..RequestFacts::new("", "")
        };
        self.authorize_caller(Caller::Service(service), "sts:AssumeRole", role_arn, &facts)
            .0
            .is_allowed()
    }

    /// A resource policy compiled, cached under `key`, which must change whenever the document
    /// does (it names the policy's revision). A document that does not parse grants nothing.
    pub fn resource_policy(
        &self,
        key: &str,
        document: impl FnOnce() -> String,
    ) -> Option<Arc<Policy>> {
        if let Some(p) = self
            .inner
            .resources
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(key)
        {
            return p.clone();
        }
        let policy = match Policy::parse(&document(), PolicyKind::Resource, &SizeLimit::None) {
            Ok(p) => Some(Arc::new(p)),
            Err(e) => {
                tracing::error!(resource = key, error = %e, "a resource policy does not parse");
                None
            }
        };
        let mut cache = self
            .inner
            .resources
            .write()
            .unwrap_or_else(|e| e.into_inner());
        if cache.len() >= MAX_ENTRIES {
            cache.clear();
        }
        cache.insert(key.to_string(), policy.clone());
        policy
    }

    /// A principal's compiled policies, current as of the store's generation.
    fn compiled(&self, principal: StorePrincipal<'_>) -> Arc<Compiled> {
        let key = match principal {
            StorePrincipal::User(n) => format!("user/{}", n.to_ascii_lowercase()),
            StorePrincipal::Role(n) => format!("role/{}", n.to_ascii_lowercase()),
        };
        let generation = self.inner.store.generation();
        {
            let cache = self
                .inner
                .principals
                .read()
                .unwrap_or_else(|e| e.into_inner());
            if let Some(c) = cache.get(&key) {
                if c.generation == generation {
                    return c.clone();
                }
            }
        }
        let compiled = Arc::new(self.compile(principal, generation));
        let mut cache = self
            .inner
            .principals
            .write()
            .unwrap_or_else(|e| e.into_inner());
        if cache.len() >= MAX_ENTRIES {
            cache.clear();
        }
        cache.insert(key, compiled.clone());
        compiled
    }

    fn compile(&self, principal: StorePrincipal<'_>, generation: u64) -> Compiled {
        let read = match self.inner.store.policies_for(principal) {
            Ok(p) => p,
            Err(IamError::NoSuchEntity { .. }) => {
                return Compiled {
                    generation,
                    policies: Policies::Missing,
                }
            }
            Err(e) => {
                tracing::error!(error = %e, ?principal, "reading policies: denying until IAM changes");
                return Compiled {
                    generation,
                    policies: Policies::Broken,
                };
            }
        };
        let parse = |doc: &str, kind| Policy::parse(doc, kind, &SizeLimit::None);
        let mut identity = Vec::with_capacity(read.identity.len());
        for applied in &read.identity {
            match parse(&applied.document, PolicyKind::Identity) {
                Ok(p) => identity.push((source_id(&applied.source), p)),
                Err(e) => return broken(read.generation, &read.arn, &e),
            }
        }
        let boundary = match &read.boundary {
            None => None,
            Some(b) => match parse(&b.document, PolicyKind::PermissionsBoundary) {
                Ok(p) => Some((source_id(&b.source), p)),
                Err(e) => return broken(read.generation, &read.arn, &e),
            },
        };
        Compiled {
            generation: read.generation,
            policies: Policies::Found {
                id: read.id,
                tags: read.tags.into_iter().map(|t| (t.key, t.value)).collect(),
                identity,
                boundary,
            },
        }
    }

    /// The session's policies, compiled; `None` policies (a deny) when one cannot be read.
    fn session_policies(&self, session: &RoleSession) -> Option<Arc<CompiledSession>> {
        if session.policy.is_none() && session.policy_arns.is_empty() {
            return None;
        }
        let mut key = session.policy.clone().unwrap_or_default();
        for arn in &session.policy_arns {
            key.push('\n');
            key.push_str(arn);
        }
        let generation = self.inner.store.generation();
        {
            let cache = self
                .inner
                .sessions
                .read()
                .unwrap_or_else(|e| e.into_inner());
            if let Some(c) = cache.get(&key) {
                if c.generation == generation {
                    return Some(c.clone());
                }
            }
        }
        let mut policies = Some(Vec::new());
        if let Some(text) = &session.policy {
            match Policy::parse(text, PolicyKind::Session, &SizeLimit::None) {
                Ok(p) => policies
                    .get_or_insert_with(Vec::new)
                    .push((session.arn(), p)),
                Err(_) => policies = None,
            }
        }
        for arn in &session.policy_arns {
            let Some(list) = policies.as_mut() else { break };
            let doc = self
                .inner
                .store
                .policy(arn)
                .and_then(|p| self.inner.store.policy_version(arn, &p.default_version));
            match doc.map(|v| Policy::parse(&v.document, PolicyKind::Session, &SizeLimit::None)) {
                Ok(Ok(p)) => list.push((arn.clone(), p)),
                _ => policies = None,
            }
        }
        let compiled = Arc::new(CompiledSession {
            generation,
            policies,
        });
        let mut cache = self
            .inner
            .sessions
            .write()
            .unwrap_or_else(|e| e.into_inner());
        if cache.len() >= MAX_ENTRIES {
            cache.clear();
        }
        cache.insert(key, compiled.clone());
        Some(compiled)
    }
}

fn broken(generation: u64, arn: &str, e: &lambent_aws::iam::PolicyError) -> Compiled {
    tracing::error!(principal = arn, error = %e, "a stored policy does not parse: denying");
    Compiled {
        generation,
        policies: Policies::Broken,
    }
}

/// The id a matched statement reports: the managed policy's ARN, or the inline policy's
/// owner and name.
fn source_id(source: &PolicySource) -> String {
    match source {
        PolicySource::Inline { owner, name, .. } => format!("{owner}/{name}"),
        PolicySource::Managed { arn, .. } | PolicySource::MissingBoundary { arn } => arn.clone(),
    }
}

fn request<'a>(
    principal: &'a iam::Principal,
    action: &'a str,
    resource: &'a str,
    context: &'a Context,
) -> iam::Request<'a> {
    // AWS-managed policies (`arn:aws:iam::aws:policy/...`) are every account's own.
    let aws_owned = resource.split(':').nth(4) == Some("aws");
    iam::Request {
        principal,
        action,
        resource,
        resource_account: aws_owned.then_some(principal.account.as_str()),
        context,
    }
}

/// The global condition keys every request carries; the principal's own (`aws:PrincipalArn`,
/// `aws:PrincipalAccount`, `aws:username`, `aws:userid`) the evaluator takes from it.
fn context(facts: &RequestFacts<'_>) -> Context {
    let now = time::OffsetDateTime::now_utc();
    let mut c = Context::new();
    c.insert("aws:SourceIp", facts.source_ip)
        .insert(
            "aws:CurrentTime",
            &format!(
                "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
                now.year(),
                u8::from(now.month()),
                now.day(),
                now.hour(),
                now.minute(),
                now.second()
            ),
        )
        .insert("aws:EpochTime", &now.unix_timestamp().to_string())
        .insert("aws:SecureTransport", "false")
        .insert("aws:RequestedRegion", facts.region);
    c
}

#[cfg(test)]
mod tests {
    use super::*;
    use lambent_store::iam::{EntityKind, NewRole};

    const ACCOUNT: &str = "000000000000";
    const FACTS: RequestFacts<'static> = RequestFacts {
        source_ip: "127.0.0.1",
        region: "us-east-1",
        quote_resource: false,
        keys: &[],
        resource_policy: ResourcePolicy::None,
    };

    fn store() -> (tempfile::TempDir, Arc<IamStore>) {
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(IamStore::open(dir.path(), ACCOUNT).unwrap());
        (dir, store)
    }

    fn user(store: &IamStore, name: &str) -> Principal {
        let u = store.create_user(name, None, None, &[]).unwrap();
        Principal::User {
            arn: u.arn,
            id: u.id,
            name: u.name,
        }
    }

    fn allowed(a: &Authorizer, p: &Principal, action: &str, resource: &str) -> bool {
        a.authorize(p, action, resource, &FACTS).0.is_allowed()
    }

    #[test]
    fn a_users_policies_apply_and_reload_when_iam_changes() {
        let (_dir, store) = store();
        let a = Authorizer::new(store.clone());
        let alice = user(&store, "alice");
        let f = "arn:aws:lambda:us-east-1:000000000000:function:f";
        let (d, message) = a.authorize(&alice, "lambda:InvokeFunction", f, &FACTS);
        assert_eq!(d.outcome, Outcome::ImplicitDeny(PolicyKind::Identity));
        assert_eq!(
            message.unwrap(),
            format!(
                "User: arn:aws:iam::{ACCOUNT}:user/alice is not authorized to perform: \
                 lambda:InvokeFunction on resource: {f} because no identity-based policy \
                 allows the lambda:InvokeFunction action"
            )
        );
        store
            .put_inline_policy(
                EntityKind::User,
                "alice",
                "p",
                r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"lambda:InvokeFunction","Resource":"*","Condition":{"StringEquals":{"aws:username":"alice","aws:RequestedRegion":"us-east-1"},"IpAddress":{"aws:SourceIp":"127.0.0.0/8"}}}]}"#,
            )
            .unwrap();
        assert!(allowed(&a, &alice, "lambda:InvokeFunction", f));
        assert!(!allowed(&a, &alice, "lambda:DeleteFunction", f));
        assert!(allowed(
            &Authorizer::new(store),
            &Principal::Root,
            "lambda:DeleteFunction",
            f
        ));
    }

    const TRUSTS_LAMBDA: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;

    fn role(store: &IamStore, name: &str, path: Option<&str>, trust: &str) {
        store
            .create_role(&NewRole {
                name: name.into(),
                path: path.map(str::to_string),
                trust_policy: trust.into(),
                description: None,
                max_session_duration: None,
                permissions_boundary: None,
                tags: Vec::new(),
            })
            .unwrap();
    }

    #[test]
    fn an_environment_of_a_missing_role_may_do_nothing_until_the_role_allows() {
        let (_dir, store) = store();
        let a = Authorizer::new(store.clone());
        let env = Principal::Role(Arc::new(RoleSession::for_function(
            "arn:aws:iam::000000000000:role/missing",
            "arn:aws:lambda:us-east-1:000000000000:function:f",
        )));
        assert!(!allowed(&a, &env, "lambda:ListFunctions", "*"));
        let foreign = Principal::Role(Arc::new(RoleSession::for_function(
            "arn:aws:iam::123456789012:role/missing",
            "arn:aws:lambda:us-east-1:000000000000:function:f",
        )));
        assert!(!allowed(&a, &foreign, "lambda:ListFunctions", "*"));

        // Once the role exists, its policies (none yet, then logs:*) decide.
        role(&store, "missing", None, TRUSTS_LAMBDA);
        assert!(!allowed(&a, &env, "logs:PutLogEvents", "*"));
        store
            .put_inline_policy(
                EntityKind::Role,
                "missing",
                "logs",
                r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"logs:*","Resource":"*"}]}"#,
            )
            .unwrap();
        assert!(allowed(&a, &env, "logs:PutLogEvents", "*"));
        assert!(!allowed(&a, &env, "lambda:ListFunctions", "*"));
        assert!(!allowed(&a, &foreign, "logs:PutLogEvents", "*"));
    }

    #[test]
    fn lambda_may_assume_only_a_role_of_this_account_that_trusts_it() {
        let (_dir, store) = store();
        let a = Authorizer::new(store.clone());
        let lambda = "lambda.amazonaws.com";
        role(&store, "fn", Some("/service/"), TRUSTS_LAMBDA);
        role(
            &store,
            "ec2",
            None,
            &TRUSTS_LAMBDA.replace("lambda.amazonaws.com", "ec2.amazonaws.com"),
        );
        assert!(a.service_may_assume(lambda, "arn:aws:iam::000000000000:role/service/fn"));
        for refused in [
            // The path is part of the name.
            "arn:aws:iam::000000000000:role/fn",
            "arn:aws:iam::123456789012:role/service/fn",
            "arn:aws:iam::000000000000:role/ec2",
            "arn:aws:iam::000000000000:role/absent",
        ] {
            assert!(!a.service_may_assume(lambda, refused), "{refused}");
        }
        assert!(a.service_may_assume("ec2.amazonaws.com", "arn:aws:iam::000000000000:role/ec2"));
    }

    #[test]
    fn a_stored_policy_that_does_not_parse_denies_everything() {
        let (_dir, store) = store();
        let a = Authorizer::new(store.clone());
        let bob = user(&store, "bob");
        store
            .put_inline_policy(
                EntityKind::User,
                "bob",
                "ok",
                r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#,
            )
            .unwrap();
        assert!(allowed(&a, &bob, "s3:GetObject", "arn:aws:s3:::b/k"));
        // The store keeps what the API validated; a document it would refuse stands for one
        // damaged on disk.
        store
            .put_inline_policy(EntityKind::User, "bob", "broken", "{not json")
            .unwrap();
        assert!(!allowed(&a, &bob, "s3:GetObject", "arn:aws:s3:::b/k"));
    }
}
