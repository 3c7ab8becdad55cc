//! The SIP registrar's two traits over the tenant store: agents' digest credentials
//! ([`StoreAgents`]) and bindings kept across restarts ([`StoreBindings`]), plus the mapping of
//! the `[sip]` registrar settings onto the registrar's own configuration. [`start`] builds the
//! running registrar from both.
//!
//! Pure translation: the registrar decides, the store stores. A stored binding that no longer
//! reads as a binding (an address or transport this build cannot parse) is skipped with a
//! warning rather than failing start-up; the phone re-registers within its interval anyway.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use hotline_core::ids::AgentId;
use hotline_core::PlatformScope;
use hotline_sip::registrar::{
    AgentCredential, AgentDirectory, BackendError, Binding, BindingStore, DigestAlgorithm,
    ExpiryBounds, Registrar, RegistrarConfig, RegistrarError, SipTransport, ThrottleConfig,
};
use hotline_tenants::sip_bindings::{SipBinding, SipCredential};
use hotline_tenants::{Store, StoreError};

use crate::config::Config;

/// Start the registrar over the tenant store, with the bindings it kept.
pub async fn start(config: &Config, store: &Store) -> Result<Arc<Registrar>, RegistrarError> {
    Registrar::start(
        registrar_config(config),
        StoreAgents(store.clone()),
        StoreBindings(store.clone()),
    )
    .await
}

/// The `[sip]` registrar keys in the registrar's terms. `Config::validate` has already refused
/// values the registrar would (see `config.rs`), so an unknown algorithm cannot reach here;
/// should one anyway, it is left out rather than guessed.
pub fn registrar_config(config: &Config) -> RegistrarConfig {
    let sip = &config.sip;
    RegistrarConfig {
        expiry: ExpiryBounds {
            min: sip.register_min_expires,
            max: sip.register_max_expires,
            default: sip.register_default_expires,
        },
        max_contacts_per_agent: sip.register_max_contacts,
        nonce_ttl: Duration::from_secs(sip.nonce_ttl_secs),
        algorithms: sip
            .digest_algorithms
            .iter()
            .filter_map(|name| DigestAlgorithm::parse(name))
            .collect(),
        throttle: ThrottleConfig {
            max_failures: sip.auth_failure_limit,
            window: Duration::from_secs(sip.auth_failure_window_secs),
            ban: Duration::from_secs(sip.auth_ban_secs),
            ..ThrottleConfig::default()
        },
        ..RegistrarConfig::default()
    }
}

/// Agents' digest credentials, looked up by (realm, username) in the tenant store.
pub struct StoreAgents(pub Store);

impl AgentDirectory for StoreAgents {
    async fn credentials(
        &self,
        realm: &str,
        username: &str,
    ) -> Result<Option<AgentCredential>, BackendError> {
        let found = self
            .0
            .platform_sip_credentials(&PlatformScope::from_verified(), realm, username)
            .await
            .map_err(unavailable)?;
        Ok(found.map(credential))
    }
}

fn credential(found: SipCredential) -> AgentCredential {
    AgentCredential {
        agent_id: found.agent_id,
        tenant_id: found.tenant_id,
        realm: found.realm,
        username: found.username,
        ha1_md5: found.ha1_md5,
        ha1_sha256: found.ha1_sha256,
        enabled: found.enabled,
    }
}

/// Bindings in the tenant store's `sip_bindings` table.
pub struct StoreBindings(pub Store);

impl BindingStore for StoreBindings {
    async fn load_all(&self) -> Result<Vec<Binding>, BackendError> {
        let rows = self
            .0
            .platform_load_sip_bindings(&PlatformScope::from_verified())
            .await
            .map_err(unavailable)?;
        Ok(rows
            .into_iter()
            .filter_map(|row| {
                let contact = row.contact_uri.clone();
                let read = binding(row);
                if read.is_none() {
                    tracing::warn!(%contact, "skipping a stored SIP binding that does not read back");
                }
                read
            })
            .collect())
    }

