//! A tour of the SDK: every call-control verb, the kv store, HTTP, the log and the clock, once
//! each, in an order a real call could take, with what each answered put into call variables.
//! The same tour in Python and JavaScript must make the same host calls (its scenarios hold the
//! three builds to one transcript), so nothing of an SDK goes untried.
//!
//! The call's `ending` variable picks the end: `busy` hangs up busy, `queue` transfers to the
//! support queue, anything else tries agent alice and then a number.

use hotline::log::Level;
use hotline::{
    clock, http, kv, log, silence, Call, CallError, CallbackDecision, Error, HangupCause, Outcome,
    Result,
};

/// An error's text, or `-` when there was none.
fn error_text<T>(result: Result<T>) -> String {
    result
        .err()
        .map(|e| e.to_string())
        .unwrap_or_else(|| "-".into())
}

#[hotline::ivr]
fn handle(call: &mut Call) -> Result<Outcome> {
    call.answer()?;
    call.play(silence(500))?;
    let key = call.play_interruptible("intro", "12")?;
    call.set_var(
        "intro_key",
        key.map(String::from).unwrap_or_else(|| "-".into()),
    )?;
    call.say_digits("0421")?;
    call.say_number(421)?;

    kv::set("tour:greeting", "hello")?;
    let greeting = kv::get("tour:greeting")?.unwrap_or_default();
    let visits = kv::increment("tour:visits", 2)?;
    let keys = kv::list_keys("tour:", 10)?;
    let deleted = kv::delete("tour:greeting")?;
    let gone = kv::get("tour:greeting")?.is_none();
    call.set_var(
        "kv",
        format!("{greeting} {visits} {} {deleted} {gone}", keys.join(",")),
    )?;
    call.set_var("kv_error", error_text(kv::set("", "x")))?;

    let ticket = http::post("https://api.example.com/tickets")
        .header("content-type", "application/json")
        .body(format!("{{\"caller\":\"{}\"}}", call.caller()))
        .timeout_ms(1_000)
        .send()?;
    call.set_var(
        "ticket",
        format!(
            "{} {} {}",
            ticket.status,
            ticket.is_success(),
            ticket.header("X-Ticket").unwrap_or("-")
        ),
    )?;
    call.set_var(
        "http_error",
        error_text(http::get("https://evil.example.org/").send()),
    )?;

    let now = clock::now();
    let epoch = clock::at(0);
    call.set_var(
        "clock",
        format!(
            "{} {} {} {}",
            now.date(),
            now.minute_of_day(),
            now.is_weekend(),
            epoch.date()
        ),
    )?;

    log::debug("tour: debug");
    log::warn("tour: warn");
    log::error("tour: error");
    call.set_var(
        "log_error",
        error_text(log::write(Level::Info, &"x".repeat(3_000))),
    )?;
    call.set_var(
        "vars",
        format!(
            "{} {}",
            call.vars().len(),
            call.var("source").unwrap_or_else(|| "-".into())
        ),
    )?;

    let callback = match call
        .offer_callback("support")
        .prompt("callback-offer")
        .accept_digit('1')
        .timeout_ms(3_000)
        .run()?
    {
        CallbackDecision::Scheduled(id) => id,
        CallbackDecision::Declined => "declined".to_string(),
    };
    call.set_var("callback", callback)?;
    let message = call
        .record_voicemail()
        .prompt("leave-message")
        .max_duration_ms(5_000)
        .silence_timeout_ms(0)
        .terminators("#")
        .beep(false)
        .run()?;
    call.set_var(
        "voicemail",
        format!("{} {}", message.recording_id, message.duration_ms),
    )?;

    match call.var("ending").as_deref() {
        Some("busy") => {
            call.hangup_with(HangupCause::Busy)?;
            return Ok(Outcome::SelfServed);
        }
        Some("queue") => {
            call.transfer_to_queue("support")?;
            return Ok(Outcome::Operator);
        }
        _ => {}
    }
    match call.transfer_to_agent("alice") {
        Ok(()) => return Ok(Outcome::Operator),
        Err(Error::Call(CallError::TransferFailed(why))) => log::info(format!("alice: {why}")),
        Err(other) => return Err(other),
    }
    call.transfer_to_number("+421905000111")?;
    // The call is handed off: every further verb says so, and `?` ends the run as `operator`.
    call.play("never-heard")?;
    Ok(Outcome::SelfServed)
}
