//! `/tenants/{tenant_id}/invoices`: one invoice per billing period. The tenant's admins and
//! billing viewers list them (newest period first), read one with its lines, and read the lines
//! of an open one as finalizing now would bill them. The platform operator finalizes one by hand
//! (`.../finalize`, skipping the grace period unless asked not to) and voids one that never
//! reached the payment provider (`.../void`); both honour `Idempotency-Key`.

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::{DateTime, NaiveDate, Utc};
use hotline_billing::ids::InvoiceId;
use hotline_billing::invoice_calc::{ComputedInvoice, InvoiceLine};
use hotline_billing::rating::BundleAllowance;
use hotline_billing::store::{Grace, InvoiceDetail, InvoiceSummary};
use hotline_core::ids::TenantId;
use hotline_tenants::rbac::Action;
use hotline_tenants::Page;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::api::idempotency::IdempotencyKey;
use crate::api::query_params::ApiQuery;
use crate::extract::{ApiPath, ListResponse, PageParams, Paging, TenantCtx};
use crate::problem::{ApiError, ApiResult, Problem};
use crate::AppState;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct InvoiceView {
    pub id: String,
    pub tenant_id: String,
    /// First local date of the period.
    pub period_start: NaiveDate,
    /// First local date after the period.
    pub period_end: NaiveDate,
    /// `open`, `closing` (grace for late records), `finalized`, `paid` or `void`.
    pub status: String,
    pub currency: String,
    /// In minor units (cents; yen for JPY); set once finalized.
    pub total_minor: Option<i64>,
    /// SHA-256 of the finalized content: what was billed can be checked against it.
    pub content_hash: Option<String>,
    /// What the payment provider last reported: `paid`, `payment_failed`, `uncollectible`, `void`.
    pub payment_status: Option<String>,
    pub purchase_order: Option<String>,
    /// When the period ends (UTC).
    pub ends_at: DateTime<Utc>,
    /// Late call records land on it until then.
    pub grace_until: Option<DateTime<Utc>>,
    pub finalized_at: Option<DateTime<Utc>>,
}

impl From<&InvoiceSummary> for InvoiceView {
    fn from(s: &InvoiceSummary) -> Self {
        Self {
            id: s.id.to_string(),
            tenant_id: s.tenant_id.to_string(),
            period_start: s.period.start,
            period_end: s.period.end,
            status: s.status.as_str().to_owned(),
            currency: s.currency.code().to_owned(),
            total_minor: s.total.map(|t| t.minor),
            content_hash: s.content_hash.clone(),
            payment_status: s.payment_status.map(|p| p.as_str().to_owned()),
            purchase_order: s.purchase_order.clone(),
            ends_at: s.ends_at,
            grace_until: s.grace_until,
            finalized_at: s.finalized_at,
        }
    }
}

/// One line: what was charged, how much of it, at what price, under which tariff version.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct LineView {
    /// `{"type": "usage", "metric": ..., "band": ..., "late": ...}`, `bundle_fee`,
    /// `included_usage`, `connect_fee`, `recurring_in_advance`, `recurring_prorated`.
    #[schema(value_type = Object)]
    pub kind: Value,
    pub description: String,
    /// `{"unit": "seconds", "seconds": n}`, `{"unit": "count", "count": n}` or
    /// `{"unit": "days", "days": n, "period_days": m}`.
    #[schema(value_type = Object)]
    pub quantity: Value,
    /// Per minute, per item or per period, as the quantity's unit says; exact decimal.
    pub unit_price: String,
    pub tariff_id: String,
    pub tariff_version: u32,
    /// Rounded HALF_UP once, in minor units.
    pub amount_minor: i64,
    pub currency: String,
}

impl LineView {
    pub fn new(line: &InvoiceLine) -> Self {
        Self {
            kind: serde_json::to_value(line.kind).unwrap_or(Value::Null),
            description: line.description.clone(),
            quantity: serde_json::to_value(line.quantity).unwrap_or(Value::Null),
            unit_price: line.unit_price.to_string(),
            tariff_id: line.tariff.tariff_id.to_string(),
            tariff_version: line.tariff.version,
            amount_minor: line.amount.minor,
            currency: line.amount.currency.code().to_owned(),
        }
    }
}

/// A bundle of included minutes and how much of it is used.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct BundleView {
    pub metric: String,
    pub included_seconds: u64,
    pub used_seconds: u64,
    pub remaining_seconds: u64,
    pub tariff_version: u32,
}

impl From<&BundleAllowance> for BundleView {
    fn from(b: &BundleAllowance) -> Self {
        Self {
            metric: metric_name(b.metric),
            included_seconds: b.included_seconds,
            used_seconds: b.used_seconds,
            remaining_seconds: b.remaining_seconds(),
            tariff_version: b.tariff.version,
        }
    }
}

