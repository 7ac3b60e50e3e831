//! The log store: one directory per group (its metadata in `group.json`, see `groups.rs`), one
//! append-only file per stream (`<stream>.log`, see `stream.rs`).
//!
//! Every group, its metadata and its compiled metric filters are held in memory (loaded at
//! open), so existence checks and metric counting never touch the disk.

use super::groups::{self, GroupInfo, GroupMeta};
use super::metrics::{self, CompiledFilter, MetricFilterValue};
use super::stream::{self, LogEvent, StreamFile};
use super::{now_millis, system_millis, LogStoreError, MetricFilter, StreamWriter};
use percent_encoding::{percent_decode_str, utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use std::collections::{BTreeMap, HashMap};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock, Weak};

const FILE_SAFE: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.');

/// A group can hold at most this many metric filters.
pub const MAX_METRIC_FILTERS: usize = 100;

/// A stream's name and extent, as DescribeLogStreams shows it.
#[derive(Debug, Clone)]
pub struct StreamInfo {
    pub name: String,
    pub creation_time: i64,
    pub first_event: Option<i64>,
    pub last_event: Option<i64>,
    pub last_ingestion: Option<i64>,
    pub stored_bytes: u64,
}

/// A stream's file, before anything is read from it.
#[derive(Debug, Clone)]
pub struct StreamEntry {
    pub name: String,
    pub path: PathBuf,
    /// When the file was last written (milliseconds since the epoch).
    pub modified: i64,
    pub created: i64,
    pub size: u64,
}

/// The root of all log groups; a cheap-clone handle shared by the edge, the scheduler's
/// capture tasks and the retention sweeper.
#[derive(Clone)]
pub struct LogStore {
    pub(super) inner: Arc<Inner>,
}

pub(super) struct Inner {
    root: PathBuf,
    /// Milliseconds in a retention "day" (`LAMBENT_RETENTION_DAY_SECS`, see `retention.rs`).
    pub day_millis: i64,
    /// Every group by name (ASCII order, as DescribeLogGroups lists them). An `RwLock`:
    /// readers (every API call, a writer noticing a new generation) far outnumber changes,
    /// and it is never held across I/O.
    groups: RwLock<BTreeMap<String, Group>>,
    /// Serializes metadata changes, which do I/O (write aside, sync, rename) before they
    /// publish into `groups`.
    changes: Mutex<()>,
    /// Bumped by every change to a group's filters, or to a group's or stream's existence;
    /// each writer compares it to the one it cached, so the append path costs one atomic load.
    generation: AtomicU64,
    /// The open file of every stream something writes to, so all writers of a stream share
    /// one (see `StreamFile`).
    files: Mutex<HashMap<PathBuf, Weak<StreamFile>>>,
}

struct Group {
    meta: GroupMeta,
    filters: Arc<Vec<CompiledFilter>>,
}

fn io_error(step: &'static str) -> impl FnOnce(io::Error) -> LogStoreError {
    move |source| LogStoreError::Io { step, source }
}

impl LogStore {
    pub fn open(root: &Path) -> io::Result<LogStore> {
        std::fs::create_dir_all(root)?;
        let mut groups = BTreeMap::new();
        for entry in std::fs::read_dir(root)? {
            let entry = entry?;
            if !entry.file_type()?.is_dir() {
                continue;
            }
            let name = decode(&entry.file_name().to_string_lossy());
            let meta = groups::load(&entry.path())?;
            let filters = Arc::new(metrics::compile_all(&name, &meta.metric_filters, &[]));
            groups.insert(name, Group { meta, filters });
        }
        Ok(LogStore {
            inner: Arc::new(Inner {
                root: root.to_path_buf(),
                day_millis: super::retention::day_millis(),
                groups: RwLock::new(groups),
                changes: Mutex::new(()),
                generation: AtomicU64::new(0),
                files: Mutex::new(HashMap::new()),
            }),
        })
    }

