//! One execution environment: a sandboxed runtime process, its Runtime API listener, its
//! log capture task and its temporary credentials. Dropping an `Environment` tears all of
//! it down: the process group is killed, the key revoked, the scratch directory removed.

use super::{Completed, Invocation, Outcome, SchedulerShared};
use crate::logs::{self, LogCommand};
use crate::runtime_api::{self, Channel, Reply, Work};
use crate::runtimes::{self, LaunchError, Layout};
use bytes::Bytes;
use lambent_aws::lambda::model::FunctionConfiguration;
use lambent_sandbox::Killer;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, oneshot};

/// AWS gives on-demand environments 10 s to initialise.
const INIT_TIMEOUT: Duration = Duration::from_secs(10);
/// Processes and threads one environment may have, as on AWS Lambda.
const MAX_PROCESSES: u64 = 1024;
/// Where a view shows the function's code and lambent's bootstraps, as on AWS.
pub(super) const TASK_ROOT: &str = "/var/task";
pub(super) const RUNTIME_DIR: &str = "/var/runtime";

/// How long an environment takes invocations: its credentials
/// ([`crate::auth::ENVIRONMENT_CREDENTIALS`]) outlive it by more than the longest invocation
/// (15 minutes), so they never expire under a running one; its replacement gets new ones.
pub const MAX_AGE: Duration =
    Duration::from_secs(crate::auth::ENVIRONMENT_CREDENTIALS.as_secs() - 3600);

pub struct Environment {
    channel: Arc<Channel>,
    killer: Killer,
    log: mpsc::Sender<LogCommand>,
    spawned_at: Instant,
    /// True until the first invocation has measured the init phase.
    fresh: bool,
    /// False once the environment may not take another invocation.
    reusable: bool,
    access_key_id: String,
    dir: PathBuf,
    api_task: tokio::task::AbortHandle,
    shared: Arc<SchedulerShared>,
    memory_mb: u32,
    timeout: Duration,
    version: String,
    provided: bool,
    /// The provisioned version this environment counts toward, if any.
    pinned: Option<super::provisioned::Key>,
}

