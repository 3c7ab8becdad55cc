//! Audio for the media end-to-end tests: test tones written as WAV files for the phones to send,
//! and what a received WAV carries — per channel, per stretch of time, the power at the tone
//! frequencies (Goertzel) — so a test can say "the agent heard the caller's 1 kHz tone".

use std::path::Path;

/// A mono 16-bit WAV at 8 kHz with a sine tone of `frequency` Hz for `seconds`, at -10 dBFS.
pub fn write_tone(path: &Path, frequency: f64, seconds: f64) {
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: 8_000,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut writer = hound::WavWriter::create(path, spec).expect("tone file");
    let amplitude = 32_767.0 * 10f64.powf(-10.0 / 20.0);
    let samples = (seconds * 8_000.0) as usize;
    for n in 0..samples {
        let value = amplitude * (2.0 * std::f64::consts::PI * frequency * n as f64 / 8_000.0).sin();
        writer.write_sample(value as i16).expect("tone sample");
    }
    writer.finalize().expect("tone file written");
}

/// A WAV file read whole: its rate and each channel's samples.
pub struct Wav {
    pub rate: u32,
    pub channels: Vec<Vec<i16>>,
}

impl Wav {
    pub fn read(path: &Path) -> Wav {
        let mut reader = hound::WavReader::open(path)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
        let spec = reader.spec();
        assert_eq!(spec.bits_per_sample, 16, "{}: 16-bit PCM", path.display());
        let count = usize::from(spec.channels);
        let mut channels = vec![Vec::new(); count];
        for (index, sample) in reader.samples::<i16>().enumerate() {
            channels[index % count].push(sample.expect("sample"));
        }
        Wav {
            rate: spec.sample_rate,
            channels,
        }
    }

    pub fn seconds(&self) -> f64 {
        self.channels.first().map_or(0.0, |c| c.len() as f64) / f64::from(self.rate)
    }

    /// The samples of `channel` between `from` and `to` seconds (clamped to the file).
    pub fn stretch(&self, channel: usize, from: f64, to: f64) -> &[i16] {
        let samples = &self.channels[channel];
        let at = |seconds: f64| ((seconds * f64::from(self.rate)) as usize).min(samples.len());
        &samples[at(from)..at(to)]
    }
}

/// Power of `frequency` in `samples`, relative to the stretch's whole power (0..=1): a clean tone
/// at that frequency gives close to 1, silence or another tone close to 0.
pub fn tone_share(samples: &[i16], frequency: f64, rate: u32) -> f64 {
    if samples.is_empty() {
        return 0.0;
    }
    let coefficient = 2.0 * (2.0 * std::f64::consts::PI * frequency / f64::from(rate)).cos();
    let (mut s1, mut s2) = (0.0f64, 0.0f64);
    let mut energy = 0.0f64;
    for &sample in samples {
        let x = f64::from(sample);
        energy += x * x;
        let s0 = x + coefficient * s1 - s2;
        s2 = s1;
        s1 = s0;
    }
    if energy == 0.0 {
        return 0.0;
    }
    let power = s1 * s1 + s2 * s2 - coefficient * s1 * s2;
    // A pure sine of N samples gives power N²A²/4 and energy NA²/2: scale to 1.
    (2.0 * power / (samples.len() as f64 * energy)).min(1.0)
}

/// Root-mean-square level of `samples` (0 for silence).
pub fn rms(samples: &[i16]) -> f64 {
    if samples.is_empty() {
        return 0.0;
    }
    let sum: f64 = samples.iter().map(|&s| f64::from(s) * f64::from(s)).sum();
    (sum / samples.len() as f64).sqrt()
}
