//! RTP and RTCP for one leg: receive statistics (RFC 3550 A.1, A.3, A.8), the outgoing stream's
//! SSRC/sequence/timestamp continuity, source latching for phones behind NAT, the port pairs
//! and the RTCP reports. Packets are read and written with rtp-types / rtcp-types.
//!
//! Everything here is pure except [`ports`], which only hands out numbers (the shell binds).

pub mod latch;
pub mod ports;
pub mod rtcp;
pub mod stats;
pub mod stream;

pub use latch::{Latch, LatchDecision};
pub use ports::{PortAllocator, PortPair};
pub use stats::{LegQuality, ReceiveStats};
pub use stream::OutboundStream;

/// RTP clock rate of every stream Hotline carries (G.711 and telephone-event/8000).
pub const CLOCK_RATE: u32 = 8000;

/// The largest datagram Hotline reads; anything longer is truncated by the socket and refused.
pub const MAX_PACKET: usize = 1500;
