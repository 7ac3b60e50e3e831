//! Starting and stopping an isolated process: the one crate allowed `unsafe`.
//!
//! Today a sandbox is a child process in its own process group, with an empty environment
//! except what the caller passes, stdin closed, and stdout and stderr joined into one pipe
//! the caller reads; where the host allows it (root), it gets a private mount namespace in
//! which the paths the caller names are read-only. Killing a sandbox kills its whole process
//! group. More namespaces, cgroups and rlimits grow here; callers keep the same interface.
//! This crate knows nothing of Lambda.

pub mod cgroup;
mod init;
mod scratch;
mod seccomp;
mod stem;
mod view;
pub mod waiter;
mod watchdog;

pub use cgroup::{Cgroup, Cgroups, CpuPolicy, Limits};
pub use scratch::{ScratchDisk, ScratchDisks};
pub use stem::{Assignment, Stem, StemSpec};
pub use view::{Bind, View, SYSTEM_DIRS};

use std::ffi::{CString, OsString};
use std::io;
use std::os::fd::AsRawFd;
use std::path::PathBuf;
use std::process::{ExitStatus, Stdio};

/// What to start.
#[derive(Debug, Clone)]
pub struct Spec {
    pub program: PathBuf,
    pub args: Vec<OsString>,
    /// The complete environment: nothing of the parent's is inherited.
    pub env: Vec<(String, String)>,
    /// Working directory on the host; with a view, `View::cwd` applies instead.
    pub cwd: PathBuf,
    /// The filesystem and user the sandbox gets. Only honoured when [`probe`] found the
    /// isolation available (root); `None` runs on the host's filesystem as lambent's user.
    pub view: Option<View>,
    /// Memory cap in bytes, enforced by a watchdog when the sandbox has no cgroup (a cgroup
    /// carries its own cap).
    pub memory_limit: Option<u64>,
}

/// What isolation this host allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Isolation {
    /// A private filesystem view, IPC, UTS and PID namespaces and an unprivileged user per
    /// sandbox (needs root: mount namespaces, `pivot_root`, `setuid`).
    pub mount_namespace: bool,
    /// The same view, built inside a user namespace, for a lambent that is not root.
    pub user_namespace: bool,
}

impl Isolation {
    /// Whether sandboxes get a private view one way or the other.
    pub fn view(&self) -> bool {
        self.mount_namespace || self.user_namespace
    }
}

/// Finds out once what isolation this host allows, by trying it on `/bin/true`.
pub fn probe() -> Isolation {
    use std::os::unix::process::CommandExt;
    let try_unshare = |flags: libc::c_int| {
        let mut cmd = std::process::Command::new("/bin/true");
        // SAFETY: the closure runs in the forked child before exec and only makes the
        // async-signal-safe `unshare` system call.
        unsafe {
            cmd.pre_exec(move || {
                if libc::unshare(flags) != 0 {
                    return Err(io::Error::last_os_error());
                }
                Ok(())
            });
        }
        cmd.stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .map(|s| s.success())
            .unwrap_or(false)
    };
    // SAFETY: geteuid has no preconditions.
    let root = unsafe { libc::geteuid() } == 0;
    let isolation = Isolation {
        mount_namespace: root && try_unshare(libc::CLONE_NEWNS),
        user_namespace: !root && try_unshare(libc::CLONE_NEWUSER | libc::CLONE_NEWNS),
    };
    // Namespaces alone are not a view: build one for real before promising it.
    if isolation.view() && !view_works(!root) {
        return Isolation {
            mount_namespace: false,
            user_namespace: false,
        };
    }
    isolation
}

/// Whether a whole view (mounts, `pivot_root`, user) can be built here, tried on `/bin/true`.
fn view_works(user_namespace: bool) -> bool {
    use std::os::unix::process::CommandExt;
    let root = std::env::temp_dir().join(format!(
        "lambent-probe-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0)
    ));
    if std::fs::create_dir(&root).is_err() {
        return false;
    }
    let view = View {
        root: root.clone(),
        binds: vec![],
        tmp_bytes: 1024 * 1024,
        scratch: None,
        cwd: "/".into(),
        uid: 65_534,
        gid: 65_534,
        user_namespace,
        mount_points: vec![],
    };
    let works = match view.prepare() {
        Ok(prepared) => {
            let mut cmd = std::process::Command::new("/bin/true");
            cmd.current_dir("/")
                .env_clear()
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null());
            // SAFETY: `view::enter` only makes system calls on data prepared above.
            unsafe {
                cmd.pre_exec(move || view::enter(&prepared, [-1, -1]));
            }
            cmd.status().map(|s| s.success()).unwrap_or(false)
        }
        Err(_) => false,
    };
    let _ = std::fs::remove_dir(&root);
    works
}

