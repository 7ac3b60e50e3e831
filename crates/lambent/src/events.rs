//! Asynchronous invocations: accepted into the durable queue (`lambent_store::Queue`), then
//! delivered at least once by one dispatcher task, retried the way AWS documents, and
//! recorded to their destinations.
//!
//! - An `Event` invocation is answered `202` only once the queue has committed it.
//! - The dispatcher runs due events, up to [`MAX_IN_FLIGHT`] at once. A throttled event
//!   (concurrency limits) waits and tries again, without counting as an attempt.
//! - A function error, timeout or crash counts as an attempt. The event is retried after the
//!   retry delay (AWS: one minute, then two; `--async-retry-delay` sets the first) while the
//!   function's `MaximumRetryAttempts` (default 2) allows. After that it fails
//!   `RetriesExhausted`.
//! - An event older than `MaximumEventAgeInSeconds` (default six hours) when its turn comes
//!   fails `EventAgeExceeded`.
//! - An event whose function has already run [`MAX_HOPS`] times in its chain of events
//!   (`crate::lineage`) is not run: it fails `RecursiveInvocationDropped`, with a line in the
//!   function's log, unless the function's recursion config is `Allow`.
//! - Success sends AWS's invocation record to the `OnSuccess` destination, failure to
//!   `OnFailure`. A Lambda function destination gets the record as an event of its own,
//!   through the same queue.
//!
//! Invariant: no accepted event is lost. It is deleted only once it has run successfully.
//! When it will not run again it is kept as failed, which `lambent events failed` lists.

use crate::invocation::{Invocation, Outcome, Resolved};
use crate::lineage::{Lineage, MAX_HOPS};
use crate::scheduler::Scheduler;
use bytes::Bytes;
use lambent_aws::lambda::model::EventInvokeConfig;
use lambent_aws::lambda::LambdaError;
use lambent_store::queue::{Event, NewEvent};
use lambent_store::Queue;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::Notify;

/// Events delivered at once; more wait in the queue.
pub const MAX_IN_FLIGHT: usize = 32;
/// Events of one function delivered at once, so one busy function leaves room for others.
pub const MAX_PER_FUNCTION: usize = 8;
/// How long a throttled delivery keeps retrying in memory before it goes back to the
/// queue (and frees its place for other functions' events).
const THROTTLE_PATIENCE: Duration = Duration::from_secs(10);

/// The condition of an event stopped by recursive loop detection.
const RECURSION_CONDITION: &str = "RecursiveInvocationDropped";

/// AWS's wait before the second attempt; the third waits twice as long.
pub const DEFAULT_RETRY_DELAY: Duration = Duration::from_secs(60);

/// What the dispatcher needs of the Lambda service: the version an event runs and the
/// scheduler that runs it. `lambda` implements it, so the queue never imports the service
/// that accepts its events (arrows point down).
pub trait Invoker: Send + Sync + 'static {
    /// The version `function` (a name or ARN) and `qualifier` run now, as Invoke picks it.
    fn resolve_for_invoke(
        &self,
        function: &str,
        qualifier: Option<&str>,
    ) -> Result<Resolved, LambdaError>;

    fn scheduler(&self) -> &Scheduler;
}

/// Cheap-clone handle on the queue and its dispatcher.
#[derive(Clone)]
pub struct Events {
    inner: Arc<Inner>,
}

struct Inner {
    queue: Queue,
    /// Wakes the dispatcher: an event was accepted or one finished.
    wake: Notify,
    /// Ids being delivered now, with their function. A std mutex: a few map operations,
    /// never held across an await.
    running: Mutex<HashMap<i64, String>>,
    retry_delay: Duration,
}

/// Why an accepted event could not be stored.
#[derive(Debug, thiserror::Error)]
#[error("storing the event: {0}")]
pub struct AcceptError(String);

impl Events {
    /// Opens the queue under the data directory.
    pub fn open(
        data_dir: &std::path::Path,
        retry_delay: Duration,
    ) -> Result<Events, lambent_store::StoreError> {
        Ok(Events {
            inner: Arc::new(Inner {
                queue: Queue::open(&data_dir.join("queue.db"))?,
                wake: Notify::new(),
                running: Mutex::new(HashMap::new()),
                retry_delay,
            }),
        })
    }

