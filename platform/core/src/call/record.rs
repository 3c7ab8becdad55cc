//! The call record (CDR): everything a finished call leaves behind, shaped for the KPIs of
//! `shared/KPIS.md` and for metering. Raw timestamps and intervals only; figures are computed
//! from them, so any figure can be explained from the records.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::ids::{AgentId, CallId, HotlineId, QueueId, TenantId, TrunkId};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    Inbound,
    Outbound,
}

/// Which branch of the hotline's schedule the call took on arrival.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ScheduleBranch {
    Open,
    Closed,
}

/// Who did something (hung up, put on hold, transferred). `Callee` is the far end of an
/// outbound leg to an external number; `System` is Hotline itself (timeouts, limits, shutdown).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Party {
    Caller,
    Agent,
    Callee,
    System,
}

/// Where the call was when it ended: lost calls are counted per phase (KPIS.md 3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// Before the hotline took the call (number lookup, limits, schedule).
    Routing,
    Ivr,
    Queue,
    /// A second leg was ringing and none had answered.
    Ringing,
    /// Connected to an agent or an external party.
    Talking,
}

/// How the IVR plugin ended its part (KPIS.md 12 and 13).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum IvrOutcome {
    /// The plugin ended the call having answered the caller's question.
    SelfServed,
    /// The plugin enqueued or transferred the caller to a person.
    Operator,
    /// The caller hung up in the IVR.
    CallerHungUp,
    /// The plugin trapped, ran over budget or returned garbage; the hotline's fallback took over.
    Failed { reason: String },
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct IvrSegment {
    pub started_at: DateTime<Utc>,
    pub ended_at: Option<DateTime<Utc>>,
    pub outcome: Option<IvrOutcome>,
}