/// Spawns sandboxes on a few long-lived threads of its own: starting one blocks until the
/// child has set itself up and exec'ed (namespaces, mounts, cgroup attach: milliseconds), which
/// must not stall the async workers. The threads live as long as lambent, which matters: a
/// sandbox's parent-death signal fires when the *thread* that forked it exits.
#[derive(Clone)]
pub struct Spawner {
    jobs: std::sync::mpsc::SyncSender<Job>,
}

type Spawned = io::Result<(Sandbox, tokio::net::unix::pipe::Receiver)>;

/// One blocking piece of work for a spawner thread; it sends its own result.
type Job = Box<dyn FnOnce() + Send>;

impl Spawner {
    /// Starts `threads` spawner threads. Must be called inside a tokio runtime.
    pub fn new(threads: usize) -> io::Result<Spawner> {
        let (jobs, rx) = std::sync::mpsc::sync_channel::<Job>(64);
        let rx = std::sync::Arc::new(std::sync::Mutex::new(rx));
        let handle = tokio::runtime::Handle::current();
        for i in 0..threads.max(1) {
            let rx = rx.clone();
            let handle = handle.clone();
            std::thread::Builder::new()
                .name(format!("lambent-spawner-{i}"))
                .spawn(move || {
                    let _runtime = handle.enter();
                    loop {
                        // The lock is held only while waiting for the next job.
                        let job = match rx.lock() {
                            Ok(rx) => rx.recv(),
                            Err(_) => return,
                        };
                        let Ok(job) = job else { return };
                        job();
                    }
                })?;
        }
        Ok(Spawner { jobs })
    }

    /// Runs `work` on a spawner thread and returns its result.
    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> io::Result<T> + Send + 'static,
    ) -> io::Result<T> {
        let (reply, rx) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move || {
            let _ = reply.send(work());
        });
        let gone = || io::Error::other("the spawner threads are gone");
        match self.jobs.try_send(job) {
            Ok(()) => {}
            Err(std::sync::mpsc::TrySendError::Full(job)) => {
                // Many cold starts at once: wait for room off the async workers.
                let jobs = self.jobs.clone();
                let sent = tokio::task::spawn_blocking(move || jobs.send(job).is_ok())
                    .await
                    .map_err(io::Error::other)?;
                if !sent {
                    return Err(gone());
                }
            }
            Err(std::sync::mpsc::TrySendError::Disconnected(_)) => return Err(gone()),
        }
        rx.await
            .map_err(|_| io::Error::other("the spawner dropped the request"))?
    }

    /// [`spawn`], on a spawner thread.
    pub async fn spawn(
        &self,
        spec: Spec,
        isolation: Isolation,
        group: Option<std::sync::Arc<Cgroup>>,
    ) -> Spawned {
        self.run(move || spawn(&spec, isolation, group)).await
    }

    /// [`Stem::spawn`], on a spawner thread.
    pub async fn spawn_stem(
        &self,
        spec: StemSpec,
        isolation: Isolation,
        group: Option<std::sync::Arc<Cgroup>>,
    ) -> io::Result<Stem> {
        self.run(move || Stem::spawn(&spec, isolation, group)).await
    }
}

/// A running sandboxed process.
pub struct Sandbox {
    child: tokio::process::Child,
    killer: Killer,
}

/// The most files a sandboxed process may hold open, as on AWS Lambda.
pub const MAX_OPEN_FILES: u64 = 1024;

