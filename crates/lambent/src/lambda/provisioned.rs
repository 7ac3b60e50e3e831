//! Put/Get/Delete/ListProvisionedConcurrencyConfigs: environments kept initialized for a
//! published version or an alias.

use super::{now_millis, ApiRequest, ApiResponse, Control};
use lambent_aws::lambda::model::{self, FunctionConfiguration};
use lambent_aws::lambda::LambdaError;
use lambent_store::{FunctionRecord, ProvisionedConfig};
use serde::Deserialize;
use serde_json::{json, Value};

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Put {
    provisioned_concurrent_executions: Option<i64>,
}

fn unpublished() -> LambdaError {
    LambdaError::InvalidParameterValue(
        "Provisioned Concurrency Configs cannot be applied to unpublished function versions."
            .into(),
    )
}

/// The function name and the required qualifier of a provisioned-concurrency call.
fn target(ctl: &Control, f: &str, req: &ApiRequest) -> Result<(String, String), LambdaError> {
    let (name, qualifier) = ctl.resolve_name(f, req.query("Qualifier"))?;
    let qualifier = qualifier.ok_or_else(|| {
        LambdaError::Validation(
            "1 validation error detected: Value null at 'qualifier' failed to satisfy constraint: Member must not be null".into(),
        )
    })?;
    Ok((name, qualifier))
}

/// The published version a qualifier names, with AWS's errors.
fn version_of(
    ctl: &Control,
    record: &FunctionRecord,
    name: &str,
    qualifier: &str,
) -> Result<FunctionConfiguration, LambdaError> {
    let version = if qualifier == "$LATEST" {
        return Err(unpublished());
    } else if qualifier.bytes().all(|b| b.is_ascii_digit()) {
        qualifier.to_string()
    } else {
        let alias = record.aliases.get(qualifier).ok_or_else(|| {
            LambdaError::ResourceNotFound(format!(
                "Cannot find alias arn: {}",
                ctl.arn(name, Some(qualifier))
            ))
        })?;
        alias.function_version.clone()
    };
    if version == "$LATEST" {
        return Err(unpublished());
    }
    record
        .version(&version)
        .cloned()
        .ok_or_else(|| LambdaError::function_not_found(ctl.arn(name, Some(qualifier))))
}

fn record(
    ctl: &Control,
    name: &str,
    qualifier: &str,
) -> Result<std::sync::Arc<FunctionRecord>, LambdaError> {
    // A missing function reads as a missing alias, as on AWS.
    ctl.get(name).ok_or_else(|| {
        LambdaError::ResourceNotFound(format!(
            "Cannot find alias arn: {}",
            ctl.arn(name, Some(qualifier))
        ))
    })
}

/// The configuration's wire shape, with how many environments are ready now.
fn shape(ctl: &Control, name: &str, version: &str, cfg: &ProvisionedConfig) -> Value {
    let available = ctl.scheduler().provisioned_ready(name, version);
    json!({
        "RequestedProvisionedConcurrentExecutions": cfg.requested,
        "AvailableProvisionedConcurrentExecutions": available,
        "AllocatedProvisionedConcurrentExecutions": available,
        "Status": if available >= cfg.requested { "READY" } else { "IN_PROGRESS" },
        "LastModified": cfg.last_modified,
    })
}

pub fn put(ctl: &Control, f: &str, req: &ApiRequest) -> Result<ApiResponse, LambdaError> {
    let input: Put = req.json()?;
    let (name, qualifier) = target(ctl, f, req)?;
    let n = input.provisioned_concurrent_executions.unwrap_or(0);
    if n < 1 {
        return Err(LambdaError::Validation(format!(
            "1 validation error detected: Value '{n}' at 'provisionedConcurrentExecutions' failed to satisfy constraint: Member must have value greater than or equal to 1"
        )));
    }
    let cfg = ProvisionedConfig {
        requested: n as u32,
        last_modified: model::timestamp(now_millis()),
    };
    let version = ctl.mutate(&name, |record| {
        let version = version_of(ctl, record, &name, &qualifier)?;
        // One configuration per version, whether named by number or by alias.
        let taken = record.provisioned.keys().any(|q| {
            q != &qualifier
                && version_of(ctl, record, &name, q)
                    .is_ok_and(|v| v.version == version.version)
        });
        if taken {
            return Err(LambdaError::ResourceConflict(
                "Alias can't be used for Provisioned Concurrency configuration on an already Provisioned version".into(),
            ));
        }
        record.provisioned.insert(qualifier.clone(), cfg.clone());
        Ok(version)
    })?;
    ctl.scheduler()
        .provision(&version, ctl.code_dir(&version.code_sha256), cfg.requested);
    let mut body = shape(ctl, &name, &version.version, &cfg);
    body["Status"] = json!("IN_PROGRESS");
    Ok(ApiResponse::json(202, &body))
}

pub fn get(ctl: &Control, f: &str, req: &ApiRequest) -> Result<ApiResponse, LambdaError> {
    if req.query("List") == Some("ALL") {
        return list(ctl, f);
    }
    let (name, qualifier) = target(ctl, f, req)?;
    let record = record(ctl, &name, &qualifier)?;
    let version = version_of(ctl, &record, &name, &qualifier)?;
    let cfg = record
        .provisioned
        .get(&qualifier)
        .ok_or(LambdaError::ProvisionedConcurrencyConfigNotFound)?;
    Ok(ApiResponse::json(
        200,
        &shape(ctl, &name, &version.version, cfg),
    ))
}

fn list(ctl: &Control, f: &str) -> Result<ApiResponse, LambdaError> {
    let name = ctl.unqualified_name(f)?;
    let record = ctl
        .get(&name)
        .ok_or_else(|| LambdaError::function_not_found(ctl.arn(&name, None)))?;
    let configs: Vec<Value> = record
        .provisioned
        .iter()
        .filter_map(|(q, cfg)| {
            let version = version_of(ctl, &record, &name, q).ok()?;
            let mut v = shape(ctl, &name, &version.version, cfg);
            v["FunctionArn"] = json!(ctl.arn(&name, Some(q)));
            Some(v)
        })
        .collect();
    Ok(ApiResponse::json(
        200,
        &json!({ "ProvisionedConcurrencyConfigs": configs }),
    ))
}

pub fn delete(ctl: &Control, f: &str, req: &ApiRequest) -> Result<ApiResponse, LambdaError> {
    let (name, qualifier) = target(ctl, f, req)?;
    record(ctl, &name, &qualifier)?;
    let version = ctl.mutate(&name, |record| {
        let version = version_of(ctl, record, &name, &qualifier)?;
        record.provisioned.remove(&qualifier);
        Ok(version)
    })?;
    ctl.scheduler().unprovision(&name, &version.version);
    Ok(ApiResponse::empty(204))
}

impl Control {
    /// Starts the provisioned environments stored configurations ask for (at start-up).
    pub(super) fn restore_provisioned(&self) {
        for record in self.all() {
            let name = &record.latest.function_name;
            for (q, cfg) in &record.provisioned {
                if let Ok(version) = version_of(self, &record, name, q) {
                    self.scheduler().provision(
                        &version,
                        self.code_dir(&version.code_sha256),
                        cfg.requested,
                    );
                }
            }
        }
    }
}
