//! `/tenants/{tenant_id}/users` (a tenant's people) and `/users` (the operator's platform
//! admins). A tenant admin may create any tenant role in its tenant, never platform-admin.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use hotline_core::ids::{TenantId, UserId};
use hotline_tenants::rbac::{self, Action};
use hotline_tenants::users::{User, UserInput};
use serde_json::Value;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::api::spec_resource::patched;
use crate::extract::{
    etag, ApiJson, ApiPath, IfMatch, ListResponse, PageParams, Paging, PlatformCtx, TenantCtx,
};
use crate::problem::{ApiError, ApiResult, Problem};
use crate::AppState;

fn check_grant(ctx: &TenantCtx, input: &UserInput) -> ApiResult<()> {
    if rbac::may_grant(ctx.caller.0.role, input.role) {
        Ok(())
    } else {
        Err(ApiError::forbidden(format!(
            "the {} role may not grant {}",
            ctx.caller.0.role.as_str(),
            input.role.as_str()
        )))
    }
}

#[utoipa::path(get, path = "/api/v1/tenants/{tenant_id}/users", tag = "users",
    params(("tenant_id" = String, Path), PageParams),
    responses((status = 200, body = ListResponse<User>), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn list(
    State(state): State<AppState>,
    ctx: TenantCtx,
    Paging(page): Paging,
) -> ApiResult<Json<ListResponse<User>>> {
    ctx.require(Action::UserRead)?;
    Ok(Json(
        state.store.list_users(&ctx.scope, &page).await?.into(),
    ))
}

#[utoipa::path(post, path = "/api/v1/tenants/{tenant_id}/users", tag = "users",
    params(("tenant_id" = String, Path)), request_body = UserInput,
    responses((status = 201, body = User), (status = 403, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn create(
    State(state): State<AppState>,
    ctx: TenantCtx,
    ApiJson(input): ApiJson<UserInput>,
) -> ApiResult<(StatusCode, HeaderMap, Json<User>)> {
    ctx.require(Action::UserWrite)?;
    check_grant(&ctx, &input)?;
    let user = state
        .store
        .create_user(&ctx.actor(), &ctx.scope, input)
        .await?;
    Ok((StatusCode::CREATED, etag(user.version), Json(user)))
}

#[utoipa::path(get, path = "/api/v1/tenants/{tenant_id}/users/{id}", tag = "users",
    params(("tenant_id" = String, Path), ("id" = String, Path)),
    responses((status = 200, body = User), (status = 404, body = Problem)))]
pub async fn get(
    State(state): State<AppState>,
    ctx: TenantCtx,
    ApiPath((_, id)): ApiPath<(TenantId, UserId)>,
) -> ApiResult<(HeaderMap, Json<User>)> {
    ctx.require(Action::UserRead)?;
    let user = state.store.get_user(&ctx.scope, id).await?;
    Ok((etag(user.version), Json(user)))
}

/// Change a user with a JSON Merge Patch; `password` may be set here too (write-only).
#[utoipa::path(patch, path = "/api/v1/tenants/{tenant_id}/users/{id}", tag = "users",
    params(("tenant_id" = String, Path), ("id" = String, Path), ("If-Match" = String, Header)),
    request_body(content = Object, content_type = "application/merge-patch+json"),
    responses((status = 200, body = User), (status = 403, body = Problem), (status = 404, body = Problem), (status = 412, body = Problem), (status = 422, body = Problem)))]
pub async fn patch(
    State(state): State<AppState>,
    ctx: TenantCtx,
    ApiPath((_, id)): ApiPath<(TenantId, UserId)>,
    IfMatch(version): IfMatch,
    ApiJson(body): ApiJson<Value>,
) -> ApiResult<(HeaderMap, Json<User>)> {
    ctx.require(Action::UserWrite)?;
    let current = state.store.get_user(&ctx.scope, id).await?;
    let input = patched(&current.input(), &body)?;
    check_grant(&ctx, &input)?;
    let user = state
        .store
        .update_user(&ctx.actor(), &ctx.scope, id, version, input)
        .await?;
    Ok((etag(user.version), Json(user)))
}

#[utoipa::path(delete, path = "/api/v1/tenants/{tenant_id}/users/{id}", tag = "users",
    params(("tenant_id" = String, Path), ("id" = String, Path)),
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn delete(
    State(state): State<AppState>,
    ctx: TenantCtx,
    ApiPath((_, id)): ApiPath<(TenantId, UserId)>,
) -> ApiResult<StatusCode> {
    ctx.require(Action::UserWrite)?;
    state
        .store
        .delete_user(&ctx.actor(), &ctx.scope, id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/api/v1/users", tag = "platform", params(PageParams),
    responses((status = 200, body = ListResponse<User>), (status = 403, body = Problem)))]
pub async fn list_platform(
    State(state): State<AppState>,
    ctx: PlatformCtx,
    Paging(page): Paging,
) -> ApiResult<Json<ListResponse<User>>> {
    ctx.caller.require(Action::PlatformUserManage)?;
    Ok(Json(
        state
            .store
            .list_platform_users(&ctx.scope, &page)
            .await?
            .into(),
    ))
}

#[utoipa::path(post, path = "/api/v1/users", tag = "platform", request_body = UserInput,
    responses((status = 201, body = User), (status = 403, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn create_platform(
    State(state): State<AppState>,
    ctx: PlatformCtx,
    ApiJson(input): ApiJson<UserInput>,
) -> ApiResult<(StatusCode, HeaderMap, Json<User>)> {
    ctx.caller.require(Action::PlatformUserManage)?;
    let user = state
        .store
        .create_platform_user(&ctx.actor(), &ctx.scope, input)
        .await?;
    Ok((StatusCode::CREATED, etag(user.version), Json(user)))
}

#[utoipa::path(patch, path = "/api/v1/users/{id}", tag = "platform",
    params(("id" = String, Path), ("If-Match" = String, Header)),
    request_body(content = Object, content_type = "application/merge-patch+json"),
    responses((status = 200, body = User), (status = 404, body = Problem), (status = 412, body = Problem), (status = 422, body = Problem)))]
pub async fn patch_platform(
    State(state): State<AppState>,
    ctx: PlatformCtx,
    ApiPath(id): ApiPath<UserId>,
    IfMatch(version): IfMatch,
    ApiJson(body): ApiJson<Value>,
) -> ApiResult<(HeaderMap, Json<User>)> {
    ctx.caller.require(Action::PlatformUserManage)?;
    let current = state.store.get_platform_user(&ctx.scope, id).await?;
    let input = patched(&current.input(), &body)?;
    let user = state
        .store
        .update_platform_user(&ctx.actor(), &ctx.scope, id, version, input)
        .await?;
    Ok((etag(user.version), Json(user)))
}

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(get, patch, delete))
        .routes(routes!(list_platform, create_platform))
        .routes(routes!(patch_platform))
}
