//! SigV4 authentication of one request against the key ring.

use crate::auth::{KeyRing, Principal};
use lambent_aws::lambda::LambdaError;
use lambent_aws::sigv4::{self, PayloadHash, RequestParts, Sigv4Error};

/// Why a request was not authenticated.
pub enum AuthFailure {
    Missing,
    UnknownKey,
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
            AuthFailure::Signature(e) => (e.json_code(), e.message()),
        }
    }
}

/// Verifies the request's SigV4 signature and returns who signed it.
pub fn authenticate(
    keyring: &KeyRing,
    parts: &http::request::Parts,
    body: &[u8],
) -> Result<Principal, AuthFailure> {
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
        .ok_or(AuthFailure::UnknownKey)?;
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
    Ok(key.principal)
}
