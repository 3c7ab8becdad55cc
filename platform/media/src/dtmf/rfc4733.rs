//! RFC 4733 telephone-events (DTMF named events 0-15) in RTP: the receiver that turns a
//! stream of event packets into one key press each, and the sender that produces them.
//!
//! An event is identified by its RTP timestamp (§2.5.1.3): every packet of one key press
//! repeats it. The receiver reports a key once when it begins (for barge-in) and once when it
//! ends: on the first end-bit packet (the two redundant ones that follow are recognised by
//! their timestamp and dropped), when a new event starts before the old one ended (its end
//! packets were lost), or after a silence of [`Rfc4733Receiver::timeout`].

use std::time::{Duration, Instant};

use super::Digit;

/// What a received packet or a timeout meant.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventUpdate {
    /// A new key press started (a player with barge-in stops here).
    Began { digit: Digit, ts: u32 },
    /// The key press ended; `duration` is in timestamp units (8 kHz).
    Ended {
        digit: Digit,
        ts: u32,
        duration: u32,
    },
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum Rfc4733Error {
    #[error("telephone-event payload of {0} bytes, expected at least 4")]
    Short(usize),
}

#[derive(Clone, Copy, Debug)]
struct Current {
    digit: Option<Digit>,
    ts: u32,
    duration: u32,
    last_seen: Instant,
}

#[derive(Debug)]
pub struct Rfc4733Receiver {
    current: Option<Current>,
    last_ended_ts: Option<u32>,
    pub timeout: Duration,
    /// Further updates produced by one packet (an unfinished event ended by a new one).
    pending: [Option<EventUpdate>; 2],
}

impl Default for Rfc4733Receiver {
    fn default() -> Self {
        Rfc4733Receiver::new(Duration::from_millis(600))
    }
}

impl Rfc4733Receiver {
    pub fn new(timeout: Duration) -> Rfc4733Receiver {
        Rfc4733Receiver {
            current: None,
            last_ended_ts: None,
            timeout,
            pending: [None; 2],
        }
    }

    /// Feeds one telephone-event packet (its RTP timestamp and payload).
    pub fn on_packet(
        &mut self,
        ts: u32,
        payload: &[u8],
        now: Instant,
    ) -> Result<Option<EventUpdate>, Rfc4733Error> {
        if payload.len() < 4 {
            return Err(Rfc4733Error::Short(payload.len()));
        }
        let code = payload[0];
        let end = payload[1] & 0x80 != 0;
        let duration = u16::from_be_bytes([payload[2], payload[3]]) as u32;
        // Events we do not act on (flash, tones) are tracked like keys so their packets are
        // not mistaken for new key presses.
        let digit = Digit::from_event_code(code);

        if self.last_ended_ts == Some(ts) {
            return Ok(None); // a redundant end packet or a late duplicate
        }
        if let Some(current) = self.current.as_mut() {
            if current.ts == ts {
                current.duration = current.duration.max(duration);
                current.last_seen = now;
                if end {
                    return Ok(self.finish());
                }
                return Ok(None);
            }
            // Older than the current event: a straggler from a finished one.
            if ts.wrapping_sub(current.ts) >= 0x8000_0000 {
                return Ok(None);
            }
        }
        if let Some(last) = self.last_ended_ts {
            if ts.wrapping_sub(last) >= 0x8000_0000 {
                return Ok(None);
            }
        }
        // A new event; the one in progress lost its end packets.
        let unfinished = self.finish();
        self.current = Some(Current {
            digit,
            ts,
            duration,
            last_seen: now,
        });
        let began = digit.map(|digit| EventUpdate::Began { digit, ts });
        let ended_now = if end { self.finish() } else { None };
        // Order: the unfinished end, then this begin, then (a lone end packet) this end.
        let mut updates = [unfinished, began, ended_now].into_iter().flatten();
        let first = updates.next();
        self.pending = [updates.next(), updates.next()];
        Ok(first)
    }

    /// The further updates produced by the last packet, one per call, in order.
    pub fn take_pending(&mut self) -> Option<EventUpdate> {
        let next = self.pending[0].take();
        self.pending[0] = self.pending[1].take();
        next
    }

    /// Ends an event whose end packets never came.
    pub fn on_timeout(&mut self, now: Instant) -> Option<EventUpdate> {
        let current = self.current?;
        if now.saturating_duration_since(current.last_seen) >= self.timeout {
            self.finish()
        } else {
            None
        }
    }

    /// When [`Self::on_timeout`] should be called next.
    pub fn next_timeout(&self) -> Option<Instant> {
        self.current.map(|c| c.last_seen + self.timeout)
    }

