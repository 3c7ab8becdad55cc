//! SIP signaling for Hotline: UDP/TCP transports, RFC 3261 transactions and dialogs, the
//! agents' registrar (one digest realm per tenant), carrier trunks and the B2BUA legs the call
//! engine forwards calls with.
//!
//! Built on rsipstack, which stays behind this crate's own types: no other crate imports it,
//! so the stack can be replaced. This crate parses and decides what needs no tenant knowledge
//! (well-formedness, overload, loops, trunk allowlist); it never looks up tenants or numbers
//! itself (that is `routing`'s `Directory`), and it never touches media.
//!
//! Map: [`stack`] binds the transports and dispatches incoming transactions; [`leg`] is one
//! side of a call; [`message`] reads requests (pure, fuzzed); [`config`] the settings.

pub mod config;
pub mod error;
pub mod leg;
mod locator;
pub mod message;
mod overload;
pub mod registrar;
pub mod stack;
mod trunk_auth;
pub mod trunks;
mod udp_socket;

pub use config::SipConfig;
pub use error::SipError;
pub use leg::{InboundLeg, LegEnd, LegEvent, OutboundLeg, ReofferReply, Sdp};
pub use stack::{
    Admission, DialRequest, DigestTrunk, InboundGate, IncomingCall, InviteInfo, RegisterHandler,
    SipServices, SipStack, LOOP_HEADER,
};
