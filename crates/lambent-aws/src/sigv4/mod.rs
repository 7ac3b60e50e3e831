//! AWS Signature Version 4 (`AWS4-HMAC-SHA256`): server-side verification, plus the
//! client-side signer our CLI and benchmark use.
//!
//! # Flow on the server
//!
//! 1. [`parse`] finds the authentication material: the `Authorization` header or the
//!    presigned-URL query parameters (`X-Amz-Algorithm`, `X-Amz-Credential`, ...).
//!    `Ok(None)` means the request carries no authentication at all.
//! 2. The caller looks up the secret for [`Credential::access_key_id`] (and checks the
//!    session token, region and service as it sees fit).
//! 3. [`verify`] (or [`verify_with_signing_key`] with a cached [`signing_key`]) checks
//!    the scope date, the clock (15 minutes of skew for header auth; `X-Amz-Expires` for
//!    presigned URLs), that `host` is signed, and then recomputes the signature and
//!    compares it in constant time.
//!
//! Every failure is a [`Sigv4Error`] that renders AWS's message and names AWS's error
//! code for JSON services ([`Sigv4Error::json_code`]) and S3 ([`Sigv4Error::s3_code`]).
//!
//! # Canonicalisation rules (as AWS and the official test suites apply them)
//!
//! * **Path.** For every service but S3 (`normalize_path = true`) the wire path is
//!   normalised (`.`/`..` and empty segments removed) and then percent-encoded once more,
//!   so `%3A` on the wire is signed as `%253A`. For S3 (`normalize_path = false`) the path
//!   is used as sent: existing `%XX` escapes are kept (hex upper-cased) and only bytes a
//!   client must escape (space, non-ASCII, ...) are escaped. An empty path is `/`.
//! * **Query.** Each name and value is percent-decoded and re-encoded with the RFC 3986
//!   unreserved set (`+` is a literal plus, so it becomes `%2B`), pairs are sorted by name
//!   then value, a missing value gives `name=`, and `X-Amz-Signature` is dropped for
//!   presigned requests.
//! * **Headers.** The names listed in `SignedHeaders` (in that order, matched
//!   case-insensitively), each value trimmed with inner whitespace runs (including the
//!   line breaks of obsolete folded headers) collapsed to one space, duplicates joined
//!   with `,` in wire order. A signed header that is absent contributes an empty value.
//! * **Payload.** The caller supplies it as a [`PayloadHash`]: the hex SHA-256 of the body,
//!   or a literal taken from `x-amz-content-sha256` (`UNSIGNED-PAYLOAD`,
//!   `STREAMING-AWS4-HMAC-SHA256-PAYLOAD`, ...). Presigned S3 URLs use `UNSIGNED-PAYLOAD`.
//!
//! # Time
//!
//! The request time is `X-Amz-Date` (ISO 8601 basic, `20150830T123600Z`), or for header
//! auth the `Date` header (ISO basic or RFC 1123) when `X-Amz-Date` is absent. The
//! credential scope date must equal its first 8 characters.
//!
//! # S3 aws-chunked uploads
//!
//! The header signature is the seed; [`chunk_signature`] chains each chunk's signature
//! from the previous one, and [`trailer_signature`] signs the trailing checksum headers of
//! the `...-PAYLOAD-TRAILER` variant. Decoding the chunked body is left to the S3 layer.
//!
//! # Cost
//!
//! Verification builds the canonical request in one `Vec<u8>`; the query (when present)
//! needs one small vector of pairs, path normalisation allocates only when the path
//! actually contains `.`, `..` or `//` segments, and the string to sign is fed to the
//! HMAC piecewise (it is only materialised for a mismatch error). The signing key costs
//! four HMACs; cache it per (secret, date, region, service) with [`signing_key`].
//!
//! No I/O, no clock: the current time is a parameter.

mod canonical;
mod error;
#[cfg(test)]
mod tests;

use std::borrow::Cow;
use std::fmt;

use hmac::{Hmac, Mac};
use percent_encoding::percent_decode_str;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use time::{Date, Month, OffsetDateTime, PrimitiveDateTime, Time};

pub use error::Sigv4Error;

type HmacSha256 = Hmac<Sha256>;

