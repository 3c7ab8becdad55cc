//! The five handlers (list, create, get, patch, delete) of a resource that follows the store's
//! generic `Spec` shape, generated once per resource so that every such resource behaves the
//! same: tenant scope from the credentials, one RBAC action per verb, ETag on every
//! representation, `If-Match` required to change or delete, JSON Merge Patch for updates.

use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::Json;
use hotline_tenants::{Spec, Stored};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

use crate::extract::{etag, json_error, TenantCtx};
use crate::merge_patch;
use crate::problem::{ApiError, ApiResult};
use crate::AppState;

/// Apply a merge patch to the writable fields of a resource and parse the result as strictly as
/// a create body.
pub fn patched<T: Serialize + DeserializeOwned>(current: &T, patch: &Value) -> ApiResult<T> {
    if !patch.is_object() {
        return Err(ApiError::unprocessable(
            "a merge patch must be a JSON object",
        ));
    }
    let mut doc = serde_json::to_value(current).map_err(|_| ApiError::internal())?;
    merge_patch::apply(&mut doc, patch);
    serde_json::from_value(doc).map_err(json_error)
}

/// `201 Created` with `Location` (the item `id` in `collection_path`) and `ETag`.
pub fn created<T>(
    collection_path: &str,
    id: impl std::fmt::Display,
    version: i64,
    representation: T,
) -> (StatusCode, HeaderMap, Json<T>) {
    let mut headers = etag(version);
    if let Ok(location) = HeaderValue::from_str(&format!("{collection_path}/{id}")) {
        headers.insert(header::LOCATION, location);
    }
    (StatusCode::CREATED, headers, Json(representation))
}

/// The resource as it is and as the patch would make it.
pub async fn patched_spec<S: Spec>(
    state: &AppState,
    ctx: &TenantCtx,
    id: S::Id,
    patch: &Value,
) -> ApiResult<(S, S)> {
    let current = state.store.get::<S>(&ctx.scope, id).await?;
    let spec = patched(&current.spec, patch)?;
    Ok((current.spec, spec))
}

pub async fn update<S: Spec>(
    state: &AppState,
    ctx: &TenantCtx,
    id: S::Id,
    expected_version: i64,
    spec: S,
) -> ApiResult<(HeaderMap, Json<Stored<S>>)> {
    let stored = state
        .store
        .update(&ctx.actor(), &ctx.scope, id, expected_version, spec)
        .await?;
    Ok((etag(stored.version), Json(stored)))
}

