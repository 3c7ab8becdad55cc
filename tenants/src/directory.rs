//! The platform-level lookup that call handling makes for every inbound call: dialed number →
//! the tenant that owns it (status, time zone, limits, slug) → the hotline it points at
//! (schedule, actions). One query for the route, and a second only when the hotline's actions
//! ring agents, to learn which of them still serve the tenant.
//!
//! Callers cache the answer; [`Store::routing_generation`] tells them when to drop it (see
//! `changes` for what that counter does and does not cover across nodes). This module only
//! reads: it must never write, nor hand out anything but the one number's route.

use hotline_core::ids::{AgentId, HotlineId, NumberId, QueueId, TenantId};
use hotline_core::PlatformScope;
use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::Row;

use crate::crud::{bool_column, json_column, opt_uuid_column, uuid_column};
use crate::error::{StoreError, StoreResult};
use crate::hotlines::{ClosedAction, NoAnswer, OpenAction, PluginRef, RecordingPolicy};
use crate::numbers::normalize_e164;
use crate::schedule::Schedule;
use crate::tenants::{TenantLimits, TenantStatus};
use crate::Store;

/// The tenant a number belongs to, as call handling needs it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RouteTenant {
    pub id: TenantId,
    pub slug: String,
    pub status: TenantStatus,
    /// IANA zone the schedule is read in.
    pub time_zone: String,
    pub limits: TenantLimits,
}

/// The hotline a number points at, as call handling needs it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RouteHotline {
    pub id: HotlineId,
    pub name: String,
    pub always_open: bool,
    pub schedule: Schedule,
    pub open_action: OpenAction,
    pub closed_action: ClosedAction,
    pub ivr_plugin: Option<PluginRef>,
    pub fallback_queue_id: Option<QueueId>,
    pub recording_policy: RecordingPolicy,
    /// The language of the hotline's prompts (BCP 47).
    pub language: String,
    /// Of the agents the actions ring, those that serve the tenant right now: its own enabled
    /// agents and enabled firm agents still assigned to it. An agent missing here was deleted,
    /// disabled or unassigned after the hotline named it, and must not be rung.
    pub serving_agents: Vec<AgentId>,
}

/// A dialed number resolved.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct NumberRouteRow {
    pub number_id: NumberId,
    pub e164: String,
    pub tenant: RouteTenant,
    /// `None`: the number points at no hotline.
    pub hotline: Option<RouteHotline>,
}

const ROUTE_SQL: &str = "SELECT n.id AS number_id, n.e164,
        t.id AS tenant_id, t.slug, t.status, t.time_zone, t.max_concurrent_calls, t.max_calls_per_second, t.plugin_cpu_ms_per_call,
        h.id AS hotline_id, h.name AS hotline_name, h.always_open, h.schedule, h.open_action, h.closed_action,
        h.ivr_plugin, h.ivr_plugin_version, h.fallback_queue_id, h.recording_policy, h.language
    FROM numbers n
    JOIN tenants t ON t.id = n.tenant_id
    LEFT JOIN hotlines h ON h.tenant_id = n.tenant_id AND h.id = n.hotline_id
    WHERE n.e164 = $1";

fn limit(row: &AnyRow, column: &str) -> StoreResult<u32> {
    let value: i64 = row.try_get(column)?;
    u32::try_from(value).map_err(|_| StoreError::Corrupt(format!("{column} = {value}")))
}

fn status(row: &AnyRow) -> StoreResult<TenantStatus> {
    let text: String = row.try_get("status")?;
    serde_json::from_value(serde_json::Value::String(text.clone()))
        .map_err(|_| StoreError::Corrupt(format!("tenant status {text:?}")))
}

