"""The agent's screen for a retail client's order hotline: who is calling (the CRM name the IVR
put in `customer_name`, the language chosen, the last order this caller talked about), a
five-step talk script, and a form for the order number and how the call was resolved. A valid
submission remembers the order for the caller's next call and counts resolutions."""

import hotline
from hotline import KvError, kv
from hotline.agent import Accepted, Context, Field, Form, Rejection, Screen

RESOLUTIONS = ["delivered", "refund", "replacement", "escalate"]


def greeting(call: Context) -> str:
    name = call.var("customer_name")
    if name is not None:
        return f"Good day {name}, thank you for calling. My name is ..."
    return "Good day, thank you for calling. My name is ... May I have your name?"


@hotline.agent_script
class RetailScript:
    def render(self, call: Context) -> Screen:
        screen = Screen(f"{call.hotline_name}: orders and returns").fact("Caller", call.caller)
        if call.var("customer_name") is not None:
            screen.fact("Customer", call.var("customer_name"))
        if call.var("language") is not None:
            screen.fact("Language", call.var("language"))
        try:  # the screen must show even when the store is down: no last order then
            order = kv.get(f"orders:last:{call.caller}")
        except KvError:
            order = None
        if order is not None:
            screen.fact("Last order", order)
        return (
            screen.step("greet", "Greet", greeting(call))
            .step("verify", "Verify",
                  "Ask for the postcode of the delivery address and compare it with the order.")
            .step("order", "Order", "Ask for the order number (on the confirmation e-mail).")
            .step("resolve", "Resolve",
                  "Delivered late or damaged: offer a replacement or a refund.\n"
                  "Anything else: escalate with a note.")
            .step("close", "Close", "Is there anything else I can help you with?")
            .field(Field.number("order_number", "Order number", required=True))
            .field(Field.choice("resolution", "Resolution", RESOLUTIONS, required=True))
            .field(Field.multiline("notes", "Notes"))
            .field(Field.checkbox("callback", "Customer wants a call back", default_value="false"))
        )

    def submit(self, call: Context, form: Form):
        problems = Rejection()
        order = form.get("order_number") or ""
        if not (5 <= len(order) <= 10 and order.isascii() and order.isdigit()):
            problems.error("order_number", "an order number is 5 to 10 digits")
        resolution = form.get("resolution") or ""
        if resolution not in RESOLUTIONS:
            problems.error("resolution", "choose a resolution")
        if resolution == "escalate" and form.get("notes") is None:
            problems.error("notes", "say why the call is escalated")
        if problems:
            return problems
        kv.set(f"orders:last:{call.caller}", order)
        kv.increment(f"resolutions:{resolution}", 1)
        return (
            Accepted()
            .var("order_number", order)
            .var("resolution", resolution)
            .var("callback", form.get("callback") or "false")
            .disposition("escalated" if resolution == "escalate" else "resolved")
            .message(f"order {order}: {resolution} noted")
        )
