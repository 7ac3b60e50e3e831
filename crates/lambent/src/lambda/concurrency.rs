//! Put/Get/DeleteFunctionConcurrency and GetAccountSettings.

use super::{ApiRequest, ApiResponse, Control};
use crate::config::MIN_UNRESERVED_CONCURRENCY;
use lambent_aws::lambda::LambdaError;
use serde::Deserialize;
use serde_json::json;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Put {
    reserved_concurrent_executions: Option<i64>,
}

/// The smallest unreserved pool the account must keep: AWS keeps 10; a tiny
/// `--max-concurrency` keeps half of itself.
fn min_unreserved(max: u32) -> u32 {
    MIN_UNRESERVED_CONCURRENCY.min(max / 2)
}

pub fn put(ctl: &Control, f: &str, req: &ApiRequest) -> Result<ApiResponse, LambdaError> {
    let input: Put = req.json()?;
    let name = ctl.unqualified_name(f)?;
    if ctl.get(&name).is_none() {
        return Err(LambdaError::function_not_found(
            ctl.arn(&name, Some("$LATEST")),
        ));
    }
    let Some(n) = input.reserved_concurrent_executions else {
        return Err(LambdaError::Validation(
            "1 validation error detected: Value null at 'reservedConcurrentExecutions' failed to satisfy constraint: Member must not be null".into(),
        ));
    };
    if n < 0 {
        return Err(LambdaError::Validation(format!(
            "1 validation error detected: Value '{n}' at 'reservedConcurrentExecutions' failed to satisfy constraint: Member must have value greater than or equal to 0"
        )));
    }
    let max = ctl.scheduler().max_concurrency();
    let floor = min_unreserved(max);
    let others: u64 = ctl
        .all()
        .iter()
        .filter(|r| r.latest.function_name != name)
        .filter_map(|r| r.reserved_concurrency)
        .map(u64::from)
        .sum();
    if others + n as u64 > u64::from(max - floor) {
        return Err(LambdaError::InvalidParameterValue(format!(
            "Specified ReservedConcurrentExecutions for function decreases account's UnreservedConcurrentExecution below its minimum value of [{floor}]."
        )));
    }
    let n = n as u32;
    ctl.mutate(&name, |record| {
        record.reserved_concurrency = Some(n);
        Ok(())
    })?;
    ctl.scheduler().set_reserved(&name, Some(n));
    Ok(ApiResponse::json(
        200,
        &json!({"ReservedConcurrentExecutions": n}),
    ))
}

pub fn get(ctl: &Control, f: &str) -> Result<ApiResponse, LambdaError> {
    let name = ctl.unqualified_name(f)?;
    let record = ctl
        .get(&name)
        .ok_or_else(|| LambdaError::function_not_found(ctl.arn(&name, None)))?;
    Ok(match record.reserved_concurrency {
        Some(n) => ApiResponse::json(200, &json!({"ReservedConcurrentExecutions": n})),
        None => ApiResponse::json(200, &json!({})),
    })
}

pub fn delete(ctl: &Control, f: &str) -> Result<ApiResponse, LambdaError> {
    let name = ctl.unqualified_name(f)?;
    ctl.mutate(&name, |record| {
        record.reserved_concurrency = None;
        Ok(())
    })?;
    ctl.scheduler().set_reserved(&name, None);
    Ok(ApiResponse::empty(204))
}

pub fn account_settings(ctl: &Control) -> Result<ApiResponse, LambdaError> {
    let all = ctl.all();
    let max = ctl.scheduler().max_concurrency();
    let reserved: u32 = all.iter().filter_map(|r| r.reserved_concurrency).sum();
    let code_size: u64 = all
        .iter()
        .map(|r| r.latest.code_size + r.versions.values().map(|v| v.code_size).sum::<u64>())
        .sum();
    Ok(ApiResponse::json(
        200,
        &json!({
            "AccountLimit": {
                "TotalCodeSize": 80_530_636_800u64,
                "CodeSizeUnzipped": 262_144_000u64,
                "CodeSizeZipped": 52_428_800u64,
                "ConcurrentExecutions": max,
                "UnreservedConcurrentExecutions": max.saturating_sub(reserved),
            },
            "AccountUsage": {
                "TotalCodeSize": code_size,
                "FunctionCount": all.len(),
            }
        }),
    ))
}
