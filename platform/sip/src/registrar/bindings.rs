//! The location service: which contacts each agent has registered, and the pure rules of RFC
//! 3261 §10.3 that change them (expiry bounds, `Expires: 0` and `Contact: *` unregistration,
//! refresh ordered by Call-ID and CSeq, a cap on contacts per agent).
//!
//! [`plan`] decides what one authenticated REGISTER does to an agent's bindings without
//! touching anything; [`Location`] is the in-memory map the call engine reads on every
//! forwarded call. Persisting a plan is the registrar's job (`handle.rs`), through the
//! [`BindingStore`](super::store::BindingStore) trait.
//!
//! Contacts are matched by `+sip.instance` (RFC 5626; with `reg-id`) when the phone sends one,
//! else by a canonical form of the contact URI (scheme, user, host lowercased, port, and every
//! URI parameter, names and values lowercased and sorted). That is stricter than RFC 3261 URI
//! equality in one respect: a parameter present in only one of two URIs makes them different.
//!
//! Each binding keeps the contact URI exactly as the phone sent it (its own 200 OK must list it
//! verbatim) and, beside it, the address and transport the REGISTER really came from: calls to
//! a phone behind NAT go to that source, never to the private address in its Contact (what
//! Asterisk calls `force_rport` plus `rewrite_contact`).
//!
//! When a REGISTER would leave an agent with more contacts than allowed, the agent's other
//! contacts that expire soonest are dropped (a rebooted phone's forgotten binding must not lock
//! the agent out); a single REGISTER carrying more than the cap is refused.

use std::collections::HashMap;
use std::net::SocketAddr;

use chrono::{DateTime, Duration, Utc};
use hotline_core::ids::{AgentId, TenantId};

/// How a phone reaches Hotline, and therefore how Hotline reaches it back.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SipTransport {
    Udp,
    Tcp,
    Tls,
    Ws,
    Wss,
}

impl SipTransport {
    pub fn as_str(self) -> &'static str {
        match self {
            SipTransport::Udp => "udp",
            SipTransport::Tcp => "tcp",
            SipTransport::Tls => "tls",
            SipTransport::Ws => "ws",
            SipTransport::Wss => "wss",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [
            SipTransport::Udp,
            SipTransport::Tcp,
            SipTransport::Tls,
            SipTransport::Ws,
            SipTransport::Wss,
        ]
        .into_iter()
        .find(|t| t.as_str().eq_ignore_ascii_case(text))
    }

    /// Stream transports keep a connection the phone opened; calls must reuse it.
    pub fn is_reliable(self) -> bool {
        self != SipTransport::Udp
    }
}

/// One registered contact of an agent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Binding {
    pub agent_id: AgentId,
    /// The agent's tenant; `None` for one of the firm's agents.
    pub tenant_id: Option<TenantId>,
    /// `sip:<user>@<realm>`.
    pub aor: String,
    /// What identifies this contact among the agent's (see the module docs).
    pub contact_key: String,
    /// The contact URI exactly as the phone sent it.
    pub contact_uri: String,
    pub instance_id: Option<String>,
    /// Where the REGISTER came from (received/rport): where calls to this contact go.
    pub source: SocketAddr,
    pub transport: SipTransport,
    pub user_agent: Option<String>,
    pub call_id: String,
    pub cseq: u32,
    pub expires_at: DateTime<Utc>,
    /// When this contact was first bound (under its current Call-ID).
    pub registered_at: DateTime<Utc>,
    /// The last REGISTER that refreshed it.
    pub updated_at: DateTime<Utc>,
}

impl Binding {
    pub fn is_live(&self, now: DateTime<Utc>) -> bool {
        self.expires_at > now
    }

    /// Whole seconds left, for the `expires` parameter of a 200 OK.
    pub fn seconds_left(&self, now: DateTime<Utc>) -> u32 {
        let left = (self.expires_at - now).num_milliseconds().max(0);
        u32::try_from((left + 999) / 1000).unwrap_or(u32::MAX)
    }

    pub fn contact(&self) -> AgentContact {
        AgentContact {
            contact_uri: self.contact_uri.clone(),
            target: self.source,
            transport: self.transport,
            user_agent: self.user_agent.clone(),
            expires_at: self.expires_at,
        }
    }
}

