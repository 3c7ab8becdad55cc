//! What a hotline does with a call: the action while open, the action while closed, and where a
//! forwarded call goes when nobody answers in time. Shapes and the checks that need no database;
//! whether a named agent may serve the tenant and a named trunk exists is checked by the store
//! (`crud::check_references`) inside the caller's tenant scope.
//!
//! Actions are stored as JSON (`open_action`, `closed_action`), tagged by `action`, and must keep
//! reading rows written by earlier versions: new fields get serde defaults, never a new required
//! field. This module must never look anything up itself.

use hotline_core::ids::{AgentId, PromptId, TrunkId};
use serde::{Deserialize, Serialize};

use crate::error::Invalid;
use crate::numbers::normalize_e164;

/// SIP status a rejected call gets unless configured: 480 Temporarily Unavailable.
pub const DEFAULT_REJECT_STATUS: u16 = 480;
/// Seconds a forwarded call rings before the no-answer target takes over.
pub const DEFAULT_RING_TIMEOUT_S: u32 = 30;
/// Ring timeouts allowed, in seconds: long enough for a person to pick up, short enough that a
/// caller is not left ringing into nothing.
pub const RING_TIMEOUT_RANGE_S: std::ops::RangeInclusive<u32> = 5..=300;

fn default_reject_status() -> u16 {
    DEFAULT_REJECT_STATUS
}

fn default_ring_timeout() -> u32 {
    DEFAULT_RING_TIMEOUT_S
}

/// What a caller gets while the hotline is open.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "action", rename_all = "kebab-case", deny_unknown_fields)]
pub enum OpenAction {
    /// The IVR path: the pinned IVR plugin runs; without one, the fallback queue takes the call.
    #[default]
    Ivr,
    /// Refuse the call with a SIP status (480 Temporarily Unavailable by default).
    Reject {
        #[serde(default = "default_reject_status")]
        sip_status: u16,
    },
    /// Ring every registered phone of one agent (the tenant's own, or a firm agent assigned to
    /// the tenant); the first to answer takes the call.
    ForwardAgent {
        agent_id: AgentId,
        #[serde(default = "default_ring_timeout")]
        ring_timeout_s: u32,
        #[serde(default)]
        no_answer: NoAnswer,
    },
    /// Dial an external number (E.164) through an outbound trunk: the one named, or any with
    /// room when none is.
    ForwardNumber {
        number: String,
        #[serde(default)]
        trunk_id: Option<TrunkId>,
        #[serde(default = "default_ring_timeout")]
        ring_timeout_s: u32,
        #[serde(default)]
        no_answer: NoAnswer,
    },
}

/// Where a forwarded call goes when the forward was not answered within its ring timeout.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "action", rename_all = "kebab-case", deny_unknown_fields)]
pub enum NoAnswer {
    /// End the call with a SIP status (480 by default).
    Reject {
        #[serde(default = "default_reject_status")]
        sip_status: u16,
    },
    ForwardAgent {
        agent_id: AgentId,
    },
    ForwardNumber {
        number: String,
    },
}

impl Default for NoAnswer {
    fn default() -> Self {
        NoAnswer::Reject {
            sip_status: DEFAULT_REJECT_STATUS,
        }
    }
}

/// What a caller gets while the hotline is closed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "action", rename_all = "kebab-case", deny_unknown_fields)]
pub enum ClosedAction {
    /// Refuse the call with a SIP status (480 Temporarily Unavailable by default).
    Reject {
        #[serde(default = "default_reject_status")]
        sip_status: u16,
    },
    /// Answer, play a prompt, hang up.
    Message { prompt_id: PromptId },
    /// Forward to an external number; unanswered after the ring timeout, the call is rejected
    /// with 480.
    Forward {
        number: String,
        #[serde(default = "default_ring_timeout")]
        ring_timeout_s: u32,
    },
}

impl Default for ClosedAction {
    fn default() -> Self {
        ClosedAction::Reject {
            sip_status: DEFAULT_REJECT_STATUS,
        }
    }
}

