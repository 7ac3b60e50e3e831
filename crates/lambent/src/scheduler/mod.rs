//! The scheduler: per function-version pools of warm execution environments, the account's
//! and each function's concurrency limits, and the run of one invocation to its outcome.
//!
//! Invariant: the scheduler never sees HTTP. It takes a resolved function version and an
//! [`Invocation`] and returns a [`Completed`] (whose [`Outcome`] says how the function
//! ended) or a throttle; a function's failure is data, never a Rust error.

mod environment;
mod provisioned;
mod stems;

use crate::auth::KeyRing;
pub use crate::invocation::{Completed, Invocation, Outcome, Usage};
use crate::logs::LogStore;
use crate::runtimes::Runtimes;
use bytes::Bytes;
use environment::Environment;
use lambent_aws::lambda::error::ThrottleReason;
use lambent_aws::lambda::model::FunctionConfiguration;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// What every environment needs from the scheduler.
pub(crate) struct SchedulerShared {
    pub runtimes: Runtimes,
    pub keyring: KeyRing,
    pub logs: LogStore,
    pub envs_dir: PathBuf,
    pub endpoint_url: String,
    pub region: String,
    pub isolation: lambent_sandbox::Isolation,
    /// The parent cgroup of this instance's environments, when the host allows cgroups.
    pub cgroups: Option<lambent_sandbox::Cgroups>,
    /// Where environments' `/tmp` disks come from, when the host allows them (root, loop
    /// devices, `mke2fs`); without, `/tmp` is a tmpfs counted against `MemorySize`.
    pub scratch: Option<lambent_sandbox::ScratchDisks>,
    pub cpu_limits: lambent_sandbox::CpuPolicy,
    pub spawner: lambent_sandbox::Spawner,
    pub telemetry: crate::telemetry::Telemetry,
    /// Billed durations are rounded up to this many milliseconds.
    pub billing_granularity_ms: u64,
    /// Environments started ahead of their function, per interpreter (and `provided`).
    pub stems: stems::Stems,
    uids: std::sync::atomic::AtomicU32,
    provisioned: provisioned::Targets,
}

/// Threads that start environments, so that several cold starts proceed at once.
const SPAWNER_THREADS: usize = 4;

/// Each environment runs as a user of its own, from this range, so that no two environments
/// can read each other's processes or files.
const UID_BASE: u32 = 200_000;
const UID_COUNT: u32 = 60_000;

impl SchedulerShared {
    pub fn next_uid(&self) -> u32 {
        UID_BASE + self.uids.fetch_add(1, std::sync::atomic::Ordering::Relaxed) % UID_COUNT
    }
}

/// Settings the scheduler takes from the configuration.
pub struct SchedulerConfig {
    pub data_dir: PathBuf,
    pub endpoint_url: String,
    pub region: String,
    pub max_concurrency: u32,
    pub keep_alive: Duration,
    pub cpu_limits: lambent_sandbox::CpuPolicy,
    /// Stems kept ready per interpreter in use, and for `provided` (0: none).
    pub stems: usize,
    /// Billed durations are rounded up to this many milliseconds (AWS: 1).
    pub billing_granularity_ms: u64,
}

struct Pool {
    revision_id: String,
    idle: Vec<(Environment, Instant)>,
}

#[derive(Default)]
struct Counters {
    unreserved_in_flight: u32,
    in_flight: HashMap<String, u32>,
    reserved: HashMap<String, u32>,
    total_reserved: u32,
}

/// Cheap-clone handle. Pools and counters sit behind std mutexes: every critical section is
/// a few map operations, and none spans an await.
#[derive(Clone)]
pub struct Scheduler {
    shared: Arc<SchedulerShared>,
    pools: Arc<Mutex<HashMap<(String, String), Pool>>>,
    counters: Arc<Mutex<Counters>>,
    max_concurrency: u32,
    keep_alive: Duration,
}

/// Holds one unit of concurrency until dropped.
struct Slot {
    counters: Arc<Mutex<Counters>>,
    function: String,
    unreserved: bool,
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut c = self.counters.lock().unwrap_or_else(|e| e.into_inner());
        if self.unreserved {
            c.unreserved_in_flight = c.unreserved_in_flight.saturating_sub(1);
        }
        if let Some(n) = c.in_flight.get_mut(&self.function) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                c.in_flight.remove(&self.function);
            }
        }
    }
}

