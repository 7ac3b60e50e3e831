//! The object store behind lambent's S3 API: buckets and objects under `<data-dir>/objects/`.
//!
//! Layout: `objects.db` (SQLite, WAL, `synchronous=FULL`) holds one row per bucket and one
//! per object (key, size, MD5, content headers, user metadata, the name of its data file);
//! `data/<uuid>` holds each object's bytes. A write streams into `data/.tmp-<uuid>` (written
//! aside), is synced, renamed to `data/<uuid>` with the directory synced, and only then does
//! one transaction point the key at the new file; the file it replaced is removed after the
//! commit. So concurrent writers to one key each write their own file and the last commit
//! wins whole, and after `kill -9` a key names either its old or its new file. What a crash
//! can leave (temp files, renamed files no row names) is removed by [`ObjectStore::open`].
//! Object rows are group-committed: writers that arrive while a commit syncs share the next
//! transaction (one WAL `fsync`), each still answered only once its row is durable. Reads
//! use connections of their own, so they never wait for a commit.
//! Multipart uploads (`crate::multipart`) share the database and the `data/` directory: their
//! parts are written the same way, and a part row names its file as an object row does. In a
//! bucket that has had versioning, `crate::versions` keeps every version: a commit also writes
//! the version's row, in the same transaction, and a replaced file stays while a version
//! names it.
//!
//! Invariant: no HTTP and no XML; an object exists for readers exactly when its row is
//! committed, and a row never names a file that was not synced first.

use md5::{Digest, Md5};
use rusqlite::{params, OptionalExtension};
use std::collections::{BTreeMap, HashSet};
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

pub use crate::listing::{ListEntry, ListQuery, Listing};
use crate::notifications::Sequencers;
use crate::versions::{Deletion, Versioning};

/// Failures of the object store, each naming the step that failed.
#[derive(Debug, thiserror::Error)]
pub enum ObjectError {
    #[error("the bucket {0} does not exist")]
    NoSuchBucket(String),
    #[error("the bucket {0} already exists")]
    BucketExists(String),
    #[error("the bucket {0} is not empty")]
    BucketNotEmpty(String),
    #[error("{step}: {source}")]
    Sql {
        step: &'static str,
        source: rusqlite::Error,
    },
    #[error("decoding the metadata of {key}: {source}")]
    Decode {
        key: String,
        source: serde_json::Error,
    },
    #[error("no version of {0} has the id given")]
    NoSuchVersion(String),
    #[error("the upload {0} does not exist")]
    NoSuchUpload(String),
    #[error("part {0} was not uploaded or its ETag differs")]
    InvalidPart(u32),
    #[error("the parts are not in ascending order")]
    InvalidPartOrder,
    #[error("part {number} is {size} bytes, under the 5 MiB minimum")]
    EntityTooSmall {
        number: u32,
        size: u64,
        etag: String,
    },
    #[error("no part was listed")]
    NoParts,
    #[error("{step} {path}: {source}")]
    Io {
        step: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
}

pub(crate) fn io(step: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> ObjectError {
    let path = path.to_path_buf();
    move |source| ObjectError::Io { step, path, source }
}

pub(crate) fn sql(step: &'static str) -> impl FnOnce(rusqlite::Error) -> ObjectError {
    move |source| ObjectError::Sql { step, source }
}

/// A bucket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BucketRecord {
    pub name: String,
    /// Unix milliseconds.
    pub created: i64,
}

/// What a writer says about an object besides its bytes.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ObjectAttributes {
    pub content_type: Option<String>,
    pub content_encoding: Option<String>,
    pub content_disposition: Option<String>,
    pub content_language: Option<String>,
    pub cache_control: Option<String>,
    /// User metadata (`x-amz-meta-*`), names lowercased.
    pub metadata: BTreeMap<String, String>,
    /// The additional checksum the upload asked for, computed over the whole object.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checksum: Option<StoredChecksum>,
}

/// An additional checksum (`x-amz-checksum-*`): AWS's algorithm name and base64 value.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct StoredChecksum {
    pub algorithm: String,
    pub value: String,
}

/// A committed object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectRecord {
    pub key: String,
    pub size: u64,
    /// Lowercase hex MD5 of the bytes, unquoted.
    pub etag: String,
    /// Unix milliseconds.
    pub last_modified: i64,
    pub attributes: ObjectAttributes,
    /// The notification sequencer of the commit that wrote this version
    /// (`crate::notifications`).
    pub sequencer: u64,
    /// The version this record is (`null` for the null version), or `None` in a bucket
    /// that never had versioning (`crate::versions`).
    pub version_id: Option<String>,
    file: String,
}

impl ObjectRecord {
    /// The name of its data file under `data/`.
    pub(crate) fn file_name(&self) -> &str {
        &self.file
    }
}

/// An object being written aside: bytes go to a temp file while their size and MD5 are
/// counted. Dropping it without [`ObjectStore::commit`] removes the temp file.
pub struct PendingObject {
    file: Option<File>,
    temp: PathBuf,
    name: String,
    size: u64,
    md5: Md5,
    /// The ETag to record instead of the MD5 (a multipart object's `<md5>-N`).
    pub(crate) etag: Option<String>,
}

