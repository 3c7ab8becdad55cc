//! `/tenants/{tenant_id}/queues/{queue_id}/members`: which agents serve a queue. `PUT` adds an
//! agent or changes its penalty (idempotent).

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use hotline_core::ids::{AgentId, QueueId, TenantId};
use hotline_tenants::members::{MemberInput, QueueMember};
use hotline_tenants::rbac::Action;
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::extract::{ApiJson, ApiPath, TenantCtx};
use crate::problem::{ApiResult, Problem};
use crate::AppState;

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PenaltyInput {
    /// 0 (asked first) to 100.
    #[serde(default)]
    pub penalty: u32,
}

#[utoipa::path(get, path = "/api/v1/tenants/{tenant_id}/queues/{queue_id}/members", tag = "queues",
    params(("tenant_id" = String, Path), ("queue_id" = String, Path)),
    responses((status = 200, body = Vec<QueueMember>), (status = 404, body = Problem)))]
pub async fn list(
    State(state): State<AppState>,
    ctx: TenantCtx,
    ApiPath((_, queue)): ApiPath<(TenantId, QueueId)>,
) -> ApiResult<Json<Vec<QueueMember>>> {
    ctx.require(Action::QueueRead)?;
    Ok(Json(
        state.store.list_queue_members(&ctx.scope, queue).await?,
    ))
}

/// Add the agent to the queue or change its penalty. The agent must be the tenant's own or a
/// firm agent assigned to the tenant.
#[utoipa::path(put, path = "/api/v1/tenants/{tenant_id}/queues/{queue_id}/members/{agent_id}", tag = "queues",
    params(("tenant_id" = String, Path), ("queue_id" = String, Path), ("agent_id" = String, Path)),
    request_body = PenaltyInput,
    responses((status = 200, body = QueueMember), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn put(
    State(state): State<AppState>,
    ctx: TenantCtx,
    ApiPath((_, queue, agent_id)): ApiPath<(TenantId, QueueId, AgentId)>,
    ApiJson(body): ApiJson<PenaltyInput>,
) -> ApiResult<Json<QueueMember>> {
    ctx.require(Action::QueueMembersWrite)?;
    let input = MemberInput {
        agent_id,
        penalty: body.penalty,
    };
    Ok(Json(
        state
            .store
            .put_queue_member(&ctx.actor(), &ctx.scope, queue, input)
            .await?,
    ))
}

#[utoipa::path(delete, path = "/api/v1/tenants/{tenant_id}/queues/{queue_id}/members/{agent_id}", tag = "queues",
    params(("tenant_id" = String, Path), ("queue_id" = String, Path), ("agent_id" = String, Path)),
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn remove(
    State(state): State<AppState>,
    ctx: TenantCtx,
    ApiPath((_, queue, agent)): ApiPath<(TenantId, QueueId, AgentId)>,
) -> ApiResult<StatusCode> {
    ctx.require(Action::QueueMembersWrite)?;
    state
        .store
        .remove_queue_member(&ctx.actor(), &ctx.scope, queue, agent)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(put, remove))
}
