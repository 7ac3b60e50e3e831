//! PutObject, GetObject, HeadObject, DeleteObject, DeleteObjects.

use super::checksum::{self, set_checksum, Wanted};
use super::{blocking, now_millis, timestamp};
use base64::Engine;
use bytes::Bytes;
use futures::{SinkExt, StreamExt};
use lambent_store::objects::{
    ObjectAttributes, ObjectRecord, ObjectStore, PendingObject, StoredChecksum,
};
use lambent_store::versions::{Deletion, Opened};
use s3s::checksum::ChecksumHasher;
use s3s::dto::*;
use s3s::{s3_error, S3Error, S3ErrorCode, S3Response, S3Result};
use std::sync::Arc;
use tokio::io::{AsyncReadExt, AsyncSeekExt};

/// Bytes gathered before one write to the temp file.
const WRITE_BATCH: usize = 1024 * 1024;
/// Bytes per chunk of a GetObject body.
const READ_CHUNK: usize = 64 * 1024;
/// Objects up to this size are read whole in the blocking call that opens them, and sent
/// from memory: one hand-off to a blocking thread per GET instead of one per chunk.
const SMALL_OBJECT: u64 = 64 * 1024;
/// The largest body one PutObject or UploadPart may carry: AWS's 5 GiB.
const MAX_UPLOAD: u64 = 5 * 1024 * 1024 * 1024;

fn too_large() -> S3Error {
    s3_error!(
        EntityTooLarge,
        "Your proposed upload exceeds the maximum allowed size"
    )
}

pub async fn put(
    store: &Arc<ObjectStore>,
    input: PutObjectInput,
    checksum: Option<Wanted>,
) -> S3Result<(S3Response<PutObjectOutput>, ObjectRecord)> {
    let (pending, checksum) = receive(
        store,
        input.body,
        input.content_length,
        input.content_md5.as_deref(),
        checksum,
    )
    .await?;
    let mut attributes = attributes(
        input.content_type,
        input.content_encoding,
        input.content_disposition,
        input.content_language,
        input.cache_control,
        input.metadata,
    );
    attributes.checksum = checksum;
    let (bucket, key) = (input.bucket, input.key);
    let record = blocking(store, move |s| {
        s.commit(pending, &bucket, &key, attributes, now_millis())
    })
    .await?;
    let mut output = PutObjectOutput {
        e_tag: Some(ETag::Strong(record.etag.clone())),
        version_id: record.version_id.clone(),
        ..PutObjectOutput::default()
    };
    set_checksum!(
        output,
        checksum::fields(record.attributes.checksum.as_ref())
    );
    Ok((S3Response::new(output), record))
}

/// The content headers and user metadata a request gives an object (PutObject,
/// CreateMultipartUpload, CopyObject with REPLACE).
pub(super) fn attributes(
    content_type: Option<String>,
    content_encoding: Option<String>,
    content_disposition: Option<String>,
    content_language: Option<String>,
    cache_control: Option<String>,
    metadata: Option<Metadata>,
) -> ObjectAttributes {
    ObjectAttributes {
        content_type,
        content_encoding: content_encoding.and_then(|e| {
            // aws-chunked is the transfer framing s3s removed, not the object's encoding.
            let rest: Vec<&str> = e
                .split(',')
                .map(str::trim)
                .filter(|c| !c.is_empty() && !c.eq_ignore_ascii_case("aws-chunked"))
                .collect();
            (!rest.is_empty()).then(|| rest.join(","))
        }),
        content_disposition,
        content_language,
        cache_control,
        metadata: metadata
            .unwrap_or_default()
            .into_iter()
            .map(|(k, v)| (k.to_ascii_lowercase(), v))
            .collect(),
        checksum: None,
    }
}

