//! TagResource, UntagResource and ListTags on function ARNs.

use super::{ApiRequest, ApiResponse, Control};
use lambent_aws::arn::FunctionRef;
use lambent_aws::lambda::LambdaError;
use serde::Deserialize;
use serde_json::json;
use std::collections::BTreeMap;

const MAX_TAGS: usize = 50;

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Tag {
    tags: Option<BTreeMap<String, String>>,
}

/// The function an ARN names; tags live on functions only, not versions or aliases.
fn function(ctl: &Control, arn: &str) -> Result<String, LambdaError> {
    let r = FunctionRef::parse(arn)
        .ok()
        .filter(|r| arn.starts_with("arn:") && r.region.is_some());
    let Some(r) = r else {
        return Err(LambdaError::Validation(format!(
            "1 validation error detected: Value '{arn}' at 'resource' failed to satisfy constraint: Member must satisfy regular expression pattern: arn:(aws[a-zA-Z-]*):lambda:[a-z]{{2}}((-gov)|(-iso([a-z]?)))?-[a-z]+-\\d{{1}}:\\d{{12}}:(function:[a-zA-Z0-9-_]+(:(\\$LATEST|[a-zA-Z0-9-_]+))?)"
        )));
    };
    if r.qualifier.is_some() {
        return Err(LambdaError::InvalidParameterValue(
            "Tags on function aliases and versions are not supported. Please specify a function ARN.".into(),
        ));
    }
    if ctl.get(&r.name).is_none() {
        return Err(LambdaError::function_not_found(ctl.arn(&r.name, None)));
    }
    Ok(r.name)
}

pub fn list(ctl: &Control, arn: &str) -> Result<ApiResponse, LambdaError> {
    let name = function(ctl, arn)?;
    let tags = ctl.get(&name).map(|r| r.tags.clone()).unwrap_or_default();
    Ok(ApiResponse::json(200, &json!({ "Tags": tags })))
}

pub fn tag(ctl: &Control, arn: &str, req: &ApiRequest) -> Result<ApiResponse, LambdaError> {
    let input: Tag = req.json()?;
    let name = function(ctl, arn)?;
    let new = input.tags.unwrap_or_default();
    ctl.mutate(&name, |record| {
        let mut tags = record.tags.clone();
        tags.extend(new);
        if tags.len() > MAX_TAGS {
            return Err(LambdaError::InvalidParameterValue(
                "Number of tags exceeds resource tag limit.".into(),
            ));
        }
        record.tags = tags;
        Ok(())
    })?;
    Ok(ApiResponse::empty(204))
}

pub fn untag(ctl: &Control, arn: &str, req: &ApiRequest) -> Result<ApiResponse, LambdaError> {
    let name = function(ctl, arn)?;
    let keys: Vec<String> = req
        .query
        .iter()
        .filter(|(k, _)| k == "tagKeys")
        .map(|(_, v)| v.clone())
        .collect();
    ctl.mutate(&name, |record| {
        for k in &keys {
            record.tags.remove(k);
        }
        Ok(())
    })?;
    Ok(ApiResponse::empty(204))
}
