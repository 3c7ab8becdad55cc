//! Digest nonces without a nonce table: each nonce carries the time it was issued and a random
//! salt, sealed by an HMAC over them and the realm under a key that lives only in this process.
//! Any node can check a nonce it issued without remembering it; one issued for another realm,
//! forged, or issued before a restart (another key) does not verify.
//!
//! What is remembered, in bounded memory, is the nonce count of nonces already used
//! ([`NonceUses`]): a response may reuse a nonce only with a higher `nc` (RFC 7616 §3.4), and
//! a no-qop response, which has no count, only once. When the table is full the oldest entries
//! go and a watermark remembers up to which issue time entries were dropped: a nonce issued
//! before the watermark that is not in the table is treated as expired (the phone gets
//! `stale=true` and a new nonce), so eviction never reopens a replay window.
//!
//! Pure: the caller passes the time and the salt; nothing here reads a clock or a socket.

use std::collections::{HashMap, VecDeque};
use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// Bytes of HMAC kept in a nonce: 128 bits is plenty against forgery within a nonce's life.
const MAC_LEN: usize = 16;
/// issued-at (8) + salt (8) + MAC.
const NONCE_LEN: usize = 16 + MAC_LEN;
/// A nonce from the future is tolerated this much (clock steps between check and issue).
const FUTURE_SKEW_MS: i64 = 5_000;

/// What identifies one nonce: its issue time and salt (the MAC adds nothing once verified).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct NonceId(u128);

/// The state of a nonce a client answered with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NonceState {
    /// Ours, for this realm, and young enough.
    Fresh { id: NonceId, issued_at_ms: i64 },
    /// Ours and for this realm, but older than the nonce lifetime.
    Expired,
    /// Not ours: forged, for another realm, from before a restart, or garbled.
    Invalid,
}

/// Issues and checks nonces under one secret key.
pub struct NonceIssuer {
    /// HMAC-SHA256 keyed once; cloned per nonce (cheaper than keying again).
    keyed: HmacSha256,
    ttl_ms: i64,
}

impl std::fmt::Debug for NonceIssuer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NonceIssuer")
            .field("ttl_ms", &self.ttl_ms)
            .finish_non_exhaustive()
    }
}

impl NonceIssuer {
    pub fn new(key: [u8; 32], ttl: Duration) -> Self {
        Self {
            keyed: HmacSha256::new_from_slice(&key).expect("HMAC accepts keys of any length"),
            ttl_ms: i64::try_from(ttl.as_millis()).unwrap_or(i64::MAX),
        }
    }

    pub fn ttl_ms(&self) -> i64 {
        self.ttl_ms
    }

    /// A new nonce for `realm`, issued at `now_ms` (Unix milliseconds) with a random `salt`.
    pub fn issue(&self, realm: &str, now_ms: i64, salt: [u8; 8]) -> String {
        let mut raw = [0u8; NONCE_LEN];
        raw[..8].copy_from_slice(&now_ms.to_be_bytes());
        raw[8..16].copy_from_slice(&salt);
        let mac = self.mac(realm, &raw[..16]);
        raw[16..].copy_from_slice(&mac[..MAC_LEN]);
        URL_SAFE_NO_PAD.encode(raw)
    }

    /// Is `nonce` one this issuer made for `realm`, and still young?
    pub fn check(&self, nonce: &str, realm: &str, now_ms: i64) -> NonceState {
        let Ok(raw) = URL_SAFE_NO_PAD.decode(nonce) else {
            return NonceState::Invalid;
        };
        if raw.len() != NONCE_LEN {
            return NonceState::Invalid;
        }
        let mut mac = self.keyed.clone();
        feed(&mut mac, realm, &raw[..16]);
        if mac.verify_truncated_left(&raw[16..]).is_err() {
            return NonceState::Invalid;
        }
        let mut issued = [0u8; 8];
        issued.copy_from_slice(&raw[..8]);
        let issued_at_ms = i64::from_be_bytes(issued);
        if issued_at_ms > now_ms.saturating_add(FUTURE_SKEW_MS) {
            return NonceState::Invalid;
        }
        if now_ms.saturating_sub(issued_at_ms) > self.ttl_ms {
            return NonceState::Expired;
        }
        let mut id = [0u8; 16];
        id.copy_from_slice(&raw[..16]);
        NonceState::Fresh {
            id: NonceId(u128::from_be_bytes(id)),
            issued_at_ms,
        }
    }

    fn mac(&self, realm: &str, body: &[u8]) -> [u8; 32] {
        let mut mac = self.keyed.clone();
        feed(&mut mac, realm, body);
        mac.finalize().into_bytes().into()
    }
}

