use super::*;
use crate::codec::Codec;
use crate::leg::{LegConfig, LegEvent};
use crate::prompt::{PlayItem, Playlist, Prompt};
use crate::sdp::{Direction, Negotiated};
use rtp_types::{RtpPacket, RtpPacketBuilder};
use std::time::SystemTime;

const PHONE_A: &str = "10.0.0.1:4000";
const PHONE_B: &str = "10.0.0.2:6000";

fn negotiated(remote: &str, codec: Codec, te: Option<u8>) -> Negotiated {
    Negotiated::static_g711(codec, remote.parse().unwrap(), te)
}

fn bridge(codec_a: Codec, codec_b: Codec, te_b: Option<u8>, now: Instant) -> Bridge {
    let mut a = Leg::new(
        LegConfig::default(),
        0xAAAA,
        100,
        1000,
        now,
        SystemTime::now(),
    );
    a.set_negotiated(negotiated(PHONE_A, codec_a, Some(101)), now);
    let mut b = Leg::new(
        LegConfig::default(),
        0xBBBB,
        20000,
        777_000,
        now,
        SystemTime::now(),
    );
    b.set_negotiated(negotiated(PHONE_B, codec_b, te_b), now);
    Bridge::new(a, b)
}

fn rtp(pt: u8, seq: u16, ts: u32, ssrc: u32, payload: &[u8], marker: bool) -> Vec<u8> {
    let mut v = RtpPacketBuilder::<&[u8], &[u8]>::new()
        .payload_type(pt)
        .sequence_number(seq)
        .timestamp(ts)
        .ssrc(ssrc)
        .marker_bit(marker)
        .payload(payload)
        .write_vec()
        .unwrap();
    v.resize(1500, 0);
    v
}

fn relay(
    b: &mut Bridge,
    side: Side,
    mut packet: Vec<u8>,
    len: usize,
    from: &str,
    now: Instant,
) -> Option<(Forward, Vec<u8>)> {
    match b.handle_rtp(side, &mut packet, len, from.parse().unwrap(), now) {
        Relayed::Forward(f) => Some((f, packet[..f.len].to_vec())),
        _ => None,
    }
}

#[test]
fn same_codec_relay_rewrites_ssrc_seq_and_timestamps_only() {
    let t0 = Instant::now();
    let mut br = bridge(Codec::Pcmu, Codec::Pcmu, Some(101), t0);
    let payload: Vec<u8> = (0..160).map(|i| i as u8).collect();
    let mut out = Vec::new();
    for i in 0..10u16 {
        let p = rtp(
            0,
            5000 + i,
            90_000 + i as u32 * 160,
            0x1234,
            &payload,
            false,
        );
        let (f, bytes) = relay(
            &mut br,
            Side::A,
            p,
            172,
            PHONE_A,
            t0 + Duration::from_millis(i as u64 * 20),
        )
        .unwrap();
        assert_eq!(f.side, Side::B);
        assert_eq!(f.to, PHONE_B.parse().unwrap());
        out.push(bytes);
    }
    let parsed: Vec<_> = out.iter().map(|b| RtpPacket::parse(b).unwrap()).collect();
    assert!(parsed
        .iter()
        .all(|p| p.ssrc() == 0xBBBB && p.payload() == payload.as_slice()));
    assert_eq!(parsed[0].sequence_number(), 20000);
    assert!(parsed[0].marker_bit());
    for w in parsed.windows(2) {
        assert_eq!(w[1].sequence_number(), w[0].sequence_number() + 1);
        assert_eq!(w[1].timestamp(), w[0].timestamp() + 160);
    }
    assert_eq!(br.relayed(Side::A), (10, 0));
}

