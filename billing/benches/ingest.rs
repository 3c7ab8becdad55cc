//! Ingestion and period closing on real databases: records per second ingested into SQLite and
//! PostgreSQL (batched with `ingest_batch`, and one by one as the call-record sink does it,
//! sequentially and from concurrent tasks), then the time to finalize — and to rerate — the
//! period of a tenant holding all those records. Prints figures; asserts no timings.
//!
//! Each record is an inbound call answered by the IVR and handed to an agent: two metered
//! usages (inbound minutes and agent-handled minutes) under a banded tariff with a bundle.
//!
//! Run: `cargo bench -p hotline-billing --bench ingest`
//! Knobs: `HOTLINE_BENCH_RECORDS` (records of the closed period, default 1,000,000),
//! `HOTLINE_BENCH_BATCH` (records per `ingest_batch`, default 1,000),
//! `HOTLINE_BENCH_BACKENDS` (`sqlite,postgres` by default). PostgreSQL is the server at
//! `HOTLINE_TEST_POSTGRES_URL` (default: local, trust auth); a throw-away database is made and
//! dropped.

use std::sync::Arc;
use std::time::{Duration as StdDuration, Instant};

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;
use hotline_billing::money::Currency;
use hotline_billing::store::{AccountSettings, Grace};
use hotline_billing::tariff::TariffVersion;
use hotline_billing::{Billing, IngestOutcome};
use hotline_core::call::{
    CallRecord, Direction, EndCause, LegEnd, LegRecord, LegTarget, Party, Phase,
};
use hotline_core::ids::{AgentId, CallId, TenantId};
use hotline_core::testing::TestDb;
use hotline_core::{Backend, PlatformScope};
use rust_decimal::Decimal;

const ZONE: Tz = chrono_tz::Europe::Bratislava;
const SINGLE_RECORDS: usize = 5_000;
const CONCURRENT_TASKS: usize = 8;

fn env_number(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.replace('_', "").parse().ok())
        .unwrap_or(default)
}

fn tariff(tariff_id: hotline_billing::tariff::TariffId) -> TariffVersion {
    serde_json::from_value(serde_json::json!({
        "tariff_id": tariff_id,
        "version": 1, "effective_from": "2026-01-01", "currency": "EUR",
        "metrics": [
            {"metric": "inbound_minutes", "rate_per_minute": "0.021",
             "increments": {"first_seconds": 60, "next_seconds": 60}, "connect_fee": "0.015",
             "bands": [
                {"name": "Peak", "days": ["Mon", "Tue", "Wed", "Thu", "Fri"],
                 "from": "08:00", "until": "18:00", "rate_per_minute": "0.0475"},
                {"name": "Weekend", "days": ["Sat", "Sun"],
                 "from": "00:00", "until": "24:00", "rate_per_minute": "0.0125"}
             ]},
            {"metric": "agent_minutes", "rate_per_minute": "0.35",
             "increments": {"first_seconds": 30, "next_seconds": 6}}
        ],
        "bundles": [{"metric": "inbound_minutes", "included_minutes": 3000, "period_fee": "120.00"}],
        "recurring": [{"kind": "platform", "price_per_period": "49.90"},
                      {"kind": "seat", "price_per_period": "20.00"}]
    }))
    .expect("the benchmark tariff is valid")
}

