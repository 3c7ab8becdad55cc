//! Metering: a final call record, and the metrics the tenant's contract bills, in; the metered
//! usages rating consumes out. This is where each [`Metric`]'s interval is decided:
//!
//! - **inbound minutes** — inbound calls only: the caller's leg (leg 0) from `answered_at` to
//!   the call's end;
//! - **agent-handled minutes** — every leg that rang an agent and was answered, from its answer
//!   to its end, identified by that leg's number (a transfer to a second agent is a second usage);
//! - **IVR-only minutes** — inbound calls that Hotline answered and no agent ever answered (the
//!   IVR or a message handled them), leg 0 from answer to end. A call forwarded straight to an
//!   external number also counts: no agent reached it. Outbound minutes bill that leg separately;
//! - **outbound minutes** — every leg to an external number (an outbound call's callee, or an
//!   inbound call forwarded out) from its answer to its end, by leg number.
//!
//! A call nobody answered meters nothing. A leg answered but without an end (the record is final,
//! so the call ended) ends with the call. An end before the answer (clock steps between media
//! threads) is clamped to a zero-length usage, which still pays a connect fee: it was connected.
//!
//! Pure: no IO, no clock. Ingestion decides which metrics a contract bills and stores the result.

use chrono::{DateTime, Utc};
use hotline_core::call::{CallRecord, Direction, LegTarget};

use crate::usage::{MeteredUsage, Metric};

/// The leg number of the caller's leg; second legs are numbered from 1.
pub const CALLER_LEG: u16 = 0;

/// A set of metrics, as cheap to copy and test as a byte.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct MetricSet(u8);

impl MetricSet {
    pub const EMPTY: MetricSet = MetricSet(0);

    pub fn all() -> Self {
        Metric::ALL.into_iter().collect()
    }

    pub fn with(self, metric: Metric) -> Self {
        Self(self.0 | Self::bit(metric))
    }

