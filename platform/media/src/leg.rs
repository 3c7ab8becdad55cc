//! One leg's media, sans-IO: RTP and RTCP in, RTP and RTCP out, events up. The shell feeds it
//! datagrams with their source and the time, asks it for packets to send and for the next
//! instant it needs waking, and drains its events. It never touches a socket or a clock.
//!
//! What a leg does on its own: latching, receive statistics, RTCP, RFC 4733 and (when enabled)
//! in-band DTMF detection, prompt playback paced at ptime with barge-in, DTMF sending, and the
//! media timeout. Relaying to another leg is the [`crate::bridge`]'s, which drives two legs.
//!
//! Hot path rules: [`Leg::handle_rtp`] and [`Leg::poll_transmit`] work in the caller's buffers
//! and allocate nothing; only events (rare) go through a queue.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::time::{Duration, Instant, SystemTime};

use rtp_types::{RtpPacket, RtpPacketBuilder};
use serde::{Deserialize, Serialize};

use crate::codec::Codec;
use crate::dtmf::inband::InbandDetector;
use crate::dtmf::rfc4733::{EventSender, EventUpdate, Rfc4733Receiver};
use crate::dtmf::{BargeIn, Digit, DigitEvent, DigitSource};
use crate::prompt::tone::ToneSpec;
use crate::prompt::{PlayItem, Player, Playlist};
use crate::rtp::latch::{Latch, LatchDecision};
use crate::rtp::rtcp::{self, LastSenderReport, SenderInfo};
use crate::rtp::stats::{LegQuality, ReceiveStats, SeqVerdict};
use crate::rtp::stream::OutboundStream;
use crate::sdp::{Direction, Negotiated};

/// Settings of one leg.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LegConfig {
    /// No RTP for this long (while the peer is meant to send) raises [`LegEvent::MediaTimeout`].
    pub media_timeout: Duration,
    /// Silence of the latched source after which another may latch.
    pub relatch_after: Duration,
    pub rtcp_interval: Duration,
    /// RTCP SDES CNAME.
    pub cname: String,
    /// Run the Goertzel detector on the audio (carriers that send DTMF in band).
    pub inband_dtmf: bool,
    /// An RFC 4733 event with no packet for this long is over.
    pub dtmf_timeout: Duration,
}

impl Default for LegConfig {
    fn default() -> Self {
        LegConfig {
            media_timeout: Duration::from_secs(30),
            relatch_after: Duration::from_secs(2),
            rtcp_interval: Duration::from_secs(rtcp::REPORT_INTERVAL_SECS),
            cname: "hotline".into(),
            inband_dtmf: false,
            dtmf_timeout: Duration::from_millis(600),
        }
    }
}

/// Identifies one `play` request in the events it causes.
pub type PlayId = u64;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum PlayOutcome {
    /// The playlist played to its end.
    Finished,
    /// A digit stopped it (barge-in).
    Interrupted { digit: Digit },
    /// Stopped by the engine, or replaced by another play.
    Stopped,
}

/// Why a leg's media is considered dead.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MediaTimeoutReason {
    /// Packets came, then stopped.
    RtpStopped,
    /// Not one packet since the stream was set up.
    NoRtpEver,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum LegEvent {
    Digit(DigitEvent),
    /// Media now goes to this address (symmetric RTP found the phone behind its NAT).
    RtpLatched {
        from: SocketAddr,
    },
    MediaTimeout {
        reason: MediaTimeoutReason,
        silent_ms: u64,
    },
    PlayDone {
        play: PlayId,
        outcome: PlayOutcome,
    },
    /// The peer's RTCP report arrived; the snapshot includes what it said.
    Quality(LegQuality),
    /// The peer sent RTCP BYE.
    RemoteBye,
    /// The bridge's recording stopped on an error (disk full, storage gone); the call goes on.
    RecordingFailed {
        reason: String,
    },
}

/// Why a datagram on the RTP port was not taken.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refused {
    Malformed,
    UnknownPayloadType(u8),
    /// Not the latched source, or a source still on probation.
    WrongSource,
    /// A sequence jump not (yet) confirmed by a second packet.
    SequenceJump,
    /// The leg has no negotiated stream yet (an outbound leg before the answer).
    NotNegotiated,
}

