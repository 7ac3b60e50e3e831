//! Bucket-level Block Public Access: PutPublicAccessBlock, GetPublicAccessBlock and
//! DeletePublicAccessBlock. A new bucket has all four settings on (the store sets them when
//! it creates the bucket); `BlockPublicPolicy` is enforced by PutBucketPolicy (`policy.rs`).
//!
//! Invariant: the settings are stored and returned as the four flags AWS names, nothing else.

use super::{blocking, Api};
use lambent_store::policies::PublicAccessBlock;
use s3s::dto::*;
use s3s::{S3Error, S3ErrorCode, S3Response, S3Result};

fn not_found() -> S3Error {
    let mut e = S3Error::with_message(
        S3ErrorCode::Custom("NoSuchPublicAccessBlockConfiguration".into()),
        "The public access block configuration was not found",
    );
    e.set_status_code(http::StatusCode::NOT_FOUND);
    e
}

impl Api {
    pub(super) async fn put_public_access(
        &self,
        input: PutPublicAccessBlockInput,
    ) -> S3Result<S3Response<PutPublicAccessBlockOutput>> {
        let c = input.public_access_block_configuration;
        let block = PublicAccessBlock {
            block_public_acls: c.block_public_acls.unwrap_or(false),
            ignore_public_acls: c.ignore_public_acls.unwrap_or(false),
            block_public_policy: c.block_public_policy.unwrap_or(false),
            restrict_public_buckets: c.restrict_public_buckets.unwrap_or(false),
        };
        let bucket = input.bucket;
        blocking(&self.store, move |s| {
            s.put_public_access_block(&bucket, block)
        })
        .await?;
        Ok(S3Response::new(PutPublicAccessBlockOutput {}))
    }

    pub(super) async fn get_public_access(
        &self,
        input: GetPublicAccessBlockInput,
    ) -> S3Result<S3Response<GetPublicAccessBlockOutput>> {
        let bucket = input.bucket;
        let block = blocking(&self.store, move |s| {
            if s.bucket(&bucket)?.is_none() {
                return Err(lambent_store::objects::ObjectError::NoSuchBucket(bucket));
            }
            s.public_access_block(&bucket)
        })
        .await?
        .ok_or_else(not_found)?;
        Ok(S3Response::new(GetPublicAccessBlockOutput {
            public_access_block_configuration: Some(PublicAccessBlockConfiguration {
                block_public_acls: Some(block.block_public_acls),
                ignore_public_acls: Some(block.ignore_public_acls),
                block_public_policy: Some(block.block_public_policy),
                restrict_public_buckets: Some(block.restrict_public_buckets),
            }),
        }))
    }

    pub(super) async fn delete_public_access(
        &self,
        input: DeletePublicAccessBlockInput,
    ) -> S3Result<S3Response<DeletePublicAccessBlockOutput>> {
        let bucket = input.bucket;
        blocking(&self.store, move |s| s.delete_public_access_block(&bucket)).await?;
        Ok(S3Response::new(DeletePublicAccessBlockOutput {}))
    }
}
