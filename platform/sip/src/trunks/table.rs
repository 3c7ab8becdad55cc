//! The trunk table: one immutable snapshot of the trunks, asked on every call. Which trunk an
//! INVITE's source belongs to, which trunk a call goes out through, and the concurrent-call
//! slots each trunk has. Pure: no IO, no clock.
//!
//! Slots are counted in a shared counter per trunk id that outlives the snapshot, so a new
//! snapshot (the operator changed a trunk) keeps counting the calls in flight; a
//! [`TrunkPermit`] holds one slot and gives it back when dropped, whatever path the call took.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

use hotline_core::ids::TrunkId;

use super::config::{
    canonical, CallerIdPolicy, Credentials, InboundDigest, OutboundConfig, SourceNet, TrunkConfig,
};

struct Entry {
    config: TrunkConfig,
    in_use: Arc<AtomicU32>,
}

/// One snapshot of the trunks.
pub struct TrunkTable {
    /// In name order: the order outbound calls try trunks in.
    entries: Vec<Entry>,
    /// (network, entry index) of enabled trunks, most specific network first.
    allowlist: Vec<(SourceNet, usize)>,
}

impl std::fmt::Debug for TrunkTable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(self.entries.iter().map(|e| &e.config))
            .finish()
    }
}

/// One concurrent-call slot of a trunk, held for as long as the call uses the trunk.
#[derive(Debug)]
pub struct TrunkPermit {
    trunk_id: TrunkId,
    in_use: Arc<AtomicU32>,
}

impl TrunkPermit {
    pub fn trunk_id(&self) -> TrunkId {
        self.trunk_id
    }
}

impl Drop for TrunkPermit {
    fn drop(&mut self) {
        self.in_use.fetch_sub(1, Ordering::AcqRel);
    }
}

/// The trunk an outbound call leaves through, with its slot.
#[derive(Debug)]
pub struct OutboundTrunk {
    pub trunk_id: TrunkId,
    pub name: String,
    pub outbound: OutboundConfig,
    pub permit: TrunkPermit,
}

impl OutboundTrunk {
    pub fn credentials(&self) -> Option<&Credentials> {
        self.outbound.credentials.as_ref()
    }

    pub fn caller_id(&self) -> &CallerIdPolicy {
        &self.outbound.caller_id
    }
}

impl TrunkTable {
    /// A table with every trunk's slots free.
    pub fn new(configs: Vec<TrunkConfig>) -> Self {
        Self::build(configs, &HashMap::new())
    }

    /// A table of `configs` that keeps counting the calls in flight of `self`'s trunks.
    pub fn successor(&self, configs: Vec<TrunkConfig>) -> Self {
        let counters: HashMap<TrunkId, Arc<AtomicU32>> = self
            .entries
            .iter()
            .map(|e| (e.config.id, Arc::clone(&e.in_use)))
            .collect();
        Self::build(configs, &counters)
    }

    fn build(mut configs: Vec<TrunkConfig>, counters: &HashMap<TrunkId, Arc<AtomicU32>>) -> Self {
        configs.sort_by(|a, b| a.name.cmp(&b.name).then(a.id.cmp(&b.id)));
        let entries: Vec<Entry> = configs
            .into_iter()
            .map(|config| Entry {
                in_use: counters.get(&config.id).map(Arc::clone).unwrap_or_default(),
                config,
            })
            .collect();
        let mut allowlist: Vec<(SourceNet, usize)> = entries
            .iter()
            .enumerate()
            .filter(|(_, e)| e.config.enabled)
            .flat_map(|(i, e)| e.config.inbound_sources.iter().map(move |net| (*net, i)))
            .collect();
        // Longest prefix first; on equal networks the first trunk by name wins, every time.
        allowlist.sort_by(|a, b| b.0.prefix_len().cmp(&a.0.prefix_len()).then(a.1.cmp(&b.1)));
        Self { entries, allowlist }
    }