    pub fn queue(&self) -> &Queue {
        &self.inner.queue
    }

    /// Stores an event; returns once it is committed.
    pub async fn accept(&self, event: NewEvent) -> Result<i64, AcceptError> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        self.inner.queue.enqueue(event, move |r| {
            let _ = tx.send(r);
        });
        let id = rx
            .await
            .map_err(|_| AcceptError("the queue writer stopped".into()))?
            .map_err(|e| AcceptError(e.to_string()))?;
        self.inner.wake.notify_one();
        Ok(id)
    }

    /// Starts the dispatcher; it runs until the returned task is aborted.
    pub fn spawn_dispatcher(&self, ctl: Arc<dyn Invoker>) -> tokio::task::JoinHandle<()> {
        let events = self.clone();
        tokio::spawn(async move { events.dispatch(ctl).await })
    }

    async fn dispatch(self, ctl: Arc<dyn Invoker>) {
        loop {
            let (skip, mut per_function) = {
                let running = self.running();
                let mut per_function: HashMap<String, usize> = HashMap::new();
                for f in running.values() {
                    *per_function.entry(f.clone()).or_default() += 1;
                }
                (running.keys().copied().collect::<Vec<i64>>(), per_function)
            };
            let mut free = MAX_IN_FLIGHT.saturating_sub(skip.len());
            let now = now_ms();
            if free > 0 {
                // Functions running their share are left out of the query.
                let full: Vec<&str> = per_function
                    .iter()
                    .filter(|(_, n)| **n >= MAX_PER_FUNCTION)
                    .map(|(f, _)| f.as_str())
                    .collect();
                let due = self.inner.queue.due(now, free, &skip, &full);
                drop(full);
                match due {
                    Ok(due) => {
                        for event in due {
                            if free == 0 {
                                break;
                            }
                            let share = per_function.entry(event.function.clone()).or_default();
                            if *share >= MAX_PER_FUNCTION {
                                continue;
                            }
                            *share += 1;
                            free -= 1;
                            self.running().insert(event.id, event.function.clone());
                            let (events, ctl) = (self.clone(), ctl.clone());
                            tokio::spawn(async move {
                                let id = event.id;
                                events.deliver(&*ctl, event).await;
                                events.running().remove(&id);
                                events.inner.wake.notify_one();
                            });
                        }
                    }
                    Err(e) => tracing::warn!(error = %e, "reading the event queue failed"),
                }
            }
            // Sleep until the next event is due (at most a second: some due ones may be
            // waiting for their function's share), or until something changes.
            let wait = match self.inner.queue.next_due_ms() {
                Ok(Some(due)) if due > now => Duration::from_millis((due - now) as u64),
                _ => Duration::from_secs(1),
            };
            let _ =
                tokio::time::timeout(wait.min(Duration::from_secs(1)), self.inner.wake.notified())
                    .await;
        }
    }

    fn running(&self) -> std::sync::MutexGuard<'_, HashMap<i64, String>> {
        self.inner.running.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Runs one event to its next state: delivered, rescheduled or failed.
    async fn deliver(&self, ctl: &dyn Invoker, event: Event) {
        let now = now_ms();
        let resolved = match ctl.resolve_for_invoke(&event.function, event.qualifier.as_deref()) {
            Ok(r) => r,
            Err(e) => {
                // The function (or its alias) is gone: nothing can run it any more.
                let why = format!("FunctionNotFound: {e}");
                ctl.scheduler()
                    .telemetry()
                    .record_failed_event(&event.function);
                self.settle_failed(&event, &why, None).await;
                return;
            }
        };
        let config = resolved
            .record()
            .event_invoke
            .get(event.qualifier.as_deref().unwrap_or("$LATEST"))
            .cloned()
            .unwrap_or_default();
        // The ARN as invoked, `$LATEST` when unqualified, as AWS's records name it.
        let function_arn = match &event.qualifier {
            Some(_) => resolved.invoked_arn.clone(),
            None => format!("{}:$LATEST", resolved.invoked_arn),
        };
        if now - event.enqueued_ms > i64::from(config.max_age_secs()) * 1000 {
            ctl.scheduler()
                .telemetry()
                .record_failed_event(&event.function);
            self.finish_failed(
                ctl,
                &config,
                &event,
                (&function_arn, &resolved.config().version),
                "EventAgeExceeded",
            )
            .await;
            return;
        }
        // This run's place in its chain of events: a loop stops here.
        let mut lineage = event
            .lineage
            .as_deref()
            .and_then(Lineage::parse)
            .unwrap_or_default();
        let hops = lineage.bump(&event.function);
        if hops > MAX_HOPS && !resolved.record().recursion_allowed {
            ctl.scheduler()
                .telemetry()
                .record_recursion_dropped(&event.function);
            log_recursion_stop(ctl, &event, &lineage);
            self.finish_failed(
                ctl,
                &config,
                &event,
                (&function_arn, &resolved.config().version),
                RECURSION_CONDITION,
            )
            .await;
            return;
        }
        let lineage = lineage.to_string();
        let inv = Invocation {
            request_id: event.request_id.clone(),
            payload: Bytes::from(event.payload.clone()),
            invoked_arn: resolved.invoked_arn.clone(),
            client_context: event.client_context.clone(),
            tail: false,
            lineage: Some(lineage.clone()),
        };
        // Throttled (concurrency limits): wait and try again, a little longer each time; not
        // an attempt. After a while the event goes back to the queue for later.
        let mut backoff = Duration::from_millis(10);
        let started = std::time::Instant::now();
        let completed = loop {
            match ctl
                .scheduler()
                .invoke(resolved.config(), &resolved.code_dir, inv.clone())
                .await
            {
                Ok(c) => break c,
                Err(_throttled) if started.elapsed() < THROTTLE_PATIENCE => {
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(Duration::from_millis(500));
                }
                Err(_throttled) => {
                    let throttles = event.throttles + 1;
                    let later = Duration::from_secs(1 << throttles.min(6));
                    self.settle(|q, done| {
                        q.reschedule(
                            event.id,
                            (event.attempts, throttles),
                            now_ms() + later.as_millis() as i64,
                            None,
                            done,
                        )
                    })
                    .await;
                    return;
                }
            }
        };
        let attempts = event.attempts + 1;
        let record = |condition: &str, response: &[u8]| {
            InvocationRecord {
                request_id: &event.request_id,
                function_arn: &function_arn,
                condition,
                attempts,
                request_payload: &event.payload,
                executed_version: Some(&completed.executed_version),
                function_error: completed.outcome != Outcome::Ok,
                response_payload: Some(response),
            }
            .to_json()
        };
        if completed.outcome == Outcome::Ok {
            if let Some(dest) = config.destination_config.on_success.destination.as_deref() {
                let body = record("Success", &completed.payload);
                self.send_to_destination(ctl, dest, body, Some(lineage))
                    .await;
            }
            self.settle(|q, done| q.delete(event.id, done)).await;
            return;
        }
        if attempts <= config.retries() {
            // AWS waits one minute before the second attempt and two before the third.
            ctl.scheduler().telemetry().record_retry(&event.function);
            let delay = self.inner.retry_delay * attempts;
            self.settle(|q, done| {
                q.reschedule(
                    event.id,
                    (attempts, event.throttles),
                    now_ms() + delay.as_millis() as i64,
                    Some(completed.payload.to_vec()),
                    done,
                )
            })
            .await;
            return;
        }
        if let Some(dest) = config.destination_config.on_failure.destination.as_deref() {
            let body = record("RetriesExhausted", &completed.payload);
            self.send_to_destination(ctl, dest, body, Some(lineage))
                .await;
        }
        let response = Some(completed.payload.to_vec());
        ctl.scheduler()
            .telemetry()
            .record_failed_event(&event.function);
        self.settle(|q, done| {
            q.fail(
                event.id,
                attempts,
                "RetriesExhausted",
                response,
                now_ms(),
                done,
            )
        })
        .await;
    }

    /// Fails an event that did not get its turn in time, recording it to `OnFailure`.
    async fn finish_failed(
        &self,
        ctl: &dyn Invoker,
        config: &EventInvokeConfig,
        event: &Event,
        (function_arn, version): (&str, &str),
        condition: &str,
    ) {
        if let Some(dest) = config.destination_config.on_failure.destination.as_deref() {
            let body = InvocationRecord {
                request_id: &event.request_id,
                function_arn,
                condition,
                attempts: event.attempts,
                request_payload: &event.payload,
                executed_version: (event.attempts > 0).then_some(version),
                function_error: event.attempts > 0,
                response_payload: event.response.as_deref(),
            }
            .to_json();
            self.send_to_destination(ctl, dest, body, event.lineage.clone())
                .await;
        }
        self.settle_failed(event, condition, None).await;
    }

    async fn settle_failed(&self, event: &Event, condition: &str, response: Option<Vec<u8>>) {
        let condition = condition.to_string();
        self.settle(|q, done| {
            q.fail(
                event.id,
                event.attempts,
                &condition,
                response,
                now_ms(),
                done,
            )
        })
        .await;
    }

    /// Applies a queue write and waits for its commit.
    async fn settle(
        &self,
        write: impl FnOnce(&Queue, Box<dyn FnOnce(Result<(), lambent_store::StoreError>) + Send>),
    ) {
        let (tx, rx) = tokio::sync::oneshot::channel();
        write(
            &self.inner.queue,
            Box::new(move |r| {
                let _ = tx.send(r);
            }),
        );
        match rx.await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::warn!(error = %e, "updating the event queue failed"),
            Err(_) => tracing::warn!("the event queue writer stopped"),
        }
    }

    /// Queues AWS's invocation record for a destination, in the chain of the event it
    /// records. Only Lambda functions are delivered to; other destinations are reported.
    async fn send_to_destination(
        &self,
        ctl: &dyn Invoker,
        destination: &str,
        body: Vec<u8>,
        lineage: Option<String>,
    ) {
        let Some((function, qualifier)) = lambda_destination(destination) else {
            tracing::warn!(%destination, "destinations other than Lambda functions are not delivered to yet");
            return;
        };
        if ctl
            .resolve_for_invoke(&function, qualifier.as_deref())
            .is_err()
        {
            tracing::warn!(%destination, "the destination function does not exist");
            return;
        }
        let event = NewEvent {
            request_id: uuid::Uuid::new_v4().to_string(),
            function,
            qualifier,
            payload: body,
            client_context: None,
            enqueued_ms: now_ms(),
            lineage,
        };
        if let Err(e) = self.accept(event).await {
            tracing::warn!(%destination, error = %e, "queueing a destination's record failed");
        }
    }
}

