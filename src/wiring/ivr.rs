//! The call engine's IVR runner over the plugin side: the hotline's pinned plugin loaded from
//! the registry inside the call's tenant (its own plugin, or a catalog plugin it may use), run
//! with that tenant's kv store, HTTP allowlist, CPU budget and plugin log.
//!
//! A plugin that cannot be loaded (unpinned since, removed, the database away) is a failed run:
//! the report sends the call to the hotline's fallback and the tenant's plugin log says why.

use std::sync::Arc;

use hotline_core::call::IvrOutcome;
use hotline_core::TenantScope;
use hotline_plugins::plugin_log::{LogLevel, LogLine, LogSource};
use hotline_plugins::{IvrCall, IvrReport, Plugins, SandboxLimits};
use hotline_routing::{IvrRun, IvrRunner};

pub struct PluginIvr {
    plugins: Plugins,
}

impl PluginIvr {
    pub fn new(plugins: Plugins) -> Self {
        Self { plugins }
    }

    /// The report of a run that never started, with the reason in the tenant's log.
    async fn failed(&self, scope: &TenantScope, run: IvrRun, reason: String) -> IvrReport {
        tracing::warn!(plugin = run.plugin.name, version = run.plugin.version, %reason, "the hotline's plugin did not run");
        let line = LogLine {
            id: uuid::Uuid::now_v7(),
            at: hotline_core::time::now(),
            call_id: Some(run.call_id),
            plugin: run.plugin.name.clone(),
            version: run.plugin.version,
            level: LogLevel::Error,
            source: LogSource::Host,
            message: format!("the plugin did not run: {reason}"),
        };
        if let Err(error) = self
            .plugins
            .log_sink(scope)
            .write(std::slice::from_ref(&line))
            .await
        {
            tracing::warn!(%error, "the plugin log could not be written");
        }
        IvrReport {
            outcome: IvrOutcome::Failed {
                reason: reason.clone(),
            },
            fallback: Some(reason),
            hang_up: false,
            vars: Vec::new(),
            log: vec![line],
            cpu: std::time::Duration::ZERO,
            host_calls: 0,
            control: Some(run.control),
        }
    }
}

#[async_trait::async_trait]
impl IvrRunner for PluginIvr {
    async fn run(&self, run: IvrRun) -> IvrReport {
        let scope = TenantScope::from_verified(run.tenant_id);
        let plugin = match self
            .plugins
            .registry()
            .load(&scope, &run.plugin.name, run.plugin.version)
            .await
        {
            Ok(plugin) => plugin,
            Err(error) => return self.failed(&scope, run, error.to_string()).await,
        };
        let services = match self.plugins.services(&scope).await {
            Ok(services) => services,
            Err(error) => {
                let reason = format!("the tenant's plugin settings are unavailable: {error}");
                return self.failed(&scope, run, reason).await;
            }
        };
        let host: Arc<hotline_plugins::PluginHost> = self.plugins.registry().host().clone();
        hotline_plugins::run_ivr(
            &host,
            &plugin,
            IvrCall {
                info: run.info,
                zone: run.zone,
                limits: SandboxLimits::for_tenant(run.cpu_ms_per_call),
                control: run.control,
                services,
                call_id: Some(run.call_id),
                transcript: None,
                log: Some(self.plugins.log_sink(&scope)),
            },
        )
        .await
    }
}
