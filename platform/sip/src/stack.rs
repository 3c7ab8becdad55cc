//! The SIP stack shell: rsipstack's endpoint with UDP and TCP transports on every configured
//! address, and the dispatcher that sends each incoming transaction where it belongs —
//! REGISTER to the registrar, in-dialog requests to their dialog, OPTIONS answered, a new
//! INVITE checked (overload, Max-Forwards, loops, trunk allowlist, session timer) and handed
//! to the call engine as an [`IncomingCall`].
//!
//! The shell decides only what needs no tenant knowledge; everything about numbers, tenants and
//! hotlines is the call engine's. It answers overload with 503 before doing any other work for
//! the request, so a flood costs little per refused call.

use std::collections::HashSet;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hotline_core::ids::TrunkId;
use rsipstack::dialog::authenticate::Credential;
use rsipstack::dialog::dialog::Dialog;
use rsipstack::dialog::dialog_layer::DialogLayer;
use rsipstack::dialog::invitation::InviteOption;
use rsipstack::sip::headers::make_header;
use rsipstack::sip::prelude::HeadersExt;
use rsipstack::sip::{Header, Method, StatusCode, Uri};
use rsipstack::transaction::endpoint::EndpointInnerRef;
use rsipstack::transaction::transaction::Transaction;
use rsipstack::transport::tcp_listener::TcpListenerConnection;
use rsipstack::transport::udp::UdpConnection;
use rsipstack::transport::{SipAddr, TransportLayer};
use rsipstack::EndpointBuilder;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tracing::{debug, info, warn};

use crate::config::SipConfig;
use crate::error::SipError;
use crate::leg::{InboundLeg, OutboundLeg, Sdp, ALLOWED};
use crate::locator::NatLocator;
use crate::message;
use crate::overload::Overload;
use crate::trunk_auth::{TrunkAuth, TrunkAuthOutcome};
use crate::udp_socket::MeteredUdp;

/// The header Hotline puts on the INVITEs it sends, carrying its call id, so that a call routed
/// back to Hotline (a loop through a carrier) is recognised and refused with 482.
pub const LOOP_HEADER: &str = "X-Hotline-Call";

/// What the gate says about an INVITE's source.
pub enum Admission {
    /// A trunk's call. `slot` counts against the trunk's concurrent-call limit until the call's
    /// leg is dropped.
    Trunk {
        trunk_id: TrunkId,
        slot: Box<dyn Send + Sync>,
    },
    /// A trunk's address, but the trunk carries as many calls as it may (503).
    TrunkFull { trunk_id: TrunkId },
    /// Not a trunk's address (403).
    NotATrunk,
}

/// A trunk whose carrier authenticates by digest: what its answers are checked against.
#[derive(Clone, Debug)]
pub struct DigestTrunk {
    pub trunk_id: TrunkId,
    pub realm: String,
    pub ha1_md5: String,
    pub ha1_sha256: String,
}

/// Decides whether an INVITE's source is one of the platform's trunks.
pub trait InboundGate: Send + Sync + 'static {
    fn admit(&self, source: SocketAddr) -> Admission;

    /// The realm to challenge unlisted sources in, when some trunk authenticates by digest.
    fn digest_realm(&self) -> Option<String> {
        None
    }

    /// The trunk whose carrier authenticates as `username`.
    fn digest_trunk(&self, _username: &str) -> Option<DigestTrunk> {
        None
    }

    /// Take a call slot of `trunk_id` for a call admitted by digest.
    fn acquire(&self, _trunk_id: TrunkId) -> Admission {
        Admission::NotATrunk
    }
}

/// Handles REGISTER transactions (the registrar).
pub trait RegisterHandler: Send + Sync + 'static {
    fn on_register<'a>(
        &'a self,
        tx: &'a mut Transaction,
        source: SocketAddr,
    ) -> Pin<Box<dyn Future<Output = ()> + Send + 'a>>;
}

/// The parts of Hotline the stack consults.
#[derive(Clone)]
pub struct SipServices {
    pub gate: Arc<dyn InboundGate>,
    pub registrar: Option<Arc<dyn RegisterHandler>>,
}

