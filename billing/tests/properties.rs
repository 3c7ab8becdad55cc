//! Properties of rating and invoicing that must hold for every input, not just the golden ones.

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;
use hotline_billing::invoice_calc::{compute_invoice, BillingAccount, InvoiceInput};
use hotline_billing::money::Currency;
use hotline_billing::period::BillingPeriod;
use hotline_billing::rating::increments::billable_seconds;
use hotline_billing::rating::{apply_bundles, rate, BundleAllowance};
use hotline_billing::recurring::{ContractTerm, Ownership};
use hotline_billing::tariff::{Increments, RecurringKind, TariffId, TariffSchedule, TariffVersion};
use hotline_billing::usage::{MeteredUsage, Metric};
use hotline_core::ids::CallId;
use proptest::prelude::*;
use serde_json::json;
use uuid::Uuid;

/// A zone with daylight saving, so band splits cross offset changes too.
const ZONE: Tz = chrono_tz::Europe::Bratislava;

fn increments() -> impl Strategy<Value = Increments> {
    prop_oneof![
        Just(Increments::SIXTY_SIXTY),
        Just(Increments::THIRTY_SIX),
        Just(Increments::PER_SECOND),
        (1_u32..=120, 1_u32..=120).prop_map(|(first, next)| Increments::new(first, next)),
    ]
}

/// A realistic banded tariff: peak on weekdays, an evening band, a weekend band, a bundle.
fn banded_version(
    increments: Increments,
    minimum_seconds: u32,
    included_minutes: u32,
) -> TariffVersion {
    serde_json::from_value(json!({
        "tariff_id": TariffId(Uuid::from_u128(7)),
        "version": 1, "effective_from": "2025-01-01", "currency": "EUR",
        "metrics": [
            {
                "metric": "inbound_minutes", "rate_per_minute": "0.021",
                "increments": increments, "minimum_seconds": minimum_seconds,
                "connect_fee": "0.015",
                "bands": [
                    {"name": "Peak", "days": ["Mon", "Tue", "Wed", "Thu", "Fri"],
                     "from": "08:00", "until": "18:00", "rate_per_minute": "0.0475"},
                    {"name": "Evening", "days": ["Mon", "Tue", "Wed", "Thu", "Fri"],
                     "from": "18:00", "until": "22:30", "rate_per_minute": "0.033"},
                    {"name": "Weekend", "days": ["Sat", "Sun"],
                     "from": "00:00", "until": "24:00", "rate_per_minute": "0.0125"}
                ]
            },
            {
                "metric": "agent_minutes", "rate_per_minute": "0.10",
                "increments": {"first_seconds": 30, "next_seconds": 6}
            }
        ],
        "bundles": [{"metric": "inbound_minutes", "included_minutes": included_minutes, "period_fee": "120.00"}],
        "recurring": [{"kind": "seat", "price_per_period": "19.99"}]
    }))
    .unwrap()
}

/// March 2025 holds the spring daylight saving change in Europe.
fn march_start() -> DateTime<Utc> {
    ZONE.with_ymd_and_hms(2025, 3, 1, 0, 0, 0)
        .single()
        .unwrap()
        .with_timezone(&Utc)
}

/// (seconds after the period's start, duration in ms, agent metric?) → a usage; the call id is
/// made from the index so every usage is distinct.
fn usages_from(specs: &[(i64, i64, bool)]) -> Vec<MeteredUsage> {
    specs
        .iter()
        .enumerate()
        .map(|(index, &(offset, millis, agent))| {
            let started_at = march_start() + Duration::seconds(offset);
            MeteredUsage {
                call_id: CallId(Uuid::from_u128(index as u128 + 1)),
                leg: u16::from(agent),
                metric: if agent {
                    Metric::AgentMinutes
                } else {
                    Metric::InboundMinutes
                },
                started_at,
                ended_at: started_at + Duration::milliseconds(millis),
            }
        })
        .collect()
}

