//! The keys lambent accepts: the root key, the temporary keys of running environments, and
//! the temporary keys STS issues (AssumeRole, GetSessionToken), which expire, and the
//! access keys of IAM users, read from the IAM store and reloaded when it changes.

use super::credentials::{self, RootCredentials};
use lambent_store::iam::IamStore;
use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant, SystemTime};

/// Who signed a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    /// The account's root key, or temporary credentials GetSessionToken made from it.
    Root,
    /// A role session: a function's execution role through the key of one of its
    /// environments, or a session AssumeRole started.
    Role(Arc<RoleSession>),
    /// An IAM user, through one of its Active access keys (or a GetSessionToken session).
    User {
        arn: String,
        id: String,
        name: String,
    },
}

/// One session of a role, as the authorizer will need it: the role, the session's name, and
/// what AssumeRole was given to narrow or tag it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RoleSession {
    /// The role's ARN, with its path (`arn:aws:iam::A:role/path/name`).
    pub role_arn: String,
    /// The role's unique id (`AROA...`) when the IAM store knows the role; environments'
    /// roles need not exist there, and have none until looked up.
    pub role_id: Option<String>,
    /// The session name: the function's name for an environment, as on AWS.
    pub session_name: String,
    /// The inline session policy (JSON text, validated as a session policy).
    pub policy: Option<String>,
    /// Managed session policies by ARN.
    pub policy_arns: Vec<String>,
    /// Session tags, and which of them pass on to chained sessions.
    pub tags: Vec<(String, String)>,
    pub transitive_tag_keys: Vec<String>,
    pub source_identity: Option<String>,
    /// Condition keys the session carries into every request it signs: a web identity's
    /// claims (`cognito-identity.amazonaws.com:sub`, `accounts.example.com:aud`, ...).
    pub context: Vec<(String, String)>,
}

impl RoleSession {
    /// A function's session: its role, named after the function, carrying
    /// `lambda:SourceFunctionArn` (the unqualified function ARN) as AWS adds it to every
    /// request signed with an execution environment's credentials.
    pub fn for_function(role_arn: &str, function_arn: &str) -> RoleSession {
        let (prefix, rest) = function_arn
            .split_once(":function:")
            .unwrap_or((function_arn, ""));
        let name = rest.split(':').next().unwrap_or(rest);
        RoleSession {
            role_arn: role_arn.to_string(),
            session_name: name.to_string(),
            context: vec![(
                "lambda:SourceFunctionArn".to_string(),
                format!("{prefix}:function:{name}"),
            )],
            ..RoleSession::default()
        }
    }

    /// The role's account (the ARN's fifth field).
    pub fn account(&self) -> &str {
        self.role_arn.split(':').nth(4).unwrap_or("")
    }

    /// The role's name: the ARN's last path segment.
    pub fn role_name(&self) -> &str {
        self.role_arn.rsplit('/').next().unwrap_or("")
    }

    /// `arn:aws:sts::A:assumed-role/ROLE/SESSION` (the role's name, without its path).
    pub fn arn(&self) -> String {
        format!(
            "arn:aws:sts::{}:assumed-role/{}/{}",
            self.account(),
            self.role_name(),
            self.session_name
        )
    }
}

/// How long an environment's credentials are accepted: AWS's longest role session.
pub const ENVIRONMENT_CREDENTIALS: Duration = Duration::from_secs(12 * 3600);

struct Key {
    secret: String,
    session_token: Option<String>,
    principal: Principal,
    /// When a temporary key stops being accepted; `None` for the root key.
    expires: Option<Instant>,
}

/// Temporary credentials handed to one execution environment or STS caller.
#[derive(Clone)]
pub struct TemporaryCredentials {
    pub access_key_id: String,
    pub secret_access_key: String,
    pub session_token: String,
}

/// Credentials STS issued, with the wall-clock instant they expire at.
pub struct IssuedCredentials {
    pub credentials: TemporaryCredentials,
    pub expiration: SystemTime,
}

/// Why the key ring refused an access key id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyRefusal {
    Unknown,
    Expired,
}

/// IAM users' Active keys, as of one generation of the IAM store.
struct UserKeys {
    store: Arc<IamStore>,
    /// Read on every lookup of a key the ring does not hold itself; a std `RwLock`, as no
    /// await happens under it and reloads (after an IAM write) are rare.
    loaded: RwLock<(u64, HashMap<String, Key>)>,
}

