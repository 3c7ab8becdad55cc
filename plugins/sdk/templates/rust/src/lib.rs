//! {{name}}: a Hotline IVR plugin. Press 1 for sales, 2 for support.

use hotline::{log, Call, Outcome, Result};

#[hotline::ivr]
fn handle(call: &mut Call) -> Result<Outcome> {
    call.play("welcome")?;
    let choice = call
        .collect()
        .prompt("menu")
        .retry_prompt("sorry")
        .max_digits(1)
        .retries(2)
        .run()?;
    if choice.is_no_input() {
        return Ok(Outcome::fallback("no input"));
    }
    let queue = match choice.as_str() {
        "1" => "sales",
        "2" => "support",
        other => return Ok(Outcome::fallback(format!("no such choice: {other}"))),
    };
    call.set_var("department", queue)?;
    log::info(format!("caller chose {queue}"));
    call.enqueue(queue).run()?;
    Ok(Outcome::Operator)
}
