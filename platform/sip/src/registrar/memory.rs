//! In-memory [`AgentDirectory`] and [`BindingStore`]: for tests, and for running the SIP stack
//! without a database (tools, benchmarks). Never the production store: nothing survives the
//! process.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

use chrono::{DateTime, Utc};
use hotline_core::ids::{AgentId, TenantId};

use super::bindings::Binding;
use super::digest::{ha1, DigestAlgorithm};
use super::store::{AgentCredential, AgentDirectory, BackendError, BindingStore};

/// Agents by (realm, username).
#[derive(Debug, Default)]
pub struct MemoryDirectory {
    agents: Mutex<HashMap<(String, String), AgentCredential>>,
}

impl MemoryDirectory {
    /// Add (or replace) an enabled agent with this password; its credential is returned.
    pub fn add_agent(
        &self,
        tenant_id: Option<TenantId>,
        realm: &str,
        username: &str,
        password: &str,
    ) -> AgentCredential {
        let credential = AgentCredential {
            agent_id: AgentId::new(),
            tenant_id,
            realm: realm.to_ascii_lowercase(),
            username: username.to_string(),
            ha1_md5: ha1(DigestAlgorithm::Md5, username, realm, password),
            ha1_sha256: ha1(DigestAlgorithm::Sha256, username, realm, password),
            enabled: true,
        };
        self.insert(credential.clone());
        credential
    }

    pub fn insert(&self, credential: AgentCredential) {
        let key = (
            credential.realm.to_ascii_lowercase(),
            credential.username.clone(),
        );
        lock(&self.agents).insert(key, credential);
    }
}

impl AgentDirectory for MemoryDirectory {
    async fn credentials(
        &self,
        realm: &str,
        username: &str,
    ) -> Result<Option<AgentCredential>, BackendError> {
        let key = (realm.to_ascii_lowercase(), username.to_string());
        Ok(lock(&self.agents).get(&key).cloned())
    }
}

/// Bindings by (agent, contact key); can be told to fail, to test what an outage does.
#[derive(Debug, Default)]
pub struct MemoryBindingStore {
    rows: Mutex<HashMap<(AgentId, String), Binding>>,
    failing: AtomicBool,
}

impl MemoryBindingStore {
    /// Every stored binding, sorted by agent and contact key.
    pub fn snapshot(&self) -> Vec<Binding> {
        let mut rows: Vec<Binding> = lock(&self.rows).values().cloned().collect();
        rows.sort_by(|a, b| (a.agent_id, &a.contact_key).cmp(&(b.agent_id, &b.contact_key)));
        rows
    }

    /// From now on every call fails (or succeeds again).
    pub fn set_failing(&self, failing: bool) {
        self.failing.store(failing, Ordering::SeqCst);
    }

    fn check(&self) -> Result<(), BackendError> {
        if self.failing.load(Ordering::SeqCst) {
            Err(BackendError::Unavailable(
                "the memory store was told to fail".into(),
            ))
        } else {
            Ok(())
        }
    }
}

impl BindingStore for MemoryBindingStore {
    async fn load_all(&self) -> Result<Vec<Binding>, BackendError> {
        self.check()?;
        Ok(self.snapshot())
    }

    async fn upsert(&self, binding: &Binding) -> Result<(), BackendError> {
        self.check()?;
        let key = (binding.agent_id, binding.contact_key.clone());
        lock(&self.rows).insert(key, binding.clone());
        Ok(())
    }

    async fn remove(&self, agent: AgentId, contact_key: &str) -> Result<(), BackendError> {
        self.check()?;
        lock(&self.rows).remove(&(agent, contact_key.to_string()));
        Ok(())
    }

    async fn remove_expired(&self, now: DateTime<Utc>) -> Result<u64, BackendError> {
        self.check()?;
        let mut rows = lock(&self.rows);
        let before = rows.len();
        rows.retain(|_, b| b.expires_at > now);
        Ok((before - rows.len()) as u64)
    }
}

/// A poisoned lock only means another thread panicked mid-update of a plain map; the map is
/// still usable.
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}
