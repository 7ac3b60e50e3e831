//! A log group's metadata: creation time, retention and metric filters, kept as `group.json`
//! in the group's directory (written aside, synced, renamed into place).

use super::MetricFilter;
use serde::{Deserialize, Serialize};
use std::fs::File;
use std::io::{self, Write};
use std::path::Path;

const META_FILE: &str = "group.json";

/// What a group keeps besides its streams.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GroupMeta {
    pub creation_time: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retention_in_days: Option<u32>,
    /// Sorted by name.
    #[serde(default)]
    pub metric_filters: Vec<MetricFilter>,
}

impl GroupMeta {
    pub fn new(creation_time: i64) -> GroupMeta {
        GroupMeta {
            creation_time,
            retention_in_days: None,
            metric_filters: Vec::new(),
        }
    }
}

/// A group as DescribeLogGroups lists it (stored bytes are counted separately, per page).
#[derive(Debug, Clone, PartialEq)]
pub struct GroupInfo {
    pub name: String,
    pub creation_time: i64,
    pub retention_in_days: Option<u32>,
    pub metric_filter_count: usize,
}

/// The metadata of the group in `dir`; a directory without it (made by an older lambent)
/// gets a fresh one dated by the directory itself.
pub(super) fn load(dir: &Path) -> io::Result<GroupMeta> {
    match std::fs::read(dir.join(META_FILE)) {
        Ok(bytes) => serde_json::from_slice(&bytes)
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            let meta = std::fs::metadata(dir)?;
            let created = meta.created().or_else(|_| meta.modified())?;
            Ok(GroupMeta::new(super::system_millis(created)))
        }
        Err(e) => Err(e),
    }
}

/// Replaces the group's metadata: a crash leaves the old file or the new one, never half.
pub(super) fn save(dir: &Path, meta: &GroupMeta) -> io::Result<()> {
    let aside = dir.join(format!("{META_FILE}.new"));
    let mut f = File::create(&aside)?;
    f.write_all(&serde_json::to_vec_pretty(meta).map_err(io::Error::other)?)?;
    f.sync_all()?;
    std::fs::rename(&aside, dir.join(META_FILE))?;
    File::open(dir)?.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn saves_and_loads() {
        let dir = tempfile::tempdir().unwrap();
        let fresh = load(dir.path()).unwrap();
        assert!(fresh.creation_time > 0 && fresh.retention_in_days.is_none());
        let meta = GroupMeta {
            creation_time: 5,
            retention_in_days: Some(7),
            metric_filters: Vec::new(),
        };
        save(dir.path(), &meta).unwrap();
        assert_eq!(load(dir.path()).unwrap(), meta);
    }
}
