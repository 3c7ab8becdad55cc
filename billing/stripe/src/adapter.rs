//! [`StripeGateway`]: billing's [`PaymentGateway`] on Stripe, through async-stripe's typed
//! requests (API version pinned by async-stripe `=1.0.0-rc.10`).
//!
//! Every create is sent once, with the request's idempotency key; the outbox retries. Drafts are
//! created with `auto_advance=false` and `pending_invoice_items_behavior=exclude`, so nothing but
//! our items lands on them and Stripe never finalizes one by itself. Finalization re-reads the
//! draft and refuses on any total difference; it then sets `auto_advance=true`, so Stripe
//! collects as the collection method says (charges the card, or e-mails the invoice).
//!
//! Reconciliation: customers through Stripe search on our metadata (search lags writes by up to
//! a minute, which the 24 h idempotency key covers); invoices, items and credit notes by listing
//! under their customer or invoice (lists are read-after-write consistent) and filtering on our
//! metadata.
//!
//! Must never change an amount, and never send anything unless asked: no background work.

use hotline_billing::gateway::{
    CollectionMethod, CreditNoteReason, CreditNoteRequest, CustomerRequest, DraftInvoiceRequest,
    FinalizeInvoiceRequest, GatewayError, GatewayFuture, IdempotencyKey, InvoiceItemRequest,
    PaymentGateway, RemoteCreditNote, RemoteCustomer, RemoteInvoice, RemoteInvoiceItem,
    RemoteInvoiceStatus, WebhookError, WebhookEvent, METADATA_ACCOUNT_ID, METADATA_CREDIT_NOTE_ID,
    METADATA_INVOICE_ID, METADATA_LINE_ID,
};
use stripe_billing::credit_note::{
    CreateCreditNote, CreateCreditNoteLines, CreateCreditNoteLinesType, ListCreditNote,
};
use stripe_billing::invoice::{
    CreateInvoice, CreateInvoicePendingInvoiceItemsBehavior, FinalizeInvoiceInvoice, ListInvoice,
    RetrieveInvoice,
};
use stripe_billing::invoice_item::{CreateInvoiceItem, ListInvoiceItem};
use stripe_client_core::{RequestStrategy, StripeRequest};
use stripe_core::customer::{CreateCustomer, SearchCustomer};
use stripe_shared::InvoiceCollectionMethod;
use uuid::Uuid;

use chrono::{DateTime, Utc};

use crate::config::{ConfigError, StripeConfig};
use crate::convert::{
    check_total, customer_search_query, id_metadata, metadata_id, remote_credit_note,
    remote_customer, remote_invoice, remote_invoice_item, stripe_currency,
};
use crate::pages::{all_pages, find_in_pages, PAGE_SIZE};
use crate::transport::{HttpTransport, DEFAULT_API_BASE};
use crate::webhook::WebhookVerifier;

/// Billing's payment gateway on Stripe. Cheap to clone; share it as `Arc<dyn PaymentGateway>`.
#[derive(Clone, Debug)]
pub struct StripeGateway {
    transport: HttpTransport,
    webhooks: Option<WebhookVerifier>,
}

fn idempotent(key: &IdempotencyKey) -> Result<RequestStrategy, GatewayError> {
    let key = stripe_client_core::IdempotencyKey::new(key.as_str()).map_err(|err| {
        GatewayError::Permanent {
            status: None,
            code: Some("invalid_idempotency_key".into()),
            message: err.to_string(),
        }
    })?;
    Ok(RequestStrategy::Idempotent(key))
}

fn credit_note_reason(reason: CreditNoteReason) -> stripe_shared::CreditNoteReason {
    match reason {
        CreditNoteReason::Duplicate => stripe_shared::CreditNoteReason::Duplicate,
        CreditNoteReason::Fraudulent => stripe_shared::CreditNoteReason::Fraudulent,
        CreditNoteReason::OrderChange => stripe_shared::CreditNoteReason::OrderChange,
        CreditNoteReason::ProductUnsatisfactory => {
            stripe_shared::CreditNoteReason::ProductUnsatisfactory
        }
    }
}

