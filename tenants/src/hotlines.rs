//! Hotlines: what a tenant's numbers lead to. Opening hours (in the tenant's zone), what to do
//! while open and while closed (`hotline_actions`), the IVR plugin pinned to a version, the
//! fallback queue for when the plugin fails, the recording policy and the language of prompts.

use hotline_core::ids::{AgentId, HotlineId, QueueId, TrunkId};
use serde::{Deserialize, Serialize};
use sqlx::any::AnyRow;
use sqlx::Row;

use crate::crud::{bool_column, json_column, opt_uuid_column, to_json, AnyQuery, Spec, Stored};
use crate::error::{Invalid, StoreResult};
use crate::schedule::Schedule;
use crate::validate;

pub use crate::hotline_actions::{
    ClosedAction, NoAnswer, OpenAction, DEFAULT_REJECT_STATUS, DEFAULT_RING_TIMEOUT_S,
    RING_TIMEOUT_RANGE_S,
};

/// An IVR plugin pinned to one of its immutable versions (rollback is re-pinning).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PluginRef {
    pub plugin: String,
    pub version: u32,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum RecordingPolicy {
    #[default]
    Never,
    Always,
    /// Started and stopped by the agent or the IVR.
    OnDemand,
}

impl RecordingPolicy {
    fn as_str(self) -> &'static str {
        match self {
            RecordingPolicy::Never => "never",
            RecordingPolicy::Always => "always",
            RecordingPolicy::OnDemand => "on-demand",
        }
    }

    pub(crate) fn parse(s: &str) -> Self {
        match s {
            "always" => RecordingPolicy::Always,
            "on-demand" => RecordingPolicy::OnDemand,
            _ => RecordingPolicy::Never,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HotlineSpec {
    pub name: String,
    /// Open around the clock; `schedule` is then ignored.
    #[serde(default)]
    pub always_open: bool,
    #[serde(default)]
    pub schedule: Schedule,
    /// What happens while open; `ivr` (the default) runs the pinned plugin.
    #[serde(default)]
    pub open_action: OpenAction,
    #[serde(default)]
    pub closed_action: ClosedAction,
    #[serde(default)]
    pub ivr_plugin: Option<PluginRef>,
    /// Where calls go when the IVR plugin fails (or there is none).
    #[serde(default)]
    pub fallback_queue_id: Option<QueueId>,
    #[serde(default)]
    pub recording_policy: RecordingPolicy,
    #[serde(default = "default_language")]
    pub language: String,
}

fn default_language() -> String {
    "en".into()
}

pub type Hotline = Stored<HotlineSpec>;

impl Spec for HotlineSpec {
    type Id = HotlineId;
    const RESOURCE: &'static str = "hotline";
    const TABLE: &'static str = "hotlines";
    const COLUMNS: &'static [&'static str] = &[
        "name",
        "always_open",
        "schedule",
        "open_action",
        "closed_action",
        "ivr_plugin",
        "ivr_plugin_version",
        "fallback_queue_id",
        "recording_policy",
        "language",
    ];
    const REFERENCED_BY: &'static [(&'static str, &'static str, &'static str)] =
        &[("number", "numbers", "hotline_id")];
    const ROUTES_CALLS: bool = true;

    fn bind<'q>(&'q self, query: AnyQuery<'q>) -> AnyQuery<'q> {
        query
            .bind(&self.name)
            .bind(self.always_open)
            .bind(to_json(&self.schedule))
            .bind(to_json(&self.open_action))
            .bind(to_json(&self.closed_action))
            .bind(self.ivr_plugin.as_ref().map(|p| p.plugin.clone()))
            .bind(self.ivr_plugin.as_ref().map(|p| i64::from(p.version)))
            .bind(self.fallback_queue_id.map(|q| q.to_db()))
            .bind(self.recording_policy.as_str())
            .bind(&self.language)
    }

    fn from_row(row: &AnyRow) -> StoreResult<Self> {
        let plugin: Option<String> = row.try_get("ivr_plugin")?;
        let plugin_version: Option<i64> = row.try_get("ivr_plugin_version")?;
        let policy: String = row.try_get("recording_policy")?;
        Ok(Self {
            name: row.try_get("name")?,
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
            recording_policy: RecordingPolicy::parse(&policy),
            language: row.try_get("language")?,
        })
    }

    fn validate(&self) -> Result<(), Invalid> {
        let mut invalid = Invalid::new();
        validate::name(&mut invalid, "name", &self.name);
        validate::language(&mut invalid, "language", &self.language);
        self.schedule.validate(&mut invalid, "schedule");
        self.open_action.validate(&mut invalid, "open_action");
        self.closed_action.validate(&mut invalid, "closed_action");
        if let Some(plugin) = &self.ivr_plugin {
            validate::name(&mut invalid, "ivr_plugin.plugin", &plugin.plugin);
            if plugin.version == 0 {
                invalid.add("ivr_plugin.version", "versions start at 1");
            }
        }
        invalid.into_result()
    }

    fn references(&self) -> Vec<(&'static str, &'static str, uuid::Uuid)> {
        let mut refs = Vec::new();
        if let Some(queue) = self.fallback_queue_id {
            refs.push(("fallback_queue_id", "queues", queue.0));
        }
        if let ClosedAction::Message { prompt_id } = &self.closed_action {
            refs.push(("closed_action.prompt_id", "prompts", prompt_id.0));
        }
        refs
    }

    fn agent_references(&self) -> Vec<(String, AgentId)> {
        self.open_action.agents("open_action")
    }

    fn trunk_references(&self) -> Vec<(&'static str, TrunkId)> {
        self.open_action
            .trunk()
            .map(|trunk| ("open_action.trunk_id", trunk))
            .into_iter()
            .collect()
    }

    fn normalize(&mut self) {
        self.open_action.normalize();
        self.closed_action.normalize();
    }
}
