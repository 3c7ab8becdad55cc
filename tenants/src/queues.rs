//! ACD queues: how calls wait for agents and how agents are picked. The ACD itself lives in
//! `routing`; this is its configuration. Memberships (which agents serve a queue, with what
//! penalty) are in `members`.

use hotline_core::ids::{PromptId, QueueId};
use serde::{Deserialize, Serialize};
use sqlx::any::AnyRow;
use sqlx::Row;

use crate::crud::{json_column, opt_uuid_column, to_json, AnyQuery, Spec, Stored};
use crate::error::{Invalid, StoreError, StoreResult};
use crate::numbers::normalize_e164;
use crate::validate;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum QueueStrategy {
    /// Ring every available member at once; first to answer wins.
    RingAll,
    /// The member idle the longest since their last call.
    #[default]
    LongestIdle,
    /// Members in turn.
    RoundRobin,
    /// The member with the fewest calls today.
    FewestCalls,
    /// The member whose skills best match what the call requires.
    Skills,
    /// Calls by priority first, then longest idle.
    Priority,
}

impl QueueStrategy {
    const ALL: [QueueStrategy; 6] = [
        QueueStrategy::RingAll,
        QueueStrategy::LongestIdle,
        QueueStrategy::RoundRobin,
        QueueStrategy::FewestCalls,
        QueueStrategy::Skills,
        QueueStrategy::Priority,
    ];

    fn as_str(self) -> &'static str {
        match self {
            QueueStrategy::RingAll => "ring-all",
            QueueStrategy::LongestIdle => "longest-idle",
            QueueStrategy::RoundRobin => "round-robin",
            QueueStrategy::FewestCalls => "fewest-calls",
            QueueStrategy::Skills => "skills",
            QueueStrategy::Priority => "priority",
        }
    }

    fn parse(s: &str) -> StoreResult<Self> {
        Self::ALL
            .into_iter()
            .find(|q| q.as_str() == s)
            .ok_or_else(|| StoreError::Corrupt(format!("queue strategy {s:?}")))
    }
}

