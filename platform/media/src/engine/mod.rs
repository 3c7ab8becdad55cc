//! The tokio shell around the sans-IO core: it owns the UDP sockets and the clock, and runs
//! one task per unbridged leg and one per bridge (both legs' sockets in one task, so a relayed
//! packet never crosses a channel or a lock). `BENCHMARKS.md` records why this shape and not a
//! sharded reactor.
//!
//! Handles are the only way in: a [`LegHandle`] dropped ends its leg (its task stops, its
//! ports go back to the pool), on every path including a caller's panic. The shell decides
//! nothing the core can decide; it moves bytes and time.

pub mod config;
mod metrics;
mod task;

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use tokio::sync::{mpsc, oneshot};

pub use config::MediaConfig;

use crate::bridge::{Bridge, Side};
use crate::dtmf::{BargeIn, Digit};
use crate::error::MediaError;
use crate::leg::{Leg, LegConfig, LegEvent, PlayOutcome};
use crate::prompt::Playlist;
use crate::record::{RecordingSink, RecordingSummary};
use crate::rtp::ports::{PortAllocator, PortPair};
use crate::rtp::stats::LegQuality;
use crate::sdp::negotiation::LocalMedia;
use crate::sdp::remote::RemoteDescription;
use crate::sdp::{Negotiated, SdpNegotiation};
use task::{LegCommand, LegRuntime};

/// Events a leg keeps for a caller that does not read them; past this, new ones are dropped
/// (and counted in the log) rather than growing without bound over a long call.
const EVENT_QUEUE: usize = 256;

/// Options of one leg, beyond the engine's configuration.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LegOptions {
    /// Detect DTMF in the audio (for carriers that do not send RFC 4733).
    pub inband_dtmf: bool,
    /// Overrides the engine's media timeout for this leg.
    pub media_timeout: Option<Duration>,
    /// Use IPv6 for an outbound leg (inbound legs follow the offer's address family).
    pub ipv6: bool,
}

/// Where a bridge recording goes.
pub enum RecordingTarget {
    /// A new file (never overwrites one that exists).
    Path(PathBuf),
    /// Any seekable writer (an object-store upload buffer, memory in tests).
    Writer(Box<dyn RecordingSink>),
}

impl std::fmt::Debug for RecordingTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RecordingTarget::Path(p) => write!(f, "Path({})", p.display()),
            RecordingTarget::Writer(_) => write!(f, "Writer(..)"),
        }
    }
}

struct EngineInner {
    config: MediaConfig,
    ports: PortAllocator,
    runtime: tokio::runtime::Handle,
    next_session: AtomicU64,
}

/// The media engine; cheap to clone.
#[derive(Clone)]
pub struct MediaEngine {
    inner: Arc<EngineInner>,
}

impl std::fmt::Debug for MediaEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MediaEngine")
            .field("ports_in_use", &self.inner.ports.in_use())
            .finish()
    }
}

impl MediaEngine {
    /// Checks the configuration and binds to the current tokio runtime.
    pub fn start(config: MediaConfig) -> Result<MediaEngine, MediaError> {
        config.validate()?;
        let runtime = tokio::runtime::Handle::try_current().map_err(|_| MediaError::NoRuntime)?;
        metrics::describe();
        let ports = PortAllocator::new(config.port_min, config.port_max)?;
        let seed = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(1, |d| d.as_secs());
        Ok(MediaEngine {
            inner: Arc::new(EngineInner {
                config,
                ports,
                runtime,
                next_session: AtomicU64::new(seed),
            }),
        })
    }

    pub fn config(&self) -> &MediaConfig {
        &self.inner.config
    }

    /// Port pairs held by live legs (a leak shows here).
    pub fn ports_in_use(&self) -> usize {
        self.inner.ports.in_use()
    }

    /// A leg for an incoming call: answers the caller's offer. A refused offer allocates
    /// nothing (the error says whether it is a 488).
    pub async fn inbound_leg(
        &self,
        offer: &[u8],
        options: LegOptions,
    ) -> Result<(LegHandle, Vec<u8>), MediaError> {
        let refused = |e: crate::sdp::SdpError| {
            metrics::offer_refused(e.is_not_acceptable());
            MediaError::Sdp(e)
        };
        let remote = RemoteDescription::parse(offer).map_err(refused)?;
        let ipv6 = remote.audio.rtp_addr.is_some_and(|a| a.is_ipv6());
        let (mut runtime, handle) = self.new_leg(&LegOptions { ipv6, ..options })?;
        let (negotiated, answer) = runtime.control.sdp.answer(offer).map_err(refused)?;
        runtime.core.set_negotiated(negotiated, Instant::now());
        runtime.sockets_ready().await?;
        self.spawn_leg(runtime);
        Ok((handle, answer))
    }

