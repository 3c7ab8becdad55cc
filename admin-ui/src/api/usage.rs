//! `GET /tenants/{tenant_id}/billing/usage`: a tenant's usage in a billing period against its
//! bundles — the running period by default (as finalizing now would bill it), or the period
//! containing `?date=`. What is shown is billed seconds (increments, minimums and bundles
//! applied), never raw call durations. Tenant admins and billing viewers read their own; the
//! platform operator reads any tenant's (the firm's view of one tenant's usage in a period).

use axum::extract::State;
use axum::Json;
use chrono::NaiveDate;
use hotline_billing::store::{MetricUsage, UsageSummary};
use hotline_tenants::rbac::Action;
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::api::invoices::{metric_name, LinesView};
use crate::api::query_params::ApiQuery;
use crate::extract::TenantCtx;
use crate::problem::{ApiResult, Problem};
use crate::AppState;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct MetricUsageView {
    /// `inbound_minutes`, `agent_minutes`, `ivr_minutes` or `outbound_minutes`.
    pub metric: String,
    /// Included plus charged.
    pub billable_seconds: u64,
    /// Covered by a bundle.
    pub included_seconds: u64,
    /// Charged per minute (overage, or no bundle).
    pub charged_seconds: u64,
}

impl From<&MetricUsage> for MetricUsageView {
    fn from(usage: &MetricUsage) -> Self {
        Self {
            metric: metric_name(usage.metric),
            billable_seconds: usage.billable_seconds(),
            included_seconds: usage.included_seconds,
            charged_seconds: usage.charged_seconds,
        }
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct UsageView {
    pub tenant_id: String,
    pub period_start: NaiveDate,
    /// First local date after the period.
    pub period_end: NaiveDate,
    /// Absent while nothing was stored for the period yet.
    pub invoice_id: Option<String>,
    pub status: String,
    pub metrics: Vec<MetricUsageView>,
    /// Lines, totals and bundles; `"final": false` while the period is open.
    pub invoice: LinesView,
}

impl From<&UsageSummary> for UsageView {
    fn from(summary: &UsageSummary) -> Self {
        Self {
            tenant_id: summary.tenant_id.to_string(),
            period_start: summary.period.start,
            period_end: summary.period.end,
            invoice_id: summary.invoice_id.map(|id| id.to_string()),
            status: summary.status.as_str().to_owned(),
            metrics: summary.metrics.iter().map(MetricUsageView::from).collect(),
            invoice: LinesView::new(&summary.invoice, summary.status.is_final()),
        }
    }
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UsageParams {
    /// Any local date of the period to show (default: today in the tenant's zone).
    pub date: Option<NaiveDate>,
}

#[utoipa::path(get, path = "/api/v1/tenants/{tenant_id}/billing/usage", tag = "billing",
    params(("tenant_id" = String, Path), UsageParams),
    responses((status = 200, body = UsageView), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 422, body = Problem)))]
pub async fn get(
    State(state): State<AppState>,
    ctx: TenantCtx,
    ApiQuery(params): ApiQuery<UsageParams>,
) -> ApiResult<Json<UsageView>> {
    ctx.require(Action::BillingRead)?;
    let billing = &state.billing.billing;
    let summary = billing
        .store()
        .usage_summary(&ctx.scope, params.date, billing.now())
        .await?;
    Ok(Json((&summary).into()))
}

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(get))
}
