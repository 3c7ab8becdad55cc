//! A Stripe stand-in for the adapter's tests: wiremock serving the JSON fixtures of the API
//! version async-stripe pins, plus [`CreateEndpoint`], which behaves like Stripe's idempotency
//! layer on a create endpoint (one object per key, the saved answer replayed on a retry) and can
//! be told to fail the next request in the ways Stripe fails.

#![allow(dead_code)] // each test file uses its own part of the support code

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hotline_billing_stripe::{api_version, StripeConfig, StripeGateway};
use serde_json::{json, Value};
use wiremock::{MockServer, Request, Respond, ResponseTemplate};

pub const SECRET_KEY: &str = "sk_test_51QhOtlLkdIwHu7ixHotlineTests";

/// A fixture of the pinned API version, e.g. `fixture("invoice_draft")`.
pub fn fixture(name: &str) -> Value {
    let path = format!(
        "{}/tests/fixtures/{}/{name}.json",
        env!("CARGO_MANIFEST_DIR"),
        api_version()
    );
    let text = std::fs::read_to_string(&path).unwrap_or_else(|err| panic!("{path}: {err}"));
    serde_json::from_str(&text).unwrap_or_else(|err| panic!("{path}: {err}"))
}

/// A Stripe list envelope around `data`.
pub fn list(url: &str, data: Vec<Value>, has_more: bool) -> Value {
    json!({ "object": "list", "data": data, "has_more": has_more, "url": url })
}

/// A search envelope around `data`.
pub fn search_result(url: &str, data: Vec<Value>) -> Value {
    let mut page = fixture("customer_search");
    page["data"] = Value::Array(data);
    page["url"] = Value::String(url.to_owned());
    page
}

pub fn gateway(server: &MockServer) -> StripeGateway {
    gateway_with_timeout(server, Duration::from_secs(5))
}

pub fn gateway_with_timeout(server: &MockServer, timeout: Duration) -> StripeGateway {
    StripeGateway::new(
        StripeConfig::new(SECRET_KEY)
            .with_api_base(server.uri())
            .with_timeout(timeout),
    )
    .unwrap()
}

/// Every request the server received for `method` + `path`, in order.
pub async fn requests_to(server: &MockServer, method: &str, path: &str) -> Vec<Request> {
    server
        .received_requests()
        .await
        .unwrap_or_default()
        .into_iter()
        .filter(|r| r.method.as_str() == method && r.url.path() == path)
        .collect()
}

pub fn header(request: &Request, name: &str) -> Option<String> {
    request
        .headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap();
                out.push(u8::from_str_radix(hex, 16).unwrap());
                i += 2;
            }
            other => out.push(other),
        }
        i += 1;
    }
    String::from_utf8(out).unwrap()
}

/// The form-encoded body of a request, decoded: `metadata[hotline_invoice_id]` → value.
pub fn form(request: &Request) -> HashMap<String, String> {
    let body = std::str::from_utf8(&request.body).unwrap();
    body.split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            (percent_decode(key), percent_decode(value))
        })
        .collect()
}

/// The decoded query string of a request.
pub fn query(request: &Request) -> HashMap<String, String> {
    request
        .url
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

/// How the next request to a [`CreateEndpoint`] fails.
#[derive(Clone, Debug)]
pub enum Fault {
    /// 500 before the endpoint ran: nothing created, nothing saved under the key.
    ServerErrorBeforeExecution,
    /// 500 after the endpoint began: nothing created, but the 500 is saved under the key and
    /// replayed to every retry with it, as Stripe documents.
    ServerErrorSaved,
    /// The object is created and saved under the key, but the answer comes after `Duration`.
    AnswerLate(Duration),
}

#[derive(Default)]
struct CreateState {
    created: Vec<Value>,
    saved: HashMap<String, (u16, Value)>,
    faults: VecDeque<Fault>,
}

/// A Stripe create endpoint with Stripe's idempotency semantics, built from a fixture: each new
/// key creates one object (the fixture with a fresh id and the request's scalar fields and
/// metadata applied); a known key replays the saved object.
#[derive(Clone)]
pub struct CreateEndpoint {
    template: Arc<Value>,
    id_prefix: &'static str,
    state: Arc<Mutex<CreateState>>,
}

impl CreateEndpoint {
    pub fn new(fixture_name: &str, id_prefix: &'static str) -> Self {
        Self {
            template: Arc::new(fixture(fixture_name)),
            id_prefix,
            state: Arc::default(),
        }
    }

    pub fn fail_next(&self, fault: Fault) {
        self.state.lock().unwrap().faults.push_back(fault);
    }

    /// The objects this endpoint created, in order.
    pub fn created(&self) -> Vec<Value> {
        self.state.lock().unwrap().created.clone()
    }

    fn build(&self, state: &mut CreateState, form: &HashMap<String, String>) -> Value {
        let mut object = (*self.template).clone();
        object["id"] = json!(format!("{}_{:04}", self.id_prefix, state.created.len() + 1));
        let mut metadata = serde_json::Map::new();
        for (key, value) in form {
            if let Some(name) = key
                .strip_prefix("metadata[")
                .and_then(|k| k.strip_suffix(']'))
            {
                metadata.insert(name.to_owned(), json!(value));
                continue;
            }
            let Some(slot) = object.get_mut(key.as_str()) else {
                continue;
            };
            *slot = match slot {
                Value::Number(_) => json!(value.parse::<i64>().unwrap()),
                Value::Bool(_) => json!(value == "true"),
                _ => json!(value),
            };
        }
        object["metadata"] = Value::Object(metadata);
        state.created.push(object.clone());
        object
    }
}

impl Respond for CreateEndpoint {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let key = header(request, "idempotency-key");
        let mut state = self.state.lock().unwrap();
        if let Some((status, saved)) = key.as_ref().and_then(|k| state.saved.get(k)) {
            return ResponseTemplate::new(*status)
                .insert_header("idempotent-replayed", "true")
                .set_body_json(saved.clone());
        }
        let fault = state.faults.pop_front();
        match fault {
            Some(Fault::ServerErrorBeforeExecution) => {
                return ResponseTemplate::new(500).set_body_json(fixture("error_api"));
            }
            Some(Fault::ServerErrorSaved) => {
                if let Some(key) = key {
                    state.saved.insert(key, (500, fixture("error_api")));
                }
                return ResponseTemplate::new(500).set_body_json(fixture("error_api"));
            }
            _ => {}
        }
        let object = self.build(&mut state, &form(request));
        if let Some(key) = key {
            state.saved.insert(key, (200, object.clone()));
        }
        let answer = ResponseTemplate::new(200).set_body_json(object);
        match fault {
            Some(Fault::AnswerLate(delay)) => answer.set_delay(delay),
            _ => answer,
        }
    }
}
