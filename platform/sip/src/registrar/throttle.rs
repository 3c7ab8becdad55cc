//! Throttling failed digest authentications: failures are counted per source address and per
//! (realm, username) in a sliding window, and a key that reaches the limit is banned for a
//! while. Everything a banned key sends is refused with 403 before any lookup is made.
//!
//! Why 403 rather than silence: the transaction layer then absorbs the retransmissions (a
//! dropped UDP REGISTER would be resent for 32 s), the phone stops retrying, and a 403 is no
//! bigger than the request, so answering spoofed sources amplifies nothing.
//!
//! Memory is bounded: each table holds at most `capacity` keys, each with at most
//! `max_failures` timestamps. A flood of distinct keys first evicts idle entries, then the
//! least recently failing unbanned ones (in batches, so eviction stays cheap per failure);
//! bans go last. IPv6 sources are counted per /64, since one host owns a whole /64 and could
//! otherwise walk through fresh addresses.
//!
//! Successful authentications do not reset counts: a phone authenticating from the same
//! office NAT must not wipe an attacker's count there. The flip side, documented for
//! operators: a badly configured phone can get its office's address banned; the thresholds
//! are configuration. Pure: callers pass the time.

use std::collections::{HashMap, VecDeque};
use std::hash::Hash;
use std::net::IpAddr;
use std::time::{Duration, Instant};

/// Thresholds of one throttle table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ThrottleConfig {
    /// Failures within `window` that start a ban.
    pub max_failures: u32,
    pub window: Duration,
    pub ban: Duration,
    /// Keys tracked at most.
    pub capacity: usize,
}

impl Default for ThrottleConfig {
    fn default() -> Self {
        Self {
            max_failures: 10,
            window: Duration::from_secs(60),
            ban: Duration::from_secs(300),
            capacity: 65_536,
        }
    }
}

/// What one counted failure led to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FailureOutcome {
    Counted,
    /// This failure reached the limit: the key is banned from now on.
    BanStarted,
    /// The key was already banned.
    AlreadyBanned,
}

#[derive(Debug)]
struct Entry {
    failures: VecDeque<Instant>,
    banned_until: Option<Instant>,
    last_failure: Instant,
}

impl Entry {
    fn banned_at(&self, now: Instant) -> bool {
        self.banned_until.is_some_and(|until| now < until)
    }

    fn idle_at(&self, now: Instant, window: Duration) -> bool {
        !self.banned_at(now) && now.saturating_duration_since(self.last_failure) >= window
    }
}

/// Sliding-window failure counts and bans for one kind of key.
#[derive(Debug)]
pub struct Throttle<K> {
    config: ThrottleConfig,
    entries: HashMap<K, Entry>,
}

impl<K: Hash + Eq + Clone> Throttle<K> {
    pub fn new(config: ThrottleConfig) -> Self {
        Self {
            config: ThrottleConfig {
                max_failures: config.max_failures.max(1),
                capacity: config.capacity.max(1),
                ..config
            },
            entries: HashMap::new(),
        }
    }

    pub fn is_banned(&self, key: &K, now: Instant) -> bool {
        self.entries.get(key).is_some_and(|e| e.banned_at(now))
    }

    pub fn record_failure(&mut self, key: K, now: Instant) -> FailureOutcome {
        if !self.entries.contains_key(&key) && self.entries.len() >= self.config.capacity {
            self.make_room(now);
        }
        let config = self.config;
        let entry = self.entries.entry(key).or_insert_with(|| Entry {
            failures: VecDeque::new(),
            banned_until: None,
            last_failure: now,
        });
        entry.last_failure = now;
        if entry.banned_at(now) {
            return FailureOutcome::AlreadyBanned;
        }
        while entry
            .failures
            .front()
            .is_some_and(|at| now.saturating_duration_since(*at) >= config.window)
        {
            entry.failures.pop_front();
        }
        entry.failures.push_back(now);
        if entry.failures.len() >= config.max_failures as usize {
            entry.failures.clear();
            entry.banned_until = Some(now + config.ban);
            FailureOutcome::BanStarted
        } else {
            FailureOutcome::Counted
        }
    }

