//! The relay path allocates nothing: a counting allocator watches the sans-IO bridge relay
//! packets (same codec, transcoded, telephone-events, recorded) and a leg pace prompt frames.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::io::{Seek, SeekFrom, Write};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime};

use hotline_media::bridge::{Bridge, Relayed, Side};
use hotline_media::codec::Codec;
use hotline_media::leg::{Leg, LegConfig};
use hotline_media::prompt::{PlayItem, Playlist, Prompt};
use hotline_media::record::WavWriter;
use hotline_media::sdp::Negotiated;
use rtp_types::RtpPacketBuilder;

struct Counting;

// Only the measuring thread counts: the test harness's own threads allocate when they like.
thread_local! {
    static COUNTING: Cell<bool> = const { Cell::new(false) };
}
static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

fn counting() -> bool {
    COUNTING.try_with(Cell::get).unwrap_or(false)
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if counting() {
            ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        }
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if counting() {
            ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        }
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// A sink that keeps nothing (the file's cost is the OS's, not an allocation).
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

fn counted<T>(f: impl FnOnce() -> T) -> (T, usize) {
    ALLOCATIONS.store(0, Ordering::SeqCst);
    COUNTING.with(|c| c.set(true));
    let out = f();
    COUNTING.with(|c| c.set(false));
    (out, ALLOCATIONS.load(Ordering::SeqCst))
}

fn leg(remote: &str, codec: Codec, now: Instant) -> Leg {
    let mut leg = Leg::new(LegConfig::default(), 1, 0, 0, now, SystemTime::now());
    leg.set_negotiated(
        Negotiated::static_g711(codec, remote.parse().unwrap(), Some(101)),
        now,
    );
    leg
}

#[test]
fn relaying_and_pacing_allocate_nothing() {
    let t0 = Instant::now();
    let phone_a: SocketAddr = "10.0.0.1:4000".parse().unwrap();
    let mut bridge = Bridge::new(
        leg("10.0.0.1:4000", Codec::Pcmu, t0),
        leg("10.0.0.2:4000", Codec::Pcma, t0),
    );
    bridge.start_recording(
        WavWriter::new(Box::new(Null(0))).unwrap(),
        Side::A,
        Duration::from_secs(1),
        t0,
    );
    let audio = RtpPacketBuilder::<&[u8], &[u8]>::new()
        .payload_type(0)
        .ssrc(9)
        .payload(&[0x55u8; 160][..])
        .write_vec()
        .unwrap();
    let event = RtpPacketBuilder::<&[u8], &[u8]>::new()
        .payload_type(101)
        .ssrc(9)
        .payload(&[5u8, 0x0A, 0, 160][..])
        .write_vec()
        .unwrap();
    let mut buf = [0u8; 1500];
    // Warm up: the first packets latch the source and set up the mappings.
    for seq in 0..10u16 {
        buf[..audio.len()].copy_from_slice(&audio);
        buf[2..4].copy_from_slice(&seq.to_be_bytes());
        bridge.handle_rtp(
            Side::A,
            &mut buf,
            audio.len(),
            phone_a,
            t0 + Duration::from_millis(seq as u64 * 20),
        );
    }
    let (forwarded, allocations) = counted(|| {
        let mut forwarded = 0;
        for seq in 10..3000u16 {
            let now = t0 + Duration::from_millis(seq as u64 * 20);
            let packet = if seq % 100 == 0 { &event } else { &audio };
            buf[..packet.len()].copy_from_slice(packet);
            buf[2..4].copy_from_slice(&seq.to_be_bytes());
            buf[4..8].copy_from_slice(&(seq as u32 * 160).to_be_bytes());
            if let Relayed::Forward(_) =
                bridge.handle_rtp(Side::A, &mut buf, packet.len(), phone_a, now)
            {
                forwarded += 1;
            }
            bridge.tick_recording(now);
            // The shell drains events after every packet; digits are queued, then taken.
            while bridge.leg_mut(Side::A).poll_event().is_some() {}
        }
        forwarded
    });
    assert!(forwarded >= 2900, "{forwarded}");
    assert_eq!(allocations, 0, "the relay path allocated");

    let mut player = leg("10.0.0.1:4000", Codec::Pcma, t0);
    let prompt = Prompt::from_pcm(vec![1000; 8000]);
    player.play(Playlist::looping(vec![PlayItem::Prompt(prompt)]), false, t0);
    let _ = player.poll_transmit(t0, &mut buf);
    let (sent, allocations) = counted(|| {
        let mut sent = 0;
        for i in 1..1000u64 {
            while let Some(t) = player.poll_transmit(t0 + Duration::from_millis(i * 20), &mut buf) {
                sent += usize::from(!t.rtcp);
            }
        }
        sent
    });
    assert_eq!(sent, 999);
    assert_eq!(allocations, 0, "prompt pacing allocated");
}
