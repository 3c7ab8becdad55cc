//! The billing store on both backends: tariff versions, accounts and contracts, why a record is
//! not billed, periods closing after their grace and in order, recurring fees from ownership,
//! rerating, and tenant isolation.
//!
//! The standard contract (tests/common): inbound minutes 0.04/min at 60/60 with 100 minutes
//! included for 10.00, agent minutes 0.02/min per second, platform fee 49.90 and 20.00 per seat
//! per period in advance, 20 % tax, Bratislava, calendar months, one day of grace.

mod common;

use chrono::Duration;
use common::*;
use hotline_billing::invoice_calc::{LineKind, Quantity};
use hotline_billing::money::Currency;
use hotline_billing::rerate::LineDifference;
use hotline_billing::store::{
    CreditNoteLineInput, Grace, InvoiceStatus, NotBilledReason, OwnershipOutcome, UnitChange,
};
use hotline_billing::tariff::{RecurringKind, TariffError, TariffVersion};
use hotline_billing::usage::Metric;
use hotline_billing::{BillingError, IngestCounts, IngestOutcome};
use hotline_core::ids::{AgentId, NumberId, TenantId};
use hotline_core::Backend;
use rust_decimal::Decimal;

hotline_core::both_backends!(
    tariff_versions_never_reach_back_and_used_ones_never_change,
    accounts_fix_their_cycle_once_invoiced_and_contracts_follow_the_tariff,
    ingestion_says_why_a_record_is_not_billed,
    periods_close_after_their_grace_and_in_order,
    seats_are_billed_in_advance_and_prorated_and_rerate_shows_back_dated_changes,
    tenants_see_only_their_own_billing,
    numbers_are_held_in_intervals_like_seats,
);

fn with_agent_rate(
    mut version: TariffVersion,
    number: u32,
    from: chrono::NaiveDate,
    rate: &str,
) -> TariffVersion {
    version.version = number;
    version.effective_from = from;
    let agent = version
        .metrics
        .iter_mut()
        .find(|p| p.metric == Metric::AgentMinutes)
        .unwrap();
    agent.rate_per_minute = rate.parse().unwrap();
    version
}

