//! Business hours: open Monday to Friday 08:00-18:00 and Saturday 09:00-13:00 on the tenant's
//! clock, closed on public holidays (fixed dates below, plus any date the tenant stores as
//! `holiday:YYYY-MM-DD` in its kv store, whose value names the holiday). Open: the caller
//! joins the reception queue. Holiday: a holiday message, then goodbye. After hours: the
//! closed message and a voicemail.

use hotline::{clock, kv, log, Call, LocalTime, Outcome, Result, Weekday};

/// Holidays on the same date every year (`MM-DD`).
const FIXED_HOLIDAYS: [&str; 6] = ["01-01", "05-01", "12-24", "12-25", "12-26", "12-31"];

/// Opening hours as minutes of the day, `[open, close)`; `None` is closed all day.
fn hours(day: Weekday) -> Option<(u16, u16)> {
    match day {
        Weekday::Monday
        | Weekday::Tuesday
        | Weekday::Wednesday
        | Weekday::Thursday
        | Weekday::Friday => Some((8 * 60, 18 * 60)),
        Weekday::Saturday => Some((9 * 60, 13 * 60)),
        Weekday::Sunday => None,
    }
}

/// The holiday's name when `now` falls on one.
fn holiday(now: &LocalTime) -> Result<Option<String>> {
    if let Some(name) = kv::get(&format!("holiday:{}", now.date()))? {
        return Ok(Some(name));
    }
    Ok(FIXED_HOLIDAYS
        .contains(&now.month_day().as_str())
        .then(|| "public holiday".to_string()))
}

fn is_open(now: &LocalTime) -> bool {
    hours(now.weekday).is_some_and(|(open, close)| (open..close).contains(&now.minute_of_day()))
}

#[hotline::ivr]
fn handle(call: &mut Call) -> Result<Outcome> {
    let now = clock::now();
    if let Some(name) = holiday(&now)? {
        call.set_var("hours", "holiday")?;
        log::info(format!("closed for {name} on {}", now.date()));
        call.play("holiday-message")?;
        call.hangup()?;
        return Ok(Outcome::SelfServed);
    }
    if is_open(&now) {
        call.set_var("hours", "open")?;
        call.play("welcome-open")?;
        call.enqueue("reception").run()?;
        return Ok(Outcome::Operator);
    }
    call.set_var("hours", "closed")?;
    call.play("closed-message")?;
    let message = call
        .record_voicemail()
        .prompt("leave-message")
        .max_duration_ms(60_000)
        .run()?;
    call.set_var("voicemail", &message.recording_id)?;
    call.play("goodbye")?;
    call.hangup()?;
    Ok(Outcome::SelfServed)
}
