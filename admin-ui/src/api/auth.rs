//! `/auth`: log in with email and password, refresh (rotating), log out; `/me`: who am I.
//! Wrong email and wrong password answer alike (401).

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use hotline_core::ids::TenantId;
use hotline_tenants::auth::{Subject, TokenPair};
use hotline_tenants::rbac::Role;
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::extract::{ApiJson, Caller};
use crate::problem::{ApiResult, Problem};
use crate::AppState;

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    pub email: String,
    pub password: String,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefreshRequest {
    pub refresh_token: String,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Me {
    /// `user` or `api-key`.
    pub kind: String,
    pub id: String,
    pub tenant_id: Option<TenantId>,
    pub role: Role,
    pub label: String,
}

#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth", security(()),
    request_body = LoginRequest,
    responses((status = 200, body = TokenPair), (status = 400, body = Problem), (status = 401, body = Problem)))]
pub async fn login(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<LoginRequest>,
) -> ApiResult<Json<TokenPair>> {
    Ok(Json(
        state
            .tokens
            .login(&state.store, &body.email, &body.password)
            .await?,
    ))
}

/// Trade a refresh token for a new pair. Each refresh token works once; presenting a used one
/// ends every session of that login.
#[utoipa::path(post, path = "/api/v1/auth/refresh", tag = "auth", security(()),
    request_body = RefreshRequest,
    responses((status = 200, body = TokenPair), (status = 401, body = Problem)))]
pub async fn refresh(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<RefreshRequest>,
) -> ApiResult<Json<TokenPair>> {
    Ok(Json(
        state
            .tokens
            .refresh(&state.store, &body.refresh_token)
            .await?,
    ))
}

#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "auth", security(()),
    request_body = RefreshRequest,
    responses((status = 204)))]
pub async fn logout(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<RefreshRequest>,
) -> ApiResult<StatusCode> {
    state
        .tokens
        .logout(&state.store, &body.refresh_token)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/api/v1/me", tag = "auth", responses((status = 200, body = Me), (status = 401, body = Problem)))]
pub async fn me(caller: Caller) -> Json<Me> {
    let p = caller.0;
    let (kind, id) = match p.subject {
        Subject::User(id) => ("user", id.to_string()),
        Subject::ApiKey(id) => ("api-key", id.to_string()),
    };
    Json(Me {
        kind: kind.into(),
        id,
        tenant_id: p.tenant_id,
        role: p.role,
        label: p.label,
    })
}

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(login))
        .routes(routes!(refresh))
        .routes(routes!(logout))
        .routes(routes!(me))
}
