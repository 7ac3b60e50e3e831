//! Stems: execution environments started before the function that will use them is known,
//! so that a cold start does not pay for them.
//!
//! Per runtime family a few stems wait, each with its cgroup joined, its namespaces and view
//! built (everything but the code) and, for Python and Node, lambent's bootstrap already
//! running with its modules loaded. A cold start takes one, sets its limits, mounts the
//! function's code at `/var/task` and hands it the environment; a refill task per family
//! starts the next one in the background. A function whose variables change how an
//! interpreter starts (`PYTHON*`, `NODE_*`, `LD_*`...) cannot use an interpreter stem that
//! started without them: it starts the slow way, as does any start that finds no stem.
//!
//! Invariant: a stem never runs a function's code before its assignment, and nothing of the
//! host is reachable from it once it does (see `lambent_sandbox::Stem`).

use super::environment::{view_binds, RUNTIME_DIR, TASK_ROOT};
use super::SchedulerShared;
use crate::runtimes::Family;
use lambent_aws::lambda::model::FunctionConfiguration;
use lambent_sandbox::{Assignment, Killer, Limits, Sandbox, Stem, StemSpec};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;
use tokio::sync::Notify;

/// A stem's memory cap until its assignment sets the function's: AWS's largest function.
const STEM_MEMORY_BYTES: u64 = 10_240 * 1024 * 1024;

/// How long a refill waits after a stem was taken, so that the cold start that took it
/// does not share the CPU with the next stem's start.
const REFILL_DELAY: Duration = Duration::from_millis(30);

const FAMILIES: [Family; 3] = [Family::Python, Family::Node, Family::Provided];

fn slot(family: Family) -> usize {
    match family {
        Family::Python => 0,
        Family::Node => 1,
        Family::Provided => 2,
    }
}

/// The stems waiting, per family.
pub(crate) struct Stems {
    per_family: usize,
    ready: Mutex<[Vec<Ready>; 3]>,
    wake: [Arc<Notify>; 3],
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
    pub fn new(per_family: usize) -> Stems {
        Stems {
            per_family,
            ready: Mutex::new(Default::default()),
            wake: Default::default(),
        }
    }

    /// A live stem of `family`, if one is waiting; its refill task starts the next.
    pub fn take(&self, family: Family) -> Option<Ready> {
        if self.per_family == 0 {
            return None;
        }
        let mut dead = Vec::new();
        let found = {
            let mut ready = self.ready.lock().unwrap_or_else(|e| e.into_inner());
            let list = &mut ready[slot(family)];
            let mut found = None;
            while let Some(mut r) = list.pop() {
                if r.stem.as_mut().is_some_and(Stem::alive) {
                    found = Some(r);
                    break;
                }
                dead.push(r);
            }
            found
        };
        drop(dead);
        self.wake[slot(family)].notify_one();
        found
    }

    /// Stems waiting now, per runtime family (for metrics).
    pub fn ready_counts(&self) -> Vec<(&'static str, usize)> {
        let ready = self.ready.lock().unwrap_or_else(|e| e.into_inner());
        FAMILIES
            .iter()
            .map(|f| {
                let name = match f {
                    Family::Python => "python",
                    Family::Node => "node",
                    Family::Provided => "provided",
                };
                (name, ready[slot(*f)].len())
            })
            .collect()
    }

    fn count(&self, family: Family) -> usize {
        let ready = self.ready.lock().unwrap_or_else(|e| e.into_inner());
        ready[slot(family)].len()
    }

    fn put(&self, family: Family, r: Ready) {
        let mut ready = self.ready.lock().unwrap_or_else(|e| e.into_inner());
        ready[slot(family)].push(r);
    }

    /// Kills every waiting stem (shutdown).
    pub fn clear(&self) {
        let all = std::mem::take(&mut *self.ready.lock().unwrap_or_else(|e| e.into_inner()));
        drop(all);
    }

    /// Starts one refill task per family this host can run. Each ends when the scheduler
    /// is gone.
    pub fn start(shared: &Arc<SchedulerShared>) {
        if shared.stems.per_family == 0 || !shared.isolation.view() {
            return;
        }
        for family in FAMILIES {
            if shared.runtimes.has(family) {
                tokio::spawn(refill(Arc::downgrade(shared), family));
            }
        }
    }
}

/// Keeps `family`'s stems topped up. A failing start backs off (up to a minute) and is
/// reported once, so a broken interpreter costs neither CPU nor log lines.
async fn refill(shared: Weak<SchedulerShared>, family: Family) {
    let mut backoff = Duration::from_millis(100);
    let mut reported = false;
    loop {
        let Some(s) = shared.upgrade() else { return };
        if s.stems.count(family) < s.stems.per_family {
            match make(&s, family).await {
                Ok(r) => {
                    s.stems.put(family, r);
                    backoff = Duration::from_millis(100);
                }
                Err(e) => {
                    if !reported {
                        tracing::warn!(?family, error = %e, "cannot start stems; cold starts take the slow path");
                        reported = true;
                    }
                    drop(s);
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(Duration::from_secs(60));
                }
            }
            continue;
        }
        let wake = s.stems.wake[slot(family)].clone();
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
            let mut ready = s.stems.ready.lock().unwrap_or_else(|e| e.into_inner());
            let list = &mut ready[slot(family)];
            let mut i = 0;
            while i < list.len() {
                if list[i].stem.as_mut().is_some_and(Stem::alive) {
                    i += 1;
                } else {
                    dead.push(list.swap_remove(i));
                }
            }
        }
        drop(dead);
    }
}

/// Starts one stem of `family`.
async fn make(shared: &SchedulerShared, family: Family) -> std::io::Result<Ready> {
    let id = uuid::Uuid::new_v4().simple().to_string();
    let dir = shared.envs_dir.join(&id);
    let root = dir.join("root");
    std::fs::create_dir_all(&root)?;
    let uid = shared.next_uid();
    let view = lambent_sandbox::View {
        root,
        binds: view_binds(shared, None),
        // AWS's default; replaced on assignment for a function with another EphemeralStorage.
        tmp_bytes: super::DEFAULT_TMP_BYTES,
        scratch: shared.scratch.clone(),
        cwd: "/".into(),
        uid,
        gid: uid,
        user_namespace: !shared.isolation.mount_namespace,
        mount_points: vec![TASK_ROOT.into()],
    };
    let program = shared
        .runtimes
        .stem_command(family, std::path::Path::new(RUNTIME_DIR));
    let env = if program.is_some() {
        vec![
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
        ]
    } else {
        vec![]
    };
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