    fn group_dir(&self, group: &str) -> PathBuf {
        let mut name = utf8_percent_encode(group, FILE_SAFE).to_string();
        // AWS accepts groups named `.` and `..`: a leading dot is encoded so no group's
        // directory is the root or its parent.
        if name.starts_with('.') {
            name.replace_range(..1, "%2E");
        }
        self.inner.root.join(name)
    }

    fn stream_path(&self, group: &str, stream: &str) -> PathBuf {
        self.group_dir(group)
            .join(format!("{}.log", utf8_percent_encode(stream, FILE_SAFE)))
    }

    fn read_groups(&self) -> std::sync::RwLockReadGuard<'_, BTreeMap<String, Group>> {
        self.inner.groups.read().unwrap_or_else(|p| p.into_inner())
    }

    fn write_groups(&self) -> std::sync::RwLockWriteGuard<'_, BTreeMap<String, Group>> {
        self.inner.groups.write().unwrap_or_else(|p| p.into_inner())
    }

    fn lock_changes(&self) -> std::sync::MutexGuard<'_, ()> {
        self.inner.changes.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(super) fn generation(&self) -> u64 {
        self.inner.generation.load(Ordering::Acquire)
    }

    fn bump(&self) {
        self.inner.generation.fetch_add(1, Ordering::AcqRel);
    }

    /// A group's compiled metric filters, `None` when the group does not exist.
    pub(super) fn filters(&self, group: &str) -> Option<Arc<Vec<CompiledFilter>>> {
        self.read_groups().get(group).map(|g| g.filters.clone())
    }

    /// The shared open file of a stream; `create` makes the file if it is missing.
    pub(super) fn stream_file(
        &self,
        group: &str,
        stream: &str,
        create: bool,
    ) -> io::Result<Arc<StreamFile>> {
        let path = self.stream_path(group, stream);
        let mut files = self.inner.files.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(f) = files.get(&path).and_then(Weak::upgrade) {
            return Ok(f);
        }
        let f = Arc::new(StreamFile::open(path.clone(), create)?);
        if files.len() >= 1024 {
            files.retain(|_, w| w.strong_count() > 0);
        }
        files.insert(path, Arc::downgrade(&f));
        Ok(f)
    }

    /// Forgets the open files under `prefix` (a deleted group or stream).
    fn forget_files(&self, prefix: &Path) {
        let mut files = self.inner.files.lock().unwrap_or_else(|p| p.into_inner());
        files.retain(|path, w| w.strong_count() > 0 && !path.starts_with(prefix));
    }

    // ------------------------------------------------------------------------------ groups

    pub fn group_exists(&self, group: &str) -> bool {
        self.read_groups().contains_key(group)
    }

    /// CreateLogGroup.
    pub fn create_group(&self, group: &str) -> Result<(), LogStoreError> {
        let _changing = self.lock_changes();
        if self.group_exists(group) {
            return Err(LogStoreError::GroupExists(group.to_string()));
        }
        self.make_group(group)
            .map_err(io_error("creating the log group"))
    }

    /// Creates a group a function logs to, unless it exists (Lambda creates its groups as
    /// they are needed).
    pub fn ensure_group(&self, group: &str) -> io::Result<()> {
        if self.group_exists(group) {
            return Ok(());
        }
        let _changing = self.lock_changes();
        if self.group_exists(group) {
            return Ok(());
        }
        self.make_group(group)
    }

    /// Makes a group's directory and metadata; the caller holds `changes`.
    fn make_group(&self, group: &str) -> io::Result<()> {
        let dir = self.group_dir(group);
        std::fs::create_dir_all(&dir)?;
        let meta = GroupMeta::new(now_millis());
        groups::save(&dir, &meta)?;
        self.write_groups().insert(
            group.to_string(),
            Group {
                meta,
                filters: Arc::default(),
            },
        );
        Ok(())
    }

    /// DeleteLogGroup: its streams, events and metric filters go with it.
    pub fn delete_group(&self, group: &str) -> Result<(), LogStoreError> {
        let _changing = self.lock_changes();
        if self.write_groups().remove(group).is_none() {
            return Err(LogStoreError::GroupNotFound(group.to_string()));
        }
        self.bump();
        let dir = self.group_dir(group);
        self.forget_files(&dir);
        match std::fs::remove_dir_all(&dir) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => {
                Err(io_error("deleting the log group")(e))
            }
            _ => Ok(()),
        }
    }

    /// Every group, in ASCII order of names.
    pub fn groups(&self) -> Vec<GroupInfo> {
        self.read_groups()
            .iter()
            .map(|(name, g)| GroupInfo {
                name: name.clone(),
                creation_time: g.meta.creation_time,
                retention_in_days: g.meta.retention_in_days,
                metric_filter_count: g.meta.metric_filters.len(),
            })
            .collect()
    }

    /// Bytes of a group's stream files.
    pub fn stored_bytes(&self, group: &str) -> u64 {
        self.stream_entries(group)
            .map(|s| s.iter().map(|e| e.size).sum())
            .unwrap_or(0)
    }

    /// Changes a group's metadata: written to disk first, then published.
    fn update_meta(
        &self,
        group: &str,
        change: impl FnOnce(&mut GroupMeta) -> Result<(), LogStoreError>,
    ) -> Result<(), LogStoreError> {
        let _changing = self.lock_changes();
        let (mut meta, previous) = match self.read_groups().get(group) {
            Some(g) => (g.meta.clone(), g.filters.clone()),
            None => return Err(LogStoreError::GroupNotFound(group.to_string())),
        };
        change(&mut meta)?;
        groups::save(&self.group_dir(group), &meta)
            .map_err(io_error("saving the log group's metadata"))?;
        let filters = Arc::new(metrics::compile_all(group, &meta.metric_filters, &previous));
        self.write_groups()
            .insert(group.to_string(), Group { meta, filters });
        self.bump();
        Ok(())
    }

    /// PutRetentionPolicy (`Some`) and DeleteRetentionPolicy (`None`).
    pub fn set_retention(&self, group: &str, days: Option<u32>) -> Result<(), LogStoreError> {
        self.update_meta(group, |m| {
            m.retention_in_days = days;
            Ok(())
        })
    }

    /// The group's retention in milliseconds, if it has one.
    pub fn retention_millis(&self, group: &str) -> Option<i64> {
        let days = self.read_groups().get(group)?.meta.retention_in_days?;
        Some(i64::from(days) * self.inner.day_millis)
    }

    /// Events before this have expired (`i64::MIN` without retention).
    fn cutoff(&self, group: &str) -> i64 {
        self.retention_millis(group)
            .map_or(i64::MIN, |r| now_millis() - r)
    }

    // ---------------------------------------------------------------------- metric filters

    /// PutMetricFilter: creates or replaces the group's filter of that name.
    pub fn put_metric_filter(
        &self,
        group: &str,
        filter: MetricFilter,
    ) -> Result<(), LogStoreError> {
        self.update_meta(group, |m| {
            let list = &mut m.metric_filters;
            match list.binary_search_by(|f| f.filter_name.cmp(&filter.filter_name)) {
                Ok(i) => {
                    let creation_time = list[i].creation_time;
                    list[i] = MetricFilter {
                        creation_time,
                        ..filter
                    };
                }
                Err(_) if list.len() >= MAX_METRIC_FILTERS => {
                    return Err(LogStoreError::TooManyFilters(group.to_string()))
                }
                Err(i) => list.insert(i, filter),
            }
            Ok(())
        })
    }

    /// DeleteMetricFilter.
    pub fn delete_metric_filter(&self, group: &str, name: &str) -> Result<(), LogStoreError> {
        self.update_meta(group, |m| {
            let before = m.metric_filters.len();
            m.metric_filters.retain(|f| f.filter_name != name);
            if m.metric_filters.len() == before {
                return Err(LogStoreError::FilterNotFound {
                    group: group.to_string(),
                    filter: name.to_string(),
                });
            }
            Ok(())
        })
    }

    /// Every metric filter with its group, by group then filter name.
    pub fn metric_filters(&self) -> Vec<(String, MetricFilter)> {
        self.read_groups()
            .iter()
            .flat_map(|(name, g)| {
                g.meta
                    .metric_filters
                    .iter()
                    .map(move |f| (name.clone(), f.clone()))
            })
            .collect()
    }

    /// The running total of every metric filter, for the Prometheus endpoint.
    pub fn metric_filter_values(&self) -> Vec<MetricFilterValue> {
        self.read_groups()
            .iter()
            .flat_map(|(name, g)| g.filters.iter().map(move |f| f.value(name)))
            .collect()
    }

    // ----------------------------------------------------------------------------- streams

    /// CreateLogStream.
    pub fn create_stream(&self, group: &str, stream: &str) -> Result<(), LogStoreError> {
        if !self.group_exists(group) {
            return Err(LogStoreError::GroupNotFound(group.to_string()));
        }
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(self.stream_path(group, stream))
        {
            Ok(_) => Ok(()),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                Err(LogStoreError::StreamExists {
                    group: group.to_string(),
                    stream: stream.to_string(),
                })
            }
            Err(e) => Err(io_error("creating the log stream")(e)),
        }
    }

    /// DeleteLogStream.
    pub fn delete_stream(&self, group: &str, stream: &str) -> Result<(), LogStoreError> {
        if !self.group_exists(group) {
            return Err(LogStoreError::GroupNotFound(group.to_string()));
        }
        let path = self.stream_path(group, stream);
        self.forget_files(&path);
        // A writer of the stream notices and starts it again.
        self.bump();
        match std::fs::remove_file(&path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Err(LogStoreError::StreamNotFound {
                group: group.to_string(),
                stream: stream.to_string(),
            }),
            Err(e) => Err(io_error("deleting the log stream")(e)),
        }
    }

    pub fn stream_exists(&self, group: &str, stream: &str) -> bool {
        self.stream_path(group, stream).is_file()
    }

    /// A group's stream files, in ASCII order of stream names.
    pub fn stream_entries(&self, group: &str) -> io::Result<Vec<StreamEntry>> {
        let dir = match std::fs::read_dir(self.group_dir(group)) {
            Ok(d) => d,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(e),
        };
        let mut out = Vec::new();
        for entry in dir {
            let entry = entry?;
            let file_name = entry.file_name().to_string_lossy().into_owned();
            let Some(encoded) = file_name.strip_suffix(".log") else {
                continue;
            };
            let meta = match entry.metadata() {
                Ok(m) => m,
                // Deleted (or swept) meanwhile.
                Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                Err(e) => return Err(e),
            };
            let modified = meta.modified().map(system_millis).unwrap_or(0);
            out.push(StreamEntry {
                name: decode(encoded),
                path: entry.path(),
                modified,
                created: meta.created().map(system_millis).unwrap_or(modified),
                size: meta.len(),
            });
        }
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(out)
    }

    /// A group's streams with their extent, in ASCII order of names.
    pub fn streams(&self, group: &str) -> io::Result<Vec<StreamInfo>> {
        let cutoff = self.cutoff(group);
        let mut out = Vec::new();
        for entry in self.stream_entries(group)? {
            let events = match stream::read_sorted(&entry.path, cutoff) {
                Ok(e) => e,
                Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                Err(e) => return Err(e),
            };
            out.push(StreamInfo {
                creation_time: entry.created,
                first_event: events.first().map(|e| e.timestamp),
                last_event: events.last().map(|e| e.timestamp),
                last_ingestion: events.iter().map(|e| e.ingestion_time).max(),
                stored_bytes: entry.size,
                name: entry.name,
            });
        }
        Ok(out)
    }

    /// A stream's unexpired events, sorted by timestamp (arrival order among equals).
    pub fn events(&self, group: &str, stream: &str) -> io::Result<Vec<LogEvent>> {
        stream::read_sorted(&self.stream_path(group, stream), self.cutoff(group))
    }

    /// The events of a stream file listed by [`LogStore::stream_entries`].
    pub fn entry_events(&self, group: &str, entry: &StreamEntry) -> io::Result<Vec<LogEvent>> {
        stream::read_sorted(&entry.path, self.cutoff(group))
    }

    /// PutLogEvents: appends `(timestamp, message)`s received at `ingestion_time` to an
    /// existing stream, and counts them for the group's metric filters.
    pub fn put_events(
        &self,
        group: &str,
        stream: &str,
        events: &[(i64, &str)],
        ingestion_time: i64,
    ) -> Result<(), LogStoreError> {
        let Some(filters) = self.filters(group) else {
            return Err(LogStoreError::GroupNotFound(group.to_string()));
        };
        let file = match self.stream_file(group, stream, false) {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Err(LogStoreError::StreamNotFound {
                    group: group.to_string(),
                    stream: stream.to_string(),
                })
            }
            Err(e) => return Err(io_error("opening the log stream")(e)),
        };
        let mut lines = Vec::with_capacity(events.iter().map(|(_, m)| m.len() + 32).sum());
        for (timestamp, message) in events {
            stream::encode(&mut lines, *timestamp, ingestion_time, message.as_bytes());
        }
        file.append(&lines)
            .map_err(io_error("appending to the log stream"))?;
        for (_, message) in events {
            metrics::count(&filters, message.as_bytes());
        }
        Ok(())
    }

    /// Opens a function's stream for appending, creating its group and stream as needed.
    pub fn writer(&self, group: &str, stream: &str) -> io::Result<StreamWriter> {
        self.ensure_group(group)?;
        let file = self.stream_file(group, stream, true)?;
        Ok(StreamWriter::new(self.clone(), group, stream, file))
    }

    /// The names of the groups that have a retention, with it in milliseconds.
    pub(super) fn retained_groups(&self) -> Vec<(String, i64)> {
        let day = self.inner.day_millis;
        self.read_groups()
            .iter()
            .filter_map(|(name, g)| {
                Some((name.clone(), i64::from(g.meta.retention_in_days?) * day))
            })
            .collect()
    }

    /// Drops the registry entries of files nothing holds open any more.
    pub(super) fn prune_files(&self) {
        let mut files = self.inner.files.lock().unwrap_or_else(|p| p.into_inner());
        files.retain(|_, w| w.strong_count() > 0);
    }
}

