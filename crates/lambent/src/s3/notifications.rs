//! Bucket notification configurations: PutBucketNotificationConfiguration and
//! GetBucketNotificationConfiguration, validated as AWS does and stored with the bucket in
//! `objects.db` (as the JSON of [`Stored`]).
//!
//! Lambda destinations are checked against the functions that exist (unless the caller sets
//! `x-amz-skip-destination-validation`); queue and topic destinations are accepted and
//! stored but never delivered to. `notify.rs` turns object changes into events.
//!
//! Invariant: a stored configuration passed validation: known event names, at most one
//! prefix and one suffix per filter, and no two rules that could both match one change.

use super::{blocking, Api};
use s3s::dto::*;
use s3s::{s3_error, S3Response, S3Result};

/// One rule: an Id, its destination's ARN, the event names it subscribes to, its key filter.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub(super) struct Rule {
    pub id: String,
    pub arn: String,
    pub events: Vec<String>,
    pub prefix: Option<String>,
    pub suffix: Option<String>,
}

/// A bucket's configuration, by destination kind.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub(super) struct Stored {
    pub lambda: Vec<Rule>,
    pub queue: Vec<Rule>,
    pub topic: Vec<Rule>,
}

/// The event names S3 accepts in a configuration; only the ObjectCreated and ObjectRemoved
/// ones are ever emitted by lambent.
const EVENTS: &[&str] = &[
    "s3:ObjectCreated:*",
    "s3:ObjectCreated:Put",
    "s3:ObjectCreated:Post",
    "s3:ObjectCreated:Copy",
    "s3:ObjectCreated:CompleteMultipartUpload",
    "s3:ObjectRemoved:*",
    "s3:ObjectRemoved:Delete",
    "s3:ObjectRemoved:DeleteMarkerCreated",
    "s3:ObjectRestore:*",
    "s3:ObjectRestore:Post",
    "s3:ObjectRestore:Completed",
    "s3:ObjectRestore:Delete",
    "s3:ReducedRedundancyLostObject",
    "s3:Replication:*",
    "s3:Replication:OperationFailedReplication",
    "s3:Replication:OperationMissedThreshold",
    "s3:Replication:OperationReplicatedAfterThreshold",
    "s3:Replication:OperationNotTracked",
    "s3:LifecycleExpiration:*",
    "s3:LifecycleExpiration:Delete",
    "s3:LifecycleExpiration:DeleteMarkerCreated",
    "s3:LifecycleTransition",
    "s3:IntelligentTiering",
    "s3:ObjectTagging:*",
    "s3:ObjectTagging:Put",
    "s3:ObjectTagging:Delete",
    "s3:ObjectAcl:Put",
];

impl Stored {
    pub(super) fn load(json: Option<String>) -> Stored {
        json.and_then(|j| serde_json::from_str(&j).ok())
            .unwrap_or_default()
    }
}

impl Rule {
    /// Whether this rule subscribes to `event` (e.g. `ObjectCreated:Put`) for `key`.
    pub(super) fn matches(&self, event: &str, key: &str) -> bool {
        let kind = event.split(':').next().unwrap_or("");
        let subscribed = self
            .events
            .iter()
            .any(|e| e.strip_prefix("s3:") == Some(event) || *e == format!("s3:{kind}:*"));
        subscribed
            && self.prefix.as_deref().is_none_or(|p| key.starts_with(p))
            && self.suffix.as_deref().is_none_or(|s| key.ends_with(s))
    }
}

fn invalid(message: &'static str) -> s3s::S3Error {
    s3_error!(InvalidArgument, "{}", message)
}

/// Reads one configuration's parts into a [`Rule`], checking its events and filter.
fn rule(
    id: Option<String>,
    arn: String,
    events: Vec<Event>,
    filter: Option<NotificationConfigurationFilter>,
) -> S3Result<Rule> {
    let events: Vec<String> = events.into_iter().map(String::from).collect();
    if events.is_empty() {
        return Err(invalid(
            "A specified event is not supported for notifications.",
        ));
    }
    if events.iter().any(|e| !EVENTS.contains(&e.as_str())) {
        return Err(invalid("The event is not supported for notifications"));
    }
    let (mut prefix, mut suffix) = (None, None);
    let rules = filter
        .and_then(|f| f.key)
        .and_then(|k| k.filter_rules)
        .unwrap_or_default();
    for r in rules {
        let name = r.name.map(|n| n.as_str().to_ascii_lowercase());
        let value = r.value.unwrap_or_default();
        let slot = match name.as_deref() {
            Some("prefix") => &mut prefix,
            Some("suffix") => &mut suffix,
            _ => return Err(invalid("filter rule name must be either prefix or suffix")),
        };
        if slot.is_some() {
            return Err(invalid(
                "Cannot specify more than one prefix rule in a filter.",
            ));
        }
        *slot = Some(value);
    }
    Ok(Rule {
        id: id
            .filter(|i| !i.is_empty())
            .unwrap_or_else(|| uuid::Uuid::new_v4().to_string()),
        arn,
        events,
        prefix,
        suffix,
    })
}