    /// Drop entries with no failure in the window and no ban in force.
    pub fn sweep(&mut self, now: Instant) {
        let window = self.config.window;
        self.entries.retain(|_, entry| !entry.idle_at(now, window));
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Free at least one slot: idle entries first, then a batch of the least recently failing
    /// unbanned entries, and only when every entry is banned, the bans that end soonest.
    fn make_room(&mut self, now: Instant) {
        self.sweep(now);
        if self.entries.len() < self.config.capacity {
            return;
        }
        let batch = (self.config.capacity / 8).max(1);
        let mut unbanned: Vec<(Instant, K)> = self
            .entries
            .iter()
            .filter(|(_, e)| !e.banned_at(now))
            .map(|(k, e)| (e.last_failure, k.clone()))
            .collect();
        let victims: Vec<K> = if unbanned.is_empty() {
            let mut banned: Vec<(Instant, K)> = self
                .entries
                .iter()
                .map(|(k, e)| (e.banned_until.unwrap_or(now), k.clone()))
                .collect();
            oldest(&mut banned, batch)
        } else {
            oldest(&mut unbanned, batch)
        };
        for key in victims {
            self.entries.remove(&key);
        }
    }
}

/// The `n` keys with the earliest instants.
fn oldest<K>(items: &mut Vec<(Instant, K)>, n: usize) -> Vec<K> {
    let n = n.min(items.len());
    if n < items.len() {
        items.select_nth_unstable_by_key(n, |(at, _)| *at);
    }
    items.drain(..n).map(|(_, key)| key).collect()
}

/// The address a source is counted under: IPv4 as is, IPv6 by its /64 (IPv4-mapped IPv6
/// addresses as the IPv4 address they are).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SourceKey(IpAddr);

impl SourceKey {
    pub fn of(ip: IpAddr) -> Self {
        match ip {
            IpAddr::V4(v4) => SourceKey(IpAddr::V4(v4)),
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => SourceKey(IpAddr::V4(v4)),
                None => {
                    let bits = u128::from(v6) & !((1u128 << 64) - 1);
                    SourceKey(IpAddr::V6(bits.into()))
                }
            },
        }
    }
}

/// A digest identity: realm (lowercased) and username.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct UserKey {
    realm: String,
    username: String,
}

impl UserKey {
    pub fn new(realm: &str, username: &str) -> Self {
        Self {
            realm: realm.to_ascii_lowercase(),
            username: username.to_string(),
        }
    }
}

/// Which kind of key a ban is on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BanKind {
    Source,
    User,
}

impl BanKind {
    pub fn as_str(self) -> &'static str {
        match self {
            BanKind::Source => "source",
            BanKind::User => "user",
        }
    }
}

/// The registrar's two tables: per source address and per user.
#[derive(Debug)]
pub struct AuthThrottle {
    sources: Throttle<SourceKey>,
    users: Throttle<UserKey>,
}

impl AuthThrottle {
    pub fn new(config: ThrottleConfig) -> Self {
        Self {
            sources: Throttle::new(config),
            users: Throttle::new(config),
        }
    }

    pub fn source_banned(&self, ip: IpAddr, now: Instant) -> bool {
        self.sources.is_banned(&SourceKey::of(ip), now)
    }

    pub fn user_banned(&self, user: &UserKey, now: Instant) -> bool {
        self.users.is_banned(user, now)
    }

    /// Count one failure against the source and, when known, the user; the bans it started.
    pub fn record_failure(
        &mut self,
        ip: IpAddr,
        user: Option<UserKey>,
        now: Instant,
    ) -> Vec<BanKind> {
        let mut started = Vec::new();
        if self.sources.record_failure(SourceKey::of(ip), now) == FailureOutcome::BanStarted {
            started.push(BanKind::Source);
        }
        if let Some(user) = user {
            if self.users.record_failure(user, now) == FailureOutcome::BanStarted {
                started.push(BanKind::User);
            }
        }
        started
    }

    pub fn sweep(&mut self, now: Instant) {
        self.sources.sweep(now);
        self.users.sweep(now);
    }

