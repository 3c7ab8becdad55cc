//! Whatever the network or a tenant sends, nothing panics: a fixed-seed mutation loop over
//! valid RTP, RTCP, SDP offers and answers, RFC 4733 payloads, SIP INFO bodies, WAV and MP3
//! uploads and recording files to repair.

use std::net::SocketAddr;
use std::time::{Duration, Instant, SystemTime};

use hotline_media::bridge::{Bridge, Side};
use hotline_media::codec::Codec;
use hotline_media::dtmf::sip_info;
use hotline_media::leg::{Leg, LegConfig};
use hotline_media::prompt::{convert_upload, PromptLimits};
use hotline_media::record::repair;
use hotline_media::sdp::negotiation::LocalMedia;
use hotline_media::sdp::{Negotiated, SdpNegotiation};
use rtp_types::RtpPacketBuilder;

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    /// Flips, inserts, deletes and truncates, a few times.
    fn mutate(&mut self, input: &[u8]) -> Vec<u8> {
        let mut v = input.to_vec();
        for _ in 0..1 + self.below(4) {
            match self.below(5) {
                0 if !v.is_empty() => {
                    let i = self.below(v.len());
                    v[i] ^= 1 << self.below(8);
                }
                1 if !v.is_empty() => {
                    let i = self.below(v.len());
                    v[i] = self.next() as u8;
                }
                2 => {
                    let i = self.below(v.len() + 1);
                    v.insert(i, self.next() as u8);
                }
                3 if !v.is_empty() => {
                    let i = self.below(v.len());
                    v.remove(i);
                }
                _ => {
                    let n = self.below(v.len() + 1);
                    v.truncate(n);
                }
            }
        }
        v
    }
}

const ROUNDS: usize = 3000;

#[test]
fn mutated_packets_into_a_bridge() {
    let t0 = Instant::now();
    let phone: SocketAddr = "10.0.0.1:4000".parse().unwrap();
    let mut a = Leg::new(
        LegConfig {
            inband_dtmf: true,
            ..LegConfig::default()
        },
        1,
        0,
        0,
        t0,
        SystemTime::now(),
    );
    a.set_negotiated(Negotiated::static_g711(Codec::Pcmu, phone, Some(101)), t0);
    let mut b = Leg::new(LegConfig::default(), 2, 0, 0, t0, SystemTime::now());
    b.set_negotiated(
        Negotiated::static_g711(Codec::Pcma, "10.0.0.2:4000".parse().unwrap(), Some(96)),
        t0,
    );
    let mut bridge = Bridge::new(a, b);
    let audio = RtpPacketBuilder::<&[u8], &[u8]>::new()
        .payload_type(0)
        .ssrc(7)
        .payload(&[0x55u8; 160][..])
        .write_vec()
        .unwrap();
    let event = RtpPacketBuilder::<&[u8], &[u8]>::new()
        .payload_type(101)
        .ssrc(7)
        .payload(&[5u8, 0x8A, 3, 32][..])
        .write_vec()
        .unwrap();
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut buf = [0u8; 1500];
    let mut out = [0u8; 1500];
    for round in 0..ROUNDS {
        let now = t0 + Duration::from_millis(round as u64 * 7);
        let seed = if round % 3 == 0 { &event } else { &audio };
        let packet = rng.mutate(seed);
        let len = packet.len().min(buf.len());
        buf[..len].copy_from_slice(&packet[..len]);
        let _ = bridge.handle_rtp(Side::A, &mut buf, len, phone, now);
        let _ = bridge
            .leg_mut(Side::B)
            .handle_rtcp(&packet, "10.0.0.2:4001".parse().unwrap(), now);
        bridge.handle_timeout(now);
        while bridge
            .leg_mut(Side::A)
            .poll_transmit(now, &mut out)
            .is_some()
        {}
        while bridge.leg_mut(Side::A).poll_event().is_some() {}
    }
    assert!(bridge.leg(Side::A).quality().ignored > 0);
}

#[test]
fn mutated_sdp_offers_and_answers() {
    let offer = b"v=0\r\no=- 1 1 IN IP4 203.0.113.5\r\ns=-\r\nc=IN IP4 203.0.113.5\r\nt=0 0\r\nm=audio 13472 RTP/AVP 8 0 101\r\na=rtpmap:8 PCMA/8000\r\na=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-16\r\na=ptime:20\r\na=rtcp:13473 IN IP4 203.0.113.5\r\na=sendrecv\r\nm=video 0 RTP/AVP 96\r\n";
    let local = LocalMedia {
        address: "192.0.2.1".parse().unwrap(),
        rtp_port: 20000,
        codecs: vec![Codec::Pcmu, Codec::Pcma],
        ptime_ms: 20,
    };
    let mut rng = Rng(42);
    let mut accepted = 0;
    for _ in 0..ROUNDS {
        let body = rng.mutate(offer);
        let mut n = SdpNegotiation::new(local.clone(), 1);
        accepted += usize::from(n.answer(&body).is_ok());
        n.create_offer();
        let _ = n.accept_answer(&body);
    }
    assert!(accepted > 0, "some mutations are still good offers");
}

#[test]
fn mutated_uploads_and_info_bodies() {
    let limits = PromptLimits {
        max_bytes: 1 << 20,
        max_duration: Duration::from_secs(5),
    };
    let mut wav = std::io::Cursor::new(Vec::new());
    {
        let spec = hound::WavSpec {
            channels: 2,
            sample_rate: 22050,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        };
        let mut w = hound::WavWriter::new(&mut wav, spec).unwrap();
        for n in 0..2000 {
            w.write_sample((n * 37 % 2000) as i16).unwrap();
        }
        w.finalize().unwrap();
    }
    let wav = wav.into_inner();
    let mp3: &[u8] = include_bytes!("data/tone-440hz-44k1.mp3");
    let mut rng = Rng(7);
    // Conversions resample (slow in a debug build): fewer rounds.
    for round in 0..100 {
        let seed = if round % 2 == 0 { &wav[..] } else { mp3 };
        let _ = convert_upload(&rng.mutate(seed), &limits);
    }
    for _ in 0..ROUNDS {
        let body = rng.mutate(b"Signal=5\r\nDuration=160\r\n");
        let _ = sip_info::parse("application/dtmf-relay", &body);
        let _ = sip_info::parse("application/dtmf", &body);
    }
}

#[test]
fn mutated_recordings_to_repair() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("r.wav");
    let mut good = vec![0u8; 44 + 4000];
    good[..4].copy_from_slice(b"RIFF");
    good[8..16].copy_from_slice(b"WAVEfmt ");
    good[20..22].copy_from_slice(&1u16.to_le_bytes());
    good[22..24].copy_from_slice(&2u16.to_le_bytes());
    good[32..34].copy_from_slice(&4u16.to_le_bytes());
    good[36..40].copy_from_slice(b"data");
    let mut rng = Rng(11);
    for _ in 0..300 {
        std::fs::write(&path, rng.mutate(&good)).unwrap();
        if let Ok(report) = repair(&path) {
            let len = std::fs::metadata(&path).unwrap().len();
            assert_eq!(len, 44 + report.data_bytes);
        }
    }
}
