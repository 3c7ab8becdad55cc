//! Invoices as stored: one per tenant and billing period, their status, and reading them back
//! (summaries, the verified content of a finalized one, the usage behind one).
//!
//! Status runs open → closing → finalized → paid | void. An open or closing invoice is a
//! placeholder that usage is appended to; its lines exist only once it is finalized. The only
//! changes a finalized invoice still takes are its payment status (from the provider's webhooks)
//! — everything it says is frozen, by the store and by the schema's triggers.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, NaiveDate, Utc};
use hotline_core::ids::{CallId, TenantId};
use hotline_core::{time, TenantScope};
use sqlx::any::AnyRow;
use sqlx::AnyConnection;

use super::rows::{self, date_to_db, share_lock};
use super::terms::TenantTerms;
use super::BillingStore;
use crate::content::{self, InvoiceContent};
use crate::error::{BillingError, BillingResult};
use crate::ids::{InvoiceId, LineId};
use crate::invoice_calc::{InvoiceLine, LineKind, Quantity};
use crate::money::{Currency, Money};
use crate::period::BillingPeriod;
use crate::tariff::TariffRef;
use crate::usage::{MeteredUsage, Metric};

/// Longest purchase order reference printed on an invoice.
const MAX_PURCHASE_ORDER_LEN: usize = 100;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InvoiceStatus {
    /// The period is running (or has not started); usage is appended.
    Open,
    /// The period ended; late records still land on it until the grace period is over.
    Closing,
    /// Lines and totals are final and hashed.
    Finalized,
    /// The provider reported it paid.
    Paid,
    /// The provider reported it voided.
    Void,
}

impl InvoiceStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            InvoiceStatus::Open => "open",
            InvoiceStatus::Closing => "closing",
            InvoiceStatus::Finalized => "finalized",
            InvoiceStatus::Paid => "paid",
            InvoiceStatus::Void => "void",
        }
    }

    /// Usage may still be appended to it.
    pub fn accepts_usage(self) -> bool {
        matches!(self, InvoiceStatus::Open | InvoiceStatus::Closing)
    }

    /// Finalized, paid or void: what it says never changes again.
    pub fn is_final(self) -> bool {
        !self.accepts_usage()
    }
}

impl fmt::Display for InvoiceStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for InvoiceStatus {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Ok(match text {
            "open" => InvoiceStatus::Open,
            "closing" => InvoiceStatus::Closing,
            "finalized" => InvoiceStatus::Finalized,
            "paid" => InvoiceStatus::Paid,
            "void" => InvoiceStatus::Void,
            other => return Err(format!("unknown invoice status {other:?}")),
        })
    }
}

/// What the provider last reported about collecting a finalized invoice.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PaymentStatus {
    Paid,
    PaymentFailed,
    Uncollectible,
    Void,
}

impl PaymentStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            PaymentStatus::Paid => "paid",
            PaymentStatus::PaymentFailed => "payment_failed",
            PaymentStatus::Uncollectible => "uncollectible",
            PaymentStatus::Void => "void",
        }
    }
}

impl FromStr for PaymentStatus {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Ok(match text {
            "paid" => PaymentStatus::Paid,
            "payment_failed" => PaymentStatus::PaymentFailed,
            "uncollectible" => PaymentStatus::Uncollectible,
            "void" => PaymentStatus::Void,
            other => return Err(format!("unknown payment status {other:?}")),
        })
    }
}

/// An invoice without its lines.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InvoiceSummary {
    pub id: InvoiceId,
    pub tenant_id: TenantId,
    pub period: BillingPeriod,
    pub status: InvoiceStatus,
    pub currency: Currency,
    /// Set once finalized.
    pub total: Option<Money>,
    pub content_hash: Option<String>,
    pub payment_status: Option<PaymentStatus>,
    pub purchase_order: Option<String>,
    /// When the period ends (UTC).
    pub ends_at: DateTime<Utc>,
    /// When late records stop landing on it; set when it starts closing.
    pub grace_until: Option<DateTime<Utc>>,
    pub finalized_at: Option<DateTime<Utc>>,
}

