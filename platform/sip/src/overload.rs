//! Overload detection for new calls. Every call's work runs on the same few runtime threads;
//! when more calls arrive than those threads can carry, every task waits longer for its turn
//! and every call's setup slows down together. The stack watches two kinds of lateness and,
//! while either stays high, refuses new INVITEs with 503 + Retry-After — a refusal costs a
//! fraction of a call — so the calls it does take keep their setup time:
//! - [`LagMeter`]: how late a short timer fires (the runtime's threads are all busy);
//! - [`BacklogMeter`]: how long a transport reader has found datagrams already waiting every
//!   time it read (it cannot keep up; the kernel buffer holds the rest, and what waits there
//!   is delay no timer shows).
//!
//! The meters are pure (the caller passes samples and the clock); [`Overload`] is the shared
//! verdict the stack consults per INVITE.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// The stack's current verdict, written by the probes and read once per new INVITE.
#[derive(Debug, Default)]
pub(crate) struct Overload {
    lagging: AtomicBool,
    /// Transport readers currently behind.
    backlogged: AtomicUsize,
}

impl Overload {
    pub(crate) fn refuses_new_calls(&self) -> bool {
        self.lagging.load(Ordering::Relaxed) || self.backlogged.load(Ordering::Relaxed) > 0
    }

    /// Returns the previous value.
    pub(crate) fn set_lagging(&self, lagging: bool) -> bool {
        self.lagging.swap(lagging, Ordering::Relaxed)
    }

    pub(crate) fn reader_fell_behind(&self) {
        self.backlogged.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn reader_caught_up(&self) {
        let _ = self
            .backlogged
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1));
    }
}

/// Decides from one reader's reads whether it is behind: it is when, for longer than the
/// threshold, every read found a datagram already waiting (the socket never ran empty).
#[derive(Debug)]
pub(crate) struct BacklogMeter {
    threshold: Option<Duration>,
    busy_since: Option<Instant>,
    behind: bool,
}

/// What a read changed.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum BacklogChange {
    None,
    FellBehind,
    CaughtUp,
}

impl BacklogMeter {
    pub(crate) fn new(threshold: Option<Duration>) -> Self {
        Self {
            threshold: threshold.filter(|t| !t.is_zero()),
            busy_since: None,
            behind: false,
        }
    }

    /// One read: `waiting` is whether a datagram was already there when the reader asked.
    pub(crate) fn on_read(&mut self, waiting: bool, now: Instant) -> BacklogChange {
        let Some(threshold) = self.threshold else {
            return BacklogChange::None;
        };
        if !waiting {
            self.busy_since = None;
            return if std::mem::take(&mut self.behind) {
                BacklogChange::CaughtUp
            } else {
                BacklogChange::None
            };
        }
        let since = *self.busy_since.get_or_insert(now);
        if !self.behind && now.duration_since(since) > threshold {
            self.behind = true;
            return BacklogChange::FellBehind;
        }
        BacklogChange::None
    }
}

/// Weight of the newest sample in the smoothed lag: a sample every few milliseconds, so the
/// meter follows a change within a few tens of milliseconds and ignores one late wake-up.
const SMOOTHING: f64 = 0.2;

/// Decides from timer lateness whether new calls are refused.
#[derive(Debug)]
pub(crate) struct LagMeter {
    /// Start refusing above this smoothed lag; `None` never refuses.
    threshold: Option<Duration>,
    smoothed_us: f64,
    shedding: bool,
}

impl LagMeter {
    pub(crate) fn new(threshold: Option<Duration>) -> Self {
        Self {
            threshold: threshold.filter(|t| !t.is_zero()),
            smoothed_us: 0.0,
            shedding: false,
        }
    }

    /// Take one probe's lateness and say whether new calls are refused now. Refusing starts when
    /// the smoothed lag passes the threshold and stops once it is back under half of it, so the
    /// decision does not flap on every sample at the edge.
    pub(crate) fn observe(&mut self, lag: Duration) -> bool {
        let Some(threshold) = self.threshold else {
            return false;
        };
        let sample = lag.as_secs_f64() * 1e6;
        self.smoothed_us += SMOOTHING * (sample - self.smoothed_us);
        let threshold_us = threshold.as_secs_f64() * 1e6;
        if self.shedding {
            self.shedding = self.smoothed_us > threshold_us / 2.0;
        } else {
            self.shedding = self.smoothed_us > threshold_us;
        }
        self.shedding
    }

