//! Symmetric RTP with latching: where to send a leg's media when the phone is behind NAT and
//! the address in its SDP is not the one its packets come from.
//!
//! The rule (Hotline's, written here because every PBX has its own):
//! 1. Until a source is latched, media goes to the address the SDP named.
//! 2. A valid RTP packet (parsed, version 2, a negotiated payload type) from the SDP-named
//!    address latches that address at once.
//! 3. From any other address, a source latches only after [`PROBATION`] consecutive valid
//!    packets with the same SSRC and consecutive sequence numbers. Until then its packets are
//!    ignored and counted; a stray or injected packet never redirects the call.
//! 4. Once latched, packets from other addresses are ignored and counted, unless the latched
//!    source has been silent for at least the re-latch silence (default 2 s, a phone that
//!    changed its NAT binding); then rule 3 applies to the newcomer.
//!
//! The module decides only; it never parses packets (callers pass SSRC and sequence).

use std::net::SocketAddr;
use std::time::{Duration, Instant};

/// Consecutive packets a source not named by the SDP must send before it is latched.
pub const PROBATION: u8 = 3;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LatchDecision {
    /// From the latched source (or the SDP address before latching): take it.
    Accept,
    /// Take it, and media now goes to this new address.
    Latched(SocketAddr),
    /// Not (yet) trusted: drop and count.
    Ignore,
}

#[derive(Clone, Copy, Debug)]
struct Candidate {
    addr: SocketAddr,
    ssrc: u32,
    next_seq: u16,
    seen: u8,
}

#[derive(Debug)]
pub struct Latch {
    signalled: Option<SocketAddr>,
    latched: Option<SocketAddr>,
    last_from_latched: Option<Instant>,
    candidate: Option<Candidate>,
    relatch_after: Duration,
}

impl Latch {
    pub fn new(signalled: Option<SocketAddr>, relatch_after: Duration) -> Latch {
        Latch {
            signalled,
            latched: None,
            last_from_latched: None,
            candidate: None,
            relatch_after,
        }
    }

    /// A re-offer may name a new address; an already latched source stays latched.
    pub fn set_signalled(&mut self, signalled: Option<SocketAddr>) {
        self.signalled = signalled;
    }

    /// Where media for this leg goes now.
    pub fn destination(&self) -> Option<SocketAddr> {
        self.latched.or(self.signalled)
    }

    pub fn latched(&self) -> Option<SocketAddr> {
        self.latched
    }

    /// Decides about a valid RTP packet (already parsed, payload type checked).
    pub fn on_packet(
        &mut self,
        from: SocketAddr,
        ssrc: u32,
        seq: u16,
        now: Instant,
    ) -> LatchDecision {
        match self.latched {
            Some(latched) if latched == from => {
                self.last_from_latched = Some(now);
                self.candidate = None;
                LatchDecision::Accept
            }
            None if self.signalled == Some(from) => self.latch(from, now),
            Some(_) => {
                let silent = self
                    .last_from_latched
                    .is_none_or(|at| now.saturating_duration_since(at) >= self.relatch_after);
                if silent {
                    self.probation(from, ssrc, seq, now)
                } else {
                    self.candidate = None;
                    LatchDecision::Ignore
                }
            }
            None => self.probation(from, ssrc, seq, now),
        }
    }

    fn probation(&mut self, from: SocketAddr, ssrc: u32, seq: u16, now: Instant) -> LatchDecision {
        let candidate = match self.candidate {
            Some(c) if c.addr == from && c.ssrc == ssrc && c.next_seq == seq => Candidate {
                seen: c.seen + 1,
                next_seq: seq.wrapping_add(1),
                ..c
            },
            _ => Candidate {
                addr: from,
                ssrc,
                next_seq: seq.wrapping_add(1),
                seen: 1,
            },
        };
        if candidate.seen >= PROBATION {
            self.latch(from, now)
        } else {
            self.candidate = Some(candidate);
            LatchDecision::Ignore
        }
    }

    fn latch(&mut self, from: SocketAddr, now: Instant) -> LatchDecision {
        self.candidate = None;
        self.last_from_latched = Some(now);
        let changed = self.latched != Some(from);
        self.latched = Some(from);
        if changed {
            LatchDecision::Latched(from)
        } else {
            LatchDecision::Accept
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(s: &str) -> SocketAddr {
        s.parse().unwrap()
    }

    #[test]
    fn the_signalled_address_latches_at_once() {
        let t = Instant::now();
        let mut l = Latch::new(Some(addr("10.0.0.1:4000")), Duration::from_secs(2));
        assert_eq!(l.destination(), Some(addr("10.0.0.1:4000")));
        assert_eq!(
            l.on_packet(addr("10.0.0.1:4000"), 1, 1, t),
            LatchDecision::Latched(addr("10.0.0.1:4000"))
        );
        assert_eq!(
            l.on_packet(addr("10.0.0.1:4000"), 1, 2, t),
            LatchDecision::Accept
        );
    }

    #[test]
    fn a_nat_address_latches_after_probation() {
        let t = Instant::now();
        let mut l = Latch::new(Some(addr("192.168.1.5:4000")), Duration::from_secs(2));
        let nat = addr("198.51.100.7:31000");
        assert_eq!(l.on_packet(nat, 5, 10, t), LatchDecision::Ignore);
        assert_eq!(l.on_packet(nat, 5, 11, t), LatchDecision::Ignore);
        assert_eq!(l.on_packet(nat, 5, 12, t), LatchDecision::Latched(nat));
        assert_eq!(l.destination(), Some(nat));
    }

    #[test]
    fn a_broken_sequence_restarts_probation() {
        let t = Instant::now();
        let mut l = Latch::new(None, Duration::from_secs(2));
        let nat = addr("198.51.100.7:31000");
        l.on_packet(nat, 5, 10, t);
        l.on_packet(nat, 5, 11, t);
        assert_eq!(l.on_packet(nat, 5, 50, t), LatchDecision::Ignore);
        assert_eq!(
            l.on_packet(addr("198.51.100.8:1"), 5, 51, t),
            LatchDecision::Ignore
        );
        assert_eq!(l.destination(), None);
    }

    #[test]
    fn an_intruder_is_ignored_while_the_latched_source_talks_and_relatches_after_silence() {
        let t = Instant::now();
        let phone = addr("10.0.0.1:4000");
        let other = addr("10.0.0.9:5000");
        let mut l = Latch::new(Some(phone), Duration::from_secs(2));
        l.on_packet(phone, 1, 1, t);
        for seq in 0..10 {
            assert_eq!(
                l.on_packet(other, 2, seq, t + Duration::from_millis(100)),
                LatchDecision::Ignore
            );
        }
        let later = t + Duration::from_secs(3);
        assert_eq!(l.on_packet(other, 2, 100, later), LatchDecision::Ignore);
        assert_eq!(l.on_packet(other, 2, 101, later), LatchDecision::Ignore);
        assert_eq!(
            l.on_packet(other, 2, 102, later),
            LatchDecision::Latched(other)
        );
        assert_eq!(l.on_packet(phone, 1, 2, later), LatchDecision::Ignore);
    }
}
