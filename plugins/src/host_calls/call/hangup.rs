//! `hangup`: the plugin ends the call.

use super::{begin, finish, Answer};
use crate::bindings::ivr::hotline::plugin::call::HangupCause;
use crate::host::state::CallState;

pub(super) async fn run(state: &mut CallState, cause: HangupCause) -> Answer<()> {
    let control = match begin(state, "hangup")? {
        Ok(control) => control,
        Err(e) => return Ok(Err(e)),
    };
    let result = control.hangup(cause).await;
    if result.is_ok() {
        state.progress.plugin_hung_up = true;
        state.progress.handed_off = true;
    }
    finish(state, result)
}
