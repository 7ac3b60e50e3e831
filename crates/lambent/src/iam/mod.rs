//! The IAM API (query protocol, 2010-05-08): users, access keys, groups, roles, managed
//! policies and their versions, attachments, inline policies and the policy simulator, over
//! `lambent_store::iam::IamStore`.
//!
//! [`ROUTES`] is the route table: every operation's `Action` name, the IAM action and the
//! kind of resource it is authorized on (data only, until authorization is enforced), and
//! its handler. `query.rs` parses the form body, `xml.rs` renders results and the
//! `<ErrorResponse>` envelope, `error.rs` maps the store's refusals to AWS's codes and
//! messages, `validate.rs` checks members as AWS does; one file per resource holds the
//! handlers. `managed.rs` holds the AWS-managed policies seeded at start.
//!
//! Invariant: no HTTP types here (the edge hands over the body and the caller, and gets a
//! status and an XML body back); every failure is an `IamApiError` with AWS's code, and a
//! store failure is a `ServiceFailure`, never a panic.

mod access_keys;
mod attachments;
mod error;
pub mod execution_roles;
mod groups;
mod inline;
pub mod managed;
mod oidc_providers;
mod policies;
mod query;
mod roles;
mod simulate;
mod users;
mod validate;
mod xml;

pub use error::IamApiError;
pub use oidc_providers::valid_url as valid_provider_url;

use crate::auth::Principal;
use lambent_store::iam::IamStore;
use query::Query;
use std::sync::Arc;
use xml::Xml;

pub use query::MAX_BODY;

/// The kind of resource an operation is authorized on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResourceKind {
    User,
    Group,
    Role,
    Policy,
    /// `arn:aws:iam::A:oidc-provider/HOST` from `OpenIDConnectProviderArn` or `Url`.
    OidcProvider,
    /// No resource type: authorized on `*`.
    Any,
}

/// What a handler sees: the store, the caller and the request's parameters.
pub struct Call<'a> {
    pub store: &'a IamStore,
    pub caller: &'a Principal,
    pub query: &'a Query,
}

/// A handler's answer: `Some` result body, or `None` for operations without output.
type Outcome = Result<Option<Xml>, IamApiError>;

