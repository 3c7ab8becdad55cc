//! SDP offer/answer (RFC 3264 over RFC 4566 bodies) for one audio stream: G.711 µ-law and
//! A-law, RFC 4733 telephone-event/8000, ptime, and the direction attributes that carry hold.
//!
//! Parsing and writing are sdp-types'; this module decides what a Hotline leg agrees to.
//! [`remote`] reads what the other side described, [`negotiation`] keeps one leg's side of the
//! exchange (answers to offers and re-offers, our own offers and the answers to them). It is
//! pure: no sockets, no clock. It must never accept an offer it cannot carry (SRTP, video
//! only, unknown codecs): those are [`SdpError`]s the call engine maps to 488.

pub mod negotiation;
pub mod remote;

pub use negotiation::{Negotiated, SdpNegotiation};
pub use remote::{RemoteAudio, RemoteDescription};

use serde::{Deserialize, Serialize};

/// The `a=sendrecv` family (RFC 3264 §5.1, §6.1), from the point of view of the side that
/// wrote it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    SendRecv,
    SendOnly,
    RecvOnly,
    Inactive,
}

impl Direction {
    pub fn from_attribute(name: &str) -> Option<Direction> {
        match name.to_ascii_lowercase().as_str() {
            "sendrecv" => Some(Direction::SendRecv),
            "sendonly" => Some(Direction::SendOnly),
            "recvonly" => Some(Direction::RecvOnly),
            "inactive" => Some(Direction::Inactive),
            _ => None,
        }
    }

    pub const fn attribute(self) -> &'static str {
        match self {
            Direction::SendRecv => "sendrecv",
            Direction::SendOnly => "sendonly",
            Direction::RecvOnly => "recvonly",
            Direction::Inactive => "inactive",
        }
    }

    pub const fn sends(self) -> bool {
        matches!(self, Direction::SendRecv | Direction::SendOnly)
    }

    pub const fn receives(self) -> bool {
        matches!(self, Direction::SendRecv | Direction::RecvOnly)
    }

    pub const fn from_flags(sends: bool, receives: bool) -> Direction {
        match (sends, receives) {
            (true, true) => Direction::SendRecv,
            (true, false) => Direction::SendOnly,
            (false, true) => Direction::RecvOnly,
            (false, false) => Direction::Inactive,
        }
    }

    /// What the answerer may say to an offer with this direction (RFC 3264 §6.1), given
    /// whether the answerer itself holds the offerer. Holding (§8.4) means not listening: the
    /// holder may still send (music on hold), so holding takes away receiving, not sending.
    pub const fn answer_to(offered: Direction, holding: bool) -> Direction {
        let sends = offered.receives();
        let receives = offered.sends() && !holding;
        Direction::from_flags(sends, receives)
    }
}

/// Why an SDP body was refused. [`SdpError::is_not_acceptable`] says which ones are a
/// `488 Not Acceptable Here` (a well-formed offer Hotline cannot take) rather than a `400`.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SdpError {
    #[error("malformed SDP: {0}")]
    Malformed(String),
    #[error("the SDP has no audio stream")]
    NoAudio,
    #[error("no codec in common: offered {offered:?}, Hotline speaks PCMU and PCMA")]
    NoCommonCodec { offered: Vec<String> },
    #[error("unsupported transport {0:?}: Hotline speaks RTP/AVP (and RTP/AVPF) only")]
    UnsupportedTransport(String),
    #[error("absurd ptime {0:?}: expected 10 to 200 ms")]
    BadPtime(String),
    #[error("bad connection address {0:?}")]
    BadAddress(String),
    #[error("an answer arrived but no offer of ours is outstanding")]
    NoOfferOutstanding,
    #[error("the answer does not match our offer: {0}")]
    AnswerMismatch(String),
}

impl SdpError {
    /// True for offers that are well formed but cannot be accepted (the engine answers 488).
    pub fn is_not_acceptable(&self) -> bool {
        matches!(
            self,
            SdpError::NoAudio
                | SdpError::NoCommonCodec { .. }
                | SdpError::UnsupportedTransport(_)
                | SdpError::BadPtime(_)
        )
    }
}
