//! Server configuration in two steps: [`RawConfig`] mirrors the command line, [`Config`] is
//! the validated form the rest of the program uses. The data directory is not configuration
//! but a resource one server holds at a time: see [`crate::data_dir`].

use std::path::PathBuf;
use std::time::Duration;

/// What the user wrote on `lambent up`.
#[derive(Debug, Clone)]
pub struct RawConfig {
    pub region: String,
    pub max_concurrency: u32,
    pub keep_alive_secs: u64,
    pub examples: bool,
    /// `weighted`, `aws` or `off`.
    pub cpu_limits: String,
    /// Stems kept ready per interpreter that functions use (and for `provided`).
    pub stems: usize,
    /// The wait before an asynchronous event's second attempt (`60s`, `500ms`...).
    pub async_retry_delay: String,
    /// Billing granularity: `1ms` (AWS today) or `100ms` (the book's model).
    pub billing_granularity: String,
    pub pricing: Pricing,
    /// `--runtimes-dir` (or `LAMBENT_RUNTIMES_DIR`), if given.
    pub runtimes_dir: Option<PathBuf>,
}

/// The price sheet usage is costed with. Defaults: AWS's x86 list price and monthly free tier.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Pricing {
    pub per_million_requests: f64,
    pub per_gb_second: f64,
    /// Requests and GB-seconds free each calendar month.
    pub free_requests: u64,
    pub free_gb_seconds: f64,
}

impl Default for Pricing {
    fn default() -> Pricing {
        Pricing {
            per_million_requests: 0.20,
            per_gb_second: 0.000_016_666_7,
            free_requests: 1_000_000,
            free_gb_seconds: 400_000.0,
        }
    }
}

/// Validated configuration.
#[derive(Debug, Clone)]
pub struct Config {
    pub region: String,
    /// Account-wide concurrent executions (`--max-concurrency`).
    pub max_concurrency: u32,
    /// How long an idle warm environment is kept before it is stopped.
    pub keep_alive: Duration,
    /// Deploy the example functions on start.
    pub examples: bool,
    /// How CPU is shared between environments.
    pub cpu_limits: lambent_sandbox::CpuPolicy,
    /// Environments started ahead of their function, per interpreter in use (`--stems`).
    pub stems: usize,
    /// The wait before an asynchronous event's second attempt; the third waits twice as
    /// long (AWS: one minute and two).
    pub async_retry_delay: Duration,
    /// Billed durations are rounded up to this many milliseconds.
    pub billing_granularity_ms: u64,
    pub pricing: Pricing,
    /// Connections the edge holds, in total and per client address (no flag: the defaults).
    pub connections: ConnectionLimits,
    /// Absolute directory of the SDK cache every data directory shares.
    pub runtimes_dir: PathBuf,
}