/// What an accepted RTP packet is, for the bridge.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Accepted {
    Audio {
        codec: Codec,
        ssrc: u32,
        seq: u16,
        ts: u32,
        payload_offset: usize,
        payload_len: usize,
    },
    TelephoneEvent {
        ssrc: u32,
        seq: u16,
        ts: u32,
        marker: bool,
        /// The key press this packet ended, with its duration (for a bridge whose other leg
        /// takes no telephone-events and needs the key as tones).
        ended: Option<(Digit, Duration)>,
    },
}

/// A packet [`Leg::poll_transmit`] wrote.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Transmit {
    pub to: SocketAddr,
    pub len: usize,
    pub rtcp: bool,
}

#[derive(Debug)]
struct ActivePlay {
    id: PlayId,
    player: Player,
    barge_in: BargeIn,
    next_frame_at: Instant,
    continuing: bool,
}

#[derive(Debug)]
pub struct Leg {
    config: LegConfig,
    negotiated: Option<Negotiated>,
    latch: Latch,
    rtcp_latched: Option<SocketAddr>,
    rx: ReceiveStats,
    tx: OutboundStream,
    dtmf_rx: Rfc4733Receiver,
    dtmf_began_ms: Option<(u32, u64)>,
    inband: Option<InbandDetector>,
    play: Option<ActivePlay>,
    next_play_id: PlayId,
    dtmf_tx: VecDeque<EventSender>,
    dtmf_tx_ts: Option<u32>,
    events: VecDeque<LegEvent>,
    epoch: Instant,
    wall_epoch: SystemTime,
    last_rx: Option<Instant>,
    media_watch_from: Instant,
    /// When to look at the media timeout next. It moves only when looked at, not with every
    /// packet, so the shell's timer is not re-armed on the relay path.
    media_check_at: Instant,
    timed_out: bool,
    next_rtcp: Instant,
    last_sr: Option<LastSenderReport>,
    quality_remote: (Option<f64>, Option<f64>, Option<f64>),
    ignored: u64,
    held: bool,
    scratch: [i16; 480],
}

/// Samples in a 60 ms frame, the longest ptime Hotline sends.
const MAX_FRAME: usize = 480;

impl Leg {
    /// `ssrc`, `first_seq` and `first_ts` should be random (RFC 3550 §5.1); the shell draws them.
    pub fn new(
        config: LegConfig,
        ssrc: u32,
        first_seq: u16,
        first_ts: u32,
        now: Instant,
        wall: SystemTime,
    ) -> Leg {
        let inband = config.inband_dtmf.then(InbandDetector::new);
        let dtmf_rx = Rfc4733Receiver::new(config.dtmf_timeout);
        let relatch = config.relatch_after;
        // Spread the first report over the interval so a burst of calls does not report at once.
        let first_rtcp =
            now + config.rtcp_interval / 2 + Duration::from_millis((ssrc % 1000) as u64);
        Leg {
            config,
            negotiated: None,
            latch: Latch::new(None, relatch),
            rtcp_latched: None,
            rx: ReceiveStats::default(),
            tx: OutboundStream::new(ssrc, first_seq, first_ts),
            dtmf_rx,
            dtmf_began_ms: None,
            inband,
            play: None,
            next_play_id: 1,
            dtmf_tx: VecDeque::new(),
            dtmf_tx_ts: None,
            // Room for a burst (a digit, a latch, a play ending) without growing on the hot path.
            events: VecDeque::with_capacity(8),
            epoch: now,
            wall_epoch: wall,
            last_rx: None,
            media_watch_from: now,
            media_check_at: now,
            timed_out: false,
            next_rtcp: first_rtcp,
            last_sr: None,
            quality_remote: (None, None, None),
            ignored: 0,
            held: false,
            scratch: [0; MAX_FRAME],
        }
    }

    pub fn ssrc(&self) -> u32 {
        self.tx.ssrc()
    }

