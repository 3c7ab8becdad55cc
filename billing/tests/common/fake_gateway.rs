//! An in-memory payment provider behind the real [`PaymentGateway`] trait, behaving as Stripe
//! documents what the outbox relies on: a create under an idempotency key already used returns
//! the saved answer (the object, or a saved server error, "replayed"), objects carry our ids in
//! their metadata and can be found by them, and finalization compares totals. It counts calls
//! and can be told to fail the next N calls of an operation in the ways Stripe fails.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use chrono::{DateTime, Utc};
use hotline_billing::gateway::{
    Amount, CreditNoteRequest, CustomerRequest, DraftInvoiceRequest, FinalizeInvoiceRequest,
    GatewayError, GatewayFuture, InvoiceItemRequest, PaymentGateway, RemoteCreditNote,
    RemoteCustomer, RemoteInvoice, RemoteInvoiceItem, RemoteInvoiceStatus, WebhookError,
    WebhookEvent, WebhookEventKind,
};
use uuid::Uuid;

/// The header value [`FakeGateway::verify_webhook`] accepts as a valid signature.
pub const GOOD_SIGNATURE: &str = "t=1,v1=good";

/// How an injected failure behaves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Failure {
    /// A 503 before anything happened: nothing is saved under the key.
    Unavailable,
    /// The object is made, then the answer is lost (a timeout): the key's answer is the object.
    TimeoutAfterCreate,
    /// A 500 that Stripe saves under the key: every retry with that key gets it replayed.
    SavedServerError,
    /// A 400: the request is refused.
    Refused,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Op {
    Customer,
    Draft,
    Item,
    Finalize,
    CreditNote,
    Find,
}

#[derive(Clone)]
enum Saved {
    Customer(RemoteCustomer),
    Invoice(String),
    Item(RemoteInvoiceItem),
    CreditNote(RemoteCreditNote),
    ServerError,
}

struct FakeInvoice {
    remote: RemoteInvoice,
    customer: String,
    items: Vec<RemoteInvoiceItem>,
}

#[derive(Default)]
struct State {
    customers: Vec<RemoteCustomer>,
    invoices: Vec<FakeInvoice>,
    credit_notes: Vec<(String, RemoteCreditNote)>,
    saved: HashMap<String, Saved>,
    calls: HashMap<Op, u32>,
    failures: HashMap<Op, (u32, Failure)>,
    keys_seen: Vec<String>,
    next_id: u32,
}

impl State {
    fn id(&mut self, prefix: &str) -> String {
        self.next_id += 1;
        format!("{prefix}_{}", self.next_id)
    }

    fn invoice_mut(&mut self, id: &str) -> Result<&mut FakeInvoice, GatewayError> {
        self.invoices
            .iter_mut()
            .find(|i| i.remote.provider_id == id)
            .ok_or_else(|| GatewayError::Permanent {
                status: Some(404),
                code: Some("resource_missing".into()),
                message: format!("No such invoice: {id}"),
            })
    }

    /// Counts the call and applies an injected failure, if one is due. `Ok(true)` means: make
    /// the object, then answer with a timeout.
    fn enter(&mut self, op: Op, key: Option<&str>) -> Result<bool, GatewayError> {
        *self.calls.entry(op).or_default() += 1;
        if let Some(key) = key {
            self.keys_seen.push(key.to_owned());
        }
        let Some((left, failure)) = self.failures.get_mut(&op) else {
            return Ok(false);
        };
        if *left == 0 {
            return Ok(false);
        }
        *left -= 1;
        match *failure {
            Failure::Unavailable => Err(unavailable("Stripe answered 503")),
            Failure::TimeoutAfterCreate => Ok(true),
            Failure::SavedServerError => {
                if let Some(key) = key {
                    self.saved.insert(key.to_owned(), Saved::ServerError);
                }
                Err(unavailable("Stripe answered 500 (api_error)"))
            }
            Failure::Refused => Err(GatewayError::Permanent {
                status: Some(400),
                code: Some("parameter_invalid".into()),
                message: "refused".into(),
            }),
        }
    }
}

fn unavailable(message: &str) -> GatewayError {
    GatewayError::Retryable {
        message: message.into(),
        retry_after: None,
    }
}

