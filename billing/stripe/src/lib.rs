//! Stripe adapter of billing's [`PaymentGateway`](hotline_billing::gateway::PaymentGateway).
//!
//! Kept in its own crate so async-stripe's build (thousands of generated types) stays off the
//! rating core: only the binary, which wires the outbox to a configured gateway, depends on it.
//! Built from a [`StripeConfig`]; with no secret key configured the binary does not build it.
//!
//! Uses async-stripe `=1.0.0-rc.10` (resource crates with only the customer, invoice,
//! invoice_item and credit_note features) for typed requests and responses, pinned to the API
//! version it was generated for ([`api_version`]), over our own transport (see `transport`).
//!
//! Must never decide money: it sends what billing computed and reports what Stripe holds.

mod adapter;
mod config;
mod convert;
mod failure;
mod pages;
mod transport;
mod webhook;

pub use adapter::StripeGateway;
pub use config::{ConfigError, StripeConfig, DEFAULT_TIMEOUT, DEFAULT_WEBHOOK_TOLERANCE};
pub use transport::DEFAULT_API_BASE;

/// The Stripe API version every request is sent with (the `Stripe-Version` header), and the
/// folder name of the test fixtures.
pub fn api_version() -> String {
    stripe_client_core::VERSION.as_str().to_owned()
}
