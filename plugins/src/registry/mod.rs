//! The plugin registry: uploads validated ([`validate`]) into immutable numbered versions owned
//! by a tenant (private) or the platform (the catalog every tenant may use), their precompiled
//! artifacts cached on disk and in memory, and plugins loaded for a call.

pub mod validate;

pub use crate::host::run::World;
