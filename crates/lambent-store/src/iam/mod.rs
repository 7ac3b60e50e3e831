//! IAM's durable state, in its own database (`iam.db`): users and their access keys, groups
//! and memberships, roles, managed policies with their versions (the account's own and the
//! AWS-managed ones the caller seeds), attachments, inline policies and tags.
//!
//! One file per noun: `users`, `access_keys`, `groups`, `roles`, `policies` (managed policies
//! and versions), `attachments` (attached and inline policies), `tags`, `last_used`, and
//! `principal`, which gathers every document that applies to a user or role for the
//! authorizer; `schema` holds the layout and the file's mode. Children
//! (keys, memberships, attachments, inline policies, tags) point at their owner's unique id
//! (`AIDA...`, `AGPA...`, `AROA...`, `ANPA...`), so renaming an entity touches one row.
//! Names are unique per account without regard to ASCII case, as AWS's are (`COLLATE NOCASE`).
//!
//! Every write is one `IMMEDIATE` transaction on a WAL database with `synchronous=FULL`
//! (IAM writes are rare), and bumps [`IamStore::generation`] once committed, so callers that
//! cache keys or compiled policies know when to reload. Access-key and role "last used"
//! stamps are the exception: they are kept in memory and written by
//! [`IamStore::flush_last_used`] (the caller's timer, and on drop) on a connection with
//! `synchronous=NORMAL`, so a signed request never waits for an `fsync`. The file holds
//! secrets: it is created mode 0600 and put back to 0600 on every open (SQLite gives its
//! `-wal` and `-shm` files the database's mode).
//!
//! Invariant: no HTTP, no envelopes, no policy evaluation (documents are the JSON text the
//! caller validated); a write is durable when the call returns; secrets never appear in
//! `Debug`.

mod access_keys;
mod attachments;
mod groups;
mod last_used;
mod oidc;
mod policies;
mod principal;
mod roles;
mod schema;
mod tags;
#[cfg(test)]
mod tests;
mod users;

pub use access_keys::{AccessKey, AccessKeyMetadata, KeyStatus};
pub use attachments::{AttachedEntity, AttachedPolicy};
pub use groups::Group;
pub use last_used::LastUsed;
pub use oidc::{provider_host, OidcProvider, MAX_CLIENT_IDS, MAX_THUMBPRINTS};
pub use policies::{AwsManagedPolicy, ManagedPolicy, NewPolicy, PolicyScope, PolicyVersion};
pub use principal::{AppliedPolicy, PolicySource, Principal, PrincipalPolicies};
pub use roles::{NewRole, Role, RoleUpdate};
pub use tags::Tag;
pub use users::User;

use rusqlite::{Connection, TransactionBehavior};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

/// The account AWS-managed policies belong to (`arn:aws:iam::aws:policy/...`).
pub const AWS_ACCOUNT: &str = "aws";

/// AWS's default quotas that the store enforces, because only a transaction can check them
/// without a race.
pub const MAX_ACCESS_KEYS_PER_USER: u32 = 2;
pub const MAX_GROUPS_PER_USER: u32 = 10;
pub const MAX_POLICY_VERSIONS: u32 = 5;
pub const MAX_ATTACHED_POLICIES: u32 = 10;
pub const MAX_TAGS: u32 = 50;

/// The kinds of IAM entity, as AWS's messages name them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EntityKind {
    User,
    Group,
    Role,
    Policy,
    PolicyVersion,
    AccessKey,
    UserPolicy,
    GroupPolicy,
    RolePolicy,
    OidcProvider,
}

impl EntityKind {
    /// The noun AWS puts in its messages (`The role with name X cannot be found.`).
    pub fn noun(self) -> &'static str {
        match self {
            EntityKind::User => "user",
            EntityKind::Group => "group",
            EntityKind::Role => "role",
            EntityKind::Policy => "policy",
            EntityKind::PolicyVersion => "policy version",
            EntityKind::AccessKey => "access key",
            EntityKind::UserPolicy => "user policy",
            EntityKind::GroupPolicy => "group policy",
            EntityKind::RolePolicy => "role policy",
            EntityKind::OidcProvider => "OpenIDConnect provider",
        }
    }

    fn inline(self) -> EntityKind {
        match self {
            EntityKind::User => EntityKind::UserPolicy,
            EntityKind::Group => EntityKind::GroupPolicy,
            _ => EntityKind::RolePolicy,
        }
    }
}

