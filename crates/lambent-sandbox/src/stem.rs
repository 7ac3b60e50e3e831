//! Stems: sandboxes started before anyone knows what they will run.
//!
//! Building a sandbox costs milliseconds that have nothing to do with the program it runs:
//! joining a cgroup (the kernel waits for an RCU grace period on a v1 memory group), entering
//! namespaces, mounting the view. A stem does all of that ahead of time, and optionally starts
//! an interpreter in it that loads what it can, so that what is left when the program is
//! known (its assignment) is a bind mount and a few writes.
//!
//! Three processes make a stem:
//! - the **waiter** (the process lambent holds): root in the stem's mount namespace, outside
//!   its PID namespace. It makes the assignment's mounts (the code, from the host's tree that
//!   the view keeps at `/.host` until then), lets the host's tree go, and from then on waits
//!   for the sandbox's PID 1 and mirrors how it ended, as every sandbox's waiter does;
//! - **PID 1**: builds the view, drops to the sandbox's user, installs the seccomp filter and
//!   either starts the stem's program at once (an interpreter that reads its assignment from
//!   file descriptor 3 and applies it itself), or waits on descriptor 3 and then `execve`s the
//!   assigned program with the assigned environment;
//! - lambent, which sends the mounts to the waiter, waits for its answer, then sends PID 1 its
//!   assignment: `cwd NUL program NUL` then `KEY=VALUE NUL` per variable, then end of file.
//!
//! The user, the namespaces and the filter are those of any sandbox; nothing of the host is
//! reachable from PID 1 once it runs the assigned code (the host tree is unmounted before the
//! assignment reaches it).

use crate::view::{self, check, Prepared};
use crate::{seccomp, watchdog, Bind, Cgroup, Isolation, Killer, Sandbox, View};
use std::ffi::OsString;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::Arc;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::unix::pipe;

/// What a stem is made of.
#[derive(Debug, Clone)]
pub struct StemSpec {
    /// The program PID 1 starts at once (it finds its assignment on descriptor 3), or `None`:
    /// PID 1 waits, and the assignment names the program it `execve`s.
    pub program: Option<(PathBuf, Vec<OsString>)>,
    /// The environment of `program` until it applies its assignment's.
    pub env: Vec<(String, String)>,
    /// The view, without what the assignment mounts (its targets are `mount_points`).
    pub view: View,
}

/// What a stem becomes.
#[derive(Debug, Clone)]
pub struct Assignment {
    /// Mounted into the view; its target must be one of the view's `mount_points`.
    pub bind: Bind,
    /// The size the view's `/tmp` must have: a tmpfs is resized, a disk of another size
    /// replaced by a new one.
    pub tmp_bytes: u64,
    /// Working directory inside the view.
    pub cwd: PathBuf,
    /// The program to `execve`, for a stem started without one (a path inside the view).
    pub program: PathBuf,
    pub env: Vec<(String, String)>,
    /// Memory cap in bytes for the watchdog, when the stem has no cgroup.
    pub memory_limit: Option<u64>,
    /// The limits its cgroup takes (set while the waiter mounts the code).
    pub limits: Option<crate::Limits>,
}

/// A stem ready for its assignment. Dropping it kills it.
pub struct Stem {
    sandbox: Sandbox,
    /// The size of the view's `/tmp`, and where its disks come from when it is one.
    tmp_bytes: u64,
    scratch: Option<crate::ScratchDisks>,
    output: pipe::Receiver,
    control: pipe::Sender,
    status: pipe::Receiver,
    assignment: pipe::Sender,
}

/// The most a stem's assignment may hold; AWS caps a function's variables at 4 KB.
const MAX_ASSIGNMENT: usize = 128 * 1024;
/// The most entries (variables plus cwd and program) an assignment may hold.
const MAX_ENTRIES: usize = 4096;

