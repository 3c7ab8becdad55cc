//! Rating: a pure function from (metered usage, tariff version, tenant time zone) to a rated
//! usage, and bundle consumption over a period's rated usages.
//!
//! Decisions:
//! - Measured seconds count every started second of the usage's wall time
//!   ([`increments::measured_seconds`]); billable seconds apply the increments, then the minimum
//!   ([`increments::billable_seconds`]). A usage of zero length bills only the minimum (often
//!   nothing) but still pays the connect fee: it was connected.
//! - A usage with bands is split at band edges by wall time in the tenant's zone ([`bands`]).
//!   Each slice's measured seconds are counted from the usage's start (cumulative started
//!   seconds, so the slices add up to the measured seconds exactly), and the seconds that
//!   increments and the minimum add go to the slice the usage ended in: that is the band the
//!   rounding was for. So billable seconds = the sum of the pieces' seconds, always.
//! - Amounts stay exact decimals here (rate × seconds ÷ 60, not rounded). Rounding happens once
//!   per invoice line ([`crate::invoice_calc`]), which recomputes from summed seconds rather than
//!   summing these amounts, so a 28-digit quotient never feeds a rounding decision.
//! - Every piece names the tariff version that priced it.
//! - [`rate`] refuses a version that was not yet in effect on the local date the usage started;
//!   which version *is* in effect is [`crate::tariff::TariffSchedule`]'s decision
//!   ([`rate_by_schedule`]).
//!
//! Nothing here does IO, reads a clock, or rounds money.

pub mod bands;
pub mod bundle;
pub mod increments;

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use hotline_core::ids::CallId;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::tariff::{MetricPrice, TariffRef, TariffSchedule, TariffVersion};
use crate::usage::{MeteredUsage, Metric};
use bands::{split_by_bands, utc_offset_ms, Slice, DAY_MS};
use increments::{billable_seconds, measured_seconds};

pub use bundle::{apply_bundles, BundleAllowance};

const SECONDS_PER_MINUTE: Decimal = Decimal::from_parts(60, 0, 0, false, 0);

/// Days from 0001-01-01 (day 1 of the common era in chrono's count) to 1970-01-01.
const EPOCH_DAYS_FROM_CE: i64 = 719_163;

/// Why a usage could not be rated.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RatingError {
    #[error(
        "call {call_id} leg {leg}: ends before it starts or lasts longer than rating supports"
    )]
    InvalidDuration { call_id: CallId, leg: u16 },
    #[error("{metric} is not billed by tariff {tariff}")]
    MetricNotPriced { metric: Metric, tariff: TariffRef },
    #[error("tariff {tariff} takes effect {effective_from}, after call {call_id} started ({started_on})")]
    VersionNotYetInEffect {
        tariff: TariffRef,
        effective_from: NaiveDate,
        call_id: CallId,
        started_on: NaiveDate,
    },
    #[error("no tariff version is in effect on {date} (call {call_id})")]
    NoVersionInEffect { date: NaiveDate, call_id: CallId },
    #[error("tariff {tariff}: invalid increments for {metric}; validate the version")]
    InvalidIncrements { metric: Metric, tariff: TariffRef },
    #[error("call {call_id}: an amount overflowed; validate the version")]
    Overflow { call_id: CallId },
    #[error("call {call_id}: its time is outside the range the time zone database covers")]
    TimeOutOfRange { call_id: CallId },
}

/// A metered usage priced by one tariff version.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RatedUsage {
    pub call_id: CallId,
    pub leg: u16,
    pub metric: Metric,
    pub started_at: DateTime<Utc>,
    pub ended_at: DateTime<Utc>,
    pub tariff: TariffRef,
    /// Started seconds of wall time.
    pub measured_seconds: u32,
    /// After increments and minimum; equals the sum of the pieces' seconds.
    pub billable_seconds: u32,
    /// Charged once for this usage (exact, not rounded).
    #[serde(with = "rust_decimal::serde::str")]
    pub connect_fee: Decimal,
    /// In wall-time order; empty when nothing is billable.
    pub pieces: Vec<RatedPiece>,
}

/// Billable seconds of one usage at one rate.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RatedPiece {
    pub tariff: TariffRef,
    /// Index into the metric's bands in `tariff` (versions never change, so it stays valid);
    /// `None` for the base rate.
    pub band: Option<u16>,
    #[serde(with = "rust_decimal::serde::str")]
    pub rate_per_minute: Decimal,
    pub seconds: u32,
    /// Seconds of this piece covered by a bundle's included minutes (set by [`apply_bundles`]).
    pub included_seconds: u32,
    /// rate × (seconds − included) ÷ 60, exact, not rounded.
    #[serde(with = "rust_decimal::serde::str")]
    pub amount: Decimal,
}

impl RatedPiece {
    /// Seconds charged at the rate: the piece less what a bundle included.
    pub fn charged_seconds(&self) -> u32 {
        self.seconds - self.included_seconds
    }
}

