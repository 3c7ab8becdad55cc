//! The agent's screen for a retail client's order hotline: who is calling (the CRM name the IVR
//! put in `customer_name`, the language chosen, the last order this caller talked about), a
//! five-step talk script, and a form for the order number and how the call was resolved. A
//! valid submission remembers the order for the caller's next call and counts resolutions.

use hotline::agent::{
    Accepted, AgentScript, Context, Field, Form, Rejection, Screen, SubmitResult,
};
use hotline::{kv, Result};

const RESOLUTIONS: [&str; 4] = ["delivered", "refund", "replacement", "escalate"];

struct RetailScript;

fn greeting(call: &Context) -> String {
    match call.var("customer_name") {
        Some(name) => format!("Good day {name}, thank you for calling. My name is ..."),
        None => "Good day, thank you for calling. My name is ... May I have your name?".into(),
    }
}

#[hotline::agent_script]
impl AgentScript for RetailScript {
    fn render(call: &Context) -> Screen {
        let mut screen = Screen::new(format!("{}: orders and returns", call.hotline_name()))
            .fact("Caller", call.caller());
        if let Some(name) = call.var("customer_name") {
            screen = screen.fact("Customer", name);
        }
        if let Some(language) = call.var("language") {
            screen = screen.fact("Language", language);
        }
        // The screen must show even when the store is down: no last order then.
        if let Ok(Some(order)) = kv::get(&format!("orders:last:{}", call.caller())) {
            screen = screen.fact("Last order", order);
        }
        screen
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
            .field(Field::number("order_number", "Order number").required())
            .field(Field::choice("resolution", "Resolution", &RESOLUTIONS).required())
            .field(Field::multiline("notes", "Notes"))
            .field(Field::checkbox("callback", "Customer wants a call back").default_value("false"))
    }

    fn submit(call: &Context, form: &Form) -> Result<SubmitResult> {
        let mut problems = Rejection::new();
        let order = form.get("order_number").unwrap_or("");
        if !(5..=10).contains(&order.len()) || !order.bytes().all(|b| b.is_ascii_digit()) {
            problems.error("order_number", "an order number is 5 to 10 digits");
        }
        let resolution = form.get("resolution").unwrap_or("");
        if !RESOLUTIONS.contains(&resolution) {
            problems.error("resolution", "choose a resolution");
        }
        if resolution == "escalate" && form.get("notes").is_none() {
            problems.error("notes", "say why the call is escalated");
        }
        if let Some(rejected) = problems.into_result() {
            return Ok(rejected);
        }
        kv::set(&format!("orders:last:{}", call.caller()), order)?;
        kv::increment(&format!("resolutions:{resolution}"), 1)?;
        let disposition = if resolution == "escalate" {
            "escalated"
        } else {
            "resolved"
        };
        Ok(Accepted::new()
            .var("order_number", order)
            .var("resolution", resolution)
            .var("callback", form.get("callback").unwrap_or("false"))
            .disposition(disposition)
            .message(format!("order {order}: {resolution} noted"))
            .into())
    }
}