/// A phone the B2BUA can ring for an agent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AgentContact {
    /// The Request-URI to use: the contact as the phone registered it.
    pub contact_uri: String,
    /// Where to send the INVITE: the address the registration came from.
    pub target: SocketAddr,
    pub transport: SipTransport,
    pub user_agent: Option<String>,
    pub expires_at: DateTime<Utc>,
}

/// Registration lifetimes Hotline grants, in seconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ExpiryBounds {
    /// Shorter requests get 423 Interval Too Brief with this as Min-Expires.
    pub min: u32,
    /// Longer requests are granted this.
    pub max: u32,
    /// Granted when the phone asks for nothing.
    pub default: u32,
}

impl Default for ExpiryBounds {
    fn default() -> Self {
        Self {
            min: 60,
            max: 3600,
            default: 600,
        }
    }
}

/// One contact a REGISTER names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequestedContact {
    pub uri: String,
    pub key: String,
    pub instance_id: Option<String>,
    /// The contact's own `expires` parameter.
    pub expires: Option<u32>,
}

/// What a REGISTER's Contact headers ask for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ContactsRequest {
    /// No Contact: list the current bindings.
    Query,
    /// `Contact: *` (with `Expires: 0`): remove every binding.
    Wildcard,
    Bind(Vec<RequestedContact>),
}

/// An authenticated REGISTER, in the location service's terms.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Registration {
    pub agent_id: AgentId,
    pub tenant_id: Option<TenantId>,
    pub aor: String,
    pub call_id: String,
    pub cseq: u32,
    pub contacts: ContactsRequest,
    pub expires_header: Option<u32>,
    pub source: SocketAddr,
    pub transport: SipTransport,
    pub user_agent: Option<String>,
}

/// Why a REGISTER changes nothing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// 423 with `Min-Expires`.
    IntervalTooBrief { min_expires: u32 },
    /// Same Call-ID, CSeq not above the binding's: an old or replayed request (400).
    OutOfOrder,
    /// `*` with other contacts or without `Expires: 0` (400).
    WildcardMisused,
    /// More contacts in one request than an agent may have (403).
    TooManyContacts { max: usize },
}

/// What a REGISTER does: the agent's bindings afterwards, and the changes to persist.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Plan {
    pub current: Vec<Binding>,
    pub upserts: Vec<Binding>,
    /// Contact keys to delete.
    pub removals: Vec<String>,
}

