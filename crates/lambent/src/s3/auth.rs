//! s3s's authentication hooks backed by lambent's key ring, and S3's side of authorization:
//! each request's caller (a key's principal, or anonymous when unsigned), its action and
//! resource from [`super::ROUTES`], its S3 condition keys and its bucket's policy, handed to
//! the one authorizer.

use super::BucketPolicies;
use crate::auth::{
    Authorizer, Caller, ClientAddr, KeyRefusal, KeyRing, Principal, RequestFacts, ResourcePolicy,
};
use s3s::access::{S3Access, S3AccessContext};
use s3s::auth::{S3Auth, SecretKey};
use s3s::host::{S3Host, VirtualHost};
use s3s::{s3_error, S3Result};
use std::sync::Arc;

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

/// Who an S3 request was authorized as, left in its extensions for the operations that ask
/// again for each key they name (DeleteObjects).
#[derive(Clone)]
pub(super) struct Authorized {
    /// `None`: an unsigned (anonymous) request.
    principal: Option<Principal>,
    source_ip: String,
    region: String,
}

/// S3's side of authorization: the key ring, the authorizer, and the buckets' policies and
/// Block Public Access settings it evaluates with.
pub struct Access {
    pub keyring: KeyRing,
    pub authorizer: Authorizer,
    pub policies: BucketPolicies,
}

/// The bucket-policy operations, which the account's root may always perform whatever the
/// bucket's policy says, so a policy that denies everyone can still be mended.
const POLICY_ACTIONS: &[&str] = &[
    "s3:PutBucketPolicy",
    "s3:GetBucketPolicy",
    "s3:DeleteBucketPolicy",
];

impl Access {
    /// Whether `who` may perform `action` on `resource` (in `bucket`, whose policy takes
    /// part), with the request's S3 condition keys: AWS's AccessDenied when not.
    pub(super) fn check(
        &self,
        who: &Authorized,
        action: &str,
        bucket: Option<&str>,
        resource: &str,
        keys: &[(&str, &str)],
    ) -> S3Result<()> {
        let access = match bucket {
            Some(b) => Some(self.policies.access(b).map_err(super::error)?),
            None => None,
        };
        let caller = match &who.principal {
            Some(p) => Caller::Signed(p),
            None => Caller::Anonymous,
        };
        let policy = access.as_ref().and_then(|a| {
            let policy = a.policy.as_deref()?;
            match &who.principal {
                Some(Principal::Root) if POLICY_ACTIONS.contains(&action) => None,
                // RestrictPublicBuckets: a public policy grants no one outside the account.
                None if a.public && a.block.is_some_and(|b| b.restrict_public_buckets) => None,
                _ => Some(policy),
            }
        });
        let facts = RequestFacts {
            source_ip: &who.source_ip,
            region: &who.region,
            quote_resource: true,
            keys,
            resource_policy: policy.map_or(ResourcePolicy::None, ResourcePolicy::Given),
        };
        let (_, denial) = self
            .authorizer
            .authorize_caller(caller, action, resource, &facts);
        match denial {
            None => Ok(()),
            // S3 tells an anonymous caller no more than this.
            Some(_) if who.principal.is_none() => Err(s3_error!(AccessDenied, "Access Denied")),
            Some(message) => Err(s3_error!(AccessDenied, "{}", message)),
        }
    }

    /// [`Access::check`] for one key of a request already authorized as `who`.
    pub(super) fn check_key(
        &self,
        who: Option<&Authorized>,
        action: &str,
        bucket: &str,
        key: &str,
    ) -> S3Result<()> {
        let Some(who) = who else {
            return Err(s3_error!(AccessDenied, "Access Denied"));
        };
        let resource = format!("arn:aws:s3:::{bucket}/{key}");
        self.check(who, action, Some(bucket), &resource, &[])
    }
}

/// Runs after the signature was verified: a temporary key is good only with its own session
/// token (a long-term key with none), and the authorizer must allow the operation's action
/// (from [`super::ROUTES`]) on its bucket or object, with the bucket's policy; an unsigned
/// request is an anonymous caller, which only a bucket policy can allow.
pub struct SessionTokenCheck(pub Arc<Access>);

