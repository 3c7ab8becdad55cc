//! CPU accounting by epochs. A ticker thread advances a shared tick counter and the engine's
//! epoch every tick; the store's epoch-deadline callback fires at every tick the guest is
//! running and charges the call only for the ticks the guest ran: time spent in host calls
//! (waiting for digits, a prompt, an HTTP answer) and time spent queued behind other tasks after
//! a yield are not charged. A plain `set_epoch_deadline` + trap would kill a guest that merely
//! waited for the caller longer than its CPU budget.
//!
//! This module must never block the executor: the ticker is its own thread, and the callback
//! answers "yield" every tick, so one spinning guest cannot starve other calls on its thread.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

/// The epoch ticker: one thread per host.
pub struct Ticker {
    ticks: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
    tick: Duration,
}

impl Ticker {
    pub fn start(engine: wasmtime::Engine, tick: Duration) -> Self {
        let ticks = Arc::new(AtomicU64::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let (ticks, stop) = (ticks.clone(), stop.clone());
            std::thread::Builder::new()
                .name("plugin-epoch".into())
                .spawn(move || {
                    while !stop.load(Ordering::Relaxed) {
                        std::thread::sleep(tick);
                        ticks.fetch_add(1, Ordering::Relaxed);
                        engine.increment_epoch();
                    }
                })
                .ok()
        };
        Self {
            ticks,
            stop,
            thread,
            tick,
        }
    }

    pub fn clock(&self) -> TickClock {
        TickClock {
            ticks: self.ticks.clone(),
            tick: self.tick,
        }
    }
}

impl Drop for Ticker {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// A reader of the ticker's counter.
#[derive(Clone, Debug)]
pub struct TickClock {
    ticks: Arc<AtomicU64>,
    tick: Duration,
}

impl TickClock {
    pub fn now(&self) -> u64 {
        self.ticks.load(Ordering::Relaxed)
    }

    pub fn tick(&self) -> Duration {
        self.tick
    }
}

/// What the deadline callback decides.
#[derive(Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Within budget: yield to the executor, then run on.
    Yield,
    /// The budget is spent: stop the guest.
    Exhausted,
}

/// One call's CPU account.
#[derive(Debug)]
pub struct CpuMeter {
    clock: TickClock,
    budget_ticks: u64,
    used_ticks: u64,
    /// Guest ticks seen at host-call entries since the last deadline callback.
    pending_ticks: u64,
    /// The tick from which guest running time is counted: set when the guest starts, when a
    /// host call returns, and when the executor resumes the guest after a yield.
    charge_from: Arc<AtomicU64>,
}

impl CpuMeter {
    pub fn new(clock: TickClock, budget: Duration) -> Self {
        let tick_nanos = clock.tick().as_nanos().max(1);
        let budget_ticks =
            u64::try_from(budget.as_nanos().div_ceil(tick_nanos)).unwrap_or(u64::MAX);
        let charge_from = Arc::new(AtomicU64::new(clock.now()));
        Self {
            clock,
            budget_ticks: budget_ticks.max(1),
            used_ticks: 0,
            pending_ticks: 0,
            charge_from,
        }
    }

    /// Start counting now (the guest is about to run).
    pub fn start(&mut self) {
        self.charge_from.store(self.clock.now(), Ordering::Relaxed);
    }

    /// The guest called the host: what it ran since it last started is charged. Returns
    /// `Exhausted` when that spent the budget (a guest that never runs a whole tick between
    /// host calls is caught here, not by the callback).
    pub fn enter_host(&mut self) -> Verdict {
        let now = self.clock.now();
        self.pending_ticks += now
            .saturating_sub(self.charge_from.load(Ordering::Relaxed))
            .min(1);
        self.charge_from.store(now, Ordering::Relaxed);
        if self.used_ticks + self.pending_ticks > self.budget_ticks {
            Verdict::Exhausted
        } else {
            Verdict::Yield
        }
    }

    /// The host call returns: the guest runs again from now.
    pub fn leave_host(&mut self) {
        self.charge_from.store(self.clock.now(), Ordering::Relaxed);
    }