/// The name a metric has in JSON (`inbound_minutes`, ...).
pub fn metric_name(metric: hotline_billing::usage::Metric) -> String {
    serde_json::to_value(metric)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// An invoice's lines and totals: as billed once final, as finalizing now would bill while open.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct LinesView {
    /// `false` while the invoice is open or closing: a preview that still changes.
    #[serde(rename = "final")]
    pub is_final: bool,
    pub currency: String,
    pub lines: Vec<LineView>,
    pub subtotal_minor: i64,
    pub tax_rate: Option<String>,
    pub tax_minor: i64,
    pub total_minor: i64,
    pub bundles: Vec<BundleView>,
}

impl LinesView {
    pub fn new(invoice: &ComputedInvoice, is_final: bool) -> Self {
        Self {
            is_final,
            currency: invoice.currency.code().to_owned(),
            lines: invoice.lines.iter().map(LineView::new).collect(),
            subtotal_minor: invoice.subtotal.minor,
            tax_rate: invoice.tax_rate.map(|r| r.to_string()),
            tax_minor: invoice.tax.minor,
            total_minor: invoice.total.minor,
            bundles: invoice.bundles.iter().map(BundleView::from).collect(),
        }
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct InvoiceDetailView {
    #[serde(flatten)]
    pub invoice: InvoiceView,
    /// Lines and totals; absent until finalized (see `/lines` for an open invoice's preview).
    pub billed: Option<LinesView>,
}

impl From<&InvoiceDetail> for InvoiceDetailView {
    fn from(detail: &InvoiceDetail) -> Self {
        Self {
            invoice: (&detail.summary).into(),
            billed: detail
                .content
                .as_ref()
                .map(|content| LinesView::new(&content.invoice, true)),
        }
    }
}

/// The page of `items` (newest period first) after the cursor.
fn page_of(items: Vec<InvoiceSummary>, page: &hotline_tenants::PageRequest) -> Page<InvoiceView> {
    let start = page
        .after
        .and_then(|after| items.iter().position(|i| i.id.0 == after).map(|p| p + 1))
        .unwrap_or(if page.after.is_some() { items.len() } else { 0 });
    let limit = page.limit.clamp(1, hotline_tenants::PageRequest::MAX_LIMIT) as usize;
    let rest = items.get(start..).unwrap_or(&[]);
    let taken: Vec<InvoiceView> = rest.iter().take(limit).map(InvoiceView::from).collect();
    let next = (rest.len() > limit)
        .then(|| rest.get(limit - 1).map(|i| i.id.0))
        .flatten();
    Page { items: taken, next }
}

#[utoipa::path(get, path = "/api/v1/tenants/{tenant_id}/invoices", tag = "billing",
    params(("tenant_id" = String, Path), PageParams),
    responses((status = 200, body = ListResponse<InvoiceView>), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn list(
    State(state): State<AppState>,
    ctx: TenantCtx,
    Paging(page): Paging,
) -> ApiResult<Json<ListResponse<InvoiceView>>> {
    ctx.require(Action::BillingRead)?;
    let invoices = state.billing.billing.store().invoices(&ctx.scope).await?;
    Ok(Json(page_of(invoices, &page).into()))
}

#[utoipa::path(get, path = "/api/v1/tenants/{tenant_id}/invoices/{id}", tag = "billing",
    params(("tenant_id" = String, Path), ("id" = String, Path)),
    responses((status = 200, body = InvoiceDetailView), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn get(
    State(state): State<AppState>,
    ctx: TenantCtx,
    ApiPath((_, id)): ApiPath<(TenantId, InvoiceId)>,
) -> ApiResult<Json<InvoiceDetailView>> {
    ctx.require(Action::BillingRead)?;
    let detail = state
        .billing
        .billing
        .store()
        .invoice(&ctx.scope, id)
        .await?;
    Ok(Json((&detail).into()))
}

/// The invoice's lines and totals; for an open or closing invoice, what finalizing it now would
/// bill (`"final": false`).
#[utoipa::path(get, path = "/api/v1/tenants/{tenant_id}/invoices/{id}/lines", tag = "billing",
    params(("tenant_id" = String, Path), ("id" = String, Path)),
    responses((status = 200, body = LinesView), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn lines(
    State(state): State<AppState>,
    ctx: TenantCtx,
    ApiPath((_, id)): ApiPath<(TenantId, InvoiceId)>,
) -> ApiResult<Json<LinesView>> {
    ctx.require(Action::BillingRead)?;
    let billing = &state.billing.billing;
    let detail = billing.store().invoice(&ctx.scope, id).await?;
    if let Some(content) = &detail.content {
        return Ok(Json(LinesView::new(&content.invoice, true)));
    }
    let preview = billing
        .store()
        .usage_summary(&ctx.scope, Some(detail.summary.period.start), billing.now())
        .await?;
    Ok(Json(LinesView::new(&preview.invoice, false)))
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FinalizeParams {
    /// Refuse (409) while late records may still land on the invoice, instead of finalizing
    /// before its grace period is over (the default when finalizing by hand).
    #[serde(default)]
    pub respect_grace: bool,
}

/// Finalize the invoice now: its lines and totals become final and hashed, and it is synced to
/// the payment provider when one is configured. Earlier periods must be final first (409).
#[utoipa::path(post, path = "/api/v1/tenants/{tenant_id}/invoices/{id}/finalize", tag = "billing",
    params(("tenant_id" = String, Path), ("id" = String, Path), FinalizeParams,
        ("Idempotency-Key" = Option<String>, Header, description = "Repeating a request with the same key answers as the first time")),
    responses((status = 200, body = InvoiceView), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn finalize(
    State(state): State<AppState>,
    ctx: TenantCtx,
    ApiPath((_, id)): ApiPath<(TenantId, InvoiceId)>,
    ApiQuery(params): ApiQuery<FinalizeParams>,
    idempotency: IdempotencyKey,
) -> ApiResult<Response> {
    ctx.require(Action::BillingManage)?;
    let platform = ctx
        .caller
        .0
        .platform_scope()
        .ok_or_else(|| ApiError::forbidden("only the platform operator may do this"))?;
    let grace = if params.respect_grace {
        Grace::Respect
    } else {
        Grace::Skip
    };
    let billing = state.billing.billing.clone();
    let scope = ctx.scope;
    let body = json!({ "respect_grace": params.respect_grace });
    Ok(idempotency
        .once(&state.billing, &ctx.caller, &body, || async move {
            let run = async {
                let invoice = billing.store().invoice(&scope, id).await?.summary;
                let finalized = billing
                    .close_period(&platform, scope.tenant_id(), invoice.period.start, grace)
                    .await?;
                ApiResult::Ok(Json(InvoiceView::from(&finalized)))
            };
            run.await.into_response()
        })
        .await)
}

/// Void a finalized invoice that never reached the payment provider (one that did is voided
/// there; its webhook marks it void here). A paid or credited invoice is corrected with a
/// credit note instead (422).
#[utoipa::path(post, path = "/api/v1/tenants/{tenant_id}/invoices/{id}/void", tag = "billing",
    params(("tenant_id" = String, Path), ("id" = String, Path),
        ("Idempotency-Key" = Option<String>, Header, description = "Repeating a request with the same key answers as the first time")),
    responses((status = 200, body = InvoiceView), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn void(
    State(state): State<AppState>,
    ctx: TenantCtx,
    ApiPath((_, id)): ApiPath<(TenantId, InvoiceId)>,
    idempotency: IdempotencyKey,
) -> ApiResult<Response> {
    ctx.require(Action::BillingManage)?;
    let platform = ctx
        .caller
        .0
        .platform_scope()
        .ok_or_else(|| ApiError::forbidden("only the platform operator may do this"))?;
    let billing = state.billing.billing.clone();
    let tenant = ctx.scope.tenant_id();
    Ok(idempotency
        .once(&state.billing, &ctx.caller, &Value::Null, || async move {
            let run = async {
                let voided = billing
                    .store()
                    .platform_void_invoice(&platform, tenant, id, billing.now())
                    .await?;
                ApiResult::Ok(Json(InvoiceView::from(&voided)))
            };
            run.await.into_response()
        })
        .await)
}

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(get))
        .routes(routes!(lines))
        .routes(routes!(finalize))
        .routes(routes!(void))
}

#[cfg(test)]
mod tests {
    use hotline_billing::money::Currency;
    use hotline_billing::period::BillingPeriod;
    use hotline_billing::store::InvoiceStatus;
    use hotline_tenants::PageRequest;

    use super::*;

    fn invoice(month: u32) -> InvoiceSummary {
        let start = NaiveDate::from_ymd_opt(2026, month, 1).unwrap();
        let end = NaiveDate::from_ymd_opt(2026, month + 1, 1).unwrap();
        InvoiceSummary {
            id: InvoiceId::new(),
            tenant_id: TenantId::new(),
            period: BillingPeriod::new(start, end).unwrap(),
            status: InvoiceStatus::Open,
            currency: Currency::from_code("EUR").unwrap(),
            total: None,
            content_hash: None,
            payment_status: None,
            purchase_order: None,
            ends_at: Utc::now(),
            grace_until: None,
            finalized_at: None,
        }
    }

    #[test]
    fn pages_follow_the_cursor_to_the_end() {
        let all: Vec<InvoiceSummary> = (1..=5).rev().map(invoice).collect();
        let ids: Vec<String> = all.iter().map(|i| i.id.to_string()).collect();
        let first = page_of(all.clone(), &PageRequest::first(2));
        let got: Vec<&str> = first.items.iter().map(|i| i.id.as_str()).collect();
        assert_eq!(got, vec![ids[0].as_str(), ids[1].as_str()]);
        assert_eq!(first.next, Some(all[1].id.0));
        let second = page_of(
            all.clone(),
            &PageRequest {
                limit: 2,
                after: first.next,
            },
        );
        assert_eq!(second.items[0].id, ids[2]);
        assert_eq!(second.next, Some(all[3].id.0));
        let last = page_of(
            all.clone(),
            &PageRequest {
                limit: 2,
                after: second.next,
            },
        );
        assert_eq!(last.items.len(), 1);
        assert_eq!(last.items[0].id, ids[4]);
        assert_eq!(last.next, None);
        let unknown = page_of(
            all,
            &PageRequest {
                limit: 2,
                after: Some(uuid::Uuid::nil()),
            },
        );
        assert!(unknown.items.is_empty());
    }
}
