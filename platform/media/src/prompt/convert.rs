//! The prompt converter: uploaded bytes (WAV of any common rate, 8/16/24/32-bit integer or
//! 32-bit float, any channel count; MP3) to the 8 kHz mono 16-bit PCM Hotline plays, once, at
//! upload. Limits on size and duration are checked before the whole file is decoded.
//!
//! It must never panic on what a tenant uploads: every failure is a [`PromptError`] that says
//! what was wrong in words an admin can act on.

use std::io::Cursor;
use std::time::Duration;

use symphonia::core::codecs::audio::AudioDecoderOptions;
use symphonia::core::codecs::CodecParameters;
use symphonia::core::errors::Error as SymphoniaError;
use symphonia::core::formats::probe::Hint;
use symphonia::core::formats::{FormatOptions, TrackType};
use symphonia::core::io::{MediaSourceStream, MediaSourceStreamOptions};
use symphonia::core::meta::MetadataOptions;

use super::resample::resample;
use super::Prompt;

/// The rate every prompt is stored and played at.
pub const PROMPT_RATE: u32 = 8000;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PromptLimits {
    pub max_bytes: usize,
    pub max_duration: Duration,
}

impl Default for PromptLimits {
    /// 50 MiB and 15 minutes: a long music-on-hold loop at CD quality fits, a film does not.
    fn default() -> Self {
        PromptLimits {
            max_bytes: 50 * 1024 * 1024,
            max_duration: Duration::from_secs(15 * 60),
        }
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PromptError {
    #[error("the upload is empty")]
    Empty,
    #[error("the upload is {size} bytes; the limit is {limit} bytes")]
    TooLarge { size: usize, limit: usize },
    #[error("the audio lasts {seconds} s; the limit is {limit} s")]
    TooLong { seconds: u64, limit: u64 },
    #[error("not an audio file ({0}); upload a WAV or MP3 file")]
    NotAudio(&'static str),
    #[error("unsupported audio: {0}")]
    Unsupported(String),
    #[error("the audio file is damaged: {0}")]
    Corrupt(String),
    #[error("the audio file holds no sound")]
    NoSamples,
}

/// Converts an upload to a playable prompt.
pub fn convert_upload(bytes: &[u8], limits: &PromptLimits) -> Result<Prompt, PromptError> {
    if bytes.is_empty() {
        return Err(PromptError::Empty);
    }
    if bytes.len() > limits.max_bytes {
        return Err(PromptError::TooLarge {
            size: bytes.len(),
            limit: limits.max_bytes,
        });
    }
    let (mono, rate) = match sniff(bytes) {
        Kind::Wav => decode_wav(bytes, limits)?,
        Kind::Mp3 => decode_mp3(bytes, limits)?,
        Kind::Other(what) => return Err(PromptError::NotAudio(what)),
    };
    if mono.is_empty() {
        return Err(PromptError::NoSamples);
    }
    let at_8k = resample(&mono, rate, PROMPT_RATE);
    let pcm: Vec<i16> = at_8k
        .iter()
        .map(|x| (x * 32767.0).round().clamp(-32768.0, 32767.0) as i16)
        .collect();
    Ok(Prompt::from_pcm(pcm))
}

enum Kind {
    Wav,
    Mp3,
    Other(&'static str),
}

fn sniff(bytes: &[u8]) -> Kind {
    let starts = |magic: &[u8]| bytes.starts_with(magic);
    if starts(b"RIFF") && bytes.len() >= 12 && &bytes[8..12] == b"WAVE" {
        Kind::Wav
    } else if starts(b"ID3") || (bytes.len() >= 2 && bytes[0] == 0xFF && bytes[1] & 0xE0 == 0xE0) {
        Kind::Mp3
    } else if starts(b"RIFF") {
        Kind::Other("a RIFF file that is not WAVE")
    } else if starts(b"\x89PNG") || starts(b"\xFF\xD8\xFF") || starts(b"GIF8") {
        Kind::Other("an image")
    } else if starts(b"%PDF") {
        Kind::Other("a PDF document")
    } else if starts(b"PK\x03\x04") {
        Kind::Other("a ZIP archive or office document")
    } else if starts(b"OggS") || starts(b"fLaC") || starts(b"FORM") {
        Kind::Other("an audio format Hotline does not read (Ogg, FLAC or AIFF)")
    } else if bytes
        .iter()
        .take(512)
        .all(|b| b.is_ascii() && (*b >= 0x20 || b.is_ascii_whitespace()))
    {
        Kind::Other("text")
    } else {
        Kind::Other("unrecognised data")
    }
}

fn check_duration(frames: u64, rate: u32, limits: &PromptLimits) -> Result<(), PromptError> {
    let seconds = frames / rate.max(1) as u64;
    if Duration::from_secs_f64(frames as f64 / rate.max(1) as f64) > limits.max_duration {
        return Err(PromptError::TooLong {
            seconds,
            limit: limits.max_duration.as_secs(),
        });
    }
    Ok(())
}

fn check_rate(rate: u32) -> Result<(), PromptError> {
    if !(4000..=384_000).contains(&rate) {
        return Err(PromptError::Unsupported(format!("sample rate {rate} Hz")));
    }
    Ok(())
}

fn decode_wav(bytes: &[u8], limits: &PromptLimits) -> Result<(Vec<f32>, u32), PromptError> {
    let mut reader = hound::WavReader::new(Cursor::new(bytes)).map_err(|e| match e {
        hound::Error::Unsupported => PromptError::Unsupported(
            "WAV encoding (Hotline reads PCM integer and 32-bit float WAV)".into(),
        ),
        hound::Error::IoError(io) => PromptError::Corrupt(io.to_string()),
        other => PromptError::Corrupt(other.to_string()),
    })?;
    let spec = reader.spec();
    check_rate(spec.sample_rate)?;
    let channels = spec.channels as usize;
    if channels == 0 || channels > 16 {
        return Err(PromptError::Unsupported(format!("{channels} channels")));
    }
    check_duration(reader.duration() as u64, spec.sample_rate, limits)?;

    let mut mono = Vec::with_capacity(reader.duration() as usize);
    let mut frame_sum = 0.0f32;
    let mut in_frame = 0usize;
    let mut push = |value: f32| {
        frame_sum += value;
        in_frame += 1;
        if in_frame == channels {
            mono.push(frame_sum / channels as f32);
            frame_sum = 0.0;
            in_frame = 0;
        }
    };
    match spec.sample_format {
        hound::SampleFormat::Float => {
            if spec.bits_per_sample != 32 {
                return Err(PromptError::Unsupported(format!(
                    "{}-bit float WAV",
                    spec.bits_per_sample
                )));
            }
            for sample in reader.samples::<f32>() {
                match sample {
                    Ok(v) if v.is_finite() => push(v.clamp(-1.0, 1.0)),
                    Ok(_) => push(0.0),
                    Err(e) if truncated(&e) => break,
                    Err(e) => return Err(PromptError::Corrupt(e.to_string())),
                }
            }
        }
        hound::SampleFormat::Int => {
            let bits = spec.bits_per_sample;
            if !(8..=32).contains(&bits) {
                return Err(PromptError::Unsupported(format!("{bits}-bit WAV")));
            }
            let scale = 1.0 / (1u64 << (bits - 1)) as f32;
            for sample in reader.samples::<i32>() {
                match sample {
                    Ok(v) => push(v as f32 * scale),
                    Err(e) if truncated(&e) => break,
                    Err(e) => return Err(PromptError::Corrupt(e.to_string())),
                }
            }
        }
    }
    Ok((mono, spec.sample_rate))
}

/// A data chunk longer than the file (a recorder that never fixed its header): keep what is there.
fn truncated(e: &hound::Error) -> bool {
    match e {
        // hound's words for a sample cut short by the end of the file.
        hound::Error::IoError(io) => {
            io.kind() == std::io::ErrorKind::UnexpectedEof
                || io.to_string().contains("enough bytes")
        }
        _ => false,
    }
}

fn decode_mp3(bytes: &[u8], limits: &PromptLimits) -> Result<(Vec<f32>, u32), PromptError> {
    let source = Cursor::new(bytes.to_vec());
    let stream = MediaSourceStream::new(Box::new(source), MediaSourceStreamOptions::default());
    let mut hint = Hint::new();
    hint.with_extension("mp3");
    let mut format = symphonia::default::get_probe()
        .probe(
            &hint,
            stream,
            FormatOptions::default(),
            MetadataOptions::default(),
        )
        .map_err(|e| PromptError::Corrupt(format!("not a readable MP3: {e}")))?;
    let track = format
        .first_track(TrackType::Audio)
        .ok_or(PromptError::NoSamples)?;
    let track_id = track.id;
    let Some(CodecParameters::Audio(params)) = track.codec_params.clone() else {
        return Err(PromptError::Unsupported(
            "MP3 without an audio track".into(),
        ));
    };
    let mut decoder = symphonia::default::get_codecs()
        .make_audio_decoder(&params, &AudioDecoderOptions::default())
        .map_err(|e| PromptError::Unsupported(e.to_string()))?;

    let mut mono = Vec::new();
    let mut interleaved: Vec<f32> = Vec::new();
    let mut rate = params.sample_rate.unwrap_or(0);
    loop {
        let packet = match format.next_packet() {
            Ok(Some(packet)) => packet,
            Ok(None) => break,
            Err(SymphoniaError::IoError(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
                break
            }
            Err(SymphoniaError::ResetRequired) => break,
            Err(e) => return Err(PromptError::Corrupt(e.to_string())),
        };
        if packet.track_id != track_id {
            continue;
        }
        let decoded = match decoder.decode(&packet) {
            Ok(decoded) => decoded,
            // A damaged frame is skipped, as players do.
            Err(SymphoniaError::DecodeError(_)) => continue,
            Err(e) => return Err(PromptError::Corrupt(e.to_string())),
        };
        rate = decoded.spec().rate();
        check_rate(rate)?;
        let channels = decoded.spec().channels().count().max(1);
        interleaved.clear();
        decoded.copy_to_vec_interleaved(&mut interleaved);
        for frame in interleaved.chunks_exact(channels) {
            mono.push(frame.iter().sum::<f32>() / channels as f32);
        }
        check_duration(mono.len() as u64, rate, limits)?;
    }
    if rate == 0 {
        return Err(PromptError::NoSamples);
    }
    Ok((mono, rate))
}

#[cfg(test)]
mod tests;
