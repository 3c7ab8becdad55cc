//! The caller's call: what is known of it ([`Call::caller`], [`Call::is_open`], ...) and every
//! call-control verb as a method. Each method is a host call that suspends the plugin (no CPU
//! budget is used while a prompt plays or keys are awaited).
//!
//! Once `enqueue` or a transfer succeeded, or the caller hung up, the host refuses every further
//! verb with `handed-off` or `hung-up`; with `?` those end the handler with the right outcome.

use crate::bindings::wit_call::{self, PlayOptions};
pub use crate::bindings::wit_call::{
    CallbackDecision, HangupCause, Prompt, QueueTicket, Voicemail,
};
pub use crate::bindings::wit_types::{CallInfo, LocalTime, ScheduleBranch, Var, Weekday};
use crate::callback::OfferCallback;
use crate::collect::Collect;
use crate::enqueue::Enqueue;
use crate::voicemail::RecordVoicemail;
use crate::Result;

/// Something to play: a prompt's name converts (`"welcome"`), [`silence`] makes a pause.
pub trait IntoPrompt {
    fn into_prompt(self) -> Prompt;
}

impl IntoPrompt for Prompt {
    fn into_prompt(self) -> Prompt {
        self
    }
}

impl IntoPrompt for &str {
    fn into_prompt(self) -> Prompt {
        Prompt::Named(self.to_string())
    }
}

impl IntoPrompt for String {
    fn into_prompt(self) -> Prompt {
        Prompt::Named(self)
    }
}

impl IntoPrompt for &String {
    fn into_prompt(self) -> Prompt {
        Prompt::Named(self.clone())
    }
}

/// A pause of `ms` milliseconds (at most 60,000).
pub fn silence(ms: u32) -> Prompt {
    Prompt::Silence(ms)
}

/// The call an IVR plugin runs for.
#[derive(Debug)]
pub struct Call {
    info: CallInfo,
}

impl Call {
    /// Wrap the host's call info (the `#[hotline::ivr]` glue does this for you).
    pub fn new(info: CallInfo) -> Self {
        Self { info }
    }

    /// Everything the host said about the call.
    pub fn info(&self) -> &CallInfo {
        &self.info
    }

    /// The caller's number in E.164, or `anonymous`.
    pub fn caller(&self) -> &str {
        &self.info.caller
    }

    /// The caller withheld the number.
    pub fn is_anonymous(&self) -> bool {
        self.info.caller == "anonymous"
    }

    /// The number the caller dialed.
    pub fn dialed(&self) -> &str {
        &self.info.dialed
    }

    /// The hotline's prompt language (BCP 47, e.g. `en`).
    pub fn language(&self) -> &str {
        &self.info.language
    }

    pub fn hotline_name(&self) -> &str {
        &self.info.hotline_name
    }

    pub fn call_id(&self) -> &str {
        &self.info.call_id
    }

    /// When the call arrived, on the tenant's clock.
    pub fn arrived_at(&self) -> &LocalTime {
        &self.info.arrived_at
    }

    /// The hotline's schedule says it is open.
    pub fn is_open(&self) -> bool {
        matches!(self.info.branch, ScheduleBranch::Open)
    }

    /// Answer the call (playing or collecting answers it too).
    pub fn answer(&mut self) -> Result<()> {
        Ok(wit_call::answer()?)
    }

    /// Play a prompt to its end.
    pub fn play(&mut self, prompt: impl IntoPrompt) -> Result<()> {
        wit_call::play(
            &prompt.into_prompt(),
            &PlayOptions {
                barge_in: false,
                barge_in_digits: String::new(),
            },
        )?;
        Ok(())
    }

    /// Play a prompt that one of `keys` (empty: any key) stops; the key, if one was pressed.
    pub fn play_interruptible(
        &mut self,
        prompt: impl IntoPrompt,
        keys: &str,
    ) -> Result<Option<char>> {
        Ok(wit_call::play(
            &prompt.into_prompt(),
            &PlayOptions {
                barge_in: true,
                barge_in_digits: keys.to_string(),
            },
        )?)
    }

    /// Gather the caller's keys: configure the returned [`Collect`] and `.run()` it.
    pub fn collect(&mut self) -> Collect<'_> {
        Collect::new(self)
    }

    /// Speak digits one by one (`"0421"`).
    pub fn say_digits(&mut self, digits: &str) -> Result<()> {
        Ok(wit_call::say_digits(digits)?)
    }

    /// Speak a whole number (`421`: four hundred twenty-one).
    pub fn say_number(&mut self, number: i64) -> Result<()> {
        Ok(wit_call::say_number(number)?)
    }

    /// Put the caller in one of the tenant's queues; configure and `.run()` it.
    pub fn enqueue(&mut self, queue: &str) -> Enqueue<'_> {
        Enqueue::new(self, queue)
    }

    /// Hand the call to one of the tenant's agents (SIP username).
    pub fn transfer_to_agent(&mut self, agent: &str) -> Result<()> {
        Ok(wit_call::transfer(&wit_call::TransferTarget::Agent(
            agent.to_string(),
        ))?)
    }

    /// Hand the call to one of the tenant's queues.
    pub fn transfer_to_queue(&mut self, queue: &str) -> Result<()> {
        Ok(wit_call::transfer(&wit_call::TransferTarget::Queue(
            queue.to_string(),
        ))?)
    }

    /// Forward the call to an external E.164 number.
    pub fn transfer_to_number(&mut self, number: &str) -> Result<()> {
        Ok(wit_call::transfer(&wit_call::TransferTarget::Number(
            number.to_string(),
        ))?)
    }

    /// Offer a callback from `queue`'s agents; configure and `.run()` it.
    pub fn offer_callback(&mut self, queue: &str) -> OfferCallback<'_> {
        OfferCallback::new(self, queue)
    }

    /// Record a voicemail; configure and `.run()` it.
    pub fn record_voicemail(&mut self) -> RecordVoicemail<'_> {
        RecordVoicemail::new(self)
    }

    /// Set a variable: it goes into the call record and the agent's screen pop.
    pub fn set_var(&mut self, name: &str, value: impl AsRef<str>) -> Result<()> {
        Ok(wit_call::set_var(name, value.as_ref())?)
    }

    /// A variable of the call, if set (by this plugin, an earlier one or the call engine).
    pub fn var(&self, name: &str) -> Option<String> {
        wit_call::get_var(name)
    }

    /// All variables of the call.
    pub fn vars(&self) -> Vec<Var> {
        wit_call::vars()
    }

    /// End the call normally.
    pub fn hangup(&mut self) -> Result<()> {
        self.hangup_with(HangupCause::Normal)
    }

    /// End the call with a cause (busy, rejected, unavailable).
    pub fn hangup_with(&mut self, cause: HangupCause) -> Result<()> {
        Ok(wit_call::hangup(cause)?)
    }
}
