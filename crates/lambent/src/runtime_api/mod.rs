//! The Runtime API (2018-06-01) of one execution environment, on its own loopback listener.
//!
//! Each environment gets a listener of its own, so nothing a function sends to its Runtime
//! API can name, reach or answer another environment's invocations. The [`Channel`] is the
//! environment's state machine: at most one invocation is outstanding, the first answer for
//! it wins, and every later or foreign answer is refused, as is an init error once init is
//! over.

mod server;

pub use server::serve;

use bytes::Bytes;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot, watch};

/// The largest response or error body a runtime may post (6 MiB + 100 bytes).
pub const MAX_RESPONSE_BYTES: usize = 6 * 1024 * 1024 + 100;

/// An invocation handed to the runtime on its next `GET .../next`.
pub struct Work {
    pub request_id: String,
    pub payload: Bytes,
    pub timeout: Duration,
    pub invoked_arn: String,
    pub client_context: Option<String>,
    pub trace_id: String,
}

/// How an outstanding invocation ended, as far as the environment can tell.
#[derive(Debug)]
pub enum Reply {
    Response {
        body: Bytes,
        content_type: Option<String>,
    },
    Error {
        error_type: String,
        body: Bytes,
    },
    InitError {
        error_type: String,
        body: Bytes,
    },
    /// The runtime tried to answer with more than [`MAX_RESPONSE_BYTES`].
    TooLarge,
    /// The runtime process ended; the text describes how ("exit status 1").
    Exited(String),
}

struct Outstanding {
    request_id: String,
    reply: oneshot::Sender<Reply>,
    delivered: bool,
}

#[derive(Default)]
struct State {
    outstanding: Option<Outstanding>,
    /// An init error or exit reported while no invocation was outstanding.
    early_failure: Option<Reply>,
}

/// The state shared by an environment's Runtime API server, its process watcher and the
/// scheduler. The std mutex guards a few fields and is never held across an await.
pub struct Channel {
    state: Mutex<State>,
    work_tx: mpsc::Sender<Work>,
    work_rx: tokio::sync::Mutex<mpsc::Receiver<Work>>,
    next_pending: AtomicBool,
    ready: watch::Sender<bool>,
}

impl Channel {
    pub fn new() -> Channel {
        let (work_tx, work_rx) = mpsc::channel(1);
        Channel {
            state: Mutex::new(State::default()),
            work_tx,
            work_rx: tokio::sync::Mutex::new(work_rx),
            next_pending: AtomicBool::new(false),
            ready: watch::Sender::new(false),
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Queues `work` for the runtime and returns where its reply will arrive.
    pub fn dispatch(&self, work: Work) -> oneshot::Receiver<Reply> {
        let (tx, rx) = oneshot::channel();
        let mut state = self.state();
        if let Some(failure) = state.early_failure.take() {
            let _ = tx.send(failure);
            return rx;
        }
        state.outstanding = Some(Outstanding {
            request_id: work.request_id.clone(),
            reply: tx,
            delivered: false,
        });
        drop(state);
        // Capacity 1 and one invocation at a time: the slot is always free here.
        if let Err(mpsc::error::TrySendError::Full(w) | mpsc::error::TrySendError::Closed(w)) =
            self.work_tx.try_send(work)
        {
            self.finish(&w.request_id, Reply::Exited("environment is busy".into()));
        }
        rx
    }

    /// Forgets the outstanding invocation (it timed out): later answers are refused.
    pub fn abandon(&self) {
        self.state().outstanding = None;
    }

    /// The runtime process ended.
    pub fn exited(&self, how: String) {
        let mut state = self.state();
        match state.outstanding.take() {
            Some(o) => {
                let _ = o.reply.send(Reply::Exited(how));
            }
            None => state.early_failure = Some(Reply::Exited(how)),
        }
    }

    /// Whether the runtime already ended or failed while idle: such an environment must not
    /// be given an invocation.
    pub fn failed(&self) -> bool {
        self.state().early_failure.is_some()
    }

    /// Whether the runtime has asked for an invocation at least once (init is done).
    fn initialized(&self) -> bool {
        *self.ready.borrow()
    }

    /// Resolves once the runtime has asked for its first invocation (init is done).
    pub async fn ready(&self) {
        let mut rx = self.ready.subscribe();
        let _ = rx.wait_for(|r| *r).await;
    }

    /// Answers the outstanding invocation if `request_id` names it and it was delivered.
    fn finish(&self, request_id: &str, reply: Reply) -> bool {
        let mut state = self.state();
        match &state.outstanding {
            Some(o) if o.request_id == request_id && o.delivered => {
                if let Some(o) = state.outstanding.take() {
                    let _ = o.reply.send(reply);
                }
                true
            }
            _ => false,
        }
    }

    fn init_error(&self, reply: Reply) {
        let mut state = self.state();
        match state.outstanding.take() {
            Some(o) => {
                let _ = o.reply.send(reply);
            }
            None => state.early_failure = Some(reply),
        }
    }

    /// Marks `request_id` delivered; false if it is no longer outstanding.
    fn delivered(&self, request_id: &str) -> bool {
        let mut state = self.state();
        match state.outstanding.as_mut() {
            Some(o) if o.request_id == request_id => {
                o.delivered = true;
                true
            }
            _ => false,
        }
    }
}

impl Default for Channel {
    fn default() -> Self {
        Channel::new()
    }
}

/// Clears the "a `next` is pending" flag when the request ends, however it ends.
struct NextGuard<'a>(&'a AtomicBool);

impl Drop for NextGuard<'_> {
    fn drop(&mut self) {
        self.0.store(false, Ordering::Release);
    }
}
