//! Splitting a usage's wall time into slices at band edges, in the tenant's time zone.
//!
//! Works on UTC milliseconds and the zone's UTC offset rather than chrono's local date-times:
//! the hot path is one offset lookup per slice end. A slice also ends where the zone's offset
//! changes (daylight saving), and the next slice's band is read from the wall clock after the
//! change, so a band edge inside a skipped hour takes effect when the clock jumps past it and a
//! repeated hour is priced by the wall time it shows, both times.

use chrono::{DateTime, Offset, TimeZone, Utc, Weekday};
use chrono_tz::Tz;

use crate::tariff::Band;

pub(crate) const DAY_MS: i64 = 86_400_000;

/// 1970-01-01, day 0 of the Unix epoch, was a Thursday.
const WEEKDAY_OF_EPOCH_DAY: [Weekday; 7] = [
    Weekday::Thu,
    Weekday::Fri,
    Weekday::Sat,
    Weekday::Sun,
    Weekday::Mon,
    Weekday::Tue,
    Weekday::Wed,
];

/// A stretch of wall time at one price, from the previous slice's end (or the usage's start) to
/// `end_ms` (UTC milliseconds).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Slice {
    /// Index into the metric's bands; `None` is the base rate.
    pub band: Option<u16>,
    pub end_ms: i64,
}

/// The zone's offset from UTC at a UTC instant, in milliseconds.
pub(crate) fn utc_offset_ms(tz: Tz, utc_ms: i64) -> Option<i64> {
    let at = DateTime::<Utc>::from_timestamp_millis(utc_ms)?;
    let seconds = tz
        .offset_from_utc_datetime(&at.naive_utc())
        .fix()
        .local_minus_utc();
    Some(i64::from(seconds) * 1000)
}

/// Splits `[start_ms, end_ms)` into slices of one band each, in order, merging neighbours of
/// the same band. `None` only for instants chrono cannot represent.
pub(crate) fn split_by_bands(
    bands: &[Band],
    start_ms: i64,
    end_ms: i64,
    tz: Tz,
    slices: &mut Vec<Slice>,
) -> Option<()> {
    let mut at = start_ms;
    let mut offset = utc_offset_ms(tz, at)?;
    loop {
        let local = at + offset;
        let day = local.div_euclid(DAY_MS);
        let (band, next_edge_ms) = band_at(bands, weekday_of(day), local.rem_euclid(DAY_MS));
        // The edge is later on the same local day (or midnight), so `limit > at`: progress.
        let limit = (day * DAY_MS + next_edge_ms - offset).min(end_ms);
        let slice_end = if utc_offset_ms(tz, limit)? == offset {
            limit
        } else {
            first_offset_change(tz, at, limit, offset)?
        };
        match slices.last_mut() {
            Some(last) if last.band == band => last.end_ms = slice_end,
            _ => slices.push(Slice {
                band,
                end_ms: slice_end,
            }),
        }
        if slice_end >= end_ms {
            return Some(());
        }
        at = slice_end;
        offset = utc_offset_ms(tz, at)?;
    }
}

/// The band in effect at `ms_of_day` local time on `day`, and the next band edge after it
/// (milliseconds of the day; the end of the day if no edge follows).
fn band_at(bands: &[Band], day: Weekday, ms_of_day: i64) -> (Option<u16>, i64) {
    let mut current = None;
    let mut next_edge = DAY_MS;
    for (index, band) in bands.iter().enumerate() {
        if !band.applies_on(day) {
            continue;
        }
        let from = i64::from(band.from.seconds()) * 1000;
        let until = i64::from(band.until.seconds()) * 1000;
        if from <= ms_of_day && ms_of_day < until {
            current = u16::try_from(index).ok();
        }
        for edge in [from, until] {
            if edge > ms_of_day && edge < next_edge {
                next_edge = edge;
            }
        }
    }
    (current, next_edge)
}

