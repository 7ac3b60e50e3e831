//! The filesystem a sandbox sees, and who it runs as.
//!
//! A view is a fresh root: an empty tmpfs into which the host's system directories, the
//! interpreters and the sandbox's own code are bind-mounted read-only, with a private,
//! size-capped `/tmp` and, in a PID namespace of its own, a `/proc` that shows only the
//! sandbox's processes (when its first process ends, the kernel ends them all). The sandbox pivots into it, so lambent's data
//! directory, its credentials, other sandboxes' code and `/tmp`, and the host's `/tmp` do not
//! exist for it. It then drops to an unprivileged user of its own and `no_new_privs`.
//!
//! Everything the child does between fork and exec is prepared here, in the parent, as
//! C strings and plain data: the child only makes system calls.

use std::ffi::CString;
use std::io;
use std::os::fd::RawFd;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

/// One host path mounted into the view.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bind {
    pub source: PathBuf,
    /// Absolute path inside the view.
    pub target: PathBuf,
    pub writable: bool,
}

/// What a sandbox sees and who it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct View {
    /// An empty directory lambent owns; the view's root is mounted on it.
    pub root: PathBuf,
    pub binds: Vec<Bind>,
    /// Size of the private `/tmp`, in bytes.
    pub tmp_bytes: u64,
    /// Where `/tmp` is a disk of its own; without, it is a tmpfs (memory, counted against the
    /// sandbox's memory cap). Not honoured in a user namespace, which cannot mount one.
    pub scratch: Option<crate::ScratchDisks>,
    /// Working directory inside the view.
    pub cwd: PathBuf,
    /// The user the sandbox runs as (root only; see `user_namespace`).
    pub uid: u32,
    pub gid: u32,
    /// Build the view inside a user namespace of its own, as an unprivileged lambent must:
    /// the sandbox is then "root" of that namespace only, with every capability dropped,
    /// instead of `uid`.
    pub user_namespace: bool,
    /// Empty directories in the view, for mounts made after it is built (a stem's code).
    pub mount_points: Vec<PathBuf>,
}

/// The host directories every view gets read-only: enough to run interpreters and
/// dynamically linked programs, nothing of lambent's.
pub const SYSTEM_DIRS: &[&str] = &[
    "/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc",
];

/// Where a stem's view keeps the host's tree until its assignment's mounts are made.
pub(crate) const HOST_DIR: &str = "/.host";

/// Device nodes every view gets.
const DEVICES: &[&str] = &[
    "/dev/null",
    "/dev/zero",
    "/dev/full",
    "/dev/random",
    "/dev/urandom",
];

enum Step {
    /// Create a directory (its parents come earlier in the list).
    Mkdir(CString),
    /// Create an empty file to mount a file on.
    Touch(CString),
    Symlink {
        target: CString,
        link: CString,
    },
    Bind {
        source: CString,
        target: CString,
        writable: bool,
        /// Flags the source mount has that a remount must keep (locked in a user namespace).
        keep: libc::c_ulong,
    },
    Tmpfs {
        target: CString,
        options: CString,
    },
    /// Mount a scratch disk (see `scratch.rs`) for anyone to write, without `lost+found`.
    Disk {
        device: CString,
        target: CString,
        lost_found: CString,
        reserve: CString,
    },
    Proc(CString),
}

/// A view turned into the child's system calls.
pub(crate) struct Prepared {
    root: CString,
    /// `<root>/.host`: where a stem keeps the host's tree until it is assigned.
    host: CString,
    root_options: CString,
    steps: Vec<Step>,
    cwd: CString,
    uid: u32,
    gid: u32,
    /// The executable the waiter re-executes as (see `waiter.rs`), if there is one.
    exe: Option<std::os::fd::RawFd>,
    /// `/proc/self/{uid,gid}_map` lines mapping root of the new user namespace to lambent's
    /// own user, when there is one.
    maps: Option<(CString, CString)>,
    /// The disk `/tmp` is mounted from: the caller keeps it until the child has mounted it.
    disk: Option<crate::ScratchDisk>,
}