    pub fn negotiated(&self) -> Option<&Negotiated> {
        self.negotiated.as_ref()
    }

    pub fn codec(&self) -> Option<Codec> {
        self.negotiated.as_ref().map(|n| n.codec)
    }

    /// Applies a (re)negotiated stream: a new answer, a re-offer, hold or resume.
    pub fn set_negotiated(&mut self, negotiated: Negotiated, now: Instant) {
        let receives_before = self
            .negotiated
            .as_ref()
            .is_some_and(|n| n.direction.receives());
        self.latch.set_signalled(negotiated.remote_rtp);
        if negotiated.direction.receives() && !receives_before {
            // The peer starts (or resumes) sending: the timeout counts from now.
            self.media_watch_from = now;
            self.media_check_at = now + self.config.media_timeout;
            self.timed_out = false;
        }
        self.negotiated = Some(negotiated);
    }

    pub fn media_ms(&self, now: Instant) -> u64 {
        now.saturating_duration_since(self.epoch).as_millis() as u64
    }

    /// Where RTP for this leg goes now (latched source, else the SDP address).
    pub fn destination(&self) -> Option<SocketAddr> {
        self.latch.destination()
    }

    /// True when Hotline may send audio on this leg (negotiated, not held, address known).
    pub fn can_send(&self) -> bool {
        self.negotiated
            .as_ref()
            .is_some_and(|n| n.direction.sends())
            && self.destination().is_some()
    }

    pub fn receives(&self) -> bool {
        self.negotiated
            .as_ref()
            .is_some_and(|n| n.direction.receives())
    }

    /// Hotline holds this leg's peer (an agreed hold): the bridge relays nothing to it, so a
    /// held caller never hears the agent; prompts (music on hold) still play.
    pub fn set_held(&mut self, held: bool) {
        self.held = held;
    }

    pub fn is_held(&self) -> bool {
        self.held
    }

    pub fn is_playing(&self) -> bool {
        self.play.is_some()
    }

    pub fn is_sending_dtmf(&self) -> bool {
        !self.dtmf_tx.is_empty()
    }

    pub fn poll_event(&mut self) -> Option<LegEvent> {
        self.events.pop_front()
    }

    pub fn quality(&self) -> LegQuality {
        LegQuality {
            packets_in: self.rx.packets,
            bytes_in: self.rx.bytes,
            packets_out: self.tx.packets,
            bytes_out: self.tx.bytes,
            lost: self.rx.lost(),
            out_of_order: self.rx.out_of_order,
            jitter_ms: self.rx.jitter_ms(),
            max_jitter_ms: self.rx.max_jitter_ms(),
            ignored: self.ignored,
            remote_fraction_lost: self.quality_remote.0,
            remote_jitter_ms: self.quality_remote.1,
            rtt_ms: self.quality_remote.2,
        }
    }

    fn arrival_units(&self, now: Instant) -> u32 {
        (now.saturating_duration_since(self.epoch).as_micros() as u64 * 8 / 1000) as u32
    }

    fn ntp_now(&self, now: Instant) -> u64 {
        let wall = self.wall_epoch + now.saturating_duration_since(self.epoch);
        rtcp::ntp_timestamp(
            wall.duration_since(SystemTime::UNIX_EPOCH)
                .unwrap_or_default(),
        )
    }

    /// A datagram arrived on the RTP port.
    pub fn handle_rtp(
        &mut self,
        data: &[u8],
        from: SocketAddr,
        now: Instant,
    ) -> Result<Accepted, Refused> {
        let result = self.classify(data, from, now);
        if result.is_err() {
            self.ignored += 1;
        }
        result
    }

