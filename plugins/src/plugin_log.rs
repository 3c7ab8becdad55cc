//! The tenant's plugin log: lines a plugin wrote (`hotline:plugin/log`) and lines the host wrote
//! about it (a trap, the CPU budget, the memory cap, a bad outcome, a refused host call), so the
//! tenant can read why a call went to the fallback. Stored in `plugin_log`, read through the API.
//!
//! A call's lines are kept in memory while it runs and stored when it ends; the store never
//! returns another tenant's lines.

use chrono::{DateTime, Utc};
use hotline_core::ids::CallId;
use hotline_core::{Db, TenantScope};
use serde::{Deserialize, Serialize};
use sqlx::Row;
use uuid::Uuid;

use crate::error::{StoreError, StoreResult};

/// Who wrote a line.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum LogSource {
    /// The plugin, through `log.write`.
    Plugin,
    /// The host, about the plugin (faults, refusals).
    Host,
}

#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum LogLevel {
    Debug,
    Info,
    Warn,
    Error,
}

impl LogLevel {
    pub fn as_str(self) -> &'static str {
        match self {
            LogLevel::Debug => "debug",
            LogLevel::Info => "info",
            LogLevel::Warn => "warn",
            LogLevel::Error => "error",
        }
    }

    fn parse(s: &str) -> Self {
        match s {
            "debug" => LogLevel::Debug,
            "warn" => LogLevel::Warn,
            "error" => LogLevel::Error,
            _ => LogLevel::Info,
        }
    }
}

/// One line of the tenant's plugin log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct LogLine {
    pub id: Uuid,
    pub at: DateTime<Utc>,
    pub call_id: Option<CallId>,
    /// The plugin's name and version.
    pub plugin: String,
    pub version: u32,
    pub level: LogLevel,
    pub source: LogSource,
    pub message: String,
}

/// The plugin log table.
#[derive(Clone, Debug)]
pub struct PluginLogStore {
    db: Db,
}

impl PluginLogStore {
    pub fn new(db: Db) -> Self {
        Self { db }
    }

    /// Store a call's lines in the tenant's log.
    pub async fn append(&self, scope: &TenantScope, lines: &[LogLine]) -> StoreResult<()> {
        if lines.is_empty() {
            return Ok(());
        }
        let mut tx = self.db.begin().await.map_err(StoreError::from_sqlx)?;
        for line in lines {
            sqlx::query(
                "INSERT INTO plugin_log (id, tenant_id, at, call_id, plugin, version, level, source, message)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            )
            .bind(line.id.to_string())
            .bind(scope.db_id())
            .bind(hotline_core::time::to_millis(line.at))
            .bind(line.call_id.map(|c| c.to_db()))
            .bind(&line.plugin)
            .bind(i64::from(line.version))
            .bind(line.level.as_str())
            .bind(match line.source {
                LogSource::Plugin => "plugin",
                LogSource::Host => "host",
            })
            .bind(&line.message)
            .execute(&mut *tx)
            .await
            .map_err(StoreError::from_sqlx)?;
        }
        tx.commit().await.map_err(StoreError::from_sqlx)?;
        Ok(())
    }

    /// The tenant's lines, newest first, `limit` of them before `before` (a line id), optionally
    /// of one plugin or one call.
    pub async fn list(&self, scope: &TenantScope, filter: &LogFilter) -> StoreResult<Vec<LogLine>> {
        let mut sql = String::from(
            "SELECT id, at, call_id, plugin, version, level, source, message FROM plugin_log WHERE tenant_id = $1",
        );
        let mut binds: Vec<String> = vec![scope.db_id()];
        if let Some(before) = filter.before {
            binds.push(before.to_string());
            sql.push_str(&format!(" AND id < ${}", binds.len()));
        }
        if let Some(plugin) = &filter.plugin {
            binds.push(plugin.clone());
            sql.push_str(&format!(" AND plugin = ${}", binds.len()));
        }
        if let Some(call) = filter.call_id {
            binds.push(call.to_db());
            sql.push_str(&format!(" AND call_id = ${}", binds.len()));
        }
        sql.push_str(&format!(
            " ORDER BY id DESC LIMIT {}",
            filter.limit.clamp(1, 1000)
        ));
        let mut query = sqlx::query(&sql);
        for bind in &binds {
            query = query.bind(bind);
        }
        let rows = query
            .fetch_all(self.db.pool())
            .await
            .map_err(StoreError::from_sqlx)?;
        rows.iter()
            .map(|row| {
                let id: String = row.try_get("id")?;
                let call: Option<String> = row.try_get("call_id")?;
                let version: i64 = row.try_get("version")?;
                let level: String = row.try_get("level")?;
                let source: String = row.try_get("source")?;
                Ok(LogLine {
                    id: id
                        .parse()
                        .map_err(|_| StoreError::Corrupt(format!("log id {id}")))?,
                    at: hotline_core::time::from_millis(row.try_get("at")?),
                    call_id: call.and_then(|c| c.parse().ok()),
                    plugin: row.try_get("plugin")?,
                    version: u32::try_from(version).unwrap_or_default(),
                    level: LogLevel::parse(&level),
                    source: if source == "host" {
                        LogSource::Host
                    } else {
                        LogSource::Plugin
                    },
                    message: row.try_get("message")?,
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()
    }
}

/// Which lines to read.
#[derive(Clone, Debug)]
pub struct LogFilter {
    pub limit: u32,
    pub before: Option<Uuid>,
    pub plugin: Option<String>,
    pub call_id: Option<CallId>,
}

impl Default for LogFilter {
    fn default() -> Self {
        Self {
            limit: 100,
            before: None,
            plugin: None,
            call_id: None,
        }
    }
}
