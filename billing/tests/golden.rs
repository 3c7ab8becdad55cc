//! Golden invoices: each test states a contract and its calls, writes the arithmetic out in
//! comments, and checks the computed lines and totals against it.

use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;
use hotline_billing::invoice_calc::{
    compute_invoice, BillingAccount, ComputedInvoice, InvoiceComputation, InvoiceInput, LineKind,
    Quantity,
};
use hotline_billing::money::{Currency, Money};
use hotline_billing::period::BillingPeriod;
use hotline_billing::rating::{apply_bundles, rate_by_schedule, BundleAllowance, RatedUsage};
use hotline_billing::recurring::{ContractTerm, Ownership};
use hotline_billing::tariff::{RecurringKind, TariffId, TariffSchedule, TariffVersion};
use hotline_billing::usage::{MeteredUsage, Metric};
use hotline_core::ids::CallId;
use rust_decimal::Decimal;
use serde_json::json;
use uuid::Uuid;

const BRATISLAVA: Tz = chrono_tz::Europe::Bratislava;

fn dec(text: &str) -> Decimal {
    text.parse().unwrap()
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

fn local(tz: Tz, text: &str) -> DateTime<Utc> {
    let naive = NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S").unwrap();
    tz.from_local_datetime(&naive)
        .single()
        .unwrap()
        .with_timezone(&Utc)
}

/// A usage starting at local `start` and lasting `millis`.
fn call(metric: Metric, tz: Tz, start: &str, millis: i64) -> MeteredUsage {
    let started_at = local(tz, start);
    MeteredUsage {
        call_id: CallId::new(),
        leg: 0,
        metric,
        started_at,
        ended_at: started_at + Duration::milliseconds(millis),
    }
}

fn version(tariff_id: TariffId, body: serde_json::Value) -> TariffVersion {
    let mut value = body;
    value["tariff_id"] = json!(tariff_id);
    serde_json::from_value(value).unwrap()
}

fn account(currency: &str, tax_rate: Option<&str>, contract_start: NaiveDate) -> BillingAccount {
    BillingAccount {
        currency: Currency::from_code(currency).unwrap(),
        tax_rate: tax_rate.map(dec),
        contract: ContractTerm {
            start: contract_start,
            end: None,
        },
    }
}

struct Case<'a> {
    period: BillingPeriod,
    tz: Tz,
    account: BillingAccount,
    schedule: TariffSchedule,
    usages: Vec<MeteredUsage>,
    adjustments: Vec<RatedUsage>,
    ownership: &'a [Ownership],
}

impl Case<'_> {
    fn compute(&self) -> InvoiceComputation {
        compute_invoice(&InvoiceInput {
            period: self.period,
            time_zone: self.tz,
            account: &self.account,
            schedule: &self.schedule,
            usages: &self.usages,
            adjustments: &self.adjustments,
            ownership: self.ownership,
        })
        .unwrap()
    }
}

fn march_2025() -> BillingPeriod {
    BillingPeriod::new(date(2025, 3, 1), date(2025, 4, 1)).unwrap()
}

/// (kind, quantity, unit price, amount in minor units) of every line, for compact assertions.
fn summary(invoice: &ComputedInvoice) -> Vec<(LineKind, Quantity, Decimal, i64)> {
    invoice
        .lines
        .iter()
        .map(|l| (l.kind, l.quantity, l.unit_price, l.amount.minor))
        .collect()
}

fn seconds(seconds: u64) -> Quantity {
    Quantity::Seconds { seconds }
}

fn count(count: u64) -> Quantity {
    Quantity::Count { count }
}

