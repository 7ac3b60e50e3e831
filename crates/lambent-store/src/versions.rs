//! Object versions. A bucket is unversioned until PutBucketVersioning first turns versioning
//! on; from then it is `Enabled` or `Suspended`, never unversioned again, as on S3.
//!
//! Layout: the `objects` table stays the current view (what a GET without a version id and
//! the key listings read): one row per key whose latest version is an object, naming that
//! version (`version_id`, NULL in a bucket that never had versioning). In a bucket that has
//! had versioning, the `versions` table holds every version, the current one included, and
//! every delete marker, ordered per key by `seq` (the change's sequencer, so commit order).
//! Turning versioning on copies the bucket's objects into `versions` as their `null`
//! versions, once. So a put to a versioned bucket writes one row more than to an unversioned
//! one, and a version's file stays until that version is deleted by its id (or replaced, for
//! the `null` version of a suspended bucket).
//!
//! Invariant: in a bucket that has had versioning, the `objects` row of a key is exactly the
//! newest `versions` row of that key when that row is not a delete marker, and there is no
//! `objects` row otherwise.

use crate::objects::{record, sql, ObjectError, ObjectRecord, ObjectStore, RowParts};
use rusqlite::{params, OptionalExtension, Transaction};

pub(crate) const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS bucket_versioning (
    bucket TEXT PRIMARY KEY,
    status TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS versions (
    bucket TEXT NOT NULL,
    key TEXT NOT NULL,
    version_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    delete_marker INTEGER NOT NULL,
    size INTEGER NOT NULL,
    etag TEXT NOT NULL,
    last_modified INTEGER NOT NULL,
    attributes TEXT NOT NULL,
    file TEXT,
    PRIMARY KEY (bucket, key, version_id)
);
CREATE INDEX IF NOT EXISTS versions_by_age ON versions (bucket, key, seq);
";

/// A bucket's versioning state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Versioning {
    /// Never turned on: every object is its `null` version, and no version is kept.
    Unversioned,
    Enabled,
    Suspended,
}

impl Versioning {
    pub fn as_str(self) -> &'static str {
        match self {
            Versioning::Unversioned => "",
            Versioning::Enabled => "Enabled",
            Versioning::Suspended => "Suspended",
        }
    }
}

/// One version of a key, as a read by version id or a version listing finds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Version {
    Object(Box<ObjectRecord>),
    DeleteMarker {
        key: String,
        version_id: String,
        last_modified: i64,
    },
}

impl Version {
    pub fn key(&self) -> &str {
        match self {
            Version::Object(o) => &o.key,
            Version::DeleteMarker { key, .. } => key,
        }
    }

    pub fn version_id(&self) -> &str {
        match self {
            Version::Object(o) => o.version_id.as_deref().unwrap_or("null"),
            Version::DeleteMarker { version_id, .. } => version_id,
        }
    }
}

/// What deleting one key (or one version of it) did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deletion {
    pub key: String,
    /// The version removed or the delete marker created (`None` in an unversioned bucket,
    /// unless the request named `null`).
    pub version_id: Option<String>,
    /// A delete marker was created, or the version removed was one.
    pub delete_marker: bool,
    /// Whether a delete marker was created (`ObjectRemoved:DeleteMarkerCreated`).
    pub marker_created: bool,
    pub sequencer: u64,
}

/// A new version id: 32 characters, unique (S3's are opaque strings of that length).
pub(crate) fn new_version_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

/// The bucket's versioning state, inside a transaction.
pub(crate) fn state(tx: &Transaction<'_>, bucket: &str) -> Result<Versioning, ObjectError> {
    let status: Option<String> = tx
        .prepare_cached("SELECT status FROM bucket_versioning WHERE bucket = ?1")
        .and_then(|mut s| s.query_row([bucket], |r| r.get(0)).optional())
        .map_err(sql("reading a bucket's versioning"))?;
    Ok(match status.as_deref() {
        Some("Enabled") => Versioning::Enabled,
        Some("Suspended") => Versioning::Suspended,
        _ => Versioning::Unversioned,
    })
}

