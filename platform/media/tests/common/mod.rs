//! A test phone: a real UDP socket on loopback that writes SDP offers naming itself and sends
//! and receives RTP, so the engine is driven exactly as a SIP phone would drive it.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::time::Duration;

use hotline_media::codec::Codec;
use hotline_media::{MediaConfig, MediaEngine};
use rtp_types::{RtpPacket, RtpPacketBuilder};
use tokio::net::UdpSocket;

/// An engine on loopback. Each test takes its own block of ports in 30000-31999: below Linux's
/// ephemeral range (32768-60999), so the phones' sockets (bound to port 0) never take them, and
/// apart from one another, so the tests run in parallel.
pub fn engine(port_min: u16, port_max: u16) -> MediaEngine {
    MediaEngine::start(MediaConfig {
        bind_v4: Some("127.0.0.1".parse().unwrap()),
        port_min,
        port_max,
        media_timeout: Duration::from_secs(2),
        ..MediaConfig::default()
    })
    .unwrap()
}

pub struct Phone {
    pub socket: UdpSocket,
    pub ssrc: u32,
    pub seq: u16,
    pub ts: u32,
}

pub struct Received {
    pub pt: u8,
    pub seq: u16,
    pub ts: u32,
    pub ssrc: u32,
    pub marker: bool,
    pub payload: Vec<u8>,
    pub from: SocketAddr,
}

impl Phone {
    pub async fn new(ssrc: u32) -> Phone {
        Phone {
            socket: UdpSocket::bind("127.0.0.1:0").await.unwrap(),
            ssrc,
            seq: 1,
            ts: 0,
        }
    }

    pub fn port(&self) -> u16 {
        self.socket.local_addr().unwrap().port()
    }

    /// An offer as a phone writes it: the given formats (0 = PCMU, 8 = PCMA, 101 = events).
    pub fn offer(&self, formats: &str) -> Vec<u8> {
        let mut sdp = format!(
            "v=0\r\no=phone 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio {} RTP/AVP {formats}\r\n",
            self.port()
        );
        if formats.contains("101") {
            sdp.push_str("a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-16\r\n");
        }
        sdp.push_str("a=ptime:20\r\na=sendrecv\r\n");
        sdp.into_bytes()
    }

    pub fn packet(&mut self, pt: u8, payload: &[u8], marker: bool) -> Vec<u8> {
        let bytes = RtpPacketBuilder::<&[u8], &[u8]>::new()
            .payload_type(pt)
            .sequence_number(self.seq)
            .timestamp(self.ts)
            .ssrc(self.ssrc)
            .marker_bit(marker)
            .payload(payload)
            .write_vec()
            .unwrap();
        self.seq = self.seq.wrapping_add(1);
        bytes
    }

    pub async fn send_audio(&mut self, to: SocketAddr, codec: Codec, samples: &[i16]) {
        let mut payload = vec![0u8; samples.len()];
        codec.encode(samples, &mut payload);
        let p = self.packet(codec.static_payload_type(), &payload, false);
        self.ts = self.ts.wrapping_add(samples.len() as u32);
        self.socket.send_to(&p, to).await.unwrap();
    }

    pub async fn recv(&self, wait: Duration) -> Option<Received> {
        let mut buf = [0u8; 1500];
        loop {
            let (len, from) = tokio::time::timeout(wait, self.socket.recv_from(&mut buf))
                .await
                .ok()?
                .ok()?;
            // RTCP (payload types 200-204 in the second byte) is not what these tests read.
            if (200..=204).contains(&buf[1]) {
                continue;
            }
            let p = RtpPacket::parse(&buf[..len]).ok()?;
            return Some(Received {
                pt: p.payload_type(),
                seq: p.sequence_number(),
                ts: p.timestamp(),
                ssrc: p.ssrc(),
                marker: p.marker_bit(),
                payload: p.payload().to_vec(),
                from,
            });
        }
    }

    /// Reads until `n` RTP packets came or `patience` passed (a loaded CI machine may be slow;
    /// the count, not the time, is what the tests check).
    pub async fn collect_n(&self, n: usize, patience: Duration) -> Vec<Received> {
        let deadline = tokio::time::Instant::now() + patience;
        let mut out = Vec::with_capacity(n);
        while out.len() < n {
            let Some(left) = deadline.checked_duration_since(tokio::time::Instant::now()) else {
                break;
            };
            match self.recv(left).await {
                Some(r) => out.push(r),
                None => break,
            }
        }
        out
    }

    /// Reads for `wait`, keeping every RTP packet.
    pub async fn collect(&self, wait: Duration) -> Vec<Received> {
        let deadline = tokio::time::Instant::now() + wait;
        let mut out = Vec::new();
        while let Some(left) = deadline.checked_duration_since(tokio::time::Instant::now()) {
            match self.recv(left).await {
                Some(r) => out.push(r),
                None => break,
            }
        }
        out
    }
}

