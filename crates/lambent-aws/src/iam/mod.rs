//! IAM's policy language: documents parsed and validated with AWS's messages
//! ([`Policy::parse`]), and the evaluator that decides one request against every policy that
//! applies ([`evaluate`]), with the reason AWS's AccessDenied message and the Simulate APIs
//! report.
//!
//! Invariant: nothing here ever treats an unparsable or unknown construct as Allow. A document
//! that fails to parse is an error, never a policy; an unknown condition operator is a parse
//! error; a condition value or request value an operator cannot read matches nothing; a policy
//! variable the request cannot resolve makes its resource or value match nothing. Pure code: no
//! tokio, no filesystem, no sockets, no panics on any input, no recursion on input depth.

mod condition;
mod evaluate;
mod matcher;
mod policy;
mod principal;
mod request;
mod variables;

#[cfg(test)]
mod tests;

pub use evaluate::{evaluate, Decision, MatchedStatement, Outcome, PolicySet, Source};
pub use policy::{Effect, Policy, PolicyError, PolicyKind, SizeLimit, Statement, MAX_DEPTH};
pub use request::{Context, Principal, PrincipalKind, Request};
