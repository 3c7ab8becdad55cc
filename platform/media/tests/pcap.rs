//! SIPp's RTP captures replayed into the sans-IO core at their recorded pace: the A-law
//! speech of `g711a.pcap` decodes to audio with no loss, and each `dtmf_2833_N.pcap` gives
//! exactly the digit N. A small pcap reader (classic format, Ethernet/IPv4/UDP) is enough.

use std::net::SocketAddr;
use std::path::Path;
use std::time::{Duration, Instant, SystemTime};

use hotline_media::codec::Codec;
use hotline_media::dtmf::{Digit, DigitSource};
use hotline_media::leg::{Accepted, Leg, LegConfig, LegEvent};
use hotline_media::sdp::Negotiated;

const PCAPS: &str = "/usr/share/sip-tester";

/// (seconds since the first packet, UDP payload)
fn udp_payloads(path: &Path) -> Vec<(f64, Vec<u8>)> {
    let data = std::fs::read(path).unwrap();
    let magic = u32::from_le_bytes(data[0..4].try_into().unwrap());
    let (little, nanos) = match magic {
        0xa1b2c3d4 => (true, false),
        0xa1b23c4d => (true, true),
        0xd4c3b2a1 => (false, false),
        0x4d3cb2a1 => (false, true),
        other => panic!("not a pcap file: magic {other:#x}"),
    };
    let word = |b: &[u8]| {
        let a: [u8; 4] = b.try_into().unwrap();
        if little {
            u32::from_le_bytes(a)
        } else {
            u32::from_be_bytes(a)
        }
    };
    assert_eq!(word(&data[20..24]), 1, "Ethernet captures only");
    let mut out = Vec::new();
    let mut at = 24;
    let mut first = None;
    while at + 16 <= data.len() {
        let secs = word(&data[at..at + 4]) as f64;
        let frac = word(&data[at + 4..at + 8]) as f64 / if nanos { 1e9 } else { 1e6 };
        let len = word(&data[at + 8..at + 12]) as usize;
        let frame = &data[at + 16..(at + 16 + len).min(data.len())];
        at += 16 + len;
        // Ethernet (14) -> IPv4 (IHL * 4) -> UDP (8).
        if frame.len() < 14 + 20 + 8 || frame[12..14] != [0x08, 0x00] || frame[23] != 17 {
            continue;
        }
        let ihl = (frame[14] & 0x0F) as usize * 4;
        let udp = &frame[14 + ihl..];
        let udp_len = u16::from_be_bytes([udp[4], udp[5]]) as usize;
        let payload = &udp[8..udp_len.min(udp.len())];
        let t = secs + frac;
        let t0 = *first.get_or_insert(t);
        out.push((t - t0, payload.to_vec()));
    }
    out
}

fn leg(codec: Codec, from: SocketAddr, now: Instant) -> Leg {
    let mut leg = Leg::new(LegConfig::default(), 7, 0, 0, now, SystemTime::now());
    leg.set_negotiated(Negotiated::static_g711(codec, from, Some(101)), now);
    leg
}

fn available(name: &str) -> Option<std::path::PathBuf> {
    let path = Path::new(PCAPS).join(name);
    if path.exists() {
        Some(path)
    } else {
        eprintln!(
            "skipped: {} is not installed (apt-get install sip-tester)",
            path.display()
        );
        None
    }
}

#[test]
fn g711a_capture_decodes_without_loss() {
    let Some(path) = available("g711a.pcap") else {
        return;
    };
    let packets = udp_payloads(&path);
    assert!(packets.len() > 100, "{} packets", packets.len());
    let t0 = Instant::now();
    let from: SocketAddr = "192.168.0.3:10000".parse().unwrap();
    let mut leg = leg(Codec::Pcma, from, t0);
    let mut audio = Vec::new();
    for (t, payload) in &packets {
        let now = t0 + Duration::from_secs_f64(*t);
        match leg.handle_rtp(payload, from, now) {
            Ok(Accepted::Audio {
                codec,
                payload_offset,
                payload_len,
                ..
            }) => {
                let mut pcm = vec![0i16; payload_len];
                codec.decode(
                    &payload[payload_offset..payload_offset + payload_len],
                    &mut pcm,
                );
                audio.extend(pcm);
            }
            other => panic!("packet refused: {other:?}"),
        }
    }
    let q = leg.quality();
    assert_eq!(q.packets_in as usize, packets.len());
    assert_eq!(q.lost, 0);
    assert_eq!(q.ignored, 0);
    assert!(q.jitter_ms < 20.0, "jitter {} ms", q.jitter_ms);
    // 30 ms packets (240 bytes): the decoded audio lasts as long as the capture.
    let seconds = audio.len() as f64 / 8000.0;
    let span = packets.last().unwrap().0 + 0.03;
    assert!(
        (seconds - span).abs() < 0.1,
        "{seconds} s of audio over {span} s"
    );
    // It is sound, not silence: RMS well above the A-law idle level.
    let rms = (audio.iter().map(|s| (*s as f64).powi(2)).sum::<f64>() / audio.len() as f64).sqrt();
    assert!(rms > 300.0, "rms {rms}");
}

#[test]
fn each_dtmf_capture_gives_its_digit() {
    for n in 0..=9u8 {
        let Some(path) = available(&format!("dtmf_2833_{n}.pcap")) else {
            return;
        };
        let packets = udp_payloads(&path);
        let t0 = Instant::now();
        let from: SocketAddr = "192.168.0.3:10000".parse().unwrap();
        let mut leg = leg(Codec::Pcmu, from, t0);
        let mut last = t0;
        for (t, payload) in &packets {
            last = t0 + Duration::from_secs_f64(*t);
            let accepted = leg.handle_rtp(payload, from, last);
            assert!(
                matches!(accepted, Ok(Accepted::TelephoneEvent { .. })),
                "{accepted:?}"
            );
        }
        leg.handle_timeout(last + Duration::from_secs(1));
        let digits: Vec<_> = std::iter::from_fn(|| leg.poll_event())
            .filter_map(|e| match e {
                LegEvent::Digit(d) => Some(d),
                _ => None,
            })
            .collect();
        assert_eq!(digits.len(), 1, "dtmf_2833_{n}: {digits:?}");
        assert_eq!(digits[0].digit, Digit::from_event_code(n).unwrap());
        assert_eq!(digits[0].source, DigitSource::Rfc4733);
        assert!(digits[0].duration_ms > 0);
    }
}
