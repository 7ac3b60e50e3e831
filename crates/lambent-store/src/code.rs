//! Function code archives: hashing and safe unpacking of a deployment package (zip).
//!
//! [`unpack`] treats the archive as hostile. It validates the whole central directory before it
//! touches the file system, then extracts into a fresh sibling directory `<dest>.tmp-<pid>-<n>`
//! and renames that into place, so a failure leaves nothing behind and no byte ever lands
//! outside the code directory.
//!
//! What is rejected (each with its own [`CodeError`] variant):
//!
//! * bytes that are not a zip, an empty input and an archive without entries;
//! * encrypted entries (ZipCrypto or AES) and compression methods other than stored/deflate;
//! * unsafe names: empty, NUL bytes, absolute (`/x`, `\x`), drive letters (`C:`), any `..`
//!   component (`/` and `\` both count as separators), a component over 255 bytes or a path
//!   over [`MAX_PATH_BYTES`];
//! * two entries that name the same path (`a`, `./a` and `a/` all name `a`), and entries that
//!   would have to be created inside a file or a symlink entry;
//! * more than [`UnpackLimits::max_entries`] entries (the directories the paths imply are
//!   counted separately against the same limit);
//! * more than [`UnpackLimits::max_unzipped_bytes`] once inflated. Inflated bytes are counted as
//!   they are read, so a zip bomb with a lying header stops at the limit; the declared sizes are
//!   also summed up front to fail fast, and a file whose real size differs from its declared
//!   size is corrupt.
//!
//! Symlinks: relative links that stay inside the code directory are kept (runtimes and native
//! libraries ship them, e.g. `libfoo.so -> libfoo.so.1`); absolute targets and targets that
//! climb out are rejected. To make that check sound without looking at the disk, a target must
//! be canonical — its `..` components all come first, and there may be no more of them than
//! the link's depth — no entry may live under a symlink entry, and links are created last.
//! Then every resolution step starts from a real directory inside the tree and never climbs
//! above it.
//!
//! Resulting permissions: directories `0755`, files `0555` when the entry's Unix mode has any
//! execute bit (a `bootstrap` stays executable) and `0444` otherwise; setuid, setgid and sticky
//! bits are never set. Files are created with `create_new` and made read-only as soon as they
//! are written, so functions cannot modify shared code; directories stay owner-writable so the
//! store can delete the tree with [`std::fs::remove_dir_all`].
//!
//! This module is Unix-only (modes and symlinks).

use std::collections::HashSet;
use std::ffi::OsStr;
use std::fs::{self, File, OpenOptions, Permissions};
use std::io::{self, Cursor, Read, Write};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use sha2::{Digest, Sha256};
use zip::{CompressionMethod, ZipArchive};

/// Lambda's quota on a function's unzipped deployment package, in bytes.
pub const MAX_UNZIPPED_BYTES: u64 = 262_144_000;
/// Default cap on the number of entries in a deployment package.
pub const MAX_ENTRIES: usize = 20_000;
/// Longest accepted entry path once normalized, in bytes.
pub const MAX_PATH_BYTES: usize = 2048;
/// Longest accepted path component, in bytes (Linux `NAME_MAX`).
pub const MAX_COMPONENT_BYTES: usize = 255;
/// Longest accepted symlink target, in bytes (Linux `PATH_MAX` less the NUL).
pub const MAX_SYMLINK_TARGET_BYTES: usize = 4095;

const AWS_CANNOT_UNZIP: &str =
    "Could not unzip uploaded file. Please check your file, then try to upload again.";

/// An archive read straight from the uploaded bytes.
type Archive<'a> = ZipArchive<Cursor<&'a [u8]>>;

const S_IFMT: u32 = 0o170_000;
const S_IFDIR: u32 = 0o040_000;
const S_IFLNK: u32 = 0o120_000;

/// Limits applied while unpacking.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnpackLimits {
    /// Total inflated size of all entries (file contents and symlink targets).
    pub max_unzipped_bytes: u64,
    /// Entries in the archive; the directories their paths imply are counted separately
    /// against the same number.
    pub max_entries: usize,
}

impl Default for UnpackLimits {
    fn default() -> Self {
        UnpackLimits {
            max_unzipped_bytes: MAX_UNZIPPED_BYTES,
            max_entries: MAX_ENTRIES,
        }
    }
}

/// What [`unpack`] extracted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unpacked {
    /// Inflated bytes written: file contents plus symlink targets.
    pub unzipped_bytes: u64,
    /// Entries in the archive (files, directories and symlinks).
    pub entries: usize,
}

/// Why a code archive was refused, named after the step that failed.
///
/// Every variant but [`CodeError::DestinationExists`] and [`CodeError::Io`] is the client's
/// fault (see [`CodeError::is_client_error`]); [`CodeError::message`] gives the text to return.
#[derive(Debug, thiserror::Error)]
pub enum CodeError {
    #[error("not a zip archive: {reason}")]
    NotAZip { reason: String },
    #[error("zip archive is empty")]
    Empty,
    #[error("entry {name:?} is encrypted")]
    Encrypted { name: String },
    #[error("entry {name:?} uses unsupported compression method {method}")]
    UnsupportedCompression { name: String, method: String },
    #[error("entry {name:?} is corrupt: {reason}")]
    Corrupt { name: String, reason: String },
    #[error("entry {name:?} has an unsafe path")]
    UnsafePath { name: String },
    #[error("entry {name:?} appears more than once")]
    Duplicate { name: String },
    #[error("entry {name:?} lies under a file or symlink entry")]
    PathConflict { name: String },
    #[error("more than {limit} entries")]
    TooManyEntries { limit: usize },
    #[error("unzipped size exceeds {limit} bytes")]
    TooLarge { limit: u64 },
    #[error("symlink {name:?} -> {target:?} is absolute or points outside the code directory")]
    Symlink { name: String, target: String },
    #[error("destination {} already exists", path.display())]
    DestinationExists { path: PathBuf },
    #[error("{step}: {source}")]
    Io {
        step: &'static str,
        #[source]
        source: io::Error,
    },
}

