//! Agents: the operators who answer calls on SIP phones.
//!
//! Two kinds, one table. A tenant's own agent (`tenant_id` set) serves only that tenant's
//! queues and registers in that tenant's realm. One of the firm's agents (`tenant_id` NULL) is
//! managed by the operator, registers in the platform realm, and serves every tenant it is
//! assigned to (`agent_assignments`) — which is also what a tenant is billed per seat for.
//!
//! The SIP password is never stored: only the digest HA1 (`MD5(user:realm:password)` and its
//! SHA-256 twin for RFC 8760), which is all a registrar needs and useless in another realm.

use chrono::{DateTime, Utc};
use hotline_core::ids::{AgentId, TenantId, UserId};
use hotline_core::{time, PlatformScope, TenantScope};
use md5::Md5;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use crate::audit::{self, Actor, AuditAction};
use crate::crud::{
    bool_column, conflict_or, json_column, opt_uuid_column, to_json, uuid_column, Page, PageRequest,
};
use crate::error::{Invalid, StoreError, StoreResult};
use crate::{validate, Store};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Skill {
    pub name: String,
    /// 1 (some) to 10 (expert).
    pub level: u8,
}

/// An agent as clients send it; `sip_password` is write-only (required on create).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AgentInput {
    pub name: String,
    /// The user part of `sip:<user>@<realm>`.
    pub sip_username: String,
    #[serde(default)]
    pub skills: Vec<Skill>,
    #[serde(default = "enabled_by_default")]
    pub enabled: bool,
    /// The login of this agent for the agent page, if any.
    #[serde(default)]
    pub user_id: Option<UserId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sip_password: Option<String>,
}

fn enabled_by_default() -> bool {
    true
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum AgentKind {
    /// One of the outsourcing firm's operators, shared between tenants.
    Firm,
    /// A tenant's own operator.
    Tenant,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Agent {
    pub id: AgentId,
    pub kind: AgentKind,
    /// Set for a tenant's own agent.
    pub tenant_id: Option<TenantId>,
    pub name: String,
    pub sip_username: String,
    /// The digest realm (and SIP domain) the agent registers in.
    pub realm: String,
    pub skills: Vec<Skill>,
    pub enabled: bool,
    pub user_id: Option<UserId>,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Agent {
    pub fn input(&self) -> AgentInput {
        AgentInput {
            name: self.name.clone(),
            sip_username: self.sip_username.clone(),
            skills: self.skills.clone(),
            enabled: self.enabled,
            user_id: self.user_id,
            sip_password: None,
        }
    }
}

/// Digest HA1 in both algorithms a registrar may challenge with.
pub fn digest_ha1(username: &str, realm: &str, password: &str) -> (String, String) {
    let material = format!("{username}:{realm}:{password}");
    (
        hex::encode(Md5::digest(material.as_bytes())),
        hex::encode(Sha256::digest(material.as_bytes())),
    )
}

impl AgentInput {
    fn validate(&self, creating: bool) -> Result<(), Invalid> {
        let mut invalid = Invalid::new();
        validate::name(&mut invalid, "name", &self.name);
        let user_ok = !self.sip_username.is_empty()
            && self.sip_username.len() <= 64
            && self
                .sip_username
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '+'));
        if !user_ok {
            invalid.add("sip_username", "1 to 64 letters, digits, or - _ . +");
        }
        match &self.sip_password {
            None if creating => invalid.add("sip_password", "is required"),
            Some(p) if p.chars().count() < 8 => {
                invalid.add("sip_password", "must be at least 8 characters")
            }
            Some(p) if p.len() > 256 => invalid.add("sip_password", "must be at most 256 bytes"),
            _ => {}
        }
        for (i, skill) in self.skills.iter().enumerate() {
            validate::name(&mut invalid, &format!("skills[{i}].name"), &skill.name);
            if !(1..=10).contains(&skill.level) {
                invalid.add(format!("skills[{i}].level"), "must be between 1 and 10");
            }
            if self.skills[..i].iter().any(|s| s.name == skill.name) {
                invalid.add(
                    format!("skills[{i}].name"),
                    format!("{:?} is listed twice", skill.name),
                );
            }
        }
        invalid.into_result()
    }
}

const SELECT: &str = "SELECT id, tenant_id, name, sip_username, realm, skills, user_id, enabled, version, created_at, updated_at FROM agents";

fn agent_from_row(row: &AnyRow) -> StoreResult<Agent> {
    let tenant_id = opt_uuid_column(row, "tenant_id")?.map(TenantId);
    Ok(Agent {
        id: AgentId(uuid_column(row, "id")?),
        kind: if tenant_id.is_some() {
            AgentKind::Tenant
        } else {
            AgentKind::Firm
        },
        tenant_id,
        name: row.try_get("name")?,
        sip_username: row.try_get("sip_username")?,
        realm: row.try_get("realm")?,
        skills: json_column(row, "skills")?,
        enabled: bool_column(row, "enabled")?,
        user_id: opt_uuid_column(row, "user_id")?.map(UserId),
        version: row.try_get("version")?,
        created_at: time::from_millis(row.try_get("created_at")?),
        updated_at: time::from_millis(row.try_get("updated_at")?),
    })
}

/// Whose agents a function manages.
#[derive(Clone, Copy)]
enum Owner {
    Tenant(TenantId),
    Firm,
}

impl Owner {
    fn db_id(self) -> Option<String> {
        match self {
            Owner::Tenant(t) => Some(t.to_db()),
            Owner::Firm => None,
        }
    }
    fn filter(self) -> &'static str {
        match self {
            Owner::Tenant(_) => "tenant_id = $1",
            Owner::Firm => "tenant_id IS NULL AND $1 IS NULL",
        }
    }
    fn audit_tenant(self) -> Option<TenantId> {
        match self {
            Owner::Tenant(t) => Some(t),
            Owner::Firm => None,
        }
    }
}