impl Environment {
    /// Starts an environment for `config` whose code is unpacked at `code_dir`.
    /// `provisioned`: started ahead of calls for provisioned concurrency (the runtime sees
    /// `AWS_LAMBDA_INITIALIZATION_TYPE=provisioned-concurrency`).
    pub async fn start(
        shared: &Arc<SchedulerShared>,
        config: &FunctionConfiguration,
        code_dir: &Path,
        provisioned: bool,
    ) -> Result<Environment, LaunchError> {
        let viewed = shared.isolation.view();
        // In a view the code and bootstraps sit where AWS puts them; otherwise at host paths.
        let layout = if viewed {
            Layout {
                task_root: TASK_ROOT.into(),
                runtime_dir: RUNTIME_DIR.into(),
                viewed: true,
            }
        } else {
            Layout {
                task_root: code_dir.to_path_buf(),
                runtime_dir: shared.runtimes.runtime_dir().to_path_buf(),
                viewed: false,
            }
        };
        let launch = shared.runtimes.launch(&config.runtime, code_dir, &layout)?;
        let io_failure = |what: &str, e: std::io::Error| LaunchError {
            error_type: "Runtime.Unknown",
            message: format!("{what}: {e}"),
        };
        // A stem (started ahead, see `stems`) takes the namespaces, the view and the cgroup
        // off this path; it keeps its own id, directory and user. Stems are per interpreter:
        // one of Python 3.12 cannot serve python3.13.
        let kind = super::stems::Kind::of(&launch);
        let mut stem = match runtimes::Family::of(&config.runtime) {
            Some(family) if viewed && super::stems::eligible(family, config) => {
                super::stems::Stems::take(shared, kind)
            }
            _ => None,
        };
        let new_id = || uuid::Uuid::new_v4().simple().to_string();
        let mut id = match &stem {
            Some(s) => s.id.clone(),
            None => new_id(),
        };
        let mut dir = shared.envs_dir.join(&id);
        // The view's root, or without a view the environment's scratch space (TMPDIR).
        let mut scratch = dir.join(if viewed { "root" } else { "tmp" });
        let mut undo = Undo {
            shared,
            dir: None,
            api_task: None,
            access_key_id: None,
            cgroup: None,
        };
        if stem.is_none() {
            std::fs::create_dir_all(&scratch).map_err(|e| io_failure("creating /tmp", e))?;
            undo.dir = Some(dir.clone());
        }
        // Without the stem the slow path below needs the view's root; with it, the stem
        // owns its directory until it is assigned.

        let listener = match stem.as_mut().and_then(|s| s.take_listener()) {
            Some(l) => tokio::net::TcpListener::from_std(l),
            None => tokio::net::TcpListener::bind(("127.0.0.1", 0)).await,
        }
        .map_err(|e| io_failure("binding the Runtime API", e))?;
        let api_addr = listener
            .local_addr()
            .map_err(|e| io_failure("binding the Runtime API", e))?;
        let channel = Arc::new(Channel::new());
        let api_task = tokio::spawn(runtime_api::serve(listener, channel.clone())).abort_handle();
        undo.api_task = Some(api_task.clone());

        let group = config.logging_config.log_group.clone();
        // The group exists from the first invocation on, as on AWS (free once it does); the
        // stream's file is created by the capture task, off the cold path.
        shared
            .logs
            .ensure_group(&group)
            .map_err(|e| io_failure("creating the log group", e))?;
        let stream = logs::new_stream_name(&config.version);
        let creds = shared.keyring.issue(&config.role, &config.function_arn);
        undo.access_key_id = Some(creds.access_key_id.clone());
        let env = environment_variables(
            shared,
            config,
            &layout,
            launch.node_path.as_deref(),
            (!viewed).then_some(scratch.as_path()),
            &api_addr.to_string(),
            &group,
            &stream,
            &creds,
            if provisioned {
                "provisioned-concurrency"
            } else {
                "on-demand"
            },
        );
        let memory_bytes = u64::from(config.memory_size) * 1024 * 1024;
        let tmp_bytes = u64::from(config.ephemeral_storage.size) * 1024 * 1024;
        let limits = lambent_sandbox::Limits {
            memory_bytes,
            pids_max: MAX_PROCESSES,
            cpu: shared.cpu_limits,
        };
        let mut env = Some(env);
        let mut spawned = None;
        if let Some(stem) = stem {
            let assignment = lambent_sandbox::Assignment {
                bind: lambent_sandbox::Bind {
                    source: code_dir.to_path_buf(),
                    target: TASK_ROOT.into(),
                    writable: false,
                },
                tmp_bytes,
                cwd: TASK_ROOT.into(),
                program: launch.program.clone(),
                env: env.take().unwrap_or_default(),
                memory_limit: Some(memory_bytes),
                limits: Some(limits),
            };
            match stem.assign(&assignment).await {
                Ok(s) => spawned = Some(s),
                Err(e) => {
                    // The stem is gone with its directory; start the slow way instead.
                    tracing::debug!(error = %e, "a stem could not be assigned");
                    id = new_id();
                    dir = shared.envs_dir.join(&id);
                    scratch = dir.join("root");
                    std::fs::create_dir_all(&scratch)
                        .map_err(|e| io_failure("creating /tmp", e))?;
                }
            }
            env = Some(assignment.env);
        }
        undo.dir = Some(dir.clone());
        let (mut sandbox, output) = match spawned {
            Some(s) => s,
            None => {
                let env = env.take().unwrap_or_default();
                spawn_fresh(
                    shared, config, code_dir, &scratch, &id, launch, env, &limits, &mut undo,
                )
                .await?
            }
        };
        // From here on the environment owns everything; dropping it tears it all down.
        undo.disarm();
        let killer = sandbox.killer();
        let (log_tx, log_rx) = mpsc::channel(16);
        // Creating the stream's file is left to the capture task, off the cold start.
        let (store, log_group, log_stream) = (shared.logs.clone(), group.clone(), stream.clone());
        logs::spawn_capture(
            output,
            move || store.writer(&log_group, &log_stream),
            // Before START: which interpreter serves a runtime the host has no version of.
            shared.runtimes.notice(&config.runtime),
            log_rx,
        );
        let watcher_channel = channel.clone();
        tokio::spawn(async move {
            let how = match sandbox.wait().await {
                Ok(status) => lambent_sandbox::describe_exit(&status),
                Err(e) => format!("wait failed: {e}"),
            };
            // Whatever the main process left behind goes with it.
            sandbox.killer().kill();
            watcher_channel.exited(how);
        });
        Ok(Environment {
            channel,
            killer,
            log: log_tx,
            spawned_at: Instant::now(),
            fresh: true,
            reusable: true,
            access_key_id: creds.access_key_id,
            dir,
            api_task,
            shared: shared.clone(),
            memory_mb: config.memory_size,
            timeout: Duration::from_secs(config.timeout.into()),
            version: config.version.clone(),
            provided: config.runtime.starts_with("provided"),
            pinned: None,
        })
    }

