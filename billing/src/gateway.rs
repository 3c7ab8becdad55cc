//! The payment gateway: what billing needs of the payment provider (Stripe today), as a small
//! trait the billing crate owns. The adapter lives in its own crate (`billing/stripe`) so the
//! provider SDK's large build never reaches the rating core, and tests of the outbox can use an
//! in-memory implementation.
//!
//! Rating is ours; the gateway only mirrors finalized numbers into the provider and reports
//! payment status back. It must never compute or change an amount, and a webhook may cause a
//! payment status update and nothing else.
//!
//! Exactly-once across retries rests on two mechanisms, both designed for an outbox that replays
//! an operation until it succeeds or fails permanently:
//! - every create carries an [`IdempotencyKey`] derived from our ids and the operation, so a
//!   retried call within the provider's key lifetime ([`IDEMPOTENCY_KEY_LIFETIME`]) returns the
//!   object the first call made, never a second one;
//! - every object carries our id in its metadata, and the `find_*` methods look it up, so a retry
//!   after a long outage (keys expired) adopts the existing object instead of creating another.
//!   The outbox calls them before re-creating once its first attempt is older than the key lifetime.
//!
//! A key can also be spent: Stripe saves the answer of any attempt that began executing, a 500
//! included, and replays it for every retry under that key (the error message then says
//! "replayed"). When retries keep failing that way, the outbox reconciles with `find_*` and, if
//! the object does not exist, retries under [`IdempotencyKey::next_generation`].
//!
//! Errors say what the outbox should do: retry later ([`GatewayError::Retryable`]), stop and
//! alert ([`GatewayError::Permanent`]), or stop because the provider's numbers disagree with ours
//! ([`GatewayError::TotalMismatch`]).

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use chrono::{DateTime, Utc};
use uuid::Uuid;

/// Metadata key holding our billing account id on the provider's customer.
pub const METADATA_ACCOUNT_ID: &str = "hotline_account_id";
/// Metadata key holding our invoice id on the provider's invoice.
pub const METADATA_INVOICE_ID: &str = "hotline_invoice_id";
/// Metadata key holding our invoice line id on the provider's invoice item.
pub const METADATA_LINE_ID: &str = "hotline_line_id";
/// Metadata key holding our credit note id on the provider's credit note.
pub const METADATA_CREDIT_NOTE_ID: &str = "hotline_credit_note_id";

/// How long the provider remembers an idempotency key (Stripe: at least 24 hours). An operation
/// whose first attempt is older than this must be reconciled with a `find_*` call before it is
/// sent again. Kept an hour short of 24 h so clock skew never lands a retry just past expiry.
pub const IDEMPOTENCY_KEY_LIFETIME: Duration = Duration::from_secs(23 * 60 * 60);

/// The future every gateway call returns: boxed so the trait stays usable as
/// `Arc<dyn PaymentGateway>` (an `async fn` in a trait is not dyn-compatible).
pub type GatewayFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, GatewayError>> + Send + 'a>>;