#[test]
fn bundle_of_3000_minutes_with_overage_at_60_60() {
    let tariff = TariffId::new();
    let v1 = version(
        tariff,
        json!({
            "version": 1, "effective_from": "2025-01-01", "currency": "EUR",
            "metrics": [{
                "metric": "inbound_minutes", "rate_per_minute": "0.04",
                "increments": {"first_seconds": 60, "next_seconds": 60}
            }],
            "bundles": [{"metric": "inbound_minutes", "included_minutes": 3000, "period_fee": "99.00"}]
        }),
    );
    // 49 calls of exactly 60:00 → 49 × 60 = 2,940 billable minutes, all included.
    let mut usages: Vec<MeteredUsage> = (0..49)
        .map(|day| {
            let start = format!("2025-03-{:02} 09:00:00", 1 + day % 28);
            let mut usage = call(Metric::InboundMinutes, BRATISLAVA, &start, 3_600_000);
            usage.started_at += Duration::hours(i64::from(day / 28) * 2);
            usage.ended_at += Duration::hours(i64::from(day / 28) * 2);
            usage
        })
        .collect();
    // Call 50, on the 29th: 1:40:30 → 6,030 s → 60/60 → 101 min. 3,000 − 2,940 = 60 min are
    // left in the bundle: 60 min included, 41 min overage.
    usages.push(call(
        Metric::InboundMinutes,
        BRATISLAVA,
        "2025-03-29 10:00:00",
        6_030_000,
    ));
    // Call 51, on the 30th: 0:45 → 1 min, all overage.
    usages.push(call(
        Metric::InboundMinutes,
        BRATISLAVA,
        "2025-03-30 10:00:00",
        45_000,
    ));
    // Agent minutes are not priced by this contract: not billed.
    usages.push(call(
        Metric::AgentMinutes,
        BRATISLAVA,
        "2025-03-30 10:00:00",
        45_000,
    ));

    let case = Case {
        period: march_2025(),
        tz: BRATISLAVA,
        account: account("EUR", None, date(2025, 1, 1)),
        schedule: TariffSchedule::new(vec![v1.clone()]).unwrap(),
        usages,
        adjustments: vec![],
        ownership: &[],
    };
    let InvoiceComputation { invoice, rated } = case.compute();

    let inbound = Metric::InboundMinutes;
    // Bundle fee 99.00; included 3,000 min = 180,000 s at 0; overage 41 + 1 = 42 min = 2,520 s
    // × 0.04 / 60 = 1.68. Subtotal 99.00 + 1.68 = 100.68.
    assert_eq!(
        summary(&invoice),
        vec![
            (
                LineKind::BundleFee { metric: inbound },
                count(1),
                dec("99.00"),
                9900
            ),
            (
                LineKind::IncludedUsage {
                    metric: inbound,
                    late: false
                },
                seconds(180_000),
                Decimal::ZERO,
                0
            ),
            (
                LineKind::Usage {
                    metric: inbound,
                    band: None,
                    late: false
                },
                seconds(2_520),
                dec("0.04"),
                168
            ),
        ]
    );
    assert_eq!(invoice.subtotal.minor, 10_068);
    assert_eq!(invoice.tax.minor, 0);
    assert_eq!(invoice.total.minor, 10_068);
    assert!(invoice.lines.iter().all(|l| l.tariff == v1.reference()));
    assert_eq!(
        invoice.bundles,
        vec![BundleAllowance {
            metric: inbound,
            tariff: v1.reference(),
            included_seconds: 180_000,
            used_seconds: 180_000,
        }]
    );
    // The crossing call is split: 3,600 s included, 2,460 s (41 min) charged = 1.64.
    let crossing = &rated[49];
    assert_eq!(crossing.billable_seconds, 6_060);
    assert_eq!(crossing.pieces[0].included_seconds, 3_600);
    assert_eq!(crossing.pieces[0].charged_seconds(), 2_460);
    assert_eq!(crossing.pieces[0].amount, dec("1.64"));
}

