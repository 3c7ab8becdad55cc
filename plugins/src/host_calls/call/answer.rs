//! `answer`: start media if the call is not answered yet.

use super::{begin, finish, Answer};
use crate::host::state::CallState;

pub(super) async fn run(state: &mut CallState) -> Answer<()> {
    let control = match begin(state, "answer")? {
        Ok(control) => control,
        Err(e) => return Ok(Err(e)),
    };
    let result = control.answer().await;
    if result.is_ok() {
        state.progress.answered = true;
    }
    finish(state, result)
}
