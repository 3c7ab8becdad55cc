//! Forwarding: ring the target (every registered phone of an agent at once, or an external
//! number through a trunk), relay ringing and early media to the caller, let the first answer
//! win and cancel the rest; on no answer within the ring timeout try the hotline's no-answer
//! target once, then give up with the status that target names.

use std::time::Duration;

use hotline_core::call::{
    CallEventKind, EndCause, LegEnd as RecordLegEnd, LegTarget, Party, RejectReason,
};
use hotline_core::ids::{AgentId, TrunkId};
use hotline_sip::{DialRequest, InboundLeg, LegEnd, LegEvent, Sdp};
use tokio::sync::mpsc;
use tracing::{debug, info};

use super::bridge;
use super::context::CallContext;
use super::legs::{self, LegHandle};
use super::Engine;
use crate::directory::{Directory, NoAnswerTarget};
use crate::sink::CallRecordSink;

/// What the caller brought: passed to every leg we dial.
pub(crate) struct CallSetup {
    pub(crate) caller: String,
    pub(crate) caller_name: Option<String>,
    /// The tenant number the caller dialed, E.164.
    pub(crate) dialed: String,
    pub(crate) offer: Option<Sdp>,
    pub(crate) max_forwards: u32,
}

#[derive(Clone, Debug)]
pub(crate) enum Target {
    Agent(AgentId),
    External {
        number: String,
        trunk_id: Option<TrunkId>,
    },
}

pub(crate) struct Forward {
    pub(crate) target: Target,
    pub(crate) ring_timeout: Duration,
    pub(crate) no_answer: NoAnswerTarget,
}

/// How ringing one target ended.
enum Rang {
    /// A leg answered; the caller has been answered too.
    Answered {
        winner: LegHandle,
        events: mpsc::Receiver<(u16, LegEvent)>,
        party: Party,
    },
    /// The caller hung up or cancelled.
    CallerGone,
    NoAnswer,
    /// Nothing could ring, or every leg refused; the status to pass on.
    Failed {
        status: u16,
    },
}

/// State of one ringing attempt.
struct Ringing {
    legs: Vec<LegHandle>,
    events: mpsc::Receiver<(u16, LegEvent)>,
    alive: usize,
    last_status: u16,
}

pub(crate) async fn forward<D: Directory, S: CallRecordSink>(
    engine: &Engine<D, S>,
    mut ctx: CallContext<S>,
    mut inbound: InboundLeg,
    setup: CallSetup,
    forward: Forward,
) {
    let mut next_leg = 1u16;
    let mut attempt = Some((forward.target, forward.ring_timeout));
    let mut no_answer = Some(forward.no_answer);
    let mut outcome_status = 480;
    while let Some((target, ring_timeout)) = attempt.take() {
        match ring(
            engine,
            &mut ctx,
            &mut inbound,
            &setup,
            target,
            ring_timeout,
            &mut next_leg,
        )
        .await
        {
            Rang::Answered {
                winner,
                events,
                party,
            } => {
                let ended = bridge::run(&mut ctx, &mut inbound, winner, events, party).await;
                return ended.finish(ctx);
            }
            Rang::CallerGone => return ctx.finish(EndCause::Abandoned, Party::Caller),
            Rang::NoAnswer => outcome_status = 480,
            Rang::Failed { status } => outcome_status = status,
        }
        // One more try at the hotline's no-answer target, never a chain.
        match no_answer.take() {
            Some(NoAnswerTarget::ForwardAgent { agent_id }) => {
                attempt = Some((Target::Agent(agent_id), ring_timeout));
            }
            Some(NoAnswerTarget::ForwardExternal { number, trunk_id }) => {
                attempt = Some((Target::External { number, trunk_id }, ring_timeout));
            }
            Some(NoAnswerTarget::Reject { status }) => outcome_status = status,
            None => {}
        }
    }
    inbound.reject(outcome_status);
    if next_leg == 1 {
        // Nothing could even ring (no phone registered, no trunk with room): the call was
        // refused for want of a route; "no answer" would count it as rung out (KPIS.md 3).
        info!(
            status = outcome_status,
            "nowhere to forward the call to; refused"
        );
        let cause = EndCause::Rejected {
            reason: RejectReason::NoRoute,
            status: outcome_status,
        };
        return ctx.finish(cause, Party::System);
    }
    info!(
        status = outcome_status,
        "nobody answered the forwarded call"
    );
    ctx.finish(EndCause::NoAnswer, Party::System);
}

