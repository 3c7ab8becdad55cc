//! Recurring fees (seats, numbers, platform): billed in advance, prorated by day.
//!
//! Decisions:
//! - The invoice of a period is computed when the period closes. It bills the *next* period's
//!   fees in advance, at full price, for every seat and number the tenant holds at the instant
//!   the next period begins, and the platform fee — unless the contract ends by then. Prices
//!   come from the version in effect on the next period's first day.
//! - Days of the closing period that no earlier invoice billed in advance are billed prorated:
//!   price × unit-days ÷ days in the period, each day priced by the version in effect on it.
//!   A seat or number held at the instant the period began was billed in advance by the
//!   previous invoice and adds nothing, even if released and taken again. In the contract's
//!   first period no invoice came before, so every held day is billed (a contract starting on
//!   the period's first day pays that period whole, on its first invoice).
//! - A unit counts on a local day if it was held at any moment of that day: a day started is a
//!   day billed. Releases are never refunded: a fee billed in advance pays to the period's end.
//! - A seat is an agent assigned to the tenant, a number a number the tenant owns; both are
//!   identified by the id the tenant store gave them, so one agent assigned twice is one seat.
//!
//! Pure: the store passes the ownership intervals in.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::invoice_calc::Quantity;
use crate::period::{start_of_local_day, BillingPeriod};
use crate::tariff::{RecurringKind, TariffRef, TariffSchedule};

/// A seat or number held by the tenant over `[from, until)`; `until: None` while still held.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Ownership {
    /// [`RecurringKind::Seat`] or [`RecurringKind::Number`]; platform intervals are ignored.
    pub kind: RecurringKind,
    /// The agent's or the number's id.
    pub unit_id: Uuid,
    pub from: DateTime<Utc>,
    pub until: Option<DateTime<Utc>>,
}

impl Ownership {
    fn held_at(&self, at: DateTime<Utc>) -> bool {
        self.from <= at && self.until.is_none_or(|until| at < until)
    }

    fn held_during(&self, from: DateTime<Utc>, until: DateTime<Utc>) -> bool {
        self.from < until && self.until.is_none_or(|end| from < end)
    }
}

/// The contract's dates, local to the tenant: `[start, end)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContractTerm {
    pub start: NaiveDate,
    pub end: Option<NaiveDate>,
}

impl ContractTerm {
    fn active_on(&self, date: NaiveDate) -> bool {
        self.start <= date && self.end.is_none_or(|end| date < end)
    }
}

/// Whether a charge pays ahead or catches up.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChargeBasis {
    /// The next period, in advance.
    InAdvance,
    /// Days of this period not billed in advance.
    Prorated,
}

/// One recurring charge before rounding: a count of units in advance or unit-days prorated.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecurringCharge {
    pub kind: RecurringKind,
    pub basis: ChargeBasis,
    pub tariff: TariffRef,
    pub price_per_period: Decimal,
    pub quantity: Quantity,
}

/// Why recurring fees could not be computed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("the local date {0} cannot be placed in time")]
pub struct DateOutOfRange(pub NaiveDate);

/// The recurring charges of the invoice closing `period`, in a fixed order.
pub fn recurring_charges(
    period: &BillingPeriod,
    contract: &ContractTerm,
    schedule: &TariffSchedule,
    ownership: &[Ownership],
    tz: Tz,
) -> Result<Vec<RecurringCharge>, DateOutOfRange> {
    let day_starts = period
        .dates()
        .chain([period.end])
        .map(|date| start_of_local_day(tz, date).ok_or(DateOutOfRange(date)))
        .collect::<Result<Vec<_>, _>>()?;
    let period_start = day_starts[0];
    let next_period_start = day_starts[day_starts.len() - 1];
    let first_period = contract.start >= period.start;

    let mut charges = Vec::new();
    if contract.active_on(period.end) {
        if let Some(version) = schedule.in_effect_on(period.end) {
            for fee in &version.recurring {
                let count = match fee.kind {
                    RecurringKind::Platform => 1,
                    kind => units_held_at(ownership, kind, next_period_start),
                };
                if count > 0 {
                    charges.push(RecurringCharge {
                        kind: fee.kind,
                        basis: ChargeBasis::InAdvance,
                        tariff: version.reference(),
                        price_per_period: fee.price_per_period,
                        quantity: Quantity::Count { count },
                    });
                }
            }
        }
    }

    // Unit-days per (fee, version), with that version's price.
    let mut prorated: BTreeMap<(RecurringKind, TariffRef), (Decimal, u64)> = BTreeMap::new();
    for (day_index, date) in period.dates().enumerate() {
        if !contract.active_on(date) {
            continue;
        }
        let Some(version) = schedule.in_effect_on(date) else {
            continue;
        };
        let (day_start, day_end) = (day_starts[day_index], day_starts[day_index + 1]);
        for fee in &version.recurring {
            let units = match fee.kind {
                RecurringKind::Platform => u64::from(first_period),
                kind => {
                    let held: BTreeSet<Uuid> = ownership
                        .iter()
                        .filter(|o| o.kind == kind && o.held_during(day_start, day_end))
                        .map(|o| o.unit_id)
                        .collect();
                    held.iter()
                        .filter(|unit| {
                            first_period || !unit_held_at(ownership, kind, **unit, period_start)
                        })
                        .count() as u64
                }
            };
            if units > 0 {
                let entry = prorated
                    .entry((fee.kind, version.reference()))
                    .or_insert((fee.price_per_period, 0));
                entry.1 += units;
            }
        }
    }
    charges.extend(
        prorated
            .into_iter()
            .map(|((kind, tariff), (price, days))| RecurringCharge {
                kind,
                basis: ChargeBasis::Prorated,
                tariff,
                price_per_period: price,
                quantity: Quantity::Days {
                    days,
                    period_days: period.days(),
                },
            }),
    );
    Ok(charges)
}

fn units_held_at(ownership: &[Ownership], kind: RecurringKind, at: DateTime<Utc>) -> u64 {
    ownership
        .iter()
        .filter(|o| o.kind == kind && o.held_at(at))
        .map(|o| o.unit_id)
        .collect::<BTreeSet<_>>()
        .len() as u64
}

fn unit_held_at(
    ownership: &[Ownership],
    kind: RecurringKind,
    unit: Uuid,
    at: DateTime<Utc>,
) -> bool {
    ownership
        .iter()
        .any(|o| o.kind == kind && o.unit_id == unit && o.held_at(at))
}
