//! `record-voicemail`: a message from the caller into the tenant's voicemail.

use super::{begin, check_prompt, finish, is_key, refuse, Answer};
use crate::bindings::ivr::hotline::plugin::call::{Voicemail, VoicemailOptions};
use crate::host::state::CallState;

pub(super) fn check(options: &VoicemailOptions) -> Result<(), String> {
    if !(1_000..=600_000).contains(&options.max_duration_ms) {
        return Err("max-duration-ms is 1000 to 600000".into());
    }
    if options.silence_timeout_ms > 600_000 {
        return Err("silence-timeout-ms is at most 600000".into());
    }
    if !options.terminators.chars().all(is_key) {
        return Err("terminators may hold only 0-9, *, # and A-D".into());
    }
    if let Some(prompt) = &options.prompt {
        check_prompt(prompt)?;
    }
    Ok(())
}

pub(super) async fn run(state: &mut CallState, options: VoicemailOptions) -> Answer<Voicemail> {
    if let Err(detail) = check(&options) {
        if !state.enter("record-voicemail")? {
            state.leave();
            return Ok(Err(crate::call_control::CallError::RateLimited));
        }
        return refuse(state, "record-voicemail", detail);
    }
    let control = match begin(state, "record-voicemail")? {
        Ok(control) => control,
        Err(e) => return Ok(Err(e)),
    };
    let result = control.record_voicemail(&options).await;
    finish(state, result)
}
