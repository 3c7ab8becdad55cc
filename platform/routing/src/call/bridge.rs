//! A connected call: relay re-offers (hold, resume, session refresh) between the caller and the
//! party that answered, note hold and resume in the record, and end both sides when either
//! hangs up.
//!
//! Anchored, the media engine's bridge carries the audio: each side's re-offer is answered by
//! its own media leg, a change of hold is passed on to the other side as Hotline's own hold or
//! resume offer, a media timeout ends the call, SIP INFO digits join the media path, and at the
//! end the recording is closed and both legs' quality goes into the record. Signaling only, the
//! SDP of a re-offer is relayed as it came.

use hotline_core::call::{CallEventKind, EndCause, LegEnd as RecordLegEnd, Party};
use hotline_media::bridge::Side as MediaSide;
use hotline_media::leg::LegEvent as MediaEvent;
use hotline_sip::{InboundLeg, LegEnd, LegEvent, ReofferReply, Sdp};
use tokio::sync::mpsc;
use tracing::{debug, info, warn};

use super::anchor::Anchored;
use super::context::CallContext;
use super::legs::LegHandle;
use crate::hold::is_hold;
use crate::sink::CallRecordSink;

/// How a bridged call ended.
pub(crate) struct Ended {
    cause: EndCause,
    by: Party,
}

impl Ended {
    pub(crate) fn finish<S: CallRecordSink>(self, ctx: CallContext<S>) {
        ctx.finish(self.cause, self.by);
    }
}

enum Side {
    Caller(LegEvent),
    Answerer(Option<LegEvent>),
    /// A media event from one side of the bridge; `None` when that side's media is gone.
    Media(MediaSide, Option<MediaEvent>),
}

pub(crate) async fn run<S: CallRecordSink>(
    ctx: &mut CallContext<S>,
    inbound: &mut InboundLeg,
    winner: LegHandle,
    mut events: mpsc::Receiver<(u16, LegEvent)>,
    party: Party,
    mut anchored: Option<Anchored>,
) -> Ended {
    let mut on_hold = false;
    // Sides whose media events ended (their channel closed): no longer waited on.
    let mut media_gone = [false, false];
    let ended = loop {
        let event = tokio::select! {
            event = inbound.next_event() => Side::Caller(event),
            event = events.recv() => match event {
                // Late news from the legs that lost the race: already recorded as cancelled.
                Some((no, _)) if no != winner.no => continue,
                Some((_, event)) => Side::Answerer(Some(event)),
                None => Side::Answerer(None),
            },
            (side, event) = next_media(&mut anchored, media_gone) => Side::Media(side, event),
        };
        match event {
            Side::Caller(LegEvent::Reoffer { sdp, reply }) => {
                let changed = note_hold(ctx, &mut on_hold, sdp.as_deref(), Party::Caller);
                match &anchored {
                    Some(media) => {
                        answer_locally(media, MediaSide::A, sdp, reply).await;
                        if let Some(hold) = changed {
                            pass_hold_on(media, MediaSide::B, hold, |offer| winner.reoffer(offer))
                                .await;
                        }
                    }
                    None => relay_answer(reply, winner.reoffer(sdp).await).await,
                }
            }
            Side::Caller(LegEvent::Info { content_type, body }) => {
                if let Some(media) = &anchored {
                    sip_info_digit(media, MediaSide::A, content_type.as_deref(), &body);
                }
            }
            Side::Caller(LegEvent::Ended(end)) => {
                winner.hangup();
                ctx.emit(CallEventKind::LegEnded {
                    leg: winner.no,
                    end: RecordLegEnd::HungUp { by: Party::Caller },
                });
                break match end {
                    LegEnd::SessionExpired => Ended {
                        cause: EndCause::Completed,
                        by: Party::System,
                    },
                    LegEnd::Timeout => Ended {
                        cause: EndCause::Failed { status: 408 },
                        by: Party::System,
                    },
                    _ => Ended {
                        cause: EndCause::Completed,
                        by: Party::Caller,
                    },
                };
            }
            Side::Caller(_) => {}
            Side::Answerer(Some(LegEvent::Reoffer { sdp, reply })) => {
                let changed = note_hold(ctx, &mut on_hold, sdp.as_deref(), party);
                match &anchored {
                    Some(media) => {
                        answer_locally(media, MediaSide::B, sdp, reply).await;
                        if let Some(hold) = changed {
                            pass_hold_on(media, MediaSide::A, hold, |offer| async {
                                inbound.reoffer(offer).await.ok().flatten()
                            })
                            .await;
                        }
                    }
                    None => {
                        let answer = inbound.reoffer(sdp).await.ok().flatten();
                        relay_answer(reply, answer).await;
                    }
                }
            }
            Side::Answerer(Some(LegEvent::Info { content_type, body })) => {
                if let Some(media) = &anchored {
                    sip_info_digit(media, MediaSide::B, content_type.as_deref(), &body);
                }
            }
            Side::Answerer(Some(LegEvent::Ended(_)) | None) => {
                ctx.emit(CallEventKind::LegEnded {
                    leg: winner.no,
                    end: RecordLegEnd::HungUp { by: party },
                });
                inbound.hangup().await;
                break Ended {
                    cause: EndCause::Completed,
                    by: party,
                };
            }
            Side::Answerer(Some(_)) => {}
            Side::Media(side, None) => media_gone[index(side)] = true,
            Side::Media(side, Some(MediaEvent::MediaTimeout { reason, silent_ms })) => {
                info!(?side, ?reason, silent_ms, "no media: ending the call");
                winner.hangup();
                ctx.emit(CallEventKind::LegEnded {
                    leg: winner.no,
                    end: RecordLegEnd::HungUp { by: Party::System },
                });
                inbound.hangup().await;
                break Ended {
                    cause: EndCause::MediaTimeout,
                    by: Party::System,
                };
            }
            Side::Media(_, Some(MediaEvent::RecordingFailed { reason })) => {
                warn!(%reason, "the call's recording stopped");
                if let Some(media) = anchored.as_mut() {
                    media.recording_failed(ctx, reason);
                }
            }
            Side::Media(side, Some(MediaEvent::RtpLatched { from })) => {
                debug!(?side, %from, "media latched");
            }
            Side::Media(_, Some(_)) => {}
        }
    };
    if let Some(media) = anchored {
        media.finish(ctx).await;
    }
    ended
}

