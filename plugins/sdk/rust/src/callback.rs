//! `call.offer_callback("sales")`: offering the caller a call back instead of waiting.

use crate::bindings::wit_call::{self, CallbackDecision, CallbackOptions};
use crate::call::{Call, IntoPrompt};
use crate::Result;

/// An `offer-callback` being configured; [`OfferCallback::run`] asks the caller.
#[must_use = "an OfferCallback does nothing until .run()"]
pub struct OfferCallback<'c> {
    _call: &'c mut Call,
    options: CallbackOptions,
}

impl<'c> OfferCallback<'c> {
    pub(crate) fn new(call: &'c mut Call, queue: &str) -> Self {
        Self {
            _call: call,
            options: CallbackOptions {
                queue: queue.to_string(),
                prompt: None,
                accept_digit: '1',
                timeout_ms: 5_000,
                number: None,
            },
        }
    }

    /// Played to ask ("press 1 to be called back").
    pub fn prompt(mut self, prompt: impl IntoPrompt) -> Self {
        self.options.prompt = Some(prompt.into_prompt());
        self
    }

    /// The key that accepts (default `1`).
    pub fn accept_digit(mut self, key: char) -> Self {
        self.options.accept_digit = key;
        self
    }

    /// How long to wait for the key, in milliseconds (default 5,000, at most 60,000).
    pub fn timeout_ms(mut self, ms: u32) -> Self {
        self.options.timeout_ms = ms;
        self
    }

    /// Call back this number instead of the caller's.
    pub fn number(mut self, number: &str) -> Self {
        self.options.number = Some(number.to_string());
        self
    }

    pub fn run(self) -> Result<CallbackDecision> {
        Ok(wit_call::offer_callback(&self.options)?)
    }
}
