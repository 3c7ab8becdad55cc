// Language menu: press 1 for Russian, 2 for English, then 1 for sales, 2 for support; the
// caller waits in that queue for an agent who speaks the language. A wrong key replays the
// menu (three tries); silence through every retry ends in the hotline's fallback.
import { ivr, Outcome, CallError, log } from "hotline-plugin-sdk";

const TRIES = 3; // wrong keys tolerated per menu before giving up
const NO_INPUT = "no-input";
const NO_VALID_KEY = "no-valid-key";

/** The key pressed, one of `valid`; or NO_INPUT / NO_VALID_KEY. */
function choose(call, prompt, valid) {
  for (let i = 0; i < TRIES; i++) {
    const got = call.collect({
      prompt,
      retryPrompt: "sorry",
      maxDigits: 1,
      firstDigitTimeoutMs: 5000,
      retries: 2,
    });
    if (got.noInput) return NO_INPUT;
    if (valid.includes(got.digits)) return got.digits;
    log.info(`wrong key ${got.digits} at ${prompt}`);
    call.play("invalid-choice");
  }
  return NO_VALID_KEY;
}

export const handleCall = ivr((call) => {
  call.play("welcome");
  let key = choose(call, "language-menu", "12");
  if (key === NO_INPUT) return Outcome.fallback("no input at the language menu");
  if (key === NO_VALID_KEY) return Outcome.fallback("no valid key at the language menu");
  const language = key === "1" ? "ru" : "en";
  call.setVar("language", language);
  key = choose(call, `department-menu-${language}`, "12");
  if (key === NO_INPUT) return Outcome.fallback("no input at the department menu");
  if (key === NO_VALID_KEY) return Outcome.fallback("no valid key at the department menu");
  const queue = key === "1" ? "sales" : "support";
  call.setVar("department", queue);
  log.info(`caller chose ${language}/${queue}`);
  try {
    call.enqueue(queue, { skills: [language] });
  } catch (err) {
    if (!(err instanceof CallError) || err.kind !== "queue-refused") throw err;
    call.play(`queue-closed-${language}`);
    return Outcome.fallback(`queue ${queue} refused the call: ${err.detail}`);
  }
  return Outcome.operator();
});
