//! The root account's access key: taken from `LAMBENT_ROOT_ACCESS_KEY_ID` /
//! `LAMBENT_ROOT_SECRET_ACCESS_KEY`, or generated once, and kept in `<data-dir>/credentials`
//! (AWS credentials-file format, mode 0600).

use anyhow::Context;
use rand::Rng;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

#[derive(Clone)]
pub struct RootCredentials {
    pub access_key_id: String,
    pub secret_access_key: String,
}

impl std::fmt::Debug for RootCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RootCredentials")
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"<redacted>")
            .finish()
    }
}

pub const FILE_NAME: &str = "credentials";

/// Reads the root key from the environment or the data directory, creating it on first start.
pub fn load_or_create_root(data_dir: &Path) -> anyhow::Result<RootCredentials> {
    let path = data_dir.join(FILE_NAME);
    let from_env = match (
        std::env::var("LAMBENT_ROOT_ACCESS_KEY_ID"),
        std::env::var("LAMBENT_ROOT_SECRET_ACCESS_KEY"),
    ) {
        (Ok(id), Ok(secret)) if !id.is_empty() && !secret.is_empty() => Some(RootCredentials {
            access_key_id: id,
            secret_access_key: secret,
        }),
        _ => None,
    };
    if from_env.is_none() {
        if let Some(existing) = read(&path)? {
            return Ok(existing);
        }
    }
    let creds = from_env.unwrap_or_else(generate);
    write(&path, &creds)?;
    Ok(creds)
}

/// Reads `<data-dir>/credentials` if it exists.
pub fn read(path: &Path) -> anyhow::Result<Option<RootCredentials>> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
    };
    let mut id = None;
    let mut secret = None;
    for line in text.lines() {
        if let Some((k, v)) = line.split_once('=') {
            match k.trim() {
                "aws_access_key_id" => id = Some(v.trim().to_string()),
                "aws_secret_access_key" => secret = Some(v.trim().to_string()),
                _ => {}
            }
        }
    }
    match (id, secret) {
        (Some(access_key_id), Some(secret_access_key)) => Ok(Some(RootCredentials {
            access_key_id,
            secret_access_key,
        })),
        _ => anyhow::bail!(
            "{} has no aws_access_key_id/aws_secret_access_key",
            path.display()
        ),
    }
}

fn write(path: &Path, creds: &RootCredentials) -> anyhow::Result<()> {
    let tmp = path.with_extension("tmp");
    let _ = std::fs::remove_file(&tmp);
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&tmp)
        .with_context(|| format!("creating {}", tmp.display()))?;
    write!(
        f,
        "[default]\naws_access_key_id = {}\naws_secret_access_key = {}\n",
        creds.access_key_id, creds.secret_access_key
    )?;
    f.sync_all()?;
    std::fs::rename(&tmp, path).with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}

const KEY_ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
const SECRET_ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// A random string over `alphabet`, from the OS's CSPRNG-seeded thread generator.
pub fn random_string(alphabet: &[u8], len: usize) -> String {
    let mut rng = rand::thread_rng();
    (0..len)
        .map(|_| alphabet[rng.gen_range(0..alphabet.len())] as char)
        .collect()
}

/// An access key id with AWS's shape: a four-letter prefix and 16 base32 characters.
pub fn access_key_id(prefix: &str) -> String {
    format!("{prefix}{}", random_string(KEY_ALPHABET, 16))
}

pub fn secret_access_key() -> String {
    random_string(SECRET_ALPHABET, 40)
}

fn generate() -> RootCredentials {
    RootCredentials {
        access_key_id: access_key_id("AKIA"),
        secret_access_key: secret_access_key(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn creates_a_private_file_once() {
        let dir = tempfile::tempdir().unwrap();
        let a = load_or_create_root(dir.path()).unwrap();
        let mode = std::fs::metadata(dir.path().join(FILE_NAME))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        let b = load_or_create_root(dir.path()).unwrap();
        assert_eq!(a.access_key_id, b.access_key_id);
        assert_eq!(a.secret_access_key, b.secret_access_key);
        assert!(a.access_key_id.starts_with("AKIA") && a.access_key_id.len() == 20);
        assert_eq!(a.secret_access_key.len(), 40);
        assert!(!format!("{a:?}").contains(&a.secret_access_key));
    }
}
