//! SigV4 authentication of one request against the key ring.

use crate::auth::{KeyRefusal, KeyRing, Principal};
use lambent_aws::lambda::LambdaError;
use lambent_aws::sigv4::{self, PayloadHash, RequestParts, Sigv4Error};

/// Why a request was not authenticated.
pub enum AuthFailure {
    Missing,
    UnknownKey,
    ExpiredKey,
    BadSessionToken,
    Signature(Sigv4Error),
}

impl AuthFailure {
    /// The rest-json (Lambda) error.
    pub fn lambda(&self) -> LambdaError {
        match self {
            AuthFailure::Missing => {
                LambdaError::MissingAuthenticationToken("Missing Authentication Token".into())
            }
            AuthFailure::UnknownKey | AuthFailure::BadSessionToken => {
                LambdaError::UnrecognizedClient(
                    "The security token included in the request is invalid.".into(),
                )
            }
            AuthFailure::ExpiredKey => LambdaError::ExpiredToken(EXPIRED.into()),
            AuthFailure::Signature(e) => match e.json_code() {
                "IncompleteSignatureException" => LambdaError::IncompleteSignature(e.message()),
                _ => LambdaError::InvalidSignature(e.message()),
            },
        }
    }

    /// The awsJson (Logs, DynamoDB) error code and message.
    pub fn json_error(&self) -> (&'static str, String) {
        match self {
            AuthFailure::Missing => (
                "MissingAuthenticationTokenException",
                "Missing Authentication Token".into(),
            ),
            AuthFailure::UnknownKey | AuthFailure::BadSessionToken => (
                "UnrecognizedClientException",
                "The security token included in the request is invalid.".into(),
            ),
            AuthFailure::ExpiredKey => ("ExpiredTokenException", EXPIRED.into()),
            AuthFailure::Signature(e) => (e.json_code(), e.message()),
        }
    }

    /// The query-protocol (STS, IAM) error: status, code and message.
    pub fn query_error(&self) -> (u16, &'static str, String) {
        match self {
            AuthFailure::Missing => (
                403,
                "MissingAuthenticationToken",
                "Request is missing Authentication Token".into(),
            ),
            AuthFailure::UnknownKey | AuthFailure::BadSessionToken => (
                403,
                "InvalidClientTokenId",
                "The security token included in the request is invalid.".into(),
            ),
            // 403 as recorded on IAM (spec/iam-sts.md, section 2).
            AuthFailure::ExpiredKey => (403, "ExpiredToken", EXPIRED.into()),
            AuthFailure::Signature(e) => match e.json_code() {
                "IncompleteSignatureException" => (400, "IncompleteSignature", e.message()),
                _ => (403, "SignatureDoesNotMatch", e.message()),
            },
        }
    }
}

/// AWS's words for a temporary key past its expiration (no final period).
const EXPIRED: &str = "The security token included in the request is expired";

/// Who signed a request, and the region it was signed for (`aws:RequestedRegion`).
pub struct Signer {
    pub principal: Principal,
    pub region: String,
}

/// Verifies the request's SigV4 signature and returns who signed it.
pub fn authenticate(
    keyring: &KeyRing,
    parts: &http::request::Parts,
    body: &[u8],
) -> Result<Signer, AuthFailure> {
    let headers: Vec<(&str, &[u8])> = parts
        .headers
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_bytes()))
        .collect();
    let req = RequestParts {
        method: parts.method.as_str(),
        raw_path: parts.uri.path(),
        raw_query: parts.uri.query().unwrap_or(""),
        headers: &headers,
    };
    let auth = sigv4::parse(&req)
        .map_err(AuthFailure::Signature)?
        .ok_or(AuthFailure::Missing)?;
    let key = keyring
        .lookup(&auth.credential.access_key_id)
        .map_err(|refusal| match refusal {
            KeyRefusal::Unknown => AuthFailure::UnknownKey,
            KeyRefusal::Expired => AuthFailure::ExpiredKey,
        })?;
    // A temporary key needs its own token; a long-term key takes none.
    if key.session_token != auth.security_token {
        return Err(AuthFailure::BadSessionToken);
    }
    let payload = match auth.content_sha256.as_deref() {
        Some(declared) if declared.len() == 64 => PayloadHash::of_body(body),
        Some(literal) => PayloadHash::Literal(literal),
        None => PayloadHash::of_body(body),
    };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    sigv4::verify(&req, &auth, &key.secret, &payload, true, now).map_err(AuthFailure::Signature)?;
    Ok(Signer {
        principal: key.principal,
        region: auth.credential.region,
    })
}
