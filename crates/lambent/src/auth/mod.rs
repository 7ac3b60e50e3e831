//! Who is calling, and what they may do: the root credentials, the temporary credentials of
//! function roles and of STS sessions (which expire), IAM users' access keys, and the one
//! [`Authorizer`] every operation of every service is asked before it runs.
//!
//! Invariant: no request reaches a service front-end without a verified principal, and no
//! secret is ever logged.

mod authorizer;
mod credentials;
mod keyring;

pub use authorizer::{Authorizer, Caller, ClientAddr, RequestFacts, ResourcePolicy};

pub use credentials::{load_or_create_root, read as read_credentials, RootCredentials};

/// The name of the root credentials file in the data directory.
pub fn credentials_file_name() -> &'static str {
    credentials::FILE_NAME
}
pub use keyring::{
    IssuedCredentials, KeyRefusal, KeyRing, Principal, RoleSession, TemporaryCredentials,
    ENVIRONMENT_CREDENTIALS,
};