    /// (sources tracked, users tracked).
    pub fn tracked(&self) -> (usize, usize) {
        (self.sources.len(), self.users.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(max_failures: u32, capacity: usize) -> ThrottleConfig {
        ThrottleConfig {
            max_failures,
            window: Duration::from_secs(60),
            ban: Duration::from_secs(300),
            capacity,
        }
    }

    fn secs(n: u64) -> Duration {
        Duration::from_secs(n)
    }

    #[test]
    fn ten_failures_in_the_window_ban_for_the_ban_time() {
        let t0 = Instant::now();
        let mut throttle = Throttle::new(config(10, 100));
        for i in 0..9 {
            assert_eq!(
                throttle.record_failure("ip", t0 + secs(i * 5)),
                FailureOutcome::Counted
            );
            assert!(!throttle.is_banned(&"ip", t0 + secs(i * 5)));
        }
        assert_eq!(
            throttle.record_failure("ip", t0 + secs(50)),
            FailureOutcome::BanStarted
        );
        assert!(throttle.is_banned(&"ip", t0 + secs(50)));
        assert!(throttle.is_banned(&"ip", t0 + secs(349)));
        assert_eq!(
            throttle.record_failure("ip", t0 + secs(100)),
            FailureOutcome::AlreadyBanned
        );
        assert!(!throttle.is_banned(&"ip", t0 + secs(350)), "the ban ends");
        // After the ban, counting starts from zero.
        assert_eq!(
            throttle.record_failure("ip", t0 + secs(351)),
            FailureOutcome::Counted
        );
        assert!(!throttle.is_banned(&"other", t0 + secs(50)));
    }

    #[test]
    fn the_window_slides() {
        let t0 = Instant::now();
        let mut throttle = Throttle::new(config(3, 100));
        throttle.record_failure("k", t0);
        throttle.record_failure("k", t0 + secs(30));
        // The first failure is a full window old now: only two count.
        assert_eq!(
            throttle.record_failure("k", t0 + secs(60)),
            FailureOutcome::Counted
        );
        assert_eq!(
            throttle.record_failure("k", t0 + secs(61)),
            FailureOutcome::BanStarted
        );
    }

    #[test]
    fn a_flood_of_distinct_keys_stays_within_capacity() {
        let t0 = Instant::now();
        let mut throttle = Throttle::new(config(3, 64));
        for i in 0..10_000u32 {
            throttle.record_failure(i, t0 + Duration::from_millis(u64::from(i)));
            assert!(throttle.len() <= 64, "grew to {}", throttle.len());
        }
    }

    #[test]
    fn eviction_keeps_bans_and_drops_the_least_recent_first() {
        let t0 = Instant::now();
        let mut throttle = Throttle::new(config(2, 8));
        throttle.record_failure(1000u32, t0);
        assert_eq!(
            throttle.record_failure(1000, t0),
            FailureOutcome::BanStarted
        );
        for i in 0..7u32 {
            throttle.record_failure(i, t0 + secs(u64::from(i) + 1));
        }
        assert_eq!(throttle.len(), 8);
        // A newcomer evicts the least recently failing unbanned key (0), never the ban.
        throttle.record_failure(2000, t0 + secs(20));
        assert!(throttle.is_banned(&1000, t0 + secs(20)));
        assert!(!throttle.entries.contains_key(&0));
        assert!(throttle.entries.contains_key(&6));
        assert!(throttle.entries.contains_key(&2000));
    }

    #[test]
    fn when_everything_is_banned_the_soonest_ending_ban_goes() {
        let t0 = Instant::now();
        let mut throttle = Throttle::new(config(1, 2));
        assert_eq!(throttle.record_failure("a", t0), FailureOutcome::BanStarted);
        assert_eq!(
            throttle.record_failure("b", t0 + secs(1)),
            FailureOutcome::BanStarted
        );
        assert_eq!(
            throttle.record_failure("c", t0 + secs(2)),
            FailureOutcome::BanStarted
        );
        assert_eq!(throttle.len(), 2);
        assert!(!throttle.is_banned(&"a", t0 + secs(2)));
        assert!(throttle.is_banned(&"b", t0 + secs(2)));
        assert!(throttle.is_banned(&"c", t0 + secs(2)));
    }

    #[test]
    fn sweep_drops_idle_entries_and_ended_bans() {
        let t0 = Instant::now();
        let mut throttle = Throttle::new(config(2, 100));
        throttle.record_failure("idle", t0);
        throttle.record_failure("banned", t0);
        throttle.record_failure("banned", t0);
        throttle.record_failure("recent", t0 + secs(50));
        throttle.sweep(t0 + secs(61));
        let mut kept: Vec<&&str> = throttle.entries.keys().collect();
        kept.sort();
        assert_eq!(kept, vec![&"banned", &"recent"]);
        throttle.sweep(t0 + secs(301));
        assert_eq!(throttle.len(), 0);
    }

    #[test]
    fn ipv6_sources_count_per_slash_64() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:bbbb::9".parse().unwrap();
        let c: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(SourceKey::of(a), SourceKey::of(b));
        assert_ne!(SourceKey::of(a), SourceKey::of(c));
        let mapped: IpAddr = "::ffff:192.0.2.7".parse().unwrap();
        assert_eq!(
            SourceKey::of(mapped),
            SourceKey::of("192.0.2.7".parse().unwrap())
        );
        assert_ne!(
            SourceKey::of("192.0.2.7".parse().unwrap()),
            SourceKey::of("192.0.2.8".parse().unwrap())
        );
    }

    #[test]
    fn source_and_user_tables_are_independent() {
        let t0 = Instant::now();
        let mut throttle = AuthThrottle::new(config(3, 100));
        let attacker: IpAddr = "198.51.100.1".parse().unwrap();
        let office: IpAddr = "203.0.113.5".parse().unwrap();
        let victim = UserKey::new("ACME.sip.example", "alice");
        // Guesses at alice from two addresses: alice is banned at the third.
        assert!(throttle
            .record_failure(attacker, Some(victim.clone()), t0)
            .is_empty());
        assert!(throttle
            .record_failure(office, Some(victim.clone()), t0)
            .is_empty());
        assert_eq!(
            throttle.record_failure(attacker, Some(victim.clone()), t0),
            vec![BanKind::User]
        );
        assert!(throttle.user_banned(&UserKey::new("acme.sip.example", "alice"), t0));
        assert!(!throttle.user_banned(&UserKey::new("acme.sip.example", "bob"), t0));
        assert!(!throttle.source_banned(attacker, t0));
        // A third failure from the attacker's address bans the address too.
        assert_eq!(
            throttle.record_failure(attacker, None, t0),
            vec![BanKind::Source]
        );
        assert!(throttle.source_banned(attacker, t0));
        assert!(!throttle.source_banned(office, t0));
        assert_eq!(throttle.tracked(), (2, 1));
    }
}