/// What the call engine learns about a new INVITE.
#[derive(Clone, Debug)]
pub struct InviteInfo {
    /// The caller's SIP Call-ID (for logs; Hotline's own call id is made by the engine).
    pub sip_call_id: String,
    pub source: SocketAddr,
    /// The number dialed, as sent (Request-URI user, else To); the engine normalizes it.
    pub dialed: Option<String>,
    pub caller: String,
    pub caller_name: Option<String>,
    pub sdp: Option<Sdp>,
    pub max_forwards: u32,
    /// The trunk the INVITE came from.
    pub trunk_id: TrunkId,
}

/// A new INVITE waiting for the engine's decision: accept it into a dialog or refuse it.
pub struct IncomingCall {
    pub info: InviteInfo,
    tx: Transaction,
    stack: Arc<StackInner>,
    session_timer: Option<Duration>,
    slot: CallSlot,
}

impl IncomingCall {
    /// Refuse with a final status (and Retry-After for 503s) without creating a dialog.
    pub async fn reject(self, status: u16, retry_after: Option<u32>) {
        let mut headers = Vec::new();
        if let Some(seconds) = retry_after {
            headers.push(make_header("Retry-After", seconds.to_string()));
        }
        reply_and_drain(self.tx, status, headers);
    }

    /// Take the call: a server dialog is created and the caller's leg handed back.
    pub fn accept(self) -> Result<InboundLeg, SipError> {
        let Self {
            mut tx,
            stack,
            session_timer,
            slot,
            ..
        } = self;
        let (sender, states) = stack.dialogs.new_dialog_state_channel();
        let dialog =
            stack
                .dialogs
                .get_or_create_server_invite(&tx, sender, None, stack.contact.clone())?;
        let mut handled = Dialog::Invite(dialog.clone());
        tokio::spawn(async move {
            if let Err(error) = handled.handle(&mut tx).await {
                debug!(%error, "inbound INVITE transaction ended with an error");
            }
        });
        Ok(InboundLeg::new(dialog, states, stack, session_timer, slot))
    }
}

/// Where and how to send an outbound INVITE.
#[derive(Clone, Debug)]
pub struct DialRequest {
    /// The Request-URI, e.g. a registered contact `sip:1001@10.0.0.5:5062` or
    /// `sip:+4212...@carrier.example`.
    pub request_uri: String,
    /// Where to send it when that is not the Request-URI's host (a phone behind NAT is reached
    /// at the address its REGISTER came from).
    pub destination: Option<SocketAddr>,
    pub tcp: bool,
    pub from_user: String,
    pub from_display: Option<String>,
    pub sdp: Option<Sdp>,
    pub max_forwards: u32,
    /// Hotline's call id, for loop detection.
    pub call_marker: String,
    /// Digest credentials when the far end challenges (trunks).
    pub auth: Option<(String, String)>,
    pub headers: Vec<(String, String)>,
}

/// A slot in the active-call count (and the trunk's, once admitted), released when the call's
/// leg is dropped.
pub(crate) struct CallSlot {
    stack: Arc<StackInner>,
    trunk: Option<Box<dyn Send + Sync>>,
}

impl Drop for CallSlot {
    fn drop(&mut self) {
        self.stack.active_calls.fetch_sub(1, Ordering::Relaxed);
    }
}

pub(crate) struct StackInner {
    pub(crate) endpoint: EndpointInnerRef,
    pub(crate) dialogs: Arc<DialogLayer>,
    config: SipConfig,
    services: SipServices,
    contact: Option<Uri>,
    active_calls: AtomicUsize,
    /// Whether new calls are refused for overload (`overload.rs`).
    overload: Arc<Overload>,
    markers: Mutex<HashSet<String>>,
    locator: NatLocator,
    trunk_auth: TrunkAuth,
    cancel: CancellationToken,
}

/// The running SIP stack. Cheap to clone.
#[derive(Clone)]
pub struct SipStack {
    inner: Arc<StackInner>,
}

