//! API keys: credentials for machines, scoped to one tenant and one role. The secret is shown
//! once at creation; only its SHA-256 is stored (keys are 256 random bits, so a slow hash adds
//! nothing and would slow every request).

use chrono::{DateTime, Utc};
use hotline_core::ids::{ApiKeyId, TenantId};
use hotline_core::{time, TenantScope};
use serde::{Deserialize, Serialize};
use sqlx::any::AnyRow;
use sqlx::Row;

use crate::audit::{self, Actor, AuditAction};
use crate::auth::{random_token, sha256_hex, Principal, Subject};
use crate::crud::{opt_uuid_column, uuid_column, Page, PageRequest};
use crate::error::{Invalid, StoreError, StoreResult};
use crate::rbac::Role;
use crate::{validate, Store};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApiKeyInput {
    pub name: String,
    /// Any tenant role; never platform-admin.
    pub role: Role,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ApiKey {
    pub id: ApiKeyId,
    pub tenant_id: TenantId,
    pub name: String,
    pub role: Role,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// The answer to creating a key: the only time the secret is shown.
#[derive(Clone, Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CreatedApiKey {
    #[serde(flatten)]
    pub key: ApiKey,
    /// Send as `Authorization: Bearer <secret>`. Not retrievable later.
    pub secret: String,
}

const SELECT: &str = "SELECT id, tenant_id, name, role, created_by, created_at, last_used_at, revoked_at FROM api_keys";
pub const PREFIX: &str = "hlk";

fn key_from_row(row: &AnyRow) -> StoreResult<ApiKey> {
    let role: String = row.try_get("role")?;
    let millis = |c: &str| -> StoreResult<Option<DateTime<Utc>>> {
        let v: Option<i64> = row.try_get(c)?;
        Ok(v.map(time::from_millis))
    };
    Ok(ApiKey {
        id: ApiKeyId(uuid_column(row, "id")?),
        tenant_id: opt_uuid_column(row, "tenant_id")?
            .map(TenantId)
            .ok_or_else(|| StoreError::Corrupt("api key without tenant".into()))?,
        name: row.try_get("name")?,
        role: Role::parse(&role).ok_or_else(|| StoreError::Corrupt(format!("role {role:?}")))?,
        created_by: row.try_get("created_by")?,
        created_at: time::from_millis(row.try_get("created_at")?),
        last_used_at: millis("last_used_at")?,
        revoked_at: millis("revoked_at")?,
    })
}

impl Store {
    pub async fn create_api_key(
        &self,
        actor: &Actor,
        scope: &TenantScope,
        input: ApiKeyInput,
    ) -> StoreResult<CreatedApiKey> {
        let mut invalid = Invalid::new();
        validate::name(&mut invalid, "name", &input.name);
        if input.role.is_platform() {
            invalid.add(
                "role",
                "API keys act inside one tenant; platform-admin is not allowed",
            );
        }
        invalid.into_result()?;
        let secret = random_token(PREFIX);
        let key = ApiKey {
            id: ApiKeyId::new(),
            tenant_id: scope.tenant_id(),
            name: input.name,
            role: input.role,
            created_by: actor.label.clone(),
            created_at: time::now(),
            last_used_at: None,
            revoked_at: None,
        };
        let mut tx = self.db.begin().await?;
        sqlx::query("INSERT INTO api_keys (id, tenant_id, name, role, key_hash, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)")
            .bind(key.id.to_db())
            .bind(scope.db_id())
            .bind(&key.name)
            .bind(key.role.as_str())
            .bind(sha256_hex(&secret))
            .bind(&key.created_by)
            .bind(time::to_millis(key.created_at))
            .execute(&mut *tx)
            .await?;
        audit::record(
            &mut tx,
            Some(scope.tenant_id()),
            actor,
            AuditAction::Create,
            "api-key",
            &key.id.to_string(),
            None,
            Some(&key),
        )
        .await?;
        tx.commit().await?;
        Ok(CreatedApiKey { key, secret })
    }

    pub async fn list_api_keys(
        &self,
        scope: &TenantScope,
        page: &PageRequest,
    ) -> StoreResult<Page<ApiKey>> {
        let after = page.after.map(|u| u.to_string());
        let rows = sqlx::query(&format!(
            "{SELECT} WHERE tenant_id = $1 AND ($2 IS NULL OR id > $3) ORDER BY id LIMIT $4"
        ))
        .bind(scope.db_id())
        .bind(after.clone())
        .bind(after)
        .bind(page.fetch_limit())
        .fetch_all(self.db.pool())
        .await?;
        let items = rows
            .iter()
            .map(key_from_row)
            .collect::<StoreResult<Vec<_>>>()?;
        Ok(Page::from_overfetch(items, page, |k| k.id.0))
    }

    pub async fn get_api_key(&self, scope: &TenantScope, id: ApiKeyId) -> StoreResult<ApiKey> {
        let row = sqlx::query(&format!("{SELECT} WHERE tenant_id = $1 AND id = $2"))
            .bind(scope.db_id())
            .bind(id.to_db())
            .fetch_optional(self.db.pool())
            .await?
            .ok_or(StoreError::not_found("api key"))?;
        key_from_row(&row)
    }

    /// Revoke a key; it stops working at once. Revoking twice is harmless.
    pub async fn revoke_api_key(
        &self,
        actor: &Actor,
        scope: &TenantScope,
        id: ApiKeyId,
    ) -> StoreResult<ApiKey> {
        let before = self.get_api_key(scope, id).await?;
        if before.revoked_at.is_some() {
            return Ok(before);
        }
        let now = time::now();
        let mut tx = self.db.begin().await?;
        sqlx::query("UPDATE api_keys SET revoked_at = $1 WHERE tenant_id = $2 AND id = $3")
            .bind(time::to_millis(now))
            .bind(scope.db_id())
            .bind(id.to_db())
            .execute(&mut *tx)
            .await?;
        let after = ApiKey {
            revoked_at: Some(now),
            ..before.clone()
        };
        audit::record(
            &mut tx,
            Some(scope.tenant_id()),
            actor,
            AuditAction::Update,
            "api-key",
            &id.to_string(),
            Some(&before),
            Some(&after),
        )
        .await?;
        tx.commit().await?;
        Ok(after)
    }

    /// The principal behind an API key secret, if it is a live key.
    pub async fn authenticate_api_key(&self, secret: &str) -> StoreResult<Option<Principal>> {
        let row = sqlx::query(&format!(
            "{SELECT} WHERE key_hash = $1 AND revoked_at IS NULL"
        ))
        .bind(sha256_hex(secret))
        .fetch_optional(self.db.pool())
        .await?;
        let Some(key) = row.as_ref().map(key_from_row).transpose()? else {
            return Ok(None);
        };
        // Best effort and coarse (once a minute) so that reads stay reads.
        let now = time::now();
        if key
            .last_used_at
            .is_none_or(|t| (now - t).num_seconds() >= 60)
        {
            let _ = sqlx::query("UPDATE api_keys SET last_used_at = $1 WHERE id = $2")
                .bind(time::to_millis(now))
                .bind(key.id.to_db())
                .execute(self.db.pool())
                .await;
        }
        Ok(Some(Principal {
            subject: Subject::ApiKey(key.id),
            tenant_id: Some(key.tenant_id),
            role: key.role,
            label: format!("api-key:{}", key.name),
        }))
    }
}
