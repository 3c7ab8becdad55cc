//! Carrying out a hotline action on an accepted call — from the schedule's branch, or as the
//! fallback of an IVR plugin that failed (the caller may be answered already then).

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use hotline_core::call::{EndCause, Party, RejectReason};
use tracing::warn;

use super::context::CallContext;
use super::ring::{self, CallSetup, Caller, Forward, Target};
use super::{ivr, message, queue, Engine};
use crate::directory::{Directory, HotlineAction, QueueRef};
use crate::sink::CallRecordSink;

/// The call ends with `status` (a BYE if it was answered) as refused for `reason`.
async fn refuse<S: CallRecordSink>(
    ctx: CallContext<S>,
    mut caller: Caller,
    status: u16,
    reason: RejectReason,
) {
    caller.end(status).await;
    ctx.finish(EndCause::Rejected { reason, status }, Party::System);
}

/// Boxed: an IVR's fallback is carried out from inside `ivr::run`.
pub(crate) fn carry_out<D: Directory, S: CallRecordSink>(
    engine: Arc<Engine<D, S>>,
    ctx: CallContext<S>,
    caller: Caller,
    setup: CallSetup,
    next_leg: u16,
    action: HotlineAction,
) -> Pin<Box<dyn Future<Output = ()> + Send>> {
    Box::pin(async move {
        let reason = if setup.open {
            RejectReason::Configured
        } else {
            RejectReason::Closed
        };
        match action {
            HotlineAction::Reject { status } => refuse(ctx, caller, status, reason).await,
            HotlineAction::Unsupported { what, status } => {
                warn!(what, status, "the hotline's action cannot be carried out");
                refuse(ctx, caller, status, RejectReason::NoRoute).await;
            }
            HotlineAction::ForwardAgent {
                agent_id,
                ring_timeout,
                no_answer,
            } => {
                let forward = Forward {
                    target: Target::Agent(agent_id),
                    ring_timeout,
                    no_answer,
                };
                ring::forward(&engine, ctx, caller, setup, next_leg, forward).await;
            }
            HotlineAction::ForwardExternal {
                number,
                trunk_id,
                ring_timeout,
                no_answer,
            } => {
                let forward = Forward {
                    target: Target::External { number, trunk_id },
                    ring_timeout,
                    no_answer,
                };
                ring::forward(&engine, ctx, caller, setup, next_leg, forward).await;
            }
            HotlineAction::Message { prompt_id } => {
                message::play_then_hang_up(&engine, ctx, caller, &setup, prompt_id, reason).await;
            }
            HotlineAction::Queue { queue_id } => {
                let route = engine
                    .directory
                    .queue(setup.tenant_id, QueueRef::Id(queue_id))
                    .await;
                match route {
                    Ok(Some(route)) => {
                        let mut next_leg = next_leg;
                        let entry = queue::Entry {
                            queue: route,
                            priority: 0,
                            skills: Vec::new(),
                        };
                        queue::wait(&engine, ctx, caller, &setup, &mut next_leg, entry).await;
                    }
                    Ok(None) => {
                        warn!(%queue_id, "the hotline's queue is gone");
                        refuse(ctx, caller, 480, RejectReason::NoRoute).await;
                    }
                    Err(error) => {
                        warn!(%error, "the directory is unavailable");
                        refuse(ctx, caller, 503, RejectReason::Overload).await;
                    }
                }
            }
            HotlineAction::Ivr { plugin, fallback } => {
                ivr::run(engine, ctx, caller, setup, next_leg, plugin, *fallback).await;
            }
        }
    })
}
