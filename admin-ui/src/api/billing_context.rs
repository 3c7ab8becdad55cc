//! What the billing endpoints share: the billing handle (its store, the payment gateway when one
//! is configured, its clock), the seller printed on invoices, and the grace period given to
//! billing accounts created without one.
//!
//! Holds configuration only; it must never hold a rule of billing's.

use std::time::Duration;

use hotline_billing::Billing;
use hotline_core::Db;

/// Who issues the invoices: the outsourcing firm running this installation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Seller {
    pub name: String,
    /// Postal address, registration and tax numbers; one item per printed line.
    pub address_lines: Vec<String>,
}

impl Default for Seller {
    fn default() -> Self {
        Self {
            name: "Hotline".into(),
            address_lines: Vec::new(),
        }
    }
}

#[derive(Clone)]
pub struct BillingContext {
    pub billing: Billing,
    pub seller: Seller,
    /// Grace period of a billing account created without one.
    pub default_grace: Duration,
}

/// One day of grace for late call records unless configured otherwise.
pub const DEFAULT_GRACE: Duration = Duration::from_secs(24 * 60 * 60);

impl BillingContext {
    /// Billing on `db` with no payment gateway: everything works locally, nothing is sent.
    pub fn local(db: Db) -> Self {
        Self {
            billing: Billing::new(db, None),
            seller: Seller::default(),
            default_grace: DEFAULT_GRACE,
        }
    }
}
