//! What the authorizer compiles for a user or a role: every identity policy that applies and
//! the permissions boundary, gathered in one snapshot.

use super::groups::groups_of;
use super::policies::default_document;
use super::tags::tags_of;
use super::{EntityKind, IamError, IamStore, Tag};
use rusqlite::Connection;
use std::collections::HashSet;
use std::sync::atomic::Ordering;

/// A user or role, by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Principal<'a> {
    User(&'a str),
    Role(&'a str),
}

/// Where a document came from, for explanations and `Sid`-less diagnostics.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PolicySource {
    /// An inline policy of the principal or (for a user) of one of its groups.
    Inline {
        owner_kind: EntityKind,
        owner: String,
        name: String,
    },
    /// A managed policy's default version.
    Managed { arn: String, version: String },
    /// A boundary naming a policy that no longer exists: the document allows nothing.
    MissingBoundary { arn: String },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppliedPolicy {
    pub source: PolicySource,
    /// The JSON text as stored.
    pub document: String,
}

/// Everything that decides what a principal may do, as of `generation`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrincipalPolicies {
    pub arn: String,
    /// `AIDA...` or `AROA...`.
    pub id: String,
    /// For `aws:PrincipalTag/...`.
    pub tags: Vec<Tag>,
    /// Inline policies, then attached managed ones (each once); for a user, then each
    /// group's (by group name), inline then attached.
    pub identity: Vec<AppliedPolicy>,
    pub boundary: Option<AppliedPolicy>,
    /// [`IamStore::generation`] when this was read: current while it has not moved.
    pub generation: u64,
}

/// A boundary whose policy is gone bounds everything away.
const ALLOWS_NOTHING: &str = r#"{"Version":"2012-10-17","Statement":[]}"#;

impl IamStore {
    /// The policies that apply to a user or role; `NoSuchEntity` if it does not exist.
    pub fn policies_for(&self, principal: Principal<'_>) -> Result<PrincipalPolicies, IamError> {
        self.read("gathering a principal's policies", |tx| {
            // Writes bump the generation while holding the connection, which this read holds
            // now: the number matches the snapshot exactly.
            let generation = self.generation.load(Ordering::Acquire);
            let (kind, name, id, arn, boundary) = match principal {
                Principal::User(name) => {
                    let u = self.user_in(tx, name)?;
                    (
                        EntityKind::User,
                        u.name,
                        u.id,
                        u.arn,
                        u.permissions_boundary,
                    )
                }
                Principal::Role(name) => {
                    let r = self.find_role_row(tx, name)?;
                    (EntityKind::Role, r.0, r.1, r.2, r.3)
                }
            };
            let mut identity = Vec::new();
            let mut seen = HashSet::new();
            gather(tx, kind, &name, &id, &mut identity, &mut seen)?;
            if kind == EntityKind::User {
                for group in groups_of(tx, &id)? {
                    gather(
                        tx,
                        EntityKind::Group,
                        &group.name,
                        &group.id,
                        &mut identity,
                        &mut seen,
                    )?;
                }
            }
            let boundary = match boundary {
                None => None,
                Some(arn) => Some(match self.find_policy(tx, &arn)? {
                    Some(p) => AppliedPolicy {
                        document: default_document(tx, &p.id)?,
                        source: PolicySource::Managed {
                            arn,
                            version: p.default_version,
                        },
                    },
                    None => AppliedPolicy {
                        source: PolicySource::MissingBoundary { arn },
                        document: ALLOWS_NOTHING.to_string(),
                    },
                }),
            };
            Ok(PrincipalPolicies {
                arn,
                tags: tags_of(tx, &id)?,
                id,
                identity,
                boundary,
                generation,
            })
        })
    }

    /// A role's name, id, ARN and boundary, without the extras `role_in` loads.
    fn find_role_row(
        &self,
        tx: &Connection,
        name: &str,
    ) -> Result<(String, String, String, Option<String>), IamError> {
        use rusqlite::OptionalExtension;
        tx.query_row(
            "SELECT name, id, arn, boundary FROM roles WHERE account = ?1 AND name = ?2",
            (&self.account, name),
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .optional()?
        .ok_or_else(|| IamError::missing(EntityKind::Role, name))
    }
}

/// Appends an owner's inline policies (by name) and attached policies' default versions
/// (by name, skipping any already gathered).
fn gather(
    tx: &Connection,
    owner_kind: EntityKind,
    owner: &str,
    owner_id: &str,
    out: &mut Vec<AppliedPolicy>,
    seen: &mut HashSet<String>,
) -> Result<(), IamError> {
    let mut stmt = tx.prepare_cached(
        "SELECT name, document FROM inline_policies WHERE entity_id = ?1 ORDER BY name",
    )?;
    let rows = stmt.query_map([owner_id], |r| {
        Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
    })?;
    for row in rows {
        let (name, document) = row?;
        out.push(AppliedPolicy {
            source: PolicySource::Inline {
                owner_kind,
                owner: owner.to_string(),
                name,
            },
            document,
        });
    }
    let mut stmt = tx.prepare_cached(
        "SELECT p.arn, p.default_version, v.document
         FROM attachments a
         JOIN policies p ON p.id = a.policy_id
         JOIN policy_versions v ON v.policy_id = p.id AND v.version = p.default_version
         WHERE a.entity_id = ?1 ORDER BY p.name, p.arn",
    )?;
    let rows = stmt.query_map([owner_id], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, i64>(1)?,
            r.get::<_, String>(2)?,
        ))
    })?;
    for row in rows {
        let (arn, version, document) = row?;
        if seen.insert(arn.clone()) {
            out.push(AppliedPolicy {
                source: PolicySource::Managed {
                    arn,
                    version: format!("v{version}"),
                },
                document,
            });
        }
    }
    Ok(())
}
