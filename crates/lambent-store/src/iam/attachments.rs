//! Managed policies attached to users, groups and roles (at most ten each), and inline
//! policies (name → document) embedded in them.

use super::{sort_key, EntityKind, IamError, IamStore, Page, Paging, MAX_ATTACHED_POLICIES};
use rusqlite::OptionalExtension;

/// A managed policy as ListAttached*Policies shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttachedPolicy {
    pub name: String,
    pub arn: String,
}

/// A user, group or role a managed policy is attached to (ListEntitiesForPolicy).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttachedEntity {
    pub kind: EntityKind,
    pub name: String,
    pub id: String,
}

fn quota(kind: EntityKind) -> &'static str {
    match kind {
        EntityKind::User => "PoliciesPerUser",
        EntityKind::Group => "PoliciesPerGroup",
        _ => "PoliciesPerRole",
    }
}

fn check_owner(kind: EntityKind) -> Result<(), IamError> {
    match kind {
        EntityKind::User | EntityKind::Group | EntityKind::Role => Ok(()),
        other => Err(IamError::InvalidInput {
            message: format!("a {} holds no policies", other.noun()),
        }),
    }
}

impl IamStore {
    /// Attaches a managed policy (the account's or AWS's) to a user, group or role; again is
    /// a no-op; `LimitExceeded` past ten.
    pub fn attach_policy(&self, kind: EntityKind, name: &str, arn: &str) -> Result<(), IamError> {
        check_owner(kind)?;
        self.write("attaching a policy", |tx| {
            let owner = self.entity_id(tx, kind, name)?;
            let policy = self.policy_in(tx, arn)?;
            let added = tx.execute(
                "INSERT OR IGNORE INTO attachments (entity_id, policy_id) VALUES (?1, ?2)",
                (&owner, &policy.id),
            )?;
            let count: u32 = tx.query_row(
                "SELECT COUNT(*) FROM attachments WHERE entity_id = ?1",
                [&owner],
                |r| r.get(0),
            )?;
            if added > 0 && count > MAX_ATTACHED_POLICIES {
                return Err(IamError::LimitExceeded {
                    quota: quota(kind),
                    limit: MAX_ATTACHED_POLICIES,
                });
            }
            Ok(())
        })
    }

    /// Detaches a managed policy; `NoSuchEntity` (the policy) if it was not attached.
    pub fn detach_policy(&self, kind: EntityKind, name: &str, arn: &str) -> Result<(), IamError> {
        check_owner(kind)?;
        self.write("detaching a policy", |tx| {
            let owner = self.entity_id(tx, kind, name)?;
            let policy = self.policy_in(tx, arn)?;
            let removed = tx.execute(
                "DELETE FROM attachments WHERE entity_id = ?1 AND policy_id = ?2",
                (&owner, &policy.id),
            )?;
            if removed == 0 {
                return Err(IamError::missing(EntityKind::Policy, arn));
            }
            Ok(())
        })
    }

    /// ListAttached{User,Group,Role}Policies, by policy name.
    pub fn list_attached_policies(
        &self,
        kind: EntityKind,
        name: &str,
        path_prefix: Option<&str>,
        paging: &Paging,
    ) -> Result<Page<AttachedPolicy>, IamError> {
        check_owner(kind)?;
        self.read("listing attached policies", |tx| {
            let owner = self.entity_id(tx, kind, name)?;
            let mut stmt = tx.prepare_cached(
                "SELECT p.name, p.arn FROM attachments a JOIN policies p ON p.id = a.policy_id
                 WHERE a.entity_id = ?1 AND substr(p.path, 1, length(?2)) = ?2
                 ORDER BY p.name, p.arn",
            )?;
            let rows = stmt.query_map((&owner, path_prefix.unwrap_or("")), |r| {
                Ok(AttachedPolicy {
                    name: r.get(0)?,
                    arn: r.get(1)?,
                })
            })?;
            let all = rows.collect::<Result<Vec<_>, _>>()?;
            Ok(paging.apply(all, |p| format!("{}\n{}", sort_key(&p.name), p.arn)))
        })
    }

