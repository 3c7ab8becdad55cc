//! What a plugin upload is made of over HTTP, for the tenant's plugins and the platform
//! catalog alike: the component's bytes as the body (`application/wasm`), the author from the
//! credentials, the notes from `?notes=`; and the answer, 201 with the new version.
//!
//! Validation is the registry's: this module only reads the request and must never accept a
//! component the registry did not check.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::Json;
use hotline_plugins::registry::validate::MAX_COMPONENT_BYTES;
use hotline_plugins::registry::{OwnerScope, UploadMeta, VersionInfo};
use serde::Deserialize;

use crate::extract::{etag, Caller};
use crate::problem::{ApiError, ApiResult};
use crate::AppState;

/// The largest body the upload routes read; the registry's own (possibly smaller) limit is
/// checked on what was read.
pub const BODY_LIMIT: usize = MAX_COMPONENT_BYTES + 1;

/// `?notes=` of an upload.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct UploadParams {
    /// What changed in this version (at most 4,000 bytes, URL-encoded).
    pub notes: Option<String>,
}

/// A component upload's body: `Content-Type: application/wasm` (or
/// `application/octet-stream`), the bytes as built.
pub struct ComponentBody(pub Vec<u8>);

impl<S: Send + Sync> FromRequest<S> for ComponentBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let essence = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(|v| {
                v.split(';')
                    .next()
                    .unwrap_or("")
                    .trim()
                    .to_ascii_lowercase()
            })
            .unwrap_or_default();
        if essence != "application/wasm" && essence != "application/octet-stream" {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported-media-type",
                "A WebAssembly component expected",
                "send the component's bytes as the body with Content-Type: application/wasm",
            ));
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|e| {
            if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "plugin-too-large",
                    "Component too large",
                    format!("the component is over the limit of {MAX_COMPONENT_BYTES} bytes"),
                )
            } else {
                ApiError::bad_json(format!("could not read the body: {e}"))
            }
        })?;
        Ok(ComponentBody(bytes.to_vec()))
    }
}

/// Validate, compile and store the version; 201 with `Location` (`{base}/versions/{n}`).
pub async fn upload(
    state: &AppState,
    caller: &Caller,
    owner: OwnerScope<'_>,
    base: &str,
    name: &str,
    notes: Option<String>,
    body: Vec<u8>,
) -> ApiResult<(StatusCode, HeaderMap, Json<VersionInfo>)> {
    let plugins = state.plugins()?;
    let notes = notes.unwrap_or_default();
    let info = plugins
        .registry()
        .upload(
            owner,
            UploadMeta {
                name,
                author: &caller.0.label,
                notes: &notes,
            },
            body,
        )
        .await?;
    tracing::info!(plugin = %info.plugin, version = info.version, owner = %info.owner,
        sha256 = %info.sha256, author = %info.author, "plugin version uploaded");
    let mut headers = etag(i64::from(info.version));
    if let Ok(location) = HeaderValue::from_str(&format!("{base}/versions/{}", info.version)) {
        headers.insert(header::LOCATION, location);
    }
    Ok((StatusCode::CREATED, headers, Json(info)))
}
