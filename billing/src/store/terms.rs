//! A tenant's billing terms as one value: account, contract and the contract's tariff versions,
//! read together so ingestion, closing and rerating decide from the same facts.

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use hotline_core::ids::TenantId;
use sqlx::AnyConnection;

use super::accounts::{load_account, load_contract, Account, Contract};
use super::rows;
use crate::cycle::BillingCycle;
use crate::error::{BillingError, BillingResult};
use crate::invoice_calc::BillingAccount;
use crate::metering::MetricSet;
use crate::period::{start_of_local_day, BillingPeriod};
use crate::recurring::ContractTerm;
use crate::tariff::{TariffSchedule, TariffVersion};
use crate::usage::Metric;

pub(crate) struct TenantTerms {
    pub account: Account,
    pub contract: Contract,
    pub schedule: TariffSchedule,
}

/// What a tenant lacks to be billed at all.
pub(crate) enum MissingTerms {
    Account,
    Contract,
}

impl TenantTerms {
    pub fn zone(&self) -> Tz {
        self.account.settings.time_zone
    }

    pub fn cycle(&self) -> BillingResult<BillingCycle> {
        self.account.settings.cycle()
    }

    /// Every metric some version of the contract's tariff bills: usage is stored for these, and
    /// the version in effect on the call's date decides whether it is billed.
    pub fn metered(&self) -> MetricSet {
        self.schedule
            .versions()
            .iter()
            .flat_map(|version| version.metrics.iter().map(|price| price.metric))
            .collect()
    }

    pub fn contract_term(&self) -> ContractTerm {
        ContractTerm {
            start: self.contract.starts_on,
            end: self.contract.ends_on,
        }
    }

    pub fn covers(&self, date: NaiveDate) -> bool {
        self.contract.starts_on <= date && self.contract.ends_on.is_none_or(|end| date < end)
    }

    /// Whether a usage that started on the local date `started_on` is billed: the contract
    /// covers the date and the version in effect then prices the metric.
    pub fn bills(&self, metric: Metric, started_on: NaiveDate) -> bool {
        self.covers(started_on)
            && self
                .schedule
                .in_effect_on(started_on)
                .is_some_and(|version| version.price(metric).is_some())
    }

    pub fn billing_account(&self) -> BillingAccount {
        BillingAccount {
            currency: self.account.settings.currency,
            tax_rate: self.account.settings.tax_rate,
            contract: self.contract_term(),
        }
    }

    pub fn local_date(&self, at: DateTime<Utc>) -> NaiveDate {
        at.with_timezone(&self.zone()).date_naive()
    }

    /// The UTC instant a period's first local day begins (`start`) or its last ends (`end`).
    pub fn instant_of(&self, date: NaiveDate) -> BillingResult<DateTime<Utc>> {
        start_of_local_day(self.zone(), date).ok_or_else(|| {
            BillingError::Corrupt(format!("the local date {date} cannot be placed in time"))
        })
    }

    pub fn period_containing(&self, date: NaiveDate) -> BillingResult<BillingPeriod> {
        self.cycle()?
            .period_containing(date)
            .ok_or_else(|| BillingError::Corrupt(format!("no billing period contains {date}")))
    }
}

pub(crate) async fn load_terms(
    conn: &mut AnyConnection,
    tenant_id: TenantId,
) -> BillingResult<Result<TenantTerms, MissingTerms>> {
    let Some(account) = load_account(conn, tenant_id).await? else {
        return Ok(Err(MissingTerms::Account));
    };
    let Some(contract) = load_contract(conn, tenant_id).await? else {
        return Ok(Err(MissingTerms::Contract));
    };
    let versions: Vec<TariffVersion> = sqlx::query(
        "SELECT body FROM billing_tariff_versions WHERE tariff_id = $1 ORDER BY version",
    )
    .bind(contract.tariff_id.to_string())
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(|row| rows::json(row, "body"))
    .collect::<BillingResult<_>>()?;
    let schedule = TariffSchedule::new(versions)?;
    Ok(Ok(TenantTerms {
        account,
        contract,
        schedule,
    }))
}

/// The terms, or an error saying which part is missing.
pub(crate) async fn require_terms(
    conn: &mut AnyConnection,
    tenant_id: TenantId,
) -> BillingResult<TenantTerms> {
    match load_terms(conn, tenant_id).await? {
        Ok(terms) => Ok(terms),
        Err(MissingTerms::Account) => Err(BillingError::NotFound("billing account")),
        Err(MissingTerms::Contract) => Err(BillingError::NotFound("contract")),
    }
}
