//! The audio codecs Hotline speaks on the wire (G.711 µ-law and A-law) and the conversions the
//! relay and the player need. Nothing here allocates: callers hand in their buffers.

pub mod g711;

use serde::{Deserialize, Serialize};

/// An audio codec Hotline can send and receive. Both are 8 kHz, one byte per sample.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Codec {
    Pcmu,
    Pcma,
}

impl Codec {
    /// The RTP/AVP static payload type (RFC 3551).
    pub const fn static_payload_type(self) -> u8 {
        match self {
            Codec::Pcmu => 0,
            Codec::Pcma => 8,
        }
    }

    /// The encoding name in `a=rtpmap`.
    pub const fn encoding_name(self) -> &'static str {
        match self {
            Codec::Pcmu => "PCMU",
            Codec::Pcma => "PCMA",
        }
    }

    pub const fn clock_rate(self) -> u32 {
        8000
    }

    pub fn from_encoding_name(name: &str) -> Option<Codec> {
        if name.eq_ignore_ascii_case("PCMU") {
            Some(Codec::Pcmu)
        } else if name.eq_ignore_ascii_case("PCMA") {
            Some(Codec::Pcma)
        } else {
            None
        }
    }

    pub fn from_static_payload_type(pt: u8) -> Option<Codec> {
        match pt {
            0 => Some(Codec::Pcmu),
            8 => Some(Codec::Pcma),
            _ => None,
        }
    }

    /// Encodes as many samples as fit in `out`; returns the bytes written.
    pub fn encode(self, samples: &[i16], out: &mut [u8]) -> usize {
        let n = samples.len().min(out.len());
        match self {
            Codec::Pcmu => {
                for (o, s) in out[..n].iter_mut().zip(samples) {
                    *o = g711::linear_to_ulaw(*s);
                }
            }
            Codec::Pcma => {
                for (o, s) in out[..n].iter_mut().zip(samples) {
                    *o = g711::linear_to_alaw(*s);
                }
            }
        }
        n
    }

    /// Decodes as many bytes as fit in `out`; returns the samples written.
    pub fn decode(self, payload: &[u8], out: &mut [i16]) -> usize {
        let n = payload.len().min(out.len());
        match self {
            Codec::Pcmu => {
                for (o, b) in out[..n].iter_mut().zip(payload) {
                    *o = g711::ulaw_to_linear(*b);
                }
            }
            Codec::Pcma => {
                for (o, b) in out[..n].iter_mut().zip(payload) {
                    *o = g711::alaw_to_linear(*b);
                }
            }
        }
        n
    }

    /// The byte that encodes silence.
    pub const fn silence(self) -> u8 {
        match self {
            Codec::Pcmu => 0xFF,
            Codec::Pcma => 0xD5,
        }
    }
}

/// Converts a G.711 payload in place from `from` to `to` (a no-op when they are the same).
pub fn transcode_in_place(from: Codec, to: Codec, payload: &mut [u8]) {
    match (from, to) {
        (Codec::Pcmu, Codec::Pcma) => {
            for b in payload.iter_mut() {
                *b = g711::ulaw_to_alaw(*b);
            }
        }
        (Codec::Pcma, Codec::Pcmu) => {
            for b in payload.iter_mut() {
                *b = g711::alaw_to_ulaw(*b);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transcoding_keeps_the_signal() {
        let samples: Vec<i16> = (0..160)
            .map(|i| ((i as f32 * 0.3).sin() * 12000.0) as i16)
            .collect();
        let mut payload = [0u8; 160];
        Codec::Pcmu.encode(&samples, &mut payload);
        transcode_in_place(Codec::Pcmu, Codec::Pcma, &mut payload);
        let mut back = [0i16; 160];
        Codec::Pcma.decode(&payload, &mut back);
        for (a, b) in samples.iter().zip(back.iter()) {
            assert!((*a as i32 - *b as i32).abs() <= (a.unsigned_abs() as i32 / 8).max(64));
        }
    }

    #[test]
    fn silence_decodes_to_near_zero() {
        let mut out = [1i16; 1];
        Codec::Pcmu.decode(&[Codec::Pcmu.silence()], &mut out);
        assert_eq!(out[0], 0);
        Codec::Pcma.decode(&[Codec::Pcma.silence()], &mut out);
        assert_eq!(out[0], 8);
    }
}
