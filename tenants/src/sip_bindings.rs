//! Agents' SIP registrations as stored: what the registrar writes through so that a restart
//! does not forget phones, the digest credentials it checks REGISTERs against, and the
//! registration state tenants and the operator read in the API.
//!
//! The registrar's functions are platform-level (`platform_*`, taking a `PlatformScope`): the
//! registrar serves every realm. Credentials are looked up by (realm, username) and nothing
//! else, so an agent can only ever be found in its own realm. Tenants read registrations of the
//! agents they may use (their own and the firm agents assigned to them) and no others.
//!
//! This module never returns an HA1 to anything but the registrar's credential lookup, and
//! never writes anything but bindings.

use chrono::{DateTime, Utc};
use hotline_core::ids::{AgentId, TenantId};
use hotline_core::{time, PlatformScope, TenantScope};
use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::Row;
use uuid::Uuid;

use crate::crud::{bool_column, opt_uuid_column, uuid_column, Page, PageRequest};
use crate::error::{StoreError, StoreResult};
use crate::tenants::TenantStatus;
use crate::Store;

/// One registered contact of an agent, as the registrar keeps it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SipBinding {
    pub agent_id: AgentId,
    /// The agent's tenant; `None` for a firm agent.
    pub tenant_id: Option<TenantId>,
    /// `sip:<user>@<realm>`.
    pub aor: String,
    /// The contact's identity among the agent's contacts.
    pub contact_key: String,
    /// The contact URI as the phone sent it.
    pub contact_uri: String,
    pub instance_id: Option<String>,
    /// `ip:port` the REGISTER came from.
    pub source: String,
    /// `udp`, `tcp`, ...
    pub transport: String,
    pub user_agent: Option<String>,
    pub call_id: String,
    pub cseq: i64,
    pub expires_at: DateTime<Utc>,
    pub registered_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// An agent's digest credentials, for the registrar only. `Debug` hides the HA1s.
#[derive(Clone, PartialEq, Eq)]
pub struct SipCredential {
    pub agent_id: AgentId,
    pub tenant_id: Option<TenantId>,
    pub realm: String,
    pub username: String,
    pub ha1_md5: String,
    pub ha1_sha256: String,
    /// The agent is enabled and its tenant (if any) is active.
    pub enabled: bool,
}

impl std::fmt::Debug for SipCredential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SipCredential")
            .field("agent_id", &self.agent_id)
            .field("tenant_id", &self.tenant_id)
            .field("realm", &self.realm)
            .field("username", &self.username)
            .field("enabled", &self.enabled)
            .finish_non_exhaustive()
    }
}

/// One registered phone of an agent, as the API shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Registration {
    #[schema(value_type = String, format = Uuid)]
    pub id: Uuid,
    pub agent_id: AgentId,
    /// The agent's tenant; absent for a firm agent.
    pub tenant_id: Option<TenantId>,
    /// `sip:<user>@<realm>`.
    pub aor: String,
    /// The contact URI the phone registered.
    pub contact: String,
    /// `ip:port` the registration came from (where calls to this phone go).
    pub source: String,
    /// `udp` or `tcp`.
    pub transport: String,
    pub user_agent: Option<String>,
    /// When this phone first registered (under its current Call-ID).
    pub registered_at: DateTime<Utc>,
    /// The last REGISTER that refreshed it.
    pub last_seen: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

/// Whether an agent can be rung now, and on which phones.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct AgentRegistrations {
    pub agent_id: AgentId,
    /// At least one phone is registered.
    pub online: bool,
    /// The latest refresh of a registered phone; absent when none is registered.
    pub last_seen: Option<DateTime<Utc>>,
    pub registrations: Vec<Registration>,
}

impl AgentRegistrations {
    fn of(agent_id: AgentId, registrations: Vec<Registration>) -> Self {
        Self {
            agent_id,
            online: !registrations.is_empty(),
            last_seen: registrations.iter().map(|r| r.last_seen).max(),
            registrations,
        }
    }
}

const BINDING_COLUMNS: &str = "id, agent_id, tenant_id, aor, contact_key, contact_uri, instance_id, source, transport, user_agent, call_id, cseq, expires_at, registered_at, updated_at";

