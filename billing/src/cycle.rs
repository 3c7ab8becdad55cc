//! The billing cycle: which monthly period a local date falls in, for an account's billing day.
//!
//! Decisions:
//! - Periods run from the billing day of one month to the billing day of the next, in the
//!   tenant's local dates ([`BillingPeriod`] is half-open). Billing day 1 gives calendar months.
//! - A billing day past a month's end is that month's last day: billing day 31 gives
//!   Jan 31 → Feb 28 → Mar 31 → Apr 30. Periods still tile time without gap or overlap, because
//!   each month has exactly one anchor date.
//! - Days 1 to 31 are accepted; the account fixes its billing day before its first invoice and
//!   never changes it, so period boundaries, once used, never move.
//!
//! Pure date arithmetic: no clock, no IO.

use chrono::{Datelike, Months, NaiveDate};

use crate::period::BillingPeriod;

/// A billing day of the month outside 1..=31.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("the billing day must be between 1 and 31, got {0}")]
pub struct InvalidBillingDay(pub u32);

/// Monthly periods anchored on a day of the month.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct BillingCycle {
    billing_day: u32,
}

impl BillingCycle {
    pub fn new(billing_day: u32) -> Result<Self, InvalidBillingDay> {
        if (1..=31).contains(&billing_day) {
            Ok(Self { billing_day })
        } else {
            Err(InvalidBillingDay(billing_day))
        }
    }

    pub fn billing_day(self) -> u32 {
        self.billing_day
    }

    /// The period `date` falls in. `None` only at the ends of chrono's calendar.
    pub fn period_containing(self, date: NaiveDate) -> Option<BillingPeriod> {
        let this_month = self.anchor(first_of_month(date)?)?;
        let start = if date >= this_month {
            this_month
        } else {
            self.anchor(first_of_month(date)?.checked_sub_months(Months::new(1))?)?
        };
        self.period_starting(start)
    }

    /// The period after `period`.
    pub fn next(self, period: &BillingPeriod) -> Option<BillingPeriod> {
        self.period_starting(period.end)
    }

    fn period_starting(self, start: NaiveDate) -> Option<BillingPeriod> {
        let next_month = first_of_month(start)?.checked_add_months(Months::new(1))?;
        let end = self.anchor(next_month)?;
        BillingPeriod::new(start, end).ok()
    }

    /// The billing day in the month of `first` (a first of month), clamped to the month's end.
    fn anchor(self, first: NaiveDate) -> Option<NaiveDate> {
        let last_day = first.checked_add_months(Months::new(1))?.pred_opt()?.day();
        first.with_day(self.billing_day.min(last_day))
    }
}

fn first_of_month(date: NaiveDate) -> Option<NaiveDate> {
    date.with_day(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn period(cycle: BillingCycle, on: NaiveDate) -> (NaiveDate, NaiveDate) {
        let p = cycle.period_containing(on).unwrap();
        (p.start, p.end)
    }

    #[test]
    fn billing_day_one_gives_calendar_months() {
        let cycle = BillingCycle::new(1).unwrap();
        assert_eq!(
            period(cycle, date(2026, 2, 14)),
            (date(2026, 2, 1), date(2026, 3, 1))
        );
        assert_eq!(
            period(cycle, date(2026, 12, 31)),
            (date(2026, 12, 1), date(2027, 1, 1))
        );
    }

    #[test]
    fn a_mid_month_billing_day_splits_months() {
        let cycle = BillingCycle::new(15).unwrap();
        assert_eq!(
            period(cycle, date(2026, 3, 14)),
            (date(2026, 2, 15), date(2026, 3, 15))
        );
        assert_eq!(
            period(cycle, date(2026, 3, 15)),
            (date(2026, 3, 15), date(2026, 4, 15))
        );
        assert_eq!(
            period(cycle, date(2026, 1, 3)),
            (date(2025, 12, 15), date(2026, 1, 15))
        );
    }

    #[test]
    fn a_billing_day_past_the_month_end_is_the_last_day() {
        let cycle = BillingCycle::new(31).unwrap();
        assert_eq!(
            period(cycle, date(2026, 2, 28)),
            (date(2026, 2, 28), date(2026, 3, 31))
        );
        assert_eq!(
            period(cycle, date(2026, 2, 27)),
            (date(2026, 1, 31), date(2026, 2, 28))
        );
        assert_eq!(
            period(cycle, date(2028, 2, 29)),
            (date(2028, 2, 29), date(2028, 3, 31))
        );
        assert_eq!(
            period(cycle, date(2026, 4, 30)),
            (date(2026, 4, 30), date(2026, 5, 31))
        );
    }

    #[test]
    fn periods_tile_the_calendar_for_every_billing_day() {
        for day in 1..=31 {
            let cycle = BillingCycle::new(day).unwrap();
            let mut current = cycle.period_containing(date(2025, 12, 20)).unwrap();
            for _ in 0..30 {
                let next = cycle.next(&current).unwrap();
                assert_eq!(next.start, current.end, "billing day {day}");
                assert!(next.end > next.start);
                for probe in [next.start, next.end.pred_opt().unwrap()] {
                    assert_eq!(cycle.period_containing(probe), Some(next), "day {day}");
                }
                current = next;
            }
        }
    }

    #[test]
    fn billing_days_outside_the_month_are_refused() {
        assert_eq!(BillingCycle::new(0), Err(InvalidBillingDay(0)));
        assert_eq!(BillingCycle::new(32), Err(InvalidBillingDay(32)));
    }
}
