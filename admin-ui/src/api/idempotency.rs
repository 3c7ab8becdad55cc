//! `Idempotency-Key` on the money-moving POSTs (DESIGN.md, Interfaces): closing a period,
//! finalizing, voiding and issuing a credit note. A retry with the same key and the same request
//! gets the first answer again, marked `Idempotent-Replayed: true`, and acts on nothing; the same
//! key with another request is refused (422); a retry while the first is still running is told
//! so (409). Without the header a request simply runs.
//!
//! Answers are kept by billing's store, per caller; a 5xx answer is not kept (nothing was done,
//! and the client should retry under the same key). The key is claimed only after the caller was
//! authenticated and authorized, so a refused request leaves nothing behind.

use std::future::Future;

use axum::body::Body;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, HeaderName, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use hotline_billing::store::{IdempotencyClaim, StoredResponse};
use hotline_core::PlatformScope;

use crate::api::billing_context::BillingContext;
use crate::extract::Caller;
use crate::problem::{ApiError, ApiResult};

/// The request header.
pub const HEADER: &str = "idempotency-key";
/// Set on an answer replayed from an earlier request with the same key.
pub const REPLAYED: &str = "idempotent-replayed";
/// Longest key accepted (what the payment providers accept too).
const MAX_KEY_LEN: usize = 255;
/// Largest answer kept; the answers of these endpoints are a few kilobytes.
const MAX_KEPT_BODY: usize = 1024 * 1024;

/// The `Idempotency-Key` a request carries, if any, with what identifies the request.
pub struct IdempotencyKey {
    key: Option<String>,
    method: Method,
    uri: Uri,
}

impl<S: Send + Sync> FromRequestParts<S> for IdempotencyKey {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let key = match parts.headers.get(HEADER) {
            None => None,
            Some(value) => {
                let text = value.to_str().unwrap_or("").trim();
                // The draft standard writes the key as a structured-field string: "...".
                let text = text
                    .strip_prefix('"')
                    .and_then(|t| t.strip_suffix('"'))
                    .unwrap_or(text);
                let usable = !text.is_empty()
                    && text.len() <= MAX_KEY_LEN
                    && text.bytes().all(|b| b.is_ascii_graphic());
                if !usable {
                    return Err(ApiError::new(
                        StatusCode::BAD_REQUEST,
                        "bad-idempotency-key",
                        "Unusable Idempotency-Key",
                        format!(
                            "Idempotency-Key must be 1 to {MAX_KEY_LEN} visible ASCII characters"
                        ),
                    ));
                }
                Some(text.to_owned())
            }
        };
        Ok(Self {
            key,
            method: parts.method.clone(),
            uri: parts.uri.clone(),
        })
    }
}

impl IdempotencyKey {
    /// Runs `work` once per key: the first time for real, afterwards by replaying its answer.
    /// `body` is the request's content as the handler parsed it, re-encoded: two requests that
    /// mean the same are the same request.
    pub async fn once<F, Fut>(
        self,
        billing: &BillingContext,
        caller: &Caller,
        body: &serde_json::Value,
        work: F,
    ) -> Response
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Response>,
    {
        let Some(key) = self.key.clone() else {
            return work().await;
        };
        match self.claimed(billing, caller, &key, body, work).await {
            Ok(response) => response,
            Err(err) => err.into_response(),
        }
    }

    async fn claimed<F, Fut>(
        &self,
        billing: &BillingContext,
        caller: &Caller,
        key: &str,
        body: &serde_json::Value,
        work: F,
    ) -> ApiResult<Response>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Response>,
    {
        let store = billing.billing.store();
        let platform = PlatformScope::from_verified();
        let actor = caller.actor();
        let owner = format!("{:?}:{}", actor.kind, actor.id);
        let request = format!("{} {}\n{body}", self.method, self.uri);
        let claim = store
            .platform_claim_idempotency_key(
                &platform,
                &owner,
                key,
                request.as_bytes(),
                billing.billing.now(),
            )
            .await?;
        match claim {
            IdempotencyClaim::Replay(kept) => Ok(replayed(kept)),
            IdempotencyClaim::InFlight => Err(ApiError::new(
                StatusCode::CONFLICT,
                "idempotency-conflict",
                "Request in progress",
                "a request with this Idempotency-Key is still running, or was interrupted before it \
                 answered; check the result before retrying with a new key",
            )),
            IdempotencyClaim::Mismatch => Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "idempotency-mismatch",
                "Idempotency-Key reused",
                "this Idempotency-Key was used for a different request; use a new key",
            )),
            IdempotencyClaim::Claimed => {
                let response = work().await;
                let (parts, body) = response.into_parts();
                let bytes = axum::body::to_bytes(body, MAX_KEPT_BODY)
                    .await
                    .map_err(|err| {
                        tracing::error!(error = %err, "cannot read an answer to keep it");
                        ApiError::internal()
                    })?;
                let kept = StoredResponse {
                    status: parts.status.as_u16(),
                    content_type: parts
                        .headers
                        .get(header::CONTENT_TYPE)
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or("application/json")
                        .to_owned(),
                    body: String::from_utf8_lossy(&bytes).into_owned(),
                };
                let outcome = if parts.status.is_server_error() {
                    store
                        .platform_release_idempotency_key(&platform, &owner, key)
                        .await
                } else {
                    store
                        .platform_complete_idempotency_key(
                            &platform,
                            &owner,
                            key,
                            &kept,
                            billing.billing.now(),
                        )
                        .await
                };
                if let Err(err) = outcome {
                    // The work is done and its answer goes out; only the replay is lost, and a
                    // retry is then told the key is in flight rather than acting twice.
                    tracing::error!(error = %err, "cannot keep the answer of an idempotent request");
                }
                Ok(Response::from_parts(parts, Body::from(bytes)))
            }
        }
    }
}

fn replayed(kept: StoredResponse) -> Response {
    let status = StatusCode::from_u16(kept.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = (status, kept.body).into_response();
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(&kept.content_type) {
        headers.insert(header::CONTENT_TYPE, value);
    }
    headers.insert(
        HeaderName::from_static(REPLAYED),
        HeaderValue::from_static("true"),
    );
    response
}