/// Deterministic calls spread over March 2026 (local), 5–60 s in the IVR, 30 s–15 min with an
/// agent.
fn records(tenant: TenantId, count: usize, seed: u64) -> Vec<CallRecord> {
    let month_start: DateTime<Utc> = ZONE
        .with_ymd_and_hms(2026, 3, 1, 0, 0, 0)
        .single()
        .expect("March 1 exists")
        .with_timezone(&Utc);
    let month_ms = 31 * 24 * 3600 * 1000 - 20 * 60 * 1000;
    let mut state = seed;
    let mut next = move || {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        state >> 33
    };
    (0..count)
        .map(|_| {
            let answered_at = month_start + Duration::milliseconds((next() % month_ms) as i64);
            let ivr = Duration::milliseconds(5_000 + (next() % 55_000) as i64);
            let talk = Duration::milliseconds(30_000 + (next() % 870_000) as i64);
            let agent_answered = answered_at + ivr;
            let ended_at = agent_answered + talk;
            let agent_id = AgentId::new();
            CallRecord {
                call_id: CallId::new(),
                direction: Direction::Inbound,
                tenant_id: Some(tenant),
                hotline_id: None,
                trunk_id: None,
                caller: "+421900123456".into(),
                dialed: "+421233000111".into(),
                branch: None,
                arrived_at: answered_at - Duration::seconds(1),
                answered_at: Some(answered_at),
                ivr: None,
                queues: vec![],
                legs: vec![LegRecord {
                    leg: 1,
                    target: LegTarget::Agent { agent_id },
                    created_at: agent_answered - Duration::seconds(4),
                    ringing_at: Some(agent_answered - Duration::seconds(3)),
                    answered_at: Some(agent_answered),
                    ended_at: Some(ended_at),
                    end: Some(LegEnd::HungUp { by: Party::Caller }),
                }],
                agent_id: Some(agent_id),
                agent_answered_at: Some(agent_answered),
                holds: vec![],
                transfers: vec![],
                vars: Default::default(),
                disposition: None,
                ended_at,
                end_cause: EndCause::Completed,
                hangup_by: Party::Caller,
                phase_at_end: Phase::Talking,
                media: Vec::new(),
                recording: None,
            }
        })
        .collect()
}

fn per_second(count: usize, elapsed: StdDuration) -> f64 {
    count as f64 / elapsed.as_secs_f64()
}

async fn tenant(
    billing: &Billing,
    platform: &PlatformScope,
    tariff_id: hotline_billing::tariff::TariffId,
) -> TenantId {
    let tenant = TenantId::new();
    let store = billing.store();
    store
        .platform_create_account(
            platform,
            tenant,
            AccountSettings {
                name: "Bench s.r.o.".into(),
                email: None,
                currency: Currency::from_code("EUR").expect("EUR"),
                tax_rate: Some(Decimal::new(20, 2)),
                billing_day: 1,
                time_zone: ZONE,
                grace_period: StdDuration::from_secs(24 * 3600),
            },
            billing.now(),
        )
        .await
        .expect("account");
    store
        .platform_create_contract(
            platform,
            tenant,
            tariff_id,
            NaiveDate::from_ymd_opt(2026, 3, 1).expect("date"),
            None,
            billing.now(),
        )
        .await
        .expect("contract");
    tenant
}

