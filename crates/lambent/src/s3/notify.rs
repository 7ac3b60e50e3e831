//! Delivering bucket notifications: after an object change is committed, and before its
//! response is sent, each Lambda rule of the bucket's configuration that matches it becomes
//! one `Event` invocation in the durable queue (`crate::events`), whose payload is AWS's S3
//! event record. From there delivery is the queue's: at least once, retried, kept across
//! restarts.
//!
//! The record's `sequencer` is the one the store gave the change when it committed it, in
//! hex: it follows commit order, per key and across restarts. `responseElements` carries the
//! request ids also put on the response. The `Lineage` of the request's trace header (a
//! function's SDK sends one) goes on with the events, so a function that writes where it is
//! triggered stops (`crate::lineage`).
//!
//! Invariant: a change whose response was sent has had its events committed to the queue.

use super::notifications::Stored;
use super::{blocking, now_millis};
use crate::auth::Authorizer;
use crate::events::Events;
use crate::lambda::Control;
use lambent_store::objects::ObjectStore;
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use s3s::{S3Error, S3ErrorCode, S3Request, S3Result};
use std::sync::Arc;

/// What the S3 front-end needs to emit events: the queue, the functions to resolve, and the
/// authorizer their permissions are evaluated by.
#[derive(Clone)]
pub struct Notifier {
    events: Events,
    control: Control,
    authorizer: Authorizer,
}

/// One committed change to one key.
pub(super) struct Change {
    /// The record's `eventName`, e.g. `ObjectCreated:Put`.
    pub event: &'static str,
    pub key: String,
    /// Size and unquoted ETag; `None` for a removal.
    pub object: Option<(u64, String)>,
    /// The version made or removed, in a bucket that has had versioning.
    pub version_id: Option<String>,
    /// The store's sequencer of the change: increasing in commit order.
    pub sequencer: u64,
}

/// Who asked, and the ids of the request, for the record and the response.
pub(super) struct Caller {
    principal: String,
    source_ip: String,
    request_id: String,
    id_2: String,
    /// The chain of events the request continues, from its trace header (a function's SDK
    /// sends it): the events it causes carry it on (`crate::lineage`).
    lineage: Option<String>,
}

impl Caller {
    pub(super) fn of<T>(req: &S3Request<T>) -> Caller {
        let principal = req
            .credentials
            .as_ref()
            .map(|c| format!("AWS:{}", c.access_key))
            .unwrap_or_else(|| "Anonymous".into());
        let source_ip = req
            .headers
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(',').next())
            .map(|v| v.trim().to_string())
            .unwrap_or_else(|| "127.0.0.1".into());
        let id = uuid::Uuid::new_v4().simple().to_string().to_uppercase();
        let id_2 = {
            use base64::Engine;
            base64::engine::general_purpose::STANDARD.encode(uuid::Uuid::new_v4().as_bytes())
        };
        let lineage = req
            .headers
            .get("x-amzn-trace-id")
            .and_then(|v| v.to_str().ok())
            .and_then(crate::lineage::Lineage::from_trace_header)
            .map(|l| l.to_string());
        Caller {
            principal,
            source_ip,
            request_id: id[..16].to_string(),
            id_2,
            lineage,
        }
    }

    /// Puts the request ids the records name on the response.
    pub(super) fn stamp(&self, headers: &mut http::HeaderMap) {
        if let Ok(v) = http::HeaderValue::from_str(&self.request_id) {
            headers.insert("x-amz-request-id", v);
        }
        if let Ok(v) = http::HeaderValue::from_str(&self.id_2) {
            headers.insert("x-amz-id-2", v);
        }
    }
}

/// Characters a key keeps in a record: Java's `URLEncoder` set, plus `/`.
const KEY_SET: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'*')
    .remove(b'/')
    .remove(b' ');

/// A key as records carry it: URL-encoded, spaces as `+`.
fn encode_key(key: &str) -> String {
    utf8_percent_encode(key, KEY_SET)
        .to_string()
        .replace(' ', "+")
}

/// ISO-8601 in UTC with milliseconds and `Z`.
fn event_time(millis: i64) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp_nanos(millis as i128 * 1_000_000)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.millisecond()
    )
}

/// A statement id from a bucket name: AddPermission allows `[a-zA-Z0-9-_]`, bucket names
/// also hold dots.
fn upgrade_statement_id(bucket: &str) -> String {
    let id: String = bucket
        .chars()
        .map(|c| if c == '.' { '_' } else { c })
        .collect();
    format!("lambent-upgrade-s3-{id}")
}

impl Notifier {
    pub fn new(events: Events, control: Control, authorizer: Authorizer) -> Notifier {
        Notifier {
            events,
            control,
            authorizer,
        }
    }

    /// The function name and qualifier an ARN names, if that function exists and its
    /// permissions let S3 invoke it for `bucket` (AddPermission with principal
    /// `s3.amazonaws.com`, as on AWS).
    pub(super) fn function(&self, arn: &str, bucket: &str) -> Option<(String, Option<String>)> {
        let (name, qualifier) = self.control.existing_function(arn)?;
        self.control
            .service_may_invoke(
                "s3.amazonaws.com",
                &format!("arn:aws:s3:::{bucket}"),
                self.authorizer.account(),
                &name,
                qualifier.as_deref(),
            )
            .then_some((name, qualifier))
    }

