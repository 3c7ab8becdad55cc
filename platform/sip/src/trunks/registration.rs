//! Registrations with providers: one task per enabled trunk that asks for it (outbound
//! credentials and `register_expires_s`), on rsipstack's client registration. Each task
//! REGISTERs at once, answers the provider's digest challenge, refreshes at three quarters of
//! the expiry the provider granted, retries failures with backoff (1 s doubling to 60 s), and
//! unregisters (`Expires: 0`) when its trunk is changed, disabled or removed, or at shutdown.
//!
//! State is visible three ways: [`Trunks::registration_state`], the log (a line per change of
//! state, warnings for failures), and the metrics `hotline_trunk_registered{trunk}` (1 while
//! registered) and `hotline_trunk_registrations_total{trunk,outcome}`. The trunk's password
//! never reaches a log line or a metric.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use hotline_core::ids::TrunkId;
use rsipstack::dialog::authenticate::Credential;
use rsipstack::dialog::registration::{RefreshOutcome, Registration};
use rsipstack::sip::prelude::HeadersExt;
use rsipstack::sip::{Response, Uri};
use rsipstack::transaction::endpoint::EndpointInnerRef;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use super::config::Credentials;
use super::handle::{RegistrationState, Trunks};
use super::table::TrunkTable;

/// How long an unregistration may take before the task gives up on it.
const UNREGISTER_TIMEOUT: Duration = Duration::from_secs(5);

/// Everything one registration depends on: when any of it changes, the registration is
/// renewed from scratch (the old binding removed first).
#[derive(Clone, Debug, PartialEq, Eq)]
struct Target {
    trunk_id: TrunkId,
    name: String,
    server: String,
    credentials: Credentials,
    expires_s: u32,
}

fn targets(table: &TrunkTable) -> HashMap<TrunkId, Target> {
    table
        .trunks()
        .filter(|trunk| trunk.enabled)
        .filter_map(|trunk| {
            let outbound = trunk.outbound.as_ref()?;
            Some(Target {
                trunk_id: trunk.id,
                name: trunk.name.clone(),
                server: outbound.server_uri(),
                credentials: outbound.credentials.clone()?,
                expires_s: outbound.register_expires_s?,
            })
        })
        .map(|target| (target.trunk_id, target))
        .collect()
}

/// Keep every trunk that asks for it registered with its provider until `cancel` fires, and
/// follow [`Trunks::replace`]. Returns once every registration has been removed again.
pub async fn run(endpoint: EndpointInnerRef, trunks: Arc<Trunks>, cancel: CancellationToken) {
    let mut changes = trunks.subscribe();
    let mut running: HashMap<TrunkId, (Target, CancellationToken, JoinHandle<()>)> = HashMap::new();
    loop {
        changes.mark_unchanged();
        let wanted = targets(&trunks.table());
        let stale: Vec<TrunkId> = running
            .iter()
            .filter(|(id, (target, _, _))| wanted.get(id) != Some(target))
            .map(|(id, _)| *id)
            .collect();
        for id in stale {
            if let Some((_, token, task)) = running.remove(&id) {
                // Wait for the unregistration: a new registration of the same trunk must not
                // be removed by the old one's `Expires: 0` arriving after it.
                token.cancel();
                let _ = task.await;
            }
        }
        for (id, target) in wanted {
            if running.contains_key(&id) {
                continue;
            }
            let token = cancel.child_token();
            let task = tokio::spawn(keep_registered(
                endpoint.clone(),
                target.clone(),
                Arc::clone(&trunks),
                token.clone(),
            ));
            running.insert(id, (target, token, task));
        }
        tokio::select! {
            _ = cancel.cancelled() => break,
            changed = changes.changed() => if changed.is_err() { break },
        }
    }
    for (_, (_, token, task)) in running {
        token.cancel();
        let _ = task.await;
    }
}

