//! `/tenants/{tenant_id}/api-keys`: machine credentials of a tenant. The secret is in the
//! creation answer only.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use hotline_core::ids::{ApiKeyId, TenantId};
use hotline_tenants::api_keys::{ApiKey, ApiKeyInput, CreatedApiKey};
use hotline_tenants::rbac::{self, Action};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::extract::{ApiJson, ApiPath, ListResponse, PageParams, Paging, TenantCtx};
use crate::problem::{ApiError, ApiResult, Problem};
use crate::AppState;

#[utoipa::path(get, path = "/api/v1/tenants/{tenant_id}/api-keys", tag = "api-keys",
    params(("tenant_id" = String, Path), PageParams),
    responses((status = 200, body = ListResponse<ApiKey>), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn list(
    State(state): State<AppState>,
    ctx: TenantCtx,
    Paging(page): Paging,
) -> ApiResult<Json<ListResponse<ApiKey>>> {
    ctx.require(Action::ApiKeyManage)?;
    Ok(Json(
        state.store.list_api_keys(&ctx.scope, &page).await?.into(),
    ))
}

/// Create a key; the answer's `secret` is shown this once.
#[utoipa::path(post, path = "/api/v1/tenants/{tenant_id}/api-keys", tag = "api-keys",
    params(("tenant_id" = String, Path)), request_body = ApiKeyInput,
    responses((status = 201, body = CreatedApiKey), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn create(
    State(state): State<AppState>,
    ctx: TenantCtx,
    ApiJson(input): ApiJson<ApiKeyInput>,
) -> ApiResult<(StatusCode, Json<CreatedApiKey>)> {
    ctx.require(Action::ApiKeyManage)?;
    if !rbac::may_grant(ctx.caller.0.role, input.role) {
        return Err(ApiError::forbidden(format!(
            "the {} role may not grant {}",
            ctx.caller.0.role.as_str(),
            input.role.as_str()
        )));
    }
    let created = state
        .store
        .create_api_key(&ctx.actor(), &ctx.scope, input)
        .await?;
    Ok((StatusCode::CREATED, Json(created)))
}

/// Revoke a key; it stops working at once.
#[utoipa::path(delete, path = "/api/v1/tenants/{tenant_id}/api-keys/{id}", tag = "api-keys",
    params(("tenant_id" = String, Path), ("id" = String, Path)),
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn revoke(
    State(state): State<AppState>,
    ctx: TenantCtx,
    ApiPath((_, id)): ApiPath<(TenantId, ApiKeyId)>,
) -> ApiResult<StatusCode> {
    ctx.require(Action::ApiKeyManage)?;
    state
        .store
        .revoke_api_key(&ctx.actor(), &ctx.scope, id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(revoke))
}
