//! CreateFunction, GetFunction(Configuration), ListFunctions, UpdateFunctionCode,
//! UpdateFunctionConfiguration and DeleteFunction.

use super::{now_millis, revision_id, ApiRequest, ApiResponse, Control};
use base64::Engine;
use lambent_aws::arn::{is_role_arn, FunctionRef, FunctionRefError};
use lambent_aws::lambda::model::{
    self, DeadLetterConfig, Environment, EphemeralStorage, FunctionConfiguration, LoggingConfig,
    SnapStart, TracingConfig,
};
use lambent_aws::lambda::validate::{self, Violations};
use lambent_aws::lambda::LambdaError;
use lambent_store::code::UnpackLimits;
use lambent_store::{FunctionRecord, StoreError, StoredCode};
use serde::Deserialize;
use serde_json::json;
use std::collections::BTreeMap;

/// Largest zip accepted inline (`ZipFile`).
pub const MAX_ZIPPED: usize = 52_428_800;

/// CreateFunction's body.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CreateFunction {
    pub function_name: Option<String>,
    pub runtime: Option<String>,
    pub role: Option<String>,
    pub handler: Option<String>,
    pub code: Option<CodeInput>,
    pub description: Option<String>,
    pub timeout: Option<i64>,
    pub memory_size: Option<i64>,
    pub publish: Option<bool>,
    pub package_type: Option<String>,
    pub environment: Option<Environment>,
    pub architectures: Option<Vec<String>>,
    pub ephemeral_storage: Option<EphemeralStorageInput>,
    pub tags: Option<BTreeMap<String, String>>,
    pub dead_letter_config: Option<DeadLetterConfig>,
    pub tracing_config: Option<TracingConfig>,
    pub logging_config: Option<LoggingConfigInput>,
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CodeInput {
    pub zip_file: Option<String>,
    #[serde(rename = "S3Bucket")]
    pub s3_bucket: Option<String>,
    #[serde(rename = "S3Key")]
    pub s3_key: Option<String>,
    pub image_uri: Option<String>,
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct EphemeralStorageInput {
    pub size: Option<i64>,
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct LoggingConfigInput {
    pub log_format: Option<String>,
    pub log_group: Option<String>,
    pub application_log_level: Option<String>,
    pub system_log_level: Option<String>,
}

/// Applies a `LoggingConfig` change: the log levels exist only with the JSON format, where
/// they default to INFO.
fn logging_config(
    current: Option<&LoggingConfig>,
    input: LoggingConfigInput,
    function: &str,
) -> Result<LoggingConfig, LambdaError> {
    let format = input
        .log_format
        .or_else(|| current.map(|c| c.log_format.clone()))
        .unwrap_or_else(|| "Text".into());
    if format != "Text" && format != "JSON" {
        return Err(LambdaError::Validation(format!(
            "1 validation error detected: Value '{format}' at 'loggingConfig.logFormat' failed to satisfy constraint: Member must satisfy enum value set: [JSON, Text]"
        )));
    }
    let json = format == "JSON";
    let level = |given: Option<String>, kept: Option<&String>| {
        json.then(|| {
            given
                .or_else(|| kept.cloned())
                .unwrap_or_else(|| "INFO".into())
        })
    };
    Ok(LoggingConfig {
        log_group: input
            .log_group
            .or_else(|| current.map(|c| c.log_group.clone()))
            .unwrap_or_else(|| crate::logs::group_name(function)),
        application_log_level: level(
            input.application_log_level,
            current.and_then(|c| c.application_log_level.as_ref()),
        ),
        system_log_level: level(
            input.system_log_level,
            current.and_then(|c| c.system_log_level.as_ref()),
        ),
        log_format: format,
    })
}

/// UpdateFunctionConfiguration's body.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct UpdateConfiguration {
    role: Option<String>,
    handler: Option<String>,
    description: Option<String>,
    timeout: Option<i64>,
    memory_size: Option<i64>,
    environment: Option<Environment>,
    runtime: Option<String>,
    ephemeral_storage: Option<EphemeralStorageInput>,
    dead_letter_config: Option<DeadLetterConfig>,
    tracing_config: Option<TracingConfig>,
    logging_config: Option<LoggingConfigInput>,
    revision_id: Option<String>,
}

/// UpdateFunctionCode's body.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct UpdateCode {
    zip_file: Option<String>,
    #[serde(rename = "S3Bucket")]
    s3_bucket: Option<String>,
    image_uri: Option<String>,
    publish: Option<bool>,
    dry_run: Option<bool>,
    revision_id: Option<String>,
}