/// A pending file made durable: synced and renamed to `data/<name>`, not yet named by a row.
pub(crate) struct Settled {
    pub(crate) name: String,
    pub(crate) size: u64,
    pub(crate) md5_hex: String,
    pub(crate) etag: Option<String>,
}

impl PendingObject {
    pub fn write(&mut self, bytes: &[u8]) -> Result<(), ObjectError> {
        let file = self.file.as_mut().ok_or_else(|| ObjectError::Io {
            step: "writing",
            path: self.temp.clone(),
            source: std::io::Error::other("already finished"),
        })?;
        file.write_all(bytes).map_err(io("writing", &self.temp))?;
        self.md5.update(bytes);
        self.size += bytes.len() as u64;
        Ok(())
    }

    pub fn size(&self) -> u64 {
        self.size
    }

    /// The hex MD5 of what was written so far.
    pub fn md5_hex(&self) -> String {
        hex::encode(self.md5.clone().finalize())
    }

    /// Appends `len` bytes of `file` from `start`, a megabyte at a time (copies and
    /// multipart completion never hold an object in memory).
    pub fn copy_from(&mut self, file: &mut File, start: u64, len: u64) -> Result<(), ObjectError> {
        use std::io::{Read, Seek};
        let path = self.temp.clone();
        file.seek(std::io::SeekFrom::Start(start))
            .map_err(io("seeking the source of", &path))?;
        let mut buf = vec![0; COPY_CHUNK];
        let mut left = len;
        while left > 0 {
            let want = buf.len().min(left as usize);
            let n = file
                .read(&mut buf[..want])
                .map_err(io("reading the source of", &path))?;
            if n == 0 {
                return Err(ObjectError::Io {
                    step: "reading the source of",
                    path,
                    source: std::io::ErrorKind::UnexpectedEof.into(),
                });
            }
            self.write(&buf[..n])?;
            left -= n as u64;
        }
        Ok(())
    }
}

/// Bytes per read when copying between files.
const COPY_CHUNK: usize = 1024 * 1024;

impl Drop for PendingObject {
    fn drop(&mut self) {
        if self.file.is_some() {
            let _ = std::fs::remove_file(&self.temp);
        }
    }
}

/// The object store. Writes go through one SQLite connection and reads through others
/// (WAL: a read never waits for a commit's `fsync`), each behind a mutex (rusqlite
/// connections are not `Sync`); statements are short, and the file work (writes, syncs)
/// happens outside them. Object rows are group-committed: see [`ObjectStore::commit`].
pub struct ObjectStore {
    pub(crate) data: PathBuf,
    db: Mutex<rusqlite::Connection>,
    /// Read connections; a reader takes whichever is free.
    reads: Vec<Mutex<rusqlite::Connection>>,
    /// Object rows waiting for the next group commit.
    rows: Mutex<Vec<RowWrite>>,
    /// Taken only while holding `db`, so sequencers follow commit order.
    sequencers: Mutex<Sequencers>,
    /// Moves after every committed change to who may access a bucket (its policy, its
    /// public access block, the bucket itself), so a cache of them knows when to reload.
    access_generation: std::sync::atomic::AtomicU64,
}

/// Read connections kept open: about one per core, so readers rarely wait.
const READERS: usize = 4;

/// One object row to commit, and where its committer leaves the outcome.
struct RowWrite {
    bucket: String,
    record: ObjectRecord,
    attributes: String,
    done: Arc<Mutex<Option<RowOutcome>>>,
}

/// A committed row's outcome: the file no row names any more (the key's previous content,
/// unless a version keeps it), the row's sequencer and the version it made.
type RowOutcome = Result<Committed, ObjectError>;

struct Committed {
    replaced: Option<String>,
    sequencer: u64,
    version_id: Option<String>,
}

