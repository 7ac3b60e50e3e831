//! Put/GetFunctionRecursionConfig: whether recursive loop detection (`crate::lineage`) stops
//! the function (`Terminate`, the default) or lets it loop (`Allow`).

use super::{ApiRequest, ApiResponse, Control};
use lambent_aws::lambda::LambdaError;
use serde::Deserialize;
use serde_json::json;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Put {
    recursive_loop: Option<String>,
}

fn body(allowed: bool) -> serde_json::Value {
    json!({"RecursiveLoop": if allowed { "Allow" } else { "Terminate" }})
}

pub fn put(ctl: &Control, f: &str, req: &ApiRequest) -> Result<ApiResponse, LambdaError> {
    let input: Put = req.json()?;
    let allowed = match input.recursive_loop.as_deref() {
        Some("Allow") => true,
        Some("Terminate") => false,
        Some(other) => {
            return Err(LambdaError::Validation(format!(
                "1 validation error detected: Value '{other}' at 'recursiveLoop' failed to satisfy constraint: Member must satisfy enum value set: [Terminate, Allow]"
            )))
        }
        None => {
            return Err(LambdaError::Validation(
                "1 validation error detected: Value null at 'recursiveLoop' failed to satisfy constraint: Member must not be null".into(),
            ))
        }
    };
    let name = ctl.unqualified_name(f)?;
    if ctl.get(&name).is_none() {
        return Err(LambdaError::function_not_found(ctl.arn(&name, None)));
    }
    ctl.mutate(&name, |record| {
        record.recursion_allowed = allowed;
        Ok(())
    })?;
    Ok(ApiResponse::json(200, &body(allowed)))
}

pub fn get(ctl: &Control, f: &str) -> Result<ApiResponse, LambdaError> {
    let name = ctl.unqualified_name(f)?;
    let record = ctl
        .get(&name)
        .ok_or_else(|| LambdaError::function_not_found(ctl.arn(&name, None)))?;
    Ok(ApiResponse::json(200, &body(record.recursion_allowed)))
}
