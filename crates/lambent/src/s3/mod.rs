//! The S3 API (rest-xml, 2006-03-01), built on the `s3s` crate: s3s parses requests, verifies
//! SigV4 (header, presigned, aws-chunked streams) with our key ring, routes by method and
//! query, and renders XML and errors; this module turns each operation into typed calls on
//! the [`ObjectStore`] (`buckets.rs`, `objects.rs`, `copy.rs`, `multipart.rs`,
//! `listing.rs`), with `auth.rs` holding the key-ring glue and `checksum.rs` the additional
//! checksums (`x-amz-checksum-*`, as headers or aws-chunked trailers). Bucket notifications are
//! configured in `notifications.rs` and, once a change is committed, queued as Lambda events
//! by `notify.rs` before the response goes out. Bucket policies (`policy.rs`, which also
//! keeps [`BucketPolicies`], the parsed view the authorizer reads) and Block Public Access
//! (`public_access.rs`) are stored with the bucket. s3s routes requests itself; [`ROUTES`] names
//! each operation's IAM action and the resource it authorizes against.
//!
//! Invariant: no object byte is buffered whole (bodies stream to and from the store's files),
//! and no request reaches the store unauthenticated.

mod auth;
mod buckets;
mod checksum;
mod copy;
mod listing;
mod multipart;
mod notifications;
mod notify;
mod objects;
mod policy;
mod public_access;

pub(crate) use notifications::single_lambda_rule;
pub use notify::Notifier;
pub use policy::BucketPolicies;

use crate::auth::{Authorizer, KeyRing};
use lambent_store::objects::{ObjectError, ObjectStore};
use lambent_store::versions::Versioning;
use s3s::dto::*;
use s3s::{S3Error, S3ErrorCode, S3Request, S3Response, S3Result};
use std::sync::Arc;

/// The largest file a POST (browser form) upload may carry.
pub const POST_OBJECT_MAX_BYTES: u64 = 64 * 1024 * 1024;

/// What an operation authorizes against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resource {
    /// `arn:aws:s3:::BUCKET`.
    Bucket,
    /// `arn:aws:s3:::BUCKET/KEY` (DeleteObjects: each key's).
    Object,
    /// `*`: the operation names no resource.
    All,
}

/// One operation of the S3 API, as s3s names it; s3s does the routing.
pub struct Route {
    pub operation: &'static str,
    /// The IAM action a caller needs (`s3:PutObject`), as AWS's Service Authorization
    /// Reference names it: several operations share one.
    pub action: &'static str,
    pub resource: Resource,
}

/// Every operation lambent serves. CopyObject and UploadPartCopy also read their source
/// (`s3:GetObject` on its ARN).
#[rustfmt::skip]
pub static ROUTES: &[Route] = {
    use Resource::*;
    const fn r(operation: &'static str, action: &'static str, resource: Resource) -> Route {
        Route { operation, action, resource }
    }
    &[
        r("CreateBucket",                       "s3:CreateBucket",               Bucket),
        r("HeadBucket",                         "s3:ListBucket",                 Bucket),
        r("GetBucketLocation",                  "s3:GetBucketLocation",          Bucket),
        r("ListBuckets",                        "s3:ListAllMyBuckets",           All),
        r("DeleteBucket",                       "s3:DeleteBucket",               Bucket),
        r("PutObject",                          "s3:PutObject",                  Object),
        r("GetObject",                          "s3:GetObject",                  Object),
        r("HeadObject",                         "s3:GetObject",                  Object),
        r("DeleteObject",                       "s3:DeleteObject",               Object),
        r("DeleteObjects",                      "s3:DeleteObject",               Object),
        r("ListObjectsV2",                      "s3:ListBucket",                 Bucket),
        r("ListObjects",                        "s3:ListBucket",                 Bucket),
        r("ListObjectVersions",                 "s3:ListBucketVersions",         Bucket),
        r("GetBucketVersioning",                "s3:GetBucketVersioning",        Bucket),
        r("PutBucketVersioning",                "s3:PutBucketVersioning",        Bucket),
        r("CopyObject",                         "s3:PutObject",                  Object),
        r("CreateMultipartUpload",              "s3:PutObject",                  Object),
        r("UploadPart",                         "s3:PutObject",                  Object),
        r("UploadPartCopy",                     "s3:PutObject",                  Object),
        r("CompleteMultipartUpload",            "s3:PutObject",                  Object),
        r("AbortMultipartUpload",               "s3:AbortMultipartUpload",       Object),
        r("ListParts",                          "s3:ListMultipartUploadParts",   Object),
        r("ListMultipartUploads",               "s3:ListBucketMultipartUploads", Bucket),
        r("PutBucketNotificationConfiguration", "s3:PutBucketNotification",      Bucket),
        r("GetBucketNotificationConfiguration", "s3:GetBucketNotification",      Bucket),
        r("PutBucketPolicy",                    "s3:PutBucketPolicy",            Bucket),
        r("GetBucketPolicy",                    "s3:GetBucketPolicy",            Bucket),
        r("DeleteBucketPolicy",                 "s3:DeleteBucketPolicy",         Bucket),
        r("GetBucketPolicyStatus",              "s3:GetBucketPolicyStatus",      Bucket),
        r("PutPublicAccessBlock",               "s3:PutBucketPublicAccessBlock", Bucket),
        r("GetPublicAccessBlock",               "s3:GetBucketPublicAccessBlock", Bucket),
        r("DeletePublicAccessBlock",            "s3:PutBucketPublicAccessBlock", Bucket),
    ]
};

