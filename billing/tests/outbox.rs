//! The outbox against an in-memory payment provider (tests/common/fake_gateway.rs, a real
//! `PaymentGateway` that keeps Stripe's idempotency rules), on both backends: one provider
//! invoice per finalized invoice after failures and retries, after a restart, after a spent
//! key or an expired one, and with two drivers at once; permanent failures stop visibly; with
//! no gateway nothing is sent; webhooks change the payment status once.

mod common;

use std::sync::Arc;

use chrono::Duration;
use common::fake_gateway::{Failure, FakeGateway, Op, GOOD_SIGNATURE};
use common::*;
use hotline_billing::gateway::{PaymentGateway, RemoteInvoiceStatus};
use hotline_billing::outbox::DriverConfig;
use hotline_billing::store::{
    CreditNoteLineInput, InvoiceStatus, OutboxOperation, OutboxStatus, PaymentStatus,
    WebhookOutcome,
};
use hotline_billing::{Billing, BillingError};
use hotline_core::ids::TenantId;
use hotline_core::{Backend, TenantScope};

hotline_core::both_backends!(
    a_finalized_invoice_reaches_the_provider_once_with_its_lines_and_tax,
    a_failed_call_is_retried_after_its_backoff_and_makes_one_invoice,
    a_timeout_after_the_provider_acted_is_answered_by_the_same_key,
    a_restarted_driver_finishes_the_sync_without_duplicates,
    a_spent_key_is_reconciled_and_replaced_by_its_next_generation,
    an_expired_key_is_reconciled_and_the_existing_object_adopted,
    a_permanent_failure_stops_visibly_until_an_operator_retries,
    two_drivers_at_once_make_one_invoice,
    without_a_gateway_nothing_is_sent,
    webhooks_set_the_payment_status_once,
    a_credit_note_is_mirrored_after_its_invoice,
);

struct Synced {
    fx: Fixture,
    fake: Arc<FakeGateway>,
    tenant: TenantId,
    scope: TenantScope,
}

/// A tenant with one March call, its March invoice finalized (January and February too, with no
/// usage) and nothing sent yet.
async fn finalized(backend: Backend) -> Synced {
    let fake = Arc::new(FakeGateway::new());
    let gateway: Arc<dyn PaymentGateway> = fake.clone();
    let fx = Fixture::new(backend, Some(gateway)).await;
    let (tenant, scope) = fx.tenant_with(standard_settings(), date(2026, 3, 1)).await;
    fx.billing
        .ingest(&inbound_call(tenant, "2026-03-05 10:00:00", 30, Some(150)))
        .await
        .unwrap();
    fx.clock.set(local("2026-04-03 08:00:00"));
    let report = fx.billing.close_due_periods(&fx.platform).await.unwrap();
    assert_eq!(report.finalized.len(), 1, "{report:?}");
    Synced {
        fx,
        fake,
        tenant,
        scope,
    }
}

fn driver(billing: &Billing) -> hotline_billing::outbox::OutboxDriver {
    billing.outbox_driver(DriverConfig::default()).unwrap()
}

impl Synced {
    async fn march(&self) -> hotline_billing::store::InvoiceSummary {
        self.fx
            .store()
            .invoice_for_period(&self.scope, date(2026, 3, 1))
            .await
            .unwrap()
    }

    async fn outbox(&self) -> Vec<hotline_billing::store::OutboxRow> {
        let march = self.march().await;
        self.fx
            .store()
            .platform_invoice_outbox(&self.fx.platform, march.id)
            .await
            .unwrap()
    }

    /// Runs passes, moving the clock past every backoff, until nothing is pending or what is
    /// pending waits behind a failed step.
    async fn drive_until_idle(&self, billing: &Billing) {
        let driver = driver(billing);
        for _ in 0..20 {
            let report = driver.run_once().await.unwrap();
            let pending: Vec<_> = self
                .outbox()
                .await
                .into_iter()
                .filter(|r| r.status == OutboxStatus::Pending)
                .collect();
            let now = self.fx.now();
            let blocked = pending.iter().all(|r| r.next_attempt_at <= now);
            let idle = report.done + report.retried + report.failed == 0;
            if pending.is_empty() || (idle && blocked) {
                return;
            }
            self.fx.clock.advance(Duration::hours(2));
        }
        panic!("the outbox did not settle: {:?}", self.outbox().await);
    }

