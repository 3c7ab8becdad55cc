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
mod crud;
pub mod error;
pub mod hotlines;
pub mod members;
pub mod numbers;
mod password;
pub mod prompts;
pub mod queues;
pub mod rbac;
pub mod schedule;
pub mod tenants;
pub mod users;
mod validate;

pub use crud::{Page, PageRequest, Spec, Stored};
pub use error::{FieldError, Invalid, StoreError, StoreResult};

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
}

impl Store {
    pub fn new(db: Db, config: StoreConfig) -> Self {
        Self { db, config }
    }

    pub fn db(&self) -> &Db {
        &self.db
    }
}
