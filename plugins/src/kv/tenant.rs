//! The tenants' stores in the `plugin_kv` table: [`KvStore`] is the table, taking a
//! `TenantScope` on every function; [`TenantKv`] is one tenant's store as a call's plugin sees
//! it. Quotas are checked inside the writing transaction.

use async_trait::async_trait;
use hotline_core::{Db, TenantScope};
use sqlx::Row;

use super::{check_quota, KvBackend, KvFailure, KvQuota};
use crate::error::{StoreError, StoreResult};

/// The `plugin_kv` table.
#[derive(Clone, Debug)]
pub struct KvStore {
    db: Db,
}

impl KvStore {
    pub fn new(db: Db) -> Self {
        Self { db }
    }

    /// One tenant's store, as a plugin of that tenant sees it.
    pub fn for_tenant(&self, scope: TenantScope) -> TenantKv {
        TenantKv {
            store: self.clone(),
            scope,
        }
    }

    pub async fn get(&self, scope: &TenantScope, key: &str) -> StoreResult<Option<String>> {
        let row = sqlx::query("SELECT value FROM plugin_kv WHERE tenant_id = $1 AND key = $2")
            .bind(scope.db_id())
            .bind(key)
            .fetch_optional(self.db.pool())
            .await?;
        Ok(row.map(|r| r.try_get("value")).transpose()?)
    }

    /// Store `value` (or, with `increment`, add to the integer there) within `quota`.
    async fn write(
        &self,
        scope: &TenantScope,
        key: &str,
        write: Write<'_>,
        quota: &KvQuota,
    ) -> Result<Option<i64>, KvFailure> {
        let unavailable =
            |e: sqlx::Error| KvFailure::Unavailable(StoreError::from_sqlx(e).to_string());
        let mut tx = self.db.begin().await.map_err(unavailable)?;
        // Writers of one tenant take turns (PostgreSQL locks the row; SQLite's write
        // transaction is exclusive anyway), so the quota check and increments see every
        // committed write.
        sqlx::query(
            "INSERT INTO plugin_kv_locks (tenant_id) VALUES ($1)
             ON CONFLICT (tenant_id) DO UPDATE SET tenant_id = excluded.tenant_id",
        )
        .bind(scope.db_id())
        .execute(&mut *tx)
        .await
        .map_err(unavailable)?;
        let usage = sqlx::query(
            "SELECT COUNT(*) AS n, CAST(COALESCE(SUM(LENGTH(key) + LENGTH(value)), 0) AS BIGINT) AS bytes
             FROM plugin_kv WHERE tenant_id = $1",
        )
        .bind(scope.db_id())
        .fetch_one(&mut *tx)
        .await
        .map_err(unavailable)?;
        let keys: i64 = usage.try_get("n").map_err(unavailable)?;
        let bytes: i64 = usage.try_get("bytes").map_err(unavailable)?;
        let existing: Option<String> =
            sqlx::query("SELECT value FROM plugin_kv WHERE tenant_id = $1 AND key = $2")
                .bind(scope.db_id())
                .bind(key)
                .fetch_optional(&mut *tx)
                .await
                .map_err(unavailable)?
                .map(|r| r.try_get("value"))
                .transpose()
                .map_err(unavailable)?;
        let (value, number) = match write {
            Write::Set(value) => (value.to_string(), None),
            Write::Increment(by) => {
                let current = match &existing {
                    Some(v) => v.trim().parse::<i64>().map_err(|_| KvFailure::NotANumber)?,
                    None => 0,
                };
                let next = current.saturating_add(by);
                (next.to_string(), Some(next))
            }
        };
        check_quota(
            quota,
            key,
            &value,
            existing.as_ref().map(String::len),
            u64::try_from(keys).unwrap_or_default(),
            u64::try_from(bytes).unwrap_or_default(),
        )?;
        let now = hotline_core::time::to_millis(hotline_core::time::now());
        let sql = if existing.is_some() {
            "UPDATE plugin_kv SET value = $3, updated_at = $4 WHERE tenant_id = $1 AND key = $2"
        } else {
            "INSERT INTO plugin_kv (tenant_id, key, value, updated_at) VALUES ($1, $2, $3, $4)"
        };
        sqlx::query(sql)
            .bind(scope.db_id())
            .bind(key)
            .bind(&value)
            .bind(now)
            .execute(&mut *tx)
            .await
            .map_err(unavailable)?;
        tx.commit().await.map_err(unavailable)?;
        Ok(number)
    }

    pub async fn set(
        &self,
        scope: &TenantScope,
        key: &str,
        value: &str,
        quota: &KvQuota,
    ) -> Result<(), KvFailure> {
        self.write(scope, key, Write::Set(value), quota)
            .await
            .map(|_| ())
    }

    pub async fn increment(
        &self,
        scope: &TenantScope,
        key: &str,
        by: i64,
        quota: &KvQuota,
    ) -> Result<i64, KvFailure> {
        self.write(scope, key, Write::Increment(by), quota)
            .await
            .map(|n| n.unwrap_or_default())
    }

    pub async fn delete(&self, scope: &TenantScope, key: &str) -> StoreResult<bool> {
        let done = sqlx::query("DELETE FROM plugin_kv WHERE tenant_id = $1 AND key = $2")
            .bind(scope.db_id())
            .bind(key)
            .execute(self.db.pool())
            .await?;
        Ok(done.rows_affected() > 0)
    }

    pub async fn list_keys(
        &self,
        scope: &TenantScope,
        prefix: &str,
        limit: u32,
    ) -> StoreResult<Vec<String>> {
        // Prefix by range, not LIKE: a key may hold `%` and `_`.
        let rows = sqlx::query(&format!(
            "SELECT key FROM plugin_kv WHERE tenant_id = $1 AND key >= $2 ORDER BY key LIMIT {}",
            limit.clamp(1, 1000)
        ))
        .bind(scope.db_id())
        .bind(prefix)
        .fetch_all(self.db.pool())
        .await?;
        let mut keys = Vec::new();
        for row in rows {
            let key: String = row.try_get("key")?;
            if !key.starts_with(prefix) {
                break;
            }
            keys.push(key);
        }
        Ok(keys)
    }
}

enum Write<'a> {
    Set(&'a str),
    Increment(i64),
}

/// One tenant's store.
#[derive(Clone, Debug)]
pub struct TenantKv {
    store: KvStore,
    scope: TenantScope,
}

fn unavailable(err: StoreError) -> KvFailure {
    KvFailure::Unavailable(err.to_string())
}

#[async_trait]
impl KvBackend for TenantKv {
    async fn get(&self, key: &str) -> Result<Option<String>, KvFailure> {
        self.store.get(&self.scope, key).await.map_err(unavailable)
    }

    async fn set(&self, key: &str, value: &str, quota: &KvQuota) -> Result<(), KvFailure> {
        self.store.set(&self.scope, key, value, quota).await
    }

    async fn delete(&self, key: &str) -> Result<bool, KvFailure> {
        self.store
            .delete(&self.scope, key)
            .await
            .map_err(unavailable)
    }

    async fn increment(&self, key: &str, by: i64, quota: &KvQuota) -> Result<i64, KvFailure> {
        self.store.increment(&self.scope, key, by, quota).await
    }

    async fn list_keys(&self, prefix: &str, limit: u32) -> Result<Vec<String>, KvFailure> {
        self.store
            .list_keys(&self.scope, prefix, limit)
            .await
            .map_err(unavailable)
    }
}
