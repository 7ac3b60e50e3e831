//! Control groups: a memory cap, a process cap and a CPU share per sandbox, its measured peak
//! memory and OOM kills, and a kill that reaches every process in it, daemonized or not.
//!
//! Works with the unified hierarchy (v2) when its controllers are enabled, else with the v1
//! controllers, each under the cgroup lambent itself runs in. Every sandbox of one lambent
//! instance lives below one parent group named after that instance, so the next start of the
//! same instance finds and removes what a killed predecessor left behind.

use std::ffi::CString;
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Which hierarchy the host gives us.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Hierarchy {
    /// The unified hierarchy: one directory per group.
    V2 { base: PathBuf },
    /// Per-controller hierarchies (`memory`, `pids`, `cpu`, optionally `freezer`).
    V1 {
        memory: PathBuf,
        pids: Option<PathBuf>,
        cpu: Option<PathBuf>,
        freezer: Option<PathBuf>,
    },
}

/// How CPU is shared between sandboxes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CpuPolicy {
    /// Weighted by memory under contention; an idle machine is not capped.
    Weighted,
    /// A hard quota like AWS's: 1,769 MB buys one full vCPU.
    Aws,
    /// No CPU control.
    Off,
    /// The least share there is: only CPU nobody else wants (a stem warming up in the
    /// background must not slow the invocations running meanwhile).
    Background,
}

/// The limits of one sandbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub memory_bytes: u64,
    pub pids_max: u64,
    pub cpu: CpuPolicy,
}

/// Memory that buys one full vCPU on AWS Lambda.
pub const MB_PER_VCPU: u64 = 1769;

/// The parent group of one lambent instance's sandboxes.
#[derive(Debug, Clone)]
pub struct Cgroups {
    hierarchy: Hierarchy,
}

impl Cgroups {
    /// Finds the hierarchy lambent runs in and creates `<own group>/<instance>` under it.
    /// `None` when cgroups cannot be used here (not Linux, not root, no memory controller).
    pub fn open(instance: &str) -> Option<Cgroups> {
        let own = std::fs::read_to_string("/proc/self/cgroup").ok()?;
        let mounts = std::fs::read_to_string("/proc/self/mountinfo").ok()?;
        let hierarchy = detect(&own, &mounts, instance)?;
        let cgroups = Cgroups { hierarchy };
        for dir in cgroups.dirs(Path::new("")) {
            std::fs::create_dir_all(&dir).ok()?;
        }
        if let Hierarchy::V2 { base } = &cgroups.hierarchy {
            // Children of this group may use these controllers.
            let _ = std::fs::write(base.join("cgroup.subtree_control"), "+memory +pids +cpu");
        }
        // Prove we may create a group with limits and remove it before promising limits (on
        // v2 the controllers may exist yet not be delegated to us).
        let limits = Limits {
            memory_bytes: 64 * 1024 * 1024,
            pids_max: 16,
            cpu: CpuPolicy::Weighted,
        };
        match cgroups.create("probe", Some(&limits)) {
            Ok(probe) => probe.destroy(),
            Err(_) => {
                cgroups.close();
                return None;
            }
        }
        Some(cgroups)
    }

    pub fn hierarchy(&self) -> &Hierarchy {
        &self.hierarchy
    }

    fn dirs(&self, name: &Path) -> Vec<PathBuf> {
        match &self.hierarchy {
            Hierarchy::V2 { base } => vec![base.join(name)],
            Hierarchy::V1 {
                memory,
                pids,
                cpu,
                freezer,
            } => std::iter::once(memory)
                .chain(pids.iter())
                .chain(cpu.iter())
                .chain(freezer.iter())
                .map(|b| b.join(name))
                .collect(),
        }
    }

