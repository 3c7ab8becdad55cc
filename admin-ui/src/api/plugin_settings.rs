//! `/tenants/{tenant_id}/plugins/settings`: the tenant's plugin settings, today the HTTP
//! allowlist (the hosts its plugins may reach). Plugin authors read it; only the tenant's admins
//! change it (`PUT`, with `If-Match` of the version read: `"0"` before the first change). A
//! changed list applies from the next call.

use axum::extract::State;
use axum::http::HeaderMap;
use axum::Json;
use hotline_plugins::allowlist::{Allowlist, AllowlistError};
use hotline_plugins::settings::PluginSettings;
use hotline_tenants::rbac::Action;
use hotline_tenants::FieldError;
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::extract::{etag, ApiJson, IfMatch, TenantCtx};
use crate::problem::{ApiError, ApiResult, Problem};
use crate::AppState;

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SettingsInput {
    /// Hosts the tenant's plugins may reach: `crm.example.com`, `*.example.com` (subdomains
    /// only) or a public IPv4 address, each with an optional `:port`; at most 100.
    pub http_allowlist: Vec<String>,
}

#[utoipa::path(get, path = "/api/v1/tenants/{tenant_id}/plugins/settings", tag = "plugins",
    params(("tenant_id" = String, Path)),
    responses((status = 200, body = PluginSettings, headers(("ETag" = String))), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn get(
    State(state): State<AppState>,
    ctx: TenantCtx,
) -> ApiResult<(HeaderMap, Json<PluginSettings>)> {
    ctx.require(Action::PluginRead)?;
    let settings = state.plugins()?.settings().get(&ctx.scope).await?;
    Ok((etag(settings.version), Json(settings)))
}

/// Replace the settings; `If-Match` must carry the ETag read (`"0"` before the first change).
#[utoipa::path(put, path = "/api/v1/tenants/{tenant_id}/plugins/settings", tag = "plugins",
    params(("tenant_id" = String, Path), ("If-Match" = String, Header, description = "ETag of the settings the change is based on")),
    request_body = SettingsInput,
    responses((status = 200, body = PluginSettings, headers(("ETag" = String))), (status = 400, body = Problem),
        (status = 403, body = Problem), (status = 404, body = Problem), (status = 412, body = Problem),
        (status = 422, body = Problem), (status = 428, body = Problem)))]
pub async fn put(
    State(state): State<AppState>,
    ctx: TenantCtx,
    IfMatch(version): IfMatch,
    ApiJson(input): ApiJson<SettingsInput>,
) -> ApiResult<(HeaderMap, Json<PluginSettings>)> {
    ctx.require(Action::PluginSettingsWrite)?;
    let allowlist = Allowlist::parse(&input.http_allowlist).map_err(invalid)?;
    let settings = state
        .plugins()?
        .settings()
        .set_allowlist(&ctx.scope, version, &allowlist, &ctx.caller.0.label)
        .await?;
    tracing::info!(entries = settings.http_allowlist.len(), version = settings.version,
        by = %ctx.caller.0.label, "plugin HTTP allowlist changed");
    Ok((etag(settings.version), Json(settings)))
}

fn invalid(err: AllowlistError) -> ApiError {
    let detail = err.to_string();
    let errors = match err {
        AllowlistError::TooMany(_) => vec![FieldError {
            field: "http_allowlist".into(),
            message: detail.clone(),
        }],
        AllowlistError::Entries(entries) => entries
            .into_iter()
            .map(|e| FieldError {
                field: format!("http_allowlist[{}]", e.index),
                message: e.message,
            })
            .collect(),
    };
    ApiError {
        errors,
        ..ApiError::unprocessable(detail)
    }
}

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(get, put))
}