impl ObjectStore {
    /// Opens (creating if needed) the store under `root`, removing what a crash left behind.
    pub fn open(root: &Path) -> Result<ObjectStore, ObjectError> {
        let data = root.join("data");
        std::fs::create_dir_all(&data).map_err(io("creating", &data))?;
        let path = root.join("objects.db");
        let conn = rusqlite::Connection::open(&path).map_err(sql("opening objects.db"))?;
        conn.execute_batch(
            "PRAGMA journal_mode=WAL;
             PRAGMA synchronous=FULL;
             CREATE TABLE IF NOT EXISTS buckets (
                 name TEXT PRIMARY KEY,
                 created INTEGER NOT NULL
             );
             CREATE TABLE IF NOT EXISTS objects (
                 bucket TEXT NOT NULL,
                 key TEXT NOT NULL,
                 size INTEGER NOT NULL,
                 etag TEXT NOT NULL,
                 last_modified INTEGER NOT NULL,
                 attributes TEXT NOT NULL,
                 file TEXT NOT NULL,
                 sequencer INTEGER NOT NULL DEFAULT 0,
                 PRIMARY KEY (bucket, key)
             );",
        )
        .map_err(sql("creating the objects schema"))?;
        add_sequencer_column(&conn)?;
        add_version_column(&conn)?;
        conn.execute_batch(crate::versions::SCHEMA)
            .map_err(sql("creating the objects schema"))?;
        conn.execute_batch(crate::multipart::SCHEMA)
            .map_err(sql("creating the objects schema"))?;
        conn.execute_batch(crate::notifications::SCHEMA)
            .map_err(sql("creating the objects schema"))?;
        conn.execute_batch(crate::policies::SCHEMA)
            .map_err(sql("creating the objects schema"))?;
        let reserved = ObjectStore::reserved_sequencers(&conn)?;
        let reads = (0..READERS)
            .map(|_| {
                rusqlite::Connection::open(&path)
                    .map(Mutex::new)
                    .map_err(sql("opening objects.db"))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let store = ObjectStore {
            data,
            db: Mutex::new(conn),
            reads,
            rows: Mutex::new(Vec::new()),
            sequencers: Mutex::new(Sequencers {
                next: reserved,
                limit: reserved,
            }),
            access_generation: std::sync::atomic::AtomicU64::new(0),
        };
        store.remove_strays()?;
        Ok(store)
    }

    /// The access generation: read it before reading a bucket's policy or public access
    /// block, and keep what was read only while it has not moved.
    pub fn access_generation(&self) -> u64 {
        self.access_generation
            .load(std::sync::atomic::Ordering::Acquire)
    }

    /// Marks a committed change to a bucket's access; call after the commit.
    pub(crate) fn access_changed(&self) {
        self.access_generation
            .fetch_add(1, std::sync::atomic::Ordering::AcqRel);
    }

    /// The connection that writes.
    pub(crate) fn db(&self) -> std::sync::MutexGuard<'_, rusqlite::Connection> {
        // SQLite rolls back what a panicking holder left open, so a poisoned lock is safe.
        self.db.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn sequencers(&self) -> std::sync::MutexGuard<'_, Sequencers> {
        self.sequencers.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The connection that only reads: it sees what is committed.
    pub(crate) fn reader(&self) -> std::sync::MutexGuard<'_, rusqlite::Connection> {
        for conn in &self.reads {
            match conn.try_lock() {
                Ok(guard) => return guard,
                Err(std::sync::TryLockError::Poisoned(e)) => return e.into_inner(),
                Err(std::sync::TryLockError::WouldBlock) => {}
            }
        }
        // All busy: wait for one, spreading the waiters.
        static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let i = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed) % self.reads.len();
        self.reads[i].lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Removes temp files and data files no row names: a crash between rename and commit,
    /// or between committing a completed upload's object and removing its parts.
    fn remove_strays(&self) -> Result<(), ObjectError> {
        let named: HashSet<String> = {
            let db = self.db();
            let mut stmt = db
                .prepare(
                    "SELECT file FROM objects UNION ALL SELECT file FROM parts
                     UNION ALL SELECT file FROM versions WHERE file IS NOT NULL",
                )
                .map_err(sql("listing data files"))?;
            let rows = stmt
                .query_map([], |r| r.get::<_, String>(0))
                .map_err(sql("listing data files"))?;
            rows.collect::<Result<_, _>>()
                .map_err(sql("listing data files"))?
        };
        let entries = std::fs::read_dir(&self.data).map_err(io("reading", &self.data))?;
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if !named.contains(&name) {
                let _ = std::fs::remove_file(entry.path());
            }
        }
        Ok(())
    }

    /// Creates a bucket, with every Block Public Access setting on (AWS's default for new
    /// buckets since April 2023).
    pub fn create_bucket(&self, name: &str, now: i64) -> Result<(), ObjectError> {
        const STEP: &str = "creating a bucket";
        let mut db = self.db();
        let tx = db.transaction().map_err(sql(STEP))?;
        let n = tx
            .execute(
                "INSERT OR IGNORE INTO buckets (name, created) VALUES (?1, ?2)",
                params![name, now],
            )
            .map_err(sql(STEP))?;
        if n == 0 {
            return Err(ObjectError::BucketExists(name.to_string()));
        }
        crate::policies::insert_public_access_block(
            &tx,
            name,
            crate::policies::PublicAccessBlock::ALL,
        )
        .map_err(sql(STEP))?;
        tx.commit().map_err(sql(STEP))?;
        self.access_changed();
        Ok(())
    }

    pub fn bucket(&self, name: &str) -> Result<Option<BucketRecord>, ObjectError> {
        self.reader()
            .prepare_cached("SELECT name, created FROM buckets WHERE name = ?1")
            .and_then(|mut s| {
                s.query_row([name], |r| {
                    Ok(BucketRecord {
                        name: r.get(0)?,
                        created: r.get(1)?,
                    })
                })
                .optional()
            })
            .map_err(sql("reading a bucket"))
    }