#[test]
fn thirty_six_increments_with_connect_fee_and_tax() {
    let tariff = TariffId::new();
    let v1 = version(
        tariff,
        json!({
            "version": 1, "effective_from": "2025-01-01", "currency": "EUR",
            "metrics": [{
                "metric": "outbound_minutes", "rate_per_minute": "0.06",
                "increments": {"first_seconds": 30, "next_seconds": 6},
                "connect_fee": "0.10"
            }]
        }),
    );
    let out = Metric::OutboundMinutes;
    let usages = vec![
        // 12 s → the first 30 s block: 30 s.
        call(out, BRATISLAVA, "2025-03-03 10:00:00", 12_000),
        // 31 s → 30 + 1 started 6 s block: 36 s.
        call(out, BRATISLAVA, "2025-03-03 11:00:00", 31_000),
        // 95 s → 30 + ⌈65 / 6⌉ = 11 blocks × 6 = 66: 96 s.
        call(out, BRATISLAVA, "2025-03-03 12:00:00", 95_000),
        // 400 ms → 1 started second → 30 s.
        call(out, BRATISLAVA, "2025-03-03 13:00:00", 400),
    ];
    let case = Case {
        period: march_2025(),
        tz: BRATISLAVA,
        account: account("EUR", Some("0.20"), date(2025, 1, 1)),
        schedule: TariffSchedule::new(vec![v1]).unwrap(),
        usages,
        adjustments: vec![],
        ownership: &[],
    };
    let InvoiceComputation { invoice, rated } = case.compute();
    let billable: Vec<u32> = rated.iter().map(|r| r.billable_seconds).collect();
    assert_eq!(billable, vec![30, 36, 96, 30]);
    // Usage: 30 + 36 + 96 + 30 = 192 s × 0.06 / 60 = 0.192 → 0.19.
    // Connect fees: 4 × 0.10 = 0.40.
    // Subtotal 0.59; tax 20 % = 0.118 → 0.12; total 0.71.
    assert_eq!(
        summary(&invoice),
        vec![
            (
                LineKind::Usage {
                    metric: out,
                    band: None,
                    late: false
                },
                seconds(192),
                dec("0.06"),
                19
            ),
            (
                LineKind::ConnectFee {
                    metric: out,
                    late: false
                },
                count(4),
                dec("0.10"),
                40
            ),
        ]
    );
    assert_eq!(
        (
            invoice.subtotal.minor,
            invoice.tax.minor,
            invoice.total.minor
        ),
        (59, 12, 71)
    );
}

#[test]
fn call_crossing_a_time_of_day_band_is_split_and_rounding_goes_to_the_last_band() {
    let tariff = TariffId::new();
    let v1 = version(
        tariff,
        json!({
            "version": 1, "effective_from": "2025-01-01", "currency": "EUR",
            "metrics": [{
                "metric": "inbound_minutes", "rate_per_minute": "0.02",
                "increments": {"first_seconds": 60, "next_seconds": 60},
                "bands": [{
                    "name": "Peak", "days": ["Mon", "Tue", "Wed", "Thu", "Fri"],
                    "from": "08:00", "until": "18:00", "rate_per_minute": "0.05"
                }]
            }]
        }),
    );
    // Monday 2025-03-03, 17:58:30 → 18:01:10 local (CET): 160 s measured → 60/60 → 180 s.
    // Peak 17:58:30–18:00:00 = 90 s; off-peak 18:00:00–18:01:10 = 70 s, plus the 20 s the
    // increments add, in the band the call ended in: 90 s.
    let usages = vec![call(
        Metric::InboundMinutes,
        BRATISLAVA,
        "2025-03-03 17:58:30",
        160_000,
    )];
    let case = Case {
        period: march_2025(),
        tz: BRATISLAVA,
        account: account("EUR", None, date(2025, 1, 1)),
        schedule: TariffSchedule::new(vec![v1]).unwrap(),
        usages,
        adjustments: vec![],
        ownership: &[],
    };
    let InvoiceComputation { invoice, rated } = case.compute();
    let pieces: Vec<(Option<u16>, u32)> = rated[0]
        .pieces
        .iter()
        .map(|p| (p.band, p.seconds))
        .collect();
    assert_eq!(pieces, vec![(Some(0), 90), (None, 90)]);
    assert_eq!(rated[0].billable_seconds, 180);
    let inbound = Metric::InboundMinutes;
    // Off-peak (base rate lines come before band lines): 90 s × 0.02 / 60 = 0.03.
    // Peak: 90 s × 0.05 / 60 = 0.075 → 0.08. Total 0.11.
    assert_eq!(
        summary(&invoice),
        vec![
            (
                LineKind::Usage {
                    metric: inbound,
                    band: None,
                    late: false
                },
                seconds(90),
                dec("0.02"),
                3
            ),
            (
                LineKind::Usage {
                    metric: inbound,
                    band: Some(0),
                    late: false
                },
                seconds(90),
                dec("0.05"),
                8
            ),
        ]
    );
    assert_eq!(invoice.lines[1].description, "Inbound minutes, Peak");
    assert_eq!(invoice.total.minor, 11);
}

