//! `/tenants/{tenant_id}/prompts/{id}/audio`: a prompt's sound. `PUT` takes an upload (WAV of
//! any common rate and width, or MP3), converts it once to the 8 kHz mono 16-bit WAV calls play
//! and stores that under the tenant's prefix; `GET` (with byte ranges) and `HEAD` hand the
//! stored WAV back; `DELETE` removes it.
//!
//! A bad upload is refused with the converter's own words and a stable problem `type`
//! (`audio-empty`, `not-audio`, `audio-too-large`, `audio-too-long`, `audio-unsupported`,
//! `audio-corrupt`), and nothing is stored or changed. The body is cut off at the size limit
//! before it is read whole (a declared `Content-Length` over it is refused unread). The file is
//! written inside the prompt's change, so a failed write leaves the prompt as it was.
//!
//! `If-Match` is optional here: an upload replaces the audio whole, and a client that sends the
//! ETag it read gets 412 instead of overwriting someone else's newer upload.

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::Response;
use axum::Json;
use futures_util::StreamExt;
use hotline_core::blob::{BlobKey, BlobStore};
use hotline_core::ids::{PromptId, TenantId};
use hotline_core::TenantScope;
use hotline_media::prompt::{convert_upload, PromptError};
use hotline_tenants::prompts::{Prompt, PromptAudio};
use hotline_tenants::rbac::Action;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::download::{self, store_error, Download};
use crate::extract::{etag, ApiPath, IfMatch, TenantCtx};
use crate::problem::{ApiError, ApiResult, Problem};
use crate::AppState;

/// Content types an upload may carry; none at all counts as `application/octet-stream`. The
/// converter recognises the format from the bytes, so a WAV sent as `audio/mpeg` still works.
const UPLOAD_TYPES: &[&str] = &[
    "audio/wav",
    "audio/x-wav",
    "audio/wave",
    "audio/vnd.wave",
    "audio/mpeg",
    "audio/mp3",
    "application/octet-stream",
];

/// Upload a prompt's audio, replacing any before it.
#[utoipa::path(put, path = "/api/v1/tenants/{tenant_id}/prompts/{id}/audio", tag = "prompts",
    params(("tenant_id" = String, Path), ("id" = String, Path),
        ("If-Match" = Option<String>, Header, description = "ETag of the prompt read; when sent, a newer version is not overwritten (412)")),
    request_body(description = "A WAV (8 to 32-bit integer or 32-bit float PCM, any rate and channel count) or MP3 file",
        content(([u8] = "audio/wav"), ([u8] = "audio/x-wav"), ([u8] = "audio/mpeg"), ([u8] = "application/octet-stream"))),
    responses((status = 200, description = "The prompt, now with its audio", body = Prompt, headers(("ETag" = String))),
        (status = 403, body = Problem), (status = 404, body = Problem), (status = 412, body = Problem),
        (status = 413, description = "Larger than the upload limit (type audio-too-large)", body = Problem),
        (status = 415, body = Problem),
        (status = 422, description = "Not usable audio: audio-empty, not-audio, audio-too-long, audio-unsupported, audio-corrupt", body = Problem),
        (status = 503, body = Problem)))]
