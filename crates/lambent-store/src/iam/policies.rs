//! Managed policies (`ANPA` ids) and their versions: the account's own, and the AWS-managed
//! ones (`arn:aws:iam::aws:policy/...`) the caller seeds. A policy keeps at most five
//! versions, numbered `v1`, `v2`, ... by a counter that never reuses a number; exactly one is
//! the default, the one that applies.

use super::tags::{drop_tags, put_tags, tags_of};
use super::{
    now_ms, path_or_root, unique_id, ConflictReason, EntityKind, IamError, IamStore, Page, Paging,
    Tag, AWS_ACCOUNT, MAX_POLICY_VERSIONS,
};
use rusqlite::{Connection, OptionalExtension};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManagedPolicy {
    pub name: String,
    pub path: String,
    /// `ANPA` and 17 letters and digits.
    pub id: String,
    pub arn: String,
    pub description: Option<String>,
    /// `v1`, `v2`, ...
    pub default_version: String,
    /// Users, groups and roles it is attached to.
    pub attachment_count: u32,
    /// Users and roles it bounds.
    pub boundary_usage_count: u32,
    /// Unix milliseconds.
    pub created: i64,
    /// When a version was last added or made default; Unix milliseconds.
    pub updated: i64,
    pub tags: Vec<Tag>,
    /// One of AWS's (seeded), which the account cannot change.
    pub aws_managed: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyVersion {
    /// `v1`, `v2`, ...
    pub version_id: String,
    pub document: String,
    pub is_default: bool,
    /// Unix milliseconds.
    pub created: i64,
}

/// CreatePolicy's request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NewPolicy {
    pub name: String,
    /// `/` when `None`.
    pub path: Option<String>,
    pub document: String,
    pub description: Option<String>,
    pub tags: Vec<Tag>,
}

/// ListPolicies' `Scope`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PolicyScope {
    #[default]
    All,
    Aws,
    Local,
}

/// A built-in policy for [`IamStore::seed_aws_managed`]: ARN, name, path, document.
pub type AwsManagedPolicy<'a> = (&'a str, &'a str, &'a str, &'a str);

const COLUMNS: &str = "p.id, p.name, p.path, p.arn, p.description, p.default_version,
    p.created, p.updated, p.account,
    (SELECT COUNT(*) FROM attachments a WHERE a.policy_id = p.id),
    (SELECT COUNT(*) FROM users u WHERE u.boundary = p.arn)
      + (SELECT COUNT(*) FROM roles r WHERE r.boundary = p.arn)";

fn from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<ManagedPolicy> {
    Ok(ManagedPolicy {
        id: r.get(0)?,
        name: r.get(1)?,
        path: r.get(2)?,
        arn: r.get(3)?,
        description: r.get(4)?,
        default_version: version_id(r.get(5)?),
        created: r.get(6)?,
        updated: r.get(7)?,
        aws_managed: r.get::<_, String>(8)? == AWS_ACCOUNT,
        attachment_count: r.get(9)?,
        boundary_usage_count: r.get(10)?,
        tags: Vec::new(),
    })
}

fn version_id(n: i64) -> String {
    format!("v{n}")
}

fn version_number(id: &str) -> Option<i64> {
    id.strip_prefix('v')?.parse().ok().filter(|n| *n > 0)
}

