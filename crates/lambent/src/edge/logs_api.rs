//! The CloudWatch Logs API subset `lambent logs` and AWS tools use to read function logs
//! (awsJson 1.1, `X-Amz-Target: Logs_20140328.<Action>`).

use crate::logs::LogStore;
use bytes::Bytes;
use http::{Response, StatusCode};
use http_body_util::Full;
use serde::Deserialize;
use serde_json::json;

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Input {
    log_group_name: Option<String>,
    log_stream_name: Option<String>,
    log_stream_names: Option<Vec<String>>,
    start_time: Option<i64>,
    end_time: Option<i64>,
    filter_pattern: Option<String>,
    limit: Option<usize>,
    start_from_head: Option<bool>,
}

pub fn handle(logs: &LogStore, action: &str, body: &[u8]) -> Response<Full<Bytes>> {
    let input: Input = match serde_json::from_slice(if body.is_empty() { b"{}" } else { body }) {
        Ok(i) => i,
        Err(e) => return error_response(&("SerializationException", e.to_string())),
    };
    match action {
        "DescribeLogStreams" => describe_log_streams(logs, &input),
        "GetLogEvents" => get_log_events(logs, &input),
        "FilterLogEvents" => filter_log_events(logs, &input),
        other => error_response(&(
            "UnknownOperationException",
            format!("lambent does not implement Logs {other} yet."),
        )),
    }
}

/// The requested group, or the error AWS gives for a missing one.
fn group<'a>(input: &'a Input, logs: &LogStore) -> Result<&'a str, Box<Response<Full<Bytes>>>> {
    let g = input.log_group_name.as_deref().unwrap_or("");
    if !logs.group_exists(g) {
        return Err(Box::new(error_response(&(
            "ResourceNotFoundException",
            "The specified log group does not exist.".into(),
        ))));
    }
    Ok(g)
}

fn describe_log_streams(logs: &LogStore, input: &Input) -> Response<Full<Bytes>> {
    let g = match group(input, logs) {
        Ok(g) => g,
        Err(r) => return *r,
    };
    let streams = logs.streams(g).unwrap_or_default();
    let list: Vec<_> = streams
        .iter()
        .take(input.limit.unwrap_or(50))
        .map(|s| {
            json!({
                "logStreamName": s.name,
                "firstEventTimestamp": s.first_event,
                "lastEventTimestamp": s.last_event,
                "storedBytes": s.stored_bytes,
                "arn": format!("arn:aws:logs:us-east-1:000000000000:log-group:{g}:log-stream:{}", s.name),
            })
        })
        .collect();
    ok(&json!({ "logStreams": list }))
}

fn in_window(ts: i64, input: &Input) -> bool {
    input.start_time.is_none_or(|s| ts >= s) && input.end_time.is_none_or(|e| ts < e)
}

fn get_log_events(logs: &LogStore, input: &Input) -> Response<Full<Bytes>> {
    let g = match group(input, logs) {
        Ok(g) => g,
        Err(r) => return *r,
    };
    let stream = input.log_stream_name.as_deref().unwrap_or("");
    let events: Vec<_> = logs
        .events(g, stream)
        .unwrap_or_default()
        .into_iter()
        .filter(|e| in_window(e.timestamp, input))
        .collect();
    let limit = input.limit.unwrap_or(10_000);
    let slice = if input.start_from_head == Some(true) {
        &events[..limit.min(events.len())]
    } else {
        &events[events.len().saturating_sub(limit)..]
    };
    let list: Vec<_> = slice
        .iter()
        .map(|e| json!({"timestamp": e.timestamp, "message": e.message, "ingestionTime": e.timestamp}))
        .collect();
    ok(&json!({
        "events": list,
        "nextForwardToken": format!("f/{}", events.len()),
        "nextBackwardToken": "b/0",
    }))
}

/// Filters by plain terms (every term must appear); the full AWS pattern syntax comes with
/// the Logs issue.
fn filter_log_events(logs: &LogStore, input: &Input) -> Response<Full<Bytes>> {
    let g = match group(input, logs) {
        Ok(g) => g,
        Err(r) => return *r,
    };
    let terms: Vec<String> = input
        .filter_pattern
        .as_deref()
        .unwrap_or("")
        .split_whitespace()
        .map(|t| t.trim_matches('"').to_string())
        .collect();
    let mut out = Vec::new();
    for s in logs.streams(g).unwrap_or_default() {
        if input
            .log_stream_names
            .as_ref()
            .is_some_and(|names| !names.contains(&s.name))
        {
            continue;
        }
        for e in logs.events(g, &s.name).unwrap_or_default() {
            if in_window(e.timestamp, input) && terms.iter().all(|t| e.message.contains(t.as_str()))
            {
                out.push((s.name.clone(), e));
            }
        }
    }
    out.sort_by_key(|(_, e)| e.timestamp);
    let limit = input.limit.unwrap_or(10_000);
    let list: Vec<_> = out
        .iter()
        .take(limit)
        .map(|(s, e)| {
            json!({"logStreamName": s, "timestamp": e.timestamp, "message": e.message, "ingestionTime": e.timestamp, "eventId": format!("{}", e.timestamp)})
        })
        .collect();
    ok(&json!({ "events": list, "searchedLogStreams": [] }))
}

fn ok(v: &serde_json::Value) -> Response<Full<Bytes>> {
    Response::builder()
        .status(StatusCode::OK)
        .header("Content-Type", "application/x-amz-json-1.1")
        .body(Full::new(Bytes::from(v.to_string())))
        .unwrap_or_default()
}

/// awsJson's error envelope: 400 with `__type`.
pub fn error_response((code, message): &(&str, String)) -> Response<Full<Bytes>> {
    let body = json!({"__type": code, "message": message});
    Response::builder()
        .status(StatusCode::BAD_REQUEST)
        .header("Content-Type", "application/x-amz-json-1.1")
        .header("x-amzn-ErrorType", *code)
        .body(Full::new(Bytes::from(body.to_string())))
        .unwrap_or_default()
}
