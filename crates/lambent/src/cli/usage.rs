//! `lambent usage [--function NAME] [--from T] [--to T]`: requests, GB-seconds and cost per
//! function and in total, with the free tier applied, from the server's metering.

use super::client::Client;
use super::ClientArgs;
use clap::Args;
use std::process::ExitCode;

#[derive(Debug, Args)]
pub struct UsageArgs {
    /// Only this function.
    #[arg(long)]
    function: Option<String>,
    /// From this time (Unix milliseconds, YYYY-MM-DD or RFC 3339; default: the beginning).
    #[arg(long)]
    from: Option<String>,
    /// Up to this time, exclusive (default: now).
    #[arg(long)]
    to: Option<String>,
    /// Print the server's JSON report.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    client: ClientArgs,
}

pub async fn run(a: UsageArgs) -> anyhow::Result<ExitCode> {
    let client = Client::from_args(&a.client)?;
    let encode = |v: &str| {
        percent_encoding::utf8_percent_encode(v, percent_encoding::NON_ALPHANUMERIC).to_string()
    };
    let query: Vec<String> = [
        ("FunctionName", &a.function),
        ("From", &a.from),
        ("To", &a.to),
    ]
    .iter()
    .filter_map(|(k, v)| v.as_ref().map(|v| format!("{k}={}", encode(v))))
    .collect();
    let reply = client
        .lambda("GET", "/_lambent/usage", &query.join("&"), None)
        .await?
        .ok()?;
    let report: serde_json::Value = serde_json::from_slice(&reply.body)?;
    if a.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "{:<40} {:>12} {:>16} {:>14}",
        "function", "requests", "GB-seconds", "cost (list)"
    );
    for f in report["Functions"].as_array().into_iter().flatten() {
        println!(
            "{:<40} {:>12} {:>16.6} {:>14.8}",
            f["FunctionName"].as_str().unwrap_or(""),
            f["Requests"],
            f["GbSeconds"].as_f64().unwrap_or(0.0),
            f["CostBeforeFreeTier"].as_f64().unwrap_or(0.0)
        );
    }
    let t = &report["Total"];
    println!(
        "{:<40} {:>12} {:>16.6} {:>14.8}",
        "total",
        t["Requests"],
        t["GbSeconds"].as_f64().unwrap_or(0.0),
        t["CostBeforeFreeTier"].as_f64().unwrap_or(0.0)
    );
    println!(
        "free tier: {} requests and {:.6} GB-seconds; cost after it: ${:.8}",
        t["FreeTierRequests"],
        t["FreeTierGbSeconds"].as_f64().unwrap_or(0.0),
        t["Cost"].as_f64().unwrap_or(0.0)
    );
    Ok(ExitCode::SUCCESS)
}
