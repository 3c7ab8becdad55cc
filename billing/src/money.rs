//! Money: ISO 4217 currencies with their minor unit, amounts in integer minor units, and the one
//! rounding rule billing uses.
//!
//! Decisions:
//! - An amount on an invoice is [`Money`]: an `i64` count of the currency's minor unit (cents for
//!   EUR, yen for JPY, fils for KWD). Exponents come from the ISO 4217 table of the
//!   `iso_currency` crate, never from a hand-kept list. Currencies without a minor unit
//!   (gold, testing codes, "no currency") are refused: nothing can be billed in them.
//! - Prices and rates are exact [`Decimal`]s with at most [`MAX_RATE_SCALE`] decimal places, and
//!   travel as JSON strings (`"0.0125"`) so no JSON number parser ever turns them into a float.
//! - [`round_half_up`] is the only rounding in billing: half away from zero to the currency's
//!   minor unit, applied once per invoice line and once to the tax. Plain `Decimal::round_dp` is
//!   banker's rounding (2.345 → 2.34) and must never be used for money.
//!
//! This module must never use floating point, and must never round anywhere but in
//! [`round_half_up`].

use std::fmt;
use std::str::FromStr;

use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};

/// The most decimal places a price or rate may carry (sub-cent per-second rates need them).
pub const MAX_RATE_SCALE: u32 = 9;

/// Why an amount or currency was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    #[error("`{0}` is not an ISO 4217 currency code")]
    UnknownCurrency(String),
    #[error("currency {0} has no minor unit and cannot be billed in")]
    NoMinorUnit(&'static str),
    #[error("amounts in {left} and {right} cannot be combined")]
    CurrencyMismatch {
        left: &'static str,
        right: &'static str,
    },
    #[error("the amount does not fit in 64-bit minor units")]
    Overflow,
}

/// An ISO 4217 currency that has a minor unit (EUR: 2 places, JPY: 0, KWD: 3).
///
/// Serialized as its three-letter code.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Currency {
    iso: iso_currency::Currency,
    exponent: u8,
}

impl Currency {
    /// The currency for an ISO 4217 alphabetic code (upper case, as the standard writes it).
    pub fn from_code(code: &str) -> Result<Self, MoneyError> {
        let iso = iso_currency::Currency::from_code(code)
            .ok_or_else(|| MoneyError::UnknownCurrency(code.to_owned()))?;
        Self::from_iso(iso)
    }

    /// The billing currency for an `iso_currency` value, refused if it has no minor unit.
    pub fn from_iso(iso: iso_currency::Currency) -> Result<Self, MoneyError> {
        let exponent = iso
            .exponent()
            .and_then(|e| u8::try_from(e).ok())
            .ok_or(MoneyError::NoMinorUnit(iso.code()))?;
        Ok(Self { iso, exponent })
    }

    pub fn code(self) -> &'static str {
        self.iso.code()
    }

    /// Decimal places of the minor unit: 2 for EUR, 0 for JPY, 3 for KWD.
    pub fn exponent(self) -> u32 {
        u32::from(self.exponent)
    }

    pub fn iso(self) -> iso_currency::Currency {
        self.iso
    }
}

impl fmt::Debug for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl FromStr for Currency {
    type Err = MoneyError;
    fn from_str(code: &str) -> Result<Self, Self::Err> {
        Self::from_code(code)
    }
}

impl TryFrom<String> for Currency {
    type Error = MoneyError;
    fn try_from(code: String) -> Result<Self, Self::Error> {
        Self::from_code(&code)
    }
}

impl From<Currency> for String {
    fn from(currency: Currency) -> Self {
        currency.code().to_owned()
    }
}

/// An amount in integer minor units of a currency: `Money { minor: 1234, currency: EUR }` is
/// €12.34, `Money { minor: 1234, currency: JPY }` is ¥1,234.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Money {
    pub minor: i64,
    pub currency: Currency,
}

impl Money {
    pub fn zero(currency: Currency) -> Self {
        Self { minor: 0, currency }
    }

