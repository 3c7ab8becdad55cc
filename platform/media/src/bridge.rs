//! The two-leg bridge, sans-IO: a packet accepted by one leg is relayed to the other with that
//! leg's SSRC, sequence and timestamps (so each phone sees one continuous stream across
//! prompt -> bridge -> prompt), transcoded only when the legs' codecs differ, RFC 4733 events
//! passed through under the other leg's payload type (or played as keypad tones when the
//! other leg negotiated no telephone-event), and both directions fed to the recorder when one
//! runs. Nothing is relayed to a leg Hotline holds, or while it plays a prompt.
//!
//! The relay rewrites the datagram in the caller's buffer: G.711 transcoding is one byte per
//! byte, so the packet keeps its size and nothing is copied or allocated. Packets keep the
//! framing their sender chose (no re-packetisation to the other leg's ptime, which RFC 4566
//! makes a receive preference; phones play any G.711 frame size).

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use rtp_types::RtpPacketMut;
use serde::{Deserialize, Serialize};

use crate::codec::transcode_in_place;
use crate::leg::{Accepted, Leg, Refused};
use crate::record::{Channel, RecordError, Recorder, RecordingSummary, WavWriter};

/// One of the bridge's two legs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Side {
    A,
    B,
}

impl Side {
    pub const fn other(self) -> Side {
        match self {
            Side::A => Side::B,
            Side::B => Side::A,
        }
    }
}

/// A relayed packet ready to go out of the other leg's socket.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Forward {
    pub side: Side,
    pub to: SocketAddr,
    pub len: usize,
}

/// What happened to a datagram the bridge was given.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Relayed {
    Forward(Forward),
    /// Taken by its leg (counted, digits seen) but not sent on: the other leg is held, playing
    /// a prompt, or has no address yet.
    Absorbed,
    Refused(Refused),
}

#[derive(Debug)]
struct ActiveRecording {
    recorder: Recorder,
    left: Side,
}

#[derive(Debug)]
pub struct Bridge {
    a: Leg,
    b: Leg,
    recording: Option<ActiveRecording>,
    /// A recorder that failed on the relay path, reported at the next timeout.
    recording_error: Option<RecordError>,
    relayed: [u64; 2],
    transcoded: [u64; 2],
    scratch: Box<[i16; 1500]>,
}

impl Bridge {
    pub fn new(a: Leg, b: Leg) -> Bridge {
        Bridge {
            a,
            b,
            recording: None,
            recording_error: None,
            relayed: [0; 2],
            transcoded: [0; 2],
            scratch: Box::new([0; 1500]),
        }
    }

    pub fn leg(&self, side: Side) -> &Leg {
        match side {
            Side::A => &self.a,
            Side::B => &self.b,
        }
    }

    pub fn leg_mut(&mut self, side: Side) -> &mut Leg {
        match side {
            Side::A => &mut self.a,
            Side::B => &mut self.b,
        }
    }

    /// Packets relayed from `side` to the other, and how many of them were transcoded.
    pub fn relayed(&self, from: Side) -> (u64, u64) {
        let i = from as usize;
        (self.relayed[i], self.transcoded[i])
    }

    /// Takes the bridge apart; a running recording is closed first.
    pub fn into_legs(
        mut self,
        now: Instant,
    ) -> (Leg, Leg, Option<Result<RecordingSummary, RecordError>>) {
        let summary = self.stop_recording(now);
        (self.a, self.b, summary)
    }

