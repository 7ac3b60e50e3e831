//! Bucket policies and Block Public Access settings, kept in `objects.db` beside the bucket
//! rows they belong to.
//!
//! The store keeps a bucket's policy as the text the S3 front-end accepted (AWS returns it
//! unchanged), and its public access block as four flags. A new bucket gets all four flags
//! set, as AWS's buckets have since April 2023, in the transaction that creates it.
//!
//! Every change commits, then moves the store's `access_generation()`, so the parsed view
//! the authorizer caches (`s3::BucketPolicies`) reloads on the next request.
//!
//! Invariant: a policy or a public access block exists only for an existing bucket, and goes
//! with it.

use crate::objects::{sql, ObjectError, ObjectStore};
use rusqlite::{params, OptionalExtension};

pub(crate) const SCHEMA: &str = "
    CREATE TABLE IF NOT EXISTS bucket_policies (
        bucket TEXT PRIMARY KEY,
        policy TEXT NOT NULL
    );
    CREATE TABLE IF NOT EXISTS public_access_blocks (
        bucket TEXT PRIMARY KEY,
        block_public_acls INTEGER NOT NULL,
        ignore_public_acls INTEGER NOT NULL,
        block_public_policy INTEGER NOT NULL,
        restrict_public_buckets INTEGER NOT NULL
    );
";

/// A bucket's Block Public Access settings (`PublicAccessBlockConfiguration`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PublicAccessBlock {
    pub block_public_acls: bool,
    pub ignore_public_acls: bool,
    pub block_public_policy: bool,
    pub restrict_public_buckets: bool,
}

impl PublicAccessBlock {
    /// What a new bucket gets.
    pub const ALL: PublicAccessBlock = PublicAccessBlock {
        block_public_acls: true,
        ignore_public_acls: true,
        block_public_policy: true,
        restrict_public_buckets: true,
    };
}

/// Whether `bucket` exists, read on the connection about to change it.
fn bucket_exists(
    tx: &rusqlite::Connection,
    bucket: &str,
    step: &'static str,
) -> Result<bool, ObjectError> {
    tx.query_row(
        "SELECT EXISTS (SELECT 1 FROM buckets WHERE name = ?1)",
        [bucket],
        |r| r.get(0),
    )
    .map_err(sql(step))
}

impl ObjectStore {
    /// Replaces a bucket's policy (the document's text, checked by the caller).
    pub fn put_bucket_policy(&self, bucket: &str, policy: &str) -> Result<(), ObjectError> {
        const STEP: &str = "storing a bucket policy";
        let mut db = self.db();
        let tx = db.transaction().map_err(sql(STEP))?;
        if !bucket_exists(&tx, bucket, STEP)? {
            return Err(ObjectError::NoSuchBucket(bucket.to_string()));
        }
        tx.execute(
            "INSERT INTO bucket_policies (bucket, policy) VALUES (?1, ?2)
             ON CONFLICT (bucket) DO UPDATE SET policy = excluded.policy",
            params![bucket, policy],
        )
        .map_err(sql(STEP))?;
        tx.commit().map_err(sql(STEP))?;
        self.access_changed();
        Ok(())
    }

    /// A bucket's policy as it was put; `None` when it has none. This is what the authorizer
    /// reads (through `s3::BucketPolicies`, which keeps it parsed).
    pub fn bucket_policy(&self, bucket: &str) -> Result<Option<String>, ObjectError> {
        self.reader()
            .prepare_cached("SELECT policy FROM bucket_policies WHERE bucket = ?1")
            .and_then(|mut s| s.query_row([bucket], |r| r.get(0)).optional())
            .map_err(sql("reading a bucket policy"))
    }

    /// Removes a bucket's policy; removing none is not an error.
    pub fn delete_bucket_policy(&self, bucket: &str) -> Result<(), ObjectError> {
        const STEP: &str = "deleting a bucket policy";
        let mut db = self.db();
        let tx = db.transaction().map_err(sql(STEP))?;
        if !bucket_exists(&tx, bucket, STEP)? {
            return Err(ObjectError::NoSuchBucket(bucket.to_string()));
        }
        tx.execute("DELETE FROM bucket_policies WHERE bucket = ?1", [bucket])
            .map_err(sql(STEP))?;
        tx.commit().map_err(sql(STEP))?;
        self.access_changed();
        Ok(())
    }

    /// Replaces a bucket's Block Public Access settings.
    pub fn put_public_access_block(
        &self,
        bucket: &str,
        block: PublicAccessBlock,
    ) -> Result<(), ObjectError> {
        const STEP: &str = "storing a public access block";
        let mut db = self.db();
        let tx = db.transaction().map_err(sql(STEP))?;
        if !bucket_exists(&tx, bucket, STEP)? {
            return Err(ObjectError::NoSuchBucket(bucket.to_string()));
        }
        insert_public_access_block(&tx, bucket, block).map_err(sql(STEP))?;
        tx.commit().map_err(sql(STEP))?;
        self.access_changed();
        Ok(())
    }