    /// A leg for a call Hotline places: returns our offer; pass the answer to
    /// [`LegHandle::apply_answer`].
    pub async fn outbound_leg(
        &self,
        options: LegOptions,
    ) -> Result<(LegHandle, Vec<u8>), MediaError> {
        let (mut runtime, handle) = self.new_leg(&options)?;
        let offer = runtime.control.sdp.create_offer();
        runtime.sockets_ready().await?;
        self.spawn_leg(runtime);
        Ok((handle, offer))
    }

    fn new_leg(&self, options: &LegOptions) -> Result<(LegRuntime, LegHandle), MediaError> {
        let config = &self.inner.config;
        // A peer on IPv6 needs an IPv6 socket: a v4 one could never reach it.
        let bind = if options.ipv6 {
            config.bind_v6.ok_or_else(|| {
                MediaError::Config("an IPv6 peer, but no IPv6 media address is configured".into())
            })?
        } else {
            config
                .bind_v4
                .or(config.bind_v6)
                .ok_or_else(|| MediaError::Config("no bind address".into()))?
        };
        let (ports, rtp, rtcp) = bind_pair(&self.inner.ports, bind)?;
        let local_port = ports.rtp();
        let advertised = config.advertised_for(bind);
        let session_id = self.inner.next_session.fetch_add(1, Ordering::Relaxed);
        let sdp = SdpNegotiation::new(
            LocalMedia {
                address: advertised,
                rtp_port: local_port,
                codecs: config.codecs.clone(),
                ptime_ms: config.ptime_ms,
            },
            session_id,
        );
        let leg_config = LegConfig {
            media_timeout: options.media_timeout.unwrap_or(config.media_timeout),
            relatch_after: config.relatch_after,
            cname: config.cname.clone(),
            inband_dtmf: options.inband_dtmf,
            ..LegConfig::default()
        };
        let (ssrc, seq, ts) = {
            use rand::Rng;
            let mut rng = rand::thread_rng();
            (rng.gen::<u32>(), rng.gen::<u16>(), rng.gen::<u32>())
        };
        let core = Leg::new(leg_config, ssrc, seq, ts, Instant::now(), SystemTime::now());
        let (cmd_tx, cmd_rx) = mpsc::unbounded_channel();
        let (events_tx, events_rx) = mpsc::channel(EVENT_QUEUE);
        let runtime = LegRuntime::new(core, sdp, rtp, rtcp, ports, cmd_rx, events_tx);
        let handle = LegHandle {
            cmd: cmd_tx,
            events: events_rx,
            local: SocketAddr::new(advertised, local_port),
            engine: self.clone(),
        };
        Ok((runtime, handle))
    }

    fn spawn_leg(&self, runtime: LegRuntime) {
        self.inner.runtime.spawn(task::run_leg(runtime));
    }

    /// Bridges two legs (caller's first): media flows between them until
    /// [`BridgeHandle::unbridge`] gives them back. On an error (a leg already ended) both
    /// legs end.
    pub async fn bridge(&self, a: LegHandle, b: LegHandle) -> Result<BridgeHandle, MediaError> {
        let ra = a.detach().await?;
        let rb = match b.detach().await {
            Ok(rb) => rb,
            Err(e) => {
                self.spawn_leg(ra);
                return Err(e);
            }
        };
        let (cmd_tx, cmd_rx) = mpsc::unbounded_channel();
        let flush = self.inner.config.recording_flush;
        let (core_a, rt_a) = ra.into_parts();
        let (core_b, rt_b) = rb.into_parts();
        let bridge = Bridge::new(core_a, core_b);
        let engine = self.clone();
        self.inner
            .runtime
            .spawn(task::run_bridge(bridge, rt_a, rt_b, cmd_rx, flush, engine));
        Ok(BridgeHandle { cmd: cmd_tx, a, b })
    }
}

