//! The Lambda control plane: functions, versions, aliases, concurrency and tags, behind
//! Lambda's REST API (2015-03-31), plus the Invoke front-end.
//!
//! State has one owner: the in-memory table of [`FunctionEntry`] snapshots, which the hot
//! path reads without touching SQLite. Every mutation is serialised by one mutex, written to
//! the store first, and only then published to the table, so what a client was told exists
//! survives a restart.

mod aliases;
mod concurrency;
mod event_invoke;
mod functions;
mod invoke;
mod provisioned;
mod recursion;
mod request;
mod routes;
mod tags;
mod versions;

pub use functions::{CodeInput, CreateFunction};
pub use invoke::MAX_SYNC_PAYLOAD;
pub use request::{ApiRequest, ApiResponse};
pub use routes::handle;

use crate::invocation::Resolved;
use crate::scheduler::Scheduler;
use lambent_aws::arn::{FunctionArn, FunctionRef, FunctionRefError};
use lambent_aws::lambda::LambdaError;
use lambent_store::{FunctionRecord, Store};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, RwLock};

/// Cheap-clone handle to the control plane.
#[derive(Clone)]
pub struct Control {
    inner: Arc<Inner>,
}

struct Inner {
    store: Arc<Store>,
    /// Snapshots by function name. Readers clone an `Arc` and let go of the lock at once.
    functions: RwLock<BTreeMap<String, Arc<FunctionRecord>>>,
    /// Serialises mutations: read, change, store, publish.
    writes: Mutex<()>,
    scheduler: Scheduler,
    /// The durable queue of asynchronous invocations.
    events: crate::events::Events,
    region: String,
}

impl Control {
    /// Loads every stored function.
    pub fn load(
        store: Arc<Store>,
        scheduler: Scheduler,
        events: crate::events::Events,
        region: String,
    ) -> anyhow::Result<Control> {
        let mut functions = BTreeMap::new();
        for record in store.functions()? {
            scheduler.set_reserved(&record.latest.function_name, record.reserved_concurrency);
            // Stems of the interpreters these functions run on, as if just created.
            scheduler.expect(&record.latest.runtime);
            for version in record.versions.values() {
                scheduler.expect(&version.runtime);
            }
            functions.insert(record.latest.function_name.clone(), Arc::new(record));
        }
        let control = Control {
            inner: Arc::new(Inner {
                store,
                functions: RwLock::new(functions),
                writes: Mutex::new(()),
                scheduler,
                events,
                region,
            }),
        };
        control.restore_provisioned();
        Ok(control)
    }

    pub fn events(&self) -> &crate::events::Events {
        &self.inner.events
    }

    pub fn scheduler(&self) -> &Scheduler {
        &self.inner.scheduler
    }

    pub fn region(&self) -> &str {
        &self.inner.region
    }

    /// The function name and qualifier `raw` (a name or ARN) resolves to, if that function
    /// (and version or alias) exists: how S3 notifications check and reach their targets.
    pub fn existing_function(&self, raw: &str) -> Option<(String, Option<String>)> {
        self.resolve_for_invoke(raw, None).ok()?;
        self.resolve_name(raw, None).ok()
    }

    fn arn(&self, name: &str, qualifier: Option<&str>) -> String {
        FunctionArn {
            region: &self.inner.region,
            name,
            qualifier,
        }
        .to_string()
    }

    /// The current snapshot of a function.
    fn get(&self, name: &str) -> Option<Arc<FunctionRecord>> {
        let functions = self
            .inner
            .functions
            .read()
            .unwrap_or_else(|e| e.into_inner());
        functions.get(name).cloned()
    }

    fn all(&self) -> Vec<Arc<FunctionRecord>> {
        let functions = self
            .inner
            .functions
            .read()
            .unwrap_or_else(|e| e.into_inner());
        functions.values().cloned().collect()
    }

