//! [`Billing`]: the handle the binary holds — the store, the optional payment gateway and the
//! clock, joined. The call-record sink calls [`Billing::ingest`]; a periodic task calls
//! [`Billing::close_due_periods`]; the outbox driver ([`Billing::outbox_driver`]) runs beside
//! them when a gateway is configured; the webhook endpoint calls [`Billing::handle_webhook`].
//!
//! With no gateway (`None`), finalized invoices keep their provider work `local` and nothing is
//! sent anywhere; everything else works.
//!
//! This is wiring only: rules live in the store and the pure modules.

use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use hotline_core::call::CallRecord;
use hotline_core::ids::TenantId;
use hotline_core::{Db, PlatformScope};
use tokio::sync::Notify;

use crate::error::{BillingError, BillingResult};
use crate::gateway::{CreditNoteReason, PaymentGateway};
use crate::ids::InvoiceId;
use crate::outbox::{DriverConfig, OutboxDriver};
use crate::store::{
    BatchOutcome, BillingStore, CloseReport, CreditNote, CreditNoteLineInput, Grace, IngestOutcome,
    InvoiceSummary, NotBilledReason, ProviderSync, WebhookOutcome,
};

/// Where billing reads the time: `hotline_core::time::now` in production, a fixed or stepped
/// clock in tests.
pub type Clock = Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>;

#[derive(Clone)]
pub struct Billing {
    store: BillingStore,
    gateway: Option<Arc<dyn PaymentGateway>>,
    clock: Clock,
    /// Wakes the outbox driver when a finalization or credit note enqueued work.
    outbox_wake: Arc<Notify>,
}

impl Billing {
    pub fn new(db: Db, gateway: Option<Arc<dyn PaymentGateway>>) -> Self {
        Self {
            store: BillingStore::new(db),
            gateway,
            clock: Arc::new(hotline_core::time::now),
            outbox_wake: Arc::new(Notify::new()),
        }
    }

    /// The same billing, reading time from `clock`.
    pub fn with_clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    pub fn store(&self) -> &BillingStore {
        &self.store
    }

    pub fn now(&self) -> DateTime<Utc> {
        (self.clock)()
    }

    pub fn has_gateway(&self) -> bool {
        self.gateway.is_some()
    }

    fn sync(&self) -> ProviderSync {
        if self.gateway.is_some() {
            ProviderSync::Send
        } else {
            ProviderSync::LocalOnly
        }
    }

    /// Meters one final call record into its tenant's invoice, exactly once however often it is
    /// handed over. The record's tenant, as the call engine resolved it, is the scope: the sink
    /// acts for the platform.
    pub async fn ingest(&self, record: &CallRecord) -> Result<IngestOutcome, BillingError> {
        let Some(tenant) = record.tenant_id else {
            return Ok(IngestOutcome::NotBilled(NotBilledReason::NoTenant));
        };
        let scope = PlatformScope::from_verified().tenant(tenant);
        self.store.ingest(&scope, record, self.now()).await
    }

    /// Many records in one transaction (backfills; the benchmark).
    pub async fn ingest_batch(&self, records: &[CallRecord]) -> BillingResult<BatchOutcome> {
        self.store
            .platform_ingest_batch(&PlatformScope::from_verified(), records, self.now())
            .await
    }

    /// Opens, closes and finalizes whatever periods are due now.
    pub async fn close_due_periods(&self, scope: &PlatformScope) -> BillingResult<CloseReport> {
        let report = self
            .store
            .platform_close_due_periods(scope, self.sync(), self.now())
            .await?;
        if !report.finalized.is_empty() {
            self.outbox_wake.notify_one();
        }
        Ok(report)
    }

    /// Finalizes one period of one tenant (`hotline billing close-period`).
    pub async fn close_period(
        &self,
        scope: &PlatformScope,
        tenant_id: TenantId,
        period_start: NaiveDate,
        grace: Grace,
    ) -> BillingResult<InvoiceSummary> {
        let summary = self
            .store
            .platform_close_period(
                scope,
                tenant_id,
                period_start,
                grace,
                self.sync(),
                self.now(),
            )
            .await?;
        self.outbox_wake.notify_one();
        Ok(summary)
    }

    /// Corrects a finalized invoice with a credit note, mirrored to the provider.
    pub async fn issue_credit_note(
        &self,
        scope: &PlatformScope,
        tenant_id: TenantId,
        invoice_id: InvoiceId,
        lines: Vec<CreditNoteLineInput>,
        reason: Option<CreditNoteReason>,
        memo: Option<String>,
    ) -> BillingResult<CreditNote> {
        let note = self
            .store
            .platform_issue_credit_note(
                scope,
                tenant_id,
                invoice_id,
                lines,
                reason,
                memo,
                self.sync(),
                self.now(),
            )
            .await?;
        self.outbox_wake.notify_one();
        Ok(note)
    }

    /// A webhook delivery: verified by the gateway (signature, tolerance), deduplicated on its
    /// event id, and allowed to change a payment status only.
    pub async fn handle_webhook(
        &self,
        payload: &[u8],
        signature_header: &str,
    ) -> BillingResult<WebhookOutcome> {
        let gateway = self.gateway.as_ref().ok_or(BillingError::NoGateway)?;
        let now = self.now();
        let event = gateway.verify_webhook(payload, signature_header, now)?;
        self.store
            .platform_apply_webhook_event(&PlatformScope::from_verified(), &event, now)
            .await
    }

    /// The driver that sends the outbox, when a gateway is configured. Run one per process.
    pub fn outbox_driver(&self, config: DriverConfig) -> Option<OutboxDriver> {
        self.gateway.as_ref().map(|gateway| {
            OutboxDriver::new(
                self.store.clone(),
                Arc::clone(gateway),
                Arc::clone(&self.clock),
                config,
                Arc::clone(&self.outbox_wake),
            )
        })
    }
}
