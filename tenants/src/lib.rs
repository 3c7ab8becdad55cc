//! The tenant model and its store: tenants, users and roles, numbers, hotlines and their
//! schedules, queues and memberships, agents (the firm's and tenants' own), prompts, API keys,
//! authentication and the audit log.
//!
//! Tenancy is enforced here, not by callers' good manners: every function over tenant-owned
//! rows takes a [`TenantScope`](hotline_core::TenantScope) and filters by it; operator-wide
//! functions take a [`PlatformScope`](hotline_core::PlatformScope) and are named for the
//! operator (`create_tenant`, `create_firm_agent`, ...). References between tenant-owned rows
//! are checked to stay inside the tenant, and the schema's composite foreign keys back that up.
//!
//! Every configuration change writes its audit entry in the same transaction. This crate never
//! speaks HTTP; `admin-ui` maps its errors onto problem+json.

pub mod agents;
pub mod api_keys;
pub mod audit;
pub mod auth;
pub mod call_records;
mod changes;
mod crud;
pub mod directory;
pub mod error;
mod hotline_actions;
pub mod hotlines;
pub mod members;
pub mod numbers;
mod password;
pub mod prompts;
pub mod queues;
pub mod rbac;
pub mod route_queues;
pub mod schedule;
pub mod sip_bindings;
pub mod tenants;
pub mod trunks;
pub mod users;
mod validate;

pub use crud::{Page, PageRequest, Spec, Stored};
pub use error::{FieldError, Invalid, StoreError, StoreResult};

use std::sync::Arc;

use hotline_core::Db;

/// Settings the store needs from the installation's configuration.
#[derive(Clone, Debug)]
pub struct StoreConfig {
    /// Tenants' SIP domains are `<slug>.<suffix>`; firm agents register in the suffix itself.
    pub sip_domain_suffix: String,
}

impl Default for StoreConfig {
    fn default() -> Self {
        Self {
            sip_domain_suffix: "sip.hotline.local".into(),
        }
    }
}

/// The tenant store over one database.
#[derive(Clone, Debug)]
pub struct Store {
    db: Db,
    config: StoreConfig,
    changes: Arc<changes::Changes>,
}

impl Store {
    pub fn new(db: Db, config: StoreConfig) -> Self {
        Self {
            db,
            config,
            changes: Arc::default(),
        }
    }

    pub fn db(&self) -> &Db {
        &self.db
    }

    /// Changes with every committed write to what routes a dialed number (tenants, numbers,
    /// hotlines, agents and their assignments): a cache of number routes is stale once it moved.
    /// Shared by the clones of this store only (see `changes`).
    pub fn routing_generation(&self) -> u64 {
        self.changes.routing()
    }

    /// Changes with every committed write to the carrier trunks.
    pub fn trunks_generation(&self) -> u64 {
        self.changes.trunks()
    }
}
