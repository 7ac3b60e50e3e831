//! Multipart uploads in the object store: an upload is a row naming its bucket, key and the
//! object's attributes; each part is written aside like an object (temp file, synced, renamed
//! to `data/<uuid>`) and only then recorded in `parts` with its number, size and MD5, so a
//! part row never names a file that was not synced. Completing checks the client's list as
//! AWS does, streams the parts into one new pending file, commits it like a put with AWS's
//! multipart ETag (`hex(MD5(concat(binary MD5 of each part)))-N`), then drops the upload and
//! its part files. A crash leaves either the upload (with its parts) or the object; part
//! files no row names are removed when the store opens.
//!
//! Invariant: no HTTP and no XML; a part exists for the upload exactly when its row is
//! committed.

use crate::objects::{
    io, sql, ObjectAttributes, ObjectError, ObjectRecord, ObjectStore, PendingObject,
};
use md5::{Digest, Md5};
use rusqlite::{params, OptionalExtension};
use std::fs::File;

/// The tables, created with the store's own.
pub(crate) const SCHEMA: &str = "
    CREATE TABLE IF NOT EXISTS uploads (
        id TEXT PRIMARY KEY,
        bucket TEXT NOT NULL,
        key TEXT NOT NULL,
        initiated INTEGER NOT NULL,
        attributes TEXT NOT NULL
    );
    CREATE INDEX IF NOT EXISTS uploads_by_key ON uploads (bucket, key, initiated);
    CREATE TABLE IF NOT EXISTS parts (
        upload TEXT NOT NULL,
        number INTEGER NOT NULL,
        size INTEGER NOT NULL,
        etag TEXT NOT NULL,
        last_modified INTEGER NOT NULL,
        file TEXT NOT NULL,
        PRIMARY KEY (upload, number)
    );";

/// AWS's smallest part, except for the last.
pub const MIN_PART_SIZE: u64 = 5 * 1024 * 1024;

/// An upload in progress.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadRecord {
    pub id: String,
    pub bucket: String,
    pub key: String,
    /// Unix milliseconds.
    pub initiated: i64,
    pub attributes: ObjectAttributes,
}

/// A stored part.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartRecord {
    pub number: u32,
    pub size: u64,
    /// Lowercase hex MD5 of the part, unquoted.
    pub etag: String,
    /// Unix milliseconds.
    pub last_modified: i64,
    file: String,
}

/// One entry of CompleteMultipartUpload's list: a part number and the ETag the client got.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompletedPart {
    pub number: u32,
    /// Unquoted.
    pub etag: String,
}

/// AWS's ETag of a multipart object: the MD5 of the parts' binary MD5s, then `-N`.
pub fn multipart_etag<'a>(part_md5s: impl IntoIterator<Item = &'a str>) -> String {
    let mut md5 = Md5::new();
    let mut n = 0;
    for hex_md5 in part_md5s {
        // A part's ETag is always our own hex MD5; an undecodable one counts as no bytes.
        md5.update(hex::decode(hex_md5).unwrap_or_default());
        n += 1;
    }
    format!("{}-{n}", hex::encode(md5.finalize()))
}

impl ObjectStore {
    /// Starts an upload to `bucket`/`key`; returns its id.
    pub fn create_upload(
        &self,
        bucket: &str,
        key: &str,
        attributes: &ObjectAttributes,
        now: i64,
    ) -> Result<String, ObjectError> {
        if self.bucket(bucket)?.is_none() {
            return Err(ObjectError::NoSuchBucket(bucket.to_string()));
        }
        let id = uuid::Uuid::new_v4().simple().to_string();
        let attributes = encode(key, attributes)?;
        self.db()
            .execute(
                "INSERT INTO uploads (id, bucket, key, initiated, attributes)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![id, bucket, key, now, attributes],
            )
            .map_err(sql("creating an upload"))?;
        Ok(id)
    }