/// The only algorithm supported: `AWS4-HMAC-SHA256`.
pub const ALGORITHM: &str = "AWS4-HMAC-SHA256";
/// Hex SHA-256 of the empty string.
pub const EMPTY_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
/// `x-amz-content-sha256` value for an unsigned body (and the payload of S3 presigned URLs).
pub const UNSIGNED_PAYLOAD: &str = "UNSIGNED-PAYLOAD";
/// `x-amz-content-sha256` for S3 aws-chunked uploads with signed chunks.
pub const STREAMING_PAYLOAD: &str = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD";
/// `x-amz-content-sha256` for S3 aws-chunked uploads with signed chunks and a signed trailer.
pub const STREAMING_PAYLOAD_TRAILER: &str = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER";
/// `x-amz-content-sha256` for S3 aws-chunked uploads with unsigned chunks and a trailer
/// (the default of boto3 >= 1.36 / aws-cli >= 2.23).
pub const STREAMING_UNSIGNED_PAYLOAD_TRAILER: &str = "STREAMING-UNSIGNED-PAYLOAD-TRAILER";
/// Allowed clock skew for header auth (and for presigned URLs dated in the future).
pub const MAX_SKEW_SECS: i64 = 15 * 60;
/// Largest accepted `X-Amz-Expires` (one week).
pub const MAX_PRESIGN_EXPIRES_SECS: u64 = 7 * 24 * 60 * 60;

/// Headers the signer never signs: `authorization` (it carries the signature) and headers
/// that proxies and HTTP stacks add or rewrite.
const UNSIGNABLE_HEADERS: &[&str] = &[
    "authorization",
    "connection",
    "expect",
    "transfer-encoding",
    "user-agent",
    "x-amzn-trace-id",
];

/// A request as the server saw it on the wire.
#[derive(Debug, Clone, Copy)]
pub struct RequestParts<'a> {
    /// The HTTP method, e.g. `GET`.
    pub method: &'a str,
    /// The path as received, still percent-encoded, without the query.
    pub raw_path: &'a str,
    /// The query as received, without the `?`; may be empty.
    pub raw_query: &'a str,
    /// Header names in any case, in wire order, duplicates possible. Over HTTP/2 pass
    /// `:authority` as `host`.
    pub headers: &'a [(&'a str, &'a [u8])],
}

impl<'a> RequestParts<'a> {
    /// The first header with this name (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&'a [u8]> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| *v)
    }
}

/// The HashedPayload line of the canonical request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PayloadHash<'a> {
    /// Lowercase hex SHA-256 of the body.
    Hex(String),
    /// Taken verbatim, e.g. from `x-amz-content-sha256`: `UNSIGNED-PAYLOAD`,
    /// `STREAMING-AWS4-HMAC-SHA256-PAYLOAD`, or a hex digest the client computed.
    Literal(&'a str),
}

impl PayloadHash<'static> {
    /// The hash of an empty body.
    pub const EMPTY: Self = PayloadHash::Literal(EMPTY_SHA256);
    /// `UNSIGNED-PAYLOAD`.
    pub const UNSIGNED: Self = PayloadHash::Literal(UNSIGNED_PAYLOAD);

    /// Hash a body.
    pub fn of_body(body: &[u8]) -> Self {
        PayloadHash::Hex(sha256_hex(body))
    }
}

impl PayloadHash<'_> {
    /// The line as it goes into the canonical request.
    pub fn as_str(&self) -> &str {
        match self {
            PayloadHash::Hex(s) => s,
            PayloadHash::Literal(s) => s,
        }
    }
}

/// The parsed credential scope `AKID/YYYYMMDD/region/service/aws4_request`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credential {
    /// The access key id.
    pub access_key_id: String,
    /// `YYYYMMDD`.
    pub date: String,
    /// The signing region.
    pub region: String,
    /// The signing service name (`lambda`, `s3`, ...).
    pub service: String,
}

impl Credential {
    /// `YYYYMMDD/region/service/aws4_request`.
    pub fn scope(&self) -> String {
        scope(&self.date, &self.region, &self.service)
    }
}

/// Where the signature was carried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthKind {
    /// `Authorization: AWS4-HMAC-SHA256 ...` header.
    Header,
    /// Presigned URL (`X-Amz-*` query parameters).
    Query,
}

/// The SigV4 material of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authorization {
    /// The credential scope.
    pub credential: Credential,
    /// Signed header names, lower-cased, in the order the client listed them.
    pub signed_headers: Vec<String>,
    /// The signature as sent (normally 64 lowercase hex digits).
    pub signature: String,
    /// The request time, `YYYYMMDDTHHMMSSZ` (converted from `Date` if that was used).
    pub amz_date: String,
    /// `X-Amz-Security-Token` (header, or query parameter for presigned URLs).
    pub security_token: Option<String>,
    /// `X-Amz-Expires` of a presigned URL.
    pub presigned_expires: Option<u64>,
    /// Header or query auth.
    pub kind: AuthKind,
    /// The `x-amz-content-sha256` header (or `X-Amz-Content-Sha256` query parameter).
    pub content_sha256: Option<String>,
}

