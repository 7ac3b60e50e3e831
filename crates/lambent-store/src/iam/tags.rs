//! Tags of users, roles and managed policies (and groups, which AWS does not tag but the
//! table does not mind): at most 50 per entity, keys unique without regard to case, listed in
//! the order they were first set.

use super::{EntityKind, IamError, IamStore, Page, Paging, MAX_TAGS};
use rusqlite::{Connection, OptionalExtension};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tag {
    pub key: String,
    pub value: String,
}

impl Tag {
    pub fn new(key: &str, value: &str) -> Tag {
        Tag {
            key: key.to_string(),
            value: value.to_string(),
        }
    }
}

impl IamStore {
    /// Adds or replaces tags of a user, group or role (by name) or a managed policy (by ARN).
    /// Refused whole with `LimitExceeded` if the entity would carry more than 50.
    pub fn tag(&self, kind: EntityKind, name: &str, tags: &[Tag]) -> Result<(), IamError> {
        self.write("tagging", |tx| {
            let id = self.entity_id(tx, kind, name)?;
            put_tags(tx, &id, tags)
        })
    }

    /// Removes the tags with these keys (any case); keys it does not carry are ignored.
    pub fn untag(&self, kind: EntityKind, name: &str, keys: &[String]) -> Result<(), IamError> {
        self.write("untagging", |tx| {
            let id = self.entity_id(tx, kind, name)?;
            let mut stmt =
                tx.prepare_cached("DELETE FROM tags WHERE entity_id = ?1 AND key = ?2")?;
            for key in keys {
                stmt.execute((&id, key))?;
            }
            Ok(())
        })
    }

    pub fn list_tags(
        &self,
        kind: EntityKind,
        name: &str,
        paging: &Paging,
    ) -> Result<Page<Tag>, IamError> {
        self.read("listing tags", |tx| {
            let id = self.entity_id(tx, kind, name)?;
            let tags = tags_of(tx, &id)?;
            // Insertion order is the listing order; the marker is a position.
            let indexed: Vec<(usize, Tag)> = tags.into_iter().enumerate().collect();
            let page = paging.apply(indexed, |(i, _)| format!("{i:06}"));
            Ok(Page {
                items: page.items.into_iter().map(|(_, t)| t).collect(),
                marker: page.marker,
            })
        })
    }

    /// The unique id of a user, group or role named `name`, or of the policy whose ARN is
    /// `name`.
    pub(super) fn entity_id(
        &self,
        tx: &Connection,
        kind: EntityKind,
        name: &str,
    ) -> Result<String, IamError> {
        let found = match kind {
            EntityKind::User => tx
                .query_row(
                    "SELECT id FROM users WHERE account = ?1 AND name = ?2",
                    (&self.account, name),
                    |r| r.get(0),
                )
                .optional()?,
            EntityKind::Group => tx
                .query_row(
                    "SELECT id FROM groups WHERE account = ?1 AND name = ?2",
                    (&self.account, name),
                    |r| r.get(0),
                )
                .optional()?,
            EntityKind::Role => tx
                .query_row(
                    "SELECT id FROM roles WHERE account = ?1 AND name = ?2",
                    (&self.account, name),
                    |r| r.get(0),
                )
                .optional()?,
            EntityKind::Policy => tx
                .query_row("SELECT id FROM policies WHERE arn = ?1", [name], |r| {
                    r.get(0)
                })
                .optional()?,
            _ => None,
        };
        found.ok_or_else(|| IamError::missing(kind, name))
    }
}

pub(super) fn tags_of(tx: &Connection, entity_id: &str) -> Result<Vec<Tag>, IamError> {
    let mut stmt =
        tx.prepare_cached("SELECT key, value FROM tags WHERE entity_id = ?1 ORDER BY rowid")?;
    let rows = stmt.query_map([entity_id], |r| {
        Ok(Tag {
            key: r.get(0)?,
            value: r.get(1)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Upserts `tags` on an entity (a key set again keeps its place and takes the new spelling
/// and value), then checks the count.
pub(super) fn put_tags(tx: &Connection, entity_id: &str, tags: &[Tag]) -> Result<(), IamError> {
    if tags.is_empty() {
        return Ok(());
    }
    let mut stmt = tx.prepare_cached(
        "INSERT INTO tags (entity_id, key, value) VALUES (?1, ?2, ?3)
         ON CONFLICT (entity_id, key) DO UPDATE SET key = excluded.key, value = excluded.value",
    )?;
    for t in tags {
        stmt.execute((entity_id, &t.key, &t.value))?;
    }
    let count: u32 = tx.query_row(
        "SELECT COUNT(*) FROM tags WHERE entity_id = ?1",
        [entity_id],
        |r| r.get(0),
    )?;
    if count > MAX_TAGS {
        return Err(IamError::LimitExceeded {
            quota: "TagsPerResource",
            limit: MAX_TAGS,
        });
    }
    Ok(())
}

pub(super) fn drop_tags(tx: &Connection, entity_id: &str) -> Result<(), IamError> {
    tx.execute("DELETE FROM tags WHERE entity_id = ?1", [entity_id])?;
    Ok(())
}