fn bind_pair(
    ports: &PortAllocator,
    ip: IpAddr,
) -> Result<(PortPair, tokio::net::UdpSocket, tokio::net::UdpSocket), MediaError> {
    // A pair another process holds is skipped (and returned to the pool at once).
    let attempts = ports.capacity().min(64);
    let mut last_error = None;
    for _ in 0..attempts {
        let pair = ports.allocate()?;
        let bind = |port: u16| -> std::io::Result<tokio::net::UdpSocket> {
            let socket = std::net::UdpSocket::bind(SocketAddr::new(ip, port))?;
            socket.set_nonblocking(true)?;
            tokio::net::UdpSocket::from_std(socket)
        };
        match (bind(pair.rtp()), bind(pair.rtcp())) {
            (Ok(rtp), Ok(rtcp)) => return Ok((pair, rtp, rtcp)),
            (Err(e), _) | (_, Err(e)) => last_error = Some(e),
        }
    }
    Err(last_error.map_or(MediaError::LegGone, MediaError::Io))
}

/// One leg, owned by the call engine. Dropping it ends the leg.
#[derive(Debug)]
pub struct LegHandle {
    cmd: mpsc::UnboundedSender<LegCommand>,
    events: mpsc::Receiver<LegEvent>,
    local: SocketAddr,
    engine: MediaEngine,
}

impl LegHandle {
    /// The address and port our SDP names.
    pub fn local_addr(&self) -> SocketAddr {
        self.local
    }

    async fn ask<T>(
        &self,
        make: impl FnOnce(oneshot::Sender<T>) -> LegCommand,
    ) -> Result<T, MediaError> {
        let (tx, rx) = oneshot::channel();
        self.cmd.send(make(tx)).map_err(|_| MediaError::LegGone)?;
        rx.await.map_err(|_| MediaError::LegGone)
    }

    /// Applies the answer to our offer (outbound leg, or our hold/resume re-offer).
    pub async fn apply_answer(&self, answer: &[u8]) -> Result<Negotiated, MediaError> {
        let answer = answer.to_vec();
        Ok(self
            .ask(|reply| LegCommand::ApplyAnswer(answer, reply))
            .await??)
    }

    /// Answers a re-offer from the peer (hold, resume, codec change).
    pub async fn answer_reoffer(&self, offer: &[u8]) -> Result<Vec<u8>, MediaError> {
        let offer = offer.to_vec();
        Ok(self
            .ask(|reply| LegCommand::Reoffer(offer, reply))
            .await??)
    }

    /// Our re-offer to put the peer on hold (`true`) or take it off (`false`); send it in a
    /// re-INVITE and pass the answer to [`LegHandle::apply_answer`].
    pub async fn hold_offer(&self, hold: bool) -> Result<Vec<u8>, MediaError> {
        self.ask(|reply| LegCommand::HoldOffer(hold, reply)).await
    }

    /// The peer refused our last offer (488/491 to a hold or resume re-INVITE): the leg stays
    /// as it was.
    pub fn offer_rejected(&self) -> Result<(), MediaError> {
        self.cmd
            .send(LegCommand::OfferRejected)
            .map_err(|_| MediaError::LegGone)
    }

    /// Plays a playlist; resolves when it finishes, one of the `barge_in` keys interrupts it
    /// (`true`: any key), or it is stopped. Dropping the future does not stop the playback.
    pub async fn play(
        &self,
        playlist: Playlist,
        barge_in: impl Into<BargeIn>,
    ) -> Result<PlayOutcome, MediaError> {
        let barge_in = barge_in.into();
        let done = self
            .ask(|reply| LegCommand::Play {
                playlist,
                barge_in,
                reply,
            })
            .await?;
        done.await.map_err(|_| MediaError::LegGone)
    }

    /// Starts a playlist without waiting for it (music on hold, ringback while phones ring);
    /// [`LegHandle::stop_playing`] ends it.
    pub fn start_playing(&self, playlist: Playlist) -> Result<(), MediaError> {
        let (reply, _) = oneshot::channel();
        self.cmd
            .send(LegCommand::Play {
                playlist,
                barge_in: BargeIn::NONE,
                reply,
            })
            .map_err(|_| MediaError::LegGone)
    }

    pub fn stop_playing(&self) -> Result<(), MediaError> {
        self.cmd
            .send(LegCommand::StopPlay)
            .map_err(|_| MediaError::LegGone)
    }

    pub fn send_dtmf(&self, digits: &[Digit], duration: Duration) -> Result<(), MediaError> {
        self.cmd
            .send(LegCommand::SendDtmf(digits.to_vec(), duration))
            .map_err(|_| MediaError::LegGone)
    }

