//! Media for Hotline calls: SDP offer/answer, RTP/RTCP, G.711 µ-law and A-law, DTMF
//! (RFC 4733, in-band, SIP INFO), the prompt player, the stereo recorder and the two-leg bridge.
//!
//! The core is sans-IO (packet and time in, packets and events out) inside a thin tokio shell.
//! It must never know tenants, storage or signaling; `routing` drives it.
//!
//! # Map
//! - [`sdp`]: what a leg agrees to (offers, answers, re-offers, hold), and the 488 errors.
//! - [`rtp`]: receive statistics, the outgoing stream's continuity, latching, port pairs, RTCP.
//! - [`codec`]: G.711 tables and transcoding.
//! - [`dtmf`]: RFC 4733 receive/send, the in-band Goertzel detector, SIP INFO bodies.
//! - [`prompt`]: the upload converter and resampler, tones, the playlist player.
//! - [`record`]: the stereo WAV writer, its crash repair, the two-channel mixer.
//! - [`leg`] and [`bridge`]: the sans-IO state machines that use all of the above.
//! - [`engine`]: the tokio shell — [`MediaEngine`], [`LegHandle`], [`BridgeHandle`].
//!
//! # How the call engine drives it
//! ```text
//! let media = MediaEngine::start(config)?;                         // inside a tokio runtime
//! let (caller, answer) = media.inbound_leg(&offer, LegOptions::default()).await?;
//!     // Err(e) with e.is_not_acceptable() -> 488; answer goes in the 200 OK
//! caller.play(Playlist::once(vec![PlayItem::Prompt(welcome.clone())]), true).await?;
//!     // Finished | Interrupted { digit } | Stopped
//! while let Some(event) = caller.next_event().await { /* Digit, MediaTimeout, ... */ }
//! let (agent, offer) = media.outbound_leg(LegOptions::default()).await?;  // INVITE the agent
//! agent.apply_answer(&their_answer).await?;
//! let bridge = media.bridge(caller, agent).await?;
//! bridge.start_recording(RecordingTarget::Path(path), Side::A).await?;  // caller left
//! let (caller, agent, summary) = bridge.unbridge().await?;             // back to prompts
//! ```
//! Prompts are converted once at upload ([`prompt::convert_upload`]), stored by the caller
//! ([`prompt::Prompt::to_wav`]) and loaded once ([`prompt::Prompt::load`]) into an
//! `Arc`-backed [`prompt::Prompt`] that every call plays without copying. At start-up,
//! [`record::repair_all`] fixes the recordings a crash left open.

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