async fn fetch_owned(conn: &mut AnyConnection, owner: Owner, id: AgentId) -> StoreResult<Agent> {
    let row = sqlx::query(&format!("{SELECT} WHERE {} AND id = $2", owner.filter()))
        .bind(owner.db_id())
        .bind(id.to_db())
        .fetch_optional(conn)
        .await?
        .ok_or(StoreError::not_found("agent"))?;
    agent_from_row(&row)
}

/// The login an agent is linked to must belong to the agent's owner: a tenant's agent to a user
/// of that tenant, a firm agent to one of the operator's users. (`agents.user_id` has no foreign
/// key: unchecked, a user id of another tenant would link that tenant's person to this agent.)
async fn check_user_link(
    conn: &mut AnyConnection,
    owner: Owner,
    user: Option<UserId>,
) -> StoreResult<()> {
    let Some(user) = user else {
        return Ok(());
    };
    let found = sqlx::query(&format!(
        "SELECT id FROM users WHERE {} AND id = $2",
        owner.filter()
    ))
    .bind(owner.db_id())
    .bind(user.to_db())
    .fetch_optional(conn)
    .await?;
    if found.is_none() {
        return Err(Invalid::one("user_id", "no user of this tenant has this id").into());
    }
    Ok(())
}

/// An agent the tenant may use: its own, or a firm agent assigned to it.
pub(crate) async fn fetch_visible(
    conn: &mut AnyConnection,
    scope: &TenantScope,
    id: AgentId,
) -> StoreResult<Agent> {
    let row = sqlx::query(&format!(
        "{SELECT} WHERE id = $1 AND (tenant_id = $2 OR (tenant_id IS NULL AND id IN (SELECT agent_id FROM agent_assignments WHERE tenant_id = $3)))"
    ))
    .bind(id.to_db())
    .bind(scope.db_id())
    .bind(scope.db_id())
    .fetch_optional(conn)
    .await?
    .ok_or(StoreError::not_found("agent"))?;
    agent_from_row(&row)
}

impl Store {
    async fn realm_of(&self, owner: Owner) -> StoreResult<String> {
        match owner {
            Owner::Firm => Ok(self.config.sip_domain_suffix.clone()),
            Owner::Tenant(t) => {
                let slug: String = sqlx::query("SELECT slug FROM tenants WHERE id = $1")
                    .bind(t.to_db())
                    .fetch_optional(self.db.pool())
                    .await?
                    .ok_or(StoreError::not_found("tenant"))?
                    .try_get("slug")?;
                Ok(self.sip_domain(&slug))
            }
        }
    }

