//! `lambent doctor`: the isolation this host allows, what serves each runtime, and, when
//! lambent is running, who holds full access (principals whose policies allow everything,
//! and the roles an upgrade created for functions made before IAM).

use super::client::Client;
use super::{ClientArgs, RuntimesDirArgs};
use clap::Args;
use std::fmt::Write;
use std::process::ExitCode;
use std::time::Duration;

#[derive(Debug, Args)]
pub struct DoctorArgs {
    #[command(flatten)]
    runtimes: RuntimesDirArgs,
    #[command(flatten)]
    client: ClientArgs,
}

pub async fn run(args: DoctorArgs) -> anyhow::Result<ExitCode> {
    print!("{}", crate::scheduler::isolation_report("lambent-doctor"));
    let dir = crate::config::runtimes_dir(args.runtimes.runtimes_dir)?;
    let report = tokio::task::spawn_blocking(move || super::runtimes::report(&dir)).await?;
    print!("{report}");
    let access = tokio::time::timeout(Duration::from_secs(5), access(&args.client)).await;
    match access {
        Ok(Ok(text)) => print!("{text}"),
        Ok(Err(e)) => println!("\naccess: not checked ({e:#})"),
        Err(_) => println!("\naccess: not checked (lambent did not answer within 5 s)"),
    }
    Ok(ExitCode::SUCCESS)
}

/// The running server's report of who may do everything, in words.
async fn access(args: &ClientArgs) -> anyhow::Result<String> {
    let client = Client::from_args(args)?;
    let report = client
        .lambda("GET", "/_lambent/doctor", "", None)
        .await?
        .ok()?
        .json()?;
    let strings = |v: &serde_json::Value| -> Vec<String> {
        v.as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|s| s.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    };
    let mut out = String::from("\naccess:\n");
    let full = strings(&report["FullAccess"]);
    if full.is_empty() {
        out.push_str("  no user or role is allowed everything (the root key always is)\n");
    } else {
        out.push_str("  allowed everything (narrow these to least privilege):\n");
        for arn in &full {
            let _ = writeln!(out, "    {arn}");
        }
    }
    for role in report["UpgradedRoles"].as_array().into_iter().flatten() {
        let functions = strings(&role["Functions"]);
        let _ = writeln!(
            out,
            "  upgraded: {} was created for functions made before IAM, allowed everything \
             (inline policy {}); functions: {}",
            role["Role"].as_str().unwrap_or(""),
            crate::upgrade::UPGRADE_POLICY,
            if functions.is_empty() {
                "none".to_string()
            } else {
                functions.join(", ")
            }
        );
    }
    Ok(out)
}
