//! The agent's screen for a call, as the agent page asks for it: the hotline's pinned
//! agent-script plugin loaded from the registry (only a version the tenant can see), run in the
//! same sandbox as an IVR (CPU, memory, host-call rate, log and kv caps, the tenant's HTTP
//! allowlist), its log lines stored in the tenant's plugin log, and its answer or a reason.
//!
//! A failing script never breaks the agent's page: the caller shows the call without a script
//! and the tenant reads why in its plugin log. This module must never run a script of another
//! tenant, nor an IVR plugin as a script.

use chrono_tz::Tz;
use hotline_core::ids::CallId;
use hotline_core::TenantScope;

pub use crate::bindings::agent_script::hotline::plugin::agent_screen::{
    Accepted, Fact, Field, FieldError, FieldKind, FieldValue, Screen, Step, SubmitResult,
};
pub use crate::bindings::ivr::hotline::plugin::types::{CallInfo, Var};
use crate::error::StoreError;
use crate::host::run::{render_screen, submit_form, LoadedPlugin, ScriptCall, World};
use crate::limits::SandboxLimits;
use crate::registry::LoadError;
use crate::services::Plugins;

/// Fields a submitted form may carry, and the size of each value.
pub const MAX_FORM_FIELDS: usize = 100;
pub const MAX_FIELD_BYTES: usize = 4_096;

/// Which script to run for which call.
#[derive(Clone, Debug)]
pub struct ScriptRequest {
    /// The pinned plugin and version.
    pub plugin: String,
    pub version: u32,
    pub info: CallInfo,
    /// The call's variables now (those its IVR set included).
    pub vars: Vec<Var>,
    /// The tenant's time zone.
    pub zone: Tz,
    /// From the tenant's limits ([`SandboxLimits::for_tenant`]).
    pub limits: SandboxLimits,
    pub call_id: Option<CallId>,
}

/// Why there is no screen (or no answer to a submission).
#[derive(Debug, thiserror::Error)]
pub enum ScriptError {
    #[error("no plugin {name} version {version} is visible to this tenant")]
    NotFound { name: String, version: u32 },
    #[error("plugin {name} is an IVR plugin, not an agent script (world hotline:plugin/agent-script@0.1.0)")]
    NotAScript { name: String },
    #[error("the form has {fields} fields or a value over {MAX_FIELD_BYTES} bytes; at most {MAX_FORM_FIELDS} fields are accepted")]
    FormTooLarge { fields: usize },
    #[error("the agent script failed: {0}")]
    Failed(String),
    #[error(transparent)]
    Load(LoadError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl Plugins {
    /// What the agent's screen shows for the call.
    pub async fn render_screen(
        &self,
        scope: &TenantScope,
        request: ScriptRequest,
    ) -> Result<Screen, ScriptError> {
        let (plugin, call) = self.script(scope, request).await?;
        render_screen(self.registry().host(), &plugin, call)
            .await
            .result
            .map_err(ScriptError::Failed)
    }

    /// The agent submitted the screen's form.
    pub async fn submit_form(
        &self,
        scope: &TenantScope,
        request: ScriptRequest,
        form: Vec<FieldValue>,
    ) -> Result<SubmitResult, ScriptError> {
        if form.len() > MAX_FORM_FIELDS
            || form
                .iter()
                .any(|f| f.name.len() > MAX_FIELD_BYTES || f.value.len() > MAX_FIELD_BYTES)
        {
            return Err(ScriptError::FormTooLarge { fields: form.len() });
        }
        let (plugin, call) = self.script(scope, request).await?;
        submit_form(self.registry().host(), &plugin, call, form)
            .await
            .result
            .map_err(ScriptError::Failed)
    }

    async fn script(
        &self,
        scope: &TenantScope,
        request: ScriptRequest,
    ) -> Result<(LoadedPlugin, ScriptCall), ScriptError> {
        let plugin = match self
            .registry()
            .load(scope, &request.plugin, request.version)
            .await
        {
            Ok(plugin) => plugin,
            Err(LoadError::Store(StoreError::NotFound(_))) => {
                return Err(ScriptError::NotFound {
                    name: request.plugin,
                    version: request.version,
                })
            }
            Err(err) => return Err(ScriptError::Load(err)),
        };
        if plugin.prepared.world() != World::AgentScript {
            return Err(ScriptError::NotAScript {
                name: request.plugin,
            });
        }
        let call = ScriptCall {
            info: request.info,
            vars: request.vars,
            zone: request.zone,
            limits: request.limits,
            services: self.services(scope).await?,
            call_id: request.call_id,
            log: Some(self.log_sink(scope)),
        };
        Ok((plugin, call))
    }
}
