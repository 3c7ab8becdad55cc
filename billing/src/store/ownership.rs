//! Seat and number ownership intervals, the input of recurring fees (see
//! [`crate::recurring`]). The binary feeds them when an agent is assigned to or unassigned from
//! a tenant and when a number is assigned or released.
//!
//! Decisions:
//! - One open interval per unit at a time (a partial unique index): assigning a unit already
//!   held is a no-op, so a replayed notification cannot bill a seat twice; releasing closes the
//!   open interval, and releasing a unit not held is a no-op.
//! - A release before the interval's start is refused: it would make the interval negative.
//! - Intervals are never deleted: closed periods were computed from them, and rerating reads
//!   them again.

use chrono::{DateTime, Utc};
use hotline_core::ids::{AgentId, NumberId};
use hotline_core::{time, TenantScope};
use sqlx::any::AnyRow;
use uuid::Uuid;

use super::rows;
use super::BillingStore;
use crate::error::{BillingError, BillingResult};
use crate::ids::OwnershipId;
use crate::recurring::Ownership;
use crate::tariff::RecurringKind;

/// What happened to a seat or number.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnitChange {
    Assigned,
    Released,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OwnershipOutcome {
    /// A new interval started.
    Started,
    /// The unit was already held: nothing changed.
    AlreadyHeld,
    /// The open interval ended.
    Ended,
    /// The unit was not held: nothing changed.
    NotHeld,
}

fn kind_to_db(kind: RecurringKind) -> &'static str {
    match kind {
        RecurringKind::Seat => "seat",
        RecurringKind::Number => "number",
        RecurringKind::Platform => "platform",
    }
}

fn kind_from_db(text: &str) -> BillingResult<RecurringKind> {
    match text {
        "seat" => Ok(RecurringKind::Seat),
        "number" => Ok(RecurringKind::Number),
        other => Err(BillingError::Corrupt(format!("ownership kind {other:?}"))),
    }
}

fn ownership_from_row(row: &AnyRow) -> BillingResult<Ownership> {
    Ok(Ownership {
        kind: kind_from_db(&rows::text(row, "kind")?)?,
        unit_id: rows::parsed(row, "unit_id")?,
        from: rows::instant(row, "from_at")?,
        until: rows::opt_instant(row, "until_at")?,
    })
}

impl BillingStore {
    /// An agent was assigned to (a seat starts) or unassigned from (it ends) the tenant at `at`.
    pub async fn record_seat_change(
        &self,
        scope: &TenantScope,
        agent_id: AgentId,
        change: UnitChange,
        at: DateTime<Utc>,
    ) -> BillingResult<OwnershipOutcome> {
        self.record_unit_change(scope, RecurringKind::Seat, agent_id.0, change, at)
            .await
    }

    /// A number was assigned to or released by the tenant at `at`.
    pub async fn record_number_change(
        &self,
        scope: &TenantScope,
        number_id: NumberId,
        change: UnitChange,
        at: DateTime<Utc>,
    ) -> BillingResult<OwnershipOutcome> {
        self.record_unit_change(scope, RecurringKind::Number, number_id.0, change, at)
            .await
    }

    async fn record_unit_change(
        &self,
        scope: &TenantScope,
        kind: RecurringKind,
        unit: Uuid,
        change: UnitChange,
        at: DateTime<Utc>,
    ) -> BillingResult<OwnershipOutcome> {
        let at_ms = time::to_millis(at);
        match change {
            UnitChange::Assigned => {
                let inserted = sqlx::query(
                    "INSERT INTO billing_ownership (id, tenant_id, kind, unit_id, from_at)
                     VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
                )
                .bind(OwnershipId::new().to_db())
                .bind(scope.db_id())
                .bind(kind_to_db(kind))
                .bind(unit.to_string())
                .bind(at_ms)
                .execute(self.db.pool())
                .await?;
                Ok(if inserted.rows_affected() == 1 {
                    OwnershipOutcome::Started
                } else {
                    OwnershipOutcome::AlreadyHeld
                })
            }
            UnitChange::Released => {
                let mut tx = self.db.begin().await?;
                let open = sqlx::query(
                    "SELECT from_at FROM billing_ownership
                     WHERE tenant_id = $1 AND kind = $2 AND unit_id = $3 AND until_at IS NULL",
                )
                .bind(scope.db_id())
                .bind(kind_to_db(kind))
                .bind(unit.to_string())
                .fetch_optional(&mut *tx)
                .await?;
                let Some(open) = open else {
                    return Ok(OwnershipOutcome::NotHeld);
                };
                if rows::int(&open, "from_at")? > at_ms {
                    return Err(BillingError::invalid(
                        "at",
                        "a release cannot come before the assignment it ends",
                    ));
                }
                sqlx::query(
                    "UPDATE billing_ownership SET until_at = $1
                     WHERE tenant_id = $2 AND kind = $3 AND unit_id = $4 AND until_at IS NULL",
                )
                .bind(at_ms)
                .bind(scope.db_id())
                .bind(kind_to_db(kind))
                .bind(unit.to_string())
                .execute(&mut *tx)
                .await?;
                tx.commit().await?;
                Ok(OwnershipOutcome::Ended)
            }
        }
    }

    /// The tenant's seat and number intervals that overlap `[from, until)`.
    pub async fn ownership(
        &self,
        scope: &TenantScope,
        from: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> BillingResult<Vec<Ownership>> {
        let mut conn = self.db.pool().acquire().await?;
        load_ownership(&mut conn, scope, from, until).await
    }
}

pub(crate) async fn load_ownership(
    conn: &mut sqlx::AnyConnection,
    scope: &TenantScope,
    from: DateTime<Utc>,
    until: DateTime<Utc>,
) -> BillingResult<Vec<Ownership>> {
    sqlx::query(
        "SELECT kind, unit_id, from_at, until_at FROM billing_ownership
         WHERE tenant_id = $1 AND from_at < $2 AND (until_at IS NULL OR until_at > $3)
         ORDER BY from_at, id",
    )
    .bind(scope.db_id())
    .bind(time::to_millis(until))
    .bind(time::to_millis(from))
    .fetch_all(conn)
    .await?
    .iter()
    .map(ownership_from_row)
    .collect()
}
