//! The command line: `lambent up` runs the server; every other command is a client of the
//! public API (SigV4-signed, like any AWS tool), friendlier than the aws CLI.

mod archive;
mod bench;
mod client;
mod events;
mod function;
mod invoke;
mod logs;
mod runtimes;
mod usage;

pub use archive::zip_entries;

use crate::config::RawConfig;
use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

pub const DEFAULT_LISTEN: &str = "127.0.0.1:9070";
pub const DEFAULT_DATA_DIR: &str = ".lambent";
/// The file in the data directory where a running server records its endpoint.
pub const ENDPOINT_FILE: &str = "endpoint";
/// Where `lambent up` records its process id (for `lambent bench`'s memory scenario).
pub const PID_FILE: &str = "lambent.pid";

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
    Credentials(ClientArgs),
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
    /// Measure invocation latency against the machine's loopback floor.
    Bench(bench::BenchArgs),
    /// The AWS SDKs functions import: `install` puts them in the runtimes directory.
    #[command(subcommand)]
    Runtimes(runtimes::RuntimesCommand),
    /// Print the isolation and limits this host lets lambent enforce, and what serves each
    /// runtime.
    Doctor(RuntimesDirArgs),
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

/// How a client command reaches the server.
#[derive(Debug, Args, Clone)]
pub struct ClientArgs {
    /// lambent's endpoint (default: `AWS_ENDPOINT_URL`, then what the server recorded in
    /// the data directory, then http://127.0.0.1:9070).
    #[arg(long, global = true)]
    pub endpoint: Option<String>,
    /// The data directory whose credentials to use when `AWS_ACCESS_KEY_ID` is not set.
    #[arg(long, global = true, default_value = DEFAULT_DATA_DIR)]
    pub data_dir: PathBuf,
}

pub async fn main(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Up(args) => up(args).await,
        Command::Credentials(args) => {
            let c = client::Client::from_args(&args)?;
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
        Command::Doctor(args) => {
            print!("{}", crate::scheduler::isolation_report("lambent-doctor"));
            let dir = crate::config::runtimes_dir(args.runtimes_dir)?;
            let report = tokio::task::spawn_blocking(move || runtimes::report(&dir)).await?;
            print!("{report}");
            Ok(ExitCode::SUCCESS)
        }
    }
}

async fn up(args: UpArgs) -> anyhow::Result<ExitCode> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("LAMBENT_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_target(false)
        .with_writer(std::io::stderr)
        .init();
    let config = RawConfig {
        data_dir: args.data_dir,
        region: args.region,
        max_concurrency: args.max_concurrency,
        keep_alive_secs: args.keep_alive,
        examples: args.examples,
        cpu_limits: args.cpu_limits,
        stems: args.stems,
        async_retry_delay: args.async_retry_delay,
        billing_granularity: args.billing_granularity,
        pricing: crate::config::Pricing {
            per_million_requests: args.price_per_million_requests,
            per_gb_second: args.price_per_gb_second,
            free_requests: args.free_requests,
            free_gb_seconds: args.free_gb_seconds,
        },
        runtimes_dir: args.runtimes.runtimes_dir,
    }
    .validate()?;
    let listener = tokio::net::TcpListener::bind(&args.listen).await?;
    let addr = listener.local_addr()?;
    std::fs::write(
        config.data_dir.join(ENDPOINT_FILE),
        format!("http://{addr}\n"),
    )?;
    std::fs::write(
        config.data_dir.join(PID_FILE),
        format!("{}\n", std::process::id()),
    )?;
    // Tests and scripts read this line to learn the port when listening on :0.
    println!("lambent listening on http://{addr}");
    let shutdown = async {
        let mut term =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = async { match term.as_mut() { Some(t) => { t.recv().await; } None => std::future::pending().await } } => {}
        }
    };
    crate::run(listener, config, shutdown).await?;
    Ok(ExitCode::SUCCESS)
}
