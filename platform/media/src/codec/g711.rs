//! G.711 µ-law and A-law (ITU-T G.711): 16-bit linear PCM to and from one byte per sample.
//!
//! Decoding and the µ-law <-> A-law transcoding run from tables built at compile time, so the
//! relay path converts a packet with one table look-up per byte. Encoding uses the standard
//! segment search (Sun's reference algorithm), which is exact. This module must never allocate.

const ULAW_BIAS: i32 = 0x84;
const ULAW_CLIP: i32 = 32635;

/// Linear 16-bit sample to µ-law.
pub const fn linear_to_ulaw(sample: i16) -> u8 {
    let mut pcm = sample as i32;
    let sign = if pcm < 0 { 0x80 } else { 0 };
    if pcm < 0 {
        pcm = -pcm;
    }
    if pcm > ULAW_CLIP {
        pcm = ULAW_CLIP;
    }
    pcm += ULAW_BIAS;
    let mut exponent = 7;
    let mut mask = 0x4000;
    while exponent > 0 && pcm & mask == 0 {
        exponent -= 1;
        mask >>= 1;
    }
    let mantissa = (pcm >> (exponent + 3)) & 0x0F;
    !(sign | (exponent << 4) | mantissa) as u8
}

/// µ-law to linear 16-bit.
pub const fn ulaw_to_linear_exact(byte: u8) -> i16 {
    let u = !byte;
    let sign = u & 0x80;
    let exponent = ((u >> 4) & 0x07) as i32;
    let mantissa = (u & 0x0F) as i32;
    let magnitude = (((mantissa << 3) + ULAW_BIAS) << exponent) - ULAW_BIAS;
    if sign != 0 {
        -magnitude as i16
    } else {
        magnitude as i16
    }
}

/// Linear 16-bit sample to A-law.
pub const fn linear_to_alaw(sample: i16) -> u8 {
    // A-law works on 13 significant bits.
    let mut pcm = (sample as i32) >> 3;
    let sign_mask;
    if pcm >= 0 {
        sign_mask = 0xD5; // sign bit set, even bits inverted
    } else {
        sign_mask = 0x55;
        pcm = -pcm - 1;
    }
    let mut segment = 0;
    let mut limit = 0x1F;
    while segment < 8 && pcm > limit {
        segment += 1;
        limit = (limit << 1) | 1;
    }
    let code = if segment >= 8 {
        0x7F
    } else {
        let shift = if segment < 2 { 1 } else { segment };
        (segment << 4) | ((pcm >> shift) & 0x0F)
    };
    (code ^ sign_mask) as u8
}

/// A-law to linear 16-bit.
pub const fn alaw_to_linear_exact(byte: u8) -> i16 {
    let a = (byte ^ 0x55) as i32;
    let segment = (a & 0x70) >> 4;
    let mut magnitude = (a & 0x0F) << 4;
    magnitude = match segment {
        0 => magnitude + 8,
        1 => magnitude + 0x108,
        _ => (magnitude + 0x108) << (segment - 1),
    };
    if a & 0x80 != 0 {
        magnitude as i16
    } else {
        -magnitude as i16
    }
}

const fn build_ulaw_decode() -> [i16; 256] {
    let mut table = [0i16; 256];
    let mut i = 0;
    while i < 256 {
        table[i] = ulaw_to_linear_exact(i as u8);
        i += 1;
    }
    table
}

const fn build_alaw_decode() -> [i16; 256] {
    let mut table = [0i16; 256];
    let mut i = 0;
    while i < 256 {
        table[i] = alaw_to_linear_exact(i as u8);
        i += 1;
    }
    table
}

const fn build_ulaw_to_alaw() -> [u8; 256] {
    let mut table = [0u8; 256];
    let mut i = 0;
    while i < 256 {
        table[i] = linear_to_alaw(ulaw_to_linear_exact(i as u8));
        i += 1;
    }
    table
}