#[test]
fn seats_added_mid_month_are_prorated_by_day_and_next_month_billed_in_advance() {
    let tariff = TariffId::new();
    let v1 = version(
        tariff,
        json!({
            "version": 1, "effective_from": "2025-01-01", "currency": "EUR",
            "recurring": [
                {"kind": "seat", "price_per_period": "29.99"},
                {"kind": "number", "price_per_period": "5.00"},
                {"kind": "platform", "price_per_period": "50.00"}
            ]
        }),
    );
    let (a, b, c, d, n1) = (
        Uuid::now_v7(),
        Uuid::now_v7(),
        Uuid::now_v7(),
        Uuid::now_v7(),
        Uuid::now_v7(),
    );
    let tz = BRATISLAVA;
    let held = |kind, unit, from: &str, until: Option<&str>| Ownership {
        kind,
        unit_id: unit,
        from: local(tz, from),
        until: until.map(|u| local(tz, u)),
    };
    let ownership = [
        // A: since January, still held. B: since January, released 10 April (paid in advance,
        // no refund). Neither adds prorated days in April.
        held(RecurringKind::Seat, a, "2025-01-01 00:00:00", None),
        held(
            RecurringKind::Seat,
            b,
            "2025-01-01 00:00:00",
            Some("2025-04-10 12:00:00"),
        ),
        // C: added 16 April 10:00 → days 16..30 = 15 seat-days.
        held(RecurringKind::Seat, c, "2025-04-16 10:00:00", None),
        // D: 21 April to 25 April 12:00 → days 21, 22, 23, 24, 25 = 5 seat-days.
        held(
            RecurringKind::Seat,
            d,
            "2025-04-21 09:00:00",
            Some("2025-04-25 12:00:00"),
        ),
        held(RecurringKind::Number, n1, "2025-01-01 00:00:00", None),
    ];
    let case = Case {
        period: BillingPeriod::new(date(2025, 4, 1), date(2025, 5, 1)).unwrap(),
        tz,
        account: account("EUR", None, date(2025, 1, 1)),
        schedule: TariffSchedule::new(vec![v1]).unwrap(),
        usages: vec![],
        adjustments: vec![],
        ownership: &ownership,
    };
    let invoice = case.compute().invoice;
    // In advance for May, held at 1 May 00:00: seats A and C: 2 × 29.99 = 59.98; number N1:
    // 5.00; platform: 50.00.
    // Prorated April (30 days): 15 + 5 = 20 seat-days × 29.99 / 30 = 19.99333… → 19.99.
    // Total 59.98 + 5.00 + 50.00 + 19.99 = 134.97.
    let seat = RecurringKind::Seat;
    assert_eq!(
        summary(&invoice),
        vec![
            (
                LineKind::RecurringInAdvance { fee: seat },
                count(2),
                dec("29.99"),
                5998
            ),
            (
                LineKind::RecurringInAdvance {
                    fee: RecurringKind::Number
                },
                count(1),
                dec("5.00"),
                500
            ),
            (
                LineKind::RecurringInAdvance {
                    fee: RecurringKind::Platform
                },
                count(1),
                dec("50.00"),
                5000
            ),
            (
                LineKind::RecurringProrated { fee: seat },
                Quantity::Days {
                    days: 20,
                    period_days: 30
                },
                dec("29.99"),
                1999
            ),
        ]
    );
    assert_eq!(invoice.total.minor, 13_497);
}

