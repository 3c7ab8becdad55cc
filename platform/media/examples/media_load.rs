//! Load tool for the media relay: N bridged calls on loopback, 50 packets per second each way
//! (G.711, 20 ms), for a fixed time; prints the relay's share of a core per call, loss, added
//! delay and jitter, and resident memory per call.
//!
//! ```sh
//! cargo run --release -p hotline-media --example media_load -- --mode engine --calls 2000
//! ```
//!
//! Modes (the relay side; the generator is the same for all):
//! - `bare`: a plain UDP relay, one tokio task per call, no RTP parsing: the ceiling.
//! - `sharded`: a plain UDP relay on a mio reactor per core, each owning many calls' sockets.
//! - `engine`: Hotline's `MediaEngine`, two legs bridged per call (parse, latch, stats,
//!   SSRC/seq/ts rewrite, RTCP, timers).
//! - `engine-record`: the same with a stereo WAV recording per call.
//!
//! The relay and the generator run on separate thread pools (`relay-*` and `gen-*`); the CPU
//! figures count the relay's threads only, from /proc/self/task.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use hotline_media::bridge::Side;
use hotline_media::{LegOptions, MediaConfig, MediaEngine, RecordingTarget};
use tokio::net::UdpSocket;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Mode {
    Bare,
    Sharded,
    Engine,
    EngineRecord,
}

struct Args {
    mode: Mode,
    calls: usize,
    seconds: u64,
    relay_threads: usize,
}

fn args() -> Args {
    let mut a = Args {
        mode: Mode::Engine,
        calls: 500,
        seconds: 20,
        relay_threads: 2,
    };
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let mut i = 0;
    while i < argv.len() {
        let value = argv.get(i + 1).cloned().unwrap_or_default();
        match argv[i].as_str() {
            "--mode" => {
                a.mode = match value.as_str() {
                    "bare" => Mode::Bare,
                    "sharded" => Mode::Sharded,
                    "engine" => Mode::Engine,
                    "engine-record" => Mode::EngineRecord,
                    other => panic!("unknown mode {other}"),
                }
            }
            "--calls" => a.calls = value.parse().expect("--calls N"),
            "--seconds" => a.seconds = value.parse().expect("--seconds N"),
            "--relay-threads" => a.relay_threads = value.parse().expect("--relay-threads N"),
            other => panic!("unknown argument {other}"),
        }
        i += 2;
    }
    a
}

/// utime + stime of this process's threads whose name starts with `prefix`, in seconds.
fn cpu_seconds(prefix: &str) -> f64 {
    let mut ticks = 0u64;
    if let Ok(tasks) = std::fs::read_dir("/proc/self/task") {
        for task in tasks.flatten() {
            let comm = std::fs::read_to_string(task.path().join("comm")).unwrap_or_default();
            if !comm.trim().starts_with(prefix) {
                continue;
            }
            let stat = std::fs::read_to_string(task.path().join("stat")).unwrap_or_default();
            // Fields after the parenthesised name: state is field 3; utime 14, stime 15.
            if let Some(rest) = stat.rsplit_once(')').map(|(_, r)| r) {
                let fields: Vec<&str> = rest.split_whitespace().collect();
                ticks += fields
                    .get(11)
                    .and_then(|v| v.parse::<u64>().ok())
                    .unwrap_or(0);
                ticks += fields
                    .get(12)
                    .and_then(|v| v.parse::<u64>().ok())
                    .unwrap_or(0);
            }
        }
    }
    ticks as f64 / 100.0
}

fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// What one phone saw.
#[derive(Default, Clone)]
struct PhoneStats {
    received: u64,
    delay_sum_us: f64,
    delays_us: Vec<u32>,
    jitter_us: f64,
    last_transit: Option<f64>,
}

impl PhoneStats {
    fn on_receive(&mut self, sent_ns: u64, now_ns: u64) {
        self.received += 1;
        let transit = (now_ns.saturating_sub(sent_ns)) as f64 / 1000.0;
        self.delay_sum_us += transit;
        if self.delays_us.len() < 100_000 {
            self.delays_us.push(transit as u32);
        }
        if let Some(last) = self.last_transit {
            self.jitter_us += ((transit - last).abs() - self.jitter_us) / 16.0;
        }
        self.last_transit = Some(transit);
    }
}

