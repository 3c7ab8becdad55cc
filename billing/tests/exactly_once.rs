//! Exactly once, on both backends: a call record handed over twice, concurrently from two tasks,
//! or after a restart is billed once; a record arriving after its period was finalized lands as
//! an adjustment on the next invoice; a finalized invoice cannot be changed through the store or
//! by SQL behind its back.
//!
//! The standard contract (tests/common): inbound minutes 0.04/min at 60/60 with 100 minutes
//! included for 10.00, agent minutes 0.02/min per second, platform fee 49.90 in advance, 20 %
//! tax, Bratislava, calendar months, one day of grace.

mod common;

use std::sync::Arc;

use chrono::Duration;
use common::*;
use hotline_billing::invoice_calc::{LineKind, Quantity};
use hotline_billing::store::{Grace, InvoiceStatus};
use hotline_billing::usage::Metric;
use hotline_billing::{Billing, BillingError, IngestCounts, IngestOutcome};
use hotline_core::{Backend, Db};

hotline_core::both_backends!(
    the_same_record_twice_is_billed_once,
    a_record_ingested_again_after_a_restart_is_billed_once,
    a_late_record_after_finalization_is_an_adjustment_on_the_next_period,
    a_finalized_invoice_cannot_change_through_the_store,
    a_finalized_invoice_cannot_change_behind_the_stores_back,
);

/// (seconds, amount in cents) of the invoice's line of `kind`, if any.
fn line(content: &hotline_billing::content::InvoiceContent, kind: LineKind) -> Option<(u64, i64)> {
    content
        .invoice
        .lines
        .iter()
        .find(|l| l.kind == kind)
        .map(|l| match l.quantity {
            Quantity::Seconds { seconds } => (seconds, l.amount.minor),
            Quantity::Count { count } => (count, l.amount.minor),
            Quantity::Days { days, .. } => (days, l.amount.minor),
        })
}

fn agent_usage(late: bool) -> LineKind {
    LineKind::Usage {
        metric: Metric::AgentMinutes,
        band: None,
        late,
    }
}

fn inbound_included(late: bool) -> LineKind {
    LineKind::IncludedUsage {
        metric: Metric::InboundMinutes,
        late,
    }
}

/// Finalizes everything due once April has begun (grace over): January to March.
async fn close_march(fx: &Fixture) {
    fx.clock.set(local("2026-04-03 08:00:00"));
    let report = fx.billing.close_due_periods(&fx.platform).await.unwrap();
    assert!(report.failed.is_empty(), "{:?}", report.failed);
}

async fn the_same_record_twice_is_billed_once(backend: Backend) {
    let fx = Fixture::new(backend, None).await;
    let (tenant, scope) = fx.tenant().await;
    // 30 s in the IVR, then 150 s with an agent: the caller's leg lasts 180 s.
    let call = inbound_call(tenant, "2026-03-05 10:00:00", 30, Some(150));

    let first = fx.billing.ingest(&call).await.unwrap();
    assert_eq!(
        first,
        IngestOutcome::Ingested(IngestCounts {
            stored: 2,
            late: 0,
            duplicates: 0
        })
    );
    let second = fx.billing.ingest(&call).await.unwrap();
    assert!(second.is_duplicate(), "{second:?}");
    let key = format!("call_id = '{}'", call.call_id);
    assert_eq!(fx.count("billing_usage", &key).await, 2);

    close_march(&fx).await;
    let march = fx
        .store()
        .invoice_for_period(&scope, date(2026, 3, 1))
        .await
        .unwrap();
    let content = fx.store().verify_invoice(&scope, march.id).await.unwrap();
    // Once: 180 s of inbound minutes inside the bundle, 150 s × 0.02 / 60 = 0.05 for the agent.
    assert_eq!(line(&content, inbound_included(false)), Some((180, 0)));
    assert_eq!(line(&content, agent_usage(false)), Some((150, 5)));
    // 49.90 platform (April, in advance) + 10.00 bundle + 0.05 = 59.95; + 20 % = 11.99 → 71.94.
    assert_eq!(content.invoice.subtotal.minor, 5995);
    assert_eq!(content.invoice.total.minor, 7194);
    fx.finish().await;
}