    fn classify(
        &mut self,
        data: &[u8],
        from: SocketAddr,
        now: Instant,
    ) -> Result<Accepted, Refused> {
        let packet = RtpPacket::parse(data).map_err(|_| Refused::Malformed)?;
        let Some(negotiated) = self.negotiated.as_ref() else {
            return Err(Refused::NotNegotiated);
        };
        let pt = packet.payload_type();
        let codec = negotiated.codec;
        let is_audio = pt == negotiated.recv_payload_type
            || pt == negotiated.send_payload_type
            || pt == codec.static_payload_type();
        let is_event = !is_audio
            && (Some(pt) == negotiated.recv_telephone_event
                || Some(pt) == negotiated.send_telephone_event);
        if !is_audio && !is_event {
            return Err(Refused::UnknownPayloadType(pt));
        }
        let (ssrc, seq, ts) = (packet.ssrc(), packet.sequence_number(), packet.timestamp());
        match self.latch.on_packet(from, ssrc, seq, now) {
            LatchDecision::Ignore => return Err(Refused::WrongSource),
            LatchDecision::Latched(addr) => {
                self.events.push_back(LegEvent::RtpLatched { from: addr })
            }
            LatchDecision::Accept => {}
        }
        let arrival = self.arrival_units(now);
        if self.rx.record(ssrc, seq, ts, arrival, data.len()) == SeqVerdict::Jump {
            return Err(Refused::SequenceJump);
        }
        self.last_rx = Some(now);
        if self.timed_out {
            self.timed_out = false;
            self.media_check_at = now + self.config.media_timeout;
        }
        let payload_offset = packet.payload_offset();
        let payload_len = packet.payload_len();
        if is_event {
            let marker = packet.marker_bit();
            let mut ended = None;
            let mut update = self
                .dtmf_rx
                .on_packet(ts, packet.payload(), now)
                .ok()
                .flatten();
            while let Some(u) = update {
                if let EventUpdate::Ended {
                    digit, duration, ..
                } = u
                {
                    ended = Some((digit, Duration::from_micros(duration as u64 * 125)));
                }
                self.on_digit_update(u, DigitSource::Rfc4733, now);
                update = self.dtmf_rx.take_pending();
            }
            return Ok(Accepted::TelephoneEvent {
                ssrc,
                seq,
                ts,
                marker,
                ended,
            });
        }
        if let Some(detector) = self.inband.as_mut() {
            let n = codec.decode(packet.payload(), &mut self.scratch);
            let mut updates = [None; 4];
            let mut count = 0;
            detector.process(&self.scratch[..n], |u| {
                if count < updates.len() {
                    updates[count] = Some(u);
                    count += 1;
                }
            });
            let fed = detector.samples();
            for update in updates.into_iter().flatten() {
                let (EventUpdate::Began { ts, .. } | EventUpdate::Ended { ts, .. }) = update;
                // The detector's timestamps are its own sample count: map back to media time.
                let behind_ms = (fed as u32).wrapping_sub(ts) as u64 / 8;
                let at_ms = self.media_ms(now).saturating_sub(behind_ms);
                self.on_inband_update(update, at_ms, now);
            }
        }
        Ok(Accepted::Audio {
            codec,
            ssrc,
            seq,
            ts,
            payload_offset,
            payload_len,
        })
    }

    fn on_inband_update(&mut self, update: EventUpdate, at_ms: u64, now: Instant) {
        match update {
            EventUpdate::Began { digit, .. } => self.barge_in(digit),
            EventUpdate::Ended {
                digit, duration, ..
            } => {
                self.events.push_back(LegEvent::Digit(DigitEvent {
                    digit,
                    source: DigitSource::InBand,
                    at_ms,
                    duration_ms: duration / 8,
                }));
                let _ = now;
            }
        }
    }

    fn on_digit_update(&mut self, update: EventUpdate, source: DigitSource, now: Instant) {
        match update {
            EventUpdate::Began { digit, ts } => {
                self.dtmf_began_ms = Some((ts, self.media_ms(now)));
                self.barge_in(digit);
            }
            EventUpdate::Ended {
                digit,
                ts,
                duration,
            } => {
                let duration_ms = duration / 8;
                let at_ms = match self.dtmf_began_ms.take() {
                    Some((began_ts, at)) if began_ts == ts => at,
                    _ => self.media_ms(now).saturating_sub(duration_ms as u64),
                };
                self.events.push_back(LegEvent::Digit(DigitEvent {
                    digit,
                    source,
                    at_ms,
                    duration_ms,
                }));
            }
        }
    }