    pub fn buckets(&self) -> Result<Vec<BucketRecord>, ObjectError> {
        let db = self.reader();
        let mut stmt = db
            .prepare("SELECT name, created FROM buckets ORDER BY name")
            .map_err(sql("listing buckets"))?;
        let rows = stmt
            .query_map([], |r| {
                Ok(BucketRecord {
                    name: r.get(0)?,
                    created: r.get(1)?,
                })
            })
            .map_err(sql("listing buckets"))?;
        rows.collect::<Result<_, _>>()
            .map_err(sql("listing buckets"))
    }

    /// Deletes an empty bucket.
    pub fn delete_bucket(&self, name: &str) -> Result<(), ObjectError> {
        let mut db = self.db();
        let tx = db.transaction().map_err(sql("deleting a bucket"))?;
        // Noncurrent versions and delete markers count, as on S3.
        let has_object: bool = tx
            .query_row(
                "SELECT EXISTS (SELECT 1 FROM objects WHERE bucket = ?1)
                     OR EXISTS (SELECT 1 FROM versions WHERE bucket = ?1)",
                [name],
                |r| r.get(0),
            )
            .map_err(sql("deleting a bucket"))?;
        if has_object {
            return Err(ObjectError::BucketNotEmpty(name.to_string()));
        }
        let n = tx
            .execute("DELETE FROM buckets WHERE name = ?1", [name])
            .map_err(sql("deleting a bucket"))?;
        if n == 0 {
            return Err(ObjectError::NoSuchBucket(name.to_string()));
        }
        tx.execute("DELETE FROM notifications WHERE bucket = ?1", [name])
            .map_err(sql("deleting a bucket"))?;
        tx.execute("DELETE FROM bucket_policies WHERE bucket = ?1", [name])
            .map_err(sql("deleting a bucket"))?;
        tx.execute("DELETE FROM public_access_blocks WHERE bucket = ?1", [name])
            .map_err(sql("deleting a bucket"))?;
        tx.execute("DELETE FROM bucket_versioning WHERE bucket = ?1", [name])
            .map_err(sql("deleting a bucket"))?;
        tx.commit().map_err(sql("deleting a bucket"))?;
        drop(db);
        self.access_changed();
        // Uploads still open die with their bucket, as on AWS, so their parts do not leak.
        self.drop_bucket_uploads(name)
    }

    /// Starts writing an object aside.
    pub fn begin(&self) -> Result<PendingObject, ObjectError> {
        let name = uuid::Uuid::new_v4().simple().to_string();
        let temp = self.data.join(format!(".tmp-{name}"));
        let file = File::create(&temp).map_err(io("creating", &temp))?;
        Ok(PendingObject {
            file: Some(file),
            temp,
            name,
            size: 0,
            md5: Md5::new(),
            etag: None,
        })
    }

    /// Makes a pending file durable under its final name: sync it, rename it into place,
    /// sync the directory. The caller then commits a row naming it (or removes it).
    pub(crate) fn settle(&self, pending: PendingObject) -> Result<Settled, ObjectError> {
        let settled = self.settle_file(pending)?;
        if let Err(e) = self.sync_data_dir() {
            let _ = std::fs::remove_file(self.data.join(&settled.name));
            return Err(e);
        }
        Ok(settled)
    }

    /// Makes the rename of every file settled so far durable.
    fn sync_data_dir(&self) -> Result<(), ObjectError> {
        File::open(&self.data)
            .and_then(|d| d.sync_all())
            .map_err(io("syncing", &self.data))
    }

    /// Syncs a pending file and renames it into place; its rename is durable only once the
    /// directory is synced ([`Self::sync_data_dir`]).
    fn settle_file(&self, mut pending: PendingObject) -> Result<Settled, ObjectError> {
        let Some(file) = pending.file.take() else {
            return Err(ObjectError::Io {
                step: "committing",
                path: pending.temp.clone(),
                source: std::io::Error::other("already finished"),
            });
        };
        let temp = pending.temp.clone();
        let cleanup = |e: ObjectError| {
            let _ = std::fs::remove_file(&temp);
            e
        };
        file.sync_all()
            .map_err(io("syncing", &temp))
            .map_err(cleanup)?;
        drop(file);
        let final_path = self.data.join(&pending.name);
        std::fs::rename(&temp, &final_path)
            .map_err(io("renaming", &temp))
            .map_err(cleanup)?;
        let settled = Settled {
            name: pending.name.clone(),
            size: pending.size,
            md5_hex: pending.md5_hex(),
            etag: pending.etag.take(),
        };
        Ok(settled)
    }

