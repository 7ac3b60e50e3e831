//! The asynchronous invocation queue: events accepted with `202`, kept until they are
//! delivered or have finally failed, in their own SQLite database (`queue.db`, WAL, full
//! sync).
//!
//! Every write goes through one writer thread that commits whatever has arrived meanwhile in
//! one transaction (group commit): one `fsync` acknowledges a whole batch, so many clients
//! enqueueing at once share the disk's latency instead of queueing behind each other. A
//! write's completion runs only after its transaction committed: an event whose enqueue
//! completed survives `kill -9`.
//!
//! An event stays `pending` while it runs; only its outcome changes it (deleted when
//! delivered, rescheduled for a retry, or `failed`). A restart therefore runs again whatever
//! was running: delivery is at least once.

use crate::StoreError;
use rusqlite::{params, OptionalExtension};
use std::path::Path;
use std::sync::mpsc;
use std::sync::Mutex;

/// An event as accepted.
#[derive(Debug, Clone)]
pub struct NewEvent {
    pub request_id: String,
    pub function: String,
    /// The qualifier as invoked; `None` for an unqualified call.
    pub qualifier: Option<String>,
    pub payload: Vec<u8>,
    pub client_context: Option<String>,
    pub enqueued_ms: i64,
    /// The chain of events this one continues: a trace header's `Lineage` field.
    pub lineage: Option<String>,
}

/// A stored event.
#[derive(Debug, Clone)]
pub struct Event {
    pub id: i64,
    pub request_id: String,
    pub function: String,
    pub qualifier: Option<String>,
    pub payload: Vec<u8>,
    pub client_context: Option<String>,
    pub enqueued_ms: i64,
    /// Invocations made so far (throttles do not count).
    pub attempts: u32,
    /// Throttled deliveries so far, for the back-off.
    pub throttles: u32,
    pub due_ms: i64,
    /// The last error document the function returned, kept for the failure record.
    pub response: Option<Vec<u8>>,
    pub lineage: Option<String>,
}

/// An event that will not be delivered, kept for `lambent events failed`.
#[derive(Debug, Clone)]
pub struct FailedEvent {
    /// The event, with the last error document the function returned if it ran.
    pub event: Event,
    /// AWS's condition: `RetriesExhausted`, `EventAgeExceeded`, or why lambent gave up.
    pub condition: String,
    pub failed_ms: i64,
}

/// A change to the queue, with what to do once it is committed.
enum Write {
    Enqueue(NewEvent, Done<i64>),
    Delete(i64, Done<()>),
    Reschedule {
        id: i64,
        attempts: u32,
        throttles: u32,
        due_ms: i64,
        response: Option<Vec<u8>>,
        done: Done<()>,
    },
    Fail {
        id: i64,
        attempts: u32,
        condition: String,
        response: Option<Vec<u8>>,
        failed_ms: i64,
        done: Done<()>,
    },
}

type Done<T> = Box<dyn FnOnce(Result<T, StoreError>) + Send>;

/// The queue. Reads use their own connection; writes go to the writer thread.
pub struct Queue {
    writes: mpsc::Sender<Write>,
    reads: Mutex<rusqlite::Connection>,
}

/// The most writes committed in one transaction.
const MAX_BATCH: usize = 512;

const COLUMNS: &str = "id, request_id, function, qualifier, payload, client_context, enqueued_ms,
                       attempts, throttles, due_ms, response, lineage";

fn sql(step: &'static str) -> impl FnOnce(rusqlite::Error) -> StoreError {
    move |source| StoreError::Sql { step, source }
}

fn row_to_event(row: &rusqlite::Row<'_>) -> rusqlite::Result<Event> {
    Ok(Event {
        id: row.get(0)?,
        request_id: row.get(1)?,
        function: row.get(2)?,
        qualifier: row.get(3)?,
        payload: row.get(4)?,
        client_context: row.get(5)?,
        enqueued_ms: row.get(6)?,
        attempts: row.get(7)?,
        throttles: row.get(8)?,
        due_ms: row.get(9)?,
        response: row.get(10)?,
        lineage: row.get(11)?,
    })
}

