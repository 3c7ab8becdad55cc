//! `/tenants/{tenant_id}/billing/contract`: which tariff a tenant is billed by, from which local
//! date, until when. The platform operator sets it: `PUT` makes it (201), and afterwards may only
//! end it (`ends_on`, a date after today): its tariff and start never change — prices change
//! through the tariff's versions. The tenant's admins and billing viewers read it.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use chrono::NaiveDate;
use hotline_billing::store::Contract;
use hotline_billing::tariff::TariffId;
use hotline_billing::BillingError;
use hotline_tenants::rbac::Action;
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::extract::{ApiJson, TenantCtx};
use crate::problem::{ApiError, ApiResult, Problem};
use crate::AppState;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ContractView {
    pub id: String,
    pub tenant_id: String,
    pub tariff_id: String,
    /// First local date billed.
    pub starts_on: NaiveDate,
    /// First local date no longer billed.
    pub ends_on: Option<NaiveDate>,
}

impl From<Contract> for ContractView {
    fn from(contract: Contract) -> Self {
        Self {
            id: contract.id.to_string(),
            tenant_id: contract.tenant_id.to_string(),
            tariff_id: contract.tariff_id.to_string(),
            starts_on: contract.starts_on,
            ends_on: contract.ends_on,
        }
    }
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ContractInput {
    #[schema(value_type = String)]
    pub tariff_id: TariffId,
    pub starts_on: NaiveDate,
    #[serde(default)]
    pub ends_on: Option<NaiveDate>,
}

#[utoipa::path(get, path = "/api/v1/tenants/{tenant_id}/billing/contract", tag = "billing",
    params(("tenant_id" = String, Path)),
    responses((status = 200, body = ContractView), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn get(State(state): State<AppState>, ctx: TenantCtx) -> ApiResult<Json<ContractView>> {
    ctx.require(Action::BillingRead)?;
    let contract = state.billing.billing.store().contract(&ctx.scope).await?;
    Ok(Json(contract.into()))
}

/// Make the tenant's contract (201), or end it (200): the same tariff and start with an
/// `ends_on`. Anything else about an existing contract is refused (409).
#[utoipa::path(put, path = "/api/v1/tenants/{tenant_id}/billing/contract", tag = "billing",
    params(("tenant_id" = String, Path)), request_body = ContractInput,
    responses((status = 200, body = ContractView), (status = 201, body = ContractView), (status = 400, body = Problem),
        (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn put(
    State(state): State<AppState>,
    ctx: TenantCtx,
    ApiJson(input): ApiJson<ContractInput>,
) -> ApiResult<(StatusCode, Json<ContractView>)> {
    ctx.require(Action::BillingManage)?;
    let billing = &state.billing.billing;
    let platform = ctx
        .caller
        .0
        .platform_scope()
        .ok_or_else(|| ApiError::forbidden("only the platform operator may do this"))?;
    let tenant = ctx.scope.tenant_id();
    let current = match billing.store().contract(&ctx.scope).await {
        Ok(contract) => Some(contract),
        Err(BillingError::NotFound(_)) => None,
        Err(err) => return Err(err.into()),
    };
    let Some(current) = current else {
        let contract = billing
            .store()
            .platform_create_contract(
                &platform,
                tenant,
                input.tariff_id,
                input.starts_on,
                input.ends_on,
                billing.now(),
            )
            .await?;
        return Ok((StatusCode::CREATED, Json(contract.into())));
    };
    if current.tariff_id != input.tariff_id || current.starts_on != input.starts_on {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "conflict",
            "Conflict",
            "a contract's tariff and start never change: change prices with a new tariff version, \
             or end this contract",
        ));
    }
    match input.ends_on {
        Some(end) if current.ends_on != Some(end) => {
            let contract = billing
                .store()
                .platform_end_contract(&platform, tenant, end, billing.now())
                .await?;
            Ok((StatusCode::OK, Json(contract.into())))
        }
        Some(_) => Ok((StatusCode::OK, Json(current.into()))),
        None if current.ends_on.is_none() => Ok((StatusCode::OK, Json(current.into()))),
        None => Err(ApiError::new(
            StatusCode::CONFLICT,
            "conflict",
            "Conflict",
            "a contract's end date, once set, is not taken back",
        )),
    }
}

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(get, put))
}