fn index(side: MediaSide) -> usize {
    match side {
        MediaSide::A => 0,
        MediaSide::B => 1,
    }
}

/// The next media event of either side of the bridge; never resolves for a call that is not
/// anchored, or once both sides' events have ended.
async fn next_media(
    anchored: &mut Option<Anchored>,
    gone: [bool; 2],
) -> (MediaSide, Option<MediaEvent>) {
    let Some(media) = anchored.as_mut() else {
        return std::future::pending().await;
    };
    let (a, b) = media.bridge.legs_mut();
    tokio::select! {
        event = a.next_event(), if !gone[0] => (MediaSide::A, event),
        event = b.next_event(), if !gone[1] => (MediaSide::B, event),
        else => std::future::pending().await,
    }
}

/// Answer one side's re-offer with that side's own media leg (anchored calls): hold, resume
/// and session refreshes never need the other side's SDP.
async fn answer_locally(
    media: &Anchored,
    side: MediaSide,
    offer: Option<Sdp>,
    reply: ReofferReply,
) {
    let leg = media.bridge.leg(side);
    let answered = match offer {
        Some(offer) => leg.answer_reoffer(&offer).await,
        // A re-INVITE without an offer asks for ours; its answer (in the ACK) is not surfaced,
        // so the current session stays as it is.
        None => leg.hold_offer(false).await,
    };
    match answered {
        Ok(answer) => reply.accept(Some(answer)).await,
        Err(error) if error.is_not_acceptable() => reply.reject(488).await,
        Err(error) => {
            warn!(%error, "could not answer a re-offer");
            reply.reject(500).await;
        }
    }
}

/// Tell the other side of a hold change with Hotline's own hold or resume offer, and apply its
/// answer to that side's media leg.
async fn pass_hold_on<F, Fut>(media: &Anchored, side: MediaSide, hold: bool, send: F)
where
    F: FnOnce(Option<Sdp>) -> Fut,
    Fut: std::future::Future<Output = Option<(u16, Option<Sdp>)>>,
{
    let leg = media.bridge.leg(side);
    let offer = match leg.hold_offer(hold).await {
        Ok(offer) => offer,
        Err(error) => return warn!(%error, "no hold offer for the other side"),
    };
    match send(Some(offer)).await {
        Some((status, Some(answer))) if (200..300).contains(&status) => {
            if let Err(error) = leg.apply_answer(&answer).await {
                warn!(%error, "the other side's answer to the hold offer was refused");
                let _ = leg.offer_rejected();
            }
        }
        answer => {
            debug!(?answer, hold, "the other side did not take the hold offer");
            let _ = leg.offer_rejected();
        }
    }
}

/// A digit sent as SIP INFO (application/dtmf-relay, application/dtmf) joins the media path on
/// the leg whose dialog carried it.
fn sip_info_digit(media: &Anchored, side: MediaSide, content_type: Option<&str>, body: &[u8]) {
    let Some(content_type) = content_type else {
        return;
    };
    match hotline_media::dtmf::sip_info::parse(content_type, body) {
        Ok((digit, duration)) => {
            let _ = media.bridge.leg(side).sip_info_digit(digit, duration);
        }
        Err(error) => debug!(%error, "an INFO that is not a digit"),
    }
}

/// Note a change of hold in the record; the new state when it changed.
fn note_hold<S: CallRecordSink>(
    ctx: &mut CallContext<S>,
    on_hold: &mut bool,
    sdp: Option<&[u8]>,
    by: Party,
) -> Option<bool> {
    match (sdp.and_then(is_hold), *on_hold) {
        (Some(true), false) => {
            *on_hold = true;
            ctx.emit(CallEventKind::HoldStarted { by });
            Some(true)
        }
        (Some(false), true) => {
            *on_hold = false;
            ctx.emit(CallEventKind::HoldEnded);
            Some(false)
        }
        _ => None,
    }
}

async fn relay_answer(reply: ReofferReply, answer: Option<(u16, Option<Sdp>)>) {
    match answer {
        Some((status, sdp)) if (200..300).contains(&status) => reply.accept(sdp).await,
        Some((status, _)) => reply.reject(status).await,
        None => reply.reject(500).await,
    }
}
