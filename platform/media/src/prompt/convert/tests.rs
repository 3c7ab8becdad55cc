use super::*;

fn wav(spec: hound::WavSpec, seconds: f32, freq: f32) -> Vec<u8> {
    let mut out = Cursor::new(Vec::new());
    let mut w = hound::WavWriter::new(&mut out, spec).unwrap();
    let frames = (spec.sample_rate as f32 * seconds) as usize;
    for n in 0..frames {
        let v =
            0.5 * (2.0 * std::f32::consts::PI * freq * n as f32 / spec.sample_rate as f32).sin();
        for _ in 0..spec.channels {
            match (spec.sample_format, spec.bits_per_sample) {
                (hound::SampleFormat::Float, _) => w.write_sample(v).unwrap(),
                (_, 8) => w.write_sample((v * 127.0) as i8).unwrap(),
                (_, 16) => w.write_sample((v * 32767.0) as i16).unwrap(),
                (_, 24) => w.write_sample((v * 8_388_607.0) as i32).unwrap(),
                (_, 32) => w.write_sample((v * 2_147_483_647.0) as i32).unwrap(),
                _ => unreachable!(),
            }
        }
    }
    w.finalize().unwrap();
    out.into_inner()
}

fn spec(channels: u16, rate: u32, bits: u16, float: bool) -> hound::WavSpec {
    hound::WavSpec {
        channels,
        sample_rate: rate,
        bits_per_sample: bits,
        sample_format: if float {
            hound::SampleFormat::Float
        } else {
            hound::SampleFormat::Int
        },
    }
}

fn zero_crossing_frequency(x: &[i16]) -> f32 {
    let crossings = x.windows(2).filter(|w| w[0] < 0 && w[1] >= 0).count();
    crossings as f32 * 8000.0 / x.len() as f32
}

fn peak(x: &[i16]) -> i32 {
    x.iter().map(|s| (*s as i32).abs()).max().unwrap_or(0)
}

#[test]
fn every_common_wav_becomes_8khz_mono() {
    for (channels, rate, bits, float) in [
        (1, 8000, 16, false),
        (1, 16000, 16, false),
        (2, 44100, 16, false),
        (2, 48000, 24, false),
        (1, 22050, 8, false),
        (2, 32000, 32, false),
        (1, 48000, 32, true),
        (2, 96000, 32, true),
        (1, 11025, 16, false),
    ] {
        let bytes = wav(spec(channels, rate, bits, float), 1.0, 440.0);
        let prompt = convert_upload(&bytes, &PromptLimits::default())
            .unwrap_or_else(|e| panic!("{channels}ch {rate} Hz {bits} bit: {e}"));
        let samples = prompt.samples();
        assert!(
            (samples.len() as i64 - 8000).abs() <= 1,
            "{rate}: {} samples",
            samples.len()
        );
        let middle = &samples[400..7600];
        let f = zero_crossing_frequency(middle);
        assert!(
            (f - 440.0).abs() < 3.0,
            "{channels}ch {rate} Hz {bits} bit: {f} Hz"
        );
        let p = peak(middle);
        assert!(
            (16000..16700).contains(&p),
            "{channels}ch {rate} Hz {bits} bit: peak {p}"
        );
    }
}

#[test]
fn stereo_is_mixed_down() {
    // Left a tone, right silence: the mix has half the amplitude.
    let mut out = Cursor::new(Vec::new());
    let mut w = hound::WavWriter::new(&mut out, spec(2, 8000, 16, false)).unwrap();
    for n in 0..8000 {
        let v = (16000.0 * (2.0 * std::f32::consts::PI * 500.0 * n as f32 / 8000.0).sin()) as i16;
        w.write_sample(v).unwrap();
        w.write_sample(0i16).unwrap();
    }
    w.finalize().unwrap();
    let prompt = convert_upload(&out.into_inner(), &PromptLimits::default()).unwrap();
    let p = peak(prompt.samples());
    assert!((7900..8100).contains(&p), "{p}");
}

#[test]
fn not_audio_is_refused_with_a_reason() {
    let limits = PromptLimits::default();
    assert_eq!(convert_upload(b"", &limits), Err(PromptError::Empty));
    assert_eq!(
        convert_upload(b"hello, this is text\n", &limits),
        Err(PromptError::NotAudio("text"))
    );
    assert_eq!(
        convert_upload(b"\x89PNG\r\n\x1a\n0000", &limits),
        Err(PromptError::NotAudio("an image"))
    );
    assert_eq!(
        convert_upload(b"%PDF-1.4 ...", &limits),
        Err(PromptError::NotAudio("a PDF document"))
    );
    assert!(matches!(
        convert_upload(b"OggS\0\0\0", &limits),
        Err(PromptError::NotAudio(_))
    ));
    assert!(matches!(
        convert_upload(&[0u8, 1, 2, 3, 250, 251], &limits),
        Err(PromptError::NotAudio(_))
    ));
}