    fn barge_in(&mut self, digit: Digit) {
        if self
            .play
            .as_ref()
            .is_some_and(|p| p.barge_in.stops_on(digit))
        {
            if let Some(play) = self.play.take() {
                self.events.push_back(LegEvent::PlayDone {
                    play: play.id,
                    outcome: PlayOutcome::Interrupted { digit },
                });
            }
        }
    }

    /// A digit from a SIP INFO on this leg's dialog: same event path as the others.
    pub fn handle_sip_info_digit(&mut self, digit: Digit, duration: Duration, now: Instant) {
        self.barge_in(digit);
        let duration_ms = duration.as_millis().min(u32::MAX as u128) as u32;
        self.events.push_back(LegEvent::Digit(DigitEvent {
            digit,
            source: DigitSource::SipInfo,
            at_ms: self.media_ms(now),
            duration_ms,
        }));
    }

    /// A datagram arrived on the RTCP port.
    pub fn handle_rtcp(&mut self, data: &[u8], from: SocketAddr, now: Instant) -> bool {
        // RTCP is taken from the host media is latched to (or the SDP's), on any port.
        let expected_ip = self.destination().map(|a| a.ip());
        if expected_ip.is_some_and(|ip| ip != from.ip()) {
            self.ignored += 1;
            return false;
        }
        let ntp = self.ntp_now(now);
        let Ok(report) = rtcp::read_report(data, self.tx.ssrc(), ntp) else {
            self.ignored += 1;
            return false;
        };
        self.rtcp_latched = Some(from);
        if let Some(middle) = report.sender_report {
            self.last_sr = Some(LastSenderReport {
                middle,
                arrived_ntp: ntp,
            });
        }
        if report.fraction_lost.is_some() {
            self.quality_remote = (
                report.fraction_lost,
                report.jitter_units.map(|j| j as f64 / 8.0),
                report
                    .rtt_secs
                    .map(|r| r * 1000.0)
                    .or(self.quality_remote.2),
            );
        }
        self.events.push_back(LegEvent::Quality(self.quality()));
        if report.bye {
            self.events.push_back(LegEvent::RemoteBye);
        }
        true
    }

    /// Starts a playlist (replacing any), paced from `now`; the keys in `barge_in` stop it.
    pub fn play(
        &mut self,
        playlist: Playlist,
        barge_in: impl Into<BargeIn>,
        now: Instant,
    ) -> PlayId {
        let barge_in = barge_in.into();
        self.stop_play();
        let id = self.next_play_id;
        self.next_play_id += 1;
        self.play = Some(ActivePlay {
            id,
            player: Player::new(playlist),
            barge_in,
            next_frame_at: now,
            continuing: false,
        });
        id
    }

    pub fn stop_play(&mut self) {
        if let Some(play) = self.play.take() {
            self.events.push_back(LegEvent::PlayDone {
                play: play.id,
                outcome: PlayOutcome::Stopped,
            });
        }
    }

    /// Queues digits to send as RFC 4733 events, or as tones in the audio when the peer did
    /// not negotiate telephone-event (then as a play, which replaces any playing prompt).
    pub fn send_dtmf(&mut self, digits: &[Digit], duration: Duration, now: Instant) {
        // A key press between 40 ms (Q.24's shortest) and 5 s, whatever the caller asked.
        let duration = duration.clamp(Duration::from_millis(40), Duration::from_secs(5));
        let ptime = self.negotiated.as_ref().map_or(20, |n| n.ptime_ms);
        let has_events = self
            .negotiated
            .as_ref()
            .is_some_and(|n| n.send_telephone_event.is_some());
        if has_events {
            let mut at = now;
            for digit in digits {
                let mut sender = EventSender::new(*digit, duration, ptime, at);
                sender.next_at = at;
                // Next key after this one's updates, its three ends and a 60 ms gap.
                at += duration + Duration::from_millis(ptime as u64 * 3 + 60);
                self.dtmf_tx.push_back(sender);
            }
        } else {
            let mut items = Vec::with_capacity(digits.len() * 2);
            for digit in digits {
                let (row, col) = digit.frequencies();
                items.push(PlayItem::Tone(
                    ToneSpec::continuous(vec![row, col], -10.0),
                    Some(duration),
                ));
                items.push(PlayItem::Silence(Duration::from_millis(80)));
            }
            self.play(Playlist::once(items), false, now);
        }
    }