const VERSION_COLUMNS: &str =
    "key, size, etag, last_modified, attributes, file, seq, version_id, delete_marker";

fn version_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<(RowParts, String, bool)> {
    let file: Option<String> = r.get(5)?;
    let version_id: String = r.get(7)?;
    Ok((
        (
            r.get(0)?,
            r.get(1)?,
            r.get(2)?,
            r.get(3)?,
            r.get(4)?,
            file.unwrap_or_default(),
            r.get(6)?,
            Some(version_id.clone()),
        ),
        version_id,
        r.get::<_, i64>(8)? != 0,
    ))
}

fn version((parts, version_id, marker): (RowParts, String, bool)) -> Result<Version, ObjectError> {
    if marker {
        return Ok(Version::DeleteMarker {
            key: parts.0,
            version_id,
            last_modified: parts.3,
        });
    }
    let _ = version_id;
    Ok(Version::Object(Box::new(record(parts)?)))
}

/// Writes a version row (an object's, or a delete marker's when `file` is `None`).
#[allow(clippy::too_many_arguments)]
pub(crate) fn insert_version(
    tx: &Transaction<'_>,
    bucket: &str,
    key: &str,
    version_id: &str,
    seq: u64,
    record: Option<(&ObjectRecord, &str)>,
    now: i64,
) -> Result<(), ObjectError> {
    let (size, etag, last_modified, attributes, file) = match record {
        Some((r, attributes)) => (
            r.size as i64,
            r.etag.as_str(),
            r.last_modified,
            attributes,
            Some(r.file_name()),
        ),
        None => (0, "", now, "{}", None),
    };
    tx.prepare_cached(
        "INSERT OR REPLACE INTO versions
             (bucket, key, version_id, seq, delete_marker, size, etag, last_modified,
              attributes, file)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    )
    .and_then(|mut s| {
        s.execute(params![
            bucket,
            key,
            version_id,
            seq as i64,
            record.is_none() as i64,
            size,
            etag,
            last_modified,
            attributes,
            file
        ])
    })
    .map_err(sql("writing a version"))?;
    Ok(())
}

/// Removes one version row; the file it named (if an object's) and whether it existed.
pub(crate) fn remove_version(
    tx: &Transaction<'_>,
    bucket: &str,
    key: &str,
    version_id: &str,
) -> Result<Option<(Option<String>, bool)>, ObjectError> {
    tx.prepare_cached(
        "DELETE FROM versions WHERE bucket = ?1 AND key = ?2 AND version_id = ?3
         RETURNING file, delete_marker",
    )
    .and_then(|mut s| {
        s.query_row(params![bucket, key, version_id], |r| {
            Ok((r.get::<_, Option<String>>(0)?, r.get::<_, i64>(1)? != 0))
        })
        .optional()
    })
    .map_err(sql("removing a version"))
}

/// Makes the key's `objects` row match its newest version again (after that version was
/// removed by id): the newest object version becomes current, or no row when the newest is
/// a delete marker or nothing is left.
pub(crate) fn promote(tx: &Transaction<'_>, bucket: &str, key: &str) -> Result<(), ObjectError> {
    tx.prepare_cached("DELETE FROM objects WHERE bucket = ?1 AND key = ?2")
        .and_then(|mut s| s.execute(params![bucket, key]))
        .map_err(sql("promoting a version"))?;
    tx.prepare_cached(
        "INSERT INTO objects
             (bucket, key, size, etag, last_modified, attributes, file, sequencer, version_id)
         SELECT bucket, key, size, etag, last_modified, attributes, file, seq, version_id
         FROM (SELECT * FROM versions WHERE bucket = ?1 AND key = ?2
               ORDER BY seq DESC LIMIT 1)
         WHERE delete_marker = 0",
    )
    .and_then(|mut s| s.execute(params![bucket, key]))
    .map_err(sql("promoting a version"))?;
    Ok(())
}

