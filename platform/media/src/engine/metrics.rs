//! The media engine's Prometheus figures (exported by the binary's recorder; no-ops without
//! one). Counted where a leg starts and ends and where rare events happen, never per packet.

use metrics::{counter, describe_counter, describe_gauge, gauge};

pub(crate) fn describe() {
    describe_gauge!(
        "hotline_media_legs",
        "Media legs alive (each holds an RTP/RTCP port pair)"
    );
    describe_counter!("hotline_media_legs_total", "Media legs created");
    describe_counter!(
        "hotline_media_offers_refused_total",
        "SDP offers refused, by reason (not_acceptable: a 488; malformed: a 400)"
    );
    describe_counter!(
        "hotline_media_packets_total",
        "RTP packets at leg end, by direction (in, out, ignored, lost)"
    );
    describe_counter!(
        "hotline_media_timeouts_total",
        "Legs that reported a media timeout"
    );
    describe_counter!(
        "hotline_media_recording_failures_total",
        "Recordings stopped by a write error (the call went on)"
    );
}

pub(crate) fn leg_started() {
    counter!("hotline_media_legs_total").increment(1);
    gauge!("hotline_media_legs").increment(1.0);
}

pub(crate) fn leg_dropped() {
    gauge!("hotline_media_legs").decrement(1.0);
}

/// A leg's packet totals, added once when it ends normally.
pub(crate) fn leg_finished(quality: &crate::rtp::stats::LegQuality) {
    counter!("hotline_media_packets_total", "direction" => "in").increment(quality.packets_in);
    counter!("hotline_media_packets_total", "direction" => "out").increment(quality.packets_out);
    counter!("hotline_media_packets_total", "direction" => "ignored").increment(quality.ignored);
    counter!("hotline_media_packets_total", "direction" => "lost").increment(quality.lost);
}

pub(crate) fn offer_refused(not_acceptable: bool) {
    let reason = if not_acceptable {
        "not_acceptable"
    } else {
        "malformed"
    };
    counter!("hotline_media_offers_refused_total", "reason" => reason).increment(1);
}

pub(crate) fn media_timeout() {
    counter!("hotline_media_timeouts_total").increment(1);
}

pub(crate) fn recording_failed() {
    counter!("hotline_media_recording_failures_total").increment(1);
}