/// Find and parse the SigV4 material (`Authorization` header, or `X-Amz-*` query
/// parameters). `Ok(None)` when the request carries no authentication at all.
///
/// A present but malformed header gives [`Sigv4Error::Incomplete`] with AWS's message
/// (e.g. "Authorization header requires 'Signature' parameter. Authorization=...");
/// malformed query auth gives [`Sigv4Error::IncompleteQuery`].
pub fn parse(req: &RequestParts<'_>) -> Result<Option<Authorization>, Sigv4Error> {
    let header = req.header("authorization");
    let query = has_query_auth(req.raw_query);
    match (header, query) {
        (None, false) => Ok(None),
        (Some(_), true) => Err(Sigv4Error::AmbiguousAuth),
        (Some(value), false) => parse_header_auth(req, value).map(Some),
        (None, true) => parse_query_auth(req).map(Some),
    }
}

fn has_query_auth(raw_query: &str) -> bool {
    if !raw_query.contains("X-Amz-") {
        return false;
    }
    raw_query.split('&').any(|part| {
        let name = part.split_once('=').map_or(part, |(n, _)| n);
        matches!(
            name,
            "X-Amz-Algorithm" | "X-Amz-Credential" | "X-Amz-Signature"
        )
    })
}

fn header_str<'a>(req: &RequestParts<'a>, name: &str) -> Option<Cow<'a, str>> {
    req.header(name).map(|v| match String::from_utf8_lossy(v) {
        Cow::Borrowed(s) => Cow::Borrowed(s.trim()),
        Cow::Owned(s) => Cow::Owned(s.trim().to_owned()),
    })
}

/// The request time for header auth: `X-Amz-Date`, else `Date`. `Ok(None)` if neither.
fn header_auth_date(req: &RequestParts<'_>) -> Result<Option<String>, Sigv4Error> {
    if let Some(v) = header_str(req, "x-amz-date") {
        return match parse_amz_date(&v) {
            Some(_) => Ok(Some(v.into_owned())),
            None => Err(Sigv4Error::BadDate(v.into_owned())),
        };
    }
    if let Some(v) = header_str(req, "date") {
        if parse_amz_date(&v).is_some() {
            return Ok(Some(v.into_owned()));
        }
        return match OffsetDateTime::parse(&v, &time::format_description::well_known::Rfc2822) {
            Ok(t) => Ok(Some(format_amz_date(t.unix_timestamp()))),
            Err(_) => Err(Sigv4Error::BadDate(v.into_owned())),
        };
    }
    Ok(None)
}

fn parse_credential(value: &str) -> Result<Credential, String> {
    let parts: Vec<&str> = value.split('/').collect();
    let [akid, date, region, service, terminator] = parts[..] else {
        return Err(format!(
            "Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got '{value}'"
        ));
    };
    if terminator != "aws4_request" {
        return Err(format!(
            "Credential should be scoped with a valid terminator: 'aws4_request', not '{terminator}'."
        ));
    }
    Ok(Credential {
        access_key_id: akid.to_owned(),
        date: date.to_owned(),
        region: region.to_owned(),
        service: service.to_owned(),
    })
}

fn parse_signed_headers(value: &str) -> Vec<String> {
    value
        .split(';')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_ascii_lowercase)
        .collect()
}

fn parse_header_auth(req: &RequestParts<'_>, raw: &[u8]) -> Result<Authorization, Sigv4Error> {
    let value = String::from_utf8_lossy(raw);
    let value = value.trim();
    let (scheme, params) = value
        .split_once(|c: char| c.is_ascii_whitespace())
        .unwrap_or((value, ""));

    let mut credential = None;
    let mut signed_headers = None;
    let mut signature = None;
    if scheme == ALGORITHM {
        // AWS tokenises on commas and whitespace ("a, b", "a,b" and "a b" all work).
        for token in params
            .split(|c: char| c == ',' || c.is_ascii_whitespace())
            .filter(|t| !t.is_empty())
        {
            let Some((key, val)) = token.split_once('=') else {
                return Err(Sigv4Error::Incomplete(format!(
                    "'{token}' not a valid key=value pair (missing equal-sign) in Authorization header: '{value}'."
                )));
            };
            let slot = match key {
                "Credential" => &mut credential,
                "SignedHeaders" => &mut signed_headers,
                "Signature" => &mut signature,
                _ => continue,
            };
            slot.get_or_insert(val);
        }
    } else if scheme.starts_with("AWS4-") {
        return Err(Sigv4Error::UnsupportedAlgorithm(scheme.to_owned()));
    }
    // Anything else (a bearer token, SigV2 "AWS key:sig", ...) is reported the way AWS
    // does: as a SigV4 header missing all of its components.

    let date = header_auth_date(req)?;
    let mut missing = String::new();
    if credential.is_none() {
        missing.push_str("Authorization header requires 'Credential' parameter. ");
    }
    if signature.is_none() {
        missing.push_str("Authorization header requires 'Signature' parameter. ");
    }
    if signed_headers.is_none() {
        missing.push_str("Authorization header requires 'SignedHeaders' parameter. ");
    }
    let (Some(credential), Some(signed_headers), Some(signature)) =
        (credential, signed_headers, signature)
    else {
        if date.is_none() {
            missing.push_str(
                "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. ",
            );
        }
        missing.push_str("Authorization=");
        missing.push_str(value);
        return Err(Sigv4Error::Incomplete(missing));
    };
    let amz_date = date.ok_or(Sigv4Error::MissingDate)?;
    let credential = parse_credential(credential).map_err(Sigv4Error::Incomplete)?;

    Ok(Authorization {
        credential,
        signed_headers: parse_signed_headers(signed_headers),
        signature: signature.to_owned(),
        amz_date,
        security_token: header_str(req, "x-amz-security-token").map(Cow::into_owned),
        presigned_expires: None,
        kind: AuthKind::Header,
        content_sha256: header_str(req, "x-amz-content-sha256").map(Cow::into_owned),
    })
}

