//! One invocation as data: what the scheduler is asked to run ([`Invocation`]) and what it
//! came to ([`Completed`], whose [`Outcome`] says how the function ended, with its metered
//! [`Usage`]). Below the scheduler, which produces them, and telemetry, which counts them, so
//! neither imports the other's module for them.

use bytes::Bytes;
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
