//! The outbox's rows: work for the payment provider, written in the same transaction as the
//! finalization (or credit note) it mirrors, and the state the driver keeps on them.
//!
//! Decisions:
//! - One row per provider call (ensure the customer, create the draft, add each item, finalize;
//!   later a credit note), numbered by `step` within its invoice. A step is due only once every
//!   earlier step of its invoice is done, so an item is never sent before its draft exists.
//! - Each row stores its idempotency key. A spent key is replaced by its next generation only
//!   after reconciliation showed the object does not exist (see [`crate::gateway`]).
//! - Status: `local` (no provider configured: nothing is ever sent), `pending` (the driver sends
//!   it when due), `done`, `failed` (a permanent error: visible, and retried only when an
//!   operator says so).
//! - The driver claims a row with a lease (`claimed_until`) before calling the provider, so two
//!   drivers (two nodes) never send one row at once; a crashed driver's lease simply expires.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use chrono::{DateTime, Utc};
use hotline_core::ids::TenantId;
use hotline_core::{time, PlatformScope};
use sqlx::any::AnyRow;
use sqlx::AnyConnection;
use uuid::Uuid;

use super::rows;
use super::BillingStore;
use crate::error::{BillingError, BillingResult};
use crate::gateway::{CreditNoteLine, IdempotencyKey};
use crate::ids::{AccountId, InvoiceId, OutboxId};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum OutboxOperation {
    EnsureCustomer,
    CreateDraft,
    AddItem,
    Finalize,
    CreditNote,
}

impl OutboxOperation {
    pub fn as_str(self) -> &'static str {
        match self {
            OutboxOperation::EnsureCustomer => "ensure_customer",
            OutboxOperation::CreateDraft => "create_draft",
            OutboxOperation::AddItem => "add_item",
            OutboxOperation::Finalize => "finalize",
            OutboxOperation::CreditNote => "credit_note",
        }
    }
}

impl FromStr for OutboxOperation {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Ok(match text {
            "ensure_customer" => OutboxOperation::EnsureCustomer,
            "create_draft" => OutboxOperation::CreateDraft,
            "add_item" => OutboxOperation::AddItem,
            "finalize" => OutboxOperation::Finalize,
            "credit_note" => OutboxOperation::CreditNote,
            other => return Err(format!("unknown outbox operation {other:?}")),
        })
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum OutboxStatus {
    Local,
    Pending,
    Done,
    Failed,
}

impl OutboxStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            OutboxStatus::Local => "local",
            OutboxStatus::Pending => "pending",
            OutboxStatus::Done => "done",
            OutboxStatus::Failed => "failed",
        }
    }
}

impl fmt::Display for OutboxStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for OutboxStatus {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Ok(match text {
            "local" => OutboxStatus::Local,
            "pending" => OutboxStatus::Pending,
            "done" => OutboxStatus::Done,
            "failed" => OutboxStatus::Failed,
            other => return Err(format!("unknown outbox status {other:?}")),
        })
    }
}

/// One unit of provider work and where it stands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutboxRow {
    pub id: OutboxId,
    pub tenant_id: TenantId,
    pub invoice_id: InvoiceId,
    pub step: u32,
    pub operation: OutboxOperation,
    /// Our id of the object: account, invoice, line (or tax item) or credit note.
    pub subject_id: Uuid,
    pub idempotency_key: String,
    pub amount_minor: Option<i64>,
    pub currency: Option<String>,
    pub description: Option<String>,
    pub status: OutboxStatus,
    pub attempts: u32,
    pub next_attempt_at: DateTime<Utc>,
    /// When the current key was first sent: reconciliation is due once it is older than the
    /// provider's key lifetime.
    pub key_first_sent_at: Option<DateTime<Utc>>,
    /// The next attempt reconciles first (a replayed failure showed the key is spent).
    pub reconcile: bool,
    /// The provider's id of the object, once done.
    pub provider_id: Option<String>,
    pub last_error: Option<String>,
}