impl Scheduler {
    pub fn new(
        config: SchedulerConfig,
        runtimes: Runtimes,
        keyring: KeyRing,
        logs: LogStore,
        telemetry: crate::telemetry::Telemetry,
    ) -> std::io::Result<Scheduler> {
        let envs_dir = config.data_dir.join("envs");
        // Environments of a previous run are gone with their processes; so are their files.
        let _ = std::fs::remove_dir_all(&envs_dir);
        std::fs::create_dir_all(&envs_dir)?;
        let isolation = lambent_sandbox::probe();
        let cgroups = lambent_sandbox::Cgroups::open(&instance_name(&config.data_dir));
        if let Some(c) = &cgroups {
            let left = c.remove_leftovers();
            if left > 0 {
                tracing::info!(
                    environments = left,
                    "removed environments a previous run left behind"
                );
            }
        }
        let unenforced = unenforced(isolation, cgroups.as_ref());
        if !unenforced.is_empty() {
            tracing::warn!("not enforced on this host: {}", unenforced.join("; "));
        }
        let scratch = scratch_disks(&config.data_dir, isolation);
        if let (Err(why), true) = (&scratch, isolation.view()) {
            tracing::warn!(
                "/tmp is memory (a tmpfs counted against MemorySize), not a disk of its own: {why}"
            );
        }
        let scheduler = Scheduler {
            shared: Arc::new(SchedulerShared {
                runtimes,
                keyring,
                logs,
                envs_dir,
                endpoint_url: config.endpoint_url,
                region: config.region,
                isolation,
                cgroups,
                scratch: scratch.ok(),
                cpu_limits: config.cpu_limits,
                spawner: lambent_sandbox::Spawner::new(SPAWNER_THREADS)?,
                telemetry,
                billing_granularity_ms: config.billing_granularity_ms,
                stems: stems::Stems::new(config.stems),
                uids: std::sync::atomic::AtomicU32::new(0),
                provisioned: Default::default(),
            }),
            pools: Arc::new(Mutex::new(HashMap::new())),
            counters: Arc::new(Mutex::new(Counters::default())),
            max_concurrency: config.max_concurrency,
            keep_alive: config.keep_alive,
        };
        Ok(scheduler)
    }

    pub fn max_concurrency(&self) -> u32 {
        self.max_concurrency
    }

    /// Sets or clears a function's reserved concurrency.
    pub fn set_reserved(&self, function: &str, reserved: Option<u32>) {
        let mut c = self.counters.lock().unwrap_or_else(|e| e.into_inner());
        match reserved {
            Some(r) => {
                c.reserved.insert(function.to_string(), r);
            }
            None => {
                c.reserved.remove(function);
            }
        }
        c.total_reserved = c.reserved.values().sum();
    }

    /// Runs `inv` on `config` (code unpacked at `code_dir`).
    pub async fn invoke(
        &self,
        config: &FunctionConfiguration,
        code_dir: &std::path::Path,
        inv: Invocation,
    ) -> Result<Completed, ThrottleReason> {
        let _slot = match self.acquire(&config.function_name) {
            Ok(slot) => slot,
            Err(reason) => {
                self.shared.telemetry.record_throttle(&config.function_name);
                return Err(reason);
            }
        };
        let completed = self.run(config, code_dir, inv).await;
        self.shared
            .telemetry
            .record(&config.function_name, &completed);
        Ok(completed)
    }

    /// The log store functions write to.
    pub fn logs(&self) -> &LogStore {
        &self.shared.logs
    }

    /// Metrics, metering and usage reports.
    pub fn telemetry(&self) -> &crate::telemetry::Telemetry {
        &self.shared.telemetry
    }

    /// Stems waiting now: runtime family, interpreter version and count.
    pub fn stems_ready(&self) -> Vec<(&'static str, String, usize)> {
        self.shared.stems.ready_counts(&self.shared.runtimes)
    }