pub async fn put(
    State(state): State<AppState>,
    ctx: TenantCtx,
    ApiPath((_, id)): ApiPath<(TenantId, PromptId)>,
    if_match: Option<IfMatch>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<(HeaderMap, Json<Prompt>)> {
    ctx.require(Action::PromptWrite)?;
    check_upload_type(&headers)?;
    // Unknown prompts are refused before the body is read.
    state.store.get_prompt(&ctx.scope, id).await?;
    let limits = state.prompt_limits;
    let upload = read_upload(&headers, body, limits.max_bytes).await?;
    let wav = tokio::task::spawn_blocking(move || {
        convert_upload(&upload, &limits).map(|prompt| (prompt.duration(), prompt.to_wav()))
    })
    .await
    .map_err(|e| {
        tracing::error!(error = %e, "the prompt converter panicked");
        ApiError::internal()
    })?;
    let (duration, wav) = wav.map_err(upload_refused)?;

    let key = BlobKey::prompt(&ctx.scope, id);
    let audio = PromptAudio {
        storage_key: key.to_string(),
        duration_ms: u64::try_from(duration.as_millis()).unwrap_or(u64::MAX),
    };
    let change = state
        .store
        .begin_prompt_audio_change(
            &ctx.actor(),
            &ctx.scope,
            id,
            if_match.map(|IfMatch(v)| v),
            Some(audio),
        )
        .await?;
    // Dropping `change` on a failed write rolls the prompt back.
    state
        .files
        .put(&key, wav)
        .await
        .map_err(|e| store_error(e, "prompt audio"))?;
    let previous = change.before().audio();
    let prompt = change.commit().await?;
    if let Some(previous) = previous.filter(|p| p.storage_key != key.as_str()) {
        remove_file(&*state.files, &ctx.scope, &previous.storage_key).await;
    }
    Ok((etag(prompt.version()), Json(prompt)))
}

/// The stored audio: 8 kHz mono 16-bit WAV, whole or by `Range`.
#[utoipa::path(get, path = "/api/v1/tenants/{tenant_id}/prompts/{id}/audio", tag = "prompts",
    params(("tenant_id" = String, Path), ("id" = String, Path),
        ("Range" = Option<String>, Header, description = "bytes=a-b, bytes=a- or bytes=-n")),
    responses((status = 200, description = "The whole file", content_type = "audio/wav", body = [u8],
            headers(("Accept-Ranges" = String), ("Content-Length" = u64), ("ETag" = String))),
        (status = 206, description = "The range asked for", content_type = "audio/wav", body = [u8],
            headers(("Content-Range" = String), ("Content-Length" = u64))),
        (status = 403, body = Problem), (status = 404, description = "No such prompt, or no audio uploaded", body = Problem),
        (status = 416, body = Problem), (status = 503, body = Problem)))]
pub async fn get(
    State(state): State<AppState>,
    ctx: TenantCtx,
    ApiPath((_, id)): ApiPath<(TenantId, PromptId)>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    serve(state, ctx, id, &headers, false).await
}

/// The stored audio's length and type, without the bytes.
#[utoipa::path(head, path = "/api/v1/tenants/{tenant_id}/prompts/{id}/audio", tag = "prompts",
    params(("tenant_id" = String, Path), ("id" = String, Path)),
    responses((status = 200, description = "Content-Length says the file's length",
            headers(("Accept-Ranges" = String), ("Content-Length" = u64), ("ETag" = String))),
        (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn head(
    State(state): State<AppState>,
    ctx: TenantCtx,
    ApiPath((_, id)): ApiPath<(TenantId, PromptId)>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    serve(state, ctx, id, &headers, true).await
}

/// Remove the prompt's audio (the prompt stays, and cannot be played until audio is uploaded).
#[utoipa::path(delete, path = "/api/v1/tenants/{tenant_id}/prompts/{id}/audio", tag = "prompts",
    params(("tenant_id" = String, Path), ("id" = String, Path),
        ("If-Match" = Option<String>, Header, description = "ETag of the prompt read; when sent, a newer version is not removed (412)")),
    responses((status = 200, description = "The prompt, now without audio", body = Prompt, headers(("ETag" = String))),
        (status = 403, body = Problem), (status = 404, description = "No such prompt, or no audio uploaded", body = Problem),
        (status = 412, body = Problem)))]
pub async fn delete(
    State(state): State<AppState>,
    ctx: TenantCtx,
    ApiPath((_, id)): ApiPath<(TenantId, PromptId)>,
    if_match: Option<IfMatch>,
) -> ApiResult<(HeaderMap, Json<Prompt>)> {
    ctx.require(Action::PromptWrite)?;
    let current = state.store.get_prompt(&ctx.scope, id).await?;
    if current.audio().is_none() {
        return Err(ApiError::not_found("prompt audio"));
    }
    let change = state
        .store
        .begin_prompt_audio_change(
            &ctx.actor(),
            &ctx.scope,
            id,
            if_match.map(|IfMatch(v)| v),
            None,
        )
        .await?;
    let removed = change.before().audio();
    let prompt = change.commit().await?;
    // The prompt no longer names the file: a failure to remove it leaves an orphan, not a
    // prompt pointing at nothing.
    remove_files(&state, &ctx.scope, id, removed).await;
    Ok((etag(prompt.version()), Json(prompt)))
}