    async fn upsert(&self, binding: &Binding) -> Result<(), BackendError> {
        self.0
            .platform_upsert_sip_binding(&PlatformScope::from_verified(), &stored(binding))
            .await
            .map_err(unavailable)
    }

    async fn remove(&self, agent: AgentId, contact_key: &str) -> Result<(), BackendError> {
        self.0
            .platform_remove_sip_binding(&PlatformScope::from_verified(), agent, contact_key)
            .await
            .map_err(unavailable)
    }

    async fn remove_expired(&self, now: DateTime<Utc>) -> Result<u64, BackendError> {
        self.0
            .platform_remove_expired_sip_bindings(&PlatformScope::from_verified(), now)
            .await
            .map_err(unavailable)
    }
}

fn stored(binding: &Binding) -> SipBinding {
    SipBinding {
        agent_id: binding.agent_id,
        tenant_id: binding.tenant_id,
        aor: binding.aor.clone(),
        contact_key: binding.contact_key.clone(),
        contact_uri: binding.contact_uri.clone(),
        instance_id: binding.instance_id.clone(),
        source: binding.source.to_string(),
        transport: binding.transport.as_str().to_string(),
        user_agent: binding.user_agent.clone(),
        call_id: binding.call_id.clone(),
        cseq: i64::from(binding.cseq),
        expires_at: binding.expires_at,
        registered_at: binding.registered_at,
        updated_at: binding.updated_at,
    }
}

fn binding(row: SipBinding) -> Option<Binding> {
    Some(Binding {
        agent_id: row.agent_id,
        tenant_id: row.tenant_id,
        aor: row.aor,
        contact_key: row.contact_key,
        contact_uri: row.contact_uri,
        instance_id: row.instance_id,
        source: row.source.parse::<SocketAddr>().ok()?,
        transport: SipTransport::parse(&row.transport)?,
        user_agent: row.user_agent,
        call_id: row.call_id,
        cseq: u32::try_from(row.cseq).ok()?,
        expires_at: row.expires_at,
        registered_at: row.registered_at,
        updated_at: row.updated_at,
    })
}

fn unavailable(error: StoreError) -> BackendError {
    BackendError::Unavailable(error.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use hotline_core::ids::TenantId;

    fn sample() -> Binding {
        let now = hotline_core::time::now();
        Binding {
            agent_id: AgentId::new(),
            tenant_id: Some(TenantId::new()),
            aor: "sip:alice@acme.sip.hotline.local".into(),
            contact_key: "uri:sip:alice@10.0.0.5:5060".into(),
            contact_uri: "sip:alice@10.0.0.5:5060".into(),
            instance_id: Some("<urn:uuid:1>".into()),
            source: "[2001:db8::7]:5062".parse().unwrap(),
            transport: SipTransport::Tcp,
            user_agent: Some("Phone".into()),
            call_id: "c@h".into(),
            cseq: u32::MAX,
            expires_at: now,
            registered_at: now,
            updated_at: now,
        }
    }

    #[test]
    fn bindings_survive_the_trip_through_the_store_types() {
        let original = sample();
        assert_eq!(binding(stored(&original)), Some(original));
    }

    #[test]
    fn unreadable_rows_are_skipped() {
        let mut row = stored(&sample());
        row.source = "not an address".into();
        assert_eq!(binding(row), None);
        let mut row = stored(&sample());
        row.transport = "carrier-pigeon".into();
        assert_eq!(binding(row), None);
    }

    #[test]
    fn the_default_configuration_is_a_valid_registrar_configuration() {
        let registrar = registrar_config(&Config::default());
        assert!(
            registrar.problems().is_empty(),
            "{:?}",
            registrar.problems()
        );
        assert_eq!(
            registrar.algorithms,
            vec![DigestAlgorithm::Sha256, DigestAlgorithm::Md5]
        );
        assert_eq!(registrar.expiry.min, 60);
    }
}