impl RatedUsage {
    pub fn to_metered(&self) -> MeteredUsage {
        MeteredUsage {
            call_id: self.call_id,
            leg: self.leg,
            metric: self.metric,
            started_at: self.started_at,
            ended_at: self.ended_at,
        }
    }

    /// See [`MeteredUsage::consumption_key`].
    pub fn consumption_key(&self) -> (DateTime<Utc>, CallId, u16, Metric) {
        (self.started_at, self.call_id, self.leg, self.metric)
    }

    /// Connect fee plus the pieces' amounts, exact and unrounded (for display of running usage;
    /// invoices round per line).
    pub fn amount(&self) -> Decimal {
        self.pieces
            .iter()
            .fold(self.connect_fee, |sum, piece| sum + piece.amount)
    }

    pub fn included_seconds(&self) -> u64 {
        self.pieces
            .iter()
            .map(|p| u64::from(p.included_seconds))
            .sum()
    }
}

/// Rates one usage with the version in effect on the local date it started.
pub fn rate_by_schedule(
    usage: &MeteredUsage,
    schedule: &TariffSchedule,
    tz: Tz,
) -> Result<RatedUsage, RatingError> {
    rate_by_schedule_on(usage, schedule, tz, local_date(usage, tz)?)
}

/// [`rate_by_schedule`] for a caller that already knows the local date the usage started.
pub(crate) fn rate_by_schedule_on(
    usage: &MeteredUsage,
    schedule: &TariffSchedule,
    tz: Tz,
    started_on: NaiveDate,
) -> Result<RatedUsage, RatingError> {
    let version = schedule
        .in_effect_on(started_on)
        .ok_or(RatingError::NoVersionInEffect {
            date: started_on,
            call_id: usage.call_id,
        })?;
    rate_on(usage, version, tz, started_on)
}

/// Rates one usage under `version` in the tenant's zone `tz`.
pub fn rate(
    usage: &MeteredUsage,
    version: &TariffVersion,
    tz: Tz,
) -> Result<RatedUsage, RatingError> {
    rate_on(usage, version, tz, local_date(usage, tz)?)
}

fn rate_on(
    usage: &MeteredUsage,
    version: &TariffVersion,
    tz: Tz,
    started_on: NaiveDate,
) -> Result<RatedUsage, RatingError> {
    let tariff = version.reference();
    let price = version
        .price(usage.metric)
        .ok_or(RatingError::MetricNotPriced {
            metric: usage.metric,
            tariff,
        })?;
    if started_on < version.effective_from {
        return Err(RatingError::VersionNotYetInEffect {
            tariff,
            effective_from: version.effective_from,
            call_id: usage.call_id,
            started_on,
        });
    }
    let start_ms = usage.started_at.timestamp_millis();
    let end_ms = usage.ended_at.timestamp_millis();
    let invalid_duration = || RatingError::InvalidDuration {
        call_id: usage.call_id,
        leg: usage.leg,
    };
    let measured = end_ms
        .checked_sub(start_ms)
        .and_then(measured_seconds)
        .ok_or_else(invalid_duration)?;
    let billable = billable_seconds(measured, price.increments, price.minimum_seconds).ok_or(
        RatingError::InvalidIncrements {
            metric: usage.metric,
            tariff,
        },
    )?;

    let pieces = if price.bands.is_empty() {
        vec![(None, billable)]
    } else {
        let mut slices = Vec::with_capacity(2);
        split_by_bands(&price.bands, start_ms, end_ms, tz, &mut slices).ok_or(
            RatingError::TimeOutOfRange {
                call_id: usage.call_id,
            },
        )?;
        seconds_per_slice(&slices, start_ms, measured, billable)
    };

    let overflow = || RatingError::Overflow {
        call_id: usage.call_id,
    };
    let pieces = pieces
        .into_iter()
        .filter(|&(_, seconds)| seconds > 0)
        .map(|(band, seconds)| {
            let rate_per_minute = rate_of(price, band);
            let amount = amount_for(rate_per_minute, seconds).ok_or_else(overflow)?;
            Ok(RatedPiece {
                tariff,
                band,
                rate_per_minute,
                seconds,
                included_seconds: 0,
                amount,
            })
        })
        .collect::<Result<Vec<_>, RatingError>>()?;

    Ok(RatedUsage {
        call_id: usage.call_id,
        leg: usage.leg,
        metric: usage.metric,
        started_at: usage.started_at,
        ended_at: usage.ended_at,
        tariff,
        measured_seconds: measured,
        billable_seconds: billable,
        connect_fee: price.connect_fee,
        pieces,
    })
}

/// rate × seconds ÷ 60, exact to the 28 significant digits of a [`Decimal`].
pub(crate) fn amount_for(rate_per_minute: Decimal, seconds: u32) -> Option<Decimal> {
    rate_per_minute
        .checked_mul(Decimal::from(seconds))?
        .checked_div(SECONDS_PER_MINUTE)
}