    /// The upload `id`, if it is open and for this bucket and key.
    pub fn upload(
        &self,
        bucket: &str,
        key: &str,
        id: &str,
    ) -> Result<Option<UploadRecord>, ObjectError> {
        let row = self
            .db()
            .query_row(
                "SELECT id, bucket, key, initiated, attributes FROM uploads
                 WHERE id = ?1 AND bucket = ?2 AND key = ?3",
                params![id, bucket, key],
                upload_parts,
            )
            .optional()
            .map_err(sql("reading an upload"))?;
        row.map(upload_record).transpose()
    }

    fn require_upload(
        &self,
        bucket: &str,
        key: &str,
        id: &str,
    ) -> Result<UploadRecord, ObjectError> {
        self.upload(bucket, key, id)?
            .ok_or_else(|| ObjectError::NoSuchUpload(id.to_string()))
    }

    /// The open uploads of a bucket whose keys start with `prefix`, by key then start time.
    pub fn uploads(&self, bucket: &str, prefix: &str) -> Result<Vec<UploadRecord>, ObjectError> {
        if self.bucket(bucket)?.is_none() {
            return Err(ObjectError::NoSuchBucket(bucket.to_string()));
        }
        let db = self.reader();
        let mut stmt = db
            .prepare(
                "SELECT id, bucket, key, initiated, attributes FROM uploads
                 WHERE bucket = ?1 AND substr(key, 1, length(?2)) = ?2
                 ORDER BY key, initiated, id",
            )
            .map_err(sql("listing uploads"))?;
        let rows = stmt
            .query_map(params![bucket, prefix], upload_parts)
            .map_err(sql("listing uploads"))?;
        let rows: Vec<_> = rows
            .collect::<Result<_, _>>()
            .map_err(sql("listing uploads"))?;
        rows.into_iter().map(upload_record).collect()
    }