/// The first instant in `(after, by]` whose offset differs from `offset`, found by bisection;
/// the caller knows the offset at `by` differs.
fn first_offset_change(tz: Tz, after: i64, by: i64, offset: i64) -> Option<i64> {
    let (mut same, mut changed) = (after, by);
    while changed - same > 1 {
        let middle = same + (changed - same) / 2;
        if utc_offset_ms(tz, middle)? == offset {
            same = middle;
        } else {
            changed = middle;
        }
    }
    Some(changed)
}

pub(crate) fn weekday_of(epoch_day: i64) -> Weekday {
    WEEKDAY_OF_EPOCH_DAY[epoch_day.rem_euclid(7) as usize]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tariff::TimeOfDay;
    use chrono::TimeZone;
    use rust_decimal::Decimal;

    fn band(name: &str, days: &[Weekday], from: &str, until: &str) -> Band {
        Band {
            name: name.into(),
            days: days.to_vec(),
            from: from.parse::<TimeOfDay>().unwrap(),
            until: until.parse::<TimeOfDay>().unwrap(),
            rate_per_minute: Decimal::ONE,
        }
    }

    fn ms(tz: Tz, y: i32, mo: u32, d: u32, h: u32, mi: u32) -> i64 {
        tz.with_ymd_and_hms(y, mo, d, h, mi, 0)
            .single()
            .unwrap()
            .timestamp_millis()
    }

    #[test]
    fn epoch_day_weekdays() {
        assert_eq!(weekday_of(0), Weekday::Thu);
        assert_eq!(weekday_of(-1), Weekday::Wed);
        // 2025-03-03 was a Monday.
        let day = chrono::NaiveDate::from_ymd_opt(2025, 3, 3)
            .unwrap()
            .signed_duration_since(chrono::NaiveDate::from_ymd_opt(1970, 1, 1).unwrap())
            .num_days();
        assert_eq!(weekday_of(day), Weekday::Mon);
    }

    #[test]
    fn splits_at_band_edge_in_local_time() {
        let tz = chrono_tz::Europe::Bratislava;
        let bands = [band("Peak", &[Weekday::Mon], "08:00", "18:00")];
        // Monday 2025-03-03 17:55 → 18:10 CET.
        let (start, end) = (ms(tz, 2025, 3, 3, 17, 55), ms(tz, 2025, 3, 3, 18, 10));
        let mut slices = Vec::new();
        split_by_bands(&bands, start, end, tz, &mut slices).unwrap();
        assert_eq!(
            slices,
            vec![
                Slice {
                    band: Some(0),
                    end_ms: ms(tz, 2025, 3, 3, 18, 0)
                },
                Slice {
                    band: None,
                    end_ms: end
                },
            ]
        );
    }

    #[test]
    fn band_edge_inside_skipped_hour_takes_effect_at_the_jump() {
        let tz = chrono_tz::Europe::Bratislava;
        // 2025-03-30 (Sunday): clocks jump 02:00 CET → 03:00 CEST; a band from 02:30 local.
        let bands = [band("Late", &[Weekday::Sun], "02:30", "05:00")];
        let start = ms(tz, 2025, 3, 30, 1, 30);
        let end = ms(tz, 2025, 3, 30, 3, 30);
        let mut slices = Vec::new();
        split_by_bands(&bands, start, end, tz, &mut slices).unwrap();
        // 01:30 CET is 00:30 UTC, the jump is at 01:00 UTC, 03:30 CEST is 01:30 UTC.
        let jump = Utc
            .with_ymd_and_hms(2025, 3, 30, 1, 0, 0)
            .unwrap()
            .timestamp_millis();
        assert_eq!(
            slices,
            vec![
                Slice {
                    band: None,
                    end_ms: jump
                },
                Slice {
                    band: Some(0),
                    end_ms: end
                },
            ]
        );
    }

    #[test]
    fn crossing_midnight_without_bands_is_one_slice() {
        let tz = chrono_tz::America::New_York;
        let start = ms(tz, 2025, 6, 1, 23, 50);
        let end = ms(tz, 2025, 6, 2, 0, 20);
        let mut slices = Vec::new();
        split_by_bands(&[], start, end, tz, &mut slices).unwrap();
        assert_eq!(
            slices,
            vec![Slice {
                band: None,
                end_ms: end
            }]
        );
    }
}
