//! Read-only views over billing for the API and the command line: a tenant's usage in a period
//! against its bundles (the running period's preview, or a closed period as billed), and the
//! firm's revenue and billed minutes per tenant over a range of periods.
//!
//! Decisions:
//! - Usage is read from invoice lines, never from raw call durations: what a client sees as
//!   used is what it is (or will be) billed — increments, minimums and bundles applied.
//! - An open period is previewed under the account's current terms, as finalizing now would
//!   bill it ([`crate::store::RerateReport`] does the same); a finalized one is shown from its
//!   hashed content, exactly as billed.
//! - Revenue counts final invoices (finalized, paid) whose period starts in the range; void ones
//!   are counted apart and add nothing; credit notes are subtracted where they were issued.
//!
//! Writes nothing. Amounts come from [`crate::invoice_calc`] and the stored invoices; this
//! module only sums them.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use hotline_core::ids::TenantId;
use hotline_core::{PlatformScope, TenantScope};

use super::invoices::{load_content, summary_from_row, InvoiceStatus, SUMMARY_COLUMNS};
use super::ownership::load_ownership;
use super::periods::compute_period;
use super::rows::{self, date_to_db};
use super::terms::require_terms;
use super::BillingStore;
use crate::error::{BillingError, BillingResult};
use crate::ids::InvoiceId;
use crate::invoice_calc::{
    compute_invoice, ComputedInvoice, InvoiceInput, InvoiceLine, LineKind, Quantity,
};
use crate::money::{Currency, Money};
use crate::period::BillingPeriod;
use crate::usage::Metric;

/// Billed seconds of one metric: those a bundle included and those charged per minute.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MetricUsage {
    pub metric: Metric,
    pub included_seconds: u64,
    pub charged_seconds: u64,
}

impl MetricUsage {
    pub fn billable_seconds(&self) -> u64 {
        self.included_seconds + self.charged_seconds
    }
}

/// A tenant's usage in one period, against its bundles.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UsageSummary {
    pub tenant_id: TenantId,
    pub period: BillingPeriod,
    /// `None` while the period has no invoice yet (nothing was ingested or opened for it).
    pub invoice_id: Option<InvoiceId>,
    pub status: InvoiceStatus,
    /// What the invoice bills (final), or would bill if finalized now (open, closing).
    pub invoice: ComputedInvoice,
    /// Per metric with any billed seconds, in metric order.
    pub metrics: Vec<MetricUsage>,
}

/// One tenant's revenue in one currency over a range of periods.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TenantRevenue {
    pub tenant_id: TenantId,
    pub currency: Currency,
    /// Finalized and paid invoices.
    pub invoices: u32,
    pub void_invoices: u32,
    pub subtotal: Money,
    pub tax: Money,
    pub total: Money,
    /// Credit notes against those invoices.
    pub credited: Money,
    /// Total of the invoices the provider reported paid.
    pub paid: Money,
    /// Billed seconds per metric on those invoices.
    pub metrics: Vec<MetricUsage>,
}

impl TenantRevenue {
    fn new(tenant_id: TenantId, currency: Currency) -> Self {
        Self {
            tenant_id,
            currency,
            invoices: 0,
            void_invoices: 0,
            subtotal: Money::zero(currency),
            tax: Money::zero(currency),
            total: Money::zero(currency),
            credited: Money::zero(currency),
            paid: Money::zero(currency),
            metrics: Vec::new(),
        }
    }

    /// Total less credit notes: what the firm is owed for the range.
    pub fn net(&self) -> Money {
        Money {
            minor: self.total.minor - self.credited.minor,
            currency: self.currency,
        }
    }
}

/// Billed seconds per metric on invoice lines (late lines included: they are billed here).
pub fn metric_usage<'a>(lines: impl IntoIterator<Item = &'a InvoiceLine>) -> Vec<MetricUsage> {
    metric_usage_of(lines.into_iter().map(|line| (line.kind, line.quantity)))
}

/// [`metric_usage`] over what a line charges and how much of it.
fn metric_usage_of(lines: impl IntoIterator<Item = (LineKind, Quantity)>) -> Vec<MetricUsage> {
    let mut by_metric: BTreeMap<Metric, MetricUsage> = BTreeMap::new();
    for (kind, quantity) in lines {
        let Quantity::Seconds { seconds } = quantity else {
            continue;
        };
        match kind {
            LineKind::IncludedUsage { metric, .. } => {
                by_metric
                    .entry(metric)
                    .or_insert_with(|| empty(metric))
                    .included_seconds += seconds;
            }
            LineKind::Usage { metric, .. } => {
                by_metric
                    .entry(metric)
                    .or_insert_with(|| empty(metric))
                    .charged_seconds += seconds;
            }
            _ => {}
        }
    }
    by_metric.into_values().collect()
}

