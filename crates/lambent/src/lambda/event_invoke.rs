//! Put/Update/Get/Delete/ListFunctionEventInvokeConfigs: a function's asynchronous invocation
//! settings (retries, maximum event age, destinations) for `$LATEST`, a version or an alias.
//!
//! A configuration belongs to one qualifier: publishing a version does not copy `$LATEST`'s,
//! and one left behind by a deleted version or alias is not shown, and is dropped at the next
//! change made here.

use super::functions::paginate;
use super::{now_millis, ApiRequest, ApiResponse, Control};
use lambent_aws::arn::ACCOUNT_ID;
use lambent_aws::lambda::model::{DestinationConfig, EventInvokeConfig, OnDestination};
use lambent_aws::lambda::validate::{
    is_destination_arn, Violations, DESTINATION_ARN_PATTERN, MAX_DESTINATION_ARN_LEN,
};
use lambent_aws::lambda::LambdaError;
use lambent_store::FunctionRecord;
use serde::Deserialize;
use serde_json::{json, Value};

const LATEST: &str = "$LATEST";
const QUALIFIER_PATTERN: &str = r"\$(LATEST(\.PUBLISHED)?)|[a-zA-Z0-9-_$]+";

/// The body of Put and Update: absent fields stay `None`, so Update can tell them apart.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Input {
    maximum_retry_attempts: Option<i64>,
    maximum_event_age_in_seconds: Option<i64>,
    destination_config: Option<DestinationInput>,
}

/// `DestinationConfig` as sent: a side may be absent, or present without a `Destination`, and
/// AWS's error message tells the two apart.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct DestinationInput {
    on_success: Option<Target>,
    on_failure: Option<Target>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Target {
    destination: Option<String>,
}

impl Target {
    /// The destination ARN; an empty one (which AWS's pattern allows) is none.
    fn arn(&self) -> Option<&str> {
        self.destination.as_deref().filter(|d| !d.is_empty())
    }
}

impl DestinationInput {
    /// Each side with its ARN, its field in validation messages, and whether it is OnFailure.
    fn sides(&self) -> [(Option<&Target>, &'static str, bool); 2] {
        [
            (
                self.on_success.as_ref(),
                "destinationConfig.onSuccess.destination",
                false,
            ),
            (
                self.on_failure.as_ref(),
                "destinationConfig.onFailure.destination",
                true,
            ),
        ]
    }

    /// The configuration as AWS's Java service prints it in its error message.
    fn describe(&self) -> String {
        let side = |label: &str, t: Option<&Target>| match t {
            None => "null".to_string(),
            Some(t) => format!(
                "{label}(destination={})",
                t.destination.as_deref().unwrap_or("null")
            ),
        };
        format!(
            "DestinationConfig(onSuccess={}, onFailure={})",
            side("OnSuccess", self.on_success.as_ref()),
            side("OnFailure", self.on_failure.as_ref())
        )
    }

    fn stored(&self) -> DestinationConfig {
        let side = |t: Option<&Target>| OnDestination {
            destination: t.and_then(Target::arn).map(str::to_string),
        };
        DestinationConfig {
            on_success: side(self.on_success.as_ref()),
            on_failure: side(self.on_failure.as_ref()),
        }
    }
}

impl Input {
    /// The model constraints, reported together as one `ValidationException`.
    fn check(&self, qualifier: Option<&str>) -> Result<(), LambdaError> {
        let mut v = Violations::default();
        if let Some(q) = qualifier {
            qualifier_violations(&mut v, q);
        }
        v.range(self.maximum_retry_attempts, "maximumRetryAttempts", 0, 2);
        v.range(
            self.maximum_event_age_in_seconds,
            "maximumEventAgeInSeconds",
            60,
            21_600,
        );
        if let Some(d) = &self.destination_config {
            for (target, member, _) in d.sides() {
                let Some(arn) = target.and_then(|t| t.destination.as_deref()) else {
                    continue;
                };
                if arn.len() > MAX_DESTINATION_ARN_LEN {
                    v.push(
                        arn,
                        member,
                        "Member must have length less than or equal to 350",
                    );
                }
                if !is_destination_arn(arn) {
                    v.push(
                        arn,
                        member,
                        &format!(
                            "Member must satisfy regular expression pattern: {DESTINATION_ARN_PATTERN}"
                        ),
                    );
                }
            }
        }
        v.into_result()
    }