/// Dial every leg of `target`; `None` when nothing could be dialed.
fn dial<D: Directory, S: CallRecordSink>(
    engine: &Engine<D, S>,
    ctx: &mut CallContext<S>,
    setup: &CallSetup,
    target: &Target,
    next_leg: &mut u16,
    events: &mpsc::Sender<(u16, LegEvent)>,
) -> Result<Vec<LegHandle>, u16> {
    let marker = ctx.call_id().to_string();
    let mut handles = Vec::new();
    match target {
        Target::Agent(agent_id) => {
            let contacts = engine.agents.contacts(*agent_id);
            if contacts.is_empty() {
                debug!(%agent_id, "agent has no registered phone");
                return Err(480);
            }
            for contact in contacts {
                let request = DialRequest {
                    request_uri: contact.uri.clone(),
                    destination: Some(contact.destination),
                    tcp: contact.tcp,
                    from_user: setup.caller.clone(),
                    from_display: setup.caller_name.clone(),
                    sdp: setup.offer.clone(),
                    max_forwards: setup.max_forwards,
                    call_marker: marker.clone(),
                    auth: None,
                    headers: Vec::new(),
                };
                match engine.sip.dial(request) {
                    Ok(leg) => {
                        let no = *next_leg;
                        *next_leg += 1;
                        ctx.emit(CallEventKind::LegCreated {
                            leg: no,
                            target: LegTarget::Agent {
                                agent_id: *agent_id,
                            },
                        });
                        handles.push(legs::spawn(no, leg, events.clone(), None));
                    }
                    Err(error) => debug!(%error, uri = contact.uri, "could not dial a contact"),
                }
            }
        }
        Target::External { number, trunk_id } => {
            let Some(route) = engine
                .trunks
                .route(*trunk_id, number, &setup.caller, &setup.dialed)
            else {
                debug!(number, "no outbound trunk has room");
                return Err(503);
            };
            let request = DialRequest {
                request_uri: route.request_uri.clone(),
                destination: route.destination,
                tcp: route.tcp,
                from_user: route.caller_id.clone(),
                from_display: setup.caller_name.clone(),
                sdp: setup.offer.clone(),
                max_forwards: setup.max_forwards,
                call_marker: marker,
                auth: route.auth.clone(),
                headers: Vec::new(),
            };
            match engine.sip.dial(request) {
                Ok(leg) => {
                    let no = *next_leg;
                    *next_leg += 1;
                    ctx.emit(CallEventKind::LegCreated {
                        leg: no,
                        target: LegTarget::External {
                            number: number.clone(),
                            trunk_id: route.trunk_id,
                        },
                    });
                    handles.push(legs::spawn(no, leg, events.clone(), Some(route.permit)));
                }
                Err(error) => debug!(%error, "could not dial through the trunk"),
            }
        }
    }
    if handles.is_empty() {
        return Err(503);
    }
    Ok(handles)
}

