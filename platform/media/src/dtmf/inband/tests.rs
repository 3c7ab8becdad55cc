use super::*;
use crate::codec::Codec;
use std::f32::consts::PI;

/// A small deterministic generator so the tests need no files and no network.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> f32 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 40) as f32 / (1u64 << 24) as f32 * 2.0 - 1.0
    }
}

fn tone_pair(row: f32, col: f32, row_dbm0: f32, col_dbm0: f32, ms: usize, out: &mut Vec<f32>) {
    let (ar, ac) = (dbm0_amplitude(row_dbm0), dbm0_amplitude(col_dbm0));
    let start = out.len();
    for n in 0..ms * 8 {
        let t = (start + n) as f32 / 8000.0;
        out.push(ar * (2.0 * PI * row * t).sin() + ac * (2.0 * PI * col * t).sin());
    }
}

fn silence(ms: usize, out: &mut Vec<f32>) {
    out.extend(std::iter::repeat_n(0.0, ms * 8));
}

/// Through G.711 as a carrier would deliver it.
fn to_wire(signal: &[f32], codec: Codec) -> Vec<i16> {
    let pcm: Vec<i16> = signal
        .iter()
        .map(|x| (x * 32767.0).clamp(-32768.0, 32767.0) as i16)
        .collect();
    let mut bytes = vec![0u8; pcm.len()];
    codec.encode(&pcm, &mut bytes);
    let mut back = vec![0i16; pcm.len()];
    codec.decode(&bytes, &mut back);
    back
}

fn detect(samples: &[i16]) -> Vec<(Digit, u32, u32)> {
    let mut detector = InbandDetector::new();
    let mut began = Vec::new();
    let mut ended = Vec::new();
    // Packet-sized chunks, as the leg feeds it.
    for chunk in samples.chunks(160) {
        detector.process(chunk, |u| match u {
            EventUpdate::Began { digit, ts } => began.push((digit, ts)),
            EventUpdate::Ended {
                digit,
                ts,
                duration,
            } => ended.push((digit, ts, duration)),
        });
    }
    assert!(ended.len() <= began.len() && began.len() <= ended.len() + 1);
    ended
}

fn digits(found: &[(Digit, u32, u32)]) -> String {
    found.iter().map(|(d, _, _)| d.as_char()).collect()
}

fn keypad_sequence(pair_dbm0: f32, twist_db: f32) -> Vec<f32> {
    // Pair level L: each tone 3 dB below it; twist moves the row tone up and the column down.
    let mut signal = Vec::new();
    silence(60, &mut signal);
    for d in Digit::ALL {
        let (row, col) = d.frequencies();
        tone_pair(
            row,
            col,
            pair_dbm0 - 3.0 + twist_db / 2.0,
            pair_dbm0 - 3.0 - twist_db / 2.0,
            80,
            &mut signal,
        );
        silence(80, &mut signal);
    }
    signal
}

const ALL: &str = "123A456B789C*0#D";

#[test]
fn all_sixteen_digits_at_0_dbm0() {
    let found = detect(&to_wire(&keypad_sequence(0.0, 0.0), Codec::Pcmu));
    assert_eq!(digits(&found), ALL);
}

#[test]
fn all_sixteen_digits_at_minus_20_dbm0_over_a_law() {
    let found = detect(&to_wire(&keypad_sequence(-20.0, 0.0), Codec::Pcma));
    assert_eq!(digits(&found), ALL);
}

#[test]
fn timestamps_and_durations_follow_the_tones() {
    let found = detect(&to_wire(&keypad_sequence(-10.0, 0.0), Codec::Pcmu));
    for (i, (_, ts, duration)) in found.iter().enumerate() {
        let expected_start = (60 + i * 160) as i64 * 8;
        assert!(
            (*ts as i64 - expected_start).abs() <= 102,
            "start {ts} vs {expected_start}"
        );
        assert!((*duration as i64 - 640).abs() <= 204, "duration {duration}");
    }
}

#[test]
fn digits_are_found_under_speech_like_noise() {
    let mut signal = keypad_sequence(-20.0, 0.0);
    // Low-passed noise with a syllabic (4 Hz) envelope, 15 dB below the tone pair.
    let mut rng = Rng(0x2545F4914F6CDD1D);
    let mut lp = 0.0f32;
    let noise_peak = dbm0_amplitude(-35.0) * 3.0;
    for (n, x) in signal.iter_mut().enumerate() {
        lp += 0.3 * (rng.next() - lp);
        let envelope = 0.6 + 0.4 * (2.0 * PI * 4.0 * n as f32 / 8000.0).sin();
        *x += lp * noise_peak * envelope;
    }
    let found = detect(&to_wire(&signal, Codec::Pcmu));
    assert_eq!(digits(&found), ALL);
}