    /// A digit the SIP layer received in an INFO request on this leg's dialog.
    pub fn sip_info_digit(&self, digit: Digit, duration: Duration) -> Result<(), MediaError> {
        self.cmd
            .send(LegCommand::SipInfoDigit(digit, duration))
            .map_err(|_| MediaError::LegGone)
    }

    pub async fn quality(&self) -> Result<LegQuality, MediaError> {
        self.ask(LegCommand::Quality).await
    }

    /// What the leg agreed with its peer (codec, payload types, direction); `None` for an
    /// outbound leg before the answer.
    pub async fn negotiated(&self) -> Result<Option<Negotiated>, MediaError> {
        self.ask(LegCommand::Negotiated).await
    }

    /// The next event (digit, media timeout, latching, quality, play done); `None` once the
    /// leg has ended.
    pub async fn next_event(&mut self) -> Option<LegEvent> {
        self.events.recv().await
    }

    /// An event if one is waiting.
    pub fn try_event(&mut self) -> Option<LegEvent> {
        self.events.try_recv().ok()
    }

    async fn detach(&self) -> Result<LegRuntime, MediaError> {
        self.ask(LegCommand::Detach).await
    }

    pub fn engine(&self) -> &MediaEngine {
        &self.engine
    }
}

/// Two legs bridged. Dropping it ends both legs.
#[derive(Debug)]
pub struct BridgeHandle {
    cmd: mpsc::UnboundedSender<task::BridgeCommand>,
    a: LegHandle,
    b: LegHandle,
}

impl BridgeHandle {
    /// A leg of the bridge, for prompts, DTMF and events while bridged.
    pub fn leg(&self, side: Side) -> &LegHandle {
        match side {
            Side::A => &self.a,
            Side::B => &self.b,
        }
    }

    /// Both legs at once (A, B), to wait on either's events.
    pub fn legs_mut(&mut self) -> (&mut LegHandle, &mut LegHandle) {
        (&mut self.a, &mut self.b)
    }

    pub fn leg_mut(&mut self, side: Side) -> &mut LegHandle {
        match side {
            Side::A => &mut self.a,
            Side::B => &mut self.b,
        }
    }

    async fn ask<T>(
        &self,
        make: impl FnOnce(oneshot::Sender<T>) -> task::BridgeCommand,
    ) -> Result<T, MediaError> {
        let (tx, rx) = oneshot::channel();
        self.cmd.send(make(tx)).map_err(|_| MediaError::LegGone)?;
        rx.await.map_err(|_| MediaError::LegGone)
    }

    /// Starts recording (caller's side `left` on the left channel). A recording already
    /// running is closed first.
    pub async fn start_recording(
        &self,
        target: RecordingTarget,
        left: Side,
    ) -> Result<(), MediaError> {
        self.ask(|reply| task::BridgeCommand::StartRecording(target, left, reply))
            .await?
    }

    pub async fn pause_recording(&self) -> Result<(), MediaError> {
        self.ask(task::BridgeCommand::PauseRecording).await?
    }

    pub async fn resume_recording(&self) -> Result<(), MediaError> {
        self.ask(task::BridgeCommand::ResumeRecording).await?
    }

    pub async fn stop_recording(&self) -> Result<RecordingSummary, MediaError> {
        self.ask(task::BridgeCommand::StopRecording).await?
    }

    /// (relayed, transcoded) packets from `side` to the other.
    pub async fn relayed(&self, side: Side) -> Result<(u64, u64), MediaError> {
        self.ask(|reply| task::BridgeCommand::Relayed(side, reply))
            .await
    }

    /// Ends the bridge (closing any recording) and gives the legs back.
    pub async fn unbridge(
        self,
    ) -> Result<(LegHandle, LegHandle, Option<RecordingSummary>), MediaError> {
        let (tx, rx) = oneshot::channel();
        self.cmd
            .send(task::BridgeCommand::Unbridge(tx))
            .map_err(|_| MediaError::LegGone)?;
        let (ra, rb, summary) = rx.await.map_err(|_| MediaError::LegGone)?;
        let engine = self.a.engine.clone();
        engine.spawn_leg(ra);
        engine.spawn_leg(rb);
        Ok((self.a, self.b, summary.and_then(Result::ok)))
    }
}
