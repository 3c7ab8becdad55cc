//! `offer-callback`: ask the caller whether a queue's agent should call back.

use super::{begin, check_prompt, finish, is_key, refuse, Answer};
use crate::bindings::ivr::hotline::plugin::call::{CallbackDecision, CallbackOptions};
use crate::host::state::CallState;

pub(super) fn check(options: &CallbackOptions) -> Result<(), String> {
    if options.queue.is_empty() || options.queue.len() > 128 {
        return Err("a queue name is 1 to 128 bytes".into());
    }
    if !is_key(options.accept_digit) {
        return Err("accept-digit is one of 0-9, *, # and A-D".into());
    }
    if options.timeout_ms == 0 || options.timeout_ms > 60_000 {
        return Err("timeout-ms is 1 to 60000".into());
    }
    if let Some(number) = &options.number {
        hotline_core::e164::normalize(number)
            .map_err(|e| format!("{number:?} is not an E.164 number: {e}"))?;
    }
    if let Some(prompt) = &options.prompt {
        check_prompt(prompt)?;
    }
    Ok(())
}

pub(super) async fn run(
    state: &mut CallState,
    options: CallbackOptions,
) -> Answer<CallbackDecision> {
    if let Err(detail) = check(&options) {
        if !state.enter("offer-callback")? {
            state.leave();
            return Ok(Err(crate::call_control::CallError::RateLimited));
        }
        return refuse(state, "offer-callback", detail);
    }
    let control = match begin(state, "offer-callback")? {
        Ok(control) => control,
        Err(e) => return Ok(Err(e)),
    };
    let result = control.offer_callback(&options).await;
    finish(state, result)
}