    fn finish(&mut self) -> Option<EventUpdate> {
        let current = self.current.take()?;
        self.last_ended_ts = Some(current.ts);
        current.digit.map(|digit| EventUpdate::Ended {
            digit,
            ts: current.ts,
            duration: current.duration,
        })
    }
}

/// Writes the 4-byte payload of an event packet.
pub fn write_payload(digit: Digit, end: bool, volume: u8, duration: u16, out: &mut [u8; 4]) {
    out[0] = digit.event_code();
    out[1] = if end { 0x80 } else { 0 } | (volume & 0x3F);
    out[2..4].copy_from_slice(&duration.to_be_bytes());
}

/// One key press being sent: packets every ptime while the key is down, then three end packets
/// (RFC 4733 §2.5.1.4), all with the timestamp of the first.
#[derive(Clone, Debug)]
pub struct EventSender {
    pub digit: Digit,
    /// RTP timestamp of the event (set when the first packet goes out).
    pub ts: Option<u32>,
    step: u32,
    total: u32,
    sent_duration: u32,
    ends_sent: u8,
    pub next_at: Instant,
    interval: Duration,
}

/// The next packet of an event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EventPacket {
    pub payload: [u8; 4],
    pub marker: bool,
    pub first: bool,
}

/// Volume Hotline sends (-10 dBm0, the usual keypad level).
pub const SEND_VOLUME: u8 = 10;

impl EventSender {
    pub fn new(digit: Digit, duration: Duration, ptime_ms: u32, now: Instant) -> EventSender {
        let step = ptime_ms * 8;
        let total = ((duration.as_millis() as u32) * 8).clamp(step, 0xFFFF);
        EventSender {
            digit,
            ts: None,
            step,
            total,
            sent_duration: 0,
            ends_sent: 0,
            next_at: now,
            interval: Duration::from_millis(ptime_ms as u64),
        }
    }

    pub fn done(&self) -> bool {
        self.ends_sent >= 3
    }