/// Generate the handlers of one `Spec` resource inside the invoking module. `check`, when
/// given, is an async fn `(state, ctx, current: Option<&Spec>, new: &Spec) -> ApiResult<()>`
/// that a create or patch must pass before the store sees it (for rules that need another
/// crate's data, like the hotline's plugin pin).
macro_rules! spec_resource {
    (
        spec: $spec:ty,
        id: $id:ty,
        tag: $tag:literal,
        collection: $collection:literal,
        item: $item:literal,
        read: $read:expr,
        create: $create:expr,
        update: $update:expr,
        delete: $delete:expr
        $(, check: $check:path)? $(,)?
    ) => {
        use axum::extract::State;
        use axum::http::{HeaderMap, StatusCode};
        use axum::Json;
        use hotline_core::ids::TenantId;
        use hotline_tenants::Stored;
        use $crate::api::spec_resource as generic;
        use $crate::extract::{etag, ApiJson, ApiPath, IfMatch, ListResponse, PageParams, Paging, TenantCtx};
        use $crate::problem::{ApiResult, Problem};
        use $crate::AppState;

        #[utoipa::path(get, path = $collection, tag = $tag,
            params(("tenant_id" = String, Path, description = "Tenant id"), PageParams),
            responses((status = 200, body = ListResponse<Stored<$spec>>), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)))]
        pub async fn list(State(state): State<AppState>, ctx: TenantCtx, Paging(page): Paging) -> ApiResult<Json<ListResponse<Stored<$spec>>>> {
            ctx.require($read)?;
            Ok(Json(state.store.list::<$spec>(&ctx.scope, &page).await?.into()))
        }

        #[utoipa::path(post, path = $collection, tag = $tag,
            params(("tenant_id" = String, Path, description = "Tenant id")),
            request_body = $spec,
            responses((status = 201, body = Stored<$spec>, headers(("ETag" = String), ("Location" = String))),
                (status = 400, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
        pub async fn create(
            State(state): State<AppState>,
            ctx: TenantCtx,
            ApiJson(spec): ApiJson<$spec>,
        ) -> ApiResult<(StatusCode, HeaderMap, Json<Stored<$spec>>)> {
            ctx.require($create)?;
            $( $check(&state, &ctx, None, &spec).await?; )?
            let stored = state.store.create(&ctx.actor(), &ctx.scope, spec).await?;
            let collection = $collection.replace("{tenant_id}", &ctx.scope.tenant_id().to_string());
            Ok(generic::created(&collection, stored.id, stored.version, stored))
        }

        #[utoipa::path(get, path = $item, tag = $tag,
            params(("tenant_id" = String, Path), ("id" = String, Path)),
            responses((status = 200, body = Stored<$spec>, headers(("ETag" = String))), (status = 404, body = Problem)))]
        pub async fn get(
            State(state): State<AppState>,
            ctx: TenantCtx,
            ApiPath((_, id)): ApiPath<(TenantId, $id)>,
        ) -> ApiResult<(HeaderMap, Json<Stored<$spec>>)> {
            ctx.require($read)?;
            let stored = state.store.get::<$spec>(&ctx.scope, id).await?;
            Ok((etag(stored.version), Json(stored)))
        }

        /// Change fields with a JSON Merge Patch (RFC 7396); `If-Match` must carry the ETag read.
        #[utoipa::path(patch, path = $item, tag = $tag,
            params(("tenant_id" = String, Path), ("id" = String, Path), ("If-Match" = String, Header, description = "ETag of the version the change is based on")),
            request_body(content = Object, content_type = "application/merge-patch+json"),
            responses((status = 200, body = Stored<$spec>, headers(("ETag" = String))), (status = 404, body = Problem),
                (status = 412, body = Problem), (status = 422, body = Problem), (status = 428, body = Problem)))]
        pub async fn patch(
            State(state): State<AppState>,
            ctx: TenantCtx,
            ApiPath((_, id)): ApiPath<(TenantId, $id)>,
            IfMatch(version): IfMatch,
            ApiJson(body): ApiJson<serde_json::Value>,
        ) -> ApiResult<(HeaderMap, Json<Stored<$spec>>)> {
            ctx.require($update)?;
            #[allow(unused_variables)]
            let (current, spec) = generic::patched_spec::<$spec>(&state, &ctx, id, &body).await?;
            $( $check(&state, &ctx, Some(&current), &spec).await?; )?
            generic::update::<$spec>(&state, &ctx, id, version, spec).await
        }

        #[utoipa::path(delete, path = $item, tag = $tag,
            params(("tenant_id" = String, Path), ("id" = String, Path), ("If-Match" = String, Header)),
            responses((status = 204), (status = 404, body = Problem), (status = 409, body = Problem), (status = 412, body = Problem), (status = 428, body = Problem)))]
        pub async fn delete(
            State(state): State<AppState>,
            ctx: TenantCtx,
            ApiPath((_, id)): ApiPath<(TenantId, $id)>,
            IfMatch(version): IfMatch,
        ) -> ApiResult<StatusCode> {
            ctx.require($delete)?;
            state.store.delete::<$spec>(&ctx.actor(), &ctx.scope, id, Some(version)).await?;
            Ok(StatusCode::NO_CONTENT)
        }

        pub fn routes() -> utoipa_axum::router::OpenApiRouter<AppState> {
            utoipa_axum::router::OpenApiRouter::new()
                .routes(utoipa_axum::routes!(list, create))
                .routes(utoipa_axum::routes!(get, patch, delete))
        }
    };
}
pub(crate) use spec_resource;