/// Model constraints shared by create and update-configuration.
fn check_numbers(
    v: &mut Violations,
    timeout: Option<i64>,
    memory: Option<i64>,
    ephemeral: Option<i64>,
    description: Option<&str>,
) {
    v.range(
        memory,
        "memorySize",
        validate::MIN_MEMORY.into(),
        validate::MAX_MEMORY.into(),
    );
    v.range(timeout, "timeout", 1, validate::MAX_TIMEOUT.into());
    v.range(
        ephemeral,
        "ephemeralStorage.size",
        validate::MIN_EPHEMERAL.into(),
        validate::MAX_EPHEMERAL.into(),
    );
    if let Some(d) = description {
        if d.len() > validate::MAX_DESCRIPTION_LEN {
            v.push(
                d,
                "description",
                "Member must have length less than or equal to 256",
            );
        }
    }
}

fn check_role(v: &mut Violations, role: &str) {
    if !is_role_arn(role) {
        v.push(
            role,
            "role",
            "Member must satisfy regular expression pattern: arn:(aws[a-zA-Z-]*)?:iam::\\d{12}:role/?[a-zA-Z_0-9+=,.@\\-_/]+",
        );
    }
}

fn decode_zip(zip_file: &str) -> Result<Vec<u8>, LambdaError> {
    let zip = base64::engine::general_purpose::STANDARD
        .decode(zip_file.trim())
        .map_err(|_| {
            LambdaError::InvalidParameterValue(
                "Could not unzip uploaded file. Please check your file, then try to upload again."
                    .into(),
            )
        })?;
    if zip.len() > MAX_ZIPPED {
        return Err(LambdaError::RequestEntityTooLarge(format!(
            "Zipped size must be smaller than {MAX_ZIPPED} bytes"
        )));
    }
    Ok(zip)
}

/// Validates and stores an archive off the async workers (unpacking can take a while).
async fn store_code(ctl: &Control, zip: Vec<u8>) -> Result<StoredCode, LambdaError> {
    let store = ctl.inner.store.clone();
    let stored =
        tokio::task::spawn_blocking(move || store.put_code(&zip, &UnpackLimits::default()))
            .await
            .map_err(|e| LambdaError::Service(format!("storing code failed: {e}")))?;
    stored.map_err(|e| match e {
        StoreError::Code(c) if c.is_client_error() => {
            LambdaError::InvalidParameterValue(c.message())
        }
        other => LambdaError::Service(format!("storing code failed: {other}")),
    })
}

fn code_input_zip(code: Option<&CodeInput>) -> Result<Vec<u8>, LambdaError> {
    let Some(code) = code else {
        return Err(LambdaError::Validation(
            "1 validation error detected: Value null at 'code' failed to satisfy constraint: Member must not be null".into(),
        ));
    };
    if code.image_uri.is_some() {
        return Err(LambdaError::InvalidParameterValue(
            "lambent runs Zip packages only; container images (ImageUri) are not supported.".into(),
        ));
    }
    match (&code.zip_file, &code.s3_bucket) {
        (Some(z), _) => decode_zip(z),
        (None, Some(_)) => Err(LambdaError::InvalidParameterValue(
            "Code from S3 (S3Bucket/S3Key) is not supported yet; upload the archive as ZipFile."
                .into(),
        )),
        (None, None) => Err(LambdaError::InvalidParameterValue(
            "Please provide a source for function code.".into(),
        )),
    }
}

pub async fn create(ctl: &Control, req: &ApiRequest) -> Result<ApiResponse, LambdaError> {
    let input: CreateFunction = req.json()?;
    let config = ctl.create_function(input).await?;
    Ok(ApiResponse::json(201, &config))
}

