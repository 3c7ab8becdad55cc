//! `set-var`, `get-var`, `vars`: variables that travel with the call into its record and the
//! agent's screen pop. Kept by the host (not the call control), within the variable limits.

use super::Answer;
use crate::bindings::ivr::hotline::plugin::call::{CallError, Var};
use crate::host::state::CallState;

/// Is `name` a variable name (1 to 64 of `a-z 0-9 _ - .`)?
pub(crate) fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name.bytes().all(|b| {
            b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'_' | b'-' | b'.')
        })
}

pub(super) fn set(state: &mut CallState, name: String, value: String) -> Answer<()> {
    state.enter_unrated()?;
    let result = if !valid_name(&name) {
        Err(CallError::InvalidArgument(format!(
            "{name:?} is not a variable name (1 to 64 of a-z, 0-9, _, - and .)"
        )))
    } else if value.len() > state.sandbox.var_value_bytes as usize {
        Err(CallError::QuotaExceeded(format!(
            "a variable's value is at most {} bytes",
            state.sandbox.var_value_bytes
        )))
    } else if let Some(slot) = state.vars.iter_mut().find(|(n, _)| *n == name) {
        slot.1 = value.clone();
        Ok(())
    } else if state.vars.len() >= state.sandbox.vars_per_call as usize {
        Err(CallError::QuotaExceeded(format!(
            "a call holds at most {} variables",
            state.sandbox.vars_per_call
        )))
    } else {
        state.vars.push((name.clone(), value.clone()));
        Ok(())
    };
    match &result {
        Ok(()) => state.note("set-var", format!("{name} = {value}")),
        Err(e) => state.note("error", format!("set-var -> {e:?}")),
    }
    state.leave();
    Ok(result)
}

pub(super) fn get(state: &mut CallState, name: String) -> wasmtime::Result<Option<String>> {
    state.enter_unrated()?;
    let value = state
        .vars
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, v)| v.clone());
    state.leave();
    Ok(value)
}

pub(super) fn all(state: &mut CallState) -> wasmtime::Result<Vec<Var>> {
    state.enter_unrated()?;
    let vars = state
        .vars
        .iter()
        .map(|(name, value)| Var {
            name: name.clone(),
            value: value.clone(),
        })
        .collect();
    state.leave();
    Ok(vars)
}
