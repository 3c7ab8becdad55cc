//! Carrier trunks as the SIP side uses them: which trunk an INVITE came from (source
//! allowlist, most specific network wins), which trunk an outbound call leaves through (enabled,
//! with room under its concurrent-call limit, held by a permit that frees its slot on drop),
//! the caller number presented to the provider, and the registrations kept with providers.
//!
//! The configuration arrives as our own [`TrunkConfig`] values (the binary loads them from the
//! tenant store) and is swapped at runtime in [`Trunks`] when the operator changes a trunk;
//! call slots in use survive the swap. Everything here but [`registration`] is pure and
//! clock-free. This module never reads the database and never puts rsipstack types in what
//! other crates see (only [`registration::run`], which the stack in this crate starts, takes the
//! endpoint).

mod caller_id;
mod config;
mod handle;
pub mod registration;
mod table;

pub use caller_id::presented_caller;
pub use config::{
    CallerIdPolicy, Credentials, InboundDigest, OutboundConfig, SourceNet, TrunkConfig,
    TrunkTransport,
};
pub use handle::{RegistrationState, Trunks};
pub use table::{OutboundTrunk, TrunkPermit, TrunkTable};