async fn a_record_ingested_again_after_a_restart_is_billed_once(backend: Backend) {
    let fx = Fixture::new(backend, None).await;
    let (tenant, scope) = fx.tenant().await;
    let call = inbound_call(tenant, "2026-03-06 15:30:00", 10, Some(600));
    assert!(matches!(
        fx.billing.ingest(&call).await.unwrap(),
        IngestOutcome::Ingested(IngestCounts { stored: 2, .. })
    ));

    // A new process: a new connection pool on the same database, a new Billing.
    let db = Db::connect(&fx.test_db.url()).await.unwrap();
    let clock = fx.clock.clone();
    let restarted = Billing::new(db.clone(), None).with_clock(Arc::new(move || clock.now()));
    let again = restarted.ingest(&call).await.unwrap();
    assert!(again.is_duplicate(), "{again:?}");
    db.close().await;

    close_march(&fx).await;
    let march = fx
        .store()
        .invoice_for_period(&scope, date(2026, 3, 1))
        .await
        .unwrap();
    let content = fx.store().verify_invoice(&scope, march.id).await.unwrap();
    // 610 s on the caller's leg → 60/60 → 660 s, in the bundle; 600 s × 0.02 / 60 = 0.20.
    assert_eq!(line(&content, inbound_included(false)), Some((660, 0)));
    assert_eq!(line(&content, agent_usage(false)), Some((600, 20)));
    fx.finish().await;
}

async fn a_late_record_after_finalization_is_an_adjustment_on_the_next_period(backend: Backend) {
    let fx = Fixture::new(backend, None).await;
    let (tenant, scope) = fx.tenant().await;
    let on_time = inbound_call(tenant, "2026-03-05 10:00:00", 30, Some(150));
    fx.billing.ingest(&on_time).await.unwrap();
    close_march(&fx).await;
    let march = fx
        .store()
        .invoice_for_period(&scope, date(2026, 3, 1))
        .await
        .unwrap();
    assert_eq!(march.status, InvoiceStatus::Finalized);
    let march_hash = march.content_hash.clone().unwrap();

    // A March call reaches billing in April, after March was finalized: 20 s IVR + 100 s agent.
    let late = inbound_call(tenant, "2026-03-31 23:50:00", 20, Some(100));
    let outcome = fx.billing.ingest(&late).await.unwrap();
    assert_eq!(
        outcome,
        IngestOutcome::Ingested(IngestCounts {
            stored: 0,
            late: 2,
            duplicates: 0
        })
    );
    // Handed over again: still one adjustment.
    assert!(fx.billing.ingest(&late).await.unwrap().is_duplicate());

    // March is untouched.
    let march_again = fx.store().invoice(&scope, march.id).await.unwrap();
    assert_eq!(
        march_again.summary.content_hash.as_deref(),
        Some(march_hash.as_str())
    );
    let march_content = fx.store().verify_invoice(&scope, march.id).await.unwrap();
    assert_eq!(line(&march_content, agent_usage(true)), None);

    fx.clock.set(local("2026-05-02 12:00:00"));
    fx.billing.close_due_periods(&fx.platform).await.unwrap();
    let april = fx
        .store()
        .invoice_for_period(&scope, date(2026, 4, 1))
        .await
        .unwrap();
    assert_eq!(april.status, InvoiceStatus::Finalized);
    let content = fx.store().verify_invoice(&scope, april.id).await.unwrap();
    // The late caller leg (120 s → 120 s billable) takes what March's bundle left (6,000 − 180
    // s): all included, marked late. Agent: 100 s × 0.02 / 60 = 0.0333 → 0.03, marked late.
    assert_eq!(line(&content, inbound_included(true)), Some((120, 0)));
    assert_eq!(line(&content, agent_usage(true)), Some((100, 3)));
    assert_eq!(line(&content, agent_usage(false)), None);
    assert_eq!(
        fx.count(
            "billing_adjustments",
            &format!("invoice_id = '{}'", april.id)
        )
        .await,
        2
    );
    let usage = fx.store().invoice_usage(&scope, april.id).await.unwrap();
    assert_eq!(usage.len(), 2);
    assert!(usage.iter().all(|u| u.call_id == late.call_id));
    fx.finish().await;
}

async fn a_finalized_invoice_cannot_change_through_the_store(backend: Backend) {
    let fx = Fixture::new(backend, None).await;
    let (tenant, scope) = fx.tenant().await;
    fx.billing
        .ingest(&inbound_call(tenant, "2026-03-05 10:00:00", 30, Some(150)))
        .await
        .unwrap();
    let march = fx
        .store()
        .invoice_for_period(&scope, date(2026, 3, 1))
        .await
        .unwrap();
    // While open the purchase order reference can be set; it is part of the hashed content.
    fx.store()
        .set_purchase_order(&scope, march.id, Some("PO-2026-03"))
        .await
        .unwrap();
    close_march(&fx).await;
    let content = fx.store().verify_invoice(&scope, march.id).await.unwrap();
    assert_eq!(content.purchase_order.as_deref(), Some("PO-2026-03"));

    let refused = fx
        .store()
        .set_purchase_order(&scope, march.id, Some("PO-changed"))
        .await;
    assert!(
        matches!(refused, Err(BillingError::InvoiceFinalized(id)) if id == march.id),
        "{refused:?}"
    );
    let again = fx
        .billing
        .close_period(&fx.platform, tenant, date(2026, 3, 1), Grace::Skip)
        .await;
    assert!(
        matches!(again, Err(BillingError::InvoiceFinalized(_))),
        "{again:?}"
    );
    let after = fx.store().verify_invoice(&scope, march.id).await.unwrap();
    assert_eq!(after, content);
    fx.finish().await;
}