    /// Makes a written object the key's content: sync, rename into place, then (with
    /// whatever other writers queued meanwhile) sync the directory and commit the rows.
    /// Returns the committed record. Blocks on `fsync`.
    pub fn commit(
        &self,
        pending: PendingObject,
        bucket: &str,
        key: &str,
        attributes: ObjectAttributes,
        now: i64,
    ) -> Result<ObjectRecord, ObjectError> {
        // The directory is synced once per group commit, for every rename in it.
        let settled = self.settle_file(pending)?;
        let final_path = self.data.join(&settled.name);
        let record = ObjectRecord {
            key: key.to_string(),
            size: settled.size,
            etag: settled.etag.unwrap_or(settled.md5_hex),
            last_modified: now,
            attributes,
            sequencer: 0,
            version_id: None,
            file: settled.name,
        };
        match self.commit_row(bucket, &record) {
            Ok(c) => {
                if let Some(old) = c.replaced {
                    let _ = std::fs::remove_file(self.data.join(old));
                }
                Ok(ObjectRecord {
                    sequencer: c.sequencer,
                    version_id: c.version_id,
                    ..record
                })
            }
            Err(e) => {
                let _ = std::fs::remove_file(&final_path);
                Err(e)
            }
        }
    }

    /// Points the key at the record's file; returns the file it named before.
    ///
    /// Group commit: the row joins the queue, then its writer takes the write connection.
    /// Whoever holds it commits every queued row in one transaction (one `fsync` for all)
    /// and leaves each its outcome before letting go; so once a writer holds the
    /// connection, its row is either done or still queued for it to commit.
    fn commit_row(&self, bucket: &str, record: &ObjectRecord) -> RowOutcome {
        let attributes =
            serde_json::to_string(&record.attributes).map_err(|source| ObjectError::Decode {
                key: record.key.clone(),
                source,
            })?;
        let done = Arc::new(Mutex::new(None));
        self.queued_rows().push(RowWrite {
            bucket: bucket.to_string(),
            record: record.clone(),
            attributes,
            done: Arc::clone(&done),
        });
        let mut db = self.db();
        if let Some(outcome) = take(&done) {
            return outcome;
        }
        let batch = std::mem::take(&mut *self.queued_rows());
        // Every queued row's file was renamed before it was queued: one directory sync
        // makes all those renames durable before any row names its file.
        let outcomes = match self.sync_data_dir() {
            Ok(()) => self.commit_rows(&mut db, &batch),
            Err(e) => {
                let message = e.to_string();
                batch
                    .iter()
                    .map(|_| {
                        Err(ObjectError::Io {
                            step: "syncing",
                            path: self.data.clone(),
                            source: std::io::Error::other(message.clone()),
                        })
                    })
                    .collect()
            }
        };
        for (row, outcome) in batch.iter().zip(outcomes) {
            *row.done.lock().unwrap_or_else(|e| e.into_inner()) = Some(outcome);
        }
        drop(db);
        take(&done).unwrap_or_else(|| {
            Err(ObjectError::Sql {
                step: "committing an object",
                source: rusqlite::Error::InvalidQuery,
            })
        })
    }

