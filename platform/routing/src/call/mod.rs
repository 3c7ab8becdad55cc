//! The call engine's task per call: decide (number, tenant, limits, schedule), then carry out
//! the hotline's action — refuse, or forward (ring, then bridge the signaling and, anchored,
//! the media) — emitting the call's events as it goes and ending with its record.

mod actions;
mod anchor;
mod bridge;
mod collect;
mod context;
mod ivr;
mod legs;
mod message;
mod queue;
mod ring;
mod spool;

use std::sync::Arc;
use std::time::Instant;

use hotline_core::call::{CallEventKind, Direction, EndCause, Party, RejectReason, ScheduleBranch};
use hotline_core::ids::CallId;
use hotline_media::{LegOptions, MediaEngine};
use hotline_sip::{IncomingCall, SipStack};
use tokio::sync::mpsc;
use tracing::{info, warn, Instrument};

use crate::decide::{self, Refusal};
use crate::directory::{Directory, HotlineAction};
use crate::ivr::IvrRunner;
use crate::limits::TenantLimiter;
use crate::prompts::{PromptSource, RecordingFiles};
use crate::sink::CallRecordSink;
use crate::targets::{AgentLocator, OutboundTrunks};
use anchor::CallerMedia;
use context::CallContext;
use spool::RecordSpool;

/// What the engine is built from: the traits it asks through and the stacks it drives.
pub struct EngineParts<D: Directory, S: CallRecordSink> {
    pub directory: Arc<D>,
    pub sink: Arc<S>,
    pub sip: SipStack,
    pub agents: Arc<dyn AgentLocator>,
    pub trunks: Arc<dyn OutboundTrunks>,
    /// `None`: signaling only, every SDP passes through untouched and no RTP is anchored.
    pub media: Option<MediaEngine>,
    pub prompts: Arc<dyn PromptSource>,
    pub recordings: Arc<dyn RecordingFiles>,
    /// Runs hotlines' IVR plugins; `None`: every IVR hotline uses its fallback.
    pub ivr: Option<Arc<dyn IvrRunner>>,
}

/// Everything a call task needs, shared by all calls.
pub struct Engine<D: Directory, S: CallRecordSink> {
    directory: Arc<D>,
    sink: Arc<S>,
    spool: RecordSpool,
    sip: SipStack,
    agents: Arc<dyn AgentLocator>,
    trunks: Arc<dyn OutboundTrunks>,
    media: Option<MediaEngine>,
    prompts: Arc<dyn PromptSource>,
    recordings: Arc<dyn RecordingFiles>,
    ivr: Option<Arc<dyn IvrRunner>>,
    limiter: TenantLimiter,
}

impl<D: Directory, S: CallRecordSink> Engine<D, S> {
    /// The engine, and the task that writes its call records (await it at shutdown).
    pub fn new(parts: EngineParts<D, S>) -> (Arc<Self>, tokio::task::JoinHandle<()>) {
        let (spool, writer) = RecordSpool::start(parts.sink.clone());
        let engine = Arc::new(Self {
            directory: parts.directory,
            sink: parts.sink,
            spool,
            sip: parts.sip,
            agents: parts.agents,
            trunks: parts.trunks,
            media: parts.media,
            prompts: parts.prompts,
            recordings: parts.recordings,
            ivr: parts.ivr,
            limiter: TenantLimiter::default(),
        });
        (engine, writer)
    }

    pub fn limiter(&self) -> &TenantLimiter {
        &self.limiter
    }

    /// Take calls from the SIP stack until it stops; one task per call.
    pub async fn run(self: Arc<Self>, mut calls: mpsc::Receiver<IncomingCall>) {
        while let Some(call) = calls.recv().await {
            let engine = self.clone();
            let call_id = CallId::new();
            let span = tracing::info_span!("call", %call_id, tenant = tracing::field::Empty);
            tokio::spawn(engine.handle(call_id, call).instrument(span));
        }
    }

