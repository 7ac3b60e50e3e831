//! Bucket policies: PutBucketPolicy, GetBucketPolicy, DeleteBucketPolicy and
//! GetBucketPolicyStatus, with S3's own checks on top of the IAM grammar, and
//! [`BucketPolicies`], the parsed and cached view the authorizer reads.
//!
//! A document is checked as S3 checks it: at most 20 KB (white space not counted), JSON whose
//! first byte is `{`, a `Statement`, the resource-policy grammar of `lambent_aws::iam`
//! (Principal required), actions of the `s3:` vendor, and resources inside this bucket. The
//! text is then stored as sent, since AWS returns it unchanged.
//!
//! Invariant: a stored policy parses as a `PolicyKind::Resource` document, and none that is
//! public (see [`is_public`]) was stored while the bucket's `BlockPublicPolicy` was on.

use super::{blocking, Api};
use lambent_aws::iam::{Policy, PolicyError, PolicyKind, SizeLimit};
use lambent_store::objects::{ObjectError, ObjectStore};
use lambent_store::policies::PublicAccessBlock;
use s3s::dto::*;
use s3s::{s3_error, S3Error, S3ErrorCode, S3Response, S3Result};
use serde_json::Value;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// S3's limit on a bucket policy, in characters other than white space.
pub const MAX_POLICY_CHARS: usize = 20 * 1024;

fn malformed(message: impl Into<String>) -> S3Error {
    S3Error::with_message(S3ErrorCode::MalformedPolicy, message.into())
}

/// Checks `text` as a policy for `bucket`, with S3's `MalformedPolicy` messages; returns the
/// document as JSON (for [`is_public`]).
pub(super) fn check(bucket: &str, text: &str) -> S3Result<Value> {
    if text.chars().filter(|c| !c.is_whitespace()).count() > MAX_POLICY_CHARS {
        return Err(malformed(
            "Policy exceeds the maximum allowed document size.",
        ));
    }
    let not_json = || malformed("Policies must be valid JSON and the first byte must be '{'");
    // AWS means the first byte: a document after a newline is refused too.
    if !text.starts_with('{') {
        return Err(not_json());
    }
    // serde_json refuses nesting deeper than 128 rather than recursing into it.
    let doc: Value = serde_json::from_str(text).map_err(|_| not_json())?;
    if doc.get("Statement").is_none() {
        return Err(malformed("Missing required field Statement"));
    }
    // S3's own rules first, so their messages win over the IAM grammar's.
    let arn = format!("arn:aws:s3:::{bucket}");
    let inside = |r: &str| {
        r == arn
            || r.strip_prefix(arn.as_str())
                .is_some_and(|k| k.starts_with('/'))
    };
    let s3_action = |a: &str| a == "*" || a.get(..3).is_some_and(|v| v.eq_ignore_ascii_case("s3:"));
    for s in statements(&doc) {
        for (field, negated) in [
            ("Effect", None),
            ("Principal", Some("NotPrincipal")),
            ("Action", Some("NotAction")),
            ("Resource", Some("NotResource")),
        ] {
            if !s.contains_key(field) && negated.is_none_or(|n| !s.contains_key(n)) {
                return Err(malformed(format!("Missing required field {field}")));
            }
        }
        if !strings(s.get("Action").or_else(|| s.get("NotAction"))).all(s3_action) {
            return Err(malformed("Policy has invalid action"));
        }
        if !strings(s.get("Resource").or_else(|| s.get("NotResource"))).all(inside) {
            return Err(malformed("Policy has invalid resource"));
        }
    }
    Policy::parse(text, PolicyKind::Resource, &SizeLimit::None).map_err(|e| match e {
        PolicyError::Malformed(m) | PolicyError::LimitExceeded(m) => malformed(m),
    })?;
    Ok(doc)
}

