//! The layout of `iam.db` and how it is opened: the schema with its version (`PRAGMA
//! user_version`, so later versions can migrate), and the file's mode.

use super::IamError;
use rusqlite::{Connection, TransactionBehavior};
use std::path::{Path, PathBuf};

/// The schema this code writes; `PRAGMA user_version` records it so later versions can
/// migrate.
const SCHEMA_VERSION: i64 = 2;

const SCHEMA: &str = "
CREATE TABLE users (
    id TEXT PRIMARY KEY,
    account TEXT NOT NULL,
    name TEXT NOT NULL COLLATE NOCASE,
    path TEXT NOT NULL,
    arn TEXT NOT NULL,
    created INTEGER NOT NULL,
    boundary TEXT,
    UNIQUE (account, name)
);
CREATE TABLE access_keys (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users(id),
    secret TEXT NOT NULL,
    active INTEGER NOT NULL,
    created INTEGER NOT NULL
);
CREATE INDEX access_keys_user ON access_keys(user_id);
CREATE TABLE groups (
    id TEXT PRIMARY KEY,
    account TEXT NOT NULL,
    name TEXT NOT NULL COLLATE NOCASE,
    path TEXT NOT NULL,
    arn TEXT NOT NULL,
    created INTEGER NOT NULL,
    UNIQUE (account, name)
);
CREATE TABLE memberships (
    group_id TEXT NOT NULL REFERENCES groups(id),
    user_id TEXT NOT NULL REFERENCES users(id),
    PRIMARY KEY (group_id, user_id)
);
CREATE INDEX memberships_user ON memberships(user_id);
CREATE TABLE roles (
    id TEXT PRIMARY KEY,
    account TEXT NOT NULL,
    name TEXT NOT NULL COLLATE NOCASE,
    path TEXT NOT NULL,
    arn TEXT NOT NULL,
    created INTEGER NOT NULL,
    trust_policy TEXT NOT NULL,
    description TEXT,
    max_session_duration INTEGER NOT NULL,
    boundary TEXT,
    UNIQUE (account, name)
);
CREATE TABLE policies (
    id TEXT PRIMARY KEY,
    account TEXT NOT NULL,
    name TEXT NOT NULL COLLATE NOCASE,
    path TEXT NOT NULL,
    arn TEXT NOT NULL UNIQUE,
    description TEXT,
    default_version INTEGER NOT NULL,
    next_version INTEGER NOT NULL,
    created INTEGER NOT NULL,
    updated INTEGER NOT NULL,
    UNIQUE (account, name)
);
CREATE TABLE policy_versions (
    policy_id TEXT NOT NULL REFERENCES policies(id),
    version INTEGER NOT NULL,
    document TEXT NOT NULL,
    created INTEGER NOT NULL,
    PRIMARY KEY (policy_id, version)
);
CREATE TABLE attachments (
    entity_id TEXT NOT NULL,
    policy_id TEXT NOT NULL REFERENCES policies(id),
    PRIMARY KEY (entity_id, policy_id)
);
CREATE INDEX attachments_policy ON attachments(policy_id);
CREATE TABLE inline_policies (
    entity_id TEXT NOT NULL,
    name TEXT NOT NULL COLLATE NOCASE,
    document TEXT NOT NULL,
    PRIMARY KEY (entity_id, name)
);
CREATE TABLE tags (
    entity_id TEXT NOT NULL,
    key TEXT NOT NULL COLLATE NOCASE,
    value TEXT NOT NULL,
    PRIMARY KEY (entity_id, key)
);
CREATE TABLE last_used (
    id TEXT PRIMARY KEY,
    at INTEGER NOT NULL,
    service TEXT NOT NULL,
    region TEXT NOT NULL
);
";

/// Version 2: OpenID Connect identity providers (AssumeRoleWithWebIdentity).
const SCHEMA_2: &str = "
CREATE TABLE oidc_providers (
    arn TEXT PRIMARY KEY,
    account TEXT NOT NULL,
    url TEXT NOT NULL,
    client_ids TEXT NOT NULL,
    thumbprints TEXT NOT NULL,
    created INTEGER NOT NULL
);
";

/// Creates `path` mode 0600 if it is missing, and puts an existing file back to 0600.
pub(super) fn secure_file(path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .open(path)?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
    for suffix in ["-wal", "-shm"] {
        let side = PathBuf::from(format!("{}{suffix}", path.display()));
        if side.exists() {
            std::fs::set_permissions(&side, std::fs::Permissions::from_mode(0o600))?;
        }
    }
    Ok(())
}

pub(super) fn migrate(db: &mut Connection) -> Result<(), IamError> {
    let version: i64 = db.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if version == SCHEMA_VERSION {
        return Ok(());
    }
    if version > SCHEMA_VERSION {
        return Err(IamError::InvalidInput {
            message: format!(
                "the IAM database has schema version {version}, newer than this lambent's {SCHEMA_VERSION}"
            ),
        });
    }
    let tx = db.transaction_with_behavior(TransactionBehavior::Immediate)?;
    if version == 0 {
        tx.execute_batch(SCHEMA)?;
    }
    if version < 2 {
        tx.execute_batch(SCHEMA_2)?;
    }
    tx.pragma_update(None, "user_version", SCHEMA_VERSION)?;
    tx.commit()?;
    Ok(())
}
