//! DTMF digits from every way a carrier or phone sends them: RFC 4733 telephone-events in RTP
//! ([`rfc4733`], receive and send), tones inside the audio ([`inband`], a Goertzel detector),
//! and SIP INFO bodies ([`sip_info`]). All three give the same [`Digit`]; the leg turns them
//! into [`DigitEvent`]s stamped with its media clock.
//!
//! Pure code: no sockets, no clock reads.

pub mod inband;
pub mod rfc4733;
pub mod sip_info;

use serde::{Deserialize, Serialize};

/// One DTMF key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Digit {
    D0,
    D1,
    D2,
    D3,
    D4,
    D5,
    D6,
    D7,
    D8,
    D9,
    Star,
    Pound,
    A,
    B,
    C,
    D,
}

impl Digit {
    pub const ALL: [Digit; 16] = [
        Digit::D1,
        Digit::D2,
        Digit::D3,
        Digit::A,
        Digit::D4,
        Digit::D5,
        Digit::D6,
        Digit::B,
        Digit::D7,
        Digit::D8,
        Digit::D9,
        Digit::C,
        Digit::Star,
        Digit::D0,
        Digit::Pound,
        Digit::D,
    ];

    /// RFC 4733 §3.2 event code.
    pub const fn event_code(self) -> u8 {
        match self {
            Digit::D0 => 0,
            Digit::D1 => 1,
            Digit::D2 => 2,
            Digit::D3 => 3,
            Digit::D4 => 4,
            Digit::D5 => 5,
            Digit::D6 => 6,
            Digit::D7 => 7,
            Digit::D8 => 8,
            Digit::D9 => 9,
            Digit::Star => 10,
            Digit::Pound => 11,
            Digit::A => 12,
            Digit::B => 13,
            Digit::C => 14,
            Digit::D => 15,
        }
    }

    pub const fn from_event_code(code: u8) -> Option<Digit> {
        Some(match code {
            0 => Digit::D0,
            1 => Digit::D1,
            2 => Digit::D2,
            3 => Digit::D3,
            4 => Digit::D4,
            5 => Digit::D5,
            6 => Digit::D6,
            7 => Digit::D7,
            8 => Digit::D8,
            9 => Digit::D9,
            10 => Digit::Star,
            11 => Digit::Pound,
            12 => Digit::A,
            13 => Digit::B,
            14 => Digit::C,
            15 => Digit::D,
            _ => return None,
        })
    }

    pub const fn as_char(self) -> char {
        match self {
            Digit::Star => '*',
            Digit::Pound => '#',
            Digit::A => 'A',
            Digit::B => 'B',
            Digit::C => 'C',
            Digit::D => 'D',
            other => (b'0' + other.event_code()) as char,
        }
    }

    pub fn from_char(c: char) -> Option<Digit> {
        match c.to_ascii_uppercase() {
            '0'..='9' => Digit::from_event_code(c as u8 - b'0'),
            '*' => Some(Digit::Star),
            '#' => Some(Digit::Pound),
            'A' => Some(Digit::A),
            'B' => Some(Digit::B),
            'C' => Some(Digit::C),
            'D' => Some(Digit::D),
            _ => None,
        }
    }

    /// The (row, column) frequencies of the keypad tone, in Hz.
    pub const fn frequencies(self) -> (f32, f32) {
        let (row, col) = match self {
            Digit::D1 => (0, 0),
            Digit::D2 => (0, 1),
            Digit::D3 => (0, 2),
            Digit::A => (0, 3),
            Digit::D4 => (1, 0),
            Digit::D5 => (1, 1),
            Digit::D6 => (1, 2),
            Digit::B => (1, 3),
            Digit::D7 => (2, 0),
            Digit::D8 => (2, 1),
            Digit::D9 => (2, 2),
            Digit::C => (2, 3),
            Digit::Star => (3, 0),
            Digit::D0 => (3, 1),
            Digit::Pound => (3, 2),
            Digit::D => (3, 3),
        };
        (inband::ROWS[row], inband::COLUMNS[col])
    }
}

impl std::fmt::Display for Digit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.as_char())
    }
}

/// Which keys stop a prompt while it plays (barge-in). A set of the 16 DTMF keys, copied by
/// value: checking it costs nothing per packet.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BargeIn(u16);

impl BargeIn {
    /// No key stops the prompt.
    pub const NONE: BargeIn = BargeIn(0);
    /// Any key stops it.
    pub const ANY: BargeIn = BargeIn(u16::MAX);

    /// Only these keys stop it; an empty list means any key.
    pub fn keys(keys: &[Digit]) -> BargeIn {
        if keys.is_empty() {
            return BargeIn::ANY;
        }
        BargeIn(keys.iter().fold(0, |set, d| set | (1 << d.event_code())))
    }

    pub fn stops_on(self, digit: Digit) -> bool {
        self.0 & (1 << digit.event_code()) != 0
    }
}

impl From<bool> for BargeIn {
    fn from(any_key: bool) -> BargeIn {
        if any_key {
            BargeIn::ANY
        } else {
            BargeIn::NONE
        }
    }
}

/// How a digit reached Hotline.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DigitSource {
    Rfc4733,
    InBand,
    SipInfo,
}

/// A digit as the call engine receives it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DigitEvent {
    pub digit: Digit,
    pub source: DigitSource,
    /// Media-clock time the key went down: whole milliseconds since the leg started.
    pub at_ms: u64,
    pub duration_ms: u32,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn barge_in_sets_stop_on_their_keys_only() {
        let one_or_hash = BargeIn::keys(&[
            Digit::from_char('1').unwrap(),
            Digit::from_char('#').unwrap(),
        ]);
        for c in "0123456789*#ABCD".chars() {
            let digit = Digit::from_char(c).unwrap();
            assert_eq!(one_or_hash.stops_on(digit), c == '1' || c == '#', "{c}");
            assert!(BargeIn::ANY.stops_on(digit) && BargeIn::keys(&[]).stops_on(digit));
            assert!(!BargeIn::NONE.stops_on(digit) && !BargeIn::from(false).stops_on(digit));
        }
    }

    #[test]
    fn codes_and_chars_round_trip() {
        for d in Digit::ALL {
            assert_eq!(Digit::from_event_code(d.event_code()), Some(d));
            assert_eq!(Digit::from_char(d.as_char()), Some(d));
        }
        assert_eq!(Digit::from_event_code(16), None);
        assert_eq!(Digit::from_char('x'), None);
    }
}
