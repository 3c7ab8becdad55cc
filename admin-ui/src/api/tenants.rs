//! `/tenants`: client companies. The operator lists, creates and changes them; a tenant's own
//! users may read their tenant.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use hotline_core::ids::TenantId;
use hotline_tenants::rbac::Action;
use hotline_tenants::tenants::{Tenant, TenantSpec};
use serde_json::Value;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::api::spec_resource::patched;
use crate::extract::{
    etag, ApiJson, ApiPath, IfMatch, ListResponse, PageParams, Paging, PlatformCtx, TenantCtx,
};
use crate::problem::{ApiResult, Problem};
use crate::AppState;

#[utoipa::path(get, path = "/api/v1/tenants", tag = "tenants", params(PageParams),
    responses((status = 200, body = ListResponse<Tenant>), (status = 403, body = Problem)))]
pub async fn list(
    State(state): State<AppState>,
    ctx: PlatformCtx,
    Paging(page): Paging,
) -> ApiResult<Json<ListResponse<Tenant>>> {
    ctx.caller.require(Action::TenantList)?;
    Ok(Json(
        state.store.list_tenants(&ctx.scope, &page).await?.into(),
    ))
}

#[utoipa::path(post, path = "/api/v1/tenants", tag = "tenants", request_body = TenantSpec,
    responses((status = 201, body = Tenant), (status = 403, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn create(
    State(state): State<AppState>,
    ctx: PlatformCtx,
    ApiJson(spec): ApiJson<TenantSpec>,
) -> ApiResult<(StatusCode, HeaderMap, Json<Tenant>)> {
    ctx.caller.require(Action::TenantCreate)?;
    let tenant = state
        .store
        .create_tenant(&ctx.actor(), &ctx.scope, spec)
        .await?;
    Ok((StatusCode::CREATED, etag(tenant.version), Json(tenant)))
}

#[utoipa::path(get, path = "/api/v1/tenants/{tenant_id}", tag = "tenants", params(("tenant_id" = String, Path)),
    responses((status = 200, body = Tenant), (status = 404, body = Problem)))]
pub async fn get(
    State(state): State<AppState>,
    ctx: TenantCtx,
) -> ApiResult<(HeaderMap, Json<Tenant>)> {
    ctx.require(Action::TenantRead)?;
    let tenant = state.store.get_tenant(&ctx.scope).await?;
    Ok((etag(tenant.version), Json(tenant)))
}

/// Change a tenant (name, status, time zone, limits) with a JSON Merge Patch.
#[utoipa::path(patch, path = "/api/v1/tenants/{tenant_id}", tag = "tenants",
    params(("tenant_id" = String, Path), ("If-Match" = String, Header)),
    request_body(content = Object, content_type = "application/merge-patch+json"),
    responses((status = 200, body = Tenant), (status = 403, body = Problem), (status = 412, body = Problem), (status = 422, body = Problem), (status = 428, body = Problem)))]
pub async fn patch(
    State(state): State<AppState>,
    ctx: PlatformCtx,
    ApiPath(tenant_id): ApiPath<TenantId>,
    IfMatch(version): IfMatch,
    ApiJson(body): ApiJson<Value>,
) -> ApiResult<(HeaderMap, Json<Tenant>)> {
    ctx.caller.require(Action::TenantUpdate)?;
    let current = state.store.get_tenant(&ctx.scope.tenant(tenant_id)).await?;
    let spec = patched(&current.spec, &body)?;
    let tenant = state
        .store
        .update_tenant(&ctx.actor(), &ctx.scope, tenant_id, version, spec)
        .await?;
    Ok((etag(tenant.version), Json(tenant)))
}

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(get, patch))
}
