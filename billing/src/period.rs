//! Billing periods: half-open ranges of local dates in the tenant's time zone, and the UTC
//! instants where their days begin.
//!
//! A period is `[start, end)` in local dates: a monthly period on billing day 15 is
//! 2025-03-15 .. 2025-04-15. Which period comes next (billing day, month lengths) is the store's
//! decision; this module only measures a period it is given. Local midnight that a daylight
//! saving change skips is taken as the first instant of that local day that exists; a repeated
//! midnight as its first occurrence.

use chrono::{DateTime, Duration, LocalResult, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

/// `[start, end)` in local dates of the tenant's zone.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct BillingPeriod {
    pub start: NaiveDate,
    pub end: NaiveDate,
}

/// A period that ends before or where it starts.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("a billing period must end after it starts ({start} .. {end})")]
pub struct EmptyPeriod {
    pub start: NaiveDate,
    pub end: NaiveDate,
}

impl BillingPeriod {
    pub fn new(start: NaiveDate, end: NaiveDate) -> Result<Self, EmptyPeriod> {
        if end <= start {
            return Err(EmptyPeriod { start, end });
        }
        Ok(Self { start, end })
    }

    /// Number of local days (28–31 for a month).
    pub fn days(&self) -> u32 {
        u32::try_from((self.end - self.start).num_days()).unwrap_or(0)
    }

    pub fn contains(&self, date: NaiveDate) -> bool {
        self.start <= date && date < self.end
    }

    /// Every local date of the period, in order.
    pub fn dates(&self) -> impl Iterator<Item = NaiveDate> {
        let end = self.end;
        self.start.iter_days().take_while(move |d| *d < end)
    }
}

/// The UTC instant a local date begins in `tz`. `None` only for dates chrono cannot represent.
pub fn start_of_local_day(tz: Tz, date: NaiveDate) -> Option<DateTime<Utc>> {
    let midnight = date.and_hms_opt(0, 0, 0)?;
    // A skipped midnight: the day starts at the first local minute that exists (gaps are at
    // most a day long, as when Samoa skipped 2011-12-30).
    (0..=24 * 60).find_map(|minutes| {
        match tz.from_local_datetime(&(midnight + Duration::minutes(minutes))) {
            LocalResult::Single(at) => Some(at.with_timezone(&Utc)),
            LocalResult::Ambiguous(first, _) => Some(first.with_timezone(&Utc)),
            LocalResult::None => None,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn period_days_and_dates() {
        let march = BillingPeriod::new(date(2025, 3, 1), date(2025, 4, 1)).unwrap();
        assert_eq!(march.days(), 31);
        assert_eq!(march.dates().count(), 31);
        assert!(march.contains(date(2025, 3, 31)));
        assert!(!march.contains(date(2025, 4, 1)));
        assert!(BillingPeriod::new(date(2025, 3, 1), date(2025, 3, 1)).is_err());
    }

    #[test]
    fn local_midnight_in_utc() {
        let at = start_of_local_day(chrono_tz::Europe::Bratislava, date(2025, 7, 1)).unwrap();
        assert_eq!(at, Utc.with_ymd_and_hms(2025, 6, 30, 22, 0, 0).unwrap());
    }

    #[test]
    fn skipped_day_starts_at_the_first_existing_minute() {
        // Samoa jumped from 2011-12-29 23:59:59 (UTC-10) to 2011-12-31 00:00 (UTC+14).
        let at = start_of_local_day(chrono_tz::Pacific::Apia, date(2011, 12, 30)).unwrap();
        assert_eq!(at, Utc.with_ymd_and_hms(2011, 12, 30, 10, 0, 0).unwrap());
    }
}
