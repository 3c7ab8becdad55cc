//! The tasks: one per unbridged leg, one per bridge. Each owns its sockets, reads datagrams,
//! hands them to the core with the time, sends what the core asks for with `try_send_to`
//! (a full socket buffer drops the packet, as a router would, instead of stalling the call),
//! and sleeps until the core's next deadline.

use std::time::{Duration, Instant};

use tokio::net::UdpSocket;
use tokio::sync::{mpsc, oneshot};

use super::{MediaEngine, RecordingTarget};
use crate::bridge::{Bridge, Relayed, Side};
use crate::dtmf::{BargeIn, Digit};
use crate::error::MediaError;
use crate::leg::{Leg, LegEvent, PlayId, PlayOutcome};
use crate::prompt::Playlist;
use crate::record::{RecordError, RecordingSummary, WavWriter};
use crate::rtp::ports::PortPair;
use crate::rtp::stats::LegQuality;
use crate::rtp::MAX_PACKET;
use crate::sdp::{Negotiated, SdpError, SdpNegotiation};

pub(crate) enum LegCommand {
    ApplyAnswer(Vec<u8>, oneshot::Sender<Result<Negotiated, SdpError>>),
    Reoffer(Vec<u8>, oneshot::Sender<Result<Vec<u8>, SdpError>>),
    HoldOffer(bool, oneshot::Sender<Vec<u8>>),
    OfferRejected,
    Play {
        playlist: Playlist,
        barge_in: BargeIn,
        reply: oneshot::Sender<oneshot::Receiver<PlayOutcome>>,
    },
    StopPlay,
    SendDtmf(Vec<Digit>, Duration),
    SipInfoDigit(Digit, Duration),
    Quality(oneshot::Sender<LegQuality>),
    Negotiated(oneshot::Sender<Option<Negotiated>>),
    Detach(oneshot::Sender<LegRuntime>),
}

pub(crate) enum BridgeCommand {
    StartRecording(
        RecordingTarget,
        Side,
        oneshot::Sender<Result<(), MediaError>>,
    ),
    PauseRecording(oneshot::Sender<Result<(), MediaError>>),
    ResumeRecording(oneshot::Sender<Result<(), MediaError>>),
    StopRecording(oneshot::Sender<Result<RecordingSummary, MediaError>>),
    Relayed(Side, oneshot::Sender<(u64, u64)>),
    #[allow(clippy::type_complexity)]
    Unbridge(
        oneshot::Sender<(
            LegRuntime,
            LegRuntime,
            Option<Result<RecordingSummary, RecordError>>,
        )>,
    ),
}

/// Sockets first, ports last: a port goes back to the pool only once its socket is closed.
pub(crate) struct LegIo {
    rtp: UdpSocket,
    rtcp: UdpSocket,
    _ports: PortPair,
}

impl Drop for LegIo {
    /// Whatever ends the leg (its handle dropped, a bridge torn down, a panic), the gauge
    /// follows the port pair.
    fn drop(&mut self) {
        super::metrics::leg_dropped();
    }
}

pub(crate) struct LegControl {
    pub(crate) sdp: SdpNegotiation,
    pending_play: Option<(PlayId, oneshot::Sender<PlayOutcome>)>,
    events: mpsc::Sender<LegEvent>,
    cmd_rx: mpsc::UnboundedReceiver<LegCommand>,
}

pub(crate) struct LegRest {
    io: LegIo,
    pub(crate) control: LegControl,
}

pub(crate) struct LegRuntime {
    pub(crate) core: Leg,
    pub(crate) control: LegControl,
    io: LegIo,
}

impl LegRuntime {
    pub(crate) fn new(
        core: Leg,
        sdp: SdpNegotiation,
        rtp: UdpSocket,
        rtcp: UdpSocket,
        ports: PortPair,
        cmd_rx: mpsc::UnboundedReceiver<LegCommand>,
        events: mpsc::Sender<LegEvent>,
    ) -> LegRuntime {
        super::metrics::leg_started();
        LegRuntime {
            core,
            control: LegControl {
                sdp,
                pending_play: None,
                events,
                cmd_rx,
            },
            io: LegIo {
                rtp,
                rtcp,
                _ports: ports,
            },
        }
    }

    pub(crate) fn into_parts(self) -> (Leg, LegRest) {
        (
            self.core,
            LegRest {
                io: self.io,
                control: self.control,
            },
        )
    }

