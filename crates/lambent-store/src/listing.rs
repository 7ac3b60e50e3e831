//! Listing a bucket's keys: a walk in byte (UTF-8) order over the objects table that rolls
//! keys up at the delimiter into one prefix each, and pages by resuming after a key or a
//! rolled-up prefix without repeating it (ListObjectsV2's token and ListObjects' marker).
//!
//! Invariant: no HTTP and no XML; a page reads committed rows only.

use crate::objects::{record, row_parts, sql, ObjectError, ObjectRecord, ObjectStore};
use rusqlite::params;

/// One entry of a listing, in key order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ListEntry {
    Object(Box<ObjectRecord>),
    /// Keys rolled up at the delimiter (`photos/`).
    Prefix(String),
}

/// A listing request, as ListObjectsV2 puts it.
#[derive(Debug, Clone, Default)]
pub struct ListQuery<'a> {
    pub prefix: &'a str,
    pub delimiter: Option<&'a str>,
    /// Exclusive: the listing starts after this key or rolled-up prefix.
    pub after: Option<&'a str>,
    pub max_keys: usize,
}

/// A page of a listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listing {
    pub entries: Vec<ListEntry>,
    /// The last entry's key or prefix, when more follow.
    pub next_after: Option<String>,
}

impl ObjectStore {
    /// One page of a bucket's keys in byte order, keys sharing the part of their name up to
    /// the delimiter (after the prefix) rolled up into one [`ListEntry::Prefix`].
    pub fn list(&self, bucket: &str, q: &ListQuery<'_>) -> Result<Listing, ObjectError> {
        if self.bucket(bucket)?.is_none() {
            return Err(ObjectError::NoSuchBucket(bucket.to_string()));
        }
        let after = q.after.unwrap_or("");
        // Start at whichever is later: the prefix or just after the marker.
        let start = if after >= q.prefix { after } else { q.prefix };
        let db = self.reader();
        let mut stmt = db
            .prepare(
                "SELECT key, size, etag, last_modified, attributes, file, sequencer, version_id
                 FROM objects WHERE bucket = ?1 AND key >= ?2 ORDER BY key",
            )
            .map_err(sql("listing objects"))?;
        let mut rows = stmt
            .query(params![bucket, start])
            .map_err(sql("listing objects"))?;
        let mut entries = Vec::new();
        let mut next_after = None;
        while let Some(row) = rows.next().map_err(sql("listing objects"))? {
            let parts = row_parts(row).map_err(sql("listing objects"))?;
            let key = &parts.0;
            if !key.starts_with(q.prefix) {
                break;
            }
            if q.after.is_some() && key.as_str() <= after {
                continue;
            }
            let rolled = q.delimiter.filter(|d| !d.is_empty()).and_then(|d| {
                key[q.prefix.len()..]
                    .find(d)
                    .map(|i| key[..q.prefix.len() + i + d.len()].to_string())
            });
            if let Some(p) = &rolled {
                // A prefix returned on this page, or ending the last one, is never repeated.
                if p.as_str() == after
                    || matches!(entries.last(), Some(ListEntry::Prefix(last)) if last == p)
                {
                    continue;
                }
            }
            if entries.len() == q.max_keys {
                next_after = entries.last().map(|e| match e {
                    ListEntry::Object(o) => o.key.clone(),
                    ListEntry::Prefix(p) => p.clone(),
                });
                break;
            }
            match rolled {
                Some(p) => entries.push(ListEntry::Prefix(p)),
                None => entries.push(ListEntry::Object(Box::new(record(parts)?))),
            }
        }
        Ok(Listing {
            entries,
            next_after,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::objects::tests::put;

    fn names(l: &Listing) -> Vec<String> {
        l.entries
            .iter()
            .map(|e| match e {
                ListEntry::Object(o) => o.key.clone(),
                ListEntry::Prefix(p) => format!("{p}*"),
            })
            .collect()
    }

    #[test]
    fn listing_rolls_up_prefixes_and_pages_without_repeating_them() {
        let dir = tempfile::tempdir().unwrap();
        let store = ObjectStore::open(dir.path()).unwrap();
        store.create_bucket("b", 0).unwrap();
        for k in ["a.txt", "dir/1", "dir/2", "dir/sub/3", "e.txt", "z/9"] {
            put(&store, "b", k, b"x");
        }
        let all = ListQuery {
            delimiter: Some("/"),
            max_keys: 1000,
            ..ListQuery::default()
        };
        let page = store.list("b", &all).unwrap();
        assert_eq!(names(&page), ["a.txt", "dir/*", "e.txt", "z/*"]);
        assert_eq!(page.next_after, None);

        // Two at a time: the rolled-up prefix ends a page and is not repeated on the next.
        let mut after: Option<String> = None;
        let mut seen = Vec::new();
        loop {
            let q = ListQuery {
                max_keys: 2,
                after: after.as_deref(),
                ..all.clone()
            };
            let page = store.list("b", &q).unwrap();
            seen.extend(names(&page));
            match page.next_after {
                Some(a) => after = Some(a),
                None => break,
            }
        }
        assert_eq!(seen, ["a.txt", "dir/*", "e.txt", "z/*"]);

        let q = ListQuery {
            prefix: "dir/",
            ..all.clone()
        };
        assert_eq!(
            names(&store.list("b", &q).unwrap()),
            ["dir/1", "dir/2", "dir/sub/*"]
        );
        let q = ListQuery {
            prefix: "dir/",
            after: Some("dir/1"),
            max_keys: 1000,
            delimiter: None,
        };
        assert_eq!(names(&store.list("b", &q).unwrap()), ["dir/2", "dir/sub/3"]);
        let q = ListQuery {
            max_keys: 0,
            ..all.clone()
        };
        let page = store.list("b", &q).unwrap();
        assert!(page.entries.is_empty());
    }
}
