//! Proof of authorization that store functions demand.
//!
//! A `TenantScope` says "the caller was authenticated and may act inside this tenant". Every
//! store function over tenant-owned rows takes one and filters by it, so a query without a
//! tenant filter cannot be written by accident. A `PlatformScope` is the same for the
//! operator-wide functions (creating tenants, assigning numbers, firm agents), which are kept
//! separate and named so.
//!
//! Only the authentication layer (and tests) may build scopes: the constructors are explicit
//! and named for that, and a scope must never be built from a URL alone.

use crate::ids::TenantId;

/// The tenant an authenticated caller acts in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TenantScope {
    tenant_id: TenantId,
}

impl TenantScope {
    /// Build a scope after the caller's credentials were verified to cover `tenant_id`.
    pub fn from_verified(tenant_id: TenantId) -> Self {
        Self { tenant_id }
    }

    pub fn tenant_id(&self) -> TenantId {
        self.tenant_id
    }

    /// The tenant id as stored in the database.
    pub fn db_id(&self) -> String {
        self.tenant_id.to_db()
    }
}

/// The platform operator acting across tenants.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PlatformScope {
    _private: (),
}

impl PlatformScope {
    /// Build the operator scope after a platform admin was authenticated, or for local
    /// administration from the command line (whoever runs `hotline` on the host owns it).
    pub fn from_verified() -> Self {
        Self { _private: () }
    }

    /// Act inside one tenant as the operator.
    pub fn tenant(&self, tenant_id: TenantId) -> TenantScope {
        TenantScope::from_verified(tenant_id)
    }
}
