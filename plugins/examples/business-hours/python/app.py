"""Business hours: open Monday to Friday 08:00-18:00 and Saturday 09:00-13:00 on the tenant's
clock, closed on public holidays (fixed dates below, plus any date the tenant stores as
`holiday:YYYY-MM-DD` in its kv store, whose value names the holiday). Open: the caller joins
the reception queue. Holiday: a holiday message, then goodbye. After hours: the closed message
and a voicemail."""

from typing import Optional

import hotline
from hotline import Call, Outcome, clock, kv, log

FIXED_HOLIDAYS = ("01-01", "05-01", "12-24", "12-25", "12-26", "12-31")  # MM-DD, every year

# Opening hours as minutes of the day, [open, close); a missing day is closed all day.
HOURS = {
    "monday": (8 * 60, 18 * 60),
    "tuesday": (8 * 60, 18 * 60),
    "wednesday": (8 * 60, 18 * 60),
    "thursday": (8 * 60, 18 * 60),
    "friday": (8 * 60, 18 * 60),
    "saturday": (9 * 60, 13 * 60),
}


def holiday(now: clock.LocalTime) -> Optional[str]:
    """The holiday's name when `now` falls on one."""
    name = kv.get(f"holiday:{now.date}")
    if name is not None:
        return name
    return "public holiday" if now.month_day in FIXED_HOLIDAYS else None


def is_open(now: clock.LocalTime) -> bool:
    hours = HOURS.get(now.weekday)
    return hours is not None and hours[0] <= now.minute_of_day < hours[1]


@hotline.ivr
def handle(call: Call):
    now = clock.now()
    name = holiday(now)
    if name is not None:
        call.set_var("hours", "holiday")
        log.info(f"closed for {name} on {now.date}")
        call.play("holiday-message")
        call.hangup()
        return Outcome.self_served()
    if is_open(now):
        call.set_var("hours", "open")
        call.play("welcome-open")
        call.enqueue("reception")
        return Outcome.operator()
    call.set_var("hours", "closed")
    call.play("closed-message")
    recording = call.record_voicemail(prompt="leave-message", max_duration_ms=60_000)
    call.set_var("voicemail", recording.recording_id)
    call.play("goodbye")
    call.hangup()
    return Outcome.self_served()
