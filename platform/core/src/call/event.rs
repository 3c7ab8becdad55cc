//! The events a call emits while it runs, in order. They are the live feed (wallboard) and the
//! input of [`super::CallTimeline`], which folds them into the call record.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::record::{
    Direction, Disposition, EndCause, IvrOutcome, LegEnd, LegMedia, LegTarget, Party, QueueExit,
    RecordingRecord, ScheduleBranch, TransferTarget,
};
use crate::ids::{CallId, HotlineId, QueueId, TenantId, TrunkId};

/// One step of one call. `seq` increases by one per event of the call, so a consumer can tell
/// a gap or a replay from a new event.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallEvent {
    pub call_id: CallId,
    pub seq: u32,
    pub at: DateTime<Utc>,
    #[serde(flatten)]
    pub kind: CallEventKind,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum CallEventKind {
    /// The first INVITE was accepted for processing. `dialed` is E.164 when it could be normalized.
    Arrived {
        direction: Direction,
        caller: String,
        dialed: String,
        trunk_id: Option<TrunkId>,
    },
    /// The dialed number resolved to a tenant's hotline and the schedule picked a branch.
    Routed {
        tenant_id: TenantId,
        hotline_id: HotlineId,
        branch: ScheduleBranch,
    },
    /// Hotline answered the caller's leg itself (IVR, prompt) or the forwarded leg answered.
    Answered,
    IvrStarted,
    IvrFinished {
        outcome: IvrOutcome,
    },
    QueueEntered {
        queue_id: QueueId,
        priority: i32,
    },
    QueueLeft {
        queue_id: QueueId,
        exit: QueueExit,
    },
    /// A second leg (to an agent's phone or an external number) was created. `leg` is 1, 2, ...
    /// in creation order; leg 0 is always the caller's.
    LegCreated {
        leg: u16,
        target: LegTarget,
    },
    LegRinging {
        leg: u16,
        early_media: bool,
    },
    LegAnswered {
        leg: u16,
    },
    LegEnded {
        leg: u16,
        end: LegEnd,
    },
    HoldStarted {
        by: Party,
    },
    HoldEnded,
    Transferred {
        target: TransferTarget,
    },
    /// A variable set by the IVR plugin: travels into the record and the agent's screen pop.
    VarSet {
        name: String,
        value: String,
    },
    DispositionSet {
        disposition: Disposition,
    },
    /// A leg's media ended; its quality as measured over the leg's life.
    LegMediaEnded {
        media: LegMedia,
    },
    /// The call's recording started (its file is `key` under the tenant's prefix).
    RecordingStarted {
        key: String,
    },
    /// The recording was closed (at the end of the call, or earlier when it failed).
    RecordingStopped {
        recording: RecordingRecord,
    },
    /// The call is over. Always the last event of a call.
    Ended {
        cause: EndCause,
        hangup_by: Party,
    },
}

impl CallEventKind {
    /// A short name for logs and metrics labels.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Arrived { .. } => "arrived",
            Self::Routed { .. } => "routed",
            Self::Answered => "answered",
            Self::IvrStarted => "ivr_started",
            Self::IvrFinished { .. } => "ivr_finished",
            Self::QueueEntered { .. } => "queue_entered",
            Self::QueueLeft { .. } => "queue_left",
            Self::LegCreated { .. } => "leg_created",
            Self::LegRinging { .. } => "leg_ringing",
            Self::LegAnswered { .. } => "leg_answered",
            Self::LegEnded { .. } => "leg_ended",
            Self::HoldStarted { .. } => "hold_started",
            Self::HoldEnded => "hold_ended",
            Self::Transferred { .. } => "transferred",
            Self::VarSet { .. } => "var_set",
            Self::DispositionSet { .. } => "disposition_set",
            Self::LegMediaEnded { .. } => "leg_media_ended",
            Self::RecordingStarted { .. } => "recording_started",
            Self::RecordingStopped { .. } => "recording_stopped",
            Self::Ended { .. } => "ended",
        }
    }
}