/// The payment provider as billing's outbox drives it. Every method is safe to call again with
/// the same request: creates are idempotent through the request's key, reads have no effect.
pub trait PaymentGateway: Send + Sync {
    /// The provider's customer for one of our billing accounts: adopted when one with our
    /// account id in its metadata exists, created (idempotently) otherwise.
    fn ensure_customer<'a>(
        &'a self,
        request: &'a CustomerRequest,
    ) -> GatewayFuture<'a, RemoteCustomer>;

    /// A draft invoice for our invoice: never advanced automatically, so nothing reaches the
    /// client until [`PaymentGateway::finalize_invoice`] is called.
    fn create_draft_invoice<'a>(
        &'a self,
        request: &'a DraftInvoiceRequest,
    ) -> GatewayFuture<'a, RemoteInvoice>;

    /// One of our invoice lines as an item on the provider's draft invoice.
    fn add_invoice_item<'a>(
        &'a self,
        request: &'a InvoiceItemRequest,
    ) -> GatewayFuture<'a, RemoteInvoiceItem>;

    /// The provider's current view of an invoice (status, total).
    fn invoice<'a>(&'a self, provider_invoice_id: &'a str) -> GatewayFuture<'a, RemoteInvoice>;

    /// Reads the draft back, compares its total and currency with ours, and finalizes it only
    /// when they agree ([`GatewayError::TotalMismatch`] otherwise, with nothing finalized). An
    /// invoice the provider has already finalized (a retry after success) is returned as it is,
    /// after the same comparison.
    fn finalize_invoice<'a>(
        &'a self,
        request: &'a FinalizeInvoiceRequest,
    ) -> GatewayFuture<'a, RemoteInvoice>;

    /// A credit note against a finalized invoice.
    fn create_credit_note<'a>(
        &'a self,
        request: &'a CreditNoteRequest,
    ) -> GatewayFuture<'a, RemoteCreditNote>;

    /// Reconciliation: the customer carrying our account id, if the provider has one.
    fn find_customer<'a>(
        &'a self,
        hotline_account_id: Uuid,
    ) -> GatewayFuture<'a, Option<RemoteCustomer>>;

    /// Reconciliation: the customer's invoice carrying our invoice id, if any.
    fn find_invoice<'a>(
        &'a self,
        provider_customer_id: &'a str,
        hotline_invoice_id: Uuid,
    ) -> GatewayFuture<'a, Option<RemoteInvoice>>;

    /// Reconciliation: every item on a provider invoice, each with our line id when it has one,
    /// so a resumed sync adds only the lines that are missing.
    fn invoice_items<'a>(
        &'a self,
        provider_invoice_id: &'a str,
    ) -> GatewayFuture<'a, Vec<RemoteInvoiceItem>>;

    /// Reconciliation: the credit note on a provider invoice carrying our credit note id, if any.
    fn find_credit_note<'a>(
        &'a self,
        provider_invoice_id: &'a str,
        hotline_credit_note_id: Uuid,
    ) -> GatewayFuture<'a, Option<RemoteCreditNote>>;

    /// Verifies a webhook delivery (signature over the raw body, timestamp within tolerance of
    /// `now`) and parses it. Deduplication on [`WebhookEvent::id`] is the caller's job.
    fn verify_webhook(
        &self,
        payload: &[u8],
        signature_header: &str,
        now: DateTime<Utc>,
    ) -> Result<WebhookEvent, WebhookError>;
}

/// An ISO 4217 currency code, kept upper-case (`EUR`, `JPY`). Minor-unit exponents are the
/// rating core's business; the gateway only passes codes through.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CurrencyCode(String);

impl CurrencyCode {
    /// Accepts three ASCII letters in any case.
    pub fn parse(code: &str) -> Result<Self, InvalidCurrencyCode> {
        if code.len() == 3 && code.bytes().all(|b| b.is_ascii_alphabetic()) {
            Ok(Self(code.to_ascii_uppercase()))
        } else {
            Err(InvalidCurrencyCode(code.to_owned()))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for CurrencyCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not an ISO 4217 currency code: {0:?}")]
pub struct InvalidCurrencyCode(pub String);

/// An amount in integer minor units of a currency (cents; yen for JPY). Never a float.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Amount {
    pub minor_units: i64,
    pub currency: CurrencyCode,
}

impl Amount {
    pub fn new(minor_units: i64, currency: CurrencyCode) -> Self {
        Self {
            minor_units,
            currency,
        }
    }
}

impl fmt::Display for Amount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} (minor units)", self.minor_units, self.currency)
    }
}

/// The key the provider deduplicates a create on. Derived from our id and the operation
/// (`hotline:invoice:<id>:create`), so every retry of one outbox row sends the same key and
/// two different operations never share one. The outbox stores it with the row.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct IdempotencyKey(String);

/// Stripe's limit on an idempotency key's length.
const MAX_IDEMPOTENCY_KEY_LEN: usize = 255;

impl IdempotencyKey {
    pub fn for_customer(hotline_account_id: Uuid) -> Self {
        Self::derive("account", hotline_account_id, "create-customer")
    }

    pub fn for_invoice_create(hotline_invoice_id: Uuid) -> Self {
        Self::derive("invoice", hotline_invoice_id, "create")
    }

    pub fn for_invoice_finalize(hotline_invoice_id: Uuid) -> Self {
        Self::derive("invoice", hotline_invoice_id, "finalize")
    }

    pub fn for_invoice_item(hotline_line_id: Uuid) -> Self {
        Self::derive("invoice-line", hotline_line_id, "create")
    }

    pub fn for_credit_note(hotline_credit_note_id: Uuid) -> Self {
        Self::derive("credit-note", hotline_credit_note_id, "create")
    }

    fn derive(object: &str, id: Uuid, operation: &str) -> Self {
        Self(format!("hotline:{object}:{id}:{operation}"))
    }