/// Why a delete was refused, one variant per AWS message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConflictReason {
    /// A user still has access keys (`must remove referenced objects first`).
    AccessKeys,
    /// A user is still in groups (`must remove referenced objects first`).
    GroupMemberships,
    /// Managed policies are still attached (`must detach all policies first`).
    AttachedPolicies,
    /// Inline policies remain (`must delete policies first`).
    InlinePolicies,
    /// A group still has members (`must remove users from group first`).
    GroupMembers,
    /// A managed policy is still attached (`Cannot delete a policy attached to entities.`).
    PolicyAttached,
    /// A managed policy still has versions besides the default.
    NonDefaultVersions,
    /// The version asked for is the policy's default.
    DefaultVersion,
}

/// Failures of the IAM store: AWS's refusals first, with what the caller needs for AWS's
/// messages, then the store's own failures, each naming its step.
#[derive(Debug, thiserror::Error)]
pub enum IamError {
    #[error("{} with name {name} already exists", kind.noun())]
    AlreadyExists { kind: EntityKind, name: String },
    #[error("the {} with name {name} cannot be found", kind.noun())]
    NoSuchEntity { kind: EntityKind, name: String },
    #[error("cannot delete the {} {name}: {reason:?}", kind.noun())]
    DeleteConflict {
        kind: EntityKind,
        name: String,
        reason: ConflictReason,
    },
    #[error("cannot exceed quota for {quota}: {limit}")]
    LimitExceeded { quota: &'static str, limit: u32 },
    #[error("the AWS-managed policy {arn} cannot be changed")]
    Unmodifiable { arn: String },
    #[error("{message}")]
    InvalidInput { message: String },
    #[error("a stored record is unreadable: {what}")]
    Corrupt { what: String },
    #[error("opening the IAM database {path}: {source}")]
    Open {
        path: PathBuf,
        source: rusqlite::Error,
    },
    #[error("{step}: {source}")]
    Sql {
        step: &'static str,
        source: rusqlite::Error,
    },
    #[error("{step} {path}: {source}")]
    Io {
        step: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
}

/// The step a bare `?` on a rusqlite error is filed under until [`IamStore::write`] or
/// [`IamStore::read`] names the operation.
const UNNAMED: &str = "iam";

impl From<rusqlite::Error> for IamError {
    fn from(source: rusqlite::Error) -> Self {
        IamError::Sql {
            step: UNNAMED,
            source,
        }
    }
}

impl IamError {
    fn at(self, step: &'static str) -> IamError {
        match self {
            IamError::Sql {
                step: UNNAMED,
                source,
            } => IamError::Sql { step, source },
            other => other,
        }
    }

    fn missing(kind: EntityKind, name: &str) -> IamError {
        IamError::NoSuchEntity {
            kind,
            name: name.to_string(),
        }
    }
}

/// One page of a listing: `marker` is set when more items follow, and is what the next
/// call passes back (opaque to the caller).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub marker: Option<String>,
}

/// Where a listing resumes and how much it returns (AWS's `Marker` and `MaxItems`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Paging {
    pub marker: Option<String>,
    /// `None` is AWS's default of 100.
    pub max_items: Option<u32>,
}

impl Paging {
    pub fn first(max_items: u32) -> Paging {
        Paging {
            marker: None,
            max_items: Some(max_items),
        }
    }

    fn limit(&self) -> usize {
        self.max_items.unwrap_or(100).max(1) as usize
    }

    /// Pages `items`, already sorted by `key`, resuming after the marker's key.
    fn apply<T>(&self, items: Vec<T>, key: impl Fn(&T) -> String) -> Page<T> {
        let mut rest: Vec<T> = match &self.marker {
            Some(m) => items
                .into_iter()
                .filter(|i| key(i).as_str() > m.as_str())
                .collect(),
            None => items,
        };
        let limit = self.limit();
        let marker = if rest.len() > limit {
            rest.truncate(limit);
            rest.last().map(&key)
        } else {
            None
        };
        Page {
            items: rest,
            marker,
        }
    }
}

/// The sort key lists use: names compare without regard to ASCII case, as `NOCASE` does.
fn sort_key(name: &str) -> String {
    name.to_ascii_lowercase()
}

/// The IAM store of one data directory. Cheap to share behind an `Arc`.
pub struct IamStore {
    account: String,
    path: PathBuf,
    /// One connection for writes and reads: IAM writes are rare and every statement is short,
    /// and the hot reads (key lookup, a principal's policies) are cached by the caller.
    db: Mutex<Connection>,
    /// A second connection, `synchronous=NORMAL`, for the last-used stamps only.
    stamps_db: Mutex<Connection>,
    /// Stamps not yet flushed, by access key id and by role id.
    stamps: Mutex<last_used::Stamps>,
    generation: AtomicU64,
}