impl CodeError {
    /// The message for the API's `InvalidParameterValueException`, worded like AWS.
    pub fn message(&self) -> String {
        use CodeError::*;
        match self {
            NotAZip { .. } | UnsupportedCompression { .. } | Corrupt { .. } => {
                AWS_CANNOT_UNZIP.to_string()
            }
            Empty => "Uploaded file must be a non-empty zip".to_string(),
            Encrypted { name } => format!(
                "Could not unzip uploaded file. Entry {} is encrypted; \
                 encrypted zip files are not supported.",
                shown(name)
            ),
            UnsafePath { name } => format!(
                "Could not unzip uploaded file. Entry {} has an invalid path: paths must be \
                 relative, without '..' components or NUL characters, and at most {} bytes.",
                shown(name),
                MAX_PATH_BYTES
            ),
            Duplicate { name } => format!(
                "Could not unzip uploaded file. Entry {} appears more than once.",
                shown(name)
            ),
            PathConflict { name } => format!(
                "Could not unzip uploaded file. Entry {} lies under a file or symbolic link.",
                shown(name)
            ),
            TooManyEntries { limit } => format!(
                "Could not unzip uploaded file. The file must contain at most {limit} entries."
            ),
            TooLarge { limit } => format!("Unzipped size must be smaller than {limit} bytes"),
            Symlink { name, target } => format!(
                "Could not unzip uploaded file. Symbolic link {} points to {}, which is \
                 absolute or outside the function's code.",
                shown(name),
                shown(target)
            ),
            DestinationExists { .. } | Io { .. } => {
                "An internal error occurred while unpacking the function's code.".to_string()
            }
        }
    }

    /// Whether the archive is at fault (HTTP 400) rather than the server.
    pub fn is_client_error(&self) -> bool {
        !matches!(
            self,
            CodeError::DestinationExists { .. } | CodeError::Io { .. }
        )
    }
}

/// Quote a name for a message: escaped and cut to a readable length.
fn shown(name: &str) -> String {
    const MAX: usize = 200;
    let escaped: String = name.escape_debug().collect();
    match escaped.char_indices().nth(MAX) {
        Some((cut, _)) => format!("'{}...'", &escaped[..cut]),
        None => format!("'{escaped}'"),
    }
}

fn io_err(step: &'static str) -> impl FnOnce(io::Error) -> CodeError {
    move |source| CodeError::Io { step, source }
}

/// SHA-256 of the zip bytes, base64 — Lambda's `CodeSha256`.
pub fn code_sha256_b64(zip: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(Sha256::digest(zip))
}

/// SHA-256 of the zip bytes, lowercase hex — for file names.
pub fn code_sha256_hex(zip: &[u8]) -> String {
    hex::encode(Sha256::digest(zip))
}

