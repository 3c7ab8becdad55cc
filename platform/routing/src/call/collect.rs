//! The rules of one `collect` attempt, apart from the clock and the media: which key ends the
//! input, when the caller has waited long enough, and what the attempt gathered. The live call
//! feeds it the keys it hears and the time; it decides, so the rules are tested without a call
//! and read like the simulator's (`plugins::simulate`), which a plugin author tested against.

use tokio::time::{Duration, Instant};

use hotline_plugins::call_control::{CollectEnd, CollectOptions, Collected};

pub(crate) struct Attempt {
    max_digits: usize,
    min_digits: usize,
    terminators: String,
    first_digit: Duration,
    inter_digit: Duration,
    total_end: Option<Instant>,
    digits: String,
    terminator: Option<char>,
    /// When the prompt ended or the last key came: the digit timeouts count from there.
    waiting_since: Instant,
}

impl Attempt {
    /// An attempt starting at `started` (its total timeout counts from here, prompt included).
    pub(crate) fn new(options: &CollectOptions, started: Instant) -> Self {
        Self {
            max_digits: usize::from(options.max_digits),
            min_digits: usize::from(options.min_digits),
            terminators: options.terminators.clone(),
            first_digit: Duration::from_millis(u64::from(options.first_digit_timeout_ms)),
            inter_digit: Duration::from_millis(u64::from(options.inter_digit_timeout_ms)),
            total_end: (options.total_timeout_ms > 0)
                .then(|| started + Duration::from_millis(u64::from(options.total_timeout_ms))),
            digits: String::new(),
            terminator: None,
            waiting_since: started,
        }
    }

    /// The prompt is over at `now`, stopped by `key` if one was pressed (barge-in).
    pub(crate) fn prompt_done(&mut self, key: Option<char>, now: Instant) -> Option<CollectEnd> {
        self.waiting_since = now;
        match key {
            Some(key) => self.key(key, now),
            None => self.full(),
        }
    }

    /// The caller pressed `key` at `now`.
    pub(crate) fn key(&mut self, key: char, now: Instant) -> Option<CollectEnd> {
        self.waiting_since = now;
        if self.terminators.contains(key) {
            self.terminator = Some(key);
            return Some(CollectEnd::Terminator);
        }
        self.digits.push(key);
        self.full()
    }

    fn full(&self) -> Option<CollectEnd> {
        (self.digits.chars().count() >= self.max_digits).then_some(CollectEnd::MaxDigits)
    }

    /// Until when to wait for the next key.
    pub(crate) fn deadline(&self) -> Instant {
        let wait = if self.digits.is_empty() {
            self.first_digit
        } else {
            self.inter_digit
        };
        let digit_deadline = self.waiting_since + wait;
        match self.total_end {
            Some(total) => digit_deadline.min(total),
            None => digit_deadline,
        }
    }

    /// No key came by the deadline, at `now`.
    pub(crate) fn timed_out(&self, now: Instant) -> CollectEnd {
        if self.total_end.is_some_and(|total| now >= total) {
            CollectEnd::TotalTimeout
        } else if self.digits.is_empty() {
            CollectEnd::NoInput
        } else {
            CollectEnd::InterDigitTimeout
        }
    }

    /// What the attempt gathered, or `None` when it counts as no input (too few digits).
    pub(crate) fn finish(self, end: CollectEnd, attempt: u8) -> Option<Collected> {
        let enough = !self.digits.is_empty() && self.digits.chars().count() >= self.min_digits;
        enough.then_some(Collected {
            digits: self.digits,
            terminator: self.terminator,
            end,
            attempts: attempt,
        })
    }
}

/// Every attempt ended without enough digits.
pub(crate) fn no_input(options: &CollectOptions) -> Collected {
    Collected {
        digits: String::new(),
        terminator: None,
        end: CollectEnd::NoInput,
        attempts: options.retries + 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options(max: u8, terminators: &str) -> CollectOptions {
        CollectOptions {
            prompt: None,
            retry_prompt: None,
            min_digits: 1,
            max_digits: max,
            terminators: terminators.into(),
            first_digit_timeout_ms: 5_000,
            inter_digit_timeout_ms: 2_000,
            total_timeout_ms: 0,
            retries: 0,
        }
    }

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn input_ends_at_max_digits_or_a_terminator_which_is_not_part_of_it() {
        let t0 = Instant::now();
        let mut attempt = Attempt::new(&options(3, "#"), t0);
        assert_eq!(
            attempt.prompt_done(Some('1'), t0 + ms(100)),
            None,
            "barge-in key"
        );
        assert_eq!(attempt.key('2', t0 + ms(300)), None);
        assert_eq!(attempt.key('#', t0 + ms(500)), Some(CollectEnd::Terminator));
        let got = attempt.finish(CollectEnd::Terminator, 1).unwrap();
        assert_eq!((got.digits.as_str(), got.terminator), ("12", Some('#')));

        let mut attempt = Attempt::new(&options(2, "#"), t0);
        attempt.prompt_done(None, t0);
        attempt.key('4', t0 + ms(10));
        assert_eq!(attempt.key('2', t0 + ms(20)), Some(CollectEnd::MaxDigits));
    }

    #[test]
    fn timeouts_count_from_the_prompt_end_and_the_last_key() {
        let t0 = Instant::now();
        let mut attempt = Attempt::new(&options(5, ""), t0);
        attempt.prompt_done(None, t0 + ms(3_000));
        assert_eq!(
            attempt.deadline(),
            t0 + ms(8_000),
            "first-digit timeout after the prompt"
        );
        assert_eq!(attempt.timed_out(t0 + ms(8_000)), CollectEnd::NoInput);
        attempt.key('7', t0 + ms(4_000));
        assert_eq!(attempt.deadline(), t0 + ms(6_000), "inter-digit timeout");
        assert_eq!(
            attempt.timed_out(t0 + ms(6_000)),
            CollectEnd::InterDigitTimeout
        );
    }

    #[test]
    fn the_total_timeout_caps_every_wait() {
        let t0 = Instant::now();
        let mut total = options(5, "");
        total.total_timeout_ms = 4_000;
        let mut attempt = Attempt::new(&total, t0);
        attempt.prompt_done(None, t0 + ms(3_000));
        assert_eq!(attempt.deadline(), t0 + ms(4_000));
        assert_eq!(attempt.timed_out(t0 + ms(4_000)), CollectEnd::TotalTimeout);
    }

    #[test]
    fn too_few_digits_or_only_a_terminator_is_no_input() {
        let t0 = Instant::now();
        let mut four = options(6, "#");
        four.min_digits = 4;
        let mut attempt = Attempt::new(&four, t0);
        attempt.key('1', t0);
        attempt.key('#', t0);
        assert!(attempt.finish(CollectEnd::Terminator, 1).is_none());
        let mut attempt = Attempt::new(&options(3, "#"), t0);
        attempt.key('#', t0);
        assert!(attempt.finish(CollectEnd::Terminator, 1).is_none());
        assert_eq!(no_input(&options(3, "")).end, CollectEnd::NoInput);
    }
}
