//! AssumeRoleWithWebIdentity (unsigned, as on AWS): an OpenID Connect ID token from an
//! identity provider the account registered (IAM's OIDC providers) becomes a session of a
//! role whose trust policy names that provider, with the token's `sub` and `aud` as the
//! condition keys `HOST:sub` and `HOST:aud` of every request the session signs.
//!
//! The token is checked in this order, each with AWS's error: its shape, a provider for its
//! `iss`, its `aud` among the provider's client ids, its signature against the provider's
//! keys (`ISSUER/.well-known/openid-configuration` → `jwks_uri`, cached for ten minutes and
//! fetched again for an unknown `kid`), its `exp`/`nbf`. lambent fetches keys over `http://`
//! from loopback providers only (it carries no TLS client); an `https://` provider's keys
//! cannot be fetched and are answered as AWS answers an unreachable provider.

use super::query::{Params, Xml};
use super::session_token::credentials;
use super::validate::{self, Violations};
use super::{Sts, StsError};
use crate::auth::{Principal, RoleSession};
use bytes::Bytes;
use http_body_util::{BodyExt, Empty, Limited};
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{DecodingKey, Validation};
use lambent_aws::iam::{self, Outcome, Policy, PolicyKind, PolicySet, PrincipalKind, SizeLimit};
use lambent_store::iam::{provider_host, IamError};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const DEFAULT_DURATION: i64 = 3_600;
/// How long a provider's keys are trusted before they are fetched again.
const KEYS_FRESH: Duration = Duration::from_secs(600);
/// Keys fetched this recently are not fetched again for an unknown key id.
const MIN_REFETCH: Duration = Duration::from_secs(30);
/// A provider answering slower than this is unreachable.
const FETCH_TIMEOUT: Duration = Duration::from_secs(5);
/// The most a discovery document or key set may take.
const MAX_DOCUMENT: usize = 256 * 1024;
const MAX_PROVIDERS_CACHED: usize = 1_000;

/// Providers' signing keys by issuer, with when they were fetched. A std mutex, held for a
/// map operation only, never across a fetch.
#[derive(Default)]
pub struct ProviderKeys {
    cache: Mutex<HashMap<String, (Instant, Arc<JwkSet>)>>,
}

fn invalid_token(message: impl Into<String>) -> StsError {
    StsError::new(400, "InvalidIdentityToken", message)
}

fn unreachable_provider() -> StsError {
    StsError::new(
        400,
        "IDPCommunicationError",
        "Couldn't retrieve verification key from your identity provider,  please reference \
         AssumeRoleWithWebIdentity documentation for requirements",
    )
}

fn not_a_jwt() -> StsError {
    invalid_token(
        "The ID Token provided is not a valid JWT. (You may see this error if you sent an \
         Access Token)",
    )
}

impl ProviderKeys {
    /// The issuer's key set: cached, or fetched when stale, missing or `refresh` (at most
    /// once per [`MIN_REFETCH`], so tokens with made-up key ids cannot make lambent hammer
    /// a provider).
    async fn get(&self, issuer: &str, refresh: bool) -> Result<Arc<JwkSet>, StsError> {
        {
            let cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
            if let Some((at, keys)) = cache.get(issuer) {
                let fresh_enough = if refresh { MIN_REFETCH } else { KEYS_FRESH };
                if at.elapsed() < fresh_enough {
                    return Ok(keys.clone());
                }
            }
        }
        let keys = tokio::time::timeout(FETCH_TIMEOUT, fetch_keys(issuer))
            .await
            .map_err(|_| unreachable_provider())??;
        let keys = Arc::new(keys);
        let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        if cache.len() >= MAX_PROVIDERS_CACHED {
            cache.clear();
        }
        cache.insert(issuer.to_string(), (Instant::now(), keys.clone()));
        Ok(keys)
    }
}

/// GETs `url` (http:// to a loopback host only), bounded, as JSON.
async fn get_json(url: &str) -> Result<serde_json::Value, StsError> {
    if !crate::iam::valid_provider_url(url) || !url.starts_with("http://") {
        return Err(unreachable_provider());
    }
    let uri: http::Uri = url.parse().map_err(|_| unreachable_provider())?;
    let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build_http::<Empty<Bytes>>();
    let resp = client.get(uri).await.map_err(|_| unreachable_provider())?;
    if !resp.status().is_success() {
        return Err(unreachable_provider());
    }
    let body = Limited::new(resp.into_body(), MAX_DOCUMENT)
        .collect()
        .await
        .map_err(|_| unreachable_provider())?
        .to_bytes();
    serde_json::from_slice(&body).map_err(|_| unreachable_provider())
}