#[allow(clippy::too_many_arguments)]
async fn ring<D: Directory, S: CallRecordSink>(
    engine: &Engine<D, S>,
    ctx: &mut CallContext<S>,
    inbound: &mut InboundLeg,
    setup: &CallSetup,
    target: Target,
    ring_timeout: Duration,
    next_leg: &mut u16,
) -> Rang {
    let party = match target {
        Target::Agent(_) => Party::Agent,
        Target::External { .. } => Party::Callee,
    };
    let (events_tx, events) = mpsc::channel(32);
    let legs = match dial(engine, ctx, setup, &target, next_leg, &events_tx) {
        Ok(legs) => legs,
        Err(status) => return Rang::Failed { status },
    };
    drop(events_tx);
    let mut ringing = Ringing {
        alive: legs.len(),
        legs,
        events,
        last_status: 480,
    };
    let deadline = tokio::time::sleep(ring_timeout);
    tokio::pin!(deadline);
    let mut told_caller = false;
    loop {
        tokio::select! {
            event = inbound.next_event() => match event {
                LegEvent::Ended(_) => {
                    cancel_all(ctx, &mut ringing, None);
                    return Rang::CallerGone;
                }
                LegEvent::Reoffer { reply, .. } => reply.reject(491).await,
                _ => {}
            },
            event = ringing.events.recv() => {
                let Some((no, event)) = event else {
                    return Rang::Failed { status: ringing.last_status };
                };
                match event {
                    LegEvent::Ringing { sdp, .. } => {
                        ctx.emit(CallEventKind::LegRinging { leg: no, early_media: sdp.is_some() });
                        if !told_caller || sdp.is_some() {
                            let _ = inbound.ringing(sdp);
                            told_caller = true;
                        }
                    }
                    LegEvent::Answered { sdp } => {
                        ctx.emit(CallEventKind::LegAnswered { leg: no });
                        cancel_all(ctx, &mut ringing, Some(no));
                        if inbound.answer(sdp).is_err() {
                            return Rang::Failed { status: 500 };
                        }
                        ctx.emit(CallEventKind::Answered);
                        let index = ringing.legs.iter().position(|leg| leg.no == no);
                        return match index {
                            Some(index) => Rang::Answered {
                                winner: ringing.legs.swap_remove(index),
                                events: ringing.events,
                                party,
                            },
                            None => Rang::Failed { status: 500 },
                        };
                    }
                    LegEvent::Ended(end) => {
                        let (record_end, status) = leg_end(&end);
                        ringing.last_status = status;
                        ctx.emit(CallEventKind::LegEnded { leg: no, end: record_end });
                        ringing.alive = ringing.alive.saturating_sub(1);
                        if ringing.alive == 0 {
                            return Rang::Failed { status };
                        }
                    }
                    LegEvent::Reoffer { reply, .. } => reply.reject(491).await,
                    LegEvent::Info { .. } => {}
                }
            }
            _ = &mut deadline => {
                for leg in &ringing.legs {
                    ctx.emit(CallEventKind::LegEnded { leg: leg.no, end: RecordLegEnd::NoAnswer });
                    leg.hangup();
                }
                return Rang::NoAnswer;
            }
        }
    }
}

fn cancel_all<S: CallRecordSink>(
    ctx: &mut CallContext<S>,
    ringing: &mut Ringing,
    except: Option<u16>,
) {
    for leg in ringing.legs.iter().filter(|leg| Some(leg.no) != except) {
        ctx.emit(CallEventKind::LegEnded {
            leg: leg.no,
            end: RecordLegEnd::Cancelled,
        });
        leg.hangup();
    }
}

/// A second leg's end as the record states it, and the SIP status to pass on to the caller.
fn leg_end(end: &LegEnd) -> (RecordLegEnd, u16) {
    match end {
        LegEnd::Rejected { status: 486 | 600 } => (RecordLegEnd::Busy, 486),
        LegEnd::Rejected { status: 408 | 480 } => (RecordLegEnd::NoAnswer, 480),
        LegEnd::Rejected { status } => (RecordLegEnd::Declined { status: *status }, *status),
        LegEnd::Timeout => (RecordLegEnd::Failed { status: 408 }, 408),
        LegEnd::HungUp => (RecordLegEnd::HungUp { by: Party::Agent }, 480),
        LegEnd::Cancelled | LegEnd::Local => (RecordLegEnd::Cancelled, 480),
        LegEnd::SessionExpired => (RecordLegEnd::Failed { status: 408 }, 408),
    }
}
