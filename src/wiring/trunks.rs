//! Carrier trunks from the tenant store into the SIP side, and the call engine's outbound
//! trunks over them.
//!
//! [`load`] maps the store's trunks (secrets included: this is the one reader that may have
//! them) into `hotline_sip::trunks::TrunkConfig`s; [`keep_loaded`] puts a fresh table in place
//! whenever the store's trunk generation moves (checked every [`POLL`]), and at least every
//! [`FULL_RELOAD`] anyway, which is what carries another node's changes until a cross-node
//! signal exists. [`TrunkRoutes`] answers the engine's "which trunk for this number" from the
//! current table. Nothing here logs a secret.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use hotline_core::ids::TrunkId;
use hotline_core::PlatformScope;
use hotline_routing::{OutboundRoute, OutboundTrunks};
use hotline_sip::trunks::{
    presented_caller, CallerIdPolicy, Credentials, InboundDigest, OutboundConfig, SourceNet,
    TrunkConfig, TrunkTransport, Trunks,
};
use hotline_tenants::trunks::{self as store_trunks, SipTrunk};
use hotline_tenants::{Store, StoreError};

/// How often the trunk generation is looked at (an atomic read).
pub const POLL: Duration = Duration::from_millis(500);
/// Reload at least this often even without a local change (other nodes' changes).
pub const FULL_RELOAD: Duration = Duration::from_secs(60);

/// One stored trunk in the SIP side's terms. An allowlist entry that no longer parses is left
/// out (and logged) rather than failing every trunk.
pub fn to_config(stored: &SipTrunk) -> TrunkConfig {
    let trunk = &stored.trunk;
    let spec = &trunk.spec;
    let inbound_sources = spec
        .inbound
        .sources
        .iter()
        .filter_map(|text| match text.parse::<SourceNet>() {
            Ok(net) => Some(net),
            Err(why) => {
                tracing::error!(trunk = %spec.name, source = %text, %why, "skipping a stored allowlist entry");
                None
            }
        })
        .collect();
    let inbound_digest = stored.inbound_digest.as_ref().map(|d| InboundDigest {
        username: d.username.clone(),
        realm: d.realm.clone(),
        ha1_md5: d.ha1_md5.clone(),
        ha1_sha256: d.ha1_sha256.clone(),
    });
    let outbound = spec.outbound.as_ref().map(|o| OutboundConfig {
        host: o.host.clone(),
        port: o.port,
        transport: match o.transport {
            store_trunks::TrunkTransport::Udp => TrunkTransport::Udp,
            store_trunks::TrunkTransport::Tcp => TrunkTransport::Tcp,
        },
        credentials: o
            .username
            .clone()
            .zip(stored.outbound_password.clone())
            .map(|(username, password)| Credentials { username, password }),
        register_expires_s: o.register.then_some(o.register_expires_s),
        caller_id: match &o.caller_id {
            store_trunks::CallerIdPolicy::PassThrough => CallerIdPolicy::PassThrough,
            store_trunks::CallerIdPolicy::Fixed { number } => CallerIdPolicy::Fixed(number.clone()),
            store_trunks::CallerIdPolicy::DialedNumber => CallerIdPolicy::DialedNumber,
        },
    });
    TrunkConfig {
        id: trunk.id,
        name: spec.name.clone(),
        enabled: spec.enabled,
        inbound_sources,
        inbound_digest,
        outbound,
        max_concurrent_calls: spec.max_concurrent_calls,
    }
}

/// Every trunk of the store, as the SIP side takes them.
pub async fn load(store: &Store) -> Result<Vec<TrunkConfig>, StoreError> {
    let stored = store
        .trunks_for_sip(&PlatformScope::from_verified())
        .await?;
    Ok(stored.iter().map(to_config).collect())
}

/// The trunks as stored now, ready for the stack (its gate) and the engine.
pub async fn start(store: &Store) -> Result<Arc<Trunks>, StoreError> {
    let configs = load(store).await?;
    tracing::info!(trunks = configs.len(), "carrier trunks loaded");
    Ok(Trunks::new(configs))
}

/// Keep `trunks` in step with the store until `shutdown` resolves. A failed reload keeps the
/// table in place and is retried at the next poll.
pub async fn keep_loaded(store: Store, trunks: Arc<Trunks>, shutdown: impl Future<Output = ()>) {
    tokio::pin!(shutdown);
    let mut loaded_generation = store.trunks_generation();
    let mut loaded_at = Instant::now();
    let mut ticker = tokio::time::interval(POLL);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = &mut shutdown => return,
            _ = ticker.tick() => {}
        }
        // Read before loading: a change committed while we load moves it again, and we reload.
        let generation = store.trunks_generation();
        if generation == loaded_generation && loaded_at.elapsed() < FULL_RELOAD {
            continue;
        }
        match load(&store).await {
            Ok(configs) => {
                if generation != loaded_generation {
                    tracing::info!(trunks = configs.len(), "carrier trunks changed; reloaded");
                }
                trunks.replace(configs);
                loaded_generation = generation;
                loaded_at = Instant::now();
            }
            Err(error) => {
                tracing::warn!(%error, "cannot reload carrier trunks; keeping the current ones")
            }
        }
    }
}

