//! Tariffs and their numbered versions (platform operator).
//!
//! Decisions:
//! - A version is stored as the JSON of [`TariffVersion`], validated on the way in. Version 1
//!   may take effect on any date; every later one must be the next number, in the tariff's
//!   currency, and take effect after today ([`validate_successor`]): a price change is never
//!   retroactive.
//! - "Today" for a tariff, which many tenants in many zones may share, is the latest calendar
//!   date anywhere on Earth (UTC+14): a version that takes effect after it has priced nothing,
//!   anywhere.
//! - A version is *used* once it is in effect (its date is today or past) or a finalized invoice
//!   billed by it (`used_at`, set at finalization). A used version never changes; the latest
//!   version may be replaced while unused (a typo in next month's price), checked in the
//!   `UPDATE`'s filter and by a trigger.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use hotline_core::{db, time, PlatformScope};
use sqlx::any::AnyRow;

use super::rows::{self, date_to_db};
use super::BillingStore;
use crate::error::{BillingError, BillingResult};
use crate::money::Currency;
use crate::tariff::{validate_successor, TariffId, TariffVersion};

/// A tariff: a name and currency shared by its versions.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tariff {
    pub id: TariffId,
    pub name: String,
    pub currency: Currency,
    pub created_at: DateTime<Utc>,
}

/// A version as stored, with whether it may still change.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredTariffVersion {
    pub version: TariffVersion,
    /// A finalized invoice billed by it.
    pub billed: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// The latest calendar date anywhere on Earth at `now`.
pub(crate) fn latest_date_on_earth(now: DateTime<Utc>) -> NaiveDate {
    (now + Duration::hours(14)).date_naive()
}

fn tariff_from_row(row: &AnyRow) -> BillingResult<Tariff> {
    Ok(Tariff {
        id: rows::parsed(row, "id")?,
        name: rows::text(row, "name")?,
        currency: rows::parsed(row, "currency")?,
        created_at: rows::instant(row, "created_at")?,
    })
}

fn version_from_row(row: &AnyRow) -> BillingResult<StoredTariffVersion> {
    Ok(StoredTariffVersion {
        version: rows::json(row, "body")?,
        billed: rows::opt_int(row, "used_at")?.is_some(),
        created_at: rows::instant(row, "created_at")?,
        updated_at: rows::instant(row, "updated_at")?,
    })
}