/// The mount flags of the filesystem holding `path` that a bind remount must keep.
pub(crate) fn locked_flags(path: &Path) -> io::Result<libc::c_ulong> {
    let c = cstr(path)?;
    // SAFETY: `statvfs` writes into the zeroed struct we own; `c` is a valid C string.
    let mut st: libc::statvfs = unsafe { std::mem::zeroed() };
    if unsafe { libc::statvfs(c.as_ptr(), &mut st) } != 0 {
        return Err(io::Error::last_os_error());
    }
    let mut keep = 0;
    for (st_flag, ms_flag) in [
        (libc::ST_NOSUID, libc::MS_NOSUID),
        (libc::ST_NODEV, libc::MS_NODEV),
        (libc::ST_NOEXEC, libc::MS_NOEXEC),
        (libc::ST_NOATIME, libc::MS_NOATIME),
        (libc::ST_NODIRATIME, libc::MS_NODIRATIME),
        (libc::ST_RELATIME, libc::MS_RELATIME),
    ] {
        if st.f_flag & st_flag != 0 {
            keep |= ms_flag;
        }
    }
    Ok(keep)
}

pub(crate) fn cstr(p: &Path) -> io::Result<CString> {
    CString::new(p.as_os_str().as_bytes())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "path with a NUL byte"))
}

impl Prepared {
    pub(crate) fn exe(&self) -> Option<std::os::fd::RawFd> {
        self.exe
    }

    /// The disk of the view's `/tmp`, to hold until the child has mounted it.
    pub(crate) fn take_disk(&mut self) -> Option<crate::ScratchDisk> {
        self.disk.take()
    }
}

/// Mount options of a scratch disk: its inode tables are zeroed already (a template's), so
/// no kernel thread should zero them again.
pub(crate) const DISK_OPTIONS: &std::ffi::CStr = c"noinit_itable";

/// In a child, root in its mount namespace: mounts the scratch disk `device` on `target`,
/// writable by all (sticky, as `/tmp` is), and empty. `reserve` is the filesystem's
/// `reserved_clusters` in sysfs: ext4 keeps 2% (at most 16 MB) from everyone by default,
/// which a scratch disk sized to what its user may write has no use for.
///
/// # Safety
/// Between fork and exec: system calls only.
pub(crate) unsafe fn mount_disk(
    device: &std::ffi::CStr,
    target: &std::ffi::CStr,
    lost_found: &std::ffi::CStr,
    reserve: &std::ffi::CStr,
) -> io::Result<()> {
    check(libc::mount(
        device.as_ptr(),
        target.as_ptr(),
        c"ext4".as_ptr(),
        libc::MS_NOSUID | libc::MS_NODEV,
        DISK_OPTIONS.as_ptr().cast(),
    ))?;
    check(libc::chmod(target.as_ptr(), 0o1777))?;
    libc::rmdir(lost_found.as_ptr());
    // Best effort: without it the disk holds its reserve less.
    let _ = write_file(reserve, c"0");
    Ok(())
}

/// Where the kernel shows a scratch disk's reserve: `<sys>/fs/ext4/<device name>/...`.
pub(crate) fn reserve_file(sys: &Path, device: &Path) -> io::Result<CString> {
    let name = device
        .file_name()
        .ok_or_else(|| io::Error::other("a loop device without a name"))?;
    cstr(&sys.join("fs/ext4").join(name).join("reserved_clusters"))
}

