//! ListObjectsV2, ListObjects (v1) and ListObjectVersions: prefix, delimiter, max-keys,
//! continuation tokens, start-after or marker (key and version-id markers), and
//! `encoding-type=url`.

use super::{blocking, timestamp};
use base64::Engine;
use lambent_store::objects::{ListEntry, ListQuery, Listing, ObjectStore};
use lambent_store::versions::{Version, VersionEntry, VersionQuery};
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use s3s::dto::*;
use s3s::{s3_error, S3Response, S3Result};
use std::sync::Arc;

/// AWS's default and largest page.
const MAX_KEYS: i32 = 1000;

/// What `encoding-type=url` leaves as is: unreserved characters and `/`.
const KEEP: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~')
    .remove(b'/');

pub async fn list_v2(
    store: &Arc<ObjectStore>,
    input: ListObjectsV2Input,
) -> S3Result<S3Response<ListObjectsV2Output>> {
    let max_keys = input.max_keys.unwrap_or(MAX_KEYS).clamp(0, MAX_KEYS);
    // The token (opaque to clients) is the last key or prefix returned; it wins over
    // StartAfter.
    let after = match &input.continuation_token {
        Some(token) => Some(
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(token)
                .ok()
                .and_then(|b| String::from_utf8(b).ok())
                .ok_or_else(|| {
                    s3_error!(
                        InvalidArgument,
                        "The continuation token provided is incorrect"
                    )
                })?,
        ),
        None => input.start_after.clone(),
    };
    let page = walk(
        store,
        &input.bucket,
        &input.prefix,
        &input.delimiter,
        after,
        max_keys,
    )
    .await?;
    let encode = encoder(input.encoding_type.as_ref());
    let key_count = page.entries.len() as i32;
    let (contents, prefixes) = entries(page.entries, &encode);
    Ok(S3Response::new(ListObjectsV2Output {
        name: Some(input.bucket),
        prefix: Some(encode(input.prefix.unwrap_or_default())),
        delimiter: input.delimiter.map(encode),
        start_after: input.start_after.map(encode),
        max_keys: Some(max_keys),
        key_count: Some(key_count),
        is_truncated: Some(page.next_after.is_some()),
        next_continuation_token: page
            .next_after
            .map(|a| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(a)),
        continuation_token: input.continuation_token,
        contents: (!contents.is_empty()).then_some(contents),
        common_prefixes: (!prefixes.is_empty()).then_some(prefixes),
        encoding_type: input.encoding_type,
        ..ListObjectsV2Output::default()
    }))
}

/// ListObjects (v1): the same walk, resumed after `marker`; `NextMarker` (the last key or
/// rolled-up prefix returned) only when a delimiter was given, as AWS does; without one,
/// clients resume after the last key listed.
pub async fn list_v1(
    store: &Arc<ObjectStore>,
    input: ListObjectsInput,
) -> S3Result<S3Response<ListObjectsOutput>> {
    let max_keys = input.max_keys.unwrap_or(MAX_KEYS).clamp(0, MAX_KEYS);
    let after = input.marker.clone().filter(|m| !m.is_empty());
    let page = walk(
        store,
        &input.bucket,
        &input.prefix,
        &input.delimiter,
        after,
        max_keys,
    )
    .await?;
    let encode = encoder(input.encoding_type.as_ref());
    let (contents, prefixes) = entries(page.entries, &encode);
    let has_delimiter = input.delimiter.as_deref().is_some_and(|d| !d.is_empty());
    Ok(S3Response::new(ListObjectsOutput {
        name: Some(input.bucket),
        prefix: Some(encode(input.prefix.unwrap_or_default())),
        delimiter: input.delimiter.map(encode),
        marker: Some(encode(input.marker.unwrap_or_default())),
        max_keys: Some(max_keys),
        is_truncated: Some(page.next_after.is_some()),
        next_marker: page.next_after.filter(|_| has_delimiter).map(encode),
        contents: (!contents.is_empty()).then_some(contents),
        common_prefixes: (!prefixes.is_empty()).then_some(prefixes),
        encoding_type: input.encoding_type,
        ..ListObjectsOutput::default()
    }))
}

/// One page of the store's listing walk, shared by both versions.
async fn walk(
    store: &Arc<ObjectStore>,
    bucket: &str,
    prefix: &Option<String>,
    delimiter: &Option<String>,
    after: Option<String>,
    max_keys: i32,
) -> S3Result<Listing> {
    let (bucket, prefix, delimiter) = (
        bucket.to_string(),
        prefix.clone().unwrap_or_default(),
        delimiter.clone(),
    );
    blocking(store, move |s| {
        s.list(
            &bucket,
            &ListQuery {
                prefix: &prefix,
                delimiter: delimiter.as_deref(),
                after: after.as_deref(),
                max_keys: max_keys as usize,
            },
        )
    })
    .await
}

