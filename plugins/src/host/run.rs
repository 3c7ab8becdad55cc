//! Running a plugin for one call: a fresh instance in a fresh `Store` with the call's CPU
//! meter, memory limiter and services, the export called, and the result decided
//! ([`crate::outcome::decide`]) into a report with the tenant's log lines.
//!
//! The futures here are `Send` and cancellation-safe: dropping one mid-call drops the store and
//! its instance and leaves nothing behind but the call's log lines, which the run's
//! [`LogGuard`] stores in the tenant's plugin log however the run ends (one batch at the end, or
//! a write spawned from its drop when the run is cut off).

use std::time::Duration;

use chrono_tz::Tz;
use hotline_core::call::IvrOutcome;
use hotline_core::ids::CallId;
use wasmtime::component::Component;
use wasmtime::{Store, UpdateDeadline};

use super::meter::Verdict;
use super::state::{CallServices, CallState, Fault, PluginIdentity};
use super::PluginHost;
use crate::bindings::agent_script::hotline::plugin::agent_screen::{
    FieldValue, Screen, SubmitResult,
};
use crate::bindings::agent_script::{self, AgentScriptPre};
use crate::bindings::ivr::hotline::plugin::types::{CallInfo, Var};
use crate::bindings::ivr::IvrPre;
use crate::call_control::CallControl;
use crate::limits::SandboxLimits;
use crate::outcome::{decide, Decision};
use crate::plugin_log::{LogGuard, LogLevel, LogLine, LogSink, RunLog};
use crate::transcript::Transcript;

/// Which world a component targets.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum World {
    Ivr,
    AgentScript,
}

impl World {
    pub fn as_str(self) -> &'static str {
        match self {
            World::Ivr => "ivr",
            World::AgentScript => "agent-script",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "ivr" => Some(World::Ivr),
            "agent-script" => Some(World::AgentScript),
            _ => None,
        }
    }
}

impl std::fmt::Display for World {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "hotline:plugin/{}@0.1.0", self.as_str())
    }
}

/// A component linked against the host, ready to instantiate per call.
#[derive(Clone)]
pub enum Prepared {
    Ivr(IvrPre<CallState>),
    AgentScript(AgentScriptPre<CallState>),
}

impl Prepared {
    pub fn world(&self) -> World {
        match self {
            Prepared::Ivr(_) => World::Ivr,
            Prepared::AgentScript(_) => World::AgentScript,
        }
    }
}

/// A plugin version ready to run.
#[derive(Clone)]
pub struct LoadedPlugin {
    pub identity: PluginIdentity,
    pub prepared: Prepared,
}

impl PluginHost {
    /// Link a compiled component against the host and check it against `world`: every import
    /// resolves, and the exports have the world's names and types.
    pub fn prepare(&self, component: &Component, world: World) -> wasmtime::Result<Prepared> {
        let pre = self.linker().instantiate_pre(component)?;
        Ok(match world {
            World::Ivr => Prepared::Ivr(IvrPre::new(pre)?),
            World::AgentScript => Prepared::AgentScript(AgentScriptPre::new(pre)?),
        })
    }

    fn store(&self, state: CallState) -> Store<CallState> {
        let mut store = Store::new(self.engine(), state);
        store.limiter(|s| s.limiter());
        store.set_epoch_deadline(1);
        store.epoch_deadline_callback(|mut ctx| {
            let state = ctx.data_mut();
            match state.meter.on_deadline() {
                Verdict::Yield => Ok(UpdateDeadline::YieldCustom(1, state.meter.yield_now())),
                Verdict::Exhausted => {
                    let fault = Fault::CpuBudget {
                        budget_ms: state.meter.budget().as_millis() as u64,
                    };
                    state.fault = Some(fault.clone());
                    Err(wasmtime::format_err!("{fault}"))
                }
            }
        });
        store.data_mut().meter.start();
        store
    }
}

/// What a run's store is made of.
struct RunParts {
    limits: SandboxLimits,
    control: Option<Box<dyn CallControl>>,
    vars: Vec<(String, String)>,
    services: CallServices,
    zone: Tz,
    call_id: Option<CallId>,
    transcript: Option<Transcript>,
    log: Option<LogSink>,
}