/// A finalized invoice's verified content (lines, totals, terms), or an open one's summary.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InvoiceDetail {
    pub summary: InvoiceSummary,
    /// `None` until finalized.
    pub content: Option<InvoiceContent>,
}

pub(crate) const SUMMARY_COLUMNS: &str = "id, tenant_id, period_start, period_end, status, currency, total_minor, content_hash, payment_status, purchase_order, ends_at, grace_until, finalized_at";

pub(crate) fn summary_from_row(row: &AnyRow) -> BillingResult<InvoiceSummary> {
    let currency: Currency = rows::parsed(row, "currency")?;
    let start = rows::date(row, "period_start")?;
    let end = rows::date(row, "period_end")?;
    Ok(InvoiceSummary {
        id: rows::parsed(row, "id")?,
        tenant_id: rows::parsed(row, "tenant_id")?,
        period: BillingPeriod::new(start, end).map_err(|e| BillingError::Corrupt(e.to_string()))?,
        status: rows::parsed(row, "status")?,
        currency,
        total: rows::opt_int(row, "total_minor")?.map(|minor| Money { minor, currency }),
        content_hash: rows::opt_text(row, "content_hash")?,
        payment_status: rows::opt_parsed(row, "payment_status")?,
        purchase_order: rows::opt_text(row, "purchase_order")?,
        ends_at: rows::instant(row, "ends_at")?,
        grace_until: rows::opt_instant(row, "grace_until")?,
        finalized_at: rows::opt_instant(row, "finalized_at")?,
    })
}

/// The invoice an append goes to: its id and status, read under the share lock.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct InvoiceHandle {
    pub id: InvoiceId,
    pub status: InvoiceStatus,
}

/// The tenant's invoice for `period`, made (open) if it does not exist yet, and share-locked on
/// PostgreSQL for the rest of the transaction (see the store's module docs).
pub(crate) async fn ensure_invoice_locked(
    conn: &mut AnyConnection,
    backend: hotline_core::Backend,
    terms: &TenantTerms,
    period: &BillingPeriod,
    now: DateTime<Utc>,
) -> BillingResult<InvoiceHandle> {
    let select = format!(
        "SELECT id, status FROM billing_invoices WHERE tenant_id = $1 AND period_start = $2{}",
        share_lock(backend)
    );
    let tenant = terms.account.tenant_id.to_db();
    let start = date_to_db(period.start);
    let read = |row: &AnyRow| -> BillingResult<InvoiceHandle> {
        Ok(InvoiceHandle {
            id: rows::parsed(row, "id")?,
            status: rows::parsed(row, "status")?,
        })
    };
    if let Some(row) = sqlx::query(&select)
        .bind(&tenant)
        .bind(&start)
        .fetch_optional(&mut *conn)
        .await?
    {
        return read(&row);
    }
    sqlx::query(
        "INSERT INTO billing_invoices (id, tenant_id, account_id, period_start, period_end, ends_at, status, currency, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, 'open', $7, $8)
         ON CONFLICT (tenant_id, period_start) DO NOTHING",
    )
    .bind(InvoiceId::new().to_db())
    .bind(&tenant)
    .bind(terms.account.id.to_db())
    .bind(&start)
    .bind(date_to_db(period.end))
    .bind(time::to_millis(terms.instant_of(period.end)?))
    .bind(terms.account.settings.currency.code())
    .bind(time::to_millis(now))
    .execute(&mut *conn)
    .await?;
    let row = sqlx::query(&select)
        .bind(&tenant)
        .bind(&start)
        .fetch_one(&mut *conn)
        .await?;
    read(&row)
}

pub(crate) async fn load_summary(
    conn: &mut AnyConnection,
    tenant_id: TenantId,
    id: InvoiceId,
) -> BillingResult<InvoiceSummary> {
    let sql =
        format!("SELECT {SUMMARY_COLUMNS} FROM billing_invoices WHERE id = $1 AND tenant_id = $2");
    let row = sqlx::query(&sql)
        .bind(id.to_db())
        .bind(tenant_id.to_db())
        .fetch_optional(conn)
        .await?
        .ok_or(BillingError::NotFound("invoice"))?;
    summary_from_row(&row)
}