    async fn insert_agent(
        &self,
        actor: &Actor,
        owner: Owner,
        input: AgentInput,
    ) -> StoreResult<Agent> {
        input.validate(true)?;
        let realm = self.realm_of(owner).await?;
        let (md5, sha256) = digest_ha1(
            &input.sip_username,
            &realm,
            input.sip_password.as_deref().unwrap_or_default(),
        );
        let now = time::now();
        let agent = Agent {
            id: AgentId::new(),
            kind: if matches!(owner, Owner::Firm) {
                AgentKind::Firm
            } else {
                AgentKind::Tenant
            },
            tenant_id: owner.audit_tenant(),
            name: input.name,
            sip_username: input.sip_username,
            realm,
            skills: input.skills,
            enabled: input.enabled,
            user_id: input.user_id,
            version: 1,
            created_at: now,
            updated_at: now,
        };
        let mut tx = self.db.begin().await?;
        check_user_link(&mut tx, owner, agent.user_id).await?;
        sqlx::query(
            "INSERT INTO agents (id, tenant_id, name, sip_username, realm, ha1_md5, ha1_sha256, skills, user_id, enabled, version, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
        )
        .bind(agent.id.to_db())
        .bind(owner.db_id())
        .bind(&agent.name)
        .bind(&agent.sip_username)
        .bind(&agent.realm)
        .bind(md5)
        .bind(sha256)
        .bind(to_json(&agent.skills))
        .bind(agent.user_id.map(UserId::to_db))
        .bind(agent.enabled)
        .bind(agent.version)
        .bind(time::to_millis(now))
        .bind(time::to_millis(now))
        .execute(&mut *tx)
        .await
        .map_err(|e| match conflict_or(e, "agent") {
            StoreError::Conflict(_) => StoreError::Conflict("this SIP username is taken in the realm".into()),
            other => other,
        })?;
        audit::record(
            &mut tx,
            owner.audit_tenant(),
            actor,
            AuditAction::Create,
            "agent",
            &agent.id.to_string(),
            None,
            Some(&agent),
        )
        .await?;
        tx.commit().await?;
        Ok(agent)
    }

    async fn update_agent_in(
        &self,
        actor: &Actor,
        owner: Owner,
        id: AgentId,
        expected_version: i64,
        input: AgentInput,
    ) -> StoreResult<Agent> {
        input.validate(false)?;
        let mut tx = self.db.begin().await?;
        let before = fetch_owned(&mut tx, owner, id).await?;
        if before.version != expected_version {
            return Err(StoreError::VersionMismatch {
                resource: "agent",
                current: before.version,
            });
        }
        if input.sip_username != before.sip_username && input.sip_password.is_none() {
            return Err(Invalid::one(
                "sip_password",
                "is required to change the SIP username (the digest covers both)",
            )
            .into());
        }
        if input.user_id != before.user_id {
            check_user_link(&mut tx, owner, input.user_id).await?;
        }
        let ha1 = input
            .sip_password
            .as_deref()
            .map(|p| digest_ha1(&input.sip_username, &before.realm, p));
        let now = time::now();
        let done = sqlx::query(
            "UPDATE agents SET name = $1, sip_username = $2, skills = $3, user_id = $4, enabled = $5,
             ha1_md5 = COALESCE($6, ha1_md5), ha1_sha256 = COALESCE($7, ha1_sha256), version = $8, updated_at = $9
             WHERE id = $10 AND version = $11",
        )
        .bind(&input.name)
        .bind(&input.sip_username)
        .bind(to_json(&input.skills))
        .bind(input.user_id.map(UserId::to_db))
        .bind(input.enabled)
        .bind(ha1.as_ref().map(|h| h.0.clone()))
        .bind(ha1.as_ref().map(|h| h.1.clone()))
        .bind(expected_version + 1)
        .bind(time::to_millis(now))
        .bind(id.to_db())
        .bind(expected_version)
        .execute(&mut *tx)
        .await
        .map_err(|e| conflict_or(e, "agent"))?;
        if done.rows_affected() != 1 {
            return Err(StoreError::VersionMismatch {
                resource: "agent",
                current: expected_version + 1,
            });
        }
        let after = Agent {
            name: input.name,
            sip_username: input.sip_username,
            skills: input.skills,
            enabled: input.enabled,
            user_id: input.user_id,
            version: expected_version + 1,
            updated_at: now,
            ..before.clone()
        };
        audit::record(
            &mut tx,
            owner.audit_tenant(),
            actor,
            AuditAction::Update,
            "agent",
            &id.to_string(),
            Some(&before),
            Some(&after),
        )
        .await?;
        tx.commit().await?;
        self.changes.routing_changed();
        Ok(after)
    }