    /// Creates the group of one sandbox, with `limits` applied when given.
    pub fn create(&self, name: &str, limits: Option<&Limits>) -> io::Result<Cgroup> {
        let group = Cgroup {
            hierarchy: self.hierarchy.clone(),
            name: name.to_string(),
            peak_file: std::sync::OnceLock::new(),
        };
        for dir in self.dirs(Path::new(name)) {
            match std::fs::create_dir(&dir) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
                Err(e) => return Err(e),
            }
        }
        if let Some(limits) = limits {
            if let Err(e) = group.apply(limits) {
                group.destroy();
                return Err(e);
            }
        }
        Ok(group)
    }

    /// Removes every sandbox group and then the instance's own group (shutdown).
    pub fn close(&self) {
        self.remove_leftovers();
        for dir in self.dirs(Path::new("")) {
            let _ = std::fs::remove_dir(dir);
        }
    }

    /// Kills and removes every group a previous run of this instance left behind.
    pub fn remove_leftovers(&self) -> usize {
        let mut names = std::collections::BTreeSet::new();
        for dir in self.dirs(Path::new("")) {
            if let Ok(entries) = std::fs::read_dir(&dir) {
                for e in entries.flatten() {
                    if e.file_type().map(|t| t.is_dir()).unwrap_or(false) {
                        names.insert(e.file_name().to_string_lossy().into_owned());
                    }
                }
            }
        }
        for name in &names {
            Cgroup {
                hierarchy: self.hierarchy.clone(),
                name: name.clone(),
                peak_file: std::sync::OnceLock::new(),
            }
            .destroy();
        }
        names.len()
    }
}

/// One sandbox's group.
#[derive(Debug)]
pub struct Cgroup {
    hierarchy: Hierarchy,
    name: String,
    /// The peak-memory file, opened once: it is read after every invocation, and a path
    /// walk through the cgroup filesystem costs more than the read.
    peak_file: std::sync::OnceLock<Option<std::fs::File>>,
}

fn write(path: &Path, value: &str) -> io::Result<()> {
    std::fs::write(path, value)
        .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", path.display())))
}

fn read_u64(path: &Path) -> Option<u64> {
    std::fs::read_to_string(path).ok()?.trim().parse().ok()
}

/// The value of `key` in a flat-keyed file (`memory.events`, `memory.oom_control`).
fn keyed(path: &Path, key: &str) -> Option<u64> {
    let text = std::fs::read_to_string(path).ok()?;
    text.lines().find_map(|l| {
        let (k, v) = l.split_once(' ')?;
        (k == key).then(|| v.trim().parse().ok()).flatten()
    })
}

impl Cgroup {
    fn dirs(&self) -> Vec<PathBuf> {
        Cgroups {
            hierarchy: self.hierarchy.clone(),
        }
        .dirs(Path::new(&self.name))
    }

    /// Sets (or changes) the group's limits.
    pub fn apply(&self, limits: &Limits) -> io::Result<()> {
        let mb = (limits.memory_bytes / (1024 * 1024)).max(1);
        match &self.hierarchy {
            Hierarchy::V2 { base } => {
                let dir = base.join(&self.name);
                write(&dir.join("memory.max"), &limits.memory_bytes.to_string())?;
                let _ = write(&dir.join("memory.swap.max"), "0");
                write(&dir.join("pids.max"), &limits.pids_max.to_string())?;
                // Every policy sets the weight: a group may have been a stem's before.
                let weight = match limits.cpu {
                    CpuPolicy::Weighted => (mb * 100 / MB_PER_VCPU).clamp(1, 10_000),
                    CpuPolicy::Background => 1,
                    CpuPolicy::Aws | CpuPolicy::Off => 100,
                };
                let _ = write(&dir.join("cpu.weight"), &weight.to_string());
                if limits.cpu == CpuPolicy::Aws {
                    let quota = (mb * 100_000 / MB_PER_VCPU).max(1_000);
                    write(&dir.join("cpu.max"), &format!("{quota} 100000"))?;
                }
            }
            Hierarchy::V1 {
                memory, pids, cpu, ..
            } => {
                let dir = memory.join(&self.name);
                write(
                    &dir.join("memory.limit_in_bytes"),
                    &limits.memory_bytes.to_string(),
                )?;
                // Memory plus swap: the cap holds even where swap is on (absent without swap
                // accounting, which is fine: then there is nothing to bound).
                let _ = write(
                    &dir.join("memory.memsw.limit_in_bytes"),
                    &limits.memory_bytes.to_string(),
                );
                let _ = write(&dir.join("memory.swappiness"), "0");
                if let Some(p) = pids {
                    write(
                        &p.join(&self.name).join("pids.max"),
                        &limits.pids_max.to_string(),
                    )?;
                }
                if let Some(c) = cpu {
                    let dir = c.join(&self.name);
                    // Every policy sets the shares: a group may have been a stem's before.
                    let shares = match limits.cpu {
                        CpuPolicy::Weighted => (mb * 1024 / MB_PER_VCPU).max(2),
                        CpuPolicy::Background => 2,
                        CpuPolicy::Aws | CpuPolicy::Off => 1024,
                    };
                    write(&dir.join("cpu.shares"), &shares.to_string())?;
                    if limits.cpu == CpuPolicy::Aws {
                        let quota = (mb * 100_000 / MB_PER_VCPU).max(1_000);
                        write(&dir.join("cpu.cfs_period_us"), "100000")?;
                        write(&dir.join("cpu.cfs_quota_us"), &quota.to_string())?;
                    }
                }
            }
        }
        Ok(())
    }