impl std::fmt::Debug for IamStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IamStore")
            .field("account", &self.account)
            .field("path", &self.path)
            .field("generation", &self.generation())
            .finish_non_exhaustive()
    }
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// A unique id as AWS makes them: a prefix and uppercase letters and digits.
fn unique_id(prefix: &str, len: usize) -> String {
    random_chars(prefix, len, b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
}

fn random_chars(prefix: &str, len: usize, alphabet: &[u8]) -> String {
    use rand::Rng;
    // ThreadRng is a CSPRNG seeded from the OS, fit for secrets.
    let mut rng = rand::thread_rng();
    let mut out = String::with_capacity(prefix.len() + len);
    out.push_str(prefix);
    for _ in 0..len {
        out.push(alphabet[rng.gen_range(0..alphabet.len())] as char);
    }
    out
}

impl IamStore {
    /// Opens (creating if needed) `iam.db` under `dir` for `account` (12 digits).
    pub fn open(dir: &Path, account: &str) -> Result<IamStore, IamError> {
        let io = |step, path: &Path| {
            let path = path.to_path_buf();
            move |source| IamError::Io { step, path, source }
        };
        std::fs::create_dir_all(dir).map_err(io("creating", dir))?;
        let path = dir.join("iam.db");
        schema::secure_file(&path).map_err(io("securing", &path))?;
        let open = |synchronous: &str| -> Result<Connection, IamError> {
            let conn = Connection::open(&path).map_err(|source| IamError::Open {
                path: path.clone(),
                source,
            })?;
            conn.busy_timeout(std::time::Duration::from_secs(10))?;
            conn.execute_batch(&format!(
                "PRAGMA journal_mode=WAL; PRAGMA synchronous={synchronous}; PRAGMA foreign_keys=ON;"
            ))?;
            Ok(conn)
        };
        let mut db = open("FULL").map_err(|e| e.at("configuring the IAM database"))?;
        schema::migrate(&mut db).map_err(|e| e.at("creating the IAM schema"))?;
        let stamps_db = open("NORMAL").map_err(|e| e.at("configuring the IAM database"))?;
        Ok(IamStore {
            account: account.to_string(),
            path,
            db: Mutex::new(db),
            stamps_db: Mutex::new(stamps_db),
            stamps: Mutex::new(last_used::Stamps::default()),
            generation: AtomicU64::new(1),
        })
    }

    pub fn account(&self) -> &str {
        &self.account
    }

    /// A number that grows with every committed write (last-used stamps aside). A cache built
    /// at generation `g` is current while `generation()` is still `g`.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    fn db(&self) -> std::sync::MutexGuard<'_, Connection> {
        // A panic while holding the lock cannot leave SQLite inconsistent (the transaction
        // rolls back when dropped), so a poisoned lock is safe to reuse.
        self.db.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Runs `f` in one immediate transaction, committed (durably) before returning; the
    /// generation moves once the commit is done. An error rolls everything back.
    fn write<T>(
        &self,
        step: &'static str,
        f: impl FnOnce(&rusqlite::Transaction<'_>) -> Result<T, IamError>,
    ) -> Result<T, IamError> {
        let mut db = self.db();
        let run = || {
            let tx = db.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let out = f(&tx)?;
            tx.commit()?;
            Ok(out)
        };
        let out = run().map_err(|e: IamError| e.at(step))?;
        self.generation.fetch_add(1, Ordering::AcqRel);
        Ok(out)
    }

    /// Runs `f` against a consistent snapshot.
    fn read<T>(
        &self,
        step: &'static str,
        f: impl FnOnce(&rusqlite::Transaction<'_>) -> Result<T, IamError>,
    ) -> Result<T, IamError> {
        let mut db = self.db();
        let run = || {
            let tx = db.transaction_with_behavior(TransactionBehavior::Deferred)?;
            f(&tx)
        };
        run().map_err(|e: IamError| e.at(step))
    }

    fn arn(&self, kind: &str, path: &str, name: &str) -> String {
        format!("arn:aws:iam::{}:{kind}{path}{name}", self.account)
    }
}

/// `path` must begin and end with `/`; `/` when absent.
fn path_or_root(path: Option<&str>) -> &str {
    path.unwrap_or("/")
}

impl Paging {
    /// Makes a page of `rows`, fetched `LIMIT limit() + 1` after the marker, in key order.
    fn finish<T>(&self, mut rows: Vec<T>, key: impl Fn(&T) -> String) -> Page<T> {
        let limit = self.limit();
        let marker = if rows.len() > limit {
            rows.truncate(limit);
            rows.last().map(key)
        } else {
            None
        };
        Page {
            items: rows,
            marker,
        }
    }
}
