//! Starting and stopping an isolated process: the one crate allowed `unsafe`.
//!
//! Today a sandbox is a child process in its own process group, with an empty environment
//! except what the caller passes, stdin closed, and stdout and stderr joined into one pipe
//! the caller reads; where the host allows it (root), it gets a private mount namespace in
//! which the paths the caller names are read-only. Killing a sandbox kills its whole process
//! group. More namespaces, cgroups and rlimits grow here; callers keep the same interface.
//! This crate knows nothing of Lambda.

use std::ffi::{CString, OsString};
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;
use std::process::{ExitStatus, Stdio};

/// What to start.
#[derive(Debug, Clone)]
pub struct Spec {
    pub program: PathBuf,
    pub args: Vec<OsString>,
    /// The complete environment: nothing of the parent's is inherited.
    pub env: Vec<(String, String)>,
    pub cwd: PathBuf,
    /// Paths bind-mounted read-only in the sandbox's own mount namespace. Only honoured when
    /// [`probe`] found mount namespaces available; otherwise ignored.
    pub read_only: Vec<PathBuf>,
}

/// What isolation this host allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Isolation {
    /// A private mount namespace per sandbox (needs `CAP_SYS_ADMIN`).
    pub mount_namespace: bool,
}

/// Finds out once what isolation this host allows, by trying it on `/bin/true`.
pub fn probe() -> Isolation {
    use std::os::unix::process::CommandExt;
    let mut cmd = std::process::Command::new("/bin/true");
    // SAFETY: the closure runs in the forked child before exec and only makes the
    // async-signal-safe `unshare` system call.
    unsafe {
        cmd.pre_exec(|| {
            if libc::unshare(libc::CLONE_NEWNS) != 0 {
                return Err(io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let mount_namespace = cmd.status().map(|s| s.success()).unwrap_or(false);
    Isolation { mount_namespace }
}

/// In the child, before exec: a private mount namespace with `paths` read-only.
///
/// # Safety
/// Runs between fork and exec: it only makes system calls on memory prepared before the fork.
unsafe fn isolate_mounts(paths: &[CString], cwd: &CString) -> io::Result<()> {
    let none = std::ptr::null();
    if libc::unshare(libc::CLONE_NEWNS) != 0 {
        return Err(io::Error::last_os_error());
    }
    // Nothing done in here may propagate back to the host's mounts.
    if libc::mount(
        none,
        c"/".as_ptr(),
        none,
        libc::MS_REC | libc::MS_PRIVATE,
        std::ptr::null(),
    ) != 0
    {
        return Err(io::Error::last_os_error());
    }
    for p in paths {
        let flags = libc::MS_BIND | libc::MS_REC;
        if libc::mount(p.as_ptr(), p.as_ptr(), none, flags, std::ptr::null()) != 0 {
            return Err(io::Error::last_os_error());
        }
        let flags = libc::MS_BIND | libc::MS_REMOUNT | libc::MS_RDONLY | libc::MS_REC;
        if libc::mount(none, p.as_ptr(), none, flags, std::ptr::null()) != 0 {
            return Err(io::Error::last_os_error());
        }
    }
    // The working directory was entered before the new mounts: enter it again through them.
    if libc::chdir(cwd.as_ptr()) != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// A running sandboxed process.
pub struct Sandbox {
    child: tokio::process::Child,
    pid: i32,
}

/// Starts `spec`, returning the sandbox and the read end of its joined stdout/stderr.
pub fn spawn(
    spec: &Spec,
    isolation: Isolation,
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
    // SAFETY: the closure runs in the child before exec and only makes the async-signal-safe
    // `prctl` call: if lambent dies, even by SIGKILL, the kernel kills the sandbox with it.
    unsafe {
        cmd.pre_exec(|| {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                return Err(io::Error::last_os_error());
            }
            Ok(())
        });
    }
    if isolation.mount_namespace && !spec.read_only.is_empty() {
        let paths = spec
            .read_only
            .iter()
            .map(|p| CString::new(p.as_os_str().as_bytes()))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "path with a NUL byte"))?;
        let cwd = CString::new(spec.cwd.as_os_str().as_bytes())
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "path with a NUL byte"))?;
        // SAFETY: `isolate_mounts` only makes system calls on the CStrings built above,
        // before the fork; it allocates nothing in the child.
        unsafe {
            cmd.pre_exec(move || isolate_mounts(&paths, &cwd));
        }
    }
    let child = cmd.spawn()?;
    let pid = child
        .id()
        .and_then(|p| i32::try_from(p).ok())
        .ok_or_else(|| io::Error::other("spawned process has no pid"))?;
    Ok((Sandbox { child, pid }, rx))
}

impl Sandbox {
    pub fn pid(&self) -> i32 {
        self.pid
    }

    /// A handle that can kill the sandbox from anywhere, also after it was moved.
    pub fn killer(&self) -> Killer {
        Killer { pgid: self.pid }
    }

    /// Waits for the sandbox's main process to exit.
    pub async fn wait(&mut self) -> io::Result<ExitStatus> {
        self.child.wait().await
    }
}

/// Kills every process of a sandbox's process group.
#[derive(Debug, Clone, Copy)]
pub struct Killer {
    pgid: i32,
}

impl Killer {
    pub fn kill(&self) {
        // SAFETY: killpg takes plain integers and has no memory effects; the group id is the
        // pid of a child we spawned as a group leader, so it names only that sandbox's group.
        unsafe {
            libc::killpg(self.pgid, libc::SIGKILL);
        }
    }

    /// Peak resident memory of the sandbox's main process in KiB (`VmHWM`), if it still runs.
    pub fn peak_rss_kib(&self) -> Option<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pgid)).ok()?;
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
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
            read_only: vec![],
        };
        let (mut sb, mut rx) = spawn(&spec, probe()).unwrap();
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
            read_only: vec![],
        };
        let (mut sb, _rx) = spawn(&spec, probe()).unwrap();
        sb.killer().kill();
        let status = sb.wait().await.unwrap();
        assert_eq!(describe_exit(&status), "signal: killed");
    }

    #[tokio::test]
    async fn read_only_paths_cannot_be_written() {
        let isolation = probe();
        if !isolation.mount_namespace {
            eprintln!("SKIPPED: mount namespaces are not available on this host (not root?)");
            return;
        }
        let dir = std::env::temp_dir().join(format!("lambent-sandbox-ro-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let spec = Spec {
            program: "/bin/sh".into(),
            args: vec![
                "-c".into(),
                "echo x > f && echo wrote || echo refused".into(),
            ],
            env: vec![],
            cwd: dir.clone(),
            read_only: vec![dir.clone()],
        };
        let (mut sb, mut rx) = spawn(&spec, isolation).unwrap();
        sb.wait().await.unwrap();
        let mut out = String::new();
        rx.read_to_string(&mut out).await.unwrap();
        assert!(out.ends_with("refused\n"), "{out}");
        assert!(!dir.join("f").exists());
        // The host still sees the directory writable.
        std::fs::write(dir.join("g"), "y").unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
