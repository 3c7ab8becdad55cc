//! In-band DTMF: a Goertzel detector for carriers that send the keypad tones inside the audio.
//!
//! Blocks of 102 samples (12.75 ms at 8 kHz; bins narrow enough that neighbouring row tones
//! leak less than -20 dB) are tested against ITU-T Q.24-style rules:
//! - each of the row and column tones at least [`MIN_TONE_DBM0`] (the detector works well below
//!   -20 dBm0 per pair);
//! - twist: the row tone at most 8 dB above the column tone (normal twist), the column at most
//!   4 dB above the row (reverse twist);
//! - relative peak: the winning tone of each group 8 dB above the others of its group;
//! - the two tones hold at least 60 % of the block's energy (speech and music spread theirs);
//! - the second harmonics of both tones at least 20 dB below them (instruments have
//!   harmonics, keypads do not), measured through a Hann window so the other tone's leakage
//!   does not pass for a harmonic;
//! - the tone fills the block (its halves within 1.5 dB), so a tone grazing a block's edge
//!   does not count towards the duration;
//! - duration: a key is down after two consecutive blocks agree (25.5 ms; Q.24 rejects tones
//!   shorter than 23 ms and accepts 40 ms), up after two blocks without it.
//!
//! Pure: samples in, begin/end updates out; it never allocates.

use super::rfc4733::EventUpdate;
use super::Digit;

pub const ROWS: [f32; 4] = [697.0, 770.0, 852.0, 941.0];
pub const COLUMNS: [f32; 4] = [1209.0, 1336.0, 1477.0, 1633.0];

const BLOCK: usize = 102;
const SAMPLE_RATE: f32 = 8000.0;
/// A sine at 0 dBm0 peaks at 3.14 dB below the G.711 full scale (G.711 table 5).
pub const DBM0_FULL_SCALE_PEAK: f32 = 0.6967;
pub const MIN_TONE_DBM0: f32 = -32.0;
const NORMAL_TWIST: f32 = 6.31; // 8 dB
const REVERSE_TWIST: f32 = 2.51; // 4 dB
const RELATIVE_PEAK: f32 = 6.31; // 8 dB
const TO_TOTAL_ENERGY: f32 = 0.6;
const HARMONIC_BELOW: f32 = 0.01; // 20 dB
/// Both halves of a block within 1.5 dB of each other: the tone fills the block, so two hits
/// mean at least two blocks' worth of tone (a tone that only grazes a block does not count).
const HALF_BALANCE: f32 = 0.7;
/// A row's second harmonic this close to the detected column tone is inside the column tone's
/// main lobe (Hann, 102 samples: ±157 Hz) and cannot be measured.
const HARMONIC_GUARD_HZ: f32 = 170.0;
const HITS_TO_BEGIN: u8 = 2;
const MISSES_TO_END: u8 = 2;

/// Peak amplitude (full scale 1.0) of a sine at `dbm0`.
pub fn dbm0_amplitude(dbm0: f32) -> f32 {
    DBM0_FULL_SCALE_PEAK * 10f32.powf(dbm0 / 20.0)
}

#[derive(Clone, Copy, Debug)]
struct Goertzel {
    coeff: f32,
}

impl Goertzel {
    fn new(freq: f32) -> Goertzel {
        Goertzel {
            coeff: 2.0 * (2.0 * std::f32::consts::PI * freq / SAMPLE_RATE).cos(),
        }
    }

    /// Energy of this frequency in the block, in the same units as the sum of squares.
    fn energy(&self, block: &[f32]) -> f32 {
        let (mut s1, mut s2) = (0.0f32, 0.0f32);
        for &x in block {
            let s0 = x + self.coeff * s1 - s2;
            s2 = s1;
            s1 = s0;
        }
        let power = s1 * s1 + s2 * s2 - self.coeff * s1 * s2;
        power * 2.0 / block.len() as f32
    }
}

#[derive(Debug)]
pub struct InbandDetector {
    rows: [Goertzel; 4],
    columns: [Goertzel; 4],
    column_harmonics: [Goertzel; 4],
    row_harmonics: [Goertzel; 4],
    min_tone_energy: f32,
    window: [f32; BLOCK],
    block: [f32; BLOCK],
    fill: usize,
    /// Samples consumed so far (the detector's own clock).
    samples: u64,
    candidate: Option<(Digit, u8, u64)>,
    down: Option<(Digit, u64, u64)>,
    misses: u8,
    pending: Option<EventUpdate>,
}

impl Default for InbandDetector {
    fn default() -> Self {
        InbandDetector::new()
    }
}

impl InbandDetector {
    pub fn new() -> InbandDetector {
        let amplitude = dbm0_amplitude(MIN_TONE_DBM0);
        InbandDetector {
            rows: ROWS.map(Goertzel::new),
            columns: COLUMNS.map(Goertzel::new),
            column_harmonics: COLUMNS.map(|f| Goertzel::new(2.0 * f)),
            row_harmonics: ROWS.map(|f| Goertzel::new(2.0 * f)),
            min_tone_energy: amplitude * amplitude * BLOCK as f32 / 2.0,
            window: std::array::from_fn(|n| {
                let x = std::f32::consts::PI * 2.0 * n as f32 / (BLOCK - 1) as f32;
                0.5 - 0.5 * x.cos()
            }),
            block: [0.0; BLOCK],
            fill: 0,
            samples: 0,
            candidate: None,
            down: None,
            misses: 0,
            pending: None,
        }
    }

