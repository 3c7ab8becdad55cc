//! Credit notes: how a finalized invoice is corrected — a new row that gives money back, never an
//! edit of the invoice. Issued by the platform operator; mirrored to the payment provider through
//! the outbox after the invoice's own sync steps.
//!
//! Decisions:
//! - Only a finalized or paid invoice can be credited (an open one is simply not final yet; a
//!   void one is owed nothing).
//! - The credit notes of an invoice never add up to more than its total, checked in the same
//!   transaction that writes the new note, after taking the invoice's write lock.
//! - Lines are positive amounts in the invoice's currency, each with a description.

use chrono::{DateTime, Utc};
use hotline_core::ids::TenantId;
use hotline_core::{time, PlatformScope, TenantScope};
use serde::{Deserialize, Serialize};
use sqlx::any::AnyRow;

use super::invoices::{load_summary, InvoiceStatus};
use super::outbox_rows::{enqueue, NewOutboxRow, OutboxOperation};
use super::periods::ProviderSync;
use super::rows;
use super::BillingStore;
use crate::error::{BillingError, BillingResult};
use crate::gateway::{CreditNoteReason, IdempotencyKey};
use crate::ids::{CreditNoteId, InvoiceId};
use crate::money::{Currency, Money};

/// Longest description or memo.
const MAX_TEXT_LEN: usize = 500;

/// A credit note line as the operator enters it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CreditNoteLineInput {
    pub description: String,
    /// Positive, in minor units of the invoice's currency.
    pub amount_minor: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct StoredCreditLine {
    pub description: String,
    pub amount_minor: i64,
}

/// A stored credit note.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CreditNote {
    pub id: CreditNoteId,
    pub invoice_id: InvoiceId,
    pub tenant_id: TenantId,
    pub reason: Option<CreditNoteReason>,
    pub memo: Option<String>,
    pub total: Money,
    pub lines: Vec<CreditNoteLineInput>,
    pub created_at: DateTime<Utc>,
}

fn reason_to_db(reason: CreditNoteReason) -> &'static str {
    match reason {
        CreditNoteReason::Duplicate => "duplicate",
        CreditNoteReason::Fraudulent => "fraudulent",
        CreditNoteReason::OrderChange => "order_change",
        CreditNoteReason::ProductUnsatisfactory => "product_unsatisfactory",
    }
}

fn reason_from_db(text: &str) -> BillingResult<CreditNoteReason> {
    Ok(match text {
        "duplicate" => CreditNoteReason::Duplicate,
        "fraudulent" => CreditNoteReason::Fraudulent,
        "order_change" => CreditNoteReason::OrderChange,
        "product_unsatisfactory" => CreditNoteReason::ProductUnsatisfactory,
        other => {
            return Err(BillingError::Corrupt(format!(
                "credit note reason {other:?}"
            )))
        }
    })
}

fn note_from_row(row: &AnyRow) -> BillingResult<CreditNote> {
    let currency: Currency = rows::parsed(row, "currency")?;
    let lines: Vec<StoredCreditLine> = rows::json(row, "lines")?;
    Ok(CreditNote {
        id: rows::parsed(row, "id")?,
        invoice_id: rows::parsed(row, "invoice_id")?,
        tenant_id: rows::parsed(row, "tenant_id")?,
        reason: rows::opt_text(row, "reason")?
            .map(|r| reason_from_db(&r))
            .transpose()?,
        memo: rows::opt_text(row, "memo")?,
        total: Money {
            minor: rows::int(row, "total_minor")?,
            currency,
        },
        lines: lines
            .into_iter()
            .map(|l| CreditNoteLineInput {
                description: l.description,
                amount_minor: l.amount_minor,
            })
            .collect(),
        created_at: rows::instant(row, "created_at")?,
    })
}