/// Where a call goes when it waited too long or the queue is full.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "type", rename_all = "kebab-case", deny_unknown_fields)]
pub enum OverflowTarget {
    /// Another queue of the same tenant.
    Queue { queue_id: QueueId },
    /// An external number, through an outbound trunk.
    Number { number: String },
    /// Offer a callback, then hang up.
    Callback,
    /// Play a prompt and hang up.
    Hangup { prompt_id: Option<PromptId> },
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct QueueSpec {
    pub name: String,
    #[serde(default)]
    pub strategy: QueueStrategy,
    /// Longest a caller waits before the overflow target.
    #[serde(default = "default_max_wait")]
    pub max_wait_secs: u32,
    /// Callers waiting at most; the next goes to the overflow target.
    #[serde(default = "default_max_length")]
    pub max_length: u32,
    /// After-call work before the agent is offered the next call.
    #[serde(default = "default_wrap_up")]
    pub wrap_up_secs: u32,
    /// The T of the "answered within T seconds" service level.
    #[serde(default = "default_service_level")]
    pub service_level_secs: u32,
    #[serde(default)]
    pub overflow: Option<OverflowTarget>,
    /// How often to tell callers their position; 0 never.
    #[serde(default)]
    pub announce_position_secs: u32,
    /// Music on hold; none: the platform's default tone.
    #[serde(default)]
    pub moh_prompt_id: Option<PromptId>,
}

fn default_max_wait() -> u32 {
    300
}
fn default_max_length() -> u32 {
    50
}
fn default_wrap_up() -> u32 {
    10
}
fn default_service_level() -> u32 {
    20
}

pub type Queue = Stored<QueueSpec>;

impl Spec for QueueSpec {
    type Id = QueueId;
    const RESOURCE: &'static str = "queue";
    const TABLE: &'static str = "queues";
    const COLUMNS: &'static [&'static str] = &[
        "name",
        "strategy",
        "max_wait_secs",
        "max_length",
        "wrap_up_secs",
        "service_level_secs",
        "overflow",
        "announce_position_secs",
        "moh_prompt_id",
    ];
    const REFERENCED_BY: &'static [(&'static str, &'static str, &'static str)] = &[
        ("hotline", "hotlines", "fallback_queue_id"),
        ("queue", "queues", "overflow"),
    ];

    fn bind<'q>(&'q self, query: AnyQuery<'q>) -> AnyQuery<'q> {
        query
            .bind(&self.name)
            .bind(self.strategy.as_str())
            .bind(i64::from(self.max_wait_secs))
            .bind(i64::from(self.max_length))
            .bind(i64::from(self.wrap_up_secs))
            .bind(i64::from(self.service_level_secs))
            .bind(self.overflow.as_ref().map(to_json))
            .bind(i64::from(self.announce_position_secs))
            .bind(self.moh_prompt_id.map(|p| p.to_db()))
    }

    fn from_row(row: &AnyRow) -> StoreResult<Self> {
        let secs = |column: &str| -> StoreResult<u32> {
            let value: i64 = row.try_get(column)?;
            u32::try_from(value).map_err(|_| StoreError::Corrupt(format!("{column} = {value}")))
        };
        let strategy: String = row.try_get("strategy")?;
        let overflow: Option<String> = row.try_get("overflow")?;
        Ok(Self {
            name: row.try_get("name")?,
            strategy: QueueStrategy::parse(&strategy)?,
            max_wait_secs: secs("max_wait_secs")?,
            max_length: secs("max_length")?,
            wrap_up_secs: secs("wrap_up_secs")?,
            service_level_secs: secs("service_level_secs")?,
            overflow: match overflow {
                Some(_) => Some(json_column(row, "overflow")?),
                None => None,
            },
            announce_position_secs: secs("announce_position_secs")?,
            moh_prompt_id: opt_uuid_column(row, "moh_prompt_id")?.map(PromptId),
        })
    }

    fn validate(&self) -> Result<(), Invalid> {
        let mut invalid = Invalid::new();
        validate::name(&mut invalid, "name", &self.name);
        validate::range(&mut invalid, "max_wait_secs", self.max_wait_secs, 1, 86_400);
        validate::range(&mut invalid, "max_length", self.max_length, 1, 10_000);
        validate::range(&mut invalid, "wrap_up_secs", self.wrap_up_secs, 0, 3_600);
        validate::range(
            &mut invalid,
            "service_level_secs",
            self.service_level_secs,
            1,
            3_600,
        );
        validate::range(
            &mut invalid,
            "announce_position_secs",
            self.announce_position_secs,
            0,
            3_600,
        );
        if let Some(OverflowTarget::Number { number }) = &self.overflow {
            if let Err(why) = normalize_e164(number) {
                invalid.add(
                    "overflow.number",
                    format!("{number:?} is not an E.164 number: {why}"),
                );
            }
        }
        invalid.into_result()
    }

    fn normalize(&mut self) {
        if let Some(OverflowTarget::Number { number }) = &mut self.overflow {
            if let Ok(normalized) = normalize_e164(number) {
                *number = normalized;
            }
        }
    }

    fn references(&self) -> Vec<(&'static str, &'static str, uuid::Uuid)> {
        let mut refs = Vec::new();
        if let Some(prompt) = self.moh_prompt_id {
            refs.push(("moh_prompt_id", "prompts", prompt.0));
        }
        match &self.overflow {
            Some(OverflowTarget::Queue { queue_id }) => {
                refs.push(("overflow.queue_id", "queues", queue_id.0))
            }
            Some(OverflowTarget::Hangup { prompt_id: Some(p) }) => {
                refs.push(("overflow.prompt_id", "prompts", p.0))
            }
            _ => {}
        }
        refs
    }
}