/// Streams a request body into a new pending file, then checks its length, Content-MD5 and
/// additional checksum (whose value it returns). Shared by PutObject and UploadPart.
pub(super) async fn receive(
    store: &Arc<ObjectStore>,
    body: Option<StreamingBlob>,
    content_length: Option<i64>,
    content_md5: Option<&str>,
    checksum: Option<Wanted>,
) -> S3Result<(PendingObject, Option<StoredChecksum>)> {
    let expected_md5 = match content_md5 {
        Some(b64) => match base64::engine::general_purpose::STANDARD.decode(b64) {
            Ok(d) if d.len() == 16 => Some(hex::encode(d)),
            _ => {
                return Err(s3_error!(
                    InvalidDigest,
                    "The Content-MD5 you specified was invalid."
                ))
            }
        },
        None => None,
    };
    if content_length.is_some_and(|n| n as u64 > MAX_UPLOAD) {
        return Err(too_large());
    }
    let mut pending = blocking(store, |s| s.begin()).await?;
    let mut hasher = checksum.as_ref().map(Wanted::hasher);
    if let Some(mut body) = body {
        let mut batch = Vec::with_capacity(WRITE_BATCH);
        while let Some(chunk) = body.next().await {
            let chunk = chunk.map_err(body_error)?;
            batch.extend_from_slice(&chunk);
            if pending.size() + batch.len() as u64 > MAX_UPLOAD {
                return Err(too_large());
            }
            if batch.len() >= WRITE_BATCH {
                (pending, batch, hasher) = write(pending, batch, hasher).await?;
            }
        }
        if !batch.is_empty() {
            (pending, _, hasher) = write(pending, batch, hasher).await?;
        }
    }
    if let Some(declared) = content_length {
        if declared as u64 != pending.size() {
            return Err(s3_error!(
                IncompleteBody,
                "You did not provide the number of bytes specified by the Content-Length HTTP header."
            ));
        }
    }
    if let Some(expected) = expected_md5 {
        if expected != pending.md5_hex() {
            return Err(s3_error!(
                BadDigest,
                "The Content-MD5 you specified did not match what we received."
            ));
        }
    }
    let stored = match (checksum, hasher) {
        (Some(wanted), Some(hasher)) => Some(wanted.verify(hasher)?),
        _ => None,
    };
    Ok((pending, stored))
}

/// What a body that broke off becomes: a chunk whose signature does not match (signed
/// `aws-chunked` uploads) is AWS's `SignatureDoesNotMatch`, anything else an incomplete body.
/// s3s's chunk error type is private, so it is told apart by its text.
fn body_error(e: s3s::StdError) -> S3Error {
    let text = e.to_string();
    if text.contains("SignatureMismatch") {
        return s3_error!(
            SignatureDoesNotMatch,
            "The request signature we calculated does not match the signature you provided. Check your key and signing method."
        );
    }
    S3Error::with_message(S3ErrorCode::IncompleteBody, text)
}

/// Writes one batch to the pending file, hashing it on the way, off the async threads.
async fn write(
    mut pending: PendingObject,
    batch: Vec<u8>,
    mut hasher: Option<ChecksumHasher>,
) -> S3Result<(PendingObject, Vec<u8>, Option<ChecksumHasher>)> {
    let (pending, mut batch, hasher) = tokio::task::spawn_blocking(move || {
        if let Some(h) = &mut hasher {
            h.update(&batch);
        }
        let r = pending.write(&batch);
        r.map(|()| (pending, batch, hasher))
    })
    .await
    .map_err(|e| S3Error::with_message(S3ErrorCode::InternalError, e.to_string()))?
    .map_err(super::error)?;
    batch.clear();
    Ok((pending, batch, hasher))
}

/// The conditional headers of a read, as RFC 7232 orders them.
pub(super) struct Conditions {
    pub(super) if_match: Option<ETagCondition>,
    pub(super) if_none_match: Option<ETagCondition>,
    pub(super) if_modified_since: Option<Timestamp>,
    pub(super) if_unmodified_since: Option<Timestamp>,
}