#[test]
fn twist_inside_the_limits_is_accepted_and_outside_refused() {
    // Row 6 dB louder (normal twist under 8 dB) and column 3 dB louder (reverse under 4 dB).
    assert_eq!(
        digits(&detect(&to_wire(&keypad_sequence(-10.0, 6.0), Codec::Pcmu))),
        ALL
    );
    assert_eq!(
        digits(&detect(&to_wire(
            &keypad_sequence(-10.0, -3.0),
            Codec::Pcmu
        ))),
        ALL
    );
    assert_eq!(
        digits(&detect(&to_wire(
            &keypad_sequence(-10.0, 11.0),
            Codec::Pcmu
        ))),
        ""
    );
    assert_eq!(
        digits(&detect(&to_wire(
            &keypad_sequence(-10.0, -7.0),
            Codec::Pcmu
        ))),
        ""
    );
}

#[test]
fn too_short_or_too_quiet_tones_are_not_digits() {
    let (row, col) = Digit::D5.frequencies();
    let mut short = Vec::new();
    for _ in 0..10 {
        tone_pair(row, col, -10.0, -10.0, 20, &mut short);
        silence(100, &mut short);
    }
    assert_eq!(digits(&detect(&to_wire(&short, Codec::Pcmu))), "");

    let mut forty = Vec::new();
    for _ in 0..10 {
        tone_pair(row, col, -10.0, -10.0, 40, &mut forty);
        silence(60, &mut forty);
    }
    assert_eq!(digits(&detect(&to_wire(&forty, Codec::Pcmu))), "5555555555");

    let mut quiet = Vec::new();
    tone_pair(row, col, -42.0, -42.0, 200, &mut quiet);
    assert_eq!(digits(&detect(&to_wire(&quiet, Codec::Pcmu))), "");
}

#[test]
fn frequencies_off_by_one_and_a_half_percent_are_still_digits() {
    let mut signal = Vec::new();
    for (i, d) in Digit::ALL.iter().enumerate() {
        let (row, col) = d.frequencies();
        let off = if i % 2 == 0 { 1.015 } else { 0.985 };
        tone_pair(row * off, col * off, -13.0, -13.0, 80, &mut signal);
        silence(80, &mut signal);
    }
    assert_eq!(digits(&detect(&to_wire(&signal, Codec::Pcmu))), ALL);
}

/// Notes with the harmonics of a plucked string, in chords that move every half second, with
/// a slow sweep underneath: music as a hold queue plays it.
fn music(seconds: usize) -> Vec<f32> {
    let chords: [[f32; 3]; 8] = [
        [261.63, 329.63, 392.00],
        [220.00, 261.63, 329.63],
        [349.23, 440.00, 523.25],
        [392.00, 493.88, 587.33],
        [293.66, 369.99, 440.00],
        [329.63, 415.30, 493.88],
        [698.46, 880.00, 1046.50],
        [783.99, 987.77, 1174.66],
    ];
    let mut rng = Rng(7);
    let mut out = Vec::with_capacity(seconds * 8000);
    for n in 0..seconds * 8000 {
        let t = n as f32 / 8000.0;
        let chord = chords[(n / 4000) % chords.len()];
        let since = (n % 4000) as f32 / 8000.0;
        let decay = (-since * 3.0).exp();
        let mut x = 0.0;
        for f in chord {
            for h in 1..=5 {
                x += (2.0 * PI * f * h as f32 * t).sin() / (h * h) as f32;
            }
        }
        // A sine sweep 300-3300 Hz every 3 s, and a little breath noise.
        let sweep_phase = 2.0 * PI * (300.0 * t + 500.0 * (t % 3.0) * (t % 3.0));
        x = x * 0.12 * decay + 0.05 * sweep_phase.sin() + 0.01 * rng.next();
        out.push(x);
    }
    out
}

#[test]
fn music_gives_no_digits() {
    let found = detect(&to_wire(&music(60), Codec::Pcmu));
    assert!(
        found.is_empty(),
        "false digits on music: {}",
        digits(&found)
    );
}

#[test]
fn noise_alone_gives_no_digits() {
    let mut rng = Rng(99);
    let mut lp = 0.0f32;
    let noise: Vec<f32> = (0..8000 * 30)
        .map(|_| {
            lp += 0.2 * (rng.next() - lp);
            lp * 0.5
        })
        .collect();
    assert!(detect(&to_wire(&noise, Codec::Pcmu)).is_empty());
}

#[test]
fn two_tone_chords_off_the_keypad_grid_are_not_digits() {
    // Each pair has one tone in each group's band, but not a keypad pair of frequencies.
    let mut signal = Vec::new();
    for (row, col) in [
        (730.0, 1270.0),
        (810.0, 1400.0),
        (900.0, 1560.0),
        (650.0, 1700.0),
    ] {
        tone_pair(row, col, -10.0, -10.0, 200, &mut signal);
        silence(50, &mut signal);
    }
    assert!(detect(&to_wire(&signal, Codec::Pcmu)).is_empty());
}
