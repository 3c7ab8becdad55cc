//! The tenant's wall clock (its time zone, daylight saving included). In the simulator this is
//! the scenario's time, moved on by every prompt and wait.

use crate::bindings::wit_clock;
pub use crate::bindings::wit_types::{LocalTime, Weekday};

/// Now, in the tenant's time zone.
pub fn now() -> LocalTime {
    wit_clock::now()
}

/// A Unix instant (milliseconds) in the tenant's time zone.
pub fn at(unix_millis: i64) -> LocalTime {
    wit_clock::at(unix_millis)
}

impl LocalTime {
    /// Minutes since local midnight (`09:30` is 570), for opening-hours arithmetic.
    pub fn minute_of_day(&self) -> u16 {
        u16::from(self.hour) * 60 + u16::from(self.minute)
    }

    /// `YYYY-MM-DD`, e.g. to look a date up in a holiday list.
    pub fn date(&self) -> String {
        format!("{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }

    /// `MM-DD`, for holidays that fall on the same day every year.
    pub fn month_day(&self) -> String {
        format!("{:02}-{:02}", self.month, self.day)
    }

    /// Saturday or Sunday.
    pub fn is_weekend(&self) -> bool {
        matches!(self.weekday, Weekday::Saturday | Weekday::Sunday)
    }
}