fn binding_from_row(row: &AnyRow) -> StoreResult<SipBinding> {
    Ok(SipBinding {
        agent_id: AgentId(uuid_column(row, "agent_id")?),
        tenant_id: opt_uuid_column(row, "tenant_id")?.map(TenantId),
        aor: row.try_get("aor")?,
        contact_key: row.try_get("contact_key")?,
        contact_uri: row.try_get("contact_uri")?,
        instance_id: row.try_get("instance_id")?,
        source: row.try_get("source")?,
        transport: row.try_get("transport")?,
        user_agent: row.try_get("user_agent")?,
        call_id: row.try_get("call_id")?,
        cseq: row.try_get("cseq")?,
        expires_at: time::from_millis(row.try_get("expires_at")?),
        registered_at: time::from_millis(row.try_get("registered_at")?),
        updated_at: time::from_millis(row.try_get("updated_at")?),
    })
}

fn registration_from_row(row: &AnyRow) -> StoreResult<Registration> {
    let binding = binding_from_row(row)?;
    Ok(Registration {
        id: uuid_column(row, "id")?,
        agent_id: binding.agent_id,
        tenant_id: binding.tenant_id,
        aor: binding.aor,
        contact: binding.contact_uri,
        source: binding.source,
        transport: binding.transport,
        user_agent: binding.user_agent,
        registered_at: binding.registered_at,
        last_seen: binding.updated_at,
        expires_at: binding.expires_at,
    })
}

/// The agents a tenant may use: its own, and the firm agents assigned to it. Binds two
/// parameters, both the tenant id, numbered from `first`.
fn visible_agents(first: usize) -> String {
    format!(
        "SELECT id FROM agents WHERE tenant_id = ${first} OR (tenant_id IS NULL AND id IN (SELECT agent_id FROM agent_assignments WHERE tenant_id = ${}))",
        first + 1
    )
}

impl Store {
    // --- the registrar's (platform-level) --------------------------------------------------

    /// Every stored binding, for the registrar to start from.
    pub async fn platform_load_sip_bindings(
        &self,
        _scope: &PlatformScope,
    ) -> StoreResult<Vec<SipBinding>> {
        let rows = sqlx::query(&format!("SELECT {BINDING_COLUMNS} FROM sip_bindings"))
            .fetch_all(self.db.pool())
            .await?;
        rows.iter().map(binding_from_row).collect()
    }

    /// Insert a binding, or replace the one with its agent and contact key (keeping its id).
    pub async fn platform_upsert_sip_binding(
        &self,
        _scope: &PlatformScope,
        binding: &SipBinding,
    ) -> StoreResult<()> {
        sqlx::query(&format!(
            "INSERT INTO sip_bindings ({BINDING_COLUMNS})
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
             ON CONFLICT (agent_id, contact_key) DO UPDATE SET
                tenant_id = excluded.tenant_id, aor = excluded.aor, contact_uri = excluded.contact_uri,
                instance_id = excluded.instance_id, source = excluded.source, transport = excluded.transport,
                user_agent = excluded.user_agent, call_id = excluded.call_id, cseq = excluded.cseq,
                expires_at = excluded.expires_at, registered_at = excluded.registered_at,
                updated_at = excluded.updated_at"
        ))
        .bind(Uuid::now_v7().to_string())
        .bind(binding.agent_id.to_db())
        .bind(binding.tenant_id.map(TenantId::to_db))
        .bind(&binding.aor)
        .bind(&binding.contact_key)
        .bind(&binding.contact_uri)
        .bind(binding.instance_id.clone())
        .bind(&binding.source)
        .bind(&binding.transport)
        .bind(binding.user_agent.clone())
        .bind(&binding.call_id)
        .bind(binding.cseq)
        .bind(time::to_millis(binding.expires_at))
        .bind(time::to_millis(binding.registered_at))
        .bind(time::to_millis(binding.updated_at))
        .execute(self.db.pool())
        .await?;
        Ok(())
    }

    /// Delete one binding (an unregistered or displaced contact). Deleting what is not there is
    /// not an error: the registrar's memory is the truth.
    pub async fn platform_remove_sip_binding(
        &self,
        _scope: &PlatformScope,
        agent: AgentId,
        contact_key: &str,
    ) -> StoreResult<()> {
        sqlx::query("DELETE FROM sip_bindings WHERE agent_id = $1 AND contact_key = $2")
            .bind(agent.to_db())
            .bind(contact_key)
            .execute(self.db.pool())
            .await?;
        Ok(())
    }