/// Decide what `request` does to `existing` (the agent's bindings) at `now`.
pub fn plan(
    existing: &[Binding],
    request: &Registration,
    bounds: ExpiryBounds,
    max_contacts: usize,
    now: DateTime<Utc>,
) -> Result<Plan, Refusal> {
    let mut current: Vec<Binding> = existing
        .iter()
        .filter(|b| b.is_live(now))
        .cloned()
        .collect();
    let out_of_order =
        |binding: &Binding| binding.call_id == request.call_id && request.cseq <= binding.cseq;
    match &request.contacts {
        ContactsRequest::Query => Ok(Plan {
            current,
            ..Plan::default()
        }),
        ContactsRequest::Wildcard => {
            if request.expires_header != Some(0) {
                return Err(Refusal::WildcardMisused);
            }
            if current.iter().any(out_of_order) {
                return Err(Refusal::OutOfOrder);
            }
            Ok(Plan {
                removals: current.into_iter().map(|b| b.contact_key).collect(),
                ..Plan::default()
            })
        }
        ContactsRequest::Bind(contacts) => {
            if contacts.len() > max_contacts {
                return Err(Refusal::TooManyContacts { max: max_contacts });
            }
            let mut granted: Vec<(&RequestedContact, u32)> = Vec::with_capacity(contacts.len());
            for contact in contacts {
                let asked = contact
                    .expires
                    .or(request.expires_header)
                    .unwrap_or(bounds.default);
                if asked != 0 && asked < bounds.min {
                    return Err(Refusal::IntervalTooBrief {
                        min_expires: bounds.min,
                    });
                }
                if current
                    .iter()
                    .any(|b| b.contact_key == contact.key && out_of_order(b))
                {
                    return Err(Refusal::OutOfOrder);
                }
                // A key named twice in one request: the last mention wins.
                granted.retain(|(c, _)| c.key != contact.key);
                granted.push((contact, asked.min(bounds.max)));
            }

            let mut plan = Plan::default();
            for (contact, seconds) in granted {
                let before = current.iter().position(|b| b.contact_key == contact.key);
                if seconds == 0 {
                    if let Some(i) = before {
                        plan.removals.push(current.remove(i).contact_key);
                    }
                    continue;
                }
                let registered_at = match before.map(|i| &current[i]) {
                    Some(old) if old.call_id == request.call_id => old.registered_at,
                    _ => now,
                };
                let binding = Binding {
                    agent_id: request.agent_id,
                    tenant_id: request.tenant_id,
                    aor: request.aor.clone(),
                    contact_key: contact.key.clone(),
                    contact_uri: contact.uri.clone(),
                    instance_id: contact.instance_id.clone(),
                    source: request.source,
                    transport: request.transport,
                    user_agent: request.user_agent.clone(),
                    call_id: request.call_id.clone(),
                    cseq: request.cseq,
                    expires_at: now + Duration::seconds(i64::from(seconds)),
                    registered_at,
                    updated_at: now,
                };
                match before {
                    Some(i) => current[i] = binding.clone(),
                    None => current.push(binding.clone()),
                }
                plan.upserts.push(binding);
            }
            // Over the cap: the other contacts that expire soonest make room.
            while current.len() > max_contacts {
                let victim = current
                    .iter()
                    .enumerate()
                    .filter(|(_, b)| !plan.upserts.iter().any(|u| u.contact_key == b.contact_key))
                    .min_by_key(|(_, b)| b.expires_at)
                    .map(|(i, _)| i);
                let Some(i) = victim else { break };
                plan.removals.push(current.remove(i).contact_key);
            }
            plan.current = current;
            Ok(plan)
        }
    }
}

/// Every agent's bindings, in memory.
#[derive(Debug, Default)]
pub struct Location {
    by_agent: HashMap<AgentId, Vec<Binding>>,
}

impl Location {
    /// The agent's bindings, live or not yet swept.
    pub fn bindings(&self, agent: AgentId) -> &[Binding] {
        self.by_agent.get(&agent).map(Vec::as_slice).unwrap_or(&[])
    }

    /// The agent's live contacts, most recently refreshed first.
    pub fn contacts(&self, agent: AgentId, now: DateTime<Utc>) -> Vec<AgentContact> {
        let mut live: Vec<&Binding> = self
            .bindings(agent)
            .iter()
            .filter(|b| b.is_live(now))
            .collect();
        live.sort_by_key(|b| std::cmp::Reverse(b.updated_at));
        live.into_iter().map(Binding::contact).collect()
    }

    /// Set the agent's bindings to what a plan left.
    pub fn replace(&mut self, agent: AgentId, current: Vec<Binding>) {
        if current.is_empty() {
            self.by_agent.remove(&agent);
        } else {
            self.by_agent.insert(agent, current);
        }
    }

    /// Add a binding read back from the store at start-up (replacing one with its key).
    pub fn restore(&mut self, binding: Binding) {
        let list = self.by_agent.entry(binding.agent_id).or_default();
        list.retain(|b| b.contact_key != binding.contact_key);
        list.push(binding);
    }

    /// Drop expired bindings; how many went.
    pub fn remove_expired(&mut self, now: DateTime<Utc>) -> usize {
        let mut removed = 0;
        self.by_agent.retain(|_, list| {
            let before = list.len();
            list.retain(|b| b.is_live(now));
            removed += before - list.len();
            !list.is_empty()
        });
        removed
    }