async fn keep_registered(
    endpoint: EndpointInnerRef,
    target: Target,
    trunks: Arc<Trunks>,
    cancel: CancellationToken,
) {
    let Ok(server) = Uri::try_from(target.server.as_str()) else {
        warn!(trunk = %target.name, server = %target.server, "cannot register: the provider address is no SIP URI");
        trunks.set_registration_state(
            target.trunk_id,
            Some(RegistrationState::Failed {
                at: SystemTime::now(),
                reason: format!("{} is no SIP URI", target.server),
            }),
        );
        return;
    };
    let credential = Credential {
        username: target.credentials.username.clone(),
        password: target.credentials.password.clone(),
        realm: None,
        auth_username: None,
    };
    let mut registration = Registration::new(endpoint, Some(credential));
    trunks.set_registration_state(target.trunk_id, Some(RegistrationState::Registering));
    info!(trunk = %target.name, server = %target.server, "registering with the provider");
    let mut last_ok: Option<bool> = None;
    // keep_alive notices the token only between attempts; an attempt still waiting on a
    // silent provider must not hold up a shutdown or a change of the trunk.
    let kept = registration.keep_alive(
            server.clone(),
            target.expires_s,
            cancel.clone(),
            |outcome| {
                let (state, ok) = report(&target, &outcome);
                if last_ok != Some(ok) {
                    match &state {
                        RegistrationState::Registered { expires_s, .. } => {
                            info!(trunk = %target.name, expires_s, "registered with the provider")
                        }
                        RegistrationState::Failed { reason, .. } => {
                            warn!(trunk = %target.name, %reason, "registration with the provider failed; retrying")
                        }
                        RegistrationState::Registering => {}
                    }
                    last_ok = Some(ok);
                }
                trunks.set_registration_state(target.trunk_id, Some(state));
            },
        );
    tokio::select! {
        _ = kept => {}
        _ = cancel.cancelled() => {}
    }

    match tokio::time::timeout(UNREGISTER_TIMEOUT, registration.register(server, Some(0))).await {
        Ok(Ok(response)) => {
            info!(trunk = %target.name, status = %response.status_code, "unregistered from the provider")
        }
        Ok(Err(error)) => warn!(trunk = %target.name, %error, "unregistering failed"),
        Err(_) => warn!(trunk = %target.name, "unregistering timed out"),
    }
    metrics::gauge!("hotline_trunk_registered", "trunk" => target.name.clone()).set(0.0);
    trunks.set_registration_state(target.trunk_id, None);
}

/// The state an attempt's outcome leaves, and whether it succeeded; counted in the metrics.
fn report(target: &Target, outcome: &RefreshOutcome<'_>) -> (RegistrationState, bool) {
    let at = SystemTime::now();
    let (state, ok, label) = match outcome {
        RefreshOutcome::Registered(response) => (
            RegistrationState::Registered {
                at,
                expires_s: granted(response).unwrap_or(target.expires_s),
            },
            true,
            "registered",
        ),
        RefreshOutcome::Rejected(response) => (
            RegistrationState::Failed {
                at,
                reason: format!("the provider answered {}", response.status_code),
            },
            false,
            "rejected",
        ),
        RefreshOutcome::Failed(error) => (
            RegistrationState::Failed {
                at,
                reason: error.to_string(),
            },
            false,
            "failed",
        ),
    };
    metrics::counter!("hotline_trunk_registrations_total", "trunk" => target.name.clone(), "outcome" => label)
        .increment(1);
    metrics::gauge!("hotline_trunk_registered", "trunk" => target.name.clone()).set(if ok {
        1.0
    } else {
        0.0
    });
    (state, ok)
}

