//! The command line: `lambent up` runs the server; every other command is a client of the
//! public API (SigV4-signed, like any AWS tool), friendlier than the aws CLI.

mod bench;
mod client;
mod doctor;
mod events;
mod function;
mod invoke;
mod logs;
mod runtimes;
mod table;
mod up;
mod usage;

pub use crate::data_dir::{ENDPOINT_FILE, PID_FILE};

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

pub const DEFAULT_LISTEN: &str = "127.0.0.1:9070";
pub const DEFAULT_DATA_DIR: &str = ".lambent";

#[derive(Debug, Parser)]
#[command(
    name = "lambent",
    version,
    about = "AWS Lambda and friends, on your machine"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the server.
    Up(UpArgs),
    /// Print `export AWS_...` lines that point AWS tools at lambent.
    Credentials(CredentialsArgs),
    /// Create, list, show, update and delete functions.
    #[command(subcommand)]
    Function(function::FunctionCommand),
    /// Invoke a function.
    Invoke(invoke::InvokeArgs),
    /// Show a function's logs.
    Logs(logs::LogsArgs),
    /// Asynchronous events: `failed [NAME]` lists those that will not be delivered.
    #[command(subcommand)]
    Events(events::EventsCommand),
    /// Requests, GB-seconds and cost, per function and in total.
    Usage(usage::UsageArgs),
    /// Measure invocations, asynchronous delivery, memory and the S3 API against the
    /// machine's loopback floor.
    Bench(bench::BenchArgs),
    /// The AWS SDKs functions import: `install` puts them in the runtimes directory.
    #[command(subcommand)]
    Runtimes(runtimes::RuntimesCommand),
    /// Print the isolation and limits this host lets lambent enforce, what serves each
    /// runtime, and (when lambent runs) the principals allowed everything.
    Doctor(doctor::DoctorArgs),
}

/// Where the SDK cache is.
#[derive(Debug, Args, Clone)]
pub struct RuntimesDirArgs {
    /// Where the AWS SDKs that functions import (boto3, the AWS SDK for JavaScript v3) are
    /// installed, shared by every data directory (default: $XDG_CACHE_HOME/lambent, else
    /// ~/.cache/lambent).
    #[arg(long, env = "LAMBENT_RUNTIMES_DIR")]
    pub runtimes_dir: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct UpArgs {
    /// Address to listen on.
    #[arg(long, default_value = DEFAULT_LISTEN)]
    pub listen: String,
    /// Where functions, code, logs and credentials live.
    #[arg(long, default_value = DEFAULT_DATA_DIR)]
    pub data_dir: PathBuf,
    /// Deploy the example functions.
    #[arg(long)]
    pub examples: bool,
    /// Account-wide concurrent executions.
    #[arg(long, default_value_t = 1000)]
    pub max_concurrency: u32,
    /// Seconds an idle environment stays warm.
    #[arg(long, default_value_t = 300)]
    pub keep_alive: u64,
    /// The region lambent presents itself as.
    #[arg(long, default_value = "us-east-1")]
    pub region: String,
    /// CPU between environments: `weighted` by memory under contention (no cap on an idle
    /// machine), `aws` hard quotas (1,769 MB = one vCPU), or `off`.
    #[arg(long, default_value = "weighted")]
    pub cpu_limits: String,
    /// Environments kept started ahead of their function, per interpreter that functions
    /// use (and for `provided`): a cold start takes one instead of building a sandbox.
    /// 0: none.
    #[arg(long, default_value_t = 1)]
    pub stems: usize,
    /// The wait before an asynchronous event's second attempt; the third waits twice as
    /// long (AWS: 60s, so 1 and 2 minutes). Shorter values make retries testable.
    #[arg(long, default_value = "60s")]
    pub async_retry_delay: String,
    /// Billed durations are rounded up to this: `1ms` as AWS bills today, `100ms` for the
    /// older model.
    #[arg(long, default_value = "1ms")]
    pub billing_granularity: String,
    /// Price per million requests, in dollars (AWS x86 list price).
    #[arg(long, default_value_t = 0.20)]
    pub price_per_million_requests: f64,
    /// Price per GB-second, in dollars (AWS x86 list price).
    #[arg(long, default_value_t = 0.000_016_666_7)]
    pub price_per_gb_second: f64,
    /// Requests free each calendar month.
    #[arg(long, default_value_t = 1_000_000)]
    pub free_requests: u64,
    /// GB-seconds free each calendar month.
    #[arg(long, default_value_t = 400_000.0)]
    pub free_gb_seconds: f64,
    #[command(flatten)]
    pub runtimes: RuntimesDirArgs,
}

/// `lambent credentials [--user NAME]`.
#[derive(Debug, Args)]
pub struct CredentialsArgs {
    /// Create a new access key for this IAM user (through IAM's CreateAccessKey, signed with
    /// the data directory's key) and print its lines instead of the root key's.
    #[arg(long, value_name = "NAME")]
    pub user: Option<String>,
    #[command(flatten)]
    pub client: ClientArgs,
}

/// How a client command reaches the server.
#[derive(Debug, Args, Clone)]
pub struct ClientArgs {
    /// lambent's endpoint (default: `AWS_ENDPOINT_URL`, then what the server recorded in
    /// the data directory, then http://127.0.0.1:9070).
    #[arg(long, global = true, value_name = "URL")]
    pub endpoint: Option<String>,
    /// The data directory whose credentials to use when `AWS_ACCESS_KEY_ID` is not set.
    #[arg(long, global = true, value_name = "DIR", default_value = DEFAULT_DATA_DIR)]
    pub data_dir: PathBuf,
}

pub async fn main(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Up(args) => up::run(args).await,
        Command::Credentials(args) => {
            let c = client::Client::from_args(&args.client)?;
            let c = match &args.user {
                Some(user) => {
                    let (id, secret) = c.create_access_key(user).await?;
                    c.with_key(&id, &secret)
                }
                None => c,
            };
            print!("{}", c.exports());
            Ok(ExitCode::SUCCESS)
        }
        Command::Function(cmd) => function::run(cmd).await,
        Command::Invoke(args) => invoke::run(args).await,
        Command::Logs(args) => logs::run(args).await,
        Command::Events(cmd) => events::run(cmd).await,
        Command::Usage(args) => usage::run(args).await,
        Command::Bench(args) => bench::run(args).await,
        Command::Runtimes(cmd) => runtimes::run(cmd).await,
        Command::Doctor(args) => doctor::run(args).await,
    }
}