/// The SDK cache's directory: the one given, else `$XDG_CACHE_HOME/lambent`, else
/// `~/.cache/lambent`, made absolute (it is shared by processes started elsewhere).
pub fn runtimes_dir(given: Option<PathBuf>) -> anyhow::Result<PathBuf> {
    let var = |k: &str| {
        std::env::var_os(k)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    let dir = match given {
        Some(d) => d,
        None => match (var("XDG_CACHE_HOME"), var("HOME")) {
            (Some(cache), _) => cache.join("lambent"),
            (None, Some(home)) => home.join(".cache").join("lambent"),
            (None, None) => {
                anyhow::bail!("--runtimes-dir is needed: neither XDG_CACHE_HOME nor HOME is set")
            }
        },
    };
    anyhow::ensure!(
        !dir.as_os_str().is_empty(),
        "--runtimes-dir must not be empty"
    );
    Ok(std::path::absolute(&dir)?)
}

/// AWS keeps this many concurrent executions for functions without reserved concurrency.
pub const MIN_UNRESERVED_CONCURRENCY: u32 = 10;

/// `--billing-granularity`: a whole number of milliseconds, from 1 ms to 1 s.
fn billing_granularity_ms(text: &str) -> anyhow::Result<u64> {
    let d = parse_duration(text).map_err(|e| anyhow::anyhow!("--billing-granularity: {e}"))?;
    let ms = d.as_millis() as u64;
    anyhow::ensure!(
        (1..=1000).contains(&ms) && d.as_nanos() % 1_000_000 == 0,
        "--billing-granularity must be whole milliseconds from 1ms to 1s (e.g. 1ms, 100ms)"
    );
    Ok(ms)
}

impl RawConfig {
    pub fn validate(self) -> anyhow::Result<Config> {
        let p = &self.pricing;
        anyhow::ensure!(
            [p.per_million_requests, p.per_gb_second, p.free_gb_seconds]
                .iter()
                .all(|v| v.is_finite() && *v >= 0.0),
            "prices and free tiers must be non-negative numbers"
        );
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
        Ok(Config {
            region: self.region,
            max_concurrency: self.max_concurrency,
            keep_alive: Duration::from_secs(self.keep_alive_secs.max(1)),
            examples: self.examples,
            cpu_limits,
            stems: self.stems,
            async_retry_delay: parse_duration(&self.async_retry_delay)
                .map_err(|e| anyhow::anyhow!("--async-retry-delay: {e}"))?,
            billing_granularity_ms: billing_granularity_ms(&self.billing_granularity)?,
            pricing: self.pricing,
            connections: ConnectionLimits::default(),
            runtimes_dir: runtimes_dir(self.runtimes_dir)?,
        })
    }
}

/// Parses a duration flag (`--async-retry-delay`, `--billing-granularity`): `90s`, `500ms`, `2m`, or plain seconds.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let (number, unit) = match text.find(|c: char| !c.is_ascii_digit() && c != '.') {
        Some(i) => text.split_at(i),
        None => (text, "s"),
    };
    let n: f64 = number
        .parse()
        .map_err(|_| format!("{text:?} is not a duration (e.g. 60s, 500ms, 2m)"))?;
    let secs = match unit {
        "ms" => n / 1000.0,
        "s" => n,
        "m" => n * 60.0,
        "h" => n * 3600.0,
        _ => return Err(format!("{text:?}: the unit must be ms, s, m or h")),
    };
    if !(0.0..=86_400.0).contains(&secs) {
        return Err(format!("{text:?} is out of range (0 to 24h)"));
    }
    Ok(Duration::from_secs_f64(secs))
}

/// The default bounds: enough for a busy machine's clients (and its functions' SDKs, which
/// reach lambent from loopback too), few enough that lambent's memory and file descriptors
/// stay bounded.
pub const MAX_CONNECTIONS: usize = 4096;
pub const MAX_CONNECTIONS_PER_ADDRESS: usize = 1024;

/// The bounds one edge applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionLimits {
    pub total: usize,
    pub per_address: usize,
}

impl Default for ConnectionLimits {
    fn default() -> ConnectionLimits {
        ConnectionLimits {
            total: MAX_CONNECTIONS,
            per_address: MAX_CONNECTIONS_PER_ADDRESS,
        }
    }
}

impl ConnectionLimits {
    /// The limits, lowered when `open_files` could not hold them: half the descriptors stay
    /// for environments (pipes, Runtime API listeners) and the stores.
    pub fn fitted_to(self, open_files: u64) -> ConnectionLimits {
        let room = usize::try_from(open_files / 2).unwrap_or(usize::MAX).max(1);
        let total = self.total.min(room);
        ConnectionLimits {
            total,
            per_address: self.per_address.min(total),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_with_units() {
        assert_eq!(parse_duration("60s").unwrap(), Duration::from_secs(60));
        assert_eq!(parse_duration("500ms").unwrap(), Duration::from_millis(500));
        assert_eq!(parse_duration("2m").unwrap(), Duration::from_secs(120));
        assert_eq!(parse_duration("3").unwrap(), Duration::from_secs(3));
        assert!(parse_duration("soon").is_err());
        assert!(parse_duration("5d").is_err());
    }

    #[test]
    fn few_open_files_lower_the_limits() {
        let d = ConnectionLimits::default();
        assert_eq!(d.fitted_to(1 << 20), d);
        let low = d.fitted_to(1024);
        assert_eq!((low.total, low.per_address), (512, 512));
        let tiny = d.fitted_to(100);
        assert_eq!((tiny.total, tiny.per_address), (50, 50));
    }
}
