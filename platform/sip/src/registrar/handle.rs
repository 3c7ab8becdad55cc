//! The registrar: answers REGISTER transactions, keeps the location map, persists bindings and
//! sweeps what expired. The decisions are the pure modules'; this one holds the state, reads
//! the clock, asks the directory, writes the store and counts metrics.
//!
//! Locking: the location map is behind a `RwLock` held only for copies and swaps (never across
//! an await), so the call engine's `contacts` lookups never wait for the database. Changes to
//! one agent's bindings are serialized by an async stripe lock (chosen by agent id) held from
//! planning until the store has the change, so the store sees one agent's changes in the order
//! memory did.
//!
//! A store failure does not fail the registration: memory is what calls are routed by, and the
//! next refresh writes the binding again. It is logged and counted
//! (`hotline_sip_binding_store_errors_total`). A directory failure does fail it (500 with
//! Retry-After), since nothing can be decided without credentials.

use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex, MutexGuard, RwLock, Weak};
use std::time::Instant;

use chrono::{DateTime, Utc};
use hotline_core::ids::AgentId;
use metrics::{counter, describe_counter, describe_gauge, gauge};
use rand::RngCore;
use rsipstack::sip::headers::untyped::{Contact, Date, MinExpires, RetryAfter, WwwAuthenticate};
use rsipstack::sip::{Header, Request, StatusCode};
use rsipstack::transaction::transaction::Transaction;
use tracing::{debug, error, info, warn};

use super::bindings::{self, AgentContact, Location, Plan, Refusal, Registration, SipTransport};
use super::digest::{self, DigestCredentials};
use super::nonce::{NonceIssuer, NonceState, NonceUses};
use super::request::{self, RegisterRequest};
use super::store::{AgentDirectory, BackendError, BindingStore, DynBindingStore, DynDirectory};
use super::throttle::{AuthThrottle, UserKey};
use super::RegistrarConfig;

/// Agents' changes are serialized per stripe; more stripes, less waiting between agents.
const STRIPES: usize = 64;
/// Seconds a client should wait after a 500 caused by the credential store being away.
const RETRY_AFTER_SECS: u32 = 5;

/// A final response, before it goes on the transaction.
#[derive(Debug)]
pub(crate) struct Reply {
    pub status: StatusCode,
    pub headers: Vec<Header>,
}

impl Reply {
    fn status(status: StatusCode) -> Self {
        Self {
            status,
            headers: Vec::new(),
        }
    }
}

pub struct Registrar {
    config: RegistrarConfig,
    nonces: NonceIssuer,
    nonce_uses: Mutex<NonceUses>,
    throttle: Mutex<AuthThrottle>,
    location: RwLock<Location>,
    stripes: Vec<tokio::sync::Mutex<()>>,
    directory: Box<dyn DynDirectory>,
    store: Box<dyn DynBindingStore>,
}

#[derive(Debug, thiserror::Error)]
pub enum RegistrarError {
    #[error("invalid registrar settings: {}", .0.join("; "))]
    Config(Vec<String>),
    #[error("cannot load the stored bindings: {0}")]
    Load(#[from] BackendError),
}

impl Registrar {
    /// A registrar with the bindings the store kept (expired ones are dropped).
    pub async fn start(
        config: RegistrarConfig,
        directory: impl AgentDirectory,
        store: impl BindingStore,
    ) -> Result<Arc<Self>, RegistrarError> {
        let problems = config.problems();
        if !problems.is_empty() {
            return Err(RegistrarError::Config(problems));
        }
        describe_metrics();
        let mut key = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut key);
        let registrar = Self {
            nonces: NonceIssuer::new(key, config.nonce_ttl),
            nonce_uses: Mutex::new(NonceUses::new(config.nonce_uses_capacity)),
            throttle: Mutex::new(AuthThrottle::new(config.throttle)),
            location: RwLock::new(Location::default()),
            stripes: (0..STRIPES).map(|_| tokio::sync::Mutex::new(())).collect(),
            directory: Box::new(directory),
            store: Box::new(store),
            config,
        };
        let now = Utc::now();
        let stored = registrar.store.boxed_load_all().await?;
        {
            let mut location = write(&registrar.location);
            for binding in stored.into_iter().filter(|b| b.is_live(now)) {
                location.restore(binding);
            }
            gauge!("hotline_sip_bindings").set(location.len() as f64);
            info!(
                bindings = location.len(),
                "registrar restored stored bindings"
            );
        }
        Ok(Arc::new(registrar))
    }

    /// The agent's registered phones, most recently refreshed first: whom to ring.
    pub fn contacts(&self, agent: AgentId) -> Vec<AgentContact> {
        read(&self.location).contacts(agent, Utc::now())
    }

    /// Answer one REGISTER server transaction that came from `source` (its received/rport
    /// address).
    pub async fn on_register(&self, tx: &mut Transaction, source: SocketAddr) {
        let transport = tx
            .connection
            .as_ref()
            .map(|c| transport_of(c.transport()))
            .unwrap_or(SipTransport::Udp);
        let reply = self.respond(&tx.original, source, transport).await;
        let status = reply.status.code();
        if let Err(error) = tx.reply_with(reply.status, reply.headers, None).await {
            debug!(%error, status, %source, "could not answer a REGISTER");
        }
    }

    /// Remove expired bindings (memory and store), idle throttle entries and old nonce counts.
    pub async fn sweep(&self) -> usize {
        let now = Utc::now();
        let removed = {
            let mut location = write(&self.location);
            let removed = location.remove_expired(now);
            gauge!("hotline_sip_bindings").set(location.len() as f64);
            removed
        };
        let (sources, users) = {
            let mut throttle = lock(&self.throttle);
            throttle.sweep(Instant::now());
            throttle.tracked()
        };
        gauge!("hotline_sip_auth_throttle_keys", "table" => "source").set(sources as f64);
        gauge!("hotline_sip_auth_throttle_keys", "table" => "user").set(users as f64);
        let nonce_uses = {
            let mut uses = lock(&self.nonce_uses);
            uses.forget_issued_before(now.timestamp_millis() - self.nonces.ttl_ms());
            uses.len()
        };
        gauge!("hotline_sip_nonce_uses").set(nonce_uses as f64);
        if let Err(error) = self.store.boxed_remove_expired(now).await {
            counter!("hotline_sip_binding_store_errors_total").increment(1);
            warn!(%error, "could not delete expired bindings from the store");
        }
        if removed > 0 {
            debug!(removed, "expired bindings swept");
        }
        removed
    }