fn replayed_error() -> GatewayError {
    unavailable(
        "Stripe answered 500 replayed from an earlier attempt under the same idempotency key",
    )
}

fn timeout() -> GatewayError {
    unavailable("Stripe did not answer in time")
}

#[derive(Default)]
pub struct FakeGateway {
    state: Mutex<State>,
}

impl FakeGateway {
    pub fn new() -> Self {
        Self::default()
    }

    /// The next `times` calls of `op` fail as `failure`.
    pub fn fail_next(&self, op: Op, times: u32, failure: Failure) {
        self.state
            .lock()
            .unwrap()
            .failures
            .insert(op, (times, failure));
    }

    pub fn calls(&self, op: Op) -> u32 {
        self.state
            .lock()
            .unwrap()
            .calls
            .get(&op)
            .copied()
            .unwrap_or(0)
    }

    pub fn customers(&self) -> usize {
        self.state.lock().unwrap().customers.len()
    }

    /// Every invoice the provider holds: (its id, our id, status, total, item count).
    pub fn invoices(&self) -> Vec<(String, Option<Uuid>, RemoteInvoiceStatus, i64, usize)> {
        self.state
            .lock()
            .unwrap()
            .invoices
            .iter()
            .map(|i| {
                (
                    i.remote.provider_id.clone(),
                    i.remote.hotline_invoice_id,
                    i.remote.status.clone(),
                    i.remote.total.minor_units,
                    i.items.len(),
                )
            })
            .collect()
    }

    pub fn credit_notes(&self) -> usize {
        self.state.lock().unwrap().credit_notes.len()
    }

    pub fn keys_seen(&self) -> Vec<String> {
        self.state.lock().unwrap().keys_seen.clone()
    }

    /// Forgets every saved answer, as Stripe does once keys are older than 24 hours.
    pub fn expire_keys(&self) {
        self.state.lock().unwrap().saved.clear();
    }

    /// A webhook body this fake verifies.
    pub fn webhook_payload(event_id: &str, kind: &str, provider_invoice_id: &str) -> Vec<u8> {
        serde_json::json!({"id": event_id, "type": kind, "invoice": provider_invoice_id})
            .to_string()
            .into_bytes()
    }
}

fn saved_error_or<T>(
    saved: Option<Saved>,
    pick: impl FnOnce(Saved) -> Option<T>,
) -> Option<Result<T, GatewayError>> {
    match saved {
        None => None,
        Some(Saved::ServerError) => Some(Err(replayed_error())),
        Some(other) => pick(other).map(Ok),
    }
}

