//! An in-memory tenant store for the simulator: seeded by the scenario, gone with the case.

use std::collections::BTreeMap;
use std::sync::Mutex;

use async_trait::async_trait;

use super::{check_quota, KvBackend, KvFailure, KvQuota};

#[derive(Debug, Default)]
pub struct MemoryKv {
    map: Mutex<BTreeMap<String, String>>,
}

impl MemoryKv {
    pub fn new(seed: BTreeMap<String, String>) -> Self {
        Self {
            map: Mutex::new(seed),
        }
    }

    pub fn snapshot(&self) -> BTreeMap<String, String> {
        self.map.lock().map(|m| m.clone()).unwrap_or_default()
    }

    fn with<R>(&self, f: impl FnOnce(&mut BTreeMap<String, String>) -> R) -> Result<R, KvFailure> {
        self.map
            .lock()
            .map(|mut m| f(&mut m))
            .map_err(|_| KvFailure::Unavailable("the simulated store is poisoned".into()))
    }
}

fn usage(map: &BTreeMap<String, String>) -> (u64, u64) {
    let bytes = map.iter().map(|(k, v)| (k.len() + v.len()) as u64).sum();
    (map.len() as u64, bytes)
}

#[async_trait]
impl KvBackend for MemoryKv {
    async fn get(&self, key: &str) -> Result<Option<String>, KvFailure> {
        self.with(|m| m.get(key).cloned())
    }

    async fn set(&self, key: &str, value: &str, quota: &KvQuota) -> Result<(), KvFailure> {
        self.with(|m| {
            let (keys, bytes) = usage(m);
            check_quota(quota, key, value, m.get(key).map(String::len), keys, bytes)?;
            m.insert(key.to_string(), value.to_string());
            Ok(())
        })?
    }

    async fn delete(&self, key: &str) -> Result<bool, KvFailure> {
        self.with(|m| m.remove(key).is_some())
    }

    async fn increment(&self, key: &str, by: i64, quota: &KvQuota) -> Result<i64, KvFailure> {
        self.with(|m| {
            let current = match m.get(key) {
                Some(v) => v.trim().parse::<i64>().map_err(|_| KvFailure::NotANumber)?,
                None => 0,
            };
            let next = current.saturating_add(by);
            let value = next.to_string();
            let (keys, bytes) = usage(m);
            check_quota(quota, key, &value, m.get(key).map(String::len), keys, bytes)?;
            m.insert(key.to_string(), value);
            Ok(next)
        })?
    }

    async fn list_keys(&self, prefix: &str, limit: u32) -> Result<Vec<String>, KvFailure> {
        self.with(|m| {
            m.range(prefix.to_string()..)
                .take_while(|(k, _)| k.starts_with(prefix))
                .take(limit as usize)
                .map(|(k, _)| k.clone())
                .collect()
        })
    }
}