async fn tariff_versions_never_reach_back_and_used_ones_never_change(backend: Backend) {
    let fx = Fixture::new(backend, None).await;
    let store = fx.store();
    let v1 = standard_tariff(fx.tariff);
    // Today is 2026-03-10: a version taking effect today or earlier would be retroactive.
    let today = with_agent_rate(v1.clone(), 2, date(2026, 3, 10), "0.03");
    assert!(matches!(
        store
            .platform_add_tariff_version(&fx.platform, &today, fx.now())
            .await,
        Err(BillingError::Tariff(TariffError::Retroactive { .. }))
    ));
    let skipped = with_agent_rate(v1.clone(), 3, date(2026, 4, 1), "0.03");
    assert!(matches!(
        store
            .platform_add_tariff_version(&fx.platform, &skipped, fx.now())
            .await,
        Err(BillingError::Tariff(TariffError::VersionOutOfSequence {
            expected: 2,
            ..
        }))
    ));
    let mut in_yen = with_agent_rate(v1.clone(), 2, date(2026, 4, 1), "3");
    in_yen.currency = Currency::from_code("JPY").unwrap();
    assert!(matches!(
        store
            .platform_add_tariff_version(&fx.platform, &in_yen, fx.now())
            .await,
        Err(BillingError::Invalid {
            field: "currency",
            ..
        })
    ));

    let april = with_agent_rate(v1.clone(), 2, date(2026, 4, 1), "0.03");
    store
        .platform_add_tariff_version(&fx.platform, &april, fx.now())
        .await
        .unwrap();
    // Version 1 is in effect: it never changes. Version 2 is not yet: it may be corrected.
    assert!(matches!(
        store
            .platform_replace_unused_tariff_version(&fx.platform, &v1, fx.now())
            .await,
        Err(BillingError::VersionInUse { version: 1, .. })
    ));
    let corrected = with_agent_rate(v1.clone(), 2, date(2026, 4, 1), "0.024");
    store
        .platform_replace_unused_tariff_version(&fx.platform, &corrected, fx.now())
        .await
        .unwrap();
    let versions = store
        .platform_tariff_versions(&fx.platform, fx.tariff)
        .await
        .unwrap();
    assert_eq!(versions.len(), 2);
    assert_eq!(versions[1].version, corrected);

    // From 1 April version 2 is in effect: no more corrections.
    fx.clock.set(local("2026-04-01 00:30:00"));
    assert!(matches!(
        store
            .platform_replace_unused_tariff_version(&fx.platform, &corrected, fx.now())
            .await,
        Err(BillingError::VersionInUse { version: 2, .. })
    ));

    // Each call is rated by the version in effect on its own date.
    let (tenant, scope) = fx.tenant_with(standard_settings(), date(2026, 3, 1)).await;
    fx.billing
        .ingest(&inbound_call(tenant, "2026-03-31 22:00:00", 10, Some(600)))
        .await
        .unwrap();
    fx.billing
        .ingest(&inbound_call(tenant, "2026-04-07 09:00:00", 10, Some(600)))
        .await
        .unwrap();
    fx.clock.set(local("2026-05-03 00:00:00"));
    fx.billing.close_due_periods(&fx.platform).await.unwrap();
    let agent_lines =
        |content: &hotline_billing::content::InvoiceContent| -> Vec<(u32, Decimal, i64)> {
            content
                .invoice
                .lines
                .iter()
                .filter(|l| {
                    matches!(
                        l.kind,
                        LineKind::Usage {
                            metric: Metric::AgentMinutes,
                            ..
                        }
                    )
                })
                .map(|l| (l.tariff.version, l.unit_price, l.amount.minor))
                .collect()
        };
    let march = store
        .invoice_for_period(&scope, date(2026, 3, 1))
        .await
        .unwrap();
    let april = store
        .invoice_for_period(&scope, date(2026, 4, 1))
        .await
        .unwrap();
    // 600 s × 0.02 / 60 = 0.20 in March; 600 s × 0.024 / 60 = 0.24 in April.
    assert_eq!(
        agent_lines(&store.verify_invoice(&scope, march.id).await.unwrap()),
        vec![(1, "0.02".parse().unwrap(), 20)]
    );
    assert_eq!(
        agent_lines(&store.verify_invoice(&scope, april.id).await.unwrap()),
        vec![(2, "0.024".parse().unwrap(), 24)]
    );
    let versions = store
        .platform_tariff_versions(&fx.platform, fx.tariff)
        .await
        .unwrap();
    assert!(
        versions.iter().all(|v| v.billed),
        "both versions billed now"
    );
    fx.finish().await;
}

async fn accounts_fix_their_cycle_once_invoiced_and_contracts_follow_the_tariff(backend: Backend) {
    let fx = Fixture::new(backend, None).await;
    let store = fx.store();
    let tenant = TenantId::new();
    let mut settings = standard_settings();
    settings.tax_rate = Some(Decimal::new(15, 1));
    assert!(matches!(
        store
            .platform_create_account(&fx.platform, tenant, settings, fx.now())
            .await,
        Err(BillingError::Invalid {
            field: "tax_rate",
            ..
        })
    ));
    store
        .platform_create_account(&fx.platform, tenant, standard_settings(), fx.now())
        .await
        .unwrap();
    assert!(matches!(
        store
            .platform_create_account(&fx.platform, tenant, standard_settings(), fx.now())
            .await,
        Err(BillingError::AlreadyExists(_))
    ));
    // Before any invoice, the cycle may still change.
    let mut mid_month = standard_settings();
    mid_month.billing_day = 15;
    store
        .platform_update_account(&fx.platform, tenant, mid_month.clone(), fx.now())
        .await
        .unwrap();

    let jpy = Currency::from_code("JPY").unwrap();
    let yen_tariff = store
        .platform_create_tariff(&fx.platform, "Yen", jpy, fx.now())
        .await
        .unwrap();
    assert!(matches!(
        store
            .platform_create_contract(
                &fx.platform,
                tenant,
                yen_tariff.id,
                date(2026, 3, 1),
                None,
                fx.now()
            )
            .await,
        Err(BillingError::Invalid {
            field: "tariff",
            ..
        })
    ));
    store
        .platform_create_contract(
            &fx.platform,
            tenant,
            fx.tariff,
            date(2026, 3, 1),
            None,
            fx.now(),
        )
        .await
        .unwrap();
    assert!(matches!(
        store
            .platform_create_contract(
                &fx.platform,
                tenant,
                fx.tariff,
                date(2026, 3, 1),
                None,
                fx.now()
            )
            .await,
        Err(BillingError::AlreadyExists(_))
    ));

    // The first call makes the first invoice: 15 February to 15 March.
    fx.billing
        .ingest(&inbound_call(tenant, "2026-03-05 10:00:00", 30, Some(60)))
        .await
        .unwrap();
    let scope = fx.platform.tenant(tenant);
    let invoices = store.invoices(&scope).await.unwrap();
    assert_eq!(invoices.len(), 1);
    assert_eq!(
        (invoices[0].period.start, invoices[0].period.end),
        (date(2026, 2, 15), date(2026, 3, 15))
    );
    let mut first_of_month = mid_month.clone();
    first_of_month.billing_day = 1;
    assert!(matches!(
        store
            .platform_update_account(&fx.platform, tenant, first_of_month, fx.now())
            .await,
        Err(BillingError::Invalid {
            field: "settings",
            ..
        })
    ));
    // The tax rate may change; finalized invoices keep theirs.
    let mut untaxed = mid_month;
    untaxed.tax_rate = None;
    let account = store
        .platform_update_account(&fx.platform, tenant, untaxed, fx.now())
        .await
        .unwrap();
    assert_eq!(account.settings.tax_rate, None);
    assert_eq!(account.settings.billing_day, 15);

    // A contract ends after today in the tenant's zone, never before.
    assert!(matches!(
        store
            .platform_end_contract(&fx.platform, tenant, date(2026, 3, 10), fx.now())
            .await,
        Err(BillingError::Invalid {
            field: "ends_on",
            ..
        })
    ));
    let ended = store
        .platform_end_contract(&fx.platform, tenant, date(2026, 6, 15), fx.now())
        .await
        .unwrap();
    assert_eq!(ended.ends_on, Some(date(2026, 6, 15)));
    assert_eq!(store.contract(&scope).await.unwrap(), ended);
    fx.finish().await;
}

