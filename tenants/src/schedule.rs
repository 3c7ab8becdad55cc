//! Opening hours: a weekly pattern in the tenant's time zone plus dated exceptions (holidays,
//! special hours), and the pure decision "is this hotline open at this instant?".
//!
//! Pure and clock-free: the caller passes the instant and the zone, so the rule is unit-tested
//! across DST changes without waiting for one.

use chrono::{DateTime, Datelike, NaiveDate, Timelike, Utc, Weekday};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use crate::error::Invalid;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Day {
    Mon,
    Tue,
    Wed,
    Thu,
    Fri,
    Sat,
    Sun,
}

impl Day {
    fn of(weekday: Weekday) -> Self {
        match weekday {
            Weekday::Mon => Day::Mon,
            Weekday::Tue => Day::Tue,
            Weekday::Wed => Day::Wed,
            Weekday::Thu => Day::Thu,
            Weekday::Fri => Day::Fri,
            Weekday::Sat => Day::Sat,
            Weekday::Sun => Day::Sun,
        }
    }
}

/// `HH:MM` to `HH:MM` local time, end exclusive; `24:00` ends at midnight (which is why times
/// are text and not `NaiveTime`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TimeRange {
    #[schema(example = "08:00")]
    pub start: String,
    #[schema(example = "17:30")]
    pub end: String,
}

/// Open on `day` during `start`–`end`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WeeklyHours {
    pub day: Day,
    pub start: String,
    pub end: String,
}

/// A date whose hours differ from the week's: closed all day (no `hours`) or special hours.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DatedException {
    #[schema(value_type = String, format = Date, example = "2026-12-24")]
    pub date: NaiveDate,
    #[serde(default)]
    pub name: String,
    /// Empty: closed that day.
    #[serde(default)]
    pub hours: Vec<TimeRange>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Schedule {
    #[serde(default)]
    pub weekly: Vec<WeeklyHours>,
    #[serde(default)]
    pub exceptions: Vec<DatedException>,
}

/// Minutes since local midnight; `24:00` is 1440.
fn parse_minutes(text: &str) -> Option<u32> {
    let (h, m) = text.split_once(':')?;
    if h.len() != 2 || m.len() != 2 {
        return None;
    }
    let (h, m): (u32, u32) = (h.parse().ok()?, m.parse().ok()?);
    match (h, m) {
        (24, 0) => Some(1440),
        (0..=23, 0..=59) => Some(h * 60 + m),
        _ => None,
    }
}

/// Check one day's ranges: well-formed, end after start, no overlaps.
fn check_ranges<'a>(
    invalid: &mut Invalid,
    ranges: impl Iterator<Item = (String, &'a str, &'a str)>,
) {
    let mut parsed: Vec<(u32, u32, String)> = Vec::new();
    for (field, start, end) in ranges {
        match (parse_minutes(start), parse_minutes(end)) {
            (Some(1440), Some(_)) => invalid.add(
                format!("{field}.start"),
                format!("{start:?} cannot start a range"),
            ),
            (Some(s), Some(e)) if e <= s => {
                invalid.add(field, format!("ends ({end}) before it starts ({start})"))
            }
            (Some(s), Some(e)) => parsed.push((s, e, field)),
            (s, e) => {
                if s.is_none() {
                    invalid.add(
                        format!("{field}.start"),
                        format!("{start:?} is not a time HH:MM"),
                    );
                }
                if e.is_none() {
                    invalid.add(
                        format!("{field}.end"),
                        format!("{end:?} is not a time HH:MM"),
                    );
                }
            }
        }
    }
    parsed.sort();
    for pair in parsed.windows(2) {
        if pair[1].0 < pair[0].1 {
            invalid.add(pair[1].2.clone(), format!("overlaps {}", pair[0].2));
        }
    }
}

impl Schedule {
    pub fn validate(&self, invalid: &mut Invalid, field: &str) {
        for day in [
            Day::Mon,
            Day::Tue,
            Day::Wed,
            Day::Thu,
            Day::Fri,
            Day::Sat,
            Day::Sun,
        ] {
            check_ranges(
                invalid,
                self.weekly
                    .iter()
                    .enumerate()
                    .filter(|(_, w)| w.day == day)
                    .map(|(i, w)| {
                        (
                            format!("{field}.weekly[{i}]"),
                            w.start.as_str(),
                            w.end.as_str(),
                        )
                    }),
            );
        }
        let mut dates: Vec<(NaiveDate, usize)> = Vec::new();
        for (i, exception) in self.exceptions.iter().enumerate() {
            let at = format!("{field}.exceptions[{i}]");
            if let Some((_, first)) = dates.iter().find(|(d, _)| *d == exception.date) {
                invalid.add(
                    &at,
                    format!(
                        "{} is listed twice (also exceptions[{first}])",
                        exception.date
                    ),
                );
            }
            dates.push((exception.date, i));
            check_ranges(
                invalid,
                exception
                    .hours
                    .iter()
                    .enumerate()
                    .map(|(j, r)| (format!("{at}.hours[{j}]"), r.start.as_str(), r.end.as_str())),
            );
        }
    }

