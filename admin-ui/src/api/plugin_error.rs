//! The plugin side's errors as problems: store failures like every store's, and each reason an
//! upload is refused under its own stable `type` (`urn:hotline:problem:plugin-...`), so a plugin
//! author's tooling can tell a core module from a wrong world without reading the text.

use axum::http::StatusCode;
use hotline_plugins::error::{StoreError, UploadError};

use crate::problem::ApiError;

impl From<StoreError> for ApiError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::NotFound(what) => ApiError::not_found(what),
            StoreError::Conflict(detail) => {
                ApiError::new(StatusCode::CONFLICT, "conflict", "Conflict", detail)
            }
            StoreError::VersionMismatch { .. } => ApiError::new(
                StatusCode::PRECONDITION_FAILED,
                "precondition-failed",
                "Changed by someone else",
                err.to_string(),
            ),
            StoreError::Unavailable(e) => {
                tracing::error!(error = %e, "database unavailable");
                ApiError::unavailable("the database is unavailable; nothing was changed")
            }
            StoreError::Database(e) => {
                tracing::error!(error = %e, "database error");
                ApiError::internal()
            }
            StoreError::Corrupt(e) => {
                tracing::error!(error = %e, "corrupt stored plugin data");
                ApiError::internal()
            }
        }
    }
}

impl From<UploadError> for ApiError {
    fn from(err: UploadError) -> Self {
        let detail = err.to_string();
        let refused = |slug, title| {
            ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                slug,
                title,
                detail.clone(),
            )
        };
        match err {
            UploadError::Empty => refused("plugin-empty", "Empty upload"),
            UploadError::TooLarge { .. } => ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "plugin-too-large",
                "Component too large",
                detail,
            ),
            UploadError::NotWasm => refused("plugin-not-wasm", "Not WebAssembly"),
            UploadError::CoreModule => {
                refused("plugin-core-module", "A core module, not a component")
            }
            UploadError::Malformed(_) => {
                refused("plugin-malformed", "Truncated or malformed component")
            }
            UploadError::UnknownImport(_) => refused(
                "plugin-unknown-import",
                "Imports an interface Hotline does not provide",
            ),
            UploadError::WrongWorld { .. } => {
                refused("plugin-wrong-world", "Targets no Hotline world")
            }
            UploadError::UnsupportedVersion(_) => refused(
                "plugin-unsupported-version",
                "Unsupported WIT package version",
            ),
            UploadError::Mismatch { .. } => {
                refused("plugin-world-mismatch", "Does not match its world")
            }
            UploadError::Compile(_) => refused("plugin-compile-failed", "Does not compile"),
            UploadError::InvalidName => refused("plugin-invalid-name", "Invalid plugin name"),
            UploadError::ReservedName(_) => refused("plugin-reserved-name", "Reserved plugin name"),
            UploadError::Invalid(_) => ApiError::unprocessable(detail),
            UploadError::WorldChanged(..) => ApiError::new(
                StatusCode::CONFLICT,
                "plugin-world-changed",
                "A new version must keep the world",
                detail,
            ),
            UploadError::Store(store) => store.into(),
        }
    }
}