    /// Waits until the reactor has seen both sockets writable: `try_send_to` on a socket whose
    /// readiness tokio does not know yet refuses to send.
    pub(crate) async fn sockets_ready(&self) -> Result<(), MediaError> {
        self.io.rtp.writable().await?;
        self.io.rtcp.writable().await?;
        Ok(())
    }

    fn from_parts(core: Leg, rest: LegRest) -> LegRuntime {
        LegRuntime {
            core,
            control: rest.control,
            io: rest.io,
        }
    }
}

/// Handles a command; a detach request is handed back to the loop (it needs ownership).
fn apply_command(
    core: &mut Leg,
    control: &mut LegControl,
    command: LegCommand,
    now: Instant,
) -> Option<oneshot::Sender<LegRuntime>> {
    match command {
        LegCommand::ApplyAnswer(answer, reply) => {
            let result = control.sdp.accept_answer(&answer);
            if let Ok(negotiated) = &result {
                core.set_negotiated(negotiated.clone(), now);
                core.set_held(control.sdp.holding());
            }
            let _ = reply.send(result);
        }
        LegCommand::Reoffer(offer, reply) => {
            let result = control.sdp.answer(&offer).map(|(negotiated, answer)| {
                core.set_negotiated(negotiated, now);
                core.set_held(control.sdp.holding());
                answer
            });
            let _ = reply.send(result);
        }
        LegCommand::HoldOffer(hold, reply) => {
            control.sdp.set_holding(hold);
            let _ = reply.send(control.sdp.create_offer());
        }
        LegCommand::Play {
            playlist,
            barge_in,
            reply,
        } => {
            let id = core.play(playlist, barge_in, now);
            // The replaced play's PlayDone is queued before this one starts.
            drain_events(core, control);
            let (done_tx, done_rx) = oneshot::channel();
            control.pending_play = Some((id, done_tx));
            let _ = reply.send(done_rx);
        }
        LegCommand::OfferRejected => control.sdp.offer_rejected(),
        LegCommand::StopPlay => core.stop_play(),
        LegCommand::SendDtmf(digits, duration) => core.send_dtmf(&digits, duration, now),
        LegCommand::SipInfoDigit(digit, duration) => {
            core.handle_sip_info_digit(digit, duration, now)
        }
        LegCommand::Quality(reply) => {
            let _ = reply.send(core.quality());
        }
        LegCommand::Negotiated(reply) => {
            let _ = reply.send(core.negotiated().cloned());
        }
        LegCommand::Detach(reply) => return Some(reply),
    }
    None
}

fn drain_events(core: &mut Leg, control: &mut LegControl) {
    while let Some(event) = core.poll_event() {
        if matches!(event, LegEvent::MediaTimeout { .. }) {
            super::metrics::media_timeout();
        }
        if let LegEvent::PlayDone { play, outcome } = &event {
            if control
                .pending_play
                .as_ref()
                .is_some_and(|(id, _)| id == play)
            {
                if let Some((_, done)) = control.pending_play.take() {
                    let _ = done.send(*outcome);
                }
            }
        }
        // Nobody listening is fine (the engine may not care); a full queue drops the event.
        if let Err(mpsc::error::TrySendError::Full(dropped)) = control.events.try_send(event) {
            tracing::debug!(?dropped, "leg event queue full, event dropped");
        }
    }
}

fn flush_leg(core: &mut Leg, io: &LegIo, now: Instant, out: &mut [u8]) {
    while let Some(t) = core.poll_transmit(now, out) {
        let socket = if t.rtcp { &io.rtcp } else { &io.rtp };
        let _ = socket.try_send_to(&out[..t.len], t.to);
    }
}

/// The next wake-up, never in the past (a core with nothing to do now must not spin the loop).
fn next_deadline(next: Instant, now: Instant) -> tokio::time::Instant {
    tokio::time::Instant::from_std(next.max(now + Duration::from_millis(1)))
}

/// Datagrams read per readiness before the loop looks at its other work (fairness under a flood).
const BATCH: usize = 32;

