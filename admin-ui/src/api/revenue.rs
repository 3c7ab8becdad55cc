//! `GET /billing/revenue?from=&until=`: the firm's view across tenants — per tenant and
//! currency, the final invoices whose period starts in `[from, until)` (every period by default): their count, subtotal,
//! tax and total, credit notes against them, what the provider reported paid, and the billed
//! seconds per metric. Void invoices are counted apart and add nothing. The platform operator's
//! alone.

use axum::extract::State;
use axum::Json;
use chrono::NaiveDate;
use hotline_billing::store::TenantRevenue;
use hotline_tenants::rbac::Action;
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::api::query_params::ApiQuery;
use crate::api::usage::MetricUsageView;
use crate::extract::PlatformCtx;
use crate::problem::{ApiResult, Problem};
use crate::AppState;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TenantRevenueView {
    pub tenant_id: String,
    pub currency: String,
    /// Finalized and paid invoices.
    pub invoices: u32,
    pub void_invoices: u32,
    pub subtotal_minor: i64,
    pub tax_minor: i64,
    pub total_minor: i64,
    pub credited_minor: i64,
    /// Total less credit notes.
    pub net_minor: i64,
    pub paid_minor: i64,
    pub metrics: Vec<MetricUsageView>,
}

impl From<&TenantRevenue> for TenantRevenueView {
    fn from(r: &TenantRevenue) -> Self {
        Self {
            tenant_id: r.tenant_id.to_string(),
            currency: r.currency.code().to_owned(),
            invoices: r.invoices,
            void_invoices: r.void_invoices,
            subtotal_minor: r.subtotal.minor,
            tax_minor: r.tax.minor,
            total_minor: r.total.minor,
            credited_minor: r.credited.minor,
            net_minor: r.net().minor,
            paid_minor: r.paid.minor,
            metrics: r.metrics.iter().map(MetricUsageView::from).collect(),
        }
    }
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RevenueParams {
    /// First period start included (a local date, e.g. 2026-01-01); default: no lower bound.
    pub from: Option<NaiveDate>,
    /// First period start no longer included; default: no upper bound.
    pub until: Option<NaiveDate>,
}

/// Bounds no billing period reaches: every period, when a bound is not given.
const EARLIEST: NaiveDate = NaiveDate::from_ymd_opt(1970, 1, 1).expect("a valid date");
const LATEST: NaiveDate = NaiveDate::from_ymd_opt(9999, 12, 31).expect("a valid date");

#[utoipa::path(get, path = "/api/v1/billing/revenue", tag = "billing", params(RevenueParams),
    responses((status = 200, body = Vec<TenantRevenueView>), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 422, body = Problem)))]
pub async fn get(
    State(state): State<AppState>,
    ctx: PlatformCtx,
    ApiQuery(params): ApiQuery<RevenueParams>,
) -> ApiResult<Json<Vec<TenantRevenueView>>> {
    ctx.caller.require(Action::BillingManage)?;
    let revenue = state
        .billing
        .billing
        .store()
        .platform_revenue(
            &ctx.scope,
            params.from.unwrap_or(EARLIEST),
            params.until.unwrap_or(LATEST),
        )
        .await?;
    Ok(Json(revenue.iter().map(TenantRevenueView::from).collect()))
}

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(get))
}