/// Descriptors as PID 1 and the waiter see them.
const FD_ASSIGNMENT: RawFd = 3;
const FD_CONTROL: RawFd = 4;
const FD_STATUS: RawFd = 5;
const FD_EXE: RawFd = 6;
/// The pipe from the sandbox's init to its waiter (see `init.rs`).
const FD_REPORT_READ: RawFd = 7;
pub(crate) const FD_REPORT_WRITE: RawFd = 8;

/// A pipe whose ends sit at descriptor 10 or above, so that moving them down to 3, 4 and 5
/// in the child never overwrites one with another.
fn high_pipe() -> io::Result<(OwnedFd, OwnedFd)> {
    let mut fds = [0; 2];
    // SAFETY: pipe2 writes two descriptors into the array we own.
    check(unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) })?;
    let high = |fd: RawFd| -> io::Result<OwnedFd> {
        // SAFETY: `fd` was just created and is owned here; F_DUPFD_CLOEXEC creates a new one.
        let low = unsafe { OwnedFd::from_raw_fd(fd) };
        let new = unsafe { libc::fcntl(low.as_raw_fd(), libc::F_DUPFD_CLOEXEC, 10) };
        if new < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: `new` is a fresh descriptor nobody else owns.
        Ok(unsafe { OwnedFd::from_raw_fd(new) })
    };
    Ok((high(fds[0])?, high(fds[1])?))
}

/// Reads exactly `buf.len()` bytes or reports end of file.
///
/// # Safety
/// Between fork and exec: system calls only.
unsafe fn read_full(fd: RawFd, buf: &mut [u8]) -> bool {
    let mut at = 0;
    while at < buf.len() {
        let n = libc::read(fd, buf[at..].as_mut_ptr().cast(), buf.len() - at);
        if n == 0 {
            return false;
        }
        if n < 0 {
            if *libc::__errno_location() == libc::EINTR {
                continue;
            }
            return false;
        }
        at += n as usize;
    }
    true
}

/// Reads until end of file into `buf`; the number of bytes, or `None` if it did not fit.
///
/// # Safety
/// Between fork and exec: system calls only.
unsafe fn read_to_end(fd: RawFd, buf: &mut [u8]) -> Option<usize> {
    let mut at = 0;
    loop {
        if at == buf.len() {
            return None;
        }
        let n = libc::read(fd, buf[at..].as_mut_ptr().cast(), buf.len() - at);
        if n == 0 {
            return Some(at);
        }
        if n < 0 {
            if *libc::__errno_location() == libc::EINTR {
                continue;
            }
            return None;
        }
        at += n as usize;
    }
}

