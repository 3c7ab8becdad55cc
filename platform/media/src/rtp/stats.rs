//! Receive statistics of one leg as RFC 3550 defines them: extended highest sequence number and
//! source restarts (A.1), cumulative and interval loss (A.3), interarrival jitter (A.8), and
//! the per-leg quality figures the call record keeps.
//!
//! Jitter is kept in RTP timestamp units as the RFC's estimator does; it is turned into
//! milliseconds only in [`LegQuality`]. Arrival times come from the caller's clock, already in
//! timestamp units, so this module never reads a clock.

use serde::{Deserialize, Serialize};

const MAX_DROPOUT: u16 = 3000;
const MAX_MISORDER: u16 = 100;
const SEQ_MOD: u32 = 1 << 16;

/// Quality of one leg as the call record carries it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct LegQuality {
    pub packets_in: u64,
    pub bytes_in: u64,
    pub packets_out: u64,
    pub bytes_out: u64,
    /// Packets expected but never received (RFC 3550 A.3, cumulative, never negative).
    pub lost: u64,
    /// Packets that arrived late (after a newer one) or twice.
    pub out_of_order: u64,
    /// Interarrival jitter now (RFC 3550 A.8), in milliseconds.
    pub jitter_ms: f64,
    pub max_jitter_ms: f64,
    /// Datagrams refused: not RTP, truncated, unknown payload type, or from a source that is
    /// not the latched one.
    pub ignored: u64,
    /// What the peer said about our stream in its last RTCP report.
    pub remote_fraction_lost: Option<f64>,
    pub remote_jitter_ms: Option<f64>,
    /// Round trip from the last report block that echoed one of our sender reports.
    pub rtt_ms: Option<f64>,
}

/// RFC 3550 A.1 sequence state and A.8 jitter for the current source of a leg.
#[derive(Clone, Debug, Default)]
pub struct ReceiveStats {
    source: Option<Source>,
    /// Expected and received of sources that came before the current one.
    earlier_expected: u64,
    earlier_received: u64,
    pub packets: u64,
    pub bytes: u64,
    pub out_of_order: u64,
    jitter: f64,
    max_jitter: f64,
    expected_prior: u64,
    received_prior: u64,
}

#[derive(Clone, Debug)]
struct Source {
    ssrc: u32,
    base_seq: u32,
    max_seq: u16,
    cycles: u32,
    bad_seq: Option<u16>,
    received: u64,
    last_transit: Option<i64>,
}

/// What a packet was to the sequence tracker.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SeqVerdict {
    /// In order, or a gap after which it is the newest.
    Fresh,
    /// Older than the newest but inside the reorder window (late or duplicate).
    Late,
    /// A jump too large to believe; a second packet following it restarts the sequence.
    Jump,
}

impl ReceiveStats {
    /// Counts a packet. `arrival` is the arrival time in RTP timestamp units (8 kHz).
    pub fn record(
        &mut self,
        ssrc: u32,
        seq: u16,
        rtp_ts: u32,
        arrival: u32,
        len: usize,
    ) -> SeqVerdict {
        let verdict = self.update_seq(ssrc, seq);
        if verdict == SeqVerdict::Jump {
            return verdict;
        }
        self.packets += 1;
        self.bytes += len as u64;
        if verdict == SeqVerdict::Fresh {
            self.update_jitter(rtp_ts, arrival);
        } else {
            self.out_of_order += 1;
        }
        verdict
    }