pub fn tone(freq: f32, amplitude: f32, start: usize, len: usize) -> Vec<i16> {
    (start..start + len)
        .map(|n| (amplitude * (2.0 * std::f32::consts::PI * freq * n as f32 / 8000.0).sin()) as i16)
        .collect()
}

/// Share of the signal's energy at `freq`.
pub fn tone_share(x: &[i16], freq: f64) -> f64 {
    let coeff = 2.0 * (std::f64::consts::TAU * freq / 8000.0).cos();
    let (mut s1, mut s2, mut total) = (0.0f64, 0.0f64, 0.0f64);
    for &v in x {
        let v = v as f64;
        total += v * v;
        let s0 = v + coeff * s1 - s2;
        s2 = s1;
        s1 = s0;
    }
    if total == 0.0 {
        return 0.0;
    }
    (s1 * s1 + s2 * s2 - coeff * s1 * s2) * 2.0 / x.len() as f64 / total
}

/// Waits until the engine has no port pair out (leg tasks end asynchronously after a drop).
pub async fn assert_ports_released(engine: &MediaEngine) {
    assert_ports_in_use(engine, 0).await;
}

/// Waits (up to 5 s) until exactly `n` port pairs are out, and fails if that never happens.
pub async fn assert_ports_in_use(engine: &MediaEngine, n: usize) {
    for _ in 0..500 {
        if engine.ports_in_use() == n {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("{} port pairs in use, expected {n}", engine.ports_in_use());
}

/// A caller and an agent phone, each answered by a leg of `engine`, the two legs bridged.
pub struct Call {
    pub caller: Phone,
    pub agent: Phone,
    /// Where each phone sends its RTP (Hotline's side of its leg).
    pub to_a: SocketAddr,
    pub to_b: SocketAddr,
    pub bridge: hotline_media::BridgeHandle,
}

pub async fn bridged_call(engine: &MediaEngine, caller_formats: &str, agent_formats: &str) -> Call {
    use hotline_media::LegOptions;
    let caller = Phone::new(0xCA11).await;
    let agent = Phone::new(0xA6E7).await;
    let (a, _) = engine
        .inbound_leg(&caller.offer(caller_formats), LegOptions::default())
        .await
        .unwrap();
    let (b, _) = engine
        .inbound_leg(&agent.offer(agent_formats), LegOptions::default())
        .await
        .unwrap();
    let (to_a, to_b) = (a.local_addr(), b.local_addr());
    let bridge = engine.bridge(a, b).await.unwrap();
    Call {
        caller,
        agent,
        to_a,
        to_b,
        bridge,
    }
}

impl Call {
    /// The caller sends a 1 kHz tone (PCMU) and the agent 500 Hz (PCMA), 20 ms at a time, for
    /// `packets` packets (`None`: until the task is killed).
    pub async fn talk(&mut self, packets: Option<usize>) {
        let mut tick = tokio::time::interval(Duration::from_millis(20));
        let mut i = 0;
        while packets.is_none_or(|n| i < n) {
            tick.tick().await;
            let (caller, agent) = (
                tone(1000.0, 8000.0, i * 160, 160),
                tone(500.0, 8000.0, i * 160, 160),
            );
            self.caller
                .send_audio(self.to_a, Codec::Pcmu, &caller)
                .await;
            self.agent.send_audio(self.to_b, Codec::Pcma, &agent).await;
            i += 1;
        }
    }
}

/// A stereo 8 kHz WAV as (left, right).
pub fn read_stereo(path: &std::path::Path) -> (Vec<i16>, Vec<i16>) {
    let reader = hound::WavReader::open(path).unwrap();
    assert_eq!(
        (reader.spec().channels, reader.spec().sample_rate),
        (2, 8000)
    );
    let samples: Vec<i16> = reader.into_samples().map(|s| s.unwrap()).collect();
    let left = samples.iter().step_by(2).copied().collect();
    let right = samples.iter().skip(1).step_by(2).copied().collect();
    (left, right)
}

/// The longest run of near-silent samples (|s| < 100): a tone has none longer than a few
/// samples, so a long run is audio the recorder lost.
pub fn longest_silence(x: &[i16]) -> usize {
    let (mut longest, mut run) = (0, 0);
    for s in x {
        if s.unsigned_abs() < 100 {
            run += 1;
            longest = longest.max(run);
        } else {
            run = 0;
        }
    }
    longest
}

/// The leg's quality once `ready` holds (or after 5 s): packets sent to it are counted by its
/// task, which a loaded machine may run a little later.
pub async fn quality_when(
    leg: &hotline_media::LegHandle,
    ready: impl Fn(&hotline_media::rtp::LegQuality) -> bool,
) -> hotline_media::rtp::LegQuality {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        let q = leg.quality().await.unwrap();
        if ready(&q) || tokio::time::Instant::now() >= deadline {
            return q;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}
