//! IAM users: name (unique per account, any case), path, `AIDA` id, ARN, permissions
//! boundary and tags.

use super::tags::{drop_tags, put_tags, tags_of};
use super::{
    now_ms, path_or_root, unique_id, ConflictReason, EntityKind, IamError, IamStore, Page, Paging,
    Tag,
};
use rusqlite::{Connection, OptionalExtension};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub name: String,
    pub path: String,
    /// `AIDA` and 17 letters and digits.
    pub id: String,
    pub arn: String,
    /// Unix milliseconds.
    pub created: i64,
    /// The ARN of the managed policy that bounds the user's permissions.
    pub permissions_boundary: Option<String>,
    pub tags: Vec<Tag>,
}

const COLUMNS: &str = "id, name, path, arn, created, boundary";

fn from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<User> {
    Ok(User {
        id: r.get(0)?,
        name: r.get(1)?,
        path: r.get(2)?,
        arn: r.get(3)?,
        created: r.get(4)?,
        permissions_boundary: r.get(5)?,
        tags: Vec::new(),
    })
}

impl IamStore {
    pub fn create_user(
        &self,
        name: &str,
        path: Option<&str>,
        permissions_boundary: Option<&str>,
        tags: &[Tag],
    ) -> Result<User, IamError> {
        let path = path_or_root(path);
        self.write("creating a user", |tx| {
            if self.find_user(tx, name)?.is_some() {
                return Err(IamError::AlreadyExists {
                    kind: EntityKind::User,
                    name: name.to_string(),
                });
            }
            let user = User {
                name: name.to_string(),
                path: path.to_string(),
                id: unique_id("AIDA", 17),
                arn: self.arn("user", path, name),
                created: now_ms(),
                permissions_boundary: permissions_boundary.map(str::to_string),
                tags: tags.to_vec(),
            };
            tx.execute(
                "INSERT INTO users (id, account, name, path, arn, created, boundary)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                (
                    &user.id,
                    &self.account,
                    &user.name,
                    &user.path,
                    &user.arn,
                    user.created,
                    &user.permissions_boundary,
                ),
            )?;
            put_tags(tx, &user.id, tags)?;
            Ok(user)
        })
    }

    pub fn user(&self, name: &str) -> Result<User, IamError> {
        self.read("reading a user", |tx| self.user_in(tx, name))
    }

    /// The user whose unique id (`AIDA...`) is `id`.
    pub fn user_by_id(&self, id: &str) -> Result<User, IamError> {
        self.read("reading a user", |tx| {
            let sql = format!("SELECT {COLUMNS} FROM users WHERE id = ?1");
            let mut user = tx
                .query_row(&sql, [id], from_row)
                .optional()?
                .ok_or_else(|| IamError::missing(EntityKind::User, id))?;
            user.tags = tags_of(tx, &user.id)?;
            Ok(user)
        })
    }

    /// Users whose path starts with `path_prefix`, by name.
    pub fn list_users(
        &self,
        path_prefix: Option<&str>,
        paging: &Paging,
    ) -> Result<Page<User>, IamError> {
        self.read("listing users", |tx| {
            let sql = format!(
                "SELECT {COLUMNS} FROM users
                 WHERE account = ?1 AND (?2 IS NULL OR name > ?2)
                   AND substr(path, 1, length(?3)) = ?3
                 ORDER BY name LIMIT ?4"
            );
            let mut stmt = tx.prepare_cached(&sql)?;
            let rows = stmt.query_map(
                (
                    &self.account,
                    &paging.marker,
                    path_prefix.unwrap_or(""),
                    paging.limit() as i64 + 1,
                ),
                from_row,
            )?;
            let mut users = rows.collect::<Result<Vec<_>, _>>()?;
            for u in &mut users {
                u.tags = tags_of(tx, &u.id)?;
            }
            Ok(paging.finish(users, |u| u.name.clone()))
        })
    }

    /// Renames a user and/or moves it to another path (UpdateUser); its ARN follows.
    pub fn update_user(
        &self,
        name: &str,
        new_name: Option<&str>,
        new_path: Option<&str>,
    ) -> Result<User, IamError> {
        self.write("updating a user", |tx| {
            let mut user = self.user_in(tx, name)?;
            if let Some(new_name) = new_name {
                if let Some(other) = self.find_user(tx, new_name)? {
                    if other.id != user.id {
                        return Err(IamError::AlreadyExists {
                            kind: EntityKind::User,
                            name: new_name.to_string(),
                        });
                    }
                }
                user.name = new_name.to_string();
            }
            if let Some(path) = new_path {
                user.path = path.to_string();
            }
            user.arn = self.arn("user", &user.path, &user.name);
            tx.execute(
                "UPDATE users SET name = ?2, path = ?3, arn = ?4 WHERE id = ?1",
                (&user.id, &user.name, &user.path, &user.arn),
            )?;
            Ok(user)
        })
    }

    /// Sets (`Some`) or removes (`None`) a user's permissions boundary.
    pub fn set_user_permissions_boundary(
        &self,
        name: &str,
        boundary: Option<&str>,
    ) -> Result<(), IamError> {
        self.write("setting a user's permissions boundary", |tx| {
            let user = self.user_in(tx, name)?;
            tx.execute(
                "UPDATE users SET boundary = ?2 WHERE id = ?1",
                (&user.id, boundary),
            )?;
            Ok(())
        })
    }

    /// Deletes a user that has no access keys, group memberships, attached or inline
    /// policies left (a permissions boundary does not stop it).
    pub fn delete_user(&self, name: &str) -> Result<(), IamError> {
        self.write("deleting a user", |tx| {
            let user = self.user_in(tx, name)?;
            let conflict = |reason| IamError::DeleteConflict {
                kind: EntityKind::User,
                name: user.name.clone(),
                reason,
            };
            let count = |sql: &str| -> Result<i64, IamError> {
                Ok(tx.query_row(sql, [&user.id], |r| r.get(0))?)
            };
            if count("SELECT COUNT(*) FROM access_keys WHERE user_id = ?1")? > 0 {
                return Err(conflict(ConflictReason::AccessKeys));
            }
            if count("SELECT COUNT(*) FROM inline_policies WHERE entity_id = ?1")? > 0 {
                return Err(conflict(ConflictReason::InlinePolicies));
            }
            if count("SELECT COUNT(*) FROM attachments WHERE entity_id = ?1")? > 0 {
                return Err(conflict(ConflictReason::AttachedPolicies));
            }
            if count("SELECT COUNT(*) FROM memberships WHERE user_id = ?1")? > 0 {
                return Err(conflict(ConflictReason::GroupMemberships));
            }
            drop_tags(tx, &user.id)?;
            tx.execute("DELETE FROM users WHERE id = ?1", [&user.id])?;
            Ok(())
        })
    }

    pub(super) fn find_user(&self, tx: &Connection, name: &str) -> Result<Option<User>, IamError> {
        let sql = format!("SELECT {COLUMNS} FROM users WHERE account = ?1 AND name = ?2");
        let mut user = tx
            .query_row(&sql, (&self.account, name), from_row)
            .optional()?;
        if let Some(u) = &mut user {
            u.tags = tags_of(tx, &u.id)?;
        }
        Ok(user)
    }

    pub(super) fn user_in(&self, tx: &Connection, name: &str) -> Result<User, IamError> {
        self.find_user(tx, name)?
            .ok_or_else(|| IamError::missing(EntityKind::User, name))
    }
}
