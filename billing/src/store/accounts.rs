//! Billing accounts (one per tenant: who is invoiced, in which currency, zone and cycle) and
//! contracts (one per tenant: which tariff, from which local date).
//!
//! Decisions:
//! - Currency, billing day and time zone fix the periods and the amounts of every invoice, so
//!   they may change only before the tenant's first invoice exists. Name, e-mail, tax rate and
//!   grace period may change at any time and apply to invoices finalized afterwards (a finalized
//!   invoice keeps the terms it was computed under in its content).
//! - A contract names one tariff; prices change only through that tariff's versions. A contract
//!   may be ended, at a date after today in the tenant's zone, never before it started.
//! - The provider's customer id is written only by the outbox, once the provider made it.

use std::time::Duration;

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use hotline_core::ids::TenantId;
use hotline_core::{db, time, PlatformScope, TenantScope};
use rust_decimal::Decimal;
use sqlx::any::AnyRow;
use sqlx::AnyConnection;

use super::rows::{self, date_to_db};
use super::BillingStore;
use crate::cycle::BillingCycle;
use crate::error::{BillingError, BillingResult};
use crate::ids::{AccountId, ContractId};
use crate::money::{Currency, MAX_RATE_SCALE};
use crate::tariff::TariffId;

/// The longest grace period for late call records after a period ends.
const MAX_GRACE: Duration = Duration::from_secs(31 * 24 * 60 * 60);

/// What the operator sets on a billing account.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccountSettings {
    /// The client company's legal name, printed on invoices.
    pub name: String,
    pub email: Option<String>,
    pub currency: Currency,
    /// E.g. 0.20 for 20 % VAT; `None` when not taxed here.
    pub tax_rate: Option<Decimal>,
    /// 1..=31; see [`BillingCycle`].
    pub billing_day: u32,
    pub time_zone: Tz,
    /// How long after a period ends late call records still land on its invoice.
    pub grace_period: Duration,
}

impl AccountSettings {
    fn validate(&self) -> BillingResult<()> {
        let name = self.name.trim();
        if name.is_empty() || name.len() > 200 {
            return Err(BillingError::invalid("name", "1 to 200 characters"));
        }
        if let Some(email) = &self.email {
            if email.len() > 254 || !email.contains('@') {
                return Err(BillingError::invalid("email", "an e-mail address"));
            }
        }
        if let Some(rate) = self.tax_rate {
            let negative = rate.is_sign_negative() && !rate.is_zero();
            if negative || rate > Decimal::ONE || rate.normalize().scale() > MAX_RATE_SCALE {
                return Err(BillingError::invalid(
                    "tax_rate",
                    format!("between 0 and 1 with at most {MAX_RATE_SCALE} decimal places"),
                ));
            }
        }
        BillingCycle::new(self.billing_day)?;
        if self.grace_period > MAX_GRACE {
            return Err(BillingError::invalid("grace_period", "at most 31 days"));
        }
        Ok(())
    }

    pub(crate) fn cycle(&self) -> BillingResult<BillingCycle> {
        Ok(BillingCycle::new(self.billing_day)?)
    }

    pub(crate) fn grace_ms(&self) -> i64 {
        i64::try_from(self.grace_period.as_millis()).unwrap_or(i64::MAX)
    }
}

/// A tenant's billing account.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Account {
    pub id: AccountId,
    pub tenant_id: TenantId,
    pub settings: AccountSettings,
    /// The payment provider's customer, once the outbox made or found it.
    pub provider_customer_id: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A tenant's contract.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Contract {
    pub id: ContractId,
    pub tenant_id: TenantId,
    pub tariff_id: TariffId,
    /// First local date billed.
    pub starts_on: NaiveDate,
    /// First local date no longer billed.
    pub ends_on: Option<NaiveDate>,
}

pub(crate) const ACCOUNT_COLUMNS: &str = "id, tenant_id, name, email, currency, tax_rate, billing_day, time_zone, grace_ms, stripe_customer_id, created_at, updated_at";

pub(crate) fn account_from_row(row: &AnyRow) -> BillingResult<Account> {
    let grace_ms = rows::int(row, "grace_ms")?;
    Ok(Account {
        id: rows::parsed(row, "id")?,
        tenant_id: rows::parsed(row, "tenant_id")?,
        settings: AccountSettings {
            name: rows::text(row, "name")?,
            email: rows::opt_text(row, "email")?,
            currency: rows::parsed(row, "currency")?,
            tax_rate: rows::opt_decimal(row, "tax_rate")?,
            billing_day: u32::try_from(rows::int(row, "billing_day")?)
                .map_err(|e| BillingError::Corrupt(format!("billing_day: {e}")))?,
            time_zone: rows::zone(row, "time_zone")?,
            grace_period: Duration::from_millis(u64::try_from(grace_ms).unwrap_or(0)),
        },
        provider_customer_id: rows::opt_text(row, "stripe_customer_id")?,
        created_at: rows::instant(row, "created_at")?,
        updated_at: rows::instant(row, "updated_at")?,
    })
}

