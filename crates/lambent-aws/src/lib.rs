//! Pure AWS semantics for lambent: wire types, ARNs, error codes and envelopes, SigV4
//! verification, and the validation rules AWS applies to requests.
//!
//! Nothing here touches tokio, the filesystem or sockets: every function is a pure
//! transformation that can be tested with a table of inputs and AWS's own fixtures.

pub mod arn;
pub mod iam;
pub mod lambda;
pub mod logs;
pub mod sigv4;
