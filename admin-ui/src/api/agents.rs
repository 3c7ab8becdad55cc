//! `/tenants/{tenant_id}/agents` (the tenant's own agents, plus the firm agents assigned to it,
//! read-only) and `/agents` (the firm's agents and their assignments, operator only).

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use hotline_core::ids::{AgentId, TenantId};
use hotline_tenants::agents::{Agent, AgentInput};
use hotline_tenants::rbac::Action;
use serde_json::Value;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::api::spec_resource::patched;
use crate::extract::{
    etag, ApiJson, ApiPath, IfMatch, ListResponse, PageParams, Paging, PlatformCtx, TenantCtx,
};
use crate::problem::{ApiResult, Problem};
use crate::AppState;

#[utoipa::path(get, path = "/api/v1/tenants/{tenant_id}/agents", tag = "agents",
    params(("tenant_id" = String, Path), PageParams),
    responses((status = 200, body = ListResponse<Agent>), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn list(
    State(state): State<AppState>,
    ctx: TenantCtx,
    Paging(page): Paging,
) -> ApiResult<Json<ListResponse<Agent>>> {
    ctx.require(Action::AgentRead)?;
    Ok(Json(
        state.store.list_agents(&ctx.scope, &page).await?.into(),
    ))
}

/// Create one of the tenant's own agents; it registers as `sip:<sip_username>@<tenant sip_domain>`.
#[utoipa::path(post, path = "/api/v1/tenants/{tenant_id}/agents", tag = "agents",
    params(("tenant_id" = String, Path)), request_body = AgentInput,
    responses((status = 201, body = Agent), (status = 403, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn create(
    State(state): State<AppState>,
    ctx: TenantCtx,
    ApiJson(input): ApiJson<AgentInput>,
) -> ApiResult<(StatusCode, HeaderMap, Json<Agent>)> {
    ctx.require(Action::AgentWrite)?;
    let agent = state
        .store
        .create_agent(&ctx.actor(), &ctx.scope, input)
        .await?;
    Ok((StatusCode::CREATED, etag(agent.version), Json(agent)))
}

#[utoipa::path(get, path = "/api/v1/tenants/{tenant_id}/agents/{id}", tag = "agents",
    params(("tenant_id" = String, Path), ("id" = String, Path)),
    responses((status = 200, body = Agent), (status = 404, body = Problem)))]
pub async fn get(
    State(state): State<AppState>,
    ctx: TenantCtx,
    ApiPath((_, id)): ApiPath<(TenantId, AgentId)>,
) -> ApiResult<(HeaderMap, Json<Agent>)> {
    ctx.require(Action::AgentRead)?;
    let agent = state.store.get_agent(&ctx.scope, id).await?;
    Ok((etag(agent.version), Json(agent)))
}

/// Change one of the tenant's own agents (JSON Merge Patch; `sip_password` is write-only).
#[utoipa::path(patch, path = "/api/v1/tenants/{tenant_id}/agents/{id}", tag = "agents",
    params(("tenant_id" = String, Path), ("id" = String, Path), ("If-Match" = String, Header)),
    request_body(content = Object, content_type = "application/merge-patch+json"),
    responses((status = 200, body = Agent), (status = 403, body = Problem), (status = 404, body = Problem), (status = 412, body = Problem), (status = 422, body = Problem)))]
pub async fn patch(
    State(state): State<AppState>,
    ctx: TenantCtx,
    ApiPath((_, id)): ApiPath<(TenantId, AgentId)>,
    IfMatch(version): IfMatch,
    ApiJson(body): ApiJson<Value>,
) -> ApiResult<(HeaderMap, Json<Agent>)> {
    ctx.require(Action::AgentWrite)?;
    let current = state.store.get_agent(&ctx.scope, id).await?;
    let input = patched(&current.input(), &body)?;
    let agent = state
        .store
        .update_agent(&ctx.actor(), &ctx.scope, id, version, input)
        .await?;
    Ok((etag(agent.version), Json(agent)))
}

#[utoipa::path(delete, path = "/api/v1/tenants/{tenant_id}/agents/{id}", tag = "agents",
    params(("tenant_id" = String, Path), ("id" = String, Path)),
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn delete(
    State(state): State<AppState>,
    ctx: TenantCtx,
    ApiPath((_, id)): ApiPath<(TenantId, AgentId)>,
) -> ApiResult<StatusCode> {
    ctx.require(Action::AgentWrite)?;
    state
        .store
        .delete_agent(&ctx.actor(), &ctx.scope, id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/api/v1/agents", tag = "platform", params(PageParams),
    responses((status = 200, body = ListResponse<Agent>), (status = 403, body = Problem)))]