impl Control {
    /// Lambda's check of an execution role: it exists in this account and trusts Lambda.
    fn check_assumable(&self, role: &str) -> Result<(), LambdaError> {
        if self
            .inner
            .authorizer
            .service_may_assume("lambda.amazonaws.com", role)
        {
            Ok(())
        } else {
            Err(LambdaError::InvalidParameterValue(
                "The role defined for the function cannot be assumed by Lambda.".into(),
            ))
        }
    }

    /// CreateFunction as a typed command: validates, stores the code, records the function.
    pub async fn create_function(
        &self,
        input: CreateFunction,
    ) -> Result<FunctionConfiguration, LambdaError> {
        let mut v = Violations::default();
        let raw_name = input.function_name.clone().unwrap_or_default();
        if input.function_name.is_none() {
            v.push_null("functionName");
        }
        let role = input.role.clone().unwrap_or_default();
        if input.role.is_none() {
            v.push_null("role");
        } else {
            check_role(&mut v, &role);
        }
        let handler = input.handler.clone().unwrap_or_default();
        if input.handler.is_some() {
            validate::handler(&mut v, &handler);
        }
        check_numbers(
            &mut v,
            input.timeout,
            input.memory_size,
            input.ephemeral_storage.as_ref().and_then(|e| e.size),
            input.description.as_deref(),
        );
        let architectures = input
            .architectures
            .clone()
            .unwrap_or_else(|| vec!["x86_64".into()]);
        if architectures.len() > 1 {
            v.push(
                format!("[{}]", architectures.join(", ")),
                "architectures",
                "Member must have length less than or equal to 1",
            );
        } else if architectures.iter().any(|a| a != "x86_64" && a != "arm64") {
            v.push(
                format!("[{}]", architectures.join(", ")),
                "architectures",
                "Member must satisfy constraint: [Member must satisfy enum value set: [x86_64, arm64], Member must not be null]",
            );
        }
        v.into_result()?;
        if matches!(
            FunctionRef::parse(&raw_name),
            Err(FunctionRefError::NameTooLong)
        ) {
            return Err(LambdaError::InvalidParameterValue(format!(
                "1 validation error detected: Value '{raw_name}' at 'functionName' failed to satisfy constraint: Member must have length less than or equal to 64"
            )));
        }
        let (name, qualifier) = self.resolve_name(&raw_name, None)?;
        if qualifier.is_some() {
            return Err(LambdaError::InvalidParameterValue(
                "Unsupported function name: a qualifier is not allowed in CreateFunction.".into(),
            ));
        }
        if input.package_type.as_deref().is_some_and(|p| p != "Zip") {
            return Err(LambdaError::InvalidParameterValue(
                "lambent runs Zip packages only; PackageType Image is not supported.".into(),
            ));
        }
        let runtime = input.runtime.clone().ok_or_else(|| {
            LambdaError::InvalidParameterValue(
                "Runtime and Handler are mandatory parameters for functions created with Zip Package Type".into(),
            )
        })?;
        validate::runtime(&runtime)?;
        if input.handler.is_none() {
            return Err(LambdaError::InvalidParameterValue(
                "Runtime and Handler are mandatory parameters for functions created with Zip Package Type".into(),
            ));
        }
        validate::handler_path(&handler)?;
        let env = input.environment.clone().unwrap_or_default();
        validate::environment(&env.variables)?;
        self.check_assumable(&role)?;
        if self.get(&name).is_some() {
            return Err(LambdaError::ResourceConflict(format!(
                "Function already exist: {name}"
            )));
        }
        let zip = code_input_zip(input.code.as_ref())?;
        let code = store_code(self, zip).await?;

        let logging = logging_config(
            None,
            input.logging_config.clone().unwrap_or_default(),
            &name,
        )?;
        let latest = FunctionConfiguration {
            function_arn: self.arn(&name, None),
            function_name: name.clone(),
            runtime,
            role,
            handler,
            code_size: code.size,
            code_sha256: code.sha256_b64,
            description: input.description.clone().unwrap_or_default(),
            timeout: input.timeout.unwrap_or(3) as u32,
            memory_size: input.memory_size.unwrap_or(128) as u32,
            last_modified: model::timestamp(now_millis()),
            version: "$LATEST".into(),
            environment: env,
            tracing_config: input.tracing_config.clone().unwrap_or_default(),
            revision_id: revision_id(),
            state: "Active".into(),
            state_reason: None,
            state_reason_code: None,
            last_update_status: Some("Successful".into()),
            package_type: "Zip".into(),
            architectures,
            ephemeral_storage: EphemeralStorage {
                size: input
                    .ephemeral_storage
                    .as_ref()
                    .and_then(|e| e.size)
                    .unwrap_or(512) as u32,
            },
            snap_start: SnapStart::default(),
            logging_config: logging,
            dead_letter_config: input.dead_letter_config.clone(),
        };
        let mut record = FunctionRecord {
            latest: latest.clone(),
            versions: BTreeMap::new(),
            next_version: 1,
            published_revision: None,
            aliases: BTreeMap::new(),
            tags: input.tags.clone().unwrap_or_default(),
            reserved_concurrency: None,
            provisioned: BTreeMap::new(),
            event_invoke: BTreeMap::new(),
            policies: BTreeMap::new(),
            recursion_allowed: false,
        };
        let mut response = latest;
        {
            let _w = self.inner.writes.lock().unwrap_or_else(|e| e.into_inner());
            if self.get(&name).is_some() {
                return Err(LambdaError::ResourceConflict(format!(
                    "Function already exist: {name}"
                )));
            }
            if input.publish == Some(true) {
                response = super::versions::publish_into(self, &mut record, None)?;
            }
            self.publish(record)?;
        }
        Ok(response)
    }
}

