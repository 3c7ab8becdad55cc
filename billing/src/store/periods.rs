//! Billing periods: open → closing (grace for late records) → finalized, and the finalization
//! itself — compute, persist, hash and enqueue the provider sync, in one transaction.
//!
//! Decisions:
//! - Every period of a contract gets an invoice, also one without calls: recurring fees are
//!   billed in advance. [`BillingStore::platform_close_due_periods`] makes missing ones up to
//!   today, starts closing the ones whose period ended, and finalizes the ones whose grace is
//!   over, tenant by tenant in period order.
//! - Grace: after the period ends (local midnight of its end date, in the tenant's zone), late
//!   records still land on its invoice for the account's grace period; after that they become
//!   adjustments on the next invoice. An operator may finalize before the grace is over
//!   ([`Grace::Skip`]), never before the period ended.
//! - Periods finalize in order: an invoice is finalized only when no earlier one of the tenant is
//!   still open or closing, so late usage always moves forward.
//! - Finalization takes the invoice row's write lock first, so appends in flight commit before
//!   it reads the usage (see the store's module docs).
//! - Late usage of closed periods is rated by the version in effect on its own date, and
//!   consumes what its own period's bundle left: that period's closing balance (in its hashed
//!   content) less what late usage billed on earlier invoices already took.
//! - The outbox rows of the provider sync are written in the same transaction as the
//!   finalization: there is never a finalized invoice without its sync, nor the reverse.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use hotline_core::ids::TenantId;
use hotline_core::{time, PlatformScope};
use sqlx::AnyConnection;

use super::invoices::{
    ensure_invoice_locked, load_content, load_summary, metric_from_db, metric_to_db, InvoiceSummary,
};
use super::outbox_rows::{enqueue, NewOutboxRow, OutboxOperation, OutboxStatus};
use super::ownership::load_ownership;
use super::rows::{self, date_to_db};
use super::terms::{require_terms, TenantTerms};
use super::BillingStore;
use crate::content::{InvoiceContent, CONTENT_FORMAT};
use crate::error::{BillingError, BillingResult};
use crate::gateway::IdempotencyKey;
use crate::ids::{InvoiceId, LineId};
use crate::invoice_calc::{compute_invoice, BillingAccount, ComputedInvoice, InvoiceInput};
use crate::rating::{apply_bundles, rate_by_schedule, BundleAllowance, RatedUsage, RatingError};
use crate::usage::{MeteredUsage, Metric};

/// How many periods back a contract's missing invoices are made in one run (a hundred years).
const MAX_PERIODS: usize = 1200;

/// Whether finalization waits for the grace period.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Grace {
    /// Only once late records can no longer land on it.
    Respect,
    /// As soon as the period has ended (the operator closes it by hand).
    Skip,
}

/// Whether a finalization's provider sync is sent or kept local.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProviderSync {
    /// A payment gateway is configured: the outbox driver sends it.
    Send,
    /// None is: the rows stay `local` and nothing is sent.
    LocalOnly,
}

impl ProviderSync {
    pub(crate) fn outbox_status(self) -> OutboxStatus {
        match self {
            ProviderSync::Send => OutboxStatus::Pending,
            ProviderSync::LocalOnly => OutboxStatus::Local,
        }
    }
}

/// What one run of [`BillingStore::platform_close_due_periods`] did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CloseReport {
    /// Invoices made for periods that had none.
    pub opened: u32,
    /// Invoices whose period ended and that now wait out their grace.
    pub closing: u32,
    pub finalized: Vec<InvoiceId>,
    /// Invoices that could not be finalized, with why; they are tried again next run.
    pub failed: Vec<(InvoiceId, String)>,
}

/// A rated late usage and the closed invoice it belongs to.
pub(crate) struct Adjustment {
    pub rated: RatedUsage,
    pub source: InvoiceId,
}

/// An invoice as computed from the stored usage, before or after it was finalized.
pub(crate) struct PeriodComputation {
    pub invoice: ComputedInvoice,
    pub adjustments: Vec<Adjustment>,
}