impl UserKeys {
    /// The user key `id`, reloading every Active key first if the store has changed, so an
    /// Inactive or deleted key is refused on the next request.
    fn lookup(&self, id: &str) -> Option<KeyLookup> {
        let generation = self.store.generation();
        {
            let loaded = self.loaded.read().unwrap_or_else(|e| e.into_inner());
            if loaded.0 == generation {
                return loaded.1.get(id).map(Key::lookup);
            }
        }
        let keys = match self.store.active_access_keys() {
            Ok(keys) => keys,
            Err(e) => {
                // Refused, not allowed: the next request tries again.
                tracing::error!(error = %e, "loading IAM users' access keys");
                return None;
            }
        };
        let map: HashMap<String, Key> = keys
            .into_iter()
            .map(|k| {
                (
                    k.id,
                    Key {
                        secret: k.secret,
                        session_token: None,
                        principal: Principal::User {
                            arn: k.user_arn,
                            id: k.user_id,
                            name: k.user_name,
                        },
                        expires: None,
                    },
                )
            })
            .collect();
        let found = map.get(id).map(Key::lookup);
        let mut loaded = self.loaded.write().unwrap_or_else(|e| e.into_inner());
        *loaded = (generation, map);
        found
    }
}

/// Expired keys are kept this long after expiry, so a client hears `ExpiredToken` rather
/// than that its key does not exist; then the next issue sweeps them.
const EXPIRED_KEPT: Duration = Duration::from_secs(24 * 3600);

type Clock = Arc<dyn Fn() -> Instant + Send + Sync>;

/// Access keys by id. Reads (every request) vastly outnumber writes (environment start and
/// stop, STS calls), and no await happens under the lock, so a std `RwLock` fits.
#[derive(Clone)]
pub struct KeyRing {
    keys: Arc<RwLock<HashMap<String, Key>>>,
    /// `Instant::now` but in tests; read only for keys that expire.
    clock: Clock,
    /// IAM users' keys, once [`KeyRing::with_users`] gave the store.
    users: Option<Arc<UserKeys>>,
}

impl Key {
    fn lookup(&self) -> KeyLookup {
        KeyLookup {
            secret: self.secret.clone(),
            session_token: self.session_token.clone(),
            principal: self.principal.clone(),
        }
    }
}

/// What the key ring says about an access key id.
pub struct KeyLookup {
    pub secret: String,
    pub session_token: Option<String>,
    pub principal: Principal,
}

impl KeyRing {
    pub fn new(root: &RootCredentials) -> KeyRing {
        KeyRing::with_clock(root, Arc::new(Instant::now))
    }

    /// A key ring whose notion of now is `clock` (tests move time forward).
    pub fn with_clock(root: &RootCredentials, clock: Clock) -> KeyRing {
        let mut keys = HashMap::new();
        keys.insert(
            root.access_key_id.clone(),
            Key {
                secret: root.secret_access_key.clone(),
                session_token: None,
                principal: Principal::Root,
                expires: None,
            },
        );
        KeyRing {
            keys: Arc::new(RwLock::new(keys)),
            clock,
            users: None,
        }
    }

    /// Also accepts the Active access keys of the IAM users in `store`.
    pub fn with_users(mut self, store: Arc<IamStore>) -> KeyRing {
        self.users = Some(Arc::new(UserKeys {
            store,
            // Generation 0 is never current: the first lookup loads.
            loaded: RwLock::new((0, HashMap::new())),
        }));
        self
    }

    /// The key's secret, token and principal: one map lookup and, for a key that expires,
    /// one `Instant` comparison.
    pub fn lookup(&self, access_key_id: &str) -> Result<KeyLookup, KeyRefusal> {
        {
            let keys = self.keys.read().unwrap_or_else(|e| e.into_inner());
            if let Some(k) = keys.get(access_key_id) {
                if k.expires.is_some_and(|at| (self.clock)() >= at) {
                    return Err(KeyRefusal::Expired);
                }
                return Ok(k.lookup());
            }
        }
        // IAM users' keys are long-term `AKIA` ones.
        match &self.users {
            Some(users) if access_key_id.starts_with("AKIA") => {
                users.lookup(access_key_id).ok_or(KeyRefusal::Unknown)
            }
            _ => Err(KeyRefusal::Unknown),
        }
    }

    /// Issues temporary credentials for a function's environment: a session of `role_arn`
    /// named after the function `function_arn`, valid until [`KeyRing::revoke`] (the environment ends) or for
    /// [`ENVIRONMENT_CREDENTIALS`], whichever comes first. Environments are replaced before
    /// (`scheduler::environment::MAX_AGE`), so new credentials come with a new environment,
    /// as on AWS, whose environments' credentials never change under a running process.
    pub fn issue(&self, role_arn: &str, function_arn: &str) -> TemporaryCredentials {
        let session = RoleSession::for_function(role_arn, function_arn);
        let expires = (self.clock)() + ENVIRONMENT_CREDENTIALS;
        self.insert(Principal::Role(Arc::new(session)), Some(expires), false)
    }

    /// Issues temporary credentials for `principal` that expire after `lifetime` (STS).
    pub fn issue_expiring(&self, principal: Principal, lifetime: Duration) -> IssuedCredentials {
        let expiration = SystemTime::now() + lifetime;
        let credentials = self.insert(principal, Some((self.clock)() + lifetime), true);
        IssuedCredentials {
            credentials,
            expiration,
        }
    }

