//! The tenant's plugin log: lines a plugin wrote (`hotline:plugin/log`) and lines the host wrote
//! about it (a trap, the CPU budget, the memory cap, a bad outcome, a refused host call), so the
//! tenant can read why a call went to the fallback. Stored in `plugin_log`, read through the API.
//!
//! A call's lines are kept in memory while it runs ([`RunLog`]) and stored by the host when it
//! ends, in one batch, through the tenant's [`LogSink`]; a run dropped mid-call (the caller hung
//! up, the server stops) still stores what it wrote, from [`LogGuard`]'s drop. The store never
//! returns another tenant's lines.

use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use hotline_core::ids::CallId;
use hotline_core::{Db, TenantScope};
use serde::{Deserialize, Serialize};
use sqlx::Row;
use uuid::Uuid;

use crate::error::{StoreError, StoreResult};
use crate::host::PluginIdentity;

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

/// Lines per INSERT statement (9 parameters each, far below either backend's limit).
const BATCH: usize = 100;

/// The plugin log table.
#[derive(Clone, Debug)]
pub struct PluginLogStore {
    db: Db,
}

impl PluginLogStore {
    pub fn new(db: Db) -> Self {
        Self { db }
    }

    /// Store a call's lines in the tenant's log: multi-row statements of [`BATCH`] lines, one
    /// transaction. A line already stored (same id) is left as it is, so writing a run's lines
    /// twice (a retry, a cancelled write done again) stores them once.
    pub async fn append(&self, scope: &TenantScope, lines: &[LogLine]) -> StoreResult<()> {
        if lines.is_empty() {
            return Ok(());
        }
        let mut tx = self.db.begin().await.map_err(StoreError::from_sqlx)?;
        for chunk in lines.chunks(BATCH) {
            let mut sql = String::from(
                "INSERT INTO plugin_log (id, tenant_id, at, call_id, plugin, version, level, source, message) VALUES ",
            );
            for i in 0..chunk.len() {
                let n = i * 9;
                if i > 0 {
                    sql.push_str(", ");
                }
                sql.push_str(&format!(
                    "(${}, ${}, ${}, ${}, ${}, ${}, ${}, ${}, ${})",
                    n + 1,
                    n + 2,
                    n + 3,
                    n + 4,
                    n + 5,
                    n + 6,
                    n + 7,
                    n + 8,
                    n + 9
                ));
            }
            sql.push_str(" ON CONFLICT (id) DO NOTHING");
            let mut query = sqlx::query(&sql);
            for line in chunk {
                query = query
                    .bind(line.id.to_string())
                    .bind(scope.db_id())
                    .bind(hotline_core::time::to_millis(line.at))
                    .bind(line.call_id.map(|c| c.to_db()))
                    .bind(line.plugin.clone())
                    .bind(i64::from(line.version))
                    .bind(line.level.as_str())
                    .bind(match line.source {
                        LogSource::Plugin => "plugin",
                        LogSource::Host => "host",
                    })
                    .bind(line.message.clone());
            }
            query
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

/// Where a run's lines go: one tenant's plugin log.
#[derive(Clone, Debug)]
pub struct LogSink {
    store: PluginLogStore,
    scope: TenantScope,
}

impl LogSink {
    pub fn new(store: PluginLogStore, scope: TenantScope) -> Self {
        Self { store, scope }
    }

    pub async fn write(&self, lines: &[LogLine]) -> StoreResult<()> {
        self.store.append(&self.scope, lines).await
    }

    pub fn scope(&self) -> &TenantScope {
        &self.scope
    }
}

/// A run's lines while it runs, shared by the call's state (which writes them) and the run's
/// [`LogGuard`] (which stores them however the run ends).
#[derive(Clone, Debug, Default)]
pub(crate) struct RunLog(Arc<Mutex<Vec<LogLine>>>);

impl RunLog {
    pub(crate) fn push(&self, line: LogLine) {
        if let Ok(mut lines) = self.0.lock() {
            lines.push(line);
        }
    }

    pub(crate) fn snapshot(&self) -> Vec<LogLine> {
        self.0.lock().map(|l| l.clone()).unwrap_or_default()
    }

    pub(crate) fn take(&self) -> Vec<LogLine> {
        self.0
            .lock()
            .map(|mut l| std::mem::take(&mut *l))
            .unwrap_or_default()
    }
}

/// Stores a run's lines in the tenant's log when the run ends ([`LogGuard::finish`], one batch)
/// or, if the run's future is dropped first, from its `Drop`: the write is then spawned on the
/// runtime with a last host line saying the run was cut off, so a cancelled call loses nothing
/// it logged. Without a sink (the simulator) it only hands the lines back.
pub(crate) struct LogGuard {
    lines: RunLog,
    sink: Option<LogSink>,
    plugin: PluginIdentity,
    call_id: Option<CallId>,
    finished: bool,
}

impl LogGuard {
    pub(crate) fn new(
        lines: RunLog,
        sink: Option<LogSink>,
        plugin: PluginIdentity,
        call_id: Option<CallId>,
    ) -> Self {
        Self {
            lines,
            sink,
            plugin,
            call_id,
            finished: false,
        }
    }

    /// The run ended: store its lines, and hand them back for the report.
    pub(crate) async fn finish(mut self) -> Vec<LogLine> {
        self.finished = true;
        let lines = self.lines.snapshot();
        if let Some(sink) = &self.sink {
            if let Err(err) = sink.write(&lines).await {
                tracing::warn!(tenant = %sink.scope.tenant_id(), call_id = ?self.call_id, lines = lines.len(),
                    error = %err, "could not store the plugin's log lines");
            }
        }
        // Stored (or given up on): nothing left for the drop to do.
        self.sink = None;
        self.lines.take()
    }
}

impl Drop for LogGuard {
    fn drop(&mut self) {
        let Some(sink) = self.sink.take() else {
            return;
        };
        let mut lines = self.lines.take();
        if !self.finished {
            lines.push(LogLine {
                id: Uuid::now_v7(),
                at: Utc::now(),
                call_id: self.call_id,
                plugin: self.plugin.name.clone(),
                version: self.plugin.version,
                level: LogLevel::Warn,
                source: LogSource::Host,
                message: "the run was cut off before the plugin returned (the call ended or the server stopped); its lines up to then are kept".into(),
            });
        }
        let call_id = self.call_id;
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => {
                runtime.spawn(async move {
                    if let Err(err) = sink.write(&lines).await {
                        tracing::warn!(tenant = %sink.scope.tenant_id(), call_id = ?call_id, lines = lines.len(),
                            error = %err, "could not store the log lines of a cut-off plugin run");
                    }
                });
            }
            Err(_) => {
                tracing::warn!(tenant = %sink.scope.tenant_id(), call_id = ?call_id, lines = lines.len(),
                "a plugin run was dropped outside the runtime; its log lines are lost")
            }
        }
    }
}