impl PaymentGateway for FakeGateway {
    fn ensure_customer<'a>(
        &'a self,
        request: &'a CustomerRequest,
    ) -> GatewayFuture<'a, RemoteCustomer> {
        Box::pin(async move {
            let mut state = self.state.lock().unwrap();
            let make_then_timeout =
                state.enter(Op::Customer, Some(request.idempotency_key.as_str()))?;
            if let Some(existing) = state
                .customers
                .iter()
                .find(|c| c.hotline_account_id == Some(request.hotline_account_id))
            {
                return Ok(existing.clone());
            }
            let saved = state.saved.get(request.idempotency_key.as_str()).cloned();
            if let Some(answer) = saved_error_or(saved, |s| match s {
                Saved::Customer(c) => Some(c),
                _ => None,
            }) {
                return answer;
            }
            let customer = RemoteCustomer {
                provider_id: state.id("cus"),
                hotline_account_id: Some(request.hotline_account_id),
            };
            state.customers.push(customer.clone());
            state.saved.insert(
                request.idempotency_key.as_str().to_owned(),
                Saved::Customer(customer.clone()),
            );
            if make_then_timeout {
                return Err(timeout());
            }
            Ok(customer)
        })
    }

    fn create_draft_invoice<'a>(
        &'a self,
        request: &'a DraftInvoiceRequest,
    ) -> GatewayFuture<'a, RemoteInvoice> {
        Box::pin(async move {
            let mut state = self.state.lock().unwrap();
            let make_then_timeout =
                state.enter(Op::Draft, Some(request.idempotency_key.as_str()))?;
            let saved = state.saved.get(request.idempotency_key.as_str()).cloned();
            if let Some(answer) = saved_error_or(saved, |s| match s {
                Saved::Invoice(id) => Some(id),
                _ => None,
            }) {
                let id = answer?;
                return Ok(state.invoice_mut(&id)?.remote.clone());
            }
            let remote = RemoteInvoice {
                provider_id: state.id("in"),
                hotline_invoice_id: Some(request.hotline_invoice_id),
                status: RemoteInvoiceStatus::Draft,
                total: Amount::new(0, request.currency.clone()),
                number: None,
                hosted_invoice_url: None,
            };
            state.invoices.push(FakeInvoice {
                remote: remote.clone(),
                customer: request.provider_customer_id.clone(),
                items: vec![],
            });
            state.saved.insert(
                request.idempotency_key.as_str().to_owned(),
                Saved::Invoice(remote.provider_id.clone()),
            );
            if make_then_timeout {
                return Err(timeout());
            }
            Ok(remote)
        })
    }

    fn add_invoice_item<'a>(
        &'a self,
        request: &'a InvoiceItemRequest,
    ) -> GatewayFuture<'a, RemoteInvoiceItem> {
        Box::pin(async move {
            let mut state = self.state.lock().unwrap();
            let make_then_timeout =
                state.enter(Op::Item, Some(request.idempotency_key.as_str()))?;
            let saved = state.saved.get(request.idempotency_key.as_str()).cloned();
            if let Some(answer) = saved_error_or(saved, |s| match s {
                Saved::Item(item) => Some(item),
                _ => None,
            }) {
                return answer;
            }
            let item = RemoteInvoiceItem {
                provider_id: state.id("ii"),
                hotline_line_id: Some(request.hotline_line_id),
                amount: request.amount.clone(),
            };
            let invoice = state.invoice_mut(&request.provider_invoice_id)?;
            if invoice.remote.status != RemoteInvoiceStatus::Draft {
                return Err(GatewayError::Permanent {
                    status: Some(400),
                    code: Some("invoice_not_editable".into()),
                    message: "the invoice is finalized".into(),
                });
            }
            invoice.items.push(item.clone());
            invoice.remote.total.minor_units += request.amount.minor_units;
            state.saved.insert(
                request.idempotency_key.as_str().to_owned(),
                Saved::Item(item.clone()),
            );
            if make_then_timeout {
                return Err(timeout());
            }
            Ok(item)
        })
    }

    fn invoice<'a>(&'a self, provider_invoice_id: &'a str) -> GatewayFuture<'a, RemoteInvoice> {
        Box::pin(async move {
            let mut state = self.state.lock().unwrap();
            state.enter(Op::Find, None)?;
            Ok(state.invoice_mut(provider_invoice_id)?.remote.clone())
        })
    }

    fn finalize_invoice<'a>(
        &'a self,
        request: &'a FinalizeInvoiceRequest,
    ) -> GatewayFuture<'a, RemoteInvoice> {
        Box::pin(async move {
            let mut state = self.state.lock().unwrap();
            let make_then_timeout =
                state.enter(Op::Finalize, Some(request.idempotency_key.as_str()))?;
            let number = state.id("INV");
            let invoice = state.invoice_mut(&request.provider_invoice_id)?;
            if invoice.remote.total != request.expected_total {
                return Err(GatewayError::TotalMismatch {
                    provider_invoice_id: invoice.remote.provider_id.clone(),
                    expected: request.expected_total.clone(),
                    actual: invoice.remote.total.clone(),
                });
            }
            if invoice.remote.status == RemoteInvoiceStatus::Draft {
                invoice.remote.status = RemoteInvoiceStatus::Open;
                invoice.remote.number = Some(number);
                invoice.remote.hosted_invoice_url = Some(format!(
                    "https://pay.example/{}",
                    invoice.remote.provider_id
                ));
            }
            let remote = invoice.remote.clone();
            if make_then_timeout {
                return Err(timeout());
            }
            Ok(remote)
        })
    }

    fn create_credit_note<'a>(
        &'a self,
        request: &'a CreditNoteRequest,
    ) -> GatewayFuture<'a, RemoteCreditNote> {
        Box::pin(async move {
            let mut state = self.state.lock().unwrap();
            let make_then_timeout =
                state.enter(Op::CreditNote, Some(request.idempotency_key.as_str()))?;
            let saved = state.saved.get(request.idempotency_key.as_str()).cloned();
            if let Some(answer) = saved_error_or(saved, |s| match s {
                Saved::CreditNote(note) => Some(note),
                _ => None,
            }) {
                return answer;
            }
            let currency = state
                .invoice_mut(&request.provider_invoice_id)?
                .remote
                .total
                .currency
                .clone();
            let note = RemoteCreditNote {
                provider_id: state.id("cn"),
                hotline_credit_note_id: Some(request.hotline_credit_note_id),
                total: Amount::new(
                    request.lines.iter().map(|l| l.amount_minor_units).sum(),
                    currency,
                ),
            };
            state
                .credit_notes
                .push((request.provider_invoice_id.clone(), note.clone()));
            state.saved.insert(
                request.idempotency_key.as_str().to_owned(),
                Saved::CreditNote(note.clone()),
            );
            if make_then_timeout {
                return Err(timeout());
            }
            Ok(note)
        })
    }

    fn find_customer<'a>(
        &'a self,
        hotline_account_id: Uuid,
    ) -> GatewayFuture<'a, Option<RemoteCustomer>> {
        Box::pin(async move {
            let mut state = self.state.lock().unwrap();
            state.enter(Op::Find, None)?;
            Ok(state
                .customers
                .iter()
                .find(|c| c.hotline_account_id == Some(hotline_account_id))
                .cloned())
        })
    }

    fn find_invoice<'a>(
        &'a self,
        provider_customer_id: &'a str,
        hotline_invoice_id: Uuid,
    ) -> GatewayFuture<'a, Option<RemoteInvoice>> {
        Box::pin(async move {
            let mut state = self.state.lock().unwrap();
            state.enter(Op::Find, None)?;
            Ok(state
                .invoices
                .iter()
                .find(|i| {
                    i.customer == provider_customer_id
                        && i.remote.hotline_invoice_id == Some(hotline_invoice_id)
                })
                .map(|i| i.remote.clone()))
        })
    }

    fn invoice_items<'a>(
        &'a self,
        provider_invoice_id: &'a str,
    ) -> GatewayFuture<'a, Vec<RemoteInvoiceItem>> {
        Box::pin(async move {
            let mut state = self.state.lock().unwrap();
            state.enter(Op::Find, None)?;
            Ok(state.invoice_mut(provider_invoice_id)?.items.clone())
        })
    }

    fn find_credit_note<'a>(
        &'a self,
        provider_invoice_id: &'a str,
        hotline_credit_note_id: Uuid,
    ) -> GatewayFuture<'a, Option<RemoteCreditNote>> {
        Box::pin(async move {
            let mut state = self.state.lock().unwrap();
            state.enter(Op::Find, None)?;
            Ok(state
                .credit_notes
                .iter()
                .find(|(invoice, note)| {
                    invoice == provider_invoice_id
                        && note.hotline_credit_note_id == Some(hotline_credit_note_id)
                })
                .map(|(_, note)| note.clone()))
        })
    }

    fn verify_webhook(
        &self,
        payload: &[u8],
        signature_header: &str,
        now: DateTime<Utc>,
    ) -> Result<WebhookEvent, WebhookError> {
        if signature_header != GOOD_SIGNATURE {
            return Err(WebhookError::BadSignature);
        }
        let body: serde_json::Value = serde_json::from_slice(payload)
            .map_err(|e| WebhookError::MalformedPayload(e.to_string()))?;
        let text = |field: &str| body[field].as_str().map(str::to_owned);
        let kind = match text("type").as_deref() {
            Some("invoice.paid") => WebhookEventKind::InvoicePaid,
            Some("invoice.payment_failed") => WebhookEventKind::InvoicePaymentFailed,
            Some("invoice.voided") => WebhookEventKind::InvoiceVoided,
            Some("invoice.marked_uncollectible") => WebhookEventKind::InvoiceMarkedUncollectible,
            Some(other) => WebhookEventKind::Other(other.to_owned()),
            None => return Err(WebhookError::MalformedPayload("no type".into())),
        };
        Ok(WebhookEvent {
            id: text("id").ok_or_else(|| WebhookError::MalformedPayload("no id".into()))?,
            created: now - chrono::Duration::from_std(Duration::from_secs(1)).unwrap(),
            kind,
            provider_invoice_id: text("invoice"),
            hotline_invoice_id: None,
        })
    }
}
