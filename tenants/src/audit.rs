//! The audit log of configuration changes: who changed what, when, and the resource before and
//! after, written in the same transaction as the change itself (a change without its entry
//! cannot commit). Secrets never reach it: resources serialize without password hashes or HA1s.
//!
//! Tenant admins read their tenant's entries; the platform admin reads all of them, including
//! platform-level changes (tenant_id NULL).

use chrono::{DateTime, Utc};
use hotline_core::ids::{AuditId, TenantId};
use hotline_core::{time, PlatformScope, TenantScope};
use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use crate::crud::{opt_uuid_column, uuid_column, Page, PageRequest};
use crate::error::StoreResult;
use crate::Store;

/// Who made a change.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Actor {
    pub kind: ActorKind,
    pub id: String,
    /// Human-readable: the user's email, the API key's name.
    pub label: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum ActorKind {
    User,
    ApiKey,
    /// Someone with shell access to the host running `hotline` commands.
    Cli,
}

impl ActorKind {
    fn as_str(self) -> &'static str {
        match self {
            ActorKind::User => "user",
            ActorKind::ApiKey => "api-key",
            ActorKind::Cli => "cli",
        }
    }

    fn parse(s: &str) -> Self {
        match s {
            "user" => ActorKind::User,
            "api-key" => ActorKind::ApiKey,
            _ => ActorKind::Cli,
        }
    }
}

impl Actor {
    /// The local operator at the host's command line.
    pub fn cli() -> Self {
        let who = std::env::var("USER").unwrap_or_else(|_| "unknown".into());
        Self {
            kind: ActorKind::Cli,
            id: who.clone(),
            label: format!("cli:{who}"),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum AuditAction {
    Create,
    Update,
    Delete,
}

impl AuditAction {
    fn as_str(self) -> &'static str {
        match self {
            AuditAction::Create => "create",
            AuditAction::Update => "update",
            AuditAction::Delete => "delete",
        }
    }

    fn parse(s: &str) -> Self {
        match s {
            "create" => AuditAction::Create,
            "delete" => AuditAction::Delete,
            _ => AuditAction::Update,
        }
    }
}

/// One configuration change.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct AuditEntry {
    pub id: AuditId,
    /// Absent for platform-level changes.
    pub tenant_id: Option<TenantId>,
    pub actor: Actor,
    pub action: AuditAction,
    /// The kind of resource: `hotline`, `queue`, `tenant`, ...
    pub resource: String,
    pub resource_id: String,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
    pub at: DateTime<Utc>,
}

#[allow(clippy::too_many_arguments)]
pub(crate) async fn record<T: Serialize>(
    conn: &mut AnyConnection,
    tenant: Option<TenantId>,
    actor: &Actor,
    action: AuditAction,
    resource: &str,
    resource_id: &str,
    before: Option<&T>,
    after: Option<&T>,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO audit_log (id, tenant_id, actor_kind, actor_id, actor_label, action, resource, resource_id, before_json, after_json, at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(AuditId::new().to_db())
    .bind(tenant.map(TenantId::to_db))
    .bind(actor.kind.as_str())
    .bind(&actor.id)
    .bind(&actor.label)
    .bind(action.as_str())
    .bind(resource)
    .bind(resource_id)
    .bind(before.map(crate::crud::to_json))
    .bind(after.map(crate::crud::to_json))
    .bind(time::to_millis(time::now()))
    .execute(conn)
    .await?;
    Ok(())
}

fn entry_from_row(row: &AnyRow) -> StoreResult<AuditEntry> {
    let json = |column: &str| -> StoreResult<Option<serde_json::Value>> {
        let text: Option<String> = row.try_get(column)?;
        Ok(text.map(|t| serde_json::from_str(&t)).transpose()?)
    };
    let actor_kind: String = row.try_get("actor_kind")?;
    let action: String = row.try_get("action")?;
    Ok(AuditEntry {
        id: AuditId(uuid_column(row, "id")?),
        tenant_id: opt_uuid_column(row, "tenant_id")?.map(TenantId),
        actor: Actor {
            kind: ActorKind::parse(&actor_kind),
            id: row.try_get("actor_id")?,
            label: row.try_get("actor_label")?,
        },
        action: AuditAction::parse(&action),
        resource: row.try_get("resource")?,
        resource_id: row.try_get("resource_id")?,
        before: json("before_json")?,
        after: json("after_json")?,
        at: time::from_millis(row.try_get("at")?),
    })
}

const SELECT: &str = "SELECT id, tenant_id, actor_kind, actor_id, actor_label, action, resource, resource_id, before_json, after_json, at FROM audit_log";

impl Store {
    /// The tenant's configuration changes, newest first.
    pub async fn tenant_audit_log(
        &self,
        scope: &TenantScope,
        page: &PageRequest,
    ) -> StoreResult<Page<AuditEntry>> {
        let after = page.after.map(|u| u.to_string());
        let rows = sqlx::query(&format!(
            "{SELECT} WHERE tenant_id = $1 AND ($2 IS NULL OR id < $3) ORDER BY id DESC LIMIT $4"
        ))
        .bind(scope.db_id())
        .bind(after.clone())
        .bind(after)
        .bind(page.fetch_limit())
        .fetch_all(self.db.pool())
        .await?;
        let items = rows
            .iter()
            .map(entry_from_row)
            .collect::<StoreResult<Vec<_>>>()?;
        Ok(Page::from_overfetch(items, page, |e| e.id.0))
    }

    /// Every configuration change on the installation, newest first.
    pub async fn platform_audit_log(
        &self,
        _scope: &PlatformScope,
        page: &PageRequest,
    ) -> StoreResult<Page<AuditEntry>> {
        let after = page.after.map(|u| u.to_string());
        let rows = sqlx::query(&format!(
            "{SELECT} WHERE ($1 IS NULL OR id < $2) ORDER BY id DESC LIMIT $3"
        ))
        .bind(after.clone())
        .bind(after)
        .bind(page.fetch_limit())
        .fetch_all(self.db.pool())
        .await?;
        let items = rows
            .iter()
            .map(entry_from_row)
            .collect::<StoreResult<Vec<_>>>()?;
        Ok(Page::from_overfetch(items, page, |e| e.id.0))
    }
}
