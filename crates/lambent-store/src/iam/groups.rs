//! Groups (`AGPA` ids) and their members: a user is in at most ten groups.

use super::tags::drop_tags;
use super::users::User;
use super::{
    now_ms, path_or_root, sort_key, unique_id, ConflictReason, EntityKind, IamError, IamStore,
    Page, Paging, MAX_GROUPS_PER_USER,
};
use rusqlite::{Connection, OptionalExtension};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    pub name: String,
    pub path: String,
    /// `AGPA` and 17 letters and digits.
    pub id: String,
    pub arn: String,
    /// Unix milliseconds.
    pub created: i64,
}

const COLUMNS: &str = "id, name, path, arn, created";

fn from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Group> {
    Ok(Group {
        id: r.get(0)?,
        name: r.get(1)?,
        path: r.get(2)?,
        arn: r.get(3)?,
        created: r.get(4)?,
    })
}

impl IamStore {
    pub fn create_group(&self, name: &str, path: Option<&str>) -> Result<Group, IamError> {
        let path = path_or_root(path);
        self.write("creating a group", |tx| {
            if self.find_group(tx, name)?.is_some() {
                return Err(IamError::AlreadyExists {
                    kind: EntityKind::Group,
                    name: name.to_string(),
                });
            }
            let group = Group {
                name: name.to_string(),
                path: path.to_string(),
                id: unique_id("AGPA", 17),
                arn: self.arn("group", path, name),
                created: now_ms(),
            };
            tx.execute(
                "INSERT INTO groups (id, account, name, path, arn, created)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                (
                    &group.id,
                    &self.account,
                    &group.name,
                    &group.path,
                    &group.arn,
                    group.created,
                ),
            )?;
            Ok(group)
        })
    }

    pub fn group(&self, name: &str) -> Result<Group, IamError> {
        self.read("reading a group", |tx| self.group_in(tx, name))
    }

    /// GetGroup: the group and a page of its users, by name.
    pub fn group_users(
        &self,
        name: &str,
        paging: &Paging,
    ) -> Result<(Group, Page<User>), IamError> {
        self.read("reading a group", |tx| {
            let group = self.group_in(tx, name)?;
            let mut stmt = tx.prepare_cached(
                "SELECT u.name FROM memberships m JOIN users u ON u.id = m.user_id
                 WHERE m.group_id = ?1 ORDER BY u.name",
            )?;
            let names = stmt
                .query_map([&group.id], |r| r.get::<_, String>(0))?
                .collect::<Result<Vec<_>, _>>()?;
            let page = paging.apply(names, |n| sort_key(n));
            let mut users = Vec::with_capacity(page.items.len());
            for n in &page.items {
                users.push(self.user_in(tx, n)?);
            }
            Ok((
                group,
                Page {
                    items: users,
                    marker: page.marker,
                },
            ))
        })
    }

    pub fn list_groups(
        &self,
        path_prefix: Option<&str>,
        paging: &Paging,
    ) -> Result<Page<Group>, IamError> {
        self.read("listing groups", |tx| {
            let sql = format!(
                "SELECT {COLUMNS} FROM groups
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
            let groups = rows.collect::<Result<Vec<_>, _>>()?;
            Ok(paging.finish(groups, |g| g.name.clone()))
        })
    }

    /// Renames a group and/or moves it (UpdateGroup); its ARN follows.
    pub fn update_group(
        &self,
        name: &str,
        new_name: Option<&str>,
        new_path: Option<&str>,
    ) -> Result<Group, IamError> {
        self.write("updating a group", |tx| {
            let mut group = self.group_in(tx, name)?;
            if let Some(new_name) = new_name {
                if let Some(other) = self.find_group(tx, new_name)? {
                    if other.id != group.id {
                        return Err(IamError::AlreadyExists {
                            kind: EntityKind::Group,
                            name: new_name.to_string(),
                        });
                    }
                }
                group.name = new_name.to_string();
            }
            if let Some(path) = new_path {
                group.path = path.to_string();
            }
            group.arn = self.arn("group", &group.path, &group.name);
            tx.execute(
                "UPDATE groups SET name = ?2, path = ?3, arn = ?4 WHERE id = ?1",
                (&group.id, &group.name, &group.path, &group.arn),
            )?;
            Ok(group)
        })
    }

    /// Deletes a group with no members and no attached or inline policies.
    pub fn delete_group(&self, name: &str) -> Result<(), IamError> {
        self.write("deleting a group", |tx| {
            let group = self.group_in(tx, name)?;
            let conflict = |reason| IamError::DeleteConflict {
                kind: EntityKind::Group,
                name: group.name.clone(),
                reason,
            };
            let count = |sql: &str| -> Result<i64, IamError> {
                Ok(tx.query_row(sql, [&group.id], |r| r.get(0))?)
            };
            if count("SELECT COUNT(*) FROM memberships WHERE group_id = ?1")? > 0 {
                return Err(conflict(ConflictReason::GroupMembers));
            }
            if count("SELECT COUNT(*) FROM inline_policies WHERE entity_id = ?1")? > 0 {
                return Err(conflict(ConflictReason::InlinePolicies));
            }
            if count("SELECT COUNT(*) FROM attachments WHERE entity_id = ?1")? > 0 {
                return Err(conflict(ConflictReason::AttachedPolicies));
            }
            drop_tags(tx, &group.id)?;
            tx.execute("DELETE FROM groups WHERE id = ?1", [&group.id])?;
            Ok(())
        })
    }

    /// Adds a user to a group (again is a no-op); `LimitExceeded` past ten groups.
    pub fn add_user_to_group(&self, group_name: &str, user_name: &str) -> Result<(), IamError> {
        self.write("adding a user to a group", |tx| {
            let group = self.group_in(tx, group_name)?;
            let user = self.user_in(tx, user_name)?;
            let added = tx.execute(
                "INSERT OR IGNORE INTO memberships (group_id, user_id) VALUES (?1, ?2)",
                (&group.id, &user.id),
            )?;
            let count: u32 = tx.query_row(
                "SELECT COUNT(*) FROM memberships WHERE user_id = ?1",
                [&user.id],
                |r| r.get(0),
            )?;
            if added > 0 && count > MAX_GROUPS_PER_USER {
                return Err(IamError::LimitExceeded {
                    quota: "GroupsPerUser",
                    limit: MAX_GROUPS_PER_USER,
                });
            }
            Ok(())
        })
    }

    /// Removes a user from a group; a user who is not a member is left as is.
    pub fn remove_user_from_group(
        &self,
        group_name: &str,
        user_name: &str,
    ) -> Result<(), IamError> {
        self.write("removing a user from a group", |tx| {
            let group = self.group_in(tx, group_name)?;
            let user = self.user_in(tx, user_name)?;
            tx.execute(
                "DELETE FROM memberships WHERE group_id = ?1 AND user_id = ?2",
                (&group.id, &user.id),
            )?;
            Ok(())
        })
    }

    /// ListGroupsForUser, by group name.
    pub fn list_groups_for_user(
        &self,
        user_name: &str,
        paging: &Paging,
    ) -> Result<Page<Group>, IamError> {
        self.read("listing a user's groups", |tx| {
            let user = self.user_in(tx, user_name)?;
            let groups = groups_of(tx, &user.id)?;
            Ok(paging.apply(groups, |g| sort_key(&g.name)))
        })
    }

    pub(super) fn find_group(
        &self,
        tx: &Connection,
        name: &str,
    ) -> Result<Option<Group>, IamError> {
        let sql = format!("SELECT {COLUMNS} FROM groups WHERE account = ?1 AND name = ?2");
        Ok(tx
            .query_row(&sql, (&self.account, name), from_row)
            .optional()?)
    }

    pub(super) fn group_in(&self, tx: &Connection, name: &str) -> Result<Group, IamError> {
        self.find_group(tx, name)?
            .ok_or_else(|| IamError::missing(EntityKind::Group, name))
    }
}

/// The groups a user is in, by name.
pub(super) fn groups_of(tx: &Connection, user_id: &str) -> Result<Vec<Group>, IamError> {
    let mut stmt = tx.prepare_cached(
        "SELECT g.id, g.name, g.path, g.arn, g.created
         FROM memberships m JOIN groups g ON g.id = m.group_id
         WHERE m.user_id = ?1 ORDER BY g.name",
    )?;
    let rows = stmt.query_map([user_id], from_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}