fn hotline_from_row(row: &AnyRow) -> StoreResult<Option<RouteHotline>> {
    let Some(id) = opt_uuid_column(row, "hotline_id")? else {
        return Ok(None);
    };
    let plugin: Option<String> = row.try_get("ivr_plugin")?;
    let plugin_version: Option<i64> = row.try_get("ivr_plugin_version")?;
    Ok(Some(RouteHotline {
        id: HotlineId(id),
        name: row.try_get("hotline_name")?,
        always_open: bool_column(row, "always_open")?,
        schedule: json_column(row, "schedule")?,
        open_action: json_column(row, "open_action")?,
        closed_action: json_column(row, "closed_action")?,
        ivr_plugin: plugin
            .zip(plugin_version)
            .map(|(plugin, version)| PluginRef {
                plugin,
                version: u32::try_from(version).unwrap_or_default(),
            }),
        fallback_queue_id: opt_uuid_column(row, "fallback_queue_id")?.map(QueueId),
        recording_policy: RecordingPolicy::parse(&row.try_get::<String, _>("recording_policy")?),
        language: row.try_get("language")?,
        serving_agents: Vec::new(),
    }))
}

/// Every agent an open action may ring (the closed actions ring none).
fn named_agents(action: &OpenAction) -> Vec<AgentId> {
    let mut agents = Vec::new();
    let no_answer = match action {
        OpenAction::ForwardAgent {
            agent_id,
            no_answer,
            ..
        } => {
            agents.push(*agent_id);
            Some(no_answer)
        }
        OpenAction::ForwardNumber { no_answer, .. } => Some(no_answer),
        OpenAction::Ivr | OpenAction::Reject { .. } => None,
    };
    if let Some(NoAnswer::ForwardAgent { agent_id }) = no_answer {
        agents.push(*agent_id);
    }
    agents.dedup();
    agents
}

impl Store {
    /// The route of a dialed number; `Ok(None)` when no tenant owns it (or it is no E.164 number).
    pub async fn route_for_number(
        &self,
        _scope: &PlatformScope,
        dialed: &str,
    ) -> StoreResult<Option<NumberRouteRow>> {
        let Ok(e164) = normalize_e164(dialed) else {
            return Ok(None);
        };
        let mut conn = self.db.pool().acquire().await?;
        let Some(row) = sqlx::query(ROUTE_SQL)
            .bind(&e164)
            .fetch_optional(&mut *conn)
            .await?
        else {
            return Ok(None);
        };
        let tenant = RouteTenant {
            id: TenantId(uuid_column(&row, "tenant_id")?),
            slug: row.try_get("slug")?,
            status: status(&row)?,
            time_zone: row.try_get("time_zone")?,
            limits: TenantLimits {
                max_concurrent_calls: limit(&row, "max_concurrent_calls")?,
                max_calls_per_second: limit(&row, "max_calls_per_second")?,
                plugin_cpu_ms_per_call: limit(&row, "plugin_cpu_ms_per_call")?,
            },
        };
        let mut hotline = hotline_from_row(&row)?;
        if let Some(hotline) = &mut hotline {
            let named = named_agents(&hotline.open_action);
            if !named.is_empty() {
                // At most two agents: a fixed query with both slots keeps it one statement.
                let first = named[0].to_db();
                let second = named.get(1).map_or_else(|| first.clone(), |a| a.to_db());
                let rows = sqlx::query(
                    "SELECT id FROM agents WHERE id IN ($1, $2) AND enabled = $3
                     AND (tenant_id = $4 OR (tenant_id IS NULL AND id IN (SELECT agent_id FROM agent_assignments WHERE tenant_id = $5)))",
                )
                .bind(first)
                .bind(second)
                .bind(true)
                .bind(tenant.id.to_db())
                .bind(tenant.id.to_db())
                .fetch_all(&mut *conn)
                .await?;
                hotline.serving_agents = rows
                    .iter()
                    .map(|r| uuid_column(r, "id").map(AgentId))
                    .collect::<StoreResult<Vec<_>>>()?;
            }
        }
        Ok(Some(NumberRouteRow {
            number_id: NumberId(uuid_column(&row, "number_id")?),
            e164: row.try_get("e164")?,
            tenant,
            hotline,
        }))
    }
}