    /// Makes a written part number `number` of the upload, replacing one uploaded before.
    pub fn commit_part(
        &self,
        pending: PendingObject,
        bucket: &str,
        key: &str,
        id: &str,
        number: u32,
        now: i64,
    ) -> Result<PartRecord, ObjectError> {
        let settled = self.settle(pending)?;
        let part = PartRecord {
            number,
            size: settled.size,
            etag: settled.md5_hex,
            last_modified: now,
            file: settled.name,
        };
        let old = (|| {
            let mut db = self.db();
            let tx = db.transaction().map_err(sql("committing a part"))?;
            let open: bool = tx
                .query_row(
                    "SELECT EXISTS (SELECT 1 FROM uploads
                     WHERE id = ?1 AND bucket = ?2 AND key = ?3)",
                    params![id, bucket, key],
                    |r| r.get(0),
                )
                .map_err(sql("committing a part"))?;
            if !open {
                return Err(ObjectError::NoSuchUpload(id.to_string()));
            }
            let old: Option<String> = tx
                .query_row(
                    "SELECT file FROM parts WHERE upload = ?1 AND number = ?2",
                    params![id, number],
                    |r| r.get(0),
                )
                .optional()
                .map_err(sql("committing a part"))?;
            tx.execute(
                "INSERT OR REPLACE INTO parts (upload, number, size, etag, last_modified, file)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![id, number, part.size as i64, part.etag, now, part.file],
            )
            .map_err(sql("committing a part"))?;
            tx.commit().map_err(sql("committing a part"))?;
            Ok(old)
        })();
        match old {
            Ok(old) => {
                if let Some(old) = old {
                    let _ = std::fs::remove_file(self.data.join(old));
                }
                Ok(part)
            }
            Err(e) => {
                let _ = std::fs::remove_file(self.data.join(&part.file));
                Err(e)
            }
        }
    }

    /// The parts of an open upload, by number.
    pub fn parts(&self, bucket: &str, key: &str, id: &str) -> Result<Vec<PartRecord>, ObjectError> {
        self.require_upload(bucket, key, id)?;
        let db = self.reader();
        let mut stmt = db
            .prepare(
                "SELECT number, size, etag, last_modified, file FROM parts
                 WHERE upload = ?1 ORDER BY number",
            )
            .map_err(sql("listing parts"))?;
        let rows = stmt
            .query_map([id], |r| {
                Ok(PartRecord {
                    number: r.get(0)?,
                    size: r.get::<_, i64>(1)? as u64,
                    etag: r.get(2)?,
                    last_modified: r.get(3)?,
                    file: r.get(4)?,
                })
            })
            .map_err(sql("listing parts"))?;
        rows.collect::<Result<_, _>>().map_err(sql("listing parts"))
    }

    /// Ends an upload without an object, removing its parts.
    pub fn abort_upload(&self, bucket: &str, key: &str, id: &str) -> Result<(), ObjectError> {
        self.require_upload(bucket, key, id)?;
        if !self.drop_uploads("id = ?1", id)? {
            return Err(ObjectError::NoSuchUpload(id.to_string()));
        }
        Ok(())
    }

    /// Drops every upload of a bucket (when the bucket is deleted), removing their parts.
    pub(crate) fn drop_bucket_uploads(&self, bucket: &str) -> Result<(), ObjectError> {
        self.drop_uploads("bucket = ?1", bucket).map(|_| ())
    }

    /// Deletes the uploads matching `condition` (on `uploads`, one parameter) and their
    /// part rows in one transaction, then their files. True if any upload matched.
    fn drop_uploads(&self, condition: &str, param: &str) -> Result<bool, ObjectError> {
        let files = {
            let mut db = self.db();
            let tx = db.transaction().map_err(sql("dropping uploads"))?;
            let files: Vec<String> = {
                let mut stmt = tx
                    .prepare(&format!(
                        "DELETE FROM parts WHERE upload IN
                         (SELECT id FROM uploads WHERE {condition}) RETURNING file"
                    ))
                    .map_err(sql("dropping uploads"))?;
                let rows = stmt
                    .query_map([param], |r| r.get(0))
                    .map_err(sql("dropping uploads"))?;
                rows.collect::<Result<_, _>>()
                    .map_err(sql("dropping uploads"))?
            };
            let n = tx
                .execute(&format!("DELETE FROM uploads WHERE {condition}"), [param])
                .map_err(sql("dropping uploads"))?;
            tx.commit().map_err(sql("dropping uploads"))?;
            if n == 0 {
                return Ok(false);
            }
            files
        };
        for file in files {
            let _ = std::fs::remove_file(self.data.join(file));
        }
        Ok(true)
    }

    /// Completes an upload: checks `list` as AWS does, streams the listed parts into one
    /// new object committed like a put (with the multipart ETag), then drops the upload.
    pub fn complete_upload(
        &self,
        bucket: &str,
        key: &str,
        id: &str,
        list: &[CompletedPart],
        now: i64,
    ) -> Result<ObjectRecord, ObjectError> {
        let upload = self.require_upload(bucket, key, id)?;
        let stored = self.parts(bucket, key, id)?;
        let chosen = check_list(list, &stored)?;
        let mut pending = self.begin()?;
        for part in &chosen {
            let path = self.data.join(&part.file);
            let mut file = match File::open(&path) {
                Ok(f) => f,
                // Aborted (or the part replaced) while completing.
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    return Err(ObjectError::NoSuchUpload(id.to_string()))
                }
                Err(e) => return Err(io("opening", &path)(e)),
            };
            pending.copy_from(&mut file, 0, part.size)?;
        }
        pending.etag = Some(multipart_etag(chosen.iter().map(|p| p.etag.as_str())));
        let record = self.commit(pending, bucket, key, upload.attributes, now)?;
        // The object is committed; a crash here leaves the upload open, to be aborted.
        self.drop_uploads("id = ?1", id)?;
        Ok(record)
    }
}

