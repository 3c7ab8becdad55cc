//! Metered usage: what rating consumes. One [`MeteredUsage`] is one metric measured on one leg of
//! one call, with its UTC start and end.
//!
//! The metering step (a later part of billing) turns a final call record from `hotline_core`
//! into these; rating never sees a call record. Which interval each [`Metric`] measures is
//! decided there and written on the variants below so both sides read the same definition.
//!
//! This module holds data only: no rating, no IO.

use std::fmt;

use chrono::{DateTime, Utc};
use hotline_core::ids::CallId;
use serde::{Deserialize, Serialize};

/// What a tariff can price per minute. Each contract picks the metrics it bills.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Metric {
    /// Inbound calls, from the answer to the end of the caller's leg.
    InboundMinutes,
    /// Time agents handled calls: from the agent's answer to the end of the agent's leg.
    AgentMinutes,
    /// Inbound calls that never reached an agent (IVR-only), answer to end.
    IvrMinutes,
    /// Outbound calls, from the callee's answer to the end.
    OutboundMinutes,
}

impl Metric {
    pub const ALL: [Metric; 4] = [
        Metric::InboundMinutes,
        Metric::AgentMinutes,
        Metric::IvrMinutes,
        Metric::OutboundMinutes,
    ];

    /// The name printed on invoices.
    pub fn label(self) -> &'static str {
        match self {
            Metric::InboundMinutes => "Inbound minutes",
            Metric::AgentMinutes => "Agent-handled minutes",
            Metric::IvrMinutes => "IVR-only minutes",
            Metric::OutboundMinutes => "Outbound minutes",
        }
    }
}

impl fmt::Display for Metric {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// One metric measured on one leg of one call. Ingestion is idempotent on
/// (`call_id`, `leg`, `metric`).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct MeteredUsage {
    pub call_id: CallId,
    /// The leg of the call (0 = the caller's leg; agent and outbound legs follow).
    pub leg: u16,
    pub metric: Metric,
    pub started_at: DateTime<Utc>,
    pub ended_at: DateTime<Utc>,
}

impl MeteredUsage {
    /// The order bundles are consumed in, and the order invoices are computed in: call start,
    /// then call id, then leg, then metric. Total, so any permutation of the same usages sorts
    /// to one sequence.
    pub fn consumption_key(&self) -> (DateTime<Utc>, CallId, u16, Metric) {
        (self.started_at, self.call_id, self.leg, self.metric)
    }
}
