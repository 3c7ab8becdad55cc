//! A hotline's message: answer, play one of the tenant's prompts, hang up (what a closed hotline
//! says). Without media to play into, or without the prompt, the caller is refused with 480
//! instead: never an answered call full of silence.

use hotline_core::call::{CallEventKind, EndCause, Party, RejectReason};
use hotline_core::ids::PromptId;
use hotline_media::prompt::{PlayItem, Playlist};
use hotline_sip::LegEvent;
use tracing::warn;

use super::anchor;
use super::context::CallContext;
use super::ring::{CallSetup, Caller};
use super::Engine;
use crate::directory::Directory;
use crate::sink::CallRecordSink;

const REFUSED: u16 = 480;

pub(crate) async fn play_then_hang_up<D: Directory, S: CallRecordSink>(
    engine: &Engine<D, S>,
    mut ctx: CallContext<S>,
    mut caller: Caller,
    setup: &CallSetup,
    prompt_id: PromptId,
    reason: RejectReason,
) {
    let prompt = match engine.prompts.by_id(setup.tenant_id, prompt_id).await {
        Ok(prompt) => prompt,
        Err(error) => {
            warn!(%error, "the hotline's message cannot be played; refusing the call");
            caller.end(REFUSED).await;
            return ctx.finish(
                EndCause::Rejected {
                    reason,
                    status: REFUSED,
                },
                Party::System,
            );
        }
    };
    if caller.media.is_none() {
        warn!("no media to play the hotline's message into; refusing the call");
        caller.end(REFUSED).await;
        return ctx.finish(
            EndCause::Rejected {
                reason,
                status: REFUSED,
            },
            Party::System,
        );
    }
    if !caller.is_answered() {
        if caller.answer(None).is_err() {
            return ctx.finish(EndCause::Failed { status: 500 }, Party::System);
        }
        ctx.emit(CallEventKind::Answered);
    }
    let caller_left = {
        let Caller { inbound, media, .. } = &mut caller;
        let Some(media) = media.as_ref() else {
            return ctx.finish(EndCause::Failed { status: 500 }, Party::System);
        };
        let play = media
            .leg
            .play(Playlist::once(vec![PlayItem::Prompt(prompt)]), false);
        tokio::pin!(play);
        loop {
            tokio::select! {
                _ = &mut play => break false,
                event = inbound.next_event() => match event {
                    LegEvent::Ended(_) => break true,
                    LegEvent::Reoffer { sdp: Some(offer), reply } => {
                        match media.leg.answer_reoffer(&offer).await {
                            Ok(answer) => reply.accept(Some(answer)).await,
                            Err(_) => reply.reject(488).await,
                        }
                    }
                    LegEvent::Reoffer { reply, .. } => reply.reject(488).await,
                    _ => {}
                },
            }
        }
    };
    anchor::caller_media_ended(&mut ctx, &caller).await;
    if caller_left {
        return ctx.finish(EndCause::Abandoned, Party::Caller);
    }
    caller.inbound.hangup().await;
    // Answered to say the hotline is closed: a refused call for the KPIs, though it got a 200.
    ctx.finish(
        EndCause::Rejected {
            reason,
            status: 200,
        },
        Party::System,
    );
}
