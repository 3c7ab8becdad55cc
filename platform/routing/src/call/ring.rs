//! Forwarding: ring the target (every registered phone of an agent at once, or an external
//! number through a trunk), relay ringing (and, signaling only, early media) to the caller, let
//! the first answer win and cancel the rest; on no answer within the ring timeout try the
//! hotline's no-answer target once, then give up with the status that target names.
//!
//! Anchored, every dialed leg carries Hotline's own offer from its own media leg; the winner's
//! answer goes to that media leg and the caller gets Hotline's answer to the caller's offer.
//! Early media from ringing phones is not relayed then (the caller hears its own ringback).

use std::time::Duration;

use hotline_core::call::{
    CallEventKind, EndCause, LegEnd as RecordLegEnd, LegTarget, Party, RejectReason,
};
use hotline_core::ids::{AgentId, HotlineId, TenantId, TrunkId};
use hotline_media::LegOptions;
use hotline_sip::{DialRequest, InboundLeg, LegEnd, LegEvent, Sdp};

use crate::targets::AgentContact;
use tokio::sync::mpsc;
use tracing::{debug, info, warn};

use super::anchor::{Anchored, CallerMedia};
use super::bridge;
use super::context::CallContext;
use super::legs::{self, LegHandle};
use super::Engine;
use crate::directory::{Directory, NoAnswerTarget, RecordingPolicy};
use crate::sink::CallRecordSink;

/// What the caller brought: passed to every leg we dial.
pub(crate) struct CallSetup {
    pub(crate) caller: String,
    pub(crate) caller_name: Option<String>,
    /// The tenant number the caller dialed, E.164.
    pub(crate) dialed: String,
    /// The caller's offer, passed through when the call is not anchored.
    pub(crate) offer: Option<Sdp>,
    pub(crate) max_forwards: u32,
    pub(crate) tenant_id: TenantId,
    pub(crate) recording: RecordingPolicy,
    /// What the hotline's IVR plugin is told about the call.
    pub(crate) hotline_id: HotlineId,
    pub(crate) hotline_name: String,
    pub(crate) language: String,
    pub(crate) zone: chrono_tz::Tz,
    pub(crate) cpu_ms_per_call: u32,
    pub(crate) arrived_at: chrono::DateTime<chrono::Utc>,
    /// The schedule's branch: open or closed.
    pub(crate) open: bool,
}

/// The caller's side of the call: the SIP leg and, anchored, its media.
pub(crate) struct Caller {
    pub(crate) inbound: InboundLeg,
    pub(crate) media: Option<CallerMedia>,
    answered: bool,
}

impl Caller {
    pub(crate) fn new(inbound: InboundLeg, media: Option<CallerMedia>) -> Self {
        Self {
            inbound,
            media,
            answered: false,
        }
    }

    /// Answer the caller (once): with Hotline's answer when anchored, else the far end's SDP.
    pub(crate) fn answer(
        &mut self,
        passed_through: Option<Sdp>,
    ) -> Result<(), hotline_sip::SipError> {
        if self.answered {
            return Ok(());
        }
        let sdp = match &self.media {
            Some(media) => Some(media.answer.clone()),
            None => passed_through,
        };
        self.inbound.answer(sdp)?;
        self.answered = true;
        Ok(())
    }

    pub(crate) fn anchored(&self) -> bool {
        self.media.is_some()
    }

    pub(crate) fn is_answered(&self) -> bool {
        self.answered
    }

    /// End the caller's side: BYE once answered, otherwise this final status.
    pub(crate) async fn end(&mut self, status: u16) {
        if self.answered {
            self.inbound.hangup().await;
        } else {
            self.inbound.reject(status);
        }
    }
}

