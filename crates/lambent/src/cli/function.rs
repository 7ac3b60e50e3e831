//! `lambent function create|list|get|update|delete`.

use super::client::{segment, Call, Client};
use super::table::{Align, Table};
use super::ClientArgs;
use crate::archive::zip_path;
use anyhow::Context;
use base64::Engine;
use bytes::Bytes;
use clap::{Args, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::{json, Value};
use std::path::PathBuf;
use std::process::ExitCode;

/// Uploads bigger than this show a progress bar.
const PROGRESS_THRESHOLD: usize = 1024 * 1024;
/// The role a function created without `--role` runs as, created on first use with basic
/// Lambda permissions (logs only).
const DEFAULT_ROLE: &str = "lambent-function";

#[derive(Debug, Subcommand)]
pub enum FunctionCommand {
    /// Create a function from a directory, a single file or a .zip.
    Create(CreateArgs),
    /// List functions.
    List(ClientArgs),
    /// Show a function's configuration.
    Get {
        /// The function's name (or ARN).
        name: String,
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Update a function's code and/or configuration.
    Update(UpdateArgs),
    /// Delete a function.
    Delete {
        /// The function's name (or ARN).
        name: String,
        #[command(flatten)]
        client: ClientArgs,
    },
}

#[derive(Debug, Args)]
pub struct ConfigArgs {
    /// Runtime, e.g. python3.12, nodejs20.x, provided.al2023.
    #[arg(long)]
    runtime: Option<String>,
    /// Handler, e.g. app.handler (provided runtimes ignore it).
    #[arg(long)]
    handler: Option<String>,
    /// Memory in MB.
    #[arg(long)]
    memory: Option<u32>,
    /// Timeout in seconds.
    #[arg(long)]
    timeout: Option<u32>,
    /// Environment variable KEY=VALUE (repeatable).
    #[arg(long = "env", value_name = "KEY=VALUE")]
    env: Vec<String>,
    /// Execution role ARN (default for create: the role `lambent-function`, created with
    /// basic Lambda permissions if missing).
    #[arg(long)]
    role: Option<String>,
    /// A description of the function, up to 256 characters.
    #[arg(long)]
    description: Option<String>,
}

#[derive(Debug, Args)]
pub struct CreateArgs {
    /// The new function's name: letters, digits, hyphens and underscores, at most 64.
    name: String,
    /// Code: a directory, a single file, or a .zip.
    #[arg(long)]
    code: PathBuf,
    #[command(flatten)]
    config: ConfigArgs,
    #[command(flatten)]
    client: ClientArgs,
}

#[derive(Debug, Args)]
pub struct UpdateArgs {
    /// The function's name (or ARN).
    name: String,
    /// New code: a directory, a single file, or a .zip.
    #[arg(long)]
    code: Option<PathBuf>,
    #[command(flatten)]
    config: ConfigArgs,
    #[command(flatten)]
    client: ClientArgs,
}

fn env_map(pairs: &[String]) -> anyhow::Result<Value> {
    let mut vars = serde_json::Map::new();
    for p in pairs {
        let (k, v) = p
            .split_once('=')
            .ok_or_else(|| anyhow::anyhow!("--env takes KEY=VALUE, got {p:?}"))?;
        vars.insert(k.to_string(), json!(v));
    }
    Ok(json!({ "Variables": vars }))
}

impl ConfigArgs {
    fn fields(&self, body: &mut serde_json::Map<String, Value>) -> anyhow::Result<()> {
        if let Some(r) = &self.runtime {
            body.insert("Runtime".into(), json!(r));
        }
        if let Some(h) = &self.handler {
            body.insert("Handler".into(), json!(h));
        }
        if let Some(m) = self.memory {
            body.insert("MemorySize".into(), json!(m));
        }
        if let Some(t) = self.timeout {
            body.insert("Timeout".into(), json!(t));
        }
        if !self.env.is_empty() {
            body.insert("Environment".into(), env_map(&self.env)?);
        }
        if let Some(r) = &self.role {
            body.insert("Role".into(), json!(r));
        }
        if let Some(d) = &self.description {
            body.insert("Description".into(), json!(d));
        }
        Ok(())
    }
}

fn progress(len: usize) -> Option<ProgressBar> {
    (len > PROGRESS_THRESHOLD).then(|| {
        let bar = ProgressBar::new(len as u64);
        if let Ok(style) = ProgressStyle::with_template("uploading {bar:40} {bytes}/{total_bytes}")
        {
            bar.set_style(style);
        }
        bar
    })
}

async fn send_json(
    client: &Client,
    method: &str,
    path: &str,
    body: &Value,
) -> anyhow::Result<Value> {
    let bytes = Bytes::from(serde_json::to_vec(body)?);
    let bar = progress(bytes.len());
    client
        .send(Call {
            service: "lambda",
            method,
            path,
            query: "",
            headers: &[("content-type", "application/json".into())],
            body: bytes,
            progress: bar,
        })
        .await?
        .ok()?
        .json()
}

/// The table `function list` prints, and `create` and `update` for the function they changed.
fn config_table() -> Table {
    Table::new(&[
        ("function", Align::Left),
        ("runtime", Align::Left),
        ("handler", Align::Left),
        ("memory (MB)", Align::Right),
        ("timeout (s)", Align::Right),
        ("last modified", Align::Left),
    ])
}

fn config_row(table: &mut Table, c: &Value) {
    let text = |field: &str| c[field].as_str().unwrap_or("").to_string();
    let number = |field: &str| c[field].as_u64().map(|n| n.to_string()).unwrap_or_default();
    table.row([
        text("FunctionName"),
        text("Runtime"),
        text("Handler"),
        number("MemorySize"),
        number("Timeout"),
        text("LastModified"),
    ]);
}

fn print_config(c: &Value) {
    let mut table = config_table();
    config_row(&mut table, c);
    table.print();
}

pub async fn run(cmd: FunctionCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        FunctionCommand::Create(a) => {
            let client = Client::from_args(&a.client)?;
            let zip = zip_path(&a.code)
                .with_context(|| format!("reading --code {}", a.code.display()))?;
            let mut body = serde_json::Map::new();
            body.insert("FunctionName".into(), json!(a.name));
            if a.config.role.is_none() {
                let role = client
                    .function_role(DEFAULT_ROLE)
                    .await
                    .context("finding the default execution role")?;
                body.insert("Role".into(), json!(role));
            }
            body.insert("Handler".into(), json!("bootstrap"));
            a.config.fields(&mut body)?;
            body.insert(
                "Code".into(),
                json!({"ZipFile": base64::engine::general_purpose::STANDARD.encode(&zip)}),
            );
            let c = send_json(
                &client,
                "POST",
                "/2015-03-31/functions",
                &Value::Object(body),
            )
            .await?;
            print_config(&c);
        }
        FunctionCommand::List(args) => {
            let client = Client::from_args(&args)?;
            let mut marker: Option<String> = None;
            let mut table = config_table();
            loop {
                let query = match &marker {
                    Some(m) => format!("Marker={}", segment(m)),
                    None => String::new(),
                };
                let page = client
                    .lambda("GET", "/2015-03-31/functions", &query, None)
                    .await?
                    .ok()?
                    .json()?;
                for f in page["Functions"].as_array().into_iter().flatten() {
                    config_row(&mut table, f);
                }
                match page["NextMarker"].as_str() {
                    Some(m) => marker = Some(m.to_string()),
                    None => break,
                }
            }
            table.print();
        }
        FunctionCommand::Get { name, client } => {
            let client = Client::from_args(&client)?;
            let c = client
                .lambda(
                    "GET",
                    &format!("/2015-03-31/functions/{}", segment(&name)),
                    "",
                    None,
                )
                .await?
                .ok()?
                .json()?;
            println!("{}", serde_json::to_string_pretty(&c["Configuration"])?);
        }
        FunctionCommand::Update(a) => {
            let client = Client::from_args(&a.client)?;
            let base = format!("/2015-03-31/functions/{}", segment(&a.name));
            let mut config = serde_json::Map::new();
            a.config.fields(&mut config)?;
            let mut last = None;
            if !config.is_empty() {
                last = Some(
                    send_json(
                        &client,
                        "PUT",
                        &format!("{base}/configuration"),
                        &Value::Object(config),
                    )
                    .await?,
                );
            }
            if let Some(code) = &a.code {
                let zip =
                    zip_path(code).with_context(|| format!("reading --code {}", code.display()))?;
                let body =
                    json!({"ZipFile": base64::engine::general_purpose::STANDARD.encode(&zip)});
                last = Some(send_json(&client, "PUT", &format!("{base}/code"), &body).await?);
            }
            match last {
                Some(c) => print_config(&c),
                None => anyhow::bail!("nothing to update: give --code or a configuration flag"),
            }
        }
        FunctionCommand::Delete { name, client } => {
            let client = Client::from_args(&client)?;
            client
                .lambda(
                    "DELETE",
                    &format!("/2015-03-31/functions/{}", segment(&name)),
                    "",
                    None,
                )
                .await?
                .ok()?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