pub async fn list_firm(
    State(state): State<AppState>,
    ctx: PlatformCtx,
    Paging(page): Paging,
) -> ApiResult<Json<ListResponse<Agent>>> {
    ctx.caller.require(Action::FirmAgentManage)?;
    Ok(Json(
        state
            .store
            .list_firm_agents(&ctx.scope, &page)
            .await?
            .into(),
    ))
}

/// Create one of the firm's agents; it registers in the platform realm.
#[utoipa::path(post, path = "/api/v1/agents", tag = "platform", request_body = AgentInput,
    responses((status = 201, body = Agent), (status = 403, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn create_firm(
    State(state): State<AppState>,
    ctx: PlatformCtx,
    ApiJson(input): ApiJson<AgentInput>,
) -> ApiResult<(StatusCode, HeaderMap, Json<Agent>)> {
    ctx.caller.require(Action::FirmAgentManage)?;
    let agent = state
        .store
        .create_firm_agent(&ctx.actor(), &ctx.scope, input)
        .await?;
    Ok((StatusCode::CREATED, etag(agent.version), Json(agent)))
}

#[utoipa::path(patch, path = "/api/v1/agents/{id}", tag = "platform",
    params(("id" = String, Path), ("If-Match" = String, Header)),
    request_body(content = Object, content_type = "application/merge-patch+json"),
    responses((status = 200, body = Agent), (status = 404, body = Problem), (status = 412, body = Problem), (status = 422, body = Problem)))]
pub async fn patch_firm(
    State(state): State<AppState>,
    ctx: PlatformCtx,
    ApiPath(id): ApiPath<AgentId>,
    IfMatch(version): IfMatch,
    ApiJson(body): ApiJson<Value>,
) -> ApiResult<(HeaderMap, Json<Agent>)> {
    ctx.caller.require(Action::FirmAgentManage)?;
    let current = state.store.get_firm_agent(&ctx.scope, id).await?;
    let input = patched(&current.input(), &body)?;
    let agent = state
        .store
        .update_firm_agent(&ctx.actor(), &ctx.scope, id, version, input)
        .await?;
    Ok((etag(agent.version), Json(agent)))
}

#[utoipa::path(delete, path = "/api/v1/agents/{id}", tag = "platform", params(("id" = String, Path)),
    responses((status = 204), (status = 404, body = Problem)))]
pub async fn delete_firm(
    State(state): State<AppState>,
    ctx: PlatformCtx,
    ApiPath(id): ApiPath<AgentId>,
) -> ApiResult<StatusCode> {
    ctx.caller.require(Action::FirmAgentManage)?;
    state
        .store
        .delete_firm_agent(&ctx.actor(), &ctx.scope, id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/api/v1/agents/{id}/tenants", tag = "platform", params(("id" = String, Path)),
    responses((status = 200, body = Vec<String>), (status = 404, body = Problem)))]
pub async fn assignments(
    State(state): State<AppState>,
    ctx: PlatformCtx,
    ApiPath(id): ApiPath<AgentId>,
) -> ApiResult<Json<Vec<TenantId>>> {
    ctx.caller.require(Action::FirmAgentManage)?;
    Ok(Json(
        state.store.firm_agent_assignments(&ctx.scope, id).await?,
    ))
}

/// Let a firm agent serve a tenant (a seat there).
#[utoipa::path(put, path = "/api/v1/agents/{id}/tenants/{tenant_id}", tag = "platform",
    params(("id" = String, Path), ("tenant_id" = String, Path)),
    responses((status = 204), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn assign(
    State(state): State<AppState>,
    ctx: PlatformCtx,
    ApiPath((id, tenant)): ApiPath<(AgentId, TenantId)>,
) -> ApiResult<StatusCode> {
    ctx.caller.require(Action::FirmAgentManage)?;
    state
        .store
        .assign_firm_agent(&ctx.actor(), &ctx.scope, id, tenant)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(delete, path = "/api/v1/agents/{id}/tenants/{tenant_id}", tag = "platform",
    params(("id" = String, Path), ("tenant_id" = String, Path)),
    responses((status = 204), (status = 404, body = Problem)))]
pub async fn unassign(
    State(state): State<AppState>,
    ctx: PlatformCtx,
    ApiPath((id, tenant)): ApiPath<(AgentId, TenantId)>,
) -> ApiResult<StatusCode> {
    ctx.caller.require(Action::FirmAgentManage)?;
    state
        .store
        .unassign_firm_agent(&ctx.actor(), &ctx.scope, id, tenant)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(get, patch, delete))
        .routes(routes!(list_firm, create_firm))
        .routes(routes!(patch_firm, delete_firm))
        .routes(routes!(assignments))
        .routes(routes!(assign, unassign))
}
