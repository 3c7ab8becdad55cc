//! The `/api/v1` resources, one module per resource. Each handler extracts who is calling and
//! in which scope, names its RBAC action, calls the store, and answers JSON or problem+json.
//! Handlers hold no business rules: those belong to the store.

pub mod agents;
pub mod api_keys;
pub mod audit;
pub mod auth;
pub mod billing_accounts;
pub mod billing_context;
mod billing_error;
pub mod billing_periods;
pub mod calls;
pub mod contracts;
pub mod credit_notes;
pub mod health;
pub mod hotlines;
pub mod idempotency;
pub mod invoice_print;
pub mod invoices;
pub mod members;
pub mod numbers;
pub mod plugin_catalog;
mod plugin_error;
pub mod plugin_log;
mod plugin_paging;
pub mod plugin_settings;
mod plugin_upload;
pub mod plugins;
pub mod prompt_audio;
pub mod prompts;
mod query_params;
pub mod queues;
pub mod recordings;
pub mod registrations;
pub mod revenue;
pub(crate) mod spec_resource;
pub mod stripe_webhook;
pub mod tariffs;
pub mod tenants;
pub mod trunks;
pub mod usage;
pub mod usage_export;
pub mod users;
