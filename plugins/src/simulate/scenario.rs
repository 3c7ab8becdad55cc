//! Scenario files (format in `plugins/SCENARIOS.md`): top-level defaults, `[[case]]`s that
//! override them, and what each case expects. Parsing and merging only; nothing runs here.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;
use serde::Deserialize;

/// Settings of a call, every one optional so that a case can override the file's defaults.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct Settings {
    pub caller: Option<String>,
    pub dialed: Option<String>,
    pub at: Option<String>,
    pub time_zone: Option<String>,
    pub language: Option<String>,
    pub hotline: Option<String>,
    pub branch: Option<String>,
    pub cpu_budget_ms: Option<u32>,
    pub memory_mib: Option<u32>,
    pub key_delay_ms: Option<u64>,
    pub prompt_ms: Option<u64>,
    pub strict_prompts: Option<bool>,
    pub allow_hosts: Option<Vec<String>>,
    pub unreachable_numbers: Option<Vec<String>>,
    pub vars: Option<BTreeMap<String, String>>,
    pub prompts: Option<BTreeMap<String, u64>>,
    pub queues: Option<Vec<SimQueue>>,
    pub agents: Option<Vec<SimAgent>>,
    pub kv: Option<BTreeMap<String, String>>,
    pub http: Option<Vec<SimHttp>>,
    pub digits: Option<String>,
    pub keys: Option<Vec<TimedKey>>,
    pub hangup_at_ms: Option<u64>,
    pub voicemail_ms: Option<u64>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SimQueue {
    pub name: String,
    #[serde(default = "open")]
    pub state: String,
    #[serde(default = "one")]
    pub position: u32,
    pub estimated_wait_seconds: Option<u32>,
}

fn open() -> String {
    "open".into()
}