#[test]
fn first_period_of_a_contract_starting_mid_month_prorates_the_platform_fee() {
    let v1 = version(
        TariffId::new(),
        json!({
            "version": 1, "effective_from": "2025-04-11", "currency": "EUR",
            "recurring": [{"kind": "platform", "price_per_period": "50.00"}]
        }),
    );
    let case = Case {
        period: BillingPeriod::new(date(2025, 4, 1), date(2025, 5, 1)).unwrap(),
        tz: BRATISLAVA,
        account: account("EUR", None, date(2025, 4, 11)),
        schedule: TariffSchedule::new(vec![v1]).unwrap(),
        usages: vec![],
        adjustments: vec![],
        ownership: &[],
    };
    let invoice = case.compute().invoice;
    // Contract from 11 April: days 11..30 = 20 days × 50.00 / 30 = 33.333… → 33.33; May in
    // advance: 50.00. Total 83.33.
    let platform = RecurringKind::Platform;
    assert_eq!(
        summary(&invoice),
        vec![
            (
                LineKind::RecurringInAdvance { fee: platform },
                count(1),
                dec("50.00"),
                5000
            ),
            (
                LineKind::RecurringProrated { fee: platform },
                Quantity::Days {
                    days: 20,
                    period_days: 30
                },
                dec("50.00"),
                3333
            ),
        ]
    );
    assert_eq!(invoice.total.minor, 8333);
}

#[test]
fn jpy_account_has_no_minor_digits() {
    let tokyo: Tz = chrono_tz::Asia::Tokyo;
    let v1 = version(
        TariffId::new(),
        json!({
            "version": 1, "effective_from": "2025-01-01", "currency": "JPY",
            "metrics": [{
                "metric": "inbound_minutes", "rate_per_minute": "3.3",
                "increments": {"first_seconds": 1, "next_seconds": 1},
                "connect_fee": "10"
            }]
        }),
    );
    let usages = vec![
        call(Metric::InboundMinutes, tokyo, "2025-03-10 09:00:00", 80_000),
        call(Metric::InboundMinutes, tokyo, "2025-03-11 09:00:00", 44_100),
    ];
    let case = Case {
        period: march_2025(),
        tz: tokyo,
        account: account("JPY", Some("0.10"), date(2025, 1, 1)),
        schedule: TariffSchedule::new(vec![v1]).unwrap(),
        usages,
        adjustments: vec![],
        ownership: &[],
    };
    let invoice = case.compute().invoice;
    // Usage 80 s + 45 s (44.1 s → 45 started seconds) = 125 s × 3.3 / 60 = 6.875 → ¥7.
    // Connect fees 2 × ¥10 = ¥20. Subtotal ¥27; tax 10 % = 2.7 → ¥3; total ¥30.
    let inbound = Metric::InboundMinutes;
    assert_eq!(
        summary(&invoice),
        vec![
            (
                LineKind::Usage {
                    metric: inbound,
                    band: None,
                    late: false
                },
                seconds(125),
                dec("3.3"),
                7
            ),
            (
                LineKind::ConnectFee {
                    metric: inbound,
                    late: false
                },
                count(2),
                dec("10"),
                20
            ),
        ]
    );
    let jpy = Currency::from_code("JPY").unwrap();
    assert_eq!(
        invoice.subtotal,
        Money {
            minor: 27,
            currency: jpy
        }
    );
    assert_eq!(
        invoice.tax,
        Money {
            minor: 3,
            currency: jpy
        }
    );
    assert_eq!(
        invoice.total,
        Money {
            minor: 30,
            currency: jpy
        }
    );
}

