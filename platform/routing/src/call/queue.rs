//! A caller handed to one of the tenant's queues (by the IVR's `enqueue`, or a hotline without a
//! plugin). Until the ACD engine lands, a live queue rings every serving member who has the
//! skills asked for at once (the ring-all strategy) while the caller hears the queue's music on
//! hold (or ringback), until the queue's maximum wait; the first member to answer takes the
//! call. The record gets the queue visit with its exit, so service level, abandonment and wait
//! (KPIS.md 1, 2, 11) count it as they will with the ACD.

use hotline_core::call::{CallEventKind, EndCause, Party, QueueExit, RejectReason};
use hotline_core::ids::AgentId;
use hotline_media::prompt::{PlayItem, Playlist, ToneRegion, ToneSpec};
use tracing::{info, warn};

use super::anchor;
use super::context::CallContext;
use super::ring::{self, CallSetup, Caller, Rang, Target};
use super::Engine;
use crate::directory::{Directory, QueueRoute};
use crate::sink::CallRecordSink;

/// The members of `queue` who have every skill in `skills`.
pub(crate) fn eligible(queue: &QueueRoute, skills: &[String]) -> Vec<AgentId> {
    queue
        .members
        .iter()
        .filter(|member| skills.iter().all(|skill| member.skills.contains(skill)))
        .map(|member| member.agent_id)
        .collect()
}

/// A caller's place in a queue: the queue, and how the caller asked to be served.
pub(crate) struct Entry {
    pub(crate) queue: QueueRoute,
    pub(crate) priority: i32,
    pub(crate) skills: Vec<String>,
}

pub(crate) async fn wait<D: Directory, S: CallRecordSink>(
    engine: &Engine<D, S>,
    mut ctx: CallContext<S>,
    mut caller: Caller,
    setup: &CallSetup,
    next_leg: &mut u16,
    entry: Entry,
) {
    let Entry {
        queue,
        priority,
        skills,
    } = entry;
    let queue_id = queue.queue_id;
    ctx.emit(CallEventKind::QueueEntered { queue_id, priority });
    let members = eligible(&queue, &skills);
    // Anchored, the queue answers the caller to play its music while the members ring.
    if caller.anchored() && !caller.is_answered() {
        if caller.answer(None).is_err() {
            return ctx.finish(EndCause::Failed { status: 500 }, Party::System);
        }
        ctx.emit(CallEventKind::Answered);
    }
    if let Some(media) = &caller.media {
        let music = match queue.moh_prompt_id {
            Some(prompt_id) => match engine.prompts.by_id(setup.tenant_id, prompt_id).await {
                Ok(prompt) => PlayItem::Prompt(prompt),
                Err(error) => {
                    warn!(%error, "the queue's music on hold is missing; playing ringback");
                    PlayItem::Tone(ToneSpec::ringback(ToneRegion::Europe), None)
                }
            },
            None => PlayItem::Tone(ToneSpec::ringback(ToneRegion::Europe), None),
        };
        let _ = media.leg.start_playing(Playlist::looping(vec![music]));
    }
    let rang = if members.is_empty() {
        Rang::Failed { status: 480 }
    } else {
        ring::ring(
            engine,
            &mut ctx,
            &mut caller,
            setup,
            Target::Agents(members),
            queue.max_wait,
            next_leg,
        )
        .await
    };
    if let Some(media) = &caller.media {
        let _ = media.leg.stop_playing();
    }
    let (exit, cause, by) = match rang {
        Rang::Answered(answered) => {
            ctx.emit(CallEventKind::QueueLeft {
                queue_id,
                exit: QueueExit::Answered,
            });
            return ring::connect(engine, ctx, caller, setup, answered).await;
        }
        Rang::CallerGone => (QueueExit::Abandoned, EndCause::Abandoned, Party::Caller),
        Rang::NoAnswer => (QueueExit::Timeout, EndCause::NoAnswer, Party::System),
        Rang::Failed { status } => (
            QueueExit::NoAgents,
            EndCause::Rejected {
                reason: RejectReason::NoRoute,
                status,
            },
            Party::System,
        ),
    };
    info!(queue = %queue.name, ?exit, "the caller left the queue unanswered");
    ctx.emit(CallEventKind::QueueLeft { queue_id, exit });
    anchor::caller_media_ended(&mut ctx, &caller).await;
    if by != Party::Caller {
        caller.end(480).await;
    }
    ctx.finish(cause, by);
}
