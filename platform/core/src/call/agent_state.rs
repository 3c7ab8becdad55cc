//! Agent states over time: the timeline that after-call work, handle time and occupancy
//! (KPIS.md 9, 10, 14) are computed from. A change is recorded, never a running total.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::ids::{AgentId, CallId, TenantId};

/// What an agent is doing. `WrapUp` is after-call work: the call ended, the agent is not yet
/// available again.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum AgentState {
    LoggedOut,
    Available,
    Ringing,
    Talking,
    OnHold,
    WrapUp,
    Paused { reason: String },
}

/// One change of an agent's state. `tenant_id` is the tenant whose call caused the change
/// (a firm agent serves several tenants), or `None` for changes outside a call (log in, pause).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AgentStateChange {
    pub agent_id: AgentId,
    pub tenant_id: Option<TenantId>,
    pub call_id: Option<CallId>,
    pub at: DateTime<Utc>,
    pub state: AgentState,
}
