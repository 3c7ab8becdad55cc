//! Request extractors that every handler shares: who is calling ([`Caller`]), in which tenant
//! ([`TenantCtx`], from the credentials checked against the URL), strict JSON bodies
//! ([`ApiJson`]), `If-Match` versions and cursor pagination. Each fails with problem+json.

use axum::body::Bytes;
use axum::extract::{FromRef, FromRequest, FromRequestParts, Query, RawPathParams, Request};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue};
use base64::Engine;
use hotline_core::ids::TenantId;
use hotline_core::{PlatformScope, TenantScope};
use hotline_tenants::api_keys;
use hotline_tenants::audit::Actor;
use hotline_tenants::auth::Principal;
use hotline_tenants::rbac::Action;
use hotline_tenants::{Page, PageRequest};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::problem::{ApiError, ApiResult};
use crate::AppState;

/// The authenticated caller: a user's JWT access token or an API key, as `Authorization: Bearer`.
#[derive(Clone, Debug)]
pub struct Caller(pub Principal);

impl Caller {
    pub fn require(&self, action: Action) -> ApiResult<()> {
        if self.0.may(action) {
            Ok(())
        } else {
            Err(ApiError::forbidden(format!(
                "the {} role may not do this",
                self.0.role.as_str()
            )))
        }
    }

    pub fn actor(&self) -> Actor {
        self.0.actor()
    }
}

impl<S> FromRequestParts<S> for Caller
where
    AppState: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        if let Some(caller) = parts.extensions.get::<Caller>() {
            return Ok(caller.clone());
        }
        let state = AppState::from_ref(state);
        let header = parts.headers.get(header::AUTHORIZATION).ok_or_else(|| {
            ApiError::unauthorized("send Authorization: Bearer <access token or API key>")
        })?;
        // The scheme is case-insensitive (RFC 9110, section 11.1): `bearer` is Bearer too.
        let token = header
            .to_str()
            .ok()
            .and_then(|h| h.trim_start().split_once(' '))
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .map(|(_, token)| token.trim())
            .filter(|token| !token.is_empty())
            .ok_or_else(|| {
                ApiError::unauthorized("the Authorization header must be Bearer <token>")
            })?;
        let principal = if token.starts_with(&format!("{}_", api_keys::PREFIX)) {
            state
                .store
                .authenticate_api_key(token)
                .await?
                .ok_or_else(|| ApiError::unauthorized("unknown or revoked API key"))?
        } else {
            state.tokens.verify_access(token)?
        };
        let span = tracing::Span::current();
        span.record("role", principal.role.as_str());
        if let Some(tenant) = principal.tenant_id {
            span.record("tenant", tracing::field::display(tenant));
        }
        let caller = Caller(principal);
        parts.extensions.insert(caller.clone());
        Ok(caller)
    }
}

/// A caller acting inside the tenant the URL names (`/tenants/{tenant_id}/...`), after checking
/// that the credentials cover it. Another tenant's caller gets 404: the tenant does not exist
/// for them.
#[derive(Clone, Debug)]
pub struct TenantCtx {
    pub caller: Caller,
    pub scope: TenantScope,
}

impl TenantCtx {
    pub fn require(&self, action: Action) -> ApiResult<()> {
        self.caller.require(action)
    }
    pub fn actor(&self) -> Actor {
        self.caller.actor()
    }
}

impl<S> FromRequestParts<S> for TenantCtx
where
    AppState: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let caller = Caller::from_request_parts(parts, state).await?;
        let params = RawPathParams::from_request_parts(parts, state)
            .await
            .map_err(|_| ApiError::not_found("tenant"))?;
        let tenant_id = params
            .iter()
            .find(|(name, _)| *name == "tenant_id")
            .and_then(|(_, value)| value.parse::<TenantId>().ok())
            .ok_or_else(|| ApiError::not_found("tenant"))?;
        let scope = caller
            .0
            .tenant_scope(tenant_id)
            .ok_or_else(|| ApiError::not_found("tenant"))?;
        if caller.0.tenant_id.is_none() {
            // The operator may name any tenant; make sure it exists so that writes fail cleanly.
            let state = AppState::from_ref(state);
            state.store.get_tenant(&scope).await?;
        }
        tracing::Span::current().record("tenant", tracing::field::display(tenant_id));
        Ok(TenantCtx { caller, scope })
    }
}

/// A platform admin acting across tenants. Anyone else gets 403.
#[derive(Clone, Debug)]
pub struct PlatformCtx {
    pub caller: Caller,
    pub scope: PlatformScope,
}

impl PlatformCtx {
    pub fn actor(&self) -> Actor {
        self.caller.actor()
    }
}

impl<S> FromRequestParts<S> for PlatformCtx
where
    AppState: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let caller = Caller::from_request_parts(parts, state).await?;
        let scope = caller
            .0
            .platform_scope()
            .ok_or_else(|| ApiError::forbidden("only the platform operator may do this"))?;
        Ok(PlatformCtx { caller, scope })
    }
}