async fn a_finalized_invoice_cannot_change_behind_the_stores_back(backend: Backend) {
    let fx = Fixture::new(backend, None).await;
    let (tenant, scope) = fx.tenant().await;
    let call = inbound_call(tenant, "2026-03-05 10:00:00", 30, Some(150));
    fx.billing.ingest(&call).await.unwrap();
    close_march(&fx).await;
    let march = fx
        .store()
        .invoice_for_period(&scope, date(2026, 3, 1))
        .await
        .unwrap();
    let content = fx.store().verify_invoice(&scope, march.id).await.unwrap();

    let pool = fx.test_db.db.pool();
    let id = march.id.to_string();
    let attempts = [
        format!("UPDATE billing_invoices SET total_minor = total_minor + 100 WHERE id = '{id}'"),
        format!("UPDATE billing_invoices SET status = 'open' WHERE id = '{id}'"),
        format!("UPDATE billing_invoices SET content_hash = 'x' WHERE id = '{id}'"),
        format!("DELETE FROM billing_invoices WHERE id = '{id}'"),
        format!("UPDATE billing_invoice_lines SET amount_minor = 0 WHERE invoice_id = '{id}'"),
        format!("DELETE FROM billing_invoice_lines WHERE invoice_id = '{id}'"),
        format!(
            "INSERT INTO billing_invoice_lines (id, invoice_id, tenant_id, position, kind, description, quantity, unit_price, tariff_id, tariff_version, amount_minor, currency)
             VALUES ('extra', '{id}', '{tenant}', 99, '{{}}', 'extra', '{{}}', '1', 'x', 1, 100, 'EUR')"
        ),
        format!("UPDATE billing_usage SET ended_at = ended_at + 60000 WHERE call_id = '{}'", call.call_id),
        format!("DELETE FROM billing_usage WHERE call_id = '{}'", call.call_id),
        format!("UPDATE billing_tariff_versions SET body = '{{}}' WHERE tariff_id = '{}'", fx.tariff),
    ];
    for sql in &attempts {
        let result = sqlx::query(sql).execute(pool).await;
        let err = result.expect_err(sql);
        let err = BillingError::from(err);
        assert!(matches!(err, BillingError::Immutable(_)), "{sql}: {err}");
    }
    // Only the payment status may still move (as a webhook does).
    sqlx::query(&format!(
        "UPDATE billing_invoices SET status = 'paid', payment_status = 'paid' WHERE id = '{id}'"
    ))
    .execute(pool)
    .await
    .unwrap();
    assert_eq!(
        fx.store().verify_invoice(&scope, march.id).await.unwrap(),
        content
    );
    fx.finish().await;
}

/// Two tasks hand over the same records at the same moment, record by record and as
/// overlapping batches; each usage is stored once and every call counted once in total.
async fn concurrent_duplicates_are_stored_once(backend: Backend) {
    let fx = Fixture::new(backend, None).await;
    let (tenant, scope) = fx.tenant().await;
    let calls: Vec<_> = (0..40)
        .map(|i| {
            let start = local("2026-03-02 08:00:00") + Duration::minutes(i * 7);
            let at = start
                .with_timezone(&ZONE)
                .format("%Y-%m-%d %H:%M:%S")
                .to_string();
            inbound_call(tenant, &at, 15, Some(60 + i))
        })
        .collect();
    let calls = Arc::new(calls);

    let mut totals = IngestCounts::default();
    for (i, call) in calls.iter().enumerate().take(20) {
        let barrier = Arc::new(tokio::sync::Barrier::new(2));
        let tasks: Vec<_> = (0..2)
            .map(|_| {
                let billing = fx.billing.clone();
                let call = call.clone();
                let barrier = Arc::clone(&barrier);
                tokio::spawn(async move {
                    barrier.wait().await;
                    billing.ingest(&call).await
                })
            })
            .collect();
        for task in tasks {
            match task.await.unwrap() {
                Ok(IngestOutcome::Ingested(c)) => {
                    totals.stored += c.stored;
                    totals.duplicates += c.duplicates;
                }
                other => panic!("call {i}: {other:?}"),
            }
        }
    }
    // 20 calls × 2 usages stored once, and the second hand-over of each a no-op.
    assert_eq!((totals.stored, totals.duplicates), (40, 40));

    // Overlapping batches (records 10..40 and 0..30) from two tasks at once.
    let barrier = Arc::new(tokio::sync::Barrier::new(2));
    let batches: Vec<_> = [(10, 40), (0, 30)]
        .into_iter()
        .map(|(from, to)| {
            let billing = fx.billing.clone();
            let calls = Arc::clone(&calls);
            let barrier = Arc::clone(&barrier);
            tokio::spawn(async move {
                barrier.wait().await;
                billing.ingest_batch(&calls[from..to]).await
            })
        })
        .collect();
    let mut stored = 0;
    for batch in batches {
        stored += batch.await.unwrap().unwrap().usages.stored;
    }
    // Only calls 20..40 were new: 20 × 2 usages, whichever batch got each first.
    assert_eq!(stored, 40);
    assert_eq!(fx.count("billing_usage", "1 = 1").await, 80);

    close_march(&fx).await;
    let march = fx
        .store()
        .invoice_for_period(&scope, date(2026, 3, 1))
        .await
        .unwrap();
    let content = fx.store().verify_invoice(&scope, march.id).await.unwrap();
    // Agent seconds: Σ (60 + i) for i in 0..40 = 2,400 + 780 = 3,180, once each.
    assert_eq!(line(&content, agent_usage(false)).map(|l| l.0), Some(3180));
    fx.finish().await;
}

