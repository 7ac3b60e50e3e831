//! Retention: events older than their group's `retentionInDays` are hidden from readers at
//! once and removed from disk by a sweeper that rewrites the stream files holding them.
//!
//! Test knob: `LAMBENT_RETENTION_DAY_SECS` sets the seconds in a retention "day" (default
//! 86400), so a test can make `retentionInDays: 1` mean a second; the sweeper then runs every
//! "day" when that is shorter than its usual minute.

use super::{now_millis, stream, LogStore};
use std::collections::HashMap;
use std::io;
use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

const SWEEP_EVERY: Duration = Duration::from_secs(60);

/// Milliseconds in a retention day.
pub(super) fn day_millis() -> i64 {
    std::env::var("LAMBENT_RETENTION_DAY_SECS")
        .ok()
        .and_then(|v| v.trim().parse::<i64>().ok())
        .filter(|s| *s > 0)
        .unwrap_or(86_400)
        .saturating_mul(1000)
}

/// What the sweeper remembers between runs: per stream file (and inode, so a file replaced
/// under the same name starts over), how far it was read and the oldest timestamp there, so
/// a sweep reads only what was appended since the last one.
#[derive(Debug, Default)]
pub struct Sweep {
    scanned: HashMap<PathBuf, Scanned>,
}

#[derive(Debug, Clone, Copy)]
struct Scanned {
    inode: u64,
    offset: u64,
    oldest: Option<i64>,
}

impl LogStore {
    /// Starts the sweeper: once now, then every minute. It ends when the store is gone (the
    /// last handle dropped), so it needs no shutdown signal of its own.
    pub fn spawn_retention_sweeper(&self) -> tokio::task::JoinHandle<()> {
        let store = Arc::downgrade(&self.inner);
        let period = SWEEP_EVERY.min(Duration::from_millis(self.inner.day_millis as u64));
        tokio::spawn(async move {
            let mut state = Sweep::default();
            loop {
                let Some(inner) = store.upgrade() else { return };
                let store = LogStore { inner };
                let run = tokio::task::spawn_blocking(move || {
                    let result = store.sweep(now_millis(), &mut state);
                    (state, result)
                });
                state = match run.await {
                    Ok((state, result)) => {
                        match result {
                            Ok(0) => {}
                            Ok(n) => tracing::debug!(events = n, "expired log events deleted"),
                            Err(e) => tracing::warn!(error = %e, "log retention sweep failed"),
                        }
                        state
                    }
                    Err(_) => Sweep::default(),
                };
                tokio::time::sleep(period).await;
            }
        })
    }

    /// Deletes from disk every event older than its group's retention at `now`; returns how
    /// many. Streams stay, even when emptied (AWS keeps them too).
    pub fn sweep(&self, now: i64, state: &mut Sweep) -> io::Result<usize> {
        let mut deleted = 0;
        let mut seen = HashMap::new();
        for (group, retention) in self.retained_groups() {
            let cutoff = now - retention;
            for entry in self.stream_entries(&group)? {
                let inode = match std::fs::metadata(&entry.path) {
                    Ok(m) => m.ino(),
                    Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                    Err(e) => return Err(e),
                };
                let known = state
                    .scanned
                    .get(&entry.path)
                    .filter(|s| s.inode == inode && s.offset <= entry.size)
                    .copied()
                    .unwrap_or(Scanned {
                        inode,
                        offset: 0,
                        oldest: None,
                    });
                let (newer, offset) = match stream::oldest_from(&entry.path, known.offset) {
                    Ok(r) => r,
                    Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                    Err(e) => return Err(e),
                };
                let oldest = match (known.oldest, newer) {
                    (Some(a), Some(b)) => Some(a.min(b)),
                    (a, b) => a.or(b),
                };
                if oldest.is_none_or(|t| t >= cutoff) {
                    seen.insert(
                        entry.path,
                        Scanned {
                            inode,
                            offset,
                            oldest,
                        },
                    );
                    continue;
                }
                let file = match self.stream_file(&group, &entry.name, false) {
                    Ok(f) => f,
                    Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                    Err(e) => return Err(e),
                };
                // Rewritten: read afresh next time.
                deleted +=
                    file.rewrite(|l| stream::line_timestamp(l).is_none_or(|t| t >= cutoff))?;
            }
        }
        // Files deleted, rewritten or no longer under a retention are forgotten.
        state.scanned = seen;
        self.prune_files();
        Ok(deleted)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sweep_removes_expired_events_from_disk() {
        let dir = tempfile::tempdir().unwrap();
        let store = LogStore::open(dir.path()).unwrap();
        let mut state = Sweep::default();
        store.create_group("g").unwrap();
        store.create_stream("g", "s").unwrap();
        let now = now_millis();
        let day = store.inner.day_millis;
        store.put_events("g", "s", &[(now, "fresh")], now).unwrap();
        store.set_retention("g", Some(1)).unwrap();
        assert_eq!(store.sweep(now, &mut state).unwrap(), 0);
        // Appended after a sweep remembered the file: found by reading only the new lines.
        store
            .put_events(
                "g",
                "s",
                &[(now - 3 * day, "old"), (now - 2 * day, "older-ish")],
                now,
            )
            .unwrap();
        let mut w = store.writer("g", "s").unwrap();
        // Hidden from readers before the sweep...
        assert_eq!(store.events("g", "s").unwrap().len(), 1);
        assert_eq!(store.sweep(now, &mut state).unwrap(), 2);
        let path = dir.path().join("g").join("s.log");
        let on_disk = std::fs::read_to_string(&path).unwrap();
        assert!(!on_disk.contains("old") && on_disk.contains("fresh"));
        // ...and a writer open during the sweep appends to the rewritten file.
        w.append(now + 1, b"after the sweep").unwrap();
        w.flush().unwrap();
        assert!(std::fs::read_to_string(&path)
            .unwrap()
            .contains("after the sweep"));
        assert_eq!(store.sweep(now, &mut state).unwrap(), 0);
        // Without retention nothing expires.
        store.set_retention("g", None).unwrap();
        store
            .put_events("g", "s", &[(now - 5 * day, "kept")], now)
            .unwrap();
        assert_eq!(store.sweep(now, &mut state).unwrap(), 0);
    }
}
