//! `play`: a prompt, optionally stopped by the caller's key (barge-in).

use super::{begin, check_prompt, finish, is_key, refuse, Answer};
use crate::bindings::ivr::hotline::plugin::call::{PlayOptions, Prompt};
use crate::host::state::CallState;

/// The checks of `play`'s arguments.
pub(super) fn check(prompt: &Prompt, options: &PlayOptions) -> Result<(), String> {
    check_prompt(prompt)?;
    if !options.barge_in_digits.chars().all(is_key) {
        return Err("barge-in-digits may hold only 0-9, *, # and A-D".into());
    }
    Ok(())
}

pub(super) async fn run(
    state: &mut CallState,
    prompt: Prompt,
    options: PlayOptions,
) -> Answer<Option<char>> {
    if let Err(detail) = check(&prompt, &options) {
        if !state.enter("play")? {
            state.leave();
            return Ok(Err(crate::call_control::CallError::RateLimited));
        }
        return refuse(state, "play", detail);
    }
    let control = match begin(state, "play")? {
        Ok(control) => control,
        Err(e) => return Ok(Err(e)),
    };
    let result = control.play(&prompt, &options).await;
    if result.is_ok() {
        state.progress.answered = true;
    }
    finish(state, result)
}
