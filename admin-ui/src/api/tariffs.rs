//! `/tariffs`: the prices contracts bill by, the platform operator's alone. A tariff has a name
//! and a currency; its prices live in numbered versions, each taking effect at a date. A version
//! that is in effect or has billed an invoice never changes (409): prices change through a new
//! version with a future date. The latest version may be replaced while it is still unused.

use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::Json;
use chrono::{DateTime, NaiveDate, Utc};
use hotline_billing::money::Currency;
use hotline_billing::store::{StoredTariffVersion, Tariff};
use hotline_billing::tariff::{TariffId, TariffVersion};
use hotline_tenants::rbac::Action;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::extract::{json_error, ApiJson, ApiPath, PlatformCtx};
use crate::problem::{ApiError, ApiResult, Problem};
use crate::AppState;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TariffView {
    pub id: String,
    pub name: String,
    /// ISO 4217 code every version prices in.
    pub currency: String,
    pub created_at: DateTime<Utc>,
}

impl From<Tariff> for TariffView {
    fn from(tariff: Tariff) -> Self {
        Self {
            id: tariff.id.to_string(),
            name: tariff.name,
            currency: tariff.currency.code().to_owned(),
            created_at: tariff.created_at,
        }
    }
}

/// One version of a tariff, as billing stores it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TariffVersionView {
    pub tariff_id: String,
    pub version: u32,
    /// First local date (in each tenant's zone) the version prices.
    pub effective_from: NaiveDate,
    pub currency: String,
    /// Per metric: `rate_per_minute`, `increments` (`first_seconds`, `next_seconds`),
    /// `minimum_seconds`, `connect_fee`, time-of-day `bands`.
    #[schema(value_type = Vec<Object>)]
    pub metrics: Value,
    /// Included minutes per metric for a fixed fee per period.
    #[schema(value_type = Vec<Object>)]
    pub bundles: Value,
    /// Seat, number and platform fees per period, billed in advance.
    #[schema(value_type = Vec<Object>)]
    pub recurring: Value,
    /// A finalized invoice billed by it: it never changes again.
    pub billed: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl TariffVersionView {
    fn new(stored: StoredTariffVersion) -> ApiResult<Self> {
        let version = stored.version;
        let encode = |value: Result<Value, serde_json::Error>| {
            value.map_err(|err| {
                tracing::error!(error = %err, "cannot encode a tariff version");
                ApiError::internal()
            })
        };
        Ok(Self {
            tariff_id: version.tariff_id.to_string(),
            version: version.version,
            effective_from: version.effective_from,
            currency: version.currency.code().to_owned(),
            metrics: encode(serde_json::to_value(&version.metrics))?,
            bundles: encode(serde_json::to_value(&version.bundles))?,
            recurring: encode(serde_json::to_value(&version.recurring))?,
            billed: stored.billed,
            created_at: stored.created_at,
            updated_at: stored.updated_at,
        })
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TariffDetail {
    #[serde(flatten)]
    pub tariff: TariffView,
    /// Oldest first.
    pub versions: Vec<TariffVersionView>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TariffInput {
    pub name: String,
    /// ISO 4217 code, e.g. `EUR`, `JPY`.
    pub currency: String,
}

/// A version's prices; the tariff and currency come from the tariff it is added to.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TariffVersionInput {
    /// The next number: 1 for the first version, then one more than the latest.
    pub version: u32,
    /// Version 1 may take effect on any date; later ones after today everywhere.
    pub effective_from: NaiveDate,
    #[serde(default)]
    #[schema(value_type = Vec<Object>)]
    pub metrics: Value,
    #[serde(default)]
    #[schema(value_type = Vec<Object>)]
    pub bundles: Value,
    #[serde(default)]
    #[schema(value_type = Vec<Object>)]
    pub recurring: Value,
}

impl TariffVersionInput {
    /// The version as billing knows it, for `tariff`; shape errors are 422.
    fn into_version(self, tariff: &Tariff) -> ApiResult<TariffVersion> {
        let or_empty = |value: Value| if value.is_null() { json!([]) } else { value };
        serde_json::from_value(json!({
            "tariff_id": tariff.id,
            "version": self.version,
            "effective_from": self.effective_from,
            "currency": tariff.currency.code(),
            "metrics": or_empty(self.metrics),
            "bundles": or_empty(self.bundles),
            "recurring": or_empty(self.recurring),
        }))
        .map_err(json_error)
    }
}

#[utoipa::path(get, path = "/api/v1/tariffs", tag = "billing",
    responses((status = 200, body = Vec<TariffView>), (status = 401, body = Problem), (status = 403, body = Problem)))]