    pub fn contains(self, metric: Metric) -> bool {
        self.0 & Self::bit(metric) != 0
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    fn bit(metric: Metric) -> u8 {
        match metric {
            Metric::InboundMinutes => 1,
            Metric::AgentMinutes => 2,
            Metric::IvrMinutes => 4,
            Metric::OutboundMinutes => 8,
        }
    }
}

impl FromIterator<Metric> for MetricSet {
    fn from_iter<I: IntoIterator<Item = Metric>>(metrics: I) -> Self {
        metrics.into_iter().fold(Self::EMPTY, Self::with)
    }
}

/// The usages of `record` for the metrics in `billed`, in (leg, metric) order.
pub fn meter(record: &CallRecord, billed: MetricSet) -> Vec<MeteredUsage> {
    let Some(answered_at) = record.answered_at else {
        return Vec::new();
    };
    let mut usages = Vec::new();
    let mut caller_leg = |metric: Metric| {
        if billed.contains(metric) {
            usages.push(usage(
                record,
                CALLER_LEG,
                metric,
                answered_at,
                record.ended_at,
            ));
        }
    };
    if record.direction == Direction::Inbound {
        caller_leg(Metric::InboundMinutes);
        if !reached_an_agent(record) {
            caller_leg(Metric::IvrMinutes);
        }
    }
    for leg in &record.legs {
        let Some(leg_answered_at) = leg.answered_at else {
            continue;
        };
        let metric = match leg.target {
            LegTarget::Agent { .. } => Metric::AgentMinutes,
            LegTarget::External { .. } => Metric::OutboundMinutes,
        };
        if billed.contains(metric) {
            let ended_at = leg.ended_at.unwrap_or(record.ended_at);
            usages.push(usage(record, leg.leg, metric, leg_answered_at, ended_at));
        }
    }
    usages.sort_by_key(|u| (u.leg, u.metric));
    usages
}

/// Whether any agent answered: the record's first-agent stamp, or an answered agent leg (the two
/// agree for records the call engine folds; both are checked so a hand-made record cannot bill
/// an agent's call as IVR-only).
fn reached_an_agent(record: &CallRecord) -> bool {
    record.reached_agent()
        || record
            .legs
            .iter()
            .any(|leg| matches!(leg.target, LegTarget::Agent { .. }) && leg.answered_at.is_some())
}

fn usage(
    record: &CallRecord,
    leg: u16,
    metric: Metric,
    started_at: DateTime<Utc>,
    ended_at: DateTime<Utc>,
) -> MeteredUsage {
    MeteredUsage {
        call_id: record.call_id,
        leg,
        metric,
        started_at,
        ended_at: ended_at.max(started_at),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use chrono::{Duration, TimeZone};
    use hotline_core::call::{EndCause, LegEnd, LegRecord, Party, Phase};
    use hotline_core::ids::{AgentId, CallId, TenantId, TrunkId};

    use super::*;

    fn t(seconds: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0).unwrap() + Duration::seconds(seconds)
    }

    fn record(direction: Direction, answered: Option<i64>, ended: i64) -> CallRecord {
        CallRecord {
            call_id: CallId::new(),
            direction,
            tenant_id: Some(TenantId::new()),
            hotline_id: None,
            trunk_id: None,
            caller: "+421900000001".into(),
            dialed: "+421200000001".into(),
            branch: None,
            arrived_at: t(0),
            answered_at: answered.map(t),
            ivr: None,
            queues: vec![],
            legs: vec![],
            agent_id: None,
            agent_answered_at: None,
            holds: vec![],
            transfers: vec![],
            vars: BTreeMap::new(),
            disposition: None,
            ended_at: t(ended),
            end_cause: EndCause::Completed,
            hangup_by: Party::Caller,
            phase_at_end: Phase::Talking,
            media: Vec::new(),
            recording: None,
        }
    }

    fn agent_leg(leg: u16, answered: Option<i64>, ended: Option<i64>) -> LegRecord {
        LegRecord {
            leg,
            target: LegTarget::Agent {
                agent_id: AgentId::new(),
            },
            created_at: t(1),
            ringing_at: Some(t(1)),
            answered_at: answered.map(t),
            ended_at: ended.map(t),
            end: Some(LegEnd::HungUp { by: Party::Caller }),
        }
    }

    fn external_leg(leg: u16, answered: Option<i64>, ended: Option<i64>) -> LegRecord {
        LegRecord {
            target: LegTarget::External {
                number: "+421900000002".into(),
                trunk_id: TrunkId::new(),
            },
            ..agent_leg(leg, answered, ended)
        }
    }

    /// (leg, metric, seconds) of each usage.
    fn summary(usages: &[MeteredUsage]) -> Vec<(u16, Metric, i64)> {
        usages
            .iter()
            .map(|u| (u.leg, u.metric, (u.ended_at - u.started_at).num_seconds()))
            .collect()
    }

    #[test]
    fn an_inbound_call_handled_by_two_agents_meters_the_caller_leg_and_each_agent_leg() {
        let mut call = record(Direction::Inbound, Some(2), 300);
        // Agent on leg 1 answers at 40 s and transfers; leg 2 rings out; leg 3 answers at 130 s.
        call.legs = vec![
            agent_leg(1, Some(40), Some(120)),
            agent_leg(2, None, Some(125)),
            agent_leg(3, Some(130), Some(300)),
        ];
        call.agent_answered_at = Some(t(40));
        assert_eq!(
            summary(&meter(&call, MetricSet::all())),
            vec![
                (0, Metric::InboundMinutes, 298),
                (1, Metric::AgentMinutes, 80),
                (3, Metric::AgentMinutes, 170),
            ]
        );
    }

    #[test]
    fn only_the_metrics_the_contract_bills_are_metered() {
        let mut call = record(Direction::Inbound, Some(2), 300);
        call.legs = vec![agent_leg(1, Some(40), Some(300))];
        call.agent_answered_at = Some(t(40));
        let agents_only = MetricSet::EMPTY.with(Metric::AgentMinutes);
        assert_eq!(
            summary(&meter(&call, agents_only)),
            vec![(1, Metric::AgentMinutes, 260)]
        );
        assert!(meter(&call, MetricSet::EMPTY).is_empty());
    }

    #[test]
    fn a_call_no_agent_reached_is_ivr_only() {
        let call = record(Direction::Inbound, Some(1), 95);
        assert_eq!(
            summary(&meter(&call, MetricSet::all())),
            vec![(0, Metric::InboundMinutes, 94), (0, Metric::IvrMinutes, 94)]
        );
    }

    #[test]
    fn an_answered_agent_leg_alone_is_enough_to_not_be_ivr_only() {
        let mut call = record(Direction::Inbound, Some(1), 95);
        call.legs = vec![agent_leg(1, Some(10), Some(95))];
        let metrics: Vec<Metric> = meter(&call, MetricSet::all())
            .iter()
            .map(|u| u.metric)
            .collect();
        assert!(!metrics.contains(&Metric::IvrMinutes), "{metrics:?}");
    }

    #[test]
    fn outbound_calls_meter_external_legs_and_no_inbound_minutes() {
        let mut call = record(Direction::Outbound, Some(5), 65);
        call.legs = vec![external_leg(1, Some(5), Some(65))];
        assert_eq!(
            summary(&meter(&call, MetricSet::all())),
            vec![(1, Metric::OutboundMinutes, 60)]
        );
    }

    #[test]
    fn a_call_forwarded_out_meters_inbound_ivr_only_and_outbound() {
        let mut call = record(Direction::Inbound, Some(8), 68);
        call.legs = vec![external_leg(1, Some(8), None)];
        assert_eq!(
            summary(&meter(&call, MetricSet::all())),
            vec![
                (0, Metric::InboundMinutes, 60),
                (0, Metric::IvrMinutes, 60),
                // No end on the leg: it ended with the call.
                (1, Metric::OutboundMinutes, 60),
            ]
        );
    }

    #[test]
    fn unanswered_calls_meter_nothing() {
        let mut call = record(Direction::Inbound, None, 30);
        call.legs = vec![agent_leg(1, None, Some(30))];
        call.end_cause = EndCause::Abandoned;
        assert!(meter(&call, MetricSet::all()).is_empty());
    }

    #[test]
    fn an_end_before_the_answer_is_a_zero_length_usage() {
        let mut call = record(Direction::Inbound, Some(2), 50);
        call.legs = vec![agent_leg(1, Some(20), Some(19))];
        call.agent_answered_at = Some(t(20));
        let usages = meter(&call, MetricSet::EMPTY.with(Metric::AgentMinutes));
        assert_eq!(summary(&usages), vec![(1, Metric::AgentMinutes, 0)]);
        assert_eq!(usages[0].started_at, t(20));
    }

    #[test]
    fn metric_sets_hold_what_was_added() {
        let set: MetricSet = [Metric::IvrMinutes, Metric::OutboundMinutes]
            .into_iter()
            .collect();
        assert!(set.contains(Metric::IvrMinutes) && set.contains(Metric::OutboundMinutes));
        assert!(!set.contains(Metric::InboundMinutes) && !set.contains(Metric::AgentMinutes));
        assert!(MetricSet::EMPTY.is_empty() && !set.is_empty());
        assert!(Metric::ALL.iter().all(|m| MetricSet::all().contains(*m)));
    }
}
