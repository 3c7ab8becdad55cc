//! `enqueue`: the caller into one of the tenant's queues, by name (the call control resolves the
//! name inside the tenant). Success hands the call off.

use super::{begin, finish, refuse, Answer};
use crate::bindings::ivr::hotline::plugin::call::{EnqueueOptions, QueueTicket};
use crate::host::state::CallState;

pub(super) fn check(queue: &str, options: &EnqueueOptions) -> Result<(), String> {
    if queue.is_empty() || queue.len() > 128 {
        return Err("a queue name is 1 to 128 bytes".into());
    }
    if options.priority > 9 {
        return Err("priority is 0 to 9".into());
    }
    if options.required_skills.len() > 16
        || options
            .required_skills
            .iter()
            .any(|s| s.is_empty() || s.len() > 64)
    {
        return Err("at most 16 required skills of 1 to 64 bytes".into());
    }
    Ok(())
}

pub(super) async fn run(
    state: &mut CallState,
    queue: String,
    options: EnqueueOptions,
) -> Answer<QueueTicket> {
    if let Err(detail) = check(&queue, &options) {
        if !state.enter("enqueue")? {
            state.leave();
            return Ok(Err(crate::call_control::CallError::RateLimited));
        }
        return refuse(state, "enqueue", detail);
    }
    let control = match begin(state, "enqueue")? {
        Ok(control) => control,
        Err(e) => return Ok(Err(e)),
    };
    let result = control.enqueue(&queue, &options).await;
    if result.is_ok() {
        state.progress.handed_off = true;
    }
    finish(state, result)
}