fn packet(seq: u16, ssrc: u32, sent_ns: u64) -> [u8; 172] {
    let mut p = [0xFFu8; 172];
    p[0] = 0x80;
    p[1] = 0; // PCMU
    p[2..4].copy_from_slice(&seq.to_be_bytes());
    p[4..8].copy_from_slice(&(seq as u32 * 160).to_be_bytes());
    p[8..12].copy_from_slice(&ssrc.to_be_bytes());
    p[12..20].copy_from_slice(&sent_ns.to_be_bytes());
    p
}

fn offer(port: u16) -> Vec<u8> {
    format!(
        "v=0\r\no=load 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio {port} RTP/AVP 0 101\r\na=rtpmap:101 telephone-event/8000\r\na=ptime:20\r\na=sendrecv\r\n"
    )
    .into_bytes()
}

/// One call's two phones, receiving side: what came back through the relay.
async fn receive_call(
    caller: Arc<UdpSocket>,
    agent: Arc<UdpSocket>,
    start: Instant,
    running: Arc<AtomicBool>,
) -> (PhoneStats, PhoneStats) {
    let (mut sa, mut sb) = (PhoneStats::default(), PhoneStats::default());
    let (mut ba, mut bb) = ([0u8; 1500], [0u8; 1500]);
    let ns = |s: Instant| s.elapsed().as_nanos() as u64;
    let mut check = tokio::time::interval(Duration::from_millis(100));
    let mut stop_at = None;
    loop {
        tokio::select! {
            r = caller.recv_from(&mut ba) => {
                if let Ok((len, _)) = r {
                    if len >= 20 && ba[1] & 0x7F < 100 {
                        let sent = u64::from_be_bytes(ba[12..20].try_into().unwrap_or([0; 8]));
                        sb.on_receive(sent, ns(start)); // the agent's packet reached the caller
                    }
                }
            }
            r = agent.recv_from(&mut bb) => {
                if let Ok((len, _)) = r {
                    if len >= 20 && bb[1] & 0x7F < 100 {
                        let sent = u64::from_be_bytes(bb[12..20].try_into().unwrap_or([0; 8]));
                        sa.on_receive(sent, ns(start));
                    }
                }
            }
            _ = check.tick() => {
                // After the senders stop, give in-flight packets 300 ms.
                if !running.load(Ordering::Relaxed) {
                    let at = *stop_at.get_or_insert_with(Instant::now);
                    if at.elapsed() > Duration::from_millis(300) {
                        break;
                    }
                }
            }
        }
    }
    (sa, sb)
}

