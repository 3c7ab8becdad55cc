//! Queue memberships: which agents serve a queue, and with what penalty (higher penalty: asked
//! later). An agent may join a queue only if the queue's tenant may use it: its own agent, or a
//! firm agent assigned to that tenant. A tenant's own agent can never join another tenant's queue.

use chrono::{DateTime, Utc};
use hotline_core::ids::{AgentId, QueueId};
use hotline_core::{time, TenantScope};
use serde::{Deserialize, Serialize};
use sqlx::Row;

use crate::agents::fetch_visible;
use crate::audit::{self, Actor, AuditAction};
use crate::crud::{fetch_one, uuid_column};
use crate::error::{Invalid, StoreError, StoreResult};
use crate::queues::QueueSpec;
use crate::Store;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MemberInput {
    pub agent_id: AgentId,
    /// 0 (asked first) to 100.
    #[serde(default)]
    pub penalty: u32,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct QueueMember {
    pub queue_id: QueueId,
    pub agent_id: AgentId,
    pub penalty: u32,
    pub created_at: DateTime<Utc>,
}

impl Store {
    /// Add an agent to a queue, or change its penalty.
    pub async fn put_queue_member(
        &self,
        actor: &Actor,
        scope: &TenantScope,
        queue: QueueId,
        input: MemberInput,
    ) -> StoreResult<QueueMember> {
        if input.penalty > 100 {
            return Err(Invalid::one("penalty", "must be between 0 and 100").into());
        }
        let mut tx = self.db.begin().await?;
        fetch_one::<QueueSpec>(&mut tx, scope, queue).await?;
        match fetch_visible(&mut tx, scope, input.agent_id).await {
            Ok(_) => {}
            Err(StoreError::NotFound { .. }) => {
                return Err(Invalid::one(
                    "agent_id",
                    "no agent of this tenant, nor a firm agent assigned to it, has this id",
                )
                .into())
            }
            Err(other) => return Err(other),
        }
        let before = sqlx::query(
            "SELECT penalty, created_at FROM queue_members WHERE queue_id = $1 AND agent_id = $2",
        )
        .bind(queue.to_db())
        .bind(input.agent_id.to_db())
        .fetch_optional(&mut *tx)
        .await?;
        let now = time::now();
        let member = QueueMember {
            queue_id: queue,
            agent_id: input.agent_id,
            penalty: input.penalty,
            created_at: now,
        };
        let (action, before_member) = match before {
            Some(row) => {
                let penalty: i64 = row.try_get("penalty")?;
                let created_at = time::from_millis(row.try_get("created_at")?);
                sqlx::query(
                    "UPDATE queue_members SET penalty = $1 WHERE queue_id = $2 AND agent_id = $3",
                )
                .bind(i64::from(input.penalty))
                .bind(queue.to_db())
                .bind(input.agent_id.to_db())
                .execute(&mut *tx)
                .await?;
                let old = QueueMember {
                    penalty: u32::try_from(penalty).unwrap_or_default(),
                    created_at,
                    ..member.clone()
                };
                (AuditAction::Update, Some(old))
            }
            None => {
                sqlx::query("INSERT INTO queue_members (tenant_id, queue_id, agent_id, penalty, created_at) VALUES ($1, $2, $3, $4, $5)")
                    .bind(scope.db_id())
                    .bind(queue.to_db())
                    .bind(input.agent_id.to_db())
                    .bind(i64::from(input.penalty))
                    .bind(time::to_millis(now))
                    .execute(&mut *tx)
                    .await?;
                (AuditAction::Create, None)
            }
        };
        let member = QueueMember {
            created_at: before_member.as_ref().map_or(now, |b| b.created_at),
            ..member
        };
        audit::record(
            &mut tx,
            Some(scope.tenant_id()),
            actor,
            action,
            "queue-member",
            &format!("{queue}/{}", input.agent_id),
            before_member.as_ref(),
            Some(&member),
        )
        .await?;
        tx.commit().await?;
        Ok(member)
    }

    pub async fn list_queue_members(
        &self,
        scope: &TenantScope,
        queue: QueueId,
    ) -> StoreResult<Vec<QueueMember>> {
        let mut conn = self.db.pool().acquire().await?;
        fetch_one::<QueueSpec>(&mut conn, scope, queue).await?;
        let rows = sqlx::query("SELECT agent_id, penalty, created_at FROM queue_members WHERE tenant_id = $1 AND queue_id = $2 ORDER BY penalty, agent_id")
            .bind(scope.db_id())
            .bind(queue.to_db())
            .fetch_all(&mut *conn)
            .await?;
        rows.iter()
            .map(|row| {
                let penalty: i64 = row.try_get("penalty")?;
                Ok(QueueMember {
                    queue_id: queue,
                    agent_id: AgentId(uuid_column(row, "agent_id")?),
                    penalty: u32::try_from(penalty).unwrap_or_default(),
                    created_at: time::from_millis(row.try_get("created_at")?),
                })
            })
            .collect()
    }

    pub async fn remove_queue_member(
        &self,
        actor: &Actor,
        scope: &TenantScope,
        queue: QueueId,
        agent: AgentId,
    ) -> StoreResult<()> {
        let mut tx = self.db.begin().await?;
        let done = sqlx::query(
            "DELETE FROM queue_members WHERE tenant_id = $1 AND queue_id = $2 AND agent_id = $3",
        )
        .bind(scope.db_id())
        .bind(queue.to_db())
        .bind(agent.to_db())
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::not_found("queue member"));
        }
        let before = serde_json::json!({ "queue_id": queue, "agent_id": agent });
        audit::record(
            &mut tx,
            Some(scope.tenant_id()),
            actor,
            AuditAction::Delete,
            "queue-member",
            &format!("{queue}/{agent}"),
            Some(&before),
            None,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}