/// Why a call left a queue (KPIS.md 1, 2, 11).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "exit", rename_all = "snake_case")]
pub enum QueueExit {
    Answered,
    /// The caller hung up while waiting.
    Abandoned,
    /// The queue's wait limit ran out with nowhere to overflow to.
    Timeout,
    Overflow {
        to: Option<QueueId>,
    },
    /// Moved on by a transfer or the IVR.
    Transferred,
    /// No agent could take calls.
    NoAgents,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct QueueVisit {
    pub queue_id: QueueId,
    pub priority: i32,
    pub entered_at: DateTime<Utc>,
    pub left_at: Option<DateTime<Utc>>,
    pub exit: Option<QueueExit>,
}

/// What a second leg dialed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "target", rename_all = "snake_case")]
pub enum LegTarget {
    Agent { agent_id: AgentId },
    External { number: String, trunk_id: TrunkId },
}

/// How a second leg ended.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "end", rename_all = "snake_case")]
pub enum LegEnd {
    HungUp {
        by: Party,
    },
    NoAnswer,
    Busy,
    /// The far end refused with a final SIP status other than busy.
    Declined {
        status: u16,
    },
    /// Hotline cancelled it: another contact answered first, or the caller gave up.
    Cancelled,
    /// It never reached the far end (transport error, trunk over its limit, timeout).
    Failed {
        status: u16,
    },
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct LegRecord {
    /// 1, 2, ... in creation order; the caller's leg is 0 and has no entry here.
    pub leg: u16,
    pub target: LegTarget,
    pub created_at: DateTime<Utc>,
    pub ringing_at: Option<DateTime<Utc>>,
    pub answered_at: Option<DateTime<Utc>>,
    pub ended_at: Option<DateTime<Utc>>,
    pub end: Option<LegEnd>,
}

impl LegRecord {
    /// Milliseconds from answer to end; zero for a leg that was never answered.
    pub fn connected_ms(&self) -> i64 {
        match (self.answered_at, self.ended_at) {
            (Some(from), Some(to)) => (to - from).num_milliseconds().max(0),
            _ => 0,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct HoldInterval {
    pub started_at: DateTime<Utc>,
    pub ended_at: Option<DateTime<Utc>>,
    pub by: Party,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "target", rename_all = "snake_case")]
pub enum TransferTarget {
    Queue { queue_id: QueueId },
    Agent { agent_id: AgentId },
    External { number: String },
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TransferRecord {
    pub at: DateTime<Utc>,
    pub target: TransferTarget,
}

/// The agent's verdict on a call (KPIS.md 4).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Disposition {
    pub code: String,
    pub resolved: bool,
    pub agent_id: Option<AgentId>,
}

/// Why Hotline refused a call before anyone answered it.
///
/// Only calls the engine took up have a record. What the SIP stack turns away before that —
/// INVITEs from addresses that are not trunks, loops, exhausted Max-Forwards, overload — is no
/// customer's call (scanners send thousands); it is counted in metrics, not stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RejectReason {
    UnknownNumber,
    TenantSuspended,
    /// The tenant's concurrent-call or calls-per-second limit.
    OverLimit,
    /// The hotline is closed and its closed action rejects.
    Closed,
    /// The hotline's action is a configured rejection.
    Configured,
    /// Hotline itself was over its capacity.
    Overload,
    /// Nothing left to try (no contact registered, no trunk available, no-answer target empty).
    NoRoute,
    /// The caller's SDP offer had nothing Hotline speaks (no G.711, secure profiles only); 488.
    MediaNotAcceptable,
}

/// What one leg's media was like, for the record (0 is the caller's leg). Whole numbers so the
/// record stays exact and comparable: jitter in microseconds.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct LegMedia {
    pub leg: u16,
    /// The codec the leg settled on (`PCMU`, `PCMA`).
    pub codec: String,
    pub packets_in: u64,
    pub packets_out: u64,
    /// Packets expected from the far end and never received.
    pub lost: u64,
    /// Datagrams refused (malformed, unknown payload type, not the latched source).
    pub ignored: u64,
    /// Interarrival jitter at the end (RFC 3550 A.8) and the most seen, in microseconds.
    pub jitter_us: u64,
    pub max_jitter_us: u64,
    /// Round trip measured with RTCP, when the far end answered our reports.
    pub rtt_ms: Option<u32>,
}

/// The call's recording: where the file is (a storage key under the tenant's prefix) and how
/// much of it is sound.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RecordingRecord {
    pub key: String,
    pub started_at: DateTime<Utc>,
    pub duration_ms: u64,
    /// Time written as silence while the recording was paused (a card number being read).
    pub paused_ms: u64,
    /// Why it stopped before the call did, if it did (disk full, storage gone).
    pub failed: Option<String>,
}

/// How the call as a whole ended.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "cause", rename_all = "snake_case")]
pub enum EndCause {
    /// Connected, then someone hung up.
    Completed,
    /// The caller hung up before being connected to anyone (in IVR, queue or while ringing).
    Abandoned,
    /// Refused before anyone answered; `status` is the SIP final response sent.
    Rejected { reason: RejectReason, status: u16 },
    /// Every leg rang out and no further target was configured.
    NoAnswer,
    /// The IVR ended the call itself (self-service or a plugin hang-up).
    IvrHangup,
    /// No media for longer than the configured limit.
    MediaTimeout,
    /// Signalling failed (transport error, timer expiry) after the call was accepted.
    Failed { status: u16 },
    /// The process was shutting down.
    Shutdown,
}

/// The final record of one call. `leg 0` is the caller's leg; `legs` lists the second legs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CallRecord {
    pub call_id: CallId,
    pub direction: Direction,
    /// `None` only for calls refused before the dialed number resolved to a tenant.
    pub tenant_id: Option<TenantId>,
    pub hotline_id: Option<HotlineId>,
    pub trunk_id: Option<TrunkId>,
    pub caller: String,
    pub dialed: String,
    pub branch: Option<ScheduleBranch>,
    pub arrived_at: DateTime<Utc>,
    /// When the caller's leg was answered (by Hotline for the IVR, or by the forwarded leg).
    pub answered_at: Option<DateTime<Utc>>,
    pub ivr: Option<IvrSegment>,
    pub queues: Vec<QueueVisit>,
    pub legs: Vec<LegRecord>,
    /// The first agent who answered, and when (KPIS.md 1, 5, 6).
    pub agent_id: Option<AgentId>,
    pub agent_answered_at: Option<DateTime<Utc>>,
    pub holds: Vec<HoldInterval>,
    pub transfers: Vec<TransferRecord>,
    pub vars: BTreeMap<String, String>,
    pub disposition: Option<Disposition>,
    pub ended_at: DateTime<Utc>,
    pub end_cause: EndCause,
    pub hangup_by: Party,
    pub phase_at_end: Phase,
    /// Media quality per leg whose media Hotline carried (empty for calls without media).
    #[serde(default)]
    pub media: Vec<LegMedia>,
    #[serde(default)]
    pub recording: Option<RecordingRecord>,
}

impl CallRecord {
    /// Milliseconds from the caller's answer to the end; zero when never answered.
    pub fn answered_ms(&self) -> i64 {
        self.answered_at
            .map(|at| (self.ended_at - at).num_milliseconds().max(0))
            .unwrap_or(0)
    }

    /// Total milliseconds on hold.
    pub fn hold_ms(&self) -> i64 {
        self.holds
            .iter()
            .map(|hold| {
                let end = hold.ended_at.unwrap_or(self.ended_at);
                (end - hold.started_at).num_milliseconds().max(0)
            })
            .sum()
    }

    /// Whether an agent (not only the IVR or an external party) handled the call.
    pub fn reached_agent(&self) -> bool {
        self.agent_answered_at.is_some()
    }
}
