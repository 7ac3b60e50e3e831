//! `lambent events failed [NAME]`: the asynchronous events that will not be delivered (their
//! retries exhausted, too old, or their function gone), with why, how often they ran, their
//! payload and the last error.

use super::client::Client;
use super::table::{Align, Table};
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
    /// Print JSON (payloads and responses whole) instead of a table.
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
        return Ok(ExitCode::SUCCESS);
    }
    let mut table = Table::new(&[
        ("failed at", Align::Left),
        ("function", Align::Left),
        ("request id", Align::Left),
        ("condition", Align::Left),
        ("attempts", Align::Right),
        ("payload", Align::Left),
        ("last response", Align::Left),
    ]);
    let text = |v: &serde_json::Value| v.as_str().unwrap_or("").to_string();
    for e in &events {
        table.row([
            text(&e["FailedAt"]),
            text(&e["FunctionName"]),
            text(&e["RequestId"]),
            text(&e["Condition"]),
            e["Attempts"].to_string(),
            abridged(&e["Payload"]),
            abridged(&e["LastResponse"]),
        ]);
    }
    table.print();
    Ok(ExitCode::SUCCESS)
}

/// Longer payloads and responses are cut, so one event stays one readable line; `--json`
/// has them whole.
const CELL_CHARS: usize = 60;

/// A JSON value as compact text, at most [`CELL_CHARS`] characters (none for `null`).
fn abridged(value: &serde_json::Value) -> String {
    if value.is_null() {
        return String::new();
    }
    let text = value.to_string();
    if text.chars().count() <= CELL_CHARS {
        return text;
    }
    let mut cut: String = text.chars().take(CELL_CHARS - 1).collect();
    cut.push('…');
    cut
}