impl SipStack {
    /// Bind every listen address (UDP and TCP), start serving, and return the stack with the
    /// feed of new calls for the engine.
    pub async fn start(
        config: SipConfig,
        services: SipServices,
    ) -> Result<(Self, mpsc::Receiver<IncomingCall>), SipError> {
        let cancel = CancellationToken::new();
        let overload = Arc::new(Overload::default());
        let transports = TransportLayer::new(cancel.child_token());
        for addr in &config.listen {
            let listen_error = |reason: String| SipError::Listen {
                addr: format!("udp {addr}"),
                reason,
            };
            let socket = MeteredUdp::bind(
                *addr,
                config.udp_buffer_bytes,
                config.overload_lag,
                overload.clone(),
            )
            .map_err(|error| listen_error(error.to_string()))?;
            let mut udp =
                UdpConnection::from_socket(Arc::new(socket), None, Some(cancel.child_token()))
                    .await
                    .map_err(|error| listen_error(error.to_string()))?;
            // What is advertised (and where TCP listens) must carry the port the socket really
            // got: with a configured port 0 the configured address would say `:0`.
            let port = udp
                .get_addr()
                .get_socketaddr()
                .map_err(SipError::from)?
                .port();
            let bound = SocketAddr::new(addr.ip(), port);
            udp.external = advertised(bound, config.advertise).map(|external| SipAddr {
                r#type: Some(rsipstack::sip::Transport::Udp),
                addr: external.into(),
            });
            transports.add_transport(udp.into());
            // TCP on the port UDP got (matters when the configured port is 0 in tests).
            let tcp_addr = SocketAddr::new(addr.ip(), bound.port());
            let tcp = TcpListenerConnection::new(tcp_addr, advertised(tcp_addr, config.advertise))
                .await
                .map_err(|error| SipError::Listen {
                    addr: format!("tcp {tcp_addr}"),
                    reason: error.to_string(),
                })?;
            transports.add_transport(tcp.into());
        }
        let locator = NatLocator::default();
        let endpoint = EndpointBuilder::new()
            .with_target_locator(Box::new(locator.clone()))
            .with_user_agent(&config.user_agent)
            .with_transport_layer(transports)
            .with_cancel_token(cancel.child_token())
            .with_allows(ALLOWED.to_vec())
            .build();
        let mut incoming = endpoint.incoming_transactions()?;
        let endpoint_inner = endpoint.inner.clone();
        let dialogs = Arc::new(DialogLayer::new(endpoint_inner.clone()));
        let contact = dialogs
            .build_local_contact(Some("hotline".into()), None)
            .ok();
        let inner = Arc::new(StackInner {
            endpoint: endpoint_inner.clone(),
            dialogs,
            config,
            services,
            contact,
            active_calls: AtomicUsize::new(0),
            overload,
            markers: Mutex::new(HashSet::new()),
            locator,
            trunk_auth: TrunkAuth::new(rand::random(), Duration::from_secs(300)),
            cancel: cancel.clone(),
        });
        tokio::spawn(async move {
            if let Err(error) = endpoint_inner.serve().await {
                warn!(%error, "SIP endpoint stopped");
            }
        });
        tokio::spawn(probe_lag(inner.clone()));
        let (calls, calls_rx) = mpsc::channel(inner.config.incoming_backlog.max(1));
        let dispatcher = inner.clone();
        tokio::spawn(async move {
            // Stops at shutdown even though the endpoint keeps its side of `incoming` open:
            // dropping `calls` is what lets the call engine, and then the record writer, finish.
            loop {
                let tx = tokio::select! {
                    _ = dispatcher.cancel.cancelled() => break,
                    tx = incoming.recv() => match tx {
                        Some(tx) => tx,
                        None => break,
                    },
                };
                let stack = dispatcher.clone();
                let calls = calls.clone();
                tokio::spawn(async move { stack.dispatch(tx, calls).await });
            }
        });
        info!(addrs = ?inner.local_addrs(), "SIP stack listening (UDP and TCP)");
        Ok((Self { inner }, calls_rx))
    }

    /// The addresses actually bound (useful when a port was 0).
    pub fn local_addrs(&self) -> Vec<SocketAddr> {
        self.inner.local_addrs()
    }

    pub fn active_calls(&self) -> usize {
        self.inner.active_calls.load(Ordering::Relaxed)
    }

