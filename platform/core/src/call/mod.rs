//! Calls as the rest of Hotline sees them: the events a call emits while it runs, the agent
//! state changes beside them, and the call record (CDR) they fold into at hang-up.
//!
//! The call engine (`routing`) emits [`CallEvent`]s; [`CallTimeline`] folds them into the final
//! [`CallRecord`]; `billing` meters the record and the console computes the KPIs of
//! `shared/KPIS.md` from records and events. Every KPI must be recomputable from what is here, so
//! the record keeps raw timestamps and intervals, never derived counters.
//!
//! This module holds shapes and the pure fold only: it never stores, sends or rates anything.

mod agent_state;
mod event;
mod record;
mod timeline;

pub use agent_state::{AgentState, AgentStateChange};
pub use event::{CallEvent, CallEventKind};
pub use record::{
    CallRecord, Direction, Disposition, EndCause, HoldInterval, IvrOutcome, IvrSegment, LegEnd,
    LegMedia, LegRecord, LegTarget, Party, Phase, QueueExit, QueueVisit, RecordingRecord,
    RejectReason, ScheduleBranch, TransferRecord, TransferTarget,
};
pub use timeline::{CallTimeline, TimelineError};