impl View {
    /// Turns the view into steps, reading the host (which paths exist, which are links).
    pub(crate) fn prepare(&self) -> io::Result<Prepared> {
        let mut steps = Vec::new();
        let mut made: Vec<PathBuf> = Vec::new();
        let root = &self.root;
        let inside = |p: &Path| root.join(p.strip_prefix("/").unwrap_or(p));
        let mut mkdirs = |p: &Path, steps: &mut Vec<Step>| -> io::Result<()> {
            let mut chain: Vec<&Path> = p.ancestors().filter(|a| *a != Path::new("/")).collect();
            chain.reverse();
            for dir in chain {
                if !made.iter().any(|m| m == dir) {
                    made.push(dir.to_path_buf());
                    steps.push(Step::Mkdir(cstr(&inside(dir))?));
                }
            }
            Ok(())
        };
        let mut binds: Vec<Bind> = SYSTEM_DIRS
            .iter()
            .map(|d| Bind {
                source: d.into(),
                target: d.into(),
                writable: false,
            })
            .chain(DEVICES.iter().map(|d| Bind {
                source: d.into(),
                target: d.into(),
                writable: true,
            }))
            .collect();
        binds.extend(self.binds.iter().cloned());
        // The private `/tmp` first: a bind whose host path is under `/tmp` (an interpreter
        // in a virtualenv there) is then mounted on top of it, not hidden by it.
        mkdirs(Path::new("/tmp"), &mut steps)?;
        let tmp = inside(Path::new("/tmp"));
        let disk = match &self.scratch {
            Some(disks) if !self.user_namespace => Some(disks.create(self.tmp_bytes)?),
            _ => None,
        };
        match &disk {
            Some(disk) => steps.push(Step::Disk {
                device: cstr(disk.path())?,
                target: cstr(&tmp)?,
                lost_found: cstr(&tmp.join("lost+found"))?,
                reserve: reserve_file(Path::new("/sys"), disk.path())?,
            }),
            None => steps.push(Step::Tmpfs {
                target: cstr(&tmp)?,
                options: CString::new(format!("size={},mode=1777", self.tmp_bytes.max(4096)))
                    .map_err(|_| io::Error::other("tmpfs options"))?,
            }),
        }
        for b in &binds {
            let meta = match std::fs::symlink_metadata(&b.source) {
                Ok(m) => m,
                Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                Err(e) => return Err(e),
            };
            if meta.file_type().is_symlink() {
                let target = std::fs::read_link(&b.source)?;
                if let Some(parent) = b.target.parent() {
                    mkdirs(parent, &mut steps)?;
                }
                steps.push(Step::Symlink {
                    target: cstr(&target)?,
                    link: cstr(&inside(&b.target))?,
                });
                continue;
            }
            if meta.is_dir() {
                mkdirs(&b.target, &mut steps)?;
            } else {
                if let Some(parent) = b.target.parent() {
                    mkdirs(parent, &mut steps)?;
                }
                steps.push(Step::Touch(cstr(&inside(&b.target))?));
            }
            steps.push(Step::Bind {
                source: cstr(&b.source)?,
                target: cstr(&inside(&b.target))?,
                writable: b.writable,
                keep: locked_flags(&b.source)?,
            });
        }
        for dir in &self.mount_points {
            mkdirs(dir, &mut steps)?;
        }
        mkdirs(Path::new("/proc"), &mut steps)?;
        steps.push(Step::Proc(cstr(&inside(Path::new("/proc")))?));
        Ok(Prepared {
            root: cstr(root)?,
            host: cstr(&root.join(HOST_DIR.trim_start_matches('/')))?,
            root_options: CString::new("size=16m,mode=0755")
                .map_err(|_| io::Error::other("opts"))?,
            steps,
            cwd: cstr(&self.cwd)?,
            uid: self.uid,
            gid: self.gid,
            exe: crate::waiter::exe(),
            maps: if self.user_namespace {
                // SAFETY: getuid and getgid have no preconditions.
                let (uid, gid) = unsafe { (libc::getuid(), libc::getgid()) };
                let line = |id: u32| CString::new(format!("0 {id} 1")).map_err(io::Error::other);
                Some((line(uid)?, line(gid)?))
            } else {
                None
            },
            disk,
        })
    }
}

/// The waiter's whole life: hold no file but stdio and the init's `report` pipe (so the
/// spawner learns of the exec from the child alone), wait for PID 1, and end the way the
/// runtime ended: as the init reported it, or as PID 1 itself ended (killed from outside, or
/// a sandbox without an init).
///
/// # Safety
/// Runs between fork and exec: only system calls.
pub(crate) unsafe fn wait_and_mirror(child: libc::pid_t, report: RawFd) -> ! {
    crate::init::close_all_but(report);
    let mut status = 0;
    loop {
        let r = libc::waitpid(child, &mut status, 0);
        if r == child {
            break;
        }
        if r == -1 && *libc::__errno_location() != libc::EINTR {
            libc::_exit(127);
        }
    }
    let status = crate::init::runtime_status(report, status);
    if libc::WIFSIGNALED(status) {
        let sig = libc::WTERMSIG(status);
        libc::signal(sig, libc::SIG_DFL);
        // A core dump of the waiter would be nobody's (and could reach the host's core
        // handler): a process that is not dumpable dumps none.
        libc::prctl(libc::PR_SET_DUMPABLE, 0, 0, 0, 0);
        libc::kill(libc::getpid(), sig);
    }
    libc::_exit(if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else {
        127
    })
}