#[test]
fn pcmu_to_pcma_is_transcoded_both_ways() {
    let t0 = Instant::now();
    let mut br = bridge(Codec::Pcmu, Codec::Pcma, Some(101), t0);
    let pcm: Vec<i16> = (0..160)
        .map(|i| ((i as f32 * 0.2).sin() * 8000.0) as i16)
        .collect();
    let mut ulaw = [0u8; 160];
    Codec::Pcmu.encode(&pcm, &mut ulaw);
    let (_, bytes) = relay(
        &mut br,
        Side::A,
        rtp(0, 1, 0, 1, &ulaw, false),
        172,
        PHONE_A,
        t0,
    )
    .unwrap();
    let p = RtpPacket::parse(&bytes).unwrap();
    assert_eq!(p.payload_type(), 8);
    let mut back = [0i16; 160];
    Codec::Pcma.decode(p.payload(), &mut back);
    for (x, y) in pcm.iter().zip(back.iter()) {
        assert!((*x as i32 - *y as i32).abs() <= (x.unsigned_abs() as i32 / 10).max(40));
    }
    let mut alaw = [0u8; 160];
    Codec::Pcma.encode(&pcm, &mut alaw);
    let (_, bytes) = relay(
        &mut br,
        Side::B,
        rtp(8, 1, 0, 2, &alaw, false),
        172,
        PHONE_B,
        t0,
    )
    .unwrap();
    assert_eq!(RtpPacket::parse(&bytes).unwrap().payload_type(), 0);
    assert_eq!(br.relayed(Side::A), (1, 1));
    assert_eq!(br.relayed(Side::B), (1, 1));
}

#[test]
fn telephone_events_pass_through_with_the_other_payload_type() {
    let t0 = Instant::now();
    let mut br = bridge(Codec::Pcmu, Codec::Pcmu, Some(96), t0);
    let mut ev = [0u8; 4];
    crate::dtmf::rfc4733::write_payload(crate::dtmf::Digit::D3, false, 10, 160, &mut ev);
    let (_, first) = relay(
        &mut br,
        Side::A,
        rtp(101, 10, 8000, 1, &ev, true),
        16,
        PHONE_A,
        t0,
    )
    .unwrap();
    crate::dtmf::rfc4733::write_payload(crate::dtmf::Digit::D3, true, 10, 800, &mut ev);
    let (_, end) = relay(
        &mut br,
        Side::A,
        rtp(101, 11, 8000, 1, &ev, false),
        16,
        PHONE_A,
        t0 + Duration::from_millis(20),
    )
    .unwrap();
    let (p1, p2) = (
        RtpPacket::parse(&first).unwrap(),
        RtpPacket::parse(&end).unwrap(),
    );
    assert_eq!((p1.payload_type(), p2.payload_type()), (96, 96));
    assert!(p1.marker_bit());
    assert_eq!(p1.timestamp(), p2.timestamp(), "one event, one timestamp");
    assert_eq!(p2.payload(), &ev);
    // The source leg still reports the digit to the engine.
    let digits = std::iter::from_fn(|| br.leg_mut(Side::A).poll_event())
        .filter(|e| matches!(e, LegEvent::Digit(_)))
        .count();
    assert_eq!(digits, 1);
}

#[test]
fn a_leg_without_telephone_event_gets_the_key_as_tones() {
    let t0 = Instant::now();
    let mut br = bridge(Codec::Pcmu, Codec::Pcmu, None, t0);
    let mut ev = [0u8; 4];
    crate::dtmf::rfc4733::write_payload(crate::dtmf::Digit::D3, false, 10, 160, &mut ev);
    let mut p = rtp(101, 10, 8000, 1, &ev, true);
    let from = PHONE_A.parse().unwrap();
    assert_eq!(
        br.handle_rtp(Side::A, &mut p, 16, from, t0),
        Relayed::Absorbed
    );
    assert!(
        !br.leg(Side::B).is_playing(),
        "not before the key press is over"
    );
    crate::dtmf::rfc4733::write_payload(crate::dtmf::Digit::D3, true, 10, 800, &mut ev);
    for seq in 11..14 {
        let mut p = rtp(101, seq, 8000, 1, &ev, false);
        assert_eq!(
            br.handle_rtp(Side::A, &mut p, 16, from, t0),
            Relayed::Absorbed
        );
    }
    // B plays the tones (once: the redundant end packets are not new keys).
    let mut detector = crate::dtmf::inband::InbandDetector::new();
    let mut found = Vec::new();
    let mut buf = [0u8; 1500];
    for i in 0..20 {
        while let Some(t) = br
            .leg_mut(Side::B)
            .poll_transmit(t0 + Duration::from_millis(i * 20), &mut buf)
        {
            if t.rtcp {
                continue;
            }
            let packet = RtpPacket::parse(&buf[..t.len]).unwrap();
            let mut pcm = [0i16; 160];
            Codec::Pcmu.decode(packet.payload(), &mut pcm);
            detector.process(&pcm, |u| {
                if let crate::dtmf::rfc4733::EventUpdate::Ended { digit, .. } = u {
                    found.push(digit);
                }
            });
        }
    }
    assert_eq!(found, vec![crate::dtmf::Digit::D3]);
}

