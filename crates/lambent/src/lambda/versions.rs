//! PublishVersion and ListVersionsByFunction.

use super::functions::paginate;
use super::{now_millis, revision_id, ApiRequest, ApiResponse, Control};
use lambent_aws::lambda::model::{self, FunctionConfiguration};
use lambent_aws::lambda::LambdaError;
use lambent_store::FunctionRecord;
use serde::Deserialize;
use serde_json::json;

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Publish {
    code_sha256: Option<String>,
    description: Option<String>,
    revision_id: Option<String>,
}

/// Publishes `$LATEST` as a new version inside `record` (the caller stores it). As on AWS,
/// publishing a `$LATEST` unchanged since the last publish returns that version.
pub(super) fn publish_into(
    ctl: &Control,
    record: &mut FunctionRecord,
    description: Option<String>,
) -> Result<FunctionConfiguration, LambdaError> {
    if record.published_revision.as_deref() == Some(record.latest.revision_id.as_str()) {
        if let Some((_, newest)) = record.versions.iter().next_back() {
            return Ok(newest.clone());
        }
    }
    let n = record.next_version;
    record.next_version += 1;
    let mut v = record.latest.clone();
    v.version = n.to_string();
    v.function_arn = ctl.arn(&v.function_name, Some(&v.version));
    v.revision_id = revision_id();
    v.last_modified = model::timestamp(now_millis());
    if let Some(d) = description {
        v.description = d;
    }
    record.versions.insert(n, v.clone());
    record.published_revision = Some(record.latest.revision_id.clone());
    Ok(v)
}

pub fn publish(ctl: &Control, f: &str, req: &ApiRequest) -> Result<ApiResponse, LambdaError> {
    let input: Publish = req.json()?;
    let name = ctl.unqualified_name(f)?;
    let config = ctl.mutate(&name, |record| {
        if let Some(expected) = &input.revision_id {
            if expected != &record.latest.revision_id {
                return Err(LambdaError::revision_mismatch());
            }
        }
        if let Some(sha) = &input.code_sha256 {
            if sha != &record.latest.code_sha256 {
                return Err(LambdaError::InvalidParameterValue(format!(
                    "CodeSHA256 ({sha}) is different from current CodeSHA256 in $LATEST ({}). Please try again with the CodeSHA256 in $LATEST.",
                    record.latest.code_sha256
                )));
            }
        }
        publish_into(ctl, record, input.description.clone())
    })?;
    Ok(ApiResponse::json(201, &config))
}

pub fn list(ctl: &Control, f: &str, req: &ApiRequest) -> Result<ApiResponse, LambdaError> {
    let (name, _) = ctl.resolve_name(f, None)?;
    let record = ctl
        .get(&name)
        .ok_or_else(|| LambdaError::function_not_found(ctl.arn(&name, None)))?;
    let mut all = Vec::with_capacity(record.versions.len() + 1);
    let mut latest = record.latest.clone();
    latest.function_arn = ctl.arn(&name, Some("$LATEST"));
    all.push(latest);
    all.extend(record.versions.values().cloned());
    let (versions, next) = paginate(&all, req, 50)?;
    let mut body = json!({ "Versions": versions });
    if let Some(n) = next {
        body["NextMarker"] = json!(n);
    }
    Ok(ApiResponse::json(200, &body))
}
