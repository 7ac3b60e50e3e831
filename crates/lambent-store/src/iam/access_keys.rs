//! Access keys: `AKIA` ids and 40-character secrets, at most two per user, Active or
//! Inactive. [`IamStore::access_key`] and [`IamStore::active_access_keys`] serve SigV4
//! verification; when keys were last used is kept apart (see the module header).

use super::{
    now_ms, random_chars, unique_id, EntityKind, IamError, IamStore, LastUsed,
    MAX_ACCESS_KEYS_PER_USER,
};
use rusqlite::{Connection, OptionalExtension};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyStatus {
    Active,
    Inactive,
}

impl KeyStatus {
    /// AWS's spelling (`Active`, `Inactive`).
    pub fn as_str(self) -> &'static str {
        match self {
            KeyStatus::Active => "Active",
            KeyStatus::Inactive => "Inactive",
        }
    }
}

/// An access key with its secret and its owner, what SigV4 verification needs.
#[derive(Clone, PartialEq, Eq)]
pub struct AccessKey {
    /// `AKIA` and 16 letters and digits.
    pub id: String,
    /// 40 characters of AWS's alphabet (letters, digits, `+`, `/`).
    pub secret: String,
    pub status: KeyStatus,
    /// Unix milliseconds.
    pub created: i64,
    pub user_name: String,
    pub user_id: String,
    pub user_arn: String,
}

/// The secret is left out, so a key logged by mistake gives nothing away.
impl std::fmt::Debug for AccessKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccessKey")
            .field("id", &self.id)
            .field("secret", &"<redacted>")
            .field("status", &self.status)
            .field("created", &self.created)
            .field("user_name", &self.user_name)
            .field("user_id", &self.user_id)
            .field("user_arn", &self.user_arn)
            .finish()
    }
}

/// ListAccessKeys' view of a key: no secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessKeyMetadata {
    pub id: String,
    pub user_name: String,
    pub status: KeyStatus,
    pub created: i64,
}

const SECRET_ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

const KEY_SELECT: &str = "SELECT k.id, k.secret, k.active, k.created, u.name, u.id, u.arn
     FROM access_keys k JOIN users u ON u.id = k.user_id";

fn key_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<AccessKey> {
    Ok(AccessKey {
        id: r.get(0)?,
        secret: r.get(1)?,
        status: status(r.get(2)?),
        created: r.get(3)?,
        user_name: r.get(4)?,
        user_id: r.get(5)?,
        user_arn: r.get(6)?,
    })
}

fn status(active: bool) -> KeyStatus {
    if active {
        KeyStatus::Active
    } else {
        KeyStatus::Inactive
    }
}

impl IamStore {
    /// Makes an Active key for a user; `LimitExceeded` if it has two already.
    pub fn create_access_key(&self, user_name: &str) -> Result<AccessKey, IamError> {
        self.write("creating an access key", |tx| {
            let user = self.user_in(tx, user_name)?;
            if keys_of(tx, &user.id)? >= MAX_ACCESS_KEYS_PER_USER {
                return Err(IamError::LimitExceeded {
                    quota: "AccessKeysPerUser",
                    limit: MAX_ACCESS_KEYS_PER_USER,
                });
            }
            let key = AccessKey {
                id: unique_id("AKIA", 16),
                secret: random_chars("", 40, SECRET_ALPHABET),
                status: KeyStatus::Active,
                created: now_ms(),
                user_name: user.name,
                user_id: user.id,
                user_arn: user.arn,
            };
            tx.execute(
                "INSERT INTO access_keys (id, user_id, secret, active, created)
                 VALUES (?1, ?2, ?3, 1, ?4)",
                (&key.id, &key.user_id, &key.secret, key.created),
            )?;
            Ok(key)
        })
    }

    /// How many keys a user has (AWS allows two).
    pub fn access_key_count(&self, user_name: &str) -> Result<u32, IamError> {
        self.read("counting access keys", |tx| {
            let user = self.user_in(tx, user_name)?;
            keys_of(tx, &user.id)
        })
    }

