//! `lambent invoke NAME [--payload JSON|@file] [--async] [--tail]`.

use super::client::{segment, Call, Client};
use super::ClientArgs;
use anyhow::Context;
use base64::Engine;
use bytes::Bytes;
use clap::Args;
use std::io::Write;
use std::process::ExitCode;

#[derive(Debug, Args)]
pub struct InvokeArgs {
    /// The function's name (or ARN; NAME:QUALIFIER names a version or alias).
    name: String,
    /// The event: JSON text, or @path to read it from a file (default: `{}`).
    #[arg(long, value_name = "JSON|@FILE")]
    payload: Option<String>,
    /// Invoke asynchronously (InvocationType Event).
    #[arg(long = "async")]
    asynchronous: bool,
    /// Print the last 4 KB of the invocation's log to stderr.
    #[arg(long)]
    tail: bool,
    /// The version or alias to invoke (default: `$LATEST`).
    #[arg(long)]
    qualifier: Option<String>,
    #[command(flatten)]
    client: ClientArgs,
}

pub async fn run(a: InvokeArgs) -> anyhow::Result<ExitCode> {
    let client = Client::from_args(&a.client)?;
    let payload = match a.payload.as_deref() {
        Some(p) => match p.strip_prefix('@') {
            Some(path) => {
                std::fs::read(path).with_context(|| format!("reading --payload file {path}"))?
            }
            None => p.as_bytes().to_vec(),
        },
        None => b"{}".to_vec(),
    };
    let mut headers = vec![(
        "x-amz-invocation-type",
        if a.asynchronous {
            "Event"
        } else {
            "RequestResponse"
        }
        .to_string(),
    )];
    if a.tail && !a.asynchronous {
        headers.push(("x-amz-log-type", "Tail".to_string()));
    }
    let query = a
        .qualifier
        .as_deref()
        .map(|q| format!("Qualifier={}", segment(q)))
        .unwrap_or_default();
    let reply = client
        .send(Call {
            service: "lambda",
            method: "POST",
            path: &format!("/2015-03-31/functions/{}/invocations", segment(&a.name)),
            query: &query,
            headers: &headers,
            body: Bytes::from(payload),
            progress: None,
        })
        .await?
        .ok()?;
    if let Some(tail) = reply.header("x-amz-log-result") {
        let text = base64::engine::general_purpose::STANDARD.decode(tail)?;
        std::io::stderr().write_all(&text)?;
    }
    if a.asynchronous {
        eprintln!(
            "accepted: request id {}",
            reply.header("x-amzn-RequestId").unwrap_or("?")
        );
        return Ok(ExitCode::SUCCESS);
    }
    let mut out = std::io::stdout();
    out.write_all(&reply.body)?;
    out.write_all(b"\n")?;
    Ok(if reply.header("x-amz-function-error").is_some() {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    })
}