    /// The provider's single invoice: (status, total, items).
    fn only_remote_invoice(&self) -> (RemoteInvoiceStatus, i64, usize) {
        let invoices = self.fake.invoices();
        assert_eq!(invoices.len(), 1, "provider invoices: {invoices:?}");
        let (_, _, status, total, items) = invoices[0].clone();
        (status, total, items)
    }

    async fn finish(self) {
        self.fx.finish().await;
    }
}

async fn a_finalized_invoice_reaches_the_provider_once_with_its_lines_and_tax(backend: Backend) {
    let s = finalized(backend).await;
    let march = s.march().await;
    let content =
        s.fx.store()
            .verify_invoice(&s.scope, march.id)
            .await
            .unwrap();
    let rows = s.outbox().await;
    let ops: Vec<OutboxOperation> = rows.iter().map(|r| r.operation).collect();
    let lines = content.invoice.lines.len();
    // Customer, draft, one item per line, one for the tax, finalize.
    assert_eq!(ops.len(), lines + 4);
    assert_eq!(ops[0], OutboxOperation::EnsureCustomer);
    assert_eq!(ops[1], OutboxOperation::CreateDraft);
    assert_eq!(ops[ops.len() - 1], OutboxOperation::Finalize);
    assert!(rows.iter().all(|r| r.status == OutboxStatus::Pending));

    let report = driver(&s.fx.billing).run_once().await.unwrap();
    assert_eq!(report.done as usize, rows.len());
    let (status, total, items) = s.only_remote_invoice();
    assert_eq!(status, RemoteInvoiceStatus::Open);
    assert_eq!(total, content.invoice.total.minor);
    assert_eq!(items, lines + 1);
    assert_eq!(s.fake.customers(), 1);
    assert!(s
        .outbox()
        .await
        .iter()
        .all(|r| r.status == OutboxStatus::Done));
    let account = s.fx.store().account(&s.scope).await.unwrap();
    assert!(account.provider_customer_id.unwrap().starts_with("cus_"));

    // Nothing left to send: another pass sends nothing.
    let calls_before = s.fake.calls(Op::Item);
    let again = driver(&s.fx.billing).run_once().await.unwrap();
    assert_eq!(again.done, 0);
    assert_eq!(s.fake.calls(Op::Item), calls_before);
    s.finish().await;
}

async fn a_failed_call_is_retried_after_its_backoff_and_makes_one_invoice(backend: Backend) {
    let s = finalized(backend).await;
    s.fake.fail_next(Op::Draft, 2, Failure::Unavailable);
    let driver = driver(&s.fx.billing);
    let first = driver.run_once().await.unwrap();
    assert_eq!((first.done, first.retried), (1, 1), "{first:?}");
    let draft = s.outbox().await[1].clone();
    assert_eq!(draft.status, OutboxStatus::Pending);
    assert!(draft.last_error.as_deref().unwrap().contains("503"));
    assert!(draft.next_attempt_at > s.fx.now(), "backoff scheduled");
    // Not due yet: a pass now sends nothing.
    assert_eq!(driver.run_once().await.unwrap().done, 0);
    assert_eq!(s.fake.calls(Op::Draft), 1);

    s.drive_until_idle(&s.fx.billing).await;
    assert_eq!(s.fake.calls(Op::Draft), 3);
    let (status, _, _) = s.only_remote_invoice();
    assert_eq!(status, RemoteInvoiceStatus::Open);
    s.finish().await;
}