async fn fetch_keys(issuer: &str) -> Result<JwkSet, StsError> {
    let discovery = format!(
        "{}/.well-known/openid-configuration",
        issuer.trim_end_matches('/')
    );
    let config = get_json(&discovery).await?;
    let jwks_uri = config["jwks_uri"]
        .as_str()
        .ok_or_else(unreachable_provider)?;
    serde_json::from_value(get_json(jwks_uri).await?).map_err(|_| unreachable_provider())
}

/// The members of one request, validated.
struct Request<'a> {
    role_arn: &'a str,
    session_name: &'a str,
    token: &'a str,
    duration: Option<i64>,
    policy: Option<&'a str>,
    policy_arns: Vec<String>,
}

fn parse(params: &Params) -> Result<Request<'_>, StsError> {
    let mut v = Violations::default();
    let validate::SessionMembers {
        role_arn,
        session_name,
        policy_arns,
        policy,
        duration,
    } = v.session_members(params)?;
    let token = v.required(params.get("WebIdentityToken"), "webIdentityToken");
    v.text(token, "webIdentityToken", 4, 20_000, None);
    v.finish()?;
    let (Some(role_arn), Some(session_name), Some(token)) = (role_arn, session_name, token) else {
        return Err(StsError::validation(
            "RoleArn, RoleSessionName and WebIdentityToken are required",
        ));
    };
    Ok(Request {
        role_arn,
        session_name,
        token,
        duration,
        policy,
        policy_arns: policy_arns.into_iter().map(str::to_string).collect(),
    })
}

/// A claim that is a string, or each string of an array (`aud`, `amr`).
fn strings(claim: &serde_json::Value) -> Vec<&str> {
    match claim {
        serde_json::Value::String(s) => vec![s.as_str()],
        serde_json::Value::Array(a) => a.iter().filter_map(|v| v.as_str()).collect(),
        _ => Vec::new(),
    }
}