fn check_status(invalid: &mut Invalid, field: &str, status: u16) {
    if !(400..=699).contains(&status) {
        invalid.add(field, "must be a SIP failure status, 400 to 699");
    }
}

fn check_number(invalid: &mut Invalid, field: &str, number: &str) {
    if let Err(why) = normalize_e164(number) {
        invalid.add(field, format!("{number:?} is not an E.164 number: {why}"));
    }
}

fn check_ring_timeout(invalid: &mut Invalid, field: &str, seconds: u32) {
    if !RING_TIMEOUT_RANGE_S.contains(&seconds) {
        invalid.add(
            field,
            format!(
                "must be between {} and {} seconds",
                RING_TIMEOUT_RANGE_S.start(),
                RING_TIMEOUT_RANGE_S.end()
            ),
        );
    }
}

fn normalize_number(number: &mut String) {
    if let Ok(normalized) = normalize_e164(number) {
        *number = normalized;
    }
}

impl NoAnswer {
    fn validate(&self, invalid: &mut Invalid, field: &str) {
        match self {
            NoAnswer::Reject { sip_status } => {
                check_status(invalid, &format!("{field}.sip_status"), *sip_status)
            }
            NoAnswer::ForwardAgent { .. } => {}
            NoAnswer::ForwardNumber { number } => {
                check_number(invalid, &format!("{field}.number"), number)
            }
        }
    }

    fn normalize(&mut self) {
        if let NoAnswer::ForwardNumber { number } = self {
            normalize_number(number);
        }
    }

    fn agent(&self) -> Option<AgentId> {
        match self {
            NoAnswer::ForwardAgent { agent_id } => Some(*agent_id),
            _ => None,
        }
    }
}

impl OpenAction {
    pub(crate) fn validate(&self, invalid: &mut Invalid, field: &str) {
        match self {
            OpenAction::Ivr => {}
            OpenAction::Reject { sip_status } => {
                check_status(invalid, &format!("{field}.sip_status"), *sip_status)
            }
            OpenAction::ForwardAgent {
                ring_timeout_s,
                no_answer,
                ..
            } => {
                check_ring_timeout(invalid, &format!("{field}.ring_timeout_s"), *ring_timeout_s);
                no_answer.validate(invalid, &format!("{field}.no_answer"));
            }
            OpenAction::ForwardNumber {
                number,
                ring_timeout_s,
                no_answer,
                ..
            } => {
                check_number(invalid, &format!("{field}.number"), number);
                check_ring_timeout(invalid, &format!("{field}.ring_timeout_s"), *ring_timeout_s);
                no_answer.validate(invalid, &format!("{field}.no_answer"));
            }
        }
    }

    pub(crate) fn normalize(&mut self) {
        match self {
            OpenAction::ForwardAgent { no_answer, .. } => no_answer.normalize(),
            OpenAction::ForwardNumber {
                number, no_answer, ..
            } => {
                normalize_number(number);
                no_answer.normalize();
            }
            OpenAction::Ivr | OpenAction::Reject { .. } => {}
        }
    }

    /// The agents this action rings, as (field, agent), for the store to check.
    pub(crate) fn agents(&self, field: &str) -> Vec<(String, AgentId)> {
        let mut agents = Vec::new();
        let no_answer = match self {
            OpenAction::ForwardAgent {
                agent_id,
                no_answer,
                ..
            } => {
                agents.push((format!("{field}.agent_id"), *agent_id));
                Some(no_answer)
            }
            OpenAction::ForwardNumber { no_answer, .. } => Some(no_answer),
            OpenAction::Ivr | OpenAction::Reject { .. } => None,
        };
        if let Some(agent) = no_answer.and_then(NoAnswer::agent) {
            agents.push((format!("{field}.no_answer.agent_id"), agent));
        }
        agents
    }

    /// The trunk this action dials through, if it names one.
    pub(crate) fn trunk(&self) -> Option<TrunkId> {
        match self {
            OpenAction::ForwardNumber { trunk_id, .. } => *trunk_id,
            _ => None,
        }
    }
}