/// The stored, verified content of a finalized invoice.
pub(crate) async fn load_content(
    conn: &mut AnyConnection,
    tenant_id: TenantId,
    id: InvoiceId,
) -> BillingResult<Option<InvoiceContent>> {
    let row = sqlx::query(
        "SELECT content, content_hash FROM billing_invoices WHERE id = $1 AND tenant_id = $2",
    )
    .bind(id.to_db())
    .bind(tenant_id.to_db())
    .fetch_optional(conn)
    .await?
    .ok_or(BillingError::NotFound("invoice"))?;
    match (
        rows::opt_text(&row, "content")?,
        rows::opt_text(&row, "content_hash")?,
    ) {
        (Some(canonical), Some(hash)) => Ok(Some(content::verify(&canonical, &hash)?)),
        _ => Ok(None),
    }
}

fn line_from_row(row: &AnyRow) -> BillingResult<(LineId, InvoiceLine)> {
    let currency: Currency = rows::parsed(row, "currency")?;
    let kind: LineKind = rows::json(row, "kind")?;
    let quantity: Quantity = rows::json(row, "quantity")?;
    let version = u32::try_from(rows::int(row, "tariff_version")?)
        .map_err(|e| BillingError::Corrupt(format!("tariff_version: {e}")))?;
    Ok((
        rows::parsed(row, "id")?,
        InvoiceLine {
            kind,
            description: rows::text(row, "description")?,
            quantity,
            unit_price: rows::decimal(row, "unit_price")?,
            tariff: TariffRef {
                tariff_id: rows::parsed(row, "tariff_id")?,
                version,
            },
            amount: Money {
                minor: rows::int(row, "amount_minor")?,
                currency,
            },
        },
    ))
}

impl BillingStore {
    /// The tenant's invoices, newest period first.
    pub async fn invoices(&self, scope: &TenantScope) -> BillingResult<Vec<InvoiceSummary>> {
        let sql = format!(
            "SELECT {SUMMARY_COLUMNS} FROM billing_invoices WHERE tenant_id = $1 ORDER BY period_start DESC"
        );
        sqlx::query(&sql)
            .bind(scope.db_id())
            .fetch_all(self.db.pool())
            .await?
            .iter()
            .map(summary_from_row)
            .collect()
    }

    /// The invoice of the period starting on `period_start`.
    pub async fn invoice_for_period(
        &self,
        scope: &TenantScope,
        period_start: NaiveDate,
    ) -> BillingResult<InvoiceSummary> {
        let sql = format!(
            "SELECT {SUMMARY_COLUMNS} FROM billing_invoices WHERE tenant_id = $1 AND period_start = $2"
        );
        let row = sqlx::query(&sql)
            .bind(scope.db_id())
            .bind(date_to_db(period_start))
            .fetch_optional(self.db.pool())
            .await?
            .ok_or(BillingError::NotFound("invoice"))?;
        summary_from_row(&row)
    }

    /// An invoice with its content, verified against its hash.
    pub async fn invoice(
        &self,
        scope: &TenantScope,
        id: InvoiceId,
    ) -> BillingResult<InvoiceDetail> {
        let mut conn = self.db.pool().acquire().await?;
        let summary = load_summary(&mut conn, scope.tenant_id(), id).await?;
        let content = load_content(&mut conn, scope.tenant_id(), id).await?;
        Ok(InvoiceDetail { summary, content })
    }