    /// A user's keys, oldest first, without their secrets.
    pub fn list_access_keys(&self, user_name: &str) -> Result<Vec<AccessKeyMetadata>, IamError> {
        self.read("listing access keys", |tx| {
            let user = self.user_in(tx, user_name)?;
            let mut stmt = tx.prepare_cached(
                "SELECT id, active, created FROM access_keys WHERE user_id = ?1
                 ORDER BY created, id",
            )?;
            let rows = stmt.query_map([&user.id], |r| {
                Ok(AccessKeyMetadata {
                    id: r.get(0)?,
                    user_name: user.name.clone(),
                    status: status(r.get(1)?),
                    created: r.get(2)?,
                })
            })?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
    }

    pub fn update_access_key_status(
        &self,
        user_name: &str,
        key_id: &str,
        status: KeyStatus,
    ) -> Result<(), IamError> {
        self.write("updating an access key", |tx| {
            let user_id = self.key_of_user(tx, user_name, key_id)?;
            tx.execute(
                "UPDATE access_keys SET active = ?3 WHERE id = ?1 AND user_id = ?2",
                (key_id, &user_id, status == KeyStatus::Active),
            )?;
            Ok(())
        })
    }

    pub fn delete_access_key(&self, user_name: &str, key_id: &str) -> Result<(), IamError> {
        self.write("deleting an access key", |tx| {
            self.key_of_user(tx, user_name, key_id)?;
            tx.execute("DELETE FROM access_keys WHERE id = ?1", [key_id])?;
            tx.execute("DELETE FROM last_used WHERE id = ?1", [key_id])?;
            Ok(())
        })?;
        self.stamps().keys.remove(key_id);
        Ok(())
    }

    /// The key with this id, whatever its status or account (SigV4's lookup).
    pub fn access_key(&self, key_id: &str) -> Result<Option<AccessKey>, IamError> {
        self.read("reading an access key", |tx| {
            let sql = format!("{KEY_SELECT} WHERE k.id = ?1");
            Ok(tx.query_row(&sql, [key_id], key_from_row).optional()?)
        })
    }

    /// Every Active key, for a verifier that keeps them in memory; reload when
    /// [`IamStore::generation`] moves.
    pub fn active_access_keys(&self) -> Result<Vec<AccessKey>, IamError> {
        self.read("loading the access keys", |tx| {
            let sql = format!("{KEY_SELECT} WHERE k.active = 1 ORDER BY k.id");
            let mut stmt = tx.prepare(&sql)?;
            let rows = stmt.query_map([], key_from_row)?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
    }

    /// GetAccessKeyLastUsed: the owner's name and the stamp, if the key was ever used.
    pub fn access_key_last_used(
        &self,
        key_id: &str,
    ) -> Result<(String, Option<LastUsed>), IamError> {
        self.read("reading when an access key was last used", |tx| {
            let owner: Option<String> = tx
                .query_row(
                    "SELECT u.name FROM access_keys k JOIN users u ON u.id = k.user_id
                     WHERE k.id = ?1",
                    [key_id],
                    |r| r.get(0),
                )
                .optional()?;
            let owner = owner.ok_or_else(|| IamError::missing(EntityKind::AccessKey, key_id))?;
            Ok((owner, self.last_used(tx, key_id)?))
        })
    }

    /// The owner's id, if `key_id` is a key of `user_name`.
    fn key_of_user(
        &self,
        tx: &Connection,
        user_name: &str,
        key_id: &str,
    ) -> Result<String, IamError> {
        let user = self.user_in(tx, user_name)?;
        let found: Option<String> = tx
            .query_row(
                "SELECT user_id FROM access_keys WHERE id = ?1 AND user_id = ?2",
                (key_id, &user.id),
                |r| r.get(0),
            )
            .optional()?;
        found.ok_or_else(|| IamError::missing(EntityKind::AccessKey, key_id))
    }
}

fn keys_of(tx: &Connection, user_id: &str) -> Result<u32, IamError> {
    Ok(tx.query_row(
        "SELECT COUNT(*) FROM access_keys WHERE user_id = ?1",
        [user_id],
        |r| r.get(0),
    )?)
}
