//! Create/Get/Update/Delete/ListAliases, with weighted routing between two versions.

use super::functions::paginate;
use super::{revision_id, ApiRequest, ApiResponse, Control};
use lambent_aws::lambda::model::{AliasConfiguration, AliasRoutingConfiguration};
use lambent_aws::lambda::validate::{is_alias_name, Violations};
use lambent_aws::lambda::LambdaError;
use lambent_store::FunctionRecord;
use serde::Deserialize;
use serde_json::json;

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct AliasInput {
    name: Option<String>,
    function_version: Option<String>,
    description: Option<String>,
    routing_config: Option<AliasRoutingConfiguration>,
    revision_id: Option<String>,
}

fn check_name(name: &str) -> Result<(), LambdaError> {
    if !is_alias_name(name) {
        let mut v = Violations::default();
        v.push(
            name,
            "name",
            "Member must satisfy regular expression pattern: (?!^[0-9]+$)([a-zA-Z0-9-_]+)",
        );
        v.into_result()?;
    }
    Ok(())
}

/// Checks the target version and the routing weights against the function's versions.
fn check_target(
    ctl: &Control,
    record: &FunctionRecord,
    version: &str,
    routing: Option<&AliasRoutingConfiguration>,
) -> Result<(), LambdaError> {
    let name = &record.latest.function_name;
    if record.version(version).is_none() {
        return Err(LambdaError::function_not_found(
            ctl.arn(name, Some(version)),
        ));
    }
    let Some(routing) = routing else {
        return Ok(());
    };
    let weights = &routing.additional_version_weights;
    if weights.len() > 1 {
        return Err(LambdaError::InvalidParameterValue(
            "Number of items in AdditionalVersionWeights cannot be greater than 1".into(),
        ));
    }
    for (v, w) in weights {
        if !(0.0..=1.0).contains(w) {
            return Err(LambdaError::Validation(format!(
                "1 validation error detected: Value '{{{v}={w:?}}}' at 'routingConfig.additionalVersionWeights' failed to satisfy constraint: Map value must satisfy constraint: [Member must have value less than or equal to 1.0, Member must have value greater than or equal to 0.0, Member must not be null]"
            )));
        }
        if version == "$LATEST" {
            return Err(LambdaError::InvalidParameterValue(
                "$LATEST is not supported for an alias pointing to more than 1 version".into(),
            ));
        }
        if v == version {
            return Err(LambdaError::InvalidParameterValue(format!(
                "Invalid function version {v}. Function version {v} is already included in routing configuration."
            )));
        }
        if v.parse::<u64>()
            .ok()
            .and_then(|n| record.versions.get(&n))
            .is_none()
        {
            return Err(LambdaError::InvalidParameterValue(format!(
                "Function version {v} does not exist."
            )));
        }
    }
    Ok(())
}

fn routing_or_none(r: Option<AliasRoutingConfiguration>) -> Option<AliasRoutingConfiguration> {
    r.filter(|r| !r.additional_version_weights.is_empty())
}

pub fn create(ctl: &Control, f: &str, req: &ApiRequest) -> Result<ApiResponse, LambdaError> {
    let input: AliasInput = req.json()?;
    let name = ctl.unqualified_name(f)?;
    let alias = input.name.clone().unwrap_or_default();
    check_name(&alias)?;
    let version = input.function_version.clone().unwrap_or_default();
    if ctl.get(&name).is_none() {
        return Err(LambdaError::function_not_found(
            ctl.arn(&name, Some(&version)),
        ));
    }
    let config = ctl.mutate(&name, |record| {
        check_target(ctl, record, &version, input.routing_config.as_ref())?;
        let arn = ctl.arn(&name, Some(&alias));
        if record.aliases.contains_key(&alias) {
            return Err(LambdaError::ResourceConflict(format!(
                "Alias already exists: {arn}"
            )));
        }
        let config = AliasConfiguration {
            alias_arn: arn,
            name: alias.clone(),
            function_version: version.clone(),
            description: input.description.clone().unwrap_or_default(),
            routing_config: routing_or_none(input.routing_config.clone()),
            revision_id: revision_id(),
        };
        record.aliases.insert(alias.clone(), config.clone());
        Ok(config)
    })?;
    Ok(ApiResponse::json(201, &config))
}

fn alias_not_found(ctl: &Control, name: &str, alias: &str) -> LambdaError {
    LambdaError::ResourceNotFound(format!(
        "Cannot find alias arn: {}",
        ctl.arn(name, Some(alias))
    ))
}

pub fn get(ctl: &Control, f: &str, alias: &str) -> Result<ApiResponse, LambdaError> {
    let name = ctl.unqualified_name(f)?;
    let record = ctl
        .get(&name)
        .ok_or_else(|| alias_not_found(ctl, &name, alias))?;
    let config = record
        .aliases
        .get(alias)
        .ok_or_else(|| alias_not_found(ctl, &name, alias))?;
    Ok(ApiResponse::json(200, config))
}

pub fn list(ctl: &Control, f: &str, req: &ApiRequest) -> Result<ApiResponse, LambdaError> {
    let name = ctl.unqualified_name(f)?;
    let record = ctl
        .get(&name)
        .ok_or_else(|| LambdaError::function_not_found(ctl.arn(&name, None)))?;
    let filter = req.query("FunctionVersion");
    let all: Vec<AliasConfiguration> = record
        .aliases
        .values()
        .filter(|a| filter.is_none_or(|v| a.function_version == v))
        .cloned()
        .collect();
    let (aliases, next) = paginate(&all, req, 50)?;
    let mut body = json!({ "Aliases": aliases });
    if let Some(n) = next {
        body["NextMarker"] = json!(n);
    }
    Ok(ApiResponse::json(200, &body))
}

pub fn update(
    ctl: &Control,
    f: &str,
    alias: &str,
    req: &ApiRequest,
) -> Result<ApiResponse, LambdaError> {
    let input: AliasInput = req.json()?;
    let name = ctl.unqualified_name(f)?;
    let config = ctl.mutate(&name, |record| {
        let current = record.aliases.get(alias).cloned().ok_or_else(|| {
            LambdaError::ResourceNotFound(format!(
                "Alias not found: {}",
                ctl.arn(&name, Some(alias))
            ))
        })?;
        if let Some(expected) = &input.revision_id {
            if expected != &current.revision_id {
                return Err(LambdaError::revision_mismatch());
            }
        }
        let version = input
            .function_version
            .clone()
            .unwrap_or(current.function_version.clone());
        let routing = match &input.routing_config {
            Some(r) => routing_or_none(Some(r.clone())),
            None => current.routing_config.clone(),
        };
        check_target(ctl, record, &version, routing.as_ref())?;
        let config = AliasConfiguration {
            function_version: version,
            description: input
                .description
                .clone()
                .unwrap_or(current.description.clone()),
            routing_config: routing,
            revision_id: revision_id(),
            ..current
        };
        record.aliases.insert(alias.to_string(), config.clone());
        Ok(config)
    })?;
    Ok(ApiResponse::json(200, &config))
}

pub fn delete(ctl: &Control, f: &str, alias: &str) -> Result<ApiResponse, LambdaError> {
    let name = ctl.unqualified_name(f)?;
    // AWS answers 204 for an alias that does not exist.
    ctl.mutate(&name, |record| {
        record.aliases.remove(alias);
        // Its asynchronous settings go with it: a new alias of the same name starts clean.
        record.event_invoke.remove(alias);
        record.policies.remove(alias);
        Ok(())
    })?;
    Ok(ApiResponse::empty(204))
}
