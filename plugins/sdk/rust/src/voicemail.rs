//! `call.record_voicemail()`: recording a message into the tenant's voicemail.

use crate::bindings::wit_call::{self, Voicemail, VoicemailOptions};
use crate::call::{Call, IntoPrompt};
use crate::Result;

/// A recording being configured; [`RecordVoicemail::run`] records.
#[must_use = "a RecordVoicemail does nothing until .run()"]
pub struct RecordVoicemail<'c> {
    _call: &'c mut Call,
    options: VoicemailOptions,
}

impl<'c> RecordVoicemail<'c> {
    pub(crate) fn new(call: &'c mut Call) -> Self {
        Self {
            _call: call,
            options: VoicemailOptions {
                prompt: None,
                max_duration_ms: 120_000,
                silence_timeout_ms: 5_000,
                terminators: "#".to_string(),
                beep: true,
            },
        }
    }

    /// Played before the beep.
    pub fn prompt(mut self, prompt: impl IntoPrompt) -> Self {
        self.options.prompt = Some(prompt.into_prompt());
        self
    }

    /// Longest message in milliseconds (1,000 to 600,000; default 120,000).
    pub fn max_duration_ms(mut self, ms: u32) -> Self {
        self.options.max_duration_ms = ms;
        self
    }

    /// Silence that ends the message (default 5,000 ms; 0 for none).
    pub fn silence_timeout_ms(mut self, ms: u32) -> Self {
        self.options.silence_timeout_ms = ms;
        self
    }

    /// Keys that end the message (default `#`).
    pub fn terminators(mut self, keys: &str) -> Self {
        self.options.terminators = keys.to_string();
        self
    }

    /// Play a beep first (default yes).
    pub fn beep(mut self, beep: bool) -> Self {
        self.options.beep = beep;
        self
    }

    pub fn run(self) -> Result<Voicemail> {
        Ok(wit_call::record_voicemail(&self.options)?)
    }
}
