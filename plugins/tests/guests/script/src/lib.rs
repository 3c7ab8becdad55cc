//! The sandbox tests' agent-script guest: a retail client's screen (caller facts, a three-step
//! talk script, an order form) and a submission that checks the order number. The call
//! variable `probe` makes it misbehave for the sandbox tests: `spin` (CPU without end), `memory`
//! (allocating without end), `trap`; and `visits` counts renders in the tenant's kv store.

use std::format;
use std::string::ToString;
use std::vec;
use std::vec::Vec;

wit_bindgen::generate!({
    path: "../../../wit",
    world: "agent-script",
});

use hotline::plugin::agent_screen::{Accepted, Fact, Field, FieldError, FieldKind, Step};
use hotline::plugin::{kv, log};

struct Script;

fn misbehave(vars: &[Var]) {
    match vars
        .iter()
        .find(|v| v.name == "probe")
        .map(|v| v.value.as_str())
    {
        Some("spin") => {
            let mut x: u64 = 1;
            loop {
                x = x
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                core::hint::black_box(x);
            }
        }
        Some("memory") => {
            let mut blocks: Vec<Vec<u8>> = Vec::new();
            loop {
                let mut block = Vec::with_capacity(1 << 20);
                block.resize(1 << 20, 7u8);
                blocks.push(block);
                core::hint::black_box(&blocks);
            }
        }
        Some("trap") => panic!("the script was told to trap"),
        _ => {}
    }
}

impl Guest for Script {
    fn render(info: CallInfo, vars: Vec<Var>) -> Screen {
        misbehave(&vars);
        let visits = kv::increment(&format!("visits:{}", info.caller), 1).unwrap_or(-1);
        let _ = log::write(
            log::Level::Info,
            &format!("screen for {} (visit {visits})", info.caller),
        );
        let mut facts = vec![Fact {
            label: "Caller".to_string(),
            value: info.caller.clone(),
        }];
        facts.push(Fact {
            label: "Visits".to_string(),
            value: format!("{visits}"),
        });
        for v in vars.iter().filter(|v| v.name != "probe") {
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

    fn submit(_info: CallInfo, vars: Vec<Var>, form: Vec<FieldValue>) -> SubmitResult {
        misbehave(&vars);
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