#[test]
fn a_held_or_playing_leg_gets_no_relay_and_continuity_survives_a_prompt() {
    let t0 = Instant::now();
    let mut br = bridge(Codec::Pcmu, Codec::Pcmu, Some(101), t0);
    let (first, _) = relay(
        &mut br,
        Side::A,
        rtp(0, 1, 0, 1, &[0xFF; 160], false),
        172,
        PHONE_A,
        t0,
    )
    .unwrap();
    let _ = first;
    // B plays a 100 ms beep: relay towards B pauses, B's stream carries the beep.
    let beep = Prompt::from_pcm(vec![3000; 800]);
    br.leg_mut(Side::B).play(
        Playlist::once(vec![PlayItem::Prompt(beep)]),
        false,
        t0 + Duration::from_millis(20),
    );
    let mut p = rtp(0, 2, 160, 1, &[0xFF; 160], false);
    assert_eq!(
        br.handle_rtp(
            Side::A,
            &mut p,
            172,
            PHONE_A.parse().unwrap(),
            t0 + Duration::from_millis(20)
        ),
        Relayed::Absorbed
    );
    let mut buf = [0u8; 1500];
    let mut seqs = Vec::new();
    for i in 1..8 {
        let now = t0 + Duration::from_millis(i * 20);
        while let Some(t) = br.leg_mut(Side::B).poll_transmit(now, &mut buf) {
            if !t.rtcp {
                seqs.push(RtpPacket::parse(&buf[..t.len]).unwrap().sequence_number());
            }
        }
    }
    assert_eq!(seqs, vec![20001, 20002, 20003, 20004, 20005]);
    let (_, after) = relay(
        &mut br,
        Side::A,
        rtp(0, 9, 8 * 160, 1, &[0xFF; 160], false),
        172,
        PHONE_A,
        t0 + Duration::from_millis(160),
    )
    .unwrap();
    assert_eq!(RtpPacket::parse(&after).unwrap().sequence_number(), 20006);

    // A's phone holds Hotline (recvonly for us): nothing is relayed towards A.
    br.leg_mut(Side::A).set_negotiated(
        Negotiated {
            direction: Direction::RecvOnly,
            ..negotiated(PHONE_A, Codec::Pcmu, Some(101))
        },
        t0,
    );
    let mut p = rtp(0, 1, 0, 2, &[0xFF; 160], false);
    assert_eq!(
        br.handle_rtp(Side::B, &mut p, 172, PHONE_B.parse().unwrap(), t0),
        Relayed::Absorbed
    );
}

#[test]
fn a_leg_hotline_holds_hears_nothing_from_the_other() {
    let t0 = Instant::now();
    let mut br = bridge(Codec::Pcmu, Codec::Pcmu, Some(101), t0);
    br.leg_mut(Side::A).set_held(true);
    let mut p = rtp(0, 1, 0, 2, &[0xFF; 160], false);
    assert_eq!(
        br.handle_rtp(Side::B, &mut p, 172, PHONE_B.parse().unwrap(), t0),
        Relayed::Absorbed
    );
    br.leg_mut(Side::A).set_held(false);
    assert!(relay(
        &mut br,
        Side::B,
        rtp(0, 2, 160, 2, &[0xFF; 160], false),
        172,
        PHONE_B,
        t0
    )
    .is_some());
}

