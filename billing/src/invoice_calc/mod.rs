//! Invoice computation: a period's usages, late adjustments and holdings in, invoice lines and
//! totals out. Pure; the store persists and hashes what this returns, and `rerate` diffs it.
//!
//! Decisions:
//! - Every usage is rated by the version in effect on the local date its call started; a
//!   usage of a metric that version does not bill is not billed (each contract picks its
//!   metrics). A usage that started outside the period, or appears twice, is refused: the store
//!   routes late usages to adjustments and ingests each (call, leg, metric) once.
//! - The period's bundles are those of the version in effect on its first day (or, for a
//!   contract starting within it, of the first version to take effect); the bundle fee is
//!   charged whole for the period and the allowance is the whole allowance. Usages rated by a
//!   later version in the same period still consume it. See [`crate::rating::bundle`].
//! - Adjustments are usages of closed periods that arrived late, already rated and with their
//!   bundle share decided against the closed period's closing balance; they appear as lines
//!   marked `late`.
//! - Lines group what is charged alike: usage by (metric, band, tariff version), connect fees by
//!   (metric, version), included seconds by (metric, version), recurring fees by (fee, basis,
//!   version). A line's amount is computed from its summed quantity and rounded HALF_UP once;
//!   the subtotal is the sum of rounded lines, tax is the subtotal × rate rounded once.
//! - Output does not depend on input order: usages are sorted into call order for the bundle,
//!   lines are kept in a map ordered by (kind, version), and all sums are of integers.

mod line;

use std::collections::BTreeMap;

use chrono_tz::Tz;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::money::{Currency, Money, MoneyError, MAX_RATE_SCALE};
use crate::period::BillingPeriod;
use crate::rating::{
    apply_bundles, local_date, rate_by_schedule_on, BundleAllowance, RatedUsage, RatingError,
};
use crate::recurring::{recurring_charges, ChargeBasis, ContractTerm, DateOutOfRange, Ownership};
use crate::tariff::{TariffRef, TariffSchedule};
use crate::usage::{MeteredUsage, Metric};

pub use line::{InvoiceLine, LineKind, Quantity};

/// Who is billed and how: the billing account under a contract.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BillingAccount {
    pub currency: Currency,
    /// E.g. "0.20" for 20 % VAT; `None` when the account is not taxed here.
    #[serde(default, with = "rust_decimal::serde::str_option")]
    pub tax_rate: Option<Decimal>,
    pub contract: ContractTerm,
}

/// Everything an invoice is computed from.
#[derive(Clone, Copy, Debug)]
pub struct InvoiceInput<'a> {
    pub period: BillingPeriod,
    /// The tenant's zone: periods, bands and effective dates are local to it.
    pub time_zone: Tz,
    pub account: &'a BillingAccount,
    pub schedule: &'a TariffSchedule,
    /// The period's metered usages, in any order.
    pub usages: &'a [MeteredUsage],
    /// Late usages of closed periods, rated and bundle-applied (see module docs).
    pub adjustments: &'a [RatedUsage],
    /// Seats and numbers held, for recurring fees.
    pub ownership: &'a [Ownership],
}

/// An invoice as computed: comparable, serializable, ready to persist and hash.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ComputedInvoice {
    pub period: BillingPeriod,
    pub currency: Currency,
    pub lines: Vec<InvoiceLine>,
    pub subtotal: Money,
    #[serde(default, with = "rust_decimal::serde::str_option")]
    pub tax_rate: Option<Decimal>,
    pub tax: Money,
    pub total: Money,
    /// Each bundle's allowance and use at the period's end; late usages consume what is left.
    pub bundles: Vec<BundleAllowance>,
}

/// The invoice and the rated usages behind it (in call order, bundle shares set), which the
/// store keeps so every line can be traced to calls.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InvoiceComputation {
    pub invoice: ComputedInvoice,
    pub rated: Vec<RatedUsage>,
}

