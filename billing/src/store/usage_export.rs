//! The rated usages behind one invoice, for the usage export (CSV): every usage the invoice
//! bills, priced piece by piece, in call order, late usages of earlier periods after them.
//!
//! Decisions:
//! - The period's own usages are rated again from the stored usage and tariff versions (rating
//!   is a pure function of both, and neither changes once billed), under the terms the invoice
//!   was finalized with, or the current ones while it is open — exactly as [`super::rerate`]
//!   recomputes an invoice, so the export and the invoice agree.
//! - Late usages of a finalized invoice are read as they were billed (stored with the
//!   finalization); an open invoice's late usages are rated as finalizing now would.
//! - Amounts stay exact, unrounded: an invoice rounds once per line, never per usage, so a
//!   client summing the export gets each line's amount before its rounding.
//!
//! Writes nothing.

use chrono_tz::Tz;
use hotline_core::TenantScope;

use super::invoices::{load_content, load_summary, usage_from_row, InvoiceSummary};
use super::periods::compute_period;
use super::rows;
use super::terms::require_terms;
use super::BillingStore;
use crate::error::BillingResult;
use crate::ids::InvoiceId;
use crate::invoice_calc::{compute_invoice, InvoiceInput};
use crate::rating::RatedUsage;
use crate::tariff::{TariffRef, TariffVersion};
use crate::usage::{MeteredUsage, Metric};

/// One rated usage of an invoice.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExportedUsage {
    pub rated: RatedUsage,
    /// A usage of an earlier, closed period billed on this invoice.
    pub late: bool,
}

/// An invoice's rated usages and the tariff versions that priced them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UsageExport {
    pub invoice: InvoiceSummary,
    pub usages: Vec<ExportedUsage>,
    /// Every version of the contract's tariff, to name the bands pieces were priced in.
    pub versions: Vec<TariffVersion>,
}

impl UsageExport {
    /// The name of the band a piece was priced in: the band's own name, or `None` for the base
    /// rate (and for a band a version does not have, which a stored piece never names).
    pub fn band_name(&self, tariff: TariffRef, metric: Metric, band: Option<u16>) -> Option<&str> {
        let band = usize::from(band?);
        self.versions
            .iter()
            .find(|version| version.reference() == tariff)?
            .price(metric)?
            .bands
            .get(band)
            .map(|band| band.name.as_str())
    }
}

impl BillingStore {
    /// The rated usages behind one of the scope's invoices (see the module docs).
    pub async fn invoice_usage_export(
        &self,
        scope: &TenantScope,
        id: InvoiceId,
    ) -> BillingResult<UsageExport> {
        let mut conn = self.db.pool().acquire().await?;
        let invoice = load_summary(&mut conn, scope.tenant_id(), id).await?;
        let terms = require_terms(&mut conn, scope.tenant_id()).await?;
        let stored = load_content(&mut conn, scope.tenant_id(), id).await?;
        let (account, zone) = match &stored {
            Some(content) => (
                content.account.clone(),
                rows::parse_text::<Tz>(&content.time_zone, "time_zone")?,
            ),
            None => (terms.billing_account(), terms.zone()),
        };

        let own: Vec<MeteredUsage> = sqlx::query(
            "SELECT call_id, leg, metric, started_at, ended_at FROM billing_usage
             WHERE invoice_id = $1 AND tenant_id = $2 AND source_invoice_id IS NULL",
        )
        .bind(id.to_db())
        .bind(scope.db_id())
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(usage_from_row)
        .collect::<BillingResult<_>>()?;
        // Recurring fees and late usages do not change how the period's own usages are rated
        // or what of the bundle they take, so they are left out here.
        let mut usages: Vec<ExportedUsage> = compute_invoice(&InvoiceInput {
            period: invoice.period,
            time_zone: zone,
            account: &account,
            schedule: &terms.schedule,
            usages: &own,
            adjustments: &[],
            ownership: &[],
        })?
        .rated
        .into_iter()
        .map(|rated| ExportedUsage { rated, late: false })
        .collect();

        let mut late: Vec<RatedUsage> = if stored.is_some() {
            sqlx::query(
                "SELECT rated FROM billing_adjustments WHERE invoice_id = $1 AND tenant_id = $2",
            )
            .bind(id.to_db())
            .bind(scope.db_id())
            .fetch_all(&mut *conn)
            .await?
            .iter()
            .map(|row| rows::json(row, "rated"))
            .collect::<BillingResult<_>>()?
        } else {
            compute_period(&mut conn, &terms, &account, zone, &invoice)
                .await?
                .adjustments
                .into_iter()
                .map(|adjustment| adjustment.rated)
                .collect()
        };
        late.sort_by_key(RatedUsage::consumption_key);
        usages.extend(
            late.into_iter()
                .map(|rated| ExportedUsage { rated, late: true }),
        );
        Ok(UsageExport {
            invoice,
            usages,
            versions: terms.schedule.versions().to_vec(),
        })
    }
}