fn etag_matches(condition: &ETagCondition, etag: &str) -> bool {
    match condition {
        ETagCondition::Any => true,
        ETagCondition::ETag(e) => e.value() == etag,
    }
}

fn seconds(t: &Timestamp) -> i64 {
    time::OffsetDateTime::from(t.clone()).unix_timestamp()
}

impl Conditions {
    pub(super) fn check(&self, rec: &ObjectRecord) -> S3Result<()> {
        let modified = rec.last_modified.div_euclid(1000);
        if let Some(c) = &self.if_match {
            if !etag_matches(c, &rec.etag) {
                return Err(precondition_failed());
            }
        } else if let Some(t) = &self.if_unmodified_since {
            if modified > seconds(t) {
                return Err(precondition_failed());
            }
        }
        if let Some(c) = &self.if_none_match {
            if etag_matches(c, &rec.etag) {
                return Err(not_modified());
            }
        } else if let Some(t) = &self.if_modified_since {
            if modified <= seconds(t) {
                return Err(not_modified());
            }
        }
        Ok(())
    }
}

pub(super) fn precondition_failed() -> S3Error {
    s3_error!(
        PreconditionFailed,
        "At least one of the pre-conditions you specified did not hold"
    )
}

fn not_modified() -> S3Error {
    S3Error::new(S3ErrorCode::NotModified)
}

pub(super) fn no_such_key() -> S3Error {
    s3_error!(NoSuchKey, "The specified key does not exist.")
}

/// What a read that found no object answers: `NoSuchKey` (also when the newest version is a
/// delete marker), `NoSuchVersion`, S3's refusal of an id that cannot name anything, or
/// 405 for a delete marker read by its id.
pub(super) fn not_found(opened: Opened) -> S3Error {
    match opened {
        Opened::NoSuchKey { .. } | Opened::Object(..) => no_such_key(),
        Opened::NoSuchVersion => {
            s3_error!(NoSuchVersion, "The specified version does not exist.")
        }
        Opened::InvalidVersion => s3_error!(InvalidArgument, "Invalid version id specified"),
        Opened::DeleteMarker(_) => s3_error!(
            MethodNotAllowed,
            "The specified method is not allowed against this resource."
        ),
    }
}

pub async fn get(
    store: &Arc<ObjectStore>,
    input: GetObjectInput,
) -> S3Result<S3Response<GetObjectOutput>> {
    let (bucket, key) = (input.bucket.clone(), input.key.clone());
    let version_id = input.version_id.clone();
    let opened = blocking(store, move |s| {
        let (rec, mut file) = match s.open_at(&bucket, &key, version_id.as_deref(), true)? {
            Opened::Object(rec, Some(file)) => (*rec, file),
            other => return Ok(Err(other)),
        };
        if rec.size > SMALL_OBJECT {
            return Ok(Ok((rec, Err(file))));
        }
        let mut bytes = Vec::with_capacity(rec.size as usize);
        std::io::Read::read_to_end(&mut file, &mut bytes).map_err(|source| {
            lambent_store::objects::ObjectError::Io {
                step: "reading the object",
                path: key.into(),
                source,
            }
        })?;
        Ok(Ok((rec, Ok(Bytes::from(bytes)))))
    })
    .await?;
    let (rec, content) = opened.map_err(not_found)?;
    Conditions {
        if_match: input.if_match,
        if_none_match: input.if_none_match,
        if_modified_since: input.if_modified_since,
        if_unmodified_since: input.if_unmodified_since,
    }
    .check(&rec)?;
    let (start, len, content_range) = span(&input.range, rec.size)?;
    let body = match content {
        // A small object is in memory: the range is a slice of it. A committed version's
        // file never changes (a new version is a new file), so a short read is a disk fault.
        Ok(bytes) if bytes.len() as u64 == rec.size => StreamingBlob::from(s3s::Body::from(
            bytes.slice(start as usize..(start + len) as usize),
        )),
        Ok(_) => return Err(s3_error!(InternalError, "the object's file is truncated")),
        Err(file) => {
            let (tx, rx) = futures::channel::mpsc::channel::<Result<Bytes, std::io::Error>>(4);
            tokio::spawn(stream_file(tokio::fs::File::from_std(file), start, len, tx));
            StreamingBlob::wrap(rx)
        }
    };
    let attrs = rec.attributes;
    let checksum = checksum_for(&input.checksum_mode, &input.range, attrs.checksum.as_ref());
    let mut output = GetObjectOutput {
        body: Some(body),
        accept_ranges: Some("bytes".into()),
        content_length: Some(len as i64),
        content_range,
        e_tag: Some(ETag::Strong(rec.etag)),
        last_modified: Some(timestamp(rec.last_modified)),
        metadata: (!attrs.metadata.is_empty()).then(|| attrs.metadata.into_iter().collect()),
        content_type: input.response_content_type.or(attrs.content_type),
        content_encoding: input.response_content_encoding.or(attrs.content_encoding),
        content_disposition: input
            .response_content_disposition
            .or(attrs.content_disposition),
        content_language: input.response_content_language.or(attrs.content_language),
        cache_control: input.response_cache_control.or(attrs.cache_control),
        // A read naming `null` in an unversioned bucket is answered with it.
        version_id: rec.version_id.clone().or(input.version_id),
        ..GetObjectOutput::default()
    };
    set_checksum!(output, checksum);
    Ok(S3Response::new(output))
}