#[test]
fn rounding_exactly_at_half_a_minor_unit_goes_up_where_bankers_rounding_goes_down() {
    let v1 = version(
        TariffId::new(),
        json!({
            "version": 1, "effective_from": "2025-01-01", "currency": "EUR",
            "metrics": [{
                "metric": "ivr_minutes", "rate_per_minute": "0.025",
                "increments": {"first_seconds": 60, "next_seconds": 60}
            }],
            "bundles": [{"metric": "ivr_minutes", "included_minutes": 0, "period_fee": "1.12"}]
        }),
    );
    let usages: Vec<MeteredUsage> = (1..=5)
        .map(|day| {
            let start = format!("2025-03-{day:02} 12:00:00");
            call(Metric::IvrMinutes, BRATISLAVA, &start, 60_000)
        })
        .collect();
    let case = Case {
        period: march_2025(),
        tz: BRATISLAVA,
        account: account("EUR", Some("0.1"), date(2025, 1, 1)),
        schedule: TariffSchedule::new(vec![v1]).unwrap(),
        usages,
        adjustments: vec![],
        ownership: &[],
    };
    let invoice = case.compute().invoice;
    // Usage: 5 × 60 s = 300 s × 0.025 / 60 = 0.125 exactly → HALF_UP 0.13 (banker's: 0.12).
    // Subtotal 1.12 + 0.13 = 1.25; tax 10 % = 0.125 exactly → 0.13 (banker's: 0.12).
    // Total 1.38.
    assert_eq!(
        dec("0.125").round_dp(2),
        dec("0.12"),
        "banker's rounding would differ"
    );
    let usage_line = invoice
        .lines
        .iter()
        .find(|l| matches!(l.kind, LineKind::Usage { .. }))
        .unwrap();
    assert_eq!(usage_line.quantity, seconds(300));
    assert_eq!(usage_line.amount.minor, 13);
    assert_eq!(
        (
            invoice.subtotal.minor,
            invoice.tax.minor,
            invoice.total.minor
        ),
        (125, 13, 138)
    );
}

#[test]
fn three_decimal_currency_rounds_half_up_at_the_fils() {
    let kuwait: Tz = chrono_tz::Asia::Kuwait;
    let v1 = version(
        TariffId::new(),
        json!({
            "version": 1, "effective_from": "2025-01-01", "currency": "KWD",
            "metrics": [{
                "metric": "agent_minutes", "rate_per_minute": "0.0025",
                "increments": {"first_seconds": 60, "next_seconds": 60}
            }]
        }),
    );
    // 5 min × 0.0025 = 0.0125 KWD exactly → 0.013 (12.5 fils up to 13; banker's: 12).
    let usages = vec![call(
        Metric::AgentMinutes,
        kuwait,
        "2025-03-05 10:00:00",
        300_000,
    )];
    let case = Case {
        period: march_2025(),
        tz: kuwait,
        account: account("KWD", None, date(2025, 1, 1)),
        schedule: TariffSchedule::new(vec![v1]).unwrap(),
        usages,
        adjustments: vec![],
        ownership: &[],
    };
    assert_eq!(case.compute().invoice.total.minor, 13);
}

#[test]
fn price_change_takes_effect_at_its_date_and_each_line_names_its_version() {
    let tariff = TariffId::new();
    let price = |version: u32, from: &str, rate: &str| {
        self::version(
            tariff,
            json!({
                "version": version, "effective_from": from, "currency": "EUR",
                "metrics": [{
                    "metric": "inbound_minutes", "rate_per_minute": rate,
                    "increments": {"first_seconds": 60, "next_seconds": 60}
                }]
            }),
        )
    };
    let (v1, v2) = (
        price(1, "2025-01-01", "0.04"),
        price(2, "2025-03-16", "0.03"),
    );
    let usages = vec![
        // 15 March 23:59:30 local: still v1 (the call started before the change), 2 min.
        call(
            Metric::InboundMinutes,
            BRATISLAVA,
            "2025-03-15 23:59:30",
            90_000,
        ),
        // 16 March: v2, 10 min.
        call(
            Metric::InboundMinutes,
            BRATISLAVA,
            "2025-03-16 10:00:00",
            600_000,
        ),
    ];
    let case = Case {
        period: march_2025(),
        tz: BRATISLAVA,
        account: account("EUR", None, date(2025, 1, 1)),
        schedule: TariffSchedule::new(vec![v2.clone(), v1.clone()]).unwrap(),
        usages,
        adjustments: vec![],
        ownership: &[],
    };
    let invoice = case.compute().invoice;
    // v1: 120 s × 0.04 / 60 = 0.08. v2: 600 s × 0.03 / 60 = 0.30. Total 0.38.
    let tariffs: Vec<_> = invoice
        .lines
        .iter()
        .map(|l| (l.tariff, l.amount.minor))
        .collect();
    assert_eq!(tariffs, vec![(v1.reference(), 8), (v2.reference(), 30)]);
    assert_eq!(invoice.total.minor, 38);
}