/// The stored form of a configuration with a single Lambda rule, checked as a Put checks it:
/// how `--examples` subscribes its thumbnails function to its bucket.
pub(crate) fn single_lambda_rule(
    id: &str,
    arn: &str,
    event: &str,
    prefix: &str,
) -> S3Result<String> {
    let filter = NotificationConfigurationFilter {
        key: Some(S3KeyFilter {
            filter_rules: Some(vec![FilterRule {
                name: Some(FilterRuleName::from("prefix".to_string())),
                value: Some(prefix.to_string()),
            }]),
        }),
    };
    let events = vec![Event::from(event.to_string())];
    let stored = Stored {
        lambda: vec![rule(Some(id.into()), arn.into(), events, Some(filter))?],
        ..Stored::default()
    };
    Ok(serde_json::to_string(&stored).unwrap_or_default())
}

/// Whether two event names can name one change (`s3:X:*` covers `s3:X:Y`).
fn events_overlap(a: &str, b: &str) -> bool {
    let covers = |w: &str, e: &str| w.strip_suffix('*').is_some_and(|p| e.starts_with(p));
    a == b || covers(a, b) || covers(b, a)
}

/// Whether some key could match both rules' filters for one event.
fn overlap(a: &Rule, b: &Rule) -> bool {
    let same_event = a
        .events
        .iter()
        .any(|x| b.events.iter().any(|y| events_overlap(x, y)));
    let (pa, pb) = (
        a.prefix.as_deref().unwrap_or(""),
        b.prefix.as_deref().unwrap_or(""),
    );
    let (sa, sb) = (
        a.suffix.as_deref().unwrap_or(""),
        b.suffix.as_deref().unwrap_or(""),
    );
    same_event
        && (pa.starts_with(pb) || pb.starts_with(pa))
        && (sa.ends_with(sb) || sb.ends_with(sa))
}

impl Api {
    pub(super) async fn put_notifications(
        &self,
        input: PutBucketNotificationConfigurationInput,
    ) -> S3Result<S3Response<PutBucketNotificationConfigurationOutput>> {
        let bucket = input.bucket;
        let b = bucket.clone();
        if blocking(&self.store, move |s| s.bucket(&b))
            .await?
            .is_none()
        {
            return Err(super::error(
                lambent_store::objects::ObjectError::NoSuchBucket(bucket),
            ));
        }
        let config = input.notification_configuration;
        let skip = input.skip_destination_validation.unwrap_or(false);
        let mut stored = Stored::default();
        for c in config.lambda_function_configurations.unwrap_or_default() {
            let arn = c.lambda_function_arn;
            if !arn.starts_with("arn:") || !arn.contains(":lambda:") {
                return Err(invalid("The ARN could not be parsed"));
            }
            if !skip && self.notifier.function(&arn, &bucket).is_none() {
                return Err(invalid(
                    "Unable to validate the following destination configurations",
                ));
            }
            stored.lambda.push(rule(c.id, arn, c.events, c.filter)?);
        }
        for c in config.queue_configurations.unwrap_or_default() {
            stored
                .queue
                .push(rule(c.id, c.queue_arn, c.events, c.filter)?);
        }
        for c in config.topic_configurations.unwrap_or_default() {
            stored
                .topic
                .push(rule(c.id, c.topic_arn, c.events, c.filter)?);
        }
        let all: Vec<&Rule> = stored
            .lambda
            .iter()
            .chain(&stored.queue)
            .chain(&stored.topic)
            .collect();
        for (i, a) in all.iter().enumerate() {
            if all[i + 1..].iter().any(|b| overlap(a, b)) {
                return Err(invalid(
                    "Configuration is ambiguously defined. Cannot have overlapping suffixes in \
                     two rules if the prefixes are overlapping for the same event type.",
                ));
            }
        }
        if !stored.queue.is_empty() || !stored.topic.is_empty() {
            tracing::warn!(%bucket, "queue and topic notifications are stored but not delivered");
        }
        let json = serde_json::to_string(&stored).unwrap_or_default();
        blocking(&self.store, move |s| s.put_notifications(&bucket, &json)).await?;
        Ok(S3Response::new(PutBucketNotificationConfigurationOutput {}))
    }

