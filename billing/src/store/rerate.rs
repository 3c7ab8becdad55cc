//! Rerating a period (`hotline billing rerate --tenant --period`): recompute its invoice from
//! the stored usage, ownership and tariff versions and show how it differs from what is stored.
//! A dry run: it writes nothing.
//!
//! A finalized invoice is recomputed under the terms it was finalized with (currency, tax rate,
//! contract dates and zone, from its hashed content), so a later change of the account's tax
//! rate is not reported as a difference; an open one under the account's current terms (a
//! preview of what finalizing now would bill).

use chrono::NaiveDate;
use chrono_tz::Tz;
use hotline_core::TenantScope;

use super::invoices::{load_content, InvoiceStatus};
use super::periods::compute_period;
use super::rows;
use super::terms::require_terms;
use super::BillingStore;
use crate::error::BillingResult;
use crate::ids::InvoiceId;
use crate::invoice_calc::ComputedInvoice;
use crate::money::Money;
use crate::period::BillingPeriod;
use crate::rerate::{diff_lines, LineDifference};

/// What rerating a period found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RerateReport {
    pub invoice_id: InvoiceId,
    pub period: BillingPeriod,
    pub status: InvoiceStatus,
    /// The finalized invoice as stored; `None` while it is open.
    pub stored: Option<ComputedInvoice>,
    pub recomputed: ComputedInvoice,
    /// Against the stored lines; every recomputed line while the invoice is open.
    pub differences: Vec<LineDifference>,
}

impl RerateReport {
    /// Whether recomputation agrees with what is stored, to the minor unit and line by line.
    pub fn matches(&self) -> bool {
        self.differences.is_empty()
            && self
                .stored
                .as_ref()
                .is_some_and(|stored| stored.total == self.recomputed.total)
    }

    /// Recomputed total less stored total (the whole recomputed total while open).
    pub fn total_difference(&self) -> Money {
        let stored = self.stored.as_ref().map_or(0, |s| s.total.minor);
        Money {
            minor: self.recomputed.total.minor - stored,
            currency: self.recomputed.currency,
        }
    }
}

impl BillingStore {
    pub async fn rerate(
        &self,
        scope: &TenantScope,
        period_start: NaiveDate,
    ) -> BillingResult<RerateReport> {
        let summary = self.invoice_for_period(scope, period_start).await?;
        let mut conn = self.db.pool().acquire().await?;
        let terms = require_terms(&mut conn, scope.tenant_id()).await?;
        let stored = load_content(&mut conn, scope.tenant_id(), summary.id).await?;
        let (account, zone) = match &stored {
            Some(content) => (
                content.account.clone(),
                rows::parse_text::<Tz>(&content.time_zone, "time_zone")?,
            ),
            None => (terms.billing_account(), terms.zone()),
        };
        let recomputed = compute_period(&mut conn, &terms, &account, zone, &summary).await?;
        let stored = stored.map(|content| content.invoice);
        let stored_lines = stored.as_ref().map(|s| s.lines.as_slice()).unwrap_or(&[]);
        let differences = diff_lines(stored_lines, &recomputed.invoice.lines);
        Ok(RerateReport {
            invoice_id: summary.id,
            period: summary.period,
            status: summary.status,
            stored,
            recomputed: recomputed.invoice,
            differences,
        })
    }
}
