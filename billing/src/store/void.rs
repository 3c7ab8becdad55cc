//! Voiding a finalized invoice the operator issued by mistake, while it is still ours alone.
//!
//! Decisions:
//! - Only a finalized invoice that never reached the payment provider can be voided here: all
//!   its outbox rows are still `local`. Once the provider has (or is about to get) the invoice,
//!   it is voided at the provider, whose `invoice.voided` webhook marks it void here; voiding only
//!   our copy would leave the client a bill we no longer stand behind.
//! - A paid invoice, or one with credit notes, is corrected with (further) credit notes instead:
//!   money already moved against it.
//! - Its `local` outbox rows are removed in the same transaction, so sending local rows later
//!   ([`BillingStore::platform_send_local_outbox`]) can never mirror a void invoice.
//! - Everything the invoice says stays as it was (the schema's triggers refuse anything else);
//!   only its status and payment status change.

use chrono::{DateTime, Utc};
use hotline_core::ids::TenantId;
use hotline_core::{time, PlatformScope};

use super::invoices::{load_summary, InvoiceStatus, InvoiceSummary};
use super::rows;
use super::BillingStore;
use crate::error::{BillingError, BillingResult};
use crate::ids::InvoiceId;

impl BillingStore {
    /// Voids one of the tenant's finalized invoices (see the module docs for when it may).
    pub async fn platform_void_invoice(
        &self,
        _scope: &PlatformScope,
        tenant_id: TenantId,
        invoice_id: InvoiceId,
        now: DateTime<Utc>,
    ) -> BillingResult<InvoiceSummary> {
        let mut tx = self.db.begin().await?;
        let now_ms = time::to_millis(now);
        let voided = sqlx::query(
            "UPDATE billing_invoices SET status = 'void', payment_status = 'void', status_changed_at = $1
             WHERE id = $2 AND tenant_id = $3 AND status = 'finalized'
               AND NOT EXISTS (SELECT 1 FROM billing_outbox o WHERE o.invoice_id = billing_invoices.id AND o.status <> 'local')
               AND NOT EXISTS (SELECT 1 FROM billing_credit_notes c WHERE c.invoice_id = billing_invoices.id)",
        )
        .bind(now_ms)
        .bind(invoice_id.to_db())
        .bind(tenant_id.to_db())
        .execute(&mut *tx)
        .await?;
        if voided.rows_affected() != 1 {
            let invoice = load_summary(&mut tx, tenant_id, invoice_id).await?;
            return Err(self.why_not_voidable(&mut tx, &invoice).await?);
        }
        sqlx::query("DELETE FROM billing_outbox WHERE invoice_id = $1 AND status = 'local'")
            .bind(invoice_id.to_db())
            .execute(&mut *tx)
            .await?;
        let invoice = load_summary(&mut tx, tenant_id, invoice_id).await?;
        tx.commit().await?;
        tracing::info!(%tenant_id, invoice = %invoice_id, "invoice voided");
        Ok(invoice)
    }

    async fn why_not_voidable(
        &self,
        conn: &mut sqlx::AnyConnection,
        invoice: &InvoiceSummary,
    ) -> BillingResult<BillingError> {
        let reason = match invoice.status {
            InvoiceStatus::Open | InvoiceStatus::Closing => {
                "it is not finalized yet; an open invoice is simply not billed until its period closes"
            }
            InvoiceStatus::Paid => "it is paid; correct it with a credit note",
            InvoiceStatus::Void => "it is void already",
            InvoiceStatus::Finalized => {
                let credited = sqlx::query(
                    "SELECT COUNT(*) AS n FROM billing_credit_notes WHERE invoice_id = $1",
                )
                .bind(invoice.id.to_db())
                .fetch_one(&mut *conn)
                .await?;
                if rows::count(&credited)? > 0 {
                    "credit notes were issued against it; credit the rest instead"
                } else {
                    "it was sent to the payment provider; void it there, and the provider's webhook marks it void here"
                }
            }
        };
        Ok(BillingError::invalid("invoice", reason))
    }
}