pub(crate) fn check(ret: libc::c_int) -> io::Result<()> {
    if ret == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// In the child, before exec: build the view, pivot into it, drop privileges. `report` is
/// the pipe from the sandbox's init to its waiter (`[-1, -1]`: none).
///
/// # Safety
/// Runs between fork and exec: only system calls, on memory prepared before the fork.
pub(crate) unsafe fn enter(p: &Prepared, report: [RawFd; 2]) -> io::Result<()> {
    unshare(p)?;
    // A new PID namespace takes effect for children only: fork once more. The child becomes
    // PID 1 of the namespace and goes on to exec; this process stays behind as its waiter,
    // so that the pid lambent holds exits when the function does, with the same status.
    let [read, write] = report;
    match libc::fork() {
        -1 => return Err(io::Error::last_os_error()),
        0 => {
            if read >= 0 {
                libc::close(read);
            }
        }
        child => {
            if write >= 0 {
                libc::close(write);
            }
            if let Some(exe) = p.exe {
                if read >= 0 {
                    libc::fcntl(read, libc::F_SETFD, 0);
                }
                crate::waiter::exec(exe, crate::waiter::Mode::Plain, child, [read, -1]);
            }
            wait_and_mirror(child, read)
        }
    }
    build(p, false)?;
    drop_privileges(p)
}

/// Enters the new namespaces (user namespace first, when there is one). The PID namespace
/// applies to the children forked after this.
///
/// # Safety
/// Between fork and exec: system calls only.
pub(crate) unsafe fn unshare(p: &Prepared) -> io::Result<()> {
    if let Some((uid_map, gid_map)) = &p.maps {
        // First the user namespace, mapped, so the others belong to it and files it creates
        // have an owner.
        check(libc::unshare(libc::CLONE_NEWUSER))?;
        write_file(c"/proc/self/setgroups", c"deny")?;
        write_file(c"/proc/self/uid_map", uid_map)?;
        write_file(c"/proc/self/gid_map", gid_map)?;
    }
    check(libc::unshare(
        libc::CLONE_NEWNS | libc::CLONE_NEWIPC | libc::CLONE_NEWUTS | libc::CLONE_NEWPID,
    ))
}

/// Builds the view and pivots into it, as PID 1 of the new PID namespace (its `/proc` shows
/// that namespace). `keep_host`: the host's tree stays reachable at [`HOST_DIR`] (a stem's
/// waiter makes its late mounts from it, then lets it go); otherwise it is let go now.
///
/// # Safety
/// Between fork and exec: system calls only.
pub(crate) unsafe fn build(p: &Prepared, keep_host: bool) -> io::Result<()> {
    let none: *const libc::c_char = std::ptr::null();
    let nodata: *const libc::c_void = std::ptr::null();
    // Nothing done in here may propagate back to the host's mounts.
    check(libc::mount(
        none,
        c"/".as_ptr(),
        none,
        libc::MS_REC | libc::MS_PRIVATE,
        nodata,
    ))?;
    check(libc::mount(
        c"tmpfs".as_ptr(),
        p.root.as_ptr(),
        c"tmpfs".as_ptr(),
        libc::MS_NOSUID | libc::MS_NODEV,
        p.root_options.as_ptr().cast(),
    ))?;
    for step in &p.steps {
        match step {
            Step::Mkdir(path) => {
                if libc::mkdir(path.as_ptr(), 0o755) != 0
                    && *libc::__errno_location() != libc::EEXIST
                {
                    return Err(io::Error::last_os_error());
                }
            }
            Step::Touch(path) => {
                let fd = libc::open(
                    path.as_ptr(),
                    libc::O_CREAT | libc::O_WRONLY | libc::O_CLOEXEC,
                    0o644,
                );
                if fd < 0 {
                    return Err(io::Error::last_os_error());
                }
                libc::close(fd);
            }
            Step::Symlink { target, link } => check(libc::symlink(target.as_ptr(), link.as_ptr()))?,
            Step::Bind {
                source,
                target,
                writable,
                keep,
            } => bind(source, target, *writable, *keep)?,
            Step::Tmpfs { target, options } => check(libc::mount(
                c"tmpfs".as_ptr(),
                target.as_ptr(),
                c"tmpfs".as_ptr(),
                libc::MS_NOSUID | libc::MS_NODEV,
                options.as_ptr().cast(),
            ))?,
            Step::Disk {
                device,
                target,
                lost_found,
                reserve,
            } => mount_disk(device, target, lost_found, reserve)?,
            Step::Proc(target) => check(libc::mount(
                c"proc".as_ptr(),
                target.as_ptr(),
                c"proc".as_ptr(),
                libc::MS_NOSUID | libc::MS_NODEV | libc::MS_NOEXEC,
                nodata,
            ))?,
        }
    }
    // The view becomes "/": pivot onto it and let the host's tree go (or keep it aside).
    check(libc::chdir(p.root.as_ptr()))?;
    if keep_host {
        check(libc::mkdir(p.host.as_ptr(), 0o700))?;
        if libc::syscall(libc::SYS_pivot_root, c".".as_ptr(), c".host".as_ptr()) != 0 {
            return Err(io::Error::last_os_error());
        }
    } else {
        if libc::syscall(libc::SYS_pivot_root, c".".as_ptr(), c".".as_ptr()) != 0 {
            return Err(io::Error::last_os_error());
        }
        check(libc::umount2(c".".as_ptr(), libc::MNT_DETACH))?;
    }
    check(libc::chdir(p.cwd.as_ptr()))
}

/// Bind-mounts `source` on `target`, read-only unless `writable`, never set-uid.
///
/// # Safety
/// Between fork and exec: system calls only.
pub(crate) unsafe fn bind(
    source: &std::ffi::CStr,
    target: &std::ffi::CStr,
    writable: bool,
    keep: libc::c_ulong,
) -> io::Result<()> {
    let none: *const libc::c_char = std::ptr::null();
    let nodata: *const libc::c_void = std::ptr::null();
    check(libc::mount(
        source.as_ptr(),
        target.as_ptr(),
        none,
        libc::MS_BIND | libc::MS_REC,
        nodata,
    ))?;
    let mut flags = libc::MS_BIND | libc::MS_REMOUNT | libc::MS_NOSUID | keep;
    if !writable {
        flags |= libc::MS_RDONLY;
    }
    check(libc::mount(none, target.as_ptr(), none, flags, nodata))
}

/// Drops to the sandbox's user (or, in a user namespace, every capability) for good.
///
/// # Safety
/// Between fork and exec: system calls only.
pub(crate) unsafe fn drop_privileges(p: &Prepared) -> io::Result<()> {
    if p.maps.is_some() {
        // Root of its own user namespace only: give up every capability even there.
        drop_capabilities()?;
    } else {
        // Drop to the sandbox's own user: no capability, no way back.
        check(libc::setgroups(0, std::ptr::null()))?;
        check(libc::setgid(p.gid))?;
        check(libc::setuid(p.uid))?;
    }
    check(libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
}

/// Writes `data` to a procfs file.
///
/// # Safety
/// Between fork and exec: system calls only.
unsafe fn write_file(path: &std::ffi::CStr, data: &std::ffi::CStr) -> io::Result<()> {
    let fd = libc::open(path.as_ptr(), libc::O_WRONLY | libc::O_CLOEXEC);
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    let bytes = data.to_bytes();
    let n = libc::write(fd, bytes.as_ptr().cast(), bytes.len());
    libc::close(fd);
    if n != bytes.len() as isize {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

#[repr(C)]
struct CapHeader {
    version: u32,
    pid: libc::c_int,
}

#[repr(C)]
#[derive(Clone, Copy)]
struct CapData {
    effective: u32,
    permitted: u32,
    inheritable: u32,
}

/// Empties the effective, permitted and inheritable capability sets.
///
/// # Safety
/// Between fork and exec: one system call on stack memory.
unsafe fn drop_capabilities() -> io::Result<()> {
    const VERSION_3: u32 = 0x2008_0522;
    let mut header = CapHeader {
        version: VERSION_3,
        pid: 0,
    };
    let data = [CapData {
        effective: 0,
        permitted: 0,
        inheritable: 0,
    }; 2];
    if libc::syscall(libc::SYS_capset, &mut header, data.as_ptr()) != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}