    /// Applies `change` to a function's record under the write lock, stores and publishes it.
    fn mutate<T>(
        &self,
        name: &str,
        change: impl FnOnce(&mut FunctionRecord) -> Result<T, LambdaError>,
    ) -> Result<T, LambdaError> {
        let _w = self.inner.writes.lock().unwrap_or_else(|e| e.into_inner());
        let current = self
            .get(name)
            .ok_or_else(|| LambdaError::function_not_found(self.arn(name, None)))?;
        let mut record = (*current).clone();
        let out = change(&mut record)?;
        self.publish(record)?;
        Ok(out)
    }

    /// Stores then publishes `record`; the caller holds the write lock.
    fn publish(&self, record: FunctionRecord) -> Result<(), LambdaError> {
        self.inner
            .store
            .put_function(&record)
            .map_err(|e| LambdaError::Service(format!("storing the function failed: {e}")))?;
        // A new function, or a new runtime, starts stems of its interpreter.
        self.inner.scheduler.expect(&record.latest.runtime);
        let mut functions = self
            .inner
            .functions
            .write()
            .unwrap_or_else(|e| e.into_inner());
        functions.insert(record.latest.function_name.clone(), Arc::new(record));
        Ok(())
    }

    /// Where the code with this `CodeSha256` is unpacked.
    fn code_dir(&self, code_sha256_b64: &str) -> PathBuf {
        use base64::Engine;
        let raw = base64::engine::general_purpose::STANDARD
            .decode(code_sha256_b64)
            .unwrap_or_default();
        self.inner.store.code_dir(&hex::encode(raw))
    }

    /// Resolves a `FunctionName` path parameter and optional `Qualifier` query parameter.
    fn resolve_name(
        &self,
        raw: &str,
        qualifier: Option<&str>,
    ) -> Result<(String, Option<String>), LambdaError> {
        let r = FunctionRef::parse(raw).map_err(|e| match e {
            // A name too long to exist is simply not found, as on AWS.
            FunctionRefError::NameTooLong => LambdaError::function_not_found(self.arn(raw, None)),
            FunctionRefError::Pattern => LambdaError::Validation(format!(
                "1 validation error detected: Value '{raw}' at 'functionName' failed to satisfy constraint: Member must satisfy regular expression pattern: {}",
                FunctionRef::pattern()
            )),
        })?;
        if let Some(region) = &r.region {
            if region != &self.inner.region {
                return Err(LambdaError::ResourceNotFound(format!(
                    "Functions from '{region}' are not reachable in this region ('{}')",
                    self.inner.region
                )));
            }
        }
        let qualifier = match (r.qualifier, qualifier) {
            (Some(a), Some(b)) if a != b => {
                return Err(LambdaError::InvalidParameterValue(
                    "The derived qualifier from the function name does not match the specified qualifier.".into(),
                ))
            }
            (a, b) => a.or(b.map(str::to_string)),
        };
        Ok((r.name, qualifier))
    }
}

impl Control {
    /// A function name for operations on the function itself, not a version or alias.
    fn unqualified_name(&self, raw: &str) -> Result<String, LambdaError> {
        let (name, qualifier) = self.resolve_name(raw, None)?;
        if qualifier.is_some() {
            return Err(LambdaError::InvalidParameterValue(
                "This operation is permitted on Lambda functions only. Aliases and versions do not support this operation. Please specify either a function name or an unqualified function ARN.".into(),
            ));
        }
        Ok(name)
    }
}

impl crate::events::Invoker for Control {
    fn resolve_for_invoke(
        &self,
        function: &str,
        qualifier: Option<&str>,
    ) -> Result<Resolved, LambdaError> {
        Control::resolve_for_invoke(self, function, qualifier)
    }

    fn scheduler(&self) -> &Scheduler {
        Control::scheduler(self)
    }
}

/// A new RevisionId.
fn revision_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

fn now_millis() -> i64 {
    crate::logs::now_millis()
}