/// The call engine's outbound trunks, over the current trunk table.
#[derive(Clone, Debug)]
pub struct TrunkRoutes(pub Arc<Trunks>);

impl OutboundTrunks for TrunkRoutes {
    fn route(
        &self,
        preferred: Option<TrunkId>,
        number: &str,
        caller: &str,
        dialed: &str,
    ) -> Option<OutboundRoute> {
        let chosen = self.0.table().select_outbound(preferred)?;
        let caller_id = presented_caller(chosen.caller_id(), Some(caller), dialed)
            .unwrap_or_else(|| "anonymous".to_string());
        Some(OutboundRoute {
            trunk_id: chosen.trunk_id,
            request_uri: chosen.outbound.request_uri(number),
            destination: None,
            tcp: chosen.outbound.transport == TrunkTransport::Tcp,
            auth: chosen
                .credentials()
                .map(|c| (c.username.clone(), c.password.clone())),
            caller_id,
            permit: Box::new(chosen.permit),
        })
    }
}

#[cfg(test)]
mod tests {
    use hotline_core::testing::TestDb;
    use hotline_tenants::audit::Actor;
    use hotline_tenants::trunks::TrunkSpec;
    use hotline_tenants::StoreConfig;
    use serde_json::json;

    use super::*;

    fn spec(value: serde_json::Value) -> TrunkSpec {
        serde_json::from_value(value).expect("trunk spec")
    }

    #[tokio::test]
    async fn store_trunks_reach_the_sip_table_and_follow_changes() {
        let db = TestDb::sqlite().await;
        let store = Store::new(db.db.clone(), StoreConfig::default());
        let platform = PlatformScope::from_verified();
        let actor = Actor::cli();
        let made = store
            .create_trunk(
                &actor,
                &platform,
                spec(json!({
                    "name": "Carrier",
                    "inbound": { "sources": ["192.0.2.0/24"], "username": "carrier-in", "password": "inbound-secret-1" },
                    "outbound": { "host": "sip.carrier.example", "transport": "tcp", "username": "hotline",
                        "password": "provider-secret-1", "register": true, "register_expires_s": 600,
                        "caller_id": { "policy": "dialed-number" } },
                    "max_concurrent_calls": 1,
                })),
            )
            .await
            .expect("create a trunk");
        let trunks = start(&store).await.expect("load");
        let table = trunks.table();
        let config = table.get(made.id).expect("the trunk").clone();
        assert_eq!(
            config.inbound_sources,
            vec!["192.0.2.0/24".parse::<SourceNet>().expect("net")]
        );
        assert_eq!(
            config.inbound_digest.as_ref().map(|d| d.username.as_str()),
            Some("carrier-in")
        );
        let outbound = config.outbound.clone().expect("outbound");
        assert_eq!(
            outbound.credentials,
            Some(Credentials {
                username: "hotline".into(),
                password: "provider-secret-1".into()
            })
        );
        assert_eq!(outbound.register_expires_s, Some(600));
        assert_eq!(outbound.caller_id, CallerIdPolicy::DialedNumber);

        // The engine's view: one slot, the caller-ID policy applied, TCP to the provider.
        let routes = TrunkRoutes(Arc::clone(&trunks));
        let route = routes
            .route(None, "+421255550199", "+420601234567", "+421211110001")
            .expect("a route");
        assert_eq!(route.trunk_id, made.id);
        assert_eq!(
            route.request_uri,
            "sip:+421255550199@sip.carrier.example:5060;transport=tcp"
        );
        assert!(route.tcp);
        assert_eq!(route.caller_id, "+421211110001");
        assert_eq!(
            route.auth,
            Some(("hotline".to_string(), "provider-secret-1".to_string()))
        );
        assert!(
            routes.route(None, "+421255550199", "x", "y").is_none(),
            "full"
        );
        drop(route);
        assert!(routes
            .route(Some(made.id), "+421255550199", "x", "y")
            .is_some());

        // The operator disables it: the reloader picks that up within a poll or two.
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let reloader = tokio::spawn(keep_loaded(store.clone(), Arc::clone(&trunks), async {
            let _ = stop_rx.await;
        }));
        let mut disabled = made.spec.clone();
        disabled.enabled = false;
        store
            .update_trunk(&actor, &platform, made.id, 1, disabled)
            .await
            .expect("disable");
        let deadline = Instant::now() + Duration::from_secs(5);
        while trunks.table().get(made.id).is_some_and(|t| t.enabled) {
            assert!(Instant::now() < deadline, "the reload never came");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert!(routes.route(None, "+421255550199", "x", "y").is_none());
        let _ = stop_tx.send(());
        reloader.await.expect("the reloader stops");
        db.finish().await;
    }
}
