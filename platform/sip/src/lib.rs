//! SIP signaling for Hotline: UDP/TCP transports, RFC 3261 transactions and dialogs, the
//! agents' registrar (one digest realm per tenant), carrier trunks and the B2BUA that
//! forwards calls.
//!
//! Built on rsipstack, which stays behind this crate's own types: no other crate imports it,
//! so the stack can be replaced. This crate parses and decides; it never looks up tenants or
//! numbers itself (that is `routing`'s `Directory`), and it never touches media.
//!
//! Not built yet: the SIP signaling issue fills it.
