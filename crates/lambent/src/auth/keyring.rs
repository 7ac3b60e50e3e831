//! The keys lambent accepts: the root key and the temporary keys of running environments.

use super::credentials::{self, RootCredentials};
use std::collections::HashMap;
use std::sync::{Arc, RwLock};

/// Who signed a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    /// The account's root key.
    Root,
    /// A function's execution role, through the temporary key of one of its environments.
    Role { role_arn: String },
}

struct Key {
    secret: String,
    session_token: Option<String>,
    principal: Principal,
}

/// Temporary credentials handed to one execution environment.
#[derive(Clone)]
pub struct TemporaryCredentials {
    pub access_key_id: String,
    pub secret_access_key: String,
    pub session_token: String,
}

/// Access keys by id. Reads (every request) vastly outnumber writes (environment start and
/// stop), and no await happens under the lock, so a std `RwLock` fits.
#[derive(Clone)]
pub struct KeyRing {
    keys: Arc<RwLock<HashMap<String, Key>>>,
}

/// What the key ring says about an access key id.
pub struct KeyLookup {
    pub secret: String,
    pub session_token: Option<String>,
    pub principal: Principal,
}

impl KeyRing {
    pub fn new(root: &RootCredentials) -> KeyRing {
        let mut keys = HashMap::new();
        keys.insert(
            root.access_key_id.clone(),
            Key {
                secret: root.secret_access_key.clone(),
                session_token: None,
                principal: Principal::Root,
            },
        );
        KeyRing {
            keys: Arc::new(RwLock::new(keys)),
        }
    }

    pub fn lookup(&self, access_key_id: &str) -> Option<KeyLookup> {
        let keys = self.keys.read().unwrap_or_else(|e| e.into_inner());
        keys.get(access_key_id).map(|k| KeyLookup {
            secret: k.secret.clone(),
            session_token: k.session_token.clone(),
            principal: k.principal.clone(),
        })
    }

    /// Issues temporary credentials for a role; they stay valid until [`KeyRing::revoke`].
    pub fn issue(&self, role_arn: &str) -> TemporaryCredentials {
        let creds = TemporaryCredentials {
            access_key_id: credentials::access_key_id("ASIA"),
            secret_access_key: credentials::secret_access_key(),
            session_token: credentials::random_string(
                b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
                160,
            ),
        };
        let mut keys = self.keys.write().unwrap_or_else(|e| e.into_inner());
        keys.insert(
            creds.access_key_id.clone(),
            Key {
                secret: creds.secret_access_key.clone(),
                session_token: Some(creds.session_token.clone()),
                principal: Principal::Role {
                    role_arn: role_arn.to_string(),
                },
            },
        );
        creds
    }

    pub fn revoke(&self, access_key_id: &str) {
        let mut keys = self.keys.write().unwrap_or_else(|e| e.into_inner());
        keys.remove(access_key_id);
    }
}