impl StripeGateway {
    pub fn new(config: StripeConfig) -> Result<Self, ConfigError> {
        config.validate()?;
        let api_base = config.api_base.as_deref().unwrap_or(DEFAULT_API_BASE);
        let transport = HttpTransport::new(&config.secret_key, api_base, config.timeout)
            .map_err(|err| ConfigError::Http(err.to_string()))?;
        let webhooks = match &config.webhook_secret {
            Some(secret) => Some(
                WebhookVerifier::new(secret, config.webhook_tolerance)
                    .ok_or(ConfigError::WebhookSecret)?,
            ),
            None => None,
        };
        Ok(Self {
            transport,
            webhooks,
        })
    }

    async fn search_customer(
        &self,
        account_id: Uuid,
    ) -> Result<Option<RemoteCustomer>, GatewayError> {
        let found = SearchCustomer::new(customer_search_query(account_id))
            .limit(PAGE_SIZE)
            .send(&self.transport)
            .await?;
        // Two customers for one account would be an earlier failure of exactly-once; adopt the
        // oldest so every retry picks the same one, and say so.
        if found.data.len() > 1 {
            tracing::warn!(%account_id, count = found.data.len(), "several Stripe customers carry one billing account id");
        }
        Ok(found
            .data
            .iter()
            .filter(|c| metadata_id(c.metadata.as_ref(), METADATA_ACCOUNT_ID) == Some(account_id))
            .min_by_key(|c| (c.created, c.id.as_str().to_owned()))
            .map(remote_customer))
    }

    async fn ensure_customer_inner(
        &self,
        request: &CustomerRequest,
    ) -> Result<RemoteCustomer, GatewayError> {
        if let Some(existing) = self.search_customer(request.hotline_account_id).await? {
            return Ok(existing);
        }
        let mut create = CreateCustomer::new()
            .name(request.name.clone())
            .metadata(id_metadata(METADATA_ACCOUNT_ID, request.hotline_account_id));
        if let Some(email) = &request.email {
            create = create.email(email.clone());
        }
        let customer = create
            .customize()
            .request_strategy(idempotent(&request.idempotency_key)?)
            .send(&self.transport)
            .await?;
        Ok(remote_customer(&customer))
    }

    async fn create_draft_invoice_inner(
        &self,
        request: &DraftInvoiceRequest,
    ) -> Result<RemoteInvoice, GatewayError> {
        let mut create = CreateInvoice::new()
            .customer(request.provider_customer_id.clone())
            .currency(stripe_currency(&request.currency))
            .auto_advance(false)
            .pending_invoice_items_behavior(CreateInvoicePendingInvoiceItemsBehavior::Exclude)
            .metadata(id_metadata(METADATA_INVOICE_ID, request.hotline_invoice_id));
        create = match request.collection_method {
            CollectionMethod::ChargeAutomatically => {
                create.collection_method(InvoiceCollectionMethod::ChargeAutomatically)
            }
            CollectionMethod::SendInvoice { days_until_due } => create
                .collection_method(InvoiceCollectionMethod::SendInvoice)
                .days_until_due(days_until_due),
        };
        if let Some(description) = &request.description {
            create = create.description(description.clone());
        }
        let invoice = create
            .customize()
            .request_strategy(idempotent(&request.idempotency_key)?)
            .send(&self.transport)
            .await?;
        remote_invoice(&invoice)
    }

    async fn add_invoice_item_inner(
        &self,
        request: &InvoiceItemRequest,
    ) -> Result<RemoteInvoiceItem, GatewayError> {
        let item = CreateInvoiceItem::new()
            .customer(request.provider_customer_id.clone())
            .invoice(request.provider_invoice_id.clone())
            .amount(request.amount.minor_units)
            .currency(stripe_currency(&request.amount.currency))
            .description(request.description.clone())
            .metadata(id_metadata(METADATA_LINE_ID, request.hotline_line_id))
            .customize()
            .request_strategy(idempotent(&request.idempotency_key)?)
            .send(&self.transport)
            .await?;
        remote_invoice_item(&item)
    }