pub(super) fn paginate<T: Clone>(
    items: &[T],
    req: &ApiRequest,
    default_max: usize,
) -> Result<(Vec<T>, Option<String>), LambdaError> {
    let max = match req.query("MaxItems") {
        Some(m) => match m.parse::<usize>() {
            Ok(n) if (1..=10_000).contains(&n) => n.min(default_max),
            _ => {
                return Err(LambdaError::Validation(format!(
                    "1 validation error detected: Value '{m}' at 'maxItems' failed to satisfy constraint: Member must have value less than or equal to 10000"
                )))
            }
        },
        None => default_max,
    };
    let start = match req.query("Marker") {
        Some(m) => m
            .parse::<usize>()
            .map_err(|_| LambdaError::InvalidParameterValue("Invalid pagination marker.".into()))?,
        None => 0,
    };
    let end = (start + max).min(items.len());
    let slice = items
        .get(start.min(items.len())..end)
        .unwrap_or(&[])
        .to_vec();
    let next = (end < items.len()).then(|| end.to_string());
    Ok((slice, next))
}

pub fn list(ctl: &Control, req: &ApiRequest) -> Result<ApiResponse, LambdaError> {
    let all_versions = match req.query("FunctionVersion") {
        None => false,
        Some("ALL") => true,
        Some(other) => {
            return Err(LambdaError::Validation(format!(
                "1 validation error detected: Value '{other}' at 'functionVersion' failed to satisfy constraint: Member must satisfy enum value set: [ALL]"
            )))
        }
    };
    let mut configs = Vec::new();
    for record in ctl.all() {
        let mut latest = record.latest.clone();
        if all_versions {
            // Listed beside its versions, `$LATEST` carries its qualifier in the ARN.
            latest.function_arn = ctl.arn(&latest.function_name, Some("$LATEST"));
            configs.push(latest);
            configs.extend(record.versions.values().cloned());
        } else {
            configs.push(latest);
        }
    }
    let (functions, next) = paginate(&configs, req, 50)?;
    let mut body = json!({ "Functions": functions });
    if let Some(n) = next {
        body["NextMarker"] = json!(n);
    }
    Ok(ApiResponse::json(200, &body))
}