#[test]
fn late_usage_of_a_closed_period_uses_what_its_bundle_left_and_lands_as_an_adjustment() {
    let tariff = TariffId::new();
    let v1 = version(
        tariff,
        json!({
            "version": 1, "effective_from": "2025-01-01", "currency": "EUR",
            "metrics": [{
                "metric": "inbound_minutes", "rate_per_minute": "0.04",
                "increments": {"first_seconds": 60, "next_seconds": 60}
            }],
            "bundles": [{"metric": "inbound_minutes", "included_minutes": 100, "period_fee": "10.00"}]
        }),
    );
    let schedule = TariffSchedule::new(vec![v1.clone()]).unwrap();
    // February closed with 5,970 of 6,000 included seconds used: 30 s left.
    let mut february_closing = [BundleAllowance {
        metric: Metric::InboundMinutes,
        tariff: v1.reference(),
        included_seconds: 6_000,
        used_seconds: 5_970,
    }];
    // A February call arrives in March: 1:30 → 60/60 → 120 s: 30 s included, 90 s charged.
    let late = call(
        Metric::InboundMinutes,
        BRATISLAVA,
        "2025-02-27 15:00:00",
        90_000,
    );
    let mut adjustments = vec![rate_by_schedule(&late, &schedule, BRATISLAVA).unwrap()];
    apply_bundles(&mut adjustments, &mut february_closing).unwrap();
    assert_eq!(february_closing[0].remaining_seconds(), 0);

    let case = Case {
        period: march_2025(),
        tz: BRATISLAVA,
        account: account("EUR", None, date(2025, 1, 1)),
        schedule,
        usages: vec![],
        adjustments,
        ownership: &[],
    };
    let invoice = case.compute().invoice;
    let inbound = Metric::InboundMinutes;
    // March: bundle fee 10.00 (no March usage); late: 30 s included, 90 s × 0.04 / 60 = 0.06.
    assert_eq!(
        summary(&invoice),
        vec![
            (
                LineKind::BundleFee { metric: inbound },
                count(1),
                dec("10.00"),
                1000
            ),
            (
                LineKind::IncludedUsage {
                    metric: inbound,
                    late: true
                },
                seconds(30),
                Decimal::ZERO,
                0
            ),
            (
                LineKind::Usage {
                    metric: inbound,
                    band: None,
                    late: true
                },
                seconds(90),
                dec("0.04"),
                6
            ),
        ]
    );
    assert_eq!(invoice.total.minor, 1006);
    assert!(invoice.lines[2].description.starts_with("Late usage"));
}

#[test]
fn invoice_round_trips_through_json() {
    let v1 = version(
        TariffId::new(),
        json!({
            "version": 1, "effective_from": "2025-01-01", "currency": "EUR",
            "metrics": [{
                "metric": "inbound_minutes", "rate_per_minute": "0.123456789",
                "increments": {"first_seconds": 30, "next_seconds": 6}, "connect_fee": "0.05"
            }]
        }),
    );
    let case = Case {
        period: march_2025(),
        tz: BRATISLAVA,
        account: account("EUR", Some("0.2"), date(2025, 1, 1)),
        schedule: TariffSchedule::new(vec![v1]).unwrap(),
        usages: vec![call(
            Metric::InboundMinutes,
            BRATISLAVA,
            "2025-03-03 10:00:00",
            61_000,
        )],
        adjustments: vec![],
        ownership: &[],
    };
    let invoice = case.compute().invoice;
    let text = serde_json::to_string(&invoice).unwrap();
    assert!(text.contains(r#""unit_price":"0.123456789""#), "{text}");
    let back: ComputedInvoice = serde_json::from_str(&text).unwrap();
    assert_eq!(back, invoice);
}