fn parse_query_auth(req: &RequestParts<'_>) -> Result<Authorization, Sigv4Error> {
    let mut algorithm = None;
    let mut credential = None;
    let mut signature = None;
    let mut signed_headers = None;
    let mut date = None;
    let mut expires = None;
    let mut token = None;
    let mut content_sha256 = None;
    for part in req.raw_query.split('&') {
        let (name, value) = part.split_once('=').unwrap_or((part, ""));
        let name = percent_decode_str(name).decode_utf8_lossy();
        let slot = match name.as_ref() {
            "X-Amz-Algorithm" => &mut algorithm,
            "X-Amz-Credential" => &mut credential,
            "X-Amz-Signature" => &mut signature,
            "X-Amz-SignedHeaders" => &mut signed_headers,
            "X-Amz-Date" => &mut date,
            "X-Amz-Expires" => &mut expires,
            "X-Amz-Security-Token" => &mut token,
            "X-Amz-Content-Sha256" => &mut content_sha256,
            _ => continue,
        };
        if slot.is_none() {
            *slot = Some(percent_decode_str(value).decode_utf8_lossy());
        }
    }

    let mut missing = String::new();
    for (present, name) in [
        (algorithm.is_some(), "X-Amz-Algorithm"),
        (credential.is_some(), "X-Amz-Credential"),
        (signature.is_some(), "X-Amz-Signature"),
        (signed_headers.is_some(), "X-Amz-SignedHeaders"),
        (date.is_some(), "X-Amz-Date"),
    ] {
        if !present {
            missing.push_str("AWS query-string parameters must include '");
            missing.push_str(name);
            missing.push_str("'. ");
        }
    }
    let (Some(algorithm), Some(credential), Some(signature), Some(signed_headers), Some(date)) =
        (algorithm, credential, signature, signed_headers, date)
    else {
        missing.push_str("Re-examine the query-string parameters.");
        return Err(Sigv4Error::IncompleteQuery(missing));
    };
    if algorithm != ALGORITHM {
        return Err(Sigv4Error::UnsupportedAlgorithm(algorithm.into_owned()));
    }
    let presigned_expires = match expires {
        None => None,
        Some(v) => Some(parse_expires(&v).map_err(Sigv4Error::IncompleteQuery)?),
    };
    if parse_amz_date(&date).is_none() {
        return Err(Sigv4Error::BadDate(date.into_owned()));
    }
    let credential = parse_credential(&credential).map_err(Sigv4Error::IncompleteQuery)?;

    Ok(Authorization {
        credential,
        signed_headers: parse_signed_headers(&signed_headers),
        signature: signature.into_owned(),
        amz_date: date.into_owned(),
        security_token: token.map(Cow::into_owned),
        presigned_expires,
        kind: AuthKind::Query,
        content_sha256: header_str(req, "x-amz-content-sha256")
            .map(Cow::into_owned)
            .or_else(|| content_sha256.map(Cow::into_owned)),
    })
}

fn parse_expires(v: &str) -> Result<u64, String> {
    match v.parse::<u64>() {
        Ok(n) if n > MAX_PRESIGN_EXPIRES_SECS => Err(format!(
            "X-Amz-Expires must be less than a week (in seconds) that is {MAX_PRESIGN_EXPIRES_SECS}"
        )),
        Ok(n) => Ok(n),
        Err(_)
            if v.strip_prefix('-')
                .is_some_and(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit())) =>
        {
            Err("X-Amz-Expires must be non-negative".to_owned())
        }
        Err(_) => Err("X-Amz-Expires should be a number".to_owned()),
    }
}