pub struct Route {
    pub action: &'static str,
    /// `iam:CreateUser` and so on.
    pub iam_action: &'static str,
    pub resource: ResourceKind,
    handler: fn(&Call<'_>) -> Outcome,
}

macro_rules! routes {
    ($($action:literal => $resource:ident, $handler:path;)*) => {
        /// Every operation of the IAM API lambent serves.
        pub const ROUTES: &[Route] = &[$(Route {
            action: $action,
            iam_action: concat!("iam:", $action),
            resource: ResourceKind::$resource,
            handler: $handler,
        }),*];
    };
}

routes! {
    "CreateUser" => User, users::create;
    "GetUser" => User, users::get;
    "ListUsers" => Any, users::list;
    "UpdateUser" => User, users::update;
    "DeleteUser" => User, users::delete;
    "TagUser" => User, users::tag;
    "UntagUser" => User, users::untag;
    "ListUserTags" => User, users::list_tags;
    "PutUserPermissionsBoundary" => User, users::put_boundary;
    "DeleteUserPermissionsBoundary" => User, users::delete_boundary;
    "CreateAccessKey" => User, access_keys::create;
    "ListAccessKeys" => User, access_keys::list;
    "UpdateAccessKey" => User, access_keys::update;
    "DeleteAccessKey" => User, access_keys::delete;
    "GetAccessKeyLastUsed" => User, access_keys::last_used;
    "CreateGroup" => Group, groups::create;
    "GetGroup" => Group, groups::get;
    "ListGroups" => Any, groups::list;
    "UpdateGroup" => Group, groups::update;
    "DeleteGroup" => Group, groups::delete;
    "AddUserToGroup" => Group, groups::add_user;
    "RemoveUserFromGroup" => Group, groups::remove_user;
    "ListGroupsForUser" => User, groups::for_user;
    "CreateRole" => Role, roles::create;
    "GetRole" => Role, roles::get;
    "ListRoles" => Any, roles::list;
    "UpdateRole" => Role, roles::update;
    "UpdateAssumeRolePolicy" => Role, roles::update_trust;
    "DeleteRole" => Role, roles::delete;
    "TagRole" => Role, roles::tag;
    "UntagRole" => Role, roles::untag;
    "ListRoleTags" => Role, roles::list_tags;
    "PutRolePermissionsBoundary" => Role, roles::put_boundary;
    "DeleteRolePermissionsBoundary" => Role, roles::delete_boundary;
    "CreatePolicy" => Policy, policies::create;
    "GetPolicy" => Policy, policies::get;
    "ListPolicies" => Any, policies::list;
    "DeletePolicy" => Policy, policies::delete;
    "CreatePolicyVersion" => Policy, policies::create_version;
    "GetPolicyVersion" => Policy, policies::get_version;
    "ListPolicyVersions" => Policy, policies::list_versions;
    "DeletePolicyVersion" => Policy, policies::delete_version;
    "SetDefaultPolicyVersion" => Policy, policies::set_default_version;
    "AttachUserPolicy" => User, attachments::attach_user;
    "AttachGroupPolicy" => Group, attachments::attach_group;
    "AttachRolePolicy" => Role, attachments::attach_role;
    "DetachUserPolicy" => User, attachments::detach_user;
    "DetachGroupPolicy" => Group, attachments::detach_group;
    "DetachRolePolicy" => Role, attachments::detach_role;
    "ListAttachedUserPolicies" => User, attachments::list_user;
    "ListAttachedGroupPolicies" => Group, attachments::list_group;
    "ListAttachedRolePolicies" => Role, attachments::list_role;
    "ListEntitiesForPolicy" => Policy, attachments::entities_for_policy;
    "PutUserPolicy" => User, inline::put_user;
    "PutGroupPolicy" => Group, inline::put_group;
    "PutRolePolicy" => Role, inline::put_role;
    "GetUserPolicy" => User, inline::get_user;
    "GetGroupPolicy" => Group, inline::get_group;
    "GetRolePolicy" => Role, inline::get_role;
    "ListUserPolicies" => User, inline::list_user;
    "ListGroupPolicies" => Group, inline::list_group;
    "ListRolePolicies" => Role, inline::list_role;
    "DeleteUserPolicy" => User, inline::delete_user;
    "DeleteGroupPolicy" => Group, inline::delete_group;
    "DeleteRolePolicy" => Role, inline::delete_role;
    "CreateOpenIDConnectProvider" => OidcProvider, oidc_providers::create;
    "GetOpenIDConnectProvider" => OidcProvider, oidc_providers::get;
    "ListOpenIDConnectProviders" => Any, oidc_providers::list;
    "DeleteOpenIDConnectProvider" => OidcProvider, oidc_providers::delete;
    "AddClientIDToOpenIDConnectProvider" => OidcProvider, oidc_providers::add_client_id;
    "RemoveClientIDFromOpenIDConnectProvider" => OidcProvider, oidc_providers::remove_client_id;
    "UpdateOpenIDConnectProviderThumbprint" => OidcProvider, oidc_providers::update_thumbprint;
    "SimulatePrincipalPolicy" => Any, simulate::principal;
    "SimulateCustomPolicy" => Any, simulate::custom;
}

/// The IAM front-end: cheap to clone.
#[derive(Clone)]
pub struct Iam {
    store: Arc<IamStore>,
}

/// The status and XML body of one answer.
pub struct IamResponse {
    pub status: u16,
    pub body: String,
}

impl Iam {
    /// Serves `store`, after seeding the AWS-managed policies.
    pub fn new(store: Arc<IamStore>) -> Result<Iam, lambent_store::iam::IamError> {
        store.seed_aws_managed(managed::POLICIES)?;
        Ok(Iam { store })
    }

    pub fn store(&self) -> &Arc<IamStore> {
        &self.store
    }

