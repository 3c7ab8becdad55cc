//! Billing's store over `hotline_core::Db` (SQLite or PostgreSQL, one set of queries): tariffs
//! and versions, accounts and contracts, seat/number ownership, ingestion of metered usage,
//! billing periods and invoices, credit notes, rerating, webhook events and the outbox rows.
//!
//! Decisions:
//! - Every function over a tenant's data takes a [`TenantScope`] and filters by it; functions
//!   for the platform operator take a [`PlatformScope`] and are named `platform_*`.
//! - Finality is enforced twice: each write filters on the invoice's status and checks the rows
//!   it touched, and the schema's triggers refuse any change to a finalized invoice, its lines,
//!   metered usage, adjustments, credit notes and used tariff versions
//!   ([`BillingError::Immutable`](crate::BillingError::Immutable)).
//! - Ingestion and finalization meet on the invoice row: ingestion holds a shared lock on the
//!   invoice it appends to (PostgreSQL `FOR SHARE`; SQLite serializes writers with
//!   `BEGIN IMMEDIATE`), and finalization takes the row's write lock first. So usage is either
//!   committed before an invoice's finalization reads it, or sees the invoice final and becomes
//!   an adjustment on the next open one — never lost between the two.
//! - Times are passed in (`now`), never read here, so every rule is testable; the [`crate::Billing`]
//!   handle supplies its clock.
//!
//! This module must never compute money itself: amounts come from [`crate::invoice_calc`].
//!
//! [`TenantScope`]: hotline_core::TenantScope
//! [`PlatformScope`]: hotline_core::PlatformScope

mod accounts;
mod credit_notes;
mod ended_periods;
mod idempotency;
mod ingest;
mod invoices;
mod outbox_rows;
mod ownership;
mod periods;
mod reports;
mod rerate;
mod rows;
mod tariffs;
mod terms;
mod usage_export;
mod void;
mod webhooks;

use hotline_core::{Backend, Db};

pub use accounts::{Account, AccountSettings, Contract};
pub use credit_notes::{CreditNote, CreditNoteLineInput};
pub use idempotency::{IdempotencyClaim, StoredResponse, KEY_LIFETIME};
pub use ingest::{BatchOutcome, IngestCounts, IngestOutcome, NotBilledReason};
pub use invoices::{InvoiceDetail, InvoiceStatus, InvoiceSummary, PaymentStatus};
pub use outbox_rows::{OutboxOperation, OutboxRow, OutboxStatus};
pub use ownership::{OwnershipOutcome, UnitChange};
pub use periods::{CloseReport, Grace, ProviderSync};
pub use reports::{metric_usage, MetricUsage, TenantRevenue, UsageSummary};
pub use rerate::RerateReport;
pub use tariffs::{StoredTariffVersion, Tariff};
pub use usage_export::{ExportedUsage, UsageExport};
pub use webhooks::WebhookOutcome;

pub(crate) use outbox_rows::{OutboxClaim, OutboxCompletion};

/// Billing's tables on the shared database. Cheap to clone.
#[derive(Clone, Debug)]
pub struct BillingStore {
    db: Db,
}

impl BillingStore {
    pub fn new(db: Db) -> Self {
        Self { db }
    }

    pub fn db(&self) -> &Db {
        &self.db
    }

    fn backend(&self) -> Backend {
        self.db.backend()
    }
}
