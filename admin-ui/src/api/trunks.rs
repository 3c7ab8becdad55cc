//! `/trunks`: the carriers calls come in and go out through. The platform operator's alone;
//! every tenant role is refused (403). Secrets read `"***"`; sending `"***"` back keeps them.

use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::Json;
use hotline_core::ids::TrunkId;
use hotline_tenants::rbac::Action;
use hotline_tenants::trunks::{Trunk, TrunkSpec};
use serde_json::Value;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::api::spec_resource::patched;
use crate::extract::{
    etag, ApiJson, ApiPath, IfMatch, ListResponse, PageParams, Paging, PlatformCtx,
};
use crate::problem::{ApiResult, Problem};
use crate::AppState;

#[utoipa::path(get, path = "/api/v1/trunks", tag = "trunks", params(PageParams),
    responses((status = 200, body = ListResponse<Trunk>), (status = 401, body = Problem), (status = 403, body = Problem)))]
pub async fn list(
    State(state): State<AppState>,
    ctx: PlatformCtx,
    Paging(page): Paging,
) -> ApiResult<Json<ListResponse<Trunk>>> {
    ctx.caller.require(Action::TrunkManage)?;
    Ok(Json(
        state.store.list_trunks(&ctx.scope, &page).await?.into(),
    ))
}

/// Add a carrier trunk. Passwords are write-only.
#[utoipa::path(post, path = "/api/v1/trunks", tag = "trunks", request_body = TrunkSpec,
    responses((status = 201, body = Trunk, headers(("ETag" = String), ("Location" = String))),
        (status = 400, body = Problem), (status = 403, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn create(
    State(state): State<AppState>,
    ctx: PlatformCtx,
    ApiJson(spec): ApiJson<TrunkSpec>,
) -> ApiResult<(StatusCode, HeaderMap, Json<Trunk>)> {
    ctx.caller.require(Action::TrunkManage)?;
    let trunk = state
        .store
        .create_trunk(&ctx.actor(), &ctx.scope, spec)
        .await?;
    let mut headers = etag(trunk.version);
    if let Ok(location) = HeaderValue::from_str(&format!("/api/v1/trunks/{}", trunk.id)) {
        headers.insert(header::LOCATION, location);
    }
    Ok((StatusCode::CREATED, headers, Json(trunk)))
}

#[utoipa::path(get, path = "/api/v1/trunks/{id}", tag = "trunks", params(("id" = String, Path)),
    responses((status = 200, body = Trunk, headers(("ETag" = String))), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn get(
    State(state): State<AppState>,
    ctx: PlatformCtx,
    ApiPath(id): ApiPath<TrunkId>,
) -> ApiResult<(HeaderMap, Json<Trunk>)> {
    ctx.caller.require(Action::TrunkManage)?;
    let trunk = state.store.get_trunk(&ctx.scope, id).await?;
    Ok((etag(trunk.version), Json(trunk)))
}

/// Change a trunk with a JSON Merge Patch; `If-Match` must carry the ETag read. Secrets left as
/// `"***"` (or out) are kept; a new inbound username needs its password again.
#[utoipa::path(patch, path = "/api/v1/trunks/{id}", tag = "trunks",
    params(("id" = String, Path), ("If-Match" = String, Header, description = "ETag of the version the change is based on")),
    request_body(content = Object, content_type = "application/merge-patch+json"),
    responses((status = 200, body = Trunk, headers(("ETag" = String))), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 412, body = Problem), (status = 422, body = Problem), (status = 428, body = Problem)))]
pub async fn patch(
    State(state): State<AppState>,
    ctx: PlatformCtx,
    ApiPath(id): ApiPath<TrunkId>,
    IfMatch(version): IfMatch,
    ApiJson(body): ApiJson<Value>,
) -> ApiResult<(HeaderMap, Json<Trunk>)> {
    ctx.caller.require(Action::TrunkManage)?;
    let current = state.store.get_trunk(&ctx.scope, id).await?;
    let spec = patched(&current.spec, &body)?;
    let trunk = state
        .store
        .update_trunk(&ctx.actor(), &ctx.scope, id, version, spec)
        .await?;
    Ok((etag(trunk.version), Json(trunk)))
}

/// Remove a trunk no hotline forwards through (409 names the hotline otherwise).
#[utoipa::path(delete, path = "/api/v1/trunks/{id}", tag = "trunks",
    params(("id" = String, Path), ("If-Match" = String, Header)),
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem),
        (status = 412, body = Problem), (status = 428, body = Problem)))]
pub async fn delete(
    State(state): State<AppState>,
    ctx: PlatformCtx,
    ApiPath(id): ApiPath<TrunkId>,
    IfMatch(version): IfMatch,
) -> ApiResult<StatusCode> {
    ctx.caller.require(Action::TrunkManage)?;
    state
        .store
        .delete_trunk(&ctx.actor(), &ctx.scope, id, Some(version))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(get, patch, delete))
}
