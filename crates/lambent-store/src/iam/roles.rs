//! Roles (`AROA` ids): trust policy, description, maximum session duration (3600 to 43200
//! seconds), permissions boundary, tags, and when the role was last used.

use super::tags::{drop_tags, put_tags, tags_of};
use super::{
    now_ms, path_or_root, unique_id, ConflictReason, EntityKind, IamError, IamStore, LastUsed,
    Page, Paging, Tag,
};
use rusqlite::{Connection, OptionalExtension};

pub const DEFAULT_MAX_SESSION_DURATION: u32 = 3600;
const SESSION_DURATIONS: std::ops::RangeInclusive<u32> = 3600..=43200;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Role {
    pub name: String,
    pub path: String,
    /// `AROA` and 17 letters and digits.
    pub id: String,
    pub arn: String,
    /// Unix milliseconds.
    pub created: i64,
    /// The assume-role policy document, as the caller sent it.
    pub trust_policy: String,
    pub description: Option<String>,
    /// Seconds.
    pub max_session_duration: u32,
    pub permissions_boundary: Option<String>,
    pub tags: Vec<Tag>,
    pub last_used: Option<LastUsed>,
}

/// CreateRole's request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NewRole {
    pub name: String,
    /// `/` when `None`.
    pub path: Option<String>,
    pub trust_policy: String,
    pub description: Option<String>,
    /// 3600 when `None`.
    pub max_session_duration: Option<u32>,
    pub permissions_boundary: Option<String>,
    pub tags: Vec<Tag>,
}

/// UpdateRole's request: what is `Some` changes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RoleUpdate {
    pub description: Option<String>,
    pub max_session_duration: Option<u32>,
}

const COLUMNS: &str =
    "id, name, path, arn, created, trust_policy, description, max_session_duration, boundary";

fn from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Role> {
    Ok(Role {
        id: r.get(0)?,
        name: r.get(1)?,
        path: r.get(2)?,
        arn: r.get(3)?,
        created: r.get(4)?,
        trust_policy: r.get(5)?,
        description: r.get(6)?,
        max_session_duration: r.get(7)?,
        permissions_boundary: r.get(8)?,
        tags: Vec::new(),
        last_used: None,
    })
}

fn check_duration(seconds: u32) -> Result<u32, IamError> {
    if SESSION_DURATIONS.contains(&seconds) {
        Ok(seconds)
    } else {
        Err(IamError::InvalidInput {
            message: format!(
                "MaxSessionDuration {seconds} is outside {}..{}",
                SESSION_DURATIONS.start(),
                SESSION_DURATIONS.end()
            ),
        })
    }
}