/// The stored parts named by a CompleteMultipartUpload list, in its order, after AWS's
/// checks: ascending numbers, each part uploaded with that ETag, all but the last ≥ 5 MiB.
fn check_list<'a>(
    list: &[CompletedPart],
    stored: &'a [PartRecord],
) -> Result<Vec<&'a PartRecord>, ObjectError> {
    if list.is_empty() {
        return Err(ObjectError::NoParts);
    }
    let mut chosen = Vec::with_capacity(list.len());
    let mut last = 0;
    for item in list {
        if item.number <= last {
            return Err(ObjectError::InvalidPartOrder);
        }
        last = item.number;
        let part = stored
            .iter()
            .find(|p| p.number == item.number && p.etag == item.etag)
            .ok_or(ObjectError::InvalidPart(item.number))?;
        chosen.push(part);
    }
    if let Some(small) = chosen[..chosen.len() - 1]
        .iter()
        .find(|p| p.size < MIN_PART_SIZE)
    {
        return Err(ObjectError::EntityTooSmall {
            number: small.number,
            size: small.size,
            etag: small.etag.clone(),
        });
    }
    Ok(chosen)
}

fn encode(key: &str, attributes: &ObjectAttributes) -> Result<String, ObjectError> {
    serde_json::to_string(attributes).map_err(|source| ObjectError::Decode {
        key: key.to_string(),
        source,
    })
}

type UploadParts = (String, String, String, i64, String);

fn upload_parts(r: &rusqlite::Row<'_>) -> rusqlite::Result<UploadParts> {
    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
}