async fn serve(
    state: AppState,
    ctx: TenantCtx,
    id: PromptId,
    headers: &HeaderMap,
    head_only: bool,
) -> ApiResult<Response> {
    ctx.require(Action::PromptRead)?;
    let prompt = state.store.get_prompt(&ctx.scope, id).await?;
    let audio = prompt
        .audio()
        .ok_or_else(|| ApiError::not_found("prompt audio"))?;
    let key = BlobKey::parse(&ctx.scope, &audio.storage_key)
        .map_err(|e| store_error(e, "prompt audio"))?;
    let file = Download {
        key,
        what: "prompt audio",
        content_type: "audio/wav",
        file_name: format!("{}.wav", prompt.name().replace(['"', '\\'], "_")),
        etag: Some(format!("\"{}\"", prompt.version())),
        cache_control: "private, no-cache",
    };
    download::serve(state.files.clone(), file, headers, head_only).await
}

/// Remove the files of a prompt's audio: the one its row named, and the one its key would name
/// now (an upload racing a removal may have written it). Failures are logged, not answered:
/// the prompt no longer points at them.
pub(crate) async fn remove_files(
    state: &AppState,
    scope: &TenantScope,
    id: PromptId,
    audio: Option<PromptAudio>,
) {
    let current = BlobKey::prompt(scope, id);
    if let Some(audio) = audio.filter(|a| a.storage_key != current.as_str()) {
        remove_file(&*state.files, scope, &audio.storage_key).await;
    }
    remove_file(&*state.files, scope, current.as_str()).await;
}

async fn remove_file(files: &dyn BlobStore, scope: &TenantScope, stored_key: &str) {
    let key = match BlobKey::parse(scope, stored_key) {
        Ok(key) => key,
        Err(e) => {
            tracing::error!(key = stored_key, error = %e, "not removing a file outside the tenant");
            return;
        }
    };
    if let Err(e) = files.delete(&key).await {
        tracing::warn!(key = %key, error = %e, "could not remove a prompt's old audio file");
    }
}

fn check_upload_type(headers: &HeaderMap) -> ApiResult<()> {
    let Some(value) = headers.get(header::CONTENT_TYPE) else {
        return Ok(());
    };
    let essence = value
        .to_str()
        .unwrap_or("")
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    if UPLOAD_TYPES.contains(&essence.as_str()) {
        Ok(())
    } else {
        Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported-media-type",
            "Audio expected",
            format!(
                "send the file with Content-Type {} (got {essence:?})",
                UPLOAD_TYPES.join(", ")
            ),
        ))
    }
}

/// The body, refused as soon as it is known to exceed `limit`: from `Content-Length` before a
/// byte is read, or while reading a body sent without one.
async fn read_upload(headers: &HeaderMap, body: Body, limit: usize) -> ApiResult<Bytes> {
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if let Some(declared) = declared.filter(|d| *d > limit as u64) {
        return Err(too_large(&format!("{declared} bytes"), limit));
    }
    let mut stream = body.into_data_stream();
    let mut upload = Vec::with_capacity(declared.map_or(0, |d| d as usize));
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "incomplete-body",
                "Upload interrupted",
                format!("could not read the upload: {e}"),
            )
        })?;
        if upload.len() + chunk.len() > limit {
            return Err(too_large(&format!("more than {limit} bytes"), limit));
        }
        upload.extend_from_slice(&chunk);
    }
    Ok(Bytes::from(upload))
}

fn too_large(size: &str, limit: usize) -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "audio-too-large",
        "Audio file too large",
        format!("the upload is {size}; the limit is {limit} bytes"),
    )
}

/// The converter's refusal as the API answers it: its message, a stable type per kind.
fn upload_refused(err: PromptError) -> ApiError {
    let (status, slug, title) = match &err {
        PromptError::Empty | PromptError::NoSamples => (
            StatusCode::UNPROCESSABLE_ENTITY,
            "audio-empty",
            "No audio in the upload",
        ),
        PromptError::TooLarge { .. } => (
            StatusCode::PAYLOAD_TOO_LARGE,
            "audio-too-large",
            "Audio file too large",
        ),
        PromptError::TooLong { .. } => (
            StatusCode::UNPROCESSABLE_ENTITY,
            "audio-too-long",
            "Audio too long",
        ),
        PromptError::NotAudio(_) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            "not-audio",
            "Not an audio file",
        ),
        PromptError::Unsupported(_) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            "audio-unsupported",
            "Unsupported audio",
        ),
        PromptError::Corrupt(_) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            "audio-corrupt",
            "Damaged audio file",
        ),
    };
    ApiError::new(status, slug, title, err.to_string())
}

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(put, get, head, delete))
}