pub(crate) async fn run_leg(mut rt: LegRuntime) {
    let mut buf = [0u8; MAX_PACKET];
    let mut out = [0u8; MAX_PACKET];
    let sleep = tokio::time::sleep_until(next_deadline(rt.core.poll_timeout(), Instant::now()));
    tokio::pin!(sleep);
    loop {
        tokio::select! {
            ready = rt.io.rtp.readable() => {
                if ready.is_ok() {
                    let now = Instant::now();
                    for _ in 0..BATCH {
                        let Ok((len, from)) = rt.io.rtp.try_recv_from(&mut buf) else { break };
                        let _ = rt.core.handle_rtp(&buf[..len], from, now);
                    }
                }
            }
            ready = rt.io.rtcp.readable() => {
                if ready.is_ok() {
                    for _ in 0..BATCH {
                        let Ok((len, from)) = rt.io.rtcp.try_recv_from(&mut buf) else { break };
                        rt.core.handle_rtcp(&buf[..len], from, Instant::now());
                    }
                }
            }
            command = rt.control.cmd_rx.recv() => {
                let Some(command) = command else {
                    // The handle was dropped: the leg ends.
                    super::metrics::leg_finished(&rt.core.quality());
                    return;
                };
                if let Some(reply) = apply_command(&mut rt.core, &mut rt.control, command, Instant::now()) {
                    drain_events(&mut rt.core, &mut rt.control);
                    if let Err(rt) = reply.send(rt) {
                        // The asker went away: keep running as before.
                        Box::pin(run_leg(rt)).await;
                    }
                    return;
                }
            }
            () = &mut sleep => rt.core.handle_timeout(Instant::now()),
        }
        let now = Instant::now();
        flush_leg(&mut rt.core, &rt.io, now, &mut out);
        drain_events(&mut rt.core, &mut rt.control);
        sleep
            .as_mut()
            .reset(next_deadline(rt.core.poll_timeout(), now));
    }
}

fn leg_io<'a>(side: Side, a: &'a LegRest, b: &'a LegRest) -> (&'a UdpSocket, &'a UdpSocket) {
    match side {
        Side::A => (&a.io.rtp, &a.io.rtcp),
        Side::B => (&b.io.rtp, &b.io.rtcp),
    }
}

/// Reads what `side`'s RTP socket holds (up to [`BATCH`]) and relays each datagram at once.
fn relay_ready(bridge: &mut Bridge, side: Side, buf: &mut [u8], a: &LegRest, b: &LegRest) {
    let (socket, _) = leg_io(side, a, b);
    let now = Instant::now();
    for _ in 0..BATCH {
        let Ok((len, from)) = socket.try_recv_from(buf) else {
            break;
        };
        if let Relayed::Forward(f) = bridge.handle_rtp(side, buf, len, from, now) {
            let (out, _) = leg_io(f.side, a, b);
            let _ = out.try_send_to(&buf[..f.len], f.to);
        }
    }
}

fn open_recording(target: RecordingTarget) -> Result<WavWriter, MediaError> {
    Ok(match target {
        RecordingTarget::Path(path) => WavWriter::create(&path)?,
        RecordingTarget::Writer(sink) => WavWriter::new(sink)?,
    })
}

fn apply_bridge_command(
    bridge: &mut Bridge,
    command: BridgeCommand,
    flush: Duration,
) -> Option<BridgeCommand> {
    let now = Instant::now();
    match command {
        BridgeCommand::StartRecording(target, left, reply) => {
            let result = open_recording(target).map(|writer| {
                if let Some(Err(e)) = bridge.start_recording(writer, left, flush, now) {
                    tracing::warn!(error = %e, "closing the previous recording failed");
                }
            });
            let _ = reply.send(result);
        }
        BridgeCommand::PauseRecording(reply) => {
            let result = if bridge.is_recording() {
                bridge.pause_recording(now);
                Ok(())
            } else {
                Err(MediaError::NotRecording)
            };
            let _ = reply.send(result);
        }
        BridgeCommand::ResumeRecording(reply) => {
            let result = if bridge.is_recording() {
                bridge.resume_recording(now);
                Ok(())
            } else {
                Err(MediaError::NotRecording)
            };
            let _ = reply.send(result);
        }
        BridgeCommand::StopRecording(reply) => {
            let result = match bridge.stop_recording(now) {
                Some(summary) => summary.map_err(MediaError::from),
                None => Err(MediaError::NotRecording),
            };
            let _ = reply.send(result);
        }
        BridgeCommand::Relayed(side, reply) => {
            let _ = reply.send(bridge.relayed(side));
        }
        unbridge @ BridgeCommand::Unbridge(_) => return Some(unbridge),
    }
    None
}

