//! Disk-backed `/tmp`: each sandbox gets an ext4 filesystem of its own, on a loop device over
//! a file in a directory the caller names (under lambent's data directory).
//!
//! A tmpfs `/tmp` is memory: its pages are charged to the sandbox's memory cgroup, so a 128 MB
//! function could never fill AWS's 512 MB of `/tmp`. A filesystem on disk is storage: its size
//! and inode count are fixed when it is made (`ENOSPC` inside, as on AWS), and its page cache
//! is ordinary reclaimable cache.
//!
//! Making one must cost next to nothing on a cold start, so `mke2fs` runs once per size: the
//! *template*, an empty filesystem image, sparse, with its space calibrated so that what a
//! function can write is the size asked for. A disk is a sparse copy of the template (a few
//! hundred KB of metadata), attached to a free loop device with direct I/O (no second copy
//! of the pages in the backing file's cache) and `autoclear`, and its file is unlinked at
//! once: the loop device holds the only reference, the mount inside the sandbox holds the
//! loop device, and when the sandbox's mount namespace ends, all of it is gone, also after
//! a `kill -9` of lambent. Nothing is left to wipe.

use std::collections::HashMap;
use std::ffi::CString;
use std::fs::File;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::fs::{FileExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

const MIB: u64 = 1024 * 1024;
/// One inode per this many bytes of `/tmp`: 32,768 files in AWS's default 512 MB.
const BYTES_PER_INODE: u64 = 16 * 1024;
/// What a disk may fall short of its asked-for size by (ext4's metadata is estimated).
const TOLERANCE: u64 = MIB;

// <linux/loop.h>
const LOOP_CTL_GET_FREE: libc::c_ulong = 0x4C82;
const LOOP_CONFIGURE: libc::c_ulong = 0x4C0A;
const LO_FLAGS_AUTOCLEAR: u32 = 4;
const LO_FLAGS_DIRECT_IO: u32 = 16;

#[repr(C)]
struct LoopInfo64 {
    lo_device: u64,
    lo_inode: u64,
    lo_rdevice: u64,
    lo_offset: u64,
    lo_sizelimit: u64,
    lo_number: u32,
    lo_encrypt_type: u32,
    lo_encrypt_key_size: u32,
    lo_flags: u32,
    lo_file_name: [u8; 64],
    lo_crypt_name: [u8; 64],
    lo_encrypt_key: [u8; 32],
    lo_init: [u64; 2],
}

#[repr(C)]
struct LoopConfig {
    fd: u32,
    block_size: u32,
    info: LoopInfo64,
    reserved: [u64; 8],
}

/// Makes disks for sandboxes' `/tmp`. A cheap-clone handle; templates are made once per size
/// (the mutex is held while one is made, so two cold starts of one size make it once).
#[derive(Clone)]
pub struct ScratchDisks {
    inner: Arc<Inner>,
}

struct Inner {
    dir: PathBuf,
    mke2fs: PathBuf,
    templates: Mutex<HashMap<u64, PathBuf>>,
    next: AtomicU64,
}

impl std::fmt::Debug for ScratchDisks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScratchDisks")
            .field("dir", &self.inner.dir)
            .finish()
    }
}

impl PartialEq for ScratchDisks {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }
}

impl Eq for ScratchDisks {}

/// A disk attached to a loop device, ready to be mounted. Dropping it lets the device go
/// once nothing has it mounted.
#[derive(Debug)]
pub struct ScratchDisk {
    /// Held open: an autoclear device without a mount goes when its last descriptor closes.
    _device: OwnedFd,
    path: PathBuf,
}

