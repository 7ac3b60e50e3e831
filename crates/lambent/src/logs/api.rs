//! The CloudWatch Logs API (awsJson 1.1, `X-Amz-Target: Logs_20140328.<Action>`): log
//! groups, streams and events, retention and metric filters, with AWS's shapes and errors
//! (`../shared/spec/logs-api.md`). Inputs are parsed and validated here; the store gets
//! plain names, events and filter definitions.

use super::Operation::*;
use super::{Route, TARGET_PREFIX};
use crate::logs::{self, LogEvent, LogStore, LogStoreError, MetricFilter, StreamEntry};
use lambent_aws::arn::ACCOUNT_ID;
use lambent_aws::logs::model::{
    DescribeGroupsInput, DescribeStreamsInput, FilterEventsInput, GetEventsInput, GroupInput,
    MetricFilterInput, PutEventsInput, StreamInput, TestFilterInput,
};
use lambent_aws::logs::token::{
    offset_token, parse_offset, parse_position, position_token, Cursor, Direction,
};
use lambent_aws::logs::{
    batch, group_name_error, plain_name_error, retention_error, FilterPattern, LogsError,
    MetricValue,
};
use serde::de::DeserializeOwned;
use serde_json::{json, Value};

/// A page of events holds at most this many bytes (message + 26 each), like AWS's.
const MAX_PAGE_BYTES: usize = 1_048_576;
/// Longest filter pattern.
const MAX_PATTERN: usize = 1024;
/// How far ahead of its file's last write an event's timestamp can be (PutLogEvents refuses
/// events more than 2 h in the future), so FilterLogEvents can skip files written before
/// `startTime` minus this.
const FUTURE_SLACK_MILLIS: i64 = 2 * 3_600_000 + 60_000;

/// Serves one Logs operation (`target` is the whole `X-Amz-Target`); the edge renders the result in awsJson's envelope.
pub fn handle(
    logs: &LogStore,
    region: &str,
    target: &str,
    body: &[u8],
) -> Result<Value, LogsError> {
    let Some(route) = Route::find(target) else {
        return Err(LogsError::UnknownOperation(format!(
            "lambent does not implement Logs {} yet.",
            target.trim_start_matches(TARGET_PREFIX)
        )));
    };
    let api = Api { logs, region };
    let body = if body.is_empty() { b"{}" } else { body };
    match route.operation {
        CreateLogGroup => api.create_log_group(input(body)?),
        DeleteLogGroup => api.delete_log_group(input(body)?),
        DescribeLogGroups => api.describe_log_groups(input(body)?),
        PutRetentionPolicy => api.put_retention_policy(input(body)?),
        DeleteRetentionPolicy => api.delete_retention_policy(input(body)?),
        CreateLogStream => api.create_log_stream(input(body)?),
        DeleteLogStream => api.delete_log_stream(input(body)?),
        DescribeLogStreams => api.describe_log_streams(input(body)?),
        PutLogEvents => api.put_log_events(input(body)?),
        GetLogEvents => api.get_log_events(input(body)?),
        FilterLogEvents => api.filter_log_events(input(body)?),
        PutMetricFilter => api.put_metric_filter(input(body)?),
        DescribeMetricFilters => api.describe_metric_filters(input(body)?),
        DeleteMetricFilter => api.delete_metric_filter(input(body)?),
        TestMetricFilter => test_metric_filter(input(body)?),
    }
}

fn input<T: DeserializeOwned>(body: &[u8]) -> Result<T, LogsError> {
    serde_json::from_slice(body).map_err(|e| LogsError::Serialization(e.to_string()))
}

