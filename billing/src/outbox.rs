//! The outbox driver: sends due outbox rows to the payment gateway and records what happened,
//! so every finalized invoice reaches the provider exactly once.
//!
//! Decisions (see [`crate::gateway`] for the two mechanisms they rest on):
//! - The rows are written with the finalization (see [`crate::store`]); the driver only
//!   takes due rows, claims each with a lease, calls the gateway with the row's idempotency key,
//!   and records the result. A restart, a second node or a crash between call and record only
//!   ever re-sends with the same key, which the provider answers with the object it made.
//! - Retryable errors wait an exponential, jittered backoff ([`Backoff`]), never less than the
//!   provider's Retry-After. Permanent errors and total mismatches stop the row (`failed`,
//!   with the error) until an operator retries it.
//! - Reconciliation before sending: when the row's key was first sent longer ago than
//!   [`IDEMPOTENCY_KEY_LIFETIME`] (the provider may have forgotten it), or a replayed failure
//!   showed the key is spent, the driver first looks the object up by our id in its metadata
//!   (`find_*`), adopts it if it exists, and otherwise sends under the key's next generation.
//! - With no gateway configured there is no driver: rows stay `local`, nothing is sent, and
//!   everything else in billing works.
//!
//! Must never compute or change an amount: it sends what the finalized invoice says.

mod backoff;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;

use crate::error::BillingResult;
use crate::gateway::{
    Amount, CollectionMethod, CreditNoteRequest, CurrencyCode, CustomerRequest,
    DraftInvoiceRequest, FinalizeInvoiceRequest, GatewayError, IdempotencyKey, InvoiceItemRequest,
    PaymentGateway, RemoteInvoice, RemoteInvoiceStatus, IDEMPOTENCY_KEY_LIFETIME,
};
use crate::service::Clock;
use crate::store::{BillingStore, OutboxClaim, OutboxCompletion, OutboxOperation};

pub use backoff::Backoff;

/// How the driver runs.
#[derive(Clone, Debug)]
pub struct DriverConfig {
    /// Rows taken per query.
    pub batch: usize,
    /// How long a claimed row is ours before another driver may take it.
    pub lease: Duration,
    pub backoff: Backoff,
    /// How often to look for due rows when nothing wakes the driver.
    pub poll_interval: Duration,
    /// How the provider collects finalized invoices.
    pub collection: CollectionMethod,
}

impl Default for DriverConfig {
    fn default() -> Self {
        Self {
            batch: 50,
            lease: Duration::from_secs(5 * 60),
            backoff: Backoff::default(),
            poll_interval: Duration::from_secs(30),
            collection: CollectionMethod::SendInvoice { days_until_due: 14 },
        }
    }
}

/// What one pass did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DriverReport {
    pub done: u32,
    /// Retryable failures, rescheduled.
    pub retried: u32,
    /// Permanent failures, stopped.
    pub failed: u32,
    /// Rows adopted from the provider after reconciliation found them.
    pub reconciled: u32,
}

/// Sends the outbox. Cheap to clone; run one per process ([`OutboxDriver::run`]).
#[derive(Clone)]
pub struct OutboxDriver {
    store: BillingStore,
    gateway: Arc<dyn PaymentGateway>,
    clock: Clock,
    config: DriverConfig,
    wake: Arc<Notify>,
}

impl OutboxDriver {
    pub(crate) fn new(
        store: BillingStore,
        gateway: Arc<dyn PaymentGateway>,
        clock: Clock,
        config: DriverConfig,
        wake: Arc<Notify>,
    ) -> Self {
        Self {
            store,
            gateway,
            clock,
            config,
            wake,
        }
    }

    /// Runs until `shutdown` completes: a pass whenever woken (a finalization enqueued work) or
    /// every poll interval. A failing pass (database down) is logged and tried again later.
    pub async fn run(self, shutdown: impl Future<Output = ()>) {
        tokio::pin!(shutdown);
        loop {
            if let Err(err) = self.run_once().await {
                tracing::warn!(error = %err, "outbox pass failed; trying again later");
            }
            tokio::select! {
                _ = &mut shutdown => return,
                _ = self.wake.notified() => {}
                _ = tokio::time::sleep(self.config.poll_interval) => {}
            }
        }
    }

    /// Sends every row due now, including steps that become due as earlier ones finish.
    pub async fn run_once(&self) -> BillingResult<DriverReport> {
        let mut report = DriverReport::default();
        loop {
            let now = (self.clock)();
            let due = self.store.due_outbox_rows(now, self.config.batch).await?;
            if due.is_empty() {
                return Ok(report);
            }
            let mut progressed = false;
            for row in due {
                let now = (self.clock)();
                let Some(claim) = self
                    .store
                    .claim_outbox_row(row.id, now, self.config.lease)
                    .await?
                else {
                    continue;
                };
                progressed = true;
                self.process(claim, &mut report).await?;
            }
            if !progressed {
                return Ok(report);
            }
        }
    }