/// The waiter's part after PID 1 is forked: wait for the view, report ready, make the
/// assignment's mounts, then wait for PID 1 for good.
///
/// # Safety
/// Between fork and exec: system calls only, on the stack.
pub(crate) unsafe fn waiter(pid1: libc::pid_t, view_ready: RawFd, report: RawFd) -> ! {
    let mut byte = [0u8; 1];
    let built = read_full(view_ready, &mut byte);
    libc::close(view_ready);
    if !built {
        // PID 1 failed before its view was up: end the way it ended.
        view::wait_and_mirror(pid1, report);
    }
    let status = |code: u8, errno: i32| {
        let mut msg = [0u8; 5];
        msg[0] = code;
        msg[1..].copy_from_slice(&errno.to_le_bytes());
        libc::write(FD_STATUS, msg.as_ptr().cast(), msg.len());
    };
    status(b'R', 0);
    // The mounts: keep flags (8 bytes), writable (1), then source, target, the /tmp options
    // (a tmpfs's new size), the /tmp device (a new disk) and its reserve file, each
    // NUL-terminated and the last three (or all but the options) empty.
    let mut msg = [0u8; 8192];
    let Some(len) = read_to_end(FD_CONTROL, &mut msg) else {
        libc::kill(pid1, libc::SIGKILL);
        view::wait_and_mirror(pid1, report);
    };
    let mut fields: [&[u8]; 5] = [&[]; 5];
    let mut ok = len > 9;
    let mut at = 9;
    for field in fields.iter_mut() {
        if !ok {
            break;
        }
        match msg[at..len].iter().position(|b| *b == 0) {
            Some(end) => {
                *field = &msg[at..=at + end];
                at += end + 1;
            }
            None => ok = false,
        }
    }
    if !ok {
        // lambent let the stem go unassigned (or sent nonsense): end it.
        libc::kill(pid1, libc::SIGKILL);
        view::wait_and_mirror(pid1, report);
    }
    let mut keep = [0u8; 8];
    keep.copy_from_slice(&msg[..8]);
    let keep = u64::from_le_bytes(keep) as libc::c_ulong;
    let writable = msg[8] != 0;
    fn cstr(b: &[u8]) -> &std::ffi::CStr {
        std::ffi::CStr::from_bytes_with_nul(b).unwrap_or(c"")
    }
    let (source, target) = (cstr(fields[0]), cstr(fields[1]));
    let (tmp_options, tmp_device, reserve) = (cstr(fields[2]), cstr(fields[3]), cstr(fields[4]));
    let none: *const libc::c_char = std::ptr::null();
    let result = view::bind(source, target, writable, keep)
        .and_then(|()| {
            if !tmp_options.is_empty() {
                check(libc::mount(
                    none,
                    c"/tmp".as_ptr(),
                    none,
                    libc::MS_REMOUNT | libc::MS_NOSUID | libc::MS_NODEV,
                    tmp_options.as_ptr().cast(),
                ))
            } else if !tmp_device.is_empty() {
                check(libc::umount2(c"/tmp".as_ptr(), libc::MNT_DETACH))?;
                view::mount_disk(tmp_device, c"/tmp", c"/tmp/lost+found", reserve)
            } else {
                Ok(())
            }
        })
        .and_then(|()| check(libc::umount2(c"/.host".as_ptr(), libc::MNT_DETACH)))
        .and_then(|()| check(libc::rmdir(c"/.host".as_ptr())));
    match result {
        Ok(()) => status(b'M', 0),
        Err(e) => {
            status(b'E', e.raw_os_error().unwrap_or(libc::EIO));
            libc::kill(pid1, libc::SIGKILL);
        }
    }
    view::wait_and_mirror(pid1, report)
}