    async fn delete_agent_in(&self, actor: &Actor, owner: Owner, id: AgentId) -> StoreResult<()> {
        let mut tx = self.db.begin().await?;
        let before = fetch_owned(&mut tx, owner, id).await?;
        for sql in [
            "DELETE FROM queue_members WHERE agent_id = $1",
            "DELETE FROM agent_assignments WHERE agent_id = $1",
            "DELETE FROM agents WHERE id = $1",
        ] {
            sqlx::query(sql).bind(id.to_db()).execute(&mut *tx).await?;
        }
        audit::record(
            &mut tx,
            owner.audit_tenant(),
            actor,
            AuditAction::Delete,
            "agent",
            &id.to_string(),
            Some(&before),
            None,
        )
        .await?;
        tx.commit().await?;
        self.changes.routing_changed();
        Ok(())
    }

    // --- a tenant's view -------------------------------------------------------------------

    /// Create one of the tenant's own agents, in the tenant's realm.
    pub async fn create_agent(
        &self,
        actor: &Actor,
        scope: &TenantScope,
        input: AgentInput,
    ) -> StoreResult<Agent> {
        self.insert_agent(actor, Owner::Tenant(scope.tenant_id()), input)
            .await
    }

    /// An agent the tenant may use: its own or a firm agent assigned to it.
    pub async fn get_agent(&self, scope: &TenantScope, id: AgentId) -> StoreResult<Agent> {
        let mut conn = self.db.pool().acquire().await?;
        fetch_visible(&mut conn, scope, id).await
    }

    /// The tenant's own agents and the firm agents assigned to it.
    pub async fn list_agents(
        &self,
        scope: &TenantScope,
        page: &PageRequest,
    ) -> StoreResult<Page<Agent>> {
        let after = page.after.map(|u| u.to_string());
        let rows = sqlx::query(&format!(
            "{SELECT} WHERE (tenant_id = $1 OR (tenant_id IS NULL AND id IN (SELECT agent_id FROM agent_assignments WHERE tenant_id = $2)))
             AND ($3 IS NULL OR id > $4) ORDER BY id LIMIT $5"
        ))
        .bind(scope.db_id())
        .bind(scope.db_id())
        .bind(after.clone())
        .bind(after)
        .bind(page.fetch_limit())
        .fetch_all(self.db.pool())
        .await?;
        let items = rows
            .iter()
            .map(agent_from_row)
            .collect::<StoreResult<Vec<_>>>()?;
        Ok(Page::from_overfetch(items, page, |a| a.id.0))
    }

    /// Change one of the tenant's own agents. A firm agent is the operator's to change.
    pub async fn update_agent(
        &self,
        actor: &Actor,
        scope: &TenantScope,
        id: AgentId,
        expected_version: i64,
        input: AgentInput,
    ) -> StoreResult<Agent> {
        self.refuse_firm_agent(scope, id).await?;
        self.update_agent_in(
            actor,
            Owner::Tenant(scope.tenant_id()),
            id,
            expected_version,
            input,
        )
        .await
    }

    pub async fn delete_agent(
        &self,
        actor: &Actor,
        scope: &TenantScope,
        id: AgentId,
    ) -> StoreResult<()> {
        self.refuse_firm_agent(scope, id).await?;
        self.delete_agent_in(actor, Owner::Tenant(scope.tenant_id()), id)
            .await
    }

    async fn refuse_firm_agent(&self, scope: &TenantScope, id: AgentId) -> StoreResult<()> {
        if self.get_agent(scope, id).await?.kind == AgentKind::Firm {
            return Err(StoreError::Forbidden(
                "a firm agent is managed by the platform operator".into(),
            ));
        }
        Ok(())
    }

    // --- the operator's view -------------------------------------------------------------

    pub async fn create_firm_agent(
        &self,
        actor: &Actor,
        _scope: &PlatformScope,
        input: AgentInput,
    ) -> StoreResult<Agent> {
        self.insert_agent(actor, Owner::Firm, input).await
    }

    pub async fn get_firm_agent(&self, _scope: &PlatformScope, id: AgentId) -> StoreResult<Agent> {
        let mut conn = self.db.pool().acquire().await?;
        fetch_owned(&mut conn, Owner::Firm, id).await
    }