async fn ingestion_says_why_a_record_is_not_billed(backend: Backend) {
    let fx = Fixture::new(backend, None).await;
    let store = fx.store();
    let not_billed = |reason| IngestOutcome::NotBilled(reason);

    let mut refused = inbound_call(TenantId::new(), "2026-03-05 10:00:00", 30, None);
    refused.tenant_id = None;
    assert_eq!(
        fx.billing.ingest(&refused).await.unwrap(),
        not_billed(NotBilledReason::NoTenant)
    );
    let stranger = TenantId::new();
    assert_eq!(
        fx.billing
            .ingest(&inbound_call(stranger, "2026-03-05 10:00:00", 30, None))
            .await
            .unwrap(),
        not_billed(NotBilledReason::NoAccount)
    );
    store
        .platform_create_account(&fx.platform, stranger, standard_settings(), fx.now())
        .await
        .unwrap();
    assert_eq!(
        fx.billing
            .ingest(&inbound_call(stranger, "2026-03-05 10:00:00", 30, None))
            .await
            .unwrap(),
        not_billed(NotBilledReason::NoContract)
    );

    let (tenant, scope) = fx.tenant_with(standard_settings(), date(2026, 3, 1)).await;
    let mut unanswered = inbound_call(tenant, "2026-03-05 10:00:00", 30, None);
    unanswered.answered_at = None;
    assert_eq!(
        fx.billing.ingest(&unanswered).await.unwrap(),
        not_billed(NotBilledReason::NothingMetered)
    );
    // Before the contract started: not billed; IVR-only minutes: not in this tariff.
    assert_eq!(
        fx.billing
            .ingest(&inbound_call(tenant, "2026-02-28 23:00:00", 30, Some(60)))
            .await
            .unwrap(),
        not_billed(NotBilledReason::NothingMetered)
    );
    assert_eq!(
        fx.billing
            .ingest(&inbound_call(tenant, "2026-03-02 08:00:00", 45, None))
            .await
            .unwrap(),
        IngestOutcome::Ingested(IngestCounts {
            stored: 1,
            late: 0,
            duplicates: 0
        })
    );
    // The store refuses a record of another tenant than its scope.
    let theirs = inbound_call(stranger, "2026-03-05 10:00:00", 30, None);
    assert!(matches!(
        store.ingest(&scope, &theirs, fx.now()).await,
        Err(BillingError::TenantMismatch)
    ));
    assert_eq!(fx.count("billing_usage", "1 = 1").await, 1);
    fx.finish().await;
}

