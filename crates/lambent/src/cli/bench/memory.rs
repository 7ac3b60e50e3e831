//! The memory scenario: lambent's own resident memory, and what one idle warm Python
//! environment holds. Read from `/proc` of this machine, so it needs a local lambent (its pid
//! is in the data directory).
//!
//! An environment is its runtime's processes plus its waiter (see `lambent_sandbox::waiter`).
//! Their proportional set size (PSS: shared pages divided among the processes that map them)
//! is what one more environment costs the machine; the resident set (RSS) counts the
//! interpreter's shared libraries in full, and the cgroup's charge is what the REPORT line
//! calls Max Memory Used. All three are shown.

use super::{delete, invoke, python_function};
use crate::cli::client::Client;
use crate::cli::table::{Align, Table};
use serde_json::json;
use std::path::Path;

/// One memory figure, in MB.
pub struct Figure {
    pub what: String,
    pub pss_mb: f64,
    pub rss_mb: f64,
    /// What the environment's cgroup was charged at its peak (REPORT's Max Memory Used).
    pub charged_mb: Option<f64>,
}

/// `Rss` and `Pss` of a process, in kB.
fn rollup(pid: u32) -> Option<(u64, u64)> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup")).ok()?;
    let field = |name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
    };
    Some((field("Rss:")?, field("Pss:")?))
}

/// `(uid, ppid)` of a process.
fn owner_and_parent(pid: u32) -> Option<(u32, u32)> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.split_whitespace().next()?.parse::<u32>().ok())
    };
    Some((field("Uid:")?, field("PPid:")?))
}

pub async fn measure(client: &Client, data_dir: &Path) -> anyhow::Result<Vec<Figure>> {
    let pid_file = data_dir.join(crate::cli::PID_FILE);
    let pid: u32 = std::fs::read_to_string(&pid_file)
        .map_err(|e| {
            anyhow::anyhow!(
                "{}: {e} (the memory scenario needs a local lambent and its --data-dir)",
                pid_file.display()
            )
        })?
        .trim()
        .parse()?;
    let (rss, pss) =
        rollup(pid).ok_or_else(|| anyhow::anyhow!("lambent (pid {pid}) is not running here"))?;
    let mut out = vec![Figure {
        what: "lambent itself".into(),
        pss_mb: pss as f64 / 1024.0,
        rss_mb: rss as f64 / 1024.0,
        charged_mb: None,
    }];

    let name = python_function(
        client,
        "memory",
        "import os\ndef handler(event, context):\n    print('lambent-bench-uid', os.getuid())\n",
    )
    .await?;
    let measured = environment(client, &name).await;
    delete(client, &name).await;
    out.push(measured?);
    Ok(out)
}

/// The processes of the environment that answered as user `uid`, and its waiter.
async fn environment(client: &Client, name: &str) -> anyhow::Result<Figure> {
    invoke(client, name, false).await?;
    let tail = invoke(client, name, true).await?;
    let uid: u32 = tail
        .split("lambent-bench-uid ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .ok_or_else(|| anyhow::anyhow!("the memory function did not log its user"))?;
    let own = rustix::process::geteuid().as_raw();
    anyhow::ensure!(
        uid != 0 && uid != own,
        "environments run as lambent's own user here: their processes cannot be told apart"
    );
    // Idle: let the runtime settle into its wait for the next event.
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let mut pids: Vec<u32> = Vec::new();
    for entry in std::fs::read_dir("/proc")?.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|s| s.parse::<u32>().ok())
        else {
            continue;
        };
        if let Some((owner, parent)) = owner_and_parent(pid) {
            if owner == uid {
                pids.push(pid);
                if !pids.contains(&parent) {
                    pids.push(parent);
                }
            }
        }
    }
    anyhow::ensure!(
        !pids.is_empty(),
        "no process of the environment (uid {uid}) is visible here"
    );
    let (mut rss, mut pss) = (0, 0);
    for pid in pids {
        if let Some((r, p)) = rollup(pid) {
            rss += r;
            pss += p;
        }
    }
    let charged_mb = tail
        .split("Max Memory Used: ")
        .nth(1)
        .and_then(|rest| rest.split(" MB").next())
        .and_then(|n| n.parse().ok());
    Ok(Figure {
        what: "idle warm python environment".into(),
        pss_mb: pss as f64 / 1024.0,
        rss_mb: rss as f64 / 1024.0,
        charged_mb,
    })
}

/// The figures as JSON rows.
pub fn rows(figures: &[Figure]) -> Vec<serde_json::Value> {
    figures
        .iter()
        .map(|f| {
            json!({"scenario": format!("memory: {}", f.what), "pss_mb": f.pss_mb,
                   "rss_mb": f.rss_mb, "cgroup_peak_mb": f.charged_mb})
        })
        .collect()
}

pub fn print(figures: &[Figure]) {
    if figures.is_empty() {
        return;
    }
    println!();
    let mut table = Table::new(&[
        ("memory", Align::Left),
        ("PSS", Align::Right),
        ("RSS", Align::Right),
        ("cgroup peak", Align::Right),
    ]);
    for f in figures {
        let charged = f
            .charged_mb
            .map(|m| format!("{m:.0} MB"))
            .unwrap_or_default();
        table.row([
            f.what.clone(),
            format!("{:.1} MB", f.pss_mb),
            format!("{:.1} MB", f.rss_mb),
            charged,
        ]);
    }
    table.print();
}