impl From<LogStoreError> for LogsError {
    fn from(e: LogStoreError) -> LogsError {
        match e {
            LogStoreError::GroupNotFound(_) => LogsError::group_not_found(),
            LogStoreError::GroupExists(_) => {
                LogsError::ResourceAlreadyExists("The specified log group already exists".into())
            }
            LogStoreError::StreamNotFound { .. } => LogsError::stream_not_found(),
            LogStoreError::StreamExists { .. } => {
                LogsError::ResourceAlreadyExists("The specified log stream already exists".into())
            }
            LogStoreError::FilterNotFound { .. } => {
                LogsError::ResourceNotFound("The specified metric filter does not exist.".into())
            }
            LogStoreError::TooManyFilters(_) => {
                LogsError::LimitExceeded("Resource limit exceeded.".into())
            }
            LogStoreError::Io { .. } => {
                tracing::error!(error = %e, "log store failure");
                LogsError::ServiceUnavailable("The service cannot complete the request.".into())
            }
        }
    }
}

fn io_failure(e: std::io::Error) -> LogsError {
    if e.kind() == std::io::ErrorKind::NotFound {
        return LogsError::stream_not_found();
    }
    LogStoreError::Io {
        step: "reading the log stream",
        source: e,
    }
    .into()
}

// ------------------------------------------------------------------------ validation

fn group_name(name: Option<String>) -> Result<String, LogsError> {
    let name = name.ok_or_else(|| LogsError::missing("logGroupName"))?;
    match group_name_error(&name) {
        Some(m) => Err(LogsError::InvalidParameter(m)),
        None => Ok(name),
    }
}

fn plain_name(name: Option<String>, member: &str) -> Result<String, LogsError> {
    let name = name.ok_or_else(|| LogsError::missing(member))?;
    match plain_name_error(&name, member) {
        Some(m) => Err(LogsError::InvalidParameter(m)),
        None => Ok(name),
    }
}

fn limit(value: Option<i64>, max: i64, default: usize) -> Result<usize, LogsError> {
    match value {
        None => Ok(default),
        Some(v) if (1..=max).contains(&v) => Ok(v as usize),
        Some(v) => Err(LogsError::out_of_range("limit", v, 1, max)),
    }
}

fn pattern(source: Option<&str>) -> Result<FilterPattern, LogsError> {
    let source = source.unwrap_or("");
    if source.len() > MAX_PATTERN {
        return Err(LogsError::InvalidParameter(format!(
            "1 validation error detected: Value '{source}' at 'filterPattern' failed to satisfy \
             constraint: Member must have length less than or equal to {MAX_PATTERN}"
        )));
    }
    // Every kind AWS documents is understood; a malformed pattern gets AWS's answer.
    FilterPattern::parse(source).map_err(|_| LogsError::invalid_pattern())
}

fn page<T>(items: Vec<T>, offset: usize, limit: usize) -> (Vec<T>, Option<String>) {
    let total = items.len();
    let end = offset.saturating_add(limit).min(total);
    let next = (end < total).then(|| offset_token(end));
    let items = items.into_iter().skip(offset).take(limit).collect();
    (items, next)
}

// ------------------------------------------------------------------------ operations

struct Api<'a> {
    logs: &'a LogStore,
    region: &'a str,
}