impl Queue {
    /// Opens (creating if needed) the queue database at `path` and starts its writer.
    pub fn open(path: &Path) -> Result<Queue, StoreError> {
        let open = || {
            rusqlite::Connection::open(path).map_err(|source| StoreError::Open {
                path: path.to_path_buf(),
                source,
            })
        };
        let writer = open()?;
        writer
            .execute_batch(
                "PRAGMA journal_mode=WAL;
                 PRAGMA synchronous=FULL;
                 CREATE TABLE IF NOT EXISTS events (
                     id INTEGER PRIMARY KEY AUTOINCREMENT,
                     request_id TEXT NOT NULL,
                     function TEXT NOT NULL,
                     qualifier TEXT,
                     payload BLOB NOT NULL,
                     client_context TEXT,
                     enqueued_ms INTEGER NOT NULL,
                     attempts INTEGER NOT NULL DEFAULT 0,
                     throttles INTEGER NOT NULL DEFAULT 0,
                     due_ms INTEGER NOT NULL,
                     state TEXT NOT NULL DEFAULT 'pending',
                     condition TEXT,
                     response BLOB,
                     failed_ms INTEGER,
                     lineage TEXT
                 );
                 CREATE INDEX IF NOT EXISTS events_due ON events (state, due_ms);",
            )
            .map_err(sql("creating the queue schema"))?;
        add_lineage_column(&writer)?;
        let reads = open()?;
        let (writes, rx) = mpsc::channel::<Write>();
        std::thread::Builder::new()
            .name("lambent-queue-writer".into())
            .spawn(move || write_loop(writer, rx))
            .map_err(|source| StoreError::Io {
                step: "starting the queue writer for",
                path: path.to_path_buf(),
                source,
            })?;
        Ok(Queue {
            writes,
            reads: Mutex::new(reads),
        })
    }

    fn send(&self, w: Write) {
        if let Err(mpsc::SendError(w)) = self.writes.send(w) {
            // The writer is gone (it only ends when the queue is dropped): say so.
            let gone = || StoreError::Io {
                step: "writing to",
                path: "queue.db".into(),
                source: std::io::Error::other("the queue writer stopped"),
            };
            match w {
                Write::Enqueue(_, done) => done(Err(gone())),
                Write::Delete(_, done)
                | Write::Reschedule { done, .. }
                | Write::Fail { done, .. } => done(Err(gone())),
            }
        }
    }

    /// Stores `event`; `done` runs with its id once it is committed.
    pub fn enqueue(
        &self,
        event: NewEvent,
        done: impl FnOnce(Result<i64, StoreError>) + Send + 'static,
    ) {
        self.send(Write::Enqueue(event, Box::new(done)));
    }

    /// Removes a delivered event.
    pub fn delete(&self, id: i64, done: impl FnOnce(Result<(), StoreError>) + Send + 'static) {
        self.send(Write::Delete(id, Box::new(done)));
    }

    /// Sets an event's counters and when it is next due, keeping `response` (the error
    /// document of the attempt that failed) when given.
    pub fn reschedule(
        &self,
        id: i64,
        (attempts, throttles): (u32, u32),
        due_ms: i64,
        response: Option<Vec<u8>>,
        done: impl FnOnce(Result<(), StoreError>) + Send + 'static,
    ) {
        self.send(Write::Reschedule {
            id,
            attempts,
            throttles,
            due_ms,
            response,
            done: Box::new(done),
        });
    }

    /// Marks an event as finally failed.
    pub fn fail(
        &self,
        id: i64,
        attempts: u32,
        condition: &str,
        response: Option<Vec<u8>>,
        failed_ms: i64,
        done: impl FnOnce(Result<(), StoreError>) + Send + 'static,
    ) {
        self.send(Write::Fail {
            id,
            attempts,
            condition: condition.to_string(),
            response,
            failed_ms,
            done: Box::new(done),
        });
    }

    fn reads(&self) -> std::sync::MutexGuard<'_, rusqlite::Connection> {
        self.reads.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Up to `limit` pending events due at `now_ms`, oldest due first, leaving out the ids in
    /// `skip` (those already running) and the functions in `full` (those running all they
    /// may).
    pub fn due(
        &self,
        now_ms: i64,
        limit: usize,
        skip: &[i64],
        full: &[&str],
    ) -> Result<Vec<Event>, StoreError> {
        let marks = |n: usize, from: usize| {
            (0..n)
                .map(|i| format!("?{}", from + i))
                .collect::<Vec<_>>()
                .join(",")
        };
        let query = format!(
            "SELECT {COLUMNS} FROM events WHERE state = 'pending' AND due_ms <= ?1
             AND id NOT IN ({}) AND function NOT IN ({})
             ORDER BY due_ms, id LIMIT ?2",
            marks(skip.len(), 3),
            marks(full.len(), 3 + skip.len()),
        );
        let mut values: Vec<rusqlite::types::Value> = vec![now_ms.into(), (limit as i64).into()];
        values.extend(skip.iter().map(|id| rusqlite::types::Value::from(*id)));
        values.extend(
            full.iter()
                .map(|f| rusqlite::types::Value::from(f.to_string())),
        );
        let db = self.reads();
        let mut stmt = db.prepare(&query).map_err(sql("reading due events"))?;
        let rows = stmt
            .query_map(rusqlite::params_from_iter(values), row_to_event)
            .map_err(sql("reading due events"))?;
        rows.collect::<Result<_, _>>()
            .map_err(sql("reading due events"))
    }