    /// A datagram arrived on `side`'s RTP port; `buf[..len]` is rewritten in place when relayed.
    pub fn handle_rtp(
        &mut self,
        side: Side,
        buf: &mut [u8],
        len: usize,
        from: SocketAddr,
        now: Instant,
    ) -> Relayed {
        let (src, dst) = match side {
            Side::A => (&mut self.a, &mut self.b),
            Side::B => (&mut self.b, &mut self.a),
        };
        let accepted = match src.handle_rtp(&buf[..len], from, now) {
            Ok(accepted) => accepted,
            Err(refused) => return Relayed::Refused(refused),
        };
        let (ssrc, seq, ts, pt, marker) = match accepted {
            Accepted::Audio {
                codec,
                ssrc,
                seq,
                ts,
                payload_offset,
                payload_len,
            } => {
                let payload = &mut buf[payload_offset..payload_offset + payload_len];
                if let Some(rec) = self.recording.as_mut() {
                    let n = codec.decode(payload, &mut self.scratch[..]);
                    let channel = if rec.left == side {
                        Channel::Left
                    } else {
                        Channel::Right
                    };
                    rec.recorder
                        .feed(channel, ssrc, ts, &self.scratch[..n], now);
                }
                let Some(dst_codec) = dst.codec() else {
                    return Relayed::Absorbed;
                };
                if !dst.can_send() || dst.is_held() || dst.is_playing() || dst.is_sending_dtmf() {
                    return Relayed::Absorbed;
                }
                if dst_codec != codec {
                    transcode_in_place(codec, dst_codec, payload);
                    self.transcoded[side as usize] += 1;
                }
                let Some(pt) = dst.negotiated().map(|n| n.send_payload_type) else {
                    return Relayed::Absorbed;
                };
                (ssrc, seq, ts, pt, false)
            }
            Accepted::TelephoneEvent {
                ssrc,
                seq,
                ts,
                marker,
                ended,
            } => {
                let Some(pt) = dst.negotiated().and_then(|n| n.send_telephone_event) else {
                    // The other leg takes no events: it gets the key as tones in its audio,
                    // once the key press is over (its length is known then).
                    if let Some((digit, duration)) = ended {
                        if dst.can_send() && !dst.is_held() {
                            let duration = duration
                                .clamp(Duration::from_millis(40), Duration::from_millis(500));
                            dst.send_dtmf(&[digit], duration, now);
                        }
                    }
                    return Relayed::Absorbed;
                };
                if !dst.can_send() || dst.is_held() || dst.is_sending_dtmf() {
                    return Relayed::Absorbed;
                }
                (ssrc, seq, ts, pt, marker)
            }
        };
        let Some(to) = dst.destination() else {
            return Relayed::Absorbed;
        };
        let header = dst.relay_header(ssrc, seq, ts, now);
        let Ok(mut packet) = RtpPacketMut::parse(&mut buf[..len]) else {
            return Relayed::Refused(Refused::Malformed);
        };
        packet.set_ssrc(dst.ssrc());
        packet.set_sequence_number(header.seq);
        packet.set_timestamp(header.ts);
        packet.set_marker_bit(marker || header.marker);
        if packet.set_payload_type(pt).is_err() {
            return Relayed::Refused(Refused::UnknownPayloadType(pt));
        }
        dst.count_sent(len);
        self.relayed[side as usize] += 1;
        Relayed::Forward(Forward {
            side: side.other(),
            to,
            len,
        })
    }

    /// Starts recording both legs: `left` is the caller's side, the other goes right.
    pub fn start_recording(
        &mut self,
        writer: WavWriter,
        left: Side,
        flush_interval: Duration,
        now: Instant,
    ) -> Option<Result<RecordingSummary, RecordError>> {
        let previous = self.stop_recording(now);
        self.recording = Some(ActiveRecording {
            recorder: Recorder::new(writer, now, flush_interval),
            left,
        });
        previous
    }

    pub fn is_recording(&self) -> bool {
        self.recording.is_some()
    }

    pub fn pause_recording(&mut self, now: Instant) {
        if let Some(rec) = self.recording.as_mut() {
            rec.recorder.pause(now);
        }
    }

    pub fn resume_recording(&mut self, now: Instant) {
        if let Some(rec) = self.recording.as_mut() {
            rec.recorder.resume(now);
        }
    }

    pub fn stop_recording(
        &mut self,
        now: Instant,
    ) -> Option<Result<RecordingSummary, RecordError>> {
        self.recording.take().map(|rec| rec.recorder.finish(now))
    }

    pub fn poll_timeout(&self) -> Instant {
        let mut next = self.a.poll_timeout().min(self.b.poll_timeout());
        if let Some(rec) = &self.recording {
            next = next.min(rec.recorder.next_tick());
        }
        next
    }

    /// Time-driven work of both legs and the recorder. A recorder that fails (disk full) is
    /// stopped and its error returned; the call goes on.
    pub fn handle_timeout(&mut self, now: Instant) -> Option<RecordError> {
        self.a.handle_timeout(now);
        self.b.handle_timeout(now);
        self.tick_recording(now)
    }

    /// Writes the recorder's due frames (the relay path does it too while packets flow) and
    /// reports a recorder that failed since the last call.
    pub fn tick_recording(&mut self, now: Instant) -> Option<RecordError> {
        if let Some(failed) = self.recording_error.take() {
            return Some(failed);
        }
        let failed = self
            .recording
            .as_mut()
            .and_then(|rec| rec.recorder.tick(now).err());
        if failed.is_some() {
            self.recording = None;
        }
        failed
    }
}

#[cfg(test)]
mod tests;