    fn update_seq(&mut self, ssrc: u32, seq: u16) -> SeqVerdict {
        let restart = match &self.source {
            Some(source) => source.ssrc != ssrc,
            None => true,
        };
        if restart {
            self.retire_source();
            self.source = Some(Source::new(ssrc, seq));
            if let Some(s) = self.source.as_mut() {
                s.received = 1;
            }
            return SeqVerdict::Fresh;
        }
        let Some(source) = self.source.as_mut() else {
            return SeqVerdict::Fresh;
        };
        let udelta = seq.wrapping_sub(source.max_seq);
        if udelta < MAX_DROPOUT {
            if seq < source.max_seq {
                source.cycles += SEQ_MOD;
            }
            source.max_seq = seq;
            source.bad_seq = None;
            source.received += 1;
            if udelta == 0 {
                // The same number as the newest: a duplicate.
                source.received -= 1;
                return SeqVerdict::Late;
            }
            SeqVerdict::Fresh
        } else if udelta <= (SEQ_MOD as u16).wrapping_sub(MAX_MISORDER) {
            if source.bad_seq == Some(seq) {
                // Two packets in a row after the jump: the sender restarted its sequence.
                let ssrc = source.ssrc;
                self.retire_source();
                let mut fresh = Source::new(ssrc, seq);
                fresh.received = 1;
                self.source = Some(fresh);
                SeqVerdict::Fresh
            } else {
                source.bad_seq = Some(seq.wrapping_add(1));
                SeqVerdict::Jump
            }
        } else {
            source.received += 1;
            SeqVerdict::Late
        }
    }

    fn retire_source(&mut self) {
        if let Some(source) = self.source.take() {
            self.earlier_expected += source.expected();
            self.earlier_received += source.received;
        }
    }

    fn update_jitter(&mut self, rtp_ts: u32, arrival: u32) {
        let Some(source) = self.source.as_mut() else {
            return;
        };
        let transit = arrival.wrapping_sub(rtp_ts) as i32 as i64;
        if let Some(last) = source.last_transit {
            let d = (transit - last).abs() as f64;
            self.jitter += (d - self.jitter) / 16.0;
            if self.jitter > self.max_jitter {
                self.max_jitter = self.jitter;
            }
        }
        source.last_transit = Some(transit);
    }

    /// A source change (new SSRC from the same peer) must not count as loss; a jump in
    /// timestamps across it must not count as jitter.
    pub fn ssrc(&self) -> Option<u32> {
        self.source.as_ref().map(|s| s.ssrc)
    }

    pub fn expected(&self) -> u64 {
        self.earlier_expected + self.source.as_ref().map_or(0, Source::expected)
    }

    pub fn received_in_order(&self) -> u64 {
        self.earlier_received + self.source.as_ref().map_or(0, |s| s.received)
    }

    /// Cumulative loss (A.3), clamped at zero (duplicates can make it negative).
    pub fn lost(&self) -> u64 {
        self.expected().saturating_sub(self.received_in_order())
    }

    pub fn extended_max_seq(&self) -> u32 {
        self.source
            .as_ref()
            .map_or(0, |s| s.cycles.wrapping_add(s.max_seq as u32))
    }

    /// Jitter in timestamp units, as the report block carries it.
    pub fn jitter_units(&self) -> u32 {
        self.jitter as u32
    }

    pub fn jitter_ms(&self) -> f64 {
        self.jitter / 8.0
    }

    pub fn max_jitter_ms(&self) -> f64 {
        self.max_jitter / 8.0
    }

    /// Fraction lost since the previous call, as the 8-bit fixed point of a report block.
    pub fn take_fraction_lost(&mut self) -> u8 {
        let expected = self.expected();
        let received = self.received_in_order();
        let expected_interval = expected.saturating_sub(self.expected_prior);
        let received_interval = received.saturating_sub(self.received_prior);
        self.expected_prior = expected;
        self.received_prior = received;
        let lost_interval = expected_interval.saturating_sub(received_interval);
        if expected_interval == 0 || lost_interval == 0 {
            0
        } else {
            ((lost_interval << 8) / expected_interval).min(255) as u8
        }
    }
}

impl Source {
    fn new(ssrc: u32, seq: u16) -> Source {
        Source {
            ssrc,
            base_seq: seq as u32,
            max_seq: seq,
            cycles: 0,
            bad_seq: None,
            received: 0,
            last_transit: None,
        }
    }