    /// The key for a fresh attempt at the same operation once this one is spent (see the module
    /// docs): `...:create` becomes `...:create#2`, `#2` becomes `#3`. Only after reconciliation
    /// showed the object does not exist, or a second object may be created.
    pub fn next_generation(&self) -> Self {
        let (base, generation) = match self.0.rsplit_once('#') {
            Some((base, n)) => match n.parse::<u32>() {
                Ok(n) => (base, n.saturating_add(1)),
                Err(_) => (self.0.as_str(), 2),
            },
            None => (self.0.as_str(), 2),
        };
        Self(format!("{base}#{generation}"))
    }

    /// A key read back from the outbox table, checked against the provider's limits.
    pub fn from_stored(key: String) -> Result<Self, InvalidIdempotencyKey> {
        let printable = key.bytes().all(|b| b.is_ascii_graphic());
        if key.is_empty() || key.len() > MAX_IDEMPOTENCY_KEY_LEN || !printable {
            return Err(InvalidIdempotencyKey(key));
        }
        Ok(Self(key))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for IdempotencyKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a usable idempotency key (1 to 255 printable ASCII characters): {0:?}")]
pub struct InvalidIdempotencyKey(pub String);

/// Our billing account, as the provider's customer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CustomerRequest {
    pub hotline_account_id: Uuid,
    /// The client company's legal name, printed on the invoice.
    pub name: String,
    pub email: Option<String>,
    pub idempotency_key: IdempotencyKey,
}

impl CustomerRequest {
    pub fn new(hotline_account_id: Uuid, name: impl Into<String>, email: Option<String>) -> Self {
        Self {
            hotline_account_id,
            name: name.into(),
            email,
            idempotency_key: IdempotencyKey::for_customer(hotline_account_id),
        }
    }
}

/// How the provider collects an invoice once it is finalized.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CollectionMethod {
    /// Charge the customer's default payment method.
    ChargeAutomatically,
    /// E-mail the invoice; the customer pays within the given days.
    SendInvoice { days_until_due: u32 },
}

/// One of our invoices, as a draft on the provider.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DraftInvoiceRequest {
    pub hotline_invoice_id: Uuid,
    pub provider_customer_id: String,
    pub currency: CurrencyCode,
    pub collection_method: CollectionMethod,
    /// Shown on the invoice, e.g. the billing period.
    pub description: Option<String>,
    pub idempotency_key: IdempotencyKey,
}

impl DraftInvoiceRequest {
    pub fn new(
        hotline_invoice_id: Uuid,
        provider_customer_id: impl Into<String>,
        currency: CurrencyCode,
        collection_method: CollectionMethod,
    ) -> Self {
        Self {
            hotline_invoice_id,
            provider_customer_id: provider_customer_id.into(),
            currency,
            collection_method,
            description: None,
            idempotency_key: IdempotencyKey::for_invoice_create(hotline_invoice_id),
        }
    }
}

/// One of our (already rated and rounded) invoice lines.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InvoiceItemRequest {
    pub hotline_line_id: Uuid,
    pub provider_customer_id: String,
    pub provider_invoice_id: String,
    pub amount: Amount,
    pub description: String,
    pub idempotency_key: IdempotencyKey,
}

impl InvoiceItemRequest {
    pub fn new(
        hotline_line_id: Uuid,
        provider_customer_id: impl Into<String>,
        provider_invoice_id: impl Into<String>,
        amount: Amount,
        description: impl Into<String>,
    ) -> Self {
        Self {
            hotline_line_id,
            provider_customer_id: provider_customer_id.into(),
            provider_invoice_id: provider_invoice_id.into(),
            amount,
            description: description.into(),
            idempotency_key: IdempotencyKey::for_invoice_item(hotline_line_id),
        }
    }
}

/// Finalize a draft once its total is what we computed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FinalizeInvoiceRequest {
    pub hotline_invoice_id: Uuid,
    pub provider_invoice_id: String,
    /// Our invoice total; the provider's must equal it, currency included.
    pub expected_total: Amount,
    pub idempotency_key: IdempotencyKey,
}

impl FinalizeInvoiceRequest {
    pub fn new(
        hotline_invoice_id: Uuid,
        provider_invoice_id: impl Into<String>,
        expected_total: Amount,
    ) -> Self {
        Self {
            hotline_invoice_id,
            provider_invoice_id: provider_invoice_id.into(),
            expected_total,
            idempotency_key: IdempotencyKey::for_invoice_finalize(hotline_invoice_id),
        }
    }
}

/// Why a credit note is issued, in the provider's vocabulary.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CreditNoteReason {
    Duplicate,
    Fraudulent,
    OrderChange,
    ProductUnsatisfactory,
}

/// One line of a credit note: an amount we give back, with why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CreditNoteLine {
    pub description: String,
    /// Positive: what is credited, in the invoice's currency.
    pub amount_minor_units: i64,
}

