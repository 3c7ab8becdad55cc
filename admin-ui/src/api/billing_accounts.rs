//! `/tenants/{tenant_id}/billing/account`: who is invoiced for a tenant, in which currency,
//! time zone and billing cycle. The platform operator sets it (`PUT` creates or changes it);
//! the tenant's admins and billing viewers read it. Currency, billing day and time zone can no
//! longer change once the tenant has an invoice (422, the store says why).

use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use hotline_billing::money::Currency;
use hotline_billing::store::{Account, AccountSettings};
use hotline_billing::BillingError;
use hotline_tenants::rbac::Action;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::extract::{ApiJson, TenantCtx};
use crate::problem::{ApiError, ApiResult, Problem};
use crate::AppState;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AccountView {
    pub id: String,
    pub tenant_id: String,
    /// The client company's legal name, printed on invoices.
    pub name: String,
    pub email: Option<String>,
    pub currency: String,
    /// E.g. `"0.20"` for 20 % VAT; absent when not taxed here.
    pub tax_rate: Option<String>,
    /// Day of the month periods start on (1..=31; short months start on their last day).
    pub billing_day: u32,
    pub time_zone: String,
    /// How long after a period ends late call records still land on its invoice.
    pub grace_period_secs: u64,
    /// The payment provider's customer, once billing synced one.
    pub provider_customer_id: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<Account> for AccountView {
    fn from(account: Account) -> Self {
        let s = account.settings;
        Self {
            id: account.id.to_string(),
            tenant_id: account.tenant_id.to_string(),
            name: s.name,
            email: s.email,
            currency: s.currency.code().to_owned(),
            tax_rate: s.tax_rate.map(|rate| rate.to_string()),
            billing_day: s.billing_day,
            time_zone: s.time_zone.name().to_owned(),
            grace_period_secs: s.grace_period.as_secs(),
            provider_customer_id: account.provider_customer_id,
            created_at: account.created_at,
            updated_at: account.updated_at,
        }
    }
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AccountInput {
    pub name: String,
    #[serde(default)]
    pub email: Option<String>,
    /// ISO 4217 code; must match the contract's tariff.
    pub currency: String,
    /// A decimal string between "0" and "1", e.g. "0.20".
    #[serde(default)]
    pub tax_rate: Option<String>,
    /// 1..=31 (default 1).
    #[serde(default = "first_day")]
    pub billing_day: u32,
    /// IANA zone periods and time bands are local to, e.g. `Europe/Bratislava`.
    pub time_zone: String,
    /// Default: the installation's `billing.grace_period_hours`.
    #[serde(default)]
    pub grace_period_secs: Option<u64>,
}

fn first_day() -> u32 {
    1
}

fn invalid(field: &'static str, reason: impl Into<String>) -> ApiError {
    BillingError::Invalid {
        field,
        reason: reason.into(),
    }
    .into()
}

impl AccountInput {
    fn settings(self, default_grace: Duration) -> ApiResult<AccountSettings> {
        let currency = Currency::from_code(&self.currency)
            .map_err(|err| invalid("currency", err.to_string()))?;
        let tax_rate = self
            .tax_rate
            .map(|rate| {
                rate.trim()
                    .parse::<Decimal>()
                    .map_err(|_| invalid("tax_rate", "a decimal number such as \"0.20\""))
            })
            .transpose()?;
        let time_zone: Tz = self
            .time_zone
            .parse()
            .map_err(|_| invalid("time_zone", "an IANA time zone such as Europe/Bratislava"))?;
        Ok(AccountSettings {
            name: self.name,
            email: self.email,
            currency,
            tax_rate,
            billing_day: self.billing_day,
            time_zone,
            grace_period: self
                .grace_period_secs
                .map_or(default_grace, Duration::from_secs),
        })
    }
}

#[utoipa::path(get, path = "/api/v1/tenants/{tenant_id}/billing/account", tag = "billing",
    params(("tenant_id" = String, Path)),
    responses((status = 200, body = AccountView), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn get(State(state): State<AppState>, ctx: TenantCtx) -> ApiResult<Json<AccountView>> {
    ctx.require(Action::BillingRead)?;
    let account = state.billing.billing.store().account(&ctx.scope).await?;
    Ok(Json(account.into()))
}

/// Create the tenant's billing account (201) or change it (200).
#[utoipa::path(put, path = "/api/v1/tenants/{tenant_id}/billing/account", tag = "billing",
    params(("tenant_id" = String, Path)), request_body = AccountInput,
    responses((status = 200, body = AccountView), (status = 201, body = AccountView), (status = 400, body = Problem),
        (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn put(
    State(state): State<AppState>,
    ctx: TenantCtx,
    ApiJson(input): ApiJson<AccountInput>,
) -> ApiResult<(StatusCode, Json<AccountView>)> {
    ctx.require(Action::BillingManage)?;
    let billing = &state.billing.billing;
    let settings = input.settings(state.billing.default_grace)?;
    let platform = ctx
        .caller
        .0
        .platform_scope()
        .ok_or_else(|| ApiError::forbidden("only the platform operator may do this"))?;
    let tenant = ctx.scope.tenant_id();
    let exists = match billing.store().account(&ctx.scope).await {
        Ok(_) => true,
        Err(BillingError::NotFound(_)) => false,
        Err(err) => return Err(err.into()),
    };
    if exists {
        let account = billing
            .store()
            .platform_update_account(&platform, tenant, settings, billing.now())
            .await?;
        return Ok((StatusCode::OK, Json(account.into())));
    }
    let account = billing
        .store()
        .platform_create_account(&platform, tenant, settings, billing.now())
        .await?;
    Ok((StatusCode::CREATED, Json(account.into())))
}

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(get, put))
}
