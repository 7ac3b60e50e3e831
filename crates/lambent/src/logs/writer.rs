//! `StreamWriter`: how a function's capture task appends to its stream.

use super::metrics::{self, CompiledFilter};
use super::stream::{self, StreamFile};
use super::LogStore;
use std::io;
use std::sync::Arc;

/// Lines are handed to the file once this many bytes wait (or on `flush`).
const FLUSH_AT: usize = 64 * 1024;

/// Appends events to one stream, and counts them for the group's metric filters.
///
/// The writer caches its group's compiled filters with the store's generation number, so an
/// append costs one atomic load besides the filters themselves; a function with no metric
/// filter pays nothing more, and one that logs heavily slows no other.
pub struct StreamWriter {
    store: LogStore,
    group: String,
    stream: String,
    file: Arc<StreamFile>,
    buf: Vec<u8>,
    generation: u64,
    filters: Arc<Vec<CompiledFilter>>,
}

impl StreamWriter {
    pub(super) fn new(store: LogStore, group: &str, stream: &str, file: Arc<StreamFile>) -> Self {
        // Generation first: a change between the two reads is then seen on the first append.
        let generation = store.generation();
        let filters = store.filters(group).unwrap_or_default();
        StreamWriter {
            store,
            group: group.to_string(),
            stream: stream.to_string(),
            file,
            buf: Vec::with_capacity(FLUSH_AT),
            generation,
            filters,
        }
    }

    /// Appends one event ingested now; `message` must not contain a newline (callers split
    /// lines).
    pub fn append(&mut self, timestamp: i64, message: &[u8]) -> io::Result<()> {
        if self.store.generation() != self.generation {
            self.refresh()?;
        }
        stream::encode(&mut self.buf, timestamp, timestamp, message);
        metrics::count(&self.filters, message);
        if self.buf.len() >= FLUSH_AT {
            self.flush()?;
        }
        Ok(())
    }

    /// Picks up the group's new filters; if the group or the stream was deleted under the
    /// running environment, creates them again, as Lambda does.
    fn refresh(&mut self) -> io::Result<()> {
        self.generation = self.store.generation();
        if let Some(filters) = self.store.filters(&self.group) {
            self.filters = filters;
            if self.file.path.is_file() {
                return Ok(());
            }
        }
        self.store.ensure_group(&self.group)?;
        self.file = self.store.stream_file(&self.group, &self.stream, true)?;
        self.filters = self.store.filters(&self.group).unwrap_or_default();
        Ok(())
    }

    pub fn flush(&mut self) -> io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let result = self.file.append(&self.buf);
        self.buf.clear();
        result
    }
}

impl Drop for StreamWriter {
    fn drop(&mut self) {
        let _ = self.flush();
    }
}
