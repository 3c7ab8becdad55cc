//! Folds a call's events into its record, in order, refusing what cannot happen (an event of
//! another call, a gap or replay in `seq`, anything after the end).
//!
//! No call may end without its record: when a call task stops for any reason it calls
//! [`CallTimeline::end`], which closes whatever is still open (a queue visit, a ringing leg, a
//! hold) at that instant and returns the `Ended` event to publish. The fold is pure: it never
//! reads a clock; the engine passes the time in.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use thiserror::Error;

use super::event::{CallEvent, CallEventKind};
use super::record::{
    CallRecord, Direction, EndCause, HoldInterval, IvrOutcome, IvrSegment, LegEnd, LegRecord,
    LegTarget, Party, Phase, QueueExit, QueueVisit, TransferRecord,
};
use crate::ids::{AgentId, CallId, HotlineId, TenantId, TrunkId};

#[derive(Debug, Error, PartialEq, Eq)]
pub enum TimelineError {
    #[error("event of call {got} applied to call {expected}")]
    WrongCall { expected: CallId, got: CallId },
    #[error("event seq {got} out of order, expected {expected}")]
    OutOfOrder { expected: u32, got: u32 },
    #[error("the first event of a call must be `arrived`, got `{0}`")]
    NotArrived(&'static str),
    #[error("`{0}` after the call ended")]
    AfterEnd(&'static str),
    #[error("leg {0} is not known")]
    UnknownLeg(u16),
    #[error("leg {0} was created twice")]
    DuplicateLeg(u16),
    #[error("the call has not ended yet")]
    NotEnded,
}

#[derive(Clone, Debug)]
struct Arrival {
    direction: Direction,
    caller: String,
    dialed: String,
    trunk_id: Option<TrunkId>,
    arrived_at: DateTime<Utc>,
}

/// The record of one call while it is being built.
#[derive(Clone, Debug)]
pub struct CallTimeline {
    call_id: CallId,
    next_seq: u32,
    arrival: Option<Arrival>,
    tenant_id: Option<TenantId>,
    hotline_id: Option<HotlineId>,
    branch: Option<super::record::ScheduleBranch>,
    answered_at: Option<DateTime<Utc>>,
    ivr: Option<IvrSegment>,
    queues: Vec<QueueVisit>,
    legs: Vec<LegRecord>,
    agent: Option<(AgentId, DateTime<Utc>)>,
    holds: Vec<HoldInterval>,
    transfers: Vec<TransferRecord>,
    vars: BTreeMap<String, String>,
    disposition: Option<super::record::Disposition>,
    phase: Phase,
    media: Vec<super::record::LegMedia>,
    recording: Option<super::record::RecordingRecord>,
    ended: Option<(DateTime<Utc>, EndCause, Party)>,
}

impl CallTimeline {
    pub fn new(call_id: CallId) -> Self {
        Self {
            call_id,
            next_seq: 0,
            arrival: None,
            tenant_id: None,
            hotline_id: None,
            branch: None,
            answered_at: None,
            ivr: None,
            queues: Vec::new(),
            legs: Vec::new(),
            agent: None,
            holds: Vec::new(),
            transfers: Vec::new(),
            vars: BTreeMap::new(),
            disposition: None,
            phase: Phase::Routing,
            media: Vec::new(),
            recording: None,
            ended: None,
        }
    }

    pub fn call_id(&self) -> CallId {
        self.call_id
    }

    /// The `seq` the next event of this call must carry.
    pub fn next_seq(&self) -> u32 {
        self.next_seq
    }

    pub fn phase(&self) -> Phase {
        self.phase
    }

    pub fn is_ended(&self) -> bool {
        self.ended.is_some()
    }

    pub fn tenant_id(&self) -> Option<TenantId> {
        self.tenant_id
    }

    /// Build the next event of this call (with its `seq`) and apply it.
    pub fn record(
        &mut self,
        at: DateTime<Utc>,
        kind: CallEventKind,
    ) -> Result<CallEvent, TimelineError> {
        let event = CallEvent {
            call_id: self.call_id,
            seq: self.next_seq,
            at,
            kind,
        };
        self.apply(&event)?;
        Ok(event)
    }

    /// Apply one event. On error nothing changes.
    pub fn apply(&mut self, event: &CallEvent) -> Result<(), TimelineError> {
        if event.call_id != self.call_id {
            return Err(TimelineError::WrongCall {
                expected: self.call_id,
                got: event.call_id,
            });
        }
        if event.seq != self.next_seq {
            return Err(TimelineError::OutOfOrder {
                expected: self.next_seq,
                got: event.seq,
            });
        }
        if self.ended.is_some() {
            return Err(TimelineError::AfterEnd(event.kind.name()));
        }
        if self.arrival.is_none() && !matches!(event.kind, CallEventKind::Arrived { .. }) {
            return Err(TimelineError::NotArrived(event.kind.name()));
        }
        self.fold(event.at, &event.kind)?;
        self.next_seq += 1;
        Ok(())
    }

    fn fold(&mut self, at: DateTime<Utc>, kind: &CallEventKind) -> Result<(), TimelineError> {
        match kind {
            CallEventKind::Arrived {
                direction,
                caller,
                dialed,
                trunk_id,
            } => {
                self.arrival = Some(Arrival {
                    direction: *direction,
                    caller: caller.clone(),
                    dialed: dialed.clone(),
                    trunk_id: *trunk_id,
                    arrived_at: at,
                });
            }
            CallEventKind::Routed {
                tenant_id,
                hotline_id,
                branch,
            } => {
                self.tenant_id = Some(*tenant_id);
                self.hotline_id = Some(*hotline_id);
                self.branch = Some(*branch);
            }
            CallEventKind::Answered => {
                self.answered_at.get_or_insert(at);
            }
            CallEventKind::IvrStarted => {
                self.ivr = Some(IvrSegment {
                    started_at: at,
                    ended_at: None,
                    outcome: None,
                });
                self.phase = Phase::Ivr;
            }
            CallEventKind::IvrFinished { outcome } => {
                if let Some(ivr) = self.ivr.as_mut() {
                    ivr.ended_at = Some(at);
                    ivr.outcome = Some(outcome.clone());
                }
            }
            CallEventKind::QueueEntered { queue_id, priority } => {
                self.queues.push(QueueVisit {
                    queue_id: *queue_id,
                    priority: *priority,
                    entered_at: at,
                    left_at: None,
                    exit: None,
                });
                self.phase = Phase::Queue;
            }
            CallEventKind::QueueLeft { queue_id, exit } => {
                if let Some(visit) = self
                    .queues
                    .iter_mut()
                    .rev()
                    .find(|visit| visit.queue_id == *queue_id && visit.left_at.is_none())
                {
                    visit.left_at = Some(at);
                    visit.exit = Some(exit.clone());
                }
            }
            CallEventKind::LegCreated { leg, target } => {
                if self.legs.iter().any(|known| known.leg == *leg) {
                    return Err(TimelineError::DuplicateLeg(*leg));
                }
                self.legs.push(LegRecord {
                    leg: *leg,
                    target: target.clone(),
                    created_at: at,
                    ringing_at: None,
                    answered_at: None,
                    ended_at: None,
                    end: None,
                });
                if self.phase != Phase::Talking {
                    self.phase = Phase::Ringing;
                }
            }
            CallEventKind::LegRinging { leg, .. } => {
                self.leg_mut(*leg)?.ringing_at.get_or_insert(at);
            }
            CallEventKind::LegAnswered { leg } => {
                let record = self.leg_mut(*leg)?;
                record.answered_at.get_or_insert(at);
                if let LegTarget::Agent { agent_id } = record.target {
                    self.agent.get_or_insert((agent_id, at));
                }
                self.phase = Phase::Talking;
            }
            CallEventKind::LegEnded { leg, end } => {
                let record = self.leg_mut(*leg)?;
                if record.ended_at.is_none() {
                    record.ended_at = Some(at);
                    record.end = Some(end.clone());
                }
            }
            CallEventKind::HoldStarted { by } => {
                if !self.holds.iter().any(|hold| hold.ended_at.is_none()) {
                    self.holds.push(HoldInterval {
                        started_at: at,
                        ended_at: None,
                        by: *by,
                    });
                }
            }
            CallEventKind::HoldEnded => {
                if let Some(hold) = self.holds.iter_mut().find(|hold| hold.ended_at.is_none()) {
                    hold.ended_at = Some(at);
                }
            }
            CallEventKind::Transferred { target } => {
                self.transfers.push(TransferRecord {
                    at,
                    target: target.clone(),
                });
            }
            CallEventKind::VarSet { name, value } => {
                self.vars.insert(name.clone(), value.clone());
            }
            CallEventKind::DispositionSet { disposition } => {
                self.disposition = Some(disposition.clone());
            }
            CallEventKind::LegMediaEnded { media } => {
                self.media.retain(|known| known.leg != media.leg);
                self.media.push(media.clone());
            }
            CallEventKind::RecordingStarted { key } => {
                self.recording = Some(super::record::RecordingRecord {
                    key: key.clone(),
                    started_at: at,
                    duration_ms: 0,
                    paused_ms: 0,
                    failed: None,
                });
            }
            CallEventKind::RecordingStopped { recording } => {
                self.recording = Some(recording.clone());
            }
            CallEventKind::Ended { cause, hangup_by } => {
                self.close_open_intervals(at, cause);
                self.ended = Some((at, cause.clone(), *hangup_by));
            }
        }
        Ok(())
    }

    fn leg_mut(&mut self, leg: u16) -> Result<&mut LegRecord, TimelineError> {
        self.legs
            .iter_mut()
            .find(|record| record.leg == leg)
            .ok_or(TimelineError::UnknownLeg(leg))
    }

    /// At the end, whatever is still open ends with the call, so no interval is left dangling
    /// in the record and the KPIs see where the caller was when the call ended.
    fn close_open_intervals(&mut self, at: DateTime<Utc>, cause: &EndCause) {
        let abandoned = matches!(cause, EndCause::Abandoned);
        if let Some(ivr) = self.ivr.as_mut().filter(|ivr| ivr.ended_at.is_none()) {
            ivr.ended_at = Some(at);
            ivr.outcome.get_or_insert(if abandoned {
                IvrOutcome::CallerHungUp
            } else {
                IvrOutcome::Failed {
                    reason: "the call ended during the IVR".into(),
                }
            });
        }
        for visit in self.queues.iter_mut().filter(|v| v.left_at.is_none()) {
            visit.left_at = Some(at);
            visit.exit = Some(if abandoned {
                QueueExit::Abandoned
            } else {
                QueueExit::Timeout
            });
        }
        for leg in self.legs.iter_mut().filter(|leg| leg.ended_at.is_none()) {
            leg.ended_at = Some(at);
            leg.end = Some(if leg.answered_at.is_some() {
                LegEnd::HungUp { by: Party::System }
            } else {
                LegEnd::Cancelled
            });
        }
        for hold in self.holds.iter_mut().filter(|hold| hold.ended_at.is_none()) {
            hold.ended_at = Some(at);
        }
    }

    /// End the call now if it has not ended: returns the `Ended` event to publish, or `None` when
    /// the call already ended. Before `arrived`, there is no call to end and nothing is returned.
    pub fn end(
        &mut self,
        at: DateTime<Utc>,
        cause: EndCause,
        hangup_by: Party,
    ) -> Option<CallEvent> {
        if self.ended.is_some() || self.arrival.is_none() {
            return None;
        }
        self.record(at, CallEventKind::Ended { cause, hangup_by })
            .ok()
    }

    /// The final record. Fails until the call has ended.
    pub fn to_record(&self) -> Result<CallRecord, TimelineError> {
        let (ended_at, end_cause, hangup_by) = self.ended.clone().ok_or(TimelineError::NotEnded)?;
        let arrival = self.arrival.clone().ok_or(TimelineError::NotEnded)?;
        Ok(CallRecord {
            call_id: self.call_id,
            direction: arrival.direction,
            tenant_id: self.tenant_id,
            hotline_id: self.hotline_id,
            trunk_id: arrival.trunk_id,
            caller: arrival.caller,
            dialed: arrival.dialed,
            branch: self.branch,
            arrived_at: arrival.arrived_at,
            answered_at: self.answered_at,
            ivr: self.ivr.clone(),
            queues: self.queues.clone(),
            legs: self.legs.clone(),
            agent_id: self.agent.map(|(agent_id, _)| agent_id),
            agent_answered_at: self.agent.map(|(_, at)| at),
            holds: self.holds.clone(),
            transfers: self.transfers.clone(),
            vars: self.vars.clone(),
            disposition: self.disposition.clone(),
            ended_at,
            end_cause,
            hangup_by,
            phase_at_end: self.phase,
            media: self.media.clone(),
            recording: self.recording.clone(),
        })
    }
}

#[cfg(test)]
mod tests {
    use chrono::{Duration, TimeZone};

    use super::*;
    use crate::call::record::{RejectReason, ScheduleBranch};
    use crate::ids::QueueId;

    fn t(seconds: i64) -> DateTime<Utc> {
        Utc.timestamp_opt(1_800_000_000, 0)
            .single()
            .unwrap_or_default()
            + Duration::seconds(seconds)
    }

    fn arrived() -> CallEventKind {
        CallEventKind::Arrived {
            direction: Direction::Inbound,
            caller: "+421900111222".into(),
            dialed: "+421233000111".into(),
            trunk_id: Some(TrunkId::new()),
        }
    }

    #[test]
    fn forwarded_call_folds_into_its_record() {
        let mut timeline = CallTimeline::new(CallId::new());
        let tenant_id = TenantId::new();
        let hotline_id = HotlineId::new();
        let agent_id = AgentId::new();
        timeline.record(t(0), arrived()).unwrap();
        timeline
            .record(
                t(0),
                CallEventKind::Routed {
                    tenant_id,
                    hotline_id,
                    branch: ScheduleBranch::Open,
                },
            )
            .unwrap();
        timeline
            .record(
                t(1),
                CallEventKind::LegCreated {
                    leg: 1,
                    target: LegTarget::Agent { agent_id },
                },
            )
            .unwrap();
        assert_eq!(timeline.phase(), Phase::Ringing);
        timeline
            .record(
                t(2),
                CallEventKind::LegRinging {
                    leg: 1,
                    early_media: false,
                },
            )
            .unwrap();
        timeline
            .record(t(6), CallEventKind::LegAnswered { leg: 1 })
            .unwrap();
        timeline.record(t(6), CallEventKind::Answered).unwrap();
        timeline
            .record(t(20), CallEventKind::HoldStarted { by: Party::Agent })
            .unwrap();
        timeline.record(t(35), CallEventKind::HoldEnded).unwrap();
        let ended = timeline.end(t(66), EndCause::Completed, Party::Caller);
        assert!(ended.is_some());

        let record = timeline.to_record().unwrap();
        assert_eq!(record.tenant_id, Some(tenant_id));
        assert_eq!(record.agent_id, Some(agent_id));
        assert_eq!(record.agent_answered_at, Some(t(6)));
        assert_eq!(record.answered_ms(), 60_000);
        assert_eq!(record.hold_ms(), 15_000);
        assert_eq!(record.legs[0].connected_ms(), 60_000);
        assert_eq!(
            record.legs[0].end,
            Some(LegEnd::HungUp { by: Party::System })
        );
        assert_eq!(record.phase_at_end, Phase::Talking);
        assert_eq!(record.hangup_by, Party::Caller);
    }

    #[test]
    fn abandoned_in_queue_closes_the_visit_as_abandoned() {
        let mut timeline = CallTimeline::new(CallId::new());
        let queue_id = QueueId::new();
        timeline.record(t(0), arrived()).unwrap();
        timeline
            .record(
                t(3),
                CallEventKind::QueueEntered {
                    queue_id,
                    priority: 0,
                },
            )
            .unwrap();
        timeline.end(t(40), EndCause::Abandoned, Party::Caller);
        let record = timeline.to_record().unwrap();
        assert_eq!(record.queues[0].left_at, Some(t(40)));
        assert_eq!(record.queues[0].exit, Some(QueueExit::Abandoned));
        assert_eq!(record.phase_at_end, Phase::Queue);
        assert_eq!(record.answered_ms(), 0);
    }

    #[test]
    fn rejected_call_still_has_a_record() {
        let mut timeline = CallTimeline::new(CallId::new());
        timeline.record(t(0), arrived()).unwrap();
        let cause = EndCause::Rejected {
            reason: RejectReason::UnknownNumber,
            status: 404,
        };
        timeline.end(t(0), cause.clone(), Party::System);
        let record = timeline.to_record().unwrap();
        assert_eq!(record.end_cause, cause);
        assert_eq!(record.tenant_id, None);
        assert_eq!(record.phase_at_end, Phase::Routing);
    }

    #[test]
    fn refuses_gaps_replays_other_calls_and_events_after_the_end() {
        let call_id = CallId::new();
        let mut timeline = CallTimeline::new(call_id);
        let not_first = CallEvent {
            call_id,
            seq: 0,
            at: t(0),
            kind: CallEventKind::Answered,
        };
        assert_eq!(
            timeline.apply(&not_first),
            Err(TimelineError::NotArrived("answered"))
        );
        let first = timeline.record(t(0), arrived()).unwrap();
        assert_eq!(
            timeline.apply(&first),
            Err(TimelineError::OutOfOrder {
                expected: 1,
                got: 0
            })
        );
        let foreign = CallEvent {
            call_id: CallId::new(),
            seq: 1,
            at: t(1),
            kind: CallEventKind::Answered,
        };
        assert!(matches!(
            timeline.apply(&foreign),
            Err(TimelineError::WrongCall { .. })
        ));
        assert_eq!(
            timeline.record(t(1), CallEventKind::LegAnswered { leg: 4 }),
            Err(TimelineError::UnknownLeg(4))
        );
        assert_eq!(timeline.to_record(), Err(TimelineError::NotEnded));
        timeline.end(t(2), EndCause::Abandoned, Party::Caller);
        assert!(timeline
            .end(t(3), EndCause::Completed, Party::Agent)
            .is_none());
        assert_eq!(
            timeline.record(t(3), CallEventKind::HoldEnded),
            Err(TimelineError::AfterEnd("hold_ended"))
        );
    }

    #[test]
    fn media_quality_and_the_recording_fold_into_the_record() {
        use crate::call::record::{LegMedia, RecordingRecord};
        let mut timeline = CallTimeline::new(CallId::new());
        timeline.record(t(0), arrived()).unwrap();
        let key = "tenants/t/recordings/2027/01/c.wav".to_string();
        timeline
            .record(t(1), CallEventKind::RecordingStarted { key: key.clone() })
            .unwrap();
        let caller = LegMedia {
            leg: 0,
            codec: "PCMA".into(),
            packets_in: 500,
            packets_out: 498,
            lost: 2,
            jitter_us: 1_250,
            max_jitter_us: 4_000,
            ..LegMedia::default()
        };
        let stale = LegMedia {
            packets_in: 1,
            ..caller.clone()
        };
        for media in [stale, caller.clone()] {
            timeline
                .record(t(9), CallEventKind::LegMediaEnded { media })
                .unwrap();
        }
        let early = timeline.to_record();
        assert!(early.is_err(), "no record before the end");
        let stopped = RecordingRecord {
            key: key.clone(),
            started_at: t(1),
            duration_ms: 8_000,
            paused_ms: 1_500,
            failed: None,
        };
        timeline
            .record(
                t(9),
                CallEventKind::RecordingStopped {
                    recording: stopped.clone(),
                },
            )
            .unwrap();
        timeline.end(t(9), EndCause::Completed, Party::Caller);
        let record = timeline.to_record().unwrap();
        assert_eq!(record.media, vec![caller], "the leg's last report wins");
        assert_eq!(record.recording, Some(stopped));
    }

    #[test]
    fn records_written_before_media_existed_still_read() {
        let mut timeline = CallTimeline::new(CallId::new());
        timeline.record(t(0), arrived()).unwrap();
        timeline.end(t(1), EndCause::Abandoned, Party::Caller);
        let mut json = serde_json::to_value(timeline.to_record().unwrap()).unwrap();
        let object = json.as_object_mut().unwrap();
        object.remove("media");
        object.remove("recording");
        let old: CallRecord = serde_json::from_value(json).unwrap();
        assert!(old.media.is_empty());
        assert_eq!(old.recording, None);
    }

    #[test]
    fn events_and_records_round_trip_through_json() {
        let mut timeline = CallTimeline::new(CallId::new());
        let event = timeline.record(t(0), arrived()).unwrap();
        let json = serde_json::to_string(&event).unwrap();
        assert!(json.contains("\"event\":\"arrived\""), "{json}");
        let back: CallEvent = serde_json::from_str(&json).unwrap();
        assert_eq!(back, event);
        timeline.end(t(5), EndCause::Abandoned, Party::Caller);
        let record = timeline.to_record().unwrap();
        let back: CallRecord =
            serde_json::from_str(&serde_json::to_string(&record).unwrap()).unwrap();
        assert_eq!(back, record);
    }
}