async fn periods_close_after_their_grace_and_in_order(backend: Backend) {
    let fx = Fixture::new(backend, None).await;
    let store = fx.store();
    let (tenant, scope) = fx.tenant_with(standard_settings(), date(2026, 3, 1)).await;
    fx.billing
        .ingest(&inbound_call(tenant, "2026-03-05 10:00:00", 30, Some(60)))
        .await
        .unwrap();
    // Not over yet: cannot be finalized, even skipping the grace.
    assert!(matches!(
        fx.billing
            .close_period(&fx.platform, tenant, date(2026, 3, 1), Grace::Skip)
            .await,
        Err(BillingError::NotReadyToFinalize { .. })
    ));

    // Half an hour after the month ended (local time): closing, waiting out one day of grace.
    fx.clock.set(local("2026-04-01 00:30:00"));
    let report = fx.billing.close_due_periods(&fx.platform).await.unwrap();
    assert_eq!(
        (report.closing, report.finalized.len()),
        (1, 0),
        "{report:?}"
    );
    let march = store
        .invoice_for_period(&scope, date(2026, 3, 1))
        .await
        .unwrap();
    assert_eq!(march.status, InvoiceStatus::Closing);
    assert_eq!(march.grace_until, Some(local("2026-04-02 00:00:00")));
    // April's invoice exists already: its recurring fees are due whether or not anyone calls.
    assert_eq!(
        store
            .invoice_for_period(&scope, date(2026, 4, 1))
            .await
            .unwrap()
            .status,
        InvoiceStatus::Open
    );
    // A late March record during the grace still lands on March itself.
    let in_grace = inbound_call(tenant, "2026-03-31 23:58:00", 10, Some(30));
    assert_eq!(
        fx.billing.ingest(&in_grace).await.unwrap(),
        IngestOutcome::Ingested(IngestCounts {
            stored: 2,
            late: 0,
            duplicates: 0
        })
    );
    assert!(matches!(
        fx.billing
            .close_period(&fx.platform, tenant, date(2026, 3, 1), Grace::Respect)
            .await,
        Err(BillingError::NotReadyToFinalize { .. })
    ));
    let closed = fx
        .billing
        .close_period(&fx.platform, tenant, date(2026, 3, 1), Grace::Skip)
        .await
        .unwrap();
    assert_eq!(closed.status, InvoiceStatus::Finalized);
    assert!(closed.content_hash.as_ref().is_some_and(|h| h.len() == 64));
    let content = store.verify_invoice(&scope, march.id).await.unwrap();
    // Both calls: 60 s and 30 s with agents, per second at 0.02: 90 s → 0.03.
    let agent = content
        .invoice
        .lines
        .iter()
        .find(|l| {
            matches!(
                l.kind,
                LineKind::Usage {
                    metric: Metric::AgentMinutes,
                    ..
                }
            )
        })
        .unwrap();
    assert_eq!(
        (agent.quantity, agent.amount.minor),
        (Quantity::Seconds { seconds: 90 }, 3)
    );
    assert_eq!(
        store.invoice_usage(&scope, march.id).await.unwrap().len(),
        4
    );

    // Another tenant whose contract started in January: March waits for January and February.
    let (early, _) = fx.tenant_with(standard_settings(), date(2026, 1, 1)).await;
    fx.billing
        .ingest(&inbound_call(early, "2026-03-05 10:00:00", 30, Some(60)))
        .await
        .unwrap();
    fx.billing
        .ingest(&inbound_call(early, "2026-01-05 10:00:00", 30, Some(60)))
        .await
        .unwrap();
    let refused = fx
        .billing
        .close_period(&fx.platform, early, date(2026, 3, 1), Grace::Skip)
        .await;
    assert!(
        matches!(&refused, Err(BillingError::NotReadyToFinalize { reason, .. }) if reason.contains("earlier")),
        "{refused:?}"
    );
    fx.clock.advance(Duration::days(2));
    let report = fx.billing.close_due_periods(&fx.platform).await.unwrap();
    // January, February (made now, with no calls) and March of the early tenant.
    assert_eq!(report.finalized.len(), 3, "{report:?}");
    assert!(report.failed.is_empty());
    fx.finish().await;
}