impl Control {
    /// The configuration a qualifier names (`$LATEST`, a version number or an alias).
    pub(super) fn configuration(
        &self,
        raw: &str,
        qualifier: Option<&str>,
    ) -> Result<(std::sync::Arc<FunctionRecord>, FunctionConfiguration), LambdaError> {
        let (name, qualifier) = self.resolve_name(raw, qualifier)?;
        let record = self.get(&name).ok_or_else(|| {
            LambdaError::function_not_found(self.arn(&name, qualifier.as_deref()))
        })?;
        let config = match qualifier.as_deref() {
            None => record.latest.clone(),
            Some(q) => {
                let not_found = || LambdaError::function_not_found(self.arn(&name, Some(q)));
                let version = if q == "$LATEST" || q.bytes().all(|b| b.is_ascii_digit()) {
                    q.to_string()
                } else {
                    record
                        .aliases
                        .get(q)
                        .map(|a| a.function_version.clone())
                        .ok_or_else(not_found)?
                };
                let mut config = record.version(&version).cloned().ok_or_else(not_found)?;
                // The ARN names what was asked for: `$LATEST`, the version or the alias.
                config.function_arn = self.arn(&name, Some(q));
                config
            }
        };
        Ok((record, config))
    }
}

pub fn get(ctl: &Control, f: &str, req: &ApiRequest) -> Result<ApiResponse, LambdaError> {
    let (record, config) = ctl.configuration(f, req.query("Qualifier"))?;
    let hex = {
        let raw = base64::engine::general_purpose::STANDARD
            .decode(&config.code_sha256)
            .unwrap_or_default();
        hex::encode(raw)
    };
    let location = format!("file://{}", ctl.inner.store.code_zip(&hex).display());
    let mut body = json!({
        "Configuration": config,
        "Code": {"RepositoryType": "S3", "Location": location},
    });
    if !record.tags.is_empty() {
        body["Tags"] = json!(record.tags);
    }
    if let Some(r) = record.reserved_concurrency {
        body["Concurrency"] = json!({"ReservedConcurrentExecutions": r});
    }
    Ok(ApiResponse::json(200, &body))
}

pub fn get_configuration(
    ctl: &Control,
    f: &str,
    req: &ApiRequest,
) -> Result<ApiResponse, LambdaError> {
    let (_, config) = ctl.configuration(f, req.query("Qualifier"))?;
    Ok(ApiResponse::json(200, &config))
}

fn check_revision(expected: Option<&str>, actual: &str) -> Result<(), LambdaError> {
    match expected {
        Some(e) if e != actual => Err(LambdaError::revision_mismatch()),
        _ => Ok(()),
    }
}

pub fn update_configuration(
    ctl: &Control,
    f: &str,
    req: &ApiRequest,
) -> Result<ApiResponse, LambdaError> {
    let input: UpdateConfiguration = req.json()?;
    let name = ctl.unqualified_name(f)?;
    let mut v = Violations::default();
    if let Some(role) = &input.role {
        check_role(&mut v, role);
    }
    if let Some(h) = &input.handler {
        validate::handler(&mut v, h);
    }
    check_numbers(
        &mut v,
        input.timeout,
        input.memory_size,
        input.ephemeral_storage.as_ref().and_then(|e| e.size),
        input.description.as_deref(),
    );
    v.into_result()?;
    if let Some(r) = &input.runtime {
        validate::runtime(r)?;
    }
    if let Some(h) = &input.handler {
        validate::handler_path(h)?;
    }
    if let Some(env) = &input.environment {
        validate::environment(&env.variables)?;
    }
    let config = ctl.mutate(&name, |record| {
        check_revision(input.revision_id.as_deref(), &record.latest.revision_id)?;
        if let Some(role) = &input.role {
            ctl.check_assumable(role)?;
        }
        let c = &mut record.latest;
        if let Some(x) = input.role {
            c.role = x;
        }
        if let Some(x) = input.handler {
            c.handler = x;
        }
        if let Some(x) = input.description {
            c.description = x;
        }
        if let Some(x) = input.timeout {
            c.timeout = x as u32;
        }
        if let Some(x) = input.memory_size {
            c.memory_size = x as u32;
        }
        if let Some(x) = input.environment {
            c.environment = x;
        }
        if let Some(x) = input.runtime {
            c.runtime = x;
        }
        if let Some(x) = input.ephemeral_storage.and_then(|e| e.size) {
            c.ephemeral_storage.size = x as u32;
        }
        if let Some(x) = input.dead_letter_config {
            c.dead_letter_config = Some(x);
        }
        if let Some(x) = input.tracing_config {
            c.tracing_config = x;
        }
        if let Some(x) = input.logging_config {
            c.logging_config = logging_config(Some(&c.logging_config), x, &c.function_name)?;
        }
        c.last_modified = model::timestamp(now_millis());
        c.revision_id = revision_id();
        Ok(c.clone())
    })?;
    ctl.scheduler().retire(&name, Some("$LATEST"));
    Ok(ApiResponse::json(200, &config))
}