#[test]
fn damaged_wav_is_a_clear_error() {
    let limits = PromptLimits::default();
    // A RIFF/WAVE header and nothing else.
    assert!(matches!(
        convert_upload(b"RIFF\x24\0\0\0WAVEfmt ", &limits),
        Err(PromptError::Corrupt(_))
    ));
    // A-law WAV (format tag 6): a real format Hotline does not read.
    let mut alaw = wav(spec(1, 8000, 16, false), 0.1, 440.0);
    alaw[20] = 6;
    assert!(matches!(
        convert_upload(&alaw, &limits),
        Err(PromptError::Unsupported(_)) | Err(PromptError::Corrupt(_))
    ));
    // Garbage after a good header must not panic.
    let mut garbage = wav(spec(1, 8000, 16, false), 0.1, 440.0);
    for b in garbage.iter_mut().skip(44) {
        *b = 0xA5;
    }
    assert!(convert_upload(&garbage, &limits).is_ok());
}

#[test]
fn a_data_chunk_longer_than_the_file_keeps_what_is_there() {
    let mut bytes = wav(spec(1, 8000, 16, false), 0.5, 440.0);
    bytes.truncate(44 + 2000);
    let prompt = convert_upload(&bytes, &PromptLimits::default()).unwrap();
    assert_eq!(prompt.samples().len(), 1000);
}

#[test]
fn too_large_and_too_long_are_refused_before_decoding() {
    let bytes = wav(spec(1, 8000, 16, false), 3.0, 440.0);
    let small = PromptLimits {
        max_bytes: 1000,
        max_duration: Duration::from_secs(60),
    };
    assert_eq!(
        convert_upload(&bytes, &small),
        Err(PromptError::TooLarge {
            size: bytes.len(),
            limit: 1000
        })
    );
    let short = PromptLimits {
        max_bytes: 1 << 20,
        max_duration: Duration::from_secs(2),
    };
    assert_eq!(
        convert_upload(&bytes, &short),
        Err(PromptError::TooLong {
            seconds: 3,
            limit: 2
        })
    );
}

#[test]
fn an_empty_wav_holds_no_sound() {
    let bytes = wav(spec(1, 8000, 16, false), 0.0, 440.0);
    assert_eq!(
        convert_upload(&bytes, &PromptLimits::default()),
        Err(PromptError::NoSamples)
    );
}

#[test]
fn a_stored_prompt_loads_back_as_is() {
    let prompt = convert_upload(
        &wav(spec(2, 44100, 16, false), 0.5, 300.0),
        &PromptLimits::default(),
    )
    .unwrap();
    let stored = prompt.to_wav();
    assert_eq!(
        Prompt::load(&stored, &PromptLimits::default()).unwrap(),
        prompt
    );
    assert_eq!(prompt.duration(), Duration::from_millis(500));
}

/// Made once with `lame` (see tests/data/README.md); 1 s of 440 Hz at 44.1 kHz, stereo.
const MP3: &[u8] = include_bytes!("../../../tests/data/tone-440hz-44k1.mp3");

#[test]
fn mp3_is_decoded_and_resampled() {
    let prompt = convert_upload(MP3, &PromptLimits::default()).unwrap();
    let samples = prompt.samples();
    // lame pads the start and end; allow a frame either way.
    assert!((7500..9000).contains(&samples.len()), "{}", samples.len());
    let middle = &samples[1500..6500];
    let f = zero_crossing_frequency(middle);
    assert!((f - 440.0).abs() < 4.0, "{f}");
    assert!(peak(middle) > 8000);
}

#[test]
fn truncated_or_mangled_mp3_does_not_panic() {
    let limits = PromptLimits::default();
    for cut in [3, 10, 100, 417, 1000] {
        let _ = convert_upload(&MP3[..cut.min(MP3.len())], &limits);
    }
    let mut mangled = MP3.to_vec();
    for (i, b) in mangled.iter_mut().enumerate().skip(200) {
        if i % 7 == 0 {
            *b ^= 0x5A;
        }
    }
    let _ = convert_upload(&mangled, &limits);
    let too_long = PromptLimits {
        max_bytes: 1 << 20,
        max_duration: Duration::from_millis(300),
    };
    assert!(matches!(
        convert_upload(MP3, &too_long),
        Err(PromptError::TooLong { .. })
    ));
}
