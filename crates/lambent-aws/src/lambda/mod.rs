//! The Lambda API's wire vocabulary: configuration shapes, error codes and envelopes, and
//! the validation rules AWS applies to CreateFunction and friends.

pub mod error;
pub mod model;
pub mod permission;
pub mod validate;

pub use error::LambdaError;