/// Check the request time against the server clock (`now_unix`, seconds).
///
/// Header auth (and a presigned URL without `X-Amz-Expires`): at most
/// [`MAX_SKEW_SECS`] either way, else [`Sigv4Error::Expired`]. Presigned URL: not dated
/// more than [`MAX_SKEW_SECS`] in the future ([`Sigv4Error::PresignNotYetValid`]) and not
/// used after `X-Amz-Date + X-Amz-Expires` ([`Sigv4Error::PresignExpired`]).
pub fn check_time(auth: &Authorization, now_unix: i64) -> Result<(), Sigv4Error> {
    let t =
        parse_amz_date(&auth.amz_date).ok_or_else(|| Sigv4Error::BadDate(auth.amz_date.clone()))?;
    match (auth.kind, auth.presigned_expires) {
        (AuthKind::Query, Some(expires)) => {
            if t > now_unix.saturating_add(MAX_SKEW_SECS) {
                return Err(Sigv4Error::PresignNotYetValid {
                    amz_date: auth.amz_date.clone(),
                    server_time: format_amz_date(now_unix),
                });
            }
            let expired_at = t.saturating_add(i64::try_from(expires).unwrap_or(i64::MAX));
            if now_unix > expired_at {
                return Err(Sigv4Error::PresignExpired {
                    expires,
                    expired_at: format_iso8601(expired_at),
                    server_time: format_iso8601(now_unix),
                });
            }
            Ok(())
        }
        _ => {
            let (limit, future) = if t < now_unix.saturating_sub(MAX_SKEW_SECS) {
                (now_unix.saturating_sub(MAX_SKEW_SECS), false)
            } else if t > now_unix.saturating_add(MAX_SKEW_SECS) {
                (now_unix.saturating_add(MAX_SKEW_SECS), true)
            } else {
                return Ok(());
            };
            Err(Sigv4Error::Expired {
                amz_date: auth.amz_date.clone(),
                server_time: format_amz_date(now_unix),
                limit: format_amz_date(limit),
                future,
            })
        }
    }
}

/// Recompute the signature of `req` and compare it (constant time) with `auth`'s, after
/// checking the scope date, the clock ([`check_time`]) and that `host` is signed.
///
/// `normalize_path`: `false` for S3, `true` for every other service. `now_unix`: the
/// server clock in seconds. The caller is responsible for checking the access key, the
/// session token, and the scope's region and service.
pub fn verify(
    req: &RequestParts<'_>,
    auth: &Authorization,
    secret_access_key: &str,
    payload: &PayloadHash<'_>,
    normalize_path: bool,
    now_unix: i64,
) -> Result<(), Sigv4Error> {
    let key = signing_key(
        secret_access_key,
        &auth.credential.date,
        &auth.credential.region,
        &auth.credential.service,
    );
    verify_with_signing_key(req, auth, &key, payload, normalize_path, now_unix)
}

/// [`verify`] with a signing key the caller cached ([`signing_key`] for the secret and
/// `auth.credential`'s date, region and service).
pub fn verify_with_signing_key(
    req: &RequestParts<'_>,
    auth: &Authorization,
    signing_key: &[u8; 32],
    payload: &PayloadHash<'_>,
    normalize_path: bool,
    now_unix: i64,
) -> Result<(), Sigv4Error> {
    if auth.amz_date.get(..8) != Some(auth.credential.date.as_str()) {
        return Err(Sigv4Error::ScopeDateMismatch {
            scope_date: auth.credential.date.clone(),
            amz_date: auth.amz_date.clone(),
        });
    }
    check_time(auth, now_unix)?;
    if !auth.signed_headers.iter().any(|h| h == "host") {
        return Err(Sigv4Error::MissingSignedHost);
    }

    let creq = canonical::canonical_request_bytes(
        req,
        &auth.signed_headers,
        payload.as_str(),
        normalize_path,
        auth.kind,
    );
    let creq_hash = sha256_hex_array(&creq);
    let c = &auth.credential;
    let mut mac = new_mac(signing_key);
    for piece in [
        ALGORITHM,
        "\n",
        auth.amz_date.as_str(),
        "\n",
        c.date.as_str(),
        "/",
        c.region.as_str(),
        "/",
        c.service.as_str(),
        "/aws4_request\n",
    ] {
        mac.update(piece.as_bytes());
    }
    mac.update(&creq_hash);
    let mut computed = [0u8; 64];
    hex_into(&mac.finalize().into_bytes(), &mut computed);

    let provided = auth.signature.as_bytes();
    if provided.len() == computed.len() && bool::from(computed.ct_eq(provided)) {
        return Ok(());
    }
    let canonical_request = String::from_utf8(creq)
        .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned());
    Err(Sigv4Error::SignatureMismatch {
        string_to_sign: string_to_sign(&auth.amz_date, &c.scope(), &canonical_request),
        canonical_request,
    })
}

