//! lambent's persistence: function metadata in an embedded SQLite database, code archives
//! and S3 objects as files (`objects`), all under the data directory.
//!
//! The store knows nothing of HTTP or AWS envelopes: callers hand it typed records and get
//! typed records back. Every write is committed before the call returns, so an operation
//! that was acknowledged survives `kill -9`.

mod blobs;
pub mod code;
mod functions;
pub mod iam;
mod listing;
pub mod multipart;
mod notifications;
pub mod objects;
pub mod policies;
pub mod queue;
pub mod usage;
pub mod versions;

pub use blobs::StoredCode;
pub use functions::{FunctionRecord, ProvisionedConfig};
pub use iam::IamStore;
pub use queue::Queue;
pub use usage::UsageStore;

use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// Failures of the store, each naming the step that failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("opening the metadata database {path}: {source}")]
    Open {
        path: PathBuf,
        source: rusqlite::Error,
    },
    #[error("{step}: {source}")]
    Sql {
        step: &'static str,
        source: rusqlite::Error,
    },
    #[error("decoding the stored record of {name}: {source}")]
    Decode {
        name: String,
        source: serde_json::Error,
    },
    #[error("{step} {path}: {source}")]
    Io {
        step: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    Code(#[from] code::CodeError),
}

/// The embedded store. Cheap to share behind an `Arc`; the SQLite connection sits behind a
/// mutex because rusqlite connections are not `Sync` and every statement here is short.
pub struct Store {
    root: PathBuf,
    db: Mutex<rusqlite::Connection>,
    code_lock: Mutex<()>,
}

impl Store {
    /// Opens (creating if needed) the store under `root`.
    pub fn open(root: &Path) -> Result<Store, StoreError> {
        let io = |step, path: &Path| {
            let path = path.to_path_buf();
            move |source| StoreError::Io { step, path, source }
        };
        std::fs::create_dir_all(root).map_err(io("creating", root))?;
        let code = root.join("code");
        std::fs::create_dir_all(&code).map_err(io("creating", &code))?;
        let path = root.join("lambent.db");
        let conn = rusqlite::Connection::open(&path).map_err(|source| StoreError::Open {
            path: path.clone(),
            source,
        })?;
        conn.execute_batch(
            "PRAGMA journal_mode=WAL;
             PRAGMA synchronous=FULL;
             CREATE TABLE IF NOT EXISTS functions (
                 name TEXT PRIMARY KEY,
                 record TEXT NOT NULL
             );",
        )
        .map_err(|source| StoreError::Sql {
            step: "creating the schema",
            source,
        })?;
        Ok(Store {
            root: root.to_path_buf(),
            db: Mutex::new(conn),
            code_lock: Mutex::new(()),
        })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    fn db(&self) -> std::sync::MutexGuard<'_, rusqlite::Connection> {
        // A panic while holding the lock cannot leave SQLite inconsistent (it rolls back),
        // so a poisoned lock is safe to reuse.
        self.db.lock().unwrap_or_else(|e| e.into_inner())
    }
}
