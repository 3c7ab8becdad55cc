//! What every Hotline crate shares: typed ids, the tenant scope, time, call events and records,
//! the database handle with its migrations, and the store for tenants' files ([`blob`]).
//!
//! This crate sits at the bottom of the crate graph: it must never depend on another Hotline
//! crate, and it holds no business rules of its own (those live in the crate that owns the data).

pub mod blob;
pub mod call;
pub mod db;
pub mod e164;
pub mod ids;
pub mod scope;
pub mod time;

#[cfg(feature = "testing")]
pub mod testing;

pub use db::{Backend, Db, DbError};
pub use scope::{PlatformScope, TenantScope};