/// The signing key: `HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), service),
/// "aws4_request")`. Cache it per (secret, date, region, service).
pub fn signing_key(secret: &str, date: &str, region: &str, service: &str) -> [u8; 32] {
    let mut k_secret = Vec::with_capacity(4 + secret.len());
    k_secret.extend_from_slice(b"AWS4");
    k_secret.extend_from_slice(secret.as_bytes());
    let k_date = hmac(&k_secret, date.as_bytes());
    let k_region = hmac(&k_date, region.as_bytes());
    let k_service = hmac(&k_region, service.as_bytes());
    hmac(&k_service, b"aws4_request")
}

/// The canonical request of `req` for the given signed headers and payload hash.
/// `kind == AuthKind::Query` leaves `X-Amz-Signature` out of the canonical query.
/// Non-UTF-8 bytes (possible in header values) are replaced lossily in the returned
/// string; [`verify`] hashes the exact bytes.
pub fn canonical_request<S: AsRef<str>>(
    req: &RequestParts<'_>,
    signed_headers: &[S],
    payload: &PayloadHash<'_>,
    normalize_path: bool,
    kind: AuthKind,
) -> String {
    let bytes = canonical::canonical_request_bytes(
        req,
        signed_headers,
        payload.as_str(),
        normalize_path,
        kind,
    );
    String::from_utf8(bytes).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

/// `AWS4-HMAC-SHA256\n<amz_date>\n<scope>\n<hex sha256(canonical_request)>`.
pub fn string_to_sign(amz_date: &str, scope: &str, canonical_request: &str) -> String {
    let hash = sha256_hex_array(canonical_request.as_bytes());
    let mut out = String::with_capacity(ALGORITHM.len() + amz_date.len() + scope.len() + 67);
    out.push_str(ALGORITHM);
    out.push('\n');
    out.push_str(amz_date);
    out.push('\n');
    out.push_str(scope);
    out.push('\n');
    out.push_str(std::str::from_utf8(&hash).unwrap_or_default());
    out
}

/// Lowercase hex `HMAC-SHA256(signing_key, string_to_sign)`.
pub fn signature(signing_key: &[u8; 32], string_to_sign: &str) -> String {
    hex::encode(hmac(signing_key, string_to_sign.as_bytes()))
}

/// `YYYYMMDD/region/service/aws4_request`.
pub fn scope(date: &str, region: &str, service: &str) -> String {
    format!("{date}/{region}/{service}/aws4_request")
}

/// S3 aws-chunked: the signature of one chunk, chained from the previous signature (the
/// seed signature of the `Authorization` header for the first chunk). `scope` is
/// `YYYYMMDD/region/s3/aws4_request`; the final, empty chunk hashes to [`EMPTY_SHA256`].
pub fn chunk_signature(
    signing_key: &[u8; 32],
    amz_date: &str,
    scope: &str,
    previous_signature: &str,
    chunk_sha256_hex: &str,
) -> String {
    let mut mac = new_mac(signing_key);
    for piece in [
        "AWS4-HMAC-SHA256-PAYLOAD\n",
        amz_date,
        "\n",
        scope,
        "\n",
        previous_signature,
        "\n",
        EMPTY_SHA256,
        "\n",
        chunk_sha256_hex,
    ] {
        mac.update(piece.as_bytes());
    }
    hex::encode(mac.finalize().into_bytes())
}

/// S3 aws-chunked with a signed trailer (`STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER`): the
/// `x-amz-trailer-signature`, chained from the last (empty) chunk's signature.
/// `trailer_sha256_hex` is the hex SHA-256 of the trailer headers as sent, each
/// `name:value\n` (e.g. `x-amz-checksum-crc32:sOO8/Q==\n`).
pub fn trailer_signature(
    signing_key: &[u8; 32],
    amz_date: &str,
    scope: &str,
    previous_signature: &str,
    trailer_sha256_hex: &str,
) -> String {
    let mut mac = new_mac(signing_key);
    for piece in [
        "AWS4-HMAC-SHA256-TRAILER\n",
        amz_date,
        "\n",
        scope,
        "\n",
        previous_signature,
        "\n",
        trailer_sha256_hex,
    ] {
        mac.update(piece.as_bytes());
    }
    hex::encode(mac.finalize().into_bytes())
}

/// What the client signer needs. Build it with [`SigningParams::new`] and adjust fields.
#[derive(Clone, Copy)]
pub struct SigningParams<'a> {
    /// Access key id.
    pub access_key_id: &'a str,
    /// Secret access key.
    pub secret_access_key: &'a str,
    /// Session token of temporary credentials; sent and signed as `x-amz-security-token`
    /// (or the `X-Amz-Security-Token` query parameter when presigning).
    pub session_token: Option<&'a str>,
    /// Signing region.
    pub region: &'a str,
    /// Signing service name.
    pub service: &'a str,
    /// `YYYYMMDDTHHMMSSZ` (see [`format_amz_date`]).
    pub amz_date: &'a str,
    /// The HashedPayload: hex SHA-256 of the body, or a literal such as `UNSIGNED-PAYLOAD`.
    pub payload: &'a str,
    /// Also send (and sign) `x-amz-content-sha256: <payload>` (required by S3).
    pub content_sha256_header: bool,
    /// Normalise and double-encode the path (every service but S3).
    pub normalize_path: bool,
}