/// The route of an s3s operation name (`PutObject`), if lambent serves it.
pub fn route(operation: &str) -> Option<&'static Route> {
    ROUTES.iter().find(|r| r.operation == operation)
}

/// Builds the S3 service over `store`, authenticating with `keyring`.
pub fn service(
    store: Arc<ObjectStore>,
    keyring: KeyRing,
    authorizer: Authorizer,
    notifier: Notifier,
) -> s3s::service::S3Service {
    let access = Arc::new(auth::Access {
        keyring: keyring.clone(),
        authorizer,
        policies: BucketPolicies::new(store.clone()),
    });
    let mut builder = s3s::service::S3ServiceBuilder::new(Api {
        store,
        notifier,
        access: access.clone(),
    });
    // s3s holds a form upload's file in memory: bound it (AWS allows 5 GB; larger uploads
    // here take PUT, which streams).
    let mut config = s3s::config::S3Config::default();
    config.post_object_max_file_size = POST_OBJECT_MAX_BYTES;
    builder.set_config(Arc::new(s3s::config::StaticConfigProvider::new(Arc::new(
        config,
    ))));
    builder.set_auth(auth::KeyRingAuth(keyring.clone()));
    builder.set_access(auth::SessionTokenCheck(access));
    builder.set_host(auth::LocalhostHost);
    builder.build()
}