/// The bytes a read covers: start, length, and the `Content-Range` of a ranged read.
fn span(range: &Option<Range>, size: u64) -> S3Result<(u64, u64, Option<String>)> {
    Ok(match range {
        None => (0, size, None),
        Some(range) => {
            let r = range.check(size)?;
            let header = format!("bytes {}-{}/{}", r.start, r.end - 1, size);
            (r.start, r.end - r.start, Some(header))
        }
    })
}

/// The checksum fields a read returns: only when asked for (`ChecksumMode=ENABLED`) and only
/// for the whole object, whose checksum it is.
fn checksum_for(
    mode: &Option<ChecksumMode>,
    range: &Option<Range>,
    stored: Option<&StoredChecksum>,
) -> s3s::dto::Checksum {
    let enabled = mode
        .as_ref()
        .is_some_and(|m| m.as_str().eq_ignore_ascii_case(ChecksumMode::ENABLED));
    checksum::fields(stored.filter(|_| enabled && range.is_none()))
}

/// Sends `len` bytes of `file` from `start`, a chunk at a time; stops if the client left.
async fn stream_file(
    mut file: tokio::fs::File,
    start: u64,
    len: u64,
    mut tx: futures::channel::mpsc::Sender<Result<Bytes, std::io::Error>>,
) {
    if let Err(e) = file.seek(std::io::SeekFrom::Start(start)).await {
        let _ = tx.send(Err(e)).await;
        return;
    }
    let mut left = len;
    while left > 0 {
        let mut buf = vec![0; READ_CHUNK.min(left as usize)];
        match file.read(&mut buf).await {
            Ok(0) => {
                let _ = tx.send(Err(std::io::ErrorKind::UnexpectedEof.into())).await;
                return;
            }
            Ok(n) => {
                buf.truncate(n);
                left -= n as u64;
                if tx.send(Ok(Bytes::from(buf))).await.is_err() {
                    return;
                }
            }
            Err(e) => {
                let _ = tx.send(Err(e)).await;
                return;
            }
        }
    }
}