impl ClosedAction {
    pub(crate) fn validate(&self, invalid: &mut Invalid, field: &str) {
        match self {
            ClosedAction::Reject { sip_status } => {
                check_status(invalid, &format!("{field}.sip_status"), *sip_status)
            }
            ClosedAction::Message { .. } => {}
            ClosedAction::Forward {
                number,
                ring_timeout_s,
            } => {
                check_number(invalid, &format!("{field}.number"), number);
                check_ring_timeout(invalid, &format!("{field}.ring_timeout_s"), *ring_timeout_s);
            }
        }
    }

    pub(crate) fn normalize(&mut self) {
        if let ClosedAction::Forward { number, .. } = self {
            normalize_number(number);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn open(value: serde_json::Value) -> OpenAction {
        serde_json::from_value(value).expect("an open action")
    }

    #[test]
    fn defaults_fill_what_a_client_leaves_out() {
        let agent = AgentId::new();
        assert_eq!(
            open(json!({ "action": "forward-agent", "agent_id": agent })),
            OpenAction::ForwardAgent {
                agent_id: agent,
                ring_timeout_s: 30,
                no_answer: NoAnswer::Reject { sip_status: 480 },
            }
        );
        assert_eq!(
            open(json!({ "action": "reject" })),
            OpenAction::Reject { sip_status: 480 }
        );
        assert_eq!(OpenAction::default(), open(json!({ "action": "ivr" })));
        // A closed forward stored before ring timeouts existed still reads.
        let closed: ClosedAction =
            serde_json::from_value(json!({ "action": "forward", "number": "+421212345678" }))
                .expect("an old closed action");
        assert_eq!(
            closed,
            ClosedAction::Forward {
                number: "+421212345678".into(),
                ring_timeout_s: 30
            }
        );
    }

    #[test]
    fn unknown_shapes_are_refused() {
        for bad in [
            json!({ "action": "voicemail" }),
            json!({ "action": "reject", "sip_status": 486, "agent_id": AgentId::new() }),
            json!({ "action": "forward-number" }),
            json!({ "action": "forward-agent", "agent_id": AgentId::new(), "no_answer": { "action": "ivr" } }),
        ] {
            assert!(
                serde_json::from_value::<OpenAction>(bad.clone()).is_err(),
                "{bad} accepted"
            );
        }
    }

    #[test]
    fn validation_names_every_bad_field() {
        let action = open(json!({
            "action": "forward-number",
            "number": "0900 123",
            "ring_timeout_s": 2,
            "no_answer": { "action": "forward-number", "number": "12" },
        }));
        let mut invalid = Invalid::new();
        action.validate(&mut invalid, "open_action");
        let fields: Vec<&str> = invalid.0.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "open_action.number",
                "open_action.ring_timeout_s",
                "open_action.no_answer.number"
            ]
        );

        let mut invalid = Invalid::new();
        open(json!({ "action": "reject", "sip_status": 200 }))
            .validate(&mut invalid, "open_action");
        assert_eq!(invalid.0[0].field, "open_action.sip_status");
    }

    #[test]
    fn numbers_are_normalized_and_agents_listed() {
        let (first, second) = (AgentId::new(), AgentId::new());
        let mut action = open(json!({
            "action": "forward-agent",
            "agent_id": first,
            "no_answer": { "action": "forward-agent", "agent_id": second },
        }));
        action.normalize();
        assert_eq!(
            action.agents("open_action"),
            vec![
                ("open_action.agent_id".to_string(), first),
                ("open_action.no_answer.agent_id".to_string(), second)
            ]
        );
        let mut action = open(json!({
            "action": "forward-number",
            "number": "00421 2 1234 5678",
            "no_answer": { "action": "forward-number", "number": "+421 2 8765 4321" },
        }));
        action.normalize();
        match action {
            OpenAction::ForwardNumber {
                number, no_answer, ..
            } => {
                assert_eq!(number, "+421212345678");
                assert_eq!(
                    no_answer,
                    NoAnswer::ForwardNumber {
                        number: "+421287654321".into()
                    }
                );
            }
            other => panic!("{other:?}"),
        }
    }
}
