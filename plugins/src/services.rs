//! The installation's plugin side, as the API, the agent page and the call engine's adapter use
//! it: the registry, the tenants' kv stores, plugin settings and logs, and the live HTTP
//! transport. For one tenant's run it makes the run's [`CallServices`] (kv bound to the tenant,
//! HTTP checked against the tenant's stored allowlist) and its [`LogSink`].
//!
//! Everything it hands out is bound to the scope it was asked with; it must never give one
//! tenant's run another tenant's store, allowlist or log.

use std::sync::Arc;

use hotline_core::{Db, TenantScope};

use crate::error::StoreResult;
use crate::host::CallServices;
use crate::http_client::HttpFetch;
use crate::kv::KvStore;
use crate::plugin_log::{LogSink, PluginLogStore};
use crate::registry::Registry;
use crate::settings::SettingsStore;

#[derive(Clone)]
pub struct Plugins {
    registry: Registry,
    kv: KvStore,
    settings: SettingsStore,
    log: PluginLogStore,
    http: Arc<dyn HttpFetch>,
}

impl Plugins {
    /// `db` is the registry's database; `http` the transport live runs send through
    /// ([`crate::http_client::ReqwestFetch`]).
    pub fn new(registry: Registry, db: Db, http: Arc<dyn HttpFetch>) -> Self {
        Self {
            registry,
            kv: KvStore::new(db.clone()),
            settings: SettingsStore::new(db.clone()),
            log: PluginLogStore::new(db),
            http,
        }
    }

    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    pub fn settings(&self) -> &SettingsStore {
        &self.settings
    }

    pub fn log(&self) -> &PluginLogStore {
        &self.log
    }

    pub fn kv(&self) -> &KvStore {
        &self.kv
    }

    /// What a run of the tenant's plugin may reach: its kv store, and HTTP to the hosts its
    /// settings allow (read now: a changed allowlist applies from the next run).
    pub async fn services(&self, scope: &TenantScope) -> StoreResult<CallServices> {
        let settings = self.settings.get(scope).await?;
        Ok(CallServices {
            kv: Arc::new(self.kv.for_tenant(*scope)),
            http: self.http.clone(),
            allow: settings.allowlist(),
        })
    }

    /// Where a run of the tenant's plugin stores its log lines.
    pub fn log_sink(&self, scope: &TenantScope) -> LogSink {
        LogSink::new(self.log.clone(), *scope)
    }
}
