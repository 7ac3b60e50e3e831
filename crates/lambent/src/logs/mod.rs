//! Function logs: log groups and streams stored as append-only files, and the capture task
//! that turns an environment's output into log events with START/END/REPORT lines.
//!
//! Invariant: an environment's output is read by exactly one task, which alone writes that
//! environment's stream; nothing buffers more than one line (capped at 256 KB) in memory.

mod capture;
mod store;

pub use capture::{spawn_capture, LogCommand};
pub use store::{LogEvent, LogStore, StreamInfo, StreamWriter};

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
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// `2024-01-01T00:00:03.123Z`, the timestamp AWS writes on platform lines.
pub fn iso_millis(unix_millis: i64) -> String {
    lambent_aws::lambda::model::iso8601_millis(unix_millis, "Z")
}
