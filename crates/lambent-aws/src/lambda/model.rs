//! Lambda's JSON shapes, field for field as the 2015-03-31 API returns them.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The configuration of one function version, as Create/Get/Update/PublishVersion return it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct FunctionConfiguration {
    pub function_name: String,
    pub function_arn: String,
    pub runtime: String,
    pub role: String,
    pub handler: String,
    pub code_size: u64,
    pub code_sha256: String,
    pub description: String,
    pub timeout: u32,
    pub memory_size: u32,
    pub last_modified: String,
    pub version: String,
    pub environment: Environment,
    pub tracing_config: TracingConfig,
    pub revision_id: String,
    pub state: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub state_reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub state_reason_code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub last_update_status: Option<String>,
    pub package_type: String,
    pub architectures: Vec<String>,
    pub ephemeral_storage: EphemeralStorage,
    pub snap_start: SnapStart,
    pub logging_config: LoggingConfig,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub dead_letter_config: Option<DeadLetterConfig>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Environment {
    #[serde(default)]
    pub variables: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct TracingConfig {
    pub mode: String,
}

impl Default for TracingConfig {
    fn default() -> Self {
        TracingConfig {
            mode: "PassThrough".into(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct EphemeralStorage {
    pub size: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct SnapStart {
    pub apply_on: String,
    pub optimization_status: String,
}

impl Default for SnapStart {
    fn default() -> Self {
        SnapStart {
            apply_on: "None".into(),
            optimization_status: "Off".into(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct LoggingConfig {
    pub log_format: String,
    pub log_group: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DeadLetterConfig {
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub target_arn: Option<String>,
}

/// An alias: a name pointing at one version, optionally splitting traffic with a second.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AliasConfiguration {
    pub alias_arn: String,
    pub name: String,
    pub function_version: String,
    pub description: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub routing_config: Option<AliasRoutingConfiguration>,
    pub revision_id: String,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AliasRoutingConfiguration {
    #[serde(default)]
    pub additional_version_weights: BTreeMap<String, f64>,
}

/// `LastModified` as Lambda writes it: `2019-08-14T22:26:11.234+0000`.
pub fn timestamp(unix_millis: i64) -> String {
    let secs = unix_millis.div_euclid(1000);
    let millis = unix_millis.rem_euclid(1000);
    let t =
        time::OffsetDateTime::from_unix_timestamp(secs).unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}+0000",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        millis
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_use_lambdas_offset_form() {
        assert_eq!(timestamp(1_565_821_571_234), "2019-08-14T22:26:11.234+0000");
        assert_eq!(timestamp(0), "1970-01-01T00:00:00.000+0000");
    }
}