    /// An exact amount in major units (e.g. euros) rounded HALF_UP to the minor unit.
    pub fn from_major_rounded(amount: Decimal, currency: Currency) -> Result<Self, MoneyError> {
        let rounded = round_half_up(amount, currency);
        let minor = rounded
            .checked_mul(Decimal::from(10_i64.pow(currency.exponent())))
            .and_then(|m| i64::try_from(m.trunc()).ok())
            .ok_or(MoneyError::Overflow)?;
        Ok(Self { minor, currency })
    }

    /// The amount in major units, exactly (1234 cents → 12.34).
    pub fn to_major(self) -> Decimal {
        Decimal::new(self.minor, self.currency.exponent())
    }

    pub fn checked_add(self, other: Money) -> Result<Money, MoneyError> {
        if self.currency != other.currency {
            return Err(MoneyError::CurrencyMismatch {
                left: self.currency.code(),
                right: other.currency.code(),
            });
        }
        let minor = self
            .minor
            .checked_add(other.minor)
            .ok_or(MoneyError::Overflow)?;
        Ok(Money {
            minor,
            currency: self.currency,
        })
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.to_major(), self.currency)
    }
}

/// Rounds an exact amount in major units to the currency's minor unit, half away from zero
/// (HALF_UP as accountants say it): 0.125 EUR → 0.13, 0.135 EUR → 0.14, 2.5 JPY → 3.
pub fn round_half_up(amount: Decimal, currency: Currency) -> Decimal {
    amount.round_dp_with_strategy(currency.exponent(), RoundingStrategy::MidpointAwayFromZero)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dec(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    #[test]
    fn exponents_come_from_iso_4217() {
        assert_eq!(Currency::from_code("EUR").unwrap().exponent(), 2);
        assert_eq!(Currency::from_code("JPY").unwrap().exponent(), 0);
        assert_eq!(Currency::from_code("KWD").unwrap().exponent(), 3);
    }

    #[test]
    fn currencies_without_minor_unit_or_unknown_are_refused() {
        assert_eq!(
            Currency::from_code("XAU"),
            Err(MoneyError::NoMinorUnit("XAU"))
        );
        assert!(matches!(
            Currency::from_code("EURO"),
            Err(MoneyError::UnknownCurrency(_))
        ));
    }

    #[test]
    fn half_up_differs_from_bankers_rounding_at_even_digits() {
        let eur = Currency::from_code("EUR").unwrap();
        // 2.345: banker's rounding keeps the even 4 (2.34); HALF_UP gives 2.35.
        assert_eq!(round_half_up(dec("2.345"), eur), dec("2.35"));
        assert_eq!(dec("2.345").round_dp(2), dec("2.34"));
        assert_eq!(round_half_up(dec("2.335"), eur), dec("2.34"));
        assert_eq!(round_half_up(dec("-2.345"), eur), dec("-2.35"));
        assert_eq!(round_half_up(dec("2.3449999"), eur), dec("2.34"));
    }

    #[test]
    fn major_to_minor_units_per_currency() {
        let jpy = Currency::from_code("JPY").unwrap();
        let kwd = Currency::from_code("KWD").unwrap();
        assert_eq!(Money::from_major_rounded(dec("2.5"), jpy).unwrap().minor, 3);
        assert_eq!(
            Money::from_major_rounded(dec("1.2345"), kwd).unwrap().minor,
            1235
        );
        assert_eq!(
            Money {
                minor: 1235,
                currency: kwd
            }
            .to_major(),
            dec("1.235")
        );
    }

    #[test]
    fn money_serializes_with_currency_code() {
        let eur = Currency::from_code("EUR").unwrap();
        let json = serde_json::to_string(&Money {
            minor: 1234,
            currency: eur,
        })
        .unwrap();
        assert_eq!(json, r#"{"minor":1234,"currency":"EUR"}"#);
        let back: Money = serde_json::from_str(&json).unwrap();
        assert_eq!(back.minor, 1234);
        assert!(serde_json::from_str::<Money>(r#"{"minor":1,"currency":"XAU"}"#).is_err());
    }

    #[test]
    fn adding_different_currencies_fails() {
        let eur = Money::zero(Currency::from_code("EUR").unwrap());
        let jpy = Money::zero(Currency::from_code("JPY").unwrap());
        assert!(matches!(
            eur.checked_add(jpy),
            Err(MoneyError::CurrencyMismatch { .. })
        ));
    }
}
