//! One stream's file: one line per event, in the order events arrived.
//!
//! A line is `<timestamp>\t<message>` when the event was ingested at its own timestamp (the
//! capture task's events), `<timestamp>,<ingestion>\t<message>` otherwise (PutLogEvents), and
//! `<timestamp>,<ingestion>,e\t<escaped>` for the rare message holding a newline (`\n` and
//! `\\` escaped), so every event stays one line and older files read unchanged.
//!
//! Events may arrive out of timestamp order (PutLogEvents batches are ordered only within
//! themselves), so the file is in arrival order and readers sort: a stable sort by timestamp,
//! which keeps arrival order among equal timestamps and is linear on the usual sorted file.

use std::fs::{File, OpenOptions};
use std::io::{self, BufRead, BufReader, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// One log event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogEvent {
    pub timestamp: i64,
    /// When lambent received it (milliseconds since the epoch).
    pub ingestion_time: i64,
    pub message: String,
}

/// Appends one event's line to `out`.
pub(super) fn encode(out: &mut Vec<u8>, timestamp: i64, ingestion_time: i64, message: &[u8]) {
    let escape = message.contains(&b'\n');
    // Writing into a Vec cannot fail.
    let _ = match (ingestion_time == timestamp, escape) {
        (true, false) => write!(out, "{timestamp}\t"),
        (false, false) => write!(out, "{timestamp},{ingestion_time}\t"),
        (_, true) => write!(out, "{timestamp},{ingestion_time},e\t"),
    };
    if escape {
        for &b in message {
            match b {
                b'\n' => out.extend_from_slice(b"\\n"),
                b'\\' => out.extend_from_slice(b"\\\\"),
                b => out.push(b),
            }
        }
    } else {
        out.extend_from_slice(message);
    }
    out.push(b'\n');
}

/// A line's timestamp, ingestion time, and whether its message is escaped.
fn head(line: &[u8]) -> Option<(i64, i64, bool, usize)> {
    let tab = line.iter().position(|&b| b == b'\t')?;
    let head = std::str::from_utf8(&line[..tab]).ok()?;
    let mut parts = head.split(',');
    let timestamp = parts.next()?.parse().ok()?;
    let ingestion = match parts.next() {
        Some(i) => i.parse().ok()?,
        None => timestamp,
    };
    let escaped = parts.next() == Some("e");
    Some((timestamp, ingestion, escaped, tab + 1))
}

/// A line's timestamp alone (the sweeper's question).
pub(super) fn line_timestamp(line: &[u8]) -> Option<i64> {
    head(line).map(|(ts, ..)| ts)
}

fn decode(line: &[u8]) -> Option<LogEvent> {
    let (timestamp, ingestion_time, escaped, start) = head(line)?;
    let raw = &line[start..];
    let message = if escaped {
        let mut out = Vec::with_capacity(raw.len());
        let mut bytes = raw.iter();
        while let Some(&b) = bytes.next() {
            match (b, bytes.as_slice().first()) {
                (b'\\', Some(b'n')) => {
                    out.push(b'\n');
                    bytes.next();
                }
                (b'\\', Some(b'\\')) => {
                    out.push(b'\\');
                    bytes.next();
                }
                (b, _) => out.push(b),
            }
        }
        String::from_utf8_lossy(&out).into_owned()
    } else {
        String::from_utf8_lossy(raw).into_owned()
    };
    Some(LogEvent {
        timestamp,
        ingestion_time,
        message,
    })
}

/// Calls `each` with every complete line of a file (a line still being written, without its
/// newline, is left out).
pub(super) fn for_each_line(path: &Path, mut each: impl FnMut(&[u8])) -> io::Result<()> {
    let mut reader = BufReader::with_capacity(64 * 1024, File::open(path)?);
    let mut line = Vec::new();
    loop {
        line.clear();
        if reader.read_until(b'\n', &mut line)? == 0 {
            return Ok(());
        }
        if let Some(complete) = line.strip_suffix(b"\n") {
            each(complete);
        }
    }
}

/// The oldest timestamp among the complete lines from byte `from` on, and the offset after
/// the last complete line.
pub(super) fn oldest_from(path: &Path, from: u64) -> io::Result<(Option<i64>, u64)> {
    let mut file = File::open(path)?;
    file.seek(SeekFrom::Start(from))?;
    let mut reader = BufReader::with_capacity(64 * 1024, file);
    let mut line = Vec::new();
    let (mut oldest, mut end) = (None::<i64>, from);
    loop {
        line.clear();
        let n = reader.read_until(b'\n', &mut line)?;
        let Some(complete) = line.strip_suffix(b"\n") else {
            return Ok((oldest, end));
        };
        end += n as u64;
        if let Some(ts) = line_timestamp(complete) {
            oldest = Some(oldest.map_or(ts, |o| o.min(ts)));
        }
    }
}

