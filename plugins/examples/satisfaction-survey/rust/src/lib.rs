//! Post-call satisfaction survey: after the agent hangs up, the caller rates the call 1 to 5.
//! The score goes into the `survey_score` variable (the call record) and the tenant's kv store
//! keeps the tallies: `survey:count:<score>`, `survey:responses`, `survey:sum`, and per agent
//! (the call's `agent` variable) `survey:agent:<agent>:sum` and `:responses`. A wrong key asks
//! once more; silence is recorded as `survey:no-answer` and is not a failure.

use hotline::{kv, log, Call, Outcome, Result};

fn ask(call: &mut Call) -> Result<Option<i64>> {
    for attempt in 0..2 {
        if attempt > 0 {
            call.play("survey-invalid")?;
        }
        let got = call
            .collect()
            .prompt("survey-question")
            .max_digits(1)
            .first_digit_timeout_ms(6_000)
            .retries(1)
            .retry_prompt("survey-repeat")
            .run()?;
        if got.is_no_input() {
            return Ok(None);
        }
        match got.as_str() {
            "1" | "2" | "3" | "4" | "5" => return Ok(got.as_str().parse().ok()),
            other => log::info(format!("survey: key {other} is not a score")),
        }
    }
    Ok(None)
}

#[hotline::ivr]
fn handle(call: &mut Call) -> Result<Outcome> {
    call.play("survey-intro")?;
    let Some(score) = ask(call)? else {
        kv::increment("survey:no-answer", 1)?;
        call.set_var("survey_score", "none")?;
        call.play("goodbye")?;
        call.hangup()?;
        return Ok(Outcome::SelfServed);
    };
    call.set_var("survey_score", score.to_string())?;
    kv::increment(&format!("survey:count:{score}"), 1)?;
    kv::increment("survey:responses", 1)?;
    kv::increment("survey:sum", score)?;
    if let Some(agent) = call.var("agent") {
        kv::increment(&format!("survey:agent:{agent}:sum"), score)?;
        kv::increment(&format!("survey:agent:{agent}:responses"), 1)?;
    }
    log::info(format!("survey score {score}"));
    call.play("survey-thanks")?;
    call.hangup()?;
    Ok(Outcome::SelfServed)
}