    /// Sweep every `sweep_interval` until the registrar is dropped.
    pub fn spawn_maintenance(self: &Arc<Self>) -> tokio::task::JoinHandle<()> {
        let weak: Weak<Self> = Arc::downgrade(self);
        let every = self.config.sweep_interval;
        tokio::spawn(async move {
            let mut ticker = tokio::time::interval(every);
            ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            ticker.tick().await;
            loop {
                ticker.tick().await;
                let Some(registrar) = weak.upgrade() else {
                    break;
                };
                registrar.sweep().await;
            }
        })
    }

    pub(crate) async fn respond(
        &self,
        request: &Request,
        source: SocketAddr,
        transport: SipTransport,
    ) -> Reply {
        self.respond_at(request, source, transport, Utc::now(), Instant::now())
            .await
    }

    /// The answer to one REGISTER at a given time (tests move the clock).
    pub(crate) async fn respond_at(
        &self,
        request: &Request,
        source: SocketAddr,
        transport: SipTransport,
        now: DateTime<Utc>,
        instant: Instant,
    ) -> Reply {
        let ip = source.ip();
        if lock(&self.throttle).source_banned(ip, instant) {
            counter!("hotline_sip_register_refused_banned_total", "kind" => "source").increment(1);
            return Reply::status(StatusCode::Forbidden);
        }
        let register = match request::read_register(request) {
            Ok(register) => register,
            Err(request::RequestError::DomainMismatch { domain, to }) => {
                debug!(%source, %domain, %to, "REGISTER for an AOR outside its domain");
                return Reply::status(StatusCode::Forbidden);
            }
            Err(error) => {
                debug!(%source, %error, "unreadable REGISTER");
                return Reply::status(StatusCode::BadRequest);
            }
        };
        let user = UserKey::new(&register.domain, &register.username);
        if lock(&self.throttle).user_banned(&user, instant) {
            counter!("hotline_sip_register_refused_banned_total", "kind" => "user").increment(1);
            return Reply::status(StatusCode::Forbidden);
        }

        // The credentials answering this realm's challenge; others (another realm's, a
        // proxy's) are not ours to check.
        let answer = register.authorizations.iter().find_map(|value| {
            match digest::parse_authorization(value) {
                Ok(c) if c.realm.eq_ignore_ascii_case(&register.domain) => Some(Ok(c)),
                Ok(_) => None,
                Err(e) => Some(Err(e)),
            }
        });
        let credentials = match answer {
            None => return self.challenge(&register.domain, false, now),
            Some(Err(error)) => {
                debug!(%source, %error, "malformed Authorization");
                self.fail("malformed", ip, Some(user), instant);
                return Reply::status(StatusCode::BadRequest);
            }
            Some(Ok(credentials)) => credentials,
        };
        if credentials.username != register.username {
            self.fail("username", ip, Some(user), instant);
            return Reply::status(StatusCode::Forbidden);
        }
        if !request::digest_uri_matches(&credentials.uri, &request.uri) {
            debug!(%source, uri = %credentials.uri, "digest uri is not the Request-URI");
            self.fail("uri", ip, Some(user), instant);
            return Reply::status(StatusCode::BadRequest);
        }

        let agent = match self
            .directory
            .boxed_credentials(&register.domain, &register.username)
            .await
        {
            Ok(agent) => agent,
            Err(error) => {
                error!(%error, "cannot read agent credentials; REGISTER refused with 500");
                return Reply {
                    status: StatusCode::ServerInternalError,
                    headers: vec![Header::RetryAfter(RetryAfter::new(
                        RETRY_AFTER_SECS.to_string(),
                    ))],
                };
            }
        };
        // Defence in depth: a directory must never hand back another realm's agent.
        let agent = agent.filter(|a| {
            a.realm.eq_ignore_ascii_case(&register.domain) && a.username == register.username
        });
        let Some(agent) = agent else {
            self.fail("unknown_user", ip, Some(user), instant);
            return Reply::status(StatusCode::Forbidden);
        };
        if !digest::verify(agent.ha1(credentials.algorithm), "REGISTER", &credentials) {
            self.fail("password", ip, Some(user), instant);
            return Reply::status(StatusCode::Forbidden);
        }
        if !agent.enabled {
            // The right password for a disabled agent or suspended tenant: refused, but not
            // counted, so a forgotten phone cannot get its office's address banned.
            counter!("hotline_sip_register_refused_disabled_total").increment(1);
            return Reply::status(StatusCode::Forbidden);
        }
        if !self.nonce_is_fresh(&credentials, &register.domain, now) {
            return self.challenge(&register.domain, true, now);
        }

        let registration = Registration {
            agent_id: agent.agent_id,
            tenant_id: agent.tenant_id,
            aor: format!("sip:{}@{}", agent.username, agent.realm),
            call_id: register.call_id.clone(),
            cseq: register.cseq,
            contacts: register.contacts.clone(),
            expires_header: register.expires_header,
            source,
            transport,
            user_agent: register.user_agent.clone(),
        };
        match self.apply(&registration, now).await {
            Ok(plan) => {
                log_change(&register, &registration, &plan);
                counter!("hotline_sip_registrations_total", "result" => "ok").increment(1);
                ok_reply(&plan, now)
            }
            Err(refusal) => {
                counter!("hotline_sip_registrations_total", "result" => "refused").increment(1);
                refusal_reply(refusal)
            }
        }
    }

    /// Is the answered nonce ours, young, and used with a count never seen before?
    fn nonce_is_fresh(
        &self,
        credentials: &DigestCredentials,
        realm: &str,
        now: DateTime<Utc>,
    ) -> bool {
        match self
            .nonces
            .check(&credentials.nonce, realm, now.timestamp_millis())
        {
            NonceState::Fresh { id, issued_at_ms } => {
                lock(&self.nonce_uses).accept(id, issued_at_ms, credentials.nonce_count())
            }
            NonceState::Expired | NonceState::Invalid => false,
        }
    }

