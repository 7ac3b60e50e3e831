//! `lambent events failed [NAME]`: the asynchronous events that will not be delivered (their
//! retries exhausted, too old, or their function gone), with why, how often they ran, their
//! payload and the last error.

use super::client::Client;
use super::ClientArgs;
use clap::{Args, Subcommand};
use std::process::ExitCode;

#[derive(Debug, Subcommand)]
pub enum EventsCommand {
    /// List failed events, of one function or all.
    Failed(FailedArgs),
}

#[derive(Debug, Args)]
pub struct FailedArgs {
    /// Only this function's events.
    name: Option<String>,
    /// Print JSON instead of one line per event.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    client: ClientArgs,
}

pub async fn run(cmd: EventsCommand) -> anyhow::Result<ExitCode> {
    let EventsCommand::Failed(a) = cmd;
    let client = Client::from_args(&a.client)?;
    let query = match &a.name {
        Some(name) => format!(
            "FunctionName={}",
            percent_encoding::utf8_percent_encode(name, percent_encoding::NON_ALPHANUMERIC)
        ),
        None => String::new(),
    };
    let reply = client
        .lambda("GET", "/_lambent/events/failed", &query, None)
        .await?
        .ok()?;
    let listing: serde_json::Value = serde_json::from_slice(&reply.body)?;
    if a.json {
        println!("{}", serde_json::to_string_pretty(&listing)?);
        return Ok(ExitCode::SUCCESS);
    }
    let events = listing["FailedEvents"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    if events.is_empty() {
        println!("no failed events");
    }
    for e in events {
        println!(
            "{}  {}  {}  {}  after {} attempt(s)  payload {}  last response {}",
            e["FailedAt"].as_str().unwrap_or(""),
            e["FunctionName"].as_str().unwrap_or(""),
            e["RequestId"].as_str().unwrap_or(""),
            e["Condition"].as_str().unwrap_or(""),
            e["Attempts"],
            e["Payload"],
            e["LastResponse"],
        );
    }
    Ok(ExitCode::SUCCESS)
}
