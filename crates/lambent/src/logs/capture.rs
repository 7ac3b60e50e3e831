//! The capture task: reads an environment's joined stdout/stderr, splits it into log events,
//! frames each invocation with START/END/REPORT, and keeps the invocation's last 4 KB for
//! `X-Amz-Log-Type: Tail`.

use super::{now_millis, StreamWriter};
use tokio::net::unix::pipe;
use tokio::sync::{mpsc, oneshot};

/// AWS cuts log events at 256 KB.
pub const MAX_LINE: usize = 256 * 1024;
/// `X-Amz-Log-Result` carries the last 4 KB of the invocation's log.
pub const TAIL_BYTES: usize = 4096;

/// What the scheduler tells the capture task.
pub enum LogCommand {
    /// An invocation begins: write `START`, begin collecting its tail.
    Start { request_id: String, version: String },
    /// A platform line (init errors, timeouts) to write as its own event.
    Line(String),
    /// The invocation ended: drain what the function wrote before it answered, then write
    /// `END` and the given `REPORT` line, and hand back the tail if asked.
    End {
        request_id: String,
        report: String,
        tail: Option<oneshot::Sender<Vec<u8>>>,
    },
}

struct Capture {
    /// `None` when the stream could not be opened: events are dropped, the function runs on.
    writer: Option<StreamWriter>,
    partial: Vec<u8>,
    tail: Vec<u8>,
    collecting: bool,
}

impl Capture {
    fn event(&mut self, message: &[u8]) {
        // A failing disk must not take the environment down; the event is lost, not buffered.
        if let Some(w) = &mut self.writer {
            let _ = w.append(now_millis(), message);
        }
        if self.collecting {
            self.tail.extend_from_slice(message);
            self.tail.push(b'\n');
            if self.tail.len() > 4 * TAIL_BYTES {
                let cut = self.tail.len() - TAIL_BYTES;
                self.tail.drain(..cut);
            }
        }
    }

    fn output(&mut self, mut bytes: &[u8]) {
        while let Some(pos) = bytes.iter().position(|&b| b == b'\n') {
            if self.partial.is_empty() {
                self.event_cut(&bytes[..pos]);
            } else {
                self.partial.extend_from_slice(&bytes[..pos]);
                let line = std::mem::take(&mut self.partial);
                self.event_cut(&line);
            }
            bytes = &bytes[pos + 1..];
        }
        self.partial.extend_from_slice(bytes);
        if self.partial.len() >= MAX_LINE {
            let line = std::mem::take(&mut self.partial);
            self.event_cut(&line);
        }
    }

    fn event_cut(&mut self, line: &[u8]) {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        for chunk in line.chunks(MAX_LINE) {
            self.event(chunk);
        }
        if line.is_empty() {
            self.event(b"");
        }
    }

    fn flush_partial(&mut self) {
        if !self.partial.is_empty() {
            let line = std::mem::take(&mut self.partial);
            self.event_cut(&line);
        }
    }

    fn flush(&mut self) {
        if let Some(w) = &mut self.writer {
            let _ = w.flush();
        }
    }

    fn take_tail(&mut self) -> Vec<u8> {
        let start = self.tail.len().saturating_sub(TAIL_BYTES);
        let tail = self.tail[start..].to_vec();
        self.tail.clear();
        tail
    }
}

/// Starts the capture task for one environment. `first_line`, a line of lambent's about the
/// environment, is the stream's first event, before anything the runtime writes.
pub fn spawn_capture(
    output: pipe::Receiver,
    open: impl FnOnce() -> std::io::Result<StreamWriter> + Send + 'static,
    first_line: Option<String>,
    mut commands: mpsc::Receiver<LogCommand>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        // Commands wait in the channel meanwhile; output waits in the pipe.
        let writer = match tokio::task::spawn_blocking(open).await {
            Ok(Ok(w)) => Some(w),
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "cannot open a log stream; its events are dropped");
                None
            }
            Err(_) => None,
        };
        let mut cap = Capture {
            writer,
            partial: Vec::new(),
            tail: Vec::new(),
            collecting: false,
        };
        if let Some(line) = first_line {
            cap.event(line.as_bytes());
        }
        let mut buf = vec![0u8; 64 * 1024];
        let mut open = true;
        // The same pipe, read directly: at END, `try_read` would answer "would block" from
        // tokio's cached readiness before the reactor has seen what the function wrote just
        // before it answered; a plain read of the (non-blocking) pipe sees it.
        let direct = {
            use std::os::fd::AsFd;
            output
                .as_fd()
                .try_clone_to_owned()
                .ok()
                .map(std::fs::File::from)
        };
        loop {
            tokio::select! {
                // Commands first: an invocation's START is sent before its event is
                // delivered, so whatever the function prints for it comes after it.
                biased;
                cmd = commands.recv() => {
                    let Some(cmd) = cmd else { break };
                    match cmd {
                        LogCommand::Start { request_id, version } => {
                            cap.tail.clear();
                            cap.collecting = true;
                            cap.event(format!("START RequestId: {request_id} Version: {version}").as_bytes());
                        }
                        LogCommand::Line(line) => cap.event(line.as_bytes()),
                        LogCommand::End { request_id, report, tail } => {
                            // What the function printed before answering is already in the
                            // pipe: read it all before the END line.
                            while open {
                                let read = match direct.as_ref() {
                                    Some(mut file) => std::io::Read::read(&mut file, &mut buf),
                                    None => output.try_read(&mut buf),
                                };
                                match read {
                                    Ok(0) => { open = false; }
                                    Ok(n) => cap.output(&buf[..n]),
                                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                                    Err(_) => break,
                                }
                            }
                            cap.flush_partial();
                            cap.event(format!("END RequestId: {request_id}").as_bytes());
                            cap.event(report.as_bytes());
                            cap.collecting = false;
                            cap.flush();
                            if let Some(tx) = tail {
                                let _ = tx.send(cap.take_tail());
                            }
                        }
                    }
                }
                ready = output.readable(), if open => {
                    if ready.is_err() {
                        open = false;
                        continue;
                    }
                    match output.try_read(&mut buf) {
                        Ok(0) => {
                            cap.flush_partial();
                            cap.flush();
                            open = false;
                        }
                        Ok(n) => cap.output(&buf[..n]),
                        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                        Err(_) => open = false,
                    }
                }
            }
        }
        cap.flush_partial();
        cap.flush();
    })
}