async fn bench(backend: Backend, period_records: usize, batch: usize) {
    println!("== {} ==", backend.name());
    let test_db = TestDb::new(backend).await;
    let clock_at = Arc::new(std::sync::Mutex::new(
        Utc.with_ymd_and_hms(2026, 3, 20, 12, 0, 0)
            .single()
            .expect("time"),
    ));
    let clock = Arc::clone(&clock_at);
    let billing = Billing::new(test_db.db.clone(), None)
        .with_clock(Arc::new(move || *clock.lock().expect("clock")));
    let platform = PlatformScope::from_verified();
    let eur = Currency::from_code("EUR").expect("EUR");
    let tariff_row = billing
        .store()
        .platform_create_tariff(&platform, "Bench", eur, billing.now())
        .await
        .expect("tariff");
    billing
        .store()
        .platform_add_tariff_version(&platform, &tariff(tariff_row.id), billing.now())
        .await
        .expect("version");

    // One by one, as the call-record sink does: sequentially, then from concurrent tasks.
    let singles = tenant(&billing, &platform, tariff_row.id).await;
    let calls = records(singles, SINGLE_RECORDS, 7);
    let started = Instant::now();
    for call in &calls {
        let outcome = billing.ingest(call).await.expect("ingest");
        assert!(matches!(outcome, IngestOutcome::Ingested(_)));
    }
    let elapsed = started.elapsed();
    println!(
        "ingest, one record per call, sequential: {SINGLE_RECORDS} records in {:.2} s = {:.0} records/s",
        elapsed.as_secs_f64(),
        per_second(SINGLE_RECORDS, elapsed)
    );
    let calls = Arc::new(records(singles, SINGLE_RECORDS, 11));
    let started = Instant::now();
    let tasks: Vec<_> = (0..CONCURRENT_TASKS)
        .map(|task| {
            let billing = billing.clone();
            let calls = Arc::clone(&calls);
            tokio::spawn(async move {
                for call in calls.iter().skip(task).step_by(CONCURRENT_TASKS) {
                    billing.ingest(call).await.expect("ingest");
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.expect("task");
    }
    let elapsed = started.elapsed();
    println!(
        "ingest, one record per call, {CONCURRENT_TASKS} tasks: {SINGLE_RECORDS} records in {:.2} s = {:.0} records/s",
        elapsed.as_secs_f64(),
        per_second(SINGLE_RECORDS, elapsed)
    );

    // Batched, into the tenant whose period is then closed.
    let closed = tenant(&billing, &platform, tariff_row.id).await;
    let generate = Instant::now();
    let calls = records(closed, period_records, 42);
    println!(
        "(generated {period_records} records in {:.1} s)",
        generate.elapsed().as_secs_f64()
    );
    let started = Instant::now();
    let mut usages = 0;
    for chunk in calls.chunks(batch) {
        let outcome = billing.ingest_batch(chunk).await.expect("batch");
        usages += outcome.usages.stored as usize;
    }
    let elapsed = started.elapsed();
    println!(
        "ingest_batch ({batch} records per batch): {period_records} records ({usages} usages) in {:.1} s = {:.0} records/s ({:.0} usages/s)",
        elapsed.as_secs_f64(),
        per_second(period_records, elapsed),
        per_second(usages, elapsed)
    );
    let started = Instant::now();
    for chunk in calls.chunks(batch).take(100) {
        billing.ingest_batch(chunk).await.expect("batch");
    }
    let replayed = (100 * batch).min(period_records);
    let elapsed = started.elapsed();
    println!(
        "ingest_batch of records already stored (all duplicates): {replayed} records at {:.0} records/s",
        per_second(replayed, elapsed)
    );
    drop(calls);

    *clock_at.lock().expect("clock") = Utc
        .with_ymd_and_hms(2026, 4, 5, 0, 0, 0)
        .single()
        .expect("time");
    let started = Instant::now();
    let invoice = billing
        .close_period(
            &platform,
            closed,
            NaiveDate::from_ymd_opt(2026, 3, 1).expect("date"),
            Grace::Respect,
        )
        .await
        .expect("close period");
    let elapsed = started.elapsed();
    println!(
        "close period (finalize: load, rate, hash, persist) with {period_records} records: {:.2} s; total {}",
        elapsed.as_secs_f64(),
        invoice.total.map(|t| t.to_string()).unwrap_or_default()
    );
    let scope = platform.tenant(closed);
    let started = Instant::now();
    let report = billing
        .store()
        .rerate(&scope, NaiveDate::from_ymd_opt(2026, 3, 1).expect("date"))
        .await
        .expect("rerate");
    println!(
        "rerate the closed period (dry run): {:.2} s; matches the stored invoice: {}",
        started.elapsed().as_secs_f64(),
        report.matches()
    );
    test_db.finish().await;
}

fn main() {
    let period_records = env_number("HOTLINE_BENCH_RECORDS", 1_000_000);
    let batch = env_number("HOTLINE_BENCH_BATCH", 1_000);
    let backends =
        std::env::var("HOTLINE_BENCH_BACKENDS").unwrap_or_else(|_| "sqlite,postgres".into());
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    println!(
        "machine: {} cores; records per closed period: {period_records}; batch: {batch}",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    for name in backends.split(',') {
        let backend = match name.trim() {
            "sqlite" => Backend::Sqlite,
            "postgres" => Backend::Postgres,
            other => {
                eprintln!("unknown backend {other:?}");
                continue;
            }
        };
        runtime.block_on(bench(backend, period_records, batch));
    }
}
