//! RTCP for one leg (RFC 3550 §6): the compound report Hotline sends (SR when it sent media
//! since the last report, RR otherwise, always with SDES CNAME) and what it reads from the
//! peer's reports (its view of our stream: loss, jitter, round trip).
//!
//! Wall-clock (NTP) time is passed in by the caller; this module reads no clock.

use rtcp_types::{
    Compound, Packet, ReceiverReport, ReportBlock, RtcpPacketWriterExt, Sdes, SdesChunk, SdesItem,
    SenderReport,
};

use super::stats::ReceiveStats;

/// Seconds between reports (RFC 3550 §6.2 minimum for a two-party session).
pub const REPORT_INTERVAL_SECS: u64 = 5;

/// NTP timestamp (RFC 3550 §4: seconds since 1900 in the high word, fraction in the low).
pub fn ntp_timestamp(since_unix: std::time::Duration) -> u64 {
    const UNIX_TO_NTP: u64 = 2_208_988_800;
    let secs = since_unix.as_secs() + UNIX_TO_NTP;
    let frac = ((since_unix.subsec_nanos() as u64) << 32) / 1_000_000_000;
    (secs << 32) | frac
}

/// The middle 32 bits of an NTP timestamp, as LSR/DLSR use them.
pub fn ntp_middle(ntp: u64) -> u32 {
    (ntp >> 16) as u32
}

/// What we sent since the leg started, for the sender info.
#[derive(Clone, Copy, Debug)]
pub struct SenderInfo {
    pub ntp: u64,
    pub rtp_ts: u32,
    pub packets: u32,
    pub octets: u32,
}

/// The last sender report we received, to echo in our report blocks.
#[derive(Clone, Copy, Debug, Default)]
pub struct LastSenderReport {
    pub middle: u32,
    /// Our NTP time when it arrived.
    pub arrived_ntp: u64,
}

/// Writes our compound report into `out`; returns its length (0 if `out` is too small).
pub fn write_report(
    out: &mut [u8],
    our_ssrc: u32,
    cname: &str,
    sender: Option<SenderInfo>,
    stats: &mut ReceiveStats,
    last_sr: Option<LastSenderReport>,
    now_ntp: u64,
) -> usize {
    let block = stats.ssrc().map(|remote| {
        let (lsr, dlsr) = match last_sr {
            // DLSR is in units of 1/65536 s, the same as the middle bits.
            Some(sr) => (
                sr.middle,
                ntp_middle(now_ntp).wrapping_sub(ntp_middle(sr.arrived_ntp)),
            ),
            None => (0, 0),
        };
        ReportBlock::builder(remote)
            .fraction_lost(stats.take_fraction_lost())
            .cumulative_lost(stats.lost().min(0x7F_FFFF) as u32)
            .extended_sequence_number(stats.extended_max_seq())
            .interarrival_jitter(stats.jitter_units())
            .last_sender_report_timestamp(lsr)
            .delay_since_last_sender_report_timestamp(dlsr)
    });
    let sdes = Sdes::builder().add_chunk(
        SdesChunk::builder(our_ssrc).add_item(SdesItem::builder(SdesItem::CNAME, cname)),
    );
    let result = match sender {
        Some(info) => {
            let mut sr = SenderReport::builder(our_ssrc)
                .ntp_timestamp(info.ntp)
                .rtp_timestamp(info.rtp_ts)
                .packet_count(info.packets)
                .octet_count(info.octets);
            if let Some(block) = block {
                sr = sr.add_report_block(block);
            }
            Compound::builder()
                .add_packet(sr)
                .add_packet(sdes)
                .write_into(out)
        }
        None => {
            let mut rr = ReceiverReport::builder(our_ssrc);
            if let Some(block) = block {
                rr = rr.add_report_block(block);
            }
            Compound::builder()
                .add_packet(rr)
                .add_packet(sdes)
                .write_into(out)
        }
    };
    result.unwrap_or(0)
}

/// What a peer's compound packet told us.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct PeerReport {
    /// Middle NTP bits of its sender report, if it carried one.
    pub sender_report: Option<u32>,
    /// Its report about our SSRC.
    pub fraction_lost: Option<f64>,
    pub cumulative_lost: Option<u32>,
    pub jitter_units: Option<u32>,
    /// Round trip in seconds, when the block echoed one of our sender reports.
    pub rtt_secs: Option<f64>,
    pub bye: bool,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("malformed RTCP: {0}")]