    async fn invoice_inner(
        &self,
        provider_invoice_id: &str,
    ) -> Result<RemoteInvoice, GatewayError> {
        let invoice = RetrieveInvoice::new(provider_invoice_id)
            .send(&self.transport)
            .await?;
        remote_invoice(&invoice)
    }

    async fn finalize_invoice_inner(
        &self,
        request: &FinalizeInvoiceRequest,
    ) -> Result<RemoteInvoice, GatewayError> {
        let current = self.invoice_inner(&request.provider_invoice_id).await?;
        check_total(&request.expected_total, &current)?;
        if current.status != RemoteInvoiceStatus::Draft {
            // A retry after a finalization that succeeded (or a human acting in the dashboard):
            // report what Stripe has, finalizing again would fail anyway.
            return Ok(current);
        }
        let finalized = FinalizeInvoiceInvoice::new(request.provider_invoice_id.as_str())
            .auto_advance(true)
            .customize()
            .request_strategy(idempotent(&request.idempotency_key)?)
            .send(&self.transport)
            .await?;
        let finalized = remote_invoice(&finalized)?;
        if finalized.total != request.expected_total {
            // Cannot be undone from here; say it loudly so the store flags the invoice.
            tracing::error!(invoice = %finalized.provider_id, expected = %request.expected_total, actual = %finalized.total, "Stripe changed the invoice total while finalizing");
            return Err(GatewayError::TotalMismatch {
                provider_invoice_id: finalized.provider_id,
                expected: request.expected_total.clone(),
                actual: finalized.total,
            });
        }
        Ok(finalized)
    }

    async fn create_credit_note_inner(
        &self,
        request: &CreditNoteRequest,
    ) -> Result<RemoteCreditNote, GatewayError> {
        let lines: Vec<CreateCreditNoteLines> = request
            .lines
            .iter()
            .map(|line| {
                let mut custom =
                    CreateCreditNoteLines::new(CreateCreditNoteLinesType::CustomLineItem);
                custom.description = Some(line.description.clone());
                custom.quantity = Some(1);
                custom.unit_amount = Some(line.amount_minor_units);
                custom
            })
            .collect();
        let mut create = CreateCreditNote::new(request.provider_invoice_id.clone())
            .lines(lines)
            .metadata(id_metadata(
                METADATA_CREDIT_NOTE_ID,
                request.hotline_credit_note_id,
            ));
        if let Some(reason) = request.reason {
            create = create.reason(credit_note_reason(reason));
        }
        if let Some(memo) = &request.memo {
            create = create.memo(memo.clone());
        }
        let note = create
            .customize()
            .request_strategy(idempotent(&request.idempotency_key)?)
            .send(&self.transport)
            .await?;
        remote_credit_note(&note)
    }

    async fn find_invoice_inner(
        &self,
        provider_customer_id: &str,
        hotline_invoice_id: Uuid,
    ) -> Result<Option<RemoteInvoice>, GatewayError> {
        let found = find_in_pages(
            |cursor| {
                let mut list = ListInvoice::new()
                    .customer(provider_customer_id)
                    .limit(PAGE_SIZE);
                if let Some(after) = cursor {
                    list = list.starting_after(after);
                }
                async move { list.send(&self.transport).await }
            },
            |invoice| invoice.id.as_ref().map(|id| id.as_str().to_owned()),
            |invoice| {
                metadata_id(invoice.metadata.as_ref(), METADATA_INVOICE_ID)
                    == Some(hotline_invoice_id)
            },
        )
        .await?;
        found.as_ref().map(remote_invoice).transpose()
    }

    async fn invoice_items_inner(
        &self,
        provider_invoice_id: &str,
    ) -> Result<Vec<RemoteInvoiceItem>, GatewayError> {
        let items = all_pages(
            |cursor| {
                let mut list = ListInvoiceItem::new()
                    .invoice(provider_invoice_id)
                    .limit(PAGE_SIZE);
                if let Some(after) = cursor {
                    list = list.starting_after(after);
                }
                async move { list.send(&self.transport).await }
            },
            |item| Some(item.id.as_str().to_owned()),
        )
        .await?;
        items.iter().map(remote_invoice_item).collect()
    }