    /// The `cgroup.procs` files a new process must join, prepared for use between fork and
    /// exec (no allocation there).
    pub fn procs_files(&self) -> Vec<CString> {
        self.dirs()
            .iter()
            .filter_map(|d| CString::new(d.join("cgroup.procs").as_os_str().as_bytes()).ok())
            .collect()
    }

    /// Peak memory of the whole group, in bytes.
    pub fn peak_memory(&self) -> Option<u64> {
        use std::os::unix::fs::FileExt;
        let file = self.peak_file.get_or_init(|| {
            let path = match &self.hierarchy {
                Hierarchy::V2 { base } => {
                    let dir = base.join(&self.name);
                    let peak = dir.join("memory.peak");
                    if peak.exists() {
                        peak
                    } else {
                        dir.join("memory.current")
                    }
                }
                Hierarchy::V1 { memory, .. } => {
                    memory.join(&self.name).join("memory.max_usage_in_bytes")
                }
            };
            std::fs::File::open(path).ok()
        });
        let mut buf = [0u8; 32];
        // Reading from offset 0 makes the kernel render the value afresh.
        let n = file.as_ref()?.read_at(&mut buf, 0).ok()?;
        std::str::from_utf8(&buf[..n]).ok()?.trim().parse().ok()
    }

    /// Whether the kernel's OOM killer has killed a process of the group.
    pub fn oom_killed(&self) -> bool {
        match &self.hierarchy {
            Hierarchy::V2 { base } => {
                keyed(&base.join(&self.name).join("memory.events"), "oom_kill").unwrap_or(0) > 0
            }
            Hierarchy::V1 { memory, .. } => {
                let dir = memory.join(&self.name);
                match keyed(&dir.join("memory.oom_control"), "oom_kill") {
                    Some(n) => n > 0,
                    None => read_u64(&dir.join("memory.failcnt")).unwrap_or(0) > 0,
                }
            }
        }
    }

    fn pids(&self) -> Vec<i32> {
        let dir = match &self.hierarchy {
            Hierarchy::V2 { base } => base.join(&self.name),
            Hierarchy::V1 { memory, .. } => memory.join(&self.name),
        };
        std::fs::read_to_string(dir.join("cgroup.procs"))
            .unwrap_or_default()
            .lines()
            .filter_map(|l| l.trim().parse().ok())
            .collect()
    }

    /// Kills every process in the group, including ones that left the process group.
    pub fn kill_all(&self) {
        if let Hierarchy::V2 { base } = &self.hierarchy {
            if write(&base.join(&self.name).join("cgroup.kill"), "1").is_ok() {
                return;
            }
        }
        let freezer = match &self.hierarchy {
            Hierarchy::V1 {
                freezer: Some(f), ..
            } => Some(f.join(&self.name).join("freezer.state")),
            _ => None,
        };
        // Frozen, a fork bomb cannot outrun the kill loop.
        if let Some(f) = &freezer {
            let _ = write(f, "FROZEN");
        }
        for _ in 0..100 {
            let pids = self.pids();
            if pids.is_empty() {
                break;
            }
            for pid in pids {
                // SAFETY: kill takes plain integers and has no memory effects; the pids were
                // read from this group's own cgroup.procs.
                unsafe {
                    libc::kill(pid, libc::SIGKILL);
                }
            }
            if let Some(f) = &freezer {
                let _ = write(f, "THAWED");
            }
            std::thread::sleep(Duration::from_millis(2));
        }
        if let Some(f) = &freezer {
            let _ = write(f, "THAWED");
        }
    }