async fn seats_are_billed_in_advance_and_prorated_and_rerate_shows_back_dated_changes(
    backend: Backend,
) {
    let fx = Fixture::new(backend, None).await;
    let store = fx.store();
    let (_, scope) = fx.tenant_with(standard_settings(), date(2026, 3, 1)).await;
    let (anna, bruno, carla) = (AgentId::new(), AgentId::new(), AgentId::new());
    let seat = |agent, change, at: &str| store.record_seat_change(&scope, agent, change, local(at));
    assert_eq!(
        seat(anna, UnitChange::Assigned, "2026-02-20 09:00:00")
            .await
            .unwrap(),
        OwnershipOutcome::Started
    );
    assert_eq!(
        seat(anna, UnitChange::Assigned, "2026-02-21 09:00:00")
            .await
            .unwrap(),
        OwnershipOutcome::AlreadyHeld
    );
    assert_eq!(
        seat(bruno, UnitChange::Released, "2026-03-01 09:00:00")
            .await
            .unwrap(),
        OwnershipOutcome::NotHeld
    );
    seat(bruno, UnitChange::Assigned, "2026-03-16 08:00:00")
        .await
        .unwrap();
    assert!(matches!(
        seat(bruno, UnitChange::Released, "2026-03-15 08:00:00").await,
        Err(BillingError::Invalid { field: "at", .. })
    ));
    assert_eq!(
        seat(bruno, UnitChange::Released, "2026-03-20 12:00:00")
            .await
            .unwrap(),
        OwnershipOutcome::Ended
    );
    let held = store
        .ownership(
            &scope,
            local("2026-03-01 00:00:00"),
            local("2026-04-01 00:00:00"),
        )
        .await
        .unwrap();
    assert_eq!(held.len(), 2);

    fx.clock.set(local("2026-04-03 00:00:00"));
    fx.billing.close_due_periods(&fx.platform).await.unwrap();
    let march = store
        .invoice_for_period(&scope, date(2026, 3, 1))
        .await
        .unwrap();
    let content = store.verify_invoice(&scope, march.id).await.unwrap();
    let recurring: Vec<(LineKind, Quantity, i64)> = content
        .invoice
        .lines
        .iter()
        .filter(|l| {
            matches!(
                l.kind,
                LineKind::RecurringInAdvance { .. } | LineKind::RecurringProrated { .. }
            )
        })
        .map(|l| (l.kind, l.quantity, l.amount.minor))
        .collect();
    // The contract's first period: March is billed day by day for what was held, April in
    // advance for what is held when it begins.
    // - seats in advance: Anna holds one on 1 April: 1 × 20.00;
    // - platform in advance: 49.90;
    // - seats prorated: Anna 31 days + Bruno 16–20 March, 5 days = 36 unit-days × 20.00 / 31 =
    //   23.2258… → 23.23;
    // - platform prorated: the whole first month, 31 × 49.90 / 31 = 49.90.
    assert_eq!(
        recurring,
        vec![
            (
                LineKind::RecurringInAdvance {
                    fee: RecurringKind::Seat
                },
                Quantity::Count { count: 1 },
                2000
            ),
            (
                LineKind::RecurringInAdvance {
                    fee: RecurringKind::Platform
                },
                Quantity::Count { count: 1 },
                4990
            ),
            (
                LineKind::RecurringProrated {
                    fee: RecurringKind::Seat
                },
                Quantity::Days {
                    days: 36,
                    period_days: 31
                },
                2323
            ),
            (
                LineKind::RecurringProrated {
                    fee: RecurringKind::Platform
                },
                Quantity::Days {
                    days: 31,
                    period_days: 31
                },
                4990
            ),
        ]
    );
    let report = store.rerate(&scope, date(2026, 3, 1)).await.unwrap();
    assert!(report.matches(), "{:?}", report.differences);

    // A seat assignment reported late, back-dated into the closed period: the stored invoice
    // stays as it was, and rerating shows what it would have billed.
    seat(carla, UnitChange::Assigned, "2026-03-25 10:00:00")
        .await
        .unwrap();
    let report = store.rerate(&scope, date(2026, 3, 1)).await.unwrap();
    assert!(!report.matches());
    let changed: Vec<(LineKind, i64)> = report
        .differences
        .iter()
        .map(|d| match d {
            LineDifference::Changed { recomputed, .. } => (recomputed.kind, d.amount_delta_minor()),
            other => panic!("{other:?}"),
        })
        .collect();
    // In advance: 2 seats (+20.00); prorated: 36 + 7 = 43 unit-days × 20 / 31 = 27.74 (+4.51).
    assert_eq!(
        changed,
        vec![
            (
                LineKind::RecurringInAdvance {
                    fee: RecurringKind::Seat
                },
                2000
            ),
            (
                LineKind::RecurringProrated {
                    fee: RecurringKind::Seat
                },
                451
            ),
        ]
    );
    // Subtotal 153.03 → 177.54 (+24.51); tax 30.6060 → 30.61 becomes 35.508 → 35.51 (+4.90).
    assert_eq!(report.total_difference().minor, 2941);
    assert_eq!(
        store.verify_invoice(&scope, march.id).await.unwrap(),
        content
    );
    fx.finish().await;
}

