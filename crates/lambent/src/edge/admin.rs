//! lambent's own endpoints under `/_lambent/`, beside the AWS APIs: `metrics` (public, as
//! Prometheus scrapes it: counts and function names, nothing secret), and `usage` and
//! `events/failed` (signed like a Lambda call). `/_lambent/health` is answered in `mod.rs`.

use super::{decode_query, plain, App};
use bytes::Bytes;
use http::{Response, StatusCode};
use http_body_util::Full;
use lambent_aws::lambda::LambdaError;

/// `GET /_lambent/metrics`: Prometheus text.
pub(super) fn metrics(app: &App) -> Response<Full<Bytes>> {
    let (queue_depth, oldest) = app.control.events().queue().depth().unwrap_or((0, None));
    let gauges = crate::telemetry::Gauges {
        concurrent: app.control.scheduler().concurrency(),
        stems: app.control.scheduler().stems_ready(),
        queue_depth,
        oldest_event_age: oldest.map(|ms| {
            std::time::Duration::from_millis((crate::logs::now_millis() - ms).max(0) as u64)
        }),
        metric_filters: app
            .logs
            .metric_filter_values()
            .into_iter()
            .map(|m| crate::telemetry::FilterValue {
                log_group: m.log_group,
                filter_name: m.filter_name,
                metric_namespace: m.metric_namespace,
                metric_name: m.metric_name,
                value: m.value,
            })
            .collect(),
    };
    let body = app.control.scheduler().telemetry().render(&gauges);
    Response::builder()
        .status(StatusCode::OK)
        .header(http::header::CONTENT_TYPE, "text/plain; version=0.0.4")
        .body(Full::new(Bytes::from(body)))
        .unwrap_or_else(|_| plain(StatusCode::INTERNAL_SERVER_ERROR, "metrics\n"))
}

/// The query parameter `name` of a request, decoded.
fn query_param(parts: &http::request::Parts, name: &str) -> Option<String> {
    parts.uri.query().and_then(|q| {
        q.split('&')
            .filter_map(|p| p.split_once('='))
            .find(|(k, _)| *k == name)
            .map(|(_, v)| decode_query(v))
    })
}

/// A `From`/`To` bound: Unix milliseconds, or an RFC 3339 time or `YYYY-MM-DD` date (UTC).
fn time_param(text: &str) -> Result<i64, LambdaError> {
    if let Ok(ms) = text.parse::<i64>() {
        return Ok(ms);
    }
    let full = if text.len() == 10 {
        format!("{text}T00:00:00Z")
    } else {
        text.to_string()
    };
    time::OffsetDateTime::parse(&full, &time::format_description::well_known::Rfc3339)
        .map(|t| (t.unix_timestamp_nanos() / 1_000_000) as i64)
        .map_err(|_| {
            LambdaError::InvalidParameterValue(format!(
                "{text:?} is not a time: use Unix milliseconds, YYYY-MM-DD or RFC 3339"
            ))
        })
}

/// lambent's own `GET /_lambent/usage[?FunctionName=&From=&To=]` (signed like a Lambda call):
/// requests, GB-seconds and cost.
pub(super) fn usage(
    app: &App,
    parts: &http::request::Parts,
) -> Result<Response<Full<Bytes>>, LambdaError> {
    let from = query_param(parts, "From")
        .map(|t| time_param(&t))
        .transpose()?
        .unwrap_or(0);
    let to = query_param(parts, "To")
        .map(|t| time_param(&t))
        .transpose()?
        .unwrap_or(i64::MAX);
    let function = query_param(parts, "FunctionName");
    let report = app
        .control
        .scheduler()
        .telemetry()
        .usage_report(function.as_deref(), from, to)
        .map_err(|e| LambdaError::Service(format!("reading usage: {e}")))?;
    Response::builder()
        .status(StatusCode::OK)
        .header(http::header::CONTENT_TYPE, "application/json")
        .body(Full::new(Bytes::from(report.to_string())))
        .map_err(|e| LambdaError::Service(e.to_string()))
}

/// lambent's own `GET /_lambent/doctor` (root key only): the principals allowed everything,
/// and the roles an upgrade created allowing everything, with the functions that run as
/// them. What `lambent doctor` prints.
pub(super) fn doctor(app: &App) -> Result<Response<Full<Bytes>>, LambdaError> {
    let failed =
        |e: lambent_store::iam::IamError| LambdaError::Service(format!("reading IAM: {e}"));
    let full_access = app.authorizer.full_access().map_err(failed)?;
    let upgraded = crate::upgrade::upgraded_roles(app.iam.store()).map_err(failed)?;
    let functions = app.control.roles();
    let upgraded: Vec<serde_json::Value> = upgraded
        .into_iter()
        .map(|role| {
            let names: Vec<&str> = functions
                .iter()
                .filter(|(_, roles)| roles.contains(&role))
                .map(|(name, _)| name.as_str())
                .collect();
            serde_json::json!({"Role": role, "Functions": names})
        })
        .collect();
    let body = serde_json::json!({"FullAccess": full_access, "UpgradedRoles": upgraded});
    Response::builder()
        .status(StatusCode::OK)
        .header(http::header::CONTENT_TYPE, "application/json")
        .body(Full::new(Bytes::from(body.to_string())))
        .map_err(|e| LambdaError::Service(e.to_string()))
}

/// lambent's own `GET /_lambent/events/failed[?FunctionName=]` (signed like any Lambda
/// call): the events that will not be delivered.
pub(super) fn failed_events(
    app: &App,
    parts: &http::request::Parts,
) -> Result<Response<Full<Bytes>>, LambdaError> {
    let function = query_param(parts, "FunctionName");
    let body = app
        .control
        .events()
        .failed_json(function.as_deref())
        .map_err(|e| LambdaError::Service(format!("reading failed events: {e}")))?;
    Response::builder()
        .status(StatusCode::OK)
        .header(http::header::CONTENT_TYPE, "application/json")
        .body(Full::new(Bytes::from(body)))
        .map_err(|e| LambdaError::Service(e.to_string()))
}
