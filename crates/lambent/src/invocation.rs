//! One invocation as data: the function version it runs ([`Resolved`]), what the scheduler
//! is asked to run ([`Invocation`]) and what it
//! came to ([`Completed`], whose [`Outcome`] says how the function ended, with its metered
//! [`Usage`]). Below the scheduler, which produces them, and telemetry, which counts them, so
//! neither imports the other's module for them.

use bytes::Bytes;
use lambent_aws::lambda::model::FunctionConfiguration;
use lambent_store::FunctionRecord;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// One invocation as the scheduler needs it (cheap to clone: the payload is shared).
#[derive(Clone)]
pub struct Invocation {
    pub request_id: String,
    pub payload: Bytes,
    /// The ARN the caller used, qualifier included (`Lambda-Runtime-Invoked-Function-Arn`).
    pub invoked_arn: String,
    /// Decoded client context JSON, passed to the runtime as is.
    pub client_context: Option<String>,
    /// Collect the last 4 KB of the invocation's log.
    pub tail: bool,
    /// The chain of events this invocation continues, for its trace header (`crate::lineage`).
    pub lineage: Option<String>,
}

/// How an invocation ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Ok,
    FunctionError,
    Timeout,
    ResponseTooLarge,
    RuntimeExit,
    OutOfMemory,
    InitError,
}

/// A finished invocation.
pub struct Completed {
    pub outcome: Outcome,
    /// The function's result, or the error document of a failed invocation.
    pub payload: Bytes,
    pub content_type: Option<String>,
    pub log_tail: Option<Vec<u8>>,
    pub executed_version: String,
    /// What the invocation used, as its REPORT line says; `None` when no environment ran.
    pub usage: Option<Usage>,
}

/// One invocation's metered figures.
#[derive(Debug, Clone, Copy)]
pub struct Usage {
    /// As reported (the timeout, for a timed-out invocation).
    pub duration: Duration,
    /// The init phase, for the invocation that started its environment.
    pub init: Option<Duration>,
    pub billed_ms: u64,
    pub memory_mb: u32,
}

/// A version of a function picked for a call: its configuration (borrowed from the record
/// snapshot, not copied) and where its code is.
pub struct Resolved {
    record: Arc<FunctionRecord>,
    /// `None` for `$LATEST`, else the published version number.
    version: Option<u64>,
    pub code_dir: PathBuf,
    /// The ARN as invoked, with the qualifier the caller gave.
    pub invoked_arn: String,
}

impl Resolved {
    /// `version` (`None` for `$LATEST`) of `record`, its code in `code_dir`.
    pub fn new(
        record: Arc<FunctionRecord>,
        version: Option<u64>,
        code_dir: PathBuf,
        invoked_arn: String,
    ) -> Resolved {
        Resolved {
            record,
            version,
            code_dir,
            invoked_arn,
        }
    }

    /// The function's whole record, as it was when the call was resolved.
    pub fn record(&self) -> &FunctionRecord {
        &self.record
    }

    pub fn config(&self) -> &FunctionConfiguration {
        self.version
            .and_then(|n| self.record.versions.get(&n))
            .unwrap_or(&self.record.latest)
    }
}
