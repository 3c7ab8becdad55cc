//! The sandbox tests' IVR guest. What it does is chosen by the call's `probe` variable, so one
//! small component covers every behaviour the tests need: a well-behaved menu (the default), a
//! CRM lookup, and the misbehaviours the sandbox must survive (spinning, allocating without end,
//! flooding host calls, oversized output, trapping, a dishonest outcome). It reports what the
//! host answered through call variables, which the tests read back.

use std::format;
use std::string::{String, ToString};
use std::vec::Vec;

wit_bindgen::generate!({
    path: "../../../wit",
    world: "ivr",
});

use hotline::plugin::call::{self, CollectOptions, EnqueueOptions, PlayOptions, Prompt};
use hotline::plugin::{clock, http, kv, log};

struct Probe;

fn named(name: &str) -> Prompt {
    Prompt::Named(name.to_string())
}

fn var(name: &str, value: &str) {
    let _ = call::set_var(name, value);
}

fn menu(info: &CallInfo) -> Outcome {
    let now = clock::now();
    var("hour", &format!("{}", now.hour));
    let _ = kv::increment(&format!("calls:{}", info.caller), 1);
    if let Err(e) = call::play(
        &named("welcome"),
        &PlayOptions {
            barge_in: false,
            barge_in_digits: String::new(),
        },
    ) {
        return gone(e);
    }
    let got = match call::collect(&CollectOptions {
        prompt: Some(named("menu")),
        retry_prompt: Some(named("sorry")),
        min_digits: 1,
        max_digits: 1,
        terminators: String::new(),
        first_digit_timeout_ms: 5_000,
        inter_digit_timeout_ms: 3_000,
        total_timeout_ms: 0,
        retries: 1,
    }) {
        Ok(got) => got,
        Err(e) => return gone(e),
    };
    let _ = log::write(log::Level::Info, &format!("caller chose {:?}", got.digits));
    let queue = match got.digits.as_str() {
        "1" => "sales",
        "2" => "support",
        "" => return Outcome::Fallback("no input".to_string()),
        _ => {
            let _ = call::play(
                &named("goodbye"),
                &PlayOptions {
                    barge_in: false,
                    barge_in_digits: String::new(),
                },
            );
            let _ = call::hangup(call::HangupCause::Normal);
            return Outcome::SelfServed;
        }
    };
    var("choice", queue);
    match call::enqueue(
        queue,
        &EnqueueOptions {
            priority: 0,
            required_skills: Vec::new(),
        },
    ) {
        Ok(_) => Outcome::Operator,
        Err(call::CallError::HungUp) => Outcome::CallerHungUp,
        Err(e) => Outcome::Fallback(format!("enqueue failed: {e:?}")),
    }
}

fn gone(e: call::CallError) -> Outcome {
    match e {
        call::CallError::HungUp => Outcome::CallerHungUp,
        other => Outcome::Fallback(format!("{other:?}")),
    }
}

fn crm(info: &CallInfo) -> Outcome {
    let url = info
        .vars
        .iter()
        .find(|v| v.name == "crm_url")
        .map(|v| v.value.clone())
        .unwrap_or_default();
    match http::send(&http::Request {
        method: http::Method::Get,
        url,
        headers: Vec::new(),
        body: None,
        timeout_ms: Some(2_000),
    }) {
        Ok(response) => {
            var("crm_status", &format!("{}", response.status));
            if response.body.contains("\"vip\":true") {
                let _ = call::enqueue(
                    "priority",
                    &EnqueueOptions {
                        priority: 9,
                        required_skills: Vec::new(),
                    },
                );
                return Outcome::Operator;
            }
            Outcome::SelfServed
        }
        Err(e) => {
            var("crm_error", &format!("{e:?}"));
            Outcome::Fallback(format!("crm lookup failed: {e:?}"))
        }
    }
}

/// Burns CPU without ever calling the host.
fn spin() -> ! {
    let mut x: u64 = 1;
    loop {
        x = x
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        core::hint::black_box(x);
    }
}

/// Waits for the caller's keys as long as the call variable `wait_ms` says, then a bit of work.
fn wait(info: &CallInfo) -> Outcome {
    let wait_ms: u32 = info
        .vars
        .iter()
        .find(|v| v.name == "wait_ms")
        .and_then(|v| v.value.parse().ok())
        .unwrap_or(30_000);
    match call::collect(&CollectOptions {
        prompt: None,
        retry_prompt: None,
        min_digits: 1,
        max_digits: 1,
        terminators: String::new(),
        first_digit_timeout_ms: wait_ms + 5_000,
        inter_digit_timeout_ms: 1_000,
        total_timeout_ms: 0,
        retries: 0,
    }) {
        Ok(got) => {
            var("digits", &got.digits);
            Outcome::SelfServed
        }
        Err(e) => gone(e),
    }
}