impl ObjectStore {
    /// The bucket's versioning state.
    pub fn versioning(&self, bucket: &str) -> Result<Versioning, ObjectError> {
        if self.bucket(bucket)?.is_none() {
            return Err(ObjectError::NoSuchBucket(bucket.to_string()));
        }
        let mut db = self.reader();
        let tx = db
            .transaction()
            .map_err(sql("reading a bucket's versioning"))?;
        state(&tx, bucket)
    }

    /// PutBucketVersioning: `Enabled` or `Suspended` (never back to unversioned). The first
    /// time, the bucket's objects become their `null` versions.
    pub fn set_versioning(&self, bucket: &str, status: Versioning) -> Result<(), ObjectError> {
        let mut db = self.db();
        let tx = db.transaction().map_err(sql("setting versioning"))?;
        let exists: bool = tx
            .query_row(
                "SELECT EXISTS (SELECT 1 FROM buckets WHERE name = ?1)",
                [bucket],
                |r| r.get(0),
            )
            .map_err(sql("setting versioning"))?;
        if !exists {
            return Err(ObjectError::NoSuchBucket(bucket.to_string()));
        }
        if status == Versioning::Unversioned {
            return Ok(());
        }
        if state(&tx, bucket)? == Versioning::Unversioned {
            tx.execute(
                "INSERT OR REPLACE INTO versions
                     (bucket, key, version_id, seq, delete_marker, size, etag, last_modified,
                      attributes, file)
                 SELECT bucket, key, 'null', sequencer, 0, size, etag, last_modified,
                        attributes, file
                 FROM objects WHERE bucket = ?1",
                [bucket],
            )
            .map_err(sql("keeping the objects as null versions"))?;
            tx.execute(
                "UPDATE objects SET version_id = 'null' WHERE bucket = ?1",
                [bucket],
            )
            .map_err(sql("keeping the objects as null versions"))?;
        }
        tx.execute(
            "INSERT OR REPLACE INTO bucket_versioning (bucket, status) VALUES (?1, ?2)",
            params![bucket, status.as_str()],
        )
        .map_err(sql("setting versioning"))?;
        tx.commit().map_err(sql("setting versioning"))
    }

    /// One version of a key by its id (`null` included). In an unversioned bucket only
    /// `null` names anything: the current object.
    pub fn version(
        &self,
        bucket: &str,
        key: &str,
        version_id: &str,
    ) -> Result<Option<Version>, ObjectError> {
        let mut db = self.reader();
        let tx = db.transaction().map_err(sql("reading a version"))?;
        if state(&tx, bucket)? == Versioning::Unversioned {
            drop(tx);
            drop(db);
            if version_id != "null" {
                return Ok(None);
            }
            return Ok(self
                .head(bucket, key)?
                .map(|r| Version::Object(Box::new(r))));
        }
        let row = tx
            .prepare_cached(&format!(
                "SELECT {VERSION_COLUMNS} FROM versions
                 WHERE bucket = ?1 AND key = ?2 AND version_id = ?3"
            ))
            .and_then(|mut s| {
                s.query_row(params![bucket, key, version_id], version_row)
                    .optional()
            })
            .map_err(sql("reading a version"))?;
        row.map(version).transpose()
    }

    /// The newest version of a key when it is a delete marker (a GET without a version id
    /// then answers 404 naming it).
    pub fn current_delete_marker(
        &self,
        bucket: &str,
        key: &str,
    ) -> Result<Option<String>, ObjectError> {
        let db = self.reader();
        db.prepare_cached(
            "SELECT version_id, delete_marker FROM versions WHERE bucket = ?1 AND key = ?2
             ORDER BY seq DESC LIMIT 1",
        )
        .and_then(|mut s| {
            s.query_row(params![bucket, key], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)? != 0))
            })
            .optional()
        })
        .map(|row| row.filter(|(_, marker)| *marker).map(|(id, _)| id))
        .map_err(sql("reading a key's newest version"))
    }
}