pub async fn update_code(
    ctl: &Control,
    f: &str,
    req: &ApiRequest,
) -> Result<ApiResponse, LambdaError> {
    let input: UpdateCode = req.json()?;
    let name = ctl.unqualified_name(f)?;
    let current = ctl
        .get(&name)
        .ok_or_else(|| LambdaError::function_not_found(ctl.arn(&name, None)))?;
    check_revision(input.revision_id.as_deref(), &current.latest.revision_id)?;
    if input.image_uri.is_some() {
        return Err(LambdaError::InvalidParameterValue(
            "Please don't provide ImageUri when updating a function with packageType Zip.".into(),
        ));
    }
    let zip = code_input_zip(Some(&CodeInput {
        zip_file: input.zip_file.clone(),
        s3_bucket: input.s3_bucket.clone(),
        ..CodeInput::default()
    }))?;
    let code = store_code(ctl, zip).await?;
    if input.dry_run == Some(true) {
        let mut c = current.latest.clone();
        c.code_sha256 = code.sha256_b64;
        c.code_size = code.size;
        return Ok(ApiResponse::json(200, &c));
    }
    let config = ctl.mutate(&name, |record| {
        check_revision(input.revision_id.as_deref(), &record.latest.revision_id)?;
        let c = &mut record.latest;
        c.code_sha256 = code.sha256_b64.clone();
        c.code_size = code.size;
        c.last_modified = model::timestamp(now_millis());
        c.revision_id = revision_id();
        if input.publish == Some(true) {
            super::versions::publish_into(ctl, record, None)
        } else {
            Ok(record.latest.clone())
        }
    })?;
    ctl.scheduler().retire(&name, Some("$LATEST"));
    Ok(ApiResponse::json(200, &config))
}

pub fn delete(ctl: &Control, f: &str, req: &ApiRequest) -> Result<ApiResponse, LambdaError> {
    let (name, qualifier) = ctl.resolve_name(f, req.query("Qualifier"))?;
    match qualifier.as_deref() {
        None => {
            let _w = ctl.inner.writes.lock().unwrap_or_else(|e| e.into_inner());
            if ctl.get(&name).is_none() {
                return Err(LambdaError::function_not_found(ctl.arn(&name, None)));
            }
            ctl.inner
                .store
                .delete_function(&name)
                .map_err(|e| LambdaError::Service(format!("deleting the function failed: {e}")))?;
            ctl.inner
                .functions
                .write()
                .unwrap_or_else(|e| e.into_inner())
                .remove(&name);
            ctl.scheduler().set_reserved(&name, None);
            ctl.scheduler().unprovision_function(&name);
        }
        Some("$LATEST") => {
            return Err(LambdaError::InvalidParameterValue(
                "$LATEST version cannot be deleted without deleting the function.".into(),
            ))
        }
        Some(q) => {
            let n: u64 = q.parse().map_err(|_| {
                LambdaError::InvalidParameterValue(
                    "Deletion of aliases is not supported with DeleteFunction; use DeleteAlias."
                        .into(),
                )
            })?;
            // AWS answers 204 for a version that does not exist.
            ctl.mutate(&name, |record| {
                if !record.versions.contains_key(&n) {
                    return Ok(());
                }
                if let Some(alias) = record.aliases.values().find(|a| a.function_version == q) {
                    return Err(LambdaError::ResourceConflict(format!(
                        "Unable to delete version because the following aliases reference it: [{}]",
                        alias.name
                    )));
                }
                record.versions.remove(&n);
                record.provisioned.remove(q);
                record.event_invoke.remove(q);
                record.policies.remove(q);
                Ok(())
            })?;
            ctl.scheduler().unprovision(&name, q);
        }
    }
    ctl.scheduler().retire(&name, qualifier.as_deref());
    Ok(ApiResponse::empty(204))
}
