//! [`Trunks`]: the current trunk table, swapped whole when the operator changes trunks (reads
//! never lock), a change feed for the provider registrations, and their state for anyone to
//! read. One per process, shared by the stack, the call engine and the loader.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::SystemTime;

use arc_swap::ArcSwap;
use hotline_core::ids::TrunkId;
use tokio::sync::watch;

use super::config::TrunkConfig;
use super::table::TrunkTable;
use crate::stack::{Admission, DigestTrunk, InboundGate};

/// Where a trunk's registration with its provider stands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RegistrationState {
    /// Sent, no answer yet.
    Registering,
    /// The provider accepted it for `expires_s` seconds from `at`.
    Registered { at: SystemTime, expires_s: u32 },
    /// The last attempt failed (`reason`: the provider's status or the transport error); it is
    /// retried with backoff.
    Failed { at: SystemTime, reason: String },
}

pub struct Trunks {
    table: ArcSwap<TrunkTable>,
    changes: watch::Sender<u64>,
    registrations: Mutex<HashMap<TrunkId, RegistrationState>>,
}

impl std::fmt::Debug for Trunks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Trunks")
            .field("table", &self.table.load())
            .finish_non_exhaustive()
    }
}

impl Trunks {
    pub fn new(configs: Vec<TrunkConfig>) -> Arc<Self> {
        Arc::new(Self {
            table: ArcSwap::from_pointee(TrunkTable::new(configs)),
            changes: watch::Sender::new(0),
            registrations: Mutex::new(HashMap::new()),
        })
    }

    /// The current snapshot; keep it for one decision, ask again for the next.
    pub fn table(&self) -> Arc<TrunkTable> {
        self.table.load_full()
    }

    /// Put a new configuration in place. Calls in flight keep their slots; the registrations
    /// follow (see `registration::run`).
    pub fn replace(&self, configs: Vec<TrunkConfig>) {
        let next = self.table.load().successor(configs);
        self.table.store(Arc::new(next));
        self.changes.send_modify(|generation| *generation += 1);
    }

    /// Wakes whenever [`Trunks::replace`] put a new table in place.
    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.changes.subscribe()
    }

    pub fn registration_state(&self, id: TrunkId) -> Option<RegistrationState> {
        self.registrations
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&id)
            .cloned()
    }

    pub(crate) fn set_registration_state(&self, id: TrunkId, state: Option<RegistrationState>) {
        let mut registrations = self
            .registrations
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        match state {
            Some(state) => registrations.insert(id, state),
            None => registrations.remove(&id),
        };
    }
}

/// The stack admits an INVITE only from a trunk's allowlist.
/// An INVITE from a trunk takes one of the trunk's concurrent-call slots for as long as the call
/// lasts, like an outbound one.
impl InboundGate for Trunks {
    fn admit(&self, source: SocketAddr) -> Admission {
        let table = self.table.load();
        let Some(trunk_id) = table.match_inbound(source) else {
            return Admission::NotATrunk;
        };
        match table.try_acquire(trunk_id) {
            Some(permit) => Admission::Trunk {
                trunk_id,
                slot: Box::new(permit),
            },
            None => Admission::TrunkFull { trunk_id },
        }
    }

    fn digest_realm(&self) -> Option<String> {
        let table = self.table.load();
        let realm = table
            .trunks()
            .filter(|trunk| trunk.enabled)
            .find_map(|trunk| trunk.inbound_digest.as_ref().map(|d| d.realm.clone()));
        realm
    }

    fn digest_trunk(&self, username: &str) -> Option<DigestTrunk> {
        let table = self.table.load();
        let found = table
            .match_inbound_user(username)
            .map(|(trunk_id, digest)| DigestTrunk {
                trunk_id,
                realm: digest.realm.clone(),
                ha1_md5: digest.ha1_md5.clone(),
                ha1_sha256: digest.ha1_sha256.clone(),
            });
        found
    }

    fn acquire(&self, trunk_id: TrunkId) -> Admission {
        match self.table.load().try_acquire(trunk_id) {
            Some(permit) => Admission::Trunk {
                trunk_id,
                slot: Box::new(permit),
            },
            None => Admission::TrunkFull { trunk_id },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn carrier(name: &str, source: &str) -> TrunkConfig {
        TrunkConfig {
            id: TrunkId::new(),
            name: name.into(),
            enabled: true,
            inbound_sources: vec![source.parse().expect("net")],
            inbound_digest: None,
            outbound: None,
            max_concurrent_calls: 2,
        }
    }

    fn admitted(trunks: &Trunks, from: &str) -> Option<TrunkId> {
        match trunks.admit(from.parse().expect("addr")) {
            Admission::Trunk { trunk_id, .. } => Some(trunk_id),
            Admission::TrunkFull { .. } | Admission::NotATrunk => None,
        }
    }

    #[test]
    fn replacing_swaps_the_gate_and_keeps_slots() {
        let first = carrier("first", "192.0.2.0/24");
        let id = first.id;
        let trunks = Trunks::new(vec![first.clone()]);
        let mut changes = trunks.subscribe();
        assert_eq!(admitted(&trunks, "192.0.2.9:5060"), Some(id));
        let permit = trunks.table().try_acquire(id).expect("slot");

        // The operator moves the carrier to another network.
        let mut moved = first;
        moved.inbound_sources = vec!["198.51.100.0/24".parse().expect("net")];
        trunks.replace(vec![moved]);
        assert!(changes.has_changed().unwrap_or(false));
        assert_eq!(admitted(&trunks, "192.0.2.9:5060"), None);
        assert_eq!(admitted(&trunks, "198.51.100.1:5060"), Some(id));
        assert_eq!(trunks.table().in_use(id), Some(1));
        drop(permit);
        assert_eq!(trunks.table().in_use(id), Some(0));
        // Removed entirely, it admits nothing.
        trunks.replace(Vec::new());
        assert!(trunks.table().is_empty());
        assert_eq!(admitted(&trunks, "198.51.100.1:5060"), None);
        changes.mark_unchanged();
    }

    #[test]
    fn inbound_calls_hold_a_trunk_slot_until_they_end() {
        let trunk = carrier("limited", "192.0.2.0/24");
        let id = trunk.id;
        let trunks = Trunks::new(vec![trunk]);
        let from: SocketAddr = "192.0.2.9:5060".parse().expect("addr");
        let first = trunks.admit(from);
        let second = trunks.admit(from);
        assert!(matches!(first, Admission::Trunk { .. }));
        assert!(matches!(second, Admission::Trunk { .. }));
        assert_eq!(trunks.table().in_use(id), Some(2));
        assert!(matches!(trunks.admit(from), Admission::TrunkFull { trunk_id } if trunk_id == id));
        drop(first);
        assert!(matches!(trunks.admit(from), Admission::Trunk { .. }));
    }
}