impl PluginHost {
    /// A run's store, and the guard that stores its log lines however the run ends.
    fn begin(&self, plugin: &LoadedPlugin, parts: RunParts) -> (Store<CallState>, LogGuard) {
        let lines = RunLog::default();
        let guard = LogGuard::new(
            lines.clone(),
            parts.log,
            plugin.identity.clone(),
            parts.call_id,
        );
        let state = CallState::new(
            parts.limits,
            self.tick_clock(),
            parts.control,
            parts.vars,
            parts.services,
            parts.zone,
            parts.call_id,
            plugin.identity.clone(),
            parts.transcript,
            lines,
        );
        (self.store(state), guard)
    }
}

/// One IVR call to run.
pub struct IvrCall {
    pub info: CallInfo,
    /// The tenant's time zone (`clock` answers in it).
    pub zone: Tz,
    pub limits: SandboxLimits,
    pub control: Box<dyn CallControl>,
    pub services: CallServices,
    pub call_id: Option<CallId>,
    /// Set by the simulator: the host writes its events into it.
    pub transcript: Option<Transcript>,
    /// The tenant's plugin log: the run stores its lines there itself, even when it is dropped
    /// mid-call. `None` (the simulator): the lines are only in the report.
    pub log: Option<LogSink>,
}

/// How an IVR run ended.
pub struct IvrReport {
    /// For the call record.
    pub outcome: IvrOutcome,
    /// `Some(reason)`: route the call to the hotline's fallback.
    pub fallback: Option<String>,
    /// The plugin served the caller and left the call up: hang up.
    pub hang_up: bool,
    /// The call's variables at the end (for the call record and the screen pop).
    pub vars: Vec<(String, String)>,
    /// The run's lines (the plugin's and the host's), already stored in the tenant's plugin log
    /// when the call had a [`LogSink`].
    pub log: Vec<LogLine>,
    /// CPU charged to the guest.
    pub cpu: Duration,
    pub host_calls: u32,
    /// The call control, handed back (the engine goes on with the call).
    pub control: Option<Box<dyn CallControl>>,
}

/// Why a run failed, from the guest's error and the state's record of what the host stopped.
fn fault_reason(state: &CallState, err: &wasmtime::Error) -> String {
    if let Some(fault) = &state.fault {
        return fault.to_string();
    }
    if state.memory_cap_hit() {
        return Fault::Memory {
            cap_mib: state.sandbox.memory_bytes >> 20,
        }
        .to_string();
    }
    let mut reason = match err.downcast_ref::<wasmtime::Trap>() {
        Some(trap) => format!("trap: {trap}"),
        None => {
            let text = format!("{err:#}");
            let first = text.lines().next().unwrap_or("error").to_string();
            format!("trap: {first}")
        }
    };
    let stderr = state.stderr_text();
    if !stderr.is_empty() {
        reason.push_str(&format!(
            " ({})",
            stderr.lines().take(3).collect::<Vec<_>>().join(" ")
        ));
    }
    reason
}

/// Run the IVR of `plugin` for one call.
pub async fn run_ivr(host: &PluginHost, plugin: &LoadedPlugin, call: IvrCall) -> IvrReport {
    let vars: Vec<(String, String)> = call
        .info
        .vars
        .iter()
        .map(|v| (v.name.clone(), v.value.clone()))
        .collect();
    let (mut store, guard) = host.begin(
        plugin,
        RunParts {
            limits: call.limits.clone(),
            control: Some(call.control),
            vars,
            services: call.services,
            zone: call.zone,
            call_id: call.call_id,
            transcript: call.transcript,
            log: call.log,
        },
    );
    let wall_clock = call.limits.wall_clock;
    let returned = match &plugin.prepared {
        Prepared::Ivr(pre) => {
            let run = async {
                let instance = pre.instantiate_async(&mut store).await?;
                instance.call_handle_call(&mut store, &call.info).await
            };
            match tokio::time::timeout(wall_clock, run).await {
                Ok(Ok(outcome)) => Ok(outcome),
                Ok(Err(err)) => Err(fault_reason(store.data(), &err)),
                Err(_) => Err(Fault::WallClock {
                    secs: wall_clock.as_secs(),
                }
                .to_string()),
            }
        }
        Prepared::AgentScript(_) => Err(
            "this plugin is an agent script, not an IVR (world hotline:plugin/agent-script@0.1.0)"
                .to_string(),
        ),
    };
    let mut state = store.into_data();
    let decision = decide(returned, state.progress);
    finish(&mut state, &decision);
    let log = guard.finish().await;
    IvrReport {
        outcome: decision.outcome,
        fallback: decision.fallback,
        hang_up: decision.hang_up,
        vars: std::mem::take(&mut state.vars),
        log,
        cpu: state.meter.used(),
        host_calls: state.host_calls,
        control: state.control.take(),
    }
}