    /// Samples consumed so far; updates carry timestamps on this count (wrapped to 32 bits).
    pub fn samples(&self) -> u64 {
        self.samples
    }

    /// Feeds audio; `on_update` gets each key begin and end in order.
    pub fn process(&mut self, samples: &[i16], mut on_update: impl FnMut(EventUpdate)) {
        for &s in samples {
            self.block[self.fill] = s as f32 / 32768.0;
            self.fill += 1;
            self.samples += 1;
            if self.fill == BLOCK {
                self.fill = 0;
                let hit = self.classify();
                let block_start = self.samples - BLOCK as u64;
                self.advance(hit, block_start);
                if let Some(update) = self.pending.take() {
                    on_update(update);
                }
            }
        }
    }

    fn classify(&self) -> Option<Digit> {
        let block = &self.block;
        let energy: f32 = block.iter().map(|x| x * x).sum();
        if energy <= 0.0 {
            return None;
        }
        let rows = self.rows.map(|g| g.energy(block));
        let columns = self.columns.map(|g| g.energy(block));
        let (r, row) = strongest(&rows);
        let (c, col) = strongest(&columns);
        if row < self.min_tone_energy || col < self.min_tone_energy {
            return None;
        }
        if row > col * NORMAL_TWIST || col > row * REVERSE_TWIST {
            return None;
        }
        let peak_ok = |group: &[f32; 4], best: usize, value: f32| {
            group
                .iter()
                .enumerate()
                .all(|(i, e)| i == best || *e * RELATIVE_PEAK < value)
        };
        if !peak_ok(&rows, r, row) || !peak_ok(&columns, c, col) {
            return None;
        }
        if row + col < TO_TOTAL_ENERGY * energy {
            return None;
        }
        let mut windowed = [0.0f32; BLOCK];
        for ((w, x), h) in windowed.iter_mut().zip(block).zip(&self.window) {
            *w = x * h;
        }
        let windowed_col = self.columns[c].energy(&windowed);
        if self.column_harmonics[c].energy(&windowed) > windowed_col * HARMONIC_BELOW {
            return None;
        }
        if (2.0 * ROWS[r] - COLUMNS[c]).abs() > HARMONIC_GUARD_HZ {
            let windowed_row = self.rows[r].energy(&windowed);
            if self.row_harmonics[r].energy(&windowed) > windowed_row * HARMONIC_BELOW {
                return None;
            }
        }
        let (first, second) = block.split_at(BLOCK / 2);
        let first: f32 = first.iter().map(|x| x * x).sum();
        let second: f32 = second.iter().map(|x| x * x).sum();
        if first.min(second) < HALF_BALANCE * first.max(second) {
            return None;
        }
        Some(KEYPAD[r][c])
    }

    fn advance(&mut self, hit: Option<Digit>, block_start: u64) {
        let block_end = block_start + BLOCK as u64;
        if let Some((digit, start, _)) = self.down {
            if hit == Some(digit) {
                self.down = Some((digit, start, block_end));
                self.misses = 0;
                return;
            }
            self.misses += 1;
            if self.misses >= MISSES_TO_END {
                let (_, _, last) = self.down.take().unwrap_or((digit, start, block_end));
                self.misses = 0;
                self.pending = Some(EventUpdate::Ended {
                    digit,
                    ts: start as u32,
                    duration: (last - start) as u32,
                });
                self.candidate = hit.map(|d| (d, 1, block_start));
            }
            return;
        }
        self.candidate = match (hit, self.candidate) {
            (Some(d), Some((c, n, start))) if c == d => Some((d, n + 1, start)),
            (Some(d), _) => Some((d, 1, block_start)),
            (None, _) => None,
        };
        if let Some((digit, n, start)) = self.candidate {
            if n >= HITS_TO_BEGIN {
                self.down = Some((digit, start, block_end));
                self.candidate = None;
                self.misses = 0;
                self.pending = Some(EventUpdate::Began {
                    digit,
                    ts: start as u32,
                });
            }
        }
    }
}

const KEYPAD: [[Digit; 4]; 4] = [
    [Digit::D1, Digit::D2, Digit::D3, Digit::A],
    [Digit::D4, Digit::D5, Digit::D6, Digit::B],
    [Digit::D7, Digit::D8, Digit::D9, Digit::C],
    [Digit::Star, Digit::D0, Digit::Pound, Digit::D],
];

fn strongest(group: &[f32; 4]) -> (usize, f32) {
    let mut best = (0, group[0]);
    for (i, e) in group.iter().enumerate().skip(1) {
        if *e > best.1 {
            best = (i, *e);
        }
    }
    best
}

#[cfg(test)]
mod tests;
