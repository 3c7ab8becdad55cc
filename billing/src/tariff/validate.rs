//! Validation of tariff versions: everything rating relies on is checked here once, when a
//! version is accepted, so a stored version can always be rated. Errors name the metric, band or
//! fee at fault so an operator can fix the version without reading code.

use chrono::{NaiveDate, Weekday};
use rust_decimal::Decimal;

use super::{Band, Increments, RecurringKind, TariffId, TariffVersion, TimeOfDay, MAX_PRICE};
use crate::money::MAX_RATE_SCALE;
use crate::usage::Metric;

/// The longest billing increment or minimum accepted: a day.
const MAX_INCREMENT_SECONDS: u32 = 24 * 60 * 60;

/// Why a tariff version was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TariffError {
    #[error("versions are numbered from 1")]
    VersionZero,
    #[error("{metric} is priced twice")]
    DuplicateMetric { metric: Metric },
    #[error("{metric} has two bundles")]
    DuplicateBundle { metric: Metric },
    #[error("the bundle of {metric} is for a metric this version does not price")]
    BundleForUnpricedMetric { metric: Metric },
    #[error("the {kind} fee is listed twice")]
    DuplicateRecurringFee { kind: RecurringKind },
    #[error("{metric}: billing increments must be between 1 and {MAX_INCREMENT_SECONDS} seconds, got {first}/{next}")]
    InvalidIncrement {
        metric: Metric,
        first: u32,
        next: u32,
    },
    #[error(
        "{metric}: the minimum billable duration may be at most {MAX_INCREMENT_SECONDS} seconds"
    )]
    MinimumTooLong { metric: Metric },
    #[error("{what} is negative ({value})")]
    NegativePrice { what: String, value: Decimal },
    #[error("{what} has more than {MAX_RATE_SCALE} decimal places ({value})")]
    TooManyDecimals { what: String, value: Decimal },
    #[error("{what} is above the largest accepted price ({value})")]
    PriceTooLarge { what: String, value: Decimal },
    #[error("{metric}: band `{band}` is empty or runs backwards ({from}–{until}); split a band across midnight in two")]
    EmptyBand {
        metric: Metric,
        band: String,
        from: TimeOfDay,
        until: TimeOfDay,
    },
    #[error("{metric}: band `{band}` applies on no weekday")]
    BandWithoutDays { metric: Metric, band: String },
    #[error("{metric}: bands `{first}` and `{second}` overlap on {day}")]
    OverlappingBands {
        metric: Metric,
        first: String,
        second: String,
        day: Weekday,
    },
    #[error("version {next} belongs to tariff {next_tariff}, not {tariff}")]
    OtherTariff {
        tariff: TariffId,
        next_tariff: TariffId,
        next: u32,
    },
    #[error("the version after {previous} must be numbered {expected}, got {next}")]
    VersionOutOfSequence {
        previous: u32,
        expected: u32,
        next: u32,
    },
    #[error("a price change is never retroactive: version {next} takes effect {effective_from}, which is not after today ({today}) or is before the previous version ({previous_from})")]
    Retroactive {
        next: u32,
        effective_from: NaiveDate,
        today: NaiveDate,
        previous_from: NaiveDate,
    },
    #[error("the currency of a tariff cannot change between versions ({previous} to {next})")]
    CurrencyChanged {
        previous: &'static str,
        next: &'static str,
    },
}