    /// When the earliest pending event not in `skip` is due, if any.
    pub fn next_due_ms(&self) -> Result<Option<i64>, StoreError> {
        self.reads()
            .query_row(
                "SELECT MIN(due_ms) FROM events WHERE state = 'pending'",
                [],
                |r| r.get::<_, Option<i64>>(0),
            )
            .map_err(sql("reading the next due time"))
    }

    /// Pending events and when the oldest was accepted.
    pub fn depth(&self) -> Result<(u64, Option<i64>), StoreError> {
        self.reads()
            .query_row(
                "SELECT COUNT(*), MIN(enqueued_ms) FROM events WHERE state = 'pending'",
                [],
                |r| Ok((r.get::<_, i64>(0)? as u64, r.get::<_, Option<i64>>(1)?)),
            )
            .map_err(sql("measuring the queue"))
    }

    /// Failed events, of one function or all, oldest failure first.
    pub fn failed(&self, function: Option<&str>) -> Result<Vec<FailedEvent>, StoreError> {
        let db = self.reads();
        let mut stmt = db
            .prepare_cached(&format!(
                "SELECT {COLUMNS}, condition, failed_ms FROM events
                 WHERE state = 'failed' AND (?1 IS NULL OR function = ?1)
                 ORDER BY failed_ms, id"
            ))
            .map_err(sql("listing failed events"))?;
        let rows = stmt
            .query_map(params![function], |row| {
                Ok(FailedEvent {
                    event: row_to_event(row)?,
                    condition: row.get::<_, Option<String>>(12)?.unwrap_or_default(),
                    failed_ms: row.get::<_, Option<i64>>(13)?.unwrap_or(0),
                })
            })
            .map_err(sql("listing failed events"))?;
        rows.collect::<Result<_, _>>()
            .map_err(sql("listing failed events"))
    }

    /// One event by id, in whatever state.
    pub fn get(&self, id: i64) -> Result<Option<Event>, StoreError> {
        self.reads()
            .query_row(
                &format!("SELECT {COLUMNS} FROM events WHERE id = ?1"),
                [id],
                row_to_event,
            )
            .optional()
            .map_err(sql("reading an event"))
    }
}

/// Queues made before recursion detection have no `lineage` column: adds it.
fn add_lineage_column(db: &rusqlite::Connection) -> Result<(), StoreError> {
    let has = db
        .prepare("SELECT 1 FROM pragma_table_info('events') WHERE name = 'lineage'")
        .and_then(|mut s| s.exists([]))
        .map_err(sql("reading the queue schema"))?;
    if !has {
        db.execute_batch("ALTER TABLE events ADD COLUMN lineage TEXT")
            .map_err(sql("adding the lineage column"))?;
    }
    Ok(())
}

/// The writer thread: commits what has arrived in one transaction, then completes it.
fn write_loop(mut db: rusqlite::Connection, rx: mpsc::Receiver<Write>) {
    while let Ok(first) = rx.recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(w) => batch.push(w),
                Err(_) => break,
            }
        }
        let committed = (|| -> rusqlite::Result<Vec<rusqlite::Result<i64>>> {
            let tx = db.transaction()?;
            let results = batch.iter().map(|w| apply(&tx, w)).collect();
            tx.commit()?;
            Ok(results)
        })();
        match committed {
            Ok(results) => {
                for (w, result) in batch.into_iter().zip(results) {
                    complete(w, result);
                }
            }
            Err(e) => {
                // Nothing of the batch is stored: every write reports the failure.
                let message = e.to_string();
                for w in batch {
                    complete(
                        w,
                        Err(rusqlite::Error::SqliteFailure(
                            rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_IOERR),
                            Some(format!("the queue's transaction did not commit: {message}")),
                        )),
                    );
                }
            }
        }
    }
}