pub async fn list(
    State(state): State<AppState>,
    ctx: PlatformCtx,
) -> ApiResult<Json<Vec<TariffView>>> {
    ctx.caller.require(Action::TariffManage)?;
    let tariffs = state
        .billing
        .billing
        .store()
        .platform_list_tariffs(&ctx.scope)
        .await?;
    Ok(Json(tariffs.into_iter().map(TariffView::from).collect()))
}

#[utoipa::path(post, path = "/api/v1/tariffs", tag = "billing", request_body = TariffInput,
    responses((status = 201, body = TariffView, headers(("Location" = String))), (status = 400, body = Problem),
        (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn create(
    State(state): State<AppState>,
    ctx: PlatformCtx,
    ApiJson(input): ApiJson<TariffInput>,
) -> ApiResult<(StatusCode, HeaderMap, Json<TariffView>)> {
    ctx.caller.require(Action::TariffManage)?;
    let currency = Currency::from_code(&input.currency).map_err(|err| {
        ApiError::from(hotline_billing::BillingError::Invalid {
            field: "currency",
            reason: err.to_string(),
        })
    })?;
    let billing = &state.billing.billing;
    let tariff = billing
        .store()
        .platform_create_tariff(&ctx.scope, &input.name, currency, billing.now())
        .await?;
    let mut headers = HeaderMap::new();
    if let Ok(location) = HeaderValue::from_str(&format!("/api/v1/tariffs/{}", tariff.id)) {
        headers.insert(header::LOCATION, location);
    }
    Ok((StatusCode::CREATED, headers, Json(tariff.into())))
}

#[utoipa::path(get, path = "/api/v1/tariffs/{id}", tag = "billing", params(("id" = String, Path)),
    responses((status = 200, body = TariffDetail), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn get(
    State(state): State<AppState>,
    ctx: PlatformCtx,
    ApiPath(id): ApiPath<TariffId>,
) -> ApiResult<Json<TariffDetail>> {
    ctx.caller.require(Action::TariffManage)?;
    let store = state.billing.billing.store();
    let tariff = store.platform_tariff(&ctx.scope, id).await?;
    let versions = store
        .platform_tariff_versions(&ctx.scope, id)
        .await?
        .into_iter()
        .map(TariffVersionView::new)
        .collect::<ApiResult<_>>()?;
    Ok(Json(TariffDetail {
        tariff: tariff.into(),
        versions,
    }))
}

/// Add the next version. Its prices take effect at `effective_from`, never retroactively.
#[utoipa::path(post, path = "/api/v1/tariffs/{id}/versions", tag = "billing",
    params(("id" = String, Path)), request_body = TariffVersionInput,
    responses((status = 201, body = TariffVersionView), (status = 400, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn add_version(
    State(state): State<AppState>,
    ctx: PlatformCtx,
    ApiPath(id): ApiPath<TariffId>,
    ApiJson(input): ApiJson<TariffVersionInput>,
) -> ApiResult<(StatusCode, Json<TariffVersionView>)> {
    ctx.caller.require(Action::TariffManage)?;
    let billing = &state.billing.billing;
    let tariff = billing.store().platform_tariff(&ctx.scope, id).await?;
    let version = input.into_version(&tariff)?;
    let stored = billing
        .store()
        .platform_add_tariff_version(&ctx.scope, &version, billing.now())
        .await?;
    Ok((StatusCode::CREATED, Json(TariffVersionView::new(stored)?)))
}

/// Replace the latest version while nothing uses it yet (not in effect, nothing billed by it);
/// a used version is refused with 409.
#[utoipa::path(put, path = "/api/v1/tariffs/{id}/versions/{version}", tag = "billing",
    params(("id" = String, Path), ("version" = u32, Path)), request_body = TariffVersionInput,
    responses((status = 200, body = TariffVersionView), (status = 400, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn replace_version(
    State(state): State<AppState>,
    ctx: PlatformCtx,
    ApiPath((id, number)): ApiPath<(TariffId, u32)>,
    ApiJson(input): ApiJson<TariffVersionInput>,
) -> ApiResult<Json<TariffVersionView>> {
    ctx.caller.require(Action::TariffManage)?;
    if input.version != number {
        return Err(ApiError::from(hotline_billing::BillingError::Invalid {
            field: "version",
            reason: format!(
                "the body names version {}, the path {number}",
                input.version
            ),
        }));
    }
    let billing = &state.billing.billing;
    let tariff = billing.store().platform_tariff(&ctx.scope, id).await?;
    let version = input.into_version(&tariff)?;
    let stored = billing
        .store()
        .platform_replace_unused_tariff_version(&ctx.scope, &version, billing.now())
        .await?;
    Ok(Json(TariffVersionView::new(stored)?))
}

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(get))
        .routes(routes!(add_version))
        .routes(routes!(replace_version))
}