/// Validate `zip` and extract it into `dest`, which must not exist yet (its parent must).
///
/// Extraction happens in a sibling `<dest>.tmp-<pid>-<n>` that is renamed to `dest` at the
/// end and removed on any failure. See the module documentation for what is refused.
pub fn unpack(zip: &[u8], dest: &Path, limits: &UnpackLimits) -> Result<Unpacked, CodeError> {
    let (mut archive, plan) = plan(zip, limits)?;

    match fs::symlink_metadata(dest) {
        Ok(_) => {
            return Err(CodeError::DestinationExists {
                path: dest.to_path_buf(),
            })
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(io_err("check destination")(e)),
    }
    let tmp = make_temp_dir(dest)?;
    let result = extract(&mut archive, &plan, &tmp, limits).and_then(|bytes| {
        fs::rename(&tmp, dest)
            .map(|()| bytes)
            .map_err(io_err("rename into place"))
    });
    match result {
        Ok(unzipped_bytes) => Ok(Unpacked {
            unzipped_bytes,
            entries: plan.entries,
        }),
        Err(e) => {
            // Directories stay owner-writable, so read-only files do not stop this.
            let _ = fs::remove_dir_all(&tmp);
            Err(e)
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Dir,
    File { exec: bool },
    Symlink,
}

/// One entry to create, with its normalized path.
#[derive(Debug)]
struct Planned {
    index: usize,
    name: String,
    /// Normalized components joined by NUL: byte order is component-wise path order.
    key: Vec<u8>,
    kind: Kind,
    /// Validated target, for symlinks.
    target: Option<Vec<u8>>,
}

impl Planned {
    fn rel_path(&self) -> PathBuf {
        self.key
            .split(|&b| b == 0)
            .map(|c| std::str::from_utf8(c).expect("components come from a str"))
            .collect()
    }
}

#[derive(Debug)]
struct Plan {
    /// Sorted by `key`, so every parent comes before its children.
    items: Vec<Planned>,
    entries: usize,
}

/// Check the archive from its central directory (and symlink targets) without touching disk.
fn plan<'a>(zip: &'a [u8], limits: &UnpackLimits) -> Result<(Archive<'a>, Plan), CodeError> {
    if zip.is_empty() {
        return Err(CodeError::Empty);
    }
    let mut archive = ZipArchive::new(Cursor::new(zip)).map_err(|e| CodeError::NotAZip {
        reason: e.to_string(),
    })?;
    let entries = archive.len();
    if entries == 0 {
        return Err(CodeError::Empty);
    }
    if entries > limits.max_entries {
        return Err(CodeError::TooManyEntries {
            limit: limits.max_entries,
        });
    }
    check_raw_central_directory(zip, archive.central_directory_start(), entries)?;

    let mut items = Vec::with_capacity(entries);
    let mut declared: u64 = 0;
    for index in 0..entries {
        let name = archive
            .name_for_index(index)
            .unwrap_or_default()
            .to_string();
        let entry = archive.by_index_raw(index).map_err(|e| corrupt(&name, e))?;
        if entry.encrypted() {
            return Err(CodeError::Encrypted { name });
        }
        let method = entry.compression();
        if method != CompressionMethod::Stored && method != CompressionMethod::Deflated {
            return Err(CodeError::UnsupportedCompression {
                name,
                method: format!("{method:?}"),
            });
        }
        if entry.name_raw().contains(&0) {
            return Err(CodeError::UnsafePath { name });
        }
        let mode = entry.unix_mode().unwrap_or(0);
        let kind = if mode & S_IFMT == S_IFLNK {
            Kind::Symlink
        } else if mode & S_IFMT == S_IFDIR || name.ends_with('/') || name.ends_with('\\') {
            Kind::Dir
        } else {
            Kind::File {
                exec: mode & 0o111 != 0,
            }
        };
        if kind != Kind::Dir {
            declared = declared.saturating_add(entry.size());
        }
        let size = entry.size();
        drop(entry);

        let Some(components) = normalize(&name) else {
            return Err(CodeError::UnsafePath { name });
        };
        if components.is_empty() {
            if kind == Kind::Dir {
                continue; // "./": the code directory itself
            }
            return Err(CodeError::UnsafePath { name });
        }
        let target = if kind == Kind::Symlink {
            let depth = components.len() - 1;
            Some(read_symlink_target(
                &mut archive,
                index,
                &name,
                size,
                depth,
            )?)
        } else {
            None
        };
        items.push(Planned {
            index,
            key: components.join("\0").into_bytes(),
            name,
            kind,
            target,
        });
    }
    if declared > limits.max_unzipped_bytes {
        return Err(CodeError::TooLarge {
            limit: limits.max_unzipped_bytes,
        });
    }

    // Component-wise order: a path's descendants follow it directly, so duplicates and
    // entries under a non-directory show up between neighbours.
    items.sort_by(|a, b| a.key.cmp(&b.key));
    let mut implied_dirs = 0usize;
    for i in 0..items.len() {
        let item = &items[i];
        let depth = item.key.iter().filter(|&&b| b == 0).count() + 1;
        let shared = match i.checked_sub(1).map(|p| &items[p]) {
            None => 0,
            Some(prev) if prev.key == item.key => {
                return Err(CodeError::Duplicate {
                    name: item.name.clone(),
                })
            }
            Some(prev) => {
                if is_component_prefix(&prev.key, &item.key) && prev.kind != Kind::Dir {
                    return Err(CodeError::PathConflict {
                        name: item.name.clone(),
                    });
                }
                common_components(&prev.key, &item.key)
            }
        };
        // Ancestors of `item` not already an ancestor of (or equal to) `prev`.
        implied_dirs += (depth - 1).saturating_sub(shared);
        if implied_dirs > limits.max_entries {
            return Err(CodeError::TooManyEntries {
                limit: limits.max_entries,
            });
        }
    }
    Ok((archive, Plan { items, entries }))
}

/// The zip crate keys entries by name and silently keeps one of two same-named entries, so
/// walk the central directory ourselves: it must hold exactly `expected` distinct raw names.
fn check_raw_central_directory(zip: &[u8], start: u64, expected: usize) -> Result<(), CodeError> {
    let u16_at = |at: usize| u16::from_le_bytes([zip[at], zip[at + 1]]) as usize;
    let mut seen: HashSet<&[u8]> = HashSet::with_capacity(expected);
    let mut pos = usize::try_from(start).unwrap_or(usize::MAX);
    let mut count = 0usize;
    while pos
        .checked_add(46)
        .is_some_and(|end| end <= zip.len() && zip[pos..pos + 4] == *b"PK\x01\x02")
    {
        let name_len = u16_at(pos + 28);
        let rest = name_len + u16_at(pos + 30) + u16_at(pos + 32);
        let name_end = pos + 46 + name_len;
        if name_end > zip.len() {
            break;
        }
        let name = &zip[pos + 46..name_end];
        if !seen.insert(name) {
            return Err(CodeError::Duplicate {
                name: String::from_utf8_lossy(name).into_owned(),
            });
        }
        count += 1;
        pos += 46 + rest;
    }
    if count != expected {
        return Err(CodeError::NotAZip {
            reason: format!(
                "central directory holds {count} entries, the archive lists {expected}"
            ),
        });
    }
    Ok(())
}

/// Split an entry name into safe components (`/` and `\` both separate; empty and `.`
/// components drop out). `None` if the name is unsafe.
fn normalize(name: &str) -> Option<Vec<&str>> {
    if name.is_empty() || name.contains('\0') || name.starts_with(['/', '\\']) {
        return None;
    }
    let mut components = Vec::new();
    let mut len = 0usize;
    for (i, c) in name.split(['/', '\\']).enumerate() {
        let b = c.as_bytes();
        if i == 0 && b.len() >= 2 && b[0].is_ascii_alphabetic() && b[1] == b':' {
            return None; // drive letter: "C:", "C:foo"
        }
        match c {
            "" | "." => continue,
            ".." => return None,
            _ if c.len() > MAX_COMPONENT_BYTES => return None,
            _ => {}
        }
        len += c.len() + usize::from(!components.is_empty());
        if len > MAX_PATH_BYTES {
            return None;
        }
        components.push(c);
    }
    Some(components)
}

fn is_component_prefix(parent: &[u8], child: &[u8]) -> bool {
    child.len() > parent.len() && child.starts_with(parent) && child[parent.len()] == 0
}

/// Number of leading components two NUL-joined keys share.
fn common_components(a: &[u8], b: &[u8]) -> usize {
    let mut shared = 0;
    let (mut ai, mut bi) = (a.split(|&x| x == 0), b.split(|&x| x == 0));
    while let (Some(x), Some(y)) = (ai.next(), bi.next()) {
        if x != y {
            break;
        }
        shared += 1;
    }
    shared
}

/// Read and validate a symlink's target; `depth` is the number of directories above the link.
fn read_symlink_target(
    archive: &mut Archive<'_>,
    index: usize,
    name: &str,
    declared: u64,
    depth: usize,
) -> Result<Vec<u8>, CodeError> {
    let bad = |target: &[u8]| CodeError::Symlink {
        name: name.to_string(),
        target: String::from_utf8_lossy(target).into_owned(),
    };
    let mut entry = archive.by_index(index).map_err(|e| corrupt(name, e))?;
    let mut target = Vec::new();
    (&mut entry)
        .take(MAX_SYMLINK_TARGET_BYTES as u64 + 1)
        .read_to_end(&mut target)
        .map_err(|e| corrupt(name, e))?;
    if target.len() > MAX_SYMLINK_TARGET_BYTES {
        return Err(bad(&target[..64]));
    }
    if target.len() as u64 != declared {
        return Err(corrupt(name, "size differs from the declared size"));
    }
    if !symlink_target_is_safe(&target, depth) {
        return Err(bad(&target));
    }
    Ok(target)
}

/// Relative, canonical (every `..` before any name) and climbing at most `depth` levels.
fn symlink_target_is_safe(target: &[u8], depth: usize) -> bool {
    if target.is_empty() || target[0] == b'/' || target.contains(&0) || target.contains(&b'\\') {
        return false;
    }
    let mut ups = 0usize;
    let mut named = false;
    for c in target.split(|&b| b == b'/') {
        match c {
            b"" | b"." => {}
            b".." if named => return false,
            b".." => ups += 1,
            _ => named = true,
        }
    }
    ups <= depth
}

fn corrupt(name: &str, reason: impl ToString) -> CodeError {
    CodeError::Corrupt {
        name: name.to_string(),
        reason: reason.to_string(),
    }
}

static TEMP_COUNTER: AtomicU64 = AtomicU64::new(0);

/// Create `<dest>.tmp-<pid>-<n>` next to `dest`, mode 0755.
fn make_temp_dir(dest: &Path) -> Result<PathBuf, CodeError> {
    let invalid = || CodeError::Io {
        step: "create temporary directory",
        source: io::Error::new(io::ErrorKind::InvalidInput, "destination has no file name"),
    };
    let file_name = dest.file_name().ok_or_else(invalid)?;
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    for _ in 0..16 {
        let n = TEMP_COUNTER.fetch_add(1, Ordering::Relaxed);
        let mut tmp_name = file_name.to_os_string();
        tmp_name.push(format!(".tmp-{}-{nanos:x}{n}", std::process::id()));
        let tmp = dest.with_file_name(tmp_name);
        match fs::create_dir(&tmp) {
            Ok(()) => {
                if let Err(e) = fs::set_permissions(&tmp, Permissions::from_mode(0o755)) {
                    let _ = fs::remove_dir(&tmp);
                    return Err(io_err("create temporary directory")(e));
                }
                return Ok(tmp);
            }
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(io_err("create temporary directory")(e)),
        }
    }
    Err(CodeError::Io {
        step: "create temporary directory",
        source: io::Error::new(io::ErrorKind::AlreadyExists, "no free temporary name"),
    })
}

/// Create everything in `plan` under the fresh directory `root`; returns the bytes written.
fn extract(
    archive: &mut Archive<'_>,
    plan: &Plan,
    root: &Path,
    limits: &UnpackLimits,
) -> Result<u64, CodeError> {
    let mut dirs: HashSet<PathBuf> = HashSet::new();
    dirs.insert(PathBuf::new());
    let mut total = 0u64;
    let mut buf = vec![0u8; 64 * 1024];

    for item in &plan.items {
        let rel = item.rel_path();
        match item.kind {
            Kind::Dir => make_dirs(root, &rel, &mut dirs)?,
            Kind::Symlink => {
                make_dirs(root, rel.parent().unwrap_or(Path::new("")), &mut dirs)?;
            }
            Kind::File { exec } => {
                make_dirs(root, rel.parent().unwrap_or(Path::new("")), &mut dirs)?;
                let mut out = OpenOptions::new()
                    .write(true)
                    .create_new(true)
                    .mode(0o600)
                    .open(root.join(&rel))
                    .map_err(io_err("create file"))?;
                let mut entry = archive
                    .by_index(item.index)
                    .map_err(|e| corrupt(&item.name, e))?;
                let declared = entry.size();
                let mut written = 0u64;
                loop {
                    let n = match entry.read(&mut buf) {
                        Ok(0) => break,
                        Ok(n) => n,
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                        Err(e) => return Err(corrupt(&item.name, e)),
                    };
                    total += n as u64;
                    if total > limits.max_unzipped_bytes {
                        return Err(CodeError::TooLarge {
                            limit: limits.max_unzipped_bytes,
                        });
                    }
                    out.write_all(&buf[..n]).map_err(io_err("write file"))?;
                    written += n as u64;
                }
                if written != declared {
                    return Err(corrupt(&item.name, "size differs from the declared size"));
                }
                let mode = if exec { 0o555 } else { 0o444 };
                set_file_mode(&out, mode)?;
            }
        }
    }

    // Links last: nothing is ever created through one.
    for item in plan.items.iter().filter(|i| i.kind == Kind::Symlink) {
        let target = item
            .target
            .as_deref()
            .expect("planned symlinks carry a target");
        total += target.len() as u64;
        if total > limits.max_unzipped_bytes {
            return Err(CodeError::TooLarge {
                limit: limits.max_unzipped_bytes,
            });
        }
        std::os::unix::fs::symlink(OsStr::from_bytes(target), root.join(item.rel_path()))
            .map_err(io_err("create symlink"))?;
    }
    Ok(total)
}

fn set_file_mode(file: &File, mode: u32) -> Result<(), CodeError> {
    file.set_permissions(Permissions::from_mode(mode))
        .map_err(io_err("set file permissions"))
}

/// Create `rel` and its missing ancestors under `root`, mode 0755. `dirs` holds what exists.
fn make_dirs(root: &Path, rel: &Path, dirs: &mut HashSet<PathBuf>) -> Result<(), CodeError> {
    let missing: Vec<&Path> = rel.ancestors().take_while(|a| !dirs.contains(*a)).collect();
    for dir in missing.into_iter().rev() {
        let path = root.join(dir);
        fs::create_dir(&path).map_err(io_err("create directory"))?;
        fs::set_permissions(&path, Permissions::from_mode(0o755))
            .map_err(io_err("set directory permissions"))?;
        dirs.insert(dir.to_path_buf());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::MetadataExt;
    use std::sync::OnceLock;
    use zip::unstable::write::FileOptionsExt;
    use zip::write::SimpleFileOptions;
    use zip::ZipWriter;

    const MB: usize = 1 << 20;

    enum E<'a> {
        File(&'a str, &'a [u8], u32),
        Dir(&'a str),
        Link(&'a str, &'a str),
    }

    fn build(entries: &[E]) -> Vec<u8> {
        let mut w = ZipWriter::new(Cursor::new(Vec::new()));
        for e in entries {
            match e {
                E::File(name, data, mode) => {
                    let options = SimpleFileOptions::default().unix_permissions(*mode);
                    w.start_file(*name, options).unwrap();
                    w.write_all(data).unwrap();
                }
                E::Dir(name) => w
                    .add_directory(*name, SimpleFileOptions::default())
                    .unwrap(),
                E::Link(name, target) => w
                    .add_symlink(*name, *target, SimpleFileOptions::default())
                    .unwrap(),
            }
        }
        w.finish().unwrap().into_inner()
    }

    fn files(names: &[&str]) -> Vec<u8> {
        let entries: Vec<E> = names.iter().map(|n| E::File(n, b"x", 0o644)).collect();
        build(&entries)
    }

    // Byte-level access to an archive the writer produced.
    fn u16_at(zip: &[u8], at: usize) -> usize {
        u16::from_le_bytes([zip[at], zip[at + 1]]) as usize
    }
    fn u32_at(zip: &[u8], at: usize) -> usize {
        u32::from_le_bytes(zip[at..at + 4].try_into().unwrap()) as usize
    }
    fn put_u16(zip: &mut [u8], at: usize, v: u16) {
        zip[at..at + 2].copy_from_slice(&v.to_le_bytes());
    }
    fn put_u32(zip: &mut [u8], at: usize, v: u32) {
        zip[at..at + 4].copy_from_slice(&v.to_le_bytes());
    }

    /// (central header offset, local header offset) of every entry, in order.
    fn headers(zip: &[u8]) -> Vec<(usize, usize)> {
        let eocd = zip.windows(4).rposition(|w| w == b"PK\x05\x06").unwrap();
        let mut pos = u32_at(zip, eocd + 16);
        (0..u16_at(zip, eocd + 10))
            .map(|_| {
                assert_eq!(&zip[pos..pos + 4], b"PK\x01\x02");
                let here = (pos, u32_at(zip, pos + 42));
                pos += 46 + u16_at(zip, pos + 28) + u16_at(zip, pos + 30) + u16_at(zip, pos + 32);
                here
            })
            .collect()
    }

    /// Rewrite entry `i`'s name (same length) in both its headers.
    fn rename_entry(zip: &mut [u8], i: usize, name: &[u8]) {
        let (central, local) = headers(zip)[i];
        assert_eq!(u16_at(zip, central + 28), name.len());
        zip[central + 46..central + 46 + name.len()].copy_from_slice(name);
        zip[local + 30..local + 30 + name.len()].copy_from_slice(name);
    }

    /// Claim an uncompressed size for entry `i` in both its headers.
    fn lie_about_size(zip: &mut [u8], i: usize, size: u32) {
        let (central, local) = headers(zip)[i];
        put_u32(zip, central + 24, size);
        put_u32(zip, local + 22, size);
    }

    struct Sandbox {
        _tmp: tempfile::TempDir,
        root: PathBuf,
        dest: PathBuf,
    }

    /// `dest` sits three levels down so that escapes would still land inside `root`.
    fn sandbox() -> Sandbox {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().to_path_buf();
        fs::create_dir_all(root.join("a/b/c")).unwrap();
        let dest = root.join("a/b/c/code");
        Sandbox {
            _tmp: tmp,
            root,
            dest,
        }
    }

    /// Every path under `dir` (not following links), relative, sorted.
    fn tree(dir: &Path) -> Vec<String> {
        fn walk(base: &Path, dir: &Path, out: &mut Vec<String>) {
            for entry in fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                out.push(path.strip_prefix(base).unwrap().display().to_string());
                if fs::symlink_metadata(&path).unwrap().is_dir() {
                    walk(base, &path, out);
                }
            }
        }
        let mut out = Vec::new();
        walk(dir, dir, &mut out);
        out.sort();
        out
    }

    /// Unpack must fail, leave no `dest` and write nothing anywhere in the sandbox.
    fn reject_with(zip: &[u8], limits: &UnpackLimits) -> CodeError {
        let sb = sandbox();
        let err = unpack(zip, &sb.dest, limits).expect_err("hostile archive was accepted");
        assert!(
            fs::symlink_metadata(&sb.dest).is_err(),
            "dest exists after {err:?}"
        );
        assert_eq!(
            tree(&sb.root),
            ["a", "a/b", "a/b/c"],
            "debris after {err:?}"
        );
        assert!(err.is_client_error(), "{err:?}");
        assert!(!err.message().is_empty());
        err
    }

    fn reject(zip: &[u8]) -> CodeError {
        reject_with(zip, &UnpackLimits::default())
    }

    fn mode(path: &Path) -> u32 {
        fs::symlink_metadata(path).unwrap().mode() & 0o7777
    }

    #[test]
    fn sha256_forms() {
        assert_eq!(
            code_sha256_hex(b""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(
            code_sha256_b64(b""),
            "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="
        );
    }

    #[test]
    fn good_archive_round_trips() {
        let bootstrap: &[u8] = b"#!/bin/sh\necho hello\n";
        let zip = build(&[
            E::File("bootstrap", bootstrap, 0o755),
            E::File("handler.py", b"def handler(e, c): return e\n", 0o644),
            E::Dir("lib/"),
            E::File("lib/libfoo.so.1", b"\x7fELF", 0o755),
            E::Link("lib/libfoo.so", "libfoo.so.1"),
            E::File("lib/python/pkg/__init__.py", b"", 0o600),
            E::Link("lib/python/boot", "../../bootstrap"),
            E::File("docs\\readme.txt", b"windows separators", 0o644),
            E::File("./dot/file", b"dot", 0o644),
        ]);
        let sb = sandbox();
        let got = unpack(&zip, &sb.dest, &UnpackLimits::default()).unwrap();
        let d = &sb.dest;
        assert_eq!(got.entries, 9);
        // Contents, then the two link targets.
        let bytes =
            bootstrap.len() + 28 + 4 + 18 + 3 + "libfoo.so.1".len() + "../../bootstrap".len();
        assert_eq!(got.unzipped_bytes, bytes as u64);

        assert_eq!(fs::read(d.join("bootstrap")).unwrap(), bootstrap);
        assert_eq!(
            fs::read(d.join("docs/readme.txt")).unwrap(),
            b"windows separators"
        );
        assert_eq!(fs::read(d.join("dot/file")).unwrap(), b"dot");
        assert_eq!(fs::read(d.join("lib/python/pkg/__init__.py")).unwrap(), b"");
        assert_eq!(
            fs::read_link(d.join("lib/libfoo.so")).unwrap(),
            Path::new("libfoo.so.1")
        );
        assert_eq!(fs::read(d.join("lib/libfoo.so")).unwrap(), b"\x7fELF");
        assert_eq!(fs::read(d.join("lib/python/boot")).unwrap(), bootstrap);

        assert_eq!(mode(&d.join("bootstrap")), 0o555);
        assert_eq!(mode(&d.join("lib/libfoo.so.1")), 0o555);
        assert_eq!(mode(&d.join("handler.py")), 0o444);
        assert_eq!(mode(&d.join("lib/python/pkg/__init__.py")), 0o444);
        for dir in ["", "lib", "lib/python", "lib/python/pkg", "docs", "dot"] {
            assert_eq!(mode(&d.join(dir)), 0o755, "{dir}");
        }
        // Renamed into place: no temporary directory is left beside it.
        assert_eq!(tree(&sb.root.join("a/b/c"))[0], "code");
        assert!(tree(&sb.root.join("a/b/c"))
            .iter()
            .all(|p| p.starts_with("code")));
        // Read-only files do not stop the store from deleting the tree.
        fs::remove_dir_all(d).unwrap();
    }

    #[test]
    fn special_mode_bits_are_dropped() {
        let mut zip = build(&[
            E::File("bootstrap", b"#!/bin/sh\n", 0o755),
            E::File("data", b"x", 0o644),
        ]);
        for (i, perm) in [(0, 0o107_755u32), (1, 0o103_666)] {
            let (central, _) = headers(&zip)[i];
            put_u32(&mut zip, central + 38, perm << 16);
        }
        let sb = sandbox();
        unpack(&zip, &sb.dest, &UnpackLimits::default()).unwrap();
        assert_eq!(mode(&sb.dest.join("bootstrap")), 0o555);
        assert_eq!(mode(&sb.dest.join("data")), 0o444);
    }

    #[test]
    fn root_directory_entry_is_ignored() {
        let zip = build(&[E::Dir("./"), E::File("a", b"a", 0o644)]);
        let sb = sandbox();
        let got = unpack(&zip, &sb.dest, &UnpackLimits::default()).unwrap();
        assert_eq!(got.entries, 2);
        assert_eq!(tree(&sb.dest), ["a"]);
    }

    #[test]
    fn not_a_zip() {
        let err = reject(b"this is plainly not a zip archive, just some text");
        assert!(matches!(err, CodeError::NotAZip { .. }), "{err:?}");
        assert_eq!(err.message(), AWS_CANNOT_UNZIP);
    }

    #[test]
    fn empty_bytes() {
        let err = reject(b"");
        assert!(matches!(err, CodeError::Empty), "{err:?}");
    }

    #[test]
    fn empty_archive() {
        let err = reject(&build(&[]));
        assert!(matches!(err, CodeError::Empty), "{err:?}");
    }

    #[test]
    fn unsafe_paths() {
        for name in [
            "../x",
            "/etc/x",
            "..\\x",
            "a/../../x",
            "a\\..\\..\\x",
            "ok/../x",
            "a\0b",
            "C:/x",
            "c:\\x",
            "\\x",
            "",
        ] {
            let zip = build(&[E::File("fine", b"x", 0o644), E::File(name, b"x", 0o644)]);
            let err = reject(&zip);
            assert!(
                matches!(&err, CodeError::UnsafePath { name: n } if n == name),
                "{name:?}: {err:?}"
            );
        }
        let long = "d/".repeat(MAX_PATH_BYTES / 2) + "x";
        let err = reject(&files(&[&long]));
        assert!(matches!(err, CodeError::UnsafePath { .. }), "{err:?}");
        let err = reject(&files(&[&"n".repeat(MAX_COMPONENT_BYTES + 1)]));
        assert!(matches!(err, CodeError::UnsafePath { .. }), "{err:?}");
    }

    #[test]
    fn unsafe_directory_entries() {
        for name in ["../d/", "/d/", "a/../../d/"] {
            let err = reject(&build(&[E::Dir(name)]));
            assert!(
                matches!(err, CodeError::UnsafePath { .. }),
                "{name:?}: {err:?}"
            );
        }
    }

    #[test]
    fn duplicate_names() {
        // The writer refuses duplicates, so rename "ab" to "aa" in place.
        let mut zip = files(&["aa", "ab"]);
        rename_entry(&mut zip, 1, b"aa");
        let err = reject(&zip);
        assert!(
            matches!(&err, CodeError::Duplicate { name } if name == "aa"),
            "{err:?}"
        );

        for pair in [["a", "./a"], ["a/b", "a//b"], ["a/b", "a\\b"]] {
            let err = reject(&files(&pair));
            assert!(
                matches!(err, CodeError::Duplicate { .. }),
                "{pair:?}: {err:?}"
            );
        }
        let err = reject(&build(&[E::File("a", b"x", 0o644), E::Dir("a/")]));
        assert!(matches!(err, CodeError::Duplicate { .. }), "{err:?}");
        let err = reject(&build(&[E::Dir("a/"), E::Dir("./a/")]));
        assert!(matches!(err, CodeError::Duplicate { .. }), "{err:?}");
    }

    #[test]
    fn entries_under_a_file_or_symlink() {
        let err = reject(&files(&["a", "a/b"]));
        assert!(
            matches!(&err, CodeError::PathConflict { name } if name == "a/b"),
            "{err:?}"
        );
        // Sorted neighbours: "a-c" and "a.d" sort between "a" and "a/b" as strings.
        let err = reject(&files(&["a/b", "a-c", "a.d", "a"]));
        assert!(matches!(err, CodeError::PathConflict { .. }), "{err:?}");
        let zip = build(&[
            E::Dir("sub/"),
            E::Link("l", "sub"),
            E::File("l/x", b"through the link", 0o644),
        ]);
        let err = reject(&zip);
        assert!(
            matches!(&err, CodeError::PathConflict { name } if name == "l/x"),
            "{err:?}"
        );
    }

    #[test]
    fn symlinks_out_of_the_tree() {
        for (name, target) in [
            ("passwd", "/etc/passwd"),
            ("l", "../../x"),
            ("l", ".."),
            ("a/l", "../../x"),
            ("a/b/l", "../../../x"),
            ("a/l", "x/../../y"),
            ("a/l", "sub/../x"), // inside, but not canonical
            ("a/l", "..\\..\\x"),
            ("l", ""),
        ] {
            let zip = build(&[E::File("fine", b"x", 0o644), E::Link(name, target)]);
            let err = reject(&zip);
            assert!(
                matches!(&err, CodeError::Symlink { name: n, target: t } if n == name && t == target),
                "{name} -> {target}: {err:?}"
            );
        }
    }

    #[test]
    fn symlink_target_rules() {
        assert!(symlink_target_is_safe(b"x", 0));
        assert!(symlink_target_is_safe(b"./x/y", 0));
        assert!(symlink_target_is_safe(b".", 0));
        assert!(symlink_target_is_safe(b"../x", 1));
        assert!(symlink_target_is_safe(b"../../x/./y/", 2));
        assert!(!symlink_target_is_safe(b"../x", 0));
        assert!(!symlink_target_is_safe(b"x/../y", 3));
        assert!(!symlink_target_is_safe(b"/x", 3));
        assert!(!symlink_target_is_safe(b"", 3));
        assert!(!symlink_target_is_safe(b"x\0", 3));
    }

    #[test]
    fn encrypted_entries() {
        // A real ZipCrypto entry from the writer.
        let mut w = ZipWriter::new(Cursor::new(Vec::new()));
        let options = SimpleFileOptions::default().with_deprecated_encryption(b"hunter2");
        w.start_file("secret", options).unwrap();
        w.write_all(b"top secret").unwrap();
        let zip = w.finish().unwrap().into_inner();
        let err = reject(&zip);
        assert!(
            matches!(&err, CodeError::Encrypted { name } if name == "secret"),
            "{err:?}"
        );

        // Hand-crafted: only the general-purpose "encrypted" flag bit is set.
        let mut zip = files(&["plain", "flagged"]);
        let (central, local) = headers(&zip)[1];
        let flags = u16_at(&zip, central + 8) as u16 | 1;
        put_u16(&mut zip, central + 8, flags);
        put_u16(&mut zip, local + 6, flags);
        let err = reject(&zip);
        assert!(
            matches!(&err, CodeError::Encrypted { name } if name == "flagged"),
            "{err:?}"
        );
    }

    #[test]
    fn unsupported_compression_method() {
        let mut zip = files(&["a"]);
        let (central, local) = headers(&zip)[0];
        put_u16(&mut zip, central + 10, 12); // bzip2
        put_u16(&mut zip, local + 8, 12);
        let err = reject(&zip);
        assert!(
            matches!(err, CodeError::UnsupportedCompression { .. }),
            "{err:?}"
        );
    }

    #[test]
    fn corrupt_data_is_caught() {
        let stored = SimpleFileOptions::default().compression_method(CompressionMethod::Stored);
        let mut w = ZipWriter::new(Cursor::new(Vec::new()));
        w.start_file("ok", stored).unwrap();
        w.write_all(b"fine").unwrap();
        w.start_file("x", stored).unwrap();
        w.write_all(b"hello world").unwrap();
        let mut zip = w.finish().unwrap().into_inner();
        let (_, local) = headers(&zip)[1];
        let data = local + 30 + u16_at(&zip, local + 26) + u16_at(&zip, local + 28);
        assert_eq!(&zip[data..data + 5], b"hello");
        zip[data] = b'j';
        let err = reject(&zip);
        assert!(
            matches!(&err, CodeError::Corrupt { name, .. } if name == "x"),
            "{err:?}"
        );
    }

    #[test]
    fn header_claiming_less_than_the_data_is_corrupt() {
        let data = vec![7u8; 1000];
        let mut zip = build(&[E::File("x", &data, 0o644)]);
        lie_about_size(&mut zip, 0, 10);
        let err = reject(&zip);
        assert!(matches!(err, CodeError::Corrupt { .. }), "{err:?}");
    }

    /// 300 MB of zeros, deflated (about 300 KB), built once.
    fn bomb() -> &'static [u8] {
        static BOMB: OnceLock<Vec<u8>> = OnceLock::new();
        BOMB.get_or_init(|| {
            let mut w = ZipWriter::new(Cursor::new(Vec::new()));
            let options = SimpleFileOptions::default().compression_level(Some(1));
            w.start_file("zeros", options).unwrap();
            let chunk = vec![0u8; MB];
            for _ in 0..300 {
                w.write_all(&chunk).unwrap();
            }
            w.finish().unwrap().into_inner()
        })
    }

    fn small_limits() -> UnpackLimits {
        UnpackLimits {
            max_unzipped_bytes: 10 * MB as u64,
            ..UnpackLimits::default()
        }
    }

    #[test]
    fn zip_bomb_with_honest_header() {
        assert!(bomb().len() < 2 * MB);
        let err = reject_with(bomb(), &small_limits());
        assert!(
            matches!(err, CodeError::TooLarge { limit } if limit == 10 * MB as u64),
            "{err:?}"
        );
    }

    #[test]
    fn zip_bomb_with_lying_header_stops_at_the_limit() {
        let mut zip = bomb().to_vec();
        lie_about_size(&mut zip, 0, 1024);
        let err = reject_with(&zip, &small_limits());
        assert!(matches!(err, CodeError::TooLarge { .. }), "{err:?}");
    }

    #[test]
    fn inflated_bytes_add_up_across_entries() {
        // "b" lies about its size; alone it would fit, after "a" it does not. Counting per
        // entry would see a size mismatch (Corrupt) instead.
        let (four_mb, eight_mb) = (vec![1u8; 4 * MB], vec![2u8; 8 * MB]);
        let mut zip = build(&[
            E::File("a", &four_mb, 0o644),
            E::File("b", &eight_mb, 0o644),
        ]);
        lie_about_size(&mut zip, 1, 1);
        let err = reject_with(&zip, &small_limits());
        assert!(matches!(err, CodeError::TooLarge { .. }), "{err:?}");
    }

    #[test]
    fn too_many_entries() {
        let limits = UnpackLimits {
            max_entries: 3,
            ..UnpackLimits::default()
        };
        let err = reject_with(&files(&["a", "b", "c", "d"]), &limits);
        assert!(
            matches!(err, CodeError::TooManyEntries { limit: 3 }),
            "{err:?}"
        );
        // Implied directories count too.
        let err = reject_with(&files(&["a/b/c/d/x"]), &limits);
        assert!(
            matches!(err, CodeError::TooManyEntries { limit: 3 }),
            "{err:?}"
        );

        let sb = sandbox();
        unpack(&files(&["a", "b", "c"]), &sb.dest, &limits).unwrap();
        let sb = sandbox();
        unpack(&files(&["a/b/c/x", "a/b/c/y", "a/b/z"]), &sb.dest, &limits).unwrap();
    }

    #[test]
    fn existing_destination_is_left_alone() {
        let sb = sandbox();
        fs::create_dir(&sb.dest).unwrap();
        fs::write(sb.dest.join("keep"), b"mine").unwrap();
        let err = unpack(&files(&["keep"]), &sb.dest, &UnpackLimits::default()).unwrap_err();
        assert!(
            matches!(err, CodeError::DestinationExists { .. }),
            "{err:?}"
        );
        assert!(!err.is_client_error());
        assert_eq!(fs::read(sb.dest.join("keep")).unwrap(), b"mine");
        assert_eq!(
            tree(&sb.root),
            ["a", "a/b", "a/b/c", "a/b/c/code", "a/b/c/code/keep"]
        );
    }

    #[test]
    fn messages_read_like_aws() {
        let too_large = CodeError::TooLarge {
            limit: UnpackLimits::default().max_unzipped_bytes,
        };
        assert_eq!(
            too_large.message(),
            "Unzipped size must be smaller than 262144000 bytes"
        );
        let not_zip = CodeError::NotAZip { reason: "x".into() };
        assert_eq!(
            not_zip.message(),
            "Could not unzip uploaded file. Please check your file, then try to upload again."
        );
        let unsafe_path = CodeError::UnsafePath {
            name: "a\0b".into(),
        };
        assert!(unsafe_path.message().contains("'a\\0b'"));
    }
}
