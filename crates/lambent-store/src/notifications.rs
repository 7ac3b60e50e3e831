//! Bucket notification configurations and the event sequencer, kept in `objects.db` beside
//! the bucket rows they belong to.
//!
//! The store keeps a bucket's configuration as the JSON document the S3 front-end hands it
//! (its shape is the front-end's), and one counter that only grows: every committed change
//! (an object row written or removed) takes the next value as its `sequencer`, under the
//! write lock, so sequencers follow commit order, per key and overall. Values are handed out
//! from blocks reserved in `counters` (one commit per [`SEQUENCER_BLOCK`]) before any of the
//! block is used, so a restart continues above every value ever handed out.
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

    /// Takes `n` consecutive sequencers for changes about to be committed; returns the
    /// first. The caller holds the write connection (`db`), so values follow commit order.
    pub(crate) fn take_sequencers(
        &self,
        db: &rusqlite::Connection,
        n: u64,
    ) -> Result<u64, ObjectError> {
        let mut seq = self.sequencers();
        if seq.next + n > seq.limit {
            let limit = seq.next + n + SEQUENCER_BLOCK;
            db.execute(
                "INSERT INTO counters (name, value) VALUES ('sequencer', ?1)
                 ON CONFLICT (name) DO UPDATE SET value = max(value, ?1)",
                [limit as i64],
            )
            .map_err(sql("reserving sequencers"))?;
            seq.limit = limit;
        }
        let first = seq.next + 1;
        seq.next += n;
        Ok(first)
    }

    /// The highest sequencer reserved before: where a newly opened store starts.
    pub(crate) fn reserved_sequencers(db: &rusqlite::Connection) -> Result<u64, ObjectError> {
        db.query_row(
            "SELECT value FROM counters WHERE name = 'sequencer'",
            [],
            |r| r.get::<_, i64>(0),
        )
        .optional()
        .map(|v| v.unwrap_or(0) as u64)
        .map_err(sql("reading the sequencer"))
    }
}

/// Sequencers reserved per commit of the counter.
pub const SEQUENCER_BLOCK: u64 = 1024;

/// Sequencers handed out (`next`) and reserved (`limit`).
#[derive(Debug, Default)]
pub(crate) struct Sequencers {
    pub(crate) next: u64,
    pub(crate) limit: u64,
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
    fn sequencers_follow_commits_and_grow_across_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let commit = |store: &ObjectStore, key: &str| {
            crate::objects::tests::put(store, "b", key, b"x").sequencer
        };
        let (a, removed) = {
            let store = ObjectStore::open(dir.path()).unwrap();
            store.create_bucket("b", 1).unwrap();
            let a = commit(&store, "k");
            let removed = store.delete("b", "k").unwrap();
            assert!(removed > a);
            // More than a block: the reservation moves on.
            let mut last = removed;
            for i in 0..SEQUENCER_BLOCK + 5 {
                let s = commit(&store, &format!("k{i}"));
                assert!(s > last);
                last = s;
            }
            (last, removed)
        };
        let store = ObjectStore::open(dir.path()).unwrap();
        let b = commit(&store, "k");
        assert!(b > a && a > removed);
        assert_eq!(store.head("b", "k").unwrap().unwrap().sequencer, b);
    }
}
