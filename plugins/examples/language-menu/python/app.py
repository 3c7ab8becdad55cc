"""Language menu: press 1 for Russian, 2 for English, then 1 for sales, 2 for support; the
caller waits in that queue for an agent who speaks the language. A wrong key replays the menu
(three tries); silence through every retry ends in the hotline's fallback."""

import hotline
from hotline import Call, CallError, GiveUp, Outcome, log

TRIES = 3  # wrong keys tolerated per menu before giving up


def choose(call: Call, prompt: str, valid: str, menu: str) -> str:
    """The key pressed, one of `valid`. Silence through every retry, or a wrong key three
    times, gives up: GiveUp ends the call in the hotline's fallback."""
    for _ in range(TRIES):
        got = call.collect(prompt, retry_prompt="sorry", max_digits=1,
                           first_digit_timeout_ms=5_000, retries=2)
        if got.no_input:
            raise GiveUp(f"no input at the {menu}")
        if got.digits in valid:
            return got.digits
        log.info(f"wrong key {got.digits} at {prompt}")
        call.play("invalid-choice")
    raise GiveUp(f"no valid key at the {menu}")


@hotline.ivr
def handle(call: Call):
    call.play("welcome")
    language = "ru" if choose(call, "language-menu", "12", "language menu") == "1" else "en"
    call.set_var("language", language)
    key = choose(call, f"department-menu-{language}", "12", "department menu")
    queue = "sales" if key == "1" else "support"
    call.set_var("department", queue)
    log.info(f"caller chose {language}/{queue}")
    try:
        call.enqueue(queue, skills=[language])
    except CallError as err:
        if err.kind != "queue-refused":
            raise
        call.play(f"queue-closed-{language}")
        return Outcome.fallback(f"queue {queue} refused the call: {err.detail}")
    return Outcome.operator()