/// A page of ListObjectVersions: versions newest first within each key, keys in byte order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VersionEntry {
    Version { version: Version, is_latest: bool },
    Prefix(String),
}

/// A version listing request.
#[derive(Debug, Clone, Default)]
pub struct VersionQuery<'a> {
    pub prefix: &'a str,
    pub delimiter: Option<&'a str>,
    /// Resume after this key (all its versions), or, with `version_id_marker`, after that
    /// version of it.
    pub key_marker: Option<&'a str>,
    pub version_id_marker: Option<&'a str>,
    pub max_keys: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionListing {
    pub entries: Vec<VersionEntry>,
    /// Where the next page starts, when more follow: a key (or rolled-up prefix) and, for a
    /// version, its id.
    pub next: Option<(String, Option<String>)>,
}

impl ObjectStore {
    /// One page of a bucket's versions. An unversioned bucket lists its objects as their
    /// latest `null` versions.
    pub fn list_versions(
        &self,
        bucket: &str,
        q: &VersionQuery<'_>,
    ) -> Result<VersionListing, ObjectError> {
        if self.versioning(bucket)? == Versioning::Unversioned {
            let page = self.list(
                bucket,
                &crate::listing::ListQuery {
                    prefix: q.prefix,
                    delimiter: q.delimiter,
                    after: q.key_marker.filter(|k| !k.is_empty()),
                    max_keys: q.max_keys,
                },
            )?;
            let entries = page
                .entries
                .into_iter()
                .map(|e| match e {
                    crate::listing::ListEntry::Object(o) => VersionEntry::Version {
                        version: Version::Object(o),
                        is_latest: true,
                    },
                    crate::listing::ListEntry::Prefix(p) => VersionEntry::Prefix(p),
                })
                .collect();
            let next = page.next_after.map(|k| (k, Some("null".to_string())));
            return Ok(VersionListing { entries, next });
        }
        let marker = q.key_marker.filter(|k| !k.is_empty()).unwrap_or("");
        let start = if marker >= q.prefix { marker } else { q.prefix };
        let db = self.reader();
        let mut stmt = db
            .prepare(&format!(
                "SELECT {VERSION_COLUMNS} FROM versions
                 WHERE bucket = ?1 AND key >= ?2 ORDER BY key, seq DESC"
            ))
            .map_err(sql("listing versions"))?;
        let mut rows = stmt
            .query(params![bucket, start])
            .map_err(sql("listing versions"))?;
        let mut entries: Vec<VersionEntry> = Vec::new();
        let mut next = None;
        let mut last_key: Option<String> = None;
        // At the marker's key: skipping until past the marker version (or all of it).
        let mut skipping_marker_key = !marker.is_empty();
        while let Some(row) = rows.next().map_err(sql("listing versions"))? {
            let row = version_row(row).map_err(sql("listing versions"))?;
            let key = row.0 .0.clone();
            if !key.starts_with(q.prefix) {
                break;
            }
            let is_latest = last_key.as_deref() != Some(key.as_str());
            last_key = Some(key.clone());
            if skipping_marker_key {
                if key.as_str() == marker {
                    match q.version_id_marker.filter(|v| !v.is_empty()) {
                        Some(v) if row.1 == v => skipping_marker_key = false,
                        _ => {}
                    }
                    continue;
                }
                skipping_marker_key = false;
            }
            let rolled = q.delimiter.filter(|d| !d.is_empty()).and_then(|d| {
                key[q.prefix.len()..]
                    .find(d)
                    .map(|i| key[..q.prefix.len() + i + d.len()].to_string())
            });
            if let Some(p) = &rolled {
                if p.as_str() == marker
                    || matches!(entries.last(), Some(VersionEntry::Prefix(last)) if last == p)
                {
                    continue;
                }
            }
            if entries.len() == q.max_keys {
                next = entries.last().map(|e| match e {
                    VersionEntry::Version { version, .. } => (
                        version.key().to_string(),
                        Some(version.version_id().to_string()),
                    ),
                    VersionEntry::Prefix(p) => (p.clone(), None),
                });
                break;
            }
            entries.push(match rolled {
                Some(p) => VersionEntry::Prefix(p),
                None => VersionEntry::Version {
                    version: version(row)?,
                    is_latest,
                },
            });
        }
        Ok(VersionListing { entries, next })
    }
}