async fn a_timeout_after_the_provider_acted_is_answered_by_the_same_key(backend: Backend) {
    let s = finalized(backend).await;
    s.fake.fail_next(Op::Draft, 1, Failure::TimeoutAfterCreate);
    s.fake.fail_next(Op::Item, 1, Failure::TimeoutAfterCreate);
    s.drive_until_idle(&s.fx.billing).await;
    let content =
        s.fx.store()
            .verify_invoice(&s.scope, s.march().await.id)
            .await
            .unwrap();
    let (_, total, items) = s.only_remote_invoice();
    assert_eq!(items, content.invoice.lines.len() + 1, "no item twice");
    assert_eq!(total, content.invoice.total.minor);
    s.finish().await;
}

async fn a_restarted_driver_finishes_the_sync_without_duplicates(backend: Backend) {
    let s = finalized(backend).await;
    s.fake.fail_next(Op::Item, 1, Failure::TimeoutAfterCreate);
    let report = driver(&s.fx.billing).run_once().await.unwrap();
    assert_eq!(report.retried, 1);

    // The process restarts: a new Billing and driver on the same database and provider.
    let gateway: Arc<dyn PaymentGateway> = s.fake.clone();
    let restarted = s.fx.restarted(Some(gateway));
    s.fx.clock.advance(Duration::hours(1));
    s.drive_until_idle(&restarted).await;
    let content =
        s.fx.store()
            .verify_invoice(&s.scope, s.march().await.id)
            .await
            .unwrap();
    let (status, total, items) = s.only_remote_invoice();
    assert_eq!(status, RemoteInvoiceStatus::Open);
    assert_eq!(items, content.invoice.lines.len() + 1);
    assert_eq!(total, content.invoice.total.minor);
    s.finish().await;
}

async fn a_spent_key_is_reconciled_and_replaced_by_its_next_generation(backend: Backend) {
    let s = finalized(backend).await;
    // Stripe saves the 500 under the draft's key and replays it to every retry with that key.
    s.fake.fail_next(Op::Draft, 1, Failure::SavedServerError);
    s.drive_until_idle(&s.fx.billing).await;
    let keys = s.fake.keys_seen();
    let draft_keys: Vec<&String> = keys
        .iter()
        .filter(|k| k.contains(":invoice:") && k.contains(":create"))
        .collect();
    // First attempt, the replayed retry, then — after reconciliation found no invoice — #2.
    assert_eq!(draft_keys.len(), 3, "{draft_keys:?}");
    assert_eq!(draft_keys[0], draft_keys[1]);
    assert!(draft_keys[2].ends_with(":create#2"), "{}", draft_keys[2]);
    let rows = s.outbox().await;
    assert!(rows[1].idempotency_key.ends_with("#2"));
    assert!(rows.iter().all(|r| r.status == OutboxStatus::Done));
    let (status, _, _) = s.only_remote_invoice();
    assert_eq!(status, RemoteInvoiceStatus::Open);
    s.finish().await;
}

async fn an_expired_key_is_reconciled_and_the_existing_object_adopted(backend: Backend) {
    let s = finalized(backend).await;
    s.fake.fail_next(Op::Draft, 1, Failure::TimeoutAfterCreate);
    let first = driver(&s.fx.billing).run_once().await.unwrap();
    assert_eq!(first.retried, 1);
    // A day passes (the provider forgets the key) before the driver tries again.
    s.fx.clock.advance(Duration::hours(25));
    s.fake.expire_keys();
    let report = driver(&s.fx.billing).run_once().await.unwrap();
    assert_eq!(report.reconciled, 1, "{report:?}");
    // The draft was adopted by its metadata, not created again.
    assert_eq!(s.fake.calls(Op::Draft), 1);
    let (status, _, _) = s.only_remote_invoice();
    assert_eq!(status, RemoteInvoiceStatus::Open);
    s.finish().await;
}

