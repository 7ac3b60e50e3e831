//! s3s's authentication hooks backed by lambent's key ring.

use crate::auth::{KeyRefusal, KeyRing};
use s3s::access::{S3Access, S3AccessContext};
use s3s::auth::{S3Auth, SecretKey};
use s3s::host::{S3Host, VirtualHost};
use s3s::{s3_error, S3Result};

/// Secrets by access key id: the root key and the temporary keys of running environments.
pub struct KeyRingAuth(pub KeyRing);

#[async_trait::async_trait]
impl S3Auth for KeyRingAuth {
    async fn get_secret_key(&self, access_key: &str) -> S3Result<SecretKey> {
        match self.0.lookup(access_key) {
            Ok(key) => Ok(SecretKey::from(key.secret)),
            Err(KeyRefusal::Unknown) => Err(s3_error!(
                InvalidAccessKeyId,
                "The AWS Access Key Id you provided does not exist in our records."
            )),
            Err(KeyRefusal::Expired) => Err(expired()),
        }
    }
}

/// Runs after the signature was verified: every request must be signed, and a temporary
/// key is good only with its own session token (a long-term key with none).
pub struct SessionTokenCheck(pub KeyRing);

#[async_trait::async_trait]
impl S3Access for SessionTokenCheck {
    async fn check(&self, cx: &mut S3AccessContext<'_>) -> S3Result<()> {
        let Some(credentials) = cx.credentials() else {
            return Err(s3_error!(AccessDenied, "Access Denied"));
        };
        let key = match self.0.lookup(&credentials.access_key) {
            Ok(key) => key,
            Err(KeyRefusal::Unknown) => return Err(s3_error!(InvalidAccessKeyId)),
            Err(KeyRefusal::Expired) => return Err(expired()),
        };
        let token = cx
            .headers()
            .get("x-amz-security-token")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
            .or_else(|| query_param(cx.uri().query().unwrap_or(""), "X-Amz-Security-Token"));
        if key.session_token != token {
            return Err(s3_error!(
                InvalidAccessKeyId,
                "The provided token is malformed or otherwise invalid."
            ));
        }
        Ok(())
    }
}

/// S3's answer to a temporary key past its expiration (400, its own wording).
fn expired() -> s3s::S3Error {
    s3_error!(ExpiredToken, "The provided token has expired.")
}

fn query_param(query: &str, name: &str) -> Option<String> {
    query
        .split('&')
        .filter_map(|p| p.split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| {
            percent_encoding::percent_decode_str(v)
                .decode_utf8_lossy()
                .into_owned()
        })
}

/// Virtual-host addressing under `localhost` (`bucket.localhost:9070`); any other host, with
/// or without a port, means path-style (s3s's `SingleDomain` would take `127.0.0.1:9070`
/// for a bucket name).
pub struct LocalhostHost;

impl S3Host for LocalhostHost {
    fn parse_host_header<'a>(&'a self, host: &'a str) -> S3Result<VirtualHost<'a>> {
        let name = host.rsplit_once(':').map_or(host, |(h, _)| h);
        match name.strip_suffix(".localhost") {
            Some(bucket) if !bucket.is_empty() => {
                Ok(VirtualHost::new("localhost").with_bucket(bucket))
            }
            _ => Ok(VirtualHost::new(host)),
        }
    }
}