    pub(super) async fn get_notifications(
        &self,
        input: GetBucketNotificationConfigurationInput,
    ) -> S3Result<S3Response<GetBucketNotificationConfigurationOutput>> {
        let bucket = input.bucket;
        let (exists, json) = blocking(&self.store, move |s| {
            Ok((s.bucket(&bucket)?, s.notifications(&bucket)?))
        })
        .await?;
        if exists.is_none() {
            return Err(s3_error!(
                NoSuchBucket,
                "The specified bucket does not exist"
            ));
        }
        let stored = Stored::load(json);
        let filter = |r: &Rule| {
            let rules: Vec<FilterRule> = [("Prefix", &r.prefix), ("Suffix", &r.suffix)]
                .into_iter()
                .filter_map(|(n, v)| {
                    v.clone().map(|v| FilterRule {
                        name: Some(FilterRuleName::from(n.to_string())),
                        value: Some(v),
                    })
                })
                .collect();
            (!rules.is_empty()).then_some(NotificationConfigurationFilter {
                key: Some(S3KeyFilter {
                    filter_rules: Some(rules),
                }),
            })
        };
        let events = |r: &Rule| r.events.iter().cloned().map(Event::from).collect();
        Ok(S3Response::new(GetBucketNotificationConfigurationOutput {
            lambda_function_configurations: nonempty(
                stored
                    .lambda
                    .iter()
                    .map(|r| LambdaFunctionConfiguration {
                        events: events(r),
                        filter: filter(r),
                        id: Some(r.id.clone()),
                        lambda_function_arn: r.arn.clone(),
                    })
                    .collect(),
            ),
            queue_configurations: nonempty(
                stored
                    .queue
                    .iter()
                    .map(|r| QueueConfiguration {
                        events: events(r),
                        filter: filter(r),
                        id: Some(r.id.clone()),
                        queue_arn: r.arn.clone(),
                    })
                    .collect(),
            ),
            topic_configurations: nonempty(
                stored
                    .topic
                    .iter()
                    .map(|r| TopicConfiguration {
                        events: events(r),
                        filter: filter(r),
                        id: Some(r.id.clone()),
                        topic_arn: r.arn.clone(),
                    })
                    .collect(),
            ),
            event_bridge_configuration: None,
        }))
    }
}

/// `None` for an empty list, as AWS leaves the element out.
fn nonempty<T>(v: Vec<T>) -> Option<Vec<T>> {
    (!v.is_empty()).then_some(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(events: &[&str], prefix: Option<&str>, suffix: Option<&str>) -> Rule {
        Rule {
            id: "i".into(),
            arn: "a".into(),
            events: events.iter().map(|e| e.to_string()).collect(),
            prefix: prefix.map(str::to_string),
            suffix: suffix.map(str::to_string),
        }
    }

    #[test]
    fn matching_honours_wildcards_and_filters() {
        let rule = r(&["s3:ObjectCreated:*"], Some("uploads/"), Some(".jpg"));
        assert!(rule.matches("ObjectCreated:Put", "uploads/a.jpg"));
        assert!(rule.matches("ObjectCreated:Copy", "uploads/a.jpg"));
        assert!(!rule.matches("ObjectRemoved:Delete", "uploads/a.jpg"));
        assert!(!rule.matches("ObjectCreated:Put", "uploads/a.txt"));
        assert!(!rule.matches("ObjectCreated:Put", "other/a.jpg"));
        let exact = r(&["s3:ObjectRemoved:Delete"], None, None);
        assert!(exact.matches("ObjectRemoved:Delete", "k"));
        assert!(!exact.matches("ObjectCreated:Put", "k"));
    }

    #[test]
    fn overlap_needs_event_prefix_and_suffix_to_overlap() {
        let a = r(&["s3:ObjectCreated:*"], Some("a/"), Some(".jpg"));
        assert!(overlap(
            &a,
            &r(&["s3:ObjectCreated:Put"], Some("a/b/"), None)
        ));
        assert!(!overlap(
            &a,
            &r(&["s3:ObjectCreated:Put"], Some("b/"), None)
        ));
        assert!(!overlap(
            &a,
            &r(&["s3:ObjectCreated:Put"], None, Some(".png"))
        ));
        assert!(!overlap(
            &a,
            &r(&["s3:ObjectRemoved:*"], Some("a/"), Some(".jpg"))
        ));
    }
}