/// One of our credit notes against a finalized invoice.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CreditNoteRequest {
    pub hotline_credit_note_id: Uuid,
    pub provider_invoice_id: String,
    pub lines: Vec<CreditNoteLine>,
    pub reason: Option<CreditNoteReason>,
    pub memo: Option<String>,
    pub idempotency_key: IdempotencyKey,
}

impl CreditNoteRequest {
    pub fn new(
        hotline_credit_note_id: Uuid,
        provider_invoice_id: impl Into<String>,
        lines: Vec<CreditNoteLine>,
    ) -> Self {
        Self {
            hotline_credit_note_id,
            provider_invoice_id: provider_invoice_id.into(),
            lines,
            reason: None,
            memo: None,
            idempotency_key: IdempotencyKey::for_credit_note(hotline_credit_note_id),
        }
    }
}

/// The provider's customer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RemoteCustomer {
    pub provider_id: String,
    pub hotline_account_id: Option<Uuid>,
}

/// An invoice's status on the provider.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RemoteInvoiceStatus {
    Draft,
    Open,
    Paid,
    Void,
    Uncollectible,
    /// A status this code does not know; kept so nothing is silently mapped.
    Other(String),
}

/// The provider's invoice, as far as billing cares.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RemoteInvoice {
    pub provider_id: String,
    pub hotline_invoice_id: Option<Uuid>,
    pub status: RemoteInvoiceStatus,
    pub total: Amount,
    /// The provider's invoice number, assigned at finalization.
    pub number: Option<String>,
    /// Where the client can see and pay it, once finalized.
    pub hosted_invoice_url: Option<String>,
}

/// An item on the provider's invoice.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RemoteInvoiceItem {
    pub provider_id: String,
    pub hotline_line_id: Option<Uuid>,
    pub amount: Amount,
}

/// The provider's credit note.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RemoteCreditNote {
    pub provider_id: String,
    pub hotline_credit_note_id: Option<Uuid>,
    pub total: Amount,
}

/// What the outbox should do with a failed call.
#[derive(Debug, thiserror::Error)]
pub enum GatewayError {
    /// Network failure, timeout, provider 5xx, rate limit (429) or a concurrent request with the
    /// same key (409): send the same request again later, with the same idempotency key.
    #[error("payment gateway temporarily unavailable: {message}")]
    Retryable {
        message: String,
        /// The provider's Retry-After, when it sent one.
        retry_after: Option<Duration>,
    },
    /// The provider refused the request (validation, authentication, a key reused with other
    /// parameters, an unexpected answer): retrying the same request cannot help.
    #[error("payment gateway refused the request (status {status:?}, code {code:?}): {message}")]
    Permanent {
        /// HTTP status, when the provider answered.
        status: Option<u16>,
        /// The provider's error code (`resource_missing`, `idempotency_error`...).
        code: Option<String>,
        message: String,
    },
    /// The provider's invoice total differs from ours: nothing was finalized.
    #[error("invoice {provider_invoice_id}: provider total {actual} differs from ours {expected}")]
    TotalMismatch {
        provider_invoice_id: String,
        expected: Amount,
        actual: Amount,
    },
}

impl GatewayError {
    pub fn is_retryable(&self) -> bool {
        matches!(self, Self::Retryable { .. })
    }

    /// The earliest sensible retry the provider asked for, if any.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::Retryable { retry_after, .. } => *retry_after,
            _ => None,
        }
    }
}

/// What a verified webhook tells billing. Only payment status follows from it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WebhookEvent {
    /// The provider's event id, unique per event and the same on every redelivery: the
    /// deduplication key.
    pub id: String,
    pub created: DateTime<Utc>,
    pub kind: WebhookEventKind,
    pub provider_invoice_id: Option<String>,
    /// From the invoice's metadata; `None` for invoices we did not create.
    pub hotline_invoice_id: Option<Uuid>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WebhookEventKind {
    InvoicePaid,
    InvoicePaymentFailed,
    InvoiceVoided,
    InvoiceMarkedUncollectible,
    /// Any other event type, by the provider's name; acknowledged and ignored.
    Other(String),
}

