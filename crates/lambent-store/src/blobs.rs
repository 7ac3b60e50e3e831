//! Code archives on disk: each distinct zip is kept once, by its SHA-256, beside its
//! unpacked, read-only directory that every environment of every function using it shares.

use crate::code::{self, UnpackLimits};
use crate::{Store, StoreError};
use std::io::Write;
use std::path::PathBuf;

/// A stored archive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredCode {
    /// Base64 SHA-256 of the zip: Lambda's `CodeSha256`.
    pub sha256_b64: String,
    pub sha256_hex: String,
    /// Bytes of the zip: Lambda's `CodeSize`.
    pub size: u64,
    /// The unpacked code.
    pub dir: PathBuf,
}

impl Store {
    /// Stores `zip` (validated and unpacked) unless the same archive is already here.
    pub fn put_code(&self, zip: &[u8], limits: &UnpackLimits) -> Result<StoredCode, StoreError> {
        let sha256_hex = code::code_sha256_hex(zip);
        let stored = StoredCode {
            sha256_b64: code::code_sha256_b64(zip),
            dir: self.code_dir(&sha256_hex),
            sha256_hex,
            size: zip.len() as u64,
        };
        // Serialise uploads so two writers of one archive never race on its directory.
        let _guard = self.code_lock.lock().unwrap_or_else(|e| e.into_inner());
        if stored.dir.is_dir() {
            return Ok(stored);
        }
        code::unpack(zip, &stored.dir, limits)?;
        let zip_path = self.code_zip(&stored.sha256_hex);
        let tmp = zip_path.with_extension("zip.tmp");
        let io = |step, path: &PathBuf| {
            let path = path.clone();
            move |source| StoreError::Io { step, path, source }
        };
        let mut f = std::fs::File::create(&tmp).map_err(io("creating", &tmp))?;
        f.write_all(zip).map_err(io("writing", &tmp))?;
        f.sync_all().map_err(io("syncing", &tmp))?;
        std::fs::rename(&tmp, &zip_path).map_err(io("renaming", &tmp))?;
        Ok(stored)
    }

    /// Where the archive with this hex SHA-256 is unpacked.
    pub fn code_dir(&self, sha256_hex: &str) -> PathBuf {
        self.root.join("code").join(sha256_hex)
    }

    /// The archive itself, for GetFunction's download location.
    pub fn code_zip(&self, sha256_hex: &str) -> PathBuf {
        self.root.join("code").join(format!("{sha256_hex}.zip"))
    }
}