/// A document's statements (one object or a list).
fn statements(doc: &Value) -> impl Iterator<Item = &serde_json::Map<String, Value>> {
    let list: Vec<&Value> = match doc.get("Statement") {
        Some(Value::Array(a)) => a.iter().collect(),
        Some(v) => vec![v],
        None => vec![],
    };
    list.into_iter().filter_map(Value::as_object)
}

/// The strings of an element that holds one or a list.
fn strings(v: Option<&Value>) -> impl Iterator<Item = &str> {
    let list: Vec<&Value> = match v {
        Some(Value::Array(a)) => a.iter().collect(),
        Some(v) => vec![v],
        None => vec![],
    };
    list.into_iter().filter_map(Value::as_str)
}

/// Condition keys whose fixed value ties a statement to known callers, so that a `*`
/// principal is not public (AWS's "The meaning of public").
const RESTRICTING_KEYS: &[&str] = &[
    "aws:sourcearn",
    "aws:sourceaccount",
    "aws:sourceowner",
    "aws:sourceip",
    "aws:sourcevpc",
    "aws:sourcevpce",
    "aws:principalarn",
    "aws:principalaccount",
    "aws:principalorgid",
    "aws:userid",
    "s3:dataaccesspointarn",
    "s3:dataaccesspointaccount",
];

/// Whether a policy grants access to anyone, as AWS judges it: an `Allow` statement whose
/// principal is `*` (or `{"AWS": "*"}`, or a `NotPrincipal`) and whose conditions do not pin
/// one of [`RESTRICTING_KEYS`] to fixed values.
pub fn is_public(doc: &Value) -> bool {
    statements(doc).any(|s| {
        let allow = s.get("Effect").and_then(Value::as_str) == Some("Allow");
        let anyone = s.contains_key("NotPrincipal")
            || match s.get("Principal") {
                Some(Value::String(p)) => p == "*",
                Some(Value::Object(m)) => strings(m.get("AWS")).any(|p| p == "*"),
                _ => false,
            };
        allow && anyone && !restricted(s.get("Condition"))
    })
}

/// Whether a Condition block pins a restricting key to values without wildcards.
fn restricted(condition: Option<&Value>) -> bool {
    let Some(Value::Object(ops)) = condition else {
        return false;
    };
    ops.iter().any(|(op, keys)| {
        let positive = !op.contains("Not") && !op.ends_with("IfExists") && op != "Null";
        let Value::Object(keys) = keys else {
            return false;
        };
        positive
            && keys.iter().any(|(key, values)| {
                let key = key.to_ascii_lowercase();
                let values: Vec<&str> = strings(Some(values)).collect();
                RESTRICTING_KEYS.contains(&key.as_str())
                    && !values.is_empty()
                    && values.iter().all(|v| {
                        !v.contains('*')
                            && !v.contains('?')
                            && (key != "aws:sourceip" || !broad_cidr(v))
                    })
            })
    })
}

/// An address range too wide to restrict anyone (`0.0.0.0/0`, an IPv4 prefix under /8).
fn broad_cidr(v: &str) -> bool {
    match v.split_once('/') {
        Some((addr, bits)) => {
            let bits: u32 = bits.parse().unwrap_or(0);
            if addr.contains(':') {
                bits < 32
            } else {
                bits < 8
            }
        }
        None => false,
    }
}

/// What decides who may access one bucket, beside the callers' own policies.
#[derive(Debug, Default)]
pub struct BucketAccess {
    /// The bucket's policy, parsed.
    pub policy: Option<Arc<Policy>>,
    /// Whether that policy is public ([`is_public`]).
    pub public: bool,
    pub block: Option<PublicAccessBlock>,
}

/// Every bucket's access read since the store's access generation last moved.
#[derive(Default)]
struct Cache {
    generation: u64,
    buckets: HashMap<String, Arc<BucketAccess>>,
}

/// Bounds the cache: past this many buckets a miss clears it.
const MAX_CACHED: usize = 10_000;