impl Api<'_> {
    fn group_arn(&self, group: &str) -> String {
        format!(
            "arn:aws:logs:{}:{ACCOUNT_ID}:log-group:{group}",
            self.region
        )
    }

    /// The group a read names by `logGroupName` or `logGroupIdentifier` (name or ARN); it
    /// must exist.
    fn identified_group(
        &self,
        name: Option<String>,
        identifier: Option<String>,
    ) -> Result<String, LogsError> {
        let name = match (name, identifier) {
            (Some(_), Some(_)) => {
                return Err(LogsError::Validation(
                    "LogGroup name and LogGroup ARN are mutually exclusive parameters.".into(),
                ))
            }
            (Some(n), None) => n,
            (None, Some(id)) => match id.split_once(":log-group:") {
                Some((_, rest)) if id.starts_with("arn:") => {
                    rest.strip_suffix(":*").unwrap_or(rest).to_string()
                }
                _ => id,
            },
            (None, None) => return Err(LogsError::missing("logGroupName")),
        };
        self.existing_group(group_name(Some(name))?)
    }

    fn existing_group(&self, group: String) -> Result<String, LogsError> {
        if !self.logs.group_exists(&group) {
            return Err(LogsError::group_not_found());
        }
        Ok(group)
    }

    fn create_log_group(&self, i: GroupInput) -> Result<Value, LogsError> {
        self.logs.create_group(&group_name(i.log_group_name)?)?;
        Ok(json!({}))
    }

    fn delete_log_group(&self, i: GroupInput) -> Result<Value, LogsError> {
        self.logs.delete_group(&group_name(i.log_group_name)?)?;
        Ok(json!({}))
    }

    fn describe_log_groups(&self, i: DescribeGroupsInput) -> Result<Value, LogsError> {
        if i.log_group_name_prefix.is_some() && i.log_group_name_pattern.is_some() {
            return Err(LogsError::InvalidParameter(
                "LogGroup name prefix and LogGroup name pattern are mutually exclusive \
                 parameters."
                    .into(),
            ));
        }
        let limit = limit(i.limit, 50, 50)?;
        let offset = parse_offset(i.next_token.as_deref())?;
        let ids: Option<Vec<String>> = i.log_group_identifiers.map(|ids| {
            ids.into_iter()
                .map(|id| match id.split_once(":log-group:") {
                    Some((_, rest)) => rest.strip_suffix(":*").unwrap_or(rest).to_string(),
                    None => id,
                })
                .collect()
        });
        // Every group is STANDARD: asking for another class lists none.
        let class_ok = i.log_group_class.as_deref().is_none_or(|c| c == "STANDARD");
        let groups: Vec<_> = self
            .logs
            .groups()
            .into_iter()
            .filter(|g| {
                class_ok
                    && i.log_group_name_prefix
                        .as_deref()
                        .is_none_or(|p| g.name.starts_with(p))
                    && i.log_group_name_pattern
                        .as_deref()
                        .is_none_or(|p| g.name.contains(p))
                    && ids.as_ref().is_none_or(|ids| ids.contains(&g.name))
            })
            .collect();
        let (groups, next) = page(groups, offset, limit);
        let list: Vec<Value> = groups
            .iter()
            .map(|g| {
                let arn = self.group_arn(&g.name);
                let mut v = json!({
                    "logGroupName": g.name,
                    "creationTime": g.creation_time,
                    "metricFilterCount": g.metric_filter_count,
                    "arn": format!("{arn}:*"),
                    "logGroupArn": arn,
                    "storedBytes": self.logs.stored_bytes(&g.name),
                    "logGroupClass": "STANDARD",
                    "deletionProtectionEnabled": false,
                });
                if let Some(days) = g.retention_in_days {
                    v["retentionInDays"] = json!(days);
                }
                v
            })
            .collect();
        let mut out = json!({ "logGroups": list });
        if let Some(t) = next {
            out["nextToken"] = json!(t);
        }
        Ok(out)
    }

    fn put_retention_policy(&self, i: GroupInput) -> Result<Value, LogsError> {
        let group = group_name(i.log_group_name)?;
        let days = i
            .retention_in_days
            .ok_or_else(|| LogsError::missing("retentionInDays"))?;
        if let Some(m) = retention_error(days) {
            return Err(LogsError::InvalidParameter(m));
        }
        self.logs.set_retention(&group, Some(days as u32))?;
        Ok(json!({}))
    }

    fn delete_retention_policy(&self, i: GroupInput) -> Result<Value, LogsError> {
        self.logs
            .set_retention(&group_name(i.log_group_name)?, None)?;
        Ok(json!({}))
    }

    fn create_log_stream(&self, i: StreamInput) -> Result<Value, LogsError> {
        let group = group_name(i.log_group_name)?;
        let stream = plain_name(i.log_stream_name, "logStreamName")?;
        self.logs.create_stream(&group, &stream)?;
        Ok(json!({}))
    }

    fn delete_log_stream(&self, i: StreamInput) -> Result<Value, LogsError> {
        let group = group_name(i.log_group_name)?;
        let stream = plain_name(i.log_stream_name, "logStreamName")?;
        self.logs.delete_stream(&group, &stream)?;
        Ok(json!({}))
    }

    fn describe_log_streams(&self, i: DescribeStreamsInput) -> Result<Value, LogsError> {
        let by_time = match i.order_by.as_deref() {
            None | Some("LogStreamName") => false,
            Some("LastEventTime") => true,
            Some(other) => {
                return Err(LogsError::InvalidParameter(format!(
                    "1 validation error detected: Value '{other}' at 'orderBy' failed to \
                     satisfy constraint: Member must satisfy enum value set: [LogStreamName, \
                     LastEventTime]"
                )))
            }
        };
        if by_time && i.log_stream_name_prefix.is_some() {
            return Err(LogsError::InvalidParameter(
                "Cannot order by LastEventTime with a logStreamNamePrefix.".into(),
            ));
        }
        let limit = limit(i.limit, 50, 50)?;
        let offset = parse_offset(i.next_token.as_deref())?;
        let group = self.identified_group(i.log_group_name, i.log_group_identifier)?;
        let mut streams = self.logs.streams(&group).map_err(io_failure)?;
        if let Some(p) = &i.log_stream_name_prefix {
            streams.retain(|s| s.name.starts_with(p.as_str()));
        }
        if by_time {
            // Stable: streams without events first, ties in name order.
            streams.sort_by_key(|s| s.last_event);
        }
        if i.descending == Some(true) {
            streams.reverse();
        }
        let (streams, next) = page(streams, offset, limit);
        let arn = self.group_arn(&group);
        let list: Vec<Value> = streams
            .iter()
            .map(|s| {
                let mut v = json!({
                    "logStreamName": s.name,
                    "creationTime": s.creation_time,
                    "arn": format!("{arn}:log-stream:{}", s.name),
                    "storedBytes": 0,
                });
                if let (Some(first), Some(last), Some(ingested)) =
                    (s.first_event, s.last_event, s.last_ingestion)
                {
                    v["firstEventTimestamp"] = json!(first);
                    v["lastEventTimestamp"] = json!(last);
                    v["lastIngestionTime"] = json!(ingested);
                    v["uploadSequenceToken"] = json!(sequence_token());
                }
                v
            })
            .collect();
        let mut out = json!({ "logStreams": list });
        if let Some(t) = next {
            out["nextToken"] = json!(t);
        }
        Ok(out)
    }

    fn put_log_events(&self, i: PutEventsInput) -> Result<Value, LogsError> {
        let group = group_name(i.log_group_name)?;
        let stream = plain_name(i.log_stream_name, "logStreamName")?;
        let input = i
            .log_events
            .ok_or_else(|| LogsError::missing("logEvents"))?;
        let mut events = Vec::with_capacity(input.len());
        for (n, e) in input.iter().enumerate() {
            let member = |field: &str| format!("logEvents.{}.member.{field}", n + 1);
            let ts = e
                .timestamp
                .ok_or_else(|| LogsError::missing(&member("timestamp")))?;
            let message = e
                .message
                .as_deref()
                .ok_or_else(|| LogsError::missing(&member("message")))?;
            events.push((ts, message));
        }
        self.existing_group(group.clone())?;
        if !self.logs.stream_exists(&group, &stream) {
            return Err(LogsError::stream_not_found());
        }
        let now = logs::now_millis();
        let accepted = batch::check(&events, now, self.logs.retention_millis(&group))?;
        let stored = &events[accepted.stored.clone()];
        if !stored.is_empty() {
            self.logs.put_events(&group, &stream, stored, now)?;
        }
        let mut out = json!({ "nextSequenceToken": sequence_token() });
        let r = &accepted.rejected;
        if !r.is_empty() {
            let mut info = json!({});
            if let Some(i) = r.too_new_start {
                info["tooNewLogEventStartIndex"] = json!(i);
            }
            if let Some(i) = r.too_old_end {
                info["tooOldLogEventEndIndex"] = json!(i);
            }
            if let Some(i) = r.expired_end {
                info["expiredLogEventEndIndex"] = json!(i);
            }
            out["rejectedLogEventsInfo"] = info;
        }
        Ok(out)
    }

    fn get_log_events(&self, i: GetEventsInput) -> Result<Value, LogsError> {
        let limit = limit(i.limit, 10_000, 10_000)?;
        let group = self.identified_group(i.log_group_name, i.log_group_identifier)?;
        let stream = plain_name(i.log_stream_name, "logStreamName")?;
        let token = i.next_token.as_deref().map(parse_position).transpose()?;
        // startTime inclusive, endTime exclusive.
        let events: Vec<LogEvent> = self
            .logs
            .events(&group, &stream)
            .map_err(io_failure)?
            .into_iter()
            .filter(|e| {
                i.start_time.is_none_or(|s| e.timestamp >= s)
                    && i.end_time.is_none_or(|end| e.timestamp < end)
            })
            .collect();
        let n = events.len();
        let forward = match token {
            Some((dir, _)) => dir == Direction::Forward,
            None => i.start_from_head == Some(true),
        };
        let range = if forward {
            let start = token.map_or(0, |(_, at)| at.min(n));
            let mut end = start;
            let mut bytes = 0;
            while end < n && end - start < limit {
                bytes += events[end].message.len() + batch::EVENT_OVERHEAD;
                if bytes > MAX_PAGE_BYTES && end > start {
                    break;
                }
                end += 1;
            }
            start..end
        } else {
            let end = token.map_or(n, |(_, at)| at.min(n));
            let mut start = end;
            let mut bytes = 0;
            while start > 0 && end - start < limit {
                bytes += events[start - 1].message.len() + batch::EVENT_OVERHEAD;
                if bytes > MAX_PAGE_BYTES && start < end {
                    break;
                }
                start -= 1;
            }
            start..end
        };
        // At the end in a direction the token passed in comes back unchanged: positions are
        // formatted the same way every time.
        let list: Vec<Value> = events[range.clone()]
            .iter()
            .map(|e| {
                json!({"timestamp": e.timestamp, "message": e.message, "ingestionTime": e.ingestion_time})
            })
            .collect();
        Ok(json!({
            "events": list,
            "nextForwardToken": position_token(Direction::Forward, range.end),
            "nextBackwardToken": position_token(Direction::Backward, range.start),
        }))
    }

    fn filter_log_events(&self, i: FilterEventsInput) -> Result<Value, LogsError> {
        if i.log_stream_names.is_some() && i.log_stream_name_prefix.is_some() {
            return Err(LogsError::InvalidParameter(
                "logStreamNames and logStreamNamePrefix are mutually exclusive parameters.".into(),
            ));
        }
        if let Some(names) = &i.log_stream_names {
            if names.is_empty() || names.len() > 100 {
                return Err(LogsError::InvalidParameter(format!(
                    "1 validation error detected: Value at 'logStreamNames' failed to satisfy \
                     constraint: Member must have length {}",
                    if names.is_empty() {
                        "greater than or equal to 1"
                    } else {
                        "less than or equal to 100"
                    }
                )));
            }
        }
        let limit = limit(i.limit, 10_000, 10_000)?;
        let pattern = pattern(i.filter_pattern.as_deref())?;
        let after = i.next_token.as_deref().map(Cursor::parse).transpose()?;
        let group = self.identified_group(i.log_group_name, i.log_group_identifier)?;
        let entries: Vec<StreamEntry> = self
            .logs
            .stream_entries(&group)
            .map_err(io_failure)?
            .into_iter()
            .filter(|e| match (&i.log_stream_names, &i.log_stream_name_prefix) {
                (Some(names), _) => names.contains(&e.name),
                (None, Some(p)) => e.name.starts_with(p.as_str()),
                (None, None) => true,
            })
            // A file last written long before startTime holds nothing at or after it.
            .filter(|e| {
                i.start_time
                    .is_none_or(|s| e.modified.saturating_add(FUTURE_SLACK_MILLIS) >= s)
            })
            .collect();
        let mut found: Vec<(Cursor, LogEvent)> = Vec::new();
        for entry in &entries {
            let events = match self.logs.entry_events(&group, entry) {
                Ok(e) => e,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => return Err(io_failure(e)),
            };
            let mut ordinal = 0;
            let mut previous = None;
            for e in events {
                // The position among events of the same timestamp in the stream is stable:
                // later arrivals sort after, and retention removes a timestamp's events
                // together.
                ordinal = if previous == Some(e.timestamp) {
                    ordinal + 1
                } else {
                    0
                };
                previous = Some(e.timestamp);
                // startTime and endTime both inclusive, as AWS documents for this action.
                let in_window = i.start_time.is_none_or(|s| e.timestamp >= s)
                    && i.end_time.is_none_or(|end| e.timestamp <= end);
                if !in_window || !pattern.matches(&e.message) {
                    continue;
                }
                let key = Cursor {
                    timestamp: e.timestamp,
                    ingestion_time: e.ingestion_time,
                    stream: entry.name.clone(),
                    ordinal,
                };
                if after.as_ref().is_none_or(|a| key > *a) {
                    found.push((key, e));
                }
            }
        }
        found.sort_by(|a, b| a.0.cmp(&b.0));
        let mut bytes = 0;
        let mut taken = 0;
        for (_, e) in &found {
            bytes += e.message.len() + batch::EVENT_OVERHEAD;
            if taken == limit || (bytes > MAX_PAGE_BYTES && taken > 0) {
                break;
            }
            taken += 1;
        }
        let next = (taken < found.len()).then(|| found[taken - 1].0.token());
        let list: Vec<Value> = found[..taken]
            .iter()
            .map(|(key, e)| {
                json!({
                    "logStreamName": key.stream,
                    "timestamp": e.timestamp,
                    "message": e.message,
                    "ingestionTime": e.ingestion_time,
                    "eventId": key.event_id(&group),
                })
            })
            .collect();
        let mut out = json!({ "events": list, "searchedLogStreams": [] });
        if let Some(t) = next {
            out["nextToken"] = json!(t);
        }
        Ok(out)
    }

    fn put_metric_filter(&self, i: MetricFilterInput) -> Result<Value, LogsError> {
        let group = group_name(i.log_group_name)?;
        let name = plain_name(i.filter_name, "filterName")?;
        let source = i
            .filter_pattern
            .ok_or_else(|| LogsError::missing("filterPattern"))?;
        let transformations = i
            .metric_transformations
            .ok_or_else(|| LogsError::missing("metricTransformations"))?;
        if transformations.len() != 1 {
            return Err(LogsError::InvalidParameter(format!(
                "1 validation error detected: Value at 'metricTransformations' failed to \
                 satisfy constraint: Member must have length {}",
                if transformations.is_empty() {
                    "greater than or equal to 1"
                } else {
                    "less than or equal to 1"
                }
            )));
        }
        let t = &transformations[0];
        for (member, value, max) in [
            ("metricName", &t.metric_name, 255),
            ("metricNamespace", &t.metric_namespace, 255),
            ("metricValue", &t.metric_value, 100),
        ] {
            if value.is_empty() || value.len() > max {
                return Err(LogsError::InvalidParameter(format!(
                    "1 validation error detected: Value '{value}' at \
                     'metricTransformations.1.member.{member}' failed to satisfy constraint: \
                     Member must have length {}",
                    if value.is_empty() {
                        "greater than or equal to 1".to_string()
                    } else {
                        format!("less than or equal to {max}")
                    }
                )));
            }
        }
        if t.dimensions.as_ref().is_some_and(|d| d.len() > 3) {
            return Err(LogsError::LimitExceeded(
                "A metric filter can have at most 3 dimensions.".into(),
            ));
        }
        pattern(Some(&source))?;
        MetricValue::parse(&t.metric_value).map_err(|_| {
            LogsError::InvalidParameter(format!("Invalid metric value: {}", t.metric_value))
        })?;
        self.logs.put_metric_filter(
            &group,
            MetricFilter {
                filter_name: name,
                filter_pattern: source,
                metric_transformations: transformations,
                creation_time: logs::now_millis(),
                apply_on_transformed_logs: i.apply_on_transformed_logs.unwrap_or(false),
            },
        )?;
        Ok(json!({}))
    }

    fn describe_metric_filters(&self, i: MetricFilterInput) -> Result<Value, LogsError> {
        if i.filter_name_prefix.is_some() && i.log_group_name.is_none() {
            return Err(LogsError::InvalidParameter(
                "filterNamePrefix parameter is only valid with logGroupName.".into(),
            ));
        }
        if i.metric_name.is_some() != i.metric_namespace.is_some() {
            return Err(LogsError::InvalidParameter(
                "metricName and metricNamespace must be specified together.".into(),
            ));
        }
        let limit = limit(i.limit, 50, 50)?;
        let offset = parse_offset(i.next_token.as_deref())?;
        let group = match i.log_group_name {
            Some(g) => Some(self.existing_group(group_name(Some(g))?)?),
            None => None,
        };
        let mut filters: Vec<(String, MetricFilter)> = self
            .logs
            .metric_filters()
            .into_iter()
            .filter(|(g, f)| {
                group.as_ref().is_none_or(|want| want == g)
                    && i.filter_name_prefix
                        .as_deref()
                        .is_none_or(|p| f.filter_name.starts_with(p))
                    && match (&i.metric_name, &i.metric_namespace) {
                        (Some(name), Some(ns)) => f
                            .metric_transformations
                            .iter()
                            .any(|t| t.metric_name == *name && t.metric_namespace == *ns),
                        _ => true,
                    }
            })
            .collect();
        filters.sort_by(|a, b| (&a.1.filter_name, &a.0).cmp(&(&b.1.filter_name, &b.0)));
        let (filters, next) = page(filters, offset, limit);
        let list: Vec<Value> = filters
            .into_iter()
            .map(|(g, f)| {
                let mut v = serde_json::to_value(f).unwrap_or_default();
                v["logGroupName"] = json!(g);
                v
            })
            .collect();
        let mut out = json!({ "metricFilters": list });
        if let Some(t) = next {
            out["nextToken"] = json!(t);
        }
        Ok(out)
    }

    fn delete_metric_filter(&self, i: MetricFilterInput) -> Result<Value, LogsError> {
        let group = group_name(i.log_group_name)?;
        let name = plain_name(i.filter_name, "filterName")?;
        self.logs.delete_metric_filter(&group, &name)?;
        Ok(json!({}))
    }
}