async fn tenants_see_only_their_own_billing(backend: Backend) {
    let fx = Fixture::new(backend, None).await;
    let store = fx.store();
    let (acme, acme_scope) = fx.tenant().await;
    let (_, other_scope) = fx.tenant().await;
    fx.billing
        .ingest(&inbound_call(acme, "2026-03-05 10:00:00", 30, Some(60)))
        .await
        .unwrap();
    let march = store
        .invoice_for_period(&acme_scope, date(2026, 3, 1))
        .await
        .unwrap();
    assert!(matches!(
        store.invoice(&other_scope, march.id).await,
        Err(BillingError::NotFound(_))
    ));
    assert!(store.invoices(&other_scope).await.unwrap().is_empty());
    assert!(store
        .invoice_usage(&other_scope, march.id)
        .await
        .unwrap()
        .is_empty());
    assert!(matches!(
        store
            .set_purchase_order(&other_scope, march.id, Some("PO-1"))
            .await,
        Err(BillingError::NotFound(_))
    ));
    assert_eq!(
        store
            .invoice(&acme_scope, march.id)
            .await
            .unwrap()
            .summary
            .purchase_order,
        None
    );
    // A credit note needs a final invoice of that tenant.
    assert!(matches!(
        fx.billing
            .issue_credit_note(
                &fx.platform,
                acme,
                march.id,
                vec![CreditNoteLineInput {
                    description: "x".into(),
                    amount_minor: 1
                }],
                None,
                None
            )
            .await,
        Err(BillingError::Invalid {
            field: "invoice",
            ..
        })
    ));
    fx.finish().await;
}

async fn numbers_are_held_in_intervals_like_seats(backend: Backend) {
    let fx = Fixture::new(backend, None).await;
    let store = fx.store();
    let (_, scope) = fx.tenant().await;
    let (_, other) = fx.tenant().await;
    let number = NumberId::new();
    let change = |change, at: &str| store.record_number_change(&scope, number, change, local(at));
    assert_eq!(
        change(UnitChange::Assigned, "2026-03-02 09:00:00")
            .await
            .unwrap(),
        OwnershipOutcome::Started
    );
    assert_eq!(
        change(UnitChange::Assigned, "2026-03-03 09:00:00")
            .await
            .unwrap(),
        OwnershipOutcome::AlreadyHeld
    );
    assert_eq!(
        change(UnitChange::Released, "2026-03-09 17:00:00")
            .await
            .unwrap(),
        OwnershipOutcome::Ended
    );
    // Released and taken again: two intervals.
    change(UnitChange::Assigned, "2026-03-20 09:00:00")
        .await
        .unwrap();
    let held = store
        .ownership(
            &scope,
            local("2026-03-01 00:00:00"),
            local("2026-04-01 00:00:00"),
        )
        .await
        .unwrap();
    let intervals: Vec<_> = held
        .iter()
        .map(|o| (o.kind, o.unit_id, o.from, o.until))
        .collect();
    assert_eq!(
        intervals,
        vec![
            (
                RecurringKind::Number,
                number.0,
                local("2026-03-02 09:00:00"),
                Some(local("2026-03-09 17:00:00"))
            ),
            (
                RecurringKind::Number,
                number.0,
                local("2026-03-20 09:00:00"),
                None
            ),
        ]
    );
    // Outside the asked window, and for another tenant, nothing.
    assert_eq!(
        store
            .ownership(
                &scope,
                local("2026-03-10 00:00:00"),
                local("2026-03-19 00:00:00")
            )
            .await
            .unwrap(),
        vec![]
    );
    assert!(store
        .ownership(
            &other,
            local("2026-03-01 00:00:00"),
            local("2026-04-01 00:00:00")
        )
        .await
        .unwrap()
        .is_empty());
    fx.finish().await;
}
