//! Call history: every finished call's record as the call engine produced it, appended once
//! (the call id is the key, so a record handed over twice is stored once) and never edited.
//! Tenants read their own calls; calls refused before a tenant was known (unknown numbers) belong
//! to no tenant and no tenant sees them. INVITEs the SIP stack turns away before the engine
//! (not from a trunk, loops, overload) leave no record, only metrics.

use hotline_core::call::CallRecord;
use hotline_core::ids::CallId;
use hotline_core::{time, PlatformScope, TenantScope};
use sqlx::any::{AnyArguments, AnyRow};
use sqlx::query::Query;
use sqlx::{Any, Row as _};

use crate::crud::{Page, PageRequest};
use crate::error::{StoreError, StoreResult};
use crate::Store;

fn end_cause_name(record: &CallRecord) -> String {
    serde_json::to_value(&record.end_cause)
        .ok()
        .and_then(|value| {
            value
                .get("cause")
                .and_then(|c| c.as_str())
                .map(str::to_string)
        })
        .unwrap_or_else(|| "unknown".into())
}

fn record_from_row(row: &AnyRow) -> StoreResult<CallRecord> {
    let text: String = row.try_get("record")?;
    serde_json::from_str(&text).map_err(|e| StoreError::Corrupt(format!("call record: {e}")))
}

/// Columns of `call_records`, in the order the rows below bind them.
const COLUMNS: &str = "id, tenant_id, hotline_id, direction, caller, dialed, arrived_at, answered_at, ended_at, end_cause, record";
const PARAMS_PER_ROW: usize = 11;
/// Rows per INSERT statement when storing a batch: 1,100 parameters, far below both backends'
/// limits (SQLite 32,766, PostgreSQL 65,535).
const ROWS_PER_INSERT: usize = 100;

/// One record as the row stores it.
struct RecordRow<'a> {
    record: &'a CallRecord,
    json: String,
    direction: &'static str,
    end_cause: String,
}

impl<'a> RecordRow<'a> {
    fn new(record: &'a CallRecord) -> StoreResult<Self> {
        let json = serde_json::to_string(record)
            .map_err(|e| StoreError::Corrupt(format!("call record: {e}")))?;
        let direction = match record.direction {
            hotline_core::call::Direction::Inbound => "inbound",
            hotline_core::call::Direction::Outbound => "outbound",
        };
        Ok(Self {
            record,
            json,
            direction,
            end_cause: end_cause_name(record),
        })
    }

    fn bind<'q>(
        &'q self,
        query: Query<'q, Any, AnyArguments<'q>>,
    ) -> Query<'q, Any, AnyArguments<'q>> {
        let record = self.record;
        query
            .bind(record.call_id.to_db())
            .bind(record.tenant_id.map(|t| t.to_db()))
            .bind(record.hotline_id.map(|h| h.to_db()))
            .bind(self.direction)
            .bind(&record.caller)
            .bind(&record.dialed)
            .bind(time::to_millis(record.arrived_at))
            .bind(record.answered_at.map(time::to_millis))
            .bind(time::to_millis(record.ended_at))
            .bind(&self.end_cause)
            .bind(&self.json)
    }
}

/// `INSERT ... VALUES (...), (...) ON CONFLICT (id) DO NOTHING` for `rows` rows.
fn insert_sql(rows: usize) -> String {
    let values: Vec<String> = (0..rows)
        .map(|row| {
            let first = row * PARAMS_PER_ROW + 1;
            let params: Vec<String> = (first..first + PARAMS_PER_ROW)
                .map(|n| format!("${n}"))
                .collect();
            format!("({})", params.join(", "))
        })
        .collect();
    format!(
        "INSERT INTO call_records ({COLUMNS}) VALUES {} ON CONFLICT (id) DO NOTHING",
        values.join(", ")
    )
}

impl Store {
    /// Store one finished call's record. Returns `false` when the call was already stored (a
    /// retry after a lost acknowledgement); the stored record is left as it was.
    pub async fn append_call_record(
        &self,
        _scope: &PlatformScope,
        record: &CallRecord,
    ) -> StoreResult<bool> {
        let row = RecordRow::new(record)?;
        let sql = insert_sql(1);
        let result = row.bind(sqlx::query(&sql)).execute(self.db.pool()).await?;
        Ok(result.rows_affected() == 1)
    }

    /// Store several finished calls' records in one transaction, as the call engine hands them
    /// over under load (one commit for many calls). Returns how many were new; records stored
    /// before, or twice in `records`, are stored once and left as they were.
    pub async fn append_call_records(
        &self,
        _scope: &PlatformScope,
        records: &[CallRecord],
    ) -> StoreResult<u64> {
        if records.is_empty() {
            return Ok(0);
        }
        let rows = records
            .iter()
            .map(RecordRow::new)
            .collect::<StoreResult<Vec<_>>>()?;
        let mut tx = self.db.begin().await?;
        let mut stored = 0;
        for chunk in rows.chunks(ROWS_PER_INSERT) {
            let sql = insert_sql(chunk.len());
            let query = chunk
                .iter()
                .fold(sqlx::query(&sql), |query, row| row.bind(query));
            stored += query.execute(&mut *tx).await?.rows_affected();
        }
        tx.commit().await?;
        Ok(stored)
    }

    /// The tenant's calls, newest first.
    pub async fn list_call_records(
        &self,
        scope: &TenantScope,
        page: &PageRequest,
    ) -> StoreResult<Page<CallRecord>> {
        let after = page.after.map(|u| u.to_string());
        let rows = sqlx::query(
            "SELECT record FROM call_records WHERE tenant_id = $1 AND ($2 IS NULL OR id < $3) ORDER BY id DESC LIMIT $4",
        )
        .bind(scope.db_id())
        .bind(after.clone())
        .bind(after)
        .bind(page.fetch_limit())
        .fetch_all(self.db.pool())
        .await?;
        let items = rows
            .iter()
            .map(record_from_row)
            .collect::<StoreResult<Vec<_>>>()?;
        Ok(Page::from_overfetch(items, page, |r| r.call_id.0))
    }

    /// One of the tenant's calls; another tenant's call is `NotFound`, like a missing one.
    pub async fn get_call_record(
        &self,
        scope: &TenantScope,
        call_id: CallId,
    ) -> StoreResult<CallRecord> {
        let row = sqlx::query("SELECT record FROM call_records WHERE tenant_id = $1 AND id = $2")
            .bind(scope.db_id())
            .bind(call_id.to_db())
            .fetch_optional(self.db.pool())
            .await?
            .ok_or(StoreError::NotFound { resource: "call" })?;
        record_from_row(&row)
    }
}