    async fn handle(self: Arc<Self>, call_id: CallId, call: IncomingCall) {
        let arrived_at = hotline_core::time::now();
        let mut ctx = CallContext::new(call_id, self.sink.clone(), self.spool.clone());
        let info = call.info.clone();
        ctx.emit(CallEventKind::Arrived {
            direction: Direction::Inbound,
            caller: info.caller.clone(),
            dialed: info.dialed.clone().unwrap_or_default(),
            trunk_id: Some(info.trunk_id),
        });
        let resolved = match decide::normalize_dialed(info.dialed.as_deref()) {
            Ok(e164) => {
                let lookup = self.directory.lookup(&e164).await;
                decide::resolve(e164, lookup)
            }
            Err(refusal) => Err(refusal),
        };
        let resolved = match resolved {
            Ok(resolved) => resolved,
            Err(refusal) => return refuse(ctx, call, refusal).await,
        };
        tracing::Span::current().record(
            "tenant",
            tracing::field::display(resolved.tenant.slug.as_str()),
        );
        let (branch, action) = decide::branch(&resolved, hotline_core::time::now());
        ctx.emit(CallEventKind::Routed {
            tenant_id: resolved.tenant.tenant_id,
            hotline_id: resolved.hotline.hotline_id,
            branch,
        });
        let _permit = match self.limiter.admit(
            resolved.tenant.tenant_id,
            resolved.tenant.max_concurrent_calls,
            resolved.tenant.max_calls_per_second,
            Instant::now(),
        ) {
            Ok(permit) => permit,
            Err(exceeded) => {
                metrics::counter!("hotline_calls_over_tenant_limit_total").increment(1);
                let refusal = Refusal {
                    status: 503,
                    retry_after: Some(exceeded.retry_after()),
                    reason: RejectReason::OverLimit,
                };
                return refuse(ctx, call, refusal).await;
            }
        };
        let rejected_because = match branch {
            ScheduleBranch::Open => RejectReason::Configured,
            ScheduleBranch::Closed => RejectReason::Closed,
        };
        // Refusals need no dialog and no media.
        match action {
            HotlineAction::Reject { status } => {
                return refuse(ctx, call, Refusal::new(status, rejected_because)).await;
            }
            HotlineAction::Unsupported { what, status } => {
                warn!(
                    what,
                    status, "the hotline's action cannot be carried out; refusing"
                );
                return refuse(ctx, call, Refusal::new(status, RejectReason::NoRoute)).await;
            }
            _ => {}
        }
        let caller_media = match (&self.media, info.sdp.as_deref()) {
            (Some(media), Some(offer)) => {
                match media.inbound_leg(offer, LegOptions::default()).await {
                    Ok((leg, answer)) => Some(CallerMedia { leg, answer }),
                    Err(error) if error.is_not_acceptable() => {
                        info!(%error, "the caller's offer has nothing Hotline speaks");
                        let refusal = Refusal::new(488, RejectReason::MediaNotAcceptable);
                        return refuse(ctx, call, refusal).await;
                    }
                    Err(error) => {
                        // Out of ports, or the sockets would not bind: no room for one more call.
                        warn!(%error, "no media for the call");
                        metrics::counter!("hotline_calls_without_media_total").increment(1);
                        let refusal = Refusal {
                            status: 503,
                            retry_after: Some(5),
                            reason: RejectReason::Overload,
                        };
                        return refuse(ctx, call, refusal).await;
                    }
                }
            }
            // Signaling only, or an INVITE without an offer: the SDP passes through.
            _ => None,
        };
        let inbound = match call.accept() {
            Ok(leg) => leg,
            Err(error) => {
                warn!(%error, "could not accept the call into a dialog");
                return ctx.finish(EndCause::Failed { status: 500 }, Party::System);
            }
        };
        let setup = ring::CallSetup {
            caller: info.caller,
            caller_name: info.caller_name,
            dialed: resolved.e164,
            offer: info.sdp,
            max_forwards: info.max_forwards.saturating_sub(1),
            tenant_id: resolved.tenant.tenant_id,
            recording: resolved.hotline.recording,
            hotline_id: resolved.hotline.hotline_id,
            hotline_name: resolved.hotline.name.clone(),
            language: resolved.hotline.language.clone(),
            zone: resolved.tenant.time_zone,
            cpu_ms_per_call: resolved.tenant.plugin_cpu_ms_per_call,
            arrived_at,
            open: branch == ScheduleBranch::Open,
        };
        let caller = ring::Caller::new(inbound, caller_media);
        actions::carry_out(self.clone(), ctx, caller, setup, 1, action).await;
    }
}

async fn refuse<S: CallRecordSink>(ctx: CallContext<S>, call: IncomingCall, refusal: Refusal) {
    info!(status = refusal.status, reason = ?refusal.reason, "call refused");
    call.reject(refusal.status, refusal.retry_after).await;
    ctx.finish(
        EndCause::Rejected {
            reason: refusal.reason,
            status: refusal.status,
        },
        Party::System,
    );
}