async fn a_permanent_failure_stops_visibly_until_an_operator_retries(backend: Backend) {
    let s = finalized(backend).await;
    s.fake.fail_next(Op::Item, 1, Failure::Refused);
    s.drive_until_idle(&s.fx.billing).await;
    let failed =
        s.fx.store()
            .platform_outbox_with_status(&s.fx.platform, OutboxStatus::Failed)
            .await
            .unwrap();
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].operation, OutboxOperation::AddItem);
    assert!(failed[0].last_error.as_deref().unwrap().contains("refused"));
    // Later steps wait behind it: the invoice was not finalized at the provider.
    assert_eq!(s.fake.calls(Op::Finalize), 0);
    let (status, _, _) = s.only_remote_invoice();
    assert_eq!(status, RemoteInvoiceStatus::Draft);

    s.fx.store()
        .platform_retry_failed_outbox_row(&s.fx.platform, failed[0].id, s.fx.now())
        .await
        .unwrap();
    s.drive_until_idle(&s.fx.billing).await;
    let content =
        s.fx.store()
            .verify_invoice(&s.scope, s.march().await.id)
            .await
            .unwrap();
    let (status, total, items) = s.only_remote_invoice();
    assert_eq!(status, RemoteInvoiceStatus::Open);
    assert_eq!(items, content.invoice.lines.len() + 1);
    assert_eq!(total, content.invoice.total.minor);
    s.finish().await;
}

async fn two_drivers_at_once_make_one_invoice(backend: Backend) {
    let s = finalized(backend).await;
    let gateway: Arc<dyn PaymentGateway> = s.fake.clone();
    let other_node = s.fx.restarted(Some(gateway));
    let (first, second) = (driver(&s.fx.billing), driver(&other_node));
    let (a, b) = tokio::join!(first.run_once(), second.run_once());
    let done = a.unwrap().done + b.unwrap().done;
    let rows = s.outbox().await;
    assert_eq!(done as usize, rows.len(), "each row sent by one driver");
    let (status, _, items) = s.only_remote_invoice();
    assert_eq!(status, RemoteInvoiceStatus::Open);
    assert_eq!(items, rows.len() - 3);
    s.finish().await;
}

async fn without_a_gateway_nothing_is_sent(backend: Backend) {
    let fx = Fixture::new(backend, None).await;
    let (tenant, scope) = fx.tenant_with(standard_settings(), date(2026, 3, 1)).await;
    fx.billing
        .ingest(&inbound_call(tenant, "2026-03-05 10:00:00", 30, Some(150)))
        .await
        .unwrap();
    fx.clock.set(local("2026-04-03 08:00:00"));
    fx.billing.close_due_periods(&fx.platform).await.unwrap();
    let march = fx
        .store()
        .invoice_for_period(&scope, date(2026, 3, 1))
        .await
        .unwrap();
    assert_eq!(march.status, InvoiceStatus::Finalized);
    let rows = fx
        .store()
        .platform_invoice_outbox(&fx.platform, march.id)
        .await
        .unwrap();
    assert!(!rows.is_empty());
    assert!(rows
        .iter()
        .all(|r| r.status == OutboxStatus::Local && r.attempts == 0));
    assert!(fx.billing.outbox_driver(DriverConfig::default()).is_none());
    assert!(matches!(
        fx.billing.handle_webhook(b"{}", GOOD_SIGNATURE).await,
        Err(BillingError::NoGateway)
    ));
    // Everything else works: the invoice verifies and can be credited (locally).
    fx.store().verify_invoice(&scope, march.id).await.unwrap();
    fx.billing
        .issue_credit_note(
            &fx.platform,
            tenant,
            march.id,
            vec![CreditNoteLineInput {
                description: "Goodwill".into(),
                amount_minor: 100,
            }],
            None,
            None,
        )
        .await
        .unwrap();
    let rows = fx
        .store()
        .platform_invoice_outbox(&fx.platform, march.id)
        .await
        .unwrap();
    assert_eq!(rows.last().unwrap().operation, OutboxOperation::CreditNote);
    assert!(rows.iter().all(|r| r.status == OutboxStatus::Local));
    fx.finish().await;
}