    pub(crate) fn smoothed(&self) -> Duration {
        Duration::from_secs_f64(self.smoothed_us.max(0.0) / 1e6)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reader_that_finds_the_socket_empty_now_and_then_is_not_behind() {
        let mut meter = BacklogMeter::new(Some(Duration::from_millis(20)));
        let start = Instant::now();
        for ms in 0..1_000u64 {
            // A burst of waiting datagrams every 10 ms, drained within 5 ms.
            let waiting = ms % 10 < 5;
            let at = start + Duration::from_millis(ms);
            assert_eq!(meter.on_read(waiting, at), BacklogChange::None);
        }
    }

    #[test]
    fn a_reader_busy_past_the_threshold_is_behind_until_the_socket_runs_empty() {
        let mut meter = BacklogMeter::new(Some(Duration::from_millis(20)));
        let start = Instant::now();
        let at = |ms: u64| start + Duration::from_millis(ms);
        assert_eq!(meter.on_read(false, at(0)), BacklogChange::None);
        for ms in 1..=21 {
            assert_eq!(
                meter.on_read(true, at(ms)),
                BacklogChange::None,
                "at {ms} ms"
            );
        }
        assert_eq!(meter.on_read(true, at(22)), BacklogChange::FellBehind);
        assert_eq!(
            meter.on_read(true, at(500)),
            BacklogChange::None,
            "reported once"
        );
        assert_eq!(meter.on_read(false, at(501)), BacklogChange::CaughtUp);
        assert_eq!(meter.on_read(false, at(502)), BacklogChange::None);
    }

    #[test]
    fn readers_behind_are_counted_and_the_verdict_follows() {
        let overload = Overload::default();
        assert!(!overload.refuses_new_calls());
        overload.reader_fell_behind();
        overload.reader_fell_behind();
        overload.reader_caught_up();
        assert!(overload.refuses_new_calls(), "one reader still behind");
        overload.reader_caught_up();
        overload.reader_caught_up();
        assert!(!overload.refuses_new_calls(), "never below zero");
        assert!(!overload.set_lagging(true));
        assert!(overload.refuses_new_calls());
    }

    const MS: Duration = Duration::from_millis(1);

    fn feed(meter: &mut LagMeter, lag: Duration, times: usize) -> bool {
        (0..times)
            .map(|_| meter.observe(lag))
            .last()
            .unwrap_or(false)
    }

    #[test]
    fn a_quiet_runtime_admits_everything() {
        let mut meter = LagMeter::new(Some(20 * MS));
        assert!(!feed(&mut meter, Duration::from_micros(300), 1_000));
    }

    #[test]
    fn one_late_wake_up_does_not_refuse_calls() {
        let mut meter = LagMeter::new(Some(20 * MS));
        feed(&mut meter, MS, 100);
        assert!(!meter.observe(60 * MS), "a single 60 ms hiccup");
        assert!(!feed(&mut meter, MS, 10));
    }

    #[test]
    fn sustained_lag_refuses_until_it_falls_below_half_the_threshold() {
        let mut meter = LagMeter::new(Some(20 * MS));
        assert!(feed(&mut meter, 40 * MS, 20), "sustained 40 ms lag");
        // Between half the threshold and the threshold: still refusing (no flapping).
        assert!(feed(&mut meter, 15 * MS, 50));
        assert!(!feed(&mut meter, 5 * MS, 50), "recovered");
        // And the way back up needs the full threshold again.
        assert!(!feed(&mut meter, 15 * MS, 50));
        assert!(meter.smoothed() > 14 * MS && meter.smoothed() < 16 * MS);
    }

    #[test]
    fn no_threshold_never_refuses() {
        for threshold in [None, Some(Duration::ZERO)] {
            let mut meter = LagMeter::new(threshold);
            assert!(!feed(&mut meter, Duration::from_secs(1), 100));
        }
    }
}