    /// Commits a batch of object rows in one transaction; one outcome per row. A row whose
    /// bucket is gone fails alone; a transaction that does not commit fails them all.
    fn commit_rows(&self, db: &mut rusqlite::Connection, batch: &[RowWrite]) -> Vec<RowOutcome> {
        let failed_all = |e: ObjectError| -> Vec<RowOutcome> {
            let message = e.to_string();
            batch
                .iter()
                .map(|_| {
                    Err(ObjectError::Sql {
                        step: "committing an object",
                        source: rusqlite::Error::SqliteFailure(
                            rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_IOERR),
                            Some(message.clone()),
                        ),
                    })
                })
                .collect()
        };
        let first = match self.take_sequencers(db, batch.len() as u64) {
            Ok(first) => first,
            Err(e) => return failed_all(e),
        };
        let tx = match db.transaction() {
            Ok(tx) => tx,
            Err(e) => return failed_all(sql("committing an object")(e)),
        };
        let outcomes = (first..)
            .zip(batch)
            .map(|(sequencer, row)| commit_one(&tx, row, sequencer))
            .collect();
        match tx.commit() {
            Ok(()) => outcomes,
            Err(e) => failed_all(sql("committing an object")(e)),
        }
    }

    fn queued_rows(&self) -> std::sync::MutexGuard<'_, Vec<RowWrite>> {
        self.rows.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The committed record of a key.
    pub fn head(&self, bucket: &str, key: &str) -> Result<Option<ObjectRecord>, ObjectError> {
        let row = self
            .reader()
            .prepare_cached(
                "SELECT key, size, etag, last_modified, attributes, file, sequencer, version_id
                 FROM objects WHERE bucket = ?1 AND key = ?2",
            )
            .and_then(|mut s| s.query_row(params![bucket, key], row_parts).optional())
            .map_err(sql("reading an object"))?;
        row.map(record).transpose()
    }

    /// A key's record with its bytes opened. A writer may replace (and remove) the file
    /// between reading the row and opening it; then the new row is read again.
    pub fn open_object(
        &self,
        bucket: &str,
        key: &str,
    ) -> Result<Option<(ObjectRecord, File)>, ObjectError> {
        for _ in 0..8 {
            let Some(rec) = self.head(bucket, key)? else {
                return Ok(None);
            };
            let path = self.data.join(&rec.file);
            match File::open(&path) {
                Ok(f) => return Ok(Some((rec, f))),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => return Err(io("opening", &path)(e)),
            }
        }
        Err(ObjectError::Io {
            step: "opening (replaced too often while reading)",
            path: self.data.clone(),
            source: std::io::Error::from(std::io::ErrorKind::NotFound),
        })
    }

    /// Removes a key (or, with `version_id`, one version of it); returns the change's
    /// sequencer. Removing a key that does not exist succeeds, as on S3 (in a versioned
    /// bucket, it makes a delete marker).
    pub fn delete(&self, bucket: &str, key: &str) -> Result<u64, ObjectError> {
        let mut done = self.delete_many(bucket, &[(key.to_string(), None)])?;
        Ok(done.pop().and_then(Result::ok).map_or(0, |d| d.sequencer))
    }

    /// Removes keys or versions in one transaction, each as S3's DeleteObject does for the
    /// bucket's versioning state (`crate::versions`); one outcome per target, in order. In
    /// an unversioned bucket a version id other than `null` names nothing (`NoSuchVersion`).
    pub fn delete_many(
        &self,
        bucket: &str,
        targets: &[(String, Option<String>)],
    ) -> Result<Vec<Result<Deletion, ObjectError>>, ObjectError> {
        let (outcomes, files) = {
            let mut db = self.db();
            let first = self.take_sequencers(&db, targets.len() as u64)?;
            let tx = db.transaction().map_err(sql("deleting objects"))?;
            let exists: bool = tx
                .query_row(
                    "SELECT EXISTS (SELECT 1 FROM buckets WHERE name = ?1)",
                    [bucket],
                    |r| r.get(0),
                )
                .map_err(sql("deleting objects"))?;
            if !exists {
                return Err(ObjectError::NoSuchBucket(bucket.to_string()));
            }
            let versioning = crate::versions::state(&tx, bucket)?;
            let mut files = Vec::new();
            let mut outcomes = Vec::new();
            for (sequencer, (key, version_id)) in (first..).zip(targets) {
                // A version that cannot exist is that target's refusal; any other failure
                // rolls the whole transaction back.
                match delete_one(
                    &tx,
                    versioning,
                    bucket,
                    key,
                    version_id.as_deref(),
                    sequencer,
                    &mut files,
                ) {
                    Err(e @ ObjectError::NoSuchVersion(_)) => outcomes.push(Err(e)),
                    Err(e) => return Err(e),
                    Ok(d) => outcomes.push(Ok(d)),
                }
            }
            tx.commit().map_err(sql("deleting objects"))?;
            (outcomes, files)
        };
        for file in &files {
            let _ = std::fs::remove_file(self.data.join(file));
        }
        Ok(outcomes)
    }
}

