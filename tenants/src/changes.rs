//! Generations of the configuration that call handling caches: one counter for what routes a
//! dialed number (tenants, numbers, hotlines, agents and their assignments) and one for the
//! carrier trunks. Every write that commits such a change bumps its counter *after* the commit,
//! so a cache that reads the counter before it reads the database can never tag old rows with a
//! new generation.
//!
//! The counters live in this process and are shared by every clone of one `Store`; a second
//! `Store::new` over the same database has its own and does not see these bumps. Several nodes
//! over one PostgreSQL database need a cross-node signal (PostgreSQL `LISTEN/NOTIFY` or NATS)
//! that bumps the same counters; until then their caches rely on their time-to-live alone.
//! This module must never be bumped before a commit, nor read as a clock.

use std::sync::atomic::{AtomicU64, Ordering};

#[derive(Debug, Default)]
pub(crate) struct Changes {
    routing: AtomicU64,
    trunks: AtomicU64,
}

impl Changes {
    pub(crate) fn routing_changed(&self) {
        self.routing.fetch_add(1, Ordering::Release);
    }

    pub(crate) fn trunks_changed(&self) {
        self.trunks.fetch_add(1, Ordering::Release);
    }

    pub(crate) fn routing(&self) -> u64 {
        self.routing.load(Ordering::Acquire)
    }

    pub(crate) fn trunks(&self) -> u64 {
        self.trunks.load(Ordering::Acquire)
    }
}