    /// Delete bindings that expired at or before `now`; how many went.
    pub async fn platform_remove_expired_sip_bindings(
        &self,
        _scope: &PlatformScope,
        now: DateTime<Utc>,
    ) -> StoreResult<u64> {
        let done = sqlx::query("DELETE FROM sip_bindings WHERE expires_at <= $1")
            .bind(time::to_millis(now))
            .execute(self.db.pool())
            .await?;
        Ok(done.rows_affected())
    }

    /// The digest credentials of the agent registering as `username` in `realm`: the only
    /// lookup by which the registrar finds an agent. `realm` is compared as stored (realms are
    /// lowercase DNS names).
    pub async fn platform_sip_credentials(
        &self,
        _scope: &PlatformScope,
        realm: &str,
        username: &str,
    ) -> StoreResult<Option<SipCredential>> {
        let row = sqlx::query(
            "SELECT a.id, a.tenant_id, a.realm, a.sip_username, a.ha1_md5, a.ha1_sha256, a.enabled, t.status
             FROM agents a LEFT JOIN tenants t ON t.id = a.tenant_id
             WHERE a.realm = $1 AND a.sip_username = $2",
        )
        .bind(realm)
        .bind(username)
        .fetch_optional(self.db.pool())
        .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        let tenant_id = opt_uuid_column(&row, "tenant_id")?.map(TenantId);
        let tenant_active = match tenant_id {
            None => true,
            Some(_) => {
                let text: String = row.try_get("status")?;
                let status: TenantStatus =
                    serde_json::from_value(serde_json::Value::String(text.clone()))
                        .map_err(|_| StoreError::Corrupt(format!("tenant status {text:?}")))?;
                status == TenantStatus::Active
            }
        };
        Ok(Some(SipCredential {
            agent_id: AgentId(uuid_column(&row, "id")?),
            tenant_id,
            realm: row.try_get("realm")?,
            username: row.try_get("sip_username")?,
            ha1_md5: row.try_get("ha1_md5")?,
            ha1_sha256: row.try_get("ha1_sha256")?,
            enabled: bool_column(&row, "enabled")? && tenant_active,
        }))
    }

    // --- what tenants and the operator read ------------------------------------------------

    /// The registered phones of an agent the tenant may use (404 for any other agent).
    pub async fn agent_registrations(
        &self,
        scope: &TenantScope,
        agent: AgentId,
    ) -> StoreResult<AgentRegistrations> {
        self.get_agent(scope, agent).await?;
        self.live_registrations_of(agent).await
    }

    /// Registered phones of every agent the tenant may use, oldest registration id first.
    pub async fn list_registrations(
        &self,
        scope: &TenantScope,
        page: &PageRequest,
    ) -> StoreResult<Page<Registration>> {
        let after = page.after.map(|u| u.to_string());
        let rows = sqlx::query(&format!(
            "SELECT {BINDING_COLUMNS} FROM sip_bindings
             WHERE expires_at > $1 AND agent_id IN ({})
             AND ($4 IS NULL OR id > $5) ORDER BY id LIMIT $6",
            visible_agents(2)
        ))
        .bind(time::to_millis(time::now()))
        .bind(scope.db_id())
        .bind(scope.db_id())
        .bind(after.clone())
        .bind(after)
        .bind(page.fetch_limit())
        .fetch_all(self.db.pool())
        .await?;
        let items = rows
            .iter()
            .map(registration_from_row)
            .collect::<StoreResult<Vec<_>>>()?;
        Ok(Page::from_overfetch(items, page, |r| r.id))
    }

    /// The registered phones of one of the firm's agents (404 for a tenant's own agent).
    pub async fn firm_agent_registrations(
        &self,
        scope: &PlatformScope,
        agent: AgentId,
    ) -> StoreResult<AgentRegistrations> {
        self.get_firm_agent(scope, agent).await?;
        self.live_registrations_of(agent).await
    }

    async fn live_registrations_of(&self, agent: AgentId) -> StoreResult<AgentRegistrations> {
        let rows = sqlx::query(&format!(
            "SELECT {BINDING_COLUMNS} FROM sip_bindings WHERE agent_id = $1 AND expires_at > $2 ORDER BY updated_at DESC, id"
        ))
        .bind(agent.to_db())
        .bind(time::to_millis(time::now()))
        .fetch_all(self.db.pool())
        .await?;
        let registrations = rows
            .iter()
            .map(registration_from_row)
            .collect::<StoreResult<Vec<_>>>()?;
        Ok(AgentRegistrations::of(agent, registrations))
    }
}