fn apply(tx: &rusqlite::Transaction<'_>, w: &Write) -> rusqlite::Result<i64> {
    match w {
        Write::Enqueue(e, _) => {
            tx.prepare_cached(
                "INSERT INTO events (request_id, function, qualifier, payload, client_context,
                                     enqueued_ms, due_ms, lineage)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6, ?7)",
            )?
            .execute(params![
                e.request_id,
                e.function,
                e.qualifier,
                e.payload,
                e.client_context,
                e.enqueued_ms,
                e.lineage
            ])?;
            Ok(tx.last_insert_rowid())
        }
        Write::Delete(id, _) => {
            tx.prepare_cached("DELETE FROM events WHERE id = ?1")?
                .execute([id])?;
            Ok(*id)
        }
        Write::Reschedule {
            id,
            attempts,
            throttles,
            due_ms,
            response,
            ..
        } => {
            tx.prepare_cached(
                "UPDATE events SET attempts = ?2, throttles = ?3, due_ms = ?4,
                        response = COALESCE(?5, response) WHERE id = ?1",
            )?
            .execute(params![id, attempts, throttles, due_ms, response])?;
            Ok(*id)
        }
        Write::Fail {
            id,
            attempts,
            condition,
            response,
            failed_ms,
            ..
        } => {
            tx.prepare_cached(
                "UPDATE events SET state = 'failed', attempts = ?2, condition = ?3,
                        response = COALESCE(?4, response), failed_ms = ?5 WHERE id = ?1",
            )?
            .execute(params![id, attempts, condition, response, failed_ms])?;
            Ok(*id)
        }
    }
}

fn complete(w: Write, outcome: Result<i64, rusqlite::Error>) {
    let err = |source| StoreError::Sql {
        step: "writing the queue",
        source,
    };
    match w {
        Write::Enqueue(_, done) => done(outcome.map_err(err)),
        Write::Delete(_, done) | Write::Reschedule { done, .. } | Write::Fail { done, .. } => {
            done(outcome.map(|_| ()).map_err(err))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(n: u32) -> NewEvent {
        NewEvent {
            request_id: format!("req-{n}"),
            function: "f".into(),
            qualifier: None,
            payload: format!("{{\"n\":{n}}}").into_bytes(),
            client_context: None,
            lineage: None,
            enqueued_ms: 1_000,
        }
    }

    fn wait<T: Send + 'static>(
        f: impl FnOnce(Box<dyn FnOnce(Result<T, StoreError>) + Send>),
    ) -> Result<T, StoreError> {
        let (tx, rx) = mpsc::channel();
        f(Box::new(move |r| {
            let _ = tx.send(r);
        }));
        rx.recv().expect("the writer completes every write")
    }

    #[test]
    fn events_survive_reopening_and_move_through_their_states() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("queue.db");
        let ids: Vec<i64> = {
            let q = Queue::open(&path).unwrap();
            (0..3)
                .map(|n| wait(|d| q.enqueue(event(n), d)).unwrap())
                .collect()
        };
        let q = Queue::open(&path).unwrap();
        let due = q.due(1_000, 10, &[], &[]).unwrap();
        assert_eq!(due.iter().map(|e| e.id).collect::<Vec<_>>(), ids);
        assert_eq!(due[1].payload, b"{\"n\":1}");
        assert_eq!(q.depth().unwrap(), (3, Some(1_000)));
        // Skipped while running; rescheduled into the future; delivered; failed.
        assert_eq!(q.due(1_000, 10, &[ids[0]], &[]).unwrap().len(), 2);
        assert!(q.due(1_000, 10, &[], &["f"]).unwrap().is_empty());
        wait(|d| q.reschedule(ids[0], (1, 0), 61_000, Some(b"{\"e\":1}".to_vec()), d)).unwrap();
        wait(|d| q.delete(ids[1], d)).unwrap();
        wait(|d| {
            q.fail(
                ids[2],
                3,
                "RetriesExhausted",
                Some(b"{}".to_vec()),
                5_000,
                d,
            )
        })
        .unwrap();
        assert!(q.due(1_000, 10, &[], &[]).unwrap().is_empty());
        assert_eq!(q.next_due_ms().unwrap(), Some(61_000));
        let again = q.due(61_000, 10, &[], &[]).unwrap();
        assert_eq!((again[0].id, again[0].attempts), (ids[0], 1));
        assert_eq!(again[0].response.as_deref(), Some(&b"{\"e\":1}"[..]));
        let failed = q.failed(Some("f")).unwrap();
        assert_eq!(failed.len(), 1);
        assert_eq!(failed[0].condition, "RetriesExhausted");
        assert_eq!(failed[0].event.attempts, 3);
        assert!(q.failed(Some("other")).unwrap().is_empty());
    }

    #[test]
    fn concurrent_enqueues_share_commits() {
        let dir = tempfile::tempdir().unwrap();
        let q = std::sync::Arc::new(Queue::open(&dir.path().join("queue.db")).unwrap());
        let (tx, rx) = mpsc::channel();
        for n in 0..500 {
            let tx = tx.clone();
            q.enqueue(event(n), move |r| {
                let _ = tx.send(r.is_ok());
            });
        }
        drop(tx);
        assert_eq!(rx.iter().filter(|ok| *ok).count(), 500);
        assert_eq!(q.depth().unwrap().0, 500);
    }
}