    /// Bindings held, over all agents.
    pub fn len(&self) -> usize {
        self.by_agent.values().map(Vec::len).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(seconds: i64) -> DateTime<Utc> {
        DateTime::<Utc>::from_timestamp(1_800_000_000 + seconds, 0).unwrap()
    }

    fn contact(name: &str, expires: Option<u32>) -> RequestedContact {
        RequestedContact {
            uri: format!("sip:alice@{name}:5060"),
            key: format!("uri:sip:alice@{name}:5060"),
            instance_id: None,
            expires,
        }
    }

    struct Phone {
        agent: AgentId,
        call_id: String,
        cseq: u32,
        source: SocketAddr,
    }

    impl Phone {
        fn new(agent: AgentId, call_id: &str) -> Self {
            Self {
                agent,
                call_id: call_id.into(),
                cseq: 0,
                source: "198.51.100.7:40001".parse().unwrap(),
            }
        }

        fn register(&mut self, contacts: ContactsRequest, expires: Option<u32>) -> Registration {
            self.cseq += 1;
            Registration {
                agent_id: self.agent,
                tenant_id: None,
                aor: "sip:alice@acme.sip.example".into(),
                call_id: self.call_id.clone(),
                cseq: self.cseq,
                contacts,
                expires_header: expires,
                source: self.source,
                transport: SipTransport::Udp,
                user_agent: Some("Phone/1.0".into()),
            }
        }
    }

    const BOUNDS: ExpiryBounds = ExpiryBounds {
        min: 60,
        max: 3600,
        default: 600,
    };

    fn apply(
        location: &mut Location,
        request: &Registration,
        now: DateTime<Utc>,
    ) -> Result<Plan, Refusal> {
        let plan = plan(location.bindings(request.agent_id), request, BOUNDS, 3, now)?;
        location.replace(request.agent_id, plan.current.clone());
        Ok(plan)
    }

    #[test]
    fn expiry_is_default_clamped_or_too_brief() {
        let agent = AgentId::new();
        let mut location = Location::default();
        let mut phone = Phone::new(agent, "c1");

        let plan = apply(
            &mut location,
            &phone.register(ContactsRequest::Bind(vec![contact("a", None)]), None),
            t(0),
        )
        .unwrap();
        assert_eq!(plan.upserts[0].expires_at, t(600), "default");

        let plan = apply(
            &mut location,
            &phone.register(
                ContactsRequest::Bind(vec![contact("a", None)]),
                Some(99_999),
            ),
            t(1),
        )
        .unwrap();
        assert_eq!(plan.upserts[0].expires_at, t(3601), "clamped to max");

        // The contact's own parameter wins over the header.
        let plan = apply(
            &mut location,
            &phone.register(
                ContactsRequest::Bind(vec![contact("a", Some(120))]),
                Some(3000),
            ),
            t(2),
        )
        .unwrap();
        assert_eq!(plan.upserts[0].expires_at, t(122));

        let refused = apply(
            &mut location,
            &phone.register(ContactsRequest::Bind(vec![contact("a", None)]), Some(59)),
            t(3),
        );
        assert_eq!(refused, Err(Refusal::IntervalTooBrief { min_expires: 60 }));
        let refused = apply(
            &mut location,
            &phone.register(
                ContactsRequest::Bind(vec![contact("b", Some(1)), contact("c", None)]),
                None,
            ),
            t(3),
        );
        assert_eq!(refused, Err(Refusal::IntervalTooBrief { min_expires: 60 }));
        assert_eq!(
            location.bindings(agent).len(),
            1,
            "a refused request changes nothing"
        );
        assert_eq!(location.bindings(agent)[0].expires_at, t(122));
    }

    #[test]
    fn several_contacts_per_agent_each_with_its_own_source() {
        let agent = AgentId::new();
        let mut location = Location::default();
        let mut desk = Phone::new(agent, "desk");
        let mut soft = Phone::new(agent, "soft");
        soft.source = "203.0.113.9:5062".parse().unwrap();
        apply(
            &mut location,
            &desk.register(ContactsRequest::Bind(vec![contact("10.0.0.5", None)]), None),
            t(0),
        )
        .unwrap();
        let plan = apply(
            &mut location,
            &soft.register(
                ContactsRequest::Bind(vec![contact("192.168.1.20", None)]),
                Some(300),
            ),
            t(10),
        )
        .unwrap();
        assert_eq!(plan.current.len(), 2, "the 200 OK lists both");
        let contacts = location.contacts(agent, t(20));
        assert_eq!(contacts.len(), 2);
        assert_eq!(
            contacts[0].contact_uri, "sip:alice@192.168.1.20:5060",
            "newest first"
        );
        assert_eq!(
            contacts[0].target,
            "203.0.113.9:5062".parse().unwrap(),
            "calls go to the source"
        );
        assert_eq!(contacts[1].target, "198.51.100.7:40001".parse().unwrap());
        // The softphone's binding lapses first.
        assert_eq!(location.contacts(agent, t(311)).len(), 1);
        assert!(location.contacts(AgentId::new(), t(0)).is_empty());
    }

    #[test]
    fn refresh_keeps_first_registration_time_and_moves_expiry() {
        let agent = AgentId::new();
        let mut location = Location::default();
        let mut phone = Phone::new(agent, "c1");
        apply(
            &mut location,
            &phone.register(ContactsRequest::Bind(vec![contact("a", None)]), Some(300)),
            t(0),
        )
        .unwrap();
        phone.source = "198.51.100.7:40999".parse().unwrap(); // NAT rebinding
        let plan = apply(
            &mut location,
            &phone.register(ContactsRequest::Bind(vec![contact("a", None)]), Some(300)),
            t(200),
        )
        .unwrap();
        assert_eq!(plan.current.len(), 1);
        let binding = &plan.current[0];
        assert_eq!(binding.registered_at, t(0));
        assert_eq!(binding.updated_at, t(200));
        assert_eq!(binding.expires_at, t(500));
        assert_eq!(
            binding.source.port(),
            40999,
            "the new source is where calls go"
        );
        assert_eq!(binding.cseq, 2);
    }

    #[test]
    fn out_of_order_requests_are_refused_but_a_new_call_id_replaces() {
        let agent = AgentId::new();
        let mut location = Location::default();
        let mut phone = Phone::new(agent, "c1");
        phone.cseq = 10;
        apply(
            &mut location,
            &phone.register(ContactsRequest::Bind(vec![contact("a", None)]), None),
            t(0),
        )
        .unwrap();
        phone.cseq = 5; // an old request arriving late: CSeq 6 <= 11
        let refused = apply(
            &mut location,
            &phone.register(ContactsRequest::Bind(vec![contact("a", Some(0))]), None),
            t(1),
        );
        assert_eq!(refused, Err(Refusal::OutOfOrder));
        assert_eq!(location.bindings(agent).len(), 1);

        // The phone rebooted: a new Call-ID with a low CSeq replaces the binding.
        let mut rebooted = Phone::new(agent, "c2");
        let plan = apply(
            &mut location,
            &rebooted.register(ContactsRequest::Bind(vec![contact("a", None)]), None),
            t(2),
        )
        .unwrap();
        assert_eq!(plan.current.len(), 1);
        assert_eq!(plan.current[0].call_id, "c2");
        assert_eq!(plan.current[0].registered_at, t(2), "a new registration");
    }

    #[test]
    fn expires_zero_and_wildcard_unregister() {
        let agent = AgentId::new();
        let mut location = Location::default();
        let mut phone = Phone::new(agent, "c1");
        apply(
            &mut location,
            &phone.register(
                ContactsRequest::Bind(vec![contact("a", None), contact("b", None)]),
                None,
            ),
            t(0),
        )
        .unwrap();
        assert_eq!(location.bindings(agent).len(), 2);

        let plan = apply(
            &mut location,
            &phone.register(
                ContactsRequest::Bind(vec![contact("a", Some(0))]),
                Some(600),
            ),
            t(1),
        )
        .unwrap();
        assert_eq!(plan.removals, vec!["uri:sip:alice@a:5060".to_string()]);
        assert!(plan.upserts.is_empty());
        assert_eq!(location.bindings(agent).len(), 1);

        // Unregistering what is not bound changes nothing.
        let plan = apply(
            &mut location,
            &phone.register(ContactsRequest::Bind(vec![contact("zzz", None)]), Some(0)),
            t(2),
        )
        .unwrap();
        assert!(plan.removals.is_empty() && plan.upserts.is_empty());

        assert_eq!(
            apply(
                &mut location,
                &phone.register(ContactsRequest::Wildcard, Some(60)),
                t(3)
            ),
            Err(Refusal::WildcardMisused)
        );
        assert_eq!(
            apply(
                &mut location,
                &phone.register(ContactsRequest::Wildcard, None),
                t(3)
            ),
            Err(Refusal::WildcardMisused)
        );
        let plan = apply(
            &mut location,
            &phone.register(ContactsRequest::Wildcard, Some(0)),
            t(4),
        )
        .unwrap();
        assert_eq!(plan.removals, vec!["uri:sip:alice@b:5060".to_string()]);
        assert!(location.bindings(agent).is_empty());
        assert_eq!(
            location.len(),
            0,
            "an agent without bindings takes no memory"
        );
    }

    #[test]
    fn a_query_lists_without_changing() {
        let agent = AgentId::new();
        let mut location = Location::default();
        let mut phone = Phone::new(agent, "c1");
        apply(
            &mut location,
            &phone.register(ContactsRequest::Bind(vec![contact("a", None)]), None),
            t(0),
        )
        .unwrap();
        let plan = apply(
            &mut location,
            &phone.register(ContactsRequest::Query, None),
            t(1),
        )
        .unwrap();
        assert_eq!(plan.current.len(), 1);
        assert!(plan.upserts.is_empty() && plan.removals.is_empty());
    }

    #[test]
    fn the_contact_cap_drops_the_soonest_expiring_others() {
        let agent = AgentId::new();
        let mut location = Location::default();
        let mut phone = Phone::new(agent, "c1");
        apply(
            &mut location,
            &phone.register(
                ContactsRequest::Bind(vec![
                    contact("a", Some(100)),
                    contact("b", Some(3000)),
                    contact("c", Some(2000)),
                ]),
                None,
            ),
            t(0),
        )
        .unwrap();
        let mut other = Phone::new(agent, "c2");
        let plan = apply(
            &mut location,
            &other.register(ContactsRequest::Bind(vec![contact("d", None)]), None),
            t(1),
        )
        .unwrap();
        assert_eq!(plan.removals, vec!["uri:sip:alice@a:5060".to_string()]);
        let mut keys: Vec<&str> = plan
            .current
            .iter()
            .map(|b| b.contact_key.as_str())
            .collect();
        keys.sort();
        assert_eq!(
            keys,
            vec![
                "uri:sip:alice@b:5060",
                "uri:sip:alice@c:5060",
                "uri:sip:alice@d:5060"
            ]
        );

        let four = (0..4).map(|i| contact(&format!("x{i}"), None)).collect();
        assert_eq!(
            apply(
                &mut location,
                &other.register(ContactsRequest::Bind(four), None),
                t(2)
            ),
            Err(Refusal::TooManyContacts { max: 3 })
        );
    }

    #[test]
    fn expired_bindings_are_swept_and_not_listed() {
        let agent = AgentId::new();
        let mut location = Location::default();
        let mut phone = Phone::new(agent, "c1");
        apply(
            &mut location,
            &phone.register(
                ContactsRequest::Bind(vec![contact("a", Some(60)), contact("b", Some(600))]),
                None,
            ),
            t(0),
        )
        .unwrap();
        assert_eq!(location.contacts(agent, t(61)).len(), 1);
        assert_eq!(location.bindings(agent).len(), 2, "not swept yet");
        assert_eq!(location.remove_expired(t(61)), 1);
        assert_eq!(location.len(), 1);
        // A REGISTER after expiry starts from the live bindings only.
        let plan = apply(
            &mut location,
            &phone.register(ContactsRequest::Query, None),
            t(700),
        )
        .unwrap();
        assert!(plan.current.is_empty());
    }

    #[test]
    fn seconds_left_rounds_up() {
        let binding = Binding {
            agent_id: AgentId::new(),
            tenant_id: None,
            aor: "sip:a@r".into(),
            contact_key: "k".into(),
            contact_uri: "sip:a@h".into(),
            instance_id: None,
            source: "192.0.2.1:5060".parse().unwrap(),
            transport: SipTransport::Tcp,
            user_agent: None,
            call_id: "c".into(),
            cseq: 1,
            expires_at: t(100),
            registered_at: t(0),
            updated_at: t(0),
        };
        assert_eq!(binding.seconds_left(t(0)), 100);
        assert_eq!(binding.seconds_left(t(99) + Duration::milliseconds(1)), 1);
        assert_eq!(binding.seconds_left(t(200)), 0);
        assert!(binding.contact().transport.is_reliable());
        assert_eq!(SipTransport::parse("TCP"), Some(SipTransport::Tcp));
        assert_eq!(SipTransport::parse("sctp"), None);
    }
}