pub(crate) const CONTRACT_COLUMNS: &str = "id, tenant_id, tariff_id, starts_on, ends_on";

pub(crate) fn contract_from_row(row: &AnyRow) -> BillingResult<Contract> {
    Ok(Contract {
        id: rows::parsed(row, "id")?,
        tenant_id: rows::parsed(row, "tenant_id")?,
        tariff_id: rows::parsed(row, "tariff_id")?,
        starts_on: rows::date(row, "starts_on")?,
        ends_on: rows::opt_date(row, "ends_on")?,
    })
}

pub(crate) async fn load_account(
    conn: &mut AnyConnection,
    tenant_id: TenantId,
) -> BillingResult<Option<Account>> {
    let sql = format!("SELECT {ACCOUNT_COLUMNS} FROM billing_accounts WHERE tenant_id = $1");
    sqlx::query(&sql)
        .bind(tenant_id.to_db())
        .fetch_optional(conn)
        .await?
        .as_ref()
        .map(account_from_row)
        .transpose()
}

pub(crate) async fn load_contract(
    conn: &mut AnyConnection,
    tenant_id: TenantId,
) -> BillingResult<Option<Contract>> {
    let sql = format!("SELECT {CONTRACT_COLUMNS} FROM billing_contracts WHERE tenant_id = $1");
    sqlx::query(&sql)
        .bind(tenant_id.to_db())
        .fetch_optional(conn)
        .await?
        .as_ref()
        .map(contract_from_row)
        .transpose()
}

impl BillingStore {
    pub async fn platform_create_account(
        &self,
        _scope: &PlatformScope,
        tenant_id: TenantId,
        settings: AccountSettings,
        now: DateTime<Utc>,
    ) -> BillingResult<Account> {
        settings.validate()?;
        let account = Account {
            id: AccountId::new(),
            tenant_id,
            settings,
            provider_customer_id: None,
            created_at: now,
            updated_at: now,
        };
        let s = &account.settings;
        let inserted = sqlx::query(
            "INSERT INTO billing_accounts (id, tenant_id, name, email, currency, tax_rate, billing_day, time_zone, grace_ms, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10)",
        )
        .bind(account.id.to_db())
        .bind(tenant_id.to_db())
        .bind(s.name.trim().to_owned())
        .bind(s.email.clone())
        .bind(s.currency.code())
        .bind(s.tax_rate.map(|rate| rate.to_string()))
        .bind(i64::from(s.billing_day))
        .bind(s.time_zone.name())
        .bind(s.grace_ms())
        .bind(time::to_millis(now))
        .execute(self.db.pool())
        .await;
        match inserted {
            Ok(_) => Ok(account),
            Err(err) if db::is_unique_violation(&err) => {
                Err(BillingError::AlreadyExists("billing account"))
            }
            Err(err) => Err(err.into()),
        }
    }

    /// Changes an account's settings; currency, billing day and zone only before its first
    /// invoice.
    pub async fn platform_update_account(
        &self,
        scope: &PlatformScope,
        tenant_id: TenantId,
        settings: AccountSettings,
        now: DateTime<Utc>,
    ) -> BillingResult<Account> {
        settings.validate()?;
        let mut tx = self.db.begin().await?;
        let before = load_account(&mut tx, tenant_id)
            .await?
            .ok_or(BillingError::NotFound("billing account"))?;
        let fixed_changed = before.settings.currency != settings.currency
            || before.settings.billing_day != settings.billing_day
            || before.settings.time_zone != settings.time_zone;
        if fixed_changed {
            let row =
                sqlx::query("SELECT COUNT(*) AS n FROM billing_invoices WHERE tenant_id = $1")
                    .bind(tenant_id.to_db())
                    .fetch_one(&mut *tx)
                    .await?;
            if rows::count(&row)? > 0 {
                return Err(BillingError::invalid(
                    "settings",
                    "currency, billing day and time zone cannot change once the tenant has invoices",
                ));
            }
        }
        if before.settings.currency != settings.currency {
            if let Some(contract) = load_contract(&mut tx, tenant_id).await? {
                let tariff = self.platform_tariff(scope, contract.tariff_id).await?;
                if tariff.currency != settings.currency {
                    return Err(BillingError::invalid(
                        "currency",
                        format!("the contract's tariff bills in {}", tariff.currency),
                    ));
                }
            }
        }
        sqlx::query(
            "UPDATE billing_accounts SET name = $1, email = $2, currency = $3, tax_rate = $4, billing_day = $5,
                 time_zone = $6, grace_ms = $7, updated_at = $8
             WHERE tenant_id = $9",
        )
        .bind(settings.name.trim().to_owned())
        .bind(settings.email.clone())
        .bind(settings.currency.code())
        .bind(settings.tax_rate.map(|rate| rate.to_string()))
        .bind(i64::from(settings.billing_day))
        .bind(settings.time_zone.name())
        .bind(settings.grace_ms())
        .bind(time::to_millis(now))
        .bind(tenant_id.to_db())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        self.account(&scope.tenant(tenant_id)).await
    }

