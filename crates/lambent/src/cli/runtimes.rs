//! `lambent runtimes install`: the AWS SDKs functions import, installed once per machine into
//! the runtimes directory every data directory shares.

use super::RuntimesDirArgs;
use crate::runtimes::Runtimes;
use clap::Subcommand;
use std::process::ExitCode;

#[derive(Debug, Subcommand)]
pub enum RuntimesCommand {
    /// Install the SDKs the host's interpreters need, so that a new data directory costs no
    /// download.
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
