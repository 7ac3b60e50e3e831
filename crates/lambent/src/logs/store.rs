//! Log storage: one directory per group, one append-only file per stream, one line per event
//! (`<unix-millis>\t<message>`; messages never contain a newline).

use percent_encoding::{percent_decode_str, utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use std::fs::{File, OpenOptions};
use std::io::{self, BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};

const FILE_SAFE: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.');

/// One log event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogEvent {
    pub timestamp: i64,
    pub message: String,
}

/// A stream's name and extent.
#[derive(Debug, Clone)]
pub struct StreamInfo {
    pub name: String,
    pub first_event: Option<i64>,
    pub last_event: Option<i64>,
    pub stored_bytes: u64,
}

/// The root of all log groups.
#[derive(Clone)]
pub struct LogStore {
    root: PathBuf,
}

impl LogStore {
    pub fn open(root: &Path) -> io::Result<LogStore> {
        std::fs::create_dir_all(root)?;
        Ok(LogStore {
            root: root.to_path_buf(),
        })
    }

    fn group_dir(&self, group: &str) -> PathBuf {
        self.root
            .join(utf8_percent_encode(group, FILE_SAFE).to_string())
    }

    fn stream_path(&self, group: &str, stream: &str) -> PathBuf {
        self.group_dir(group)
            .join(format!("{}.log", utf8_percent_encode(stream, FILE_SAFE)))
    }

    /// Opens a stream for appending, creating group and stream as needed.
    pub fn writer(&self, group: &str, stream: &str) -> io::Result<StreamWriter> {
        std::fs::create_dir_all(self.group_dir(group))?;
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.stream_path(group, stream))?;
        Ok(StreamWriter {
            out: BufWriter::with_capacity(64 * 1024, file),
        })
    }

    /// The streams of a group, most recently written first.
    pub fn streams(&self, group: &str) -> io::Result<Vec<StreamInfo>> {
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
            let name = percent_decode_str(encoded).decode_utf8_lossy().into_owned();
            let events = read_file(&entry.path())?;
            out.push(StreamInfo {
                name,
                first_event: events.first().map(|e| e.timestamp),
                last_event: events.last().map(|e| e.timestamp),
                stored_bytes: entry.metadata()?.len(),
            });
        }
        out.sort_by_key(|s| std::cmp::Reverse(s.last_event));
        Ok(out)
    }

    /// All events of one stream, oldest first.
    pub fn events(&self, group: &str, stream: &str) -> io::Result<Vec<LogEvent>> {
        match read_file(&self.stream_path(group, stream)) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(Vec::new()),
            r => r,
        }
    }

    /// Whether a group has any stream.
    pub fn group_exists(&self, group: &str) -> bool {
        self.group_dir(group).is_dir()
    }

    /// Removes a group and its streams.
    pub fn delete_group(&self, group: &str) -> io::Result<()> {
        match std::fs::remove_dir_all(self.group_dir(group)) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            r => r,
        }
    }
}

fn read_file(path: &Path) -> io::Result<Vec<LogEvent>> {
    let reader = BufReader::new(File::open(path)?);
    let mut out = Vec::new();
    for line in reader.split(b'\n') {
        let line = line?;
        let line = String::from_utf8_lossy(&line);
        if let Some((ts, msg)) = line.split_once('\t') {
            if let Ok(timestamp) = ts.parse() {
                out.push(LogEvent {
                    timestamp,
                    message: msg.to_string(),
                });
            }
        }
    }
    Ok(out)
}

/// Appends events to one stream.
pub struct StreamWriter {
    out: BufWriter<File>,
}

impl StreamWriter {
    /// Appends one event; `message` must not contain a newline (callers split lines).
    pub fn append(&mut self, timestamp: i64, message: &[u8]) -> io::Result<()> {
        write!(self.out, "{timestamp}\t")?;
        self.out.write_all(message)?;
        self.out.write_all(b"\n")
    }

    pub fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
    }
}
