// Post-call satisfaction survey: after the agent hangs up, the caller rates the call 1 to 5.
// The score goes into the `survey_score` variable (the call record) and the tenant's kv store
// keeps the tallies: `survey:count:<score>`, `survey:responses`, `survey:sum`, and per agent
// (the call's `agent` variable) `survey:agent:<agent>:sum` and `:responses`. A wrong key asks
// once more; silence is recorded as `survey:no-answer` and is not a failure.
import { ivr, Outcome, kv, log } from "hotline-plugin-sdk";

/** The score 1 to 5, or null. */
function ask(call) {
  for (let attempt = 0; attempt < 2; attempt++) {
    if (attempt > 0) call.play("survey-invalid");
    const got = call.collect({
      prompt: "survey-question",
      maxDigits: 1,
      firstDigitTimeoutMs: 6000,
      retries: 1,
      retryPrompt: "survey-repeat",
    });
    if (got.noInput) return null;
    if (["1", "2", "3", "4", "5"].includes(got.digits)) return Number(got.digits);
    log.info(`survey: key ${got.digits} is not a score`);
  }
  return null;
}

export const handleCall = ivr((call) => {
  call.play("survey-intro");
  const score = ask(call);
  if (score === null) {
    kv.increment("survey:no-answer", 1);
    call.setVar("survey_score", "none");
    call.play("goodbye");
    call.hangup();
    return Outcome.selfServed();
  }
  call.setVar("survey_score", String(score));
  kv.increment(`survey:count:${score}`, 1);
  kv.increment("survey:responses", 1);
  kv.increment("survey:sum", score);
  const agent = call.var("agent");
  if (agent !== null) {
    kv.increment(`survey:agent:${agent}:sum`, score);
    kv.increment(`survey:agent:${agent}:responses`, 1);
  }
  log.info(`survey score ${score}`);
  call.play("survey-thanks");
  call.hangup();
  return Outcome.selfServed();
});
