//! `say-digits` and `say-number`: the tenant's digit prompts.

use super::{begin, finish, refuse, Answer};
use crate::host::state::CallState;

pub(super) async fn digits(state: &mut CallState, digits: String) -> Answer<()> {
    if digits.is_empty()
        || digits.len() > 64
        || !digits
            .chars()
            .all(|c| c.is_ascii_digit() || c == '*' || c == '#')
    {
        if !state.enter("say-digits")? {
            state.leave();
            return Ok(Err(crate::call_control::CallError::RateLimited));
        }
        return refuse(
            state,
            "say-digits",
            "say-digits takes 1 to 64 of 0-9, * and #".into(),
        );
    }
    let control = match begin(state, "say-digits")? {
        Ok(control) => control,
        Err(e) => return Ok(Err(e)),
    };
    let result = control.say_digits(&digits).await;
    finish(state, result)
}

pub(super) async fn number(state: &mut CallState, number: i64) -> Answer<()> {
    let control = match begin(state, "say-number")? {
        Ok(control) => control,
        Err(e) => return Ok(Err(e)),
    };
    let result = control.say_number(number).await;
    finish(state, result)
}
