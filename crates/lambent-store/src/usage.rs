//! Metered usage, in its own database (`usage.db`): per function, memory size and minute, the
//! requests made and the milliseconds billed, the two figures AWS bills by.
//!
//! Invocations are summed in memory and added here every second (one transaction per flush),
//! so metering costs the invocation path a map update, not a disk write. The database runs
//! WAL with `synchronous=NORMAL`: committed rows survive a crash of lambent (`kill -9`); a
//! power cut may lose the last flushes. Integers only: GB-seconds are computed from
//! `billed_ms × memory_mb` when reported, so totals agree exactly with the REPORT lines.

use crate::StoreError;
use rusqlite::params;
use std::path::Path;
use std::sync::Mutex;

/// What a flush adds to one (function, minute, memory size) bucket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsageDelta {
    pub function: String,
    /// The bucket's minute, as Unix milliseconds (a multiple of 60,000).
    pub minute_ms: i64,
    pub memory_mb: u32,
    pub requests: u64,
    pub billed_ms: u64,
}

/// Usage of one function at one memory size in one calendar month (UTC).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsageRow {
    pub function: String,
    pub memory_mb: u32,
    /// `YYYY-MM`.
    pub month: String,
    pub requests: u64,
    pub billed_ms: u64,
}

pub struct UsageStore {
    db: Mutex<rusqlite::Connection>,
}

fn sql(step: &'static str) -> impl FnOnce(rusqlite::Error) -> StoreError {
    move |source| StoreError::Sql { step, source }
}

impl UsageStore {
    pub fn open(path: &Path) -> Result<UsageStore, StoreError> {
        let db = rusqlite::Connection::open(path).map_err(|source| StoreError::Open {
            path: path.to_path_buf(),
            source,
        })?;
        db.execute_batch(
            "PRAGMA journal_mode=WAL;
             PRAGMA synchronous=NORMAL;
             CREATE TABLE IF NOT EXISTS usage (
                 function TEXT NOT NULL,
                 minute INTEGER NOT NULL,
                 memory_mb INTEGER NOT NULL,
                 requests INTEGER NOT NULL,
                 billed_ms INTEGER NOT NULL,
                 PRIMARY KEY (function, minute, memory_mb)
             );",
        )
        .map_err(sql("creating the usage schema"))?;
        Ok(UsageStore { db: Mutex::new(db) })
    }

    fn db(&self) -> std::sync::MutexGuard<'_, rusqlite::Connection> {
        self.db.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Adds `deltas` in one transaction.
    pub fn add(&self, deltas: &[UsageDelta]) -> Result<(), StoreError> {
        let mut db = self.db();
        let tx = db.transaction().map_err(sql("recording usage"))?;
        {
            let mut stmt = tx
                .prepare_cached(
                    "INSERT INTO usage (function, minute, memory_mb, requests, billed_ms)
                     VALUES (?1, ?2, ?3, ?4, ?5)
                     ON CONFLICT (function, minute, memory_mb) DO UPDATE SET
                         requests = requests + excluded.requests,
                         billed_ms = billed_ms + excluded.billed_ms",
                )
                .map_err(sql("recording usage"))?;
            for d in deltas {
                stmt.execute(params![
                    d.function,
                    d.minute_ms,
                    d.memory_mb,
                    d.requests as i64,
                    d.billed_ms as i64
                ])
                .map_err(sql("recording usage"))?;
            }
        }
        tx.commit().map_err(sql("recording usage"))
    }

    /// Usage from `from_ms` (inclusive) to `to_ms` (exclusive), by minute bucket, of one
    /// function or all, per function, memory size and month.
    pub fn query(
        &self,
        function: Option<&str>,
        from_ms: i64,
        to_ms: i64,
    ) -> Result<Vec<UsageRow>, StoreError> {
        let db = self.db();
        let mut stmt = db
            .prepare_cached(
                "SELECT function, memory_mb, strftime('%Y-%m', minute / 1000, 'unixepoch') AS month,
                        SUM(requests), SUM(billed_ms)
                 FROM usage
                 WHERE minute >= ?1 AND minute < ?2 AND (?3 IS NULL OR function = ?3)
                 GROUP BY function, memory_mb, month
                 ORDER BY function, memory_mb, month",
            )
            .map_err(sql("reading usage"))?;
        let rows = stmt
            .query_map(params![from_ms, to_ms, function], |r| {
                Ok(UsageRow {
                    function: r.get(0)?,
                    memory_mb: r.get(1)?,
                    month: r.get(2)?,
                    requests: r.get::<_, i64>(3)? as u64,
                    billed_ms: r.get::<_, i64>(4)? as u64,
                })
            })
            .map_err(sql("reading usage"))?;
        rows.collect::<Result<_, _>>().map_err(sql("reading usage"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deltas_add_up_per_bucket_and_month() {
        let dir = tempfile::tempdir().unwrap();
        let store = UsageStore::open(&dir.path().join("usage.db")).unwrap();
        // 2026-11-30T23:59 and 2026-12-01T00:00 UTC.
        let nov = 1_796_083_140_000;
        let dec = nov + 60_000;
        let d = |f: &str, minute_ms, memory_mb, requests, billed_ms| UsageDelta {
            function: f.into(),
            minute_ms,
            memory_mb,
            requests,
            billed_ms,
        };
        store
            .add(&[d("a", nov, 128, 2, 10), d("b", nov, 256, 1, 7)])
            .unwrap();
        store
            .add(&[d("a", nov, 128, 1, 5), d("a", dec, 128, 4, 40)])
            .unwrap();
        let rows = store.query(None, 0, i64::MAX).unwrap();
        let brief: Vec<_> = rows
            .iter()
            .map(|r| {
                (
                    r.function.as_str(),
                    r.memory_mb,
                    r.month.as_str(),
                    r.requests,
                    r.billed_ms,
                )
            })
            .collect();
        assert_eq!(
            brief,
            vec![
                ("a", 128, "2026-11", 3, 15),
                ("a", 128, "2026-12", 4, 40),
                ("b", 256, "2026-11", 1, 7),
            ]
        );
        assert_eq!(store.query(Some("b"), 0, i64::MAX).unwrap().len(), 1);
        assert_eq!(store.query(None, dec, i64::MAX).unwrap().len(), 1);
    }
}