impl TariffVersion {
    /// Checks everything rating and invoicing rely on.
    pub fn validate(&self) -> Result<(), TariffError> {
        if self.version == 0 {
            return Err(TariffError::VersionZero);
        }
        for (i, price) in self.metrics.iter().enumerate() {
            let metric = price.metric;
            if self.metrics[..i].iter().any(|p| p.metric == metric) {
                return Err(TariffError::DuplicateMetric { metric });
            }
            let Increments {
                first_seconds,
                next_seconds,
            } = price.increments;
            let in_range = |s: u32| (1..=MAX_INCREMENT_SECONDS).contains(&s);
            if !in_range(first_seconds) || !in_range(next_seconds) {
                return Err(TariffError::InvalidIncrement {
                    metric,
                    first: first_seconds,
                    next: next_seconds,
                });
            }
            if price.minimum_seconds > MAX_INCREMENT_SECONDS {
                return Err(TariffError::MinimumTooLong { metric });
            }
            check_price(&format!("{metric}: rate per minute"), price.rate_per_minute)?;
            check_price(&format!("{metric}: connect fee"), price.connect_fee)?;
            validate_bands(metric, &price.bands)?;
        }
        for (i, bundle) in self.bundles.iter().enumerate() {
            let metric = bundle.metric;
            if self.bundles[..i].iter().any(|b| b.metric == metric) {
                return Err(TariffError::DuplicateBundle { metric });
            }
            if self.price(metric).is_none() {
                return Err(TariffError::BundleForUnpricedMetric { metric });
            }
            check_price(&format!("{metric}: bundle fee"), bundle.period_fee)?;
        }
        for (i, fee) in self.recurring.iter().enumerate() {
            if self.recurring[..i].iter().any(|f| f.kind == fee.kind) {
                return Err(TariffError::DuplicateRecurringFee { kind: fee.kind });
            }
            check_price(&format!("{} fee", fee.kind), fee.price_per_period)?;
        }
        Ok(())
    }
}

fn check_price(what: &str, value: Decimal) -> Result<(), TariffError> {
    if value.is_sign_negative() && !value.is_zero() {
        return Err(TariffError::NegativePrice {
            what: what.to_owned(),
            value,
        });
    }
    if value.normalize().scale() > MAX_RATE_SCALE {
        return Err(TariffError::TooManyDecimals {
            what: what.to_owned(),
            value,
        });
    }
    if value > MAX_PRICE {
        return Err(TariffError::PriceTooLarge {
            what: what.to_owned(),
            value,
        });
    }
    Ok(())
}

fn validate_bands(metric: Metric, bands: &[Band]) -> Result<(), TariffError> {
    for (i, band) in bands.iter().enumerate() {
        if band.from >= band.until {
            return Err(TariffError::EmptyBand {
                metric,
                band: band.name.clone(),
                from: band.from,
                until: band.until,
            });
        }
        if band.days.is_empty() {
            return Err(TariffError::BandWithoutDays {
                metric,
                band: band.name.clone(),
            });
        }
        check_price(
            &format!("{metric}: rate of band `{}`", band.name),
            band.rate_per_minute,
        )?;
        for earlier in &bands[..i] {
            let overlapping_day = band.days.iter().find(|day| earlier.applies_on(**day));
            let times_overlap = band.from < earlier.until && earlier.from < band.until;
            if let (Some(&day), true) = (overlapping_day, times_overlap) {
                return Err(TariffError::OverlappingBands {
                    metric,
                    first: earlier.name.clone(),
                    second: band.name.clone(),
                    day,
                });
            }
        }
    }
    Ok(())
}

/// Checks that `next` may follow `previous` as a new version made on the local date `today`:
/// same tariff and currency, the next number, and no reach into the past — it takes effect
/// after today (calls of today may already be rated) and not before the previous version.
pub fn validate_successor(
    previous: &TariffVersion,
    next: &TariffVersion,
    today: NaiveDate,
) -> Result<(), TariffError> {
    next.validate()?;
    if next.tariff_id != previous.tariff_id {
        return Err(TariffError::OtherTariff {
            tariff: previous.tariff_id,
            next_tariff: next.tariff_id,
            next: next.version,
        });
    }
    let expected = previous.version.saturating_add(1);
    if next.version != expected {
        return Err(TariffError::VersionOutOfSequence {
            previous: previous.version,
            expected,
            next: next.version,
        });
    }
    if next.effective_from <= today || next.effective_from < previous.effective_from {
        return Err(TariffError::Retroactive {
            next: next.version,
            effective_from: next.effective_from,
            today,
            previous_from: previous.effective_from,
        });
    }
    if next.currency != previous.currency {
        return Err(TariffError::CurrencyChanged {
            previous: previous.currency.code(),
            next: next.currency.code(),
        });
    }
    Ok(())
}