impl Events {
    /// The failed events, of one function or all, as `lambent events failed` shows them:
    /// `{"FailedEvents": [...]}` with payloads and last responses as JSON where they are.
    pub fn failed_json(
        &self,
        function: Option<&str>,
    ) -> Result<Vec<u8>, lambent_store::StoreError> {
        let json_or_string = |bytes: &[u8]| {
            serde_json::from_slice::<serde_json::Value>(bytes).unwrap_or_else(|_| {
                serde_json::Value::String(String::from_utf8_lossy(bytes).into())
            })
        };
        let iso = |ms: i64| lambent_aws::lambda::model::iso8601_millis(ms, "Z");
        let rows: Vec<serde_json::Value> = self
            .inner
            .queue
            .failed(function)?
            .into_iter()
            .map(|f| {
                serde_json::json!({
                    "RequestId": f.event.request_id,
                    "FunctionName": f.event.function,
                    "Qualifier": f.event.qualifier,
                    "Condition": f.condition,
                    "Attempts": f.event.attempts,
                    "AcceptedAt": iso(f.event.enqueued_ms),
                    "FailedAt": iso(f.failed_ms),
                    "Payload": json_or_string(&f.event.payload),
                    "LastResponse": f.event.response.as_deref().map(json_or_string),
                })
            })
            .collect();
        Ok(serde_json::to_vec(&serde_json::json!({ "FailedEvents": rows })).unwrap_or_default())
    }
}

