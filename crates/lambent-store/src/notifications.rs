//! Bucket notification configurations and the event sequencer, kept in `objects.db` beside
//! the bucket rows they belong to.
//!
//! The store keeps a bucket's configuration as the JSON document the S3 front-end hands it
//! (its shape is the front-end's), and one counter that only grows: each notification takes
//! the next value as its `sequencer`, so sequencers increase per key, across restarts too.
//!
//! Invariant: a configuration exists only for an existing bucket, and goes with it.

use crate::objects::{sql, ObjectError, ObjectStore};
use rusqlite::{params, OptionalExtension};

pub(crate) const SCHEMA: &str = "
    CREATE TABLE IF NOT EXISTS notifications (
        bucket TEXT PRIMARY KEY,
        config TEXT NOT NULL
    );
    CREATE TABLE IF NOT EXISTS counters (
        name TEXT PRIMARY KEY,
        value INTEGER NOT NULL
    );
";

impl ObjectStore {
    /// Replaces a bucket's notification configuration (a JSON document).
    pub fn put_notifications(&self, bucket: &str, config: &str) -> Result<(), ObjectError> {
        let mut db = self.db();
        let tx = db.transaction().map_err(sql("storing notifications"))?;
        let exists: bool = tx
            .query_row(
                "SELECT EXISTS (SELECT 1 FROM buckets WHERE name = ?1)",
                [bucket],
                |r| r.get(0),
            )
            .map_err(sql("storing notifications"))?;
        if !exists {
            return Err(ObjectError::NoSuchBucket(bucket.to_string()));
        }
        tx.execute(
            "INSERT INTO notifications (bucket, config) VALUES (?1, ?2)
             ON CONFLICT (bucket) DO UPDATE SET config = excluded.config",
            params![bucket, config],
        )
        .map_err(sql("storing notifications"))?;
        tx.commit().map_err(sql("storing notifications"))
    }

    /// A bucket's notification configuration; `None` when none was put.
    pub fn notifications(&self, bucket: &str) -> Result<Option<String>, ObjectError> {
        self.reader()
            .query_row(
                "SELECT config FROM notifications WHERE bucket = ?1",
                [bucket],
                |r| r.get(0),
            )
            .optional()
            .map_err(sql("reading notifications"))
    }

    /// Takes the next notification sequencer: larger than every one taken before.
    pub fn next_sequencer(&self) -> Result<u64, ObjectError> {
        let value: i64 = self
            .db()
            .query_row(
                "INSERT INTO counters (name, value) VALUES ('sequencer', 1)
                 ON CONFLICT (name) DO UPDATE SET value = value + 1
                 RETURNING value",
                [],
                |r| r.get(0),
            )
            .map_err(sql("taking a sequencer"))?;
        Ok(value as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn configuration_round_trips_and_dies_with_its_bucket() {
        let dir = tempfile::tempdir().unwrap();
        let store = ObjectStore::open(dir.path()).unwrap();
        assert!(matches!(
            store.put_notifications("b", "{}"),
            Err(ObjectError::NoSuchBucket(_))
        ));
        store.create_bucket("b", 1).unwrap();
        store.put_notifications("b", "{\"a\":1}").unwrap();
        assert_eq!(
            store.notifications("b").unwrap().as_deref(),
            Some("{\"a\":1}")
        );
        store.delete_bucket("b").unwrap();
        store.create_bucket("b", 2).unwrap();
        assert_eq!(store.notifications("b").unwrap(), None);
    }

    #[test]
    fn sequencers_grow_across_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let a = ObjectStore::open(dir.path())
            .unwrap()
            .next_sequencer()
            .unwrap();
        let store = ObjectStore::open(dir.path()).unwrap();
        let b = store.next_sequencer().unwrap();
        assert!(b > a);
        assert!(store.next_sequencer().unwrap() > b);
    }
}