/// Whether a request is for S3: its SigV4 credential scope (header or presigned query) names
/// service `s3`, it carries SigV2 (only S3 speaks it), or it is a form upload (a `POST` of
/// `multipart/form-data`, signed inside the form; no other API takes one). An unsigned request
/// is S3's too (an anonymous caller, which a bucket policy may allow), unless another API's
/// shape claims it: an `X-Amz-Target`, a query-protocol form or `Action=`, a Lambda API path
/// (its first segment an API version such as `2015-03-31`) or lambent's own `/_lambent/`.
pub fn is_s3(req: &http::Request<hyper::body::Incoming>) -> bool {
    let content_type = req
        .headers()
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if req.method() == http::Method::POST && content_type.starts_with("multipart/form-data") {
        return true;
    }
    if let Some(auth) = req
        .headers()
        .get(http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    {
        return auth.contains("/s3/aws4_request") || auth.starts_with("AWS ");
    }
    let query = req.uri().query().unwrap_or("");
    let mut unsigned = true;
    for p in query.split('&') {
        let (k, v) = p.split_once('=').unwrap_or((p, ""));
        match k {
            "X-Amz-Credential" => {
                return v.contains("%2Fs3%2Faws4_request") || v.contains("/s3/aws4_request")
            }
            "AWSAccessKeyId" => return true,
            "Action" => unsigned = false,
            _ => {}
        }
    }
    let path = req.uri().path();
    let first = path.trim_start_matches('/').split('/').next().unwrap_or("");
    let api_version = first.len() == 10
        && first.bytes().enumerate().all(|(i, b)| {
            if i == 4 || i == 7 {
                b == b'-'
            } else {
                b.is_ascii_digit()
            }
        });
    unsigned
        && !req.headers().contains_key("x-amz-target")
        && !content_type.starts_with("application/x-www-form-urlencoded")
        && !api_version
        && !path.starts_with("/_lambent/")
}

/// The operations lambent implements; s3s answers `NotImplemented` for the rest.
struct Api {
    store: Arc<ObjectStore>,
    /// Turns committed changes into queued Lambda events (`notify.rs`).
    notifier: Notifier,
    /// For the operations that authorize each key they name (DeleteObjects).
    access: Arc<auth::Access>,
}

impl Api {
    /// Enqueues the notifications `changes` call for, then stamps the response with the
    /// request ids their records carry.
    async fn notified<T>(
        &self,
        caller: notify::Caller,
        bucket: &str,
        changes: Vec<notify::Change>,
        mut resp: S3Response<T>,
    ) -> S3Result<S3Response<T>> {
        self.notifier
            .notify(&self.store, &caller, bucket, changes)
            .await?;
        caller.stamp(&mut resp.headers);
        Ok(resp)
    }
}

/// A created object as a notification [`notify::Change`].
fn created(event: &'static str, record: lambent_store::objects::ObjectRecord) -> notify::Change {
    notify::Change {
        event,
        key: record.key,
        object: Some((record.size, record.etag)),
        version_id: record.version_id,
        sequencer: record.sequencer,
    }
}

/// A deletion, with its sequencer, as a notification [`notify::Change`]: a version removed,
/// or a delete marker created.
fn removed(d: lambent_store::versions::Deletion) -> notify::Change {
    notify::Change {
        event: if d.marker_created {
            "ObjectRemoved:DeleteMarkerCreated"
        } else {
            "ObjectRemoved:Delete"
        },
        key: d.key,
        object: None,
        version_id: d.version_id,
        sequencer: d.sequencer,
    }
}

/// The owner lambent names in listings and ACLs: the account's one canonical user.
fn owner() -> Owner {
    Owner {
        display_name: Some("lambent".into()),
        id: Some("lambent".into()),
    }
}

/// Runs a store call off the async threads (SQLite and `fsync` block).
async fn blocking<T: Send + 'static>(
    store: &Arc<ObjectStore>,
    f: impl FnOnce(&ObjectStore) -> Result<T, ObjectError> + Send + 'static,
) -> S3Result<T> {
    let store = store.clone();
    tokio::task::spawn_blocking(move || f(&store))
        .await
        .map_err(|e| S3Error::with_message(S3ErrorCode::InternalError, e.to_string()))?
        .map_err(error)
}

/// The store's failures in S3's words.
fn error(e: ObjectError) -> S3Error {
    match e {
        ObjectError::NoSuchBucket(_) => S3Error::with_message(
            S3ErrorCode::NoSuchBucket,
            "The specified bucket does not exist",
        ),
        ObjectError::BucketExists(_) => S3Error::with_message(
            S3ErrorCode::BucketAlreadyOwnedByYou,
            "Your previous request to create the named bucket succeeded and you already own it.",
        ),
        ObjectError::BucketNotEmpty(_) => S3Error::with_message(
            S3ErrorCode::BucketNotEmpty,
            "The bucket you tried to delete is not empty",
        ),
        ObjectError::NoSuchUpload(_) => S3Error::with_message(
            S3ErrorCode::NoSuchUpload,
            "The specified upload does not exist. The upload ID may be invalid, or the upload \
             may have been aborted or completed.",
        ),
        ObjectError::InvalidPart(_) => S3Error::with_message(
            S3ErrorCode::InvalidPart,
            "One or more of the specified parts could not be found.  The part may not have been \
             uploaded, or the specified entity tag may not match the part's entity tag.",
        ),
        ObjectError::InvalidPartOrder => S3Error::with_message(
            S3ErrorCode::InvalidPartOrder,
            "The list of parts was not in ascending order. Parts must be ordered by part number.",
        ),
        ObjectError::EntityTooSmall { .. } => S3Error::with_message(
            S3ErrorCode::EntityTooSmall,
            "Your proposed upload is smaller than the minimum allowed size",
        ),
        ObjectError::NoParts => S3Error::with_message(
            S3ErrorCode::InvalidRequest,
            "You must specify at least one part",
        ),
        other => {
            tracing::error!(error = %other, "object store");
            S3Error::with_message(S3ErrorCode::InternalError, other.to_string())
        }
    }
}

