"""Post-call satisfaction survey: after the agent hangs up, the caller rates the call 1 to 5.
The score goes into the `survey_score` variable (the call record) and the tenant's kv store
keeps the tallies: `survey:count:<score>`, `survey:responses`, `survey:sum`, and per agent (the
call's `agent` variable) `survey:agent:<agent>:sum` and `:responses`. A wrong key asks once
more; silence is recorded as `survey:no-answer` and is not a failure."""

from typing import Optional

import hotline
from hotline import Call, Outcome, kv, log


def ask(call: Call) -> Optional[int]:
    for attempt in range(2):
        if attempt > 0:
            call.play("survey-invalid")
        got = call.collect("survey-question", max_digits=1, first_digit_timeout_ms=6_000,
                           retries=1, retry_prompt="survey-repeat")
        if got.no_input:
            return None
        if got.digits in ("1", "2", "3", "4", "5"):
            return int(got.digits)
        log.info(f"survey: key {got.digits} is not a score")
    return None


@hotline.ivr
def handle(call: Call):
    call.play("survey-intro")
    score = ask(call)
    if score is None:
        kv.increment("survey:no-answer", 1)
        call.set_var("survey_score", "none")
        call.play("goodbye")
        call.hangup()
        return Outcome.self_served()
    call.set_var("survey_score", str(score))
    kv.increment(f"survey:count:{score}", 1)
    kv.increment("survey:responses", 1)
    kv.increment("survey:sum", score)
    agent = call.var("agent")
    if agent is not None:
        kv.increment(f"survey:agent:{agent}:sum", score)
        kv.increment(f"survey:agent:{agent}:responses", 1)
    log.info(f"survey score {score}")
    call.play("survey-thanks")
    call.hangup()
    return Outcome.self_served()
