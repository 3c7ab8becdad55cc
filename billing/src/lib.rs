//! Billing: call records → metered minutes → rated lines → invoices → Stripe, exactly once.
//!
//! Rating is a pure function of (record, tariff version, time zone); money is integer minor
//! units or exact decimals, never floats. Finalized invoices are immutable.
//!
//! The pure core — [`money`], [`tariff`], [`usage`], [`rating`], [`period`], [`recurring`] and
//! [`invoice_calc`] — does no IO, reads no clock and is never async: the store and the API build
//! on it and persist what it computes.

pub mod invoice_calc;
pub mod money;
pub mod period;
pub mod rating;
pub mod recurring;
pub mod tariff;
pub mod usage;

pub mod gateway;