fn now_millis() -> i64 {
    crate::logs::now_millis()
}

fn timestamp(millis: i64) -> Timestamp {
    let t = time::OffsetDateTime::from_unix_timestamp_nanos(millis as i128 * 1_000_000)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    Timestamp::from(t)
}

#[async_trait::async_trait]
impl s3s::S3 for Api {
    async fn create_bucket(
        &self,
        req: S3Request<CreateBucketInput>,
    ) -> S3Result<S3Response<CreateBucketOutput>> {
        buckets::create(&self.store, req.input).await
    }

    async fn head_bucket(
        &self,
        req: S3Request<HeadBucketInput>,
    ) -> S3Result<S3Response<HeadBucketOutput>> {
        buckets::head(&self.store, req.input).await
    }

    async fn get_bucket_location(
        &self,
        req: S3Request<GetBucketLocationInput>,
    ) -> S3Result<S3Response<GetBucketLocationOutput>> {
        buckets::location(&self.store, req.input).await
    }

    async fn list_buckets(
        &self,
        _req: S3Request<ListBucketsInput>,
    ) -> S3Result<S3Response<ListBucketsOutput>> {
        buckets::list(&self.store).await
    }

    async fn delete_bucket(
        &self,
        req: S3Request<DeleteBucketInput>,
    ) -> S3Result<S3Response<DeleteBucketOutput>> {
        buckets::delete(&self.store, req.input).await
    }

    async fn put_object(
        &self,
        req: S3Request<PutObjectInput>,
    ) -> S3Result<S3Response<PutObjectOutput>> {
        let caller = notify::Caller::of(&req);
        let bucket = req.input.bucket.clone();
        let checksum = checksum::Wanted::of(&req.headers, req.trailing_headers)?;
        let (resp, record) = objects::put(&self.store, req.input, checksum).await?;
        // s3s hands a browser's form upload (POST) here too.
        let event = if req.method == http::Method::POST {
            "ObjectCreated:Post"
        } else {
            "ObjectCreated:Put"
        };
        let changes = vec![created(event, record)];
        self.notified(caller, &bucket, changes, resp).await
    }

    async fn get_object(
        &self,
        req: S3Request<GetObjectInput>,
    ) -> S3Result<S3Response<GetObjectOutput>> {
        objects::get(&self.store, req.input).await
    }

    async fn head_object(
        &self,
        req: S3Request<HeadObjectInput>,
    ) -> S3Result<S3Response<HeadObjectOutput>> {
        objects::head(&self.store, req.input).await
    }

    async fn delete_object(
        &self,
        req: S3Request<DeleteObjectInput>,
    ) -> S3Result<S3Response<DeleteObjectOutput>> {
        let caller = notify::Caller::of(&req);
        let bucket = req.input.bucket.clone();
        let (resp, deletion) = objects::delete(&self.store, req.input).await?;
        self.notified(caller, &bucket, vec![removed(deletion)], resp)
            .await
    }

    async fn delete_objects(
        &self,
        req: S3Request<DeleteObjectsInput>,
    ) -> S3Result<S3Response<DeleteObjectsOutput>> {
        let caller = notify::Caller::of(&req);
        let bucket = req.input.bucket.clone();
        let mut input = req.input;
        // Each key is authorized as a DeleteObject of its own; a refused one is reported
        // among the errors and the others are deleted, as on AWS.
        let who = req.extensions.get::<auth::Authorized>();
        let mut refused = Vec::new();
        input.delete.objects.retain(|o| {
            let action = if o.version_id.is_some() {
                "s3:DeleteObjectVersion"
            } else {
                "s3:DeleteObject"
            };
            let ok = self.access.check_key(who, action, &bucket, &o.key).is_ok();
            if !ok {
                refused.push(o.key.clone());
            }
            ok
        });
        let (mut resp, deletions) = objects::delete_many(&self.store, input).await?;
        if !refused.is_empty() {
            let errors = resp.output.errors.get_or_insert_with(Vec::new);
            errors.extend(refused.into_iter().map(|key| Error {
                key: Some(key),
                code: Some("AccessDenied".into()),
                message: Some("Access Denied".into()),
                ..Error::default()
            }));
        }
        let changes = deletions.into_iter().map(removed).collect();
        self.notified(caller, &bucket, changes, resp).await
    }

