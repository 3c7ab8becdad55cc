//! `collect`: digits with a maximum, terminators, first/inter-digit/total timeouts and retries.

use super::{begin, check_prompt, finish, is_key, refuse, Answer};
use crate::bindings::ivr::hotline::plugin::call::{CollectOptions, Collected};
use crate::host::state::CallState;

const MAX_TIMEOUT_MS: u32 = 300_000;

/// The checks of `collect`'s options (ranges as documented in the WIT).
pub(super) fn check(options: &CollectOptions) -> Result<(), String> {
    if options.max_digits == 0 || options.max_digits > 32 {
        return Err("max-digits is 1 to 32".into());
    }
    if options.min_digits > options.max_digits {
        return Err("min-digits is at most max-digits".into());
    }
    if options.retries > 5 {
        return Err("retries is 0 to 5".into());
    }
    if !options.terminators.chars().all(is_key) {
        return Err("terminators may hold only 0-9, *, # and A-D".into());
    }
    for (name, value) in [
        ("first-digit-timeout-ms", options.first_digit_timeout_ms),
        ("inter-digit-timeout-ms", options.inter_digit_timeout_ms),
        ("total-timeout-ms", options.total_timeout_ms),
    ] {
        if value > MAX_TIMEOUT_MS {
            return Err(format!("{name} is at most {MAX_TIMEOUT_MS}"));
        }
    }
    if options.first_digit_timeout_ms == 0 || options.inter_digit_timeout_ms == 0 {
        return Err("first-digit-timeout-ms and inter-digit-timeout-ms must be above 0".into());
    }
    for prompt in [&options.prompt, &options.retry_prompt]
        .into_iter()
        .flatten()
    {
        check_prompt(prompt)?;
    }
    Ok(())
}

pub(super) async fn run(state: &mut CallState, options: CollectOptions) -> Answer<Collected> {
    if let Err(detail) = check(&options) {
        if !state.enter("collect")? {
            state.leave();
            return Ok(Err(crate::call_control::CallError::RateLimited));
        }
        return refuse(state, "collect", detail);
    }
    let control = match begin(state, "collect")? {
        Ok(control) => control,
        Err(e) => return Ok(Err(e)),
    };
    let result = control.collect(&options).await;
    if result.is_ok() {
        state.progress.answered = true;
    }
    finish(state, result)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options() -> CollectOptions {
        CollectOptions {
            prompt: None,
            retry_prompt: None,
            min_digits: 1,
            max_digits: 4,
            terminators: "#".into(),
            first_digit_timeout_ms: 5_000,
            inter_digit_timeout_ms: 2_000,
            total_timeout_ms: 0,
            retries: 2,
        }
    }

    #[test]
    fn ranges_are_enforced() {
        assert!(check(&options()).is_ok());
        for (bad, want) in [
            (
                CollectOptions {
                    max_digits: 0,
                    ..options()
                },
                "max-digits",
            ),
            (
                CollectOptions {
                    max_digits: 33,
                    ..options()
                },
                "max-digits",
            ),
            (
                CollectOptions {
                    min_digits: 5,
                    ..options()
                },
                "min-digits",
            ),
            (
                CollectOptions {
                    retries: 6,
                    ..options()
                },
                "retries",
            ),
            (
                CollectOptions {
                    terminators: "x".into(),
                    ..options()
                },
                "terminators",
            ),
            (
                CollectOptions {
                    total_timeout_ms: 300_001,
                    ..options()
                },
                "total-timeout-ms",
            ),
            (
                CollectOptions {
                    inter_digit_timeout_ms: 0,
                    ..options()
                },
                "inter-digit",
            ),
        ] {
            let err = check(&bad).expect_err(want);
            assert!(err.contains(want), "{err} should name {want}");
        }
    }
}