impl ScratchDisk {
    /// The loop device, `/dev/loopN`.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl ScratchDisks {
    /// Disks under `dir`, which is emptied (whatever is there is a dead run's). Fails, with a
    /// reason, where the host cannot make them (no loop devices, no `mke2fs`, not root):
    /// `probe_bytes` is made and attached once to be sure.
    pub fn open(dir: &Path, probe_bytes: u64) -> Result<ScratchDisks, String> {
        File::options()
            .read(true)
            .write(true)
            .open("/dev/loop-control")
            .map_err(|e| format!("/dev/loop-control: {e}"))?;
        let mke2fs = ["/usr/sbin/mke2fs", "/sbin/mke2fs", "/usr/bin/mke2fs"]
            .iter()
            .map(PathBuf::from)
            .find(|p| p.is_file())
            .ok_or("mke2fs was not found (Debian: e2fsprogs)")?;
        if dir.exists() {
            std::fs::remove_dir_all(dir).map_err(|e| format!("emptying {}: {e}", dir.display()))?;
        }
        std::fs::create_dir_all(dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
        let disks = ScratchDisks {
            inner: Arc::new(Inner {
                dir: dir.to_path_buf(),
                mke2fs,
                templates: Mutex::new(HashMap::new()),
                next: AtomicU64::new(0),
            }),
        };
        disks
            .create(probe_bytes)
            .map_err(|e| format!("making a disk: {e}"))?;
        Ok(disks)
    }

    /// A new, empty disk of which `bytes` can be written. Blocking (a millisecond or two; the
    /// first of a size runs `mke2fs`).
    pub fn create(&self, bytes: u64) -> io::Result<ScratchDisk> {
        let bytes = bytes.max(MIB).div_ceil(MIB) * MIB;
        let template = self.template(bytes)?;
        let n = self.inner.next.fetch_add(1, Ordering::Relaxed);
        let path = self
            .inner
            .dir
            .join(format!("disk-{}-{n}.img", std::process::id()));
        let file = copy_sparse(&template, &path);
        // The loop device keeps the file; its name is not needed, and must not outlive it.
        let _ = std::fs::remove_file(&path);
        attach(&file?)
    }

    /// The template of `bytes`, made now if it is the first of its size.
    fn template(&self, bytes: u64) -> io::Result<PathBuf> {
        let mut templates = self
            .inner
            .templates
            .lock()
            .map_err(|_| io::Error::other("a template maker panicked"))?;
        if let Some(path) = templates.get(&bytes) {
            return Ok(path.clone());
        }
        let path = self
            .inner
            .dir
            .join(format!("template-{}m.img", bytes / MIB));
        let tmp = path.with_extension("tmp");
        let inodes = (bytes / BYTES_PER_INODE).max(1024);
        // ext4's own metadata (inode tables, bitmaps) comes on top of what the function may
        // write; estimate, then correct by what mke2fs reports. (The clusters ext4 keeps in
        // reserve are given up when a disk is mounted: see `view::mount_disk`.)
        let mut image = bytes + inodes * 256 + 4 * MIB;
        for _ in 0..4 {
            make_filesystem(&self.inner.mke2fs, &tmp, image, inodes)?;
            let avail = available(&tmp)?;
            if avail <= bytes && avail + TOLERANCE >= bytes {
                std::fs::rename(&tmp, &path)?;
                templates.insert(bytes, path.clone());
                return Ok(path);
            }
            let want = bytes - TOLERANCE / 2;
            image = (image + want).saturating_sub(avail).div_ceil(4096) * 4096;
        }
        let _ = std::fs::remove_file(&tmp);
        Err(io::Error::other(format!(
            "could not size a filesystem of {} MB",
            bytes / MIB
        )))
    }
}

/// Runs `mke2fs` on a new sparse file of `image` bytes: ext4 without a journal (scratch space
/// needs none), no blocks kept for root or for growing, `inodes` inodes.
fn make_filesystem(mke2fs: &Path, path: &Path, image: u64, inodes: u64) -> io::Result<()> {
    let _ = std::fs::remove_file(path);
    File::options()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?
        .set_len(image)?;
    let out = std::process::Command::new(mke2fs)
        .args(["-q", "-F", "-t", "ext4", "-b", "4096", "-m", "0"])
        .args(["-O", "^has_journal,^resize_inode"])
        .args(["-E", "lazy_itable_init=1,nodiscard"])
        .arg("-N")
        .arg(inodes.to_string())
        .arg(path)
        .env_clear()
        .stdin(std::process::Stdio::null())
        .output()?;
    if !out.status.success() {
        return Err(io::Error::other(format!(
            "mke2fs: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    Ok(())
}

/// What a file system image lets a user write, from its superblock: its free blocks (none
/// are reserved for root, and the mount gives up ext4's own reserve).
fn available(image: &Path) -> io::Result<u64> {
    let mut sb = [0u8; 1024];
    File::open(image)?.read_exact_at(&mut sb, 1024)?;
    let word = |at: usize| {
        u64::from(u32::from_le_bytes([
            sb[at],
            sb[at + 1],
            sb[at + 2],
            sb[at + 3],
        ]))
    };
    if u16::from_le_bytes([sb[56], sb[57]]) != 0xEF53 {
        return Err(io::Error::other("mke2fs wrote no ext4 superblock"));
    }
    let reserved = word(8);
    let free = word(12);
    let block_size = 1024u64 << word(24);
    Ok(free.saturating_sub(reserved) * block_size)
}

/// Copies `from` to a new file `to`, only the ranges that hold data; the holes stay holes.
fn copy_sparse(from: &Path, to: &Path) -> io::Result<File> {
    let src = File::open(from)?;
    let dst = File::options()
        .read(true)
        .write(true)
        .create_new(true)
        .mode(0o600)
        .custom_flags(libc::O_CLOEXEC)
        .open(to)?;
    let len = src.metadata()?.len();
    let (s, d) = (src.as_raw_fd(), dst.as_raw_fd());
    let mut at: libc::off_t = 0;
    while (at as u64) < len {
        // SAFETY: lseek on a descriptor we own; no memory is involved.
        let data = unsafe { libc::lseek(s, at, libc::SEEK_DATA) };
        if data < 0 {
            if io::Error::last_os_error().raw_os_error() == Some(libc::ENXIO) {
                break; // only a hole is left
            }
            return Err(io::Error::last_os_error());
        }
        // SAFETY: as above.
        let hole = unsafe { libc::lseek(s, data, libc::SEEK_HOLE) };
        if hole < 0 {
            return Err(io::Error::last_os_error());
        }
        let (mut off_in, mut off_out) = (data, data);
        while off_in < hole {
            // SAFETY: copy_file_range between two descriptors we own; the offsets are ours.
            let n = unsafe {
                libc::copy_file_range(s, &mut off_in, d, &mut off_out, (hole - off_in) as usize, 0)
            };
            if n < 0 {
                return Err(io::Error::last_os_error());
            }
            if n == 0 {
                return Err(io::Error::other("the template shrank while copied"));
            }
        }
        at = hole;
    }
    dst.set_len(len)?;
    Ok(dst)
}

/// Attaches `file` to a free loop device, with direct I/O where the host allows it.
fn attach(file: &File) -> io::Result<ScratchDisk> {
    let control = File::options()
        .read(true)
        .write(true)
        .custom_flags(libc::O_CLOEXEC)
        .open("/dev/loop-control")?;
    let mut direct = true;
    for _ in 0..32 {
        // SAFETY: an ioctl without arguments on a descriptor we own.
        let n = unsafe { libc::ioctl(control.as_raw_fd(), LOOP_CTL_GET_FREE as _) };
        if n < 0 {
            return Err(io::Error::last_os_error());
        }
        let path = PathBuf::from(format!("/dev/loop{n}"));
        let c = CString::new(path.as_os_str().as_encoded_bytes())
            .map_err(|_| io::Error::other("loop device path"))?;
        // SAFETY: open with a valid C string; the descriptor is owned below.
        let fd = unsafe { libc::open(c.as_ptr(), libc::O_RDWR | libc::O_CLOEXEC) };
        if fd < 0 {
            let e = io::Error::last_os_error();
            if e.kind() == io::ErrorKind::NotFound {
                continue; // taken and removed meanwhile
            }
            return Err(e);
        }
        // SAFETY: `fd` was just opened and is owned by nobody else.
        let device = unsafe { OwnedFd::from_raw_fd(fd) };
        // SAFETY: LoopConfig is plain integers and byte arrays: all zeros is a valid value.
        let mut config: LoopConfig = unsafe { std::mem::zeroed() };
        config.fd = file.as_raw_fd() as u32;
        config.block_size = if direct { 4096 } else { 0 };
        config.info.lo_flags = LO_FLAGS_AUTOCLEAR | if direct { LO_FLAGS_DIRECT_IO } else { 0 };
        // SAFETY: LOOP_CONFIGURE reads the struct we own for the duration of the call.
        let r = unsafe { libc::ioctl(device.as_raw_fd(), LOOP_CONFIGURE as _, &config) };
        if r == 0 {
            return Ok(ScratchDisk {
                _device: device,
                path,
            });
        }
        match io::Error::last_os_error().raw_os_error() {
            // Another process took that device first.
            Some(libc::EBUSY) => continue,
            Some(libc::EINVAL) if direct => direct = false,
            _ => return Err(io::Error::last_os_error()),
        }
    }
    Err(io::Error::other("no free loop device"))
}
