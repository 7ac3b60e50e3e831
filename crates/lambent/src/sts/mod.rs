//! STS (query protocol, Version 2011-06-15): who the caller is (GetCallerIdentity), and
//! temporary credentials issued through the key ring (AssumeRole, GetSessionToken, and the
//! unsigned AssumeRoleWithWebIdentity).
//!
//! The edge routes here every request whose SigV4 credential scope names `sts`, in any
//! region, once it is authenticated, and every unsigned form `POST /`. Roles and their trust policies come from the IAM store;
//! trust policies are decided by `lambent_aws::iam::evaluate`. Each action's IAM action is in
//! the route table, which [`authorization`] reads for the edge's authorizer; AssumeRole
//! combines the role's trust policy with the identity decision the edge passes in.
//!
//! Invariant: no HTTP request type past `handle` (the one HTTP client here fetches OIDC
//! providers' keys); operations take [`Params`] and give an [`Xml`] result
//! or an [`StsError`], which is always a query-protocol error, never a 500 for bad input.

mod assume_role;
mod identity;
mod query;
mod session_token;
mod validate;
mod web_identity;

use crate::auth::{KeyRing, Principal};
use bytes::Bytes;
use http::Response;
use http_body_util::Full;
use lambent_store::iam::IamStore;
use query::{Params, Xml};
use std::sync::Arc;

/// The most an STS request body may hold (a session policy is at most 2,048 characters; tags
/// and policy ARNs add little).
pub const MAX_BODY: usize = 1024 * 1024;

/// The STS front-end's state.
pub struct Sts {
    keyring: KeyRing,
    iam: Arc<IamStore>,
    /// OIDC providers' signing keys, for AssumeRoleWithWebIdentity.
    provider_keys: web_identity::ProviderKeys,
}

/// An operation, given the caller, the parameters and whether the caller's identity-based
/// policies allowed the action (the edge asked the authorizer; AssumeRole needs it when the
/// trust policy only names the account).
type Operation = fn(&Sts, &Principal, &Params, bool) -> Result<Xml, StsError>;

/// Every STS action lambent answers, with the IAM action that authorizes it.
const ROUTES: &[(&str, &str, Operation)] = &[
    (
        "GetCallerIdentity",
        "sts:GetCallerIdentity",
        identity::get_caller_identity,
    ),
    ("AssumeRole", "sts:AssumeRole", assume_role::assume_role),
    (
        "GetSessionToken",
        "sts:GetSessionToken",
        session_token::get_session_token,
    ),
];

/// The one action taken unsigned.
const WEB_IDENTITY: &str = "AssumeRoleWithWebIdentity";

/// A refused STS request: AWS's status, code and message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct StsError {
    pub status: u16,
    pub code: &'static str,
    pub message: String,
}

impl StsError {
    pub fn new(status: u16, code: &'static str, message: impl Into<String>) -> StsError {
        StsError {
            status,
            code,
            message: message.into(),
        }
    }

    pub fn validation(message: impl Into<String>) -> StsError {
        StsError::new(400, "ValidationError", message)
    }

    pub fn access_denied(message: impl Into<String>) -> StsError {
        StsError::new(403, "AccessDenied", message)
    }

    /// A failure of lambent's own (the IAM store), logged and answered as AWS's 500.
    fn internal(step: &str, e: impl std::fmt::Display) -> StsError {
        tracing::error!(error = %e, step, "sts");
        StsError::new(500, "InternalFailure", "The request processing has failed.")
    }
}

impl Sts {
    pub fn new(keyring: KeyRing, iam: Arc<IamStore>) -> Sts {
        Sts {
            keyring,
            iam,
            provider_keys: web_identity::ProviderKeys::default(),
        }
    }

    fn account(&self) -> &str {
        self.iam.account()
    }

    /// Answers one request, authenticated (`Ok`) or refused by the edge with its
    /// query-protocol status, code and message; AssumeRoleWithWebIdentity needs no
    /// signature (the token is its credential), as on AWS.
    pub async fn handle(
        &self,
        caller: Result<Principal, (u16, &'static str, String)>,
        identity_allows: bool,
        query: &str,
        body: &[u8],
        request_id: &str,
    ) -> Response<Full<Bytes>> {
        let fail = |e: StsError| query::error(e.status, e.code, &e.message, request_id);
        if let Some(params) = Params::parse(query, body) {
            if params.get("Action") == Some(WEB_IDENTITY) {
                return match web_identity::assume_role_with_web_identity(self, &params).await {
                    Ok(result) => query::success(WEB_IDENTITY, &result, request_id),
                    Err(e) => fail(e),
                };
            }
        }
        let caller = match caller {
            Ok(p) => p,
            Err((status, code, message)) => {
                return query::error(status, code, &message, request_id)
            }
        };
        let Some(params) = Params::parse(query, body) else {
            return fail(StsError::new(
                400,
                "MalformedQueryString",
                "The request's parameters are not UTF-8 or too many.",
            ));
        };
        let action = params.get("Action").unwrap_or("");
        let Some((name, _, op)) = ROUTES.iter().find(|(name, _, _)| *name == action) else {
            return fail(StsError::new(
                400,
                "InvalidAction",
                format!("Could not find operation {action} for version 2011-06-15"),
            ));
        };
        match op(self, &caller, &params, identity_allows) {
            Ok(result) => query::success(name, &result, request_id),
            Err(e) => fail(e),
        }
    }
}

/// What a request is authorized as: the action's IAM action and resource (`AssumeRole`: the
/// role's ARN), or `None` when nothing is authorized: GetCallerIdentity and GetSessionToken,
/// which AWS documents as needing no permission (a session gets its caller's own), or an
/// unknown action, which runs nothing.
pub fn authorization(query: &str, body: &[u8]) -> Option<(&'static str, String)> {
    let params = Params::parse(query, body)?;
    let action = params.get("Action")?;
    let (_, iam_action, _) = ROUTES.iter().find(|(name, _, _)| *name == action)?;
    match *iam_action {
        "sts:GetCallerIdentity" | "sts:GetSessionToken" => None,
        "sts:AssumeRole" => Some((iam_action, params.get("RoleArn").unwrap_or("*").to_string())),
        _ => Some((iam_action, "*".to_string())),
    }
}

/// Whether a request's SigV4 credential scope names `sts` (any region), in the
/// `Authorization` header or a presigned query's `X-Amz-Credential`.
///
/// An unsigned `POST` of a form is STS's too: the unsigned query-protocol call lambent
/// serves is AssumeRoleWithWebIdentity (botocore sends it so); any other gets STS's
/// `MissingAuthenticationToken`.
pub fn is_sts<B>(req: &http::Request<B>) -> bool {
    if let Some(auth) = req.headers().get(http::header::AUTHORIZATION) {
        return auth.to_str().is_ok_and(|a| a.contains("/sts/aws4_request"));
    }
    let query = req.uri().query().unwrap_or("");
    if query.contains("X-Amz-Credential=") {
        return query.split('&').any(|p| {
            p.strip_prefix("X-Amz-Credential=").is_some_and(|v| {
                v.contains("%2Fsts%2Faws4_request") || v.contains("/sts/aws4_request")
            })
        });
    }
    req.method() == http::Method::POST
        && req.uri().path() == "/"
        && req
            .headers()
            .get(http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|t| t.starts_with("application/x-www-form-urlencoded"))
}