/// In the child, before exec: join the sandbox's cgroups (so every byte and process from here
/// on is counted) and cap open files.
///
/// # Safety
/// Runs between fork and exec: only system calls, on memory prepared before the fork.
unsafe fn enter(procs_files: &[CString]) -> io::Result<()> {
    let mut digits = [0u8; 20];
    let mut n = libc::getpid() as u64;
    let mut at = digits.len();
    loop {
        at -= 1;
        digits[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    for file in procs_files {
        let fd = libc::open(file.as_ptr(), libc::O_WRONLY | libc::O_CLOEXEC);
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        let len = digits.len() - at;
        let written = libc::write(fd, digits[at..].as_ptr().cast(), len);
        libc::close(fd);
        if written != len as isize {
            return Err(io::Error::last_os_error());
        }
    }
    // A function woken by its next event must not preempt lambent's worker that woke it in
    // the middle of its work (on a busy machine that doubles the context switches): batch
    // threads never preempt on wake-up. With idle CPUs nothing changes.
    let param = libc::sched_param { sched_priority: 0 };
    libc::sched_setscheduler(0, libc::SCHED_BATCH, &param);
    let limit = libc::rlimit {
        rlim_cur: MAX_OPEN_FILES,
        rlim_max: MAX_OPEN_FILES,
    };
    if libc::setrlimit(libc::RLIMIT_NOFILE, &limit) != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// A pipe for an init's report, both ends closed on exec (whoever keeps one across an exec
/// clears the flag itself).
fn init_pipe() -> io::Result<(std::os::fd::OwnedFd, std::os::fd::OwnedFd)> {
    use std::os::fd::FromRawFd;
    let mut fds = [0; 2];
    // SAFETY: pipe2 writes two new descriptors into the array we own.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: both descriptors were just created and are owned by nobody else.
    Ok(unsafe {
        (
            std::os::fd::OwnedFd::from_raw_fd(fds[0]),
            std::os::fd::OwnedFd::from_raw_fd(fds[1]),
        )
    })
}

/// Starts `spec`, returning the sandbox and the read end of its joined stdout/stderr.
/// `group`, when given, is the cgroup the process joins before it runs (see [`Cgroups`]).
pub fn spawn(
    spec: &Spec,
    isolation: Isolation,
    group: Option<std::sync::Arc<Cgroup>>,
) -> io::Result<(Sandbox, tokio::net::unix::pipe::Receiver)> {
    let (tx, rx) = tokio::net::unix::pipe::pipe()?;
    let out = tx.into_blocking_fd()?;
    let err = out.try_clone()?;
    let mut cmd = tokio::process::Command::new(&spec.program);
    cmd.args(&spec.args)
        .env_clear()
        .envs(spec.env.iter().map(|(k, v)| (k, v)))
        .current_dir(&spec.cwd)
        .stdin(Stdio::null())
        .stdout(Stdio::from(out))
        .stderr(Stdio::from(err))
        .process_group(0)
        .kill_on_drop(true);
    let procs_files = group.as_ref().map(|g| g.procs_files()).unwrap_or_default();
    // SAFETY: `enter` only makes system calls on the CStrings built above and a stack buffer.
    unsafe {
        cmd.pre_exec(move || enter(&procs_files));
    }
    // With a view the sandbox has a PID namespace, whose PID 1 becomes an init that reports
    // the runtime's end to the waiter through this pipe.
    let mut report = None;
    // The disk of the view's `/tmp` stays attached here until the child has mounted it.
    let mut disk = None;
    if let (true, Some(view)) = (isolation.view(), &spec.view) {
        let mut prepared = view.prepare()?;
        disk = prepared.take_disk();
        let (read, write) = init_pipe()?;
        let fds = [read.as_raw_fd(), write.as_raw_fd()];
        report = Some((read, write, prepared.exe()));
        // The host's working directory is entered before the view exists; the view's own
        // is entered inside it.
        cmd.current_dir("/");
        // SAFETY: `view::enter` only makes system calls on data prepared above.
        unsafe {
            cmd.pre_exec(move || view::enter(&prepared, fds));
        }
    }
    let filters = seccomp::programs()?;
    // SAFETY: `seccomp::install` only makes system calls on the programs compiled above.
    unsafe {
        cmd.pre_exec(move || seccomp::install(&filters));
    }
    // SAFETY: the closure runs in the child before exec and only makes the async-signal-safe
    // `prctl` call: if lambent dies, even by SIGKILL, the kernel kills the sandbox with it.
    // It comes after the change of user, which clears the setting.
    unsafe {
        cmd.pre_exec(|| {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                return Err(io::Error::last_os_error());
            }
            Ok(())
        });
    }
    if let Some((_, write, exe)) = &report {
        let (write, exe) = (write.as_raw_fd(), *exe);
        // SAFETY: `init::split` only makes system calls on the descriptors named here.
        unsafe {
            cmd.pre_exec(move || init::split(write, exe));
        }
    }
    let child = cmd.spawn()?;
    // The child has exec'ed, so its view (and mount of `/tmp`) is complete.
    drop((report, disk));
    let pid = child
        .id()
        .and_then(|p| i32::try_from(p).ok())
        .ok_or_else(|| io::Error::other("spawned process has no pid"))?;
    let watch = match (&group, spec.memory_limit) {
        (None, Some(limit)) => Some(watchdog::spawn(pid, limit)),
        _ => None,
    };
    let killer = Killer {
        pgid: pid,
        group,
        watch,
    };
    Ok((Sandbox { child, killer }, rx))
}

impl Sandbox {
    pub fn pid(&self) -> i32 {
        self.killer.pgid
    }

    /// A handle that can kill the sandbox from anywhere, also after it was moved.
    pub fn killer(&self) -> Killer {
        self.killer.clone()
    }

    /// Waits for the sandbox's main process to exit.
    pub async fn wait(&mut self) -> io::Result<ExitStatus> {
        self.child.wait().await
    }
}

/// Kills a sandbox and reads what it used: its process group, and its cgroup when it has one.
#[derive(Debug, Clone)]
pub struct Killer {
    pgid: i32,
    group: Option<std::sync::Arc<Cgroup>>,
    watch: Option<std::sync::Arc<watchdog::Watch>>,
}

impl Killer {
    /// Kills the process group at once; with a cgroup, also every process that left the
    /// group (daemonized children), off the caller's thread.
    pub fn kill(&self) {
        // SAFETY: killpg takes plain integers and has no memory effects; the group id is the
        // pid of a child we spawned as a group leader, so it names only that sandbox's group.
        unsafe {
            libc::killpg(self.pgid, libc::SIGKILL);
        }
        if let Some(g) = &self.group {
            let g = g.clone();
            match tokio::runtime::Handle::try_current() {
                Ok(rt) => {
                    rt.spawn_blocking(move || g.kill_all());
                }
                Err(_) => g.kill_all(),
            }
        }
    }

    /// Kills everything and removes the cgroup. Blocking: run it off the async workers.
    pub fn destroy(&self) {
        // SAFETY: as in `kill`.
        unsafe {
            libc::killpg(self.pgid, libc::SIGKILL);
        }
        if let Some(g) = &self.group {
            g.destroy();
        }
    }

    /// Peak memory in bytes: of the whole cgroup when there is one, else what the watchdog
    /// saw of the process group, else of the main process (`VmHWM`, while it runs).
    pub fn peak_memory(&self) -> Option<u64> {
        if let Some(peak) = self.group.as_ref().and_then(|g| g.peak_memory()) {
            return Some(peak);
        }
        if let Some(w) = &self.watch {
            let now = watchdog::group_rss(self.pgid);
            let peak = w.peak().max(now);
            if peak > 0 {
                return Some(peak);
            }
        }
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pgid)).ok()?;
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            .map(|kib| kib * 1024)
    }

    /// Whether the kernel killed a process of the sandbox for exceeding its memory.
    pub fn oom_killed(&self) -> bool {
        self.group.as_ref().is_some_and(|g| g.oom_killed())
            || self.watch.as_ref().is_some_and(|w| w.oom_killed())
    }
}