fn one() -> u32 {
    1
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SimAgent {
    pub name: String,
    #[serde(default = "answers")]
    pub state: String,
}

fn answers() -> String {
    "answers".into()
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SimHttp {
    pub method: String,
    pub url: String,
    #[serde(default = "ok")]
    pub status: u16,
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    #[serde(default)]
    pub body: String,
    #[serde(default)]
    pub delay_ms: u64,
    pub error: Option<String>,
}

fn ok() -> u16 {
    200
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TimedKey {
    pub at_ms: u64,
    pub key: String,
}

/// What a case expects.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expect {
    pub outcome: Option<String>,
    pub reason_contains: Option<String>,
    #[serde(default)]
    pub vars: BTreeMap<String, String>,
    #[serde(default)]
    pub kv: BTreeMap<String, String>,
    #[serde(default)]
    pub log_contains: Vec<String>,
    pub transcript: Option<String>,
}

#[derive(Clone, Debug, Deserialize)]
pub struct Case {
    pub name: String,
    #[serde(flatten)]
    pub settings: Settings,
    #[serde(default)]
    pub expect: Expect,
}

#[derive(Clone, Debug, Deserialize)]
pub struct ScenarioFile {
    #[serde(flatten)]
    pub defaults: Settings,
    #[serde(rename = "case", default)]
    pub cases: Vec<Case>,
}

#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    #[error("the scenario file is not valid TOML: {0}")]
    Toml(#[from] toml::de::Error),
    #[error("case {case:?}: {detail}")]
    Invalid { case: String, detail: String },
    #[error("two cases are named {0:?}")]
    DuplicateCase(String),
}

impl ScenarioFile {
    pub fn parse(text: &str) -> Result<Self, ScenarioError> {
        let file: ScenarioFile = toml::from_str(text)?;
        let mut seen = std::collections::BTreeSet::new();
        for case in &file.cases {
            if !seen.insert(case.name.clone()) {
                return Err(ScenarioError::DuplicateCase(case.name.clone()));
            }
        }
        Ok(file)
    }
}

/// A key the caller presses: in order when listened for, or at a moment of the call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Keys {
    /// `digits`: `None` is a `.` (silent this time).
    InOrder(Vec<Option<char>>),
    /// `keys`: milliseconds since the call started.
    Timed(Vec<(u64, char)>),
}

/// A case with every setting decided.
#[derive(Clone, Debug)]
pub struct Scene {
    pub name: String,
    pub caller: String,
    pub dialed: String,
    pub start: DateTime<Utc>,
    pub zone: Tz,
    pub language: String,
    pub hotline: String,
    pub closed: bool,
    pub cpu_budget_ms: u32,
    pub memory_mib: u32,
    pub key_delay_ms: u64,
    pub prompt_ms: u64,
    pub strict_prompts: bool,
    pub allow_hosts: Vec<String>,
    pub unreachable_numbers: Vec<String>,
    pub vars: BTreeMap<String, String>,
    pub prompts: BTreeMap<String, u64>,
    pub queues: Vec<SimQueue>,
    pub agents: Vec<SimAgent>,
    pub kv: BTreeMap<String, String>,
    pub http: Vec<SimHttp>,
    pub keys: Keys,
    pub hangup_at_ms: Option<u64>,
    pub voicemail_ms: u64,
    pub expect: Expect,
}

fn is_key(c: char) -> bool {
    matches!(c, '0'..='9' | '*' | '#' | 'A'..='D')
}

/// Parse a tenant-local `YYYY-MM-DDTHH:MM[:SS]` in `zone`.
pub fn parse_local(text: &str, zone: Tz) -> Result<DateTime<Utc>, String> {
    let naive = NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S")
        .or_else(|_| NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M"))
        .map_err(|_| format!("at {text:?} is not YYYY-MM-DDTHH:MM[:SS]"))?;
    zone.from_local_datetime(&naive)
        .earliest()
        .map(|t| t.with_timezone(&Utc))
        .ok_or_else(|| format!("at {text:?} does not exist in {zone} (a daylight-saving gap)"))
}

impl Settings {
    fn or(self, defaults: &Settings) -> Settings {
        let d = defaults.clone();
        Settings {
            caller: self.caller.or(d.caller),
            dialed: self.dialed.or(d.dialed),
            at: self.at.or(d.at),
            time_zone: self.time_zone.or(d.time_zone),
            language: self.language.or(d.language),
            hotline: self.hotline.or(d.hotline),
            branch: self.branch.or(d.branch),
            cpu_budget_ms: self.cpu_budget_ms.or(d.cpu_budget_ms),
            memory_mib: self.memory_mib.or(d.memory_mib),
            key_delay_ms: self.key_delay_ms.or(d.key_delay_ms),
            prompt_ms: self.prompt_ms.or(d.prompt_ms),
            strict_prompts: self.strict_prompts.or(d.strict_prompts),
            allow_hosts: self.allow_hosts.or(d.allow_hosts),
            unreachable_numbers: self.unreachable_numbers.or(d.unreachable_numbers),
            vars: self.vars.or(d.vars),
            prompts: self.prompts.or(d.prompts),
            queues: self.queues.or(d.queues),
            agents: self.agents.or(d.agents),
            kv: self.kv.or(d.kv),
            http: self.http.or(d.http),
            digits: self.digits.or(d.digits),
            keys: self.keys.or(d.keys),
            hangup_at_ms: self.hangup_at_ms.or(d.hangup_at_ms),
            voicemail_ms: self.voicemail_ms.or(d.voicemail_ms),
        }
    }

    /// Decide every setting of `name` (the case's settings over `defaults`).
    pub fn scene(
        self,
        name: &str,
        defaults: &Settings,
        expect: Expect,
    ) -> Result<Scene, ScenarioError> {
        let s = self.or(defaults);
        let invalid = |detail: String| ScenarioError::Invalid {
            case: name.to_string(),
            detail,
        };
        let zone: Tz = s
            .time_zone
            .as_deref()
            .unwrap_or("UTC")
            .parse()
            .map_err(|_| invalid(format!("time_zone {:?} is not an IANA zone", s.time_zone)))?;
        let start = match &s.at {
            Some(at) => parse_local(at, zone).map_err(invalid)?,
            None => Utc::now(),
        };
        let keys = match (&s.digits, &s.keys) {
            (Some(_), Some(_)) => return Err(invalid("give digits or keys, not both".into())),
            (_, Some(timed)) => {
                let mut keys = Vec::new();
                for k in timed {
                    let mut chars = k.key.chars();
                    match (chars.next(), chars.next()) {
                        (Some(c), None) if is_key(c) => keys.push((k.at_ms, c)),
                        _ => {
                            return Err(invalid(format!(
                                "key {:?} is not one of 0-9 * # A-D",
                                k.key
                            )))
                        }
                    }
                }
                keys.sort();
                Keys::Timed(keys)
            }
            (digits, None) => {
                let mut keys = Vec::new();
                for c in digits.as_deref().unwrap_or("").chars() {
                    match c {
                        '.' => keys.push(None),
                        c if is_key(c) => keys.push(Some(c)),
                        c if c.is_whitespace() => {}
                        other => {
                            return Err(invalid(format!(
                                "digits holds {other:?}; use 0-9 * # A-D and ."
                            )))
                        }
                    }
                }
                Keys::InOrder(keys)
            }
        };
        let closed = match s.branch.as_deref().unwrap_or("open") {
            "open" => false,
            "closed" => true,
            other => return Err(invalid(format!("branch {other:?} is open or closed"))),
        };
        for q in s.queues.iter().flatten() {
            if !["open", "full", "closed", "no-agents"].contains(&q.state.as_str()) {
                return Err(invalid(format!(
                    "queue {} state {:?} is open, full, closed or no-agents",
                    q.name, q.state
                )));
            }
        }
        for a in s.agents.iter().flatten() {
            if !["answers", "busy", "no-answer"].contains(&a.state.as_str()) {
                return Err(invalid(format!(
                    "agent {} state {:?} is answers, busy or no-answer",
                    a.name, a.state
                )));
            }
        }
        for h in s.http.iter().flatten() {
            if h.method != "GET" && h.method != "POST" {
                return Err(invalid(format!(
                    "http method {:?} is GET or POST",
                    h.method
                )));
            }
            if let Some(e) = &h.error {
                if e != "timeout" && e != "connection-failed" {
                    return Err(invalid(format!(
                        "http error {e:?} is timeout or connection-failed"
                    )));
                }
            }
        }
        if let Some(outcome) = &expect.outcome {
            if !["self-served", "operator", "caller-hung-up", "fallback"]
                .contains(&outcome.as_str())
            {
                return Err(invalid(format!(
                    "expect.outcome {outcome:?} is self-served, operator, caller-hung-up or fallback"
                )));
            }
        }
        Ok(Scene {
            name: name.to_string(),
            caller: s.caller.unwrap_or_else(|| "+421900000001".into()),
            dialed: s.dialed.unwrap_or_else(|| "+421200000001".into()),
            start,
            zone,
            language: s.language.unwrap_or_else(|| "en".into()),
            hotline: s.hotline.unwrap_or_else(|| "main".into()),
            closed,
            cpu_budget_ms: s.cpu_budget_ms.unwrap_or(50),
            memory_mib: s.memory_mib.unwrap_or(64),
            key_delay_ms: s.key_delay_ms.unwrap_or(200),
            prompt_ms: s.prompt_ms.unwrap_or(2_000),
            strict_prompts: s.strict_prompts.unwrap_or(false),
            allow_hosts: s.allow_hosts.unwrap_or_default(),
            unreachable_numbers: s.unreachable_numbers.unwrap_or_default(),
            vars: s.vars.unwrap_or_default(),
            prompts: s.prompts.unwrap_or_default(),
            queues: s.queues.unwrap_or_default(),
            agents: s.agents.unwrap_or_default(),
            kv: s.kv.unwrap_or_default(),
            http: s.http.unwrap_or_default(),
            keys,
            hangup_at_ms: s.hangup_at_ms,
            voicemail_ms: s.voicemail_ms.unwrap_or(5_000),
            expect,
        })
    }
}

impl ScenarioFile {
    /// Every case, decided.
    pub fn scenes(&self) -> Result<Vec<Scene>, ScenarioError> {
        self.cases
            .iter()
            .map(|c| {
                c.settings
                    .clone()
                    .scene(&c.name, &self.defaults, c.expect.clone())
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cases_override_defaults() {
        let file = ScenarioFile::parse(
            r#"
caller = "+421900123456"
at = "2026-12-31T23:00"
time_zone = "Europe/Bratislava"
digits = "1"
[[queues]]
name = "sales"
[[case]]
name = "one"
[[case]]
name = "two"
digits = ".2"
caller = "anonymous"
[case.expect]
outcome = "operator"
"#,
        )
        .expect("parse");
        let scenes = file.scenes().expect("scenes");
        assert_eq!(scenes[0].keys, Keys::InOrder(vec![Some('1')]));
        assert_eq!(scenes[1].keys, Keys::InOrder(vec![None, Some('2')]));
        assert_eq!(scenes[1].caller, "anonymous");
        assert_eq!(scenes[0].queues.len(), 1);
        assert_eq!(scenes[0].start.to_rfc3339(), "2026-12-31T22:00:00+00:00");
        assert_eq!(scenes[1].expect.outcome.as_deref(), Some("operator"));
    }

    #[test]
    fn bad_files_say_where() {
        assert!(matches!(
            ScenarioFile::parse("caller = "),
            Err(ScenarioError::Toml(_))
        ));
        let dup = ScenarioFile::parse("[[case]]\nname = \"a\"\n[[case]]\nname = \"a\"\n");
        assert!(matches!(dup, Err(ScenarioError::DuplicateCase(_))));
        let bad = ScenarioFile::parse("[[case]]\nname = \"x\"\ndigits = \"1x\"\n").expect("parse");
        let err = bad.scenes().expect_err("bad digits").to_string();
        assert!(err.contains("\"x\"") && err.contains("digits"), "{err}");
    }
}