    /// Waits for the runtime to finish its init phase (it asks for its first invocation);
    /// false if it failed or took longer than AWS allows.
    pub async fn initialize(&mut self) -> bool {
        let ready = tokio::time::timeout(INIT_TIMEOUT, self.channel.ready()).await;
        self.fresh = false;
        ready.is_ok() && !self.channel.failed()
    }

    /// Counts this environment toward a provisioned version until it ends.
    pub fn pin(&mut self, key: super::provisioned::Key) {
        self.pinned = Some(key);
    }

    /// Whether the environment may take another invocation.
    pub fn reusable(&self) -> bool {
        self.reusable && !self.channel.failed() && self.spawned_at.elapsed() < MAX_AGE
    }

    /// Runs one invocation to its outcome. Never fails: every failure is an [`Outcome`].
    pub async fn invoke(&mut self, inv: Invocation) -> Completed {
        let request_id = inv.request_id.clone();
        let _ = self
            .log
            .send(LogCommand::Start {
                request_id: request_id.clone(),
                version: self.version.clone(),
            })
            .await;
        let mut rx = self.channel.dispatch(Work {
            request_id: request_id.clone(),
            payload: inv.payload,
            timeout: self.timeout,
            invoked_arn: inv.invoked_arn,
            client_context: inv.client_context,
            trace_id: trace_id(inv.lineage.as_deref()),
        });

        let mut init_duration = None;
        let mut early = None;
        if self.fresh {
            self.fresh = false;
            tokio::select! {
                _ = self.channel.ready() => {}
                reply = &mut rx => early = Some(reply.ok()),
                _ = tokio::time::sleep(INIT_TIMEOUT) => early = Some(None),
            }
            init_duration = Some(self.spawned_at.elapsed());
        }

        let started = Instant::now();
        let reply = match early {
            Some(reply) => reply,
            None => match tokio::time::timeout(self.timeout, &mut rx).await {
                Ok(reply) => reply.ok(),
                Err(_) => None,
            },
        };
        let duration = started.elapsed();
        // Read before any kill below: the kernel forgets a process's peak with the process.
        let max_memory_mb = self
            .killer
            .peak_memory()
            .map(|b| b.div_ceil(1024 * 1024))
            .unwrap_or(0);
        let (outcome, payload, content_type) = self.outcome(&request_id, reply, init_duration);
        if !matches!(outcome, Outcome::Ok | Outcome::FunctionError) {
            self.reusable = false;
            self.killer.kill();
        }
        if outcome == Outcome::Timeout {
            let _ = self
                .log
                .send(LogCommand::Line(format!(
                    "{} {} Task timed out after {:.2} seconds",
                    logs::iso_millis(logs::now_millis()),
                    request_id,
                    self.timeout.as_secs_f64()
                )))
                .await;
        }
        let reported = if outcome == Outcome::Timeout {
            self.timeout
        } else {
            duration
        };
        let billed = billed_ms(
            reported,
            init_duration,
            self.provided,
            self.shared.billing_granularity_ms,
        );
        let report = report_line(
            &request_id,
            reported,
            init_duration,
            billed,
            self.memory_mb,
            max_memory_mb,
        );
        // The capture task answers once END and REPORT are written: the response goes out
        // only after the invocation's log is in its stream (readers see it at once).
        let (tail_tx, tail_rx) = oneshot::channel();
        let _ = self
            .log
            .send(LogCommand::End {
                request_id,
                report,
                tail: Some(tail_tx),
            })
            .await;
        let tail = tail_rx.await.ok();
        let log_tail = if inv.tail { tail } else { None };
        Completed {
            outcome,
            payload,
            content_type,
            log_tail,
            executed_version: self.version.clone(),
            usage: Some(super::Usage {
                duration: reported,
                init: init_duration,
                billed_ms: billed,
                memory_mb: self.memory_mb,
            }),
        }
    }

