//! Stems: execution environments started before the function that will use them is known,
//! so that a cold start does not pay for them.
//!
//! Per interpreter (a stem of Python 3.12 cannot serve python3.13), and once for `provided*`,
//! a few stems wait, each with its cgroup joined, its namespaces and view built (everything
//! but the code) and, for Python and Node, lambent's bootstrap already running with its
//! modules loaded. Only interpreters that functions use have stems: a kind's pool and its
//! refill task start when a function that needs it is created (or loaded at start) or first
//! cold-starts, so a host with many interpreters does not keep stems of all of them. A cold
//! start takes one, sets its limits, mounts the function's code at `/var/task` and hands it
//! the environment; the kind's refill task starts the next one in the background. A function
//! whose variables change how an interpreter starts (`PYTHON*`, `NODE_*`, `LD_*`...) cannot
//! use an interpreter stem that started without them: it starts the slow way, as does any
//! start that finds no stem.
//!
//! Invariant: a stem never runs a function's code before its assignment, and nothing of the
//! host is reachable from it once it does (see `lambent_sandbox::Stem`).

use super::environment::{view_binds, RUNTIME_DIR, TASK_ROOT};
use super::SchedulerShared;
use crate::runtimes::{Family, InterpreterId, Launch, Layout, Runtimes};
use lambent_aws::lambda::model::FunctionConfiguration;
use lambent_sandbox::{Assignment, Killer, Limits, Sandbox, Stem, StemSpec};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;
use tokio::sync::Notify;

/// A stem's memory cap until its assignment sets the function's: AWS's largest function.
const STEM_MEMORY_BYTES: u64 = 10_240 * 1024 * 1024;

/// How long a refill waits after a stem was taken, so that the cold start that took it
/// does not share the CPU with the next stem's start.
const REFILL_DELAY: Duration = Duration::from_millis(30);

/// What a stem is started for: one interpreter running lambent's bootstrap, or a `provided`
/// sandbox waiting to exec the function's own bootstrap.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Kind {
    Interpreter(InterpreterId),
    Provided,
}

impl Kind {
    /// The kind of stem that `launch` can start from.
    pub fn of(launch: &Launch) -> Kind {
        launch.interpreter.map_or(Kind::Provided, Kind::Interpreter)
    }

    /// The kind of stem functions of `runtime` start from, if this host can run it.
    pub fn for_runtime(runtimes: &Runtimes, runtime: &str) -> Option<Kind> {
        match Family::of(runtime)? {
            Family::Provided => Some(Kind::Provided),
            _ => runtimes
                .serving(runtime)
                .map(|(id, _)| Kind::Interpreter(id)),
        }
    }
}

/// The stems waiting, per kind. The lock is a plain mutex: it is held only to push, pop or
/// count, never across an await.
pub(crate) struct Stems {
    per_kind: usize,
    pools: Mutex<HashMap<Kind, Pool>>,
}

struct Pool {
    ready: Vec<Ready>,
    /// Wakes the kind's refill task when a stem was taken.
    wake: Arc<Notify>,
}

/// One stem waiting for its function. Dropped unassigned, it is killed and its cgroup and
/// directory removed.
pub(crate) struct Ready {
    pub id: String,
    dir: PathBuf,
    /// Bound ahead too: binding costs a fifth of a millisecond.
    listener: Option<std::net::TcpListener>,
    stem: Option<Stem>,
    killer: Killer,
}

/// Whether `config` can start from a stem of `family`.
pub(crate) fn eligible(family: Family, config: &FunctionConfiguration) -> bool {
    if family == Family::Provided {
        // The assigned program is exec'ed with the function's whole environment.
        return true;
    }
    // Variables an interpreter or the dynamic loader read once, at start.
    const AT_START: &[&str] = &["PYTHON", "NODE_", "UV_", "LD_", "LC_", "GLIBC_", "MALLOC_"];
    const NAMED: &[&str] = &["LANG", "HOME", "AWS_LAMBDA_EXEC_WRAPPER", "SSL_CERT_FILE"];
    config
        .environment
        .variables
        .keys()
        .all(|k| !AT_START.iter().any(|p| k.starts_with(p)) && !NAMED.contains(&k))
}

impl Stems {
    pub fn new(per_kind: usize) -> Stems {
        Stems {
            per_kind,
            pools: Mutex::new(HashMap::new()),
        }
    }

    /// Keeps `--stems` stems of `kind` from now on: the first call starts its refill task.
    pub fn want(shared: &Arc<SchedulerShared>, kind: Kind) {
        if shared.stems.per_kind == 0 || !shared.isolation.view() {
            return;
        }
        {
            let mut pools = shared.stems.pools.lock().unwrap_or_else(|e| e.into_inner());
            if pools.contains_key(&kind) {
                return;
            }
            pools.insert(
                kind,
                Pool {
                    ready: Vec::new(),
                    wake: Arc::new(Notify::new()),
                },
            );
        }
        tokio::spawn(refill(Arc::downgrade(shared), kind));
    }

