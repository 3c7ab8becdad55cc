//! `/plugins`: the platform's plugin catalog, which every tenant may list and pin. The
//! platform operator uploads its versions; everyone with `PluginRead` reads it (a tenant's own
//! plugins of the same names do not hide the catalog's here).

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use hotline_core::{PlatformScope, TenantScope};
use hotline_plugins::registry::store::ListPage;
use hotline_plugins::registry::{OwnerScope, PluginSummary, VersionInfo};
use hotline_tenants::rbac::Action;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::api::plugin_paging::{self, VersionPaging};
use crate::api::plugin_upload::{self, ComponentBody, UploadParams, BODY_LIMIT};
use crate::api::query_params::ApiQuery;
use crate::extract::{encode_cursor, etag, ApiPath, Caller, ListResponse, PageParams, Paging};
use crate::problem::{ApiError, ApiResult, Problem};
use crate::AppState;

/// Whose reading the catalog: the operator, or a tenant's user or key (its scope).
enum Reader {
    Platform(PlatformScope),
    Tenant(TenantScope),
}

impl Reader {
    fn of(caller: &Caller) -> ApiResult<Self> {
        caller.require(Action::PluginRead)?;
        if let Some(platform) = caller.0.platform_scope() {
            return Ok(Reader::Platform(platform));
        }
        caller
            .0
            .tenant_id
            .and_then(|tenant| caller.0.tenant_scope(tenant))
            .map(Reader::Tenant)
            .ok_or_else(|| ApiError::forbidden("these credentials belong to no tenant"))
    }

    fn view(&self) -> OwnerScope<'_> {
        match self {
            Reader::Platform(scope) => OwnerScope::Platform(scope),
            Reader::Tenant(scope) => OwnerScope::Catalog(scope),
        }
    }
}

/// The catalog's plugins, oldest first.
#[utoipa::path(get, path = "/api/v1/plugins", tag = "plugins",
    params(PageParams),
    responses((status = 200, body = ListResponse<PluginSummary>), (status = 403, body = Problem)))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Paging(page): Paging,
) -> ApiResult<Json<ListResponse<PluginSummary>>> {
    let reader = Reader::of(&caller)?;
    let (items, next) = state
        .plugins()?
        .registry()
        .store()
        .list(
            reader.view(),
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

#[utoipa::path(get, path = "/api/v1/plugins/{name}", tag = "plugins",
    params(("name" = String, Path)),
    responses((status = 200, body = PluginSummary), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(name): ApiPath<String>,
) -> ApiResult<Json<PluginSummary>> {
    let reader = Reader::of(&caller)?;
    let plugin = state
        .plugins()?
        .registry()
        .store()
        .plugin(reader.view(), &name)
        .await?;
    Ok(Json(plugin))
}

/// A catalog plugin's versions, newest first.
#[utoipa::path(get, path = "/api/v1/plugins/{name}/versions", tag = "plugins",
    params(("name" = String, Path), PageParams),
    responses((status = 200, body = ListResponse<VersionInfo>), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn versions(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(name): ApiPath<String>,
    VersionPaging(page): VersionPaging,
) -> ApiResult<Json<ListResponse<VersionInfo>>> {
    let reader = Reader::of(&caller)?;
    let (items, next) = state
        .plugins()?
        .registry()
        .store()
        .versions(reader.view(), &name, &page)
        .await?;
    Ok(Json(ListResponse {
        items,
        next_cursor: next.map(plugin_paging::encode),
    }))
}

/// Upload the next version of a catalog plugin (the operator's alone); the body and the
/// refusals are those of a tenant's upload (`/tenants/{tenant_id}/plugins/{name}/versions`).
#[utoipa::path(post, path = "/api/v1/plugins/{name}/versions", tag = "plugins",
    params(("name" = String, Path), UploadParams),
    request_body(content = Vec<u8>, content_type = "application/wasm", description = "The component's bytes"),
    responses((status = 201, body = VersionInfo, headers(("ETag" = String), ("Location" = String))),
        (status = 403, body = Problem), (status = 409, body = Problem), (status = 413, body = Problem),
        (status = 415, body = Problem), (status = 422, body = Problem)))]
pub async fn upload(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(name): ApiPath<String>,
    ApiQuery(params): ApiQuery<UploadParams>,
    ComponentBody(body): ComponentBody,
) -> ApiResult<(StatusCode, HeaderMap, Json<VersionInfo>)> {
    caller.require(Action::PluginCatalogManage)?;
    let platform = caller
        .0
        .platform_scope()
        .ok_or_else(|| ApiError::forbidden("only the platform operator may do this"))?;
    let base = format!("/api/v1/plugins/{name}");
    plugin_upload::upload(
        &state,
        &caller,
        OwnerScope::Platform(&platform),
        &base,
        &name,
        params.notes,
        body,
    )
    .await
}

#[utoipa::path(get, path = "/api/v1/plugins/{name}/versions/{version}", tag = "plugins",
    params(("name" = String, Path), ("version" = u32, Path)),
    responses((status = 200, body = VersionInfo, headers(("ETag" = String))), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn version(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((name, number)): ApiPath<(String, u32)>,
) -> ApiResult<(HeaderMap, Json<VersionInfo>)> {
    let reader = Reader::of(&caller)?;
    let (info, _) = state
        .plugins()?
        .registry()
        .store()
        .version(reader.view(), &name, number)
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
