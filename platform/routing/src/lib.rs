//! The call engine: one task per call, from the inbound leg through the hotline's schedule,
//! the IVR plugin, the ACD queues and the agent leg to the final call record.
//!
//! It knows no storage: what it needs from the outside is a small trait it owns
//! ([`Directory`] for number → tenant/hotline, [`CallRecordSink`] for finished records,
//! [`AgentLocator`] and [`OutboundTrunks`] for where forwarded calls ring), implemented by the
//! binary over `tenants`, `billing` and the SIP registrar. It must never depend on those crates.
//!
//! Map: [`decide`] is the pure routing decision; [`limits`] the per-tenant call limits;
//! `call` the task per call (ring, bridge, media anchoring, the live IVR, queues, record
//! spool); [`hold`] reads hold/resume from SDP; [`ivr`] and [`prompts`] are what the binary
//! provides for plugins and audio.

mod call;
pub mod decide;
pub mod directory;
pub mod hold;
pub mod ivr;
pub mod limits;
pub mod prompts;
pub mod sink;
pub mod targets;

pub use call::Engine;
pub use call::EngineParts;
pub use directory::{
    Directory, DirectoryError, HotlineAction, HotlineRoute, NoAnswerTarget, NumberRoute, OpenHours,
    PluginPin, QueueMember, QueueRef, QueueRoute, RecordingPolicy, TenantRoute, TenantState,
};
pub use ivr::{IvrRun, IvrRunner};
pub use prompts::{PromptLookupError, PromptSource, RecordingFiles};
pub use sink::{CallRecordSink, SinkError};
pub use targets::{AgentContact, AgentLocator, OutboundRoute, OutboundTrunks};