    /// Is the hotline open at `at`, with hours read in `zone`? A dated exception replaces the
    /// weekly hours for its whole local date.
    pub fn is_open(&self, zone: Tz, at: DateTime<Utc>) -> bool {
        let local = at.with_timezone(&zone);
        let date = local.date_naive();
        let minute = local.time().hour() * 60 + local.time().minute();
        let within = |start: &str, end: &str| match (parse_minutes(start), parse_minutes(end)) {
            (Some(s), Some(e)) => s <= minute && minute < e,
            _ => false,
        };
        if let Some(exception) = self.exceptions.iter().find(|e| e.date == date) {
            return exception.hours.iter().any(|r| within(&r.start, &r.end));
        }
        let day = Day::of(local.weekday());
        self.weekly
            .iter()
            .filter(|w| w.day == day)
            .any(|w| within(&w.start, &w.end))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn weekdays_9_to_17() -> Schedule {
        Schedule {
            weekly: [Day::Mon, Day::Tue, Day::Wed, Day::Thu, Day::Fri]
                .into_iter()
                .map(|day| WeeklyHours {
                    day,
                    start: "09:00".into(),
                    end: "17:00".into(),
                })
                .collect(),
            exceptions: vec![DatedException {
                date: NaiveDate::from_ymd_opt(2026, 12, 24).expect("date"),
                name: "Christmas Eve".into(),
                hours: vec![TimeRange {
                    start: "09:00".into(),
                    end: "12:00".into(),
                }],
            }],
        }
    }

    #[test]
    fn open_in_the_tenant_zone_not_in_utc() {
        let zone: Tz = "America/New_York".parse().expect("zone");
        let s = weekdays_9_to_17();
        // Monday 2026-11-23 13:30 UTC is 08:30 in New York: still closed.
        assert!(!s.is_open(zone, Utc.with_ymd_and_hms(2026, 11, 23, 13, 30, 0).unwrap()));
        // 14:30 UTC is 09:30 there: open.
        assert!(s.is_open(zone, Utc.with_ymd_and_hms(2026, 11, 23, 14, 30, 0).unwrap()));
        // Saturday: closed.
        assert!(!s.is_open(zone, Utc.with_ymd_and_hms(2026, 11, 28, 15, 0, 0).unwrap()));
    }

    #[test]
    fn an_exception_replaces_the_week() {
        let zone: Tz = "Europe/Bratislava".parse().expect("zone");
        let s = weekdays_9_to_17();
        // Thursday 2026-12-24 11:00 local (10:00 UTC): special hours, open.
        assert!(s.is_open(zone, Utc.with_ymd_and_hms(2026, 12, 24, 10, 0, 0).unwrap()));
        // 13:00 local: a normal Thursday would be open, the exception closes it.
        assert!(!s.is_open(zone, Utc.with_ymd_and_hms(2026, 12, 24, 12, 0, 0).unwrap()));
    }

    #[test]
    fn rejects_overlaps_reversed_and_malformed_ranges() {
        let mut s = weekdays_9_to_17();
        s.weekly.push(WeeklyHours {
            day: Day::Mon,
            start: "16:00".into(),
            end: "18:00".into(),
        });
        s.weekly.push(WeeklyHours {
            day: Day::Tue,
            start: "18:00".into(),
            end: "17:00".into(),
        });
        s.weekly.push(WeeklyHours {
            day: Day::Wed,
            start: "25:00".into(),
            end: "26:00".into(),
        });
        s.exceptions.push(s.exceptions[0].clone());
        let mut invalid = Invalid::new();
        s.validate(&mut invalid, "schedule");
        let fields: Vec<&str> = invalid.0.iter().map(|e| e.field.as_str()).collect();
        assert!(fields.contains(&"schedule.weekly[5]"), "{fields:?}");
        assert!(fields.contains(&"schedule.weekly[6]"), "{fields:?}");
        assert!(fields.contains(&"schedule.weekly[7].start"), "{fields:?}");
        assert!(fields.contains(&"schedule.exceptions[1]"), "{fields:?}");
    }

    #[test]
    fn adjacent_ranges_and_midnight_end_are_fine() {
        let s = Schedule {
            weekly: vec![
                WeeklyHours {
                    day: Day::Sat,
                    start: "00:00".into(),
                    end: "12:00".into(),
                },
                WeeklyHours {
                    day: Day::Sat,
                    start: "12:00".into(),
                    end: "24:00".into(),
                },
            ],
            exceptions: vec![],
        };
        let mut invalid = Invalid::new();
        s.validate(&mut invalid, "schedule");
        assert_eq!(invalid, Invalid::new());
        let utc: Tz = "UTC".parse().expect("zone");
        assert!(s.is_open(utc, Utc.with_ymd_and_hms(2026, 11, 28, 23, 59, 0).unwrap()));
    }
}