    /// Send an INVITE. The leg reports ringing, answer or failure through its events.
    pub fn dial(&self, request: DialRequest) -> Result<OutboundLeg, SipError> {
        let stack = &self.inner;
        let callee = Uri::try_from(request.request_uri.as_str())
            .map_err(|_| SipError::InvalidUri(request.request_uri.clone()))?;
        let local = stack
            .local_addrs()
            .first()
            .copied()
            .ok_or_else(|| SipError::Stack("no local address".into()))?;
        let caller_text = format!("sip:{}@{}", request.from_user, host_port(local));
        let caller = Uri::try_from(caller_text.as_str())
            .map_err(|_| SipError::InvalidUri(caller_text.clone()))?;
        let destination = request.destination.map(|addr| SipAddr {
            r#type: Some(if request.tcp {
                rsipstack::sip::Transport::Tcp
            } else {
                rsipstack::sip::Transport::Udp
            }),
            addr: addr.into(),
        });
        let mut headers: Vec<Header> = vec![
            make_header("Max-Forwards", request.max_forwards.to_string()),
            make_header(LOOP_HEADER, request.call_marker.clone()),
        ];
        headers.extend(
            request
                .headers
                .iter()
                .map(|(name, value)| make_header(name, value.clone())),
        );
        let option = InviteOption {
            caller_display_name: request.from_display.clone(),
            caller,
            callee,
            destination,
            content_type: request.sdp.as_ref().map(|_| "application/sdp".to_string()),
            offer: request.sdp.clone(),
            contact: stack.contact.clone().unwrap_or_default(),
            credential: request
                .auth
                .as_ref()
                .map(|(username, password)| Credential {
                    username: username.clone(),
                    password: password.clone(),
                    realm: None,
                    auth_username: None,
                }),
            headers: Some(headers),
            ..Default::default()
        };
        // The phone's Contact may be a private address: the whole dialog goes where we send
        // the INVITE, not only the INVITE.
        let pin = match (request.destination, option.destination.as_ref()) {
            (Some(observed), Some(addr)) => Some(stack.locator.pin(
                &option.callee,
                observed,
                addr.r#type.unwrap_or_default(),
            )),
            _ => None,
        };
        let (sender, states) = stack.dialogs.new_dialog_state_channel();
        let (dialog, _outcome) = stack.dialogs.do_invite_async(option, sender)?;
        if let Ok(mut markers) = stack.markers.lock() {
            markers.insert(request.call_marker.clone());
        }
        Ok(OutboundLeg::new(
            dialog,
            states,
            stack.clone(),
            request.call_marker,
            pin,
        ))
    }

    /// Keep the registrations trunks ask for with their providers, until shutdown.
    pub fn run_trunk_registrations(&self, trunks: Arc<crate::trunks::Trunks>) {
        let endpoint = self.inner.endpoint.clone();
        let cancel = self.inner.cancel.child_token();
        tokio::spawn(crate::trunks::registration::run(endpoint, trunks, cancel));
    }

    /// Stop serving: sockets close, running transactions end.
    pub fn shutdown(&self) {
        self.inner.cancel.cancel();
    }
}

fn advertised(addr: SocketAddr, advertise: Option<IpAddr>) -> Option<SocketAddr> {
    match advertise {
        Some(ip) => Some(SocketAddr::new(ip, addr.port())),
        None if addr.ip().is_unspecified() => None,
        None => Some(addr),
    }
}

fn host_port(addr: SocketAddr) -> String {
    match addr {
        SocketAddr::V4(v4) => v4.to_string(),
        SocketAddr::V6(v6) => format!("[{}]:{}", v6.ip(), v6.port()),
    }
}

/// Send a final response on a transaction and keep it alive until it terminates, so the
/// response is retransmitted and the ACK absorbed.
fn reply_and_drain(mut tx: Transaction, status: u16, headers: Vec<Header>) {
    tokio::spawn(async move {
        if let Err(error) = tx.reply_with(StatusCode::from(status), headers, None).await {
            debug!(%error, status, "could not send a final response");
            return;
        }
        while tx.receive().await.is_some() {}
    });
}