/// Whether the rows of `objects` and `versions` of a key agree (for tests).
#[cfg(test)]
pub(crate) fn current_matches_newest(store: &ObjectStore, bucket: &str, key: &str) -> bool {
    let current = store.head(bucket, key).unwrap();
    let db = store.reader();
    let newest: Option<(String, bool)> = db
        .query_row(
            "SELECT version_id, delete_marker FROM versions WHERE bucket = ?1 AND key = ?2
             ORDER BY seq DESC LIMIT 1",
            params![bucket, key],
            |r| Ok((r.get(0)?, r.get::<_, i64>(1)? != 0)),
        )
        .optional()
        .unwrap();
    match (current, newest) {
        (None, None) => true,
        (None, Some((_, marker))) => marker,
        (Some(c), Some((id, false))) => c.version_id.as_deref() == Some(id.as_str()),
        _ => false,
    }
}

/// What a read of a key, or of one version of it, finds.
#[derive(Debug)]
pub enum Opened {
    /// The object, and its bytes when they were asked for.
    Object(Box<ObjectRecord>, Option<std::fs::File>),
    /// No current object: the key never was, or its newest version is a delete marker
    /// (its id given).
    NoSuchKey { delete_marker: Option<String> },
    /// The version id names no version of the key.
    NoSuchVersion,
    /// The bucket never had versioning and the id is not `null`: it cannot name anything.
    InvalidVersion,
    /// The version asked for is a delete marker.
    DeleteMarker(String),
}

