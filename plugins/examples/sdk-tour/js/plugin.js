// A tour of the SDK: every call-control verb, the kv store, HTTP, the log and the clock, once
// each, in an order a real call could take, with what each answered put into call variables.
// The same tour in Rust and Python must make the same host calls (its scenarios hold the three
// builds to one transcript), so nothing of an SDK goes untried.
//
// The call's `ending` variable picks the end: `busy` hangs up busy, `queue` transfers to the
// support queue, anything else tries agent alice and then a number.
import {
  ivr,
  Outcome,
  CallError,
  HotlineError,
  silence,
  clock,
  http,
  kv,
  log,
} from "hotline-plugin-sdk";

/** The error's text, or `-` when there was none. */
function errorText(fn) {
  try {
    fn();
  } catch (err) {
    if (err instanceof HotlineError) return err.message;
    throw err;
  }
  return "-";
}

export const handleCall = ivr((call) => {
  call.answer();
  call.play(silence(500));
  const key = call.play("intro", { bargeIn: true, keys: "12" });
  call.setVar("intro_key", key ?? "-");
  call.sayDigits("0421");
  call.sayNumber(421);

  kv.set("tour:greeting", "hello");
  const greeting = kv.get("tour:greeting") ?? "";
  const visits = kv.increment("tour:visits", 2);
  const keys = kv.listKeys("tour:", 10);
  const deleted = kv.del("tour:greeting");
  const gone = kv.get("tour:greeting") === null;
  call.setVar("kv", `${greeting} ${visits} ${keys.join(",")} ${deleted} ${gone}`);
  call.setVar("kv_error", errorText(() => kv.set("", "x")));

  const ticket = http.post("https://api.example.com/tickets", `{"caller":"${call.caller}"}`, {
    headers: { "content-type": "application/json" },
    timeoutMs: 1000,
  });
  call.setVar("ticket", `${ticket.status} ${ticket.ok} ${ticket.header("X-Ticket") ?? "-"}`);
  call.setVar("http_error", errorText(() => http.get("https://evil.example.org/")));

  const now = clock.now();
  const epoch = clock.at(0);
  call.setVar("clock", `${now.date} ${now.minuteOfDay} ${now.isWeekend} ${epoch.date}`);

  log.debug("tour: debug");
  log.warn("tour: warn");
  log.error("tour: error");
  call.setVar("log_error", errorText(() => log.write("info", "x".repeat(3000))));
  call.setVar("vars", `${Object.keys(call.vars()).length} ${call.var("source") ?? "-"}`);

  const scheduled = call.offerCallback("support", {
    prompt: "callback-offer",
    acceptDigit: "1",
    timeoutMs: 3000,
  });
  call.setVar("callback", scheduled ?? "declined");
  const message = call.recordVoicemail({
    prompt: "leave-message",
    maxDurationMs: 5000,
    silenceTimeoutMs: 0,
    terminators: "#",
    beep: false,
  });
  call.setVar("voicemail", `${message.recordingId} ${message.durationMs}`);

  const ending = call.var("ending");
  if (ending === "busy") {
    call.hangup("busy");
    return Outcome.selfServed();
  }
  if (ending === "queue") {
    call.transferToQueue("support");
    return Outcome.operator();
  }
  try {
    call.transferToAgent("alice");
    return Outcome.operator();
  } catch (err) {
    if (!(err instanceof CallError) || err.kind !== "transfer-failed") throw err;
    log.info(`alice: ${err.detail}`);
  }
  call.transferToNumber("+421905000111");
  // The call is handed off: every further verb says so, and the error ends the run as operator.
  call.play("never-heard");
  return Outcome.selfServed();
});