/// The bucket policies and Block Public Access settings the authorizer evaluates, parsed once
/// per change. A cheap-clone handle; every clone shares one cache.
///
/// A lookup is one atomic load (the store's access generation, which every change to a
/// policy, a public access block or a bucket moves after its commit) and one map read under
/// a `std` mutex held for nothing else (no I/O, no await); only a miss reads SQLite, on a
/// reader connection, so a policy put or deleted by any path is seen by the next request.
#[derive(Clone)]
pub struct BucketPolicies {
    store: Arc<ObjectStore>,
    cache: Arc<Mutex<Cache>>,
}

impl BucketPolicies {
    pub fn new(store: Arc<ObjectStore>) -> BucketPolicies {
        BucketPolicies {
            store,
            cache: Arc::default(),
        }
    }

    /// What governs access to `bucket` (nothing, for a bucket that does not exist).
    pub fn access(&self, bucket: &str) -> Result<Arc<BucketAccess>, ObjectError> {
        // Read before the rows, so rows older than a change are never kept under its number.
        let generation = self.store.access_generation();
        {
            let cache = self.lock();
            if cache.generation == generation {
                if let Some(a) = cache.buckets.get(bucket) {
                    return Ok(a.clone());
                }
            }
        }
        let access = Arc::new(self.read(bucket)?);
        let mut cache = self.lock();
        if cache.generation != generation || cache.buckets.len() >= MAX_CACHED {
            cache.buckets.clear();
            cache.generation = generation;
        }
        cache.buckets.insert(bucket.to_string(), access.clone());
        Ok(access)
    }