impl BillingStore {
    #[allow(clippy::too_many_arguments)]
    pub async fn platform_issue_credit_note(
        &self,
        _scope: &PlatformScope,
        tenant_id: TenantId,
        invoice_id: InvoiceId,
        lines: Vec<CreditNoteLineInput>,
        reason: Option<CreditNoteReason>,
        memo: Option<String>,
        sync: ProviderSync,
        now: DateTime<Utc>,
    ) -> BillingResult<CreditNote> {
        if lines.is_empty() {
            return Err(BillingError::invalid("lines", "at least one line"));
        }
        for line in &lines {
            if line.amount_minor <= 0 {
                return Err(BillingError::invalid("amount_minor", "positive"));
            }
            let description = line.description.trim();
            if description.is_empty() || description.len() > MAX_TEXT_LEN {
                return Err(BillingError::invalid(
                    "description",
                    format!("1 to {MAX_TEXT_LEN} characters"),
                ));
            }
        }
        if memo.as_ref().is_some_and(|m| m.len() > MAX_TEXT_LEN) {
            return Err(BillingError::invalid(
                "memo",
                format!("at most {MAX_TEXT_LEN} characters"),
            ));
        }
        let asked = lines
            .iter()
            .try_fold(0_i64, |sum, line| sum.checked_add(line.amount_minor))
            .ok_or(BillingError::invalid("lines", "the total overflows"))?;

        let mut tx = self.db.begin().await?;
        // The write lock on the invoice serializes credit notes of one invoice, so two at once
        // cannot together exceed its total.
        let locked = sqlx::query(
            "UPDATE billing_invoices SET status = status WHERE id = $1 AND tenant_id = $2 AND status IN ('finalized', 'paid')",
        )
        .bind(invoice_id.to_db())
        .bind(tenant_id.to_db())
        .execute(&mut *tx)
        .await?;
        let invoice = load_summary(&mut tx, tenant_id, invoice_id).await?;
        if locked.rows_affected() != 1 {
            let reason = match invoice.status {
                InvoiceStatus::Void => "a void invoice is owed nothing",
                _ => "only a finalized invoice can be credited",
            };
            return Err(BillingError::invalid("invoice", reason));
        }
        let total = invoice
            .total
            .ok_or_else(|| BillingError::Corrupt(format!("invoice {invoice_id} has no total")))?;
        let row = sqlx::query(
            "SELECT CAST(COALESCE(SUM(total_minor), 0) AS BIGINT) AS n FROM billing_credit_notes WHERE invoice_id = $1",
        )
        .bind(invoice_id.to_db())
        .fetch_one(&mut *tx)
        .await?;
        let credited = rows::count(&row)?;
        if credited.saturating_add(asked) > total.minor {
            return Err(BillingError::CreditExceedsInvoice {
                total_minor: total.minor,
                credited_minor: credited,
                asked_minor: asked,
            });
        }
        let note = CreditNote {
            id: CreditNoteId::new(),
            invoice_id,
            tenant_id,
            reason,
            memo: memo.map(|m| m.trim().to_owned()).filter(|m| !m.is_empty()),
            total: Money {
                minor: asked,
                currency: total.currency,
            },
            lines: lines
                .into_iter()
                .map(|l| CreditNoteLineInput {
                    description: l.description.trim().to_owned(),
                    amount_minor: l.amount_minor,
                })
                .collect(),
            created_at: now,
        };
        let stored_lines: Vec<StoredCreditLine> = note
            .lines
            .iter()
            .map(|l| StoredCreditLine {
                description: l.description.clone(),
                amount_minor: l.amount_minor,
            })
            .collect();
        sqlx::query(
            "INSERT INTO billing_credit_notes (id, invoice_id, tenant_id, reason, memo, currency, total_minor, lines, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(note.id.to_db())
        .bind(invoice_id.to_db())
        .bind(tenant_id.to_db())
        .bind(note.reason.map(reason_to_db))
        .bind(note.memo.clone())
        .bind(total.currency.code())
        .bind(asked)
        .bind(serde_json::to_string(&stored_lines)?)
        .bind(time::to_millis(now))
        .execute(&mut *tx)
        .await?;
        enqueue(
            &mut tx,
            tenant_id,
            invoice_id,
            vec![NewOutboxRow {
                operation: OutboxOperation::CreditNote,
                subject_id: note.id.0,
                key: IdempotencyKey::for_credit_note(note.id.0),
                amount_minor: Some(asked),
                currency: Some(total.currency.code().to_owned()),
                description: note.memo.clone(),
            }],
            sync.outbox_status(),
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(note)
    }

    /// The credit notes of one of the tenant's invoices, oldest first.
    pub async fn credit_notes(
        &self,
        scope: &TenantScope,
        invoice_id: InvoiceId,
    ) -> BillingResult<Vec<CreditNote>> {
        sqlx::query(
            "SELECT id, invoice_id, tenant_id, reason, memo, currency, total_minor, lines, created_at
             FROM billing_credit_notes WHERE invoice_id = $1 AND tenant_id = $2 ORDER BY id",
        )
        .bind(invoice_id.to_db())
        .bind(scope.db_id())
        .fetch_all(self.db.pool())
        .await?
        .iter()
        .map(note_from_row)
        .collect()
    }
}