fn empty(metric: Metric) -> MetricUsage {
    MetricUsage {
        metric,
        included_seconds: 0,
        charged_seconds: 0,
    }
}

fn add_money(sum: &mut Money, minor: i64) -> BillingResult<()> {
    sum.minor = sum
        .minor
        .checked_add(minor)
        .ok_or(BillingError::Money(crate::money::MoneyError::Overflow))?;
    Ok(())
}

impl BillingStore {
    /// The scope's usage in the period containing `date` (today, in the tenant's zone, when
    /// `None`), against its bundles.
    pub async fn usage_summary(
        &self,
        scope: &TenantScope,
        date: Option<NaiveDate>,
        now: DateTime<Utc>,
    ) -> BillingResult<UsageSummary> {
        let mut conn = self.db.pool().acquire().await?;
        let terms = require_terms(&mut conn, scope.tenant_id()).await?;
        let date = date.unwrap_or_else(|| terms.local_date(now));
        let period = terms.period_containing(date)?;
        let sql = format!(
            "SELECT {SUMMARY_COLUMNS} FROM billing_invoices WHERE tenant_id = $1 AND period_start = $2"
        );
        let existing = sqlx::query(&sql)
            .bind(scope.db_id())
            .bind(date_to_db(period.start))
            .fetch_optional(&mut *conn)
            .await?
            .as_ref()
            .map(summary_from_row)
            .transpose()?;
        let (invoice_id, status, invoice) = match existing {
            Some(summary) => {
                let invoice = match load_content(&mut conn, scope.tenant_id(), summary.id).await? {
                    Some(content) => content.invoice,
                    None => {
                        let account = terms.billing_account();
                        compute_period(&mut conn, &terms, &account, terms.zone(), &summary)
                            .await?
                            .invoice
                    }
                };
                (Some(summary.id), summary.status, invoice)
            }
            None => {
                // Nothing stored for the period yet: its recurring fees and empty bundles.
                let starts_at = terms.instant_of(period.start)?;
                let ends_at = terms.instant_of(period.end)?;
                // As when finalizing: a unit taken as the next period begins is billed ahead.
                let until = ends_at + chrono::Duration::milliseconds(1);
                let ownership = load_ownership(&mut conn, scope, starts_at, until).await?;
                let account = terms.billing_account();
                let computed = compute_invoice(&InvoiceInput {
                    period,
                    time_zone: terms.zone(),
                    account: &account,
                    schedule: &terms.schedule,
                    usages: &[],
                    adjustments: &[],
                    ownership: &ownership,
                })?;
                (None, InvoiceStatus::Open, computed.invoice)
            }
        };
        Ok(UsageSummary {
            tenant_id: scope.tenant_id(),
            period,
            invoice_id,
            status,
            metrics: metric_usage(&invoice.lines),
            invoice,
        })
    }

