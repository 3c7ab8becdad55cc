//! Running a hotline's IVR plugin on a live call. The engine owns the call (its legs, its
//! media) and hands the plugin host a [`CallControl`] over it; loading the pinned plugin,
//! the tenant's kv store, HTTP allowlist and plugin log are the binary's, behind [`IvrRunner`],
//! so this crate stays free of storage.
//!
//! An implementation must run only the named tenant's plugin (or a platform catalog plugin the
//! tenant may use), with that tenant's services and limits; a plugin that cannot be loaded is a
//! failed run (the report's `fallback` says why), never a dead call.

use async_trait::async_trait;
use chrono_tz::Tz;
use hotline_core::ids::{CallId, TenantId};
pub use hotline_plugins::bindings::ivr::hotline::plugin::types::{
    CallInfo, ScheduleBranch as PluginBranch, Var,
};
pub use hotline_plugins::{CallControl, IvrReport};

use crate::directory::PluginPin;

/// One run of a pinned plugin on one call.
pub struct IvrRun {
    pub tenant_id: TenantId,
    /// The tenant's time zone: the plugin's clock reads in it.
    pub zone: Tz,
    /// The tenant's CPU budget for one call's plugin.
    pub cpu_ms_per_call: u32,
    pub plugin: PluginPin,
    pub call_id: CallId,
    pub info: CallInfo,
    pub control: Box<dyn CallControl>,
}

#[async_trait]
pub trait IvrRunner: Send + Sync + 'static {
    /// Run the plugin to its end. Dropping the future (the caller gone, shutdown) leaves nothing
    /// behind.
    async fn run(&self, run: IvrRun) -> IvrReport;
}