    /// A function of `runtime` exists: from now on stems of the interpreter that serves it
    /// are kept ready (only interpreters some function uses have stems).
    pub fn expect(&self, runtime: &str) {
        if let Some(kind) = stems::Kind::for_runtime(&self.shared.runtimes, runtime) {
            stems::Stems::want(&self.shared, kind);
        }
    }

    /// Invocations running now, per function.
    pub fn concurrency(&self) -> Vec<(String, u32)> {
        let c = self.counters.lock().unwrap_or_else(|e| e.into_inner());
        let mut out: Vec<(String, u32)> =
            c.in_flight.iter().map(|(f, n)| (f.clone(), *n)).collect();
        out.sort();
        out
    }

    /// One invocation on a warm or new environment, holding its concurrency slot.
    async fn run(
        &self,
        config: &FunctionConfiguration,
        code_dir: &std::path::Path,
        inv: Invocation,
    ) -> Completed {
        let key = (config.function_name.clone(), config.version.clone());
        let idle = self.take_idle(key.clone(), &config.revision_id);
        let mut env = match idle {
            Some(env) => env,
            None => match Environment::start(&self.shared, config, code_dir, false).await {
                Ok(env) => env,
                Err(e) => {
                    let body = serde_json::json!({
                        "errorType": e.error_type,
                        "errorMessage": format!("RequestId: {} Error: {}", inv.request_id, e.message),
                    });
                    return Completed {
                        outcome: Outcome::InitError,
                        payload: Bytes::from(body.to_string()),
                        content_type: None,
                        log_tail: None,
                        executed_version: config.version.clone(),
                        usage: None,
                    };
                }
            },
        };
        let completed = env.invoke(inv).await;
        if env.reusable() {
            self.put_idle(key, &config.revision_id, env);
        }
        completed
    }

    fn acquire(&self, function: &str) -> Result<Slot, ThrottleReason> {
        let mut c = self.counters.lock().unwrap_or_else(|e| e.into_inner());
        let in_flight = c.in_flight.get(function).copied().unwrap_or(0);
        let unreserved = match c.reserved.get(function) {
            Some(&reserved) => {
                if in_flight >= reserved {
                    return Err(ThrottleReason::ReservedFunctionConcurrentInvocationLimitExceeded);
                }
                false
            }
            None => {
                let limit = self.max_concurrency.saturating_sub(c.total_reserved);
                if c.unreserved_in_flight >= limit {
                    return Err(ThrottleReason::ConcurrentInvocationLimitExceeded);
                }
                c.unreserved_in_flight += 1;
                true
            }
        };
        match c.in_flight.get_mut(function) {
            Some(n) => *n += 1,
            None => {
                c.in_flight.insert(function.to_string(), 1);
            }
        }
        Ok(Slot {
            counters: self.counters.clone(),
            function: function.to_string(),
            unreserved,
        })
    }

    /// An idle environment of the pool, creating the pool if this is its first invocation.
    /// A pool whose revision is stale is emptied first: a changed function's old
    /// environments must not run new invocations.
    fn take_idle(&self, key: (String, String), revision_id: &str) -> Option<Environment> {
        let stale;
        let env = {
            let mut pools = self.pools.lock().unwrap_or_else(|e| e.into_inner());
            let pool = pools.entry(key).or_insert_with(|| Pool {
                revision_id: revision_id.to_string(),
                idle: Vec::new(),
            });
            if pool.revision_id != revision_id {
                stale = std::mem::take(&mut pool.idle);
                pool.revision_id = revision_id.to_string();
                None
            } else {
                // Environments whose runtime died while idle are dropped, not handed out.
                let mut dead = Vec::new();
                let mut found = None;
                while let Some((env, since)) = pool.idle.pop() {
                    if env.reusable() {
                        found = Some(env);
                        break;
                    }
                    dead.push((env, since));
                }
                stale = dead;
                found
            }
        };
        drop(stale);
        env
    }

    /// Returns an environment to its pool, unless the pool was retired or moved on to a
    /// newer revision meanwhile.
    fn put_idle(&self, key: (String, String), revision_id: &str, env: Environment) {
        self.park(key, revision_id, env, false);
    }

