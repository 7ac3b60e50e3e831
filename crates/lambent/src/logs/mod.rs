//! Function and client logs: log groups (with their retention and metric filters) and streams
//! stored as append-only files, the capture task that turns an environment's output into log
//! events with START/END/REPORT lines, and the retention sweeper.
//!
//! Invariant: an environment's output is read by exactly one task, which alone writes that
//! environment's stream through one shared file; nothing buffers more than one line (capped
//! at 256 KB) beyond the writer's 64 KB; no event is synced on its own.

mod capture;
mod groups;
mod metrics;
mod retention;
mod store;
mod stream;
mod writer;

pub use capture::{spawn_capture, LogCommand};
pub use groups::GroupInfo;
pub use lambent_aws::logs::model::{MetricFilter, MetricTransformation};
pub use metrics::MetricFilterValue;
pub use retention::Sweep;
pub use store::{LogStore, StreamEntry, StreamInfo, MAX_METRIC_FILTERS};
pub use stream::LogEvent;
pub use writer::StreamWriter;

/// What the log store could not do.
#[derive(Debug, thiserror::Error)]
pub enum LogStoreError {
    #[error("log group {0} does not exist")]
    GroupNotFound(String),
    #[error("log group {0} already exists")]
    GroupExists(String),
    #[error("log stream {stream} does not exist in {group}")]
    StreamNotFound { group: String, stream: String },
    #[error("log stream {stream} already exists in {group}")]
    StreamExists { group: String, stream: String },
    #[error("metric filter {filter} does not exist in {group}")]
    FilterNotFound { group: String, filter: String },
    #[error("log group {0} already has {MAX_METRIC_FILTERS} metric filters")]
    TooManyFilters(String),
    #[error("{step}: {source}")]
    Io {
        step: &'static str,
        #[source]
        source: std::io::Error,
    },
}

/// The default log group of a function.
pub fn group_name(function_name: &str) -> String {
    format!("/aws/lambda/{function_name}")
}

/// A new stream name in AWS's form: `2024/01/31/[$LATEST]0123456789abcdef0123456789abcdef`.
pub fn new_stream_name(version: &str) -> String {
    let now = time::OffsetDateTime::now_utc();
    format!(
        "{:04}/{:02}/{:02}/[{}]{}",
        now.year(),
        u8::from(now.month()),
        now.day(),
        version,
        uuid::Uuid::new_v4().simple()
    )
}

/// Milliseconds since the epoch, the timestamp unit of CloudWatch Logs.
pub fn now_millis() -> i64 {
    system_millis(std::time::SystemTime::now())
}

/// A file time in milliseconds since the epoch.
fn system_millis(t: std::time::SystemTime) -> i64 {
    t.duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// `2024-01-01T00:00:03.123Z`, the timestamp AWS writes on platform lines.
pub fn iso_millis(unix_millis: i64) -> String {
    lambent_aws::lambda::model::iso8601_millis(unix_millis, "Z")
}