impl StackInner {
    /// The bound addresses, each once (UDP and TCP share them).
    fn local_addrs(&self) -> Vec<SocketAddr> {
        let mut addrs: Vec<SocketAddr> = self
            .endpoint
            .transport_layer
            .get_addrs()
            .iter()
            .filter_map(|addr| addr.get_socketaddr().ok())
            .collect();
        addrs.sort();
        addrs.dedup();
        addrs
    }

    pub(crate) fn forget_marker(&self, marker: &str) {
        if let Ok(mut markers) = self.markers.lock() {
            markers.remove(marker);
        }
    }

    fn is_own_marker(&self, marker: &str) -> bool {
        self.markers
            .lock()
            .map(|markers| markers.contains(marker))
            .unwrap_or(false)
    }

    async fn dispatch(self: Arc<Self>, mut tx: Transaction, calls: mpsc::Sender<IncomingCall>) {
        let request = &tx.original;
        if let Some(problem) = message::malformation(request) {
            if request.method != Method::Ack {
                let warning = format!("399 hotline \"{}\"", problem.reason());
                reply_and_drain(tx, problem.status(), vec![make_header("Warning", warning)]);
            }
            return;
        }
        let has_to_tag = request
            .to_header()
            .ok()
            .and_then(|to| to.tag().ok().flatten())
            .is_some();
        if has_to_tag {
            match self.dialogs.match_dialog(&tx) {
                Some(mut dialog) => {
                    if let Err(error) = dialog.handle(&mut tx).await {
                        debug!(%error, "in-dialog request failed");
                    }
                }
                None if request.method == Method::Ack => {}
                None => reply_and_drain(tx, 481, Vec::new()),
            }
            return;
        }
        let Some(source) = message::source_of(request) else {
            reply_and_drain(tx, 400, Vec::new());
            return;
        };
        match request.method {
            Method::Invite => self.on_invite(tx, source, calls).await,
            Method::Register => match self.services.registrar.clone() {
                Some(registrar) => registrar.on_register(&mut tx, source).await,
                None => reply_and_drain(tx, 403, Vec::new()),
            },
            Method::Options => {
                let headers = vec![
                    make_header("Allow", allow_value()),
                    make_header("Accept", "application/sdp".into()),
                    make_header("Supported", "timer".into()),
                ];
                reply_and_drain(tx, 200, headers);
            }
            Method::Ack => {}
            Method::Bye | Method::Cancel | Method::Info | Method::Update | Method::PRack => {
                reply_and_drain(tx, 481, Vec::new());
            }
            _ => reply_and_drain(tx, 405, vec![make_header("Allow", allow_value())]),
        }
    }