    fn require_some(&self) -> Result<(), LambdaError> {
        if self.maximum_retry_attempts.is_none()
            && self.maximum_event_age_in_seconds.is_none()
            && self.destination_config.is_none()
        {
            return Err(LambdaError::InvalidParameterValue(
                "You must specify at least one of error handling or destination setting.".into(),
            ));
        }
        Ok(())
    }
}

/// `Qualifier`'s model constraints (`NumericLatestPublishedOrAliasQualifier`).
pub(super) fn qualifier_violations(v: &mut Violations, q: &str) {
    if q.is_empty() {
        v.push(
            q,
            "qualifier",
            "Member must have length greater than or equal to 1",
        );
    } else if q.len() > 128 {
        v.push(
            q,
            "qualifier",
            "Member must have length less than or equal to 128",
        );
    }
    let latest = q == LATEST || q == "$LATEST.PUBLISHED";
    let plain = q
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'$');
    if !q.is_empty() && !latest && !plain {
        v.push(
            q,
            "qualifier",
            &format!("Member must satisfy regular expression pattern: {QUALIFIER_PATTERN}"),
        );
    }
}

fn no_function() -> LambdaError {
    LambdaError::ResourceNotFound("The function doesn't exist.".into())
}

fn not_configured(ctl: &Control, name: &str, qualifier: &str) -> LambdaError {
    LambdaError::ResourceNotFound(format!(
        "The function {} doesn't have an EventInvokeConfig",
        ctl.arn(name, Some(qualifier))
    ))
}

/// Whether a qualifier names `$LATEST`, a published version or an alias of `record`.
fn exists(record: &FunctionRecord, qualifier: &str) -> bool {
    match qualifier.parse::<u64>() {
        // Only the number as AWS writes it: `01` is not version 1.
        Ok(n) => n.to_string() == qualifier && record.versions.contains_key(&n),
        Err(_) => qualifier == LATEST || record.aliases.contains_key(qualifier),
    }
}

/// The configuration a qualifier has, unless what it named is gone.
fn config_of<'r>(record: &'r FunctionRecord, qualifier: &str) -> Option<&'r EventInvokeConfig> {
    record
        .event_invoke
        .get(qualifier)
        .filter(|_| exists(record, qualifier))
}

/// Drops configurations whose version or alias was deleted since.
fn prune(record: &mut FunctionRecord) {
    let gone: Vec<String> = record
        .event_invoke
        .keys()
        .filter(|q| !exists(record, q))
        .cloned()
        .collect();
    for q in gone {
        record.event_invoke.remove(&q);
    }
}

/// The function, and its qualifier, that a Put or Update names; both must exist.
fn target(
    ctl: &Control,
    f: &str,
    req: &ApiRequest,
    input: &Input,
) -> Result<(String, String), LambdaError> {
    input.check(req.query("Qualifier"))?;
    let (name, qualifier) = ctl.resolve_name(f, req.query("Qualifier"))?;
    input.require_some()?;
    let qualifier = qualifier.unwrap_or_else(|| LATEST.to_string());
    let record = ctl.get(&name).ok_or_else(no_function)?;
    if !exists(&record, &qualifier) {
        return Err(no_function());
    }
    if let Some(d) = &input.destination_config {
        check_destinations(ctl, &name, d)?;
    }
    Ok((name, qualifier))
}