    fn outcome(
        &self,
        request_id: &str,
        reply: Option<Reply>,
        init_duration: Option<Duration>,
    ) -> (Outcome, Bytes, Option<String>) {
        let platform_error = |error_type: &str, message: String| {
            let body = serde_json::json!({"errorType": error_type, "errorMessage": message});
            Bytes::from(body.to_string())
        };
        match reply {
            Some(Reply::Response { body, content_type }) => (Outcome::Ok, body, content_type),
            Some(Reply::Error { body, .. }) => (Outcome::FunctionError, body, None),
            Some(Reply::InitError { body, .. }) => (Outcome::InitError, body, None),
            Some(Reply::TooLarge) => (
                Outcome::ResponseTooLarge,
                platform_error(
                    "Function.ResponseSizeTooLarge",
                    format!(
                        "Response payload size exceeded maximum allowed payload size ({} bytes).",
                        runtime_api::MAX_RESPONSE_BYTES
                    ),
                ),
                None,
            ),
            Some(Reply::Exited(how)) if self.killer.oom_killed() => (
                Outcome::OutOfMemory,
                platform_error(
                    "Runtime.OutOfMemory",
                    format!("RequestId: {request_id} Error: Runtime exited with error: {how}"),
                ),
                None,
            ),
            Some(Reply::Exited(how)) => {
                let reason = if how == "exit status 0" {
                    "Runtime exited without providing a reason".to_string()
                } else {
                    format!("Runtime exited with error: {how}")
                };
                (
                    Outcome::RuntimeExit,
                    platform_error(
                        "Runtime.ExitError",
                        format!("RequestId: {request_id} Error: {reason}"),
                    ),
                    None,
                )
            }
            None => {
                self.channel.abandon();
                let init_timed_out = init_duration.is_some_and(|d| d >= INIT_TIMEOUT);
                let secs = if init_timed_out {
                    INIT_TIMEOUT
                } else {
                    self.timeout
                };
                (
                    Outcome::Timeout,
                    platform_error(
                        "Sandbox.Timedout",
                        format!(
                            "RequestId: {request_id} Error: Task timed out after {:.2} seconds",
                            secs.as_secs_f64()
                        ),
                    ),
                    None,
                )
            }
        }
    }
}

