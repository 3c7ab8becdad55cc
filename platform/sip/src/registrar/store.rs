//! What the registrar needs from outside the SIP crate, as two traits it owns: the agents'
//! digest credentials ([`AgentDirectory`]) and somewhere to keep bindings across restarts
//! ([`BindingStore`]). The binary implements both over the tenant store; tests and tools use
//! [`memory`](super::memory).
//!
//! Credentials are looked up by (realm, username) only, and the binding a REGISTER creates is
//! keyed by the agent id those credentials carry: that is what keeps a registration inside
//! the realm (tenant) it authenticated in. Implementations must never return an agent of
//! another realm than the one asked for.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use hotline_core::ids::{AgentId, TenantId};
use thiserror::Error;

use super::bindings::Binding;
use super::digest::DigestAlgorithm;

/// The backend behind a trait could not answer.
#[derive(Debug, Error)]
pub enum BackendError {
    #[error("registrar storage unavailable: {0}")]
    Unavailable(String),
}

/// What the registrar knows of an agent that registers. The HA1s are secrets: `Debug` hides
/// them.
#[derive(Clone, PartialEq, Eq)]
pub struct AgentCredential {
    pub agent_id: AgentId,
    /// `None` for one of the firm's agents (platform realm).
    pub tenant_id: Option<TenantId>,
    pub realm: String,
    pub username: String,
    /// `MD5(username:realm:password)`, lowercase hex.
    pub ha1_md5: String,
    /// `SHA-256(username:realm:password)`, lowercase hex.
    pub ha1_sha256: String,
    /// False for a disabled agent or one whose tenant is suspended: such an agent cannot
    /// register.
    pub enabled: bool,
}

impl AgentCredential {
    pub fn ha1(&self, algorithm: DigestAlgorithm) -> &str {
        match algorithm {
            DigestAlgorithm::Md5 => &self.ha1_md5,
            DigestAlgorithm::Sha256 => &self.ha1_sha256,
        }
    }
}

impl std::fmt::Debug for AgentCredential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AgentCredential")
            .field("agent_id", &self.agent_id)
            .field("tenant_id", &self.tenant_id)
            .field("realm", &self.realm)
            .field("username", &self.username)
            .field("enabled", &self.enabled)
            .finish_non_exhaustive()
    }
}

/// Agents' digest credentials.
pub trait AgentDirectory: Send + Sync + 'static {
    /// The agent registering as `username` in `realm` (compared case-insensitively), if any.
    fn credentials(
        &self,
        realm: &str,
        username: &str,
    ) -> impl Future<Output = Result<Option<AgentCredential>, BackendError>> + Send;
}

/// Bindings kept across restarts. The registrar's memory is the truth while it runs; the
/// store is written through on every change and read once at start.
pub trait BindingStore: Send + Sync + 'static {
    fn load_all(&self) -> impl Future<Output = Result<Vec<Binding>, BackendError>> + Send;
    /// Insert, or replace the binding with the same agent and contact key.
    fn upsert(&self, binding: &Binding) -> impl Future<Output = Result<(), BackendError>> + Send;
    fn remove(
        &self,
        agent: AgentId,
        contact_key: &str,
    ) -> impl Future<Output = Result<(), BackendError>> + Send;
    /// Delete bindings that expired at or before `now`; how many went.
    fn remove_expired(
        &self,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<u64, BackendError>> + Send;
}

pub(crate) type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

impl<T: AgentDirectory> AgentDirectory for Arc<T> {
    fn credentials(
        &self,
        realm: &str,
        username: &str,
    ) -> impl Future<Output = Result<Option<AgentCredential>, BackendError>> + Send {
        T::credentials(self, realm, username)
    }
}

impl<T: BindingStore> BindingStore for Arc<T> {
    fn load_all(&self) -> impl Future<Output = Result<Vec<Binding>, BackendError>> + Send {
        T::load_all(self)
    }
    fn upsert(&self, binding: &Binding) -> impl Future<Output = Result<(), BackendError>> + Send {
        T::upsert(self, binding)
    }
    fn remove(
        &self,
        agent: AgentId,
        contact_key: &str,
    ) -> impl Future<Output = Result<(), BackendError>> + Send {
        T::remove(self, agent, contact_key)
    }
    fn remove_expired(
        &self,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<u64, BackendError>> + Send {
        T::remove_expired(self, now)
    }
}

/// [`AgentDirectory`] behind a pointer, so the registrar is one type whatever implements it.
pub(crate) trait DynDirectory: Send + Sync {
    fn boxed_credentials<'a>(
        &'a self,
        realm: &'a str,
        username: &'a str,
    ) -> BoxFuture<'a, Result<Option<AgentCredential>, BackendError>>;
}

impl<T: AgentDirectory> DynDirectory for T {
    fn boxed_credentials<'a>(
        &'a self,
        realm: &'a str,
        username: &'a str,
    ) -> BoxFuture<'a, Result<Option<AgentCredential>, BackendError>> {
        Box::pin(AgentDirectory::credentials(self, realm, username))
    }
}

/// [`BindingStore`] behind a pointer.
pub(crate) trait DynBindingStore: Send + Sync {
    fn boxed_load_all(&self) -> BoxFuture<'_, Result<Vec<Binding>, BackendError>>;
    fn boxed_upsert<'a>(&'a self, binding: &'a Binding) -> BoxFuture<'a, Result<(), BackendError>>;
    fn boxed_remove<'a>(
        &'a self,
        agent: AgentId,
        contact_key: &'a str,
    ) -> BoxFuture<'a, Result<(), BackendError>>;
    fn boxed_remove_expired(&self, now: DateTime<Utc>) -> BoxFuture<'_, Result<u64, BackendError>>;
}

impl<T: BindingStore> DynBindingStore for T {
    fn boxed_load_all(&self) -> BoxFuture<'_, Result<Vec<Binding>, BackendError>> {
        Box::pin(BindingStore::load_all(self))
    }
    fn boxed_upsert<'a>(&'a self, binding: &'a Binding) -> BoxFuture<'a, Result<(), BackendError>> {
        Box::pin(BindingStore::upsert(self, binding))
    }
    fn boxed_remove<'a>(
        &'a self,
        agent: AgentId,
        contact_key: &'a str,
    ) -> BoxFuture<'a, Result<(), BackendError>> {
        Box::pin(BindingStore::remove(self, agent, contact_key))
    }
    fn boxed_remove_expired(&self, now: DateTime<Utc>) -> BoxFuture<'_, Result<u64, BackendError>> {
        Box::pin(BindingStore::remove_expired(self, now))
    }
}