fn upload_record(
    (id, bucket, key, initiated, attributes): UploadParts,
) -> Result<UploadRecord, ObjectError> {
    let attributes = serde_json::from_str(&attributes).map_err(|source| ObjectError::Decode {
        key: key.clone(),
        source,
    })?;
    Ok(UploadRecord {
        id,
        bucket,
        key,
        initiated,
        attributes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;
    use std::path::Path;

    fn data_files(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(dir.join("data"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    fn part(store: &ObjectStore, id: &str, number: u32, body: &[u8]) -> PartRecord {
        let mut p = store.begin().unwrap();
        p.write(body).unwrap();
        store.commit_part(p, "b", "k", id, number, 1).unwrap()
    }

    fn store(dir: &Path) -> ObjectStore {
        let store = ObjectStore::open(dir).unwrap();
        store.create_bucket("b", 0).unwrap();
        store
    }

    #[test]
    fn the_multipart_etag_is_the_md5_of_the_parts_md5s() {
        let a = hex::encode(Md5::digest(b"a"));
        let b = hex::encode(Md5::digest(b"b"));
        let mut joined = Md5::digest(b"a").to_vec();
        joined.extend(Md5::digest(b"b"));
        assert_eq!(
            multipart_etag([a.as_str(), b.as_str()]),
            format!("{}-2", hex::encode(Md5::digest(&joined)))
        );
    }

    #[test]
    fn parts_are_stored_replaced_and_completed_into_one_object() {
        let dir = tempfile::tempdir().unwrap();
        let store = store(dir.path());
        let id = store
            .create_upload("b", "k", &ObjectAttributes::default(), 1)
            .unwrap();
        let big = vec![7u8; MIN_PART_SIZE as usize];
        part(&store, &id, 1, b"replaced");
        let one = part(&store, &id, 1, &big);
        let two = part(&store, &id, 2, b"tail");
        // Re-uploading a number replaced its file: two parts, two files.
        assert_eq!(data_files(dir.path()).len(), 2);
        let parts = store.parts("b", "k", &id).unwrap();
        assert_eq!(parts.iter().map(|p| p.number).collect::<Vec<_>>(), [1, 2]);
        assert_eq!(parts[0].etag, hex::encode(Md5::digest(&big)));

        let list = |items: &[(u32, &str)]| -> Vec<CompletedPart> {
            items
                .iter()
                .map(|(n, e)| CompletedPart {
                    number: *n,
                    etag: e.to_string(),
                })
                .collect()
        };
        let err = store.complete_upload("b", "k", &id, &list(&[(2, &two.etag), (1, &one.etag)]), 2);
        assert!(matches!(err, Err(ObjectError::InvalidPartOrder)));
        let err = store.complete_upload("b", "k", &id, &list(&[(1, "00"), (2, &two.etag)]), 2);
        assert!(matches!(err, Err(ObjectError::InvalidPart(1))));
        let err = store.complete_upload("b", "k", &id, &list(&[(2, &two.etag), (3, "x")]), 2);
        assert!(matches!(err, Err(ObjectError::InvalidPart(3))));

        let rec = store
            .complete_upload("b", "k", &id, &list(&[(1, &one.etag), (2, &two.etag)]), 2)
            .unwrap();
        assert_eq!(
            rec.etag,
            multipart_etag([one.etag.as_str(), two.etag.as_str()])
        );
        assert_eq!(rec.size, big.len() as u64 + 4);
        let (_, mut f) = store.open_object("b", "k").unwrap().unwrap();
        let mut back = Vec::new();
        f.read_to_end(&mut back).unwrap();
        assert_eq!(&back[..big.len()], &big[..]);
        assert_eq!(&back[big.len()..], b"tail");
        // The parts are gone: one file for the object, and the upload is closed.
        assert_eq!(data_files(dir.path()).len(), 1);
        assert!(matches!(
            store.parts("b", "k", &id),
            Err(ObjectError::NoSuchUpload(_))
        ));
    }

    #[test]
    fn a_small_part_before_the_last_is_refused_and_abort_removes_parts() {
        let dir = tempfile::tempdir().unwrap();
        let store = store(dir.path());
        let id = store
            .create_upload("b", "k", &ObjectAttributes::default(), 1)
            .unwrap();
        let one = part(&store, &id, 1, b"small");
        let two = part(&store, &id, 2, b"tail");
        let list = [
            CompletedPart {
                number: 1,
                etag: one.etag,
            },
            CompletedPart {
                number: 2,
                etag: two.etag,
            },
        ];
        let err = store.complete_upload("b", "k", &id, &list, 2);
        assert!(matches!(
            err,
            Err(ObjectError::EntityTooSmall {
                number: 1,
                size: 5,
                ..
            })
        ));
        assert_eq!(store.uploads("b", "").unwrap().len(), 1);
        store.abort_upload("b", "k", &id).unwrap();
        assert!(data_files(dir.path()).is_empty());
        assert!(store.uploads("b", "").unwrap().is_empty());
        assert!(matches!(
            store.abort_upload("b", "k", &id),
            Err(ObjectError::NoSuchUpload(_))
        ));
        let p = store.begin().unwrap();
        assert!(matches!(
            store.commit_part(p, "b", "k", &id, 1, 3),
            Err(ObjectError::NoSuchUpload(_))
        ));
        assert!(data_files(dir.path()).is_empty());
    }

    #[test]
    fn reopening_keeps_open_uploads_parts_and_removes_orphan_part_files() {
        let dir = tempfile::tempdir().unwrap();
        let id = {
            let store = store(dir.path());
            let id = store
                .create_upload("b", "k", &ObjectAttributes::default(), 1)
                .unwrap();
            part(&store, &id, 1, b"kept");
            id
        };
        // A part renamed into place whose row was never committed, and a temp file.
        std::fs::write(dir.path().join("data/0123abcd"), b"orphan part").unwrap();
        std::fs::write(dir.path().join("data/.tmp-0123"), b"half a part").unwrap();
        let store = ObjectStore::open(dir.path()).unwrap();
        assert_eq!(data_files(dir.path()).len(), 1);
        assert_eq!(store.parts("b", "k", &id).unwrap()[0].size, 4);
        // Deleting the bucket drops its uploads with their files.
        store.delete_bucket("b").unwrap();
        assert!(data_files(dir.path()).is_empty());
    }
}