    async fn process(&self, claim: OutboxClaim, report: &mut DriverReport) -> BillingResult<()> {
        let row = &claim.row;
        let now = (self.clock)();
        let mut key = IdempotencyKey::from_stored(row.idempotency_key.clone()).map_err(|e| {
            crate::error::BillingError::Corrupt(format!("outbox row {}: {e}", row.id))
        })?;
        let key_expired = row.key_first_sent_at.is_some_and(|first| {
            (now - first)
                .to_std()
                .is_ok_and(|age| age > IDEMPOTENCY_KEY_LIFETIME)
        });
        if row.reconcile || key_expired {
            match self.reconcile(&claim).await {
                Ok(Some(found)) => {
                    self.store
                        .complete_outbox_row(row, found, (self.clock)())
                        .await?;
                    report.done += 1;
                    report.reconciled += 1;
                    return Ok(());
                }
                Ok(None) => {
                    key = key.next_generation();
                    tracing::info!(row = %row.id, key = %key, "no provider object found; sending under the next key generation");
                }
                // Still to be reconciled next time (unless it was only the key's age).
                Err(err) => {
                    return self
                        .record_failure(&claim, err, row.reconcile, report)
                        .await
                }
            }
        }
        self.store.mark_outbox_sending(row.id, &key, now).await?;
        match self.send(&claim, key).await {
            Ok(completion) => {
                self.store
                    .complete_outbox_row(row, completion, (self.clock)())
                    .await?;
                report.done += 1;
                Ok(())
            }
            Err(err) => self.record_failure(&claim, err, false, report).await,
        }
    }

    async fn record_failure(
        &self,
        claim: &OutboxClaim,
        err: GatewayError,
        reconcile_pending: bool,
        report: &mut DriverReport,
    ) -> BillingResult<()> {
        let row = &claim.row;
        let now = (self.clock)();
        if err.is_retryable() {
            // The adapter says "replayed" when the provider answered from a saved earlier
            // attempt: retrying under this key can only replay it again, so reconcile first.
            let spent = reconcile_pending || err.to_string().contains("replayed");
            let delay =
                self.config
                    .backoff
                    .delay(row.attempts + 1, err.retry_after(), rand::random());
            let next = now + chrono::Duration::from_std(delay).unwrap_or(chrono::Duration::MAX);
            tracing::warn!(row = %row.id, operation = row.operation.as_str(), error = %err, retry_at = %next, "payment gateway call failed; retrying later");
            self.store
                .reschedule_outbox_row(row.id, &err.to_string(), next, spent, now)
                .await?;
            report.retried += 1;
        } else {
            tracing::error!(row = %row.id, operation = row.operation.as_str(), error = %err, "payment gateway refused; the row stops until an operator retries it");
            self.store
                .fail_outbox_row(row.id, &err.to_string(), now)
                .await?;
            report.failed += 1;
        }
        Ok(())
    }

    /// Looks the row's object up on the provider by our id.
    async fn reconcile(
        &self,
        claim: &OutboxClaim,
    ) -> Result<Option<OutboxCompletion>, GatewayError> {
        let row = &claim.row;
        Ok(match row.operation {
            OutboxOperation::EnsureCustomer => self
                .gateway
                .find_customer(row.subject_id)
                .await?
                .map(|customer| OutboxCompletion::Customer {
                    provider_customer_id: customer.provider_id,
                }),
            OutboxOperation::CreateDraft => {
                let customer = required(&claim.provider_customer_id, "the provider customer")?;
                self.gateway
                    .find_invoice(customer, row.subject_id)
                    .await?
                    .map(draft_completion)
            }
            OutboxOperation::AddItem => {
                let invoice = required(&claim.provider_invoice_id, "the provider invoice")?;
                self.gateway
                    .invoice_items(invoice)
                    .await?
                    .into_iter()
                    .find(|item| item.hotline_line_id == Some(row.subject_id))
                    .map(|item| OutboxCompletion::Item {
                        provider_item_id: item.provider_id,
                    })
            }
            OutboxOperation::Finalize => {
                let invoice = required(&claim.provider_invoice_id, "the provider invoice")?;
                let remote = self.gateway.invoice(invoice).await?;
                // A draft is not finalized yet: send (finalize compares totals first).
                (remote.status != RemoteInvoiceStatus::Draft).then(|| finalized_completion(remote))
            }
            OutboxOperation::CreditNote => {
                let invoice = required(&claim.provider_invoice_id, "the provider invoice")?;
                self.gateway
                    .find_credit_note(invoice, row.subject_id)
                    .await?
                    .map(|note| OutboxCompletion::CreditNote {
                        provider_credit_note_id: note.provider_id,
                    })
            }
        })
    }

