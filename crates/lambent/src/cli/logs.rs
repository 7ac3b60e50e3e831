//! `lambent logs NAME [--follow] [--filter PATTERN]`: a function's log events, oldest first,
//! through FilterLogEvents (so PATTERN is any CloudWatch Logs filter pattern).

use super::client::Client;
use super::ClientArgs;
use clap::Args;
use serde_json::json;
use std::collections::HashSet;
use std::process::ExitCode;
use std::time::Duration;

#[derive(Debug, Args)]
pub struct LogsArgs {
    /// The function whose log group (`/aws/lambda/NAME`) to read.
    name: String,
    /// Keep printing new events as they arrive.
    #[arg(long, short)]
    follow: bool,
    /// Only events matching this CloudWatch Logs filter pattern: terms (`ERROR Exception`),
    /// "exact phrases", `?ERROR ?WARN`, `-DEBUG`, JSON (`{ $.level = "ERROR" }`),
    /// space-delimited (`[ip, user, ..., status = 5*]`) or `%regex%`.
    #[arg(long)]
    filter: Option<String>,
    #[command(flatten)]
    client: ClientArgs,
}

pub async fn run(a: LogsArgs) -> anyhow::Result<ExitCode> {
    let client = Client::from_args(&a.client)?;
    let group = crate::logs::group_name(&a.name);
    // Like `aws logs tail --follow`: every pass asks again from the newest timestamp seen
    // and skips the events of that timestamp it already printed, by their eventId.
    let mut since = 0i64;
    let mut printed_at_since: HashSet<String> = HashSet::new();
    'passes: loop {
        let start = since;
        let mut token: Option<String> = None;
        loop {
            let mut body = json!({"logGroupName": group, "startTime": start});
            if let Some(f) = &a.filter {
                body["filterPattern"] = json!(f);
            }
            if let Some(t) = &token {
                body["nextToken"] = json!(t);
            }
            let reply = match client.logs("FilterLogEvents", &body).await {
                Ok(r) => r,
                Err(e) if a.follow && e.to_string().starts_with("ResourceNotFoundException") => {
                    tokio::time::sleep(Duration::from_millis(500)).await;
                    continue 'passes;
                }
                Err(e) => return Err(e),
            };
            for e in reply["events"].as_array().into_iter().flatten() {
                let ts = e["timestamp"].as_i64().unwrap_or(0);
                let id = e["eventId"].as_str().unwrap_or("").to_string();
                if ts < since || (ts == since && printed_at_since.contains(&id)) {
                    continue;
                }
                println!("{}", e["message"].as_str().unwrap_or(""));
                if ts > since {
                    since = ts;
                    printed_at_since.clear();
                }
                printed_at_since.insert(id);
            }
            match reply["nextToken"].as_str() {
                Some(t) => token = Some(t.to_string()),
                None => break,
            }
        }
        if !a.follow {
            return Ok(ExitCode::SUCCESS);
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}
