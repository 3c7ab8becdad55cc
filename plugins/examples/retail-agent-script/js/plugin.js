// The agent's screen for a retail client's order hotline: who is calling (the CRM name the IVR
// put in `customer_name`, the language chosen, the last order this caller talked about), a
// five-step talk script, and a form for the order number and how the call was resolved. A
// valid submission remembers the order for the caller's next call and counts resolutions.
import {
  agentScript,
  Accepted,
  Field,
  KvError,
  Rejection,
  Screen,
  kv,
} from "hotline-plugin-sdk/agent";

const RESOLUTIONS = ["delivered", "refund", "replacement", "escalate"];

function greeting(call) {
  const name = call.var("customer_name");
  return name !== null
    ? `Good day ${name}, thank you for calling. My name is ...`
    : "Good day, thank you for calling. My name is ... May I have your name?";
}

export const { render, submit } = agentScript({
  render(call) {
    const screen = new Screen(`${call.hotlineName}: orders and returns`).fact("Caller", call.caller);
    if (call.var("customer_name") !== null) screen.fact("Customer", call.var("customer_name"));
    if (call.var("language") !== null) screen.fact("Language", call.var("language"));
    let order = null;
    try {
      order = kv.get(`orders:last:${call.caller}`);
    } catch (err) {
      // The screen must show even when the store is down: no last order then.
      if (!(err instanceof KvError)) throw err;
    }
    if (order !== null) screen.fact("Last order", order);
    return screen
      .step("greet", "Greet", greeting(call))
      .step(
        "verify",
        "Verify",
        "Ask for the postcode of the delivery address and compare it with the order.",
      )
      .step("order", "Order", "Ask for the order number (on the confirmation e-mail).")
      .step(
        "resolve",
        "Resolve",
        "Delivered late or damaged: offer a replacement or a refund.\nAnything else: escalate with a note.",
      )
      .step("close", "Close", "Is there anything else I can help you with?")
      .field(Field.number("order_number", "Order number").required())
      .field(Field.choice("resolution", "Resolution", RESOLUTIONS).required())
      .field(Field.multiline("notes", "Notes"))
      .field(Field.checkbox("callback", "Customer wants a call back").default("false"));
  },

  submit(call, form) {
    const problems = new Rejection();
    const order = form.get("order_number") ?? "";
    if (!/^[0-9]{5,10}$/.test(order)) {
      problems.error("order_number", "an order number is 5 to 10 digits");
    }
    const resolution = form.get("resolution") ?? "";
    if (!RESOLUTIONS.includes(resolution)) problems.error("resolution", "choose a resolution");
    if (resolution === "escalate" && form.get("notes") === null) {
      problems.error("notes", "say why the call is escalated");
    }
    if (problems.any) return problems;
    kv.set(`orders:last:${call.caller}`, order);
    kv.increment(`resolutions:${resolution}`, 1);
    return new Accepted()
      .var("order_number", order)
      .var("resolution", resolution)
      .var("callback", form.get("callback") ?? "false")
      .disposition(resolution === "escalate" ? "escalated" : "resolved")
      .message(`order ${order}: ${resolution} noted`);
  },
});
