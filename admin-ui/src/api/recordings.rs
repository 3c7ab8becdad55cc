//! `/tenants/{tenant_id}/calls/{id}/recording`: a finished call's recording, the stereo WAV the
//! media engine wrote (caller left, agent right), streamed with byte ranges so the console can
//! seek; `HEAD` for its length. Only roles that may listen to recordings (`RecordingListen`) get
//! it, and only from their own tenant.
//!
//! The file's key comes from the call record and is checked against the caller's tenant scope
//! before anything is opened: a key of another tenant, or one that is not a key at all, is
//! refused (logged, 500) and never read.

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use hotline_core::blob::BlobKey;
use hotline_core::ids::{CallId, TenantId};
use hotline_tenants::rbac::Action;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::download::{self, Download};
use crate::extract::{ApiPath, TenantCtx};
use crate::problem::{ApiError, ApiResult, Problem};
use crate::AppState;

/// The call's recording: 8 kHz 16-bit stereo WAV, caller left, agent right.
#[utoipa::path(get, path = "/api/v1/tenants/{tenant_id}/calls/{id}/recording", tag = "calls",
    params(("tenant_id" = String, Path), ("id" = String, Path, description = "The call id"),
        ("Range" = Option<String>, Header, description = "bytes=a-b, bytes=a- or bytes=-n")),
    responses((status = 200, description = "The whole recording", content_type = "audio/wav", body = [u8],
            headers(("Accept-Ranges" = String), ("Content-Length" = u64))),
        (status = 206, description = "The range asked for", content_type = "audio/wav", body = [u8],
            headers(("Content-Range" = String), ("Content-Length" = u64))),
        (status = 403, body = Problem), (status = 404, description = "No such call, or it was not recorded", body = Problem),
        (status = 416, body = Problem), (status = 503, body = Problem)))]
pub async fn get(
    State(state): State<AppState>,
    ctx: TenantCtx,
    ApiPath((_, call_id)): ApiPath<(TenantId, CallId)>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    serve(state, ctx, call_id, &headers, false).await
}

/// The recording's length and type, without the bytes.
#[utoipa::path(head, path = "/api/v1/tenants/{tenant_id}/calls/{id}/recording", tag = "calls",
    params(("tenant_id" = String, Path), ("id" = String, Path, description = "The call id")),
    responses((status = 200, description = "Content-Length says the recording's length",
            headers(("Accept-Ranges" = String), ("Content-Length" = u64))),
        (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn head(
    State(state): State<AppState>,
    ctx: TenantCtx,
    ApiPath((_, call_id)): ApiPath<(TenantId, CallId)>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    serve(state, ctx, call_id, &headers, true).await
}

async fn serve(
    state: AppState,
    ctx: TenantCtx,
    call_id: CallId,
    headers: &HeaderMap,
    head_only: bool,
) -> ApiResult<Response> {
    ctx.require(Action::RecordingListen)?;
    let record = state.store.get_call_record(&ctx.scope, call_id).await?;
    let recording = record
        .recording
        .ok_or_else(|| ApiError::not_found("recording"))?;
    let key = BlobKey::parse(&ctx.scope, &recording.key).map_err(|e| {
        tracing::error!(call_id = %call_id, error = %e, "a call record names a recording outside its tenant");
        ApiError::internal()
    })?;
    let file = Download {
        key,
        what: "recording",
        content_type: "audio/wav",
        file_name: format!("{call_id}.wav"),
        etag: None,
        cache_control: "private, no-store",
    };
    download::serve(state.files.clone(), file, headers, head_only)
        .await
        .inspect_err(|e| {
            if e.status == axum::http::StatusCode::NOT_FOUND {
                tracing::warn!(call_id = %call_id, "the call's recording file is missing");
            }
        })
}

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(get, head))
}