    /// Revenue per tenant and currency of the final invoices whose period starts on or after
    /// `from` and before `until`, by tenant.
    pub async fn platform_revenue(
        &self,
        _scope: &PlatformScope,
        from: NaiveDate,
        until: NaiveDate,
    ) -> BillingResult<Vec<TenantRevenue>> {
        if until <= from {
            return Err(BillingError::invalid("until", "after from"));
        }
        let (from, until) = (date_to_db(from), date_to_db(until));
        let mut conn = self.db.pool().acquire().await?;
        let sql = format!(
            "SELECT {SUMMARY_COLUMNS}, subtotal_minor, tax_minor FROM billing_invoices
             WHERE period_start >= $1 AND period_start < $2 AND status IN ('finalized', 'paid', 'void')
             ORDER BY tenant_id, period_start"
        );
        let invoices = sqlx::query(&sql)
            .bind(&from)
            .bind(&until)
            .fetch_all(&mut *conn)
            .await?;
        let credits: BTreeMap<InvoiceId, i64> = sqlx::query(
            "SELECT c.invoice_id, CAST(SUM(c.total_minor) AS BIGINT) AS n
             FROM billing_credit_notes c JOIN billing_invoices i ON i.id = c.invoice_id
             WHERE i.period_start >= $1 AND i.period_start < $2
             GROUP BY c.invoice_id",
        )
        .bind(&from)
        .bind(&until)
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(|row| Ok((rows::parsed(row, "invoice_id")?, rows::count(row)?)))
        .collect::<BillingResult<_>>()?;

        let mut revenue: BTreeMap<(TenantId, Currency), TenantRevenue> = BTreeMap::new();
        let mut invoice_key: BTreeMap<InvoiceId, (TenantId, Currency)> = BTreeMap::new();
        for row in &invoices {
            let summary = summary_from_row(row)?;
            let key = (summary.tenant_id, summary.currency);
            let entry = revenue
                .entry(key)
                .or_insert_with(|| TenantRevenue::new(summary.tenant_id, summary.currency));
            if summary.status == InvoiceStatus::Void {
                entry.void_invoices += 1;
                continue;
            }
            entry.invoices += 1;
            let total = summary.total.map_or(0, |t| t.minor);
            add_money(
                &mut entry.subtotal,
                rows::opt_int(row, "subtotal_minor")?.unwrap_or(0),
            )?;
            add_money(
                &mut entry.tax,
                rows::opt_int(row, "tax_minor")?.unwrap_or(0),
            )?;
            add_money(&mut entry.total, total)?;
            if summary.status == InvoiceStatus::Paid {
                add_money(&mut entry.paid, total)?;
            }
            if let Some(credited) = credits.get(&summary.id) {
                add_money(&mut entry.credited, *credited)?;
            }
            invoice_key.insert(summary.id, key);
        }

        let lines = sqlx::query(
            "SELECT l.invoice_id, l.kind, l.quantity
             FROM billing_invoice_lines l JOIN billing_invoices i ON i.id = l.invoice_id
             WHERE i.period_start >= $1 AND i.period_start < $2 AND i.status IN ('finalized', 'paid')",
        )
        .bind(&from)
        .bind(&until)
        .fetch_all(&mut *conn)
        .await?;
        let mut lines_by_key: BTreeMap<(TenantId, Currency), Vec<(LineKind, Quantity)>> =
            BTreeMap::new();
        for row in &lines {
            let invoice: InvoiceId = rows::parsed(row, "invoice_id")?;
            if let Some(key) = invoice_key.get(&invoice) {
                lines_by_key
                    .entry(*key)
                    .or_default()
                    .push((rows::json(row, "kind")?, rows::json(row, "quantity")?));
            }
        }
        for (key, lines) in lines_by_key {
            if let Some(entry) = revenue.get_mut(&key) {
                entry.metrics = metric_usage_of(lines);
            }
        }
        Ok(revenue.into_values().collect())
    }
}

#[cfg(test)]
mod tests {
    use rust_decimal::Decimal;

    use super::*;
    use crate::tariff::{RecurringKind, TariffId, TariffRef};

    fn line(kind: LineKind, quantity: Quantity) -> InvoiceLine {
        InvoiceLine::priced(
            kind,
            "x".into(),
            quantity,
            Decimal::new(4, 2),
            TariffRef {
                tariff_id: TariffId(uuid::Uuid::nil()),
                version: 1,
            },
            Currency::from_code("EUR").unwrap(),
        )
        .unwrap()
    }

    #[test]
    fn usage_sums_included_and_charged_seconds_per_metric_late_lines_too() {
        let inbound = Metric::InboundMinutes;
        let lines = vec![
            line(
                LineKind::RecurringInAdvance {
                    fee: RecurringKind::Seat,
                },
                Quantity::Count { count: 3 },
            ),
            line(
                LineKind::IncludedUsage {
                    metric: inbound,
                    late: false,
                },
                Quantity::Seconds { seconds: 6000 },
            ),
            line(
                LineKind::Usage {
                    metric: inbound,
                    band: None,
                    late: false,
                },
                Quantity::Seconds { seconds: 120 },
            ),
            line(
                LineKind::Usage {
                    metric: inbound,
                    band: Some(0),
                    late: true,
                },
                Quantity::Seconds { seconds: 60 },
            ),
            line(
                LineKind::Usage {
                    metric: Metric::AgentMinutes,
                    band: None,
                    late: false,
                },
                Quantity::Seconds { seconds: 45 },
            ),
            line(
                LineKind::ConnectFee {
                    metric: inbound,
                    late: false,
                },
                Quantity::Count { count: 7 },
            ),
        ];
        let usage = metric_usage(&lines);
        assert_eq!(
            usage,
            vec![
                MetricUsage {
                    metric: inbound,
                    included_seconds: 6000,
                    charged_seconds: 180
                },
                MetricUsage {
                    metric: Metric::AgentMinutes,
                    included_seconds: 0,
                    charged_seconds: 45
                },
            ]
        );
        assert_eq!(usage[0].billable_seconds(), 6180);
    }
}
