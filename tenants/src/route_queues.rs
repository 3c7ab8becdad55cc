//! What call handling needs to hand a caller to a queue or an agent named by an IVR plugin:
//! the tenant's queue (by name, as plugins name it, or by id, as hotline settings do) with its
//! wait limit, music on hold and the members who serve the tenant right now (enabled; the
//! tenant's own agents, or firm agents still assigned to it) with their skills; and an agent by
//! SIP username. Names resolve inside the scope's tenant only: this module must never find
//! another tenant's queue or agent, and it only reads.

use hotline_core::ids::{AgentId, PromptId, QueueId};
use hotline_core::TenantScope;
use serde::Serialize;
use sqlx::Row;

use crate::agents::Skill;
use crate::crud::{json_column, opt_uuid_column, uuid_column};
use crate::error::{StoreError, StoreResult};
use crate::Store;

/// How a queue is named.
#[derive(Clone, Copy, Debug)]
pub enum QueueName<'a> {
    Id(QueueId),
    Name(&'a str),
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RouteQueue {
    pub id: QueueId,
    pub name: String,
    pub max_wait_secs: u32,
    pub moh_prompt_id: Option<PromptId>,
    pub members: Vec<RouteMember>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RouteMember {
    pub agent_id: AgentId,
    pub skills: Vec<Skill>,
    pub penalty: i64,
}

/// Agents who serve the tenant `$2` now: its own, or firm agents assigned to it; enabled.
const SERVING: &str = "a.enabled = $1 AND (a.tenant_id = $2 OR (a.tenant_id IS NULL AND a.id IN (SELECT agent_id FROM agent_assignments WHERE tenant_id = $3)))";

impl Store {
    /// The tenant's queue and its serving members (lowest penalty first); `None` when the
    /// tenant has no such queue.
    pub async fn route_queue(
        &self,
        scope: &TenantScope,
        queue: QueueName<'_>,
    ) -> StoreResult<Option<RouteQueue>> {
        let (column, value) = match queue {
            QueueName::Id(id) => ("id", id.to_db()),
            QueueName::Name(name) => ("name", name.to_string()),
        };
        let sql = format!(
            "SELECT id, name, max_wait_secs, moh_prompt_id FROM queues WHERE tenant_id = $1 AND {column} = $2"
        );
        let Some(row) = sqlx::query(&sql)
            .bind(scope.db_id())
            .bind(value)
            .fetch_optional(self.db.pool())
            .await?
        else {
            return Ok(None);
        };
        let id = QueueId(uuid_column(&row, "id")?);
        let max_wait: i64 = row.try_get("max_wait_secs")?;
        let members = sqlx::query(&format!(
            "SELECT a.id, a.skills, m.penalty FROM queue_members m JOIN agents a ON a.id = m.agent_id
             WHERE m.tenant_id = $4 AND m.queue_id = $5 AND {SERVING}
             ORDER BY m.penalty, a.id"
        ))
        .bind(true)
        .bind(scope.db_id())
        .bind(scope.db_id())
        .bind(scope.db_id())
        .bind(id.to_db())
        .fetch_all(self.db.pool())
        .await?
        .iter()
        .map(|row| {
            Ok(RouteMember {
                agent_id: AgentId(uuid_column(row, "id")?),
                skills: json_column(row, "skills")?,
                penalty: row.try_get("penalty")?,
            })
        })
        .collect::<StoreResult<Vec<_>>>()?;
        Ok(Some(RouteQueue {
            id,
            name: row.try_get("name")?,
            max_wait_secs: u32::try_from(max_wait)
                .map_err(|_| StoreError::Corrupt(format!("max_wait_secs = {max_wait}")))?,
            moh_prompt_id: opt_uuid_column(&row, "moh_prompt_id")?.map(PromptId),
            members,
        }))
    }

    /// The agent with this SIP username who serves the tenant now.
    pub async fn route_agent_by_username(
        &self,
        scope: &TenantScope,
        username: &str,
    ) -> StoreResult<Option<AgentId>> {
        let row = sqlx::query(&format!(
            "SELECT a.id FROM agents a WHERE a.sip_username = $4 AND {SERVING} ORDER BY a.tenant_id IS NULL, a.id"
        ))
        .bind(true)
        .bind(scope.db_id())
        .bind(scope.db_id())
        .bind(username)
        .fetch_optional(self.db.pool())
        .await?;
        row.map(|row| uuid_column(&row, "id").map(AgentId))
            .transpose()
    }
}