/// The realm is case-insensitive (a DNS name); a NUL separates it from the binary part.
fn feed(mac: &mut HmacSha256, realm: &str, body: &[u8]) {
    mac.update(realm.to_ascii_lowercase().as_bytes());
    mac.update(&[0]);
    mac.update(body);
}

/// Nonce counts of the nonces clients have used, bounded to `capacity` entries.
#[derive(Debug)]
pub struct NonceUses {
    highest_nc: HashMap<NonceId, u32>,
    /// First use order, for eviction; entries are (nonce, issued at).
    order: VecDeque<(NonceId, i64)>,
    capacity: usize,
    /// Nonces issued at or before this time may have been evicted.
    evicted_up_to_ms: i64,
}

impl NonceUses {
    pub fn new(capacity: usize) -> Self {
        Self {
            highest_nc: HashMap::new(),
            order: VecDeque::new(),
            capacity: capacity.max(1),
            evicted_up_to_ms: i64::MIN,
        }
    }

    /// Record a use of a fresh nonce. True when the use is new: a first use, or a count above
    /// every count seen with this nonce. False for a replay, a second no-qop use, or a nonce
    /// whose record may have been evicted (the caller then re-challenges with `stale=true`).
    pub fn accept(&mut self, id: NonceId, issued_at_ms: i64, nc: Option<u32>) -> bool {
        // No count (RFC 2069 style): the nonce is good for exactly one request.
        let count = nc.unwrap_or(1);
        match self.highest_nc.get_mut(&id) {
            Some(highest) => {
                if nc.is_none() || count <= *highest {
                    return false;
                }
                *highest = count;
                true
            }
            None => {
                if issued_at_ms <= self.evicted_up_to_ms {
                    return false;
                }
                self.highest_nc.insert(id, count);
                self.order.push_back((id, issued_at_ms));
                while self.highest_nc.len() > self.capacity {
                    let Some((old, issued)) = self.order.pop_front() else {
                        break;
                    };
                    if self.highest_nc.remove(&old).is_some() {
                        self.evicted_up_to_ms = self.evicted_up_to_ms.max(issued);
                    }
                }
                true
            }
        }
    }

    /// Forget nonces issued before `oldest_valid_ms`: they fail the age check anyway.
    pub fn forget_issued_before(&mut self, oldest_valid_ms: i64) {
        let order = &mut self.order;
        let map = &mut self.highest_nc;
        order.retain(|(id, issued)| {
            if *issued < oldest_valid_ms {
                map.remove(id);
                false
            } else {
                true
            }
        });
    }