impl IamStore {
    pub fn create_policy(&self, new: &NewPolicy) -> Result<ManagedPolicy, IamError> {
        let path = path_or_root(new.path.as_deref());
        self.write("creating a policy", |tx| {
            let taken: Option<String> = tx
                .query_row(
                    "SELECT id FROM policies WHERE account = ?1 AND name = ?2",
                    (&self.account, &new.name),
                    |r| r.get(0),
                )
                .optional()?;
            if taken.is_some() {
                return Err(IamError::AlreadyExists {
                    kind: EntityKind::Policy,
                    name: new.name.clone(),
                });
            }
            let id = unique_id("ANPA", 17);
            let now = now_ms();
            tx.execute(
                "INSERT INTO policies (id, account, name, path, arn, description,
                                       default_version, next_version, created, updated)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, 1, 2, ?7, ?7)",
                rusqlite::params![
                    id,
                    self.account,
                    new.name,
                    path,
                    self.arn("policy", path, &new.name),
                    new.description,
                    now
                ],
            )?;
            tx.execute(
                "INSERT INTO policy_versions (policy_id, version, document, created)
                 VALUES (?1, 1, ?2, ?3)",
                (&id, &new.document, now),
            )?;
            put_tags(tx, &id, &new.tags)?;
            self.policy_in(tx, &self.arn("policy", path, &new.name))
        })
    }

    /// Inserts AWS-managed policies, or replaces the document and path of ones already
    /// seeded (each has the one version `v1`).
    pub fn seed_aws_managed(&self, policies: &[AwsManagedPolicy<'_>]) -> Result<(), IamError> {
        self.write("seeding AWS-managed policies", |tx| {
            let now = now_ms();
            for (arn, name, path, document) in policies {
                let existing: Option<String> = tx
                    .query_row("SELECT id FROM policies WHERE arn = ?1", [arn], |r| {
                        r.get(0)
                    })
                    .optional()?;
                let id = match existing {
                    Some(id) => {
                        tx.execute(
                            "UPDATE policies SET name = ?2, path = ?3 WHERE id = ?1",
                            (&id, name, path),
                        )?;
                        id
                    }
                    None => {
                        let id = unique_id("ANPA", 17);
                        tx.execute(
                            "INSERT INTO policies (id, account, name, path, arn, default_version,
                                                   next_version, created, updated)
                             VALUES (?1, ?2, ?3, ?4, ?5, 1, 2, ?6, ?6)",
                            (&id, AWS_ACCOUNT, name, path, arn, now),
                        )?;
                        id
                    }
                };
                tx.execute(
                    "INSERT INTO policy_versions (policy_id, version, document, created)
                     VALUES (?1, 1, ?2, ?3)
                     ON CONFLICT (policy_id, version) DO UPDATE SET document = excluded.document",
                    (&id, document, now),
                )?;
            }
            Ok(())
        })
    }

    pub fn policy(&self, arn: &str) -> Result<ManagedPolicy, IamError> {
        self.read("reading a policy", |tx| self.policy_in(tx, arn))
    }

    /// ListPolicies: by name (then the account's before AWS's when both have one).
    pub fn list_policies(
        &self,
        scope: PolicyScope,
        only_attached: bool,
        path_prefix: Option<&str>,
        paging: &Paging,
    ) -> Result<Page<ManagedPolicy>, IamError> {
        self.read("listing policies", |tx| {
            let (local, aws) = match scope {
                PolicyScope::All => (self.account.as_str(), AWS_ACCOUNT),
                PolicyScope::Aws => (AWS_ACCOUNT, AWS_ACCOUNT),
                PolicyScope::Local => (self.account.as_str(), self.account.as_str()),
            };
            // The marker is `name` and `0` or `1` (the account's, AWS's): a position in the
            // ORDER BY below.
            let (after_name, after_rank) = match &paging.marker {
                Some(m) => match m.rsplit_once('\n') {
                    Some((name, rank)) => {
                        (Some(name.to_string()), rank.parse::<i64>().unwrap_or(1))
                    }
                    None => (Some(m.clone()), 1),
                },
                None => (None, 0),
            };
            let sql = format!(
                "SELECT {COLUMNS}, (p.account = '{AWS_ACCOUNT}') AS rank FROM policies p
                 WHERE p.account IN (?1, ?2)
                   AND (?3 IS NULL OR (p.name, (p.account = '{AWS_ACCOUNT}')) > (?3, ?4))
                   AND substr(p.path, 1, length(?5)) = ?5
                   AND (?6 = 0 OR EXISTS (SELECT 1 FROM attachments a WHERE a.policy_id = p.id))
                 ORDER BY p.name, rank LIMIT ?7"
            );
            let mut stmt = tx.prepare_cached(&sql)?;
            let rows = stmt.query_map(
                rusqlite::params![
                    local,
                    aws,
                    after_name,
                    after_rank,
                    path_prefix.unwrap_or(""),
                    only_attached,
                    paging.limit() as i64 + 1
                ],
                from_row,
            )?;
            let mut policies = rows.collect::<Result<Vec<_>, _>>()?;
            for p in &mut policies {
                p.tags = tags_of(tx, &p.id)?;
            }
            Ok(paging.finish(policies, |p| {
                format!("{}\n{}", p.name, u8::from(p.aws_managed))
            }))
        })
    }

    /// Deletes one of the account's policies once it is attached to nothing and has no
    /// version but the default.
    pub fn delete_policy(&self, arn: &str) -> Result<(), IamError> {
        self.write("deleting a policy", |tx| {
            let policy = self.local_policy(tx, arn)?;
            let conflict = |reason| IamError::DeleteConflict {
                kind: EntityKind::Policy,
                name: arn.to_string(),
                reason,
            };
            if policy.attachment_count > 0 {
                return Err(conflict(ConflictReason::PolicyAttached));
            }
            let versions: i64 = tx.query_row(
                "SELECT COUNT(*) FROM policy_versions WHERE policy_id = ?1",
                [&policy.id],
                |r| r.get(0),
            )?;
            if versions > 1 {
                return Err(conflict(ConflictReason::NonDefaultVersions));
            }
            drop_tags(tx, &policy.id)?;
            tx.execute(
                "DELETE FROM policy_versions WHERE policy_id = ?1",
                [&policy.id],
            )?;
            tx.execute("DELETE FROM policies WHERE id = ?1", [&policy.id])?;
            Ok(())
        })
    }

    /// CreatePolicyVersion: the next number, made the default if asked; `LimitExceeded`
    /// when the policy has five versions already.
    pub fn create_policy_version(
        &self,
        arn: &str,
        document: &str,
        set_as_default: bool,
    ) -> Result<PolicyVersion, IamError> {
        self.write("creating a policy version", |tx| {
            let policy = self.local_policy(tx, arn)?;
            let count: u32 = tx.query_row(
                "SELECT COUNT(*) FROM policy_versions WHERE policy_id = ?1",
                [&policy.id],
                |r| r.get(0),
            )?;
            if count >= MAX_POLICY_VERSIONS {
                return Err(IamError::LimitExceeded {
                    quota: "VersionsPerPolicy",
                    limit: MAX_POLICY_VERSIONS,
                });
            }
            let number: i64 = tx.query_row(
                "SELECT next_version FROM policies WHERE id = ?1",
                [&policy.id],
                |r| r.get(0),
            )?;
            let now = now_ms();
            tx.execute(
                "INSERT INTO policy_versions (policy_id, version, document, created)
                 VALUES (?1, ?2, ?3, ?4)",
                (&policy.id, number, document, now),
            )?;
            tx.execute(
                "UPDATE policies SET next_version = ?2 + 1, updated = ?3,
                     default_version = CASE WHEN ?4 THEN ?2 ELSE default_version END
                 WHERE id = ?1",
                (&policy.id, number, now, set_as_default),
            )?;
            Ok(PolicyVersion {
                version_id: version_id(number),
                document: document.to_string(),
                is_default: set_as_default,
                created: now,
            })
        })
    }

    pub fn policy_version(&self, arn: &str, version: &str) -> Result<PolicyVersion, IamError> {
        self.read("reading a policy version", |tx| {
            let policy = self.policy_in(tx, arn)?;
            let versions = versions_of(tx, &policy)?;
            versions
                .into_iter()
                .find(|v| v.version_id == version)
                .ok_or_else(|| IamError::missing(EntityKind::PolicyVersion, version))
        })
    }

    /// ListPolicyVersions, newest first.
    pub fn list_policy_versions(
        &self,
        arn: &str,
        paging: &Paging,
    ) -> Result<Page<PolicyVersion>, IamError> {
        self.read("listing policy versions", |tx| {
            let policy = self.policy_in(tx, arn)?;
            let versions = versions_of(tx, &policy)?;
            // Newest first, so the key counts down.
            Ok(paging.apply(versions, |v| {
                let n = version_number(&v.version_id).unwrap_or(0);
                format!("{:020}", i64::MAX - n)
            }))
        })
    }

    /// Deletes a version that is not the default.
    pub fn delete_policy_version(&self, arn: &str, version: &str) -> Result<(), IamError> {
        self.write("deleting a policy version", |tx| {
            let policy = self.local_policy(tx, arn)?;
            let number = self.version_in(tx, &policy, version)?;
            if version_id(number) == policy.default_version {
                return Err(IamError::DeleteConflict {
                    kind: EntityKind::PolicyVersion,
                    name: version.to_string(),
                    reason: ConflictReason::DefaultVersion,
                });
            }
            tx.execute(
                "DELETE FROM policy_versions WHERE policy_id = ?1 AND version = ?2",
                (&policy.id, number),
            )?;
            Ok(())
        })
    }

    /// SetDefaultPolicyVersion.
    pub fn set_default_policy_version(&self, arn: &str, version: &str) -> Result<(), IamError> {
        self.write("setting a policy's default version", |tx| {
            let policy = self.local_policy(tx, arn)?;
            let number = self.version_in(tx, &policy, version)?;
            tx.execute(
                "UPDATE policies SET default_version = ?2, updated = ?3 WHERE id = ?1",
                (&policy.id, number, now_ms()),
            )?;
            Ok(())
        })
    }

    pub(super) fn find_policy(
        &self,
        tx: &Connection,
        arn: &str,
    ) -> Result<Option<ManagedPolicy>, IamError> {
        let sql = format!("SELECT {COLUMNS} FROM policies p WHERE p.arn = ?1");
        let mut policy = tx.query_row(&sql, [arn], from_row).optional()?;
        if let Some(p) = &mut policy {
            p.tags = tags_of(tx, &p.id)?;
        }
        Ok(policy)
    }

    pub(super) fn policy_in(&self, tx: &Connection, arn: &str) -> Result<ManagedPolicy, IamError> {
        self.find_policy(tx, arn)?
            .ok_or_else(|| IamError::missing(EntityKind::Policy, arn))
    }

    /// A policy the account may change: its own, not AWS's.
    fn local_policy(&self, tx: &Connection, arn: &str) -> Result<ManagedPolicy, IamError> {
        let policy = self.policy_in(tx, arn)?;
        if policy.aws_managed {
            return Err(IamError::Unmodifiable {
                arn: arn.to_string(),
            });
        }
        Ok(policy)
    }

    fn version_in(
        &self,
        tx: &Connection,
        policy: &ManagedPolicy,
        version: &str,
    ) -> Result<i64, IamError> {
        let missing = || IamError::missing(EntityKind::PolicyVersion, version);
        let number = version_number(version).ok_or_else(missing)?;
        let found: Option<i64> = tx
            .query_row(
                "SELECT version FROM policy_versions WHERE policy_id = ?1 AND version = ?2",
                (&policy.id, number),
                |r| r.get(0),
            )
            .optional()?;
        found.ok_or_else(missing)
    }
}

/// A policy's versions, newest first.
fn versions_of(tx: &Connection, policy: &ManagedPolicy) -> Result<Vec<PolicyVersion>, IamError> {
    let mut stmt = tx.prepare_cached(
        "SELECT version, document, created FROM policy_versions WHERE policy_id = ?1
         ORDER BY version DESC",
    )?;
    let rows = stmt.query_map([&policy.id], |r| {
        let id = version_id(r.get(0)?);
        Ok(PolicyVersion {
            is_default: id == policy.default_version,
            version_id: id,
            document: r.get(1)?,
            created: r.get(2)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// The default version's document of the policy with this id.
pub(super) fn default_document(tx: &Connection, policy_id: &str) -> Result<String, IamError> {
    Ok(tx.query_row(
        "SELECT v.document FROM policies p JOIN policy_versions v
             ON v.policy_id = p.id AND v.version = p.default_version
         WHERE p.id = ?1",
        [policy_id],
        |r| r.get(0),
    )?)
}