    /// Answers one request: `params` is the form body (or, for a GET, the query string).
    /// The store's writes sync, so the work runs on the blocking pool.
    pub async fn handle(
        &self,
        caller: Principal,
        params: Vec<u8>,
        request_id: String,
    ) -> IamResponse {
        let store = self.store.clone();
        let run = move || answer(&store, &caller, &params, &request_id);
        match tokio::task::spawn_blocking(run).await {
            Ok(r) => r,
            Err(_) => {
                let e =
                    IamApiError::new("ServiceFailure", 500, "The request processing has failed.");
                IamResponse {
                    status: 500,
                    body: xml::error(&e, ""),
                }
            }
        }
    }
}

/// Finds the operation, runs it and renders its answer.
fn answer(store: &IamStore, caller: &Principal, params: &[u8], request_id: &str) -> IamResponse {
    let result = Query::parse(params).and_then(|query| {
        let action = query.required("Action")?.to_string();
        let route = ROUTES.iter().find(|r| r.action == action).ok_or_else(|| {
            IamApiError::new(
                "InvalidAction",
                400,
                format!("Could not find operation {action} for version 2010-05-08"),
            )
        })?;
        let call = Call {
            store,
            caller,
            query: &query,
        };
        (route.handler)(&call).map(|r| (route.action, r))
    });
    match result {
        Ok((action, body)) => IamResponse {
            status: 200,
            body: xml::response(action, request_id, body),
        },
        Err(e) => IamResponse {
            status: e.status,
            body: xml::error(&e, request_id),
        },
    }
}

/// The account's root ARN.
fn root_arn(store: &IamStore) -> String {
    format!("arn:aws:iam::{}:root", store.account())
}

/// `UserName`, or the caller's own user when it is absent (none for root).
fn user_name_or_caller<'a>(call: &'a Call<'_>) -> Result<Option<&'a str>, IamApiError> {
    match call.query.get("UserName") {
        Some(n) => {
            validate::name("UserName", n, 64)?;
            Ok(Some(n))
        }
        None => match call.caller {
            Principal::Root => Ok(None),
            Principal::User { name, .. } => Ok(Some(name)),
            Principal::Role { .. } => Err(IamApiError::validation(
                "Must specify userName when calling with non-User credentials",
            )),
        },
    }
}

/// A required name member, validated.
fn name<'a>(call: &'a Call<'_>, member: &str, max: usize) -> Result<&'a str, IamApiError> {
    let v = call.query.required(member)?;
    validate::name(member, v, max)?;
    Ok(v)
}

/// An optional `Path` member, validated.
fn path<'a>(call: &'a Call<'_>, member: &str) -> Result<Option<&'a str>, IamApiError> {
    let v = call.query.get(member);
    if let Some(p) = v {
        validate::path(member, p)?;
    }
    Ok(v)
}

/// The optional `PathPrefix`.
fn path_prefix<'a>(call: &'a Call<'_>) -> Result<Option<&'a str>, IamApiError> {
    let v = call.query.get("PathPrefix");
    if let Some(p) = v {
        validate::path_prefix(p)?;
    }
    Ok(v)
}

fn tags(x: &mut Xml, tags: &[lambent_store::iam::Tag]) {
    x.members("Tags", tags, |x, t| {
        x.text("Key", &t.key).text("Value", &t.value);
    });
}

/// Whether a request is signed for IAM (credential scope `.../<any region>/iam/aws4_request`,
/// in the `Authorization` header or a presigned query string).
pub fn is_iam(headers: &http::HeaderMap, query: Option<&str>) -> bool {
    if let Some(auth) = headers
        .get(http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    {
        return auth.contains("/iam/aws4_request");
    }
    query.unwrap_or("").split('&').any(|p| {
        p.starts_with("X-Amz-Credential=")
            && (p.contains("%2Fiam%2Faws4_request") || p.contains("/iam/aws4_request"))
    })
}

/// A request's parameters: the query string (AWS accepts GET) and then the form body.
pub fn params(query: Option<&str>, body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(body.len() + query.map_or(0, str::len) + 1);
    if let Some(q) = query.filter(|q| !q.is_empty()) {
        out.extend_from_slice(q.as_bytes());
        out.push(b'&');
    }
    out.extend_from_slice(body);
    out
}

/// What a request is authorized as: its route's IAM action and the ARN of the user, group,
/// role or policy its parameters name (`None`: no such action, and nothing runs). A user
/// named by no `UserName` is the caller itself (`caller_user`). ARNs are built without the
/// entity's path.
pub fn authorization(
    params: &[u8],
    caller_user: Option<&str>,
    account: &str,
) -> Option<(&'static str, String)> {
    let query = Query::parse(params).ok()?;
    let action = query.get("Action")?;
    let route = ROUTES.iter().find(|r| r.action == action)?;
    let arn = |kind: &str, name: Option<&str>| match name {
        Some(n) => format!("arn:aws:iam::{account}:{kind}/{n}"),
        None => "*".to_string(),
    };
    let resource = match route.resource {
        ResourceKind::Any => "*".to_string(),
        ResourceKind::User => arn("user", query.get("UserName").or(caller_user)),
        ResourceKind::Group => arn("group", query.get("GroupName")),
        ResourceKind::Role => arn("role", query.get("RoleName")),
        ResourceKind::Policy => match query.get("PolicyArn") {
            Some(a) => a.to_string(),
            None => arn("policy", query.get("PolicyName")),
        },
        ResourceKind::OidcProvider => match query.get("OpenIDConnectProviderArn") {
            Some(a) => a.to_string(),
            None => arn(
                "oidc-provider",
                query.get("Url").map(lambent_store::iam::provider_host),
            ),
        },
    };
    Some((route.iam_action, resource))
}

/// A request the authorizer refused: `AccessDenied` (403) with AWS's message.
pub fn access_denied(message: &str, request_id: &str) -> IamResponse {
    let e = IamApiError::new("AccessDenied", 403, message.to_string());
    IamResponse {
        status: e.status,
        body: xml::error(&e, request_id),
    }
}

/// The answer to a request that failed authentication, in the query protocol's envelope.
pub fn unauthenticated((code, message): &(&'static str, String), request_id: &str) -> IamResponse {
    let e = match *code {
        "MissingAuthenticationTokenException" => {
            IamApiError::new("MissingAuthenticationToken", 403, message.clone())
        }
        "UnrecognizedClientException" => {
            IamApiError::new("InvalidClientTokenId", 403, message.clone())
        }
        "IncompleteSignatureException" => {
            IamApiError::new("IncompleteSignature", 400, message.clone())
        }
        _ => IamApiError::new("SignatureDoesNotMatch", 403, message.clone()),
    };
    IamResponse {
        status: e.status,
        body: xml::error(&e, request_id),
    }
}