    /// The next instant this leg needs [`Leg::poll_transmit`] or [`Leg::handle_timeout`].
    pub fn poll_timeout(&self) -> Instant {
        let mut next = self.next_rtcp;
        if let Some(play) = &self.play {
            next = next.min(play.next_frame_at);
        }
        if let Some(sender) = self.dtmf_tx.front() {
            next = next.min(sender.next_at);
        }
        if let Some(t) = self.dtmf_rx.next_timeout() {
            next = next.min(t);
        }
        if self.receives() && !self.timed_out {
            next = next.min(self.media_check_at);
        }
        next
    }

    /// Time-driven work that produces no packet: DTMF timeouts, the media timeout.
    pub fn handle_timeout(&mut self, now: Instant) {
        if let Some(update) = self.dtmf_rx.on_timeout(now) {
            self.on_digit_update(update, DigitSource::Rfc4733, now);
        }
        if self.receives() && !self.timed_out && now >= self.media_check_at {
            let since = self
                .last_rx
                .unwrap_or(self.media_watch_from)
                .max(self.media_watch_from);
            self.media_check_at = since + self.config.media_timeout;
            if now.saturating_duration_since(since) >= self.config.media_timeout {
                self.timed_out = true;
                self.events.push_back(LegEvent::MediaTimeout {
                    reason: if self.last_rx.is_some() {
                        MediaTimeoutReason::RtpStopped
                    } else {
                        MediaTimeoutReason::NoRtpEver
                    },
                    silent_ms: now.saturating_duration_since(since).as_millis() as u64,
                });
            }
        }
    }

    /// Writes the next packet due at `now` into `buf`, if any. Call until it returns `None`.
    pub fn poll_transmit(&mut self, now: Instant, buf: &mut [u8]) -> Option<Transmit> {
        if let Some(t) = self.poll_dtmf(now, buf) {
            return Some(t);
        }
        if let Some(t) = self.poll_prompt(now, buf) {
            return Some(t);
        }
        self.poll_rtcp(now, buf)
    }

    fn poll_dtmf(&mut self, now: Instant, buf: &mut [u8]) -> Option<Transmit> {
        let negotiated = self.negotiated.as_ref()?;
        let Some(pt) = negotiated.send_telephone_event else {
            // A re-offer took telephone-event away: queued digits cannot go out as events.
            self.dtmf_tx.clear();
            return None;
        };
        let can_send = self.can_send();
        let to = self.destination();
        let sender = self.dtmf_tx.front_mut()?;
        let packet = sender.poll(now)?;
        let ts = match (packet.first, self.dtmf_tx_ts) {
            (false, Some(ts)) => ts,
            _ => {
                let ts = self.tx.event_start_ts(now);
                self.dtmf_tx_ts = Some(ts);
                ts
            }
        };
        if sender.done() {
            self.dtmf_tx.pop_front();
            self.dtmf_tx_ts = None;
        }
        let (to, true) = (to?, can_send) else {
            return None;
        };
        let header = self.tx.next_fixed_ts(ts, now);
        let len = RtpPacketBuilder::<&[u8], &[u8]>::new()
            .payload_type(pt)
            .sequence_number(header.seq)
            .timestamp(ts)
            .ssrc(self.tx.ssrc())
            .marker_bit(packet.marker)
            .payload(packet.payload.as_slice())
            .write_into(buf)
            .ok()?;
        self.tx.count(len);
        Some(Transmit {
            to,
            len,
            rtcp: false,
        })
    }