impl BillingStore {
    /// Makes missing invoices, starts closing ended periods and finalizes those whose grace is
    /// over, for every tenant. One invoice failing does not stop the others.
    pub async fn platform_close_due_periods(
        &self,
        _scope: &PlatformScope,
        sync: ProviderSync,
        now: DateTime<Utc>,
    ) -> BillingResult<CloseReport> {
        let mut report = CloseReport::default();
        let tenants: Vec<TenantId> =
            sqlx::query("SELECT tenant_id FROM billing_contracts ORDER BY tenant_id")
                .fetch_all(self.db.pool())
                .await?
                .iter()
                .map(|row| rows::parsed(row, "tenant_id"))
                .collect::<BillingResult<_>>()?;
        for tenant in tenants {
            report.opened += self.open_missing_invoices(tenant, now).await?;
        }

        let now_ms = time::to_millis(now);
        let closing = sqlx::query(
            "UPDATE billing_invoices SET status = 'closing', closing_at = $1,
                 grace_until = ends_at + (SELECT a.grace_ms FROM billing_accounts a WHERE a.id = billing_invoices.account_id)
             WHERE status = 'open' AND ends_at <= $1",
        )
        .bind(now_ms)
        .execute(self.db.pool())
        .await?;
        report.closing = u32::try_from(closing.rows_affected()).unwrap_or(u32::MAX);

        let due: Vec<(TenantId, InvoiceId)> = sqlx::query(
            "SELECT tenant_id, id FROM billing_invoices
             WHERE status = 'closing' AND grace_until <= $1 ORDER BY tenant_id, period_start",
        )
        .bind(now_ms)
        .fetch_all(self.db.pool())
        .await?
        .iter()
        .map(|row| Ok((rows::parsed(row, "tenant_id")?, rows::parsed(row, "id")?)))
        .collect::<BillingResult<_>>()?;
        for (tenant, invoice) in due {
            match self
                .finalize_invoice(tenant, invoice, Grace::Respect, sync, now)
                .await
            {
                Ok(_) => report.finalized.push(invoice),
                // Another node's run finalized it first.
                Err(BillingError::InvoiceFinalized(_)) => {}
                Err(err) => {
                    tracing::error!(%tenant, %invoice, error = %err, "finalizing an invoice failed");
                    report.failed.push((invoice, err.to_string()));
                }
            }
        }
        Ok(report)
    }

    /// Finalizes one tenant's invoice for the period starting on `period_start`
    /// (`hotline billing close-period`).
    pub async fn platform_close_period(
        &self,
        scope: &PlatformScope,
        tenant_id: TenantId,
        period_start: NaiveDate,
        grace: Grace,
        sync: ProviderSync,
        now: DateTime<Utc>,
    ) -> BillingResult<InvoiceSummary> {
        let invoice = self
            .invoice_for_period(&scope.tenant(tenant_id), period_start)
            .await?;
        self.finalize_invoice(tenant_id, invoice.id, grace, sync, now)
            .await
    }

    /// Makes the invoices of the tenant's contract periods up to today that do not exist yet.
    async fn open_missing_invoices(
        &self,
        tenant_id: TenantId,
        now: DateTime<Utc>,
    ) -> BillingResult<u32> {
        let mut tx = self.db.begin().await?;
        let terms = require_terms(&mut tx, tenant_id).await?;
        let today = terms.local_date(now);
        let last_day = match terms.contract.ends_on {
            Some(end) => today.min(end.pred_opt().unwrap_or(end)),
            None => today,
        };
        if last_day < terms.contract.starts_on {
            return Ok(0);
        }
        let existing: Vec<String> =
            sqlx::query("SELECT period_start FROM billing_invoices WHERE tenant_id = $1")
                .bind(tenant_id.to_db())
                .fetch_all(&mut *tx)
                .await?
                .iter()
                .map(|row| rows::text(row, "period_start"))
                .collect::<BillingResult<_>>()?;
        let cycle = terms.cycle()?;
        let mut period = terms.period_containing(terms.contract.starts_on)?;
        let mut opened = 0;
        for _ in 0..MAX_PERIODS {
            if period.start > last_day {
                break;
            }
            if !existing.contains(&date_to_db(period.start)) {
                ensure_invoice_locked(&mut tx, self.backend(), &terms, &period, now).await?;
                opened += 1;
            }
            period = cycle
                .next(&period)
                .ok_or_else(|| BillingError::Corrupt("no billing period follows".into()))?;
        }
        tx.commit().await?;
        Ok(opened)
    }

