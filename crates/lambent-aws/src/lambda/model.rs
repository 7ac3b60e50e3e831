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
    pub variables: Variables,
}

/// Environment variables in the order the client sent them: AWS measures its 4 KB limit on
/// that text, and a later duplicate key replaces an earlier one as in any JSON map.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Variables(Vec<(String, String)>);

impl Variables {
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(|(k, _)| k.as_str())
    }

    pub fn contains_key(&self, key: &str) -> bool {
        self.0.iter().any(|(k, _)| k == key)
    }

    pub fn insert(&mut self, key: String, value: String) {
        match self.0.iter_mut().find(|(k, _)| *k == key) {
            Some(slot) => slot.1 = value,
            None => self.0.push((key, value)),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl Serialize for Variables {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for Variables {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = Variables;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a map of strings")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut m: A,
            ) -> Result<Variables, A::Error> {
                let mut vars = Variables::default();
                while let Some((k, v)) = m.next_entry::<String, String>()? {
                    vars.insert(k, v);
                }
                Ok(vars)
            }
        }
        d.deserialize_map(Visitor)
    }
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
    /// Present only with the JSON log format.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub application_log_level: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub system_log_level: Option<String>,
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

/// A function's asynchronous invocation settings for one qualifier
/// (`PutFunctionEventInvokeConfig`), as stored; the API adds `FunctionArn` on the way out.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct EventInvokeConfig {
    /// 0 to 2; `None`: AWS's default, 2.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub maximum_retry_attempts: Option<u32>,
    /// 60 to 21,600; `None`: AWS's default, 21,600 (six hours).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub maximum_event_age_in_seconds: Option<u32>,
    #[serde(default)]
    pub destination_config: DestinationConfig,
    /// Epoch seconds, with a fraction, as the API returns it.
    #[serde(default)]
    pub last_modified: f64,
}

/// Where an asynchronous invocation's record goes when it succeeds or finally fails.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DestinationConfig {
    #[serde(default)]
    pub on_success: OnDestination,
    #[serde(default)]
    pub on_failure: OnDestination,
}

/// One destination: an ARN, or nothing (AWS returns `{}`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct OnDestination {
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub destination: Option<String>,
}

impl EventInvokeConfig {
    /// AWS's defaults when a qualifier has no configuration.
    pub const DEFAULT_RETRIES: u32 = 2;
    pub const DEFAULT_MAX_AGE_SECS: u32 = 21_600;

    pub fn retries(&self) -> u32 {
        self.maximum_retry_attempts.unwrap_or(Self::DEFAULT_RETRIES)
    }

    pub fn max_age_secs(&self) -> u32 {
        self.maximum_event_age_in_seconds
            .unwrap_or(Self::DEFAULT_MAX_AGE_SECS)
    }
}

/// `LastModified` as Lambda writes it: `2019-08-14T22:26:11.234+0000`.
pub fn timestamp(unix_millis: i64) -> String {
    iso8601_millis(unix_millis, "+0000")
}

/// ISO 8601 with milliseconds in UTC, ending in `zone` (`Z` or `+0000`, as each API writes it).
pub fn iso8601_millis(unix_millis: i64, zone: &str) -> String {
    let secs = unix_millis.div_euclid(1000);
    let millis = unix_millis.rem_euclid(1000);
    let t =
        time::OffsetDateTime::from_unix_timestamp(secs).unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}{zone}",
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
    fn variables_keep_the_clients_order() {
        let env: Environment =
            serde_json::from_str(r#"{"Variables":{"B":"1","A":"2","B":"3"}}"#).unwrap();
        assert_eq!(
            serde_json::to_string(&env).unwrap(),
            r#"{"Variables":{"B":"3","A":"2"}}"#
        );
    }

    #[test]
    fn timestamps_use_lambdas_offset_form() {
        assert_eq!(timestamp(1_565_821_571_234), "2019-08-14T22:26:11.234+0000");
        assert_eq!(timestamp(0), "1970-01-01T00:00:00.000+0000");
    }
}
