//! Where forwarded calls can ring: the agents' registered phones and the outbound trunks.
//! Both traits are owned here and implemented by the binary over the SIP registrar and the
//! trunk table, so the engine's tests can use plain in-memory lists.

use std::net::SocketAddr;

use hotline_core::ids::{AgentId, TrunkId};

/// One registered contact of an agent's phone.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AgentContact {
    /// The Contact URI the phone registered (the Request-URI of the INVITE we send it).
    pub uri: String,
    /// Where its REGISTER really came from: the INVITE goes there (phones behind NAT).
    pub destination: SocketAddr,
    pub tcp: bool,
}

pub trait AgentLocator: Send + Sync + 'static {
    /// Every unexpired contact of the agent (none when the phone is offline).
    fn contacts(&self, agent_id: AgentId) -> Vec<AgentContact>;
}

/// A trunk chosen for one outbound leg. Holding it counts against the trunk's concurrent-call
/// limit; dropping it gives the slot back.
pub struct OutboundRoute {
    pub trunk_id: TrunkId,
    /// The Request-URI for a number, e.g. `sip:+4212...@carrier.example:5060`.
    pub request_uri: String,
    pub destination: Option<SocketAddr>,
    pub tcp: bool,
    /// Digest credentials if the carrier challenges.
    pub auth: Option<(String, String)>,
    /// The caller number to present, after the trunk's caller-ID policy.
    pub caller_id: String,
    /// Released on drop.
    pub permit: Box<dyn Send + Sync>,
}

impl std::fmt::Debug for OutboundRoute {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OutboundRoute")
            .field("trunk_id", &self.trunk_id)
            .field("request_uri", &self.request_uri)
            .field("destination", &self.destination)
            .finish_non_exhaustive()
    }
}

pub trait OutboundTrunks: Send + Sync + 'static {
    /// A trunk with room for one more call to `number` (E.164), preferring `preferred`.
    /// `caller` is the original caller's number and `dialed` the tenant number they called
    /// (the caller-ID policy picks between them).
    fn route(
        &self,
        preferred: Option<TrunkId>,
        number: &str,
        caller: &str,
        dialed: &str,
    ) -> Option<OutboundRoute>;
}