    pub async fn account(&self, scope: &TenantScope) -> BillingResult<Account> {
        let mut conn = self.db.pool().acquire().await?;
        load_account(&mut conn, scope.tenant_id())
            .await?
            .ok_or(BillingError::NotFound("billing account"))
    }

    pub async fn platform_create_contract(
        &self,
        scope: &PlatformScope,
        tenant_id: TenantId,
        tariff_id: TariffId,
        starts_on: NaiveDate,
        ends_on: Option<NaiveDate>,
        now: DateTime<Utc>,
    ) -> BillingResult<Contract> {
        let account = self.account(&scope.tenant(tenant_id)).await?;
        let tariff = self.platform_tariff(scope, tariff_id).await?;
        if tariff.currency != account.settings.currency {
            return Err(BillingError::invalid(
                "tariff",
                format!(
                    "the tariff bills in {}, the account in {}",
                    tariff.currency, account.settings.currency
                ),
            ));
        }
        if ends_on.is_some_and(|end| end <= starts_on) {
            return Err(BillingError::invalid("ends_on", "after the start"));
        }
        let contract = Contract {
            id: ContractId::new(),
            tenant_id,
            tariff_id,
            starts_on,
            ends_on,
        };
        let inserted = sqlx::query(
            "INSERT INTO billing_contracts (id, tenant_id, tariff_id, starts_on, ends_on, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $6)",
        )
        .bind(contract.id.to_db())
        .bind(tenant_id.to_db())
        .bind(tariff_id.to_string())
        .bind(date_to_db(starts_on))
        .bind(ends_on.map(date_to_db))
        .bind(time::to_millis(now))
        .execute(self.db.pool())
        .await;
        match inserted {
            Ok(_) => Ok(contract),
            Err(err) if db::is_unique_violation(&err) => {
                Err(BillingError::AlreadyExists("contract"))
            }
            Err(err) => Err(err.into()),
        }
    }

    /// Ends the contract at `ends_on` (first local date no longer billed), which must be after
    /// today in the tenant's zone: what was billed stays billed.
    pub async fn platform_end_contract(
        &self,
        scope: &PlatformScope,
        tenant_id: TenantId,
        ends_on: NaiveDate,
        now: DateTime<Utc>,
    ) -> BillingResult<Contract> {
        let tenant = scope.tenant(tenant_id);
        let account = self.account(&tenant).await?;
        let contract = self.contract(&tenant).await?;
        let today = now.with_timezone(&account.settings.time_zone).date_naive();
        if ends_on <= today || ends_on <= contract.starts_on {
            return Err(BillingError::invalid(
                "ends_on",
                format!("after today ({today}) and after the contract's start"),
            ));
        }
        if contract.ends_on.is_some_and(|end| end <= today) {
            return Err(BillingError::invalid(
                "ends_on",
                "the contract has already ended",
            ));
        }
        sqlx::query(
            "UPDATE billing_contracts SET ends_on = $1, updated_at = $2 WHERE tenant_id = $3",
        )
        .bind(date_to_db(ends_on))
        .bind(time::to_millis(now))
        .bind(tenant_id.to_db())
        .execute(self.db.pool())
        .await?;
        Ok(Contract {
            ends_on: Some(ends_on),
            ..contract
        })
    }

    pub async fn contract(&self, scope: &TenantScope) -> BillingResult<Contract> {
        let mut conn = self.db.pool().acquire().await?;
        load_contract(&mut conn, scope.tenant_id())
            .await?
            .ok_or(BillingError::NotFound("contract"))
    }
}