    async fn list_objects_v2(
        &self,
        req: S3Request<ListObjectsV2Input>,
    ) -> S3Result<S3Response<ListObjectsV2Output>> {
        listing::list_v2(&self.store, req.input).await
    }

    async fn list_objects(
        &self,
        req: S3Request<ListObjectsInput>,
    ) -> S3Result<S3Response<ListObjectsOutput>> {
        listing::list_v1(&self.store, req.input).await
    }

    async fn list_object_versions(
        &self,
        req: S3Request<ListObjectVersionsInput>,
    ) -> S3Result<S3Response<ListObjectVersionsOutput>> {
        listing::list_versions(&self.store, req.input).await
    }

    /// The status is absent for a bucket that never had versioning, as AWS answers.
    async fn get_bucket_versioning(
        &self,
        req: S3Request<GetBucketVersioningInput>,
    ) -> S3Result<S3Response<GetBucketVersioningOutput>> {
        let bucket = req.input.bucket;
        let state = blocking(&self.store, move |s| s.versioning(&bucket)).await?;
        Ok(S3Response::new(GetBucketVersioningOutput {
            status: (state != Versioning::Unversioned)
                .then(|| BucketVersioningStatus::from(state.as_str().to_string())),
            ..GetBucketVersioningOutput::default()
        }))
    }

    async fn put_bucket_versioning(
        &self,
        req: S3Request<PutBucketVersioningInput>,
    ) -> S3Result<S3Response<PutBucketVersioningOutput>> {
        let config = req.input.versioning_configuration;
        if config
            .mfa_delete
            .as_ref()
            .is_some_and(|m| m.as_str() == MFADelete::ENABLED)
        {
            return Err(s3s::s3_error!(
                NotImplemented,
                "lambent has no MFA devices: MFA delete cannot be enabled."
            ));
        }
        let state = match config.status.as_ref().map(|s| s.as_str()) {
            Some(BucketVersioningStatus::ENABLED) => Versioning::Enabled,
            Some(BucketVersioningStatus::SUSPENDED) => Versioning::Suspended,
            _ => {
                return Err(s3s::s3_error!(
                    MalformedXML,
                    "The XML you provided was not well-formed or did not validate against our published schema"
                ))
            }
        };
        let bucket = req.input.bucket;
        blocking(&self.store, move |s| s.set_versioning(&bucket, state)).await?;
        Ok(S3Response::new(PutBucketVersioningOutput::default()))
    }

    async fn copy_object(
        &self,
        req: S3Request<CopyObjectInput>,
    ) -> S3Result<S3Response<CopyObjectOutput>> {
        let caller = notify::Caller::of(&req);
        let bucket = req.input.bucket.clone();
        let (resp, record) = copy::copy_object(&self.store, req.input).await?;
        let changes = vec![created("ObjectCreated:Copy", record)];
        self.notified(caller, &bucket, changes, resp).await
    }

    async fn create_multipart_upload(
        &self,
        req: S3Request<CreateMultipartUploadInput>,
    ) -> S3Result<S3Response<CreateMultipartUploadOutput>> {
        multipart::create(&self.store, req.input).await
    }

    async fn upload_part(
        &self,
        req: S3Request<UploadPartInput>,
    ) -> S3Result<S3Response<UploadPartOutput>> {
        let checksum = checksum::Wanted::of(&req.headers, req.trailing_headers)?;
        multipart::upload_part(&self.store, req.input, checksum).await
    }

    async fn upload_part_copy(
        &self,
        req: S3Request<UploadPartCopyInput>,
    ) -> S3Result<S3Response<UploadPartCopyOutput>> {
        multipart::upload_part_copy(&self.store, req.input).await
    }

    async fn complete_multipart_upload(
        &self,
        req: S3Request<CompleteMultipartUploadInput>,
    ) -> S3Result<S3Response<CompleteMultipartUploadOutput>> {
        let caller = notify::Caller::of(&req);
        let bucket = req.input.bucket.clone();
        let (resp, record) = multipart::complete(&self.store, req.input).await?;
        let changes = vec![created("ObjectCreated:CompleteMultipartUpload", record)];
        self.notified(caller, &bucket, changes, resp).await
    }