#[derive(Clone, Debug)]
pub(crate) enum Target {
    Agent(AgentId),
    /// Every registered phone of every one of these agents at once (a queue's ring-all).
    Agents(Vec<AgentId>),
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
pub(crate) enum Rang {
    /// A leg answered; the caller has been answered too.
    Answered(Answered),
    /// The caller hung up or cancelled.
    CallerGone,
    NoAnswer,
    /// Nothing could ring, or every leg refused; the status to pass on.
    Failed {
        status: u16,
    },
}

/// The leg that answered, ready to be bridged with the caller.
pub(crate) struct Answered {
    pub(crate) winner: LegHandle,
    /// The winner's media leg, with its answer applied (anchored calls).
    pub(crate) winner_media: Option<hotline_media::LegHandle>,
    pub(crate) events: mpsc::Receiver<(u16, LegEvent)>,
    pub(crate) party: Party,
}

/// Bridge the caller with the leg that answered (media too, when anchored) until either hangs
/// up, and end the call.
pub(crate) async fn connect<D: Directory, S: CallRecordSink>(
    engine: &Engine<D, S>,
    mut ctx: CallContext<S>,
    mut caller: Caller,
    setup: &CallSetup,
    answered: Answered,
) {
    let Answered {
        winner,
        winner_media,
        events,
        party,
    } = answered;
    let anchored = match (engine.media.as_ref(), caller.media.take(), winner_media) {
        (Some(media), Some(caller_media), Some(answerer)) => {
            match Anchored::connect(
                &mut ctx,
                media,
                caller_media.leg,
                answerer,
                winner.no,
                setup.tenant_id,
                setup.recording,
                engine.recordings.as_ref(),
            )
            .await
            {
                Ok(anchored) => Some(anchored),
                Err(error) => {
                    warn!(%error, "could not bridge the call's media");
                    winner.hangup();
                    caller.inbound.hangup().await;
                    return ctx.finish(EndCause::Failed { status: 500 }, Party::System);
                }
            }
        }
        _ => None,
    };
    let ended = bridge::run(
        &mut ctx,
        &mut caller.inbound,
        winner,
        events,
        party,
        anchored,
    )
    .await;
    ended.finish(ctx);
}

/// State of one ringing attempt.
struct Ringing {
    legs: Vec<LegHandle>,
    /// Each dialed leg's media leg, by leg number (anchored calls).
    media: Vec<(u16, hotline_media::LegHandle)>,
    events: mpsc::Receiver<(u16, LegEvent)>,
    alive: usize,
    last_status: u16,
}

/// What dialing one target produced.
struct Dialed {
    legs: Vec<LegHandle>,
    media: Vec<(u16, hotline_media::LegHandle)>,
}

pub(crate) async fn forward<D: Directory, S: CallRecordSink>(
    engine: &Engine<D, S>,
    mut ctx: CallContext<S>,
    mut caller: Caller,
    setup: CallSetup,
    first_leg: u16,
    forward: Forward,
) {
    let mut next_leg = first_leg;
    let mut attempt = Some((forward.target, forward.ring_timeout));
    let mut no_answer = Some(forward.no_answer);
    let mut outcome_status = 480;
    while let Some((target, ring_timeout)) = attempt.take() {
        match ring(
            engine,
            &mut ctx,
            &mut caller,
            &setup,
            target,
            ring_timeout,
            &mut next_leg,
        )
        .await
        {
            Rang::Answered(answered) => {
                return connect(engine, ctx, caller, &setup, answered).await
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
    caller.end(outcome_status).await;
    if next_leg == first_leg {
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

/// Dial every leg of `target` (each with its own media leg when the call is anchored); the
/// status to pass on when nothing could be dialed.
async fn dial<D: Directory, S: CallRecordSink>(
    engine: &Engine<D, S>,
    ctx: &mut CallContext<S>,
    setup: &CallSetup,
    anchored: bool,
    target: &Target,
    next_leg: &mut u16,
    events: &mpsc::Sender<(u16, LegEvent)>,
) -> Result<Dialed, u16> {
    let marker = ctx.call_id().to_string();
    let mut dialed = Dialed {
        legs: Vec::new(),
        media: Vec::new(),
    };
    // Anchored, each leg gets an offer of its own media leg; otherwise the caller's offer.
    let offer = |media: &Option<(hotline_media::LegHandle, Vec<u8>)>| match media {
        Some((_, offer)) => Some(offer.clone()),
        None => setup.offer.clone(),
    };
    let agents = match target {
        Target::Agent(agent_id) => std::slice::from_ref(agent_id),
        Target::Agents(agent_ids) => agent_ids.as_slice(),
        Target::External { .. } => &[],
    };
    let phones: Vec<(AgentId, AgentContact)> = agents
        .iter()
        .flat_map(|agent_id| {
            engine
                .agents
                .contacts(*agent_id)
                .into_iter()
                .map(move |contact| (*agent_id, contact))
        })
        .collect();
    match target {
        Target::Agent(_) | Target::Agents(_) => {
            if phones.is_empty() {
                debug!(?agents, "no registered phone to ring");
                return Err(480);
            }
            for (agent_id, contact) in phones {
                let media = match leg_media(engine, anchored).await {
                    Ok(media) => media,
                    Err(status) => return finish_dial(dialed, status),
                };
                let request = DialRequest {
                    request_uri: contact.uri.clone(),
                    destination: Some(contact.destination),
                    tcp: contact.tcp,
                    from_user: setup.caller.clone(),
                    from_display: setup.caller_name.clone(),
                    sdp: offer(&media),
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
                            target: LegTarget::Agent { agent_id },
                        });
                        dialed.legs.push(legs::spawn(no, leg, events.clone(), None));
                        if let Some((media, _)) = media {
                            dialed.media.push((no, media));
                        }
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
            let media = leg_media(engine, anchored).await?;
            let request = DialRequest {
                request_uri: route.request_uri.clone(),
                destination: route.destination,
                tcp: route.tcp,
                from_user: route.caller_id.clone(),
                from_display: setup.caller_name.clone(),
                sdp: offer(&media),
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
                    dialed
                        .legs
                        .push(legs::spawn(no, leg, events.clone(), Some(route.permit)));
                    if let Some((media, _)) = media {
                        dialed.media.push((no, media));
                    }
                }
                Err(error) => debug!(%error, "could not dial through the trunk"),
            }
        }
    }
    finish_dial(dialed, 503)
}

/// What was dialed, or `status` when nothing was.
fn finish_dial(dialed: Dialed, status: u16) -> Result<Dialed, u16> {
    if dialed.legs.is_empty() {
        return Err(status);
    }
    Ok(dialed)
}

/// A media leg (and its offer) for one dialed leg of an anchored call; out of ports is a 503.
async fn leg_media<D: Directory, S: CallRecordSink>(
    engine: &Engine<D, S>,
    anchored: bool,
) -> Result<Option<(hotline_media::LegHandle, Vec<u8>)>, u16> {
    let Some(media) = engine.media.as_ref().filter(|_| anchored) else {
        return Ok(None);
    };
    match media.outbound_leg(LegOptions::default()).await {
        Ok(leg) => Ok(Some(leg)),
        Err(error) => {
            warn!(%error, "no media for a forwarded leg");
            Err(503)
        }
    }
}

#[allow(clippy::too_many_arguments)]
pub(crate) async fn ring<D: Directory, S: CallRecordSink>(
    engine: &Engine<D, S>,
    ctx: &mut CallContext<S>,
    caller: &mut Caller,
    setup: &CallSetup,
    target: Target,
    ring_timeout: Duration,
    next_leg: &mut u16,
) -> Rang {
    let party = match target {
        Target::Agent(_) | Target::Agents(_) => Party::Agent,
        Target::External { .. } => Party::Callee,
    };
    let (events_tx, events) = mpsc::channel(32);
    let anchored = caller.anchored();
    let dialed = match dial(engine, ctx, setup, anchored, &target, next_leg, &events_tx).await {
        Ok(dialed) => dialed,
        Err(status) => return Rang::Failed { status },
    };
    drop(events_tx);
    let mut ringing = Ringing {
        alive: dialed.legs.len(),
        legs: dialed.legs,
        media: dialed.media,
        events,
        last_status: 480,
    };
    let inbound = &mut caller.inbound;
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
                        // Anchored, the phone's early media has nowhere to go yet.
                        let sdp = sdp.filter(|_| !anchored);
                        if !told_caller || sdp.is_some() {
                            let _ = inbound.ringing(sdp);
                            told_caller = true;
                        }
                    }
                    LegEvent::Answered { sdp } => {
                        ctx.emit(CallEventKind::LegAnswered { leg: no });
                        cancel_all(ctx, &mut ringing, Some(no));
                        let Some(index) = ringing.legs.iter().position(|leg| leg.no == no) else {
                            return Rang::Failed { status: 500 };
                        };
                        let winner = ringing.legs.swap_remove(index);
                        let winner_media = match take_media(&mut ringing.media, no) {
                            Some(media) => match answered_media(media, sdp.as_deref()).await {
                                Ok(media) => Some(media),
                                Err(status) => {
                                    winner.hangup();
                                    ctx.emit(CallEventKind::LegEnded {
                                        leg: no,
                                        end: RecordLegEnd::Failed { status },
                                    });
                                    return Rang::Failed { status };
                                }
                            },
                            None => None,
                        };
                        if caller.answer(sdp).is_err() {
                            winner.hangup();
                            return Rang::Failed { status: 500 };
                        }
                        ctx.emit(CallEventKind::Answered);
                        return Rang::Answered(Answered {
                            winner,
                            winner_media,
                            events: ringing.events,
                            party,
                        });
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

fn take_media(
    media: &mut Vec<(u16, hotline_media::LegHandle)>,
    no: u16,
) -> Option<hotline_media::LegHandle> {
    let index = media.iter().position(|(leg, _)| *leg == no)?;
    Some(media.swap_remove(index).1)
}

/// Give the winner's answer to its media leg. An answer without SDP to our offer, or one with
/// nothing in common, fails the leg (488: the phone accepted a call it cannot carry).
async fn answered_media(
    media: hotline_media::LegHandle,
    answer: Option<&[u8]>,
) -> Result<hotline_media::LegHandle, u16> {
    let Some(answer) = answer else {
        warn!("the answer to Hotline's offer carried no SDP");
        return Err(488);
    };
    match media.apply_answer(answer).await {
        Ok(_) => Ok(media),
        Err(error) => {
            warn!(%error, "the answer to Hotline's offer was refused");
            Err(if error.is_not_acceptable() { 488 } else { 500 })
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
