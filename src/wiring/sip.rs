//! Starting the telephony side of `hotline serve`: the trunk table (kept in step with the store),
//! the agents' registrar, the SIP stack on the configured addresses, the providers' registrations
//! and the call engine with its directory, record sink, phones and trunks.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use hotline_routing::{Engine, EngineParts};
use hotline_sip::{SipServices, SipStack};
use hotline_tenants::Store;
use tokio::sync::Notify;

use super::calls::{RecordSink, RegisteredPhones};
use super::directory::StoreDirectory;
use super::trunks::TrunkRoutes;
use crate::config::Config;

/// The running telephony side.
pub struct Telephony {
    sip: SipStack,
    stop: Arc<Notify>,
    records: tokio::task::JoinHandle<()>,
}

impl Telephony {
    pub fn sip_addrs(&self) -> Vec<SocketAddr> {
        self.sip.local_addrs()
    }

    /// Stop taking calls and give the record writer `grace` to store the records of calls that
    /// just ended.
    pub async fn shutdown(self, grace: Duration) {
        self.stop.notify_waiters();
        self.sip.shutdown();
        if tokio::time::timeout(grace, self.records).await.is_err() {
            tracing::warn!("call records still being written at shutdown");
        }
    }
}

pub async fn start(
    config: &Config,
    store: Store,
    files: Arc<hotline_core::blob::DirStore>,
    plugins: hotline_plugins::Plugins,
) -> Result<Telephony> {
    let trunks = super::trunks::start(&store)
        .await
        .context("cannot load the trunks")?;
    let stop = Arc::new(Notify::new());
    tokio::spawn(super::trunks::keep_loaded(store.clone(), trunks.clone(), {
        let stop = stop.clone();
        async move { stop.notified().await }
    }));
    let registrar = super::registrar::start(config, &store)
        .await
        .context("cannot start the registrar")?;
    registrar.spawn_maintenance();

    let mut listen = vec![config.sip.listen];
    listen.extend(config.sip.listen_ipv6);
    let sip_config = hotline_sip::SipConfig {
        listen,
        advertise: config.sip.advertise,
        max_active_calls: config.sip.max_active_calls,
        overload_lag: Some(Duration::from_millis(config.sip.overload_lag_ms)),
        ..hotline_sip::SipConfig::default()
    };
    let services = SipServices {
        gate: trunks.clone(),
        registrar: Some(registrar.clone()),
    };
    let (sip, calls) = SipStack::start(sip_config, services)
        .await
        .with_context(|| format!("cannot start SIP on {} (sip.listen)", config.sip.listen))?;
    sip.run_trunk_registrations(trunks.clone());

    let media = super::media::start(config)?;
    let (engine, records) = Engine::new(EngineParts {
        directory: Arc::new(StoreDirectory::new(store.clone())),
        prompts: Arc::new(super::prompts::StorePrompts::new(
            store.clone(),
            files.clone(),
        )),
        recordings: Arc::new(super::files::StoreRecordingFiles::new(files)),
        ivr: Some(Arc::new(super::ivr::PluginIvr::new(plugins))),
        sink: Arc::new(RecordSink::new(store)),
        sip: sip.clone(),
        agents: Arc::new(RegisteredPhones(registrar)),
        trunks: Arc::new(TrunkRoutes(trunks)),
        media: Some(media),
    });
    tokio::spawn(engine.run(calls));
    tracing::info!(sip = ?sip.local_addrs(), "SIP ready");
    Ok(Telephony { sip, stop, records })
}