/// Usages starting within March local time (the month is an hour short: summer time begins on
/// the 30th); the last may run past the month's end.
fn usage_specs(max: usize) -> impl Strategy<Value = Vec<(i64, i64, bool)>> {
    prop::collection::vec(
        (0_i64..31 * 86_400 - 3_600, 0_i64..7_200_000, any::<bool>()),
        0..max,
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn billable_is_at_least_the_minimum_and_measured_and_aligned_to_increments(
        measured in 0_u32..100_000,
        increments in increments(),
        minimum in 0_u32..600,
    ) {
        let billable = billable_seconds(measured, increments, minimum).unwrap();
        prop_assert!(billable >= minimum);
        prop_assert!(billable >= measured);
        let on_grid = billable >= increments.first_seconds
            && (billable - increments.first_seconds).is_multiple_of(increments.next_seconds);
        prop_assert!(
            billable == minimum || on_grid || (measured == 0 && billable == 0),
            "{billable} s is neither the minimum {minimum} nor on the {increments} grid"
        );
        // Less than one increment above what was measured, unless the minimum decided.
        if billable != minimum && measured > 0 {
            let step = increments.first_seconds.max(increments.next_seconds);
            prop_assert!(billable - measured < step);
        }
    }

    #[test]
    fn billable_never_decreases_with_duration(
        shorter in 0_u32..100_000,
        extra in 0_u32..10_000,
        increments in increments(),
        minimum in 0_u32..600,
    ) {
        let short = billable_seconds(shorter, increments, minimum).unwrap();
        let long = billable_seconds(shorter + extra, increments, minimum).unwrap();
        prop_assert!(long >= short);
    }

    #[test]
    fn band_pieces_add_up_to_billable_seconds(
        specs in usage_specs(2),
        increments in increments(),
        minimum in 0_u32..300,
    ) {
        let version = banded_version(increments, minimum, 0);
        for usage in usages_from(&specs) {
            let rated = rate(&usage, &version, ZONE).unwrap();
            let sum: u32 = rated.pieces.iter().map(|p| p.seconds).sum();
            prop_assert_eq!(sum, rated.billable_seconds);
            prop_assert!(rated.billable_seconds >= rated.measured_seconds);
            prop_assert!(rated.pieces.iter().all(|p| p.seconds > 0 && p.tariff == version.reference()));
        }
    }

    #[test]
    fn bundle_plus_overage_is_total_billable(
        specs in usage_specs(40),
        increments in increments(),
        included_minutes in 0_u32..400,
    ) {
        let version = banded_version(increments, 0, included_minutes);
        let mut rated: Vec<_> = usages_from(&specs)
            .iter()
            .map(|u| rate(u, &version, ZONE).unwrap())
            .collect();
        let mut allowances = [BundleAllowance {
            metric: Metric::InboundMinutes,
            tariff: version.reference(),
            included_seconds: u64::from(included_minutes) * 60,
            used_seconds: 0,
        }];
        apply_bundles(&mut rated, &mut allowances).unwrap();

        let inbound = rated.iter().filter(|r| r.metric == Metric::InboundMinutes);
        let total: u64 = inbound.clone().map(|r| u64::from(r.billable_seconds)).sum();
        let included: u64 = inbound.clone().map(|r| r.included_seconds()).sum();
        let charged: u64 = inbound
            .flat_map(|r| r.pieces.iter())
            .map(|p| u64::from(p.charged_seconds()))
            .sum();
        prop_assert_eq!(included + charged, total);
        prop_assert_eq!(included, total.min(allowances[0].included_seconds));
        prop_assert_eq!(allowances[0].used_seconds, included);
        // Nothing of another metric is included.
        prop_assert!(rated
            .iter()
            .filter(|r| r.metric == Metric::AgentMinutes)
            .all(|r| r.included_seconds() == 0));
        // Call order: once a usage is charged anything, every later one is charged in full.
        let mut exhausted = false;
        for usage in rated.iter().filter(|r| r.metric == Metric::InboundMinutes) {
            if exhausted {
                prop_assert_eq!(usage.included_seconds(), 0);
            }
            exhausted |= usage.pieces.iter().any(|p| p.charged_seconds() > 0);
        }
    }

    #[test]
    fn any_permutation_of_the_records_gives_the_same_invoice(
        (specs, shuffled) in usage_specs(60).prop_flat_map(|specs| {
            let shuffled = Just(specs.clone()).prop_shuffle();
            (Just(specs), shuffled)
        }),
        seat_days in prop::collection::vec((0_i64..31, 1_i64..40), 0..6),
        increments in increments(),
        included_minutes in 0_u32..300,
    ) {
        let version = banded_version(increments, 0, included_minutes);
        let schedule = TariffSchedule::new(vec![version]).unwrap();
        let account = BillingAccount {
            currency: Currency::from_code("EUR").unwrap(),
            tax_rate: Some("0.2".parse().unwrap()),
            contract: ContractTerm { start: NaiveDate::from_ymd_opt(2025, 1, 1).unwrap(), end: None },
        };
        let period = BillingPeriod::new(
            NaiveDate::from_ymd_opt(2025, 3, 1).unwrap(),
            NaiveDate::from_ymd_opt(2025, 4, 1).unwrap(),
        ).unwrap();
        let ownership: Vec<Ownership> = seat_days
            .iter()
            .enumerate()
            .map(|(i, &(from_day, days))| Ownership {
                kind: RecurringKind::Seat,
                unit_id: Uuid::from_u128(i as u128 % 4),
                from: march_start() + Duration::days(from_day),
                until: Some(march_start() + Duration::days(from_day + days)),
            })
            .collect();
        let mut ownership_reversed = ownership.clone();
        ownership_reversed.reverse();
        let invoice = |specs: &[(i64, i64, bool)], ownership: &[Ownership]| {
            compute_invoice(&InvoiceInput {
                period,
                time_zone: ZONE,
                account: &account,
                schedule: &schedule,
                usages: &usages_from(specs),
                adjustments: &[],
                ownership,
            })
        };
        // Same ids for the same records: usages_from numbers by position, so renumber the
        // shuffled list by looking each record up in the original.
        let original = invoice(&specs, &ownership).unwrap();
        let permuted_usages = {
            let originals = usages_from(&specs);
            let mut used = vec![false; specs.len()];
            shuffled
                .iter()
                .map(|spec| {
                    let index = (0..specs.len())
                        .find(|&i| !used[i] && specs[i] == *spec)
                        .unwrap();
                    used[index] = true;
                    originals[index].clone()
                })
                .collect::<Vec<_>>()
        };
        let permuted = compute_invoice(&InvoiceInput {
            period,
            time_zone: ZONE,
            account: &account,
            schedule: &schedule,
            usages: &permuted_usages,
            adjustments: &[],
            ownership: &ownership_reversed,
        })
        .unwrap();
        prop_assert_eq!(&original.invoice, &permuted.invoice);
        prop_assert_eq!(original.rated, permuted.rated);
        // And the totals add up: subtotal = Σ lines, total = subtotal + tax.
        let lines: i64 = original.invoice.lines.iter().map(|l| l.amount.minor).sum();
        prop_assert_eq!(lines, original.invoice.subtotal.minor);
        prop_assert_eq!(
            original.invoice.subtotal.minor + original.invoice.tax.minor,
            original.invoice.total.minor
        );
    }
}