    fn poll_prompt(&mut self, now: Instant, buf: &mut [u8]) -> Option<Transmit> {
        let (codec, pt, ptime) = {
            let n = self.negotiated.as_ref()?;
            (n.codec, n.send_payload_type, n.ptime_ms)
        };
        let frame_len = (ptime as usize * 8).min(MAX_FRAME);
        let interval = Duration::from_millis(ptime as u64);
        let sending_dtmf = self.is_sending_dtmf();
        let can_send = self.can_send();
        let to = self.destination();
        loop {
            let play = self.play.as_mut()?;
            if now < play.next_frame_at {
                return None;
            }
            let playing = play.player.fill_frame(&mut self.scratch[..frame_len]);
            play.next_frame_at += interval;
            // After a stall (a busy machine), keep the pace from now instead of bursting.
            if play.next_frame_at + interval * 5 < now {
                play.next_frame_at = now + interval;
            }
            if !playing {
                let id = play.id;
                self.play = None;
                self.events.push_back(LegEvent::PlayDone {
                    play: id,
                    outcome: PlayOutcome::Finished,
                });
                return None;
            }
            let continuation = play.continuing;
            if sending_dtmf || !can_send {
                play.continuing = false;
                continue;
            }
            play.continuing = true;
            let to = to?;
            let header = self.tx.next_local(frame_len as u32, continuation, now);
            let mut payload = [0u8; MAX_FRAME];
            codec.encode(&self.scratch[..frame_len], &mut payload[..frame_len]);
            let len = RtpPacketBuilder::<&[u8], &[u8]>::new()
                .payload_type(pt)
                .sequence_number(header.seq)
                .timestamp(header.ts)
                .ssrc(self.tx.ssrc())
                .marker_bit(header.marker)
                .payload(&payload[..frame_len])
                .write_into(buf)
                .ok()?;
            self.tx.count(len);
            return Some(Transmit {
                to,
                len,
                rtcp: false,
            });
        }
    }

    fn rtcp_destination(&self) -> Option<SocketAddr> {
        self.rtcp_latched.or_else(|| {
            let signalled = self.negotiated.as_ref().and_then(|n| n.remote_rtcp);
            match (self.latch.latched(), signalled) {
                // Behind NAT: RTCP goes to the latched host, on the port beside RTP.
                (Some(rtp), Some(s)) if rtp.ip() != s.ip() => {
                    Some(SocketAddr::new(rtp.ip(), rtp.port().wrapping_add(1)))
                }
                (_, Some(s)) => Some(s),
                (Some(rtp), None) => Some(SocketAddr::new(rtp.ip(), rtp.port().wrapping_add(1))),
                (None, None) => None,
            }
        })
    }

    fn poll_rtcp(&mut self, now: Instant, buf: &mut [u8]) -> Option<Transmit> {
        if now < self.next_rtcp {
            return None;
        }
        self.next_rtcp = now + self.config.rtcp_interval;
        let to = self.rtcp_destination()?;
        let ntp = self.ntp_now(now);
        let sender = self
            .tx
            .last_sent_at()
            .filter(|at| now.saturating_duration_since(*at) < self.config.rtcp_interval * 2)
            .map(|at| {
                let rtp_ts = self.tx.last_ts().wrapping_add(
                    (now.saturating_duration_since(at).as_micros() as u64 * 8 / 1000) as u32,
                );
                SenderInfo {
                    ntp,
                    rtp_ts,
                    packets: self.tx.packets as u32,
                    octets: self.tx.bytes as u32,
                }
            });
        let len = rtcp::write_report(
            buf,
            self.tx.ssrc(),
            &self.config.cname,
            sender,
            &mut self.rx,
            self.last_sr,
            ntp,
        );
        (len > 0).then_some(Transmit {
            to,
            len,
            rtcp: true,
        })
    }

    /// Header fields for a packet the bridge relays into this leg (continuity of our stream).
    pub fn relay_header(
        &mut self,
        in_ssrc: u32,
        in_seq: u16,
        in_ts: u32,
        now: Instant,
    ) -> crate::rtp::stream::NextHeader {
        self.tx.next_relayed(in_ssrc, in_seq, in_ts, now)
    }

    pub fn count_sent(&mut self, len: usize) {
        self.tx.count(len);
    }

    pub fn direction(&self) -> Option<Direction> {
        self.negotiated.as_ref().map(|n| n.direction)
    }
}

#[cfg(test)]
mod tests;
