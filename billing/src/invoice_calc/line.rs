//! Invoice lines: what was charged, how much of it, at what unit price, under which tariff
//! version — and the one formula from those to the rounded amount.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::money::{Currency, Money, MoneyError};
use crate::tariff::{RecurringKind, TariffRef};
use crate::usage::Metric;

const SECONDS_PER_MINUTE: Decimal = Decimal::from_parts(60, 0, 0, false, 0);

/// What a line charges. The derived order is the order lines appear on an invoice.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum LineKind {
    /// Fixed fees for the next period, billed in advance.
    RecurringInAdvance { fee: RecurringKind },
    /// Days of this period not yet billed in advance (added mid-period, first period).
    RecurringProrated { fee: RecurringKind },
    /// The fixed fee of a bundle of included minutes for this period.
    BundleFee { metric: Metric },
    /// Seconds covered by a bundle (price 0, shown so the client sees its consumption).
    IncludedUsage { metric: Metric, late: bool },
    /// Seconds charged per minute; `band` indexes the metric's bands in the line's tariff.
    Usage {
        metric: Metric,
        band: Option<u16>,
        late: bool,
    },
    /// Connect fees, one per usage.
    ConnectFee { metric: Metric, late: bool },
}

/// How much of a line's unit was charged, and so how its amount is computed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "unit", rename_all = "snake_case")]
pub enum Quantity {
    /// Seconds at a price per minute: amount = seconds × price ÷ 60.
    Seconds { seconds: u64 },
    /// Whole items (calls, seats, periods): amount = count × price.
    Count { count: u64 },
    /// Unit-days of a period at a price per full period: amount = days × price ÷ period days.
    Days { days: u64, period_days: u32 },
}

impl Quantity {
    /// The exact amount before rounding. `None` on overflow (no validated tariff gets there).
    pub fn exact_amount(self, unit_price: Decimal) -> Option<Decimal> {
        match self {
            Quantity::Seconds { seconds } => unit_price
                .checked_mul(Decimal::from(seconds))?
                .checked_div(SECONDS_PER_MINUTE),
            Quantity::Count { count } => unit_price.checked_mul(Decimal::from(count)),
            Quantity::Days { days, period_days } => unit_price
                .checked_mul(Decimal::from(days))?
                .checked_div(Decimal::from(period_days)),
        }
    }
}

/// One line of an invoice. Lines are compared whole (`rerate` diffs them) and serialized into
/// the invoice the store hashes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvoiceLine {
    pub kind: LineKind,
    pub description: String,
    pub quantity: Quantity,
    /// Per minute, per item or per period, as [`Quantity`] says.
    #[serde(with = "rust_decimal::serde::str")]
    pub unit_price: Decimal,
    pub tariff: TariffRef,
    /// `quantity` × `unit_price`, rounded HALF_UP once, to the currency's minor unit.
    pub amount: Money,
}

impl InvoiceLine {
    /// Builds a line, computing its amount from its quantity and unit price.
    pub fn priced(
        kind: LineKind,
        description: String,
        quantity: Quantity,
        unit_price: Decimal,
        tariff: TariffRef,
        currency: Currency,
    ) -> Result<Self, MoneyError> {
        let exact = quantity
            .exact_amount(unit_price)
            .ok_or(MoneyError::Overflow)?;
        Ok(Self {
            kind,
            description,
            quantity,
            unit_price,
            tariff,
            amount: Money::from_major_rounded(exact, currency)?,
        })
    }
}