    /// Kills what is left and removes the group's directories (retrying while the kernel
    /// finishes reaping). Blocking: call it off the async workers.
    pub fn destroy(&self) {
        self.kill_all();
        for dir in self.dirs() {
            for attempt in 0..200 {
                match std::fs::remove_dir(&dir) {
                    Ok(()) => break,
                    Err(e) if e.kind() == io::ErrorKind::NotFound => break,
                    Err(_) if attempt < 199 => {
                        if attempt % 10 == 9 {
                            self.kill_all();
                        }
                        std::thread::sleep(Duration::from_millis(5));
                    }
                    Err(_) => {}
                }
            }
        }
    }
}

/// Picks the hierarchy from `/proc/self/cgroup` and `/proc/self/mountinfo`.
fn detect(own: &str, mountinfo: &str, instance: &str) -> Option<Hierarchy> {
    // (controllers or "" for v2, path of our own group)
    let own: Vec<(&str, &str)> = own
        .lines()
        .filter_map(|l| {
            let mut it = l.splitn(3, ':');
            let _id = it.next()?;
            Some((it.next()?, it.next()?))
        })
        .collect();
    // (mount point, fstype, super options)
    let mounts: Vec<(&str, &str, &str)> = mountinfo
        .lines()
        .filter_map(|l| {
            let (pre, post) = l.split_once(" - ")?;
            let mount_point = pre.split(' ').nth(4)?;
            let mut post = post.split(' ');
            let fstype = post.next()?;
            let _source = post.next()?;
            Some((mount_point, fstype, post.next().unwrap_or("")))
        })
        .collect();
    let group = |path: &str, mount: &str| -> PathBuf {
        Path::new(mount)
            .join(path.trim_start_matches('/'))
            .join(instance)
    };

    // The unified hierarchy, if it has the controllers we need.
    if let Some((_, path)) = own.iter().find(|(c, _)| c.is_empty()) {
        if let Some((mp, _, _)) = mounts.iter().find(|(_, t, _)| *t == "cgroup2") {
            let own_dir = Path::new(mp).join(path.trim_start_matches('/'));
            let controllers =
                std::fs::read_to_string(own_dir.join("cgroup.controllers")).unwrap_or_default();
            let has = |c: &str| controllers.split_whitespace().any(|x| x == c);
            if has("memory") && has("pids") {
                return Some(Hierarchy::V2 {
                    base: group(path, mp),
                });
            }
        }
    }

    // v1: each controller's mount point and our path in it.
    let v1 = |controller: &str| -> Option<PathBuf> {
        let (_, path) = own
            .iter()
            .find(|(cs, _)| cs.split(',').any(|c| c == controller))?;
        let (mp, _, _) = mounts
            .iter()
            .find(|(_, t, opts)| *t == "cgroup" && opts.split(',').any(|o| o == controller))?;
        Some(group(path, mp))
    };
    Some(Hierarchy::V1 {
        memory: v1("memory")?,
        pids: v1("pids"),
        cpu: v1("cpu"),
        freezer: v1("freezer"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const MOUNTS_V1: &str =
        "35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids
32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,relatime - cgroup cgroup rw,cpu,cpuacct
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw";

    #[test]
    fn detects_v1_paths_under_our_own_group() {
        let own = "8:pids:/\n4:memory:/svc/abc\n1:cpu,cpuacct:/\n0::/\n";
        let h = detect(own, MOUNTS_V1, "lambent-x").unwrap();
        assert_eq!(
            h,
            Hierarchy::V1 {
                memory: "/sys/fs/cgroup/memory/svc/abc/lambent-x".into(),
                pids: Some("/sys/fs/cgroup/pids/lambent-x".into()),
                cpu: Some("/sys/fs/cgroup/cpu,cpuacct/lambent-x".into()),
                freezer: None,
            }
        );
    }

    #[test]
    fn no_memory_controller_means_no_cgroups() {
        assert_eq!(detect("0::/\n", "", "x"), None);
    }

    #[test]
    fn reads_keyed_files() {
        let dir = std::env::temp_dir().join(format!("lambent-keyed-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join("f"),
            "oom_kill_disable 0\nunder_oom 0\noom_kill 3\n",
        )
        .unwrap();
        assert_eq!(keyed(&dir.join("f"), "oom_kill"), Some(3));
        assert_eq!(keyed(&dir.join("f"), "missing"), None);
        std::fs::remove_dir_all(dir).unwrap();
    }
}
