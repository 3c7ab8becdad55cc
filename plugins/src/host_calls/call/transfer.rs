//! `transfer`: to one of the tenant's agents or queues, or an external number. Success hands
//! the call off.

use super::{begin, finish, Answer};
use crate::bindings::ivr::hotline::plugin::call::TransferTarget;
use crate::host::state::CallState;

pub(super) fn check(target: &TransferTarget) -> Result<(), String> {
    match target {
        TransferTarget::Agent(name) | TransferTarget::Queue(name)
            if name.is_empty() || name.len() > 128 =>
        {
            Err("an agent or queue name is 1 to 128 bytes".into())
        }
        TransferTarget::Number(number) => hotline_core::e164::normalize(number)
            .map(|_| ())
            .map_err(|e| format!("{number:?} is not an E.164 number: {e}")),
        _ => Ok(()),
    }
}

pub(super) async fn run(state: &mut CallState, target: TransferTarget) -> Answer<()> {
    if let Err(detail) = check(&target) {
        if !state.enter("transfer")? {
            state.leave();
            return Ok(Err(crate::call_control::CallError::RateLimited));
        }
        state.note("error", format!("transfer -> refused: {detail}"));
        state.leave();
        return Ok(Err(match target {
            TransferTarget::Number(_) => crate::call_control::CallError::InvalidNumber(detail),
            _ => crate::call_control::CallError::InvalidArgument(detail),
        }));
    }
    let control = match begin(state, "transfer")? {
        Ok(control) => control,
        Err(e) => return Ok(Err(e)),
    };
    let result = control.transfer(&target).await;
    if result.is_ok() {
        state.progress.handed_off = true;
    }
    finish(state, result)
}