/// A JSON body parsed strictly: a JSON content type, valid syntax (400 otherwise), and the
/// shape of `T`, unknown fields included (422 otherwise).
pub struct ApiJson<T>(pub T);

impl<T, S> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let json_type = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(|v| {
                let essence = v
                    .split(';')
                    .next()
                    .unwrap_or("")
                    .trim()
                    .to_ascii_lowercase();
                essence == "application/json"
                    || essence == "application/merge-patch+json"
                    || essence.ends_with("+json")
            })
            .unwrap_or(false);
        if !json_type {
            return Err(ApiError::new(
                axum::http::StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported-media-type",
                "JSON expected",
                "send Content-Type: application/json",
            ));
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|e| {
            if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::payload_too_large(format!("the body exceeds the size limit: {e}"))
            } else {
                ApiError::bad_json(format!("could not read the body: {e}"))
            }
        })?;
        parse_json(&bytes).map(ApiJson)
    }
}

/// Syntax errors are the client's malformed JSON (400); type and field errors are invalid
/// input (422).
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> ApiResult<T> {
    serde_json::from_slice(bytes).map_err(json_error)
}

pub fn json_error(err: serde_json::Error) -> ApiError {
    use serde_json::error::Category;
    match err.classify() {
        Category::Syntax | Category::Eof | Category::Io => ApiError::bad_json(err.to_string()),
        Category::Data => ApiError::unprocessable(err.to_string()),
    }
}

/// The version a client read, from `If-Match: "<version>"`. Required on every update; where a
/// whole replacement may go without it (a prompt's audio), `Option<IfMatch>` checks it only
/// when sent.
pub struct IfMatch(pub i64);

impl IfMatch {
    fn parse(value: &HeaderValue) -> ApiResult<Self> {
        let text = value.to_str().unwrap_or("").trim();
        let text = text.strip_prefix("W/").unwrap_or(text);
        text.trim_matches('"')
            .parse::<i64>()
            .map(IfMatch)
            .map_err(|_| {
                ApiError::new(
                    axum::http::StatusCode::PRECONDITION_FAILED,
                    "precondition-failed",
                    "Changed by someone else",
                    "If-Match does not name a version of this resource",
                )
            })
    }
}

impl<S: Send + Sync> FromRequestParts<S> for IfMatch {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let value = parts
            .headers
            .get(header::IF_MATCH)
            .ok_or_else(ApiError::precondition_required)?;
        IfMatch::parse(value)
    }
}

impl<S: Send + Sync> axum::extract::OptionalFromRequestParts<S> for IfMatch {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        _state: &S,
    ) -> Result<Option<Self>, Self::Rejection> {
        parts
            .headers
            .get(header::IF_MATCH)
            .map(IfMatch::parse)
            .transpose()
    }
}

/// The ETag of a resource at `version`.
pub fn etag(version: i64) -> HeaderMap {
    let mut headers = HeaderMap::new();
    if let Ok(value) = HeaderValue::from_str(&format!("\"{version}\"")) {
        headers.insert(header::ETAG, value);
    }
    headers
}

/// `?limit=&cursor=` of a list.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageParams {
    /// Items per page, 1 to 500 (default 50).
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

pub struct Paging(pub PageRequest);

impl<S: Send + Sync> FromRequestParts<S> for Paging {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let Query(params) = Query::<PageParams>::from_request_parts(parts, state)
            .await
            .map_err(|e| ApiError::unprocessable(e.body_text()))?;
        let limit = params.limit.unwrap_or(PageRequest::DEFAULT_LIMIT);
        if limit == 0 || limit > PageRequest::MAX_LIMIT {
            return Err(ApiError::unprocessable(format!(
                "limit must be between 1 and {}",
                PageRequest::MAX_LIMIT
            )));
        }
        let after = params.cursor.as_deref().map(decode_cursor).transpose()?;
        Ok(Paging(PageRequest { limit, after }))
    }
}

pub(crate) fn decode_cursor(cursor: &str) -> ApiResult<Uuid> {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()
        .and_then(|bytes| Uuid::from_slice(&bytes).ok())
        .ok_or_else(|| ApiError::unprocessable("cursor is not one this API handed out"))
}

pub(crate) fn encode_cursor(id: Uuid) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(id.as_bytes())
}

/// One page of a list.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ListResponse<T> {
    pub items: Vec<T>,
    /// Pass as `cursor` for the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

impl<T> From<Page<T>> for ListResponse<T> {
    fn from(page: Page<T>) -> Self {
        Self {
            items: page.items,
            next_cursor: page.next.map(encode_cursor),
        }
    }
}

/// Path parameters; a malformed id is simply a resource that does not exist (404).
pub struct ApiPath<T>(pub T);

impl<T, S> FromRequestParts<S> for ApiPath<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Path(value)| ApiPath(value))
            .map_err(|_| ApiError::not_found("resource"))
    }
}
