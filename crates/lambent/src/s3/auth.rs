//! s3s's authentication hooks backed by lambent's key ring.

use crate::auth::{Authorizer, ClientAddr, KeyRefusal, KeyRing, RequestFacts};
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

/// Runs after the signature was verified: every request must be signed, a temporary key is
/// good only with its own session token (a long-term key with none), and the authorizer
/// must allow the operation's action (from [`super::ROUTES`]) on its bucket or object.
pub struct SessionTokenCheck(pub KeyRing, pub Authorizer);

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
        let Some(route) = super::route(cx.s3_op().name()) else {
            // s3s answers NotImplemented: nothing runs.
            return Ok(());
        };
        let resource = match (route.resource, cx.s3_path()) {
            (super::Resource::All, _) | (_, s3s::path::S3Path::Root) => "*".to_string(),
            (super::Resource::Bucket, s3s::path::S3Path::Bucket { bucket })
            | (super::Resource::Bucket, s3s::path::S3Path::Object { bucket, .. }) => {
                format!("arn:aws:s3:::{bucket}")
            }
            (super::Resource::Object, s3s::path::S3Path::Object { bucket, key }) => {
                format!("arn:aws:s3:::{bucket}/{key}")
            }
            // DeleteObjects names its keys in the body: authorized on every key of the
            // bucket, which a policy on a prefix does not grant.
            (super::Resource::Object, s3s::path::S3Path::Bucket { bucket }) => {
                format!("arn:aws:s3:::{bucket}/*")
            }
        };
        let source_ip = cx
            .extensions_mut()
            .get::<ClientAddr>()
            .map(|a| a.0.to_string())
            .unwrap_or_default();
        let region = signing_region(cx.headers(), cx.uri().query().unwrap_or(""));
        let facts = RequestFacts {
            source_ip: &source_ip,
            region: &region,
            quote_resource: true,
        };
        let mut checks = vec![(route.action, resource)];
        // A copy also reads its source.
        if matches!(route.operation, "CopyObject" | "UploadPartCopy") {
            if let Some(source) = cx
                .headers()
                .get("x-amz-copy-source")
                .and_then(|v| v.to_str().ok())
            {
                let source = source.split('?').next().unwrap_or("");
                let source = percent_encoding::percent_decode_str(source.trim_start_matches('/'))
                    .decode_utf8_lossy()
                    .into_owned();
                checks.push(("s3:GetObject", format!("arn:aws:s3:::{source}")));
            }
        }
        for (action, resource) in checks {
            let (_, denial) = self.1.authorize(&key.principal, action, &resource, &facts);
            if let Some(message) = denial {
                return Err(s3_error!(AccessDenied, "{}", message));
            }
        }
        Ok(())
    }
}

/// The region of the SigV4 credential scope (header or presigned query), for
/// `aws:RequestedRegion`; `us-east-1` for SigV2 and form uploads.
fn signing_region(headers: &http::HeaderMap, query: &str) -> String {
    let credential = headers
        .get(http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|a| a.split("Credential=").nth(1))
        .map(str::to_string)
        .or_else(|| query_param(query, "X-Amz-Credential"));
    credential
        .and_then(|c| c.split('/').nth(2).map(str::to_string))
        .filter(|r| !r.is_empty())
        .unwrap_or_else(|| "us-east-1".to_string())
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
