//! CopyObject, and the copy source that UploadPartCopy shares with it: the source named by
//! `x-amz-copy-source`, checked against the `x-amz-copy-source-if-*` conditions, whose bytes
//! (or a range of them) are streamed into a new pending file and committed like a put.

use super::objects::{attributes, not_found, precondition_failed, Conditions};
use super::{blocking, now_millis, timestamp};
use lambent_store::objects::{ObjectRecord, ObjectStore, PendingObject};
use lambent_store::versions::Opened;
use s3s::dto::*;
use s3s::{s3_error, S3Error, S3ErrorCode, S3Response, S3Result};
use std::fs::File;
use std::sync::Arc;

/// A copy source's bucket and key, or `InvalidArgument` for forms lambent has no notion of
/// (access points).
/// The source's bucket, key and version (`?versionId=`), as `x-amz-copy-source` names them.
pub(super) struct Source {
    pub bucket: String,
    pub key: String,
    pub version_id: Option<String>,
}

pub(super) fn source(copy_source: &CopySource) -> S3Result<Source> {
    match copy_source {
        CopySource::Bucket {
            bucket,
            key,
            version_id,
        } => Ok(Source {
            bucket: bucket.to_string(),
            key: key.to_string(),
            version_id: version_id.as_deref().map(str::to_string),
        }),
        _ => Err(s3_error!(
            InvalidArgument,
            "Copy Source must mention the source bucket and key: sourcebucket/sourcekey"
        )),
    }
}

/// Opens the source object and checks the copy-source conditions. Unlike a read, a failed
/// If-None-Match or If-Modified-Since is a 412 here, as AWS answers.
pub(super) async fn open_source(
    store: &Arc<ObjectStore>,
    source: Source,
    conditions: Conditions,
) -> S3Result<(ObjectRecord, File)> {
    let opened = blocking(store, move |s| {
        s.open_at(
            &source.bucket,
            &source.key,
            source.version_id.as_deref(),
            true,
        )
    })
    .await?;
    let (rec, file) = match opened {
        Opened::Object(rec, Some(file)) => (*rec, file),
        // A delete marker named by its id cannot be copied: S3 says 400 for it.
        Opened::DeleteMarker(_) => {
            return Err(s3_error!(
                InvalidRequest,
                "The source of a copy request may not specifically refer to a delete marker by version id."
            ))
        }
        other => return Err(not_found(other)),
    };
    conditions.check(&rec).map_err(|e| {
        if *e.code() == S3ErrorCode::NotModified {
            precondition_failed()
        } else {
            e
        }
    })?;
    Ok((rec, file))
}

/// Streams `len` bytes of `file` from `start` into a new pending file, off the async threads.
pub(super) async fn copy_bytes(
    store: &Arc<ObjectStore>,
    mut file: File,
    start: u64,
    len: u64,
) -> S3Result<PendingObject> {
    blocking(store, move |s| {
        let mut pending = s.begin()?;
        pending.copy_from(&mut file, start, len)?;
        Ok(pending)
    })
    .await
}

pub async fn copy_object(
    store: &Arc<ObjectStore>,
    input: CopyObjectInput,
) -> S3Result<(S3Response<CopyObjectOutput>, ObjectRecord)> {
    let src = source(&input.copy_source)?;
    let replace = input
        .metadata_directive
        .as_ref()
        .is_some_and(|d| d.as_str() == MetadataDirective::REPLACE);
    // Copying a version of a key onto the key is restoring it, which S3 allows.
    if src.bucket == input.bucket && src.key == input.key && src.version_id.is_none() && !replace {
        return Err(s3_error!(
            InvalidRequest,
            "This copy request is illegal because it is trying to copy an object to itself \
             without changing the object's metadata, storage class, website redirect location \
             or encryption attributes."
        ));
    }
    let conditions = Conditions {
        if_match: input.copy_source_if_match,
        if_none_match: input.copy_source_if_none_match,
        if_modified_since: input.copy_source_if_modified_since,
        if_unmodified_since: input.copy_source_if_unmodified_since,
    };
    let source_version = src.version_id.clone();
    let (source, file) = open_source(store, src, conditions).await?;
    // COPY (the default) keeps the source's content headers and metadata and ignores the
    // request's; REPLACE takes them all from the request. The bytes, and so their
    // checksum, are the source's either way.
    let attributes = if replace {
        let mut a = attributes(
            input.content_type,
            input.content_encoding,
            input.content_disposition,
            input.content_language,
            input.cache_control,
            input.metadata,
        );
        a.checksum = source.attributes.checksum;
        a
    } else {
        source.attributes
    };
    let pending = copy_bytes(store, file, 0, source.size).await?;
    let (bucket, key) = (input.bucket, input.key);
    let record = blocking(store, move |s| {
        s.commit(pending, &bucket, &key, attributes, now_millis())
    })
    .await?;
    let output = CopyObjectOutput {
        copy_object_result: Some(CopyObjectResult {
            e_tag: Some(ETag::Strong(record.etag.clone())),
            last_modified: Some(timestamp(record.last_modified)),
            ..CopyObjectResult::default()
        }),
        version_id: record.version_id.clone(),
        copy_source_version_id: source_version.or_else(|| source.version_id.clone()),
        ..CopyObjectOutput::default()
    };
    Ok((S3Response::new(output), record))
}

/// `x-amz-copy-source-range: bytes=first-last` (both inclusive, both required) as a start
/// and a length within an object of `size` bytes.
pub(super) fn copy_range(range: &str, size: u64) -> S3Result<(u64, u64)> {
    let parsed = range
        .strip_prefix("bytes=")
        .and_then(|r| r.split_once('-'))
        .and_then(|(a, b)| Some((a.parse::<u64>().ok()?, b.parse::<u64>().ok()?)));
    let Some((first, last)) = parsed.filter(|(a, b)| a <= b) else {
        return Err(s3_error!(
            InvalidArgument,
            "The x-amz-copy-source-range value must be of the form bytes=first-last where \
             first and last are the zero-based offsets of the first and last bytes to copy"
        ));
    };
    if last >= size {
        return Err(S3Error::with_message(
            S3ErrorCode::InvalidRange,
            "The requested range is not satisfiable",
        ));
    }
    Ok((first, last - first + 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copy_ranges_are_inclusive_and_within_the_object() {
        assert_eq!(copy_range("bytes=0-9", 100).unwrap(), (0, 10));
        assert_eq!(copy_range("bytes=99-99", 100).unwrap(), (99, 1));
        let code = |r: &str| copy_range(r, 100).unwrap_err().code().clone();
        assert_eq!(code("bytes=0-100"), S3ErrorCode::InvalidRange);
        assert_eq!(code("bytes=5-1"), S3ErrorCode::InvalidArgument);
        assert_eq!(code("bytes=5-"), S3ErrorCode::InvalidArgument);
        assert_eq!(code("0-5"), S3ErrorCode::InvalidArgument);
    }
}
