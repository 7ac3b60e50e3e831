//! Who is calling: the root credentials, the temporary credentials of function roles and of
//! STS sessions (which expire), and SigV4 verification of every AWS-API request against them.
//!
//! Invariant: no request reaches a service front-end without a verified principal, and no
//! secret is ever logged.

mod credentials;
mod keyring;

pub use credentials::{load_or_create_root, read as read_credentials, RootCredentials};

/// The name of the root credentials file in the data directory.
pub fn credentials_file_name() -> &'static str {
    credentials::FILE_NAME
}
pub use keyring::{
    IssuedCredentials, KeyRefusal, KeyRing, Principal, RoleSession, TemporaryCredentials,
};
