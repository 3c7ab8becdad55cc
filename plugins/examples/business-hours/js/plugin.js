// Business hours: open Monday to Friday 08:00-18:00 and Saturday 09:00-13:00 on the tenant's
// clock, closed on public holidays (fixed dates below, plus any date the tenant stores as
// `holiday:YYYY-MM-DD` in its kv store, whose value names the holiday). Open: the caller joins
// the reception queue. Holiday: a holiday message, then goodbye. After hours: the closed
// message and a voicemail.
import { ivr, Outcome, clock, kv, log } from "hotline-plugin-sdk";

const FIXED_HOLIDAYS = ["01-01", "05-01", "12-24", "12-25", "12-26", "12-31"]; // MM-DD

// Opening hours as minutes of the day, [open, close); a missing day is closed all day.
const WEEKDAY = [8 * 60, 18 * 60];
const HOURS = {
  monday: WEEKDAY,
  tuesday: WEEKDAY,
  wednesday: WEEKDAY,
  thursday: WEEKDAY,
  friday: WEEKDAY,
  saturday: [9 * 60, 13 * 60],
};

/** The holiday's name when `now` falls on one, else null. */
function holiday(now) {
  const name = kv.get(`holiday:${now.date}`);
  if (name !== null) return name;
  return FIXED_HOLIDAYS.includes(now.monthDay) ? "public holiday" : null;
}

function isOpen(now) {
  const hours = HOURS[now.weekday];
  return hours !== undefined && hours[0] <= now.minuteOfDay && now.minuteOfDay < hours[1];
}

export const handleCall = ivr((call) => {
  const now = clock.now();
  const name = holiday(now);
  if (name !== null) {
    call.setVar("hours", "holiday");
    log.info(`closed for ${name} on ${now.date}`);
    call.play("holiday-message");
    call.hangup();
    return Outcome.selfServed();
  }
  if (isOpen(now)) {
    call.setVar("hours", "open");
    call.play("welcome-open");
    call.enqueue("reception");
    return Outcome.operator();
  }
  call.setVar("hours", "closed");
  call.play("closed-message");
  const recording = call.recordVoicemail({ prompt: "leave-message", maxDurationMs: 60000 });
  call.setVar("voicemail", recording.recordingId);
  call.play("goodbye");
  call.hangup();
  return Outcome.selfServed();
});
