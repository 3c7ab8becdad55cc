//! The audit log: `/tenants/{tenant_id}/audit` for a tenant admin (its tenant's changes),
//! `/audit` for the operator (every change). Newest first.

use axum::extract::State;
use axum::Json;
use hotline_tenants::audit::AuditEntry;
use hotline_tenants::rbac::Action;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::extract::{ListResponse, PageParams, Paging, PlatformCtx, TenantCtx};
use crate::problem::{ApiResult, Problem};
use crate::AppState;

#[utoipa::path(get, path = "/api/v1/tenants/{tenant_id}/audit", tag = "audit",
    params(("tenant_id" = String, Path), PageParams),
    responses((status = 200, body = ListResponse<AuditEntry>), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn tenant_log(
    State(state): State<AppState>,
    ctx: TenantCtx,
    Paging(page): Paging,
) -> ApiResult<Json<ListResponse<AuditEntry>>> {
    ctx.require(Action::AuditRead)?;
    Ok(Json(
        state
            .store
            .tenant_audit_log(&ctx.scope, &page)
            .await?
            .into(),
    ))
}

#[utoipa::path(get, path = "/api/v1/audit", tag = "audit", params(PageParams),
    responses((status = 200, body = ListResponse<AuditEntry>), (status = 403, body = Problem)))]
pub async fn platform_log(
    State(state): State<AppState>,
    ctx: PlatformCtx,
    Paging(page): Paging,
) -> ApiResult<Json<ListResponse<AuditEntry>>> {
    ctx.caller.require(Action::PlatformAuditRead)?;
    Ok(Json(
        state
            .store
            .platform_audit_log(&ctx.scope, &page)
            .await?
            .into(),
    ))
}

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(tenant_log))
        .routes(routes!(platform_log))
}