    pub fn len(&self) -> usize {
        self.highest_nc.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const REALM: &str = "acme.sip.hotline.local";
    const T0: i64 = 1_800_000_000_000;

    fn issuer() -> NonceIssuer {
        NonceIssuer::new([7; 32], Duration::from_secs(300))
    }

    fn fresh(state: NonceState) -> (NonceId, i64) {
        match state {
            NonceState::Fresh { id, issued_at_ms } => (id, issued_at_ms),
            other => panic!("expected a fresh nonce, got {other:?}"),
        }
    }

    #[test]
    fn a_nonce_is_fresh_for_its_lifetime_then_expired() {
        let issuer = issuer();
        let nonce = issuer.issue(REALM, T0, [1; 8]);
        assert_eq!(fresh(issuer.check(&nonce, REALM, T0)).1, T0);
        assert_eq!(fresh(issuer.check(&nonce, REALM, T0 + 300_000)).1, T0);
        assert_eq!(
            issuer.check(&nonce, REALM, T0 + 300_001),
            NonceState::Expired
        );
        // Realms are DNS names: case does not matter.
        assert!(matches!(
            issuer.check(&nonce, "ACME.sip.hotline.local", T0),
            NonceState::Fresh { .. }
        ));
    }

    #[test]
    fn nonces_differ_by_salt_and_time() {
        let issuer = issuer();
        let a = issuer.issue(REALM, T0, [1; 8]);
        assert_ne!(a, issuer.issue(REALM, T0, [2; 8]));
        assert_ne!(a, issuer.issue(REALM, T0 + 1, [1; 8]));
        assert_eq!(
            a,
            issuer.issue(REALM, T0, [1; 8]),
            "deterministic given time and salt"
        );
        assert!(
            a.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
            "safe inside a quoted string: {a}"
        );
    }

    #[test]
    fn another_realm_another_key_or_a_forgery_is_invalid() {
        let issuer = issuer();
        let nonce = issuer.issue(REALM, T0, [1; 8]);
        assert_eq!(
            issuer.check(&nonce, "globex.sip.hotline.local", T0),
            NonceState::Invalid,
            "a nonce is bound to its realm"
        );
        let restarted = NonceIssuer::new([8; 32], Duration::from_secs(300));
        assert_eq!(restarted.check(&nonce, REALM, T0), NonceState::Invalid);

        // Moving the timestamp forward (to extend its life) breaks the MAC.
        let mut raw = URL_SAFE_NO_PAD.decode(&nonce).unwrap();
        raw[7] ^= 1;
        let tampered = URL_SAFE_NO_PAD.encode(&raw);
        assert_eq!(issuer.check(&tampered, REALM, T0), NonceState::Invalid);

        for garbage in [
            "",
            "abc",
            "not base64 !!",
            &"A".repeat(43),
            &format!("{nonce}AA"),
        ] {
            assert_eq!(
                issuer.check(garbage, REALM, T0),
                NonceState::Invalid,
                "{garbage}"
            );
        }
    }

    #[test]
    fn a_nonce_from_the_future_is_invalid() {
        let issuer = issuer();
        let nonce = issuer.issue(REALM, T0 + 60_000, [1; 8]);
        assert_eq!(issuer.check(&nonce, REALM, T0), NonceState::Invalid);
        let slightly = issuer.issue(REALM, T0 + 1_000, [1; 8]);
        assert!(matches!(
            issuer.check(&slightly, REALM, T0),
            NonceState::Fresh { .. }
        ));
    }

    #[test]
    fn nonce_counts_must_grow() {
        let issuer = issuer();
        let (id, at) = fresh(issuer.check(&issuer.issue(REALM, T0, [1; 8]), REALM, T0));
        let mut uses = NonceUses::new(10);
        assert!(uses.accept(id, at, Some(1)));
        assert!(
            !uses.accept(id, at, Some(1)),
            "the same count again is a replay"
        );
        assert!(uses.accept(id, at, Some(2)));
        assert!(uses.accept(id, at, Some(7)), "counts may skip");
        assert!(!uses.accept(id, at, Some(5)), "but never go back");
        assert!(
            !uses.accept(id, at, None),
            "a used nonce cannot be answered without a count"
        );
    }

    #[test]
    fn a_no_qop_nonce_is_good_once() {
        let issuer = issuer();
        let (id, at) = fresh(issuer.check(&issuer.issue(REALM, T0, [3; 8]), REALM, T0));
        let mut uses = NonceUses::new(10);
        assert!(uses.accept(id, at, None));
        assert!(!uses.accept(id, at, None));
    }

    #[test]
    fn eviction_is_bounded_and_never_reopens_a_replay() {
        let issuer = issuer();
        let mut uses = NonceUses::new(3);
        let ids: Vec<(NonceId, i64)> = (0..5u8)
            .map(|i| {
                let at = T0 + i64::from(i);
                fresh(issuer.check(&issuer.issue(REALM, at, [i; 8]), REALM, at))
            })
            .collect();
        for (id, at) in &ids {
            assert!(uses.accept(*id, *at, Some(1)));
        }
        assert_eq!(uses.len(), 3, "bounded");
        // The two oldest were evicted; replaying them is refused, not accepted as new.
        assert!(!uses.accept(ids[0].0, ids[0].1, Some(1)));
        assert!(!uses.accept(ids[1].0, ids[1].1, Some(1)));
        // The kept ones still count.
        assert!(uses.accept(ids[4].0, ids[4].1, Some(2)));
        // A nonce issued after the watermark is accepted on first use.
        let later = T0 + 10;
        let (id, at) = fresh(issuer.check(&issuer.issue(REALM, later, [9; 8]), REALM, later));
        assert!(uses.accept(id, at, Some(1)));
        assert_eq!(uses.len(), 3);
    }

    #[test]
    fn expired_records_are_forgotten() {
        let mut uses = NonceUses::new(10);
        let issuer = issuer();
        let old = fresh(issuer.check(&issuer.issue(REALM, T0, [1; 8]), REALM, T0));
        let new = fresh(issuer.check(&issuer.issue(REALM, T0 + 1_000, [2; 8]), REALM, T0 + 1_000));
        uses.accept(old.0, old.1, Some(1));
        uses.accept(new.0, new.1, Some(1));
        uses.forget_issued_before(T0 + 500);
        assert_eq!(uses.len(), 1);
        assert!(
            !uses.accept(new.0, new.1, Some(1)),
            "the young one is still remembered"
        );
    }
}