/// What AWS checks about the destinations beyond their pattern. lambent delivers to Lambda
/// functions only; SQS, SNS, EventBridge and S3 (on failure) destinations are accepted and
/// stored, as AWS accepts them, but delivery to them is not supported yet.
fn check_destinations(ctl: &Control, name: &str, d: &DestinationInput) -> Result<(), LambdaError> {
    let arns = d
        .sides()
        .into_iter()
        .filter_map(|(t, _, on_failure)| Some((t?.arn()?, on_failure)));
    for (arn, on_failure) in arns.clone() {
        let service = arn.split(':').nth(2).unwrap_or_default();
        let accepted = matches!(service, "lambda" | "sqs" | "sns" | "events")
            || (service == "s3" && on_failure);
        if !accepted {
            return Err(LambdaError::InvalidParameterValue(format!(
                "The provided destination config {} is invalid.",
                d.describe()
            )));
        }
    }
    for (arn, _) in arns {
        if arn.split(':').nth(2) != Some("lambda") {
            continue;
        }
        let invalid =
            || LambdaError::InvalidParameterValue(format!("The destination ARN {arn} is invalid."));
        let parts: Vec<&str> = arn.split(':').collect();
        let (target, qualifier) = match parts.as_slice() {
            ["arn", "aws", "lambda", region, account, "function", n]
                if *region == ctl.region() && *account == ACCOUNT_ID =>
            {
                (*n, None)
            }
            ["arn", "aws", "lambda", region, account, "function", n, q]
                if *region == ctl.region() && *account == ACCOUNT_ID =>
            {
                (*n, Some(*q))
            }
            _ => return Err(invalid()),
        };
        if target == name {
            return Err(LambdaError::InvalidParameterValue(
                "You can't specify the function as a destination for itself.".into(),
            ));
        }
        let record = ctl.get(target).ok_or_else(invalid)?;
        if qualifier.is_some_and(|q| !exists(&record, q)) {
            return Err(invalid());
        }
    }
    Ok(())
}

/// `$LATEST`, then versions by number, then aliases by name.
fn order(q: &str) -> (u8, u64, &str) {
    if q == LATEST {
        (0, 0, q)
    } else if let Ok(n) = q.parse::<u64>() {
        (1, n, q)
    } else {
        (2, 0, q)
    }
}

/// The wire shape: the stored configuration plus the qualified `FunctionArn`.
fn shape(ctl: &Control, name: &str, qualifier: &str, cfg: &EventInvokeConfig) -> Value {
    let mut v = serde_json::to_value(cfg).unwrap_or_else(|_| json!({}));
    v["FunctionArn"] = json!(ctl.arn(name, Some(qualifier)));
    v
}

fn now_secs() -> f64 {
    now_millis() as f64 / 1000.0
}

/// Applies `change` to the function's record after dropping stale configurations, while the
/// qualifier still exists; a function deleted since `target` looked reads as `Function not
/// found`, from `mutate`.
fn edit<T>(
    ctl: &Control,
    name: &str,
    qualifier: &str,
    change: impl FnOnce(&mut FunctionRecord) -> Result<T, LambdaError>,
) -> Result<T, LambdaError> {
    ctl.mutate(name, |record| {
        prune(record);
        if !exists(record, qualifier) {
            return Err(no_function());
        }
        change(record)
    })
}

pub fn put(ctl: &Control, f: &str, req: &ApiRequest) -> Result<ApiResponse, LambdaError> {
    let input: Input = req.json()?;
    let (name, qualifier) = target(ctl, f, req, &input)?;
    let cfg = EventInvokeConfig {
        maximum_retry_attempts: input.maximum_retry_attempts.map(|n| n as u32),
        maximum_event_age_in_seconds: input.maximum_event_age_in_seconds.map(|n| n as u32),
        destination_config: input
            .destination_config
            .as_ref()
            .map(DestinationInput::stored)
            .unwrap_or_default(),
        last_modified: now_secs(),
    };
    edit(ctl, &name, &qualifier, |record| {
        record.event_invoke.insert(qualifier.clone(), cfg.clone());
        Ok(())
    })?;
    Ok(ApiResponse::json(200, &shape(ctl, &name, &qualifier, &cfg)))
}