    /// A bucket's Block Public Access settings; `None` when it has none.
    pub fn public_access_block(
        &self,
        bucket: &str,
    ) -> Result<Option<PublicAccessBlock>, ObjectError> {
        self.reader()
            .prepare_cached(
                "SELECT block_public_acls, ignore_public_acls, block_public_policy,
                        restrict_public_buckets
                 FROM public_access_blocks WHERE bucket = ?1",
            )
            .and_then(|mut s| {
                s.query_row([bucket], |r| {
                    Ok(PublicAccessBlock {
                        block_public_acls: r.get(0)?,
                        ignore_public_acls: r.get(1)?,
                        block_public_policy: r.get(2)?,
                        restrict_public_buckets: r.get(3)?,
                    })
                })
                .optional()
            })
            .map_err(sql("reading a public access block"))
    }

    /// Removes a bucket's Block Public Access settings; removing none is not an error.
    pub fn delete_public_access_block(&self, bucket: &str) -> Result<(), ObjectError> {
        const STEP: &str = "deleting a public access block";
        let mut db = self.db();
        let tx = db.transaction().map_err(sql(STEP))?;
        if !bucket_exists(&tx, bucket, STEP)? {
            return Err(ObjectError::NoSuchBucket(bucket.to_string()));
        }
        tx.execute(
            "DELETE FROM public_access_blocks WHERE bucket = ?1",
            [bucket],
        )
        .map_err(sql(STEP))?;
        tx.commit().map_err(sql(STEP))?;
        self.access_changed();
        Ok(())
    }
}

pub(crate) fn insert_public_access_block(
    db: &rusqlite::Connection,
    bucket: &str,
    b: PublicAccessBlock,
) -> rusqlite::Result<usize> {
    db.execute(
        "INSERT INTO public_access_blocks (bucket, block_public_acls, ignore_public_acls,
                                           block_public_policy, restrict_public_buckets)
         VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (bucket) DO UPDATE SET
            block_public_acls = excluded.block_public_acls,
            ignore_public_acls = excluded.ignore_public_acls,
            block_public_policy = excluded.block_public_policy,
            restrict_public_buckets = excluded.restrict_public_buckets",
        params![
            bucket,
            b.block_public_acls,
            b.ignore_public_acls,
            b.block_public_policy,
            b.restrict_public_buckets
        ],
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy_round_trips_survives_reopen_and_dies_with_its_bucket() {
        let dir = tempfile::tempdir().unwrap();
        let text = "{ \"Version\": \"2012-10-17\", \"Statement\": [] }";
        {
            let store = ObjectStore::open(dir.path()).unwrap();
            assert!(matches!(
                store.put_bucket_policy("b", "{}"),
                Err(ObjectError::NoSuchBucket(_))
            ));
            store.create_bucket("b", 1).unwrap();
            assert_eq!(store.bucket_policy("b").unwrap(), None);
            store.put_bucket_policy("b", "{}").unwrap();
            store.put_bucket_policy("b", text).unwrap();
        }
        let store = ObjectStore::open(dir.path()).unwrap();
        assert_eq!(store.bucket_policy("b").unwrap().as_deref(), Some(text));
        store.delete_bucket_policy("b").unwrap();
        store.delete_bucket_policy("b").unwrap();
        assert_eq!(store.bucket_policy("b").unwrap(), None);
        store.put_bucket_policy("b", text).unwrap();
        store.delete_bucket("b").unwrap();
        store.create_bucket("b", 2).unwrap();
        assert_eq!(store.bucket_policy("b").unwrap(), None);
        assert!(matches!(
            store.delete_bucket_policy("nope"),
            Err(ObjectError::NoSuchBucket(_))
        ));
    }

    #[test]
    fn new_buckets_block_public_access_until_told_otherwise() {
        let dir = tempfile::tempdir().unwrap();
        let off = PublicAccessBlock {
            block_public_acls: false,
            ignore_public_acls: true,
            block_public_policy: false,
            restrict_public_buckets: false,
        };
        {
            let store = ObjectStore::open(dir.path()).unwrap();
            store.create_bucket("b", 1).unwrap();
            assert_eq!(
                store.public_access_block("b").unwrap(),
                Some(PublicAccessBlock::ALL)
            );
            store.put_public_access_block("b", off).unwrap();
        }
        let store = ObjectStore::open(dir.path()).unwrap();
        assert_eq!(store.public_access_block("b").unwrap(), Some(off));
        store.delete_public_access_block("b").unwrap();
        store.delete_public_access_block("b").unwrap();
        assert_eq!(store.public_access_block("b").unwrap(), None);
        store.put_public_access_block("b", off).unwrap();
        store.delete_bucket("b").unwrap();
        assert_eq!(store.public_access_block("b").unwrap(), None);
        store.create_bucket("b", 2).unwrap();
        assert_eq!(
            store.public_access_block("b").unwrap(),
            Some(PublicAccessBlock::ALL)
        );
    }
}