    async fn find_credit_note_inner(
        &self,
        provider_invoice_id: &str,
        hotline_credit_note_id: Uuid,
    ) -> Result<Option<RemoteCreditNote>, GatewayError> {
        let found = find_in_pages(
            |cursor| {
                let mut list = ListCreditNote::new()
                    .invoice(provider_invoice_id)
                    .limit(PAGE_SIZE);
                if let Some(after) = cursor {
                    list = list.starting_after(after);
                }
                async move { list.send(&self.transport).await }
            },
            |note| Some(note.id.as_str().to_owned()),
            |note| {
                metadata_id(note.metadata.as_ref(), METADATA_CREDIT_NOTE_ID)
                    == Some(hotline_credit_note_id)
            },
        )
        .await?;
        found.as_ref().map(remote_credit_note).transpose()
    }
}

impl PaymentGateway for StripeGateway {
    fn ensure_customer<'a>(
        &'a self,
        request: &'a CustomerRequest,
    ) -> GatewayFuture<'a, RemoteCustomer> {
        Box::pin(self.ensure_customer_inner(request))
    }

    fn create_draft_invoice<'a>(
        &'a self,
        request: &'a DraftInvoiceRequest,
    ) -> GatewayFuture<'a, RemoteInvoice> {
        Box::pin(self.create_draft_invoice_inner(request))
    }

    fn add_invoice_item<'a>(
        &'a self,
        request: &'a InvoiceItemRequest,
    ) -> GatewayFuture<'a, RemoteInvoiceItem> {
        Box::pin(self.add_invoice_item_inner(request))
    }

    fn invoice<'a>(&'a self, provider_invoice_id: &'a str) -> GatewayFuture<'a, RemoteInvoice> {
        Box::pin(self.invoice_inner(provider_invoice_id))
    }

    fn finalize_invoice<'a>(
        &'a self,
        request: &'a FinalizeInvoiceRequest,
    ) -> GatewayFuture<'a, RemoteInvoice> {
        Box::pin(self.finalize_invoice_inner(request))
    }

    fn create_credit_note<'a>(
        &'a self,
        request: &'a CreditNoteRequest,
    ) -> GatewayFuture<'a, RemoteCreditNote> {
        Box::pin(self.create_credit_note_inner(request))
    }

    fn find_customer<'a>(
        &'a self,
        hotline_account_id: Uuid,
    ) -> GatewayFuture<'a, Option<RemoteCustomer>> {
        Box::pin(self.search_customer(hotline_account_id))
    }

    fn find_invoice<'a>(
        &'a self,
        provider_customer_id: &'a str,
        hotline_invoice_id: Uuid,
    ) -> GatewayFuture<'a, Option<RemoteInvoice>> {
        Box::pin(self.find_invoice_inner(provider_customer_id, hotline_invoice_id))
    }

    fn invoice_items<'a>(
        &'a self,
        provider_invoice_id: &'a str,
    ) -> GatewayFuture<'a, Vec<RemoteInvoiceItem>> {
        Box::pin(self.invoice_items_inner(provider_invoice_id))
    }

    fn find_credit_note<'a>(
        &'a self,
        provider_invoice_id: &'a str,
        hotline_credit_note_id: Uuid,
    ) -> GatewayFuture<'a, Option<RemoteCreditNote>> {
        Box::pin(self.find_credit_note_inner(provider_invoice_id, hotline_credit_note_id))
    }

    fn verify_webhook(
        &self,
        payload: &[u8],
        signature_header: &str,
        now: DateTime<Utc>,
    ) -> Result<WebhookEvent, WebhookError> {
        self.webhooks
            .as_ref()
            .ok_or(WebhookError::NotConfigured)?
            .verify(payload, signature_header, now)
    }
}
