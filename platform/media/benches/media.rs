//! Per-packet and per-operation costs of the media core, without sockets:
//! `cargo bench -p hotline-media --bench media`.

use std::hint::black_box;
use std::io::{Seek, SeekFrom, Write};
use std::net::SocketAddr;
use std::time::{Duration, Instant, SystemTime};

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use hotline_media::bridge::{Bridge, Relayed, Side};
use hotline_media::codec::Codec;
use hotline_media::dtmf::inband::InbandDetector;
use hotline_media::leg::{Leg, LegConfig};
use hotline_media::prompt::resample::resample;
use hotline_media::prompt::{PlayItem, Playlist, Prompt};
use hotline_media::record::WavWriter;
use hotline_media::sdp::negotiation::LocalMedia;
use hotline_media::sdp::{Negotiated, SdpNegotiation};
use rtp_types::RtpPacketBuilder;

/// Discards what it is given (the recorder's cost without the disk's).
struct Null(u64);
impl Write for Null {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0 += buf.len() as u64;
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
impl Seek for Null {
    fn seek(&mut self, _: SeekFrom) -> std::io::Result<u64> {
        Ok(self.0)
    }
}

fn negotiated(remote: &str, codec: Codec) -> Negotiated {
    Negotiated::static_g711(codec, remote.parse().unwrap(), Some(101))
}

fn bridge(codec_b: Codec, now: Instant) -> Bridge {
    let mut a = Leg::new(LegConfig::default(), 1, 0, 0, now, SystemTime::now());
    a.set_negotiated(negotiated("10.0.0.1:4000", Codec::Pcmu), now);
    let mut b = Leg::new(LegConfig::default(), 2, 0, 0, now, SystemTime::now());
    b.set_negotiated(negotiated("10.0.0.2:4000", codec_b), now);
    Bridge::new(a, b)
}

fn relay_bench(c: &mut Criterion, name: &str, codec_b: Codec, record: bool) {
    let t0 = Instant::now();
    let mut br = bridge(codec_b, t0);
    if record {
        br.start_recording(
            WavWriter::new(Box::new(Null(0))).unwrap(),
            Side::A,
            Duration::from_secs(1),
            t0,
        );
    }
    let from: SocketAddr = "10.0.0.1:4000".parse().unwrap();
    let template = RtpPacketBuilder::<&[u8], &[u8]>::new()
        .payload_type(0)
        .ssrc(0x1234)
        .payload(&[0x55u8; 160][..])
        .write_vec()
        .unwrap();
    let mut buf = [0u8; 1500];
    let mut seq = 0u16;
    c.bench_function(name, |b| {
        b.iter(|| {
            buf[..template.len()].copy_from_slice(&template);
            seq = seq.wrapping_add(1);
            buf[2..4].copy_from_slice(&seq.to_be_bytes());
            let ts = seq as u32 * 160;
            buf[4..8].copy_from_slice(&ts.to_be_bytes());
            // A packet every 20 ms of media time, as the phone sends them.
            let now = t0 + Duration::from_millis(seq as u64 * 20);
            let r = br.handle_rtp(Side::A, &mut buf, template.len(), from, now);
            if record && seq.is_multiple_of(50) {
                br.tick_recording(now);
            }
            assert!(matches!(r, Relayed::Forward(_)));
            black_box(r)
        })
    });
}

fn relay(c: &mut Criterion) {
    relay_bench(c, "relay/same_codec", Codec::Pcmu, false);
    relay_bench(c, "relay/pcmu_to_pcma", Codec::Pcma, false);
    relay_bench(c, "relay/same_codec_recorded", Codec::Pcmu, true);
}

fn codecs(c: &mut Criterion) {
    let pcm: Vec<i16> = (0..160).map(|i| (i * 97 % 20000) as i16 - 10000).collect();
    let mut bytes = [0u8; 160];
    let mut out = [0i16; 160];
    let mut g = c.benchmark_group("g711");
    g.throughput(Throughput::Elements(160));
    g.bench_function("encode_ulaw_160", |b| {
        b.iter(|| Codec::Pcmu.encode(black_box(&pcm), &mut bytes))
    });
    g.bench_function("decode_alaw_160", |b| {
        b.iter(|| Codec::Pcma.decode(black_box(&bytes), &mut out))
    });
    g.finish();
}

fn dtmf(c: &mut Criterion) {
    let mut detector = InbandDetector::new();
    let pcm: Vec<i16> = (0..160)
        .map(|i| ((i as f32 * 0.7).sin() * 3000.0) as i16)
        .collect();
    c.bench_function("inband_dtmf/160_samples", |b| {
        b.iter(|| detector.process(black_box(&pcm), |_| {}))
    });
}

fn prompt_frame(c: &mut Criterion) {
    let t0 = Instant::now();
    let mut leg = Leg::new(LegConfig::default(), 1, 0, 0, t0, SystemTime::now());
    leg.set_negotiated(negotiated("10.0.0.1:4000", Codec::Pcma), t0);
    leg.play(
        Playlist::looping(vec![PlayItem::Prompt(Prompt::from_pcm(vec![1000; 80_000]))]),
        false,
        t0,
    );
    let mut buf = [0u8; 1500];
    let mut i = 0u64;
    c.bench_function("prompt/frame_20ms", |b| {
        b.iter(|| {
            i += 1;
            black_box(leg.poll_transmit(t0 + Duration::from_millis(i * 20), &mut buf))
        })
    });
}

fn sdp(c: &mut Criterion) {
    let offer = b"v=0\r\no=- 1 1 IN IP4 203.0.113.5\r\ns=-\r\nc=IN IP4 203.0.113.5\r\nt=0 0\r\nm=audio 13472 RTP/AVP 8 0 101\r\na=rtpmap:8 PCMA/8000\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-16\r\na=ptime:20\r\na=sendrecv\r\n";
    let local = LocalMedia {
        address: "192.0.2.1".parse().unwrap(),
        rtp_port: 20000,
        codecs: vec![Codec::Pcmu, Codec::Pcma],
        ptime_ms: 20,
    };
    c.bench_function("sdp/answer", |b| {
        b.iter(|| {
            SdpNegotiation::new(local.clone(), 1)
                .answer(black_box(offer))
                .unwrap()
        })
    });
}

fn resampling(c: &mut Criterion) {
    let second: Vec<f32> = (0..44_100)
        .map(|n| (n as f32 * 0.0625).sin() * 0.5)
        .collect();
    let mut g = c.benchmark_group("resample");
    g.sample_size(10);
    g.bench_function("44k1_to_8k_one_second", |b| {
        b.iter(|| resample(black_box(&second), 44_100, 8000))
    });
    g.finish();
}

criterion_group!(benches, relay, codecs, dtmf, prompt_frame, sdp, resampling);
criterion_main!(benches);