pub fn update(ctl: &Control, f: &str, req: &ApiRequest) -> Result<ApiResponse, LambdaError> {
    let input: Input = req.json()?;
    let (name, qualifier) = target(ctl, f, req, &input)?;
    let cfg = edit(ctl, &name, &qualifier, |record| {
        let cfg = record
            .event_invoke
            .get_mut(&qualifier)
            .ok_or_else(|| not_configured(ctl, &name, &qualifier))?;
        if let Some(n) = input.maximum_retry_attempts {
            cfg.maximum_retry_attempts = Some(n as u32);
        }
        if let Some(n) = input.maximum_event_age_in_seconds {
            cfg.maximum_event_age_in_seconds = Some(n as u32);
        }
        if let Some(d) = &input.destination_config {
            cfg.destination_config = d.stored();
        }
        cfg.last_modified = now_secs();
        Ok(cfg.clone())
    })?;
    Ok(ApiResponse::json(200, &shape(ctl, &name, &qualifier, &cfg)))
}

pub fn get(ctl: &Control, f: &str, req: &ApiRequest) -> Result<ApiResponse, LambdaError> {
    let (name, qualifier) = ctl.resolve_name(f, req.query("Qualifier"))?;
    let qualifier = qualifier.unwrap_or_else(|| LATEST.to_string());
    // A missing function, version or alias reads as a missing configuration, as on AWS.
    let record = ctl
        .get(&name)
        .ok_or_else(|| not_configured(ctl, &name, &qualifier))?;
    let cfg =
        config_of(&record, &qualifier).ok_or_else(|| not_configured(ctl, &name, &qualifier))?;
    Ok(ApiResponse::json(200, &shape(ctl, &name, &qualifier, cfg)))
}

pub fn delete(ctl: &Control, f: &str, req: &ApiRequest) -> Result<ApiResponse, LambdaError> {
    let (name, qualifier) = ctl.resolve_name(f, req.query("Qualifier"))?;
    let qualifier = qualifier.unwrap_or_else(|| LATEST.to_string());
    let missing = || not_configured(ctl, &name, &qualifier);
    let record = ctl.get(&name).ok_or_else(missing)?;
    config_of(&record, &qualifier).ok_or_else(missing)?;
    ctl.mutate(&name, |record| {
        prune(record);
        record.event_invoke.remove(&qualifier).ok_or_else(missing)
    })?;
    Ok(ApiResponse::empty(204))
}

pub fn list(ctl: &Control, f: &str, req: &ApiRequest) -> Result<ApiResponse, LambdaError> {
    let mut v = Violations::default();
    if let Some(m) = req.query("MaxItems") {
        match m.parse::<i64>() {
            Ok(n) => v.range(Some(n), "maxItems", 1, 50),
            Err(_) => v.push(
                m,
                "maxItems",
                "Member must have value less than or equal to 50",
            ),
        }
    }
    v.into_result()?;
    // The configurations of the whole function, whichever qualifier the name carries.
    let (name, _) = ctl.resolve_name(f, None)?;
    let record = ctl.get(&name).ok_or_else(no_function)?;
    let mut configs: Vec<(&String, &EventInvokeConfig)> = record
        .event_invoke
        .iter()
        .filter(|(q, _)| exists(&record, q))
        .collect();
    configs.sort_by(|a, b| order(a.0).cmp(&order(b.0)));
    let all: Vec<Value> = configs
        .into_iter()
        .map(|(q, cfg)| shape(ctl, &name, q, cfg))
        .collect();
    let (page, next) = paginate(&all, req, 50)?;
    let mut body = json!({ "FunctionEventInvokeConfigs": page });
    if let Some(n) = next {
        body["NextMarker"] = json!(n);
    }
    Ok(ApiResponse::json(200, &body))
}