impl<'a> SigningParams<'a> {
    /// Parameters with the per-service defaults: for `s3`, no path normalisation and an
    /// `x-amz-content-sha256` header; for everything else, the reverse. No session token.
    pub fn new(
        access_key_id: &'a str,
        secret_access_key: &'a str,
        region: &'a str,
        service: &'a str,
        amz_date: &'a str,
        payload: &'a str,
    ) -> Self {
        let s3 = service == "s3";
        SigningParams {
            access_key_id,
            secret_access_key,
            session_token: None,
            region,
            service,
            amz_date,
            payload,
            content_sha256_header: s3,
            normalize_path: !s3,
        }
    }

    fn date(&self) -> &'a str {
        self.amz_date.get(..8).unwrap_or(self.amz_date)
    }

    fn scope(&self) -> String {
        scope(self.date(), self.region, self.service)
    }

    fn signing_key(&self) -> [u8; 32] {
        signing_key(
            self.secret_access_key,
            self.date(),
            self.region,
            self.service,
        )
    }
}

impl fmt::Debug for SigningParams<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningParams")
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"<redacted>")
            .field("session_token", &self.session_token.map(|_| "<redacted>"))
            .field("region", &self.region)
            .field("service", &self.service)
            .field("amz_date", &self.amz_date)
            .field("payload", &self.payload)
            .field("content_sha256_header", &self.content_sha256_header)
            .field("normalize_path", &self.normalize_path)
            .finish()
    }
}

/// Lower-cased, sorted, de-duplicated names of the headers the signer signs.
fn signable_header_names<'h>(headers: impl Iterator<Item = &'h str>) -> Vec<String> {
    let mut names: Vec<String> = headers
        .map(str::to_ascii_lowercase)
        .filter(|n| !UNSIGNABLE_HEADERS.contains(&n.as_str()))
        .collect();
    names.sort_unstable();
    names.dedup();
    names
}

/// Client side: the headers to add to `req` so it carries a valid header signature:
/// `x-amz-date`, `x-amz-content-sha256` (if `params.content_sha256_header`),
/// `x-amz-security-token` (if a session token is set) and `authorization`, in that order.
///
/// Every header of `req` is signed except `authorization`, `user-agent`, `expect`,
/// `connection`, `transfer-encoding` and `x-amzn-trace-id`; `req` must contain `host`.
/// Headers of `req` with the name of an added header are left out of the signature (the
/// caller must replace them).
pub fn sign(req: &RequestParts<'_>, params: &SigningParams<'_>) -> Vec<(String, String)> {
    let mut added: Vec<(String, String)> = Vec::with_capacity(4);
    added.push(("x-amz-date".to_owned(), params.amz_date.to_owned()));
    if params.content_sha256_header {
        added.push(("x-amz-content-sha256".to_owned(), params.payload.to_owned()));
    }
    if let Some(token) = params.session_token {
        added.push(("x-amz-security-token".to_owned(), token.to_owned()));
    }

    let headers: Vec<(&str, &[u8])> = req
        .headers
        .iter()
        .copied()
        .filter(|(n, _)| !added.iter().any(|(a, _)| n.eq_ignore_ascii_case(a)))
        .chain(added.iter().map(|(n, v)| (n.as_str(), v.as_bytes())))
        .collect();
    let signed = signable_header_names(headers.iter().map(|(n, _)| *n));
    let signed_req = RequestParts {
        headers: &headers,
        ..*req
    };
    let creq = canonical::canonical_request_bytes(
        &signed_req,
        &signed,
        params.payload,
        params.normalize_path,
        AuthKind::Header,
    );
    let scope = params.scope();
    let sig = signature_of_canonical(&params.signing_key(), params.amz_date, &scope, &creq);
    added.push((
        "authorization".to_owned(),
        format!(
            "{ALGORITHM} Credential={}/{scope}, SignedHeaders={}, Signature={sig}",
            params.access_key_id,
            signed.join(";")
        ),
    ));
    added
}