    /// Holds a new key for `principal`; `sweep` first drops keys long expired (STS's issues
    /// pay for it, environments' do not: each is revoked when its environment ends).
    fn insert(
        &self,
        principal: Principal,
        expires: Option<Instant>,
        sweep: bool,
    ) -> TemporaryCredentials {
        let creds = TemporaryCredentials {
            access_key_id: credentials::access_key_id("ASIA"),
            secret_access_key: credentials::secret_access_key(),
            session_token: credentials::random_string(
                b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
                160,
            ),
        };
        let now = (self.clock)();
        let mut keys = self.keys.write().unwrap_or_else(|e| e.into_inner());
        if sweep {
            keys.retain(|_, k| k.expires.is_none_or(|at| now < at + EXPIRED_KEPT));
        }
        keys.insert(
            creds.access_key_id.clone(),
            Key {
                secret: creds.secret_access_key.clone(),
                session_token: Some(creds.session_token.clone()),
                principal,
                expires,
            },
        );
        creds
    }

    pub fn revoke(&self, access_key_id: &str) {
        let mut keys = self.keys.write().unwrap_or_else(|e| e.into_inner());
        keys.remove(access_key_id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    fn root() -> RootCredentials {
        RootCredentials {
            access_key_id: "AKIAROOTROOTROOTROOT".into(),
            secret_access_key: "s".repeat(40),
        }
    }

    /// A key ring and a handle that moves its clock forward.
    fn ring() -> (KeyRing, Arc<Mutex<Instant>>) {
        let now = Arc::new(Mutex::new(Instant::now()));
        let clock = now.clone();
        let ring = KeyRing::with_clock(&root(), Arc::new(move || *clock.lock().unwrap()));
        (ring, now)
    }

    #[test]
    fn temporary_keys_expire_at_their_instant_and_the_root_key_never() {
        let (ring, now) = ring();
        let session = Principal::Role(Arc::new(RoleSession::for_function(
            "arn:aws:iam::000000000000:role/r",
            "s1",
        )));
        let issued = ring.issue_expiring(session.clone(), Duration::from_secs(900));
        let env = ring.issue(
            "arn:aws:iam::000000000000:role/r",
            "arn:aws:lambda:us-east-1:000000000000:function:fn",
        );
        let id = &issued.credentials.access_key_id;
        assert!(id.starts_with("ASIA") && id.len() == 20);
        let key = ring.lookup(id).ok().unwrap();
        assert_eq!(key.principal, session);
        assert_eq!(
            key.session_token.as_deref(),
            Some(issued.credentials.session_token.as_str())
        );

        *now.lock().unwrap() += Duration::from_secs(899);
        assert!(ring.lookup(id).is_ok());
        *now.lock().unwrap() += Duration::from_secs(1);
        assert_eq!(ring.lookup(id).err(), Some(KeyRefusal::Expired));
        assert!(ring.lookup(&env.access_key_id).is_ok());
        assert!(ring.lookup("AKIAROOTROOTROOTROOT").is_ok());
        assert_eq!(
            ring.lookup("ASIANOSUCHKEY").err(),
            Some(KeyRefusal::Unknown)
        );

        // An environment's key lasts 12 hours (its environment is replaced before).
        *now.lock().unwrap() += ENVIRONMENT_CREDENTIALS - Duration::from_secs(901);
        assert!(ring.lookup(&env.access_key_id).is_ok());
        *now.lock().unwrap() += Duration::from_secs(1);
        assert_eq!(
            ring.lookup(&env.access_key_id).err(),
            Some(KeyRefusal::Expired)
        );

        // Still refused as expired for a day, then swept by the next STS issue.
        *now.lock().unwrap() += EXPIRED_KEPT;
        ring.issue_expiring(Principal::Root, Duration::from_secs(900));
        assert_eq!(ring.lookup(id).err(), Some(KeyRefusal::Unknown));
        assert_eq!(
            ring.lookup(&env.access_key_id).err(),
            Some(KeyRefusal::Unknown)
        );
        assert!(ring.lookup("AKIAROOTROOTROOTROOT").is_ok());
    }

    #[test]
    fn an_environment_key_is_a_session_named_after_its_function() {
        let (ring, _) = ring();
        let env = ring.issue(
            "arn:aws:iam::123456789012:role/service/exec",
            "arn:aws:lambda:us-east-1:123456789012:function:my-fn:7",
        );
        let Principal::Role(session) = ring.lookup(&env.access_key_id).ok().unwrap().principal
        else {
            panic!("not a role session");
        };
        assert_eq!(
            session.arn(),
            "arn:aws:sts::123456789012:assumed-role/exec/my-fn"
        );
        assert_eq!(session.account(), "123456789012");
        assert_eq!(
            session.context,
            [(
                "lambda:SourceFunctionArn".to_string(),
                "arn:aws:lambda:us-east-1:123456789012:function:my-fn".to_string()
            )]
        );
        ring.revoke(&env.access_key_id);
        assert_eq!(
            ring.lookup(&env.access_key_id).err(),
            Some(KeyRefusal::Unknown)
        );
    }
}