pub struct RtcpError(String);

/// Reads a peer's compound packet.
pub fn read_report(data: &[u8], our_ssrc: u32, now_ntp: u64) -> Result<PeerReport, RtcpError> {
    let compound = Compound::parse(data).map_err(|e| RtcpError(e.to_string()))?;
    let mut report = PeerReport::default();
    for packet in compound {
        let packet = packet.map_err(|e| RtcpError(e.to_string()))?;
        match packet {
            Packet::Sr(sr) => {
                report.sender_report = Some(ntp_middle(sr.ntp_timestamp()));
                for block in sr.report_blocks() {
                    read_block(&mut report, &block, our_ssrc, now_ntp);
                }
            }
            Packet::Rr(rr) => {
                for block in rr.report_blocks() {
                    read_block(&mut report, &block, our_ssrc, now_ntp);
                }
            }
            Packet::Bye(_) => report.bye = true,
            _ => {}
        }
    }
    Ok(report)
}

fn read_block(report: &mut PeerReport, block: &ReportBlock<'_>, our_ssrc: u32, now_ntp: u64) {
    if block.ssrc() != our_ssrc {
        return;
    }
    report.fraction_lost = Some(block.fraction_lost() as f64 / 256.0);
    report.cumulative_lost = Some(block.cumulative_lost());
    report.jitter_units = Some(block.interarrival_jitter());
    let lsr = block.last_sender_report_timestamp();
    if lsr != 0 {
        let dlsr = block.delay_since_last_sender_report_timestamp();
        let rtt = ntp_middle(now_ntp).wrapping_sub(lsr).wrapping_sub(dlsr);
        // A negative round trip (clock steps) wraps to a huge value: ignore it.
        if rtt < 0x8000_0000 {
            report.rtt_secs = Some(rtt as f64 / 65536.0);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn sender_report_round_trips_with_loss_jitter_and_rtt() {
        let mut stats = ReceiveStats::default();
        for seq in [0u16, 1, 2, 4, 5, 6, 7, 8] {
            stats.record(
                0xBEEF,
                seq,
                seq as u32 * 160,
                seq as u32 * 160 + (seq as u32 % 2) * 40,
                172,
            );
        }
        let t = ntp_timestamp(Duration::from_secs(1_700_000_000));
        let last_sr = LastSenderReport {
            middle: ntp_middle(t),
            arrived_ntp: t,
        };
        let mut buf = [0u8; 256];
        let info = SenderInfo {
            ntp: t + (1 << 32),
            rtp_ts: 8000,
            packets: 50,
            octets: 8000,
        };
        let n = write_report(
            &mut buf,
            0x1234,
            "hotline@test",
            Some(info),
            &mut stats,
            Some(last_sr),
            t + (1 << 31),
        );
        assert!(n > 0);
        // Read it as the peer (0xBEEF), 0.5 s delay since its SR, arriving 0.25 s later.
        let now = t + (1 << 31) + (1 << 30);
        let report = read_report(&buf[..n], 0xBEEF, now).unwrap();
        assert_eq!(report.sender_report, Some(ntp_middle(t + (1 << 32))));
        assert_eq!(report.cumulative_lost, Some(1));
        assert!((report.fraction_lost.unwrap() - 1.0 / 9.0).abs() < 0.01);
        assert!(report.jitter_units.unwrap() > 0);
        assert!(
            (report.rtt_secs.unwrap() - 0.25).abs() < 0.001,
            "{:?}",
            report.rtt_secs
        );
    }

    #[test]
    fn receiver_report_without_sender_info() {
        let mut stats = ReceiveStats::default();
        stats.record(9, 0, 0, 0, 172);
        let mut buf = [0u8; 256];
        let n = write_report(&mut buf, 1, "x", None, &mut stats, None, 0);
        let report = read_report(&buf[..n], 9, 0).unwrap();
        assert_eq!(report.sender_report, None);
        assert_eq!(report.cumulative_lost, Some(0));
        assert_eq!(report.rtt_secs, None);
    }

    #[test]
    fn garbage_is_an_error() {
        for data in [
            &[][..],
            &[0x80, 0xC8, 0x00][..],
            &[0x40; 8][..],
            &[0x81, 0xC9, 0x00, 0x10, 1, 2, 3, 4][..],
        ] {
            assert!(read_report(data, 1, 0).is_err(), "{data:?}");
        }
    }
}