/// Client side: presign `req`. Returns the complete new raw query: `req.raw_query`
/// followed by `X-Amz-Algorithm`, `X-Amz-Credential`, `X-Amz-Date`, `X-Amz-Expires`,
/// `X-Amz-Security-Token` (if any), `X-Amz-SignedHeaders` and finally `X-Amz-Signature`.
///
/// The headers of `req` are signed with the same exclusions as [`sign`]; `req` must
/// contain `host`. `params.content_sha256_header` is ignored; for S3 set
/// `params.payload` to [`UNSIGNED_PAYLOAD`].
pub fn presign(req: &RequestParts<'_>, params: &SigningParams<'_>, expires_secs: u64) -> String {
    let signed = signable_header_names(req.headers.iter().map(|(n, _)| *n));
    let scope = params.scope();
    let mut query = String::with_capacity(req.raw_query.len() + 256);
    query.push_str(req.raw_query);
    if !query.is_empty() {
        query.push('&');
    }
    query.push_str("X-Amz-Algorithm=");
    query.push_str(ALGORITHM);
    query.push_str("&X-Amz-Credential=");
    query.push_str(&canonical::encode_str(&format!(
        "{}/{scope}",
        params.access_key_id
    )));
    query.push_str("&X-Amz-Date=");
    query.push_str(&canonical::encode_str(params.amz_date));
    query.push_str("&X-Amz-Expires=");
    query.push_str(&expires_secs.to_string());
    if let Some(token) = params.session_token {
        query.push_str("&X-Amz-Security-Token=");
        query.push_str(&canonical::encode_str(token));
    }
    query.push_str("&X-Amz-SignedHeaders=");
    query.push_str(&canonical::encode_str(&signed.join(";")));

    let signed_req = RequestParts {
        raw_query: &query,
        ..*req
    };
    let creq = canonical::canonical_request_bytes(
        &signed_req,
        &signed,
        params.payload,
        params.normalize_path,
        AuthKind::Query,
    );
    let sig = signature_of_canonical(&params.signing_key(), params.amz_date, &scope, &creq);
    query.push_str("&X-Amz-Signature=");
    query.push_str(&sig);
    query
}

fn signature_of_canonical(key: &[u8; 32], amz_date: &str, scope: &str, creq: &[u8]) -> String {
    let hash = sha256_hex_array(creq);
    let mut mac = new_mac(key);
    for piece in [ALGORITHM, "\n", amz_date, "\n", scope, "\n"] {
        mac.update(piece.as_bytes());
    }
    mac.update(&hash);
    hex::encode(mac.finalize().into_bytes())
}

/// Lowercase hex SHA-256.
pub fn sha256_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

fn sha256_hex_array(data: &[u8]) -> [u8; 64] {
    let mut out = [0u8; 64];
    hex_into(&Sha256::digest(data), &mut out);
    out
}

fn hex_into(bytes: &[u8], out: &mut [u8; 64]) {
    // Both sides are fixed at 32 bytes -> 64 hex digits, so this cannot fail.
    let _ = hex::encode_to_slice(bytes, out);
}

fn new_mac(key: &[u8]) -> HmacSha256 {
    // HMAC accepts keys of any length.
    HmacSha256::new_from_slice(key).expect("HMAC accepts any key length")
}

fn hmac(key: &[u8], data: &[u8]) -> [u8; 32] {
    let mut mac = new_mac(key);
    mac.update(data);
    mac.finalize().into_bytes().into()
}

/// Parse `YYYYMMDDTHHMMSSZ` (ISO 8601 basic, UTC) into unix seconds.
pub fn parse_amz_date(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() != 16 || b[8] != b'T' || b[15] != b'Z' {
        return None;
    }
    let num = |range: std::ops::Range<usize>| -> Option<u32> {
        b[range].iter().try_fold(0u32, |acc, &d| {
            d.is_ascii_digit().then(|| acc * 10 + u32::from(d - b'0'))
        })
    };
    let year = i32::try_from(num(0..4)?).ok()?;
    let month = Month::try_from(u8::try_from(num(4..6)?).ok()?).ok()?;
    let day = u8::try_from(num(6..8)?).ok()?;
    let hour = u8::try_from(num(9..11)?).ok()?;
    let minute = u8::try_from(num(11..13)?).ok()?;
    let second = u8::try_from(num(13..15)?).ok()?;
    let date = Date::from_calendar_date(year, month, day).ok()?;
    let time = Time::from_hms(hour, minute, second).ok()?;
    Some(
        PrimitiveDateTime::new(date, time)
            .assume_utc()
            .unix_timestamp(),
    )
}

fn utc(unix: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(unix).unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

/// Format unix seconds as `YYYYMMDDTHHMMSSZ`.
pub fn format_amz_date(unix: i64) -> String {
    let t = utc(unix);
    format!(
        "{:04}{:02}{:02}T{:02}{:02}{:02}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// Format unix seconds as `YYYY-MM-DDTHH:MM:SSZ` (how S3 reports expiry times).
fn format_iso8601(unix: i64) -> String {
    let t = utc(unix);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}