    /// The upgrade path of notifications configured before S3 asked functions' permissions:
    /// each function a bucket's configuration names, where its policy does not yet let S3
    /// invoke it for that bucket, gets the statement AWS's console adds
    /// (`lambent-upgrade-s3-BUCKET`). Returns the functions granted, as `function <- bucket`.
    pub fn grant_configured_targets(
        &self,
        store: &ObjectStore,
    ) -> Result<Vec<String>, lambent_store::objects::ObjectError> {
        let mut granted = Vec::new();
        for bucket in store.buckets()? {
            let stored = Stored::load(store.notifications(&bucket.name)?);
            for rule in &stored.lambda {
                let Some((name, qualifier)) = self.control.existing_function(&rule.arn) else {
                    continue;
                };
                if self.function(&rule.arn, &bucket.name).is_some() {
                    continue;
                }
                let input = crate::lambda::PermissionInput {
                    statement_id: Some(upgrade_statement_id(&bucket.name)),
                    action: Some("lambda:InvokeFunction".into()),
                    principal: Some("s3.amazonaws.com".into()),
                    source_arn: Some(format!("arn:aws:s3:::{}", bucket.name)),
                    source_account: Some(self.authorizer.account().to_string()),
                    ..Default::default()
                };
                match self
                    .control
                    .add_permission(&name, qualifier.as_deref(), input)
                {
                    Ok(_) => granted.push(format!("{name} <- {}", bucket.name)),
                    Err(e) => tracing::warn!(
                        function = %name, bucket = %bucket.name, error = %e,
                        "cannot let S3 invoke a function its bucket notifies"
                    ),
                }
            }
        }
        Ok(granted)
    }

    /// Enqueues the events `changes` (committed, in `bucket`) call for.
    pub(super) async fn notify(
        &self,
        store: &Arc<ObjectStore>,
        caller: &Caller,
        bucket: &str,
        changes: Vec<Change>,
    ) -> S3Result<()> {
        let b = bucket.to_string();
        let stored = Stored::load(blocking(store, move |s| s.notifications(&b)).await?);
        if stored.lambda.is_empty() {
            return Ok(());
        }
        for change in changes {
            for rule in stored
                .lambda
                .iter()
                .filter(|r| r.matches(change.event, &change.key))
            {
                let Some((function, qualifier)) = self.function(&rule.arn, bucket) else {
                    tracing::warn!(
                        arn = %rule.arn,
                        %bucket,
                        "notification target is gone, or no longer lets S3 invoke it"
                    );
                    continue;
                };
                let now = now_millis();
                let record = self.record(caller, bucket, &rule.id, &change, now);
                let event = lambent_store::queue::NewEvent {
                    request_id: uuid::Uuid::new_v4().to_string(),
                    function,
                    qualifier,
                    payload: serde_json::to_vec(&record).unwrap_or_default(),
                    client_context: None,
                    enqueued_ms: now,
                    lineage: caller.lineage.clone(),
                };
                self.events.accept(event).await.map_err(|e| {
                    S3Error::with_message(S3ErrorCode::InternalError, e.to_string())
                })?;
            }
        }
        Ok(())
    }

    /// AWS's S3 event record for one change and one rule.
    fn record(
        &self,
        caller: &Caller,
        bucket: &str,
        configuration_id: &str,
        change: &Change,
        now: i64,
    ) -> serde_json::Value {
        let mut object = serde_json::json!({ "key": encode_key(&change.key) });
        if let Some((size, etag)) = &change.object {
            object["size"] = (*size).into();
            object["eTag"] = etag.clone().into();
        }
        if let Some(id) = &change.version_id {
            object["versionId"] = id.clone().into();
        }
        object["sequencer"] = format!("{:016X}", change.sequencer).into();
        serde_json::json!({"Records": [{
            "eventVersion": "2.1",
            "eventSource": "aws:s3",
            "awsRegion": self.control.region(),
            "eventTime": event_time(now),
            "eventName": change.event,
            "userIdentity": {"principalId": caller.principal},
            "requestParameters": {"sourceIPAddress": caller.source_ip},
            "responseElements": {
                "x-amz-request-id": caller.request_id,
                "x-amz-id-2": caller.id_2,
            },
            "s3": {
                "s3SchemaVersion": "1.0",
                "configurationId": configuration_id,
                "bucket": {
                    "name": bucket,
                    "ownerIdentity": {"principalId": "lambent"},
                    "arn": format!("arn:aws:s3:::{bucket}"),
                },
                "object": object,
            },
        }]})
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_url_encoded_with_plus_for_space() {
        assert_eq!(encode_key("uploads/a b.jpg"), "uploads/a+b.jpg");
        assert_eq!(encode_key("a+b=c"), "a%2Bb%3Dc");
        assert_eq!(encode_key("é"), "%C3%A9");
    }

    #[test]
    fn event_time_has_milliseconds_and_z() {
        assert_eq!(event_time(123), "1970-01-01T00:00:00.123Z");
    }
}