    /// ListEntitiesForPolicy: groups, then roles, then users, each by name; `only` keeps one
    /// kind.
    pub fn list_entities_for_policy(
        &self,
        arn: &str,
        only: Option<EntityKind>,
        path_prefix: Option<&str>,
        paging: &Paging,
    ) -> Result<Page<AttachedEntity>, IamError> {
        self.read("listing a policy's entities", |tx| {
            let policy = self.policy_in(tx, arn)?;
            let mut all = Vec::new();
            for (kind, table, rank) in [
                (EntityKind::Group, "groups", 0),
                (EntityKind::Role, "roles", 1),
                (EntityKind::User, "users", 2),
            ] {
                if only.is_some_and(|o| o != kind) {
                    continue;
                }
                let sql = format!(
                    "SELECT e.name, e.id FROM attachments a JOIN {table} e ON e.id = a.entity_id
                     WHERE a.policy_id = ?1 AND substr(e.path, 1, length(?2)) = ?2
                     ORDER BY e.name"
                );
                let mut stmt = tx.prepare_cached(&sql)?;
                let rows = stmt.query_map((&policy.id, path_prefix.unwrap_or("")), |r| {
                    Ok((
                        rank,
                        AttachedEntity {
                            kind,
                            name: r.get(0)?,
                            id: r.get(1)?,
                        },
                    ))
                })?;
                for row in rows {
                    all.push(row?);
                }
            }
            let page = paging.apply(all, |(rank, e)| format!("{rank}{}", sort_key(&e.name)));
            Ok(Page {
                items: page.items.into_iter().map(|(_, e)| e).collect(),
                marker: page.marker,
            })
        })
    }

    /// Put{User,Group,Role}Policy: adds or replaces an inline policy.
    pub fn put_inline_policy(
        &self,
        kind: EntityKind,
        name: &str,
        policy_name: &str,
        document: &str,
    ) -> Result<(), IamError> {
        check_owner(kind)?;
        self.write("putting an inline policy", |tx| {
            let owner = self.entity_id(tx, kind, name)?;
            tx.execute(
                "INSERT INTO inline_policies (entity_id, name, document) VALUES (?1, ?2, ?3)
                 ON CONFLICT (entity_id, name) DO UPDATE SET
                     name = excluded.name, document = excluded.document",
                (&owner, policy_name, document),
            )?;
            Ok(())
        })
    }

    /// Get{User,Group,Role}Policy: the policy's name as stored and its document.
    pub fn inline_policy(
        &self,
        kind: EntityKind,
        name: &str,
        policy_name: &str,
    ) -> Result<(String, String), IamError> {
        check_owner(kind)?;
        self.read("reading an inline policy", |tx| {
            let owner = self.entity_id(tx, kind, name)?;
            tx.query_row(
                "SELECT name, document FROM inline_policies WHERE entity_id = ?1 AND name = ?2",
                (&owner, policy_name),
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?
            .ok_or_else(|| IamError::missing(kind.inline(), policy_name))
        })
    }

    /// List{User,Group,Role}Policies: the names, in order.
    pub fn list_inline_policies(
        &self,
        kind: EntityKind,
        name: &str,
        paging: &Paging,
    ) -> Result<Page<String>, IamError> {
        check_owner(kind)?;
        self.read("listing inline policies", |tx| {
            let owner = self.entity_id(tx, kind, name)?;
            let mut stmt = tx.prepare_cached(
                "SELECT name FROM inline_policies WHERE entity_id = ?1 ORDER BY name",
            )?;
            let names = stmt
                .query_map([&owner], |r| r.get::<_, String>(0))?
                .collect::<Result<Vec<_>, _>>()?;
            Ok(paging.apply(names, |n| sort_key(n)))
        })
    }

    pub fn delete_inline_policy(
        &self,
        kind: EntityKind,
        name: &str,
        policy_name: &str,
    ) -> Result<(), IamError> {
        check_owner(kind)?;
        self.write("deleting an inline policy", |tx| {
            let owner = self.entity_id(tx, kind, name)?;
            let removed = tx.execute(
                "DELETE FROM inline_policies WHERE entity_id = ?1 AND name = ?2",
                (&owner, policy_name),
            )?;
            if removed == 0 {
                return Err(IamError::missing(kind.inline(), policy_name));
            }
            Ok(())
        })
    }
}
