//! Billing: call records → metered minutes → rated lines → invoices → Stripe, exactly once.
//!
//! Rating is a pure function of (record, tariff version, time zone); money is integer minor
//! units or exact decimals, never floats. Finalized invoices are immutable.
//!
//! Not built yet: the billing issue fills it.

pub mod gateway;