fn decode(encoded: &str) -> String {
    percent_decode_str(encoded).decode_utf8_lossy().into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::logs::MetricTransformation;

    #[test]
    fn round_trips_events_and_lists_streams() {
        let dir = tempfile::tempdir().unwrap();
        let store = LogStore::open(dir.path()).unwrap();
        let mut w = store
            .writer("/aws/lambda/f", "2024/01/01/[$LATEST]ab")
            .unwrap();
        w.append(5, b"hello\tworld").unwrap();
        w.append(7, b"second").unwrap();
        w.flush().unwrap();
        let events = store
            .events("/aws/lambda/f", "2024/01/01/[$LATEST]ab")
            .unwrap();
        assert_eq!(events.len(), 2);
        assert_eq!(events[0].message, "hello\tworld");
        let streams = store.streams("/aws/lambda/f").unwrap();
        assert_eq!(streams[0].name, "2024/01/01/[$LATEST]ab");
        assert_eq!(streams[0].last_event, Some(7));
        assert!(store.streams("/aws/lambda/none").unwrap().is_empty());
        // The implicit group survives a restart with its metadata.
        let names: Vec<_> = LogStore::open(dir.path())
            .unwrap()
            .groups()
            .into_iter()
            .map(|g| g.name)
            .collect();
        assert_eq!(names, ["/aws/lambda/f"]);
    }

    #[test]
    fn groups_streams_and_their_errors() {
        let dir = tempfile::tempdir().unwrap();
        let store = LogStore::open(dir.path()).unwrap();
        store.create_group("app").unwrap();
        assert!(matches!(
            store.create_group("app"),
            Err(LogStoreError::GroupExists(_))
        ));
        assert!(matches!(
            store.create_stream("nope", "s"),
            Err(LogStoreError::GroupNotFound(_))
        ));
        store.create_stream("app", "s").unwrap();
        assert!(matches!(
            store.create_stream("app", "s"),
            Err(LogStoreError::StreamExists { .. })
        ));
        assert!(matches!(
            store.put_events("app", "missing", &[(1, "x")], 2),
            Err(LogStoreError::StreamNotFound { .. })
        ));
        // Out-of-order batches across calls: readers still see timestamp order.
        store
            .put_events("app", "s", &[(10, "b"), (20, "c")], 100)
            .unwrap();
        store.put_events("app", "s", &[(5, "a")], 101).unwrap();
        let got: Vec<_> = store
            .events("app", "s")
            .unwrap()
            .into_iter()
            .map(|e| (e.timestamp, e.ingestion_time, e.message))
            .collect();
        assert_eq!(
            got,
            [
                (5, 101, "a".to_string()),
                (10, 100, "b".into()),
                (20, 100, "c".into())
            ]
        );
        // A stream deleted under its writer comes back with the next event.
        let mut w = store.writer("app", "w").unwrap();
        w.append(1, b"before").unwrap();
        w.flush().unwrap();
        store.delete_stream("app", "w").unwrap();
        w.append(2, b"after").unwrap();
        w.flush().unwrap();
        let after: Vec<_> = store.events("app", "w").unwrap();
        assert_eq!(after.len(), 1);
        assert_eq!(after[0].message, "after");
        // Dot names stay inside the root.
        for dots in [".", ".."] {
            store.create_group(dots).unwrap();
            assert!(dir.path().join(format!("%2E{}", &dots[1..])).is_dir());
        }
        store.delete_group("..").unwrap();
        assert!(dir.path().is_dir() && store.group_exists("app"));
        assert!(LogStore::open(dir.path()).unwrap().group_exists("."));
        store.set_retention("app", Some(7)).unwrap();
        let reopened = LogStore::open(dir.path()).unwrap();
        let app = reopened
            .groups()
            .into_iter()
            .find(|g| g.name == "app")
            .unwrap();
        assert_eq!(app.retention_in_days, Some(7));
        store.delete_group("app").unwrap();
        assert!(!store.group_exists("app"));
        assert!(matches!(
            store.delete_group("app"),
            Err(LogStoreError::GroupNotFound(_))
        ));
    }

    #[test]
    fn metric_filter_values_count_capture_and_put_events() {
        let dir = tempfile::tempdir().unwrap();
        let store = LogStore::open(dir.path()).unwrap();
        let group = "/aws/lambda/counted";
        // The function's writer exists before the filter does: it picks the filter up.
        let mut w = store.writer(group, "s1").unwrap();
        w.append(1, b"ERROR before").unwrap();
        store
            .put_metric_filter(
                group,
                MetricFilter {
                    filter_name: "errors".into(),
                    filter_pattern: "{ $.level = \"ERROR\" }".into(),
                    metric_transformations: vec![MetricTransformation {
                        metric_name: "Errors".into(),
                        metric_namespace: "App".into(),
                        metric_value: "1".into(),
                        default_value: None,
                        dimensions: None,
                        unit: None,
                    }],
                    creation_time: 1,
                    apply_on_transformed_logs: false,
                },
            )
            .unwrap();
        for line in [
            r#"{"level": "ERROR", "msg": "a"}"#,
            r#"{"level": "INFO"}"#,
            "plain ERROR",
            r#"{"level": "ERROR"}"#,
        ] {
            w.append(2, line.as_bytes()).unwrap();
        }
        store.create_stream(group, "api").unwrap();
        store
            .put_events(group, "api", &[(3, r#"{"level":"ERROR"}"#)], 3)
            .unwrap();
        assert_eq!(
            store.metric_filter_values(),
            [MetricFilterValue {
                log_group: group.into(),
                filter_name: "errors".into(),
                metric_namespace: "App".into(),
                metric_name: "Errors".into(),
                value: 3.0,
            }]
        );
        // Deleting the group under a running writer: the writer starts it again, like
        // Lambda, without the filter.
        w.flush().unwrap();
        store.delete_group(group).unwrap();
        w.append(4, b"after").unwrap();
        w.flush().unwrap();
        assert!(store.group_exists(group));
        assert!(store.metric_filter_values().is_empty());
        assert_eq!(store.events(group, "s1").unwrap().len(), 1);
    }
}