impl Drop for Environment {
    fn drop(&mut self) {
        if let Some(key) = self.pinned.take() {
            super::Scheduler::provisioned_gone(&self.shared, &key);
        }
        self.killer.kill();
        self.api_task.abort();
        self.shared.keyring.revoke(&self.access_key_id);
        let dir = std::mem::take(&mut self.dir);
        let killer = self.killer.clone();
        let teardown = move || {
            killer.destroy();
            let _ = std::fs::remove_dir_all(dir);
        };
        // Removing a cgroup and a large /tmp can take a while: not on the caller's time, when
        // there is a runtime to hand it to (at shutdown there may not be).
        match tokio::runtime::Handle::try_current() {
            Ok(rt) => {
                rt.spawn_blocking(teardown);
            }
            Err(_) => teardown(),
        }
    }
}

/// Starts an environment's sandbox from nothing: view, cgroup, namespaces, exec.
#[allow(clippy::too_many_arguments)]
async fn spawn_fresh(
    shared: &Arc<SchedulerShared>,
    config: &FunctionConfiguration,
    code_dir: &Path,
    scratch: &Path,
    id: &str,
    launch: runtimes::Launch,
    env: Vec<(String, String)>,
    limits: &lambent_sandbox::Limits,
    undo: &mut Undo<'_>,
) -> Result<(lambent_sandbox::Sandbox, tokio::net::unix::pipe::Receiver), LaunchError> {
    let view = shared.isolation.view().then(|| {
        let uid = shared.next_uid();
        lambent_sandbox::View {
            root: scratch.to_path_buf(),
            binds: view_binds(shared, Some(code_dir), launch.interpreter),
            tmp_bytes: u64::from(config.ephemeral_storage.size) * 1024 * 1024,
            scratch: shared.scratch.clone(),
            cwd: TASK_ROOT.into(),
            uid,
            gid: uid,
            user_namespace: !shared.isolation.mount_namespace,
            mount_points: vec![],
        }
    });
    // Named in the error: the bootstrap, or the interpreter that runs it.
    let shown = launch.program.display().to_string();
    let spec = lambent_sandbox::Spec {
        program: launch.program,
        args: launch.args,
        env,
        cwd: code_dir.to_path_buf(),
        view,
        memory_limit: Some(limits.memory_bytes),
    };
    if let Some(c) = &shared.cgroups {
        let group = c.create(id, Some(limits)).map_err(|e| LaunchError {
            error_type: "Runtime.Unknown",
            message: format!("creating the environment's cgroup: {e}"),
        })?;
        undo.cgroup = Some(Arc::new(group));
    }
    shared
        .spawner
        .spawn(spec, shared.isolation, undo.cgroup.clone())
        .await
        .map_err(|e| LaunchError {
            error_type: "Runtime.InvalidEntrypoint",
            message: format!("fork/exec {shown}: {e}"),
        })
}

/// What every view shows besides the system directories: the code (when known), lambent's
/// bootstraps, and the directories and SDK of the interpreter it runs (none for `provided*`).
pub(super) fn view_binds(
    shared: &SchedulerShared,
    code_dir: Option<&Path>,
    interpreter: Option<runtimes::InterpreterId>,
) -> Vec<lambent_sandbox::Bind> {
    let mut binds: Vec<lambent_sandbox::Bind> = code_dir
        .map(|code| lambent_sandbox::Bind {
            source: code.to_path_buf(),
            target: TASK_ROOT.into(),
            writable: false,
        })
        .into_iter()
        .collect();
    // Before the interpreter's binds: the Node.js SDK is mounted inside `/var/runtime`.
    binds.push(lambent_sandbox::Bind {
        source: shared.runtimes.runtime_dir().to_path_buf(),
        target: RUNTIME_DIR.into(),
        writable: false,
    });
    if let Some(id) = interpreter {
        binds.extend(shared.runtimes.binds(id));
    }
    binds
}

/// Undoes a half-started environment: whatever of it exists when `start` returns early.
struct Undo<'a> {
    shared: &'a SchedulerShared,
    dir: Option<PathBuf>,
    api_task: Option<tokio::task::AbortHandle>,
    access_key_id: Option<String>,
    cgroup: Option<Arc<lambent_sandbox::Cgroup>>,
}