    /// Puts `env` in its pool's idle list, creating the pool if `create` (a provisioned
    /// environment may arrive before the version's first call); drops it if the pool moved
    /// on to another revision.
    fn park(&self, key: (String, String), revision_id: &str, env: Environment, create: bool) {
        let mut pools = self.pools.lock().unwrap_or_else(|e| e.into_inner());
        if create {
            pools.entry(key.clone()).or_insert_with(|| Pool {
                revision_id: revision_id.to_string(),
                idle: Vec::new(),
            });
        }
        match pools.get_mut(&key) {
            Some(pool) if pool.revision_id == revision_id => {
                pool.idle.push((env, Instant::now()));
            }
            _ => {
                drop(pools);
                drop(env);
            }
        }
    }

    /// Stops every idle environment of `function`'s `version` (it changed), or of every
    /// version (the function was deleted).
    pub fn retire(&self, function: &str, version: Option<&str>) {
        let stale: Vec<Pool> = {
            let mut pools = self.pools.lock().unwrap_or_else(|e| e.into_inner());
            let keys: Vec<_> = pools
                .keys()
                .filter(|(f, v)| f == function && version.is_none_or(|want| v == want))
                .cloned()
                .collect();
            keys.iter().filter_map(|k| pools.remove(k)).collect()
        };
        drop(stale);
    }

    /// Stops idle environments older than the keep-alive; run periodically.
    pub fn reap_idle(&self) {
        let now = Instant::now();
        let mut expired = Vec::new();
        {
            let mut pools = self.pools.lock().unwrap_or_else(|e| e.into_inner());
            for (key, pool) in pools.iter_mut() {
                // Provisioned environments stay, however long they idle, until they reach
                // their age (their replacement is started by the reconcile pass).
                let provisioned = self.is_provisioned(key);
                let (old, keep): (Vec<_>, Vec<_>) = std::mem::take(&mut pool.idle)
                    .into_iter()
                    .partition(|(env, since)| {
                        !env.reusable()
                            || (!provisioned && now.duration_since(*since) >= self.keep_alive)
                    });
                pool.idle = keep;
                expired.extend(old);
            }
        }
        drop(expired);
    }

    /// Stops every environment (shutdown) and removes the instance's cgroups.
    pub fn shutdown(&self) {
        let all: Vec<Pool> = {
            let mut pools = self.pools.lock().unwrap_or_else(|e| e.into_inner());
            pools.drain().map(|(_, p)| p).collect()
        };
        drop(all);
        self.shared.stems.clear();
        if let Some(c) = &self.shared.cgroups {
            c.close();
        }
    }

    /// Runs [`Scheduler::reap_idle`] every second until the returned task is aborted.
    pub fn spawn_reaper(&self) -> tokio::task::JoinHandle<()> {
        let scheduler = self.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(1));
            loop {
                tick.tick().await;
                scheduler.reap_idle();
                scheduler.reconcile();
            }
        })
    }
}

/// The cgroup name of the lambent instance serving `data_dir`: stable across restarts, so a
/// new start finds what a killed one left, and distinct per data directory.
fn instance_name(data_dir: &std::path::Path) -> String {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(data_dir.as_os_str().as_encoded_bytes());
    format!("lambent-{}", &hex::encode(digest)[..12])
}

/// AWS's default `EphemeralStorage`, the size of the disk a stem's `/tmp` starts with.
pub(crate) const DEFAULT_TMP_BYTES: u64 = 512 * 1024 * 1024;

/// Scratch disks for environments' `/tmp` under `<data-dir>/scratch`, or why there are none.
fn scratch_disks(
    data_dir: &std::path::Path,
    isolation: lambent_sandbox::Isolation,
) -> Result<lambent_sandbox::ScratchDisks, String> {
    if !isolation.mount_namespace {
        return Err("disks need root (loop devices, mounts)".into());
    }
    lambent_sandbox::ScratchDisks::open(&data_dir.join("scratch"), DEFAULT_TMP_BYTES)
}