/// One target of [`ObjectStore::delete_many`], inside its transaction; files no row names
/// any more are added to `files`, removed after the commit.
fn delete_one(
    tx: &rusqlite::Transaction<'_>,
    versioning: Versioning,
    bucket: &str,
    key: &str,
    version_id: Option<&str>,
    sequencer: u64,
    files: &mut Vec<String>,
) -> Result<Deletion, ObjectError> {
    let remove_current = |files: &mut Vec<String>, keep_file: bool| {
        let file: Option<String> = tx
            .prepare_cached("DELETE FROM objects WHERE bucket = ?1 AND key = ?2 RETURNING file")
            .and_then(|mut s| s.query_row(params![bucket, key], |r| r.get(0)).optional())
            .map_err(sql("deleting objects"))?;
        if !keep_file {
            files.extend(file);
        }
        Ok::<_, ObjectError>(())
    };
    let deletion =
        |version_id: Option<String>, delete_marker: bool, marker_created: bool| Deletion {
            key: key.to_string(),
            version_id,
            delete_marker,
            marker_created,
            sequencer,
        };
    match (versioning, version_id) {
        (Versioning::Unversioned, None | Some("null")) => {
            remove_current(files, false)?;
            Ok(deletion(version_id.map(str::to_string), false, false))
        }
        (Versioning::Unversioned, Some(_)) => Err(ObjectError::NoSuchVersion(key.to_string())),
        (Versioning::Enabled | Versioning::Suspended, None) => {
            // A delete marker becomes the key's newest version; the object versions stay.
            let id = if versioning == Versioning::Enabled {
                crate::versions::new_version_id()
            } else {
                let old = crate::versions::remove_version(tx, bucket, key, "null")?;
                files.extend(old.and_then(|(file, _)| file));
                "null".to_string()
            };
            crate::versions::insert_version(tx, bucket, key, &id, sequencer, None, now_ms())?;
            remove_current(files, true)?;
            Ok(deletion(Some(id), true, true))
        }
        (Versioning::Enabled | Versioning::Suspended, Some(id)) => {
            let removed = crate::versions::remove_version(tx, bucket, key, id)?;
            let was_marker = removed.as_ref().is_some_and(|(_, marker)| *marker);
            if let Some((file, _)) = removed {
                files.extend(file);
                crate::versions::promote(tx, bucket, key)?;
            }
            Ok(deletion(Some(id.to_string()), was_marker, false))
        }
    }
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// Stores made before sequencers were kept per object have no `sequencer` column: adds it.
fn add_sequencer_column(db: &rusqlite::Connection) -> Result<(), ObjectError> {
    let has = db
        .prepare("SELECT 1 FROM pragma_table_info('objects') WHERE name = 'sequencer'")
        .and_then(|mut s| s.exists([]))
        .map_err(sql("reading the objects schema"))?;
    if !has {
        db.execute_batch("ALTER TABLE objects ADD COLUMN sequencer INTEGER NOT NULL DEFAULT 0")
            .map_err(sql("adding the sequencer column"))?;
    }
    Ok(())
}

pub(crate) type RowParts = (
    String,
    i64,
    String,
    i64,
    String,
    String,
    i64,
    Option<String>,
);

/// Stores made before versions were kept have no `version_id` column: adds it (NULL: the
/// objects of a bucket that never had versioning).
fn add_version_column(db: &rusqlite::Connection) -> Result<(), ObjectError> {
    let has = db
        .prepare("SELECT 1 FROM pragma_table_info('objects') WHERE name = 'version_id'")
        .and_then(|mut s| s.exists([]))
        .map_err(sql("reading the objects schema"))?;
    if !has {
        db.execute_batch("ALTER TABLE objects ADD COLUMN version_id TEXT")
            .map_err(sql("adding the version column"))?;
    }
    Ok(())
}

fn take<T>(slot: &Mutex<Option<T>>) -> Option<T> {
    slot.lock().unwrap_or_else(|e| e.into_inner()).take()
}

fn commit_one(tx: &rusqlite::Transaction<'_>, row: &RowWrite, sequencer: u64) -> RowOutcome {
    let exists: bool = tx
        .prepare_cached("SELECT EXISTS (SELECT 1 FROM buckets WHERE name = ?1)")
        .and_then(|mut s| s.query_row([&row.bucket], |r| r.get(0)))
        .map_err(sql("committing an object"))?;
    if !exists {
        return Err(ObjectError::NoSuchBucket(row.bucket.clone()));
    }
    let record = &row.record;
    let current: Option<String> = tx
        .prepare_cached("SELECT file FROM objects WHERE bucket = ?1 AND key = ?2")
        .and_then(|mut s| {
            s.query_row(params![row.bucket, record.key], |r| r.get(0))
                .optional()
        })
        .map_err(sql("committing an object"))?;
    // Unversioned: the new content replaces the old, whose file goes. Enabled: a new version,
    // every old one kept. Suspended: the new `null` version replaces the old `null` one.
    let (version_id, replaced) = match crate::versions::state(tx, &row.bucket)? {
        Versioning::Unversioned => (None, current),
        Versioning::Enabled => (Some(crate::versions::new_version_id()), None),
        Versioning::Suspended => {
            let old = crate::versions::remove_version(tx, &row.bucket, &record.key, "null")?;
            (Some("null".to_string()), old.and_then(|(file, _)| file))
        }
    };
    if let Some(id) = &version_id {
        crate::versions::insert_version(
            tx,
            &row.bucket,
            &record.key,
            id,
            sequencer,
            Some((record, &row.attributes)),
            record.last_modified,
        )?;
    }
    tx.prepare_cached(
        "INSERT OR REPLACE INTO objects
             (bucket, key, size, etag, last_modified, attributes, file, sequencer, version_id)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    )
    .and_then(|mut s| {
        s.execute(params![
            row.bucket,
            record.key,
            record.size as i64,
            record.etag,
            record.last_modified,
            row.attributes,
            record.file,
            sequencer as i64,
            version_id
        ])
    })
    .map_err(sql("committing an object"))?;
    Ok(Committed {
        replaced,
        sequencer,
        version_id,
    })
}

pub(crate) fn row_parts(r: &rusqlite::Row<'_>) -> rusqlite::Result<RowParts> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
        r.get(6)?,
        r.get(7)?,
    ))
}

