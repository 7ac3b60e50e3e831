//! CreateBucket, HeadBucket, GetBucketLocation, ListBuckets, DeleteBucket.

use super::{blocking, now_millis, timestamp};
use lambent_store::objects::ObjectStore;
use s3s::dto::*;
use s3s::{s3_error, S3Response, S3Result};
use std::sync::Arc;

pub async fn create(
    store: &Arc<ObjectStore>,
    input: CreateBucketInput,
) -> S3Result<S3Response<CreateBucketOutput>> {
    let name = input.bucket.clone();
    blocking(store, move |s| s.create_bucket(&name, now_millis())).await?;
    Ok(S3Response::new(CreateBucketOutput {
        location: Some(format!("/{}", input.bucket)),
    }))
}

async fn require(store: &Arc<ObjectStore>, bucket: &str) -> S3Result<()> {
    let name = bucket.to_string();
    match blocking(store, move |s| s.bucket(&name)).await? {
        Some(_) => Ok(()),
        None => Err(s3_error!(
            NoSuchBucket,
            "The specified bucket does not exist"
        )),
    }
}

pub async fn head(
    store: &Arc<ObjectStore>,
    input: HeadBucketInput,
) -> S3Result<S3Response<HeadBucketOutput>> {
    require(store, &input.bucket).await?;
    Ok(S3Response::new(HeadBucketOutput::default()))
}

pub async fn location(
    store: &Arc<ObjectStore>,
    input: GetBucketLocationInput,
) -> S3Result<S3Response<GetBucketLocationOutput>> {
    require(store, &input.bucket).await?;
    // us-east-1 is reported as an empty location, as AWS does.
    Ok(S3Response::new(GetBucketLocationOutput::default()))
}

pub async fn list(store: &Arc<ObjectStore>) -> S3Result<S3Response<ListBucketsOutput>> {
    let buckets = blocking(store, |s| s.buckets()).await?;
    Ok(S3Response::new(ListBucketsOutput {
        buckets: Some(
            buckets
                .into_iter()
                .map(|b| Bucket {
                    name: Some(b.name),
                    creation_date: Some(timestamp(b.created)),
                    ..Bucket::default()
                })
                .collect(),
        ),
        owner: Some(super::owner()),
        ..ListBucketsOutput::default()
    }))
}

pub async fn delete(
    store: &Arc<ObjectStore>,
    input: DeleteBucketInput,
) -> S3Result<S3Response<DeleteBucketOutput>> {
    blocking(store, move |s| s.delete_bucket(&input.bucket)).await?;
    Ok(S3Response::new(DeleteBucketOutput {}))
}
