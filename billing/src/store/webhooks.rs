//! Verified webhook events from the payment provider: deduplicated on the event id, and allowed
//! to change one thing only — an invoice's payment status.
//!
//! Decisions:
//! - The event id is the primary key of `billing_webhook_events`; the insert and the status
//!   change share one transaction, so a redelivered event (the provider retries until it gets a
//!   2xx) is recorded once and applied once.
//! - The invoice is found by the provider's invoice id we stored when the draft was made, else by
//!   our id in the invoice's metadata.
//! - Transitions only move forward: finalized → paid or void; a payment failure or
//!   uncollectible mark is noted on a finalized invoice and ignored on a paid one (events may
//!   arrive out of order). Nothing an invoice says changes; the schema refuses it anyway.

use chrono::{DateTime, Utc};
use hotline_core::{time, PlatformScope};

use super::invoices::PaymentStatus;
use super::rows;
use super::BillingStore;
use crate::error::BillingResult;
use crate::gateway::{WebhookEvent, WebhookEventKind};
use crate::ids::InvoiceId;

/// What a webhook event did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WebhookOutcome {
    /// The event was seen before: nothing changed.
    Duplicate,
    /// An event type billing does not act on, or for an invoice we do not know.
    Ignored,
    /// The invoice's payment status changed.
    Applied {
        invoice_id: InvoiceId,
        payment_status: PaymentStatus,
    },
    /// Known invoice, but its status already moved past what the event says.
    Stale { invoice_id: InvoiceId },
}

impl WebhookOutcome {
    fn label(&self) -> &'static str {
        match self {
            WebhookOutcome::Duplicate => "duplicate",
            WebhookOutcome::Ignored => "ignored",
            WebhookOutcome::Applied { .. } => "applied",
            WebhookOutcome::Stale { .. } => "stale",
        }
    }
}

fn kind_label(kind: &WebhookEventKind) -> String {
    match kind {
        WebhookEventKind::InvoicePaid => "invoice.paid".into(),
        WebhookEventKind::InvoicePaymentFailed => "invoice.payment_failed".into(),
        WebhookEventKind::InvoiceVoided => "invoice.voided".into(),
        WebhookEventKind::InvoiceMarkedUncollectible => "invoice.marked_uncollectible".into(),
        WebhookEventKind::Other(name) => name.clone(),
    }
}

impl BillingStore {
    /// Records a verified event and applies it once.
    pub async fn platform_apply_webhook_event(
        &self,
        _scope: &PlatformScope,
        event: &WebhookEvent,
        now: DateTime<Utc>,
    ) -> BillingResult<WebhookOutcome> {
        let mut tx = self.db.begin().await?;
        let recorded = sqlx::query(
            "INSERT INTO billing_webhook_events (event_id, kind, provider_invoice_id, invoice_id, outcome, received_at)
             VALUES ($1, $2, $3, $4, 'received', $5) ON CONFLICT (event_id) DO NOTHING",
        )
        .bind(event.id.clone())
        .bind(kind_label(&event.kind))
        .bind(event.provider_invoice_id.clone())
        .bind(event.hotline_invoice_id.map(|id| id.to_string()))
        .bind(time::to_millis(now))
        .execute(&mut *tx)
        .await?;
        if recorded.rows_affected() != 1 {
            return Ok(WebhookOutcome::Duplicate);
        }

        let transition = match event.kind {
            WebhookEventKind::InvoicePaid => Some((PaymentStatus::Paid, Some("paid"))),
            WebhookEventKind::InvoiceVoided => Some((PaymentStatus::Void, Some("void"))),
            WebhookEventKind::InvoicePaymentFailed => Some((PaymentStatus::PaymentFailed, None)),
            WebhookEventKind::InvoiceMarkedUncollectible => {
                Some((PaymentStatus::Uncollectible, None))
            }
            WebhookEventKind::Other(_) => None,
        };
        let invoice = match transition {
            Some(_) => self.webhook_invoice(&mut tx, event).await?,
            None => None,
        };
        let outcome = match (transition, invoice) {
            (Some((payment_status, new_status)), Some(invoice_id)) => {
                let status_changed = sqlx::query(
                    "UPDATE billing_invoices SET status = COALESCE($1, status), payment_status = $2, status_changed_at = $3
                     WHERE id = $4 AND status = 'finalized'",
                )
                .bind(new_status)
                .bind(payment_status.as_str())
                .bind(time::to_millis(now))
                .bind(invoice_id.to_db())
                .execute(&mut *tx)
                .await?;
                if let Some(provider_invoice_id) = &event.provider_invoice_id {
                    sqlx::query(
                        "UPDATE billing_provider_invoices SET provider_status = $1, updated_at = $2
                         WHERE provider_invoice_id = $3",
                    )
                    .bind(payment_status.as_str())
                    .bind(time::to_millis(now))
                    .bind(provider_invoice_id.clone())
                    .execute(&mut *tx)
                    .await?;
                }
                if status_changed.rows_affected() == 1 {
                    WebhookOutcome::Applied {
                        invoice_id,
                        payment_status,
                    }
                } else {
                    WebhookOutcome::Stale { invoice_id }
                }
            }
            _ => WebhookOutcome::Ignored,
        };
        sqlx::query("UPDATE billing_webhook_events SET outcome = $1 WHERE event_id = $2")
            .bind(outcome.label())
            .bind(event.id.clone())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(outcome)
    }

    async fn webhook_invoice(
        &self,
        conn: &mut sqlx::AnyConnection,
        event: &WebhookEvent,
    ) -> BillingResult<Option<InvoiceId>> {
        if let Some(provider_invoice_id) = &event.provider_invoice_id {
            let row = sqlx::query(
                "SELECT invoice_id FROM billing_provider_invoices WHERE provider_invoice_id = $1",
            )
            .bind(provider_invoice_id.clone())
            .fetch_optional(&mut *conn)
            .await?;
            if let Some(row) = row {
                return Ok(Some(rows::parsed(&row, "invoice_id")?));
            }
        }
        let Some(ours) = event.hotline_invoice_id else {
            return Ok(None);
        };
        let row = sqlx::query("SELECT id FROM billing_invoices WHERE id = $1")
            .bind(ours.to_string())
            .fetch_optional(&mut *conn)
            .await?;
        row.map(|row| rows::parsed(&row, "id")).transpose()
    }
}