    pub fn get(&self, id: TrunkId) -> Option<&TrunkConfig> {
        self.entry(id).map(|e| &e.config)
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn trunks(&self) -> impl Iterator<Item = &TrunkConfig> {
        self.entries.iter().map(|e| &e.config)
    }

    /// Calls using the trunk right now.
    pub fn in_use(&self, id: TrunkId) -> Option<u32> {
        self.entry(id).map(|e| e.in_use.load(Ordering::Acquire))
    }

    fn entry(&self, id: TrunkId) -> Option<&Entry> {
        self.entries.iter().find(|e| e.config.id == id)
    }

    /// The enabled trunk whose allowlist holds `source`; when several do, the one with the most
    /// specific network. The port is ignored (carriers send from many).
    pub fn match_inbound(&self, source: SocketAddr) -> Option<TrunkId> {
        let addr = canonical(source.ip());
        self.allowlist
            .iter()
            .find(|(net, _)| net.contains(addr))
            .map(|(_, i)| self.entries[*i].config.id)
    }

    /// The enabled trunk a carrier authenticating as `username` belongs to, with what to verify
    /// its digest against.
    pub fn match_inbound_user(&self, username: &str) -> Option<(TrunkId, &InboundDigest)> {
        self.entries
            .iter()
            .filter(|e| e.config.enabled)
            .find_map(|e| {
                e.config
                    .inbound_digest
                    .as_ref()
                    .filter(|d| d.username == username)
                    .map(|d| (e.config.id, d))
            })
    }

    /// Take one call slot of an enabled trunk, unless it is full.
    pub fn try_acquire(&self, id: TrunkId) -> Option<TrunkPermit> {
        let entry = self.entry(id).filter(|e| e.config.enabled)?;
        Self::acquire(entry)
    }

    fn acquire(entry: &Entry) -> Option<TrunkPermit> {
        let limit = entry.config.max_concurrent_calls;
        entry
            .in_use
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < limit).then_some(n + 1)
            })
            .ok()?;
        Some(TrunkPermit {
            trunk_id: entry.config.id,
            in_use: Arc::clone(&entry.in_use),
        })
    }

    /// The trunk an outbound call leaves through: `preferred` when it is enabled, goes out and
    /// has room; otherwise the first other such trunk in name order. `None`: no trunk can take
    /// the call now.
    pub fn select_outbound(&self, preferred: Option<TrunkId>) -> Option<OutboundTrunk> {
        let candidates = preferred.and_then(|id| self.entry(id)).into_iter().chain(
            self.entries
                .iter()
                .filter(|e| Some(e.config.id) != preferred),
        );
        for entry in candidates {
            let Some(outbound) = entry.config.outbound.as_ref() else {
                continue;
            };
            if !entry.config.enabled {
                continue;
            }
            if let Some(permit) = Self::acquire(entry) {
                return Some(OutboundTrunk {
                    trunk_id: entry.config.id,
                    name: entry.config.name.clone(),
                    outbound: outbound.clone(),
                    permit,
                });
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::super::config::TrunkTransport;
    use super::*;

    fn trunk(name: &str, sources: &[&str], max: u32) -> TrunkConfig {
        TrunkConfig {
            id: TrunkId::new(),
            name: name.into(),
            enabled: true,
            inbound_sources: sources.iter().map(|s| s.parse().expect("net")).collect(),
            inbound_digest: None,
            outbound: Some(OutboundConfig {
                host: format!("{name}.example"),
                port: 5060,
                transport: TrunkTransport::Udp,
                credentials: None,
                register_expires_s: None,
                caller_id: CallerIdPolicy::PassThrough,
            }),
            max_concurrent_calls: max,
        }
    }

    fn source(text: &str) -> SocketAddr {
        text.parse().expect("socket address")
    }

    #[test]
    fn the_most_specific_network_wins() {
        let wide = trunk("wide", &["198.51.100.0/24", "2001:db8::/32"], 10);
        let narrow = trunk("narrow", &["198.51.100.128/25"], 10);
        let host = trunk("host", &["198.51.100.200"], 10);
        let (w, n, h) = (wide.id, narrow.id, host.id);
        let table = TrunkTable::new(vec![wide, narrow, host]);
        assert_eq!(table.match_inbound(source("198.51.100.5:5060")), Some(w));
        assert_eq!(table.match_inbound(source("198.51.100.130:5060")), Some(n));
        assert_eq!(table.match_inbound(source("198.51.100.200:6000")), Some(h));
        assert_eq!(table.match_inbound(source("[2001:db8::9]:5060")), Some(w));
        assert_eq!(table.match_inbound(source("203.0.113.1:5060")), None);
        assert_eq!(table.match_inbound(source("[2001:db9::1]:5060")), None);
        // A dual-stack socket reports IPv4 peers as v4-mapped IPv6 addresses.
        assert_eq!(
            table.match_inbound(source("[::ffff:198.51.100.200]:5060")),
            Some(h)
        );
        assert_eq!(
            table.match_inbound(source("[::ffff:198.51.100.5]:5060")),
            Some(w)
        );
    }

    #[test]
    fn disabled_trunks_admit_nothing_and_ties_are_stable() {
        let mut off = trunk("a-off", &["192.0.2.1"], 10);
        off.enabled = false;
        let first = trunk("b-first", &["192.0.2.0/24"], 10);
        let second = trunk("c-second", &["192.0.2.0/24"], 10);
        let first_id = first.id;
        let table = TrunkTable::new(vec![second, off, first]);
        for _ in 0..3 {
            assert_eq!(
                table.match_inbound(source("192.0.2.1:5060")),
                Some(first_id)
            );
        }
    }

    #[test]
    fn inbound_credentials_by_username() {
        let mut carrier = trunk("carrier", &[], 10);
        carrier.inbound_digest = Some(InboundDigest {
            username: "carrier-in".into(),
            realm: "sip.example".into(),
            ha1_md5: "a".into(),
            ha1_sha256: "b".into(),
        });
        let id = carrier.id;
        let mut table = TrunkTable::new(vec![carrier.clone()]);
        assert_eq!(
            table
                .match_inbound_user("carrier-in")
                .map(|(t, d)| (t, d.realm.clone())),
            Some((id, "sip.example".to_string()))
        );
        assert!(table.match_inbound_user("someone").is_none());
        carrier.enabled = false;
        table = table.successor(vec![carrier]);
        assert!(table.match_inbound_user("carrier-in").is_none());
    }

    #[test]
    fn outbound_honours_preference_enabled_and_limits() {
        let a = trunk("a", &[], 1);
        let b = trunk("b", &[], 2);
        let mut inbound_only = trunk("0-inbound-only", &["192.0.2.1"], 5);
        inbound_only.outbound = None;
        let mut off = trunk("0-off", &[], 5);
        off.enabled = false;
        let (a_id, b_id, off_id) = (a.id, b.id, off.id);
        let table = TrunkTable::new(vec![b, inbound_only, a, off]);

        // No preference: name order, skipping what cannot go out.
        let first = table.select_outbound(None).expect("a trunk");
        assert_eq!(first.trunk_id, a_id);
        assert_eq!(first.outbound.host, "a.example");
        // `a` is full (1 call): its preference falls over to `b`, which takes two.
        let second = table.select_outbound(Some(a_id)).expect("b");
        assert_eq!(second.trunk_id, b_id);
        let third = table.select_outbound(Some(b_id)).expect("b again");
        assert_eq!(third.trunk_id, b_id);
        assert!(table.select_outbound(None).is_none(), "every trunk is full");
        // A disabled trunk is never used, even when named.
        assert!(table.select_outbound(Some(off_id)).is_none());
        assert_eq!(table.in_use(a_id), Some(1));
        assert_eq!(table.in_use(b_id), Some(2));

        // Hanging up frees the slot.
        drop(second);
        let again = table.select_outbound(Some(a_id)).expect("b has room again");
        assert_eq!(again.trunk_id, b_id);
        drop((first, third, again));
        assert_eq!((table.in_use(a_id), table.in_use(b_id)), (Some(0), Some(0)));
    }

    #[test]
    fn permits_never_leak_and_survive_a_new_snapshot() {
        let limited = trunk("limited", &["192.0.2.0/24"], 3);
        let id = limited.id;
        let table = TrunkTable::new(vec![limited.clone()]);
        // Many calls start and end, in every order: the count always returns to zero.
        for round in 0..100 {
            let mut held: Vec<TrunkPermit> = (0..5).filter_map(|_| table.try_acquire(id)).collect();
            assert_eq!(held.len(), 3, "round {round}: the limit holds");
            assert!(table.try_acquire(id).is_none());
            if round % 2 == 0 {
                held.reverse();
            }
            held.truncate(round % 3);
            assert_eq!(table.in_use(id), Some((round % 3) as u32));
        }
        assert_eq!(table.in_use(id), Some(0));

        // Calls in flight when the operator changes the trunk keep their slots in the new table,
        // and release them there.
        let a = table.try_acquire(id).expect("slot");
        let b = table.try_acquire(id).expect("slot");
        let mut changed = limited;
        changed.max_concurrent_calls = 2;
        let next = table.successor(vec![changed]);
        assert_eq!(next.in_use(id), Some(2));
        assert!(
            next.try_acquire(id).is_none(),
            "two in flight fill the new limit"
        );
        drop(a);
        let c = next.try_acquire(id).expect("a slot freed by an old permit");
        drop((b, c));
        assert_eq!(next.in_use(id), Some(0));
    }

    #[test]
    fn concurrent_callers_never_exceed_the_limit() {
        let limited = trunk("limited", &[], 4);
        let id = limited.id;
        let table = Arc::new(TrunkTable::new(vec![limited]));
        let peak = Arc::new(AtomicU32::new(0));
        let threads: Vec<_> = (0..8)
            .map(|_| {
                let table = Arc::clone(&table);
                let peak = Arc::clone(&peak);
                std::thread::spawn(move || {
                    for _ in 0..2_000 {
                        if let Some(permit) = table.try_acquire(id) {
                            let now = table.in_use(id).unwrap_or_default();
                            peak.fetch_max(now, Ordering::AcqRel);
                            drop(permit);
                        }
                    }
                })
            })
            .collect();
        for thread in threads {
            thread.join().expect("a caller thread");
        }
        assert!(peak.load(Ordering::Acquire) <= 4);
        assert_eq!(table.in_use(id), Some(0), "no slot leaked");
    }
}