/// The row's columns, read from `billing_outbox o`.
const ROW_COLUMNS: &str = "o.id, o.tenant_id, o.invoice_id, o.step, o.operation, o.subject_id, o.idempotency_key, o.amount_minor, o.currency, o.description, o.status, o.attempts, o.next_attempt_at, o.key_first_sent_at, o.reconcile, o.provider_id, o.last_error";

fn row_from_db(row: &AnyRow) -> BillingResult<OutboxRow> {
    Ok(OutboxRow {
        id: rows::parsed(row, "id")?,
        tenant_id: rows::parsed(row, "tenant_id")?,
        invoice_id: rows::parsed(row, "invoice_id")?,
        step: u32::try_from(rows::int(row, "step")?)
            .map_err(|e| BillingError::Corrupt(format!("step: {e}")))?,
        operation: rows::parsed(row, "operation")?,
        subject_id: rows::parsed(row, "subject_id")?,
        idempotency_key: rows::text(row, "idempotency_key")?,
        amount_minor: rows::opt_int(row, "amount_minor")?,
        currency: rows::opt_text(row, "currency")?,
        description: rows::opt_text(row, "description")?,
        status: rows::parsed(row, "status")?,
        attempts: u32::try_from(rows::int(row, "attempts")?).unwrap_or(u32::MAX),
        next_attempt_at: rows::instant(row, "next_attempt_at")?,
        key_first_sent_at: rows::opt_instant(row, "key_first_sent_at")?,
        reconcile: rows::boolean(row, "reconcile")?,
        provider_id: rows::opt_text(row, "provider_id")?,
        last_error: rows::opt_text(row, "last_error")?,
    })
}

/// A row to enqueue.
pub(crate) struct NewOutboxRow {
    pub operation: OutboxOperation,
    pub subject_id: Uuid,
    pub key: IdempotencyKey,
    pub amount_minor: Option<i64>,
    pub currency: Option<String>,
    pub description: Option<String>,
}