    /// Sends the row's request under `key`.
    async fn send(
        &self,
        claim: &OutboxClaim,
        key: IdempotencyKey,
    ) -> Result<OutboxCompletion, GatewayError> {
        let row = &claim.row;
        let currency = || {
            CurrencyCode::parse(row.currency.as_deref().unwrap_or(&claim.currency)).map_err(|e| {
                GatewayError::Permanent {
                    status: None,
                    code: None,
                    message: e.to_string(),
                }
            })
        };
        let amount = || -> Result<Amount, GatewayError> {
            let minor = row.amount_minor.ok_or_else(|| GatewayError::Permanent {
                status: None,
                code: None,
                message: format!("outbox row {} has no amount", row.id),
            })?;
            Ok(Amount::new(minor, currency()?))
        };
        match row.operation {
            OutboxOperation::EnsureCustomer => {
                if let Some(existing) = &claim.provider_customer_id {
                    return Ok(OutboxCompletion::Customer {
                        provider_customer_id: existing.clone(),
                    });
                }
                let mut request = CustomerRequest::new(
                    claim.account_id.0,
                    claim.account_name.clone(),
                    claim.account_email.clone(),
                );
                request.idempotency_key = key;
                let customer = self.gateway.ensure_customer(&request).await?;
                Ok(OutboxCompletion::Customer {
                    provider_customer_id: customer.provider_id,
                })
            }
            OutboxOperation::CreateDraft => {
                let customer = required(&claim.provider_customer_id, "the provider customer")?;
                let mut request = DraftInvoiceRequest::new(
                    row.subject_id,
                    customer,
                    currency()?,
                    self.config.collection,
                );
                request.description = row.description.clone();
                request.idempotency_key = key;
                let invoice = self.gateway.create_draft_invoice(&request).await?;
                Ok(draft_completion(invoice))
            }
            OutboxOperation::AddItem => {
                let customer = required(&claim.provider_customer_id, "the provider customer")?;
                let invoice = required(&claim.provider_invoice_id, "the provider invoice")?;
                let mut request = InvoiceItemRequest::new(
                    row.subject_id,
                    customer,
                    invoice,
                    amount()?,
                    row.description.clone().unwrap_or_default(),
                );
                request.idempotency_key = key;
                let item = self.gateway.add_invoice_item(&request).await?;
                Ok(OutboxCompletion::Item {
                    provider_item_id: item.provider_id,
                })
            }
            OutboxOperation::Finalize => {
                let invoice = required(&claim.provider_invoice_id, "the provider invoice")?;
                let mut request = FinalizeInvoiceRequest::new(row.subject_id, invoice, amount()?);
                request.idempotency_key = key;
                let finalized = self.gateway.finalize_invoice(&request).await?;
                Ok(finalized_completion(finalized))
            }
            OutboxOperation::CreditNote => {
                let invoice = required(&claim.provider_invoice_id, "the provider invoice")?;
                let mut request = CreditNoteRequest::new(
                    row.subject_id,
                    invoice,
                    claim.credit_note_lines.clone(),
                );
                request.memo = row.description.clone();
                request.idempotency_key = key;
                let note = self.gateway.create_credit_note(&request).await?;
                Ok(OutboxCompletion::CreditNote {
                    provider_credit_note_id: note.provider_id,
                })
            }
        }
    }
}

/// An id an earlier step recorded; missing means the steps ran out of order, which the due-row
/// query rules out, so it is reported as permanent rather than retried forever.
fn required<'a>(value: &'a Option<String>, what: &str) -> Result<&'a str, GatewayError> {
    value.as_deref().ok_or_else(|| GatewayError::Permanent {
        status: None,
        code: None,
        message: format!("{what} is not known yet"),
    })
}

fn status_name(status: &RemoteInvoiceStatus) -> String {
    match status {
        RemoteInvoiceStatus::Draft => "draft".into(),
        RemoteInvoiceStatus::Open => "open".into(),
        RemoteInvoiceStatus::Paid => "paid".into(),
        RemoteInvoiceStatus::Void => "void".into(),
        RemoteInvoiceStatus::Uncollectible => "uncollectible".into(),
        RemoteInvoiceStatus::Other(name) => name.clone(),
    }
}

fn draft_completion(invoice: RemoteInvoice) -> OutboxCompletion {
    OutboxCompletion::Draft {
        provider_status: status_name(&invoice.status),
        provider_invoice_id: invoice.provider_id,
    }
}

fn finalized_completion(invoice: RemoteInvoice) -> OutboxCompletion {
    OutboxCompletion::Finalized {
        provider_status: status_name(&invoice.status),
        provider_invoice_id: invoice.provider_id,
        number: invoice.number,
        hosted_url: invoice.hosted_invoice_url,
    }
}
