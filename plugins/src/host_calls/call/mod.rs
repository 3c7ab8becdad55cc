//! `hotline:plugin/call`: the IVR's call control, delegated to the call's [`CallControl`]
//! after the checks every verb shares ([`begin`]): the rate cap, and no call control once the
//! caller hung up or the call was handed off. One module per verb.
//!
//! [`CallControl`]: crate::call_control::CallControl

mod answer;
mod callback;
mod collect;
mod enqueue;
mod hangup;
mod play;
mod say;
mod transfer;
mod vars;
mod voicemail;

use crate::bindings::ivr::hotline::plugin::call::{
    CallError, CallbackDecision, CallbackOptions, CollectOptions, Collected, EnqueueOptions,
    HangupCause, Host, PlayOptions, Prompt, QueueTicket, TransferTarget, Var, Voicemail,
    VoicemailOptions,
};
use crate::call_control::CallControl;
use crate::host::state::CallState;

type Answer<T> = wasmtime::Result<Result<T, CallError>>;

/// The checks before a verb reaches the call. `Ok(Err(..))` is an answer for the guest.
pub(super) fn begin<'a>(
    state: &'a mut CallState,
    function: &str,
) -> wasmtime::Result<Result<&'a mut dyn CallControl, CallError>> {
    if !state.enter(function)? {
        state.leave();
        return Ok(Err(CallError::RateLimited));
    }
    let refusal = if state.progress.hung_up {
        Some(CallError::HungUp)
    } else if state.progress.handed_off {
        Some(CallError::HandedOff)
    } else {
        None
    };
    if let Some(refusal) = refusal {
        state.leave();
        return Ok(Err(refusal));
    }
    match state.control.as_deref_mut() {
        Some(control) => Ok(Ok(control)),
        None => Ok(Err(CallError::Unavailable(
            "this world has no call control".into(),
        ))),
    }
}

/// After a verb: remember a hang-up, end the host call.
pub(super) fn finish<T>(state: &mut CallState, result: Result<T, CallError>) -> Answer<T> {
    if matches!(result, Err(CallError::HungUp)) {
        state.progress.hung_up = true;
    }
    state.leave();
    Ok(result)
}

/// Refuse an argument before the call sees it.
pub(super) fn refuse<T>(state: &mut CallState, function: &str, detail: String) -> Answer<T> {
    state.note("error", format!("{function} -> invalid-argument: {detail}"));
    state.leave();
    Ok(Err(CallError::InvalidArgument(detail)))
}

/// Checks a prompt's arguments.
pub(super) fn check_prompt(prompt: &Prompt) -> Result<(), String> {
    match prompt {
        Prompt::Named(name) if name.is_empty() || name.len() > 128 => {
            Err("a prompt name is 1 to 128 bytes".into())
        }
        Prompt::Silence(ms) if *ms > 60_000 => Err("silence is at most 60000 ms".into()),
        _ => Ok(()),
    }
}

/// Keys a caller can press.
pub(super) fn is_key(c: char) -> bool {
    matches!(c, '0'..='9' | '*' | '#' | 'A'..='D')
}

impl Host for CallState {
    async fn answer(&mut self) -> Answer<()> {
        answer::run(self).await
    }

    async fn play(&mut self, prompt: Prompt, options: PlayOptions) -> Answer<Option<char>> {
        play::run(self, prompt, options).await
    }

    async fn collect(&mut self, options: CollectOptions) -> Answer<Collected> {
        collect::run(self, options).await
    }

    async fn say_digits(&mut self, digits: String) -> Answer<()> {
        say::digits(self, digits).await
    }

    async fn say_number(&mut self, number: i64) -> Answer<()> {
        say::number(self, number).await
    }

    async fn record_voicemail(&mut self, options: VoicemailOptions) -> Answer<Voicemail> {
        voicemail::run(self, options).await
    }

    async fn enqueue(&mut self, queue: String, options: EnqueueOptions) -> Answer<QueueTicket> {
        enqueue::run(self, queue, options).await
    }

    async fn transfer(&mut self, target: TransferTarget) -> Answer<()> {
        transfer::run(self, target).await
    }

    async fn offer_callback(&mut self, options: CallbackOptions) -> Answer<CallbackDecision> {
        callback::run(self, options).await
    }

    async fn set_var(&mut self, name: String, value: String) -> Answer<()> {
        vars::set(self, name, value)
    }

    async fn get_var(&mut self, name: String) -> wasmtime::Result<Option<String>> {
        vars::get(self, name)
    }

    async fn vars(&mut self) -> wasmtime::Result<Vec<Var>> {
        vars::all(self)
    }

    async fn hangup(&mut self, cause: HangupCause) -> Answer<()> {
        hangup::run(self, cause).await
    }
}