    /// Finalizes an invoice: see the module docs.
    pub(crate) async fn finalize_invoice(
        &self,
        tenant_id: TenantId,
        invoice_id: InvoiceId,
        grace: Grace,
        sync: ProviderSync,
        now: DateTime<Utc>,
    ) -> BillingResult<InvoiceSummary> {
        let mut tx = self.db.begin().await?;
        let before = load_summary(&mut tx, tenant_id, invoice_id).await?;
        if !before.status.accepts_usage() {
            return Err(BillingError::InvoiceFinalized(invoice_id));
        }
        let not_ready = |reason: String| BillingError::NotReadyToFinalize {
            invoice: invoice_id,
            reason,
        };
        if before.ends_at > now {
            return Err(not_ready(format!(
                "its period runs until {}",
                before.ends_at
            )));
        }
        let terms = require_terms(&mut tx, tenant_id).await?;
        let grace_until = before.grace_until.unwrap_or_else(|| {
            before.ends_at + Duration::milliseconds(terms.account.settings.grace_ms())
        });
        if grace == Grace::Respect && grace_until > now {
            return Err(not_ready(format!(
                "late records are accepted until {grace_until}"
            )));
        }
        let now_ms = time::to_millis(now);
        let locked = sqlx::query(
            "UPDATE billing_invoices SET status = 'closing', closing_at = COALESCE(closing_at, $1),
                 grace_until = COALESCE(grace_until, $2)
             WHERE id = $3 AND tenant_id = $4 AND status IN ('open', 'closing')",
        )
        .bind(now_ms)
        .bind(time::to_millis(grace_until))
        .bind(invoice_id.to_db())
        .bind(tenant_id.to_db())
        .execute(&mut *tx)
        .await?;
        if locked.rows_affected() != 1 {
            return Err(BillingError::InvoiceFinalized(invoice_id));
        }
        let earlier = sqlx::query(
            "SELECT COUNT(*) AS n FROM billing_invoices
             WHERE tenant_id = $1 AND period_start < $2 AND status IN ('open', 'closing')",
        )
        .bind(tenant_id.to_db())
        .bind(date_to_db(before.period.start))
        .fetch_one(&mut *tx)
        .await?;
        if rows::count(&earlier)? > 0 {
            return Err(not_ready("an earlier period is not finalized yet".into()));
        }
        let invoice = load_summary(&mut tx, tenant_id, invoice_id).await?;

        let account = terms.billing_account();
        let computed = compute_period(&mut tx, &terms, &account, terms.zone(), &invoice).await?;
        let line_ids: Vec<LineId> = computed
            .invoice
            .lines
            .iter()
            .map(|_| LineId::new())
            .collect();
        let content = InvoiceContent {
            format: CONTENT_FORMAT,
            invoice_id,
            tenant_id,
            account_id: terms.account.id,
            time_zone: terms.zone().name().to_owned(),
            account,
            tariff_id: terms.contract.tariff_id,
            purchase_order: invoice.purchase_order.clone(),
            finalized_at: now,
            invoice: computed.invoice,
            line_ids,
        };
        let sealed = content.seal()?;

        write_lines(&mut tx, &content).await?;
        write_adjustments(&mut tx, tenant_id, invoice_id, &computed.adjustments).await?;
        mark_versions_used(&mut tx, &content.invoice, now_ms).await?;
        let finalized = sqlx::query(
            "UPDATE billing_invoices SET status = 'finalized', subtotal_minor = $1, tax_minor = $2, total_minor = $3,
                 content = $4, content_hash = $5, finalized_at = $6, status_changed_at = $6
             WHERE id = $7 AND tenant_id = $8 AND status = 'closing'",
        )
        .bind(content.invoice.subtotal.minor)
        .bind(content.invoice.tax.minor)
        .bind(content.invoice.total.minor)
        .bind(&sealed.canonical)
        .bind(&sealed.hash)
        .bind(now_ms)
        .bind(invoice_id.to_db())
        .bind(tenant_id.to_db())
        .execute(&mut *tx)
        .await?;
        if finalized.rows_affected() != 1 {
            return Err(BillingError::InvoiceFinalized(invoice_id));
        }
        enqueue(
            &mut tx,
            tenant_id,
            invoice_id,
            sync_rows(&content),
            sync.outbox_status(),
            now,
        )
        .await?;
        tx.commit().await?;
        tracing::info!(%tenant_id, invoice = %invoice_id, total = %content.invoice.total, hash = %sealed.hash, "invoice finalized");
        let mut conn = self.db.pool().acquire().await?;
        load_summary(&mut conn, tenant_id, invoice_id).await
    }
}