/// TestMetricFilter: which of the messages the pattern matches, with what it extracts.
fn test_metric_filter(i: TestFilterInput) -> Result<Value, LogsError> {
    let source = i
        .filter_pattern
        .ok_or_else(|| LogsError::missing("filterPattern"))?;
    let messages = i
        .log_event_messages
        .ok_or_else(|| LogsError::missing("logEventMessages"))?;
    if messages.is_empty() || messages.len() > 50 {
        return Err(LogsError::InvalidParameter(format!(
            "1 validation error detected: Value at 'logEventMessages' failed to satisfy \
             constraint: Member must have length {}",
            if messages.is_empty() {
                "greater than or equal to 1"
            } else {
                "less than or equal to 50"
            }
        )));
    }
    let pattern = pattern(Some(&source))?;
    let matches: Vec<Value> = messages
        .iter()
        .enumerate()
        .filter_map(|(n, m)| {
            let extracted: serde_json::Map<String, Value> = pattern
                .extract(m)?
                .into_iter()
                .map(|(k, v)| (k, Value::String(v)))
                .collect();
            Some(json!({"eventNumber": n + 1, "eventMessage": m, "extractedValues": extracted}))
        })
        .collect();
    Ok(json!({ "matches": matches }))
}

/// AWS's sequence tokens are ignored on input; any fresh 56-digit string will do.
fn sequence_token() -> String {
    format!("{:056}", uuid::Uuid::new_v4().as_u128() % 10u128.pow(38))
}