pub(super) async fn assume_role_with_web_identity(
    sts: &Sts,
    params: &Params,
) -> Result<Xml, StsError> {
    let req = parse(params)?;
    if !validate::arn_is_valid(req.role_arn) {
        return Err(StsError::validation(format!("{} is invalid", req.role_arn)));
    }
    if let Some(text) = req.policy {
        Policy::parse(text, PolicyKind::Session, &SizeLimit::None)
            .map_err(|e| StsError::new(400, e.code(), e.to_string()))?;
    }

    // Unverified first: which provider's keys to check the signature with.
    let header = jsonwebtoken::decode_header(req.token).map_err(|_| not_a_jwt())?;
    // A provider signs with its private key; a shared-secret algorithm is never one.
    if matches!(
        header.alg,
        jsonwebtoken::Algorithm::HS256
            | jsonwebtoken::Algorithm::HS384
            | jsonwebtoken::Algorithm::HS512
    ) {
        return Err(not_a_jwt());
    }
    let unverified = jsonwebtoken::dangerous::insecure_decode::<serde_json::Value>(req.token)
        .map_err(|_| not_a_jwt())?
        .claims;
    let issuer = unverified["iss"]
        .as_str()
        .ok_or_else(not_a_jwt)?
        .to_string();
    // An issuer is an https:// URL; lambent's loopback providers are http://.
    let issuer_url = if issuer.contains("://") {
        issuer.clone()
    } else {
        format!("https://{issuer}")
    };
    let host = provider_host(&issuer_url).to_string();
    let provider_arn = sts.iam.oidc_provider_arn(&issuer_url);
    let provider = match sts.iam.oidc_provider(&provider_arn) {
        Ok(p) => p,
        Err(IamError::NoSuchEntity { .. }) => {
            return Err(invalid_token(format!(
                "No OpenIDConnect provider found in your account for {issuer}"
            )))
        }
        Err(e) => return Err(StsError::internal("reading the OIDC provider", e)),
    };
    let audiences = strings(&unverified["aud"]);
    let Some(audience) = audiences
        .iter()
        .find(|a| provider.client_ids.iter().any(|c| c == *a))
        .map(|a| a.to_string())
    else {
        return Err(invalid_token("Incorrect token audience"));
    };

    let mut keys = sts.provider_keys.get(&provider.url, false).await?;
    let find = |keys: &JwkSet| match &header.kid {
        Some(kid) => keys.find(kid).cloned(),
        None if keys.keys.len() == 1 => keys.keys.first().cloned(),
        None => None,
    };
    let jwk = match find(&keys) {
        Some(k) => k,
        None => {
            // Keys rotate: an unknown kid is worth one fresh fetch.
            keys = sts.provider_keys.get(&provider.url, true).await?;
            find(&keys).ok_or_else(unreachable_provider)?
        }
    };
    let key = DecodingKey::from_jwk(&jwk).map_err(|_| unreachable_provider())?;
    let mut validation = Validation::new(header.alg);
    validation.set_issuer(&[&issuer]);
    validation.set_audience(&[&audience]);
    validation.validate_nbf = true;
    let claims = match jsonwebtoken::decode::<serde_json::Value>(req.token, &key, &validation) {
        Ok(data) => data.claims,
        Err(e) => {
            use jsonwebtoken::errors::ErrorKind;
            return Err(match e.kind() {
                ErrorKind::ExpiredSignature => {
                    let exp = claims_time(&unverified["exp"]);
                    StsError::new(
                        400,
                        "ExpiredTokenException",
                        format!(
                            "Token expired: current date/time {} must be before the \
                             expiration date/time {exp}",
                            now_seconds()
                        ),
                    )
                }
                ErrorKind::ImmatureSignature => invalid_token("Token is not valid yet"),
                ErrorKind::InvalidSignature => invalid_token("Invalid identity token signature"),
                _ => not_a_jwt(),
            });
        }
    };
    let subject = claims["sub"].as_str().unwrap_or("").to_string();

    let denied =
        || StsError::access_denied("Not authorized to perform sts:AssumeRoleWithWebIdentity");
    let Some(role) = super::assume_role::find_role(sts, req.role_arn)? else {
        return Err(denied());
    };
    let trust = Policy::parse(&role.trust_policy, PolicyKind::Trust, &SizeLimit::None)
        .map_err(|_| denied())?;
    let session_keys: Vec<(String, String)> = vec![
        (format!("{host}:sub"), subject.clone()),
        (format!("{host}:aud"), audience.clone()),
    ];
    let mut context = iam::Context::new();
    for (k, v) in &session_keys {
        context.insert(k, v);
    }
    let amr = strings(&claims["amr"]);
    if !amr.is_empty() {
        context.insert_many(&format!("{host}:amr"), &amr);
    }
    context.insert("sts:RoleSessionName", req.session_name);
    context.insert("aws:EpochTime", &now_seconds().to_string());
    let principal = iam::Principal::new(PrincipalKind::WebIdentity, &provider_arn, "");
    let decision = iam::evaluate(
        &PolicySet {
            resource: Some(iam::Source {
                id: &role.arn,
                policy: &trust,
            }),
            ..PolicySet::default()
        },
        &iam::Request {
            principal: &principal,
            action: "sts:AssumeRoleWithWebIdentity",
            resource: &role.arn,
            resource_account: Some(sts.account()),
            context: &context,
        },
    );
    if decision.outcome != Outcome::Allow {
        return Err(denied());
    }
    let max = i64::from(role.max_session_duration);
    let duration = req.duration.unwrap_or(DEFAULT_DURATION.min(max));
    if duration > max {
        return Err(StsError::validation(
            "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.",
        ));
    }

    let session = RoleSession {
        role_arn: role.arn.clone(),
        role_id: Some(role.id.clone()),
        session_name: req.session_name.to_string(),
        policy: req.policy.map(str::to_string),
        policy_arns: req.policy_arns,
        context: session_keys,
        ..RoleSession::default()
    };
    let (assumed_arn, assumed_id) = (session.arn(), format!("{}:{}", role.id, req.session_name));
    let issued = sts.keyring.issue_expiring(
        Principal::Role(Arc::new(session)),
        Duration::from_secs(duration as u64),
    );
    let mut xml = Xml::default();
    credentials(&mut xml, &issued);
    xml.elem("SubjectFromWebIdentityToken", &subject)
        .open("AssumedRoleUser")
        .elem("AssumedRoleId", &assumed_id)
        .elem("Arn", &assumed_arn)
        .close("AssumedRoleUser")
        .elem("Provider", &issuer)
        .elem("Audience", &audience);
    Ok(xml)
}

fn now_seconds() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

fn claims_time(v: &serde_json::Value) -> i64 {
    v.as_i64()
        .or_else(|| v.as_f64().map(|f| f as i64))
        .unwrap_or(0)
}
