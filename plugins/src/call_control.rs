//! The seam between the IVR host and whoever owns the call: [`CallControl`].
//!
//! The call engine (`routing`) implements it on a live call (media, DTMF, queues, legs); the
//! simulator implements it with scripted keys, prompts and queues. The host calls it only after
//! checking the guest's arguments, and never after the call was handed off or the caller hung
//! up. An implementation carries this one call only: it must never let a name (a queue, an
//! agent, a prompt) resolve outside the call's tenant.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

pub use crate::bindings::ivr::hotline::plugin::call::{
    CallError, CallbackDecision, CallbackOptions, CollectEnd, CollectOptions, Collected,
    EnqueueOptions, HangupCause, PlayOptions, Prompt, QueueTicket, TransferTarget, Voicemail,
    VoicemailOptions,
};

/// One call, as the IVR plugin may drive it. Every method is cancellation-safe: the host drops
/// the future when the call's CPU budget or wall clock runs out, or when its own caller drops
/// the run.
#[async_trait]
pub trait CallControl: Send {
    /// Answer the call if it is not answered yet.
    async fn answer(&mut self) -> Result<(), CallError>;
    /// Play a prompt; the key that stopped it on barge-in.
    async fn play(
        &mut self,
        prompt: &Prompt,
        options: &PlayOptions,
    ) -> Result<Option<char>, CallError>;
    /// Collect digits (options already checked against their ranges).
    async fn collect(&mut self, options: &CollectOptions) -> Result<Collected, CallError>;
    /// Speak digits (only `0-9`, `*`, `#`).
    async fn say_digits(&mut self, digits: &str) -> Result<(), CallError>;
    /// Speak a number.
    async fn say_number(&mut self, number: i64) -> Result<(), CallError>;
    /// Record a voicemail.
    async fn record_voicemail(
        &mut self,
        options: &VoicemailOptions,
    ) -> Result<Voicemail, CallError>;
    /// Put the call in the tenant's queue of that name. Success hands the call off.
    async fn enqueue(
        &mut self,
        queue: &str,
        options: &EnqueueOptions,
    ) -> Result<QueueTicket, CallError>;
    /// Transfer the call. Success hands the call off.
    async fn transfer(&mut self, target: &TransferTarget) -> Result<(), CallError>;
    /// Offer a callback from the tenant's queue.
    async fn offer_callback(
        &mut self,
        options: &CallbackOptions,
    ) -> Result<CallbackDecision, CallError>;
    /// End the call.
    async fn hangup(&mut self, cause: HangupCause) -> Result<(), CallError>;
    /// Now on the call's clock: the wall clock on a live call, the scenario's clock in the
    /// simulator.
    fn now(&self) -> DateTime<Utc>;
    /// Move the call's clock on after a host call that took `millis` of simulated time (an
    /// HTTP response's delay in the simulator). Live calls ignore it: their clock moves itself.
    fn advance(&mut self, _millis: u64) {}
}
