//! Agents' SIP registration state, read-only: whether an agent is online, on which phones
//! (contact, the address calls go to, transport, user agent) and when each was last seen.
//! `/tenants/{tenant_id}/registrations` lists the phones of every agent the tenant may use,
//! `/tenants/{tenant_id}/agents/{id}/registrations` one such agent's; the operator reads a firm
//! agent's at `/agents/{id}/registrations`. What is shown is what the registrar last wrote
//! through to the store, without registrations that have expired.

use axum::extract::State;
use axum::Json;
use hotline_core::ids::{AgentId, TenantId};
use hotline_tenants::rbac::Action;
use hotline_tenants::sip_bindings::{AgentRegistrations, Registration};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::extract::{ApiPath, ListResponse, PageParams, Paging, PlatformCtx, TenantCtx};
use crate::problem::{ApiResult, Problem};
use crate::AppState;

/// Registered phones of the tenant's agents and of the firm agents assigned to it.
#[utoipa::path(get, path = "/api/v1/tenants/{tenant_id}/registrations", tag = "agents",
    params(("tenant_id" = String, Path), PageParams),
    responses((status = 200, body = ListResponse<Registration>), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn list(
    State(state): State<AppState>,
    ctx: TenantCtx,
    Paging(page): Paging,
) -> ApiResult<Json<ListResponse<Registration>>> {
    ctx.require(Action::AgentRead)?;
    Ok(Json(
        state
            .store
            .list_registrations(&ctx.scope, &page)
            .await?
            .into(),
    ))
}

/// Whether one agent the tenant may use is online, and on which phones.
#[utoipa::path(get, path = "/api/v1/tenants/{tenant_id}/agents/{id}/registrations", tag = "agents",
    params(("tenant_id" = String, Path), ("id" = String, Path)),
    responses((status = 200, body = AgentRegistrations), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn of_agent(
    State(state): State<AppState>,
    ctx: TenantCtx,
    ApiPath((_, id)): ApiPath<(TenantId, AgentId)>,
) -> ApiResult<Json<AgentRegistrations>> {
    ctx.require(Action::AgentRead)?;
    Ok(Json(state.store.agent_registrations(&ctx.scope, id).await?))
}

/// Whether one of the firm's agents is online, and on which phones.
#[utoipa::path(get, path = "/api/v1/agents/{id}/registrations", tag = "platform",
    params(("id" = String, Path)),
    responses((status = 200, body = AgentRegistrations), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn of_firm_agent(
    State(state): State<AppState>,
    ctx: PlatformCtx,
    ApiPath(id): ApiPath<AgentId>,
) -> ApiResult<Json<AgentRegistrations>> {
    ctx.caller.require(Action::FirmAgentManage)?;
    Ok(Json(
        state.store.firm_agent_registrations(&ctx.scope, id).await?,
    ))
}

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(of_agent))
        .routes(routes!(of_firm_agent))
}
