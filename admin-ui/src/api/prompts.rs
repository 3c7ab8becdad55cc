//! `/tenants/{tenant_id}/prompts`: a tenant's audio prompts. The five verbs and their rules are
//! those of every `Spec` resource (see `spec_resource`); they are written out here because a
//! prompt's representation also says whether its audio is uploaded and how long it plays
//! (`has_audio`, `duration_ms`), which only the audio upload (`prompt_audio`) sets, and because
//! deleting a prompt deletes its audio file too.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use hotline_core::ids::{PromptId, TenantId};
use hotline_tenants::prompts::{Prompt, PromptSpec};
use hotline_tenants::rbac::Action;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::api::prompt_audio;
use crate::api::spec_resource as generic;
use crate::extract::{
    etag, ApiJson, ApiPath, IfMatch, ListResponse, PageParams, Paging, TenantCtx,
};
use crate::problem::{ApiResult, Problem};
use crate::AppState;

const COLLECTION: &str = "/api/v1/tenants/{tenant_id}/prompts";

#[utoipa::path(get, path = "/api/v1/tenants/{tenant_id}/prompts", tag = "prompts",
    params(("tenant_id" = String, Path, description = "Tenant id"), PageParams),
    responses((status = 200, body = ListResponse<Prompt>), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn list(
    State(state): State<AppState>,
    ctx: TenantCtx,
    Paging(page): Paging,
) -> ApiResult<Json<ListResponse<Prompt>>> {
    ctx.require(Action::PromptRead)?;
    Ok(Json(
        state.store.list_prompts(&ctx.scope, &page).await?.into(),
    ))
}

/// Create a prompt's metadata; its audio is uploaded with `PUT .../audio`.
#[utoipa::path(post, path = "/api/v1/tenants/{tenant_id}/prompts", tag = "prompts",
    params(("tenant_id" = String, Path, description = "Tenant id")),
    request_body = PromptSpec,
    responses((status = 201, body = Prompt, headers(("ETag" = String), ("Location" = String))),
        (status = 400, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn create(
    State(state): State<AppState>,
    ctx: TenantCtx,
    ApiJson(spec): ApiJson<PromptSpec>,
) -> ApiResult<(StatusCode, HeaderMap, Json<Prompt>)> {
    ctx.require(Action::PromptWrite)?;
    let stored = state.store.create(&ctx.actor(), &ctx.scope, spec).await?;
    let prompt = state.store.get_prompt(&ctx.scope, stored.id).await?;
    let collection = COLLECTION.replace("{tenant_id}", &ctx.scope.tenant_id().to_string());
    Ok(generic::created(
        &collection,
        prompt.id(),
        prompt.version(),
        prompt,
    ))
}

#[utoipa::path(get, path = "/api/v1/tenants/{tenant_id}/prompts/{id}", tag = "prompts",
    params(("tenant_id" = String, Path), ("id" = String, Path)),
    responses((status = 200, body = Prompt, headers(("ETag" = String))), (status = 404, body = Problem)))]
pub async fn get(
    State(state): State<AppState>,
    ctx: TenantCtx,
    ApiPath((_, id)): ApiPath<(TenantId, PromptId)>,
) -> ApiResult<(HeaderMap, Json<Prompt>)> {
    ctx.require(Action::PromptRead)?;
    let prompt = state.store.get_prompt(&ctx.scope, id).await?;
    Ok((etag(prompt.version()), Json(prompt)))
}

/// Change the metadata with a JSON Merge Patch (RFC 7396); `If-Match` must carry the ETag read.
#[utoipa::path(patch, path = "/api/v1/tenants/{tenant_id}/prompts/{id}", tag = "prompts",
    params(("tenant_id" = String, Path), ("id" = String, Path), ("If-Match" = String, Header, description = "ETag of the version the change is based on")),
    request_body(content = Object, content_type = "application/merge-patch+json"),
    responses((status = 200, body = Prompt, headers(("ETag" = String))), (status = 404, body = Problem),
        (status = 412, body = Problem), (status = 422, body = Problem), (status = 428, body = Problem)))]
pub async fn patch(
    State(state): State<AppState>,
    ctx: TenantCtx,
    ApiPath((_, id)): ApiPath<(TenantId, PromptId)>,
    IfMatch(version): IfMatch,
    ApiJson(body): ApiJson<serde_json::Value>,
) -> ApiResult<(HeaderMap, Json<Prompt>)> {
    ctx.require(Action::PromptWrite)?;
    let (_, spec) = generic::patched_spec::<PromptSpec>(&state, &ctx, id, &body).await?;
    let (_, Json(updated)) = generic::update::<PromptSpec>(&state, &ctx, id, version, spec).await?;
    let prompt = state.store.get_prompt(&ctx.scope, updated.id).await?;
    Ok((etag(prompt.version()), Json(prompt)))
}

/// Delete a prompt and its audio; refused (409) while a queue or hotline still plays it.
#[utoipa::path(delete, path = "/api/v1/tenants/{tenant_id}/prompts/{id}", tag = "prompts",
    params(("tenant_id" = String, Path), ("id" = String, Path), ("If-Match" = String, Header)),
    responses((status = 204), (status = 404, body = Problem), (status = 409, body = Problem), (status = 412, body = Problem), (status = 428, body = Problem)))]
pub async fn delete(
    State(state): State<AppState>,
    ctx: TenantCtx,
    ApiPath((_, id)): ApiPath<(TenantId, PromptId)>,
    IfMatch(version): IfMatch,
) -> ApiResult<StatusCode> {
    ctx.require(Action::PromptWrite)?;
    let prompt = state.store.get_prompt(&ctx.scope, id).await?;
    state
        .store
        .delete::<PromptSpec>(&ctx.actor(), &ctx.scope, id, Some(version))
        .await?;
    prompt_audio::remove_files(&state, &ctx.scope, id, prompt.audio()).await;
    Ok(StatusCode::NO_CONTENT)
}

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(get, patch, delete))
}