    /// Checks a finalized invoice end to end: its content against its hash, and the line rows
    /// against the content. Returns the verified content.
    pub async fn verify_invoice(
        &self,
        scope: &TenantScope,
        id: InvoiceId,
    ) -> BillingResult<InvoiceContent> {
        let mut conn = self.db.pool().acquire().await?;
        let summary = load_summary(&mut conn, scope.tenant_id(), id).await?;
        let content = load_content(&mut conn, scope.tenant_id(), id)
            .await?
            .ok_or(BillingError::NotFound("finalized invoice content"))?;
        let lines: Vec<(LineId, InvoiceLine)> = sqlx::query(
            "SELECT id, kind, description, quantity, unit_price, tariff_id, tariff_version, amount_minor, currency
             FROM billing_invoice_lines WHERE invoice_id = $1 AND tenant_id = $2 ORDER BY position",
        )
        .bind(id.to_db())
        .bind(scope.db_id())
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(line_from_row)
        .collect::<BillingResult<_>>()?;
        let (ids, lines): (Vec<LineId>, Vec<InvoiceLine>) = lines.into_iter().unzip();
        let total_matches = summary.total == Some(content.invoice.total);
        if ids != content.line_ids || lines != content.invoice.lines || !total_matches {
            return Err(BillingError::Corrupt(format!(
                "invoice {id}: the stored lines or total differ from its hashed content"
            )));
        }
        Ok(content)
    }

    /// Sets the client's purchase order reference, printed on the invoice. Refused once the
    /// invoice is finalized.
    pub async fn set_purchase_order(
        &self,
        scope: &TenantScope,
        id: InvoiceId,
        purchase_order: Option<&str>,
    ) -> BillingResult<InvoiceSummary> {
        let purchase_order = purchase_order.map(str::trim).filter(|po| !po.is_empty());
        if purchase_order.is_some_and(|po| po.len() > MAX_PURCHASE_ORDER_LEN) {
            return Err(BillingError::invalid(
                "purchase_order",
                format!("at most {MAX_PURCHASE_ORDER_LEN} characters"),
            ));
        }
        let updated = sqlx::query(
            "UPDATE billing_invoices SET purchase_order = $1
             WHERE id = $2 AND tenant_id = $3 AND status IN ('open', 'closing')",
        )
        .bind(purchase_order.map(str::to_owned))
        .bind(id.to_db())
        .bind(scope.db_id())
        .execute(self.db.pool())
        .await?;
        let mut conn = self.db.pool().acquire().await?;
        let summary = load_summary(&mut conn, scope.tenant_id(), id).await?;
        if updated.rows_affected() != 1 {
            return Err(BillingError::InvoiceFinalized(id));
        }
        Ok(summary)
    }

    /// The usage billed on an invoice (its own period's and late usage of earlier ones), in
    /// call order: what a usage export lists.
    pub async fn invoice_usage(
        &self,
        scope: &TenantScope,
        id: InvoiceId,
    ) -> BillingResult<Vec<MeteredUsage>> {
        let mut usages: Vec<MeteredUsage> = sqlx::query(
            "SELECT call_id, leg, metric, started_at, ended_at FROM billing_usage
             WHERE invoice_id = $1 AND tenant_id = $2",
        )
        .bind(id.to_db())
        .bind(scope.db_id())
        .fetch_all(self.db.pool())
        .await?
        .iter()
        .map(usage_from_row)
        .collect::<BillingResult<_>>()?;
        usages.sort_by_key(MeteredUsage::consumption_key);
        Ok(usages)
    }
}

pub(crate) fn metric_to_db(metric: Metric) -> &'static str {
    match metric {
        Metric::InboundMinutes => "inbound_minutes",
        Metric::AgentMinutes => "agent_minutes",
        Metric::IvrMinutes => "ivr_minutes",
        Metric::OutboundMinutes => "outbound_minutes",
    }
}

pub(crate) fn metric_from_db(text: &str) -> BillingResult<Metric> {
    Metric::ALL
        .into_iter()
        .find(|metric| metric_to_db(*metric) == text)
        .ok_or_else(|| BillingError::Corrupt(format!("metric = {text:?}")))
}

pub(crate) fn usage_from_row(row: &AnyRow) -> BillingResult<MeteredUsage> {
    let call_id: CallId = rows::parsed(row, "call_id")?;
    let leg = u16::try_from(rows::int(row, "leg")?)
        .map_err(|e| BillingError::Corrupt(format!("leg: {e}")))?;
    Ok(MeteredUsage {
        call_id,
        leg,
        metric: metric_from_db(&rows::text(row, "metric")?)?,
        started_at: rows::instant(row, "started_at")?,
        ended_at: rows::instant(row, "ended_at")?,
    })
}
