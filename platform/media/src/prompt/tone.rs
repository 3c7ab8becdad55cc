//! Generated call-progress tones: ringback and busy per region (ITU-T E.180 cadences), the
//! recording/notification beep, and plain tones. A generator keeps its phase, so a tone can be
//! produced 20 ms at a time without clicks and without allocating.

use std::time::Duration;

use crate::dtmf::inband::dbm0_amplitude;

/// Where the callers are: ringback and busy sound different per country.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ToneRegion {
    /// Most of Europe (CEPT): 425 Hz, ringback 1 s on / 4 s off.
    Europe,
    /// North America: 440 + 480 Hz, 2 s on / 4 s off.
    NorthAmerica,
    /// United Kingdom: 400 + 450 Hz, 0.4 on / 0.2 off / 0.4 on / 2 off.
    UnitedKingdom,
}

/// A tone: up to two frequencies and a cadence of (on, off) pairs in milliseconds.
#[derive(Clone, Debug, PartialEq)]
pub struct ToneSpec {
    pub frequencies: Vec<f32>,
    pub level_dbm0: f32,
    /// Empty means continuous.
    pub cadence: Vec<(u32, u32)>,
}

impl ToneSpec {
    pub fn continuous(frequencies: Vec<f32>, level_dbm0: f32) -> ToneSpec {
        ToneSpec {
            frequencies,
            level_dbm0,
            cadence: Vec::new(),
        }
    }

    pub fn ringback(region: ToneRegion) -> ToneSpec {
        match region {
            ToneRegion::Europe => ToneSpec {
                frequencies: vec![425.0],
                level_dbm0: -13.0,
                cadence: vec![(1000, 4000)],
            },
            ToneRegion::NorthAmerica => ToneSpec {
                frequencies: vec![440.0, 480.0],
                level_dbm0: -19.0,
                cadence: vec![(2000, 4000)],
            },
            ToneRegion::UnitedKingdom => ToneSpec {
                frequencies: vec![400.0, 450.0],
                level_dbm0: -19.0,
                cadence: vec![(400, 200), (400, 2000)],
            },
        }
    }

    pub fn busy(region: ToneRegion) -> ToneSpec {
        match region {
            ToneRegion::Europe => ToneSpec {
                frequencies: vec![425.0],
                level_dbm0: -13.0,
                cadence: vec![(500, 500)],
            },
            ToneRegion::NorthAmerica => ToneSpec {
                frequencies: vec![480.0, 620.0],
                level_dbm0: -24.0,
                cadence: vec![(500, 500)],
            },
            ToneRegion::UnitedKingdom => ToneSpec {
                frequencies: vec![400.0],
                level_dbm0: -13.0,
                cadence: vec![(375, 375)],
            },
        }
    }

    /// The short beep before a recording or a message: 1 kHz, 250 ms, played once.
    pub fn beep() -> ToneSpec {
        ToneSpec {
            frequencies: vec![1000.0],
            level_dbm0: -10.0,
            cadence: vec![(250, 0)],
        }
    }

    /// Length of one cadence cycle, if the tone has one.
    pub fn cycle(&self) -> Option<Duration> {
        let ms: u32 = self.cadence.iter().map(|(on, off)| on + off).sum();
        (ms > 0).then(|| Duration::from_millis(ms as u64))
    }
}

/// Produces a tone's samples, frame after frame.
#[derive(Clone, Debug)]
pub struct ToneGenerator {
    steps: Vec<f64>,
    phases: Vec<f64>,
    amplitude: f64,
    /// Cadence as sample boundaries: (on until, off until) cumulated over one cycle.
    cadence: Vec<(u64, u64)>,
    cycle: u64,
    position: u64,
}

