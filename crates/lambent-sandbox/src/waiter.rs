//! The waiter: the process lambent holds for each sandbox, outside its PID namespace, that
//! waits for the sandbox's PID 1 (the init, see `init.rs`) and ends the way the runtime ended
//! (for a stem, it first makes the assignment's mounts).
//!
//! A waiter starts as a fork of lambent, and a fork keeps a copy of everything lambent had in
//! memory: over a long life, as lambent changes its pages, each waiter would come to hold
//! megabytes of stale copies, secrets among them. So once PID 1 is forked the waiter executes
//! lambent's own binary again (through a descriptor opened at start, so it works whatever the
//! waiter's root has become), in a mode that only waits: a fresh process of a few hundred KB.
//! The sandbox's init is started from the same binary, in a mode of its own.
//! [`main_hook`] must run first thing in the binary's `main`; without it (unit tests) waiters
//! and inits stay forks.

use std::ffi::{CStr, OsString};
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::sync::OnceLock;

/// `argv[0]` of an executed waiter.
const MARKER: &CStr = c"lambent-sandbox-waiter";

/// lambent's own executable, opened once.
static EXE: OnceLock<OwnedFd> = OnceLock::new();

/// What an executed waiter does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    /// Wait for PID 1 and mirror the runtime's end.
    Plain,
    /// A stem's waiter: make the assignment's mounts first (see `stem.rs`).
    Stem,
    /// PID 1 of a sandbox: reap, forward signals, report the runtime's end (see `init.rs`).
    Init,
}

/// Runs the waiter and exits if this process was started as one; otherwise remembers the
/// binary so that waiters can be started from it. Call first thing in `main`.
pub fn main_hook() {
    let mut args = std::env::args_os();
    if args.next().as_deref() == Some(std::ffi::OsStr::new(MARKER.to_str().unwrap_or(""))) {
        let args: Vec<OsString> = args.collect();
        run(&args);
    }
    if let Ok(exe) = std::fs::File::open("/proc/self/exe") {
        let _ = EXE.set(exe.into());
    }
}

/// The executable waiters are started from, if [`main_hook`] ran.
pub(crate) fn exe() -> Option<RawFd> {
    EXE.get().map(AsRawFd::as_raw_fd)
}

fn run(args: &[OsString]) -> ! {
    let number = |i: usize| -> Option<i32> { args.get(i)?.to_str()?.parse().ok() };
    let (Some(pid), Some(fd)) = (number(1), number(2)) else {
        std::process::exit(127);
    };
    // SAFETY: this process is a waiter or an init and nothing else: the calls below only make
    // system calls on descriptors it inherited for that purpose and on its own stack.
    unsafe {
        match args.first().and_then(|m| m.to_str()) {
            Some("stem") => crate::stem::waiter(pid, fd, number(3).unwrap_or(-1)),
            Some("init") => crate::init::run(pid, fd),
            _ => crate::view::wait_and_mirror(pid, fd),
        }
    }
}

/// In a waiter (or an init) between fork and exec: become an executed one, given `pid` and
/// up to two descriptors (`-1`: none). Returns only if that failed (the caller then goes on
/// as the fork it is).
///
/// # Safety
/// Between fork and exec: system calls only, on the stack.
pub(crate) unsafe fn exec(exe: RawFd, mode: Mode, pid: libc::pid_t, fds: [RawFd; 2]) {
    let mut pid_digits = [0u8; 24];
    let mut fd_digits = [[0u8; 24]; 2];
    let mode: &CStr = match mode {
        Mode::Plain => c"plain",
        Mode::Stem => c"stem",
        Mode::Init => c"init",
    };
    let [first, second] = &mut fd_digits;
    let argv = [
        MARKER.as_ptr(),
        mode.as_ptr(),
        decimal(i64::from(pid), &mut pid_digits),
        decimal(i64::from(fds[0]), first),
        decimal(i64::from(fds[1]), second),
        std::ptr::null(),
    ];
    let envp: [*const libc::c_char; 1] = [std::ptr::null()];
    libc::syscall(
        libc::SYS_execveat,
        exe,
        c"".as_ptr(),
        argv.as_ptr(),
        envp.as_ptr(),
        libc::AT_EMPTY_PATH,
    );
}

/// `n` as a NUL-terminated decimal string in `buf`.
fn decimal(n: i64, buf: &mut [u8; 24]) -> *const libc::c_char {
    let negative = n < 0;
    let mut n = n.unsigned_abs();
    let mut at = buf.len() - 1;
    buf[at] = 0;
    loop {
        at -= 1;
        buf[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    if negative {
        at -= 1;
        buf[at] = b'-';
    }
    buf[at..].as_ptr().cast()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_are_nul_terminated() {
        let mut buf = [0u8; 24];
        for n in [0i64, 7, 42, -1, 1_234_567, i64::from(i32::MAX)] {
            let p = decimal(n, &mut buf);
            // SAFETY: `decimal` returns a pointer into `buf` to a NUL-terminated string.
            let s = unsafe { CStr::from_ptr(p) };
            assert_eq!(s.to_str().unwrap(), n.to_string());
        }
    }
}