mod concurrent {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite() {
        concurrent_duplicates_are_stored_once(Backend::Sqlite).await
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres() {
        concurrent_duplicates_are_stored_once(Backend::Postgres).await
    }
}

/// Records of March arrive from four tasks while March is being finalized: each lands either on
/// March (committed before finalization read the usage) or as an adjustment on April (it saw
/// March final) — never on neither, never on both.
async fn records_racing_the_finalization_are_billed_once(backend: Backend) {
    let fx = Fixture::new(backend, None).await;
    let (tenant, scope) = fx.tenant_with(standard_settings(), date(2026, 3, 1)).await;
    let calls: Vec<_> = (0..160_i64)
        .map(|i| {
            let at = (local("2026-03-03 08:00:00") + Duration::minutes(i * 11))
                .with_timezone(&ZONE)
                .format("%Y-%m-%d %H:%M:%S")
                .to_string();
            inbound_call(tenant, &at, 5, Some(100 + i))
        })
        .collect();
    let expected_agent_seconds: u64 = (0..160).map(|i| 100 + i).sum();
    fx.clock.set(local("2026-04-03 08:00:00"));
    let calls = Arc::new(calls);
    let mut tasks = Vec::new();
    for task in 0..4 {
        let billing = fx.billing.clone();
        let calls = Arc::clone(&calls);
        tasks.push(tokio::spawn(async move {
            for call in calls.iter().skip(task).step_by(4) {
                billing.ingest(call).await.unwrap();
            }
        }));
    }
    let closer = {
        let billing = fx.billing.clone();
        let platform = fx.platform;
        tokio::spawn(async move {
            tokio::time::sleep(std::time::Duration::from_millis(30)).await;
            billing
                .close_period(&platform, tenant, date(2026, 3, 1), Grace::Skip)
                .await
                .unwrap()
        })
    };
    for task in tasks {
        task.await.unwrap();
    }
    assert_eq!(closer.await.unwrap().status, InvoiceStatus::Finalized);

    fx.clock.set(local("2026-05-03 08:00:00"));
    fx.billing.close_due_periods(&fx.platform).await.unwrap();
    let seconds = |content: &hotline_billing::content::InvoiceContent, late| {
        line(content, agent_usage(late)).map_or(0, |l| l.0)
    };
    let march = fx
        .store()
        .invoice_for_period(&scope, date(2026, 3, 1))
        .await
        .unwrap();
    let april = fx
        .store()
        .invoice_for_period(&scope, date(2026, 4, 1))
        .await
        .unwrap();
    let march = fx.store().verify_invoice(&scope, march.id).await.unwrap();
    let april = fx.store().verify_invoice(&scope, april.id).await.unwrap();
    assert_eq!(seconds(&march, true) + seconds(&april, false), 0);
    assert_eq!(
        seconds(&march, false) + seconds(&april, true),
        expected_agent_seconds,
        "March {} s + late on April {} s",
        seconds(&march, false),
        seconds(&april, true)
    );
    fx.finish().await;
}

mod racing_the_finalization {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite() {
        records_racing_the_finalization_are_billed_once(Backend::Sqlite).await
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres() {
        records_racing_the_finalization_are_billed_once(Backend::Postgres).await
    }
}