    fn read(&self, bucket: &str) -> Result<BucketAccess, ObjectError> {
        let block = self.store.public_access_block(bucket)?;
        let Some(text) = self.store.bucket_policy(bucket)? else {
            return Ok(BucketAccess {
                block,
                ..BucketAccess::default()
            });
        };
        match Policy::parse(&text, PolicyKind::Resource, &SizeLimit::None) {
            Ok(policy) => Ok(BucketAccess {
                policy: Some(Arc::new(policy)),
                public: serde_json::from_str(&text).is_ok_and(|doc| is_public(&doc)),
                block,
            }),
            // Stored policies passed this parse when put; one that no longer does (a stricter
            // parser after an upgrade) grants nothing rather than failing every request.
            Err(e) => {
                tracing::error!(%bucket, error = %e, "stored bucket policy does not parse");
                Ok(BucketAccess {
                    block,
                    ..BucketAccess::default()
                })
            }
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Cache> {
        // A panic while holding the lock cannot leave an entry half-written: recover it.
        self.cache.lock().unwrap_or_else(|e| e.into_inner())
    }
}

fn no_such_policy() -> S3Error {
    s3_error!(NoSuchBucketPolicy, "The bucket policy does not exist")
}

async fn require_bucket(store: &Arc<ObjectStore>, bucket: &str) -> S3Result<()> {
    let b = bucket.to_string();
    match blocking(store, move |s| s.bucket(&b)).await? {
        Some(_) => Ok(()),
        None => Err(super::error(ObjectError::NoSuchBucket(bucket.to_string()))),
    }
}

impl Api {
    pub(super) async fn put_policy(
        &self,
        input: PutBucketPolicyInput,
    ) -> S3Result<S3Response<PutBucketPolicyOutput>> {
        let bucket = input.bucket;
        let b = bucket.clone();
        let block = blocking(&self.store, move |s| {
            if s.bucket(&b)?.is_none() {
                return Err(ObjectError::NoSuchBucket(b));
            }
            s.public_access_block(&b)
        })
        .await?;
        let doc = check(&bucket, &input.policy)?;
        if block.is_some_and(|b| b.block_public_policy) && is_public(&doc) {
            return Err(s3_error!(AccessDenied, "Access Denied"));
        }
        let text = input.policy;
        blocking(&self.store, move |s| s.put_bucket_policy(&bucket, &text)).await?;
        Ok(S3Response::new(PutBucketPolicyOutput {}))
    }

    pub(super) async fn get_policy(
        &self,
        input: GetBucketPolicyInput,
    ) -> S3Result<S3Response<GetBucketPolicyOutput>> {
        require_bucket(&self.store, &input.bucket).await?;
        let bucket = input.bucket;
        let policy = blocking(&self.store, move |s| s.bucket_policy(&bucket))
            .await?
            .ok_or_else(no_such_policy)?;
        Ok(S3Response::new(GetBucketPolicyOutput {
            policy: Some(policy),
        }))
    }

    pub(super) async fn delete_policy(
        &self,
        input: DeleteBucketPolicyInput,
    ) -> S3Result<S3Response<DeleteBucketPolicyOutput>> {
        let bucket = input.bucket;
        blocking(&self.store, move |s| s.delete_bucket_policy(&bucket)).await?;
        Ok(S3Response::new(DeleteBucketPolicyOutput {}))
    }

    pub(super) async fn get_policy_status(
        &self,
        input: GetBucketPolicyStatusInput,
    ) -> S3Result<S3Response<GetBucketPolicyStatusOutput>> {
        require_bucket(&self.store, &input.bucket).await?;
        let bucket = input.bucket;
        let text = blocking(&self.store, move |s| s.bucket_policy(&bucket))
            .await?
            .ok_or_else(no_such_policy)?;
        let public = serde_json::from_str(&text).is_ok_and(|doc| is_public(&doc));
        Ok(S3Response::new(GetBucketPolicyStatusOutput {
            policy_status: Some(PolicyStatus {
                is_public: Some(public),
            }),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn doc(statement: Value) -> String {
        json!({"Version": "2012-10-17", "Statement": [statement]}).to_string()
    }

    fn message(bucket: &str, text: &str) -> String {
        check(bucket, text)
            .err()
            .and_then(|e| e.message().map(str::to_string))
            .unwrap_or_default()
    }

    #[test]
    fn checks_speak_s3s_messages() {
        let good = doc(
            json!({"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"},
            "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}),
        );
        assert!(check("b", &good).is_ok());
        let first_byte = "Policies must be valid JSON and the first byte must be '{'";
        for (text, want) in [
            ("", first_byte),
            ("randomstring", first_byte),
            ("{\"Statement\": [", first_byte),
            ("{}", "Missing required field Statement"),
            (
                &good.replace("arn:aws:s3:::b/*", "arn:aws:s3:::other/*"),
                "Policy has invalid resource",
            ),
            (
                &good.replace("arn:aws:s3:::b/*", "arn:aws:s3:::bb"),
                "Policy has invalid resource",
            ),
            (
                &good.replace("s3:GetObject", "ec2:RunInstances"),
                "Policy has invalid action",
            ),
            (
                &doc(json!({"Effect": "Allow", "Action": "s3:*", "Resource": "arn:aws:s3:::b"})),
                "Missing required field Principal",
            ),
            (
                &doc(json!({"Effect": "Allow", "Principal": "*", "Resource": "arn:aws:s3:::b"})),
                "Missing required field Action",
            ),
            (
                &doc(json!({"Effect": "Allow", "Principal": "*", "Action": "s3:*"})),
                "Missing required field Resource",
            ),
            (
                &good.replace("arn:aws:s3:::b/*", "*"),
                "Policy has invalid resource",
            ),
            (&format!("\n{good}"), first_byte),
        ] {
            assert_eq!(message("b", text), want, "{text}");
        }
        let big = doc(
            json!({"Sid": "x".repeat(MAX_POLICY_CHARS), "Effect": "Allow", "Principal": "*",
            "Action": "s3:*", "Resource": "arn:aws:s3:::b"}),
        );
        assert_eq!(
            message("b", &big),
            "Policy exceeds the maximum allowed document size."
        );
        let deep = format!(
            "{{\"Statement\": {}{}}}",
            "[".repeat(10_000),
            "]".repeat(10_000)
        );
        assert!(check("b", &deep).is_err());
    }

    #[test]
    fn public_means_anyone_without_a_pinned_condition() {
        let public = |s: Value| is_public(&serde_json::from_str(&doc(s)).unwrap());
        let base =
            json!({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"});
        let with = |extra: Value| {
            let mut s = base.clone();
            s.as_object_mut()
                .unwrap()
                .extend(extra.as_object().unwrap().clone());
            s
        };
        assert!(public(with(json!({"Principal": "*"}))));
        assert!(public(with(json!({"Principal": {"AWS": "*"}}))));
        assert!(public(with(
            json!({"Principal": {"AWS": ["arn:aws:iam::1:root", "*"]}})
        )));
        assert!(!public(with(
            json!({"Principal": {"AWS": "arn:aws:iam::111122223333:root"}})
        )));
        assert!(!public(with(json!({"Principal": "*", "Effect": "Deny"}))));
        assert!(!public(with(json!({"Principal": "*",
            "Condition": {"StringEquals": {"aws:SourceAccount": "111122223333"}}}))));
        assert!(!public(with(json!({"Principal": "*",
            "Condition": {"ArnLike": {"aws:SourceArn": "arn:aws:lambda:us-east-1:1:function:f"}}}))));
        assert!(!public(with(json!({"Principal": "*",
            "Condition": {"IpAddress": {"aws:SourceIp": "10.0.0.0/16"}}}))));
        assert!(public(with(json!({"Principal": "*",
            "Condition": {"IpAddress": {"aws:SourceIp": "0.0.0.0/0"}}}))));
        assert!(public(with(json!({"Principal": "*",
            "Condition": {"StringLike": {"aws:SourceAccount": "*"}}}))));
        assert!(public(with(json!({"Principal": "*",
            "Condition": {"StringNotEquals": {"aws:SourceAccount": "1"}}}))));
        assert!(public(with(json!({"Principal": "*",
            "Condition": {"Bool": {"aws:SecureTransport": "true"}}}))));
    }

    #[test]
    fn the_authorizers_view_parses_once_per_change() {
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(ObjectStore::open(dir.path()).unwrap());
        store.create_bucket("b", 1).unwrap();
        let policies = BucketPolicies::new(store.clone());
        let policy = |b: &str| policies.access(b).unwrap().policy.clone();
        assert!(policy("b").is_none());
        assert!(policy("nope").is_none());
        let one = doc(
            json!({"Sid": "one", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"},
            "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}),
        );
        store.put_bucket_policy("b", &one).unwrap();
        let first = policy("b").unwrap();
        assert_eq!(first.statements()[0].sid.as_deref(), Some("one"));
        assert!(!policies.access("b").unwrap().public);
        // Nothing changed: the same parse, not a new one.
        assert!(Arc::ptr_eq(&first, &policy("b").unwrap()));
        store
            .put_bucket_policy("b", &one.replace("\"one\"", "\"two\""))
            .unwrap();
        let second = policy("b").unwrap();
        assert_eq!(second.statements()[0].sid.as_deref(), Some("two"));
        store
            .put_bucket_policy(
                "b",
                &one.replace(r#"{"AWS":"arn:aws:iam::111122223333:root"}"#, r#""*""#),
            )
            .unwrap();
        assert!(policies.access("b").unwrap().public);
        store.delete_bucket_policy("b").unwrap();
        assert!(policy("b").is_none());
        assert_eq!(
            policies.access("b").unwrap().block,
            Some(PublicAccessBlock::ALL)
        );
        store.delete_public_access_block("b").unwrap();
        assert_eq!(policies.access("b").unwrap().block, None);
    }
}
