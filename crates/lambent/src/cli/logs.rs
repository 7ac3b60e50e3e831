//! `lambent logs NAME [--follow]`: a function's log events, oldest first.

use super::client::Client;
use super::ClientArgs;
use clap::Args;
use serde_json::json;
use std::process::ExitCode;
use std::time::Duration;

#[derive(Debug, Args)]
pub struct LogsArgs {
    name: String,
    /// Keep printing new events as they arrive.
    #[arg(long, short)]
    follow: bool,
    /// Only events containing every term of this pattern.
    #[arg(long)]
    filter: Option<String>,
    #[command(flatten)]
    client: ClientArgs,
}

pub async fn run(a: LogsArgs) -> anyhow::Result<ExitCode> {
    let client = Client::from_args(&a.client)?;
    let group = crate::logs::group_name(&a.name);
    let mut since = 0i64;
    let mut seen_at_since = 0usize;
    loop {
        let mut body = json!({"logGroupName": group, "startTime": since});
        if let Some(f) = &a.filter {
            body["filterPattern"] = json!(f);
        }
        let reply = match client.logs("FilterLogEvents", &body).await {
            Ok(r) => r,
            Err(e) if a.follow && e.to_string().starts_with("ResourceNotFoundException") => {
                tokio::time::sleep(Duration::from_millis(500)).await;
                continue;
            }
            Err(e) => return Err(e),
        };
        let events = reply["events"].as_array().cloned().unwrap_or_default();
        // Events at `since` were printed last round, up to `seen_at_since` of them.
        let mut skip = seen_at_since;
        for e in &events {
            let ts = e["timestamp"].as_i64().unwrap_or(0);
            if ts == since && skip > 0 {
                skip -= 1;
                continue;
            }
            println!("{}", e["message"].as_str().unwrap_or(""));
            if ts > since {
                since = ts;
                seen_at_since = 0;
            }
            if ts == since {
                seen_at_since += 1;
            }
        }
        if !a.follow {
            return Ok(ExitCode::SUCCESS);
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}
