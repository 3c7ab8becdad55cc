//! The agents' registrar: operators' phones register as `sip:<user>@<realm>`, where each
//! tenant has its own realm (`<slug>.<domain suffix>`) and the firm's agents the platform's.
//!
//! A REGISTER is answered by [`Registrar::on_register`] (the stack's dispatcher calls it for
//! every REGISTER transaction): banned sources and users get 403 at once; a request without
//! credentials gets a digest challenge (one `WWW-Authenticate` per configured algorithm,
//! SHA-256 first by default, RFC 8760); a correct response changes the agent's bindings and
//! gets 200 with every contact bound and its remaining `expires`, plus `Date`. A wrong
//! password, an unknown user, a username or realm that is not the request's gets 403 and
//! counts towards a ban; a right answer on an expired nonce gets a new challenge with
//! `stale=true`. The call engine asks [`Registrar::contacts`] whom to ring.
//!
//! Modules: `digest` (RFC 7616 arithmetic), `nonce` (stateless nonces, replay counts),
//! `throttle` (failure windows and bans), `request` (reading a REGISTER), `bindings` (the
//! location service's rules and map), `store` (the traits the binary implements), `memory`
//! (in-memory implementations), `handle` (the registrar itself, the only part that does IO).
//!
//! This module must never register a contact in a realm other than the one the request
//! authenticated in, never log a password, HA1 or digest response, and never let a flood of
//! requests grow its memory without bound.
//!
//! Clients: a phone must send the digest `uri` equal to the Request-URI (every phone does);
//! SIPp computes it from the remote address instead and needs `-auth_uri <domain>`. SIPp 3.6
//! (Debian's) answers only MD5 and picks the first challenge, so it needs MD5 listed first in
//! `algorithms`.

mod bindings;
pub(crate) mod digest;
mod handle;
pub mod memory;
pub(crate) mod nonce;
mod request;
mod store;
mod throttle;

use std::time::Duration;

pub use bindings::{AgentContact, Binding, ExpiryBounds, SipTransport};
pub use digest::DigestAlgorithm;
pub use handle::{Registrar, RegistrarError};
pub use store::{AgentCredential, AgentDirectory, BackendError, BindingStore};
pub use throttle::ThrottleConfig;

/// The registrar's settings.
#[derive(Clone, Debug, PartialEq)]
pub struct RegistrarConfig {
    pub expiry: ExpiryBounds,
    /// Contacts one agent may have bound at once.
    pub max_contacts_per_agent: usize,
    /// How long a nonce may be answered; an older one gets `stale=true`.
    pub nonce_ttl: Duration,
    /// Challenge algorithms, in the order the `WWW-Authenticate` headers are sent.
    pub algorithms: Vec<DigestAlgorithm>,
    /// Failed authentications per source address and per user.
    pub throttle: ThrottleConfig,
    /// Nonces whose use counts are remembered (replay protection), at most.
    pub nonce_uses_capacity: usize,
    /// How often expired bindings, idle throttle entries and old nonce counts are swept.
    pub sweep_interval: Duration,
}

impl Default for RegistrarConfig {
    fn default() -> Self {
        Self {
            expiry: ExpiryBounds::default(),
            max_contacts_per_agent: 10,
            nonce_ttl: Duration::from_secs(300),
            algorithms: vec![DigestAlgorithm::Sha256, DigestAlgorithm::Md5],
            throttle: ThrottleConfig::default(),
            nonce_uses_capacity: 100_000,
            sweep_interval: Duration::from_secs(30),
        }
    }
}

impl RegistrarConfig {
    /// What is wrong with these settings, if anything (every problem at once).
    pub fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        let ExpiryBounds { min, max, default } = self.expiry;
        if min == 0 {
            problems.push("the minimum registration interval must be at least 1 second".into());
        }
        if min > max {
            problems.push(format!(
                "the minimum registration interval {min} exceeds the maximum {max}"
            ));
        }
        if !(min..=max).contains(&default) {
            problems.push(format!(
                "the default registration interval {default} is outside {min}..={max}"
            ));
        }
        if self.max_contacts_per_agent == 0 {
            problems.push("an agent must be allowed at least one contact".into());
        }
        if self.nonce_ttl.is_zero() {
            problems.push("the nonce lifetime must not be zero".into());
        }
        if self.algorithms.is_empty() {
            problems.push("at least one digest algorithm must be offered".into());
        }
        for (i, algorithm) in self.algorithms.iter().enumerate() {
            if self.algorithms[..i].contains(algorithm) {
                problems.push(format!(
                    "digest algorithm {} is listed twice",
                    algorithm.as_str()
                ));
            }
        }
        if self.throttle.max_failures == 0 {
            problems.push("the failure limit must be at least 1".into());
        }
        if self.throttle.window.is_zero() {
            problems.push("the failure window must not be zero".into());
        }
        problems
    }
}
