//! `/tenants/{tenant_id}/plugins`: the plugins a tenant may use (its own, private to it, and the
//! platform's catalog), their immutable numbered versions, and uploads of new versions of the
//! tenant's own plugins by its plugin authors and admins. Another tenant's private plugin does
//! not exist here (404); a hotline pins one of the versions listed here (see `hotlines`).

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use hotline_core::ids::TenantId;
use hotline_plugins::registry::store::ListPage;
use hotline_plugins::registry::{OwnerScope, PluginSummary, VersionInfo};
use hotline_tenants::rbac::Action;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::api::plugin_paging::{self, VersionPaging};
use crate::api::plugin_upload::{self, ComponentBody, UploadParams, BODY_LIMIT};
use crate::api::query_params::ApiQuery;
use crate::extract::{encode_cursor, etag, ApiPath, ListResponse, PageParams, Paging, TenantCtx};
use crate::problem::{ApiResult, Problem};
use crate::AppState;

/// The tenant's plugins and the catalog's, oldest first; a plugin of the tenant's own hides a
/// catalog plugin of the same name.
#[utoipa::path(get, path = "/api/v1/tenants/{tenant_id}/plugins", tag = "plugins",
    params(("tenant_id" = String, Path), PageParams),
    responses((status = 200, body = ListResponse<PluginSummary>), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn list(
    State(state): State<AppState>,
    ctx: TenantCtx,
    Paging(page): Paging,
) -> ApiResult<Json<ListResponse<PluginSummary>>> {
    ctx.require(Action::PluginRead)?;
    let (items, next) = state
        .plugins()?
        .registry()
        .store()
        .list(
            OwnerScope::Tenant(&ctx.scope),
            &ListPage {
                limit: page.limit,
                after: page.after,
            },
        )
        .await?;
    Ok(Json(ListResponse {
        items,
        next_cursor: next.map(encode_cursor),
    }))
}

#[utoipa::path(get, path = "/api/v1/tenants/{tenant_id}/plugins/{name}", tag = "plugins",
    params(("tenant_id" = String, Path), ("name" = String, Path, description = "The plugin's name")),
    responses((status = 200, body = PluginSummary), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn get(
    State(state): State<AppState>,
    ctx: TenantCtx,
    ApiPath((_, name)): ApiPath<(TenantId, String)>,
) -> ApiResult<Json<PluginSummary>> {
    ctx.require(Action::PluginRead)?;
    let plugin = state
        .plugins()?
        .registry()
        .store()
        .plugin(OwnerScope::Tenant(&ctx.scope), &name)
        .await?;
    Ok(Json(plugin))
}

/// The plugin's versions, newest first.
#[utoipa::path(get, path = "/api/v1/tenants/{tenant_id}/plugins/{name}/versions", tag = "plugins",
    params(("tenant_id" = String, Path), ("name" = String, Path), PageParams),
    responses((status = 200, body = ListResponse<VersionInfo>), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn versions(
    State(state): State<AppState>,
    ctx: TenantCtx,
    ApiPath((_, name)): ApiPath<(TenantId, String)>,
    VersionPaging(page): VersionPaging,
) -> ApiResult<Json<ListResponse<VersionInfo>>> {
    ctx.require(Action::PluginRead)?;
    let (items, next) = state
        .plugins()?
        .registry()
        .store()
        .versions(OwnerScope::Tenant(&ctx.scope), &name, &page)
        .await?;
    Ok(Json(ListResponse {
        items,
        next_cursor: next.map(plugin_paging::encode),
    }))
}

/// Upload the next version of one of the tenant's plugins (the first makes the plugin). The
/// body is the component, built for a Hotline world; it is validated (a component, a supported
/// world, only the interfaces Hotline provides, the size limit) and compiled before it is
/// stored. Each refusal has its own problem type: `plugin-empty`, `plugin-too-large` (413),
/// `plugin-not-wasm`, `plugin-core-module`, `plugin-malformed`, `plugin-unknown-import`,
/// `plugin-wrong-world`, `plugin-unsupported-version`, `plugin-world-mismatch`,
/// `plugin-compile-failed`, `plugin-invalid-name`, `plugin-reserved-name` (422) and
/// `plugin-world-changed` (409). The author is the caller (user email or API key name).
#[utoipa::path(post, path = "/api/v1/tenants/{tenant_id}/plugins/{name}/versions", tag = "plugins",
    params(("tenant_id" = String, Path), ("name" = String, Path, description = "1 to 64 of a-z, 0-9 and -, starting with a letter"), UploadParams),
    request_body(content = Vec<u8>, content_type = "application/wasm", description = "The component's bytes (wasm32-wasip2 / componentize-py / jco output)"),
    responses((status = 201, body = VersionInfo, headers(("ETag" = String), ("Location" = String))),
        (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem),
        (status = 413, body = Problem), (status = 415, body = Problem), (status = 422, body = Problem)))]
pub async fn upload(
    State(state): State<AppState>,
    ctx: TenantCtx,
    ApiPath((_, name)): ApiPath<(TenantId, String)>,
    ApiQuery(params): ApiQuery<UploadParams>,
    ComponentBody(body): ComponentBody,
) -> ApiResult<(StatusCode, HeaderMap, Json<VersionInfo>)> {
    ctx.require(Action::PluginUpload)?;
    let base = format!("/api/v1/tenants/{}/plugins/{name}", ctx.scope.tenant_id());
    plugin_upload::upload(
        &state,
        &ctx.caller,
        OwnerScope::Tenant(&ctx.scope),
        &base,
        &name,
        params.notes,
        body,
    )
    .await
}

/// One version's metadata.
#[utoipa::path(get, path = "/api/v1/tenants/{tenant_id}/plugins/{name}/versions/{version}", tag = "plugins",
    params(("tenant_id" = String, Path), ("name" = String, Path), ("version" = u32, Path)),
    responses((status = 200, body = VersionInfo, headers(("ETag" = String))), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn version(
    State(state): State<AppState>,
    ctx: TenantCtx,
    ApiPath((_, name, number)): ApiPath<(TenantId, String, u32)>,
) -> ApiResult<(HeaderMap, Json<VersionInfo>)> {
    ctx.require(Action::PluginRead)?;
    let (info, _) = state
        .plugins()?
        .registry()
        .store()
        .version(OwnerScope::Tenant(&ctx.scope), &name, number)
        .await?;
    Ok((etag(i64::from(info.version)), Json(info)))
}

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(get))
        .merge(
            OpenApiRouter::new()
                .routes(routes!(versions, upload))
                .layer(axum::extract::DefaultBodyLimit::max(BODY_LIMIT)),
        )
        .routes(routes!(version))
}