impl Undo<'_> {
    fn disarm(&mut self) {
        self.dir = None;
        self.api_task = None;
        self.access_key_id = None;
        self.cgroup = None;
    }
}

impl Drop for Undo<'_> {
    fn drop(&mut self) {
        if let Some(t) = self.api_task.take() {
            t.abort();
        }
        if let Some(k) = self.access_key_id.take() {
            self.shared.keyring.revoke(&k);
        }
        if let Some(d) = self.dir.take() {
            let _ = std::fs::remove_dir_all(d);
        }
        if let Some(g) = self.cgroup.take() {
            tokio::task::spawn_blocking(move || g.destroy());
        }
    }
}

/// The billed duration in milliseconds, as AWS bills it: the duration rounded up to the
/// billing granularity (1 ms today; 100 ms in the book's model), plus for custom runtimes the
/// init phase, which AWS bills for them.
pub(super) fn billed_ms(
    duration: Duration,
    init: Option<Duration>,
    provided: bool,
    granularity_ms: u64,
) -> u64 {
    let ms = duration.as_secs_f64() * 1000.0;
    let mut billed = ms.ceil() as u64;
    if provided {
        billed += init
            .map(|i| (i.as_secs_f64() * 1000.0).ceil() as u64)
            .unwrap_or(0);
    }
    let g = granularity_ms.max(1);
    billed.div_ceil(g).max(1) * g
}

/// The REPORT line, exactly as AWS writes it (tab-separated, trailing tab).
fn report_line(
    request_id: &str,
    duration: Duration,
    init: Option<Duration>,
    billed: u64,
    memory_mb: u32,
    max_memory_mb: u64,
) -> String {
    let ms = duration.as_secs_f64() * 1000.0;
    let mut line = format!(
        "REPORT RequestId: {request_id}\tDuration: {ms:.2} ms\tBilled Duration: {billed} ms\tMemory Size: {memory_mb} MB\tMax Memory Used: {max_memory_mb} MB\t"
    );
    if let Some(init) = init {
        line.push_str(&format!(
            "Init Duration: {:.2} ms\t",
            init.as_secs_f64() * 1000.0
        ));
    }
    line
}

/// An X-Ray trace header for one invocation, with its chain's `Lineage` if it has one.
fn trace_id(lineage: Option<&str>) -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let id = uuid::Uuid::new_v4().simple().to_string();
    let mut header = format!(
        "Root=1-{secs:08x}-{};Parent={};Sampled=0",
        &id[..24],
        &id[16..32]
    );
    if let Some(lineage) = lineage {
        header.push_str(";Lineage=");
        header.push_str(lineage);
    }
    header
}