pub(crate) fn record(
    (key, size, etag, last_modified, attributes, file, sequencer, version_id): RowParts,
) -> Result<ObjectRecord, ObjectError> {
    let attributes = serde_json::from_str(&attributes).map_err(|source| ObjectError::Decode {
        key: key.clone(),
        source,
    })?;
    Ok(ObjectRecord {
        key,
        size: size as u64,
        etag,
        last_modified,
        attributes,
        sequencer: sequencer as u64,
        version_id,
        file,
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Writes and commits `body` at `key` (the store's tests share it).
    pub(crate) fn put(store: &ObjectStore, bucket: &str, key: &str, body: &[u8]) -> ObjectRecord {
        let mut p = store.begin().unwrap();
        p.write(body).unwrap();
        store
            .commit(p, bucket, key, ObjectAttributes::default(), 1)
            .unwrap()
    }

    fn files(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(dir.join("data"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn a_write_is_aside_until_committed_and_replaces_whole() {
        let dir = tempfile::tempdir().unwrap();
        let store = ObjectStore::open(dir.path()).unwrap();
        store.create_bucket("b", 0).unwrap();
        put(&store, "b", "k", b"old");
        let mut p = store.begin().unwrap();
        p.write(b"new bytes").unwrap();
        // Not visible before the commit: readers still get the old object.
        let (rec, _) = store.open_object("b", "k").unwrap().unwrap();
        assert_eq!(rec.size, 3);
        assert!(files(dir.path()).iter().any(|f| f.starts_with(".tmp-")));
        let rec = store
            .commit(p, "b", "k", ObjectAttributes::default(), 2)
            .unwrap();
        assert_eq!(rec.etag, hex::encode(Md5::digest(b"new bytes")));
        let (rec, mut f) = store.open_object("b", "k").unwrap().unwrap();
        let mut s = String::new();
        std::io::Read::read_to_string(&mut f, &mut s).unwrap();
        assert_eq!((rec.size, s.as_str()), (9, "new bytes"));
        // The old file is gone and no temp file is left: one data file for one key.
        assert_eq!(files(dir.path()).len(), 1);
    }

    #[test]
    fn concurrent_commits_share_transactions_and_each_gets_its_outcome() {
        let dir = tempfile::tempdir().unwrap();
        let store = std::sync::Arc::new(ObjectStore::open(dir.path()).unwrap());
        store.create_bucket("b", 0).unwrap();
        let threads: Vec<_> = (0..16)
            .map(|i| {
                let store = std::sync::Arc::clone(&store);
                std::thread::spawn(move || {
                    for round in 0..20 {
                        let mut p = store.begin().unwrap();
                        let body = format!("{i}-{round}");
                        p.write(body.as_bytes()).unwrap();
                        // Half the writers share one key; one in eight names no bucket.
                        let (bucket, key) = match i % 8 {
                            0 => ("gone", "k".to_string()),
                            n if n % 2 == 0 => ("b", "shared".to_string()),
                            _ => ("b", format!("own-{i}")),
                        };
                        let r = store.commit(p, bucket, &key, ObjectAttributes::default(), 1);
                        match bucket {
                            "gone" => assert!(matches!(r, Err(ObjectError::NoSuchBucket(_)))),
                            _ => assert_eq!(r.unwrap().size, body.len() as u64),
                        }
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        // One file per key, each named by its row: every replaced file was removed.
        let keys: Vec<String> = (0..16)
            .filter(|i| i % 2 == 1)
            .map(|i| format!("own-{i}"))
            .chain(["shared".to_string()])
            .collect();
        assert_eq!(files(dir.path()).len(), keys.len());
        for key in keys {
            let (rec, mut f) = store.open_object("b", &key).unwrap().unwrap();
            let mut body = String::new();
            std::io::Read::read_to_string(&mut f, &mut body).unwrap();
            assert_eq!(body.len() as u64, rec.size);
            assert!(body.ends_with("-19"), "{key}: {body}");
        }
    }

    #[test]
    fn an_abandoned_write_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let store = ObjectStore::open(dir.path()).unwrap();
        store.create_bucket("b", 0).unwrap();
        let mut p = store.begin().unwrap();
        p.write(b"x").unwrap();
        drop(p);
        assert!(files(dir.path()).is_empty());
        let p = store.begin().unwrap();
        let err = store.commit(p, "nope", "k", ObjectAttributes::default(), 1);
        assert!(matches!(err, Err(ObjectError::NoSuchBucket(_))));
        assert!(files(dir.path()).is_empty());
    }

    #[test]
    fn reopening_removes_what_a_crash_left() {
        let dir = tempfile::tempdir().unwrap();
        {
            let store = ObjectStore::open(dir.path()).unwrap();
            store.create_bucket("b", 0).unwrap();
            put(&store, "b", "k", b"kept");
        }
        // A temp file mid-write and a renamed file whose row was never committed.
        std::fs::write(dir.path().join("data/.tmp-abc"), b"partial").unwrap();
        std::fs::write(dir.path().join("data/deadbeef"), b"uncommitted").unwrap();
        let store = ObjectStore::open(dir.path()).unwrap();
        assert_eq!(files(dir.path()).len(), 1);
        assert_eq!(store.head("b", "k").unwrap().unwrap().size, 4);
    }

    #[test]
    fn buckets_refuse_duplicates_and_deleting_when_not_empty() {
        let dir = tempfile::tempdir().unwrap();
        let store = ObjectStore::open(dir.path()).unwrap();
        store.create_bucket("b", 0).unwrap();
        assert!(matches!(
            store.create_bucket("b", 0),
            Err(ObjectError::BucketExists(_))
        ));
        put(&store, "b", "k", b"x");
        assert!(matches!(
            store.delete_bucket("b"),
            Err(ObjectError::BucketNotEmpty(_))
        ));
        let first = store.delete("b", "k").unwrap();
        // Removing a key that is gone succeeds too, with a change of its own.
        assert!(store.delete("b", "k").unwrap() > first);
        assert!(store.head("b", "k").unwrap().is_none());
        store.delete_bucket("b").unwrap();
        assert!(matches!(
            store.delete_bucket("b"),
            Err(ObjectError::NoSuchBucket(_))
        ));
    }
}
