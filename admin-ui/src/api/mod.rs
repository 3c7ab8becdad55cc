//! The `/api/v1` resources, one module per resource. Each handler extracts who is calling and
//! in which scope, names its RBAC action, calls the store, and answers JSON or problem+json.
//! Handlers hold no business rules: those belong to the store.

pub mod agents;
pub mod api_keys;
pub mod audit;
pub mod auth;
pub mod calls;
pub mod health;
pub mod hotlines;
pub mod members;
pub mod numbers;
pub mod prompts;
pub mod queues;
pub mod registrations;
pub(crate) mod spec_resource;
pub mod tenants;
pub mod trunks;
pub mod users;