/// Computes `invoice` from the stored usage (its own period's and the late usage billed on
/// it), ownership and tariff versions, under `account` terms in `zone`.
pub(crate) async fn compute_period(
    conn: &mut AnyConnection,
    terms: &TenantTerms,
    account: &BillingAccount,
    zone: chrono_tz::Tz,
    invoice: &InvoiceSummary,
) -> BillingResult<PeriodComputation> {
    let period = invoice.period;
    let starts_at = terms.instant_of(period.start)?;
    let ends_at = terms.instant_of(period.end)?;
    let scope = hotline_core::TenantScope::from_verified(invoice.tenant_id);
    // A unit taken at the very instant the next period begins is billed in advance: include it.
    let ownership =
        load_ownership(conn, &scope, starts_at, ends_at + Duration::milliseconds(1)).await?;

    let mut usages = Vec::new();
    let mut late: BTreeMap<InvoiceId, Vec<MeteredUsage>> = BTreeMap::new();
    for row in sqlx::query(
        "SELECT call_id, leg, metric, started_at, ended_at, source_invoice_id FROM billing_usage WHERE invoice_id = $1",
    )
    .bind(invoice.id.to_db())
    .fetch_all(&mut *conn)
    .await?
    {
        let usage = super::invoices::usage_from_row(&row)?;
        match rows::opt_parsed::<InvoiceId>(&row, "source_invoice_id")? {
            None => usages.push(usage),
            Some(source) => late.entry(source).or_default().push(usage),
        }
    }

    let mut adjustments = Vec::new();
    for (source, group) in late {
        let mut allowances = remaining_allowances(conn, invoice, source).await?;
        let mut rated = Vec::with_capacity(group.len());
        for usage in &group {
            match rate_by_schedule(usage, &terms.schedule, zone) {
                Ok(r) => rated.push(r),
                Err(RatingError::MetricNotPriced { .. }) => {}
                Err(err) => return Err(crate::invoice_calc::InvoiceError::from(err).into()),
            }
        }
        apply_bundles(&mut rated, &mut allowances)
            .map_err(crate::invoice_calc::InvoiceError::from)?;
        adjustments.extend(rated.into_iter().map(|rated| Adjustment { rated, source }));
    }
    let adjusted: Vec<RatedUsage> = adjustments.iter().map(|a| a.rated.clone()).collect();

    let computation = compute_invoice(&InvoiceInput {
        period,
        time_zone: zone,
        account,
        schedule: &terms.schedule,
        usages: &usages,
        adjustments: &adjusted,
        ownership: &ownership,
    })?;
    Ok(PeriodComputation {
        invoice: computation.invoice,
        adjustments,
    })
}

/// What the closed `source` period's bundles still have for late usage billed on `target`:
/// its closing balance less what late usage billed on earlier invoices took.
async fn remaining_allowances(
    conn: &mut AnyConnection,
    target: &InvoiceSummary,
    source: InvoiceId,
) -> BillingResult<Vec<BundleAllowance>> {
    let content = load_content(conn, target.tenant_id, source)
        .await?
        .ok_or_else(|| {
            BillingError::Corrupt(format!(
                "late usage belongs to invoice {source}, which has no content"
            ))
        })?;
    let mut allowances = content.invoice.bundles;
    let taken: Vec<(Metric, i64)> = sqlx::query(
        "SELECT a.metric, CAST(SUM(a.included_seconds) AS BIGINT) AS n
         FROM billing_adjustments a JOIN billing_invoices i ON i.id = a.invoice_id
         WHERE a.source_invoice_id = $1 AND i.period_start < $2
         GROUP BY a.metric",
    )
    .bind(source.to_db())
    .bind(date_to_db(target.period.start))
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(|row| {
        Ok((
            metric_from_db(&rows::text(row, "metric")?)?,
            rows::count(row)?,
        ))
    })
    .collect::<BillingResult<_>>()?;
    for (metric, seconds) in taken {
        if let Some(allowance) = allowances.iter_mut().find(|a| a.metric == metric) {
            allowance.used_seconds += u64::try_from(seconds).unwrap_or(0);
        }
    }
    Ok(allowances)
}