/// Sends 50 pps each way for every call it owns, spread evenly over each 20 ms.
async fn send_calls(
    calls: Vec<(Arc<UdpSocket>, Arc<UdpSocket>, SocketAddr, SocketAddr)>,
    start: Instant,
    running: Arc<AtomicBool>,
) -> (u64, u64) {
    let mut tick = tokio::time::interval(Duration::from_millis(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let (mut sent_a, mut sent_b) = (0u64, 0u64);
    let mut slot = 0usize;
    let mut seq = vec![0u16; calls.len()];
    while running.load(Ordering::Relaxed) {
        tick.tick().await;
        let now = start.elapsed().as_nanos() as u64;
        for (i, (a, b, ta, tb)) in calls.iter().enumerate() {
            if i % 20 != slot {
                continue;
            }
            seq[i] = seq[i].wrapping_add(1);
            if a.try_send_to(&packet(seq[i], 0xA, now), *ta).is_ok() {
                sent_a += 1;
            }
            if b.try_send_to(&packet(seq[i], 0xB, now), *tb).is_ok() {
                sent_b += 1;
            }
        }
        slot = (slot + 1) % 20;
    }
    (sent_a, sent_b)
}

/// Bare relay, task per call.
async fn bare_pair(ra: UdpSocket, rb: UdpSocket, phone_a: SocketAddr, phone_b: SocketAddr) {
    let (mut ba, mut bb) = ([0u8; 1500], [0u8; 1500]);
    loop {
        tokio::select! {
            r = ra.recv_from(&mut ba) => if let Ok((len, _)) = r { let _ = rb.try_send_to(&ba[..len], phone_b); },
            r = rb.recv_from(&mut bb) => if let Ok((len, _)) = r { let _ = ra.try_send_to(&bb[..len], phone_a); },
        }
    }
}

/// Bare relay, a mio reactor per thread owning many calls.
fn sharded_reactor(
    pairs: Vec<(
        std::net::UdpSocket,
        std::net::UdpSocket,
        SocketAddr,
        SocketAddr,
    )>,
    running: Arc<AtomicBool>,
) {
    use mio::net::UdpSocket as MioSocket;
    use mio::{Events, Interest, Poll, Token};
    let mut poll = Poll::new().expect("poll");
    let mut sockets: Vec<(MioSocket, usize, SocketAddr)> = Vec::with_capacity(pairs.len() * 2);
    for (a, b, pa, pb) in pairs {
        let i = sockets.len();
        // Socket i relays to i+1's peer and back.
        sockets.push((MioSocket::from_std(a), i + 1, pb));
        sockets.push((MioSocket::from_std(b), i, pa));
    }
    for (i, (s, _, _)) in sockets.iter_mut().enumerate() {
        poll.registry()
            .register(s, Token(i), Interest::READABLE)
            .expect("register");
    }
    let mut events = Events::with_capacity(1024);
    let mut buf = [0u8; 1500];
    while running.load(Ordering::Relaxed) {
        if poll
            .poll(&mut events, Some(Duration::from_millis(100)))
            .is_err()
        {
            continue;
        }
        for event in events.iter() {
            let i = event.token().0;
            while let Ok((len, _)) = sockets[i].0.recv_from(&mut buf) {
                let (other, to) = (sockets[i].1, sockets[i].2);
                let _ = sockets[other].0.send_to(&buf[..len], to);
            }
        }
    }
}

fn main() {
    let args = args();
    let relay = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(args.relay_threads)
        .thread_name("relay-worker")
        .enable_all()
        .build()
        .expect("relay runtime");
    let generator = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("gen-worker")
        .enable_all()
        .build()
        .expect("generator runtime");
    let running = Arc::new(AtomicBool::new(true));
    let record_dir = tempfile_dir();

    // The phones first, so the memory measured after them is the relay's.
    let phones: Vec<(Arc<UdpSocket>, Arc<UdpSocket>)> = generator.block_on(async {
        let mut v = Vec::with_capacity(args.calls);
        for _ in 0..args.calls {
            v.push((
                Arc::new(UdpSocket::bind("127.0.0.1:0").await.expect("phone")),
                Arc::new(UdpSocket::bind("127.0.0.1:0").await.expect("phone")),
            ));
        }
        v
    });
    let rss_before = rss_kib();

    let engine = (matches!(args.mode, Mode::Engine | Mode::EngineRecord)).then(|| {
        relay.block_on(async {
            MediaEngine::start(MediaConfig {
                bind_v4: Some("127.0.0.1".parse().unwrap()),
                port_min: 20_000,
                port_max: 20_000 + (args.calls as u16) * 4 + 100,
                media_timeout: Duration::from_secs(60),
                ..MediaConfig::default()
            })
            .expect("engine")
        })
    });
    let mut bridges = Vec::new();
    let mut targets = Vec::with_capacity(args.calls);
    let mut shard_pairs: HashMap<usize, Vec<_>> = HashMap::new();
    for (i, (pa, pb)) in phones.iter().enumerate() {
        let (addr_a, addr_b) = (pa.local_addr().unwrap(), pb.local_addr().unwrap());
        match args.mode {
            Mode::Bare => {
                let (ra, rb) = relay.block_on(async {
                    (
                        UdpSocket::bind("127.0.0.1:0").await.unwrap(),
                        UdpSocket::bind("127.0.0.1:0").await.unwrap(),
                    )
                });
                targets.push((ra.local_addr().unwrap(), rb.local_addr().unwrap()));
                relay.spawn(bare_pair(ra, rb, addr_a, addr_b));
            }
            Mode::Sharded => {
                let ra = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
                let rb = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
                ra.set_nonblocking(true).unwrap();
                rb.set_nonblocking(true).unwrap();
                targets.push((ra.local_addr().unwrap(), rb.local_addr().unwrap()));
                shard_pairs
                    .entry(i % args.relay_threads)
                    .or_default()
                    .push((ra, rb, addr_a, addr_b));
            }
            Mode::Engine | Mode::EngineRecord => {
                let engine = engine.clone().expect("engine");
                let record = (args.mode == Mode::EngineRecord)
                    .then(|| record_dir.join(format!("call-{i}.wav")));
                let (bridge, ta, tb) = relay.block_on(async move {
                    let (a, _) = engine
                        .inbound_leg(&offer(addr_a.port()), LegOptions::default())
                        .await
                        .expect("leg a");
                    let (b, _) = engine
                        .inbound_leg(&offer(addr_b.port()), LegOptions::default())
                        .await
                        .expect("leg b");
                    let (ta, tb) = (a.local_addr(), b.local_addr());
                    let bridge = engine.bridge(a, b).await.expect("bridge");
                    if let Some(path) = record {
                        bridge
                            .start_recording(RecordingTarget::Path(path), Side::A)
                            .await
                            .expect("record");
                    }
                    (bridge, ta, tb)
                });
                targets.push((ta, tb));
                bridges.push(bridge);
            }
        }
    }
    let mut shard_threads = Vec::new();
    for (n, pairs) in shard_pairs {
        let running = running.clone();
        shard_threads.push(
            std::thread::Builder::new()
                .name(format!("relay-shard-{n}"))
                .spawn(move || sharded_reactor(pairs, running))
                .unwrap(),
        );
    }
    std::thread::sleep(Duration::from_millis(300));
    let rss_after = rss_kib();

    let start = Instant::now();
    let calls: Vec<_> = phones
        .iter()
        .map(|(pa, pb)| {
            generator.spawn(receive_call(pa.clone(), pb.clone(), start, running.clone()))
        })
        .collect();
    let mut senders = Vec::new();
    let mut groups: Vec<Vec<_>> = vec![Vec::new(), Vec::new()];
    for (i, ((pa, pb), (ta, tb))) in phones.iter().zip(&targets).enumerate() {
        groups[i % 2].push((pa.clone(), pb.clone(), *ta, *tb));
    }
    for group in groups {
        senders.push(generator.spawn(send_calls(group, start, running.clone())));
    }

    // Warm up, then measure the relay's CPU over the rest.
    let warmup = Duration::from_secs(3.min(args.seconds / 4).max(1));
    std::thread::sleep(warmup);
    let (cpu0, gen0, t0) = (cpu_seconds("relay"), cpu_seconds("gen"), Instant::now());
    std::thread::sleep(Duration::from_secs(args.seconds).saturating_sub(warmup));
    let (cpu1, gen1, elapsed) = (
        cpu_seconds("relay"),
        cpu_seconds("gen"),
        t0.elapsed().as_secs_f64(),
    );
    running.store(false, Ordering::Relaxed);

    let (results, sent): (Vec<(PhoneStats, PhoneStats)>, u64) = generator.block_on(async {
        let mut sent = 0;
        for s in senders {
            let (a, b) = s.await.expect("sender");
            sent += a + b;
        }
        let mut v = Vec::with_capacity(calls.len());
        for c in calls {
            v.push(c.await.expect("call task"));
        }
        (v, sent)
    });
    drop(bridges);
    for t in shard_threads {
        let _ = t.join();
    }
    let _ = std::fs::remove_dir_all(&record_dir);

    let (mut received, mut delay_sum, mut jitter_sum, mut legs) = (0u64, 0.0, 0.0, 0.0);
    let mut delays: Vec<u32> = Vec::new();
    for (a, b) in &results {
        for s in [a, b] {
            received += s.received;
            delay_sum += s.delay_sum_us;
            jitter_sum += s.jitter_us;
            legs += 1.0;
            delays.extend(s.delays_us.iter().step_by(10));
        }
    }
    delays.sort_unstable();
    let p99 = delays.get(delays.len() * 99 / 100).copied().unwrap_or(0);
    let relay_core = (cpu1 - cpu0) / elapsed;
    let loss = if sent == 0 {
        0.0
    } else {
        (sent.saturating_sub(received)) as f64 * 100.0 / sent as f64
    };
    println!(
        "mode={:?} calls={} seconds={} sent={} relayed_pps={:.0} relay_cpu={:.1}%core relay_us_per_packet={:.2} per_call_at_100pps={:.4}%core generator_cpu={:.1}%core loss={:.3}% delay_mean={:.0}us delay_p99={}us jitter_mean={:.0}us rss_per_call={:.1}KiB",
        args.mode,
        args.calls,
        args.seconds,
        sent,
        received as f64 / start.elapsed().as_secs_f64(),
        relay_core * 100.0,
        relay_core * 1e6 / (received as f64 / start.elapsed().as_secs_f64()).max(1.0),
        relay_core * 1e6 / (received as f64 / start.elapsed().as_secs_f64()).max(1.0) * 100.0 / 1e6 * 100.0,
        (gen1 - gen0) / elapsed * 100.0,
        loss,
        delay_sum / received.max(1) as f64,
        p99,
        jitter_sum / legs,
        (rss_after.saturating_sub(rss_before)) as f64 / args.calls as f64,
    );
}

fn tempfile_dir() -> std::path::PathBuf {
    let base = if std::path::Path::new("/dev/shm").exists() {
        std::path::PathBuf::from("/dev/shm")
    } else {
        std::env::temp_dir()
    };
    let dir = base.join(format!("hotline-media-load-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&dir);
    dir
}
