//! Zipping code for upload: a directory (recursively) or a single file, exec bits kept.

use anyhow::Context;
use std::io::Write;
use std::path::Path;

/// Builds a zip of `(name, bytes, executable)` entries.
pub fn zip_entries<'a>(
    entries: impl IntoIterator<Item = (&'a str, &'a [u8], bool)>,
) -> anyhow::Result<Vec<u8>> {
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (name, data, exec) in entries {
        let opts = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated)
            .unix_permissions(if exec { 0o755 } else { 0o644 });
        w.start_file(name, opts)?;
        w.write_all(data)?;
    }
    Ok(w.finish()?.into_inner())
}

/// Zips `path`: a `.zip` is taken as is, a directory is zipped recursively (its contents at
/// the archive root), a single file becomes the archive's only entry. Errors about `path`
/// itself are the OS's alone (the caller says which argument named it); errors about a file
/// inside a directory name that file.
pub fn zip_path(path: &Path) -> anyhow::Result<Vec<u8>> {
    use std::os::unix::fs::PermissionsExt;
    let meta = std::fs::metadata(path)?;
    if meta.is_file() {
        let data = std::fs::read(path)?;
        if path.extension().is_some_and(|e| e == "zip") {
            return Ok(data);
        }
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .context("file name is not UTF-8")?;
        let exec = meta.permissions().mode() & 0o111 != 0;
        return zip_entries([(name, data.as_slice(), exec)]);
    }
    let mut files = Vec::new();
    collect(path, path, &mut files)?;
    files.sort_by(|a, b| a.0.cmp(&b.0));
    zip_entries(files.iter().map(|(n, d, x)| (n.as_str(), d.as_slice(), *x)))
}

fn collect(root: &Path, dir: &Path, out: &mut Vec<(String, Vec<u8>, bool)>) -> anyhow::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let listing = |e| anyhow::Error::new(e).context(format!("listing {}", dir.display()));
    for entry in std::fs::read_dir(dir).map_err(listing)? {
        let entry = entry.map_err(listing)?;
        let path = entry.path();
        let meta = entry
            .metadata()
            .with_context(|| format!("reading {}", path.display()))?;
        if meta.is_dir() {
            if entry.file_name() == "__pycache__" || entry.file_name() == ".git" {
                continue;
            }
            collect(root, &path, out)?;
        } else if meta.is_file() {
            let rel = path
                .strip_prefix(root)?
                .to_str()
                .context("file name is not UTF-8")?
                .to_string();
            let data =
                std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
            out.push((rel, data, meta.permissions().mode() & 0o111 != 0));
        }
    }
    Ok(())
}