/// Appends `rows` as the next steps of `invoice_id`'s work, inside the caller's transaction.
pub(crate) async fn enqueue(
    conn: &mut AnyConnection,
    tenant_id: TenantId,
    invoice_id: InvoiceId,
    rows_to_add: Vec<NewOutboxRow>,
    status: OutboxStatus,
    now: DateTime<Utc>,
) -> BillingResult<()> {
    let row = sqlx::query(
        "SELECT CAST(COALESCE(MAX(step) + 1, 0) AS BIGINT) AS n FROM billing_outbox WHERE invoice_id = $1",
    )
    .bind(invoice_id.to_db())
    .fetch_one(&mut *conn)
    .await?;
    let first_step = rows::count(&row)?;
    let now_ms = time::to_millis(now);
    for (offset, new) in rows_to_add.into_iter().enumerate() {
        sqlx::query(
            "INSERT INTO billing_outbox (id, tenant_id, invoice_id, step, operation, subject_id, idempotency_key,
                 amount_minor, currency, description, status, attempts, next_attempt_at, reconcile, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 0, $12, $13, $12, $12)",
        )
        .bind(OutboxId::new().to_db())
        .bind(tenant_id.to_db())
        .bind(invoice_id.to_db())
        .bind(first_step + offset as i64)
        .bind(new.operation.as_str())
        .bind(new.subject_id.to_string())
        .bind(new.key.as_str().to_owned())
        .bind(new.amount_minor)
        .bind(new.currency)
        .bind(new.description)
        .bind(status.as_str())
        .bind(now_ms)
        .bind(false)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// A claimed row and what the driver needs to build its request.
pub(crate) struct OutboxClaim {
    pub row: OutboxRow,
    pub account_id: AccountId,
    pub account_name: String,
    pub account_email: Option<String>,
    pub provider_customer_id: Option<String>,
    pub provider_invoice_id: Option<String>,
    pub currency: String,
    /// For a credit note row: its lines.
    pub credit_note_lines: Vec<CreditNoteLine>,
}

/// What a successful provider call produced.
pub(crate) enum OutboxCompletion {
    Customer {
        provider_customer_id: String,
    },
    Draft {
        provider_invoice_id: String,
        provider_status: String,
    },
    Item {
        provider_item_id: String,
    },
    Finalized {
        provider_invoice_id: String,
        provider_status: String,
        number: Option<String>,
        hosted_url: Option<String>,
    },
    CreditNote {
        provider_credit_note_id: String,
    },
}

impl BillingStore {
    /// Every outbox row of an invoice, in step order.
    pub async fn platform_invoice_outbox(
        &self,
        _scope: &PlatformScope,
        invoice_id: InvoiceId,
    ) -> BillingResult<Vec<OutboxRow>> {
        let sql = format!(
            "SELECT {ROW_COLUMNS} FROM billing_outbox o WHERE o.invoice_id = $1 ORDER BY o.step"
        );
        sqlx::query(&sql)
            .bind(invoice_id.to_db())
            .fetch_all(self.db.pool())
            .await?
            .iter()
            .map(row_from_db)
            .collect()
    }

    /// Rows with a given status across tenants (the operator's view of stuck or failed work).
    pub async fn platform_outbox_with_status(
        &self,
        _scope: &PlatformScope,
        status: OutboxStatus,
    ) -> BillingResult<Vec<OutboxRow>> {
        let sql = format!(
            "SELECT {ROW_COLUMNS} FROM billing_outbox o WHERE o.status = $1 ORDER BY o.invoice_id, o.step"
        );
        sqlx::query(&sql)
            .bind(status.as_str())
            .fetch_all(self.db.pool())
            .await?
            .iter()
            .map(row_from_db)
            .collect()
    }

    /// Sends a failed row again, after the operator fixed its cause. It reconciles first: the
    /// provider may have made the object before failing.
    pub async fn platform_retry_failed_outbox_row(
        &self,
        _scope: &PlatformScope,
        id: OutboxId,
        now: DateTime<Utc>,
    ) -> BillingResult<()> {
        let updated = sqlx::query(
            "UPDATE billing_outbox SET status = 'pending', reconcile = $1, next_attempt_at = $2, updated_at = $2
             WHERE id = $3 AND status = 'failed'",
        )
        .bind(true)
        .bind(time::to_millis(now))
        .bind(id.to_db())
        .execute(self.db.pool())
        .await?;
        if updated.rows_affected() != 1 {
            return Err(BillingError::NotFound("failed outbox row"));
        }
        Ok(())
    }

    /// Sends an invoice's `local` rows (kept while no provider was configured) after all.
    pub async fn platform_send_local_outbox(
        &self,
        _scope: &PlatformScope,
        invoice_id: InvoiceId,
        now: DateTime<Utc>,
    ) -> BillingResult<u64> {
        let updated = sqlx::query(
            "UPDATE billing_outbox SET status = 'pending', next_attempt_at = $1, updated_at = $1
             WHERE invoice_id = $2 AND status = 'local'",
        )
        .bind(time::to_millis(now))
        .bind(invoice_id.to_db())
        .execute(self.db.pool())
        .await?;
        Ok(updated.rows_affected())
    }

    /// Pending rows due at `now` whose earlier steps are all done, oldest due first.
    pub(crate) async fn due_outbox_rows(
        &self,
        now: DateTime<Utc>,
        limit: usize,
    ) -> BillingResult<Vec<OutboxRow>> {
        let sql = format!(
            "SELECT {ROW_COLUMNS} FROM billing_outbox o
             WHERE o.status = 'pending' AND o.next_attempt_at <= $1
               AND (o.claimed_until IS NULL OR o.claimed_until <= $1)
               AND NOT EXISTS (SELECT 1 FROM billing_outbox e
                               WHERE e.invoice_id = o.invoice_id AND e.step < o.step AND e.status <> 'done')
             ORDER BY o.next_attempt_at, o.id
             LIMIT $2"
        );
        sqlx::query(&sql)
            .bind(time::to_millis(now))
            .bind(i64::try_from(limit).unwrap_or(i64::MAX))
            .fetch_all(self.db.pool())
            .await?
            .iter()
            .map(row_from_db)
            .collect()
    }

    /// Takes the row for `lease` if no other driver holds it; `None` when another does or it is
    /// no longer pending.
    pub(crate) async fn claim_outbox_row(
        &self,
        id: OutboxId,
        now: DateTime<Utc>,
        lease: Duration,
    ) -> BillingResult<Option<OutboxClaim>> {
        let now_ms = time::to_millis(now);
        let lease_ms = i64::try_from(lease.as_millis()).unwrap_or(i64::MAX);
        let claimed = sqlx::query(
            "UPDATE billing_outbox SET claimed_until = $1, updated_at = $2
             WHERE id = $3 AND status = 'pending' AND (claimed_until IS NULL OR claimed_until <= $2)",
        )
        .bind(now_ms.saturating_add(lease_ms))
        .bind(now_ms)
        .bind(id.to_db())
        .execute(self.db.pool())
        .await?;
        if claimed.rows_affected() != 1 {
            return Ok(None);
        }
        let sql = format!(
            "SELECT {ROW_COLUMNS}, a.id AS account_id, a.name AS account_name, a.email AS account_email,
                    a.stripe_customer_id, p.provider_invoice_id, i.currency AS invoice_currency
             FROM billing_outbox o
             JOIN billing_invoices i ON i.id = o.invoice_id
             JOIN billing_accounts a ON a.id = i.account_id
             LEFT JOIN billing_provider_invoices p ON p.invoice_id = o.invoice_id
             WHERE o.id = $1"
        );
        let row = sqlx::query(&sql)
            .bind(id.to_db())
            .fetch_one(self.db.pool())
            .await?;
        let outbox_row = row_from_db(&row)?;
        let credit_note_lines = if outbox_row.operation == OutboxOperation::CreditNote {
            let note = sqlx::query("SELECT lines FROM billing_credit_notes WHERE id = $1")
                .bind(outbox_row.subject_id.to_string())
                .fetch_one(self.db.pool())
                .await?;
            let lines: Vec<super::credit_notes::StoredCreditLine> = rows::json(&note, "lines")?;
            lines
                .into_iter()
                .map(|line| CreditNoteLine {
                    description: line.description,
                    amount_minor_units: line.amount_minor,
                })
                .collect()
        } else {
            Vec::new()
        };
        Ok(Some(OutboxClaim {
            row: outbox_row,
            account_id: rows::parsed(&row, "account_id")?,
            account_name: rows::text(&row, "account_name")?,
            account_email: rows::opt_text(&row, "account_email")?,
            provider_customer_id: rows::opt_text(&row, "stripe_customer_id")?,
            provider_invoice_id: rows::opt_text(&row, "provider_invoice_id")?,
            currency: rows::text(&row, "invoice_currency")?,
            credit_note_lines,
        }))
    }

    /// Records that the row's current key is about to be sent (the key's age counts from its
    /// first send) and, after a reconciliation, which key that is.
    pub(crate) async fn mark_outbox_sending(
        &self,
        id: OutboxId,
        key: &IdempotencyKey,
        now: DateTime<Utc>,
    ) -> BillingResult<()> {
        let now_ms = time::to_millis(now);
        sqlx::query(
            "UPDATE billing_outbox SET
                 key_first_sent_at = CASE WHEN idempotency_key = $1 THEN COALESCE(key_first_sent_at, $2) ELSE $2 END,
                 idempotency_key = $1, reconcile = $3, attempts = attempts + 1, updated_at = $2
             WHERE id = $4",
        )
        .bind(key.as_str().to_owned())
        .bind(now_ms)
        .bind(false)
        .bind(id.to_db())
        .execute(self.db.pool())
        .await?;
        Ok(())
    }

    /// The row is done; records what the provider made, in one transaction with the row.
    pub(crate) async fn complete_outbox_row(
        &self,
        row: &OutboxRow,
        completion: OutboxCompletion,
        now: DateTime<Utc>,
    ) -> BillingResult<()> {
        let now_ms = time::to_millis(now);
        let mut tx = self.db.begin().await?;
        let provider_id = match &completion {
            OutboxCompletion::Customer {
                provider_customer_id,
            } => {
                sqlx::query(
                    "UPDATE billing_accounts SET stripe_customer_id = $1, updated_at = $2
                     WHERE tenant_id = $3 AND stripe_customer_id IS NULL",
                )
                .bind(provider_customer_id.clone())
                .bind(now_ms)
                .bind(row.tenant_id.to_db())
                .execute(&mut *tx)
                .await?;
                provider_customer_id.clone()
            }
            OutboxCompletion::Draft {
                provider_invoice_id,
                provider_status,
            } => {
                sqlx::query(
                    "INSERT INTO billing_provider_invoices (invoice_id, tenant_id, provider_invoice_id, provider_status, updated_at)
                     VALUES ($1, $2, $3, $4, $5)
                     ON CONFLICT (invoice_id) DO UPDATE SET provider_invoice_id = $3, provider_status = $4, updated_at = $5",
                )
                .bind(row.invoice_id.to_db())
                .bind(row.tenant_id.to_db())
                .bind(provider_invoice_id.clone())
                .bind(provider_status.clone())
                .bind(now_ms)
                .execute(&mut *tx)
                .await?;
                provider_invoice_id.clone()
            }
            OutboxCompletion::Item { provider_item_id } => provider_item_id.clone(),
            OutboxCompletion::Finalized {
                provider_invoice_id,
                provider_status,
                number,
                hosted_url,
            } => {
                sqlx::query(
                    "UPDATE billing_provider_invoices SET provider_status = $1, number = $2, hosted_url = $3, updated_at = $4
                     WHERE invoice_id = $5",
                )
                .bind(provider_status.clone())
                .bind(number.clone())
                .bind(hosted_url.clone())
                .bind(now_ms)
                .bind(row.invoice_id.to_db())
                .execute(&mut *tx)
                .await?;
                provider_invoice_id.clone()
            }
            OutboxCompletion::CreditNote {
                provider_credit_note_id,
            } => provider_credit_note_id.clone(),
        };
        sqlx::query(
            "UPDATE billing_outbox SET status = 'done', provider_id = $1, claimed_until = NULL, last_error = NULL, updated_at = $2
             WHERE id = $3 AND status = 'pending'",
        )
        .bind(provider_id)
        .bind(now_ms)
        .bind(row.id.to_db())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// A retryable failure: try again at `next_attempt_at`, reconciling first if `reconcile`.
    pub(crate) async fn reschedule_outbox_row(
        &self,
        id: OutboxId,
        error: &str,
        next_attempt_at: DateTime<Utc>,
        reconcile: bool,
        now: DateTime<Utc>,
    ) -> BillingResult<()> {
        sqlx::query(
            "UPDATE billing_outbox SET next_attempt_at = $1, reconcile = $2, last_error = $3, claimed_until = NULL, updated_at = $4
             WHERE id = $5 AND status = 'pending'",
        )
        .bind(time::to_millis(next_attempt_at))
        .bind(reconcile)
        .bind(error.to_owned())
        .bind(time::to_millis(now))
        .bind(id.to_db())
        .execute(self.db.pool())
        .await?;
        Ok(())
    }

    /// A permanent failure: the row stops, visibly, until an operator retries it.
    pub(crate) async fn fail_outbox_row(
        &self,
        id: OutboxId,
        error: &str,
        now: DateTime<Utc>,
    ) -> BillingResult<()> {
        sqlx::query(
            "UPDATE billing_outbox SET status = 'failed', last_error = $1, claimed_until = NULL, updated_at = $2
             WHERE id = $3 AND status = 'pending'",
        )
        .bind(error.to_owned())
        .bind(time::to_millis(now))
        .bind(id.to_db())
        .execute(self.db.pool())
        .await?;
        Ok(())
    }
}