#[allow(clippy::too_many_arguments)]
fn environment_variables(
    shared: &SchedulerShared,
    config: &FunctionConfiguration,
    layout: &Layout,
    node_path: Option<&str>,
    host_tmp: Option<&Path>,
    runtime_api: &str,
    group: &str,
    stream: &str,
    creds: &crate::auth::TemporaryCredentials,
    initialization: &str,
) -> Vec<(String, String)> {
    let task_root = layout.task_root.display().to_string();
    // Lowest precedence first: the function's own variables, then the platform's.
    let mut env: Vec<(String, String)> = config
        .environment
        .variables
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let mut set = |k: &str, v: String| {
        env.retain(|(key, _)| key != k);
        env.push((k.to_string(), v));
    };
    let tmp = host_tmp.map(|t| t.display().to_string());
    for (k, v) in [
        ("PATH", Some("/usr/local/bin:/usr/bin/:/bin:/opt/bin")),
        ("LANG", Some("en_US.UTF-8")),
        ("TZ", Some(":UTC")),
        // As on AWS; a function may set its own (and then starts without a stem).
        ("NODE_PATH", node_path),
        // The AWS SDK for JavaScript asks `os.homedir()`, which fails without `HOME` for a
        // user /etc/passwd does not name (AWS's sandbox user has an entry; lambent's
        // per-environment users have none): Node.js functions get their /tmp.
        (
            "HOME",
            node_path.and(Some(tmp.as_deref().unwrap_or("/tmp"))),
        ),
    ] {
        if let Some(v) = v {
            if !config.environment.variables.contains_key(k) {
                set(k, v.to_string());
            }
        }
    }
    set(
        "LD_LIBRARY_PATH",
        format!("{task_root}:{task_root}/lib:/opt/lib:/lib64:/usr/lib64"),
    );
    if let Some(tmp) = host_tmp {
        set("TMPDIR", tmp.display().to_string());
    }
    set("AWS_ENDPOINT_URL", shared.endpoint_url.clone());
    set("AWS_ACCESS_KEY_ID", creds.access_key_id.clone());
    set("AWS_SECRET_ACCESS_KEY", creds.secret_access_key.clone());
    set("AWS_SESSION_TOKEN", creds.session_token.clone());
    set("_HANDLER", config.handler.clone());
    set("LAMBDA_TASK_ROOT", task_root.clone());
    set(
        "LAMBDA_RUNTIME_DIR",
        layout.runtime_dir.display().to_string(),
    );
    if let Some(exec) = runtimes::execution_env(&config.runtime) {
        set("AWS_EXECUTION_ENV", exec);
    }
    set("AWS_REGION", shared.region.clone());
    set("AWS_DEFAULT_REGION", shared.region.clone());
    set("AWS_LAMBDA_FUNCTION_NAME", config.function_name.clone());
    set(
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
        config.memory_size.to_string(),
    );
    set("AWS_LAMBDA_FUNCTION_VERSION", config.version.clone());
    set("AWS_LAMBDA_INITIALIZATION_TYPE", initialization.to_string());
    set("AWS_LAMBDA_LOG_GROUP_NAME", group.to_string());
    set("AWS_LAMBDA_LOG_STREAM_NAME", stream.to_string());
    set("AWS_LAMBDA_RUNTIME_API", runtime_api.to_string());
    env
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn report_lines_match_aws() {
        let billed = billed_ms(Duration::from_micros(3_010), None, false, 1);
        let line = report_line("abc", Duration::from_micros(3_010), None, billed, 128, 36);
        assert_eq!(
            line,
            "REPORT RequestId: abc\tDuration: 3.01 ms\tBilled Duration: 4 ms\tMemory Size: 128 MB\tMax Memory Used: 36 MB\t"
        );
        let init = Some(Duration::from_micros(110_100));
        let billed = billed_ms(Duration::from_micros(3_010), init, true, 1);
        let line = report_line("abc", Duration::from_micros(3_010), init, billed, 128, 36);
        assert!(line.ends_with("Billed Duration: 115 ms\tMemory Size: 128 MB\tMax Memory Used: 36 MB\tInit Duration: 110.10 ms\t"));
    }

    #[test]
    fn billing_rounds_up_to_the_granularity() {
        let ms = |m: u64| Duration::from_micros(m);
        assert_eq!(billed_ms(ms(3_010), None, false, 1), 4);
        assert_eq!(billed_ms(ms(0), None, false, 1), 1);
        assert_eq!(billed_ms(ms(3_010), None, false, 100), 100);
        assert_eq!(billed_ms(ms(100_000), None, false, 100), 100);
        assert_eq!(billed_ms(ms(100_001), None, false, 100), 200);
        // Custom runtimes pay for their init phase.
        assert_eq!(billed_ms(ms(3_010), Some(ms(110_100)), true, 100), 200);
        assert_eq!(billed_ms(ms(3_010), Some(ms(110_100)), false, 100), 100);
    }
}