    fn challenge(&self, realm: &str, stale: bool, now: DateTime<Utc>) -> Reply {
        let mut salt = [0u8; 8];
        rand::thread_rng().fill_bytes(&mut salt);
        let nonce = self.nonces.issue(realm, now.timestamp_millis(), salt);
        let headers = self
            .config
            .algorithms
            .iter()
            .map(|algorithm| {
                Header::WwwAuthenticate(WwwAuthenticate::new(digest::challenge(
                    realm, &nonce, *algorithm, stale,
                )))
            })
            .collect();
        Reply {
            status: StatusCode::Unauthorized,
            headers,
        }
    }

    fn fail(&self, reason: &'static str, ip: IpAddr, user: Option<UserKey>, instant: Instant) {
        counter!("hotline_sip_auth_failures_total", "reason" => reason).increment(1);
        let bans = lock(&self.throttle).record_failure(ip, user, instant);
        for kind in bans {
            counter!("hotline_sip_bans_total", "kind" => kind.as_str()).increment(1);
            warn!(%ip, kind = kind.as_str(), reason, "too many failed SIP authentications: banned");
        }
    }

    /// Plan the change, make it in memory, write it to the store, one agent at a time.
    async fn apply(
        &self,
        registration: &Registration,
        now: DateTime<Utc>,
    ) -> Result<Plan, Refusal> {
        let agent = registration.agent_id;
        let stripe = (agent.0.as_u128() % STRIPES as u128) as usize;
        let _turn = self.stripes[stripe].lock().await;
        let existing = read(&self.location).bindings(agent).to_vec();
        let plan = bindings::plan(
            &existing,
            registration,
            self.config.expiry,
            self.config.max_contacts_per_agent,
            now,
        )?;
        if plan.upserts.is_empty() && plan.removals.is_empty() {
            return Ok(plan);
        }
        {
            let mut location = write(&self.location);
            location.replace(agent, plan.current.clone());
            gauge!("hotline_sip_bindings").set(location.len() as f64);
        }
        for key in &plan.removals {
            if let Err(error) = self.store.boxed_remove(agent, key).await {
                counter!("hotline_sip_binding_store_errors_total").increment(1);
                warn!(%error, %agent, "could not delete a binding from the store");
            }
        }
        for binding in &plan.upserts {
            if let Err(error) = self.store.boxed_upsert(binding).await {
                counter!("hotline_sip_binding_store_errors_total").increment(1);
                warn!(%error, %agent, "could not store a binding");
            }
        }
        Ok(plan)
    }
}

/// The stack's dispatcher hands every REGISTER transaction to the registrar through this.
impl crate::stack::RegisterHandler for Registrar {
    fn on_register<'a>(
        &'a self,
        tx: &'a mut Transaction,
        source: SocketAddr,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send + 'a>> {
        Box::pin(Registrar::on_register(self, tx, source))
    }
}

fn ok_reply(plan: &Plan, now: DateTime<Utc>) -> Reply {
    let mut headers: Vec<Header> = plan
        .current
        .iter()
        .map(|b| {
            Header::Contact(Contact::new(format!(
                "<{}>;expires={}",
                b.contact_uri,
                b.seconds_left(now)
            )))
        })
        .collect();
    headers.push(Header::Date(Date::new(
        now.format("%a, %d %b %Y %H:%M:%S GMT").to_string(),
    )));
    Reply {
        status: StatusCode::OK,
        headers,
    }
}

fn refusal_reply(refusal: Refusal) -> Reply {
    match refusal {
        Refusal::IntervalTooBrief { min_expires } => Reply {
            status: StatusCode::IntervalTooBrief,
            headers: vec![Header::MinExpires(MinExpires::new(min_expires.to_string()))],
        },
        Refusal::OutOfOrder | Refusal::WildcardMisused => Reply::status(StatusCode::BadRequest),
        Refusal::TooManyContacts { .. } => Reply::status(StatusCode::Forbidden),
    }
}

fn log_change(register: &RegisterRequest, registration: &Registration, plan: &Plan) {
    let tenant = registration
        .tenant_id
        .map(|t| t.to_string())
        .unwrap_or_else(|| "firm".into());
    for binding in &plan.upserts {
        if binding.registered_at == binding.updated_at {
            info!(tenant = %tenant, agent = %registration.agent_id, aor = %registration.aor,
                contact = %binding.contact_uri, source = %binding.source,
                transport = binding.transport.as_str(), user_agent = ?register.user_agent,
                "agent phone registered");
        } else {
            debug!(tenant = %tenant, agent = %registration.agent_id,
                contact = %binding.contact_uri, source = %binding.source, "registration refreshed");
        }
    }
    for key in &plan.removals {
        info!(tenant = %tenant, agent = %registration.agent_id, contact_key = %key,
            "agent phone unregistered");
    }
}

fn transport_of(transport: rsipstack::sip::Transport) -> SipTransport {
    use rsipstack::sip::Transport as T;
    match transport {
        T::Udp => SipTransport::Udp,
        T::Tcp | T::Sctp => SipTransport::Tcp,
        T::Tls | T::TlsSctp => SipTransport::Tls,
        T::Ws => SipTransport::Ws,
        T::Wss => SipTransport::Wss,
    }
}

