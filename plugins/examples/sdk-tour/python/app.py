"""A tour of the SDK: every call-control verb, the kv store, HTTP, the log and the clock, once
each, in an order a real call could take, with what each answered put into call variables. The
same tour in Rust and JavaScript must make the same host calls (its scenarios hold the three
builds to one transcript), so nothing of an SDK goes untried.

The call's `ending` variable picks the end: `busy` hangs up busy, `queue` transfers to the
support queue, anything else tries agent alice and then a number."""

import hotline
from hotline import Call, CallError, HotlineError, Outcome, clock, http, kv, log, silence


def error_text(fn, *args) -> str:
    """The error's text, or `-` when there was none."""
    try:
        fn(*args)
    except HotlineError as err:
        return str(err)
    return "-"


@hotline.ivr
def handle(call: Call):
    call.answer()
    call.play(silence(500))
    key = call.play("intro", barge_in=True, keys="12")
    call.set_var("intro_key", key if key is not None else "-")
    call.say_digits("0421")
    call.say_number(421)

    kv.set("tour:greeting", "hello")
    greeting = kv.get("tour:greeting") or ""
    visits = kv.increment("tour:visits", 2)
    keys = kv.list_keys("tour:", 10)
    deleted = kv.delete("tour:greeting")
    gone = kv.get("tour:greeting") is None
    call.set_var("kv", f"{greeting} {visits} {','.join(keys)} {str(deleted).lower()} {str(gone).lower()}")
    call.set_var("kv_error", error_text(kv.set, "", "x"))

    ticket = http.post("https://api.example.com/tickets", f'{{"caller":"{call.caller}"}}',
                       headers={"content-type": "application/json"}, timeout_ms=1_000)
    call.set_var("ticket", f"{ticket.status} {str(ticket.ok).lower()} {ticket.header('X-Ticket') or '-'}")
    call.set_var("http_error", error_text(http.get, "https://evil.example.org/"))

    now = clock.now()
    epoch = clock.at(0)
    call.set_var("clock", f"{now.date} {now.minute_of_day} {str(now.is_weekend).lower()} {epoch.date}")

    log.debug("tour: debug")
    log.warn("tour: warn")
    log.error("tour: error")
    call.set_var("log_error", error_text(log.write, "info", "x" * 3_000))
    call.set_var("vars", f"{len(call.vars())} {call.var('source') or '-'}")

    scheduled = call.offer_callback("support", prompt="callback-offer", accept_digit="1",
                                    timeout_ms=3_000)
    call.set_var("callback", scheduled if scheduled is not None else "declined")
    recording = call.record_voicemail(prompt="leave-message", max_duration_ms=5_000,
                                      silence_timeout_ms=0, terminators="#", beep=False)
    call.set_var("voicemail", f"{recording.recording_id} {recording.duration_ms}")

    ending = call.var("ending")
    if ending == "busy":
        call.hangup("busy")
        return Outcome.self_served()
    if ending == "queue":
        call.transfer_to_queue("support")
        return Outcome.operator()
    try:
        call.transfer_to_agent("alice")
        return Outcome.operator()
    except CallError as err:
        if err.kind != "transfer-failed":
            raise
        log.info(f"alice: {err.detail}")
    call.transfer_to_number("+421905000111")
    # The call is handed off: every further verb says so, and HandedOff ends the run as operator.
    call.play("never-heard")
    return Outcome.self_served()
