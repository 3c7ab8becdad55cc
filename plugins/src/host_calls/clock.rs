//! `hotline:plugin/clock`: time on the tenant's clock (its zone, daylight saving included).

use chrono::{DateTime, Datelike, Offset, TimeZone, Timelike, Utc};
use chrono_tz::Tz;

use crate::bindings::ivr::hotline::plugin::clock::Host;
use crate::bindings::ivr::hotline::plugin::types::{LocalTime, Weekday};
use crate::host::state::CallState;

/// `at` as the tenant's wall clock shows it.
pub fn local_time(at: DateTime<Utc>, zone: Tz) -> LocalTime {
    let local = zone.from_utc_datetime(&at.naive_utc());
    LocalTime {
        year: local.year(),
        month: local.month() as u8,
        day: local.day() as u8,
        hour: local.hour() as u8,
        minute: local.minute() as u8,
        second: local.second() as u8,
        weekday: match local.weekday() {
            chrono::Weekday::Mon => Weekday::Monday,
            chrono::Weekday::Tue => Weekday::Tuesday,
            chrono::Weekday::Wed => Weekday::Wednesday,
            chrono::Weekday::Thu => Weekday::Thursday,
            chrono::Weekday::Fri => Weekday::Friday,
            chrono::Weekday::Sat => Weekday::Saturday,
            chrono::Weekday::Sun => Weekday::Sunday,
        },
        utc_offset_seconds: local.offset().fix().local_minus_utc(),
        unix_millis: at.timestamp_millis(),
        time_zone: zone.name().to_string(),
    }
}

impl Host for CallState {
    async fn now(&mut self) -> wasmtime::Result<LocalTime> {
        self.enter_unrated()?;
        let now = local_time(self.call_time(), self.zone);
        self.leave();
        Ok(now)
    }

    async fn at(&mut self, unix_millis: i64) -> wasmtime::Result<LocalTime> {
        self.enter_unrated()?;
        let at = hotline_core::time::from_millis(unix_millis);
        let local = local_time(at, self.zone);
        self.leave();
        Ok(local)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bratislava_new_years_eve() {
        let at = Utc
            .with_ymd_and_hms(2026, 12, 31, 22, 0, 0)
            .single()
            .expect("time");
        let local = local_time(at, chrono_tz::Europe::Bratislava);
        assert_eq!((local.hour, local.day, local.month), (23, 31, 12));
        assert_eq!(local.utc_offset_seconds, 3600);
        assert_eq!(local.weekday, Weekday::Thursday);
        let summer = Utc
            .with_ymd_and_hms(2026, 7, 1, 10, 0, 0)
            .single()
            .expect("time");
        assert_eq!(
            local_time(summer, chrono_tz::Europe::Bratislava).utc_offset_seconds,
            7200
        );
    }
}
