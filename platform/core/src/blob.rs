//! Files tenants own — call recordings, prompt audio — stored under the tenant's prefix behind
//! [`BlobStore`], so an object store can take the place of the default [`DirStore`] (files in
//! the data directory).
//!
//! A [`BlobKey`] is made only from a [`TenantScope`] (or checked against one when read back from
//! a stored record), so code holding one tenant's scope cannot name another tenant's file. Keys
//! are plain relative paths of safe characters; this module must never build a path from a
//! string it has not checked.

use std::io::SeekFrom;
use std::path::{Path, PathBuf};

use async_trait::async_trait;
use chrono::{DateTime, Datelike, Utc};
use thiserror::Error;
use tokio::io::{AsyncReadExt, AsyncSeekExt, AsyncWriteExt};

use crate::ids::{CallId, PromptId};
use crate::TenantScope;

#[derive(Debug, Error)]
pub enum BlobError {
    #[error("no such file")]
    NotFound,
    #[error("invalid file key {0:?}")]
    InvalidKey(String),
    #[error("the byte range starts past the end of the file ({len} bytes)")]
    RangeNotSatisfiable { len: u64 },
    #[error("file storage failed: {0}")]
    Io(#[from] std::io::Error),
}

/// Where one tenant-owned file lives, relative to the store's root:
/// `tenants/<tenant id>/<kind>/...`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct BlobKey(String);

impl BlobKey {
    /// A call's recording, filed by the day the call arrived (UTC) so a directory never holds
    /// more than a day of calls.
    pub fn recording(scope: &TenantScope, call_id: CallId, arrived_at: DateTime<Utc>) -> Self {
        Self(format!(
            "{}/recordings/{:04}/{:02}/{:02}/{call_id}.wav",
            prefix(scope),
            arrived_at.year(),
            arrived_at.month(),
            arrived_at.day()
        ))
    }

    /// A prompt's audio, as converted at upload (8 kHz mono 16-bit WAV).
    pub fn prompt(scope: &TenantScope, prompt_id: PromptId) -> Self {
        Self(format!("{}/prompts/{prompt_id}.wav", prefix(scope)))
    }

