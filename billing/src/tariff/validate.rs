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

/// Bands per metric: rated pieces index them with a `u16`, and no real tariff needs more than a
/// handful.
pub const MAX_BANDS: usize = 64;

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
    #[error("{metric}: at most {MAX_BANDS} bands, got {count}")]
    TooManyBands { metric: Metric, count: usize },
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
    if bands.len() > MAX_BANDS {
        return Err(TariffError::TooManyBands {
            metric,
            count: bands.len(),
        });
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tariff::MetricPrice;

    fn version_json(metrics: serde_json::Value) -> TariffVersion {
        serde_json::from_value(serde_json::json!({
            "tariff_id": "0190c3e0-0000-7000-8000-000000000001",
            "version": 1, "effective_from": "2025-01-01", "currency": "EUR",
            "metrics": metrics
        }))
        .unwrap()
    }

    fn inbound(rate: &str, bands: serde_json::Value) -> serde_json::Value {
        serde_json::json!([{
            "metric": "inbound_minutes", "rate_per_minute": rate,
            "increments": {"first_seconds": 60, "next_seconds": 60},
            "bands": bands
        }])
    }

    fn band(name: &str, days: &[&str], from: &str, until: &str) -> serde_json::Value {
        serde_json::json!({"name": name, "days": days, "from": from, "until": until, "rate_per_minute": "0.01"})
    }

    #[test]
    fn a_valid_version_round_trips_through_json() {
        let version = version_json(inbound(
            "0.000000001",
            serde_json::json!([
                band("Night", &["Mon"], "00:00", "06:00"),
                band("Late", &["Mon"], "22:00", "24:00"),
                band("Day", &["Mon", "Tue"], "06:00", "22:00"),
            ]),
        ));
        assert_eq!(version.validate(), Ok(()));
        let text = serde_json::to_string(&version).unwrap();
        assert!(
            text.contains(r#""rate_per_minute":"0.000000001""#),
            "{text}"
        );
        assert!(text.contains(r#""until":"24:00""#), "{text}");
        let back: TariffVersion = serde_json::from_str(&text).unwrap();
        assert_eq!(back, version);
    }

    #[test]
    fn overlapping_bands_are_refused_naming_both_and_the_day() {
        let version = version_json(inbound(
            "0.02",
            serde_json::json!([
                band("Peak", &["Mon", "Tue"], "08:00", "18:00"),
                band("Evening", &["Tue"], "17:30", "22:00"),
            ]),
        ));
        assert_eq!(
            version.validate(),
            Err(TariffError::OverlappingBands {
                metric: Metric::InboundMinutes,
                first: "Peak".into(),
                second: "Evening".into(),
                day: Weekday::Tue,
            })
        );
    }

    #[test]
    fn touching_bands_and_same_hours_on_other_days_are_fine() {
        let version = version_json(inbound(
            "0.02",
            serde_json::json!([
                band("Peak", &["Mon"], "08:00", "18:00"),
                band("Evening", &["Mon"], "18:00", "22:00"),
                band("Saturday", &["Sat"], "08:00", "18:00"),
            ]),
        ));
        assert_eq!(version.validate(), Ok(()));
    }

    #[test]
    fn backwards_or_dayless_bands_are_refused() {
        let backwards = version_json(inbound(
            "0.02",
            serde_json::json!([band("Night", &["Mon"], "22:00", "06:00")]),
        ));
        assert!(matches!(
            backwards.validate(),
            Err(TariffError::EmptyBand { .. })
        ));
        let dayless = version_json(inbound(
            "0.02",
            serde_json::json!([band("Never", &[], "08:00", "09:00")]),
        ));
        assert!(matches!(
            dayless.validate(),
            Err(TariffError::BandWithoutDays { .. })
        ));
    }

    #[test]
    fn zero_increments_negative_or_over_precise_prices_are_refused() {
        let mut version = version_json(inbound("0.02", serde_json::json!([])));
        version.metrics[0].increments = Increments::new(30, 0);
        assert!(matches!(
            version.validate(),
            Err(TariffError::InvalidIncrement {
                first: 30,
                next: 0,
                ..
            })
        ));

        let negative = version_json(inbound("-0.01", serde_json::json!([])));
        assert!(matches!(
            negative.validate(),
            Err(TariffError::NegativePrice { .. })
        ));

        let ten_places = version_json(inbound("0.0000000001", serde_json::json!([])));
        assert!(matches!(
            ten_places.validate(),
            Err(TariffError::TooManyDecimals { .. })
        ));
        // Trailing zeros are not precision.
        let padded = version_json(inbound("0.0100000000", serde_json::json!([])));
        assert_eq!(padded.validate(), Ok(()));
    }

    #[test]
    fn rates_must_be_json_strings_not_floats() {
        let as_number = serde_json::from_value::<TariffVersion>(serde_json::json!({
            "tariff_id": "0190c3e0-0000-7000-8000-000000000001",
            "version": 1, "effective_from": "2025-01-01", "currency": "EUR",
            "metrics": [{
                "metric": "inbound_minutes", "rate_per_minute": 0.1,
                "increments": {"first_seconds": 60, "next_seconds": 60}
            }]
        }));
        assert!(as_number.is_err());
    }

    #[test]
    fn duplicates_and_bundles_of_unpriced_metrics_are_refused() {
        let mut version = version_json(inbound("0.02", serde_json::json!([])));
        let copy: MetricPrice = version.metrics[0].clone();
        version.metrics.push(copy);
        assert_eq!(
            version.validate(),
            Err(TariffError::DuplicateMetric {
                metric: Metric::InboundMinutes
            })
        );

        let mut version = version_json(inbound("0.02", serde_json::json!([])));
        version.bundles.push(crate::tariff::Bundle {
            metric: Metric::AgentMinutes,
            included_minutes: 100,
            period_fee: Decimal::ONE,
        });
        assert_eq!(
            version.validate(),
            Err(TariffError::BundleForUnpricedMetric {
                metric: Metric::AgentMinutes
            })
        );
    }

    #[test]
    fn a_successor_never_reaches_into_the_past() {
        let first = version_json(inbound("0.02", serde_json::json!([])));
        let mut next = first.clone();
        next.version = 2;
        let today = NaiveDate::from_ymd_opt(2025, 3, 10).unwrap();

        next.effective_from = today;
        assert!(matches!(
            validate_successor(&first, &next, today),
            Err(TariffError::Retroactive { .. })
        ));
        next.effective_from = NaiveDate::from_ymd_opt(2025, 3, 11).unwrap();
        assert_eq!(validate_successor(&first, &next, today), Ok(()));

        next.version = 3;
        assert!(matches!(
            validate_successor(&first, &next, today),
            Err(TariffError::VersionOutOfSequence { expected: 2, .. })
        ));
    }
}
