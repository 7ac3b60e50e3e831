//! The init: PID 1 of every sandbox's PID namespace, so that the runtime is an ordinary
//! process (PID 2), as on AWS.
//!
//! The kernel shields a namespace's PID 1 from signals it has no handler for, even signals it
//! sends itself: a runtime running as PID 1 survives `kill(getpid(), SIGKILL)`, and its
//! `abort()` ends as a segmentation fault. So PID 1 forks once more, the child goes on to exec
//! the runtime, and PID 1 becomes this init: it reaps every orphan, forwards the signals a
//! supervisor sends (`SIGTERM` and friends) to the runtime, and when the runtime ends, writes
//! its wait status to the waiter (see `waiter.rs`) and exits; the waiter then ends the way the
//! runtime ended, signal included. Leaving the namespace's PID 1 ends every other process in it.
//!
//! Like the waiter, the init re-executes lambent's own binary (see [`crate::waiter::main_hook`])
//! so that it holds no copy of lambent's memory; without it (unit tests) it stays a fork.

use std::os::fd::RawFd;
use std::sync::atomic::{AtomicI32, Ordering};

/// The runtime's pid, for the signal handlers.
static RUNTIME: AtomicI32 = AtomicI32::new(0);

/// The signals a supervisor may send that the runtime, not the init, must receive.
const FORWARDED: &[libc::c_int] = &[
    libc::SIGTERM,
    libc::SIGINT,
    libc::SIGHUP,
    libc::SIGQUIT,
    libc::SIGUSR1,
    libc::SIGUSR2,
    libc::SIGWINCH,
    libc::SIGCONT,
];

extern "C" fn forward(sig: libc::c_int) {
    let pid = RUNTIME.load(Ordering::Relaxed);
    if pid > 0 {
        // SAFETY: kill is async-signal-safe and takes plain integers.
        unsafe {
            libc::kill(pid, sig);
        }
    }
}

/// In PID 1 of a sandbox, between fork and exec (after its view, user and seccomp filter are
/// in place): fork the runtime, which returns to exec, and become the init in this process.
/// `status` is the write end of the pipe to the waiter; `exe`, lambent's binary as this
/// process holds it.
///
/// # Safety
/// Between fork and exec: system calls only, on the stack.
pub(crate) unsafe fn split(status: RawFd, exe: Option<RawFd>) -> std::io::Result<()> {
    match libc::fork() {
        -1 => Err(std::io::Error::last_os_error()),
        0 => {
            // The runtime: ends with the init (a parent-death signal is not inherited).
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
            libc::close(status);
            Ok(())
        }
        runtime => {
            if let Some(exe) = exe {
                // The executed init needs the status pipe across the exec.
                libc::fcntl(status, libc::F_SETFD, 0);
                crate::waiter::exec(exe, crate::waiter::Mode::Init, runtime, [status, -1]);
            }
            run(runtime, status)
        }
    }
}

/// The init's whole life: hold nothing but the status pipe and stdio, reap, forward, and
/// report the runtime's end.
///
/// # Safety
/// System calls only, on the stack: it also runs in a fork between fork and exec.
pub(crate) unsafe fn run(runtime: libc::pid_t, status: RawFd) -> ! {
    // A function running as the same user must not be able to read or write this process's
    // memory through /proc (a way around the seccomp filter it shares).
    libc::prctl(libc::PR_SET_DUMPABLE, 0, 0, 0, 0);
    close_all_but(status);
    RUNTIME.store(runtime, Ordering::Relaxed);
    for &sig in FORWARDED {
        let mut action: libc::sigaction = std::mem::zeroed();
        action.sa_sigaction = forward as *const () as libc::sighandler_t;
        action.sa_flags = libc::SA_RESTART;
        libc::sigemptyset(&mut action.sa_mask);
        libc::sigaction(sig, &action, std::ptr::null_mut());
    }
    loop {
        let mut wstatus = 0;
        let pid = libc::waitpid(-1, &mut wstatus, 0);
        if pid == runtime {
            let bytes = wstatus.to_le_bytes();
            libc::write(status, bytes.as_ptr().cast(), bytes.len());
            libc::_exit(if libc::WIFEXITED(wstatus) {
                libc::WEXITSTATUS(wstatus)
            } else {
                128 + libc::WTERMSIG(wstatus)
            });
        }
        if pid == -1 && *libc::__errno_location() == libc::ECHILD {
            libc::_exit(127);
        }
    }
}

/// Closes every descriptor from 3 on except `keep`.
///
/// # Safety
/// System calls only.
pub(crate) unsafe fn close_all_but(keep: RawFd) {
    if keep < 3 {
        libc::syscall(libc::SYS_close_range, 3u32, u32::MAX, 0u32);
        return;
    }
    if keep > 3 {
        libc::syscall(libc::SYS_close_range, 3u32, (keep - 1) as u32, 0u32);
    }
    libc::syscall(libc::SYS_close_range, (keep + 1) as u32, u32::MAX, 0u32);
}

/// In the waiter, once PID 1 (the init) has ended with `pid1_status`: the runtime's own wait
/// status if the init reported it, else the init's (killed from outside before it could).
///
/// # Safety
/// System calls only.
pub(crate) unsafe fn runtime_status(report: RawFd, pid1_status: libc::c_int) -> libc::c_int {
    if report < 0 {
        return pid1_status;
    }
    // Every writer is gone once PID 1 is (its namespace dies with it): never blocks, but
    // make sure of it.
    libc::fcntl(report, libc::F_SETFL, libc::O_NONBLOCK);
    let mut bytes = [0u8; 4];
    let mut at = 0;
    while at < bytes.len() {
        let n = libc::read(report, bytes[at..].as_mut_ptr().cast(), bytes.len() - at);
        if n <= 0 {
            if n < 0 && *libc::__errno_location() == libc::EINTR {
                continue;
            }
            return pid1_status;
        }
        at += n as usize;
    }
    libc::c_int::from_le_bytes(bytes)
}
