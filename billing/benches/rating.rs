//! Rating throughput on one core: records per second for a realistic tariff (weekday peak and
//! evening bands, a weekend band, 60/60 increments, connect fee, a 3,000-minute bundle), over a
//! month of calls in a zone with daylight saving. Prints figures; asserts no timings.
//!
//! Run: `cargo bench -p hotline-billing --bench rating`

use std::hint::black_box;

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;
use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use hotline_billing::invoice_calc::{compute_invoice, BillingAccount, InvoiceInput};
use hotline_billing::money::Currency;
use hotline_billing::period::BillingPeriod;
use hotline_billing::rating::{apply_bundles, rate, BundleAllowance};
use hotline_billing::recurring::ContractTerm;
use hotline_billing::tariff::{TariffId, TariffSchedule, TariffVersion};
use hotline_billing::usage::{MeteredUsage, Metric};
use hotline_core::ids::CallId;
use uuid::Uuid;

const ZONE: Tz = chrono_tz::Europe::Bratislava;
const RECORDS: usize = 100_000;

fn tariff() -> TariffVersion {
    serde_json::from_value(serde_json::json!({
        "tariff_id": TariffId(Uuid::from_u128(1)),
        "version": 1, "effective_from": "2025-01-01", "currency": "EUR",
        "metrics": [{
            "metric": "inbound_minutes", "rate_per_minute": "0.021",
            "increments": {"first_seconds": 60, "next_seconds": 60},
            "connect_fee": "0.015",
            "bands": [
                {"name": "Peak", "days": ["Mon", "Tue", "Wed", "Thu", "Fri"],
                 "from": "08:00", "until": "18:00", "rate_per_minute": "0.0475"},
                {"name": "Evening", "days": ["Mon", "Tue", "Wed", "Thu", "Fri"],
                 "from": "18:00", "until": "22:30", "rate_per_minute": "0.033"},
                {"name": "Weekend", "days": ["Sat", "Sun"],
                 "from": "00:00", "until": "24:00", "rate_per_minute": "0.0125"}
            ]
        }],
        "bundles": [{"metric": "inbound_minutes", "included_minutes": 3000, "period_fee": "120.00"}]
    }))
    .expect("the benchmark tariff is valid JSON")
}

/// A month of calls: starts spread over March 2025 (a simple LCG, so every run rates the same
/// records), 10 s to ~15 min long, some crossing band edges.
fn usages() -> Vec<MeteredUsage> {
    let month_start: DateTime<Utc> = ZONE
        .with_ymd_and_hms(2025, 3, 1, 0, 0, 0)
        .single()
        .expect("March 1 exists")
        .with_timezone(&Utc);
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move || {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        state >> 33
    };
    (0..RECORDS)
        .map(|index| {
            let started_at = month_start + Duration::seconds((next() % (30 * 86_400)) as i64);
            let millis = 10_000 + (next() % 900_000) as i64;
            MeteredUsage {
                call_id: CallId(Uuid::from_u128(index as u128 + 1)),
                leg: 0,
                metric: Metric::InboundMinutes,
                started_at,
                ended_at: started_at + Duration::milliseconds(millis),
            }
        })
        .collect()
}

fn rating(c: &mut Criterion) {
    let version = tariff();
    let usages = usages();
    let mut group = c.benchmark_group("rating");
    group.throughput(Throughput::Elements(RECORDS as u64));
    group.sample_size(20);

    group.bench_function("rate 100k records (bands, connect fee)", |b| {
        b.iter(|| {
            for usage in &usages {
                black_box(rate(black_box(usage), &version, ZONE).expect("rates"));
            }
        })
    });

    let rated: Vec<_> = usages
        .iter()
        .map(|u| rate(u, &version, ZONE).expect("rates"))
        .collect();
    group.bench_function("bundle consumption over 100k rated records", |b| {
        b.iter_batched(
            || rated.clone(),
            |mut rated| {
                let mut allowances = [BundleAllowance {
                    metric: Metric::InboundMinutes,
                    tariff: version.reference(),
                    included_seconds: 180_000,
                    used_seconds: 0,
                }];
                apply_bundles(&mut rated, &mut allowances).expect("applies");
                black_box(rated)
            },
            BatchSize::LargeInput,
        )
    });

    let schedule = TariffSchedule::new(vec![version.clone()]).expect("valid");
    let account = BillingAccount {
        currency: Currency::from_code("EUR").expect("EUR"),
        tax_rate: Some("0.2".parse().expect("decimal")),
        contract: ContractTerm {
            start: NaiveDate::from_ymd_opt(2025, 1, 1).expect("date"),
            end: None,
        },
    };
    let period = BillingPeriod::new(
        NaiveDate::from_ymd_opt(2025, 3, 1).expect("date"),
        NaiveDate::from_ymd_opt(2025, 4, 1).expect("date"),
    )
    .expect("period");
    group.bench_function("invoice of 100k records (rate, bundle, lines)", |b| {
        b.iter(|| {
            black_box(
                compute_invoice(&InvoiceInput {
                    period,
                    time_zone: ZONE,
                    account: &account,
                    schedule: &schedule,
                    usages: &usages,
                    adjustments: &[],
                    ownership: &[],
                })
                .expect("computes"),
            )
        })
    });
    group.finish();
}

criterion_group!(benches, rating);
criterion_main!(benches);
