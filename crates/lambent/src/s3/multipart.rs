//! Multipart uploads: CreateMultipartUpload, UploadPart, UploadPartCopy,
//! CompleteMultipartUpload, AbortMultipartUpload, ListParts and ListMultipartUploads, as
//! typed calls on the store's uploads (`lambent_store::multipart`).

use super::checksum::{self, set_checksum, Wanted};
use super::copy::{copy_bytes, copy_range, open_source, source};
use super::objects::{attributes, receive, Conditions};
use super::{blocking, now_millis, owner, timestamp};
use lambent_store::multipart::CompletedPart as StoredPart;
use lambent_store::objects::{ObjectRecord, ObjectStore};
use s3s::dto::*;
use s3s::{s3_error, S3Response, S3Result};
use std::sync::Arc;

/// AWS's default and largest page of parts or uploads.
const MAX_PAGE: i32 = 1000;

fn part_number(n: i32) -> S3Result<u32> {
    if (1..=10_000).contains(&n) {
        Ok(n as u32)
    } else {
        Err(s3_error!(
            InvalidArgument,
            "Part number must be an integer between 1 and 10000, inclusive"
        ))
    }
}

pub async fn create(
    store: &Arc<ObjectStore>,
    input: CreateMultipartUploadInput,
) -> S3Result<S3Response<CreateMultipartUploadOutput>> {
    let attributes = attributes(
        input.content_type,
        input.content_encoding,
        input.content_disposition,
        input.content_language,
        input.cache_control,
        input.metadata,
    );
    let (bucket, key) = (input.bucket.clone(), input.key.clone());
    let id = blocking(store, move |s| {
        s.create_upload(&bucket, &key, &attributes, now_millis())
    })
    .await?;
    Ok(S3Response::new(CreateMultipartUploadOutput {
        bucket: Some(input.bucket),
        key: Some(input.key),
        upload_id: Some(id),
        ..CreateMultipartUploadOutput::default()
    }))
}

/// `NoSuchUpload` unless `id` is an open upload of `bucket`/`key`.
async fn require_upload(
    store: &Arc<ObjectStore>,
    bucket: &str,
    key: &str,
    id: &str,
) -> S3Result<()> {
    let (b, k, i) = (bucket.to_string(), key.to_string(), id.to_string());
    blocking(store, move |s| s.upload(&b, &k, &i))
        .await?
        .ok_or_else(no_such_upload)?;
    Ok(())
}

pub async fn upload_part(
    store: &Arc<ObjectStore>,
    input: UploadPartInput,
    checksum: Option<Wanted>,
) -> S3Result<S3Response<UploadPartOutput>> {
    let number = part_number(input.part_number)?;
    let (bucket, key, id) = (input.bucket, input.key, input.upload_id);
    // Refuse an unknown upload before reading a possibly large body.
    require_upload(store, &bucket, &key, &id).await?;
    let (pending, checksum) = receive(
        store,
        input.body,
        input.content_length,
        input.content_md5.as_deref(),
        checksum,
    )
    .await?;
    let part = blocking(store, move |s| {
        s.commit_part(pending, &bucket, &key, &id, number, now_millis())
    })
    .await?;
    let mut output = UploadPartOutput {
        e_tag: Some(ETag::Strong(part.etag)),
        ..UploadPartOutput::default()
    };
    set_checksum!(output, checksum::fields(checksum.as_ref()));
    Ok(S3Response::new(output))
}

pub async fn upload_part_copy(
    store: &Arc<ObjectStore>,
    input: UploadPartCopyInput,
) -> S3Result<S3Response<UploadPartCopyOutput>> {
    let number = part_number(input.part_number)?;
    let (bucket, key, id) = (input.bucket, input.key, input.upload_id);
    require_upload(store, &bucket, &key, &id).await?;
    let src = source(&input.copy_source)?;
    let conditions = Conditions {
        if_match: input.copy_source_if_match,
        if_none_match: input.copy_source_if_none_match,
        if_modified_since: input.copy_source_if_modified_since,
        if_unmodified_since: input.copy_source_if_unmodified_since,
    };
    let (rec, file) = open_source(store, src, conditions).await?;
    let (start, len) = match &input.copy_source_range {
        Some(range) => copy_range(range, rec.size)?,
        None => (0, rec.size),
    };
    let pending = copy_bytes(store, file, start, len).await?;
    let part = blocking(store, move |s| {
        s.commit_part(pending, &bucket, &key, &id, number, now_millis())
    })
    .await?;
    Ok(S3Response::new(UploadPartCopyOutput {
        copy_part_result: Some(CopyPartResult {
            e_tag: Some(ETag::Strong(part.etag)),
            last_modified: Some(timestamp(part.last_modified)),
            ..CopyPartResult::default()
        }),
        ..UploadPartCopyOutput::default()
    }))
}