async fn webhooks_set_the_payment_status_once(backend: Backend) {
    let s = finalized(backend).await;
    driver(&s.fx.billing).run_once().await.unwrap();
    let (provider_id, _, _, _, _) = s.fake.invoices()[0].clone();
    let march = s.march().await;

    let bad =
        s.fx.billing
            .handle_webhook(
                &FakeGateway::webhook_payload("evt_1", "invoice.paid", &provider_id),
                "t=1,v1=forged",
            )
            .await;
    assert!(matches!(bad, Err(BillingError::Webhook(_))), "{bad:?}");
    assert_eq!(s.fx.count("billing_webhook_events", "1 = 1").await, 0);
    assert_eq!(s.march().await.status, InvoiceStatus::Finalized);

    let failed_payment =
        FakeGateway::webhook_payload("evt_1", "invoice.payment_failed", &provider_id);
    let outcome =
        s.fx.billing
            .handle_webhook(&failed_payment, GOOD_SIGNATURE)
            .await
            .unwrap();
    assert_eq!(
        outcome,
        WebhookOutcome::Applied {
            invoice_id: march.id,
            payment_status: PaymentStatus::PaymentFailed
        }
    );
    let paid = FakeGateway::webhook_payload("evt_2", "invoice.paid", &provider_id);
    s.fx.billing
        .handle_webhook(&paid, GOOD_SIGNATURE)
        .await
        .unwrap();
    let summary = s.march().await;
    assert_eq!(summary.status, InvoiceStatus::Paid);
    assert_eq!(summary.payment_status, Some(PaymentStatus::Paid));
    // A redelivery is recorded once and changes nothing.
    assert_eq!(
        s.fx.billing
            .handle_webhook(&paid, GOOD_SIGNATURE)
            .await
            .unwrap(),
        WebhookOutcome::Duplicate
    );
    // A late, older failure event cannot move a paid invoice back.
    let late_failure =
        FakeGateway::webhook_payload("evt_0", "invoice.payment_failed", &provider_id);
    assert_eq!(
        s.fx.billing
            .handle_webhook(&late_failure, GOOD_SIGNATURE)
            .await
            .unwrap(),
        WebhookOutcome::Stale {
            invoice_id: march.id
        }
    );
    assert_eq!(s.march().await.payment_status, Some(PaymentStatus::Paid));
    let unknown = FakeGateway::webhook_payload("evt_3", "customer.updated", &provider_id);
    assert_eq!(
        s.fx.billing
            .handle_webhook(&unknown, GOOD_SIGNATURE)
            .await
            .unwrap(),
        WebhookOutcome::Ignored
    );
    assert_eq!(s.fx.count("billing_webhook_events", "1 = 1").await, 4);
    // The paid invoice still says what it said.
    s.fx.store()
        .verify_invoice(&s.scope, march.id)
        .await
        .unwrap();
    s.finish().await;
}

async fn a_credit_note_is_mirrored_after_its_invoice(backend: Backend) {
    let s = finalized(backend).await;
    let march = s.march().await;
    let total = march.total.unwrap().minor;
    let note =
        s.fx.billing
            .issue_credit_note(
                &s.fx.platform,
                s.tenant,
                march.id,
                vec![CreditNoteLineInput {
                    description: "Outage on 5 March".into(),
                    amount_minor: 500,
                }],
                None,
                Some("Sorry".into()),
            )
            .await
            .unwrap();
    assert_eq!(note.total.minor, 500);
    let too_much =
        s.fx.billing
            .issue_credit_note(
                &s.fx.platform,
                s.tenant,
                march.id,
                vec![CreditNoteLineInput {
                    description: "Everything".into(),
                    amount_minor: total,
                }],
                None,
                None,
            )
            .await;
    assert!(
        matches!(
            too_much,
            Err(BillingError::CreditExceedsInvoice {
                credited_minor: 500,
                ..
            })
        ),
        "{too_much:?}"
    );
    s.fake
        .fail_next(Op::CreditNote, 1, Failure::TimeoutAfterCreate);
    s.drive_until_idle(&s.fx.billing).await;
    assert_eq!(s.fake.credit_notes(), 1);
    assert_eq!(
        s.fx.store().credit_notes(&s.scope, march.id).await.unwrap(),
        vec![note]
    );
    s.finish().await;
}
