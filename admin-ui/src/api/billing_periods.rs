//! `POST /tenants/{tenant_id}/billing/close-period`: the platform operator closes a tenant's
//! ended billing periods by hand — every ended period not yet final is finalized, oldest first,
//! until one must wait for its grace period (unless `skip_grace`). Nothing to do is not an error:
//! the answer says what was finalized and what waits. Honours `Idempotency-Key`.

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::Json;
use hotline_billing::closing::TenantClose;
use hotline_billing::store::Grace;
use hotline_tenants::rbac::Action;
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::api::idempotency::IdempotencyKey;
use crate::api::invoices::InvoiceView;
use crate::extract::{ApiJson, TenantCtx};
use crate::problem::{ApiError, ApiResult, Problem};
use crate::AppState;

#[derive(Debug, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CloseInput {
    /// Finalize ended periods even while late call records may still arrive for them (they then
    /// land on the next invoice as adjustments).
    #[serde(default)]
    pub skip_grace: bool,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Waiting {
    pub invoice: InvoiceView,
    pub reason: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CloseView {
    /// Finalized now, oldest first.
    pub finalized: Vec<InvoiceView>,
    /// The first ended period that could not be finalized yet; later ones wait for it.
    pub waiting: Option<Waiting>,
}

impl From<&TenantClose> for CloseView {
    fn from(close: &TenantClose) -> Self {
        Self {
            finalized: close.finalized.iter().map(InvoiceView::from).collect(),
            waiting: close.waiting.as_ref().map(|(invoice, reason)| Waiting {
                invoice: invoice.into(),
                reason: reason.clone(),
            }),
        }
    }
}

#[utoipa::path(post, path = "/api/v1/tenants/{tenant_id}/billing/close-period", tag = "billing",
    params(("tenant_id" = String, Path),
        ("Idempotency-Key" = Option<String>, Header, description = "Repeating a request with the same key answers as the first time")),
    request_body = CloseInput,
    responses((status = 200, body = CloseView), (status = 400, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn close(
    State(state): State<AppState>,
    ctx: TenantCtx,
    idempotency: IdempotencyKey,
    ApiJson(input): ApiJson<CloseInput>,
) -> ApiResult<Response> {
    ctx.require(Action::BillingManage)?;
    let platform = ctx
        .caller
        .0
        .platform_scope()
        .ok_or_else(|| ApiError::forbidden("only the platform operator may do this"))?;
    let grace = if input.skip_grace {
        Grace::Skip
    } else {
        Grace::Respect
    };
    let billing = state.billing.billing.clone();
    let tenant = ctx.scope.tenant_id();
    let body = serde_json::to_value(&input).unwrap_or_default();
    Ok(idempotency
        .once(&state.billing, &ctx.caller, &body, || async move {
            let run = async {
                let closed = billing
                    .close_tenant_periods(&platform, tenant, grace)
                    .await?;
                ApiResult::Ok(Json(CloseView::from(&closed)))
            };
            run.await.into_response()
        })
        .await)
}

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(close))
}
