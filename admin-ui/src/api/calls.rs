//! Call history: `/tenants/{tenant_id}/calls` lists the tenant's finished calls newest first,
//! `/tenants/{tenant_id}/calls/{id}` shows one record whole (timestamps, legs, queue visits,
//! holds, end cause). Read-only: records are written by the call engine alone.

use axum::extract::State;
use axum::Json;
use hotline_core::call::CallRecord;
use hotline_core::ids::{CallId, TenantId};
use hotline_tenants::rbac::Action;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::extract::{ApiPath, ListResponse, PageParams, Paging, TenantCtx};
use crate::problem::{ApiResult, Problem};
use crate::AppState;

#[utoipa::path(get, path = "/api/v1/tenants/{tenant_id}/calls", tag = "calls",
    params(("tenant_id" = String, Path), PageParams),
    responses((status = 200, body = ListResponse<CallRecord>), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn list(
    State(state): State<AppState>,
    ctx: TenantCtx,
    Paging(page): Paging,
) -> ApiResult<Json<ListResponse<CallRecord>>> {
    ctx.require(Action::CallHistoryRead)?;
    Ok(Json(
        state
            .store
            .list_call_records(&ctx.scope, &page)
            .await?
            .into(),
    ))
}

#[utoipa::path(get, path = "/api/v1/tenants/{tenant_id}/calls/{id}", tag = "calls",
    params(("tenant_id" = String, Path), ("id" = String, Path, description = "The call id")),
    responses((status = 200, body = CallRecord), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn get(
    State(state): State<AppState>,
    ctx: TenantCtx,
    ApiPath((_, call_id)): ApiPath<(TenantId, CallId)>,
) -> ApiResult<Json<CallRecord>> {
    ctx.require(Action::CallHistoryRead)?;
    Ok(Json(
        state.store.get_call_record(&ctx.scope, call_id).await?,
    ))
}

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(get))
}