    /// The epoch deadline passed while the guest was running.
    pub fn on_deadline(&mut self) -> Verdict {
        let now = self.clock.now();
        let ran = now
            .saturating_sub(self.charge_from.load(Ordering::Relaxed))
            .min(1);
        self.used_ticks += self.pending_ticks + ran;
        self.pending_ticks = 0;
        self.charge_from.store(now, Ordering::Relaxed);
        if self.used_ticks > self.budget_ticks {
            Verdict::Exhausted
        } else {
            Verdict::Yield
        }
    }

    /// A future that yields to the executor once and restarts the count when it is resumed,
    /// so time spent queued behind other tasks is not charged.
    pub fn yield_now(&self) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>> {
        let charge_from = self.charge_from.clone();
        let clock = self.clock.clone();
        Box::pin(async move {
            tokio::task::yield_now().await;
            charge_from.store(clock.now(), Ordering::Relaxed);
        })
    }

    /// CPU charged so far (whole ticks, pending included).
    pub fn used(&self) -> Duration {
        self.clock.tick() * u32::try_from(self.used_ticks + self.pending_ticks).unwrap_or(u32::MAX)
    }

    pub fn budget(&self) -> Duration {
        self.clock.tick() * u32::try_from(self.budget_ticks).unwrap_or(u32::MAX)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manual_clock() -> (Arc<AtomicU64>, TickClock) {
        let ticks = Arc::new(AtomicU64::new(100));
        let clock = TickClock {
            ticks: ticks.clone(),
            tick: Duration::from_millis(1),
        };
        (ticks, clock)
    }

    #[test]
    fn waiting_in_host_calls_is_not_charged() {
        let (ticks, clock) = manual_clock();
        let mut meter = CpuMeter::new(clock, Duration::from_millis(5));
        meter.start();
        // The guest runs 2 ticks: the callback sees the first, the host call the second.
        ticks.fetch_add(1, Ordering::Relaxed);
        assert_eq!(meter.on_deadline(), Verdict::Yield);
        ticks.fetch_add(1, Ordering::Relaxed);
        assert_eq!(meter.enter_host(), Verdict::Yield);
        ticks.fetch_add(30_000, Ordering::Relaxed); // 30 s waiting for digits
        meter.leave_host();
        ticks.fetch_add(1, Ordering::Relaxed);
        assert_eq!(meter.on_deadline(), Verdict::Yield);
        assert_eq!(meter.used(), Duration::from_millis(3));
    }

    #[test]
    fn ticks_the_guest_was_not_running_count_once() {
        let (ticks, clock) = manual_clock();
        let mut meter = CpuMeter::new(clock, Duration::from_millis(5));
        meter.start();
        // Descheduled (or parked in an unwrapped import) for 50 ticks, then observed.
        ticks.fetch_add(50, Ordering::Relaxed);
        assert_eq!(meter.on_deadline(), Verdict::Yield);
        ticks.fetch_add(50, Ordering::Relaxed);
        assert_eq!(meter.enter_host(), Verdict::Yield);
        assert_eq!(meter.used(), Duration::from_millis(2));
    }

    #[test]
    fn running_past_the_budget_is_exhausted() {
        let (ticks, clock) = manual_clock();
        let mut meter = CpuMeter::new(clock, Duration::from_millis(3));
        meter.start();
        let mut verdicts = Vec::new();
        for _ in 0..5 {
            ticks.fetch_add(1, Ordering::Relaxed);
            verdicts.push(meter.on_deadline());
        }
        assert_eq!(
            verdicts,
            vec![
                Verdict::Yield,
                Verdict::Yield,
                Verdict::Yield,
                Verdict::Exhausted,
                Verdict::Exhausted
            ]
        );
    }

    #[test]
    fn a_guest_that_only_calls_the_host_is_caught_at_a_host_call() {
        let (ticks, clock) = manual_clock();
        let mut meter = CpuMeter::new(clock, Duration::from_millis(2));
        meter.start();
        let mut exhausted = false;
        for _ in 0..10 {
            ticks.fetch_add(1, Ordering::Relaxed);
            if meter.enter_host() == Verdict::Exhausted {
                exhausted = true;
                break;
            }
            meter.leave_host();
        }
        assert!(exhausted);
    }
}
