//! `/tenants/{tenant_id}/plugins/log`: the tenant's plugin log, newest first: what its plugins
//! wrote, and what the host wrote about them (a trap, the CPU budget or memory cap, a garbage
//! outcome, a refused host call, a run cut off), so the tenant can read why a call went to the
//! hotline's fallback. Filtered by plugin and call; never another tenant's lines.

use axum::extract::State;
use axum::Json;
use hotline_core::ids::CallId;
use hotline_plugins::plugin_log::{LogFilter, LogLine};
use hotline_plugins::registry::valid_name;
use hotline_tenants::rbac::Action;
use hotline_tenants::PageRequest;
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::api::query_params::ApiQuery;
use crate::extract::{decode_cursor, encode_cursor, ListResponse, TenantCtx};
use crate::problem::{ApiError, ApiResult, Problem};
use crate::AppState;

/// `?plugin=&call_id=&limit=&cursor=` of the log.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct LogParams {
    /// Only this plugin's lines.
    pub plugin: Option<String>,
    /// Only this call's lines.
    pub call_id: Option<String>,
    /// Lines per page, 1 to 500 (default 50).
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/tenants/{tenant_id}/plugins/log", tag = "plugins",
    params(("tenant_id" = String, Path), LogParams),
    responses((status = 200, body = ListResponse<LogLine>), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn list(
    State(state): State<AppState>,
    ctx: TenantCtx,
    ApiQuery(params): ApiQuery<LogParams>,
) -> ApiResult<Json<ListResponse<LogLine>>> {
    ctx.require(Action::PluginLogRead)?;
    let limit = params.limit.unwrap_or(PageRequest::DEFAULT_LIMIT);
    if limit == 0 || limit > PageRequest::MAX_LIMIT {
        return Err(ApiError::unprocessable(format!(
            "limit must be between 1 and {}",
            PageRequest::MAX_LIMIT
        )));
    }
    if let Some(plugin) = &params.plugin {
        if !valid_name(plugin) {
            return Err(ApiError::unprocessable(
                "plugin is a plugin's name: 1 to 64 of a-z, 0-9 and -, starting with a letter",
            ));
        }
    }
    let call_id = params
        .call_id
        .as_deref()
        .map(|c| {
            c.parse::<CallId>()
                .map_err(|_| ApiError::unprocessable("call_id is not a call id"))
        })
        .transpose()?;
    let before = params.cursor.as_deref().map(decode_cursor).transpose()?;
    let filter = LogFilter {
        // One more than asked: whether there is a next page.
        limit: limit + 1,
        before,
        plugin: params.plugin,
        call_id,
    };
    let mut items = state.plugins()?.log().list(&ctx.scope, &filter).await?;
    let next_cursor = if items.len() > limit as usize {
        items.truncate(limit as usize);
        items.last().map(|line| encode_cursor(line.id))
    } else {
        None
    };
    Ok(Json(ListResponse { items, next_cursor }))
}

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list))
}