const fn build_alaw_to_ulaw() -> [u8; 256] {
    let mut table = [0u8; 256];
    let mut i = 0;
    while i < 256 {
        table[i] = linear_to_ulaw(alaw_to_linear_exact(i as u8));
        i += 1;
    }
    table
}

static ULAW_DECODE: [i16; 256] = build_ulaw_decode();
static ALAW_DECODE: [i16; 256] = build_alaw_decode();
static ULAW_TO_ALAW: [u8; 256] = build_ulaw_to_alaw();
static ALAW_TO_ULAW: [u8; 256] = build_alaw_to_ulaw();

#[inline]
pub fn ulaw_to_linear(byte: u8) -> i16 {
    ULAW_DECODE[byte as usize]
}

#[inline]
pub fn alaw_to_linear(byte: u8) -> i16 {
    ALAW_DECODE[byte as usize]
}

#[inline]
pub fn ulaw_to_alaw(byte: u8) -> u8 {
    ULAW_TO_ALAW[byte as usize]
}

#[inline]
pub fn alaw_to_ulaw(byte: u8) -> u8 {
    ALAW_TO_ULAW[byte as usize]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ulaw_known_values() {
        // Values from the G.711 tables: 0xFF and 0x7F are the two zeros, 0x00 the most negative.
        assert_eq!(ulaw_to_linear(0xFF), 0);
        assert_eq!(ulaw_to_linear(0x7F), 0);
        assert_eq!(ulaw_to_linear(0x00), -32124);
        assert_eq!(ulaw_to_linear(0x80), 32124);
        assert_eq!(ulaw_to_linear(0xF0), 120);
        assert_eq!(linear_to_ulaw(0), 0xFF);
        assert_eq!(linear_to_ulaw(32767), 0x80);
        assert_eq!(linear_to_ulaw(-32768), 0x00);
        assert_eq!(linear_to_ulaw(1000), 0xCE);
        assert_eq!(linear_to_ulaw(-1000), 0x4E);
    }

    #[test]
    fn alaw_known_values() {
        // 0xD5 / 0x55 are the smallest positive / negative steps (+8 / -8).
        assert_eq!(alaw_to_linear(0xD5), 8);
        assert_eq!(alaw_to_linear(0x55), -8);
        assert_eq!(alaw_to_linear(0xAA), 32256);
        assert_eq!(alaw_to_linear(0x2A), -32256);
        assert_eq!(linear_to_alaw(0), 0xD5);
        assert_eq!(linear_to_alaw(32767), 0xAA);
        assert_eq!(linear_to_alaw(-32768), 0x2A);
        assert_eq!(linear_to_alaw(1000), 0xFA);
    }

    #[test]
    fn every_code_round_trips() {
        for byte in 0..=255u8 {
            assert_eq!(
                linear_to_ulaw(ulaw_to_linear(byte)),
                byte_canonical_ulaw(byte)
            );
            assert_eq!(linear_to_alaw(alaw_to_linear(byte)), byte);
        }
    }

    // µ-law has two codes for zero (0x7F, negative zero, and 0xFF); encoding picks 0xFF.
    fn byte_canonical_ulaw(byte: u8) -> u8 {
        if byte == 0x7F {
            0xFF
        } else {
            byte
        }
    }

    #[test]
    fn quantisation_error_is_bounded_by_the_segment_step() {
        for sample in (-32768i32..=32767).step_by(7) {
            let s = sample as i16;
            let u = ulaw_to_linear(linear_to_ulaw(s)) as i32;
            let a = alaw_to_linear(linear_to_alaw(s)) as i32;
            let step = (sample.abs() / 16).max(16);
            assert!((u - sample).abs() <= step, "µ-law {sample} -> {u}");
            assert!((a - sample).abs() <= step, "A-law {sample} -> {a}");
        }
    }

    #[test]
    fn transcoding_tables_match_decode_then_encode() {
        for byte in 0..=255u8 {
            assert_eq!(ulaw_to_alaw(byte), linear_to_alaw(ulaw_to_linear(byte)));
            assert_eq!(alaw_to_ulaw(byte), linear_to_ulaw(alaw_to_linear(byte)));
        }
    }
}
