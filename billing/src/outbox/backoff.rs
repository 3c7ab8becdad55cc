//! When a retryable failure is tried again: exponential backoff with jitter, never sooner than
//! the provider's Retry-After.
//!
//! "Equal jitter": the n-th retry waits between half and all of `base × 2ⁿ⁻¹` (capped at
//! `max`), so retries of many rows after one outage spread out instead of arriving together,
//! and no retry comes back almost at once. Pure: the caller passes the random draw.

use std::time::Duration;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Backoff {
    /// The wait before the first retry, before jitter.
    pub base: Duration,
    /// The longest wait, before jitter.
    pub max: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Self {
            base: Duration::from_secs(2),
            max: Duration::from_secs(60 * 60),
        }
    }
}

impl Backoff {
    /// The wait after the `attempt`-th failed attempt (1 for the first), given a uniformly
    /// random `draw` and the provider's Retry-After.
    pub fn delay(&self, attempt: u32, retry_after: Option<Duration>, draw: u64) -> Duration {
        let doublings = attempt.saturating_sub(1).min(32);
        let exponential = self
            .base
            .saturating_mul(1_u32 << doublings.min(31))
            .min(self.max);
        let half = exponential / 2;
        let spread_ms = u64::try_from(half.as_millis()).unwrap_or(u64::MAX);
        let jitter = Duration::from_millis(draw % spread_ms.saturating_add(1));
        let jittered = half + jitter;
        retry_after.map_or(jittered, |asked| jittered.max(asked))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_double_between_half_and_all_of_the_step() {
        let backoff = Backoff::default();
        for (attempt, full) in [(1, 2), (2, 4), (3, 8), (4, 16)] {
            let full = Duration::from_secs(full);
            let shortest = backoff.delay(attempt, None, 0);
            let longest = backoff.delay(attempt, None, u64::MAX - 1);
            assert_eq!(shortest, full / 2, "attempt {attempt}");
            assert!(
                longest <= full && longest > full / 2,
                "attempt {attempt}: {longest:?}"
            );
        }
    }

    #[test]
    fn waits_are_capped_and_never_shorter_than_retry_after() {
        let backoff = Backoff::default();
        assert!(backoff.delay(40, None, 12_345) <= Duration::from_secs(3600));
        assert!(backoff.delay(40, None, 0) >= Duration::from_secs(1800));
        assert_eq!(
            backoff.delay(1, Some(Duration::from_secs(30)), 7),
            Duration::from_secs(30)
        );
    }

    #[test]
    fn different_draws_spread_the_same_attempt() {
        let backoff = Backoff::default();
        let waits: std::collections::BTreeSet<Duration> = (0..50_u64)
            .map(|draw| backoff.delay(5, None, draw * 7919))
            .collect();
        assert!(waits.len() > 40, "{} distinct waits", waits.len());
    }
}