fn describe_metrics() {
    describe_counter!(
        "hotline_sip_auth_failures_total",
        "Failed SIP digest authentications of REGISTERs, by reason"
    );
    describe_counter!(
        "hotline_sip_bans_total",
        "Temporary bans started after too many failed authentications, by kind (source, user)"
    );
    describe_counter!(
        "hotline_sip_register_refused_banned_total",
        "REGISTERs refused with 403 because their source or user is banned"
    );
    describe_counter!(
        "hotline_sip_register_refused_disabled_total",
        "REGISTERs with the right password for a disabled agent or suspended tenant"
    );
    describe_counter!(
        "hotline_sip_registrations_total",
        "Authenticated REGISTERs, by result (ok, refused)"
    );
    describe_counter!(
        "hotline_sip_binding_store_errors_total",
        "Binding writes the store refused (memory stays authoritative)"
    );
    describe_gauge!(
        "hotline_sip_bindings",
        "Registered agent contacts held in memory"
    );
    describe_gauge!(
        "hotline_sip_auth_throttle_keys",
        "Sources and users with recent failed authentications tracked (bounded)"
    );
    describe_gauge!(
        "hotline_sip_nonce_uses",
        "Nonces whose use counts are remembered for replay protection (bounded)"
    );
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn read<T>(lock: &RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    lock.read().unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn write<T>(lock: &RwLock<T>) -> std::sync::RwLockWriteGuard<'_, T> {
    lock.write()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registrar::digest::{parse_params, DigestAlgorithm};
    use crate::registrar::memory::{MemoryBindingStore, MemoryDirectory};
    use crate::registrar::store::AgentCredential;
    use crate::registrar::ThrottleConfig;
    use hotline_core::ids::TenantId;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::time::Duration;

    const ACME: &str = "acme.sip.example";
    const GLOBEX: &str = "globex.sip.example";
    const PHONE: &str = "198.51.100.20:40001";

    struct Fixture {
        registrar: Arc<Registrar>,
        directory: Arc<MemoryDirectory>,
        store: Arc<MemoryBindingStore>,
        alice: AgentCredential,
    }

    async fn fixture(config: RegistrarConfig) -> Fixture {
        let directory = Arc::new(MemoryDirectory::default());
        let store = Arc::new(MemoryBindingStore::default());
        let alice = directory.add_agent(Some(TenantId::new()), ACME, "alice", "alice-secret");
        let registrar = Registrar::start(config, directory.clone(), store.clone())
            .await
            .unwrap();
        Fixture {
            registrar,
            directory,
            store,
            alice,
        }
    }

    /// A phone: one Call-ID, increasing CSeq, its own contact.
    struct Phone {
        user: String,
        domain: String,
        password: String,
        call_id: String,
        cseq: u32,
        contact: String,
        source: SocketAddr,
        nc: u32,
    }

    impl Phone {
        fn new(user: &str, domain: &str, password: &str) -> Self {
            Self {
                user: user.into(),
                domain: domain.into(),
                password: password.into(),
                call_id: format!("{}@phone", uuid_like()),
                cseq: 0,
                contact: format!("sip:{user}@192.168.1.20:5060"),
                source: PHONE.parse().unwrap(),
                nc: 0,
            }
        }

        /// A REGISTER with these extra header lines.
        fn request(&mut self, extra: &str) -> Request {
            self.cseq += 1;
            let text = format!(
                "REGISTER sip:{domain} SIP/2.0\r\n\
                 Via: SIP/2.0/UDP 192.168.1.20:5060;branch=z9hG4bK{cseq}x{call};rport\r\n\
                 Max-Forwards: 70\r\n\
                 To: <sip:{user}@{domain}>\r\n\
                 From: <sip:{user}@{domain}>;tag=f00\r\n\
                 Call-ID: {call}\r\n\
                 CSeq: {cseq} REGISTER\r\n\
                 User-Agent: TestPhone/1.0\r\n\
                 {extra}\
                 Content-Length: 0\r\n\r\n",
                domain = self.domain,
                user = self.user,
                call = self.call_id,
                cseq = self.cseq,
            );
            Request::try_from(text.as_str()).unwrap()
        }

        fn bind(&mut self, expires: u32, authorization: Option<String>) -> Request {
            let auth = authorization
                .map(|a| format!("Authorization: {a}\r\n"))
                .unwrap_or_default();
            let contact = self.contact.clone();
            self.request(&format!(
                "Contact: <{contact}>\r\nExpires: {expires}\r\n{auth}"
            ))
        }

        /// The Authorization answering `challenge` with this phone's password.
        fn answer(&mut self, challenge: &str) -> String {
            self.nc += 1;
            answer(
                challenge,
                &self.user,
                &self.password,
                &format!("sip:{}", self.domain),
                self.nc,
            )
        }
    }

    fn uuid_like() -> String {
        AgentId::new().to_string()
    }

    fn answer(challenge: &str, user: &str, password: &str, uri: &str, nc: u32) -> String {
        let (_, rest) = challenge.split_once(' ').unwrap();
        let params = parse_params(rest).unwrap();
        let get = |name: &str| {
            params
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
                .unwrap()
        };
        let realm = get("realm");
        let nonce = get("nonce");
        let algorithm = DigestAlgorithm::parse(&get("algorithm")).unwrap();
        let ha1 = digest::ha1(algorithm, user, &realm, password);
        let ha2 = algorithm.hex(format!("REGISTER:{uri}").as_bytes());
        let nc = format!("{nc:08x}");
        let cnonce = "0a4f113b";
        let response = algorithm.hex(format!("{ha1}:{nonce}:{nc}:{cnonce}:auth:{ha2}").as_bytes());
        format!(
            "Digest username=\"{user}\", realm=\"{realm}\", nonce=\"{nonce}\", uri=\"{uri}\", response=\"{response}\", algorithm={}, qop=auth, nc={nc}, cnonce=\"{cnonce}\"",
            algorithm.as_str()
        )
    }

    fn challenges(reply: &Reply) -> Vec<String> {
        reply
            .headers
            .iter()
            .filter_map(|h| match h {
                Header::WwwAuthenticate(w) => Some(w.value().to_string()),
                _ => None,
            })
            .collect()
    }

    fn contacts(reply: &Reply) -> Vec<String> {
        reply
            .headers
            .iter()
            .filter_map(|h| match h {
                Header::Contact(c) => Some(c.value().to_string()),
                _ => None,
            })
            .collect()
    }

    impl Fixture {
        async fn send(&self, source: SocketAddr, request: &Request) -> Reply {
            self.registrar
                .respond(request, source, SipTransport::Udp)
                .await
        }

        /// Challenge, then answer it with the challenge at `pick` (0: the first offered).
        async fn register(&self, phone: &mut Phone, expires: u32, pick: usize) -> Reply {
            let first = phone.bind(expires, None);
            let reply = self.send(phone.source, &first).await;
            assert_eq!(reply.status, StatusCode::Unauthorized);
            let auth = phone.answer(&challenges(&reply)[pick]);
            let second = phone.bind(expires, Some(auth));
            self.send(phone.source, &second).await
        }
    }

    #[tokio::test]
    async fn challenge_offers_sha256_then_md5_and_both_register() {
        let fx = fixture(RegistrarConfig::default()).await;
        let mut phone = Phone::new("alice", ACME, "alice-secret");
        let reply = fx.send(phone.source, &phone.bind(300, None)).await;
        assert_eq!(reply.status, StatusCode::Unauthorized);
        let offered = challenges(&reply);
        assert_eq!(offered.len(), 2);
        assert!(offered[0].contains("algorithm=SHA-256"), "{offered:?}");
        assert!(offered[1].contains("algorithm=MD5"), "{offered:?}");
        assert!(offered
            .iter()
            .all(|c| c.contains(&format!("realm=\"{ACME}\"")) && c.contains("qop=\"auth\"")));
        assert!(fx.store.snapshot().is_empty(), "a challenge binds nothing");

        let reply = fx.register(&mut phone, 300, 0).await;
        assert_eq!(reply.status, StatusCode::OK);
        assert_eq!(
            contacts(&reply),
            vec!["<sip:alice@192.168.1.20:5060>;expires=300".to_string()]
        );
        assert!(reply
            .headers
            .iter()
            .any(|h| matches!(h, Header::Date(d) if d.value().ends_with(" GMT"))));

        let mut md5_phone = Phone::new("alice", ACME, "alice-secret");
        md5_phone.contact = "sip:alice@10.1.1.1:5062".into();
        md5_phone.source = "203.0.113.50:5062".parse().unwrap();
        let reply = fx.register(&mut md5_phone, 600, 1).await;
        assert_eq!(reply.status, StatusCode::OK);
        assert_eq!(
            contacts(&reply).len(),
            2,
            "the 200 lists every contact of the AOR"
        );

        let bound = fx.registrar.contacts(fx.alice.agent_id);
        assert_eq!(bound.len(), 2);
        assert_eq!(bound[0].contact_uri, "sip:alice@10.1.1.1:5062");
        assert_eq!(
            bound[0].target,
            "203.0.113.50:5062".parse().unwrap(),
            "the source, not the Contact"
        );
        assert_eq!(bound[1].target, PHONE.parse().unwrap());
        assert_eq!(bound[0].user_agent.as_deref(), Some("TestPhone/1.0"));
        let stored = fx.store.snapshot();
        assert_eq!(stored.len(), 2);
        assert!(stored
            .iter()
            .all(|b| b.agent_id == fx.alice.agent_id && b.aor == "sip:alice@acme.sip.example"));
        assert!(stored.iter().all(|b| b.tenant_id == fx.alice.tenant_id));
    }

    #[tokio::test]
    async fn wrong_password_unknown_user_and_foreign_identities_get_403() {
        let fx = fixture(RegistrarConfig::default()).await;
        let mut wrong = Phone::new("alice", ACME, "guess");
        assert_eq!(
            fx.register(&mut wrong, 300, 0).await.status,
            StatusCode::Forbidden
        );
        let mut nobody = Phone::new("mallory", ACME, "whatever");
        assert_eq!(
            fx.register(&mut nobody, 300, 1).await.status,
            StatusCode::Forbidden
        );

        // Alice authenticates, but for Bob's AOR: the digest username must be To's user.
        let mut phone = Phone::new("bob", ACME, "alice-secret");
        let reply = fx.send(phone.source, &phone.bind(300, None)).await;
        let auth = answer(
            &challenges(&reply)[0],
            "alice",
            "alice-secret",
            &format!("sip:{ACME}"),
            1,
        );
        let reply = fx.send(phone.source, &phone.bind(300, Some(auth))).await;
        assert_eq!(reply.status, StatusCode::Forbidden);

        // A digest uri that is not the Request-URI.
        let mut phone = Phone::new("alice", ACME, "alice-secret");
        let reply = fx.send(phone.source, &phone.bind(300, None)).await;
        let auth = answer(
            &challenges(&reply)[0],
            "alice",
            "alice-secret",
            "sip:127.0.0.1:5060",
            1,
        );
        let reply = fx.send(phone.source, &phone.bind(300, Some(auth))).await;
        assert_eq!(reply.status, StatusCode::BadRequest);

        // Garbage credentials.
        let reply = fx
            .send(
                phone.source,
                &phone.bind(
                    300,
                    Some(format!(
                        "Digest username=\"alice\", realm=\"{ACME}\", qop=bogus"
                    )),
                ),
            )
            .await;
        assert_eq!(reply.status, StatusCode::BadRequest);

        assert!(fx.store.snapshot().is_empty());
        assert!(fx.registrar.contacts(fx.alice.agent_id).is_empty());
    }

    #[tokio::test]
    async fn a_registration_never_lands_in_another_realm() {
        let fx = fixture(RegistrarConfig::default()).await;
        // Globex has its own alice, with another password.
        let globex_alice =
            fx.directory
                .add_agent(Some(TenantId::new()), GLOBEX, "alice", "globex-secret");

        // Acme's password in Globex's realm: refused, nothing bound for either alice.
        let mut phone = Phone::new("alice", GLOBEX, "alice-secret");
        assert_eq!(
            fx.register(&mut phone, 300, 0).await.status,
            StatusCode::Forbidden
        );

        // Answering Acme's challenge (realm=acme) on a REGISTER to Globex: not an answer to
        // Globex's challenge, so another challenge.
        let mut acme = Phone::new("alice", ACME, "alice-secret");
        let reply = fx.send(acme.source, &acme.bind(300, None)).await;
        let acme_auth = acme.answer(&challenges(&reply)[0]);
        let mut cross = Phone::new("alice", GLOBEX, "alice-secret");
        let reply = fx
            .send(cross.source, &cross.bind(300, Some(acme_auth)))
            .await;
        assert_eq!(reply.status, StatusCode::Unauthorized);

        // A Request-URI in Acme with an AOR in Globex.
        let mut mixed = Phone::new("alice", ACME, "alice-secret");
        let request = mixed.bind(300, None);
        let text = request.to_string().replace(
            &format!("To: <sip:alice@{ACME}>"),
            &format!("To: <sip:alice@{GLOBEX}>"),
        );
        let reply = fx
            .send(mixed.source, &Request::try_from(text.as_str()).unwrap())
            .await;
        assert_eq!(reply.status, StatusCode::Forbidden);

        assert!(fx.registrar.contacts(fx.alice.agent_id).is_empty());
        assert!(fx.registrar.contacts(globex_alice.agent_id).is_empty());

        // Each alice registers in her own realm, and only her own binding appears.
        let mut globex = Phone::new("alice", GLOBEX, "globex-secret");
        assert_eq!(
            fx.register(&mut globex, 300, 0).await.status,
            StatusCode::OK
        );
        assert_eq!(fx.registrar.contacts(globex_alice.agent_id).len(), 1);
        assert!(fx.registrar.contacts(fx.alice.agent_id).is_empty());
        let stored = fx.store.snapshot();
        assert_eq!(stored.len(), 1);
        assert_eq!(stored[0].aor, format!("sip:alice@{GLOBEX}"));
        assert_eq!(stored[0].tenant_id, globex_alice.tenant_id);
    }

    #[tokio::test]
    async fn an_expired_nonce_with_the_right_password_gets_stale_true() {
        let fx = fixture(RegistrarConfig::default()).await;
        let mut phone = Phone::new("alice", ACME, "alice-secret");
        let old = Utc::now() - chrono::Duration::seconds(301);
        let nonce = fx
            .registrar
            .nonces
            .issue(ACME, old.timestamp_millis(), [5; 8]);
        let challenge = digest::challenge(ACME, &nonce, DigestAlgorithm::Sha256, false);

        let auth = phone.answer(&challenge);
        let reply = fx.send(phone.source, &phone.bind(300, Some(auth))).await;
        assert_eq!(reply.status, StatusCode::Unauthorized);
        let fresh = challenges(&reply);
        assert!(fresh.iter().all(|c| c.ends_with("stale=true")), "{fresh:?}");
        assert!(!fresh[0].contains(&nonce), "a new nonce");

        // The same old nonce with a wrong password is a failure, not a stale nonce.
        let auth = answer(&challenge, "alice", "wrong", &format!("sip:{ACME}"), 1);
        assert_eq!(
            fx.send(phone.source, &phone.bind(300, Some(auth)))
                .await
                .status,
            StatusCode::Forbidden
        );

        // The new nonce works.
        let auth = phone.answer(&fresh[0]);
        assert_eq!(
            fx.send(phone.source, &phone.bind(300, Some(auth)))
                .await
                .status,
            StatusCode::OK
        );

        // A nonce from before a restart (another key) is handled like an expired one.
        let restarted = NonceIssuer::new([9; 32], Duration::from_secs(300));
        let foreign = restarted.issue(ACME, Utc::now().timestamp_millis(), [1; 8]);
        let auth = phone.answer(&digest::challenge(
            ACME,
            &foreign,
            DigestAlgorithm::Md5,
            false,
        ));
        let reply = fx.send(phone.source, &phone.bind(300, Some(auth))).await;
        assert_eq!(reply.status, StatusCode::Unauthorized);
        assert!(challenges(&reply)[0].ends_with("stale=true"));
    }

    #[tokio::test]
    async fn a_nonce_is_reused_only_with_a_higher_count() {
        let fx = fixture(RegistrarConfig::default()).await;
        let mut phone = Phone::new("alice", ACME, "alice-secret");
        let reply = fx.send(phone.source, &phone.bind(300, None)).await;
        let challenge = challenges(&reply)[0].clone();
        let first = phone.answer(&challenge);
        assert_eq!(
            fx.send(phone.source, &phone.bind(300, Some(first.clone())))
                .await
                .status,
            StatusCode::OK
        );
        // Replaying the same Authorization (same nc) on a new request: stale, re-challenged.
        let reply = fx.send(phone.source, &phone.bind(300, Some(first))).await;
        assert_eq!(reply.status, StatusCode::Unauthorized);
        // The next count on the same nonce is what a refreshing phone sends: accepted.
        let next = phone.answer(&challenge);
        assert!(next.contains("nc=00000002"));
        assert_eq!(
            fx.send(phone.source, &phone.bind(300, Some(next)))
                .await
                .status,
            StatusCode::OK
        );
    }

    #[tokio::test]
    async fn expiry_bounds_unregister_and_wildcard() {
        let fx = fixture(RegistrarConfig::default()).await;
        let mut phone = Phone::new("alice", ACME, "alice-secret");
        let reply = fx.register(&mut phone, 30, 0).await;
        assert_eq!(reply.status, StatusCode::IntervalTooBrief);
        assert!(reply
            .headers
            .iter()
            .any(|h| matches!(h, Header::MinExpires(m) if m.value() == "60")));

        let reply = fx.register(&mut phone, 100_000, 0).await;
        assert_eq!(reply.status, StatusCode::OK);
        assert_eq!(
            contacts(&reply),
            vec!["<sip:alice@192.168.1.20:5060>;expires=3600".to_string()]
        );

        let reply = fx.register(&mut phone, 0, 0).await;
        assert_eq!(reply.status, StatusCode::OK);
        assert!(contacts(&reply).is_empty());
        assert!(fx.registrar.contacts(fx.alice.agent_id).is_empty());
        assert!(
            fx.store.snapshot().is_empty(),
            "unregistering deletes the stored binding"
        );

        // Two phones, then `Contact: *` from one of them removes both.
        assert_eq!(fx.register(&mut phone, 300, 0).await.status, StatusCode::OK);
        let mut desk = Phone::new("alice", ACME, "alice-secret");
        desk.contact = "sip:alice@192.168.1.21:5060".into();
        assert_eq!(fx.register(&mut desk, 300, 0).await.status, StatusCode::OK);
        assert_eq!(fx.store.snapshot().len(), 2);
        let reply = fx
            .send(phone.source, &phone.request("Contact: *\r\nExpires: 0\r\n"))
            .await;
        let auth = phone.answer(&challenges(&reply)[0]);
        let reply = fx
            .send(
                phone.source,
                &phone.request(&format!(
                    "Contact: *\r\nExpires: 0\r\nAuthorization: {auth}\r\n"
                )),
            )
            .await;
        assert_eq!(reply.status, StatusCode::OK);
        assert!(fx.registrar.contacts(fx.alice.agent_id).is_empty());
        assert!(fx.store.snapshot().is_empty());
    }

    #[tokio::test]
    async fn a_flood_of_wrong_passwords_bans_the_source_while_others_register() {
        let config = RegistrarConfig {
            throttle: ThrottleConfig {
                max_failures: 10,
                window: Duration::from_secs(60),
                ban: Duration::from_secs(300),
                capacity: 1000,
            },
            ..RegistrarConfig::default()
        };
        let fx = fixture(config).await;
        let bob = fx
            .directory
            .add_agent(Some(TenantId::new()), GLOBEX, "bob", "bob-secret");
        let mut attacker = Phone::new("alice", ACME, "guess");
        attacker.source = "192.0.2.66:5060".parse().unwrap();
        for _ in 0..10 {
            assert_eq!(
                fx.register(&mut attacker, 300, 0).await.status,
                StatusCode::Forbidden
            );
        }
        // Banned: even a request without credentials gets 403, and so does the right password.
        let reply = fx.send(attacker.source, &attacker.bind(300, None)).await;
        assert_eq!(reply.status, StatusCode::Forbidden);
        attacker.password = "alice-secret".into();
        let reply = fx.send(attacker.source, &attacker.bind(300, None)).await;
        assert_eq!(reply.status, StatusCode::Forbidden);

        // Alice's user is banned too (10 failures against her name) — from any address.
        let mut alice = Phone::new("alice", ACME, "alice-secret");
        let reply = fx.send(alice.source, &alice.bind(300, None)).await;
        assert_eq!(reply.status, StatusCode::Forbidden);

        // Another tenant's agent from another address registers as usual.
        let mut other = Phone::new("bob", GLOBEX, "bob-secret");
        other.source = "203.0.113.7:5060".parse().unwrap();
        assert_eq!(fx.register(&mut other, 300, 0).await.status, StatusCode::OK);
        assert_eq!(fx.registrar.contacts(bob.agent_id).len(), 1);
    }

    #[tokio::test]
    async fn bans_end_after_the_ban_time() {
        let fx = fixture(RegistrarConfig::default()).await;
        let mut attacker = Phone::new("mallory", ACME, "guess");
        let t0 = Instant::now();
        let now = Utc::now();
        for i in 0..10 {
            let first = attacker.bind(300, None);
            let reply = fx
                .registrar
                .respond_at(
                    &first,
                    attacker.source,
                    SipTransport::Udp,
                    now,
                    t0 + Duration::from_secs(i),
                )
                .await;
            let auth = attacker.answer(&challenges(&reply)[0]);
            let second = attacker.bind(300, Some(auth));
            let reply = fx
                .registrar
                .respond_at(
                    &second,
                    attacker.source,
                    SipTransport::Udp,
                    now,
                    t0 + Duration::from_secs(i),
                )
                .await;
            assert_eq!(reply.status, StatusCode::Forbidden);
        }
        let probe = attacker.bind(300, None);
        let banned = fx
            .registrar
            .respond_at(
                &probe,
                attacker.source,
                SipTransport::Udp,
                now,
                t0 + Duration::from_secs(308),
            )
            .await;
        assert_eq!(banned.status, StatusCode::Forbidden);
        let probe = attacker.bind(300, None);
        let later = fx
            .registrar
            .respond_at(
                &probe,
                attacker.source,
                SipTransport::Udp,
                now,
                t0 + Duration::from_secs(310),
            )
            .await;
        assert_eq!(
            later.status,
            StatusCode::Unauthorized,
            "challenged again once the ban is over"
        );
    }

    #[tokio::test]
    async fn a_disabled_agent_is_refused_without_counting_towards_a_ban() {
        let fx = fixture(RegistrarConfig::default()).await;
        let mut disabled = fx.alice.clone();
        disabled.enabled = false;
        fx.directory.insert(disabled);
        let mut phone = Phone::new("alice", ACME, "alice-secret");
        for _ in 0..15 {
            assert_eq!(
                fx.register(&mut phone, 300, 0).await.status,
                StatusCode::Forbidden
            );
        }
        // Not banned: the challenge still comes.
        let reply = fx.send(phone.source, &phone.bind(300, None)).await;
        assert_eq!(reply.status, StatusCode::Unauthorized);
        assert!(fx.store.snapshot().is_empty());
    }

    #[tokio::test]
    async fn bindings_survive_a_restart_and_expire_by_sweeping() {
        let fx = fixture(RegistrarConfig::default()).await;
        let mut phone = Phone::new("alice", ACME, "alice-secret");
        assert_eq!(fx.register(&mut phone, 300, 0).await.status, StatusCode::OK);
        let mut short = Phone::new("alice", ACME, "alice-secret");
        short.contact = "sip:alice@192.168.1.99:5060".into();
        assert_eq!(fx.register(&mut short, 60, 0).await.status, StatusCode::OK);

        let restarted = Registrar::start(
            RegistrarConfig::default(),
            fx.directory.clone(),
            fx.store.clone(),
        )
        .await
        .unwrap();
        assert_eq!(
            restarted.contacts(fx.alice.agent_id).len(),
            2,
            "phones are not forgotten"
        );

        // Make one binding expire: move its expiry into the past in memory and in the store.
        let mut list = read(&restarted.location)
            .bindings(fx.alice.agent_id)
            .to_vec();
        for b in list.iter_mut().filter(|b| b.contact_uri.contains(".99")) {
            b.expires_at = Utc::now() - chrono::Duration::seconds(1);
            BindingStore::upsert(&fx.store, b).await.unwrap();
        }
        write(&restarted.location).replace(fx.alice.agent_id, list);
        assert_eq!(
            restarted.contacts(fx.alice.agent_id).len(),
            1,
            "expired contacts are not rung"
        );
        assert_eq!(restarted.sweep().await, 1);
        assert_eq!(fx.store.snapshot().len(), 1, "and leave the store too");
    }

    #[tokio::test]
    async fn store_outages_do_not_stop_registrations_but_directory_outages_do() {
        let fx = fixture(RegistrarConfig::default()).await;
        fx.store.set_failing(true);
        let mut phone = Phone::new("alice", ACME, "alice-secret");
        assert_eq!(fx.register(&mut phone, 300, 0).await.status, StatusCode::OK);
        assert_eq!(fx.registrar.contacts(fx.alice.agent_id).len(), 1);
        fx.store.set_failing(false);
        assert!(
            fx.store.snapshot().is_empty(),
            "the store missed it; the next refresh writes it"
        );
        assert_eq!(fx.register(&mut phone, 300, 0).await.status, StatusCode::OK);
        assert_eq!(fx.store.snapshot().len(), 1);

        struct Down(AtomicBool);
        impl AgentDirectory for Down {
            async fn credentials(
                &self,
                _: &str,
                _: &str,
            ) -> Result<Option<AgentCredential>, BackendError> {
                self.0.store(true, Ordering::SeqCst);
                Err(BackendError::Unavailable("database away".into()))
            }
        }
        let down = Registrar::start(
            RegistrarConfig::default(),
            Down(AtomicBool::new(false)),
            MemoryBindingStore::default(),
        )
        .await
        .unwrap();
        let reply = down
            .respond(&phone.bind(300, None), phone.source, SipTransport::Udp)
            .await;
        let auth = phone.answer(&challenges(&reply)[0]);
        let reply = down
            .respond(
                &phone.bind(300, Some(auth)),
                phone.source,
                SipTransport::Udp,
            )
            .await;
        assert_eq!(reply.status, StatusCode::ServerInternalError);
        assert!(reply
            .headers
            .iter()
            .any(|h| matches!(h, Header::RetryAfter(r) if r.value() == "5")));
    }

    #[tokio::test]
    async fn malformed_registers_get_400() {
        let fx = fixture(RegistrarConfig::default()).await;
        let mut phone = Phone::new("alice", ACME, "alice-secret");
        for extra in [
            "Contact: <tel:+421900000000>\r\n",
            "Expires: soon\r\n",
            "Contact: *\r\n",
        ] {
            let request = phone.request(extra);
            let reply = fx.send(phone.source, &request).await;
            let want = if extra.starts_with("Contact: *") {
                // `*` without Expires: 0 is refused after authentication (a challenge first).
                StatusCode::Unauthorized
            } else {
                StatusCode::BadRequest
            };
            assert_eq!(reply.status, want, "{extra}");
        }
    }

    #[test]
    fn invalid_settings_are_reported_together() {
        let config = RegistrarConfig {
            expiry: bindings::ExpiryBounds {
                min: 600,
                max: 60,
                default: 30,
            },
            algorithms: vec![DigestAlgorithm::Md5, DigestAlgorithm::Md5],
            max_contacts_per_agent: 0,
            ..RegistrarConfig::default()
        };
        let problems = config.problems();
        assert_eq!(problems.len(), 4, "{problems:?}");
        assert!(RegistrarConfig::default().problems().is_empty());
    }

    /// The whole path through rsipstack: a REGISTER sent over UDP to a real endpoint, whose
    /// server transaction is answered by `on_register`.
    #[tokio::test]
    async fn answers_a_register_transaction_over_udp() {
        use rsipstack::transport::udp::UdpConnection;
        use rsipstack::transport::{SipConnection, TransportLayer};
        use rsipstack::EndpointBuilder;

        let fx = fixture(RegistrarConfig::default()).await;
        let cancel = rsipstack::platform::CancellationToken::new();
        let server = UdpConnection::create_connection("127.0.0.1:0".parse().unwrap(), None, None)
            .await
            .unwrap();
        let server: SipConnection = server.into();
        let server_addr = server.get_addr().get_socketaddr().unwrap();
        let layer = TransportLayer::new(cancel.child_token());
        layer.add_transport(server);
        let endpoint = EndpointBuilder::new()
            .with_user_agent("hotline-test")
            .with_transport_layer(layer)
            .build();
        let mut incoming = endpoint.incoming_transactions().unwrap();
        let registrar = fx.registrar.clone();
        let serve = endpoint.inner.clone();
        tokio::spawn(async move { serve.serve().await });
        tokio::spawn(async move {
            while let Some(mut tx) = incoming.recv().await {
                let source = crate::message::source_of(&tx.original).unwrap();
                registrar.on_register(&mut tx, source).await;
            }
        });

        let client = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let local = client.local_addr().unwrap();
        let send = |cseq: u32, auth: String| {
            format!(
                "REGISTER sip:{ACME} SIP/2.0\r\n\
                 Via: SIP/2.0/UDP {local};branch=z9hG4bKudp{cseq};rport\r\n\
                 Max-Forwards: 70\r\n\
                 To: <sip:alice@{ACME}>\r\n\
                 From: <sip:alice@{ACME}>;tag=u1\r\n\
                 Call-ID: udp-test@{local}\r\n\
                 CSeq: {cseq} REGISTER\r\n\
                 Contact: <sip:alice@{local}>\r\n\
                 Expires: 120\r\n\
                 {auth}\
                 Content-Length: 0\r\n\r\n"
            )
        };
        let mut buffer = vec![0u8; 4096];
        client
            .send_to(send(1, String::new()).as_bytes(), server_addr)
            .await
            .unwrap();
        let n = tokio::time::timeout(Duration::from_secs(5), client.recv(&mut buffer))
            .await
            .unwrap()
            .unwrap();
        let text = String::from_utf8_lossy(&buffer[..n]).to_string();
        assert!(text.starts_with("SIP/2.0 401"), "{text}");
        let challenge = text
            .lines()
            .find(|l| l.starts_with("WWW-Authenticate:"))
            .and_then(|l| l.split_once(": "))
            .map(|(_, v)| v.to_string())
            .unwrap();
        let auth = answer(
            &challenge,
            "alice",
            "alice-secret",
            &format!("sip:{ACME}"),
            1,
        );
        client
            .send_to(
                send(2, format!("Authorization: {auth}\r\n")).as_bytes(),
                server_addr,
            )
            .await
            .unwrap();
        let n = tokio::time::timeout(Duration::from_secs(5), client.recv(&mut buffer))
            .await
            .unwrap()
            .unwrap();
        let text = String::from_utf8_lossy(&buffer[..n]).to_string();
        assert!(text.starts_with("SIP/2.0 200"), "{text}");
        assert!(
            text.contains(&format!("Contact: <sip:alice@{local}>;expires=120")),
            "{text}"
        );
        let bound = fx.registrar.contacts(fx.alice.agent_id);
        assert_eq!(bound.len(), 1);
        assert_eq!(
            bound[0].target, local,
            "reached at the address it sent from"
        );
        cancel.cancel();
    }
}
