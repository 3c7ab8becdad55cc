use super::*;
use std::io::Cursor;

fn read_back(path: &std::path::Path) -> (Vec<i16>, Vec<i16>) {
    let reader = hound::WavReader::open(path).unwrap();
    assert_eq!(reader.spec().channels, 2);
    assert_eq!(reader.spec().sample_rate, 8000);
    let samples: Vec<i16> = reader.into_samples().map(|s| s.unwrap()).collect();
    let left = samples.iter().step_by(2).copied().collect();
    let right = samples.iter().skip(1).step_by(2).copied().collect();
    (left, right)
}

/// Feeds 20 ms packets of constant values on both channels for `ms`, ticking as a leg would.
fn run(rec: &mut Recorder, t0: Instant, from_ms: u64, to_ms: u64, left: i16, right: i16) {
    let frame_l = [left; 160];
    let frame_r = [right; 160];
    let mut ms = from_ms;
    while ms < to_ms {
        let now = t0 + Duration::from_millis(ms);
        let ts = (ms * 8) as u32;
        rec.feed(Channel::Left, 1, 1000 + ts, &frame_l, now);
        // The right leg's packets arrive 30 ms late: the timestamps still line them up.
        rec.feed(
            Channel::Right,
            2,
            900_000 + ts,
            &frame_r,
            now + Duration::from_millis(30),
        );
        rec.tick(now).unwrap();
        ms += 20;
    }
}

#[test]
fn both_channels_line_up_and_the_duration_is_right() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("call.wav");
    let t0 = Instant::now();
    let mut rec = Recorder::new(
        WavWriter::create(&path).unwrap(),
        t0,
        Duration::from_secs(1),
    );
    run(&mut rec, t0, 0, 3000, 1000, -1000);
    let summary = rec.finish(t0 + Duration::from_millis(3000)).unwrap();
    assert_eq!(summary.duration_ms, 3000);
    let (left, right) = read_back(&path);
    assert_eq!(left.len(), 24_000);
    // Apart from the first packet, every frame has both voices.
    assert!(left[400..23_800].iter().all(|s| *s == 1000));
    assert!(right[400..23_800].iter().all(|s| *s == -1000));
}

#[test]
fn a_pause_writes_silence_and_nothing_said_meanwhile() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("paused.wav");
    let t0 = Instant::now();
    let mut rec = Recorder::new(
        WavWriter::create(&path).unwrap(),
        t0,
        Duration::from_millis(500),
    );
    run(&mut rec, t0, 0, 1000, 100, 200);
    rec.pause(t0 + Duration::from_millis(1000));
    // The card number: loud, and some of it arriving late after the resume.
    run(&mut rec, t0, 1000, 2000, 9999, 9999);
    rec.resume(t0 + Duration::from_millis(2000));
    let late = [9999i16; 160];
    rec.feed(
        Channel::Left,
        1,
        1000 + 1980 * 8,
        &late,
        t0 + Duration::from_millis(2010),
    );
    run(&mut rec, t0, 2000, 3000, 300, 400);
    let summary = rec.finish(t0 + Duration::from_millis(3000)).unwrap();
    assert_eq!(summary.paused_ms, 1000);
    let (left, right) = read_back(&path);
    assert_eq!(left.len(), 24_000);
    assert!(
        !left.contains(&9999) && !right.contains(&9999),
        "paused audio leaked"
    );
    assert!(left[8000..16_000].iter().all(|s| *s == 0));
    assert!(left[400..7_900].iter().all(|s| *s == 100));
    assert!(left[16_200..23_800].iter().all(|s| *s == 300));
    assert!(right[16_400..23_800].iter().all(|s| *s == 400));
}

#[test]
fn a_crash_loses_at_most_the_last_second_and_repair_makes_it_readable() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("crash.wav");
    let t0 = Instant::now();
    let mut rec = Recorder::new(
        WavWriter::create(&path).unwrap(),
        t0,
        Duration::from_secs(1),
    );
    run(&mut rec, t0, 0, 5000, 500, -500);
    // The process dies here: no finish, no destructor.
    std::mem::forget(rec);
    let report = repair(&path).unwrap();
    let (left, right) = read_back(&path);
    let seconds = left.len() as f64 / 8000.0;
    assert!(
        seconds >= 5.0 - 0.3 - 1.0 - 0.05,
        "only {seconds} s survived"
    );
    assert!(report.data_bytes.is_multiple_of(4));
    assert!(left[400..].iter().all(|s| *s == 500));
    assert!(right[400..].iter().all(|s| *s == -500));
}

#[test]
fn a_gap_in_one_leg_is_silence_on_that_channel_only() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("gap.wav");
    let t0 = Instant::now();
    let mut rec = Recorder::new(
        WavWriter::create(&path).unwrap(),
        t0,
        Duration::from_secs(1),
    );
    for ms in (0..2000u64).step_by(20) {
        let now = t0 + Duration::from_millis(ms);
        let ts = (ms * 8) as u32;
        rec.feed(Channel::Left, 1, ts, &[700; 160], now);
        if !(800..1200).contains(&ms) {
            rec.feed(Channel::Right, 2, ts, &[-700; 160], now);
        }
        rec.tick(now).unwrap();
    }
    rec.finish(t0 + Duration::from_secs(2)).unwrap();
    let (left, right) = read_back(&path);
    assert!(left[..15_900].iter().all(|s| *s == 700));
    assert!(right[6400..9600].iter().all(|s| *s == 0));
    assert!(right[..6400].iter().all(|s| *s == -700));
}

#[test]
fn writes_go_to_any_sink() {
    let t0 = Instant::now();
    let rec = Recorder::new(
        WavWriter::new(Box::new(Cursor::new(Vec::new()))).unwrap(),
        t0,
        Duration::from_secs(1),
    );
    assert_eq!(
        rec.finish(t0 + Duration::from_millis(100)).unwrap().frames,
        800
    );
}