/// Says in the function's log why an event of it did not run (AWS notifies by e-mail).
fn log_recursion_stop(ctl: &dyn Invoker, event: &Event, lineage: &Lineage) {
    let message = format!(
        "lambent stopped event {} of {}: the function ran more than {MAX_HOPS} times in one chain of events (recursive loop detection; Lineage={lineage}). It is kept as a failed event; if the loop is intended, allow it with `aws lambda put-function-recursion-config --function-name {} --recursive-loop Allow`.",
        event.request_id, event.function, event.function
    );
    tracing::warn!(function = %event.function, request_id = %event.request_id, "recursive loop stopped");
    let logs = ctl.scheduler().logs();
    let group = crate::logs::group_name(&event.function);
    let stream = crate::logs::new_stream_name("$LATEST");
    let written = logs.writer(&group, &stream).and_then(|mut w| {
        w.append(crate::logs::now_millis(), message.as_bytes())?;
        w.flush()
    });
    if let Err(e) = written {
        tracing::warn!(error = %e, function = %event.function, "writing the recursion notice failed");
    }
}

/// The function name and qualifier of a Lambda function ARN.
fn lambda_destination(arn: &str) -> Option<(String, Option<String>)> {
    let mut parts = arn.split(':');
    let (_, _, service, _, _, kind, name) = (
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
    );
    (service == "lambda" && kind == "function")
        .then(|| (name.to_string(), parts.next().map(str::to_string)))
}