pub async fn complete(
    store: &Arc<ObjectStore>,
    input: CompleteMultipartUploadInput,
) -> S3Result<(S3Response<CompleteMultipartUploadOutput>, ObjectRecord)> {
    let mut list = Vec::new();
    for part in input
        .multipart_upload
        .and_then(|m| m.parts)
        .unwrap_or_default()
    {
        let (Some(number), Some(etag)) = (part.part_number, part.e_tag) else {
            return Err(s3_error!(
                MalformedXML,
                "The XML you provided was not well-formed or did not validate against our published schema"
            ));
        };
        list.push(StoredPart {
            // Out-of-range numbers match no stored part: InvalidPart.
            number: u32::try_from(number).unwrap_or(0),
            etag: etag.value().trim_matches('"').to_string(),
        });
    }
    let (bucket, key, id) = (input.bucket.clone(), input.key.clone(), input.upload_id);
    let record = blocking(store, move |s| {
        s.complete_upload(&bucket, &key, &id, &list, now_millis())
    })
    .await?;
    let output = CompleteMultipartUploadOutput {
        location: Some(format!("/{}/{}", input.bucket, input.key)),
        bucket: Some(input.bucket),
        key: Some(input.key),
        e_tag: Some(ETag::Strong(record.etag.clone())),
        version_id: record.version_id.clone(),
        ..CompleteMultipartUploadOutput::default()
    };
    Ok((S3Response::new(output), record))
}

pub async fn abort(
    store: &Arc<ObjectStore>,
    input: AbortMultipartUploadInput,
) -> S3Result<S3Response<AbortMultipartUploadOutput>> {
    blocking(store, move |s| {
        s.abort_upload(&input.bucket, &input.key, &input.upload_id)
    })
    .await?;
    Ok(S3Response::new(AbortMultipartUploadOutput::default()))
}

pub async fn list_parts(
    store: &Arc<ObjectStore>,
    input: ListPartsInput,
) -> S3Result<S3Response<ListPartsOutput>> {
    let max = input.max_parts.unwrap_or(MAX_PAGE).clamp(0, MAX_PAGE) as usize;
    let marker = input.part_number_marker.unwrap_or(0);
    let (bucket, key, id) = (
        input.bucket.clone(),
        input.key.clone(),
        input.upload_id.clone(),
    );
    let parts = blocking(store, move |s| s.parts(&bucket, &key, &id)).await?;
    let mut after: Vec<_> = parts
        .into_iter()
        .filter(|p| i64::from(p.number) > i64::from(marker))
        .collect();
    let truncated = after.len() > max;
    after.truncate(max);
    let next = after.last().map(|p| p.number as i32);
    Ok(S3Response::new(ListPartsOutput {
        bucket: Some(input.bucket),
        key: Some(input.key),
        upload_id: Some(input.upload_id),
        max_parts: Some(max as i32),
        part_number_marker: input.part_number_marker,
        next_part_number_marker: truncated.then_some(next).flatten(),
        is_truncated: Some(truncated),
        owner: Some(owner()),
        storage_class: Some(StorageClass::from_static(StorageClass::STANDARD)),
        parts: Some(
            after
                .into_iter()
                .map(|p| Part {
                    part_number: Some(p.number as i32),
                    size: Some(p.size as i64),
                    e_tag: Some(ETag::Strong(p.etag)),
                    last_modified: Some(timestamp(p.last_modified)),
                    ..Part::default()
                })
                .collect(),
        ),
        ..ListPartsOutput::default()
    }))
}

pub async fn list_uploads(
    store: &Arc<ObjectStore>,
    input: ListMultipartUploadsInput,
) -> S3Result<S3Response<ListMultipartUploadsOutput>> {
    let max = input.max_uploads.unwrap_or(MAX_PAGE).clamp(0, MAX_PAGE) as usize;
    let (bucket, prefix) = (
        input.bucket.clone(),
        input.prefix.clone().unwrap_or_default(),
    );
    let uploads = blocking(store, move |s| s.uploads(&bucket, &prefix)).await?;
    // Resume after (key-marker, upload-id-marker); with a key marker alone, after the key.
    let key_marker = input.key_marker.clone().unwrap_or_default();
    let id_marker = input.upload_id_marker.clone();
    let mut rest: Vec<_> = uploads
        .into_iter()
        .filter(|u| match &id_marker {
            _ if key_marker.is_empty() => true,
            Some(id) => u.key > key_marker || (u.key == key_marker && u.id.as_str() > id.as_str()),
            None => u.key > key_marker,
        })
        .collect();
    let truncated = rest.len() > max;
    rest.truncate(max);
    let (next_key, next_id) = match rest.last().filter(|_| truncated) {
        Some(u) => (Some(u.key.clone()), Some(u.id.clone())),
        None => (None, None),
    };
    Ok(S3Response::new(ListMultipartUploadsOutput {
        bucket: Some(input.bucket),
        prefix: input.prefix,
        key_marker: input.key_marker,
        upload_id_marker: input.upload_id_marker,
        next_key_marker: next_key,
        next_upload_id_marker: next_id,
        max_uploads: Some(max as i32),
        is_truncated: Some(truncated),
        uploads: Some(
            rest.into_iter()
                .map(|u| MultipartUpload {
                    key: Some(u.key),
                    upload_id: Some(u.id),
                    initiated: Some(timestamp(u.initiated)),
                    initiator: Some(Initiator {
                        display_name: Some("lambent".into()),
                        id: Some("lambent".into()),
                    }),
                    owner: Some(owner()),
                    storage_class: Some(StorageClass::from_static(StorageClass::STANDARD)),
                    ..MultipartUpload::default()
                })
                .collect(),
        ),
        ..ListMultipartUploadsOutput::default()
    }))
}

fn no_such_upload() -> s3s::S3Error {
    s3_error!(
        NoSuchUpload,
        "The specified upload does not exist. The upload ID may be invalid, or the upload may \
         have been aborted or completed."
    )
}