/// The run's last lines: the failure in the tenant's log, the outcome in the transcript.
fn finish(state: &mut CallState, decision: &Decision) {
    if let Some(reason) = &decision.fallback {
        state.note("fault", reason);
        state.host_line(
            LogLevel::Error,
            format!("the plugin failed ({reason}); the hotline's fallback took the call"),
        );
    } else if let Some(failure) = &decision.failure {
        state.note("fault", failure);
        state.host_line(LogLevel::Error, format!("the plugin failed ({failure})"));
    }
    let shown = match (&decision.outcome, &decision.fallback) {
        (_, Some(reason)) => format!("fallback: {reason}"),
        (IvrOutcome::SelfServed, None) => "self-served".into(),
        (IvrOutcome::Operator, None) => "operator".into(),
        (IvrOutcome::CallerHungUp, None) => "caller-hung-up".into(),
        (IvrOutcome::Failed { reason }, None) => format!("failed: {reason}"),
    };
    state.note("outcome", shown);
}

/// One agent-script call to run (`render` or `submit`).
pub struct ScriptCall {
    pub info: CallInfo,
    pub vars: Vec<Var>,
    pub zone: Tz,
    pub limits: SandboxLimits,
    pub services: CallServices,
    pub call_id: Option<CallId>,
    /// The tenant's plugin log (see [`IvrCall::log`]).
    pub log: Option<LogSink>,
}

/// What an agent script answered, and its log lines.
#[derive(Debug)]
pub struct ScriptReport<T> {
    /// `Err(reason)` when the script failed; the console then shows the call without a script.
    pub result: Result<T, String>,
    pub log: Vec<LogLine>,
}

async fn run_script<T, F>(
    host: &PluginHost,
    plugin: &LoadedPlugin,
    call: ScriptCall,
    f: F,
) -> ScriptReport<T>
where
    F: for<'a> FnOnce(
        &'a agent_script::AgentScript,
        &'a mut Store<CallState>,
        &'a CallInfo,
        &'a [Var],
    ) -> std::pin::Pin<
        Box<dyn std::future::Future<Output = wasmtime::Result<T>> + Send + 'a>,
    >,
    T: Send,
{
    let (mut store, guard) = host.begin(
        plugin,
        RunParts {
            limits: call.limits.clone(),
            control: None,
            vars: Vec::new(),
            services: call.services,
            zone: call.zone,
            call_id: call.call_id,
            transcript: None,
            log: call.log,
        },
    );
    let result = match &plugin.prepared {
        Prepared::AgentScript(pre) => {
            let run = async {
                let instance = pre.instantiate_async(&mut store).await?;
                f(&instance, &mut store, &call.info, &call.vars).await
            };
            match tokio::time::timeout(call.limits.wall_clock, run).await {
                Ok(Ok(value)) => Ok(value),
                Ok(Err(err)) => Err(fault_reason(store.data(), &err)),
                Err(_) => Err(Fault::WallClock {
                    secs: call.limits.wall_clock.as_secs(),
                }
                .to_string()),
            }
        }
        Prepared::Ivr(_) => Err("this plugin is an IVR, not an agent script".to_string()),
    };
    let mut state = store.into_data();
    if let Err(reason) = &result {
        state.host_line(
            LogLevel::Error,
            format!("the agent script failed ({reason})"),
        );
    }
    drop(state);
    ScriptReport {
        result,
        log: guard.finish().await,
    }
}

/// The agent's screen for a call.
pub async fn render_screen(
    host: &PluginHost,
    plugin: &LoadedPlugin,
    call: ScriptCall,
) -> ScriptReport<Screen> {
    run_script(host, plugin, call, |instance, store, info, vars| {
        Box::pin(async move { instance.call_render(store, info, vars).await })
    })
    .await
}

/// The agent submitted the form.
pub async fn submit_form(
    host: &PluginHost,
    plugin: &LoadedPlugin,
    call: ScriptCall,
    form: Vec<FieldValue>,
) -> ScriptReport<SubmitResult> {
    run_script(host, plugin, call, move |instance, store, info, vars| {
        Box::pin(async move { instance.call_submit(store, info, vars, &form).await })
    })
    .await
}