/// In the waiter, between fork and exec: move the pipes to their numbers, enter the
/// namespaces, fork PID 1 (which returns, to build the view and exec) and become the waiter.
///
/// # Safety
/// Between fork and exec: system calls only, on memory prepared before the fork.
unsafe fn enter(p: &Prepared, fds: [RawFd; 5]) -> io::Result<()> {
    // The waiter re-executes from lambent's binary (see `waiter.rs`): keep it at 6, first,
    // before 3 to 5 are overwritten (the pipes are at 10 and above).
    let exe = match p.exe() {
        Some(FD_EXE) => Some(FD_EXE),
        Some(exe) if libc::dup3(exe, FD_EXE, libc::O_CLOEXEC) == FD_EXE => Some(FD_EXE),
        _ => None,
    };
    let numbers = [
        FD_ASSIGNMENT,
        FD_CONTROL,
        FD_STATUS,
        FD_REPORT_READ,
        FD_REPORT_WRITE,
    ];
    for (from, to) in fds.into_iter().zip(numbers) {
        if libc::dup2(from, to) < 0 {
            return Err(io::Error::last_os_error());
        }
    }
    // The report pipe stays open only where it is wanted (the init's exec clears the flag).
    libc::fcntl(FD_REPORT_READ, libc::F_SETFD, libc::FD_CLOEXEC);
    libc::fcntl(FD_REPORT_WRITE, libc::F_SETFD, libc::FD_CLOEXEC);
    // Nothing of lambent's stays open in the stem: its sockets, files, other pipes.
    if exe.is_none() {
        libc::close(FD_EXE);
    }
    libc::syscall(
        libc::SYS_close_range,
        (FD_REPORT_WRITE + 1) as u32,
        u32::MAX,
        0u32,
    );
    check(libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL))?;
    view::unshare(p)?;
    let mut ready = [0; 2];
    check(libc::pipe2(ready.as_mut_ptr(), libc::O_CLOEXEC))?;
    match libc::fork() {
        -1 => Err(io::Error::last_os_error()),
        0 => {
            libc::close(ready[0]);
            libc::close(FD_CONTROL);
            libc::close(FD_STATUS);
            libc::close(FD_REPORT_READ);
            view::build(p, true)?;
            view::drop_privileges(p)?;
            libc::write(ready[1], b"V".as_ptr().cast(), 1);
            libc::close(ready[1]);
            Ok(())
        }
        pid1 => {
            libc::close(ready[1]);
            libc::close(FD_ASSIGNMENT);
            libc::close(FD_REPORT_WRITE);
            if let Some(exe) = exe {
                // The executed waiter needs the view's ready pipe and the init's report;
                // lambent's binary no more.
                libc::fcntl(ready[0], libc::F_SETFD, 0);
                libc::fcntl(FD_REPORT_READ, libc::F_SETFD, 0);
                crate::waiter::exec(
                    exe,
                    crate::waiter::Mode::Stem,
                    pid1,
                    [ready[0], FD_REPORT_READ],
                );
            }
            waiter(pid1, ready[0], FD_REPORT_READ)
        }
    }
}

/// In PID 1 of a stem started without a program: wait for the assignment and `execve` it.
///
/// # Safety
/// Between fork and exec: system calls only, on the buffers allocated before the fork.
unsafe fn exec_assigned(buf: &mut [u8], entries: &mut [usize]) -> io::Result<()> {
    let room = buf.len() - 1;
    let Some(len) = read_to_end(FD_ASSIGNMENT, &mut buf[..room]) else {
        libc::_exit(126);
    };
    libc::close(FD_ASSIGNMENT);
    if len == 0 {
        // Let go unassigned.
        libc::_exit(0);
    }
    buf[len] = 0;
    let mut n = 0;
    let mut start = 0;
    for i in 0..len {
        if buf[i] == 0 {
            if n == entries.len() - 1 {
                libc::_exit(126);
            }
            entries[n] = buf.as_ptr().add(start) as usize;
            n += 1;
            start = i + 1;
        }
    }
    if n < 2 {
        libc::_exit(126);
    }
    entries[n] = 0;
    let cwd = entries[0] as *const libc::c_char;
    let program = entries[1] as *const libc::c_char;
    check(libc::chdir(cwd))?;
    let argv = [program, std::ptr::null()];
    let envp = entries[2..].as_ptr() as *const *const libc::c_char;
    libc::execve(program, argv.as_ptr(), envp);
    Err(io::Error::last_os_error())
}