    /// A key read back from a stored record: it must be well-formed and belong to `scope`.
    pub fn parse(scope: &TenantScope, text: &str) -> Result<Self, BlobError> {
        let invalid = || BlobError::InvalidKey(text.to_string());
        let rest = text
            .strip_prefix(&prefix(scope))
            .and_then(|rest| rest.strip_prefix('/'))
            .ok_or_else(invalid)?;
        let safe = rest.split('/').all(|part| {
            !part.is_empty()
                && part != "."
                && part != ".."
                && part
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.')
        });
        if !safe {
            return Err(invalid());
        }
        Ok(Self(text.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for BlobKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

fn prefix(scope: &TenantScope) -> String {
    format!("tenants/{}", scope.tenant_id())
}

/// Bytes `start..=end` of a file (`end` past the file's end means up to its end), as an HTTP
/// Range asks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ByteRange {
    pub start: u64,
    pub end: Option<u64>,
}

/// What [`BlobStore::read`] returns: the bytes asked for and where they sit in the whole file.
#[derive(Debug)]
pub struct BlobRead {
    pub bytes: Vec<u8>,
    /// Offset of the first byte returned.
    pub start: u64,
    /// The whole file's length.
    pub total_len: u64,
}

/// Files by key. Writes are atomic (a reader sees the old file or the new one, never half).
#[async_trait]
pub trait BlobStore: Send + Sync + 'static {
    async fn put(&self, key: &BlobKey, bytes: Vec<u8>) -> Result<(), BlobError>;

    /// The whole file, or `range` of it.
    async fn read(&self, key: &BlobKey, range: Option<ByteRange>) -> Result<BlobRead, BlobError>;

    async fn len(&self, key: &BlobKey) -> Result<u64, BlobError>;

    /// Removing a file that is not there is not an error.
    async fn delete(&self, key: &BlobKey) -> Result<(), BlobError>;

    /// A local file path for writers that must seek while they write (the call recorder fixes
    /// its WAV header as it goes). An object store answers `None` and takes the file with
    /// [`BlobStore::put`] when it is finished.
    fn local_path(&self, key: &BlobKey) -> Option<PathBuf>;
}

/// Files under a directory (by default `<data_dir>/files`).
#[derive(Clone, Debug)]
pub struct DirStore {
    root: PathBuf,
}

impl DirStore {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    fn path(&self, key: &BlobKey) -> PathBuf {
        self.root.join(key.as_str())
    }
}

#[async_trait]
impl BlobStore for DirStore {
    async fn put(&self, key: &BlobKey, bytes: Vec<u8>) -> Result<(), BlobError> {
        let path = self.path(key);
        if let Some(parent) = path.parent() {
            tokio::fs::create_dir_all(parent).await?;
        }
        let temporary = path.with_extension(format!("part-{}", uuid::Uuid::now_v7()));
        let mut file = tokio::fs::File::create(&temporary).await?;
        let written = async {
            file.write_all(&bytes).await?;
            file.sync_all().await
        }
        .await;
        if let Err(error) = written {
            let _ = tokio::fs::remove_file(&temporary).await;
            return Err(error.into());
        }
        tokio::fs::rename(&temporary, &path).await?;
        Ok(())
    }

    async fn read(&self, key: &BlobKey, range: Option<ByteRange>) -> Result<BlobRead, BlobError> {
        let mut file = match tokio::fs::File::open(self.path(key)).await {
            Ok(file) => file,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                return Err(BlobError::NotFound)
            }
            Err(error) => return Err(error.into()),
        };
        let total_len = file.metadata().await?.len();
        let (start, end) = match range {
            None => (0, total_len),
            Some(range) if range.start >= total_len => {
                return Err(BlobError::RangeNotSatisfiable { len: total_len })
            }
            Some(range) => (
                range.start,
                range
                    .end
                    .map_or(total_len, |end| end.saturating_add(1).min(total_len)),
            ),
        };
        let mut bytes = vec![0; usize::try_from(end - start).unwrap_or(usize::MAX)];
        file.seek(SeekFrom::Start(start)).await?;
        file.read_exact(&mut bytes).await?;
        Ok(BlobRead {
            bytes,
            start,
            total_len,
        })
    }

    async fn len(&self, key: &BlobKey) -> Result<u64, BlobError> {
        match tokio::fs::metadata(self.path(key)).await {
            Ok(metadata) => Ok(metadata.len()),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Err(BlobError::NotFound),
            Err(error) => Err(error.into()),
        }
    }

    async fn delete(&self, key: &BlobKey) -> Result<(), BlobError> {
        match tokio::fs::remove_file(self.path(key)).await {
            Ok(()) => Ok(()),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(error) => Err(error.into()),
        }
    }

    fn local_path(&self, key: &BlobKey) -> Option<PathBuf> {
        Some(self.path(key))
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;
    use crate::ids::TenantId;

    fn scope() -> TenantScope {
        TenantScope::from_verified(TenantId::new())
    }

    #[test]
    fn keys_sit_under_their_tenant_and_foreign_keys_are_refused() {
        let acme = scope();
        let other = scope();
        let at = Utc.with_ymd_and_hms(2027, 1, 9, 23, 59, 0).unwrap();
        let call = CallId::new();
        let key = BlobKey::recording(&acme, call, at);
        assert_eq!(
            key.as_str(),
            format!(
                "tenants/{}/recordings/2027/01/09/{call}.wav",
                acme.tenant_id()
            )
        );
        assert_eq!(BlobKey::parse(&acme, key.as_str()).unwrap(), key);
        assert!(matches!(
            BlobKey::parse(&other, key.as_str()),
            Err(BlobError::InvalidKey(_))
        ));
        let escape = format!(
            "tenants/{}/../{}/x.wav",
            acme.tenant_id(),
            other.tenant_id()
        );
        for bad in [
            escape.as_str(),
            "tenants/x",
            "",
            "/etc/passwd",
            &format!("tenants/{}//x.wav", acme.tenant_id()),
            &format!("tenants/{}/a b.wav", acme.tenant_id()),
        ] {
            assert!(BlobKey::parse(&acme, bad).is_err(), "{bad:?}");
        }
    }

    #[tokio::test]
    async fn files_are_written_whole_and_read_by_range() {
        let dir = tempfile::tempdir().unwrap();
        let store = DirStore::new(dir.path());
        let acme = scope();
        let key = BlobKey::prompt(&acme, PromptId::new());
        assert!(matches!(
            store.read(&key, None).await,
            Err(BlobError::NotFound)
        ));
        store.put(&key, b"0123456789".to_vec()).await.unwrap();
        store.put(&key, b"abcdefghij".to_vec()).await.unwrap();
        assert_eq!(store.len(&key).await.unwrap(), 10);
        let whole = store.read(&key, None).await.unwrap();
        assert_eq!(whole.bytes, b"abcdefghij");
        let part = store
            .read(
                &key,
                Some(ByteRange {
                    start: 2,
                    end: Some(4),
                }),
            )
            .await
            .unwrap();
        assert_eq!(
            (part.bytes.as_slice(), part.start, part.total_len),
            (&b"cde"[..], 2, 10)
        );
        let tail = store
            .read(
                &key,
                Some(ByteRange {
                    start: 7,
                    end: Some(1_000),
                }),
            )
            .await
            .unwrap();
        assert_eq!(tail.bytes, b"hij");
        assert!(matches!(
            store
                .read(
                    &key,
                    Some(ByteRange {
                        start: 10,
                        end: None
                    })
                )
                .await,
            Err(BlobError::RangeNotSatisfiable { len: 10 })
        ));
        let leftovers: Vec<_> = std::fs::read_dir(store.path(&key).parent().unwrap())
            .unwrap()
            .collect();
        assert_eq!(leftovers.len(), 1, "no temporary files left behind");
        store.delete(&key).await.unwrap();
        store.delete(&key).await.unwrap();
        assert!(matches!(store.len(&key).await, Err(BlobError::NotFound)));
    }
}
