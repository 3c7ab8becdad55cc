//! The host side of every `hotline:plugin` import, one module per interface (and, for call
//! control, one per verb). Each host call passes [`CallState::enter`] first (CPU account, wall
//! clock, rate cap), checks the guest's arguments against their documented ranges, and only then
//! reaches the call, the tenant's kv store or the network.
//!
//! A host call must never trust a guest's argument, never block the executor, and never reach
//! anything outside the call's tenant.

mod call;
mod clock;
mod http;
mod kv;
mod log;

pub use clock::local_time;

use crate::bindings::ivr::hotline::plugin::types;
use crate::host::state::CallState;

impl types::Host for CallState {}

impl crate::bindings::agent_script::hotline::plugin::agent_screen::Host for CallState {}
