//! Billable seconds from measured duration: billing increments and the minimum.

use crate::tariff::Increments;

/// Measured seconds of a usage: every started second counts (1 ms → 1 s, 1,000 ms → 1 s,
/// 1,001 ms → 2 s), because carriers bill started seconds and call times are whole
/// milliseconds. `None` if the usage ends before it starts or lasts longer than `u32` seconds.
pub fn measured_seconds(duration_ms: i64) -> Option<u32> {
    if duration_ms < 0 {
        return None;
    }
    u32::try_from((duration_ms as u64).div_ceil(1000)).ok()
}

/// Billable seconds for `measured` seconds: 0 stays 0 (nothing to bill but the minimum); any
/// other duration is billed the whole first increment, then each started next increment whole;
/// then the minimum applies. So the result is ≥ `measured`, ≥ `minimum_seconds`, never smaller
/// for a longer usage, and either the minimum or `first + k·next`.
///
/// Returns `None` when an increment is 0 (a version that never passed validation) or the
/// result exceeds `u32`.
pub fn billable_seconds(
    measured: u32,
    increments: Increments,
    minimum_seconds: u32,
) -> Option<u32> {
    let first = u64::from(increments.first_seconds);
    let next = u64::from(increments.next_seconds);
    if first == 0 || next == 0 {
        return None;
    }
    let measured = u64::from(measured);
    let by_increments = if measured == 0 {
        0
    } else if measured <= first {
        first
    } else {
        first + (measured - first).div_ceil(next) * next
    };
    u32::try_from(by_increments.max(u64::from(minimum_seconds))).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn started_seconds_count() {
        assert_eq!(measured_seconds(0), Some(0));
        assert_eq!(measured_seconds(1), Some(1));
        assert_eq!(measured_seconds(1000), Some(1));
        assert_eq!(measured_seconds(1001), Some(2));
        assert_eq!(measured_seconds(-1), None);
    }

    #[test]
    fn increments_round_up_after_the_first_block() {
        let sixty = Increments::SIXTY_SIXTY;
        assert_eq!(billable_seconds(1, sixty, 0), Some(60));
        assert_eq!(billable_seconds(60, sixty, 0), Some(60));
        assert_eq!(billable_seconds(61, sixty, 0), Some(120));
        let thirty_six = Increments::THIRTY_SIX;
        assert_eq!(billable_seconds(29, thirty_six, 0), Some(30));
        assert_eq!(billable_seconds(31, thirty_six, 0), Some(36));
        assert_eq!(billable_seconds(95, thirty_six, 0), Some(96));
        assert_eq!(billable_seconds(7, Increments::PER_SECOND, 0), Some(7));
    }

    #[test]
    fn minimum_applies_last_and_zero_stays_zero_without_minimum() {
        assert_eq!(billable_seconds(0, Increments::SIXTY_SIXTY, 0), Some(0));
        assert_eq!(billable_seconds(0, Increments::PER_SECOND, 10), Some(10));
        assert_eq!(billable_seconds(3, Increments::PER_SECOND, 10), Some(10));
        assert_eq!(billable_seconds(11, Increments::PER_SECOND, 10), Some(11));
    }

    #[test]
    fn zero_increment_is_refused() {
        assert_eq!(billable_seconds(5, Increments::new(0, 6), 0), None);
        assert_eq!(billable_seconds(5, Increments::new(30, 0), 0), None);
    }
}