/// The limits this host does not let lambent enforce, in words.
fn unenforced(
    isolation: lambent_sandbox::Isolation,
    cgroups: Option<&lambent_sandbox::Cgroups>,
) -> Vec<&'static str> {
    let mut out = Vec::new();
    if !isolation.view() {
        out.push("private filesystem views: read-only code, private /tmp, hidden data directory, own PID namespace (neither root nor user namespaces)");
    } else if !isolation.mount_namespace {
        out.push("a separate user per environment (not root: environments share lambent's user, each in a user namespace of its own)");
    }
    match cgroups.map(|c| c.hierarchy()) {
        None => out.push(
            "exact memory caps (a 100 ms watchdog of the process group stands in), process caps and CPU shares (no usable cgroups; run lambent as root)",
        ),
        Some(lambent_sandbox::cgroup::Hierarchy::V1 { pids, cpu, .. }) => {
            if pids.is_none() {
                out.push("process caps (no pids controller)");
            }
            if cpu.is_none() {
                out.push("CPU shares (no cpu controller)");
            }
        }
        Some(lambent_sandbox::cgroup::Hierarchy::V2 { .. }) => {}
    }
    out
}

/// What `lambent doctor` prints: the isolation this host allows.
pub fn isolation_report(instance: &str) -> String {
    let isolation = lambent_sandbox::probe();
    let cgroups = lambent_sandbox::Cgroups::open(instance);
    let yes_no = |b: bool| if b { "enforced" } else { "NOT enforced" };
    let mut r = String::new();
    let hierarchy = match cgroups.as_ref().map(|c| c.hierarchy()) {
        Some(lambent_sandbox::cgroup::Hierarchy::V2 { base }) => {
            format!("v2 at {}", base.display())
        }
        Some(lambent_sandbox::cgroup::Hierarchy::V1 {
            memory,
            pids,
            cpu,
            freezer,
        }) => format!(
            "v1: memory at {}, pids {}, cpu {}, freezer {}",
            memory.display(),
            if pids.is_some() { "yes" } else { "no" },
            if cpu.is_some() { "yes" } else { "no" },
            if freezer.is_some() { "yes" } else { "no" },
        ),
        None => "none usable".into(),
    };
    r.push_str(&format!("cgroups: {hierarchy}\n"));
    let has = cgroups.is_some();
    r.push_str(&format!(
        "memory cap (MemorySize) and Runtime.OutOfMemory: {}\n",
        if has {
            "enforced"
        } else {
            "approximate (a 100 ms watchdog of the process group)"
        }
    ));
    r.push_str(&format!(
        "Max Memory Used: {}\n",
        if has {
            "whole environment (cgroup peak)"
        } else {
            "process group, sampled every 100 ms"
        }
    ));
    r.push_str(&format!("process cap (1024): {}\n", yes_no(has)));
    r.push_str(&format!("CPU share by memory: {}\n", yes_no(has)));
    // With a PID namespace, the end of the function's first process ends every other one.
    r.push_str(&format!(
        "kill of daemonized children: {}\n",
        yes_no(has || isolation.view())
    ));
    r.push_str(&format!(
        "read-only code directory: {}\n",
        yes_no(isolation.view())
    ));
    r.push_str("open files cap (1024): enforced (rlimit)\n");
    r.push_str("seccomp filter (mount, ptrace, modules, kexec, reboot, bpf, namespaces, keyctl...): enforced\n");
    r.push_str(&format!(
        "private /tmp sized by EphemeralStorage, own PID namespace, hidden data directory: {}\n",
        yes_no(isolation.view())
    ));
    let scratch_dir = std::env::temp_dir().join(format!("{instance}-{}", std::process::id()));
    r.push_str(&format!(
        "/tmp on a disk of its own, not counted against MemorySize: {}\n",
        match scratch_disks(&scratch_dir, isolation) {
            Ok(_) => "enforced".to_string(),
            Err(why) => format!("NOT enforced ({why})"),
        }
    ));
    let _ = std::fs::remove_dir_all(&scratch_dir);
    r.push_str(&format!(
        "a user of its own per environment: {}\n",
        if isolation.mount_namespace {
            "enforced"
        } else if isolation.user_namespace {
            "in a user namespace of its own"
        } else {
            "NOT enforced"
        }
    ));
    r.push_str("environment dies with lambent: enforced (parent-death signal)\n");
    if let Some(c) = cgroups {
        c.close();
    }
    r
}