    pub async fn list_firm_agents(
        &self,
        _scope: &PlatformScope,
        page: &PageRequest,
    ) -> StoreResult<Page<Agent>> {
        let after = page.after.map(|u| u.to_string());
        let rows = sqlx::query(&format!(
            "{SELECT} WHERE tenant_id IS NULL AND ($1 IS NULL OR id > $2) ORDER BY id LIMIT $3"
        ))
        .bind(after.clone())
        .bind(after)
        .bind(page.fetch_limit())
        .fetch_all(self.db.pool())
        .await?;
        let items = rows
            .iter()
            .map(agent_from_row)
            .collect::<StoreResult<Vec<_>>>()?;
        Ok(Page::from_overfetch(items, page, |a| a.id.0))
    }

    pub async fn update_firm_agent(
        &self,
        actor: &Actor,
        _scope: &PlatformScope,
        id: AgentId,
        expected_version: i64,
        input: AgentInput,
    ) -> StoreResult<Agent> {
        self.update_agent_in(actor, Owner::Firm, id, expected_version, input)
            .await
    }

    pub async fn delete_firm_agent(
        &self,
        actor: &Actor,
        _scope: &PlatformScope,
        id: AgentId,
    ) -> StoreResult<()> {
        self.delete_agent_in(actor, Owner::Firm, id).await
    }

    /// Let a firm agent serve `tenant` (a billed seat there). Assigning twice is harmless.
    pub async fn assign_firm_agent(
        &self,
        actor: &Actor,
        scope: &PlatformScope,
        id: AgentId,
        tenant: TenantId,
    ) -> StoreResult<()> {
        self.get_firm_agent(scope, id).await?;
        let exists = sqlx::query("SELECT id FROM tenants WHERE id = $1")
            .bind(tenant.to_db())
            .fetch_optional(self.db.pool())
            .await?;
        if exists.is_none() {
            return Err(Invalid::one("tenant_id", "no such tenant").into());
        }
        let mut tx = self.db.begin().await?;
        let already = sqlx::query(
            "SELECT agent_id FROM agent_assignments WHERE agent_id = $1 AND tenant_id = $2",
        )
        .bind(id.to_db())
        .bind(tenant.to_db())
        .fetch_optional(&mut *tx)
        .await?;
        if already.is_none() {
            sqlx::query("INSERT INTO agent_assignments (agent_id, tenant_id, created_at) VALUES ($1, $2, $3)")
                .bind(id.to_db())
                .bind(tenant.to_db())
                .bind(time::to_millis(time::now()))
                .execute(&mut *tx)
                .await?;
            let after = serde_json::json!({ "agent_id": id, "tenant_id": tenant });
            audit::record(
                &mut tx,
                Some(tenant),
                actor,
                AuditAction::Create,
                "agent-assignment",
                &id.to_string(),
                None,
                Some(&after),
            )
            .await?;
        }
        tx.commit().await?;
        self.changes.routing_changed();
        Ok(())
    }

    /// Stop a firm agent serving `tenant`; its memberships in that tenant's queues end too.
    pub async fn unassign_firm_agent(
        &self,
        actor: &Actor,
        _scope: &PlatformScope,
        id: AgentId,
        tenant: TenantId,
    ) -> StoreResult<()> {
        let mut tx = self.db.begin().await?;
        let done =
            sqlx::query("DELETE FROM agent_assignments WHERE agent_id = $1 AND tenant_id = $2")
                .bind(id.to_db())
                .bind(tenant.to_db())
                .execute(&mut *tx)
                .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::not_found("agent assignment"));
        }
        sqlx::query("DELETE FROM queue_members WHERE agent_id = $1 AND tenant_id = $2")
            .bind(id.to_db())
            .bind(tenant.to_db())
            .execute(&mut *tx)
            .await?;
        let before = serde_json::json!({ "agent_id": id, "tenant_id": tenant });
        audit::record(
            &mut tx,
            Some(tenant),
            actor,
            AuditAction::Delete,
            "agent-assignment",
            &id.to_string(),
            Some(&before),
            None,
        )
        .await?;
        tx.commit().await?;
        self.changes.routing_changed();
        Ok(())
    }

    /// Tenants a firm agent is assigned to.
    pub async fn firm_agent_assignments(
        &self,
        scope: &PlatformScope,
        id: AgentId,
    ) -> StoreResult<Vec<TenantId>> {
        self.get_firm_agent(scope, id).await?;
        let rows = sqlx::query(
            "SELECT tenant_id FROM agent_assignments WHERE agent_id = $1 ORDER BY tenant_id",
        )
        .bind(id.to_db())
        .fetch_all(self.db.pool())
        .await?;
        rows.iter()
            .map(|r| uuid_column(r, "tenant_id").map(TenantId))
            .collect()
    }
}
