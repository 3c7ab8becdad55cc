//! A local wall-clock time at minute precision for band edges, written "HH:MM" with "24:00"
//! allowed as the end of a day. Seconds are not offered: no tariff changes price mid-minute.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Minutes since local midnight, 0..=1440 ("00:00" to "24:00").
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct TimeOfDay(u16);

/// A band edge that is not "HH:MM" between 00:00 and 24:00.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a time of day between 00:00 and 24:00 (HH:MM)")]
pub struct InvalidTimeOfDay(pub String);

impl TimeOfDay {
    pub const MIDNIGHT: TimeOfDay = TimeOfDay(0);
    pub const END_OF_DAY: TimeOfDay = TimeOfDay(24 * 60);

    pub fn from_hm(hour: u16, minute: u16) -> Result<Self, InvalidTimeOfDay> {
        let minutes = hour
            .checked_mul(60)
            .and_then(|h| h.checked_add(minute))
            .filter(|&m| minute < 60 && m <= 24 * 60);
        minutes
            .map(TimeOfDay)
            .ok_or_else(|| InvalidTimeOfDay(format!("{hour:02}:{minute:02}")))
    }

    pub fn minutes(self) -> u32 {
        u32::from(self.0)
    }

    pub fn seconds(self) -> u32 {
        u32::from(self.0) * 60
    }
}

impl fmt::Display for TimeOfDay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02}:{:02}", self.0 / 60, self.0 % 60)
    }
}

impl FromStr for TimeOfDay {
    type Err = InvalidTimeOfDay;
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let invalid = || InvalidTimeOfDay(text.to_owned());
        let (hour, minute) = text.split_once(':').ok_or_else(invalid)?;
        if hour.len() != 2 || minute.len() != 2 {
            return Err(invalid());
        }
        let hour = hour.parse::<u16>().map_err(|_| invalid())?;
        let minute = minute.parse::<u16>().map_err(|_| invalid())?;
        Self::from_hm(hour, minute).map_err(|_| invalid())
    }
}

impl TryFrom<String> for TimeOfDay {
    type Error = InvalidTimeOfDay;
    fn try_from(text: String) -> Result<Self, Self::Error> {
        text.parse()
    }
}

impl From<TimeOfDay> for String {
    fn from(time: TimeOfDay) -> Self {
        time.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints_hh_mm() {
        assert_eq!("08:30".parse::<TimeOfDay>().unwrap().minutes(), 510);
        assert_eq!("24:00".parse::<TimeOfDay>().unwrap(), TimeOfDay::END_OF_DAY);
        assert_eq!(TimeOfDay::from_hm(7, 5).unwrap().to_string(), "07:05");
    }

    #[test]
    fn refuses_out_of_range_or_malformed() {
        for bad in ["24:01", "08:60", "8:30", "0830", "ab:cd", "-1:00", ""] {
            assert!(bad.parse::<TimeOfDay>().is_err(), "{bad} accepted");
        }
    }
}