impl IamStore {
    pub fn create_role(&self, new: &NewRole) -> Result<Role, IamError> {
        let duration = check_duration(
            new.max_session_duration
                .unwrap_or(DEFAULT_MAX_SESSION_DURATION),
        )?;
        let path = path_or_root(new.path.as_deref());
        self.write("creating a role", |tx| {
            if self.find_role(tx, &new.name)?.is_some() {
                return Err(IamError::AlreadyExists {
                    kind: EntityKind::Role,
                    name: new.name.clone(),
                });
            }
            let role = Role {
                name: new.name.clone(),
                path: path.to_string(),
                id: unique_id("AROA", 17),
                arn: self.arn("role", path, &new.name),
                created: now_ms(),
                trust_policy: new.trust_policy.clone(),
                description: new.description.clone(),
                max_session_duration: duration,
                permissions_boundary: new.permissions_boundary.clone(),
                tags: new.tags.clone(),
                last_used: None,
            };
            tx.execute(
                "INSERT INTO roles (id, account, name, path, arn, created, trust_policy,
                                    description, max_session_duration, boundary)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
                rusqlite::params![
                    role.id,
                    self.account,
                    role.name,
                    role.path,
                    role.arn,
                    role.created,
                    role.trust_policy,
                    role.description,
                    role.max_session_duration,
                    role.permissions_boundary,
                ],
            )?;
            put_tags(tx, &role.id, &role.tags)?;
            Ok(role)
        })
    }

    pub fn role(&self, name: &str) -> Result<Role, IamError> {
        self.read("reading a role", |tx| self.role_in(tx, name))
    }

    pub fn list_roles(
        &self,
        path_prefix: Option<&str>,
        paging: &Paging,
    ) -> Result<Page<Role>, IamError> {
        self.read("listing roles", |tx| {
            let sql = format!(
                "SELECT {COLUMNS} FROM roles
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
            let mut roles = rows.collect::<Result<Vec<_>, _>>()?;
            for role in &mut roles {
                self.complete(tx, role)?;
            }
            Ok(paging.finish(roles, |r| r.name.clone()))
        })
    }

    /// UpdateRole: the description and/or the maximum session duration.
    pub fn update_role(&self, name: &str, update: &RoleUpdate) -> Result<Role, IamError> {
        if let Some(seconds) = update.max_session_duration {
            check_duration(seconds)?;
        }
        self.write("updating a role", |tx| {
            let mut role = self.role_in(tx, name)?;
            if let Some(d) = &update.description {
                role.description = Some(d.clone());
            }
            if let Some(s) = update.max_session_duration {
                role.max_session_duration = s;
            }
            tx.execute(
                "UPDATE roles SET description = ?2, max_session_duration = ?3 WHERE id = ?1",
                (&role.id, &role.description, role.max_session_duration),
            )?;
            Ok(role)
        })
    }

    /// UpdateAssumeRolePolicy.
    pub fn update_trust_policy(&self, name: &str, document: &str) -> Result<(), IamError> {
        self.write("updating a role's trust policy", |tx| {
            let role = self.role_in(tx, name)?;
            tx.execute(
                "UPDATE roles SET trust_policy = ?2 WHERE id = ?1",
                (&role.id, document),
            )?;
            Ok(())
        })
    }

    /// Sets (`Some`) or removes (`None`) a role's permissions boundary.
    pub fn set_role_permissions_boundary(
        &self,
        name: &str,
        boundary: Option<&str>,
    ) -> Result<(), IamError> {
        self.write("setting a role's permissions boundary", |tx| {
            let role = self.role_in(tx, name)?;
            tx.execute(
                "UPDATE roles SET boundary = ?2 WHERE id = ?1",
                (&role.id, boundary),
            )?;
            Ok(())
        })
    }

    /// Deletes a role with no attached or inline policies left.
    pub fn delete_role(&self, name: &str) -> Result<(), IamError> {
        let id = self.write("deleting a role", |tx| {
            let role = self.role_in(tx, name)?;
            let conflict = |reason| IamError::DeleteConflict {
                kind: EntityKind::Role,
                name: role.name.clone(),
                reason,
            };
            let count = |sql: &str| -> Result<i64, IamError> {
                Ok(tx.query_row(sql, [&role.id], |r| r.get(0))?)
            };
            if count("SELECT COUNT(*) FROM attachments WHERE entity_id = ?1")? > 0 {
                return Err(conflict(ConflictReason::AttachedPolicies));
            }
            if count("SELECT COUNT(*) FROM inline_policies WHERE entity_id = ?1")? > 0 {
                return Err(conflict(ConflictReason::InlinePolicies));
            }
            drop_tags(tx, &role.id)?;
            tx.execute("DELETE FROM last_used WHERE id = ?1", [&role.id])?;
            tx.execute("DELETE FROM roles WHERE id = ?1", [&role.id])?;
            Ok(role.id)
        })?;
        self.stamps().roles.remove(&id);
        Ok(())
    }

    pub(super) fn find_role(&self, tx: &Connection, name: &str) -> Result<Option<Role>, IamError> {
        let sql = format!("SELECT {COLUMNS} FROM roles WHERE account = ?1 AND name = ?2");
        let mut role = tx
            .query_row(&sql, (&self.account, name), from_row)
            .optional()?;
        if let Some(r) = &mut role {
            self.complete(tx, r)?;
        }
        Ok(role)
    }

    pub(super) fn role_in(&self, tx: &Connection, name: &str) -> Result<Role, IamError> {
        self.find_role(tx, name)?
            .ok_or_else(|| IamError::missing(EntityKind::Role, name))
    }

    fn complete(&self, tx: &Connection, role: &mut Role) -> Result<(), IamError> {
        role.tags = tags_of(tx, &role.id)?;
        role.last_used = self.last_used(tx, &role.id)?;
        Ok(())
    }
}