impl BillingStore {
    pub async fn platform_create_tariff(
        &self,
        _scope: &PlatformScope,
        name: &str,
        currency: Currency,
        now: DateTime<Utc>,
    ) -> BillingResult<Tariff> {
        let name = name.trim();
        if name.is_empty() || name.len() > 200 {
            return Err(BillingError::invalid("name", "1 to 200 characters"));
        }
        let tariff = Tariff {
            id: TariffId::new(),
            name: name.to_owned(),
            currency,
            created_at: now,
        };
        sqlx::query(
            "INSERT INTO billing_tariffs (id, name, currency, created_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(tariff.id.to_string())
        .bind(&tariff.name)
        .bind(currency.code())
        .bind(time::to_millis(now))
        .execute(self.db.pool())
        .await?;
        Ok(tariff)
    }

    pub async fn platform_tariff(
        &self,
        _scope: &PlatformScope,
        id: TariffId,
    ) -> BillingResult<Tariff> {
        let row =
            sqlx::query("SELECT id, name, currency, created_at FROM billing_tariffs WHERE id = $1")
                .bind(id.to_string())
                .fetch_optional(self.db.pool())
                .await?
                .ok_or(BillingError::NotFound("tariff"))?;
        tariff_from_row(&row)
    }

    pub async fn platform_list_tariffs(
        &self,
        _scope: &PlatformScope,
    ) -> BillingResult<Vec<Tariff>> {
        sqlx::query("SELECT id, name, currency, created_at FROM billing_tariffs ORDER BY id")
            .fetch_all(self.db.pool())
            .await?
            .iter()
            .map(tariff_from_row)
            .collect()
    }

    /// All versions of a tariff, oldest first.
    pub async fn platform_tariff_versions(
        &self,
        _scope: &PlatformScope,
        id: TariffId,
    ) -> BillingResult<Vec<StoredTariffVersion>> {
        sqlx::query(
            "SELECT body, used_at, created_at, updated_at FROM billing_tariff_versions
             WHERE tariff_id = $1 ORDER BY version",
        )
        .bind(id.to_string())
        .fetch_all(self.db.pool())
        .await?
        .iter()
        .map(version_from_row)
        .collect()
    }

    /// Stores the next version of a tariff (see the module docs for what is accepted).
    pub async fn platform_add_tariff_version(
        &self,
        scope: &PlatformScope,
        version: &TariffVersion,
        now: DateTime<Utc>,
    ) -> BillingResult<StoredTariffVersion> {
        let tariff = self.platform_tariff(scope, version.tariff_id).await?;
        check_currency(&tariff, version)?;
        let versions = self.platform_tariff_versions(scope, tariff.id).await?;
        match versions.last() {
            Some(previous) => {
                validate_successor(&previous.version, version, latest_date_on_earth(now))?
            }
            None if version.version == 1 => version.validate()?,
            None => {
                return Err(BillingError::invalid(
                    "version",
                    format!("the first version is numbered 1, got {}", version.version),
                ))
            }
        }
        let body = serde_json::to_string(version)?;
        let inserted = sqlx::query(
            "INSERT INTO billing_tariff_versions (tariff_id, version, effective_from, body, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $5)",
        )
        .bind(tariff.id.to_string())
        .bind(i64::from(version.version))
        .bind(date_to_db(version.effective_from))
        .bind(body)
        .bind(time::to_millis(now))
        .execute(self.db.pool())
        .await;
        match inserted {
            Ok(_) => Ok(StoredTariffVersion {
                version: version.clone(),
                billed: false,
                created_at: now,
                updated_at: now,
            }),
            Err(err) if db::is_unique_violation(&err) => {
                Err(BillingError::VersionConflict { tariff: tariff.id })
            }
            Err(err) => Err(err.into()),
        }
    }

    /// Replaces the latest version while it is unused: not yet in effect anywhere and billed by
    /// no finalized invoice.
    pub async fn platform_replace_unused_tariff_version(
        &self,
        scope: &PlatformScope,
        version: &TariffVersion,
        now: DateTime<Utc>,
    ) -> BillingResult<StoredTariffVersion> {
        let tariff = self.platform_tariff(scope, version.tariff_id).await?;
        check_currency(&tariff, version)?;
        let versions = self.platform_tariff_versions(scope, tariff.id).await?;
        let Some(latest) = versions.last() else {
            return Err(BillingError::NotFound("tariff version"));
        };
        if latest.version.version != version.version {
            return Err(BillingError::VersionInUse {
                tariff: tariff.id,
                version: version.version,
            });
        }
        let today = latest_date_on_earth(now);
        if latest.billed || latest.version.effective_from <= today {
            return Err(BillingError::VersionInUse {
                tariff: tariff.id,
                version: version.version,
            });
        }
        match versions.len().checked_sub(2).map(|i| &versions[i]) {
            Some(previous) => validate_successor(&previous.version, version, today)?,
            None => version.validate()?,
        }
        let body = serde_json::to_string(version)?;
        let today_text = date_to_db(today);
        let updated = sqlx::query(
            "UPDATE billing_tariff_versions SET body = $1, effective_from = $2, updated_at = $3
             WHERE tariff_id = $4 AND version = $5 AND used_at IS NULL AND effective_from > $6",
        )
        .bind(body)
        .bind(date_to_db(version.effective_from))
        .bind(time::to_millis(now))
        .bind(tariff.id.to_string())
        .bind(i64::from(version.version))
        .bind(today_text)
        .execute(self.db.pool())
        .await?;
        if updated.rows_affected() != 1 {
            return Err(BillingError::VersionInUse {
                tariff: tariff.id,
                version: version.version,
            });
        }
        Ok(StoredTariffVersion {
            version: version.clone(),
            billed: false,
            created_at: latest.created_at,
            updated_at: now,
        })
    }
}

fn check_currency(tariff: &Tariff, version: &TariffVersion) -> BillingResult<()> {
    if version.currency != tariff.currency {
        return Err(BillingError::invalid(
            "currency",
            format!(
                "tariff {} bills in {}, the version says {}",
                tariff.id, tariff.currency, version.currency
            ),
        ));
    }
    Ok(())
}