#[async_trait::async_trait]
impl S3Access for SessionTokenCheck {
    async fn check(&self, cx: &mut S3AccessContext<'_>) -> S3Result<()> {
        let principal = match cx.credentials() {
            None => None,
            Some(credentials) => {
                let key = match self.0.keyring.lookup(&credentials.access_key) {
                    Ok(key) => key,
                    Err(KeyRefusal::Unknown) => return Err(s3_error!(InvalidAccessKeyId)),
                    Err(KeyRefusal::Expired) => return Err(expired()),
                };
                let token = cx
                    .headers()
                    .get("x-amz-security-token")
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_string)
                    .or_else(|| {
                        query_param(cx.uri().query().unwrap_or(""), "X-Amz-Security-Token")
                    });
                if key.session_token != token {
                    return Err(s3_error!(
                        InvalidAccessKeyId,
                        "The provided token is malformed or otherwise invalid."
                    ));
                }
                Some(key.principal)
            }
        };
        let Some(route) = super::route(cx.s3_op().name()) else {
            // s3s answers NotImplemented: nothing runs.
            return Ok(());
        };
        let (bucket, resource) = match (route.resource, cx.s3_path()) {
            (_, s3s::path::S3Path::Root) => (None, "*".to_string()),
            (super::Resource::All, _) => (None, "*".to_string()),
            (super::Resource::Bucket, s3s::path::S3Path::Bucket { bucket })
            | (super::Resource::Bucket, s3s::path::S3Path::Object { bucket, .. }) => {
                (Some(bucket.to_string()), format!("arn:aws:s3:::{bucket}"))
            }
            (super::Resource::Object, s3s::path::S3Path::Object { bucket, key }) => (
                Some(bucket.to_string()),
                format!("arn:aws:s3:::{bucket}/{key}"),
            ),
            // DeleteObjects names its keys in the body: the operation asks for each one
            // (`Access::check_key`), with the same caller.
            (super::Resource::Object, s3s::path::S3Path::Bucket { bucket }) => {
                (Some(bucket.to_string()), String::new())
            }
        };
        let source_ip = cx
            .extensions_mut()
            .get::<ClientAddr>()
            .map(|a| a.0.to_string())
            .unwrap_or_default();
        let region = signing_region(cx.headers(), cx.uri().query().unwrap_or(""));
        let who = Authorized {
            principal,
            source_ip,
            region,
        };
        let query = cx.uri().query().unwrap_or("");
        let action = versioned(route.action, query);
        let keys = condition_keys(action, query, cx.headers());
        let keys: Vec<(&str, &str)> = keys.iter().map(|(k, v)| (*k, v.as_str())).collect();
        if !resource.is_empty() {
            self.0
                .check(&who, action, bucket.as_deref(), &resource, &keys)?;
        }
        // A copy also reads its source, under the source bucket's policy.
        if matches!(route.operation, "CopyObject" | "UploadPartCopy") {
            if let Some(source) = cx
                .headers()
                .get("x-amz-copy-source")
                .and_then(|v| v.to_str().ok())
            {
                let (source, source_query) = source.split_once('?').unwrap_or((source, ""));
                let source = percent_encoding::percent_decode_str(source.trim_start_matches('/'))
                    .decode_utf8_lossy()
                    .into_owned();
                let source_bucket = source.split('/').next().unwrap_or("");
                self.0.check(
                    &who,
                    versioned("s3:GetObject", source_query),
                    Some(source_bucket),
                    &format!("arn:aws:s3:::{source}"),
                    &[],
                )?;
            }
        }
        cx.extensions_mut().insert(who);
        Ok(())
    }
}

/// The action a request naming a version (`versionId=`) is authorized as: reading or
/// deleting a version is an action of its own, as AWS's Service Authorization Reference has it.
fn versioned(action: &'static str, query: &str) -> &'static str {
    let names_version = query
        .split('&')
        .any(|p| p == "versionId" || p.starts_with("versionId="));
    match action {
        "s3:GetObject" if names_version => "s3:GetObjectVersion",
        "s3:DeleteObject" if names_version => "s3:DeleteObjectVersion",
        other => other,
    }
}

/// The S3 condition keys a request carries, as the Service Authorization Reference lists
/// them for its action: a listing's `s3:prefix`, `s3:delimiter` and `s3:max-keys`; a write's
/// `s3:x-amz-acl`, `s3:x-amz-server-side-encryption` and storage class; every request's
/// `s3:authType` and `s3:signatureversion`.
fn condition_keys(
    action: &str,
    query: &str,
    headers: &http::HeaderMap,
) -> Vec<(&'static str, String)> {
    let mut keys = Vec::new();
    if action == "s3:ListBucket" {
        for (param, key) in [
            ("prefix", "s3:prefix"),
            ("delimiter", "s3:delimiter"),
            ("max-keys", "s3:max-keys"),
        ] {
            if let Some(v) = query_param(query, param) {
                keys.push((key, v));
            }
        }
    }
    for (header, key) in [
        ("x-amz-acl", "s3:x-amz-acl"),
        (
            "x-amz-server-side-encryption",
            "s3:x-amz-server-side-encryption",
        ),
        ("x-amz-storage-class", "s3:x-amz-storage-class"),
        ("x-amz-copy-source", "s3:x-amz-copy-source"),
        ("x-amz-metadata-directive", "s3:x-amz-metadata-directive"),
    ] {
        if let Some(v) = headers.get(header).and_then(|v| v.to_str().ok()) {
            keys.push((key, v.to_string()));
        }
    }
    let auth = headers
        .get(http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    let (auth_type, version) = match auth {
        Some(a) if a.starts_with("AWS ") => (Some("REST-HEADER"), Some("AWS")),
        Some(_) => (Some("REST-HEADER"), Some("AWS4-HMAC-SHA256")),
        None if query.contains("X-Amz-Signature=") => {
            (Some("REST-QUERY-STRING"), Some("AWS4-HMAC-SHA256"))
        }
        None if query.contains("AWSAccessKeyId=") => (Some("REST-QUERY-STRING"), Some("AWS")),
        None => (None, None),
    };
    if let Some(t) = auth_type {
        keys.push(("s3:authType", t.to_string()));
    }
    if let Some(v) = version {
        keys.push(("s3:signatureversion", v.to_string()));
    }
    keys
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
