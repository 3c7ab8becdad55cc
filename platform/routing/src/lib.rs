//! The call engine: one task per call, from the inbound leg through the hotline's schedule,
//! the IVR plugin, the ACD queues and the agent leg to the final call record.
//!
//! It knows no storage: what it needs from the outside is a small trait it owns
//! ([`Directory`] for number → tenant/hotline, [`CallRecordSink`] for finished records),
//! implemented by the binary over `tenants` and `billing`. It must never depend on those crates.

pub mod directory;
pub mod sink;

pub use directory::{
    Directory, DirectoryError, HotlineAction, HotlineRoute, NoAnswerTarget, NumberRoute, OpenHours,
    TenantRoute, TenantState,
};
pub use sink::{CallRecordSink, SinkError};