    async fn on_invite(
        self: Arc<Self>,
        mut tx: Transaction,
        source: SocketAddr,
        calls: mpsc::Sender<IncomingCall>,
    ) {
        // Overload first: a refused call must cost as little as possible.
        let active = self.active_calls.fetch_add(1, Ordering::Relaxed);
        let mut slot = CallSlot {
            stack: self.clone(),
            trunk: None,
        };
        if active >= self.config.max_active_calls || self.overload.refuses_new_calls() {
            metrics_overload();
            let retry = self.config.overload_retry_after;
            drop(slot);
            reply_and_drain(tx, 503, vec![make_header("Retry-After", retry.to_string())]);
            return;
        }
        let request = &tx.original;
        let max_forwards = match message::max_forwards(request) {
            Some(0) => {
                refused("max_forwards");
                return reply_and_drain(tx, 483, Vec::new());
            }
            Some(value) => value,
            None => return reply_and_drain(tx, 400, Vec::new()),
        };
        if message::header_value(request, LOOP_HEADER)
            .is_some_and(|marker| self.is_own_marker(marker))
        {
            refused("loop");
            return reply_and_drain(tx, 482, Vec::new());
        }
        let mut admission = self.services.gate.admit(source);
        if matches!(admission, Admission::NotATrunk) {
            let now_ms = hotline_core::time::to_millis(hotline_core::time::now());
            let salt: [u8; 8] = rand::random();
            match self.trunk_auth.check(
                self.services.gate.as_ref(),
                &tx.original,
                source,
                now_ms,
                salt,
            ) {
                TrunkAuthOutcome::Admitted(admitted) => admission = admitted,
                TrunkAuthOutcome::Challenge(challenges) => {
                    let headers = challenges
                        .into_iter()
                        .map(|value| make_header("Proxy-Authenticate", value))
                        .collect();
                    return reply_and_drain(tx, 407, headers);
                }
                TrunkAuthOutcome::Refused => {}
            }
        }
        let trunk_id = match admission {
            Admission::Trunk {
                trunk_id,
                slot: trunk_slot,
            } => {
                slot.trunk = Some(trunk_slot);
                trunk_id
            }
            Admission::TrunkFull { trunk_id } => {
                debug!(%source, %trunk_id, "trunk at its concurrent-call limit");
                metrics::counter!("hotline_sip_trunk_full_rejections_total").increment(1);
                let retry = self.config.overload_retry_after.to_string();
                return reply_and_drain(tx, 503, vec![make_header("Retry-After", retry)]);
            }
            Admission::NotATrunk => {
                debug!(%source, "INVITE from an address that is not a trunk");
                refused("not_a_trunk");
                let warning = "399 hotline \"Not a trunk\"".to_string();
                return reply_and_drain(tx, 403, vec![make_header("Warning", warning)]);
            }
        };
        let min_se = self.config.min_session_expires.as_secs().max(90) as u32;
        let session_timer = match message::session_expires(request) {
            Some(asked) if asked.seconds < min_se => {
                return reply_and_drain(tx, 422, vec![make_header("Min-SE", min_se.to_string())]);
            }
            Some(asked) => Some(Duration::from_secs(u64::from(asked.seconds))),
            None => None,
        };
        let (caller, caller_name) = message::caller(request);
        let info = InviteInfo {
            sip_call_id: request
                .call_id_header()
                .map(|id| id.value().to_string())
                .unwrap_or_default(),
            source,
            dialed: message::dialed_user(request),
            caller,
            caller_name,
            sdp: message::sdp_body(request),
            max_forwards,
            trunk_id,
        };
        let _ = tx.send_trying().await;
        let call = IncomingCall {
            info,
            tx,
            stack: self.clone(),
            session_timer,
            slot,
        };
        if let Err(refused) = calls.try_send(call) {
            metrics_overload();
            let call = match refused {
                mpsc::error::TrySendError::Full(call) | mpsc::error::TrySendError::Closed(call) => {
                    call
                }
            };
            let retry = self.config.overload_retry_after;
            call.reject(503, Some(retry)).await;
        }
    }
}

/// How often the overload probe samples the runtime's lateness.
const PROBE_EVERY: Duration = Duration::from_millis(5);

/// Sample how late a short timer fires, for as long as the stack runs, and keep the overload
/// verdict's lag half up to date.
async fn probe_lag(stack: Arc<StackInner>) {
    let mut meter = crate::overload::LagMeter::new(stack.config.overload_lag);
    if stack.config.overload_lag.is_none_or(|lag| lag.is_zero()) {
        return;
    }
    let lag_gauge = metrics::gauge!("hotline_sip_runtime_lag_seconds");
    loop {
        let due = tokio::time::Instant::now() + PROBE_EVERY;
        tokio::select! {
            _ = stack.cancel.cancelled() => return,
            _ = tokio::time::sleep_until(due) => {}
        }
        let late = tokio::time::Instant::now().saturating_duration_since(due);
        let shedding = meter.observe(late);
        if shedding != stack.overload.set_lagging(shedding) {
            if shedding {
                warn!(lag = ?meter.smoothed(), "overloaded: refusing new calls with 503");
            } else {
                info!(lag = ?meter.smoothed(), "load back to normal: taking new calls");
            }
        }
        lag_gauge.set(meter.smoothed().as_secs_f64());
    }
}

fn allow_value() -> String {
    ALLOWED
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

fn metrics_overload() {
    metrics::counter!("hotline_sip_overload_rejections_total").increment(1);
}

/// INVITEs the stack refuses before the call engine sees them leave no call record; they are
/// counted here instead.
fn refused(reason: &'static str) {
    metrics::counter!("hotline_sip_invites_refused_total", "reason" => reason).increment(1);
}