    fn expected(&self) -> u64 {
        let extended = self.cycles as u64 + self.max_seq as u64;
        extended + 1 - self.base_seq as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn feed(stats: &mut ReceiveStats, seqs: &[u16]) {
        for &seq in seqs {
            let ts = seq as u32 * 160;
            stats.record(7, seq, ts, ts + 1000, 172);
        }
    }

    #[test]
    fn in_order_stream_has_no_loss_and_no_jitter() {
        let mut s = ReceiveStats::default();
        feed(&mut s, &(0..100).collect::<Vec<_>>());
        assert_eq!(s.expected(), 100);
        assert_eq!(s.lost(), 0);
        assert_eq!(s.jitter_units(), 0);
        assert_eq!(s.packets, 100);
    }

    #[test]
    fn gaps_count_as_loss_and_late_packets_fill_them() {
        let mut s = ReceiveStats::default();
        feed(&mut s, &[0, 1, 2, 5, 6, 7]);
        assert_eq!(s.lost(), 2);
        feed(&mut s, &[3]);
        assert_eq!(s.lost(), 1);
        // One lost of eight expected: 256 / 8 in the 8-bit fixed point.
        assert_eq!(s.take_fraction_lost(), 32);
        assert_eq!(s.take_fraction_lost(), 0);
    }

    #[test]
    fn duplicates_are_counted_as_out_of_order_without_loss() {
        let mut s = ReceiveStats::default();
        feed(&mut s, &[0, 1, 2, 2, 3, 3, 4]);
        assert_eq!(s.lost(), 0);
        assert_eq!(s.out_of_order, 2);
    }

    #[test]
    fn sequence_wraps_without_loss() {
        let mut s = ReceiveStats::default();
        let seqs: Vec<u16> = (65530..=65535).chain(0..10).collect();
        feed(&mut s, &seqs);
        assert_eq!(s.lost(), 0);
        assert_eq!(s.expected(), 16);
        assert_eq!(s.extended_max_seq(), 65536 + 9);
    }

    #[test]
    fn a_wild_jump_is_ignored_once_and_taken_as_a_restart_when_it_continues() {
        let mut s = ReceiveStats::default();
        feed(&mut s, &[10, 11, 12]);
        assert_eq!(s.record(7, 40000, 0, 0, 172), SeqVerdict::Jump);
        assert_eq!(s.record(7, 40001, 160, 160, 172), SeqVerdict::Fresh);
        assert_eq!(s.record(7, 40002, 320, 320, 172), SeqVerdict::Fresh);
        assert_eq!(s.lost(), 0);
    }

    #[test]
    fn new_ssrc_starts_a_new_source_without_false_loss() {
        let mut s = ReceiveStats::default();
        feed(&mut s, &[100, 101, 102]);
        s.record(8, 5000, 0, 0, 172);
        s.record(8, 5001, 160, 160, 172);
        assert_eq!(s.lost(), 0);
        assert_eq!(s.expected(), 5);
    }

    #[test]
    fn jitter_follows_the_rfc_3550_estimator() {
        let mut s = ReceiveStats::default();
        // Packets every 160 units, arrivals alternating 0 and +80 units of delay:
        // D is 80 every packet after the first, so J converges to 80 (10 ms).
        for i in 0..2000u32 {
            let ts = i * 160;
            let arrival = ts + if i % 2 == 0 { 0 } else { 80 };
            s.record(1, i as u16, ts, arrival, 172);
        }
        assert!((s.jitter_ms() - 10.0).abs() < 0.01, "{}", s.jitter_ms());
        // After the first step J = 80/16 = 5 units, and it only grows towards 80.
        let mut t = ReceiveStats::default();
        t.record(1, 0, 0, 0, 172);
        t.record(1, 1, 160, 240, 172);
        assert_eq!(t.jitter_units(), 5);
        assert!(s.max_jitter_ms() >= s.jitter_ms());
    }
}
