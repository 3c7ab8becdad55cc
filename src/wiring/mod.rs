//! Adapters that join the crates: each implements a trait a crate owns (the call engine's
//! `Directory`, its `OutboundTrunks`, `PromptSource` and `RecordingFiles`, the SIP stack's views
//! of agents and trunks) over another crate (mostly the tenant store and the tenants' file
//! store), and billing's background work (`billing`). They translate and cache; business rules
//! stay in the crates.

pub mod billing;
pub mod calls;
pub mod directory;
pub mod files;
pub mod ivr;
pub mod media;
pub mod prompt_cache;
pub mod prompts;
pub mod registrar;
pub mod sip;
pub mod trunks;
