//! The tenant's key-value store: small durable text shared by all of the tenant's plugins and
//! invisible to other tenants. Values are UTF-8 strings; [`increment`] is atomic.

use crate::bindings::wit_kv;
use crate::Result;

/// The value under `key`, if any.
pub fn get(key: &str) -> Result<Option<String>> {
    Ok(wit_kv::get(key)?)
}

/// Store `value` under `key`, replacing what was there.
pub fn set(key: &str, value: impl AsRef<str>) -> Result<()> {
    Ok(wit_kv::set(key, value.as_ref())?)
}

/// Remove `key`; true if it existed.
pub fn delete(key: &str) -> Result<bool> {
    Ok(wit_kv::delete(key)?)
}

/// Add `by` to the integer under `key` (missing counts as 0); the new value.
pub fn increment(key: &str, by: i64) -> Result<i64> {
    Ok(wit_kv::increment(key, by)?)
}

/// Keys starting with `prefix`, in byte order, at most `limit` (1 to 1,000).
pub fn list_keys(prefix: &str, limit: u32) -> Result<Vec<String>> {
    Ok(wit_kv::list_keys(prefix, limit)?)
}