impl ObjectStore {
    /// Reads a key's current object, or one version of it, with its bytes opened when
    /// `with_file`; `NoSuchBucket` when the bucket is missing.
    pub fn open_at(
        &self,
        bucket: &str,
        key: &str,
        version_id: Option<&str>,
        with_file: bool,
    ) -> Result<Opened, ObjectError> {
        let missing_bucket = || -> Result<(), ObjectError> {
            match self.bucket(bucket)? {
                Some(_) => Ok(()),
                None => Err(ObjectError::NoSuchBucket(bucket.to_string())),
            }
        };
        let Some(id) = version_id else {
            let found = if with_file {
                self.open_object(bucket, key)?
                    .map(|(rec, file)| (rec, Some(file)))
            } else {
                self.head(bucket, key)?.map(|rec| (rec, None))
            };
            return match found {
                Some((rec, file)) => Ok(Opened::Object(Box::new(rec), file)),
                None => {
                    missing_bucket()?;
                    Ok(Opened::NoSuchKey {
                        delete_marker: self.current_delete_marker(bucket, key)?,
                    })
                }
            };
        };
        if self.versioning(bucket)? == Versioning::Unversioned && id != "null" {
            return Ok(Opened::InvalidVersion);
        }
        match self.version(bucket, key, id)? {
            None => Ok(Opened::NoSuchVersion),
            Some(Version::DeleteMarker { version_id, .. }) => Ok(Opened::DeleteMarker(version_id)),
            Some(Version::Object(rec)) => {
                let file = if with_file {
                    let path = self.data.join(rec.file_name());
                    Some(std::fs::File::open(&path).map_err(crate::objects::io("opening", &path))?)
                } else {
                    None
                };
                Ok(Opened::Object(rec, file))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::objects::tests::put;

    fn store() -> (tempfile::TempDir, ObjectStore) {
        let dir = tempfile::tempdir().unwrap();
        let store = ObjectStore::open(dir.path()).unwrap();
        store.create_bucket("b", 0).unwrap();
        (dir, store)
    }

    fn body(store: &ObjectStore, key: &str, version: Option<&str>) -> Option<String> {
        match store.open_at("b", key, version, true).unwrap() {
            Opened::Object(_, Some(mut f)) => {
                let mut s = String::new();
                std::io::Read::read_to_string(&mut f, &mut s).unwrap();
                Some(s)
            }
            _ => None,
        }
    }

    fn files(dir: &std::path::Path) -> usize {
        std::fs::read_dir(dir.join("data")).unwrap().count()
    }

    fn ids(store: &ObjectStore, key: &str) -> Vec<(String, bool, bool)> {
        let q = VersionQuery {
            prefix: key,
            max_keys: 1000,
            ..VersionQuery::default()
        };
        store
            .list_versions("b", &q)
            .unwrap()
            .entries
            .into_iter()
            .filter_map(|e| match e {
                VersionEntry::Version { version, is_latest } => Some((
                    version.version_id().to_string(),
                    is_latest,
                    matches!(version, Version::DeleteMarker { .. }),
                )),
                VersionEntry::Prefix(_) => None,
            })
            .collect()
    }

    #[test]
    fn enabling_keeps_every_version_and_markers_hide_without_removing() {
        let (dir, store) = store();
        put(&store, "b", "k", b"before");
        store.set_versioning("b", Versioning::Enabled).unwrap();
        assert_eq!(store.versioning("b").unwrap(), Versioning::Enabled);
        let v1 = put(&store, "b", "k", b"one").version_id.unwrap();
        let v2 = put(&store, "b", "k", b"two").version_id.unwrap();
        assert_ne!(v1, v2);
        assert_eq!(v1.len(), 32);
        assert_eq!(body(&store, "k", None).as_deref(), Some("two"));
        assert_eq!(body(&store, "k", Some(&v1)).as_deref(), Some("one"));
        assert_eq!(body(&store, "k", Some("null")).as_deref(), Some("before"));
        assert_eq!(files(dir.path()), 3);
        assert_eq!(
            ids(&store, "k"),
            [
                (v2.clone(), true, false),
                (v1.clone(), false, false),
                ("null".into(), false, false)
            ]
        );

        // A delete without a version id adds a marker; the bytes stay.
        let d = &store.delete_many("b", &[("k".into(), None)]).unwrap()[0];
        let d = d.as_ref().unwrap();
        assert!(d.delete_marker && d.marker_created);
        let marker = d.version_id.clone().unwrap();
        assert!(matches!(
            store.open_at("b", "k", None, false).unwrap(),
            Opened::NoSuchKey { delete_marker: Some(m) } if m == marker
        ));
        assert!(matches!(
            store.open_at("b", "k", Some(&marker), false).unwrap(),
            Opened::DeleteMarker(_)
        ));
        assert_eq!(files(dir.path()), 3);
        assert!(current_matches_newest(&store, "b", "k"));

        // Removing the marker by its id makes the newest object current again.
        store
            .delete_many("b", &[("k".into(), Some(marker))])
            .unwrap();
        assert_eq!(body(&store, "k", None).as_deref(), Some("two"));
        // Removing the current version by id promotes the one before it, and its file goes.
        store
            .delete_many("b", &[("k".into(), Some(v2.clone()))])
            .unwrap();
        assert_eq!(body(&store, "k", None).as_deref(), Some("one"));
        assert!(current_matches_newest(&store, "b", "k"));
        assert_eq!(files(dir.path()), 2);
        assert!(matches!(
            store.open_at("b", "k", Some(&v2), false).unwrap(),
            Opened::NoSuchVersion
        ));
        // The bucket is not empty while any version is left.
        assert!(matches!(
            store.delete_bucket("b"),
            Err(ObjectError::BucketNotEmpty(_))
        ));
        for id in [v1, "null".to_string()] {
            store.delete_many("b", &[("k".into(), Some(id))]).unwrap();
        }
        assert_eq!(files(dir.path()), 0);
        assert!(ids(&store, "k").is_empty());
        store.delete_bucket("b").unwrap();
    }

    #[test]
    fn a_suspended_bucket_replaces_its_null_version_and_keeps_the_others() {
        let (dir, store) = store();
        store.set_versioning("b", Versioning::Enabled).unwrap();
        let v1 = put(&store, "b", "k", b"one").version_id.unwrap();
        store.set_versioning("b", Versioning::Suspended).unwrap();
        assert_eq!(
            put(&store, "b", "k", b"n1").version_id.as_deref(),
            Some("null")
        );
        assert_eq!(
            put(&store, "b", "k", b"n2").version_id.as_deref(),
            Some("null")
        );
        assert_eq!(files(dir.path()), 2);
        assert_eq!(
            ids(&store, "k"),
            [("null".into(), true, false), (v1.clone(), false, false)]
        );
        // A delete makes the null version a delete marker; the old null bytes go.
        store.delete_many("b", &[("k".into(), None)]).unwrap();
        assert_eq!(files(dir.path()), 1);
        assert_eq!(
            ids(&store, "k"),
            [("null".into(), true, true), (v1, false, false)]
        );
        assert!(current_matches_newest(&store, "b", "k"));
    }

    #[test]
    fn an_unversioned_bucket_refuses_other_ids_and_lists_null_versions() {
        let (_dir, store) = store();
        put(&store, "b", "a", b"1");
        assert!(matches!(
            store.open_at("b", "a", Some("abc"), false).unwrap(),
            Opened::InvalidVersion
        ));
        let out = store
            .delete_many("b", &[("a".into(), Some("abc".into()))])
            .unwrap();
        assert!(matches!(out[0], Err(ObjectError::NoSuchVersion(_))));
        assert_eq!(ids(&store, "a"), [("null".into(), true, false)]);
    }

    #[test]
    fn version_listings_page_within_a_key_and_roll_up_prefixes() {
        let (_dir, store) = store();
        store.set_versioning("b", Versioning::Enabled).unwrap();
        let mut all = Vec::new();
        for key in ["a", "a", "a", "d/1", "d/2", "z"] {
            all.push((key, put(&store, "b", key, b"x").version_id.unwrap()));
        }
        let mut seen = Vec::new();
        let (mut key_marker, mut version_marker): (Option<String>, Option<String>) = (None, None);
        loop {
            let page = store
                .list_versions(
                    "b",
                    &VersionQuery {
                        max_keys: 2,
                        key_marker: key_marker.as_deref(),
                        version_id_marker: version_marker.as_deref(),
                        ..VersionQuery::default()
                    },
                )
                .unwrap();
            for e in page.entries {
                if let VersionEntry::Version { version, .. } = e {
                    seen.push((version.key().to_string(), version.version_id().to_string()));
                }
            }
            match page.next {
                Some((k, v)) => {
                    key_marker = Some(k);
                    version_marker = v;
                }
                None => break,
            }
        }
        // Newest first within a key.
        let want: Vec<(String, String)> = [2, 1, 0, 3, 4, 5]
            .iter()
            .map(|&i| (all[i].0.to_string(), all[i].1.clone()))
            .collect();
        assert_eq!(seen, want);
        let rolled = store
            .list_versions(
                "b",
                &VersionQuery {
                    delimiter: Some("/"),
                    max_keys: 1000,
                    ..VersionQuery::default()
                },
            )
            .unwrap();
        assert_eq!(rolled.entries.len(), 5);
        assert!(rolled
            .entries
            .iter()
            .any(|e| matches!(e, VersionEntry::Prefix(p) if p == "d/")));
    }
}