fn rate_of(price: &MetricPrice, band: Option<u16>) -> Decimal {
    band.and_then(|i| price.bands.get(usize::from(i)))
        .map_or(price.rate_per_minute, |b| b.rate_per_minute)
}

/// Seconds of each slice: cumulative started seconds since the usage's start, so they add up to
/// `measured`; the seconds increments and the minimum add go to the last slice.
fn seconds_per_slice(
    slices: &[Slice],
    start_ms: i64,
    measured: u32,
    billable: u32,
) -> Vec<(Option<u16>, u32)> {
    let mut counted = 0_u32;
    let mut pieces: Vec<(Option<u16>, u32)> = slices
        .iter()
        .map(|slice| {
            let through = measured_seconds(slice.end_ms - start_ms)
                .unwrap_or(measured)
                .min(measured);
            let seconds = through.saturating_sub(counted);
            counted = counted.max(through);
            (slice.band, seconds)
        })
        .collect();
    if let Some(last) = pieces.last_mut() {
        last.1 += billable - measured;
    }
    pieces
}

/// The local date in `tz` on which the usage started.
pub(crate) fn local_date(usage: &MeteredUsage, tz: Tz) -> Result<NaiveDate, RatingError> {
    let start_ms = usage.started_at.timestamp_millis();
    let out_of_range = || RatingError::TimeOutOfRange {
        call_id: usage.call_id,
    };
    let offset = utc_offset_ms(tz, start_ms).ok_or_else(out_of_range)?;
    let epoch_day = (start_ms + offset).div_euclid(DAY_MS);
    i32::try_from(epoch_day + EPOCH_DAYS_FROM_CE)
        .ok()
        .and_then(NaiveDate::from_num_days_from_ce_opt)
        .ok_or_else(out_of_range)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::money::Currency;
    use crate::tariff::{Increments, TariffId};
    use chrono::TimeZone;

    fn version(from: NaiveDate) -> TariffVersion {
        TariffVersion {
            tariff_id: TariffId::new(),
            version: 1,
            effective_from: from,
            currency: Currency::from_code("EUR").unwrap(),
            metrics: vec![MetricPrice {
                metric: Metric::InboundMinutes,
                rate_per_minute: Decimal::new(3, 2),
                increments: Increments::PER_SECOND,
                minimum_seconds: 10,
                connect_fee: Decimal::new(5, 2),
                bands: vec![],
            }],
            bundles: vec![],
            recurring: vec![],
        }
    }

    fn usage(metric: Metric, start: DateTime<Utc>, millis: i64) -> MeteredUsage {
        MeteredUsage {
            call_id: CallId::new(),
            leg: 1,
            metric,
            started_at: start,
            ended_at: start + chrono::Duration::milliseconds(millis),
        }
    }

    #[test]
    fn zero_length_usage_bills_the_minimum_and_the_connect_fee() {
        let tz = chrono_tz::Europe::Bratislava;
        let start = Utc.with_ymd_and_hms(2025, 3, 3, 10, 0, 0).unwrap();
        let v = version(NaiveDate::from_ymd_opt(2025, 1, 1).unwrap());
        let rated = rate(&usage(Metric::InboundMinutes, start, 0), &v, tz).unwrap();
        assert_eq!((rated.measured_seconds, rated.billable_seconds), (0, 10));
        // 10 s × 0.03 / 60 = 0.005, plus the 0.05 connect fee.
        assert_eq!(rated.amount(), Decimal::new(55, 3));
        assert_eq!(rated.pieces[0].tariff, v.reference());
    }

    #[test]
    fn refuses_unpriced_metric_backwards_usage_and_a_version_not_yet_in_effect() {
        let tz = chrono_tz::Europe::Bratislava;
        let start = Utc.with_ymd_and_hms(2025, 3, 3, 10, 0, 0).unwrap();
        let v = version(NaiveDate::from_ymd_opt(2025, 1, 1).unwrap());
        assert!(matches!(
            rate(&usage(Metric::AgentMinutes, start, 1000), &v, tz),
            Err(RatingError::MetricNotPriced { .. })
        ));
        assert!(matches!(
            rate(&usage(Metric::InboundMinutes, start, -1), &v, tz),
            Err(RatingError::InvalidDuration { .. })
        ));
        // 2025-02-28 23:30 UTC is already 1 March in Bratislava: in effect there, not in UTC.
        let late_feb = Utc.with_ymd_and_hms(2025, 2, 28, 23, 30, 0).unwrap();
        let march = version(NaiveDate::from_ymd_opt(2025, 3, 1).unwrap());
        assert!(rate(&usage(Metric::InboundMinutes, late_feb, 1000), &march, tz).is_ok());
        assert!(matches!(
            rate(
                &usage(Metric::InboundMinutes, late_feb, 1000),
                &march,
                chrono_tz::UTC
            ),
            Err(RatingError::VersionNotYetInEffect { .. })
        ));
    }
}
