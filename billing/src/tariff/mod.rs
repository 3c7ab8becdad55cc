//! The tariff model: what a contract charges, as immutable numbered versions.
//!
//! Decisions:
//! - A tariff is a sequence of [`TariffVersion`]s. A version never changes once stored; a price
//!   change is a new version with a later [`TariffVersion::effective_from`], a date in the
//!   tenant's time zone. A usage is rated by the version in effect on the local date its call
//!   started ([`TariffSchedule::in_effect_on`]); when two versions share a date the higher number
//!   wins. [`validate_successor`] refuses a version that would reach back into the past.
//! - Per metered [`Metric`](crate::usage::Metric) a version sets a [`MetricPrice`]: a base rate per
//!   minute, [`Increments`] (first/next seconds), a minimum billable duration, a connect fee per
//!   call, and optional time-of-day/weekday [`Band`]s with their own rate. Time outside every
//!   band is charged at the base rate. A band is a half-open `[from, until)` range of local wall
//!   time on the listed weekdays; one that would run past midnight is written as two bands
//!   (e.g. 22:00–24:00 and 00:00–06:00), so each band belongs to exactly one weekday.
//! - A [`Bundle`] includes minutes of one metric for a fixed fee per billing period; usage past
//!   the included minutes is charged at the metric's normal rates (bands included).
//! - [`RecurringFee`]s (per seat, per number, platform) are prices per full billing period,
//!   billed in advance and prorated by day; see [`crate::recurring`].
//! - Prices are exact decimals with at most [`MAX_RATE_SCALE`](crate::money::MAX_RATE_SCALE)
//!   places, non-negative and at most [`MAX_PRICE`]; in JSON they are strings.
//!
//! Everything here is plain data with serde (the store keeps versions as JSON, the API accepts
//! them) and validation; this module must never rate, round, or touch a clock (callers pass
//! "today" in).

mod schedule;
mod time_of_day;
mod validate;

use std::fmt;
use std::str::FromStr;

use chrono::{NaiveDate, Weekday};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::money::Currency;
use crate::usage::Metric;

pub use schedule::TariffSchedule;
pub use time_of_day::{InvalidTimeOfDay, TimeOfDay};
pub use validate::{validate_successor, TariffError, MAX_BANDS};

/// The largest price or rate a tariff may carry, in major units. Far above any real tariff, and
/// low enough that no product of a price and a count of seconds or days can overflow a
/// [`Decimal`].
pub const MAX_PRICE: Decimal = Decimal::from_parts(1_000_000, 0, 0, false, 0);

/// Identifies a tariff (all of its versions).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct TariffId(pub Uuid);

impl TariffId {
    /// A new, time-ordered id.
    pub fn new() -> Self {
        Self(Uuid::now_v7())
    }
}

impl Default for TariffId {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Display for TariffId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl FromStr for TariffId {
    type Err = uuid::Error;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Uuid::parse_str(s).map(Self)
    }
}

/// Names one version of one tariff. Every rated piece and invoice line carries one, so any
/// amount can be recomputed from the version that produced it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct TariffRef {
    pub tariff_id: TariffId,
    pub version: u32,
}

impl fmt::Display for TariffRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} v{}", self.tariff_id, self.version)
    }
}

/// One immutable version of a tariff.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TariffVersion {
    pub tariff_id: TariffId,
    /// 1, 2, 3, ... in the order the versions were made.
    pub version: u32,
    /// The first local date (tenant time zone) this version prices.
    pub effective_from: NaiveDate,
    pub currency: Currency,
    /// The metrics this version bills; a metric not listed is not billed.
    #[serde(default)]
    pub metrics: Vec<MetricPrice>,
    #[serde(default)]
    pub bundles: Vec<Bundle>,
    #[serde(default)]
    pub recurring: Vec<RecurringFee>,
}

impl TariffVersion {
    pub fn reference(&self) -> TariffRef {
        TariffRef {
            tariff_id: self.tariff_id,
            version: self.version,
        }
    }

    /// The price of a metric, if this version bills it.
    pub fn price(&self, metric: Metric) -> Option<&MetricPrice> {
        self.metrics.iter().find(|p| p.metric == metric)
    }

    pub fn bundle(&self, metric: Metric) -> Option<&Bundle> {
        self.bundles.iter().find(|b| b.metric == metric)
    }

    pub fn recurring_fee(&self, kind: RecurringKind) -> Option<&RecurringFee> {
        self.recurring.iter().find(|f| f.kind == kind)
    }
}

/// How one metric is priced.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MetricPrice {
    pub metric: Metric,
    /// Price per minute outside every band.
    #[serde(with = "rust_decimal::serde::str")]
    pub rate_per_minute: Decimal,
    pub increments: Increments,
    /// A connected usage is billed at least this many seconds (0: no minimum).
    #[serde(default)]
    pub minimum_seconds: u32,
    /// Charged once per usage of this metric, whatever its length, bundle or not.
    #[serde(default, with = "rust_decimal::serde::str")]
    pub connect_fee: Decimal,
    #[serde(default)]
    pub bands: Vec<Band>,
}

/// Billing increments: the first `first_seconds` are billed whole as soon as a usage lasts at
/// all, then each further `next_seconds` started is billed whole ("60/60", "30/6", "1/1").
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Increments {
    pub first_seconds: u32,
    pub next_seconds: u32,
}

impl Increments {
    /// Per started minute.
    pub const SIXTY_SIXTY: Increments = Increments::new(60, 60);
    /// A 30-second first block, then per 6 seconds.
    pub const THIRTY_SIX: Increments = Increments::new(30, 6);
    /// Per second.
    pub const PER_SECOND: Increments = Increments::new(1, 1);

    pub const fn new(first_seconds: u32, next_seconds: u32) -> Self {
        Self {
            first_seconds,
            next_seconds,
        }
    }
}

impl fmt::Display for Increments {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.first_seconds, self.next_seconds)
    }
}

/// A time-of-day and weekday band with its own rate: `[from, until)` local wall time on each of
/// `days`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Band {
    /// Printed on invoices ("Peak", "Night", "Weekend").
    pub name: String,
    pub days: Vec<Weekday>,
    pub from: TimeOfDay,
    pub until: TimeOfDay,
    #[serde(with = "rust_decimal::serde::str")]
    pub rate_per_minute: Decimal,
}

impl Band {
    pub fn applies_on(&self, day: Weekday) -> bool {
        self.days.contains(&day)
    }
}

/// Included minutes of one metric for a fixed fee per billing period.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bundle {
    pub metric: Metric,
    pub included_minutes: u32,
    #[serde(with = "rust_decimal::serde::str")]
    pub period_fee: Decimal,
}

impl Bundle {
    pub fn included_seconds(&self) -> u64 {
        u64::from(self.included_minutes) * 60
    }
}

/// What a recurring fee is charged for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RecurringKind {
    /// Per agent assigned to the tenant.
    Seat,
    /// Per phone number the tenant owns.
    Number,
    /// Once per account.
    Platform,
}

impl RecurringKind {
    pub fn label(self) -> &'static str {
        match self {
            RecurringKind::Seat => "Agent seats",
            RecurringKind::Number => "Phone numbers",
            RecurringKind::Platform => "Platform fee",
        }
    }
}

impl fmt::Display for RecurringKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// A price per full billing period for each seat, number, or the platform.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecurringFee {
    pub kind: RecurringKind,
    #[serde(with = "rust_decimal::serde::str")]
    pub price_per_period: Decimal,
}