/// Allocates 1 MiB blocks and keeps them until memory runs out.
fn memory() -> Outcome {
    let mut blocks: Vec<Vec<u8>> = Vec::new();
    loop {
        let mut block = Vec::with_capacity(1 << 20);
        block.resize(1 << 20, 7u8);
        blocks.push(block);
        core::hint::black_box(&blocks);
    }
}

/// Calls the host as fast as it can and counts what came back.
fn flood() -> Outcome {
    let (mut ok, mut limited, mut other) = (0u32, 0u32, 0u32);
    for _ in 0..20_000 {
        match kv::get("flood") {
            Ok(_) => ok += 1,
            Err(kv::KvError::RateLimited) => limited += 1,
            Err(_) => other += 1,
        }
    }
    var("ok", &format!("{ok}"));
    var("limited", &format!("{limited}"));
    var("other", &format!("{other}"));
    Outcome::SelfServed
}

/// Oversized log lines, log volume, kv values and HTTP responses; reports each error.
fn oversized(info: &CallInfo) -> Outcome {
    let long = "x".repeat(4_096);
    var(
        "log_long",
        &format!("{:?}", log::write(log::Level::Info, &long)),
    );
    let line = "y".repeat(2_000);
    let mut written = 0u32;
    let mut last = String::new();
    for _ in 0..64 {
        match log::write(log::Level::Info, &line) {
            Ok(()) => written += 1,
            Err(e) => {
                last = format!("{e:?}");
                break;
            }
        }
    }
    var("log_lines", &format!("{written}"));
    var("log_budget", &last);
    let big = "z".repeat(100 * 1024);
    var("kv_big", &format!("{:?}", kv::set("big", &big)));
    let url = info
        .vars
        .iter()
        .find(|v| v.name == "big_url")
        .map(|v| v.value.clone())
        .unwrap_or_default();
    let response = http::send(&http::Request {
        method: http::Method::Get,
        url,
        headers: Vec::new(),
        body: None,
        timeout_ms: None,
    });
    var(
        "http_big",
        &match response {
            Ok(r) => format!("ok {}", r.body.len()),
            Err(e) => format!("{e:?}"),
        },
    );
    var(
        "http_forbidden",
        &format!(
            "{:?}",
            http::send(&http::Request {
                method: http::Method::Get,
                url: "http://forbidden.example/".to_string(),
                headers: Vec::new(),
                body: None,
                timeout_ms: None,
            })
            .map(|r| r.status)
        ),
    );
    Outcome::SelfServed
}

/// Writes the call variable `kv_value` under `kv_key`, or reads `kv_key` into the variable `read`.
fn kv_probe(info: &CallInfo) -> Outcome {
    let get = |name: &str| {
        info.vars
            .iter()
            .find(|v| v.name == name)
            .map(|v| v.value.clone())
    };
    let key = get("kv_key").unwrap_or_else(|| "secret".to_string());
    match get("kv_value") {
        Some(value) => var("written", &format!("{:?}", kv::set(&key, &value))),
        None => var(
            "read",
            &match kv::get(&key) {
                Ok(Some(v)) => v,
                Ok(None) => "none".to_string(),
                Err(e) => format!("{e:?}"),
            },
        ),
    }
    Outcome::SelfServed
}

impl Guest for Probe {
    fn handle_call(info: CallInfo) -> Outcome {
        let probe = info
            .vars
            .iter()
            .find(|v| v.name == "probe")
            .map(|v| v.value.clone())
            .unwrap_or_default();
        match probe.as_str() {
            "crm" => crm(&info),
            "spin" => spin(),
            "wait" => wait(&info),
            "wait-then-spin" => {
                let _ = wait(&info);
                spin()
            }
            "memory" => memory(),
            "flood" => flood(),
            "oversized" => oversized(&info),
            "kv" => kv_probe(&info),
            "trap" => panic!("the probe was told to trap"),
            "dishonest" => Outcome::Operator,
            "first-call" => {
                // The cheapest round trip: one host call, then done (the benchmark's guest).
                let _ = call::answer();
                Outcome::SelfServed
            }
            "log-then-wait" => {
                // A line in the tenant's log, then a wait the tests cut off.
                let _ = log::write(log::Level::Info, "waiting for the caller's choice");
                wait(&info)
            }
            "suspend" => {
                // Waits for a key forever (the benchmark's suspended call).
                wait(&info)
            }
            _ => menu(&info),
        }
    }
}

export!(Probe);