    /// A live stem of `kind`, if one is waiting; its refill task starts the next (and a
    /// kind's first cold start starts its refill task).
    pub fn take(shared: &Arc<SchedulerShared>, kind: Kind) -> Option<Ready> {
        if shared.stems.per_kind == 0 {
            return None;
        }
        Stems::want(shared, kind);
        let mut dead = Vec::new();
        let (found, wake) = {
            let mut pools = shared.stems.pools.lock().unwrap_or_else(|e| e.into_inner());
            let pool = pools.get_mut(&kind)?;
            let mut found = None;
            while let Some(mut r) = pool.ready.pop() {
                if r.stem.as_mut().is_some_and(Stem::alive) {
                    found = Some(r);
                    break;
                }
                dead.push(r);
            }
            (found, pool.wake.clone())
        };
        drop(dead);
        wake.notify_one();
        found
    }

    /// Stems waiting now, per kind (for metrics): the runtime family, the interpreter's
    /// version (empty for `provided`) and the count, in a stable order.
    pub fn ready_counts(&self, runtimes: &Runtimes) -> Vec<(&'static str, String, usize)> {
        let pools = self.pools.lock().unwrap_or_else(|e| e.into_inner());
        let mut out: Vec<(&'static str, String, usize)> = pools
            .iter()
            .map(|(kind, pool)| {
                let (family, version) = match kind {
                    Kind::Interpreter(id) => {
                        let i = runtimes.interpreter(*id);
                        let family = match i.family {
                            Family::Node => "node",
                            _ => "python",
                        };
                        (family, i.version.to_string())
                    }
                    Kind::Provided => ("provided", String::new()),
                };
                (family, version, pool.ready.len())
            })
            .collect();
        out.sort();
        out
    }

    fn count(&self, kind: Kind) -> usize {
        let pools = self.pools.lock().unwrap_or_else(|e| e.into_inner());
        pools.get(&kind).map_or(0, |p| p.ready.len())
    }

    fn put(&self, kind: Kind, r: Ready) {
        let mut pools = self.pools.lock().unwrap_or_else(|e| e.into_inner());
        match pools.get_mut(&kind) {
            Some(pool) => pool.ready.push(r),
            None => {
                drop(pools);
                drop(r);
            }
        }
    }

    fn wake(&self, kind: Kind) -> Option<Arc<Notify>> {
        let pools = self.pools.lock().unwrap_or_else(|e| e.into_inner());
        pools.get(&kind).map(|p| p.wake.clone())
    }

    /// Kills every waiting stem (shutdown).
    pub fn clear(&self) {
        let all: Vec<Ready> = {
            let mut pools = self.pools.lock().unwrap_or_else(|e| e.into_inner());
            pools
                .values_mut()
                .flat_map(|p| std::mem::take(&mut p.ready))
                .collect()
        };
        drop(all);
    }
}

/// Keeps `kind`'s stems topped up. A failing start backs off (up to a minute) and is
/// reported once, so a broken interpreter costs neither CPU nor log lines.
async fn refill(shared: Weak<SchedulerShared>, kind: Kind) {
    let mut backoff = Duration::from_millis(100);
    let mut reported = false;
    loop {
        let Some(s) = shared.upgrade() else { return };
        if s.stems.count(kind) < s.stems.per_kind {
            match make(&s, kind).await {
                Ok(r) => {
                    s.stems.put(kind, r);
                    backoff = Duration::from_millis(100);
                }
                Err(e) => {
                    if !reported {
                        tracing::warn!(?kind, error = %e, "cannot start stems; cold starts take the slow path");
                        reported = true;
                    }
                    drop(s);
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(Duration::from_secs(60));
                }
            }
            continue;
        }
        let Some(wake) = s.stems.wake(kind) else {
            return;
        };
        drop(s);
        // Wake up now and then anyway: a stem may have died while waiting, and a scheduler
        // that is gone must let this task end.
        if tokio::time::timeout(Duration::from_secs(5), wake.notified())
            .await
            .is_ok()
        {
            // Taken for a cold start: let that start finish before competing for the CPU.
            tokio::time::sleep(REFILL_DELAY).await;
        }
        let Some(s) = shared.upgrade() else { return };
        let mut dead = Vec::new();
        {
            let mut pools = s.stems.pools.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(pool) = pools.get_mut(&kind) {
                let list = &mut pool.ready;
                let mut i = 0;
                while i < list.len() {
                    if list[i].stem.as_mut().is_some_and(Stem::alive) {
                        i += 1;
                    } else {
                        dead.push(list.swap_remove(i));
                    }
                }
            }
        }
        drop(dead);
    }
}

/// Starts one stem of `kind`.
async fn make(shared: &SchedulerShared, kind: Kind) -> std::io::Result<Ready> {
    let id = uuid::Uuid::new_v4().simple().to_string();
    let dir = shared.envs_dir.join(&id);
    let root = dir.join("root");
    std::fs::create_dir_all(&root)?;
    let uid = shared.next_uid();
    let view = lambent_sandbox::View {
        root,
        binds: view_binds(
            shared,
            None,
            match kind {
                Kind::Interpreter(id) => Some(id),
                Kind::Provided => None,
            },
        ),
        // AWS's default; replaced on assignment for a function with another EphemeralStorage.
        tmp_bytes: super::DEFAULT_TMP_BYTES,
        scratch: shared.scratch.clone(),
        cwd: "/".into(),
        uid,
        gid: uid,
        user_namespace: !shared.isolation.mount_namespace,
        mount_points: vec![TASK_ROOT.into()],
    };
    let launch = match kind {
        Kind::Interpreter(id) => Some(shared.runtimes.interpreter_launch(
            id,
            &Layout {
                task_root: TASK_ROOT.into(),
                runtime_dir: RUNTIME_DIR.into(),
                viewed: true,
            },
        )),
        Kind::Provided => None,
    };
    let mut env: Vec<(String, String)> = Vec::new();
    if let Some(launch) = &launch {
        env = vec![
            (
                "PATH".into(),
                "/usr/local/bin:/usr/bin/:/bin:/opt/bin".into(),
            ),
            ("LANG".into(), "en_US.UTF-8".into()),
            ("TZ".into(), ":UTC".into()),
            (
                "LD_LIBRARY_PATH".into(),
                format!("{TASK_ROOT}:{TASK_ROOT}/lib:/opt/lib:/lib64:/usr/lib64"),
            ),
            ("LAMBDA_TASK_ROOT".into(), TASK_ROOT.into()),
            ("LAMBDA_RUNTIME_DIR".into(), RUNTIME_DIR.into()),
            ("_LAMBENT_STEM".into(), "3".into()),
        ];
        // Node.js computes its module search paths from NODE_PATH once, at start: the
        // stem must start with the value its functions get.
        if let Some(node_path) = &launch.node_path {
            env.push(("NODE_PATH".into(), node_path.clone()));
            env.push(("HOME".into(), "/tmp".into()));
        }
    }
    let program = launch.map(|l| (l.program, l.args));
    let spec = StemSpec { program, env, view };
    // Until assigned: the largest function's memory, and only CPU nobody else wants.
    let limits = Limits {
        memory_bytes: STEM_MEMORY_BYTES,
        pids_max: 1024,
        cpu: lambent_sandbox::CpuPolicy::Background,
    };
    let group = match &shared.cgroups {
        Some(c) => match c.create(&id, Some(&limits)) {
            Ok(g) => Some(Arc::new(g)),
            Err(e) => {
                let _ = std::fs::remove_dir_all(&dir);
                return Err(e);
            }
        },
        None => None,
    };
    match shared
        .spawner
        .spawn_stem(spec, shared.isolation, group.clone())
        .await
    {
        Ok(stem) => Ok(Ready {
            id,
            dir,
            listener: std::net::TcpListener::bind(("127.0.0.1", 0))
                .and_then(|l| l.set_nonblocking(true).map(|()| l))
                .ok(),
            killer: stem.killer(),
            stem: Some(stem),
        }),
        Err(e) => {
            tokio::task::spawn_blocking(move || {
                if let Some(g) = group {
                    g.destroy();
                }
                let _ = std::fs::remove_dir_all(&dir);
            });
            Err(e)
        }
    }
}

impl Ready {
    /// Gives the stem its function (and, through `a.limits`, its limits). On failure the
    /// stem is gone.
    pub async fn assign(
        mut self,
        a: &Assignment,
    ) -> std::io::Result<(Sandbox, tokio::net::unix::pipe::Receiver)> {
        let stem = self
            .stem
            .take()
            .ok_or_else(|| std::io::Error::other("stem already assigned"))?;
        let spawned = stem.assign(a).await?;
        // The environment owns the directory and the cgroup from here on.
        self.dir = PathBuf::new();
        Ok(spawned)
    }

    /// The Runtime API listener bound for the stem ahead of time.
    pub fn take_listener(&mut self) -> Option<std::net::TcpListener> {
        self.listener.take()
    }
}

impl Drop for Ready {
    fn drop(&mut self) {
        if self.dir.as_os_str().is_empty() {
            return;
        }
        self.stem = None;
        let killer = self.killer.clone();
        let dir = std::mem::take(&mut self.dir);
        let teardown = move || {
            killer.destroy();
            let _ = std::fs::remove_dir_all(dir);
        };
        match tokio::runtime::Handle::try_current() {
            Ok(rt) => {
                rt.spawn_blocking(teardown);
            }
            Err(_) => teardown(),
        }
    }
}