pub async fn head(
    store: &Arc<ObjectStore>,
    input: HeadObjectInput,
) -> S3Result<S3Response<HeadObjectOutput>> {
    let (bucket, key) = (input.bucket.clone(), input.key.clone());
    let version_id = input.version_id.clone();
    let rec = match blocking(store, move |s| {
        s.open_at(&bucket, &key, version_id.as_deref(), false)
    })
    .await?
    {
        Opened::Object(rec, _) => *rec,
        other => return Err(not_found(other)),
    };
    Conditions {
        if_match: input.if_match,
        if_none_match: input.if_none_match,
        if_modified_since: input.if_modified_since,
        if_unmodified_since: input.if_unmodified_since,
    }
    .check(&rec)?;
    let (_, len, content_range) = span(&input.range, rec.size)?;
    let attrs = rec.attributes;
    let checksum = checksum_for(&input.checksum_mode, &input.range, attrs.checksum.as_ref());
    let mut output = HeadObjectOutput {
        accept_ranges: Some("bytes".into()),
        content_length: Some(len as i64),
        content_range,
        e_tag: Some(ETag::Strong(rec.etag)),
        last_modified: Some(timestamp(rec.last_modified)),
        metadata: (!attrs.metadata.is_empty()).then(|| attrs.metadata.into_iter().collect()),
        content_type: attrs.content_type,
        content_encoding: attrs.content_encoding,
        content_disposition: attrs.content_disposition,
        content_language: attrs.content_language,
        cache_control: attrs.cache_control,
        version_id: rec.version_id.clone().or(input.version_id),
        ..HeadObjectOutput::default()
    };
    set_checksum!(output, checksum);
    Ok(S3Response::new(output))
}

/// DeleteObject; returns the removal's sequencer.
pub async fn delete(
    store: &Arc<ObjectStore>,
    input: DeleteObjectInput,
) -> S3Result<(S3Response<DeleteObjectOutput>, Deletion)> {
    let target = [(input.key, input.version_id)];
    let mut done = blocking(store, move |s| s.delete_many(&input.bucket, &target)).await?;
    // A target is refused alone only for a version id an unversioned bucket cannot have.
    let Some(Ok(deletion)) = done.pop() else {
        return Err(not_found(Opened::InvalidVersion));
    };
    let output = DeleteObjectOutput {
        version_id: deletion.version_id.clone(),
        delete_marker: deletion.delete_marker.then_some(true),
        ..DeleteObjectOutput::default()
    };
    Ok((S3Response::new(output), deletion))
}

/// DeleteObjects, in one transaction; returns what each deletion did.
pub async fn delete_many(
    store: &Arc<ObjectStore>,
    input: DeleteObjectsInput,
) -> S3Result<(S3Response<DeleteObjectsOutput>, Vec<Deletion>)> {
    let quiet = input.delete.quiet.unwrap_or(false);
    let bucket = input.bucket;
    let targets: Vec<(String, Option<String>)> = input
        .delete
        .objects
        .into_iter()
        .map(|o| (o.key, o.version_id))
        .collect();
    let (targets, outcomes) = blocking(store, move |s| {
        let outcomes = s.delete_many(&bucket, &targets)?;
        Ok((targets, outcomes))
    })
    .await?;
    let mut deleted = Vec::new();
    let mut errors = Vec::new();
    let mut done = Vec::new();
    for ((key, version_id), outcome) in targets.into_iter().zip(outcomes) {
        match outcome {
            Ok(d) => {
                if !quiet {
                    deleted.push(DeletedObject {
                        key: Some(key),
                        version_id: version_id.clone(),
                        delete_marker: d.delete_marker.then_some(true),
                        delete_marker_version_id: d
                            .marker_created
                            .then(|| d.version_id.clone())
                            .flatten(),
                    });
                }
                done.push(d);
            }
            // The store refuses a target alone only for a version that cannot exist.
            Err(_) => errors.push(Error {
                key: Some(key),
                version_id,
                code: Some("NoSuchVersion".into()),
                message: Some("The specified version does not exist.".into()),
            }),
        }
    }
    let output = DeleteObjectsOutput {
        deleted: Some(deleted),
        errors: (!errors.is_empty()).then_some(errors),
        ..DeleteObjectsOutput::default()
    };
    Ok((S3Response::new(output), done))
}
