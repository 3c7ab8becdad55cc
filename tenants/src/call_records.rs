//! Call history: every finished call's record as the call engine produced it, appended once
//! (the call id is the key, so a record handed over twice is stored once) and never edited.
//! Tenants read their own calls; calls refused before a tenant was known (unknown numbers) belong
//! to no tenant and no tenant sees them. INVITEs the SIP stack turns away before the engine
//! (not from a trunk, loops, overload) leave no record, only metrics.

use hotline_core::call::CallRecord;
use hotline_core::ids::CallId;
use hotline_core::{time, PlatformScope, TenantScope};
use sqlx::any::AnyRow;
use sqlx::Row;

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

impl Store {
    /// Store one finished call's record. Returns `false` when the call was already stored (a
    /// retry after a lost acknowledgement); the stored record is left as it was.
    pub async fn append_call_record(
        &self,
        _scope: &PlatformScope,
        record: &CallRecord,
    ) -> StoreResult<bool> {
        let json = serde_json::to_string(record)
            .map_err(|e| StoreError::Corrupt(format!("call record: {e}")))?;
        let direction = match record.direction {
            hotline_core::call::Direction::Inbound => "inbound",
            hotline_core::call::Direction::Outbound => "outbound",
        };
        let result = sqlx::query(
            "INSERT INTO call_records (id, tenant_id, hotline_id, direction, caller, dialed, arrived_at, answered_at, ended_at, end_cause, record)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
             ON CONFLICT (id) DO NOTHING",
        )
        .bind(record.call_id.to_db())
        .bind(record.tenant_id.map(|t| t.to_db()))
        .bind(record.hotline_id.map(|h| h.to_db()))
        .bind(direction)
        .bind(&record.caller)
        .bind(&record.dialed)
        .bind(time::to_millis(record.arrived_at))
        .bind(record.answered_at.map(time::to_millis))
        .bind(time::to_millis(record.ended_at))
        .bind(end_cause_name(record))
        .bind(json)
        .execute(self.db.pool())
        .await?;
        Ok(result.rows_affected() == 1)
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
