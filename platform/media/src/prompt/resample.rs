//! Sample-rate conversion of uploaded prompts to 8 kHz: a windowed-sinc (Kaiser, beta 9)
//! low-pass interpolator with 48 zero crossings each side, cut off at 95 % of the lower
//! Nyquist frequency: flat to 3.4 kHz, more than 70 dB down from 4.2 kHz on, so nothing
//! folds back into the telephone band (300-3400 Hz).
//!
//! It runs once per upload, not per call; it favours quality over speed but stays linear in
//! the input (a kernel table sampled 512 times per input sample, linearly interpolated).

const ZERO_CROSSINGS: f64 = 48.0;
const TABLE_STEPS: usize = 512;
const KAISER_BETA: f64 = 9.0;
const CUTOFF: f64 = 0.95;

fn bessel_i0(x: f64) -> f64 {
    let mut sum = 1.0;
    let mut term = 1.0;
    let half = x / 2.0;
    for k in 1..50 {
        term *= (half / k as f64) * (half / k as f64);
        sum += term;
        if term < 1e-12 * sum {
            break;
        }
    }
    sum
}

/// Converts mono samples from `from_rate` to `to_rate`.
pub fn resample(input: &[f32], from_rate: u32, to_rate: u32) -> Vec<f32> {
    if from_rate == to_rate || input.is_empty() {
        return input.to_vec();
    }
    let ratio = to_rate as f64 / from_rate as f64;
    // Cut-off relative to the input rate (cycles per input sample).
    let cutoff = CUTOFF * 0.5 * ratio.min(1.0);
    // Half width of the kernel, in input samples.
    let half_width = ZERO_CROSSINGS / (2.0 * cutoff);
    let table_len = (half_width * TABLE_STEPS as f64).ceil() as usize + 2;
    let i0_beta = bessel_i0(KAISER_BETA);
    let table: Vec<f64> = (0..table_len)
        .map(|i| {
            let x = i as f64 / TABLE_STEPS as f64;
            if x >= half_width {
                return 0.0;
            }
            let arg = 2.0 * cutoff * x;
            let sinc = if arg == 0.0 {
                1.0
            } else {
                (std::f64::consts::PI * arg).sin() / (std::f64::consts::PI * arg)
            };
            let r = x / half_width;
            let window = bessel_i0(KAISER_BETA * (1.0 - r * r).max(0.0).sqrt()) / i0_beta;
            2.0 * cutoff * sinc * window
        })
        .collect();
    let kernel = |x: f64| -> f64 {
        let pos = x.abs() * TABLE_STEPS as f64;
        let i = pos as usize;
        if i + 1 >= table.len() {
            return 0.0;
        }
        let frac = pos - i as f64;
        table[i] * (1.0 - frac) + table[i + 1] * frac
    };

    let out_len = ((input.len() as u64 * to_rate as u64) / from_rate as u64) as usize;
    let mut output = Vec::with_capacity(out_len);
    let reach = half_width.ceil() as i64;
    for n in 0..out_len {
        // Exact position in input samples, computed from integers so it never drifts.
        let t_num = n as u64 * from_rate as u64;
        let center = (t_num / to_rate as u64) as i64;
        let frac = (t_num % to_rate as u64) as f64 / to_rate as f64;
        let t = center as f64 + frac;
        let mut acc = 0.0f64;
        let first = (center - reach + 1).max(0);
        let last = (center + reach).min(input.len() as i64 - 1);
        for k in first..=last {
            acc += input[k as usize] as f64 * kernel(t - k as f64);
        }
        output.push(acc as f32);
    }
    output
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sine(freq: f32, rate: u32, seconds: f32, amplitude: f32) -> Vec<f32> {
        (0..(rate as f32 * seconds) as usize)
            .map(|n| amplitude * (2.0 * std::f32::consts::PI * freq * n as f32 / rate as f32).sin())
            .collect()
    }

    fn rms(x: &[f32]) -> f32 {
        (x.iter().map(|v| v * v).sum::<f32>() / x.len() as f32).sqrt()
    }

    /// Zero crossings per second / 2 = frequency.
    fn frequency(x: &[f32], rate: u32) -> f32 {
        let crossings = x.windows(2).filter(|w| w[0] < 0.0 && w[1] >= 0.0).count();
        crossings as f32 * rate as f32 / x.len() as f32
    }

    /// Energy at one frequency (Goertzel), relative to the signal's total.
    fn tone_share(x: &[f32], freq: f32, rate: u32) -> f32 {
        let coeff = 2.0 * (2.0 * std::f32::consts::PI * freq / rate as f32).cos();
        let (mut s1, mut s2) = (0.0f32, 0.0f32);
        for &v in x {
            let s0 = v + coeff * s1 - s2;
            s2 = s1;
            s1 = s0;
        }
        let power = (s1 * s1 + s2 * s2 - coeff * s1 * s2) * 2.0 / x.len() as f32;
        power / x.iter().map(|v| v * v).sum::<f32>()
    }

    #[test]
    fn a_1khz_tone_at_44k1_stays_1khz_at_the_same_level() {
        let input = sine(1000.0, 44100, 2.0, 0.5);
        let out = resample(&input, 44100, 8000);
        assert_eq!(out.len(), 16000);
        let middle = &out[800..15200];
        assert!(
            (frequency(middle, 8000) - 1000.0).abs() < 2.0,
            "{}",
            frequency(middle, 8000)
        );
        let level = rms(middle) / rms(&input);
        assert!((level - 1.0).abs() < 0.01, "level {level}");
        assert!(tone_share(middle, 1000.0, 8000) > 0.99);
    }

    #[test]
    fn a_6khz_tone_does_not_alias_into_the_band() {
        let input = sine(6000.0, 44100, 1.0, 0.5);
        let out = resample(&input, 44100, 8000);
        let middle = &out[400..7600];
        // 6 kHz would fold to 2 kHz; it must be at least 70 dB down.
        let attenuation = 20.0 * (rms(middle) / rms(&input)).log10();
        assert!(attenuation < -70.0, "attenuation {attenuation} dB");
    }

    #[test]
    fn the_passband_reaches_3_4khz() {
        for (freq, rate) in [
            (300.0, 48000),
            (3400.0, 48000),
            (3400.0, 16000),
            (3000.0, 11025),
        ] {
            let out = resample(&sine(freq, rate, 1.0, 0.5), rate, 8000);
            let middle = &out[400..7600];
            let level = 20.0 * (rms(middle) / (0.5 / 2f32.sqrt())).log10();
            assert!(level.abs() < 0.5, "{freq} Hz at {rate}: {level} dB");
        }
    }

    #[test]
    fn upsampling_from_6khz_keeps_the_tone() {
        let out = resample(&sine(1000.0, 6000, 1.0, 0.5), 6000, 8000);
        assert_eq!(out.len(), 8000);
        assert!((frequency(&out[400..7600], 8000) - 1000.0).abs() < 3.0);
    }

    #[test]
    fn same_rate_is_a_copy() {
        assert_eq!(resample(&[0.1, 0.2], 8000, 8000), vec![0.1, 0.2]);
        assert!(resample(&[], 44100, 8000).is_empty());
    }
}
