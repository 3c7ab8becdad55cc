//! The billing crate's errors: what the store, ingestion, period closing, the outbox and webhook
//! handling report to their callers (the binary, the API). Each variant says what went wrong in
//! terms an operator can act on; database details stay inside [`BillingError::Database`].
//!
//! Must never carry secrets (webhook payloads, keys) in a message.

use crate::content::ContentError;
use crate::cycle::InvalidBillingDay;
use crate::gateway::WebhookError;
use crate::ids::InvoiceId;
use crate::invoice_calc::InvoiceError;
use crate::money::MoneyError;
use crate::tariff::{TariffError, TariffId};

/// The marker the schema's triggers put in their error message when they refuse a change to a
/// finalized invoice, its lines, usage, adjustments, credit notes or a used tariff version.
pub(crate) const IMMUTABLE_MARKER: &str = "hotline_billing_immutable";

#[derive(Debug, thiserror::Error)]
pub enum BillingError {
    #[error("billing database error: {0}")]
    Database(#[source] sqlx::Error),
    /// The database refused a change to something billing never changes once it is final.
    #[error("refused: {0} is final and cannot change")]
    Immutable(String),
    #[error("invoice {0} is finalized; it can no longer change (issue a credit note instead)")]
    InvoiceFinalized(InvoiceId),
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("{0} already exists")]
    AlreadyExists(&'static str),
    #[error("invalid {field}: {reason}")]
    Invalid { field: &'static str, reason: String },
    #[error(transparent)]
    Tariff(#[from] TariffError),
    #[error("tariff {tariff} version {version} is in use (in effect or billed) and cannot change; add a new version with a future effective date")]
    VersionInUse { tariff: TariffId, version: u32 },
    #[error("another version of tariff {tariff} was stored at the same time; reload and retry")]
    VersionConflict { tariff: TariffId },
    #[error(transparent)]
    BillingDay(#[from] InvalidBillingDay),
    #[error(transparent)]
    Invoice(#[from] InvoiceError),
    #[error(transparent)]
    Money(#[from] MoneyError),
    #[error("the record belongs to another tenant than the scope it was ingested in")]
    TenantMismatch,
    #[error("invoice {invoice} cannot be finalized yet: {reason}")]
    NotReadyToFinalize { invoice: InvoiceId, reason: String },
    #[error("credit notes would exceed the invoice total ({total_minor} minor units; already credited {credited_minor}, asked {asked_minor})")]
    CreditExceedsInvoice {
        total_minor: i64,
        credited_minor: i64,
        asked_minor: i64,
    },
    #[error("stored invoice content does not verify: {0}")]
    Content(#[from] ContentError),
    #[error("stored data is unreadable: {0}")]
    Corrupt(String),
    #[error("no payment gateway is configured")]
    NoGateway,
    #[error(transparent)]
    Webhook(#[from] WebhookError),
}

impl From<sqlx::Error> for BillingError {
    fn from(err: sqlx::Error) -> Self {
        match &err {
            sqlx::Error::Database(db) if db.message().contains(IMMUTABLE_MARKER) => {
                BillingError::Immutable(
                    db.message()
                        .replace(IMMUTABLE_MARKER, "")
                        .trim_matches([':', ' '])
                        .to_owned(),
                )
            }
            _ => BillingError::Database(err),
        }
    }
}

impl From<serde_json::Error> for BillingError {
    fn from(err: serde_json::Error) -> Self {
        BillingError::Corrupt(err.to_string())
    }
}

impl BillingError {
    pub(crate) fn invalid(field: &'static str, reason: impl Into<String>) -> Self {
        BillingError::Invalid {
            field,
            reason: reason.into(),
        }
    }

    /// A transaction PostgreSQL aborted to break a deadlock or a serialization conflict: the
    /// whole transaction may simply run again.
    pub(crate) fn is_transient_conflict(&self) -> bool {
        match self {
            BillingError::Database(sqlx::Error::Database(db)) => {
                matches!(db.code().as_deref(), Some("40P01") | Some("40001"))
            }
            _ => false,
        }
    }
}

pub type BillingResult<T> = Result<T, BillingError>;
