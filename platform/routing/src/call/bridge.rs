//! A connected call: relay re-offers (hold, resume, session refresh) between the caller and the
//! party that answered, note hold and resume in the record, and end both sides when either
//! hangs up. Signaling only: the media engine anchors RTP here later.

use hotline_core::call::{CallEventKind, EndCause, LegEnd as RecordLegEnd, Party};
use hotline_sip::{InboundLeg, LegEnd, LegEvent, ReofferReply, Sdp};
use tokio::sync::mpsc;

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

pub(crate) async fn run<S: CallRecordSink>(
    ctx: &mut CallContext<S>,
    inbound: &mut InboundLeg,
    winner: LegHandle,
    mut events: mpsc::Receiver<(u16, LegEvent)>,
    party: Party,
) -> Ended {
    let mut on_hold = false;
    loop {
        let event = tokio::select! {
            event = inbound.next_event() => Side::Caller(event),
            event = events.recv() => match event {
                // Late news from the legs that lost the race: already recorded as cancelled.
                Some((no, _)) if no != winner.no => continue,
                Some((_, event)) => Side::Answerer(Some(event)),
                None => Side::Answerer(None),
            },
        };
        match event {
            Side::Caller(LegEvent::Reoffer { sdp, reply }) => {
                note_hold(ctx, &mut on_hold, sdp.as_deref(), Party::Caller);
                let answer = winner.reoffer(sdp).await;
                relay_answer(reply, answer).await;
            }
            Side::Caller(LegEvent::Ended(end)) => {
                winner.hangup();
                ctx.emit(CallEventKind::LegEnded {
                    leg: winner.no,
                    end: RecordLegEnd::HungUp { by: Party::Caller },
                });
                return match end {
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
                note_hold(ctx, &mut on_hold, sdp.as_deref(), party);
                let answer = inbound.reoffer(sdp).await.ok().flatten();
                relay_answer(reply, answer).await;
            }
            Side::Answerer(Some(LegEvent::Ended(_)) | None) => {
                ctx.emit(CallEventKind::LegEnded {
                    leg: winner.no,
                    end: RecordLegEnd::HungUp { by: party },
                });
                inbound.hangup().await;
                return Ended {
                    cause: EndCause::Completed,
                    by: party,
                };
            }
            Side::Answerer(Some(_)) => {}
        }
    }
}

enum Side {
    Caller(LegEvent),
    Answerer(Option<LegEvent>),
}

fn note_hold<S: CallRecordSink>(
    ctx: &mut CallContext<S>,
    on_hold: &mut bool,
    sdp: Option<&[u8]>,
    by: Party,
) {
    match (sdp.and_then(is_hold), *on_hold) {
        (Some(true), false) => {
            *on_hold = true;
            ctx.emit(CallEventKind::HoldStarted { by });
        }
        (Some(false), true) => {
            *on_hold = false;
            ctx.emit(CallEventKind::HoldEnded);
        }
        _ => {}
    }
}

async fn relay_answer(reply: ReofferReply, answer: Option<(u16, Option<Sdp>)>) {
    match answer {
        Some((status, sdp)) if (200..300).contains(&status) => reply.accept(sdp).await,
        Some((status, _)) => reply.reject(status).await,
        None => reply.reject(500).await,
    }
}
