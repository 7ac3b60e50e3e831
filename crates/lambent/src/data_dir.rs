//! The data directory, held by one server at a time.
//!
//! Everything lambent keeps lives under one directory, and starting a server there cleans up
//! what a dead run left behind (environments' files, their cgroups). Two servers on one
//! directory would each take the other's environments for leftovers, so [`DataDir::lock`]
//! takes an exclusive `flock` on `<data-dir>/lambent.lock` first and keeps it for the life of
//! the process; [`crate::run`] requires a `DataDir`, so nothing is cleaned up, written or
//! served without it. The kernel drops the lock when the process ends, however it ends, so a
//! `kill -9` never leaves a directory locked.

use rustix::fs::FlockOperation;
use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};

/// The file whose lock says a server runs on this directory.
pub const LOCK_FILE: &str = "lambent.lock";
/// Where a running server records its endpoint (clients read it to find the server).
pub const ENDPOINT_FILE: &str = "endpoint";
/// Where a running server records its process id (`lambent bench`'s memory scenario, and
/// the message a second server prints).
pub const PID_FILE: &str = "lambent.pid";

#[derive(Debug, thiserror::Error)]
pub enum DataDirError {
    #[error("creating the data directory {}: {source}", dir.display())]
    Create { dir: PathBuf, source: io::Error },
    #[error("opening {}: {source}", path.display())]
    Open { path: PathBuf, source: io::Error },
    #[error("locking {}: {source}", path.display())]
    Lock { path: PathBuf, source: io::Error },
    #[error(
        "the data directory {} is in use by another lambent ({}); stop it, or give this one \
         another --data-dir",
        dir.display(), describe(*pid, endpoint.as_deref())
    )]
    InUse {
        dir: PathBuf,
        pid: Option<u32>,
        endpoint: Option<String>,
    },
    #[error("writing {}: {source}", path.display())]
    Record { path: PathBuf, source: io::Error },
}

/// "pid 1234, http://127.0.0.1:9070", with what the running server has not recorded yet
/// (it is between taking the lock and writing its files) said as unknown.
fn describe(pid: Option<u32>, endpoint: Option<&str>) -> String {
    let pid = pid.map_or_else(|| "pid unknown".to_string(), |p| format!("pid {p}"));
    let endpoint = endpoint.unwrap_or("endpoint unknown");
    format!("{pid}, {endpoint}")
}

/// A data directory this process holds the lock of.
#[derive(Debug)]
pub struct DataDir {
    /// Absolute, so environments and cgroup names do not depend on the working directory.
    path: PathBuf,
    /// Held open for the life of the process: closing it would release the lock. std opens
    /// files close-on-exec, so no sandbox inherits it.
    _lock: File,
}

impl DataDir {
    /// Creates `dir` if needed and takes its lock, or says which server holds it. A refusal
    /// changes nothing in the directory beyond creating the (empty) lock file.
    pub fn lock(dir: &Path) -> Result<DataDir, DataDirError> {
        std::fs::create_dir_all(dir).map_err(|source| DataDirError::Create {
            dir: dir.to_path_buf(),
            source,
        })?;
        let path = std::fs::canonicalize(dir).map_err(|source| DataDirError::Create {
            dir: dir.to_path_buf(),
            source,
        })?;
        let lock_path = path.join(LOCK_FILE);
        let lock = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&lock_path)
            .map_err(|source| DataDirError::Open {
                path: lock_path.clone(),
                source,
            })?;
        match rustix::fs::flock(&lock, FlockOperation::NonBlockingLockExclusive) {
            Ok(()) => Ok(DataDir { path, _lock: lock }),
            Err(e) if e == rustix::io::Errno::WOULDBLOCK => Err(DataDirError::InUse {
                pid: read_trimmed(&path.join(PID_FILE)).and_then(|p| p.parse().ok()),
                endpoint: read_trimmed(&path.join(ENDPOINT_FILE)),
                dir: path,
            }),
            Err(e) => Err(DataDirError::Lock {
                path: lock_path,
                source: e.into(),
            }),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Records this process as the directory's server, reachable at `endpoint_url`.
    pub fn record(&self, endpoint_url: &str) -> Result<(), DataDirError> {
        for (name, text) in [
            (ENDPOINT_FILE, format!("{endpoint_url}\n")),
            (PID_FILE, format!("{}\n", std::process::id())),
        ] {
            let path = self.path.join(name);
            std::fs::write(&path, text).map_err(|source| DataDirError::Record { path, source })?;
        }
        Ok(())
    }
}

fn read_trimmed(path: &Path) -> Option<String> {
    let text = std::fs::read_to_string(path).ok()?;
    let text = text.trim();
    (!text.is_empty()).then(|| text.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_lock_is_refused_with_the_holders_pid_and_endpoint() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("data");
        let first = DataDir::lock(&dir).unwrap();
        first.record("http://127.0.0.1:9999").unwrap();
        // A second open file description conflicts even within one process, as a second
        // process's would.
        match DataDir::lock(&dir) {
            Err(DataDirError::InUse {
                dir: d,
                pid,
                endpoint,
            }) => {
                assert_eq!(d, first.path());
                assert_eq!(pid, Some(std::process::id()));
                assert_eq!(endpoint.as_deref(), Some("http://127.0.0.1:9999"));
            }
            other => panic!("expected InUse, got {other:?}"),
        }
        drop(first);
        assert!(DataDir::lock(&dir).is_ok(), "the lock goes with its holder");
    }

    #[test]
    fn the_refusal_says_unknown_for_what_is_not_recorded_yet() {
        let tmp = tempfile::tempdir().unwrap();
        let first = DataDir::lock(tmp.path()).unwrap();
        let e = DataDir::lock(tmp.path()).unwrap_err().to_string();
        assert!(e.contains("pid unknown, endpoint unknown"), "{e}");
        assert!(e.contains(&first.path().display().to_string()), "{e}");
    }
}
