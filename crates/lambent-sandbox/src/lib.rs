//! Starting and stopping an isolated process: the one crate allowed `unsafe`.
//!
//! Today a sandbox is a child process in its own process group, with an empty environment
//! except what the caller passes, stdin closed, and stdout and stderr joined into one pipe
//! the caller reads. Killing a sandbox kills its whole process group. Namespaces, cgroups
//! and rlimits grow here; callers keep the same interface. This crate knows nothing of Lambda.

use std::ffi::OsString;
use std::io;
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
}

/// A running sandboxed process.
pub struct Sandbox {
    child: tokio::process::Child,
    pid: i32,
}

/// Starts `spec`, returning the sandbox and the read end of its joined stdout/stderr.
pub fn spawn(spec: &Spec) -> io::Result<(Sandbox, tokio::net::unix::pipe::Receiver)> {
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
        };
        let (mut sb, mut rx) = spawn(&spec).unwrap();
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
        };
        let (mut sb, _rx) = spawn(&spec).unwrap();
        sb.killer().kill();
        let status = sb.wait().await.unwrap();
        assert_eq!(describe_exit(&status), "signal: killed");
    }
}