impl ToneGenerator {
    pub fn new(spec: &ToneSpec) -> ToneGenerator {
        let steps: Vec<f64> = spec
            .frequencies
            .iter()
            .map(|f| std::f64::consts::TAU * *f as f64 / 8000.0)
            .collect();
        let mut cadence = Vec::with_capacity(spec.cadence.len());
        let mut at = 0u64;
        for (on, off) in &spec.cadence {
            let on_end = at + *on as u64 * 8;
            let off_end = on_end + *off as u64 * 8;
            cadence.push((on_end, off_end));
            at = off_end;
        }
        let per_tone = dbm0_amplitude(spec.level_dbm0) as f64 * 32767.0;
        ToneGenerator {
            phases: vec![0.0; steps.len()],
            steps,
            amplitude: per_tone,
            cadence,
            cycle: at,
            position: 0,
        }
    }

    fn sounding(&self, position: u64) -> bool {
        if self.cadence.is_empty() || self.cycle == 0 {
            return true;
        }
        let at = position % self.cycle;
        let mut start = 0;
        for (on_end, off_end) in &self.cadence {
            if at >= start && at < *on_end {
                return true;
            }
            if at < *off_end {
                return false;
            }
            start = *off_end;
        }
        false
    }

    /// Fills `out` with the next samples.
    pub fn fill(&mut self, out: &mut [i16]) {
        for sample in out.iter_mut() {
            let on = self.sounding(self.position);
            let mut value = 0.0;
            for (phase, step) in self.phases.iter_mut().zip(&self.steps) {
                if on {
                    value += phase.sin();
                }
                *phase = (*phase + step) % std::f64::consts::TAU;
            }
            *sample = (value * self.amplitude).clamp(-32768.0, 32767.0) as i16;
            self.position += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn goertzel_share(x: &[i16], freq: f64) -> f64 {
        let coeff = 2.0 * (std::f64::consts::TAU * freq / 8000.0).cos();
        let (mut s1, mut s2) = (0.0f64, 0.0f64);
        let mut total = 0.0;
        for &v in x {
            let v = v as f64;
            total += v * v;
            let s0 = v + coeff * s1 - s2;
            s2 = s1;
            s1 = s0;
        }
        (s1 * s1 + s2 * s2 - coeff * s1 * s2) * 2.0 / x.len() as f64 / total
    }

    #[test]
    fn european_ringback_is_425hz_one_second_in_five() {
        let mut g = ToneGenerator::new(&ToneSpec::ringback(ToneRegion::Europe));
        let mut five_seconds = vec![0i16; 40_000];
        for frame in five_seconds.chunks_mut(160) {
            g.fill(frame);
        }
        let (on, off) = five_seconds.split_at(8000);
        assert!(goertzel_share(on, 425.0) > 0.99);
        assert!(off.iter().all(|s| *s == 0));
        // -13 dBm0: peak ≈ 0.697 * 10^(-13/20) * 32767 ≈ 5100.
        let peak = on.iter().map(|s| s.unsigned_abs()).max().unwrap();
        assert!((5000..5200).contains(&peak), "{peak}");
    }

    #[test]
    fn uk_ringback_has_its_double_ring() {
        let spec = ToneSpec::ringback(ToneRegion::UnitedKingdom);
        assert_eq!(spec.cycle(), Some(Duration::from_millis(3000)));
        let g = ToneGenerator::new(&spec);
        assert!(g.sounding(0) && g.sounding(3199));
        assert!(!g.sounding(3200) && !g.sounding(4799));
        assert!(g.sounding(4800) && !g.sounding(8000));
        assert!(g.sounding(24_000));
    }

    #[test]
    fn frames_join_without_a_phase_jump() {
        let mut g = ToneGenerator::new(&ToneSpec::continuous(vec![1000.0], -10.0));
        let mut a = vec![0i16; 160];
        let mut b = vec![0i16; 160];
        g.fill(&mut a);
        g.fill(&mut b);
        let mut whole = vec![0i16; 320];
        ToneGenerator::new(&ToneSpec::continuous(vec![1000.0], -10.0)).fill(&mut whole);
        assert_eq!([a, b].concat(), whole);
    }
}
