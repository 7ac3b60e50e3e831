//! `lambent usage [--function NAME] [--from T] [--to T]`: requests, GB-seconds and cost per
//! function and in total, with the free tier applied, from the server's metering.

use super::client::Client;
use super::table::{Align, Table};
use super::ClientArgs;
use clap::Args;
use std::process::ExitCode;

#[derive(Debug, Args)]
pub struct UsageArgs {
    /// Only this function (its name).
    #[arg(long, value_name = "NAME")]
    function: Option<String>,
    /// From this time (Unix milliseconds, YYYY-MM-DD or RFC 3339; default: the beginning).
    #[arg(long, value_name = "TIME")]
    from: Option<String>,
    /// Up to this time, exclusive, in the same forms (default: now).
    #[arg(long, value_name = "TIME")]
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
    let mut table = Table::new(&[
        ("function", Align::Left),
        ("requests", Align::Right),
        ("GB-seconds", Align::Right),
        ("cost (list)", Align::Right),
    ]);
    let t = &report["Total"];
    let functions = report["Functions"].as_array().into_iter().flatten();
    for (name, f) in functions
        .map(|f| (f["FunctionName"].as_str().unwrap_or(""), f))
        .chain([("total", t)])
    {
        table.row([
            name.to_string(),
            f["Requests"].to_string(),
            format!("{:.6}", f["GbSeconds"].as_f64().unwrap_or(0.0)),
            format!("{:.8}", f["CostBeforeFreeTier"].as_f64().unwrap_or(0.0)),
        ]);
    }
    table.print();
    println!(
        "free tier: {} requests and {:.6} GB-seconds; cost after it: ${:.8}",
        t["FreeTierRequests"],
        t["FreeTierGbSeconds"].as_f64().unwrap_or(0.0),
        t["Cost"].as_f64().unwrap_or(0.0)
    );
    Ok(ExitCode::SUCCESS)
}