async fn write_lines(conn: &mut AnyConnection, content: &InvoiceContent) -> BillingResult<()> {
    let invoice = &content.invoice;
    for (position, (line, id)) in invoice.lines.iter().zip(&content.line_ids).enumerate() {
        sqlx::query(
            "INSERT INTO billing_invoice_lines (id, invoice_id, tenant_id, position, kind, description, quantity,
                 unit_price, tariff_id, tariff_version, amount_minor, currency)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        )
        .bind(id.to_db())
        .bind(content.invoice_id.to_db())
        .bind(content.tenant_id.to_db())
        .bind(position as i64)
        .bind(serde_json::to_string(&line.kind)?)
        .bind(line.description.clone())
        .bind(serde_json::to_string(&line.quantity)?)
        .bind(line.unit_price.to_string())
        .bind(line.tariff.tariff_id.to_string())
        .bind(i64::from(line.tariff.version))
        .bind(line.amount.minor)
        .bind(line.amount.currency.code())
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

async fn write_adjustments(
    conn: &mut AnyConnection,
    tenant_id: TenantId,
    invoice_id: InvoiceId,
    adjustments: &[Adjustment],
) -> BillingResult<()> {
    for adjustment in adjustments {
        let rated = &adjustment.rated;
        sqlx::query(
            "INSERT INTO billing_adjustments (call_id, leg, metric, tenant_id, invoice_id, source_invoice_id, included_seconds, rated)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(rated.call_id.to_db())
        .bind(i64::from(rated.leg))
        .bind(metric_to_db(rated.metric))
        .bind(tenant_id.to_db())
        .bind(invoice_id.to_db())
        .bind(adjustment.source.to_db())
        .bind(i64::try_from(rated.included_seconds()).unwrap_or(i64::MAX))
        .bind(serde_json::to_string(rated)?)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// From now on the versions this invoice billed by never change.
async fn mark_versions_used(
    conn: &mut AnyConnection,
    invoice: &ComputedInvoice,
    now_ms: i64,
) -> BillingResult<()> {
    let mut versions: Vec<_> = invoice.lines.iter().map(|line| line.tariff).collect();
    versions.sort();
    versions.dedup();
    for tariff in versions {
        sqlx::query(
            "UPDATE billing_tariff_versions SET used_at = $1
             WHERE tariff_id = $2 AND version = $3 AND used_at IS NULL",
        )
        .bind(now_ms)
        .bind(tariff.tariff_id.to_string())
        .bind(i64::from(tariff.version))
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// The provider calls that mirror a finalized invoice: the customer, the draft, one item per
/// line and one for the tax, then finalization against our total.
fn sync_rows(content: &InvoiceContent) -> Vec<NewOutboxRow> {
    let invoice = &content.invoice;
    let currency = invoice.currency.code().to_owned();
    let mut rows = vec![
        NewOutboxRow {
            operation: OutboxOperation::EnsureCustomer,
            subject_id: content.account_id.0,
            key: IdempotencyKey::for_customer(content.account_id.0),
            amount_minor: None,
            currency: None,
            description: None,
        },
        NewOutboxRow {
            operation: OutboxOperation::CreateDraft,
            subject_id: content.invoice_id.0,
            key: IdempotencyKey::for_invoice_create(content.invoice_id.0),
            amount_minor: None,
            currency: Some(currency.clone()),
            description: Some(format!(
                "Hotline services {} to {}",
                invoice.period.start,
                invoice.period.end.pred_opt().unwrap_or(invoice.period.end)
            )),
        },
    ];
    for (line, id) in invoice.lines.iter().zip(&content.line_ids) {
        rows.push(NewOutboxRow {
            operation: OutboxOperation::AddItem,
            subject_id: id.0,
            key: IdempotencyKey::for_invoice_item(id.0),
            amount_minor: Some(line.amount.minor),
            currency: Some(currency.clone()),
            description: Some(line.description.clone()),
        });
    }
    if invoice.tax.minor != 0 {
        let tax_item = LineId::new();
        let rate = invoice
            .tax_rate
            .map(|rate| {
                format!(
                    " {}%",
                    (rate * rust_decimal::Decimal::ONE_HUNDRED).normalize()
                )
            })
            .unwrap_or_default();
        rows.push(NewOutboxRow {
            operation: OutboxOperation::AddItem,
            subject_id: tax_item.0,
            key: IdempotencyKey::for_invoice_item(tax_item.0),
            amount_minor: Some(invoice.tax.minor),
            currency: Some(currency.clone()),
            description: Some(format!("Tax{rate}")),
        });
    }
    rows.push(NewOutboxRow {
        operation: OutboxOperation::Finalize,
        subject_id: content.invoice_id.0,
        key: IdempotencyKey::for_invoice_finalize(content.invoice_id.0),
        amount_minor: Some(invoice.total.minor),
        currency: Some(currency),
        description: None,
    });
    rows
}