/// Describes an exit status as Lambda's `Runtime.ExitError` does ("exit status 1", "signal: killed").
pub fn describe_exit(status: &ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt;
    if let Some(code) = status.code() {
        format!("exit status {code}")
    } else if let Some(sig) = status.signal() {
        let name = match sig {
            libc::SIGKILL => "killed",
            libc::SIGSEGV => "segmentation fault",
            libc::SIGABRT => "aborted",
            libc::SIGTERM => "terminated",
            libc::SIGBUS => "bus error",
            _ => return format!("signal: {sig}"),
        };
        format!("signal: {name}")
    } else {
        "unknown exit".to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncReadExt;

    /// 200 MB of touched memory, 1 MB at a time; prints `survived` if it was allowed.
    const ALLOC_200_MB: &str = "x=$(head -c 209715200 /dev/zero | tr '\\0' a); echo survived";

    /// `/bin/sh -c script` on the host's filesystem, with a minimal PATH.
    fn sh(script: &str) -> Spec {
        Spec {
            program: "/bin/sh".into(),
            args: vec!["-c".into(), script.into()],
            env: vec![("PATH".into(), "/usr/bin:/bin".into())],
            cwd: "/".into(),
            view: None,
            memory_limit: None,
        }
    }

    /// Runs `spec` to its end: its exit status, its joined output, and the sandbox.
    async fn run(
        spec: &Spec,
        isolation: Isolation,
        group: Option<std::sync::Arc<Cgroup>>,
    ) -> (ExitStatus, String, Sandbox) {
        let (mut sb, mut rx) = spawn(spec, isolation, group).unwrap();
        let status = sb.wait().await.unwrap();
        let mut out = String::new();
        rx.read_to_string(&mut out).await.unwrap();
        (status, out, sb)
    }

    #[tokio::test]
    async fn runs_with_only_the_given_environment_and_joins_output() {
        let spec = Spec {
            program: "/bin/sh".into(),
            args: vec![
                "-c".into(),
                "echo out:$ONLY; echo err:$HOME >&2; exit 3".into(),
            ],
            env: vec![("ONLY".into(), "x".into())],
            cwd: "/".into(),
            view: None,
            memory_limit: None,
        };
        let (mut sb, mut rx) = spawn(&spec, probe(), None).unwrap();
        let status = sb.wait().await.unwrap();
        let mut out = String::new();
        rx.read_to_string(&mut out).await.unwrap();
        assert_eq!(out, "out:x\nerr:\n");
        assert_eq!(describe_exit(&status), "exit status 3");
    }

    #[tokio::test]
    async fn kill_ends_the_whole_group() {
        let spec = Spec {
            program: "/bin/sh".into(),
            args: vec!["-c".into(), "sleep 30 & sleep 30".into()],
            env: vec![],
            cwd: "/".into(),
            view: None,
            memory_limit: None,
        };
        let (mut sb, _rx) = spawn(&spec, probe(), None).unwrap();
        sb.killer().kill();
        let status = sb.wait().await.unwrap();
        assert_eq!(describe_exit(&status), "signal: killed");
    }

    #[tokio::test]
    async fn a_view_hides_the_host_and_drops_root() {
        let isolation = probe();
        if !isolation.mount_namespace {
            eprintln!("SKIPPED: views need root (mount namespaces, pivot_root, setuid)");
            return;
        }
        let base = std::env::temp_dir().join(format!("lambent-view-{}", std::process::id()));
        let code = base.join("code");
        let root = base.join("root");
        std::fs::create_dir_all(&code).unwrap();
        std::fs::create_dir_all(&root).unwrap();
        std::fs::write(code.join("hello.txt"), "hi").unwrap();
        std::fs::write(base.join("secret"), "do not read").unwrap();
        let script = format!(
            "cat hello.txt; echo; id -u; \\
             (echo x > /var/task/f) 2>/dev/null && echo code-writable || echo code-read-only; \\
             test -e {secret} && echo secret-visible || echo secret-hidden; \\
             (head -c 2000000 /dev/zero > /tmp/big) 2>/dev/null && echo tmp-unbounded || echo tmp-full; \\
             rm -f /tmp/big; echo y > /tmp/small && echo tmp-writable; \\
             echo pid=$$; set -- /proc/[0-9]*; echo $#; exit 3",
            secret = base.join("secret").display()
        );
        let spec = Spec {
            program: "/bin/sh".into(),
            args: vec!["-c".into(), script.into()],
            env: vec![("PATH".into(), "/usr/bin:/bin".into())],
            cwd: "/".into(),
            memory_limit: None,
            view: Some(View {
                root: root.clone(),
                binds: vec![Bind {
                    source: code.clone(),
                    target: "/var/task".into(),
                    writable: false,
                }],
                tmp_bytes: 1024 * 1024,
                scratch: None,
                cwd: "/var/task".into(),
                uid: 61_000,
                gid: 61_000,
                user_namespace: false,
                mount_points: vec![],
            }),
        };
        let (mut sb, mut rx) = spawn(&spec, isolation, None).unwrap();
        let status = sb.wait().await.unwrap();
        let mut out = String::new();
        rx.read_to_string(&mut out).await.unwrap();
        // The exit status of the function's PID 1 comes through the waiter unchanged.
        assert_eq!(describe_exit(&status), "exit status 3", "{out}");
        // In its own PID namespace the shell is PID 2, beside the init.
        assert_eq!(
            out,
            "hi\n61000\ncode-read-only\nsecret-hidden\ntmp-full\ntmp-writable\npid=2\n2\n"
        );
        // Nothing of the view stays behind on the host.
        assert_eq!(std::fs::read_dir(&root).unwrap().count(), 0);
        std::fs::remove_dir_all(&base).unwrap();
    }

    #[tokio::test]
    async fn a_runtime_that_signals_itself_ends_by_that_signal() {
        let isolation = probe();
        if !isolation.mount_namespace {
            eprintln!("SKIPPED: views need root (mount namespaces, pivot_root, setuid)");
            return;
        }
        let base = std::env::temp_dir().join(format!("lambent-signal-{}", std::process::id()));
        for (i, (script, expected)) in [
            ("kill -KILL $$; echo survived", "signal: killed"),
            ("kill -ABRT $$; echo survived", "signal: aborted"),
            ("kill -SEGV $$; echo survived", "signal: segmentation fault"),
            ("sleep 30 & exit 4", "exit status 4"),
        ]
        .into_iter()
        .enumerate()
        {
            let root = base.join(format!("root{i}"));
            std::fs::create_dir_all(&root).unwrap();
            let spec = Spec {
                view: Some(View {
                    root,
                    binds: vec![],
                    tmp_bytes: 1024 * 1024,
                    scratch: None,
                    cwd: "/".into(),
                    uid: 61_004,
                    gid: 61_004,
                    user_namespace: false,
                    mount_points: vec![],
                }),
                ..sh(script)
            };
            let (status, out, _) = run(&spec, isolation, None).await;
            assert_eq!(describe_exit(&status), expected, "{script}: {out}");
            assert_eq!(out, "", "{script}");
        }
        std::fs::remove_dir_all(&base).unwrap();
    }

    /// Scratch disks of this test's own, where the host can make them.
    fn test_disks(test: &str) -> Option<(ScratchDisks, std::path::PathBuf)> {
        let dir = std::env::temp_dir().join(format!("lambent-disks-{}-{test}", std::process::id()));
        match ScratchDisks::open(&dir, 8 * 1024 * 1024) {
            Ok(d) => Some((d, dir)),
            Err(e) => {
                eprintln!("SKIPPED: no scratch disks here: {e}");
                None
            }
        }
    }

    /// Whether a loop device still has a backing file.
    fn attached(device: &std::path::Path) -> bool {
        let name = device.file_name().unwrap().to_string_lossy().to_string();
        std::fs::read_to_string(format!("/sys/block/{name}/loop/backing_file")).is_ok()
    }

    #[tokio::test]
    async fn a_disk_tmp_fills_to_its_size_and_goes_with_the_sandbox() {
        let isolation = probe();
        let Some((disks, dir)) = test_disks("fill").filter(|_| isolation.mount_namespace) else {
            return;
        };
        // Nothing is charged to memory: a 16 MB memory cap below a 24 MB /tmp.
        let script = "head -c 40000000 /dev/zero > /tmp/f 2>/dev/null; echo written=$(($(stat -c %s /tmp/f) / 1048576)); \
                      ls -A /tmp; stat -c %a /tmp; touch /tmp/g && echo more-files";
        let root = dir.join("root");
        std::fs::create_dir_all(&root).unwrap();
        let spec = Spec {
            view: Some(View {
                root,
                binds: vec![],
                tmp_bytes: 24 * 1024 * 1024,
                scratch: Some(disks.clone()),
                cwd: "/".into(),
                uid: 61_005,
                gid: 61_005,
                user_namespace: false,
                mount_points: vec![],
            }),
            memory_limit: Some(16 * 1024 * 1024),
            ..sh(script)
        };
        let (status, out, _) = run(&spec, isolation, None).await;
        assert_eq!(describe_exit(&status), "exit status 0", "{out}");
        assert!(
            out == "written=23\nf\n1777\nmore-files\n"
                || out == "written=24\nf\n1777\nmore-files\n",
            "{out}"
        );
        // The disk's file is unlinked from the start, and its device goes with the sandbox.
        let files: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().to_string())
            .filter(|n| n.starts_with("disk-"))
            .collect();
        assert!(files.is_empty(), "{files:?}");
        let disk = disks.create(8 * 1024 * 1024).unwrap();
        let device = disk.path().to_path_buf();
        assert!(attached(&device));
        drop(disk);
        let gone = (0..100).any(|_| {
            std::thread::sleep(std::time::Duration::from_millis(10));
            !attached(&device)
        });
        assert!(gone, "{} is still attached", device.display());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// A stem's view for the tests: its code comes at `/var/task` on assignment.
    fn stem_view(base: &std::path::Path, uid: u32) -> View {
        let root = base.join("root");
        std::fs::create_dir_all(&root).unwrap();
        View {
            root,
            binds: vec![],
            tmp_bytes: 1024 * 1024,
            scratch: None,
            cwd: "/".into(),
            uid,
            gid: uid,
            user_namespace: false,
            mount_points: vec!["/var/task".into()],
        }
    }

    fn assignment(code: &std::path::Path, program: &str) -> Assignment {
        Assignment {
            bind: Bind {
                source: code.to_path_buf(),
                target: "/var/task".into(),
                writable: false,
            },
            tmp_bytes: 3 * 1024 * 1024,
            cwd: "/var/task".into(),
            program: program.into(),
            env: vec![
                ("PATH".into(), "/usr/bin:/bin".into()),
                ("GIVEN".into(), "on assignment".into()),
            ],
            memory_limit: None,
            limits: None,
        }
    }

    #[tokio::test]
    async fn a_stem_becomes_the_program_it_is_assigned() {
        let isolation = probe();
        if !isolation.mount_namespace {
            eprintln!("SKIPPED: stems need root (mount namespaces, pivot_root, setuid)");
            return;
        }
        let base = std::env::temp_dir().join(format!("lambent-stem-{}", std::process::id()));
        let code = base.join("code");
        std::fs::create_dir_all(&code).unwrap();
        std::fs::write(
            code.join("run"),
            "#!/bin/sh\npwd; id -u; echo $GIVEN; \
             test -e /.host && echo host-visible || echo host-gone; \
             (head -c 2000000 /dev/zero > /tmp/f) 2>/dev/null && echo tmp-grown || echo tmp-small; \
             (echo x > /var/task/f) 2>/dev/null && echo code-writable || echo code-read-only\n",
        )
        .unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(code.join("run"), std::fs::Permissions::from_mode(0o755)).unwrap();
        let spec = StemSpec {
            program: None,
            env: vec![],
            view: stem_view(&base, 61_001),
        };
        let spawner = Spawner::new(1).unwrap();
        let mut stem = spawner.spawn_stem(spec, isolation, None).await.unwrap();
        assert!(stem.alive());
        let (mut sb, mut rx) = stem
            .assign(&assignment(&code, "/var/task/run"))
            .await
            .unwrap();
        let status = sb.wait().await.unwrap();
        let mut out = String::new();
        rx.read_to_string(&mut out).await.unwrap();
        assert_eq!(describe_exit(&status), "exit status 0", "{out}");
        assert_eq!(
            out,
            "/var/task\n61001\non assignment\nhost-gone\ntmp-grown\ncode-read-only\n"
        );
        std::fs::remove_dir_all(&base).unwrap();
    }

    #[tokio::test]
    async fn a_stem_program_reads_its_assignment_after_the_mounts() {
        let isolation = probe();
        if !isolation.mount_namespace {
            eprintln!("SKIPPED: stems need root (mount namespaces, pivot_root, setuid)");
            return;
        }
        let base = std::env::temp_dir().join(format!("lambent-stem3-{}", std::process::id()));
        let code = base.join("code");
        std::fs::create_dir_all(&code).unwrap();
        std::fs::write(code.join("hello.txt"), "hi").unwrap();
        let script = "a=$(tr '\\000' '\\n' <&3); cd /var/task; cat hello.txt; echo; \
                      echo \"$a\" | grep -c GIVEN=; echo $STEM_ONLY";
        let spec = StemSpec {
            program: Some(("/bin/sh".into(), vec!["-c".into(), script.into()])),
            env: vec![
                ("PATH".into(), "/usr/bin:/bin".into()),
                ("STEM_ONLY".into(), "stem".into()),
            ],
            view: stem_view(&base, 61_002),
        };
        let spawner = Spawner::new(1).unwrap();
        let stem = spawner.spawn_stem(spec, isolation, None).await.unwrap();
        let (mut sb, mut rx) = stem.assign(&assignment(&code, "")).await.unwrap();
        let status = sb.wait().await.unwrap();
        let mut out = String::new();
        rx.read_to_string(&mut out).await.unwrap();
        assert_eq!(describe_exit(&status), "exit status 0", "{out}");
        assert_eq!(out, "hi\n1\nstem\n");
        std::fs::remove_dir_all(&base).unwrap();
    }

    #[tokio::test]
    async fn an_unassigned_stem_ends_when_dropped() {
        let isolation = probe();
        if !isolation.mount_namespace {
            eprintln!("SKIPPED: stems need root (mount namespaces, pivot_root, setuid)");
            return;
        }
        let base = std::env::temp_dir().join(format!("lambent-stem2-{}", std::process::id()));
        let marker = format!("300.{}", std::process::id() % 100_000 + 7);
        let spec = StemSpec {
            program: Some(("/bin/sleep".into(), vec![marker.clone().into()])),
            env: vec![],
            view: stem_view(&base, 61_003),
        };
        let spawner = Spawner::new(1).unwrap();
        let stem = spawner.spawn_stem(spec, isolation, None).await.unwrap();
        let alive = || {
            std::process::Command::new("pgrep")
                .args(["-f", &format!("sleep {marker}")])
                .output()
                .map(|o| !o.stdout.is_empty())
                .unwrap_or(false)
        };
        assert!(alive(), "the stem's program should be running");
        drop(stem);
        // The waiter is killed; PID 1 follows it (parent-death signal).
        let gone = (0..100).any(|_| {
            std::thread::sleep(std::time::Duration::from_millis(20));
            !alive()
        });
        assert!(gone, "the stem's program outlived it");
        std::fs::remove_dir_all(&base).unwrap();
    }

    #[tokio::test]
    async fn seccomp_refuses_namespaces_and_mounts_but_not_threads() {
        let script = "unshare --user true 2>/dev/null && echo ns-allowed || echo ns-refused; \\
                      unshare --mount true 2>/dev/null && echo mountns-allowed || echo mountns-refused; \\
                      python3 -c 'import threading, os; t = threading.Thread(target=print, args=(\"threads-ok\",)); t.start(); t.join(); print(\"fork-ok\" if os.fork() or os._exit(0) else \"\")'";
        let (_, out, _) = run(&sh(script), probe(), None).await;
        assert_eq!(out, "ns-refused\nmountns-refused\nthreads-ok\nfork-ok\n");
    }

    #[tokio::test]
    async fn without_cgroups_the_watchdog_caps_memory() {
        let spec = Spec {
            memory_limit: Some(64 * 1024 * 1024),
            ..sh(ALLOC_200_MB)
        };
        let (status, out, sb) = run(&spec, probe(), None).await;
        assert!(!out.contains("survived"), "{out} {status:?}");
        let killer = sb.killer();
        assert!(killer.oom_killed());
        assert!(killer.peak_memory().unwrap() > 64 * 1024 * 1024);
    }

    /// A parent group of this test's own, so tests running in parallel do not meet.
    fn test_groups(test: &str) -> Option<Cgroups> {
        let g = Cgroups::open(&format!("lambent-test-{}-{test}", std::process::id()));
        if g.is_none() {
            eprintln!("SKIPPED: cgroups are not usable on this host (not root?)");
        }
        g
    }

    #[tokio::test]
    async fn memory_cap_kills_and_is_reported() {
        let Some(groups) = test_groups("oom") else {
            return;
        };
        let limits = Limits {
            memory_bytes: 64 * 1024 * 1024,
            pids_max: 64,
            cpu: CpuPolicy::Weighted,
        };
        let group = std::sync::Arc::new(groups.create("oom", Some(&limits)).unwrap());
        let (status, out, sb) = run(&sh(ALLOC_200_MB), probe(), Some(group)).await;
        assert!(!out.contains("survived"), "{out} {status:?}");
        let killer = sb.killer();
        assert!(killer.oom_killed());
        let peak = killer.peak_memory().unwrap();
        assert!(
            peak > 50 * 1024 * 1024 && peak <= 65 * 1024 * 1024,
            "peak {peak}"
        );
        killer.destroy();
        assert_eq!(groups.remove_leftovers(), 0);
        groups.close();
    }

    #[tokio::test]
    async fn group_kill_reaches_daemonized_children() {
        let Some(groups) = test_groups("daemon") else {
            return;
        };
        let group = std::sync::Arc::new(groups.create("daemon", None).unwrap());
        let marker = format!("sleep 300.{}", std::process::id() % 100_000);
        let script =
            format!("setsid {marker} </dev/null >/dev/null 2>&1 & sleep 0.2; echo started");
        let (_, out, sb) = run(&sh(&script), probe(), Some(group)).await;
        assert_eq!(out, "started\n");
        let alive = || {
            std::process::Command::new("pgrep")
                .args(["-f", &marker])
                .output()
                .map(|o| !o.stdout.is_empty())
                .unwrap_or(false)
        };
        assert!(alive(), "the daemon should outlive its parent");
        sb.killer().destroy();
        assert!(!alive(), "the daemon survived the group kill");
        groups.close();
    }

    #[test]
    fn leftovers_of_a_previous_run_are_removed() {
        let Some(groups) = test_groups("leftovers") else {
            return;
        };
        let g = groups.create("left-behind", None).unwrap();
        std::mem::forget(g);
        assert_eq!(groups.remove_leftovers(), 1);
        assert_eq!(groups.remove_leftovers(), 0);
        groups.close();
    }
}
