//! The data directory and what `hotline` keeps in it by itself: the SQLite database's folder and
//! the generated JWT signing key (`jwt.key`).
//!
//! The key is made once, on the first `serve` without `auth.jwt_secret`, and reused on every
//! start after it, so tokens survive a restart. It is written so that it can never be seen half
//! written or by another user: a private temporary file (mode 0600), flushed to disk, then
//! hard-linked into place, which fails instead of overwriting when a concurrent start won the
//! race. This module must never log or print key material, and never replace an existing key
//! (that would log every user out and hide a corrupted file).

use std::fs;
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use rand::RngCore;

use crate::config::Config;

/// File name of the generated key inside the data directory.
pub const JWT_KEY_FILE: &str = "jwt.key";

/// Bytes of a generated key: as long as the HS256 hash.
const JWT_KEY_LEN: usize = 32;

/// Create `dir` (and its parents) if missing, readable by its owner only when newly made.
pub fn ensure_dir(dir: &Path) -> Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .with_context(|| format!("cannot create data directory {}", dir.display()))
}

/// For a SQLite URL, the folder its file lives in, so it can be created before connecting.
pub fn sqlite_parent(url: &str) -> Option<PathBuf> {
    let rest = url.strip_prefix("sqlite:")?;
    let rest = rest.strip_prefix("//").unwrap_or(rest);
    let path = rest.split('?').next().unwrap_or_default();
    if path.is_empty() || path == ":memory:" {
        return None;
    }
    Path::new(path)
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .map(Path::to_path_buf)
}

/// The key that signs access tokens: `auth.jwt_secret` when configured, else the key in
/// `<data_dir>/jwt.key`, generated on first use.
pub fn jwt_signing_key(config: &Config) -> Result<Vec<u8>> {
    if let Some(secret) = &config.auth.jwt_secret {
        return Ok(secret.as_bytes().to_vec());
    }
    ensure_dir(&config.data_dir)?;
    load_or_create_key(&config.data_dir.join(JWT_KEY_FILE))
}

fn load_or_create_key(path: &Path) -> Result<Vec<u8>> {
    match read_key(path) {
        Ok(Some(key)) => return Ok(key),
        Ok(None) => {}
        Err(err) => return Err(err),
    }
    let mut key = vec![0u8; JWT_KEY_LEN];
    rand::rngs::OsRng.fill_bytes(&mut key);

    let tmp = path.with_extension(format!("tmp-{}", std::process::id()));
    let written = (|| -> std::io::Result<()> {
        let mut file = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&tmp)?;
        writeln!(file, "{}", hex::encode(&key))?;
        file.sync_all()
    })();
    if let Err(err) = written {
        let _ = fs::remove_file(&tmp);
        return Err(err).with_context(|| format!("cannot write JWT key {}", tmp.display()));
    }
    let linked = fs::hard_link(&tmp, path);
    let _ = fs::remove_file(&tmp);
    match linked {
        Ok(()) => {
            tracing::info!(path = %path.display(), "generated a new JWT signing key");
            Ok(key)
        }
        // Another process created it between our read and our link: theirs is the key.
        Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists => read_key(path)?
            .with_context(|| format!("JWT key {} vanished while starting", path.display())),
        Err(err) => Err(err).with_context(|| format!("cannot create JWT key {}", path.display())),
    }
}

/// The key in `path`, `None` if there is no such file.
fn read_key(path: &Path) -> Result<Option<Vec<u8>>> {
    let text = match fs::read_to_string(path) {
        Ok(text) => text,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(err) => {
            return Err(err).with_context(|| format!("cannot read JWT key {}", path.display()))
        }
    };
    let key = match hex::decode(text.trim()) {
        Ok(key) if key.len() >= JWT_KEY_LEN => key,
        _ => bail!(
            "JWT key file {} is corrupt (expected {} hex digits); restore it from a backup, or \
             delete it to generate a new one (which logs every user out)",
            path.display(),
            JWT_KEY_LEN * 2
        ),
    };
    if let Ok(meta) = fs::metadata(path) {
        if meta.permissions().mode() & 0o077 != 0 {
            tracing::warn!(
                path = %path.display(),
                "the JWT key file is readable by other users; run: chmod 600 {}",
                path.display()
            );
        }
    }
    Ok(Some(key))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_is_generated_once_private_and_reused() {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut config = Config {
            data_dir: dir.path().join("data"),
            ..Config::default()
        };
        let first = jwt_signing_key(&config).expect("generate");
        assert_eq!(first.len(), JWT_KEY_LEN);
        let path = config.data_dir.join(JWT_KEY_FILE);
        let mode = fs::metadata(&path).expect("key file").permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        let dir_mode = fs::metadata(&config.data_dir)
            .expect("dir")
            .permissions()
            .mode();
        assert_eq!(dir_mode & 0o777, 0o700);
        assert_eq!(jwt_signing_key(&config).expect("reuse"), first);
        // No temporary file is left behind.
        let entries: Vec<_> = fs::read_dir(&config.data_dir).expect("list").collect();
        assert_eq!(entries.len(), 1);

        config.auth.jwt_secret = Some("x".repeat(40));
        assert_eq!(
            jwt_signing_key(&config).expect("configured"),
            vec![b'x'; 40]
        );
    }

    #[test]
    fn corrupt_key_is_refused_not_replaced() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join(JWT_KEY_FILE);
        fs::write(&path, "not hex").expect("write");
        let err = load_or_create_key(&path).expect_err("corrupt");
        assert!(err.to_string().contains("corrupt"), "{err}");
        assert_eq!(fs::read_to_string(&path).expect("still there"), "not hex");
    }

    #[test]
    fn sqlite_parent_of_urls() {
        assert_eq!(
            sqlite_parent("sqlite://./hotline-data/hotline.db?mode=rwc"),
            Some(PathBuf::from("./hotline-data"))
        );
        assert_eq!(
            sqlite_parent("sqlite:///var/lib/hotline/h.db"),
            Some(PathBuf::from("/var/lib/hotline"))
        );
        assert_eq!(sqlite_parent("sqlite:h.db"), None);
        assert_eq!(sqlite_parent("sqlite::memory:"), None);
        assert_eq!(sqlite_parent("postgres://h/db"), None);
    }
}
