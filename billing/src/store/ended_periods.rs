//! One tenant's periods that have ended and are not final yet: what closing that tenant by
//! hand (`hotline billing close-period --tenant`, the API's close) finalizes, oldest first.
//!
//! Every ended period of the contract gets its invoice here if it has none yet (a period
//! without calls still bills its recurring fees), as the periodic close does for every tenant.

use chrono::{DateTime, Utc};
use hotline_core::ids::TenantId;
use hotline_core::{time, PlatformScope};

use super::invoices::{ensure_invoice_locked, summary_from_row, InvoiceSummary, SUMMARY_COLUMNS};
use super::terms::require_terms;
use super::BillingStore;
use crate::error::{BillingError, BillingResult};

/// How many periods back one call makes missing invoices (a hundred years).
const MAX_PERIODS: usize = 1200;

impl BillingStore {
    /// The tenant's invoices of periods ended by `now` that are still open or closing, made
    /// where missing, oldest first.
    pub async fn platform_ended_open_invoices(
        &self,
        _scope: &PlatformScope,
        tenant_id: TenantId,
        now: DateTime<Utc>,
    ) -> BillingResult<Vec<InvoiceSummary>> {
        let mut tx = self.db.begin().await?;
        let terms = require_terms(&mut tx, tenant_id).await?;
        let cycle = terms.cycle()?;
        let mut period = terms.period_containing(terms.contract.starts_on)?;
        for _ in 0..MAX_PERIODS {
            let ended = terms.instant_of(period.end)? <= now;
            let billed = terms.contract.ends_on.is_none_or(|end| period.start < end);
            if !ended || !billed {
                break;
            }
            ensure_invoice_locked(&mut tx, self.backend(), &terms, &period, now).await?;
            period = cycle
                .next(&period)
                .ok_or_else(|| BillingError::Corrupt("no billing period follows".into()))?;
        }
        let sql = format!(
            "SELECT {SUMMARY_COLUMNS} FROM billing_invoices
             WHERE tenant_id = $1 AND status IN ('open', 'closing') AND ends_at <= $2
             ORDER BY period_start"
        );
        let invoices = sqlx::query(&sql)
            .bind(tenant_id.to_db())
            .bind(time::to_millis(now))
            .fetch_all(&mut *tx)
            .await?
            .iter()
            .map(summary_from_row)
            .collect::<BillingResult<_>>()?;
        tx.commit().await?;
        Ok(invoices)
    }
}