/// What AWS sends a destination about one asynchronous invocation.
struct InvocationRecord<'a> {
    request_id: &'a str,
    function_arn: &'a str,
    condition: &'a str,
    attempts: u32,
    request_payload: &'a [u8],
    executed_version: Option<&'a str>,
    function_error: bool,
    response_payload: Option<&'a [u8]>,
}

impl InvocationRecord<'_> {
    fn to_json(&self) -> Vec<u8> {
        let json_or_string = |bytes: &[u8]| {
            serde_json::from_slice::<serde_json::Value>(bytes).unwrap_or_else(|_| {
                serde_json::Value::String(String::from_utf8_lossy(bytes).into())
            })
        };
        let mut record = serde_json::json!({
            "version": "1.0",
            "timestamp": lambent_aws::lambda::model::iso8601_millis(now_ms(), "Z"),
            "requestContext": {
                "requestId": self.request_id,
                "functionArn": self.function_arn,
                "condition": self.condition,
                "approximateInvokeCount": self.attempts,
            },
            "requestPayload": json_or_string(self.request_payload),
        });
        if let Some(version) = self.executed_version {
            let mut context = serde_json::json!({"statusCode": 200, "executedVersion": version});
            if self.function_error {
                context["functionError"] = "Unhandled".into();
            }
            record["responseContext"] = context;
            record["responsePayload"] = self
                .response_payload
                .map(json_or_string)
                .unwrap_or(serde_json::Value::Null);
        }
        serde_json::to_vec(&record).unwrap_or_default()
    }
}

fn now_ms() -> i64 {
    crate::logs::now_millis()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn destinations_name_lambda_functions() {
        assert_eq!(
            lambda_destination("arn:aws:lambda:us-east-1:000000000000:function:dlq"),
            Some(("dlq".into(), None))
        );
        assert_eq!(
            lambda_destination("arn:aws:lambda:us-east-1:000000000000:function:dlq:live"),
            Some(("dlq".into(), Some("live".into())))
        );
        assert_eq!(
            lambda_destination("arn:aws:sqs:us-east-1:000000000000:queue"),
            None
        );
    }

    #[test]
    fn records_have_awss_shape() {
        let record = InvocationRecord {
            request_id: "r-1",
            function_arn: "arn:aws:lambda:us-east-1:000000000000:function:f:$LATEST",
            condition: "RetriesExhausted",
            attempts: 3,
            request_payload: br#"{"a":1}"#,
            executed_version: Some("$LATEST"),
            function_error: true,
            response_payload: Some(br#"{"errorType":"Exception"}"#),
        };
        let v: serde_json::Value = serde_json::from_slice(&record.to_json()).unwrap();
        assert_eq!(v["version"], "1.0");
        assert_eq!(v["requestContext"]["condition"], "RetriesExhausted");
        assert_eq!(v["requestContext"]["approximateInvokeCount"], 3);
        assert_eq!(v["requestPayload"]["a"], 1);
        assert_eq!(v["responseContext"]["statusCode"], 200);
        assert_eq!(v["responseContext"]["functionError"], "Unhandled");
        assert_eq!(v["responsePayload"]["errorType"], "Exception");
        assert!(v["timestamp"].as_str().unwrap().ends_with('Z'));
    }
}