impl Stem {
    /// Starts a stem and waits until its view is built. Blocking (milliseconds): run it on a
    /// [`crate::Spawner`] thread, whose life the stem's parent-death signal is tied to.
    pub fn spawn(
        spec: &StemSpec,
        isolation: Isolation,
        group: Option<Arc<Cgroup>>,
    ) -> io::Result<Stem> {
        if !isolation.view() {
            return Err(io::Error::new(
                io::ErrorKind::Unsupported,
                "stems need a view (namespaces)",
            ));
        }
        let mut prepared = spec.view.prepare()?;
        // Attached until PID 1 has mounted it (it says so with `R`, below).
        let disk = prepared.take_disk();
        // Where PID 1 finds lambent's binary to start the init from (see `enter`).
        let exe = prepared.exe().map(|_| FD_EXE);
        let (assign_rx, assign_tx) = high_pipe()?;
        let (control_rx, control_tx) = high_pipe()?;
        let (status_rx, status_tx) = high_pipe()?;
        let (report_rx, report_tx) = high_pipe()?;
        let (tx, output) = pipe::pipe()?;
        let out = tx.into_blocking_fd()?;
        let err = out.try_clone()?;
        let (program, args): (PathBuf, Vec<OsString>) = match &spec.program {
            Some((program, args)) => (program.clone(), args.clone()),
            // Never exec'ed: PID 1 execs the assigned program itself.
            None => ("/".into(), vec![]),
        };
        let mut cmd = tokio::process::Command::new(&program);
        cmd.args(&args)
            .env_clear()
            .envs(spec.env.iter().map(|(k, v)| (k, v)))
            .current_dir("/")
            .stdin(Stdio::null())
            .stdout(Stdio::from(out))
            .stderr(Stdio::from(err))
            .process_group(0)
            .kill_on_drop(true);
        let procs_files = group.as_ref().map(|g| g.procs_files()).unwrap_or_default();
        let fds = [
            assign_rx.as_raw_fd(),
            control_rx.as_raw_fd(),
            status_tx.as_raw_fd(),
            report_rx.as_raw_fd(),
            report_tx.as_raw_fd(),
        ];
        // SAFETY: each closure only makes system calls on data prepared above (C strings,
        // compiled filters, buffers allocated before the fork).
        unsafe {
            cmd.pre_exec(move || crate::enter(&procs_files));
            cmd.pre_exec(move || enter(&prepared, fds));
            let filters = seccomp::programs()?;
            cmd.pre_exec(move || seccomp::install(&filters));
            cmd.pre_exec(|| check(libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL)));
            // PID 1 becomes the init; its child goes on to be the stem's program.
            cmd.pre_exec(move || crate::init::split(FD_REPORT_WRITE, exe));
            if spec.program.is_none() {
                let mut buf = vec![0u8; MAX_ASSIGNMENT];
                let mut entries = vec![0usize; MAX_ENTRIES];
                cmd.pre_exec(move || exec_assigned(&mut buf, &mut entries));
            }
        }
        let child = cmd.spawn()?;
        drop((assign_rx, control_rx, status_tx, report_rx, report_tx));
        let pid = child
            .id()
            .and_then(|p| i32::try_from(p).ok())
            .ok_or_else(|| io::Error::other("spawned stem has no pid"))?;
        let sandbox = Sandbox {
            child,
            killer: Killer {
                pgid: pid,
                group,
                watch: None,
            },
        };
        // The waiter says `R` once PID 1 has built the view (end of file: it failed).
        let mut ready = [0u8; 5];
        let status_fd = status_rx.as_raw_fd();
        // SAFETY: a blocking read into a stack buffer from a descriptor we own.
        let got = unsafe { read_full(status_fd, &mut ready) };
        drop(disk);
        if !got || ready[0] != b'R' {
            sandbox.killer.destroy();
            return Err(io::Error::other("the stem's view could not be built"));
        }
        let scratch = spec
            .view
            .scratch
            .clone()
            .filter(|_| !spec.view.user_namespace);
        Ok(Stem {
            sandbox,
            tmp_bytes: spec.view.tmp_bytes,
            scratch,
            output,
            control: pipe::Sender::from_owned_fd(control_tx)?,
            status: pipe::Receiver::from_owned_fd(status_rx)?,
            assignment: pipe::Sender::from_owned_fd(assign_tx)?,
        })
    }

    /// Whether the stem is still there to be assigned.
    pub fn alive(&mut self) -> bool {
        matches!(self.sandbox.child.try_wait(), Ok(None))
    }

    /// A handle that kills the stem, and later the sandbox it becomes.
    pub fn killer(&self) -> Killer {
        self.sandbox.killer.clone()
    }

    /// Turns the stem into the sandbox `a` describes: mounts, then the assignment to PID 1.
    /// Returns the sandbox and the read end of its joined output, as [`crate::spawn`] does.
    pub async fn assign(mut self, a: &Assignment) -> io::Result<(Sandbox, pipe::Receiver)> {
        let mut body = Vec::with_capacity(4096);
        for part in [
            a.cwd.as_os_str().as_bytes(),
            a.program.as_os_str().as_bytes(),
        ] {
            if part.contains(&0) {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    "path with a NUL byte",
                ));
            }
            body.extend_from_slice(part);
            body.push(0);
        }
        for (k, v) in &a.env {
            body.extend_from_slice(k.as_bytes());
            body.push(b'=');
            body.extend_from_slice(v.as_bytes());
            body.push(0);
        }
        let nul_free = a
            .env
            .iter()
            .all(|(k, v)| !k.contains('\0') && !v.contains('\0'));
        if !nul_free || body.len() >= MAX_ASSIGNMENT || a.env.len() + 3 > MAX_ENTRIES {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "assignment too large or with a NUL byte",
            ));
        }
        let relative = a
            .bind
            .source
            .strip_prefix("/")
            .unwrap_or(a.bind.source.as_path());
        let source = view::cstr(&PathBuf::from(view::HOST_DIR).join(relative))?;
        let keep = view::locked_flags(&a.bind.source)? as u64;
        let mut msg = Vec::with_capacity(256);
        msg.extend_from_slice(&keep.to_le_bytes());
        msg.push(u8::from(a.bind.writable));
        msg.extend_from_slice(source.as_bytes_with_nul());
        msg.extend_from_slice(view::cstr(&a.bind.target)?.as_bytes_with_nul());
        // `/tmp`: a tmpfs is remounted at its new size; a disk of another size is replaced by
        // a new one (on the host's tree as the waiter sees it), held until it is mounted.
        let mut disk = None;
        match &self.scratch {
            None => {
                msg.extend_from_slice(
                    format!("size={},mode=1777\0", a.tmp_bytes.max(4096)).as_bytes(),
                );
                msg.extend_from_slice(&[0, 0]);
            }
            Some(_) if a.tmp_bytes == self.tmp_bytes => msg.extend_from_slice(&[0, 0, 0]),
            Some(disks) => {
                let (disks, bytes) = (disks.clone(), a.tmp_bytes);
                let made = tokio::task::spawn_blocking(move || disks.create(bytes))
                    .await
                    .map_err(io::Error::other)??;
                let device = PathBuf::from(view::HOST_DIR)
                    .join(made.path().strip_prefix("/").unwrap_or(made.path()));
                let host = std::path::Path::new(view::HOST_DIR).join("sys");
                msg.push(0);
                msg.extend_from_slice(view::cstr(&device)?.as_bytes_with_nul());
                msg.extend_from_slice(view::reserve_file(&host, made.path())?.as_bytes_with_nul());
                disk = Some(made);
            }
        }
        self.control.write_all(&msg).await?;
        drop(self.control);
        if let (Some(group), Some(limits)) = (&self.sandbox.killer.group, &a.limits) {
            group.apply(limits)?;
        }
        let mut status = [0u8; 5];
        self.status
            .read_exact(&mut status)
            .await
            .map_err(|_| io::Error::other("the stem ended before its mounts were made"))?;
        drop(disk);
        if status[0] != b'M' {
            let mut errno = [0u8; 4];
            errno.copy_from_slice(&status[1..]);
            return Err(io::Error::from_raw_os_error(i32::from_le_bytes(errno)));
        }
        self.assignment.write_all(&body).await?;
        drop(self.assignment);
        if self.sandbox.killer.group.is_none() {
            if let Some(limit) = a.memory_limit {
                self.sandbox.killer.watch = Some(watchdog::spawn(self.sandbox.killer.pgid, limit));
            }
        }
        Ok((self.sandbox, self.output))
    }
}