/// Why an invoice could not be computed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvoiceError {
    #[error(transparent)]
    Rating(#[from] RatingError),
    #[error(transparent)]
    Money(#[from] MoneyError),
    #[error(transparent)]
    Date(#[from] DateOutOfRange),
    #[error("tariff {tariff} is in {tariff_currency}, the account bills in {account_currency}")]
    CurrencyMismatch {
        tariff: TariffRef,
        tariff_currency: Currency,
        account_currency: Currency,
    },
    #[error("call {call_id} leg {leg} ({metric}) started on {started_on}, outside the period {start} .. {end}")]
    UsageOutsidePeriod {
        call_id: hotline_core::ids::CallId,
        leg: u16,
        metric: Metric,
        started_on: chrono::NaiveDate,
        start: chrono::NaiveDate,
        end: chrono::NaiveDate,
    },
    #[error("call {call_id} leg {leg} ({metric}) is in the input twice")]
    DuplicateUsage {
        call_id: hotline_core::ids::CallId,
        leg: u16,
        metric: Metric,
    },
    #[error("the tax rate must be between 0 and 1 with at most {MAX_RATE_SCALE} decimal places, got {0}")]
    InvalidTaxRate(Decimal),
}

/// Computes the invoice closing `input.period`.
pub fn compute_invoice(input: &InvoiceInput<'_>) -> Result<InvoiceComputation, InvoiceError> {
    let currency = input.account.currency;
    check_account(input.account)?;
    for version in input.schedule.versions() {
        if version.currency != currency {
            return Err(InvoiceError::CurrencyMismatch {
                tariff: version.reference(),
                tariff_currency: version.currency,
                account_currency: currency,
            });
        }
    }

    let mut rated = rate_period_usages(input)?;
    let bundle_version = input
        .schedule
        .in_effect_on_or_first_before(input.period.start, input.period.end)
        .filter(|_| input.account.contract.start < input.period.end);
    let mut allowances: Vec<BundleAllowance> = bundle_version
        .map(|version| {
            version
                .bundles
                .iter()
                .map(|bundle| BundleAllowance {
                    metric: bundle.metric,
                    tariff: version.reference(),
                    included_seconds: bundle.included_seconds(),
                    used_seconds: 0,
                })
                .collect()
        })
        .unwrap_or_default();
    apply_bundles(&mut rated, &mut allowances)?;

    let mut lines = LineBook::new(input.schedule, currency);
    for charge in recurring_charges(
        &input.period,
        &input.account.contract,
        input.schedule,
        input.ownership,
        input.time_zone,
    )? {
        let kind = match charge.basis {
            ChargeBasis::InAdvance => LineKind::RecurringInAdvance { fee: charge.kind },
            ChargeBasis::Prorated => LineKind::RecurringProrated { fee: charge.kind },
        };
        lines.add(
            kind,
            charge.tariff,
            charge.price_per_period,
            charge.quantity,
        )?;
    }
    if let Some(version) = bundle_version {
        for bundle in &version.bundles {
            let kind = LineKind::BundleFee {
                metric: bundle.metric,
            };
            let quantity = Quantity::Count { count: 1 };
            lines.add(kind, version.reference(), bundle.period_fee, quantity)?;
        }
    }
    for usage in &rated {
        lines.add_usage(usage, false)?;
    }
    for usage in input.adjustments {
        lines.add_usage(usage, true)?;
    }

    let lines = lines.into_lines()?;
    let subtotal = lines.iter().try_fold(Money::zero(currency), |sum, line| {
        sum.checked_add(line.amount)
    })?;
    let tax = match input.account.tax_rate {
        Some(rate) => {
            let exact = subtotal
                .to_major()
                .checked_mul(rate)
                .ok_or(MoneyError::Overflow)?;
            Money::from_major_rounded(exact, currency)?
        }
        None => Money::zero(currency),
    };
    let total = subtotal.checked_add(tax)?;
    Ok(InvoiceComputation {
        invoice: ComputedInvoice {
            period: input.period,
            currency,
            lines,
            subtotal,
            tax_rate: input.account.tax_rate,
            tax,
            total,
            bundles: allowances,
        },
        rated,
    })
}

fn check_account(account: &BillingAccount) -> Result<(), InvoiceError> {
    if let Some(rate) = account.tax_rate {
        let in_range = !rate.is_sign_negative() || rate.is_zero();
        if !in_range || rate > Decimal::ONE || rate.normalize().scale() > MAX_RATE_SCALE {
            return Err(InvoiceError::InvalidTaxRate(rate));
        }
    }
    Ok(())
}

/// Rates the period's usages, refusing ones outside the period or given twice, and leaving out
/// metrics the version in effect does not bill.
fn rate_period_usages(input: &InvoiceInput<'_>) -> Result<Vec<RatedUsage>, InvoiceError> {
    let mut rated = Vec::with_capacity(input.usages.len());
    for usage in input.usages {
        let started_on = local_date(usage, input.time_zone)?;
        if !input.period.contains(started_on) {
            return Err(outside_period(usage, started_on, &input.period));
        }
        match rate_by_schedule_on(usage, input.schedule, input.time_zone, started_on) {
            Ok(rated_usage) => rated.push(rated_usage),
            Err(RatingError::MetricNotPriced { .. }) => {}
            Err(other) => return Err(other.into()),
        }
    }
    rated.sort_by_key(|u| u.consumption_key());
    if let Some(pair) = rated
        .windows(2)
        .find(|pair| pair[0].consumption_key() == pair[1].consumption_key())
    {
        return Err(InvoiceError::DuplicateUsage {
            call_id: pair[1].call_id,
            leg: pair[1].leg,
            metric: pair[1].metric,
        });
    }
    Ok(rated)
}

fn outside_period(
    usage: &MeteredUsage,
    started_on: chrono::NaiveDate,
    period: &BillingPeriod,
) -> InvoiceError {
    InvoiceError::UsageOutsidePeriod {
        call_id: usage.call_id,
        leg: usage.leg,
        metric: usage.metric,
        started_on,
        start: period.start,
        end: period.end,
    }
}

/// Lines being summed: quantity per (kind, version), with the unit price, in invoice order.
struct LineBook<'a> {
    schedule: &'a TariffSchedule,
    currency: Currency,
    entries: BTreeMap<(LineKind, TariffRef), (Decimal, Quantity)>,
}

impl<'a> LineBook<'a> {
    fn new(schedule: &'a TariffSchedule, currency: Currency) -> Self {
        Self {
            schedule,
            currency,
            entries: BTreeMap::new(),
        }
    }

    fn add(
        &mut self,
        kind: LineKind,
        tariff: TariffRef,
        unit_price: Decimal,
        quantity: Quantity,
    ) -> Result<(), MoneyError> {
        match self.entries.get_mut(&(kind, tariff)) {
            Some((_, existing)) => {
                *existing = add_quantities(*existing, quantity).ok_or(MoneyError::Overflow)?
            }
            None => {
                self.entries.insert((kind, tariff), (unit_price, quantity));
            }
        }
        Ok(())
    }

    fn add_usage(&mut self, usage: &RatedUsage, late: bool) -> Result<(), MoneyError> {
        let metric = usage.metric;
        if !usage.connect_fee.is_zero() {
            let kind = LineKind::ConnectFee { metric, late };
            let quantity = Quantity::Count { count: 1 };
            self.add(kind, usage.tariff, usage.connect_fee, quantity)?;
        }
        for piece in &usage.pieces {
            if piece.included_seconds > 0 {
                let kind = LineKind::IncludedUsage { metric, late };
                let seconds = u64::from(piece.included_seconds);
                self.add(
                    kind,
                    piece.tariff,
                    Decimal::ZERO,
                    Quantity::Seconds { seconds },
                )?;
            }
            if piece.charged_seconds() > 0 {
                let band = piece.band;
                let kind = LineKind::Usage { metric, band, late };
                let seconds = u64::from(piece.charged_seconds());
                self.add(
                    kind,
                    piece.tariff,
                    piece.rate_per_minute,
                    Quantity::Seconds { seconds },
                )?;
            }
        }
        Ok(())
    }

    fn into_lines(self) -> Result<Vec<InvoiceLine>, MoneyError> {
        let Self {
            schedule,
            currency,
            entries,
        } = self;
        entries
            .into_iter()
            .map(|((kind, tariff), (unit_price, quantity))| {
                let description = describe(kind, tariff, quantity, schedule);
                InvoiceLine::priced(kind, description, quantity, unit_price, tariff, currency)
            })
            .collect()
    }
}

fn add_quantities(a: Quantity, b: Quantity) -> Option<Quantity> {
    match (a, b) {
        (Quantity::Seconds { seconds: x }, Quantity::Seconds { seconds: y }) => {
            Some(Quantity::Seconds {
                seconds: x.checked_add(y)?,
            })
        }
        (Quantity::Count { count: x }, Quantity::Count { count: y }) => Some(Quantity::Count {
            count: x.checked_add(y)?,
        }),
        (
            Quantity::Days {
                days: x,
                period_days,
            },
            Quantity::Days { days: y, .. },
        ) => Some(Quantity::Days {
            days: x.checked_add(y)?,
            period_days,
        }),
        _ => None,
    }
}

/// The text printed on the line; the figures are in the line's own fields.
fn describe(
    kind: LineKind,
    tariff: TariffRef,
    quantity: Quantity,
    schedule: &TariffSchedule,
) -> String {
    let late_prefix = |late: bool| {
        if late {
            "Late usage of a closed period: "
        } else {
            ""
        }
    };
    match kind {
        LineKind::RecurringInAdvance { fee } => format!("{fee}, next period in advance"),
        LineKind::RecurringProrated { fee } => match quantity {
            Quantity::Days { days, period_days } => {
                format!("{fee}, prorated: {days} unit-days of a {period_days}-day period")
            }
            _ => format!("{fee}, prorated"),
        },
        LineKind::BundleFee { metric } => format!("{metric}: bundle fee"),
        LineKind::IncludedUsage { metric, late } => {
            format!("{}{metric} included in the bundle", late_prefix(late))
        }
        LineKind::Usage { metric, band, late } => {
            let band_name = band.and_then(|index| {
                schedule
                    .versions()
                    .iter()
                    .find(|v| v.reference() == tariff)
                    .and_then(|v| v.price(metric))
                    .and_then(|p| p.bands.get(usize::from(index)))
                    .map(|b| b.name.clone())
            });
            match band_name {
                Some(name) => format!("{}{metric}, {name}", late_prefix(late)),
                None if band.is_some() => format!("{}{metric}, band", late_prefix(late)),
                None => format!("{}{metric}", late_prefix(late)),
            }
        }
        LineKind::ConnectFee { metric, late } => {
            format!("{}{metric}: connect fees", late_prefix(late))
        }
    }
}
