//! The wasmtime host for tenants' plugins: the `hotline:plugin` WIT worlds (IVR and agent
//! script), the sandbox (CPU, memory, host-call and log limits per tenant), the plugin registry
//! of immutable, precompiled versions, and the offline simulator.
//!
//! A plugin sees only its own call and its own tenant's data; this crate must never hand a
//! guest anything another tenant owns.
//!
//! The call engine runs a hotline's IVR through [`host::run::run_ivr`] with its own
//! [`CallControl`] and the tenant's services and log sink from [`Plugins`]; the agent page asks
//! [`Plugins::render_screen`] and [`Plugins::submit_form`] ([`agent_script`]); the simulator runs
//! scripted calls ([`simulate`]).

pub mod agent_script;
pub mod allowlist;
pub mod bindings;
pub mod call_control;
pub mod error;
pub mod host;
mod host_calls;
pub use host_calls::local_time;
pub mod http_client;
pub mod kv;
pub mod limits;
pub mod outcome;
pub mod plugin_log;
pub mod registry;
pub mod services;
pub mod settings;
pub mod simulate;
pub mod transcript;

pub use call_control::CallControl;
pub use host::run::{run_ivr, IvrCall, IvrReport, LoadedPlugin, Prepared, World};
pub use host::{CallServices, HostConfig, PluginHost, PluginIdentity};
pub use limits::SandboxLimits;
pub use services::Plugins;
