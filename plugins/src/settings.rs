//! A tenant's plugin settings in `plugin_settings`: the HTTP allowlist its plugins' requests are
//! checked against. A tenant without a row has the defaults (nothing allowed) at version 0;
//! each write bumps the version, which the API hands out as the ETag and expects back in
//! `If-Match`, so two admins editing the list cannot overwrite each other unknowingly.
//!
//! Every function takes the tenant's scope; a tenant never reads or writes another's settings.

use chrono::{DateTime, Utc};
use hotline_core::{Db, TenantScope};
use serde::Serialize;
use sqlx::Row;

use crate::allowlist::Allowlist;
use crate::error::{StoreError, StoreResult};

/// A tenant's plugin settings.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct PluginSettings {
    /// Hosts the tenant's plugins may reach: `crm.example.com`, `*.example.com`, either with an
    /// optional `:port`; empty allows none.
    pub http_allowlist: Vec<String>,
    /// 0 until the first change.
    pub version: i64,
    /// Who changed them last (absent before the first change).
    pub updated_by: Option<String>,
    pub updated_at: Option<DateTime<Utc>>,
}

impl PluginSettings {
    fn defaults() -> Self {
        Self {
            http_allowlist: Vec::new(),
            version: 0,
            updated_by: None,
            updated_at: None,
        }
    }

    pub fn allowlist(&self) -> Allowlist {
        Allowlist::new(&self.http_allowlist)
    }
}

/// The `plugin_settings` table.
#[derive(Clone, Debug)]
pub struct SettingsStore {
    db: Db,
}

impl SettingsStore {
    pub fn new(db: Db) -> Self {
        Self { db }
    }

    /// The tenant's settings (the defaults when never changed).
    pub async fn get(&self, scope: &TenantScope) -> StoreResult<PluginSettings> {
        let row = sqlx::query(
            "SELECT http_allowlist, version, updated_by, updated_at FROM plugin_settings WHERE tenant_id = $1",
        )
        .bind(scope.db_id())
        .fetch_optional(self.db.pool())
        .await?;
        let Some(row) = row else {
            return Ok(PluginSettings::defaults());
        };
        let list: String = row.try_get("http_allowlist")?;
        Ok(PluginSettings {
            http_allowlist: serde_json::from_str(&list)
                .map_err(|e| StoreError::Corrupt(format!("plugin settings allowlist: {e}")))?,
            version: row.try_get("version")?,
            updated_by: Some(row.try_get("updated_by")?),
            updated_at: Some(hotline_core::time::from_millis(row.try_get("updated_at")?)),
        })
    }

    /// Replace the tenant's allowlist, if its settings are still at `expected_version` (0 for
    /// never changed); `StoreError::Conflict` when someone changed them meanwhile.
    pub async fn set_allowlist(
        &self,
        scope: &TenantScope,
        expected_version: i64,
        allowlist: &Allowlist,
        updated_by: &str,
    ) -> StoreResult<PluginSettings> {
        let list = serde_json::to_string(allowlist.entries())
            .map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let now = hotline_core::time::now();
        let at = hotline_core::time::to_millis(now);
        let changed = if expected_version == 0 {
            sqlx::query(
                "INSERT INTO plugin_settings (tenant_id, http_allowlist, version, updated_by, updated_at)
                 VALUES ($1, $2, 1, $3, $4) ON CONFLICT (tenant_id) DO NOTHING",
            )
            .bind(scope.db_id())
            .bind(&list)
            .bind(updated_by)
            .bind(at)
            .execute(self.db.pool())
            .await?
        } else {
            sqlx::query(
                "UPDATE plugin_settings SET http_allowlist = $1, version = version + 1, updated_by = $2, updated_at = $3
                 WHERE tenant_id = $4 AND version = $5",
            )
            .bind(&list)
            .bind(updated_by)
            .bind(at)
            .bind(scope.db_id())
            .bind(expected_version)
            .execute(self.db.pool())
            .await?
        };
        if changed.rows_affected() == 0 {
            let current = self.get(scope).await?.version;
            return Err(StoreError::VersionMismatch {
                expected: expected_version,
                current,
            });
        }
        Ok(PluginSettings {
            http_allowlist: allowlist.entries().to_vec(),
            version: expected_version + 1,
            updated_by: Some(updated_by.to_string()),
            updated_at: Some(hotline_core::time::from_millis(at)),
        })
    }
}