/// Why a webhook delivery was rejected. Every variant means "answer 400 and change nothing".
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WebhookError {
    #[error("no webhook signing secret is configured")]
    NotConfigured,
    #[error("malformed signature header: {0}")]
    MalformedHeader(String),
    #[error("no signature matches the payload")]
    BadSignature,
    #[error("signature timestamp is {age_seconds} s away from now, beyond the {tolerance_seconds} s tolerance")]
    OutsideTolerance {
        age_seconds: i64,
        tolerance_seconds: u64,
    },
    #[error("malformed event payload: {0}")]
    MalformedPayload(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(text: &str) -> Uuid {
        Uuid::parse_str(text).unwrap()
    }

    #[test]
    fn keys_are_derived_from_our_id_and_the_operation() {
        let invoice = id("0190f5b2-7c4e-7d2a-9f0b-3a1c2d4e5f60");
        assert_eq!(
            IdempotencyKey::for_invoice_create(invoice).as_str(),
            "hotline:invoice:0190f5b2-7c4e-7d2a-9f0b-3a1c2d4e5f60:create"
        );
        assert_eq!(
            IdempotencyKey::for_invoice_finalize(invoice).as_str(),
            "hotline:invoice:0190f5b2-7c4e-7d2a-9f0b-3a1c2d4e5f60:finalize"
        );
        assert_eq!(
            IdempotencyKey::for_invoice_create(invoice),
            IdempotencyKey::for_invoice_create(invoice)
        );
    }

    #[test]
    fn different_objects_with_the_same_id_get_different_keys() {
        let shared = id("0190f5b2-7c4e-7d2a-9f0b-3a1c2d4e5f60");
        let keys = [
            IdempotencyKey::for_customer(shared),
            IdempotencyKey::for_invoice_create(shared),
            IdempotencyKey::for_invoice_finalize(shared),
            IdempotencyKey::for_invoice_item(shared),
            IdempotencyKey::for_credit_note(shared),
        ];
        for (i, a) in keys.iter().enumerate() {
            for b in &keys[i + 1..] {
                assert_ne!(a, b);
            }
        }
    }

    #[test]
    fn stored_keys_are_checked_against_the_provider_limits() {
        let derived = IdempotencyKey::for_credit_note(Uuid::now_v7());
        assert_eq!(
            IdempotencyKey::from_stored(derived.as_str().to_owned()),
            Ok(derived)
        );
        assert!(IdempotencyKey::from_stored(String::new()).is_err());
        assert!(IdempotencyKey::from_stored("a b".to_owned()).is_err());
        assert!(IdempotencyKey::from_stored("k".repeat(256)).is_err());
        assert!(IdempotencyKey::from_stored("k".repeat(255)).is_ok());
    }

    #[test]
    fn spent_keys_are_replaced_by_numbered_generations_of_the_same_operation() {
        let line = id("0190f5b2-7c4e-7d2a-9f0b-3a1c2d4e5f60");
        let first = IdempotencyKey::for_invoice_item(line);
        let second = first.next_generation();
        assert_eq!(
            second.as_str(),
            "hotline:invoice-line:0190f5b2-7c4e-7d2a-9f0b-3a1c2d4e5f60:create#2"
        );
        assert_eq!(
            second.next_generation().as_str(),
            "hotline:invoice-line:0190f5b2-7c4e-7d2a-9f0b-3a1c2d4e5f60:create#3"
        );
        assert_eq!(first.next_generation(), second);
        let stored = IdempotencyKey::from_stored(second.as_str().to_owned()).unwrap();
        assert_eq!(
            stored
                .next_generation()
                .as_str()
                .rsplit_once('#')
                .unwrap()
                .1,
            "3"
        );
    }

    #[test]
    fn currency_codes_are_three_letters_kept_upper_case() {
        assert_eq!(CurrencyCode::parse("eur").unwrap().as_str(), "EUR");
        assert_eq!(CurrencyCode::parse("JPY").unwrap().as_str(), "JPY");
        assert!(CurrencyCode::parse("EURO").is_err());
        assert!(CurrencyCode::parse("E1R").is_err());
        assert!(CurrencyCode::parse("").is_err());
    }

    #[test]
    fn only_retryable_errors_carry_a_retry_after() {
        let busy = GatewayError::Retryable {
            message: "429".into(),
            retry_after: Some(Duration::from_secs(2)),
        };
        assert!(busy.is_retryable());
        assert_eq!(busy.retry_after(), Some(Duration::from_secs(2)));

        let refused = GatewayError::Permanent {
            status: Some(400),
            code: Some("parameter_invalid_integer".into()),
            message: "bad amount".into(),
        };
        assert!(!refused.is_retryable());
        assert_eq!(refused.retry_after(), None);

        let eur = CurrencyCode::parse("EUR").unwrap();
        let mismatch = GatewayError::TotalMismatch {
            provider_invoice_id: "in_1".into(),
            expected: Amount::new(1000, eur.clone()),
            actual: Amount::new(1001, eur),
        };
        assert!(!mismatch.is_retryable());
    }
}
