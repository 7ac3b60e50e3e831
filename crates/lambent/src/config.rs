//! Server configuration in two steps: [`RawConfig`] mirrors the command line, [`Config`] is
//! the validated form the rest of the program uses.

use std::path::PathBuf;
use std::time::Duration;

/// What the user wrote on `lambent up`.
#[derive(Debug, Clone)]
pub struct RawConfig {
    pub data_dir: PathBuf,
    pub region: String,
    pub max_concurrency: u32,
    pub keep_alive_secs: u64,
    pub examples: bool,
    /// `weighted`, `aws` or `off`.
    pub cpu_limits: String,
    /// Stems kept ready per runtime family.
    pub stems: usize,
    /// The wait before an asynchronous event's second attempt (`60s`, `500ms`...).
    pub async_retry_delay: String,
}

/// Validated configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// Absolute data directory: the database, code, logs, credentials and environments.
    pub data_dir: PathBuf,
    pub region: String,
    /// Account-wide concurrent executions (`--max-concurrency`).
    pub max_concurrency: u32,
    /// How long an idle warm environment is kept before it is stopped.
    pub keep_alive: Duration,
    /// Deploy the example functions on start.
    pub examples: bool,
    /// How CPU is shared between environments.
    pub cpu_limits: lambent_sandbox::CpuPolicy,
    /// Environments started ahead of their function, per runtime family (`--stems`).
    pub stems: usize,
    /// The wait before an asynchronous event's second attempt; the third waits twice as
    /// long (AWS: one minute and two).
    pub async_retry_delay: Duration,
}

/// AWS keeps this many concurrent executions for functions without reserved concurrency.
pub const MIN_UNRESERVED_CONCURRENCY: u32 = 10;

impl RawConfig {
    pub fn validate(self) -> anyhow::Result<Config> {
        anyhow::ensure!(
            self.max_concurrency >= 1,
            "--max-concurrency must be at least 1"
        );
        anyhow::ensure!(
            !self.region.is_empty()
                && self
                    .region
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'),
            "--region must look like an AWS region (e.g. us-east-1)"
        );
        let cpu_limits = match self.cpu_limits.as_str() {
            "weighted" => lambent_sandbox::CpuPolicy::Weighted,
            "aws" => lambent_sandbox::CpuPolicy::Aws,
            "off" => lambent_sandbox::CpuPolicy::Off,
            other => anyhow::bail!("--cpu-limits must be weighted, aws or off, not {other:?}"),
        };
        std::fs::create_dir_all(&self.data_dir)?;
        let data_dir = std::fs::canonicalize(&self.data_dir)?;
        Ok(Config {
            data_dir,
            region: self.region,
            max_concurrency: self.max_concurrency,
            keep_alive: Duration::from_secs(self.keep_alive_secs.max(1)),
            examples: self.examples,
            cpu_limits,
            stems: self.stems,
            async_retry_delay: crate::events::parse_duration(&self.async_retry_delay)
                .map_err(|e| anyhow::anyhow!("--async-retry-delay: {e}"))?,
        })
    }
}
