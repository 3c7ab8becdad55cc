//! Media for Hotline calls: SDP offer/answer, RTP/RTCP, G.711 µ-law and A-law, DTMF
//! (RFC 4733, in-band, SIP INFO), the prompt player, the stereo recorder and the two-leg bridge.
//!
//! The core is sans-IO (packet and time in, packets and events out) inside a thin tokio shell.
//! It must never know tenants, storage or signaling; `routing` drives it.

pub mod bridge;
pub mod codec;
pub mod dtmf;
pub mod engine;
pub mod error;
pub mod leg;
pub mod prompt;
pub mod record;
pub mod rtp;
pub mod sdp;

pub use engine::{BridgeHandle, LegHandle, LegOptions, MediaConfig, MediaEngine, RecordingTarget};
pub use error::MediaError;
