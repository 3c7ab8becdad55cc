"""{{name}}: a Hotline IVR plugin. Press 1 for sales, 2 for support."""

import hotline
from hotline import Call, Outcome, log

QUEUES = {"1": "sales", "2": "support"}


@hotline.ivr
def handle(call: Call):
    call.play("welcome")
    choice = call.collect("menu", retry_prompt="sorry", max_digits=1, retries=2)
    if choice.no_input:
        return Outcome.fallback("no input")
    queue = QUEUES.get(choice.digits)
    if queue is None:
        return Outcome.fallback(f"no such choice: {choice.digits}")
    call.set_var("department", queue)
    log.info(f"caller chose {queue}")
    call.enqueue(queue)
    return Outcome.operator()
