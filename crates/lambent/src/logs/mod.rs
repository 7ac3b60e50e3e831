//! CloudWatch Logs: the API (`api.rs`, awsJson 1.1 by `X-Amz-Target`) with its route table
//! ([`ROUTES`]: each operation's IAM action and resource), and the service's state: log
//! groups (with their retention and metric filters) and streams stored as append-only files,
//! the capture task that turns an environment's output into log events with START/END/REPORT
//! lines, and the retention sweeper.
//!
//! Invariant: an environment's output is read by exactly one task, which alone writes that
//! environment's stream through one shared file; nothing buffers more than one line (capped
//! at 256 KB) beyond the writer's 64 KB; no event is synced on its own.

mod api;
mod capture;
mod groups;
mod metrics;
mod retention;
mod store;
mod stream;
mod writer;

pub use api::handle;
pub use capture::{spawn_capture, LogCommand};
pub use groups::GroupInfo;
pub use lambent_aws::logs::model::{MetricFilter, MetricTransformation};
pub use metrics::MetricFilterValue;
pub use retention::Sweep;
pub use store::{LogStore, StreamEntry, StreamInfo, MAX_METRIC_FILTERS};
pub use stream::LogEvent;
pub use writer::StreamWriter;

/// The `X-Amz-Target` prefix of every Logs operation.
pub const TARGET_PREFIX: &str = "Logs_20140328.";

/// A Logs request's JSON: PutLogEvents may carry 1,048,576 bytes of events (counted as
/// AWS counts them), which JSON escaping can make several times larger on the wire.
pub const MAX_BODY: usize = 8 * 1024 * 1024;

/// What an operation authorizes against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resource {
    /// `arn:aws:logs:REGION:ACCOUNT:log-group:NAME`, from the body's `logGroupName`.
    LogGroup,
    /// `arn:aws:logs:REGION:ACCOUNT:log-group:NAME:log-stream:STREAM`.
    LogStream,
    /// `*`: the operation names no resource.
    All,
}

/// The operations lambent serves, named as their `X-Amz-Target` names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    CreateLogGroup,
    DeleteLogGroup,
    DescribeLogGroups,
    PutRetentionPolicy,
    DeleteRetentionPolicy,
    CreateLogStream,
    DeleteLogStream,
    DescribeLogStreams,
    PutLogEvents,
    GetLogEvents,
    FilterLogEvents,
    PutMetricFilter,
    DescribeMetricFilters,
    DeleteMetricFilter,
    TestMetricFilter,
}

/// One operation of the Logs API.
pub struct Route {
    /// The `X-Amz-Target` after [`TARGET_PREFIX`].
    pub target: &'static str,
    pub operation: Operation,
    /// The IAM action a caller needs (`logs:PutLogEvents`).
    pub action: &'static str,
    pub resource: Resource,
    pub body_limit: usize,
}

/// Every operation of the Logs API.
#[rustfmt::skip]
pub static ROUTES: &[Route] = {
    use Operation::*;
    use Resource::*;
    const fn r(target: &'static str, operation: Operation, action: &'static str, resource: Resource) -> Route {
        Route { target, operation, action, resource, body_limit: MAX_BODY }
    }
    &[
        r("CreateLogGroup",        CreateLogGroup,        "logs:CreateLogGroup",        LogGroup),
        r("DeleteLogGroup",        DeleteLogGroup,        "logs:DeleteLogGroup",        LogGroup),
        r("DescribeLogGroups",     DescribeLogGroups,     "logs:DescribeLogGroups",     All),
        r("PutRetentionPolicy",    PutRetentionPolicy,    "logs:PutRetentionPolicy",    LogGroup),
        r("DeleteRetentionPolicy", DeleteRetentionPolicy, "logs:DeleteRetentionPolicy", LogGroup),
        r("CreateLogStream",       CreateLogStream,       "logs:CreateLogStream",       LogGroup),
        r("DeleteLogStream",       DeleteLogStream,       "logs:DeleteLogStream",       LogStream),
        r("DescribeLogStreams",    DescribeLogStreams,    "logs:DescribeLogStreams",    LogGroup),
        r("PutLogEvents",          PutLogEvents,          "logs:PutLogEvents",          LogStream),
        r("GetLogEvents",          GetLogEvents,          "logs:GetLogEvents",          LogStream),
        r("FilterLogEvents",       FilterLogEvents,       "logs:FilterLogEvents",       LogGroup),
        r("PutMetricFilter",       PutMetricFilter,       "logs:PutMetricFilter",       LogGroup),
        r("DescribeMetricFilters", DescribeMetricFilters, "logs:DescribeMetricFilters", LogGroup),
        r("DeleteMetricFilter",    DeleteMetricFilter,    "logs:DeleteMetricFilter",    LogGroup),
        r("TestMetricFilter",      TestMetricFilter,      "logs:TestMetricFilter",      All),
    ]
};

impl Route {
    /// The route of an `X-Amz-Target` (prefix included), if lambent serves it.
    pub fn find(target: &str) -> Option<&'static Route> {
        let name = target.strip_prefix(TARGET_PREFIX)?;
        ROUTES.iter().find(|r| r.target == name)
    }
}

/// What a request is authorized as: its route's IAM action and the ARN of the log group or
/// stream its body names (`None`: lambent serves no such target, and nothing runs).
pub fn authorization(target: &str, body: &[u8], region: &str) -> Option<(&'static str, String)> {
    let route = Route::find(target)?;
    let account = lambent_aws::arn::ACCOUNT_ID;
    let v = serde_json::from_slice::<serde_json::Value>(body).unwrap_or_default();
    let field = |k: &str| v.get(k).and_then(|s| s.as_str()).unwrap_or("");
    let group = match field("logGroupName") {
        "" => field("logGroupIdentifier"),
        g => g,
    };
    let group_arn = format!("arn:aws:logs:{region}:{account}:log-group:{group}");
    let resource = match route.resource {
        Resource::All => "*".to_string(),
        Resource::LogGroup => group_arn,
        Resource::LogStream => format!("{group_arn}:log-stream:{}", field("logStreamName")),
    };
    Some((route.action, resource))
}

/// The body limit of a request for `target`: the route's, else the service's.
pub fn body_limit(target: &str) -> usize {
    Route::find(target).map_or(MAX_BODY, |r| r.body_limit)
}

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

#[cfg(test)]
mod route_tests {
    use super::*;

    #[test]
    fn every_route_has_its_own_logs_action() {
        let mut seen = std::collections::HashSet::new();
        for r in ROUTES {
            assert_eq!(
                r.action.strip_prefix("logs:"),
                Some(r.target),
                "{}",
                r.target
            );
            assert!(seen.insert(r.target), "{} twice", r.target);
            assert_eq!(format!("{:?}", r.operation), r.target);
        }
        assert!(Route::find("Logs_20140328.PutLogEvents").is_some());
        assert!(Route::find("Logs_20140328.TagLogGroup").is_none());
        assert!(Route::find("PutLogEvents").is_none());
    }
}