/// The lifetime a 200 OK granted: the shortest `expires` of its contacts, else its `Expires`.
fn granted(response: &Response) -> Option<u32> {
    response
        .typed_contact_headers()
        .ok()
        .and_then(|contacts| contacts.iter().filter_map(|c| c.expires()).min())
        .or_else(|| {
            response
                .expires_header()
                .and_then(|h| h.value().trim().parse().ok())
        })
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use md5::{Digest, Md5};
    use rsipstack::sip::headers::make_header;
    use rsipstack::sip::prelude::ToTypedHeader;
    use rsipstack::sip::typed::Authorization;
    use rsipstack::sip::{Method, StatusCode};
    use rsipstack::transaction::TransactionReceiver;
    use rsipstack::transport::udp::UdpConnection;
    use rsipstack::transport::TransportLayer;
    use rsipstack::EndpointBuilder;
    use tokio::sync::mpsc;

    use super::*;
    use crate::trunks::{CallerIdPolicy, OutboundConfig, TrunkConfig, TrunkTransport};

    const REALM: &str = "carrier.example";
    const NONCE: &str = "5f0a1c";
    const PASSWORD: &str = "provider-secret-1";

    async fn endpoint(
        cancel: &CancellationToken,
    ) -> (rsipstack::transaction::endpoint::Endpoint, u16) {
        let transports = TransportLayer::new(cancel.child_token());
        let udp = UdpConnection::create_connection(
            "127.0.0.1:0".parse().expect("addr"),
            None,
            Some(cancel.child_token()),
        )
        .await
        .expect("a UDP socket");
        let port = udp.get_addr().addr.port.map(u16::from).unwrap_or_default();
        transports.add_transport(udp.into());
        let endpoint = EndpointBuilder::new()
            .with_user_agent("hotline-test")
            .with_transport_layer(transports)
            .with_cancel_token(cancel.child_token())
            .build();
        let inner = endpoint.inner.clone();
        tokio::spawn(async move {
            let _ = inner.serve().await;
        });
        (endpoint, port)
    }

    /// One REGISTER as the provider saw it.
    #[derive(Debug)]
    struct Seen {
        expires: Option<u32>,
        /// The digest answer was right for the trunk's password.
        authorized: bool,
        at: Instant,
    }

    /// A provider that challenges every REGISTER, accepts a correct digest answer for
    /// 2 seconds, and reports the authenticated requests.
    fn provider(mut incoming: TransactionReceiver) -> mpsc::UnboundedReceiver<Seen> {
        let (seen_tx, seen_rx) = mpsc::unbounded_channel();
        tokio::spawn(async move {
            while let Some(mut tx) = incoming.recv().await {
                if tx.original.method != Method::Register {
                    continue;
                }
                let request = tx.original.clone();
                let digest = request
                    .authorization_header()
                    .and_then(|h| Authorization::parse(h.value()).ok());
                let seen = seen_tx.clone();
                tokio::spawn(async move {
                    let Some(digest) = digest else {
                        let challenge =
                            format!("Digest realm=\"{REALM}\", nonce=\"{NONCE}\", algorithm=MD5");
                        let _ = tx
                            .reply_with(
                                StatusCode::Unauthorized,
                                vec![make_header("WWW-Authenticate", challenge)],
                                None,
                            )
                            .await;
                        return;
                    };
                    let ha1 = hex::encode(Md5::digest(format!(
                        "{}:{REALM}:{PASSWORD}",
                        digest.username
                    )));
                    let ha2 = hex::encode(Md5::digest(format!("REGISTER:{}", digest.uri)));
                    let want = hex::encode(Md5::digest(format!("{ha1}:{NONCE}:{ha2}")));
                    let authorized = digest.username == "hotline-out" && digest.response == want;
                    let expires = request
                        .expires_header()
                        .and_then(|h| h.value().trim().parse().ok());
                    let _ = seen.send(Seen {
                        expires,
                        authorized,
                        at: Instant::now(),
                    });
                    let contact = request
                        .contact_header()
                        .ok()
                        .and_then(|c| c.typed().ok())
                        .map(|c| c.uri.to_string())
                        .unwrap_or_default();
                    let granted = if expires == Some(0) { 0 } else { 2 };
                    let status = if authorized {
                        StatusCode::OK
                    } else {
                        StatusCode::Forbidden
                    };
                    let _ = tx
                        .reply_with(
                            status,
                            vec![make_header(
                                "Contact",
                                format!("<{contact}>;expires={granted}"),
                            )],
                            None,
                        )
                        .await;
                });
            }
        });
        seen_rx
    }

    fn trunk(port: u16, password: &str) -> TrunkConfig {
        TrunkConfig {
            id: TrunkId::new(),
            name: "carrier".into(),
            enabled: true,
            inbound_sources: Vec::new(),
            inbound_digest: None,
            outbound: Some(OutboundConfig {
                host: "127.0.0.1".into(),
                port,
                transport: TrunkTransport::Udp,
                credentials: Some(Credentials {
                    username: "hotline-out".into(),
                    password: password.into(),
                }),
                register_expires_s: Some(300),
                caller_id: CallerIdPolicy::PassThrough,
            }),
            max_concurrent_calls: 10,
        }
    }

    async fn next(seen: &mut mpsc::UnboundedReceiver<Seen>, what: &str) -> Seen {
        tokio::time::timeout(Duration::from_secs(5), seen.recv())
            .await
            .unwrap_or_else(|_| panic!("the provider saw no {what}"))
            .unwrap_or_else(|| panic!("the provider stopped before {what}"))
    }

    async fn wait_for(
        trunks: &Trunks,
        id: TrunkId,
        want: impl Fn(&Option<RegistrationState>) -> bool,
    ) {
        let deadline = Instant::now() + Duration::from_secs(5);
        while !want(&trunks.registration_state(id)) {
            assert!(
                Instant::now() < deadline,
                "state stuck at {:?}",
                trunks.registration_state(id)
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    #[tokio::test]
    async fn registers_refreshes_and_unregisters_when_the_trunk_goes() {
        let cancel = CancellationToken::new();
        let (provider_endpoint, port) = endpoint(&cancel).await;
        let mut seen = provider(provider_endpoint.incoming_transactions().expect("incoming"));
        let (ours, _) = endpoint(&cancel).await;
        let config = trunk(port, PASSWORD);
        let id = config.id;
        let trunks = Trunks::new(vec![config.clone()]);
        let stop = CancellationToken::new();
        let supervisor = tokio::spawn(run(ours.inner.clone(), Arc::clone(&trunks), stop.clone()));

        let first = next(&mut seen, "REGISTER").await;
        assert!(
            first.authorized,
            "the digest answer must use the trunk's password"
        );
        assert_eq!(first.expires, Some(300), "asks for the configured expiry");
        wait_for(&trunks, id, |s| {
            matches!(s, Some(RegistrationState::Registered { expires_s: 2, .. }))
        })
        .await;

        // Granted 2 s, it refreshes well before they run out.
        let refresh = next(&mut seen, "refresh").await;
        assert!(refresh.authorized);
        let gap = refresh.at.duration_since(first.at);
        assert!(gap < Duration::from_millis(1900), "refreshed after {gap:?}");

        // Disabled by the operator: unregistered, and no longer reported.
        let mut disabled = config;
        disabled.enabled = false;
        trunks.replace(vec![disabled]);
        loop {
            let request = next(&mut seen, "unregistration").await;
            if request.expires == Some(0) {
                assert!(request.authorized);
                break;
            }
        }
        wait_for(&trunks, id, Option::is_none).await;

        stop.cancel();
        tokio::time::timeout(Duration::from_secs(10), supervisor)
            .await
            .expect("run returns after cancel")
            .expect("run did not panic");
        cancel.cancel();
    }

    #[tokio::test]
    async fn a_wrong_password_is_reported_and_retried() {
        let cancel = CancellationToken::new();
        let (provider_endpoint, port) = endpoint(&cancel).await;
        let mut seen = provider(provider_endpoint.incoming_transactions().expect("incoming"));
        let (ours, _) = endpoint(&cancel).await;
        let config = trunk(port, "not-the-password");
        let id = config.id;
        let trunks = Trunks::new(vec![config]);
        let stop = CancellationToken::new();
        let supervisor = tokio::spawn(run(ours.inner.clone(), Arc::clone(&trunks), stop.clone()));
        assert!(!next(&mut seen, "REGISTER").await.authorized);
        wait_for(&trunks, id, |s| {
            matches!(s, Some(RegistrationState::Failed { reason, .. }) if reason.contains("403"))
        })
        .await;
        // Retried after the first backoff (1 s).
        assert!(!next(&mut seen, "retry").await.authorized);
        // Stopped in the middle of anything, it still returns promptly and forgets the trunk.
        stop.cancel();
        tokio::time::timeout(Duration::from_secs(10), supervisor)
            .await
            .expect("run returns after cancel")
            .expect("run did not panic");
        assert_eq!(trunks.registration_state(id), None);
        cancel.cancel();
    }
}
