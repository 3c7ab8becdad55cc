// Language menu: press 1 for Russian, 2 for English, then 1 for sales, 2 for support; the
// caller waits in that queue for an agent who speaks the language. A wrong key replays the
// menu (three tries); silence through every retry ends in the hotline's fallback.
import { ivr, Outcome, CallError, GiveUp, log } from "hotline-plugin-sdk";

const TRIES = 3; // wrong keys tolerated per menu before giving up

/**
 * The key pressed, one of `valid`. Silence through every retry, or a wrong key three times,
 * gives up: GiveUp ends the call in the hotline's fallback.
 */
function choose(call, prompt, valid, menu) {
  for (let i = 0; i < TRIES; i++) {
    const got = call.collect({
      prompt,
      retryPrompt: "sorry",
      maxDigits: 1,
      firstDigitTimeoutMs: 5000,
      retries: 2,
    });
    if (got.noInput) throw new GiveUp(`no input at the ${menu}`);
    if (valid.includes(got.digits)) return got.digits;
    log.info(`wrong key ${got.digits} at ${prompt}`);
    call.play("invalid-choice");
  }
  throw new GiveUp(`no valid key at the ${menu}`);
}

export const handleCall = ivr((call) => {
  call.play("welcome");
  const language = choose(call, "language-menu", "12", "language menu") === "1" ? "ru" : "en";
  call.setVar("language", language);
  const key = choose(call, `department-menu-${language}`, "12", "department menu");
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