    async fn abort_multipart_upload(
        &self,
        req: S3Request<AbortMultipartUploadInput>,
    ) -> S3Result<S3Response<AbortMultipartUploadOutput>> {
        multipart::abort(&self.store, req.input).await
    }

    async fn list_parts(
        &self,
        req: S3Request<ListPartsInput>,
    ) -> S3Result<S3Response<ListPartsOutput>> {
        multipart::list_parts(&self.store, req.input).await
    }

    async fn list_multipart_uploads(
        &self,
        req: S3Request<ListMultipartUploadsInput>,
    ) -> S3Result<S3Response<ListMultipartUploadsOutput>> {
        multipart::list_uploads(&self.store, req.input).await
    }

    async fn put_bucket_notification_configuration(
        &self,
        req: S3Request<PutBucketNotificationConfigurationInput>,
    ) -> S3Result<S3Response<PutBucketNotificationConfigurationOutput>> {
        self.put_notifications(req.input).await
    }

    async fn get_bucket_notification_configuration(
        &self,
        req: S3Request<GetBucketNotificationConfigurationInput>,
    ) -> S3Result<S3Response<GetBucketNotificationConfigurationOutput>> {
        self.get_notifications(req.input).await
    }

    async fn put_bucket_policy(
        &self,
        req: S3Request<PutBucketPolicyInput>,
    ) -> S3Result<S3Response<PutBucketPolicyOutput>> {
        self.put_policy(req.input).await
    }

    async fn get_bucket_policy(
        &self,
        req: S3Request<GetBucketPolicyInput>,
    ) -> S3Result<S3Response<GetBucketPolicyOutput>> {
        self.get_policy(req.input).await
    }

    async fn delete_bucket_policy(
        &self,
        req: S3Request<DeleteBucketPolicyInput>,
    ) -> S3Result<S3Response<DeleteBucketPolicyOutput>> {
        self.delete_policy(req.input).await
    }

    async fn get_bucket_policy_status(
        &self,
        req: S3Request<GetBucketPolicyStatusInput>,
    ) -> S3Result<S3Response<GetBucketPolicyStatusOutput>> {
        self.get_policy_status(req.input).await
    }

    async fn put_public_access_block(
        &self,
        req: S3Request<PutPublicAccessBlockInput>,
    ) -> S3Result<S3Response<PutPublicAccessBlockOutput>> {
        self.put_public_access(req.input).await
    }

    async fn get_public_access_block(
        &self,
        req: S3Request<GetPublicAccessBlockInput>,
    ) -> S3Result<S3Response<GetPublicAccessBlockOutput>> {
        self.get_public_access(req.input).await
    }

    async fn delete_public_access_block(
        &self,
        req: S3Request<DeletePublicAccessBlockInput>,
    ) -> S3Result<S3Response<DeletePublicAccessBlockOutput>> {
        self.delete_public_access(req.input).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The operations `impl s3s::S3 for Api` serves, named as AWS names them.
    fn served() -> Vec<String> {
        let source = include_str!("mod.rs");
        let body = &source[source.find("impl s3s::S3 for Api {").unwrap()..];
        let body = &body[..body.find("\n}\n").unwrap()];
        body.split("async fn ")
            .skip(1)
            .map(|f| {
                let name = &f[..f.find('(').unwrap()];
                name.split('_')
                    .map(|w| match w {
                        "v2" => "V2".to_string(),
                        w => w[..1].to_uppercase() + &w[1..],
                    })
                    .collect()
            })
            .collect()
    }

    #[test]
    fn every_operation_served_has_an_s3_action() {
        let served = served();
        assert!(served.len() >= 20, "{served:?}");
        for op in &served {
            let r = route(op).unwrap_or_else(|| panic!("{op} has no route"));
            assert!(r.action.starts_with("s3:"), "{op}: {}", r.action);
        }
        for r in ROUTES {
            assert!(
                served.iter().any(|op| op == r.operation),
                "{} is not served",
                r.operation
            );
        }
        assert_eq!(
            route("ListObjectsV2").map(|r| r.action),
            Some("s3:ListBucket")
        );
    }
}