/// How names come out: percent-encoded under `encoding-type=url`, else as they are.
fn encoder(encoding_type: Option<&EncodingType>) -> impl Fn(String) -> String + Copy {
    let url = encoding_type.is_some_and(|e| e.as_str() == EncodingType::URL);
    move |s: String| {
        if url {
            utf8_percent_encode(&s, KEEP).to_string()
        } else {
            s
        }
    }
}

/// A page's entries as S3's `Contents` and `CommonPrefixes`, names passed through `encode`.
fn entries(
    page: Vec<ListEntry>,
    encode: &dyn Fn(String) -> String,
) -> (Vec<Object>, Vec<CommonPrefix>) {
    let mut contents = Vec::new();
    let mut prefixes = Vec::new();
    for entry in page {
        match entry {
            ListEntry::Object(o) => contents.push(Object {
                size: Some(o.size as i64),
                last_modified: Some(timestamp(o.last_modified)),
                e_tag: Some(ETag::Strong(o.etag.clone())),
                key: Some(encode(o.key.clone())),
                storage_class: Some(ObjectStorageClass::from_static(
                    ObjectStorageClass::STANDARD,
                )),
                ..Object::default()
            }),
            ListEntry::Prefix(p) => prefixes.push(CommonPrefix {
                prefix: Some(encode(p)),
            }),
        }
    }
    (contents, prefixes)
}

/// ListObjectVersions: each key's versions newest first (delete markers among them), keys
/// in byte order, rolled up at the delimiter like the key listings; an unversioned bucket's
/// objects are their latest `null` versions. The markers are echoed, empty when not given,
/// as AWS does.
pub async fn list_versions(
    store: &Arc<ObjectStore>,
    input: ListObjectVersionsInput,
) -> S3Result<S3Response<ListObjectVersionsOutput>> {
    let max_keys = input.max_keys.unwrap_or(MAX_KEYS).clamp(0, MAX_KEYS);
    let (bucket, prefix, delimiter) = (
        input.bucket.clone(),
        input.prefix.clone().unwrap_or_default(),
        input.delimiter.clone(),
    );
    let (key_marker, version_marker) = (input.key_marker.clone(), input.version_id_marker.clone());
    let page = blocking(store, move |s| {
        s.list_versions(
            &bucket,
            &VersionQuery {
                prefix: &prefix,
                delimiter: delimiter.as_deref(),
                key_marker: key_marker.as_deref(),
                version_id_marker: version_marker.as_deref(),
                max_keys: max_keys as usize,
            },
        )
    })
    .await?;
    let encode = encoder(input.encoding_type.as_ref());
    let mut versions = Vec::new();
    let mut markers = Vec::new();
    let mut prefixes = Vec::new();
    for entry in page.entries {
        match entry {
            VersionEntry::Version {
                version: Version::Object(o),
                is_latest,
            } => versions.push(ObjectVersion {
                e_tag: Some(ETag::Strong(o.etag.clone())),
                is_latest: Some(is_latest),
                key: Some(encode(o.key.clone())),
                last_modified: Some(timestamp(o.last_modified)),
                owner: Some(super::owner()),
                size: Some(o.size as i64),
                storage_class: Some(ObjectVersionStorageClass::from_static(
                    ObjectVersionStorageClass::STANDARD,
                )),
                version_id: Some(o.version_id.clone().unwrap_or_else(|| "null".into())),
                checksum_algorithm: o
                    .attributes
                    .checksum
                    .as_ref()
                    .map(|c| vec![ChecksumAlgorithm::from(c.algorithm.clone())]),
                ..ObjectVersion::default()
            }),
            VersionEntry::Version {
                version:
                    Version::DeleteMarker {
                        key,
                        version_id,
                        last_modified,
                    },
                is_latest,
            } => markers.push(DeleteMarkerEntry {
                is_latest: Some(is_latest),
                key: Some(encode(key)),
                last_modified: Some(timestamp(last_modified)),
                owner: Some(super::owner()),
                version_id: Some(version_id),
            }),
            VersionEntry::Prefix(p) => prefixes.push(CommonPrefix {
                prefix: Some(encode(p)),
            }),
        }
    }
    let (next_key, next_version) = match page.next {
        Some((key, version)) => (Some(encode(key)), version),
        None => (None, None),
    };
    Ok(S3Response::new(ListObjectVersionsOutput {
        name: Some(input.bucket),
        prefix: Some(encode(input.prefix.unwrap_or_default())),
        delimiter: input.delimiter.filter(|d| !d.is_empty()).map(encode),
        key_marker: Some(encode(input.key_marker.unwrap_or_default())),
        version_id_marker: Some(input.version_id_marker.unwrap_or_default()),
        max_keys: Some(max_keys),
        is_truncated: Some(next_key.is_some()),
        next_key_marker: next_key,
        next_version_id_marker: next_version,
        versions: (!versions.is_empty()).then_some(versions),
        delete_markers: (!markers.is_empty()).then_some(markers),
        common_prefixes: (!prefixes.is_empty()).then_some(prefixes),
        encoding_type: input.encoding_type,
        ..ListObjectVersionsOutput::default()
    }))
}
