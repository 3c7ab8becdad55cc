//! The sandbox tests' agent-script guest: a retail client's screen (caller facts, a three-step
//! talk script, an order form) and a submission that checks the order number.

use std::format;
use std::string::ToString;
use std::vec;
use std::vec::Vec;

wit_bindgen::generate!({
    path: "../../../wit",
    world: "agent-script",
});

use hotline::plugin::agent_screen::{Accepted, Fact, Field, FieldError, FieldKind, Step};

struct Script;

impl Guest for Script {
    fn render(info: CallInfo, vars: Vec<Var>) -> Screen {
        let mut facts = vec![Fact {
            label: "Caller".to_string(),
            value: info.caller.clone(),
        }];
        for v in &vars {
            facts.push(Fact {
                label: v.name.clone(),
                value: v.value.clone(),
            });
        }
        Screen {
            title: format!("{}: order support", info.hotline_name),
            facts,
            script: vec![
                Step {
                    id: "greet".to_string(),
                    title: "Greet".to_string(),
                    text: "Good day, you are speaking with the shop's support.".to_string(),
                },
                Step {
                    id: "order".to_string(),
                    title: "Ask for the order".to_string(),
                    text: "May I have your order number?".to_string(),
                },
                Step {
                    id: "close".to_string(),
                    title: "Close".to_string(),
                    text: "Is there anything else I can help with?".to_string(),
                },
            ],
            form: vec![
                Field {
                    name: "order_number".to_string(),
                    label: "Order number".to_string(),
                    kind: FieldKind::Number,
                    required: true,
                    default_value: None,
                },
                Field {
                    name: "reason".to_string(),
                    label: "Reason".to_string(),
                    kind: FieldKind::Choice(vec!["delivery".to_string(), "refund".to_string()]),
                    required: true,
                    default_value: Some("delivery".to_string()),
                },
            ],
        }
    }

    fn submit(_info: CallInfo, _vars: Vec<Var>, form: Vec<FieldValue>) -> SubmitResult {
        let order = form
            .iter()
            .find(|f| f.name == "order_number")
            .map(|f| f.value.clone())
            .unwrap_or_default();
        if order.is_empty() || !order.bytes().all(|b| b.is_ascii_digit()) {
            return SubmitResult::Rejected(vec![FieldError {
                name: "order_number".to_string(),
                message: "digits only".to_string(),
            }]);
        }
        SubmitResult::Accepted(Accepted {
            vars: vec![Var {
                name: "order_number".to_string(),
                value: order.clone(),
            }],
            disposition: Some("resolved".to_string()),
            message: Some(format!("order {order} noted")),
        })
    }
}

export!(Script);
