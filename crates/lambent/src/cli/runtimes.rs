//! `lambent runtimes install`: the AWS SDKs functions import, installed once per machine into
//! the runtimes directory every data directory shares; and the runtimes part of
//! `lambent doctor`.

use super::RuntimesDirArgs;
use crate::runtimes::{Runtimes, SUPPORTED};
use clap::Subcommand;
use std::path::Path;
use std::process::ExitCode;

#[derive(Debug, Subcommand)]
pub enum RuntimesCommand {
    /// Install the SDKs the host's interpreters need (what `lambent up` does on its first
    /// start), so that a new data directory costs no download.
    Install(RuntimesDirArgs),
}

pub async fn run(cmd: RuntimesCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        RuntimesCommand::Install(args) => {
            let dir = crate::config::runtimes_dir(args.runtimes_dir)?;
            let shown = dir.clone();
            let missing = tokio::task::spawn_blocking(move || Runtimes::install(&dir)).await?;
            if missing.is_empty() {
                eprintln!("lambent: the SDKs are installed in {}", shown.display());
                return Ok(ExitCode::SUCCESS);
            }
            for m in &missing {
                eprintln!("lambent: {m}");
            }
            Ok(ExitCode::FAILURE)
        }
    }
}

/// Every supported runtime and what serves it, then the SDKs and whether they are installed.
pub fn report(runtimes_dir: &Path) -> String {
    let runtimes = Runtimes::inspect(runtimes_dir);
    let mut out = String::from("runtimes:\n");
    for r in SUPPORTED {
        out.push_str(&format!("  {}\n", runtimes.serving_line(r)));
    }
    out.push_str(&format!("SDKs (in {}):\n", runtimes_dir.display()));
    for line in runtimes.sdk_lines() {
        out.push_str(&format!("  {line}\n"));
    }
    out
}
