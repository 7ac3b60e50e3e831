//! Memory accounting where there are no cgroups: a watchdog sums the resident memory of the
//! sandbox's process group every 100 ms, keeps the peak, and kills the group when it passes
//! the limit. Coarser than a cgroup (a fast allocation can overshoot between two looks, and a
//! process that leaves the group escapes), which `lambent doctor` says.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

const PERIOD: Duration = Duration::from_millis(100);

/// What the watchdog has seen.
#[derive(Debug, Default)]
pub struct Watch {
    peak: AtomicU64,
    oom: AtomicBool,
}

impl Watch {
    pub fn peak(&self) -> u64 {
        self.peak.load(Ordering::Relaxed)
    }

    pub fn oom_killed(&self) -> bool {
        self.oom.load(Ordering::Relaxed)
    }
}

/// Resident bytes of every process in process group `pgid`.
pub fn group_rss(pgid: i32) -> u64 {
    let page = 4096u64;
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return 0;
    };
    let mut total = 0;
    for e in entries.flatten() {
        let name = e.file_name();
        let Some(pid) = name
            .to_str()
            .filter(|n| n.bytes().all(|b| b.is_ascii_digit()))
        else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        // Fields after the command name (which may hold spaces) start after the last ')'.
        let Some(rest) = stat.rsplit_once(')').map(|(_, r)| r) else {
            continue;
        };
        let fields: Vec<&str> = rest.split_whitespace().collect();
        // rest: state(0) ppid(1) pgrp(2) ... rss is field 24 of stat, index 21 here.
        if fields.get(2).and_then(|g| g.parse::<i32>().ok()) == Some(pgid) {
            total += fields
                .get(21)
                .and_then(|r| r.parse::<u64>().ok())
                .unwrap_or(0)
                * page;
        }
    }
    total
}

/// Watches `pgid` until it is gone, killing it past `limit` bytes.
pub fn spawn(pgid: i32, limit: u64) -> Arc<Watch> {
    let watch = Arc::new(Watch::default());
    let w = watch.clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(PERIOD);
        loop {
            tick.tick().await;
            let rss = tokio::task::spawn_blocking(move || group_rss(pgid))
                .await
                .unwrap_or(0);
            if rss == 0 {
                return; // the group is gone
            }
            w.peak.fetch_max(rss, Ordering::Relaxed);
            if rss > limit {
                w.oom.store(true, Ordering::Relaxed);
                // SAFETY: killpg takes plain integers; pgid is the sandbox's own group.
                unsafe {
                    libc::killpg(pgid, libc::SIGKILL);
                }
                return;
            }
        }
    });
    watch
}
