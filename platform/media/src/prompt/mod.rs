//! Prompts: what a leg plays. [`convert`] turns an upload into a [`Prompt`] once; [`tone`]
//! generates ringback, busy and beeps; [`player`] walks a playlist frame by frame for the leg.
//!
//! A prompt is 8 kHz mono 16-bit PCM behind an `Arc`, loaded once and shared by every call
//! that plays it. Storing the file (under the tenant's prefix) is the caller's business: this
//! module takes and returns bytes.

pub mod convert;
pub mod player;
pub mod resample;
pub mod tone;

use std::io::Cursor;
use std::sync::Arc;
use std::time::Duration;

pub use convert::{convert_upload, PromptError, PromptLimits, PROMPT_RATE};
pub use player::{PlayItem, Player, Playlist};
pub use tone::{ToneRegion, ToneSpec};

/// A converted prompt, cheap to clone.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Prompt {
    samples: Arc<[i16]>,
}

impl Prompt {
    pub fn from_pcm(samples: Vec<i16>) -> Prompt {
        Prompt {
            samples: samples.into(),
        }
    }

    pub fn samples(&self) -> &[i16] {
        &self.samples
    }

    pub fn duration(&self) -> Duration {
        Duration::from_micros(self.samples.len() as u64 * 1_000_000 / PROMPT_RATE as u64)
    }

    /// The stored form: an 8 kHz mono 16-bit WAV file.
    pub fn to_wav(&self) -> Vec<u8> {
        let spec = hound::WavSpec {
            channels: 1,
            sample_rate: PROMPT_RATE,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        };
        let mut out = Cursor::new(Vec::with_capacity(44 + self.samples.len() * 2));
        // Writing to memory fails only on sizes past 4 GiB, which the limits rule out.
        if let Ok(mut writer) = hound::WavWriter::new(&mut out, spec) {
            for s in self.samples.iter() {
                let _ = writer.write_sample(*s);
            }
            let _ = writer.finalize();
        }
        out.into_inner()
    }

    /// Loads a stored prompt; a file in any other format goes through the converter.
    pub fn load(bytes: &[u8], limits: &PromptLimits) -> Result<Prompt, PromptError> {
        if let Ok(reader) = hound::WavReader::new(Cursor::new(bytes)) {
            let spec = reader.spec();
            if spec.channels == 1
                && spec.sample_rate == PROMPT_RATE
                && spec.bits_per_sample == 16
                && spec.sample_format == hound::SampleFormat::Int
                && reader.duration() as u64 <= limits.max_duration.as_secs() * PROMPT_RATE as u64
            {
                let samples: Result<Vec<i16>, _> = reader.into_samples::<i16>().collect();
                if let Ok(samples) = samples {
                    return Ok(Prompt::from_pcm(samples));
                }
            }
        }
        convert_upload(bytes, limits)
    }
}