#[test]
fn garbage_is_refused_without_touching_the_other_leg() {
    let t0 = Instant::now();
    let mut br = bridge(Codec::Pcmu, Codec::Pcmu, Some(101), t0);
    let mut junk = vec![0x13u8; 1500];
    assert_eq!(
        br.handle_rtp(Side::A, &mut junk, 50, PHONE_A.parse().unwrap(), t0),
        Relayed::Refused(Refused::Malformed)
    );
    let mut stranger = rtp(0, 1, 0, 1, &[0xFF; 160], false);
    assert_eq!(
        br.handle_rtp(
            Side::A,
            &mut stranger,
            172,
            "10.6.6.6:1".parse().unwrap(),
            t0
        ),
        Relayed::Refused(Refused::WrongSource)
    );
    assert_eq!(br.leg(Side::B).quality().packets_out, 0);
    assert_eq!(br.leg(Side::A).quality().ignored, 2);
}

#[test]
fn recording_takes_both_directions_caller_left() {
    let t0 = Instant::now();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bridge.wav");
    let mut br = bridge(Codec::Pcmu, Codec::Pcma, Some(101), t0);
    br.start_recording(
        WavWriter::create(&path).unwrap(),
        Side::A,
        Duration::from_secs(1),
        t0,
    );
    let mut caller = [0u8; 160];
    Codec::Pcmu.encode(&[4000; 160], &mut caller);
    let mut agent = [0u8; 160];
    Codec::Pcma.encode(&[-4000; 160], &mut agent);
    for i in 0..100u16 {
        let now = t0 + Duration::from_millis(i as u64 * 20);
        relay(
            &mut br,
            Side::A,
            rtp(0, i, i as u32 * 160, 1, &caller, false),
            172,
            PHONE_A,
            now,
        )
        .unwrap();
        relay(
            &mut br,
            Side::B,
            rtp(8, i, 50_000 + i as u32 * 160, 2, &agent, false),
            172,
            PHONE_B,
            now,
        )
        .unwrap();
        br.tick_recording(now);
    }
    let summary = br
        .stop_recording(t0 + Duration::from_secs(2))
        .unwrap()
        .unwrap();
    assert_eq!(summary.duration_ms, 2000);
    let samples: Vec<i16> = hound::WavReader::open(&path)
        .unwrap()
        .into_samples()
        .map(|s| s.unwrap())
        .collect();
    let left: Vec<i16> = samples.iter().step_by(2).copied().collect();
    let right: Vec<i16> = samples.iter().skip(1).step_by(2).copied().collect();
    assert!(left[200..15_800].iter().all(|s| (*s - 4000).abs() < 200));
    assert!(right[200..15_800].iter().all(|s| (*s + 4000).abs() < 200));
}

/// A disk that fills up after `room` bytes.
struct Filling {
    room: usize,
    pos: u64,
}

impl std::io::Write for Filling {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if buf.len() > self.room {
            return Err(std::io::Error::new(
                std::io::ErrorKind::StorageFull,
                "disk full",
            ));
        }
        self.room -= buf.len();
        self.pos += buf.len() as u64;
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl std::io::Seek for Filling {
    fn seek(&mut self, _: std::io::SeekFrom) -> std::io::Result<u64> {
        Ok(self.pos)
    }
}

#[test]
fn a_full_disk_stops_the_recording_not_the_call() {
    let t0 = Instant::now();
    let mut br = bridge(Codec::Pcmu, Codec::Pcmu, Some(101), t0);
    let sink = Filling {
        room: 20_000,
        pos: 0,
    };
    br.start_recording(
        WavWriter::new(Box::new(sink)).unwrap(),
        Side::A,
        Duration::from_secs(1),
        t0,
    );
    let mut failed = None;
    for i in 0..250u16 {
        let now = t0 + Duration::from_millis(i as u64 * 20);
        let relayed = relay(
            &mut br,
            Side::A,
            rtp(0, i, i as u32 * 160, 1, &[0x55; 160], false),
            172,
            PHONE_A,
            now,
        );
        assert!(relayed.is_some(), "the call goes on at packet {i}");
        if let Some(e) = br.tick_recording(now) {
            failed = Some(e);
        }
    }
    let failed = failed.expect("the recorder reported the full disk");
    assert!(failed.to_string().contains("disk full"), "{failed}");
    assert!(!br.is_recording());
}