/// A stream's events sorted by timestamp (arrival order among equals), those before
/// `cutoff` left out.
pub(super) fn read_sorted(path: &Path, cutoff: i64) -> io::Result<Vec<LogEvent>> {
    let mut out = Vec::new();
    for_each_line(path, |line| {
        if let Some(e) = decode(line).filter(|e| e.timestamp >= cutoff) {
            out.push(e);
        }
    })?;
    out.sort_by_key(|e| e.timestamp);
    Ok(out)
}

/// A stream's open file, shared by everything that writes to it (its environment's capture
/// task, PutLogEvents, the retention sweeper). The mutex makes each append whole lines, and
/// lets the sweeper swap in a rewritten file without losing an append made meanwhile.
pub(super) struct StreamFile {
    pub path: PathBuf,
    file: Mutex<File>,
}

impl StreamFile {
    pub fn open(path: PathBuf, create: bool) -> io::Result<StreamFile> {
        let file = OpenOptions::new().create(create).append(true).open(&path)?;
        Ok(StreamFile {
            path,
            file: Mutex::new(file),
        })
    }

    pub fn append(&self, lines: &[u8]) -> io::Result<()> {
        let mut file = self.file.lock().unwrap_or_else(|p| p.into_inner());
        file.write_all(lines)
    }

    /// Rewrites the file keeping only the lines `keep` accepts; returns how many it dropped.
    /// Appends wait meanwhile and then go to the new file.
    pub fn rewrite(&self, keep: impl Fn(&[u8]) -> bool) -> io::Result<usize> {
        let mut file = self.file.lock().unwrap_or_else(|p| p.into_inner());
        let aside = self.path.with_extension("sweep");
        let mut out = io::BufWriter::new(File::create(&aside)?);
        let mut dropped = 0;
        let mut result = Ok(());
        for_each_line(&self.path, |line| {
            if keep(line) {
                if result.is_ok() {
                    result = out.write_all(line).and_then(|_| out.write_all(b"\n"));
                }
            } else {
                dropped += 1;
            }
        })?;
        result?;
        let rewritten = out.into_inner().map_err(|e| e.into_error())?;
        if dropped == 0 {
            drop(rewritten);
            let _ = std::fs::remove_file(&aside);
            return Ok(0);
        }
        // Only the rewrite is synced: a crash must not leave a truncated stream in its place.
        rewritten.sync_all()?;
        std::fs::rename(&aside, &self.path)?;
        *file = OpenOptions::new().append(true).open(&self.path)?;
        Ok(dropped)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_round_trip_and_sort() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.log");
        let mut buf = Vec::new();
        encode(&mut buf, 7, 7, b"second\twith tab");
        encode(&mut buf, 5, 9, b"first");
        encode(&mut buf, 7, 10, b"multi\nline \\n");
        std::fs::write(&path, &buf).unwrap();
        // An old-format line and a line still being written.
        let mut f = OpenOptions::new().append(true).open(&path).unwrap();
        f.write_all(b"6\told\n8\tpart").unwrap();
        let events = read_sorted(&path, 0).unwrap();
        let got: Vec<_> = events
            .iter()
            .map(|e| (e.timestamp, e.ingestion_time, e.message.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                (5, 9, "first"),
                (6, 6, "old"),
                (7, 7, "second\twith tab"),
                (7, 10, "multi\nline \\n"),
            ]
        );
        assert_eq!(read_sorted(&path, 7).unwrap().len(), 2);
    }

    #[test]
    fn rewrite_keeps_appending_to_the_new_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = StreamFile::open(dir.path().join("s.log"), true).unwrap();
        let mut buf = Vec::new();
        encode(&mut buf, 1, 1, b"old");
        encode(&mut buf, 5, 5, b"new");
        file.append(&buf).unwrap();
        let dropped = file
            .rewrite(|l| line_timestamp(l).is_some_and(|t| t >= 3))
            .unwrap();
        assert_eq!(dropped, 1);
        buf.clear();
        encode(&mut buf, 6, 6, b"later");
        file.append(&buf).unwrap();
        let all: Vec<_> = read_sorted(&file.path, 0)
            .unwrap()
            .into_iter()
            .map(|e| e.message)
            .collect();
        assert_eq!(all, ["new", "later"]);
    }
}
