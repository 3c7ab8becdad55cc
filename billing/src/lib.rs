//! Billing: call records → metered minutes → rated lines → invoices → Stripe, exactly once.
//!
//! Rating is a pure function of (record, tariff version, time zone); money is integer minor
//! units or exact decimals, never floats. Finalized invoices are immutable.
//!
//! The pure core — [`money`], [`tariff`], [`usage`], [`rating`], [`period`], [`recurring`] and
//! [`invoice_calc`] — does no IO, reads no clock and is never async: the store and the API build
//! on it and persist what it computes.
//!
//! Around it, also pure: [`metering`] (call record → metered usage), [`cycle`] (billing-day
//! periods), [`content`] (canonical invoice content and its hash), [`rerate`] (line diffs).
//! With IO: [`store`] (both database backends: ingestion, periods, invoices, credit notes,
//! webhooks, outbox rows), [`outbox`] (the driver that mirrors finalized invoices to the
//! [`gateway`]), [`Billing`], the handle the binary holds, and [`closing`] (one tenant's
//! periods closed by hand).

pub mod invoice_calc;
pub mod money;
pub mod period;
pub mod rating;
pub mod recurring;
pub mod tariff;
pub mod usage;

pub mod gateway;

mod availability;
pub mod closing;
pub mod content;
pub mod cycle;
pub mod error;
pub mod ids;
pub mod metering;
pub mod outbox;
pub mod rerate;
mod service;
pub mod store;

pub use error::{BillingError, BillingResult};
pub use service::{Billing, Clock};
pub use store::{BatchOutcome, BillingStore, IngestCounts, IngestOutcome, NotBilledReason};
