//! Pages of plugin versions: `?limit=&cursor=` like every list, where the cursor (opaque to
//! clients) carries the last version number handed out, since versions are numbered, not ids.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use base64::Engine;
use hotline_plugins::registry::store::VersionPage;
use hotline_tenants::PageRequest;

use crate::api::query_params::ApiQuery;
use crate::extract::PageParams;
use crate::problem::{ApiError, ApiResult};

const PREFIX: &[u8] = b"version:";

/// `?limit=&cursor=` of a version list.
pub struct VersionPaging(pub VersionPage);

impl<S: Send + Sync> FromRequestParts<S> for VersionPaging {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let ApiQuery(params) = ApiQuery::<PageParams>::from_request_parts(parts, state).await?;
        let limit = params.limit.unwrap_or(PageRequest::DEFAULT_LIMIT);
        if limit == 0 || limit > PageRequest::MAX_LIMIT {
            return Err(ApiError::unprocessable(format!(
                "limit must be between 1 and {}",
                PageRequest::MAX_LIMIT
            )));
        }
        let before = params.cursor.as_deref().map(decode).transpose()?;
        Ok(VersionPaging(VersionPage { limit, before }))
    }
}

fn decode(cursor: &str) -> ApiResult<u32> {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()
        .and_then(|bytes| bytes.strip_prefix(PREFIX).map(<[u8]>::to_vec))
        .and_then(|digits| String::from_utf8(digits).ok())
        .and_then(|digits| digits.parse().ok())
        .ok_or_else(|| ApiError::unprocessable("cursor is not one this API handed out"))
}

pub fn encode(version: u32) -> String {
    let mut bytes = PREFIX.to_vec();
    bytes.extend_from_slice(version.to_string().as_bytes());
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_strangers_are_refused() {
        for v in [1, 7, u32::MAX] {
            assert_eq!(decode(&encode(v)).ok(), Some(v));
        }
        for bad in ["", "x", "dmVyc2lvbjp4", "AAAAAAAAAAAAAAAAAAAAAA"] {
            assert!(decode(bad).is_err(), "{bad}");
        }
    }
}
