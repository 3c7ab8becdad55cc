//! Language menu: press 1 for Russian, 2 for English, then 1 for sales, 2 for support; the
//! caller waits in that queue for an agent who speaks the language. A wrong key replays the
//! menu (three tries); silence through every retry ends in the hotline's fallback.

use hotline::{log, Call, CallError, Error, Outcome, Result};

/// Wrong keys tolerated per menu before giving up.
const TRIES: usize = 3;

/// Ask with `prompt` until the caller presses one of `valid`. Silence through every retry, or
/// a wrong key three times, gives up: the error ends the call in the hotline's fallback.
fn choose(call: &mut Call, prompt: &str, valid: &str, menu: &str) -> Result<String> {
    for _ in 0..TRIES {
        let got = call
            .collect()
            .prompt(prompt)
            .retry_prompt("sorry")
            .max_digits(1)
            .first_digit_timeout_ms(5_000)
            .retries(2)
            .run()?;
        if got.is_no_input() {
            return Err(Error::plugin(format!("no input at the {menu}")));
        }
        if valid.contains(got.as_str()) {
            return Ok(got.digits);
        }
        log::info(format!("wrong key {} at {prompt}", got.digits));
        call.play("invalid-choice")?;
    }
    Err(Error::plugin(format!("no valid key at the {menu}")))
}

#[hotline::ivr]
fn handle(call: &mut Call) -> Result<Outcome> {
    call.play("welcome")?;
    let language = match choose(call, "language-menu", "12", "language menu")?.as_str() {
        "1" => "ru",
        _ => "en",
    };
    call.set_var("language", language)?;
    let menu = format!("department-menu-{language}");
    let queue = match choose(call, &menu, "12", "department menu")?.as_str() {
        "1" => "sales",
        _ => "support",
    };
    call.set_var("department", queue)?;
    log::info(format!("caller chose {language}/{queue}"));
    match call.enqueue(queue).skill(language).run() {
        Ok(_) => Ok(Outcome::Operator),
        Err(Error::Call(CallError::QueueRefused(why))) => {
            call.play(format!("queue-closed-{language}"))?;
            Ok(Outcome::fallback(format!(
                "queue {queue} refused the call: {why}"
            )))
        }
        Err(other) => Err(other),
    }
}
