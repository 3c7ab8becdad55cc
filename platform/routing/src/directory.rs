//! What the call engine needs to know about a dialed number, and the trait it asks through.
//!
//! [`Directory`] is implemented outside this crate (the binary, over the tenant store, with a
//! cache invalidated on change). Everything here is a read-only snapshot in the engine's own
//! terms: the engine never sees a table, a store error type or another tenant's data.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use hotline_core::ids::{AgentId, HotlineId, PromptId, QueueId, TenantId, TrunkId};
use thiserror::Error;

#[derive(Debug, Error)]
pub enum DirectoryError {
    /// The directory could not answer (database away); the call gets 503, not 404.
    #[error("directory unavailable: {0}")]
    Unavailable(String),
}

/// Number → route, and the names an IVR plugin uses inside its tenant.
pub trait Directory: Send + Sync + 'static {
    /// `Ok(None)` means the number is not Hotline's (404).
    fn lookup(
        &self,
        e164: &str,
    ) -> impl std::future::Future<Output = Result<Option<NumberRoute>, DirectoryError>> + Send;

    /// The tenant's queue, by id or by the name plugins use; `Ok(None)` when it has none.
    fn queue(
        &self,
        tenant_id: TenantId,
        queue: QueueRef<'_>,
    ) -> impl std::future::Future<Output = Result<Option<QueueRoute>, DirectoryError>> + Send;

    /// The agent serving the tenant with this SIP username.
    fn agent(
        &self,
        tenant_id: TenantId,
        username: &str,
    ) -> impl std::future::Future<Output = Result<Option<AgentId>, DirectoryError>> + Send;
}

/// How a queue is named: by hotline settings (id) or by a plugin (name).
#[derive(Clone, Copy, Debug)]
pub enum QueueRef<'a> {
    Id(QueueId),
    Name(&'a str),
}

/// A tenant's queue as the engine hands calls to it.
#[derive(Clone, Debug)]
pub struct QueueRoute {
    pub queue_id: QueueId,
    pub name: String,
    /// Longest a caller waits before the queue gives up.
    pub max_wait: Duration,
    /// Music on hold; `None`: the platform's ringback tone.
    pub moh_prompt_id: Option<PromptId>,
    /// Agents serving the tenant now, lowest penalty first.
    pub members: Vec<QueueMember>,
}

#[derive(Clone, Debug)]
pub struct QueueMember {
    pub agent_id: AgentId,
    pub skills: Vec<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TenantState {
    Active,
    Suspended,
}

/// The tenant a number belongs to, with the limits the engine enforces.
#[derive(Clone, Debug)]
pub struct TenantRoute {
    pub tenant_id: TenantId,
    pub slug: String,
    pub state: TenantState,
    pub time_zone: Tz,
    pub max_concurrent_calls: u32,
    pub max_calls_per_second: u32,
    /// CPU an IVR plugin may use per call.
    pub plugin_cpu_ms_per_call: u32,
}

/// Opening hours, evaluated by whoever owns the schedule model.
pub trait OpenHours: Send + Sync + std::fmt::Debug {
    fn is_open(&self, zone: Tz, at: DateTime<Utc>) -> bool;
}

/// Where a call goes when the leg it rang was not answered in time.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NoAnswerTarget {
    /// End the call with this SIP status (480 by default).
    Reject {
        status: u16,
    },
    ForwardAgent {
        agent_id: AgentId,
    },
    ForwardExternal {
        number: String,
        trunk_id: Option<TrunkId>,
    },
}

/// What the hotline does with a call in one branch of its schedule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HotlineAction {
    /// Refuse with a configured SIP status.
    Reject { status: u16 },
    /// Ring every registered contact of the agent; first answer wins.
    ForwardAgent {
        agent_id: AgentId,
        ring_timeout: Duration,
        no_answer: NoAnswerTarget,
    },
    /// Dial an external number through an outbound trunk (`None`: any trunk with room).
    ForwardExternal {
        number: String,
        trunk_id: Option<TrunkId>,
        ring_timeout: Duration,
        no_answer: NoAnswerTarget,
    },
    /// Answer, play one of the tenant's prompts, hang up (a closed hotline's message).
    Message { prompt_id: PromptId },
    /// Run the pinned IVR plugin; when it fails (trap, budget, bad outcome, missing plugin)
    /// `fallback` takes the call.
    Ivr {
        plugin: PluginPin,
        fallback: Box<HotlineAction>,
    },
    /// Put the caller in one of the tenant's queues (a hotline without a plugin, or a fallback).
    Queue { queue_id: QueueId },
    /// A branch the engine cannot carry out: it ends the call with this SIP status and says why
    /// in the log, rather than pretending.
    Unsupported { what: &'static str, status: u16 },
}

/// The plugin version a hotline runs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PluginPin {
    pub name: String,
    pub version: u32,
}

/// Whether the hotline's connected calls are recorded.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum RecordingPolicy {
    #[default]
    Never,
    /// From the moment the caller is connected to an agent or a number.
    Always,
    /// Only when the agent or the IVR asks.
    OnDemand,
}

#[derive(Clone, Debug)]
pub struct HotlineRoute {
    pub hotline_id: HotlineId,
    pub name: String,
    pub hours: Arc<dyn OpenHours>,
    pub open: HotlineAction,
    pub closed: HotlineAction,
    pub recording: RecordingPolicy,
    /// The language of the hotline's prompts (BCP 47), told to its IVR plugin.
    pub language: String,
}

/// A dialed number resolved.
#[derive(Clone, Debug)]
pub struct NumberRoute {
    pub e164: String,
    pub tenant: TenantRoute,
    /// `None`: the number is assigned to the tenant but points at no hotline (the call is refused).
    pub hotline: Option<HotlineRoute>,
}
