//! The tenant's key-value store behind `hotline:plugin/kv`: [`KvBackend`] with two
//! implementations, [`TenantKv`] over this crate's `plugin_kv` table (live calls) and
//! [`MemoryKv`] (the simulator, one case at a time). Both enforce the tenant's quotas (value
//! size, key count, total bytes) inside the write itself, so concurrent calls cannot overshoot.
//!
//! A backend is bound to one tenant when it is made; it must never read or write another
//! tenant's keys.

mod memory;
mod tenant;

pub use memory::MemoryKv;
pub use tenant::{KvStore, TenantKv};

use async_trait::async_trait;

/// The tenant's quotas for its store.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KvQuota {
    pub value_bytes: u32,
    pub keys: u32,
    pub total_bytes: u64,
}

/// Why a kv operation did nothing (mapped to the WIT `kv-error` by the host call).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KvFailure {
    #[error("value of {0} bytes over the limit")]
    ValueTooLarge(u32),
    #[error("{0}")]
    QuotaExceeded(String),
    #[error("not a number")]
    NotANumber,
    #[error("unavailable: {0}")]
    Unavailable(String),
}

/// One tenant's store.
#[async_trait]
pub trait KvBackend: Send + Sync {
    async fn get(&self, key: &str) -> Result<Option<String>, KvFailure>;
    async fn set(&self, key: &str, value: &str, quota: &KvQuota) -> Result<(), KvFailure>;
    async fn delete(&self, key: &str) -> Result<bool, KvFailure>;
    async fn increment(&self, key: &str, by: i64, quota: &KvQuota) -> Result<i64, KvFailure>;
    async fn list_keys(&self, prefix: &str, limit: u32) -> Result<Vec<String>, KvFailure>;
}

/// Would storing `value` under `key` (replacing `old_len` bytes of value, or a new key) keep
/// the store within `quota`, given its current `keys` and `bytes`?
pub(crate) fn check_quota(
    quota: &KvQuota,
    key: &str,
    value: &str,
    existing: Option<usize>,
    keys: u64,
    bytes: u64,
) -> Result<(), KvFailure> {
    let len = u32::try_from(value.len()).unwrap_or(u32::MAX);
    if len > quota.value_bytes {
        return Err(KvFailure::ValueTooLarge(quota.value_bytes));
    }
    let (new_keys, new_bytes) = match existing {
        Some(old) => (
            keys,
            bytes - old.min(bytes as usize) as u64 + value.len() as u64,
        ),
        None => (keys + 1, bytes + (key.len() + value.len()) as u64),
    };
    if new_keys > u64::from(quota.keys) {
        return Err(KvFailure::QuotaExceeded(format!(
            "the tenant's store holds its maximum of {} keys",
            quota.keys
        )));
    }
    if new_bytes > quota.total_bytes {
        return Err(KvFailure::QuotaExceeded(format!(
            "the tenant's store holds its maximum of {} bytes",
            quota.total_bytes
        )));
    }
    Ok(())
}