    /// The packet due at `now`, if one is.
    pub fn poll(&mut self, now: Instant) -> Option<EventPacket> {
        if self.done() || now < self.next_at {
            return None;
        }
        let first = self.sent_duration == 0 && self.ends_sent == 0;
        let mut payload = [0u8; 4];
        if self.sent_duration < self.total {
            self.sent_duration = (self.sent_duration + self.step).min(self.total);
            let end = self.sent_duration >= self.total;
            write_payload(
                self.digit,
                end,
                SEND_VOLUME,
                self.sent_duration as u16,
                &mut payload,
            );
            if end {
                self.ends_sent = 1;
            }
        } else {
            write_payload(
                self.digit,
                true,
                SEND_VOLUME,
                self.sent_duration as u16,
                &mut payload,
            );
            self.ends_sent += 1;
        }
        self.next_at += self.interval;
        Some(EventPacket {
            payload,
            marker: first,
            first,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn packet(digit: u8, end: bool, duration: u16) -> [u8; 4] {
        let mut p = [0u8; 4];
        write_payload(
            Digit::from_event_code(digit).unwrap(),
            end,
            10,
            duration,
            &mut p,
        );
        p
    }

    fn all(rx: &mut Rfc4733Receiver, ts: u32, payload: &[u8], now: Instant) -> Vec<EventUpdate> {
        let mut out: Vec<EventUpdate> = rx
            .on_packet(ts, payload, now)
            .unwrap()
            .into_iter()
            .collect();
        while let Some(more) = rx.take_pending() {
            out.push(more);
        }
        out
    }

    fn ends(updates: &[EventUpdate]) -> Vec<Digit> {
        updates
            .iter()
            .filter_map(|u| match u {
                EventUpdate::Ended { digit, .. } => Some(*digit),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn a_full_key_press_with_three_end_packets_is_one_digit() {
        let t = Instant::now();
        let mut rx = Rfc4733Receiver::default();
        let mut got = Vec::new();
        got.extend(all(&mut rx, 1000, &packet(5, false, 160), t));
        got.extend(all(&mut rx, 1000, &packet(5, false, 320), t));
        got.extend(all(&mut rx, 1000, &packet(5, false, 480), t));
        for _ in 0..3 {
            got.extend(all(&mut rx, 1000, &packet(5, true, 800), t));
        }
        assert_eq!(
            got,
            vec![
                EventUpdate::Began {
                    digit: Digit::D5,
                    ts: 1000
                },
                EventUpdate::Ended {
                    digit: Digit::D5,
                    ts: 1000,
                    duration: 800
                }
            ]
        );
    }

    #[test]
    fn the_same_key_twice_is_two_digits_by_timestamp() {
        let t = Instant::now();
        let mut rx = Rfc4733Receiver::default();
        let mut got = Vec::new();
        for ts in [1000, 3000] {
            got.extend(all(&mut rx, ts, &packet(1, false, 160), t));
            got.extend(all(&mut rx, ts, &packet(1, true, 640), t));
            got.extend(all(&mut rx, ts, &packet(1, true, 640), t));
        }
        assert_eq!(ends(&got), vec![Digit::D1, Digit::D1]);
    }

    #[test]
    fn lost_end_packets_end_the_event_when_the_next_begins() {
        let t = Instant::now();
        let mut rx = Rfc4733Receiver::default();
        let mut got = Vec::new();
        got.extend(all(&mut rx, 1000, &packet(1, false, 160), t));
        got.extend(all(&mut rx, 2000, &packet(2, false, 160), t));
        got.extend(all(&mut rx, 2000, &packet(2, true, 400), t));
        assert_eq!(ends(&got), vec![Digit::D1, Digit::D2]);
    }

    #[test]
    fn an_event_without_end_is_finished_by_timeout() {
        let t = Instant::now();
        let mut rx = Rfc4733Receiver::new(Duration::from_millis(500));
        all(&mut rx, 1000, &packet(9, false, 160), t);
        assert_eq!(rx.on_timeout(t + Duration::from_millis(100)), None);
        assert_eq!(rx.next_timeout(), Some(t + Duration::from_millis(500)));
        assert_eq!(
            rx.on_timeout(t + Duration::from_millis(500)),
            Some(EventUpdate::Ended {
                digit: Digit::D9,
                ts: 1000,
                duration: 160
            })
        );
        // Its late end packets do not bring it back.
        assert!(all(
            &mut rx,
            1000,
            &packet(9, true, 800),
            t + Duration::from_millis(600)
        )
        .is_empty());
    }

    #[test]
    fn only_end_packets_arriving_still_give_the_digit() {
        let t = Instant::now();
        let mut rx = Rfc4733Receiver::default();
        let got = all(&mut rx, 500, &packet(0, true, 800), t);
        assert_eq!(ends(&got), vec![Digit::D0]);
        assert!(all(&mut rx, 500, &packet(0, true, 800), t).is_empty());
    }

    #[test]
    fn reordered_stragglers_of_an_old_event_are_dropped() {
        let t = Instant::now();
        let mut rx = Rfc4733Receiver::default();
        let mut got = Vec::new();
        got.extend(all(&mut rx, 1000, &packet(3, true, 800), t));
        got.extend(all(&mut rx, 2000, &packet(4, false, 160), t));
        got.extend(all(&mut rx, 1000, &packet(3, false, 480), t));
        got.extend(all(&mut rx, 2000, &packet(4, true, 480), t));
        assert_eq!(ends(&got), vec![Digit::D3, Digit::D4]);
    }

    #[test]
    fn a_lone_end_right_after_an_unfinished_event_gives_both() {
        let t = Instant::now();
        let mut rx = Rfc4733Receiver::default();
        let mut got = all(&mut rx, 1000, &packet(1, false, 160), t);
        got.extend(all(&mut rx, 2000, &packet(2, true, 800), t));
        assert_eq!(ends(&got), vec![Digit::D1, Digit::D2]);
    }

    #[test]
    fn short_payload_is_an_error() {
        let mut rx = Rfc4733Receiver::default();
        assert_eq!(
            rx.on_packet(0, &[1, 2], Instant::now()),
            Err(Rfc4733Error::Short(2))
        );
    }

    #[test]
    fn the_sender_sends_updates_then_three_ends_and_the_receiver_agrees() {
        let t = Instant::now();
        let mut tx = EventSender::new(Digit::Pound, Duration::from_millis(100), 20, t);
        let mut rx = Rfc4733Receiver::default();
        let mut packets = Vec::new();
        let mut at = t;
        while !tx.done() {
            if let Some(p) = tx.poll(at) {
                packets.push(p);
            }
            at += Duration::from_millis(20);
        }
        assert_eq!(
            packets.len(),
            5 + 2,
            "5 updates (the last with E) and 2 more ends"
        );
        assert!(packets[0].marker && !packets[1].marker);
        assert_eq!(
            packets.iter().filter(|p| p.payload[1] & 0x80 != 0).count(),
            3
        );
        let mut got = Vec::new();
        for p in &packets {
            got.extend(all(&mut rx, 4242, &p.payload, t));
        }
        assert_eq!(
            got.last(),
            Some(&EventUpdate::Ended {
                digit: Digit::Pound,
                ts: 4242,
                duration: 800
            })
        );
    }
}