fn recording_failed(error: RecordError, rest: &mut LegRest) {
    tracing::warn!(error = %error, "recording stopped");
    super::metrics::recording_failed();
    let _ = rest.control.events.try_send(LegEvent::RecordingFailed {
        reason: error.to_string(),
    });
}

pub(crate) async fn run_bridge(
    mut bridge: Bridge,
    mut a: LegRest,
    mut b: LegRest,
    mut commands: mpsc::UnboundedReceiver<BridgeCommand>,
    flush: Duration,
    _engine: MediaEngine,
) {
    let mut buf = [0u8; MAX_PACKET];
    let mut out = [0u8; MAX_PACKET];
    let sleep = tokio::time::sleep_until(next_deadline(bridge.poll_timeout(), Instant::now()));
    tokio::pin!(sleep);
    let mut deadline = bridge.poll_timeout();
    loop {
        let mut timers_due = false;
        tokio::select! {
            ready = a.io.rtp.readable() => {
                if ready.is_ok() {
                    relay_ready(&mut bridge, Side::A, &mut buf, &a, &b);
                }
            }
            ready = b.io.rtp.readable() => {
                if ready.is_ok() {
                    relay_ready(&mut bridge, Side::B, &mut buf, &a, &b);
                }
            }
            ready = a.io.rtcp.readable() => {
                if ready.is_ok() {
                    for _ in 0..BATCH {
                        let Ok((len, from)) = a.io.rtcp.try_recv_from(&mut buf) else { break };
                        bridge.leg_mut(Side::A).handle_rtcp(&buf[..len], from, Instant::now());
                    }
                    timers_due = true;
                }
            }
            ready = b.io.rtcp.readable() => {
                if ready.is_ok() {
                    for _ in 0..BATCH {
                        let Ok((len, from)) = b.io.rtcp.try_recv_from(&mut buf) else { break };
                        bridge.leg_mut(Side::B).handle_rtcp(&buf[..len], from, Instant::now());
                    }
                    timers_due = true;
                }
            }
            command = a.control.cmd_rx.recv() => {
                let Some(command) = command else { break };
                let _ = apply_command(bridge.leg_mut(Side::A), &mut a.control, command, Instant::now());
                timers_due = true;
            }
            command = b.control.cmd_rx.recv() => {
                let Some(command) = command else { break };
                let _ = apply_command(bridge.leg_mut(Side::B), &mut b.control, command, Instant::now());
                timers_due = true;
            }
            command = commands.recv() => {
                let Some(command) = command else { break };
                if let Some(BridgeCommand::Unbridge(reply)) = apply_bridge_command(&mut bridge, command, flush) {
                    let (core_a, core_b, summary) = bridge.into_legs(Instant::now());
                    let _ = reply.send((
                        LegRuntime::from_parts(core_a, a),
                        LegRuntime::from_parts(core_b, b),
                        summary,
                    ));
                    return;
                }
                timers_due = true;
            }
            () = &mut sleep => {
                if let Some(error) = bridge.handle_timeout(Instant::now()) {
                    recording_failed(error, &mut a);
                }
                timers_due = true;
            }
        }
        let now = Instant::now();
        // Prompts, DTMF and RTCP of either leg; on the relay path only when something is due.
        if timers_due || now >= deadline {
            for side in [Side::A, Side::B] {
                let (rtp, rtcp) = leg_io(side, &a, &b);
                let leg = bridge.leg_mut(side);
                while let Some(t) = leg.poll_transmit(now, &mut out) {
                    let socket = if t.rtcp { rtcp } else { rtp };
                    let _ = socket.try_send_to(&out[..t.len], t.to);
                }
            }
        }
        drain_events(bridge.leg_mut(Side::A), &mut a.control);
        drain_events(bridge.leg_mut(Side::B), &mut b.control);
        let next = bridge.poll_timeout();
        if next != deadline || timers_due {
            deadline = next;
            sleep.as_mut().reset(next_deadline(next, now));
        }
    }
    // The handles are gone: close the recording so its file is complete.
    super::metrics::leg_finished(&bridge.leg(Side::A).quality());
    super::metrics::leg_finished(&bridge.leg(Side::B).quality());
    if let Some(Err(error)) = bridge.stop_recording(Instant::now()) {
        tracing::warn!(error = %error, "closing the recording failed");
    }
}
