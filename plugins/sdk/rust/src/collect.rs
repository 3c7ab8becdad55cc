//! `call.collect()`: gathering keys with a prompt, limits, timeouts and retries. The defaults
//! suit a one-key menu (1 key, 5 s for the first key, 3 s between keys, no retries); every
//! setter overrides one of them.

use crate::bindings::wit_call::{self, CollectOptions};
pub use crate::bindings::wit_call::{CollectEnd, Collected};
use crate::call::{Call, IntoPrompt};
use crate::Result;

/// A `collect` being configured; [`Collect::run`] asks the caller.
#[must_use = "a Collect does nothing until .run()"]
pub struct Collect<'c> {
    _call: &'c mut Call,
    options: CollectOptions,
}

impl<'c> Collect<'c> {
    pub(crate) fn new(call: &'c mut Call) -> Self {
        Self {
            _call: call,
            options: CollectOptions {
                prompt: None,
                retry_prompt: None,
                min_digits: 1,
                max_digits: 1,
                terminators: String::new(),
                first_digit_timeout_ms: 5_000,
                inter_digit_timeout_ms: 3_000,
                total_timeout_ms: 0,
                retries: 0,
            },
        }
    }

    /// Played at each attempt; a key pressed while it plays starts the input.
    pub fn prompt(mut self, prompt: impl IntoPrompt) -> Self {
        self.options.prompt = Some(prompt.into_prompt());
        self
    }

    /// Played before each attempt after the first ("sorry, I did not get that").
    pub fn retry_prompt(mut self, prompt: impl IntoPrompt) -> Self {
        self.options.retry_prompt = Some(prompt.into_prompt());
        self
    }

    /// Input ends when this many keys were pressed (1 to 32).
    pub fn max_digits(mut self, n: u8) -> Self {
        self.options.max_digits = n;
        if self.options.min_digits > n {
            self.options.min_digits = n;
        }
        self
    }

    /// Fewer keys than this is no input (0 to 32).
    pub fn min_digits(mut self, n: u8) -> Self {
        self.options.min_digits = n;
        self
    }

    /// Keys that end the input and are not part of it, e.g. `"#"`.
    pub fn terminators(mut self, keys: &str) -> Self {
        self.options.terminators = keys.to_string();
        self
    }

    /// How long to wait for the first key after the prompt ended, in milliseconds.
    pub fn first_digit_timeout_ms(mut self, ms: u32) -> Self {
        self.options.first_digit_timeout_ms = ms;
        self
    }

    /// How long to wait for each key after the previous one, in milliseconds.
    pub fn inter_digit_timeout_ms(mut self, ms: u32) -> Self {
        self.options.inter_digit_timeout_ms = ms;
        self
    }

    /// The longest an attempt may take, prompt included (0: no limit but the others).
    pub fn total_timeout_ms(mut self, ms: u32) -> Self {
        self.options.total_timeout_ms = ms;
        self
    }

    /// More attempts after one that ended with no input (0 to 5).
    pub fn retries(mut self, n: u8) -> Self {
        self.options.retries = n;
        self
    }

    /// The options as they will be sent.
    pub fn options(&self) -> &CollectOptions {
        &self.options
    }

    /// Ask the caller.
    pub fn run(self) -> Result<Collected> {
        Ok(wit_call::collect(&self.options)?)
    }
}

impl Collected {
    /// Every attempt ended without enough keys.
    pub fn is_no_input(&self) -> bool {
        matches!(self.end, CollectEnd::NoInput)
    }

    /// The keys as text (empty on no input).
    pub fn as_str(&self) -> &str {
        &self.digits
    }
}

#[cfg(test)]
mod tests {
    use crate::call::Call;
    use crate::{CallInfo, LocalTime, ScheduleBranch, Weekday};

    pub(crate) fn call() -> Call {
        Call::new(CallInfo {
            call_id: "c".into(),
            hotline_id: "h".into(),
            hotline_name: "main".into(),
            caller: "+421900123456".into(),
            dialed: "+421233000111".into(),
            language: "en".into(),
            arrived_at: LocalTime {
                year: 2026,
                month: 3,
                day: 2,
                hour: 9,
                minute: 30,
                second: 0,
                weekday: Weekday::Monday,
                utc_offset_seconds: 3600,
                unix_millis: 0,
                time_zone: "Europe/Bratislava".into(),
            },
            branch: ScheduleBranch::Open,
            vars: Vec::new(),
        })
    }

    #[test]
    fn defaults_suit_a_one_key_menu_and_setters_override_them() {
        let mut call = call();
        let collect = call.collect();
        let o = collect.options();
        assert_eq!((o.min_digits, o.max_digits, o.retries), (1, 1, 0));
        assert_eq!(
            (o.first_digit_timeout_ms, o.inter_digit_timeout_ms),
            (5_000, 3_000)
        );
        assert!(o.prompt.is_none() && o.terminators.is_empty());
        let collect = call
            .collect()
            .prompt("pin")
            .max_digits(6)
            .min_digits(4)
            .terminators("#")
            .retries(2);
        let o = collect.options();
        assert_eq!((o.min_digits, o.max_digits, o.retries), (4, 6, 2));
        assert_eq!(o.terminators, "#");
        // A maximum below the minimum lowers the minimum with it.
        let collect = call.collect().min_digits(3).max_digits(2);
        assert_eq!(collect.options().min_digits, 2);
    }

    #[test]
    fn the_call_tells_what_the_host_said() {
        let call = call();
        assert_eq!(call.caller(), "+421900123456");
        assert!(!call.is_anonymous());
        assert!(call.is_open());
        assert_eq!(call.arrived_at().minute_of_day(), 570);
        assert_eq!(call.arrived_at().date(), "2026-03-02");
        assert_eq!(call.arrived_at().month_day(), "03-02");
        assert!(!call.arrived_at().is_weekend());
    }
}
