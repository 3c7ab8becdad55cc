//! Files the API hands out (prompt audio, call recordings) straight from the tenants' file
//! store: whole or by byte range (see [`byte_ranges`](crate::byte_ranges)), streamed in chunks
//! so that an hour-long recording never sits in memory whole; `HEAD` answers the length alone.
//!
//! The handler has already checked the caller's role and made or checked the key against the
//! caller's tenant scope: this module must never build a key nor serve one it was not given.

use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use hotline_core::blob::{BlobError, BlobKey, BlobStore, ByteRange};

use crate::byte_ranges::{resolve, RangeRequest};
use crate::problem::{ApiError, ApiResult};

/// Bytes read from the store per chunk of a streamed answer.
const CHUNK_BYTES: u64 = 256 * 1024;

/// One stored file and how to present it.
pub struct Download {
    pub key: BlobKey,
    /// What the file is, for a 404 when it is gone (`recording`).
    pub what: &'static str,
    pub content_type: &'static str,
    /// The name a browser saves it under.
    pub file_name: String,
    pub etag: Option<String>,
    /// Recordings hold what callers said: `no-store` keeps them off shared and disk caches.
    pub cache_control: &'static str,
}

/// Answers `GET` (honouring `Range`) or, with `head_only`, `HEAD` for `file`.
pub async fn serve(
    files: Arc<dyn BlobStore>,
    file: Download,
    request: &HeaderMap,
    head_only: bool,
) -> ApiResult<Response> {
    let len = files
        .len(&file.key)
        .await
        .map_err(|e| store_error(e, file.what))?;
    let range = if head_only {
        RangeRequest::Whole
    } else {
        resolve(
            request.get(header::RANGE).and_then(|v| v.to_str().ok()),
            len,
        )
    };
    let (status, start, end) = match range {
        RangeRequest::Whole => (StatusCode::OK, 0, len.checked_sub(1)),
        RangeRequest::Part { start, end } => (StatusCode::PARTIAL_CONTENT, start, Some(end)),
        RangeRequest::Unsatisfiable => return Ok(unsatisfiable(len)),
    };
    let length = end.map_or(0, |end| end + 1 - start);

    let mut headers = HeaderMap::new();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(file.content_type),
    );
    headers.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(length));
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(file.cache_control),
    );
    if let Ok(value) = HeaderValue::from_str(&format!("inline; filename=\"{}\"", file.file_name)) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    if let Some(value) = file.etag.and_then(|e| HeaderValue::from_str(&e).ok()) {
        headers.insert(header::ETAG, value);
    }
    if let (StatusCode::PARTIAL_CONTENT, Some(end)) = (status, end) {
        if let Ok(value) = HeaderValue::from_str(&format!("bytes {start}-{end}/{len}")) {
            headers.insert(header::CONTENT_RANGE, value);
        }
    }
    let body = match end {
        Some(end) if !head_only => stream(files, file.key, start, end),
        _ => Body::empty(),
    };
    Ok((status, headers, body).into_response())
}

/// Bytes `start..=end` of `key`, read chunk by chunk as the client takes them.
fn stream(files: Arc<dyn BlobStore>, key: BlobKey, start: u64, end: u64) -> Body {
    let chunks = futures_util::stream::try_unfold(start, move |at| {
        let (files, key) = (files.clone(), key.clone());
        async move {
            if at > end {
                return Ok::<_, BlobError>(None);
            }
            let last = end.min(at.saturating_add(CHUNK_BYTES - 1));
            let read = files
                .read(
                    &key,
                    Some(ByteRange {
                        start: at,
                        end: Some(last),
                    }),
                )
                .await?;
            if read.bytes.is_empty() {
                // The file shrank under us: end the answer short rather than loop.
                return Err(BlobError::Io(std::io::ErrorKind::UnexpectedEof.into()));
            }
            let next = at + read.bytes.len() as u64;
            Ok(Some((Bytes::from(read.bytes), next)))
        }
    });
    Body::from_stream(chunks)
}

fn unsatisfiable(len: u64) -> Response {
    let mut response = ApiError::new(
        StatusCode::RANGE_NOT_SATISFIABLE,
        "range-not-satisfiable",
        "Range not satisfiable",
        format!("the file has {len} bytes; ask for a range inside it"),
    )
    .into_response();
    if let Ok(value) = HeaderValue::from_str(&format!("bytes */{len}")) {
        response.headers_mut().insert(header::CONTENT_RANGE, value);
    }
    response
}

/// A failure of the file store, as the API answers it.
pub fn store_error(err: BlobError, what: &'static str) -> ApiError {
    match err {
        BlobError::NotFound => ApiError::not_found(what),
        BlobError::RangeNotSatisfiable { len } => ApiError::new(
            StatusCode::RANGE_NOT_SATISFIABLE,
            "range-not-satisfiable",
            "Range not satisfiable",
            format!("the file has {len} bytes"),
        ),
        BlobError::InvalidKey(key) => {
            tracing::error!(key, "refused a stored file key that is not the tenant's");
            ApiError::internal()
        }
        BlobError::Io(e) => {
            tracing::error!(error = %e, "file storage failed");
            ApiError::unavailable("the file storage is unavailable; nothing was changed")
        }
    }
}
