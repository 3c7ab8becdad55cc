//! The offline simulator behind `hotline plugin test`: a scripted call ([`sim_call::SimCall`])
//! with simulated HTTP and a throw-away kv store, run in the same sandbox as live calls, printed
//! as a transcript and checked against a scenario's expectations case by case.
//!
//! It must never reach the network or a database: everything a case touches is in the scene.

pub mod scenario;
pub mod sim_call;
pub mod sim_http;

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::Datelike;
use hotline_core::call::IvrOutcome;
use hotline_core::ids::CallId;

use crate::bindings::ivr::hotline::plugin::types::{CallInfo, ScheduleBranch, Var};
use crate::host::run::{run_ivr, IvrCall, LoadedPlugin};
use crate::host::{CallServices, PluginHost};
use crate::http_client::Allowlist;
use crate::kv::MemoryKv;
use crate::limits::SandboxLimits;
use crate::local_time;
use crate::plugin_log::LogLine;
use crate::transcript::Transcript;
pub use scenario::{Expect, ScenarioError, ScenarioFile, Scene, Settings};

/// What a simulated call produced.
pub struct CaseRun {
    pub transcript: String,
    /// `self-served`, `operator`, `caller-hung-up` or `fallback`.
    pub outcome: String,
    pub fallback: Option<String>,
    pub vars: Vec<(String, String)>,
    pub kv: BTreeMap<String, String>,
    pub log: Vec<LogLine>,
}

/// Run one scene against the plugin.
pub async fn run_scene(host: &PluginHost, plugin: &LoadedPlugin, scene: &Scene) -> CaseRun {
    let transcript = Transcript::new(scene.start);
    let local = local_time(scene.start, scene.zone);
    let weekday = scene.start.with_timezone(&scene.zone).weekday();
    transcript.line(
        scene.start,
        "call",
        format!(
            "{} -> {}, hotline {} ({}), {weekday} {:04}-{:02}-{:02} {:02}:{:02} {}",
            scene.caller,
            scene.dialed,
            scene.hotline,
            if scene.closed { "closed" } else { "open" },
            local.year,
            local.month,
            local.day,
            local.hour,
            local.minute,
            scene.zone.name()
        ),
    );
    let call_id = CallId::new();
    let info = CallInfo {
        call_id: call_id.to_string(),
        hotline_id: uuid::Uuid::nil().to_string(),
        hotline_name: scene.hotline.clone(),
        caller: scene.caller.clone(),
        dialed: scene.dialed.clone(),
        language: scene.language.clone(),
        arrived_at: local,
        branch: if scene.closed {
            ScheduleBranch::Closed
        } else {
            ScheduleBranch::Open
        },
        vars: scene
            .vars
            .iter()
            .map(|(name, value)| Var {
                name: name.clone(),
                value: value.clone(),
            })
            .collect(),
    };
    let kv = Arc::new(MemoryKv::new(scene.kv.clone()));
    let limits = SandboxLimits {
        memory_bytes: (scene.memory_mib as usize) << 20,
        ..SandboxLimits::for_tenant(scene.cpu_budget_ms)
    };
    let control = Box::new(sim_call::SimCall::new(scene.clone(), transcript.clone()));
    let report = run_ivr(
        host,
        plugin,
        IvrCall {
            info,
            zone: scene.zone,
            limits,
            control,
            services: CallServices {
                kv: kv.clone(),
                http: Arc::new(sim_http::SimHttpFetch {
                    entries: scene.http.clone(),
                }),
                allow: Allowlist::new(&scene.allow_hosts),
            },
            call_id: Some(call_id),
            transcript: Some(transcript.clone()),
            log: None,
        },
    )
    .await;
    let outcome = match (&report.fallback, &report.outcome) {
        (Some(_), _) => "fallback",
        (None, IvrOutcome::SelfServed) => "self-served",
        (None, IvrOutcome::Operator) => "operator",
        (None, IvrOutcome::CallerHungUp) => "caller-hung-up",
        (None, IvrOutcome::Failed { .. }) => "fallback",
    };
    CaseRun {
        transcript: transcript.text(),
        outcome: outcome.to_string(),
        fallback: report.fallback,
        vars: report.vars,
        kv: kv.snapshot(),
        log: report.log,
    }
}

/// What of `expect` the run did not meet, as readable lines (empty: it matched).
pub fn check(expect: &Expect, run: &CaseRun) -> Vec<String> {
    let mut problems = Vec::new();
    if let Some(want) = &expect.outcome {
        if *want != run.outcome {
            let why = run
                .fallback
                .as_deref()
                .map(|r| format!(" ({r})"))
                .unwrap_or_default();
            problems.push(format!(
                "outcome: expected {want}, got {}{why}",
                run.outcome
            ));
        }
    }
    if let Some(part) = &expect.reason_contains {
        if !run
            .fallback
            .as_deref()
            .is_some_and(|r| r.contains(part.as_str()))
        {
            problems.push(format!(
                "fallback reason should contain {part:?}, got {:?}",
                run.fallback
            ));
        }
    }
    for (name, want) in &expect.vars {
        let got = run
            .vars
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str());
        if got != Some(want.as_str()) {
            problems.push(format!("var {name}: expected {want:?}, got {got:?}"));
        }
    }
    for (key, want) in &expect.kv {
        let got = run.kv.get(key);
        if got != Some(want) {
            problems.push(format!("kv {key}: expected {want:?}, got {got:?}"));
        }
    }
    for part in &expect.log_contains {
        if !run.log.iter().any(|l| l.message.contains(part.as_str())) {
            problems.push(format!("no plugin log line contains {part:?}"));
        }
    }
    if let Some(want) = &expect.transcript {
        let want = normalize(want);
        let got = normalize(&run.transcript);
        if want != got {
            problems.push(format!(
                "transcript differs (- expected, + actual):\n{}",
                diff(&want, &got)
            ));
        }
    }
    problems
}

fn normalize(text: &str) -> Vec<String> {
    let lines: Vec<String> = text.lines().map(|l| l.trim_end().to_string()).collect();
    let start = lines
        .iter()
        .position(|l| !l.is_empty())
        .unwrap_or(lines.len());
    let end = lines
        .iter()
        .rposition(|l| !l.is_empty())
        .map(|i| i + 1)
        .unwrap_or(start);
    lines[start..end].to_vec()
}

/// A line diff by longest common subsequence: ` ` kept, `-` expected only, `+` actual only.
pub fn diff(want: &[String], got: &[String]) -> String {
    let (n, m) = (want.len(), got.len());
    let mut lcs = vec![vec![0usize; m + 1]; n + 1];
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            lcs[i][j] = if want[i] == got[j] {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    let (mut i, mut j, mut out) = (0, 0, String::new());
    while i < n || j < m {
        if i < n && j < m && want[i] == got[j] {
            out.push_str(&format!("  {}\n", want[i]));
            i += 1;
            j += 1;
        } else if j < m && (i == n || lcs[i][j + 1] >= lcs[i + 1][j]) {
            out.push_str(&format!("+ {}\n", got[j]));
            j += 1;
        } else {
            out.push_str(&format!("- {}\n", want[i]));
            i += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diff_marks_changed_lines() {
        let a: Vec<String> = ["x", "y", "z"].iter().map(|s| s.to_string()).collect();
        let b: Vec<String> = ["x", "q", "z"].iter().map(|s| s.to_string()).collect();
        assert_eq!(diff(&a, &b), "  x\n+ q\n- y\n  z\n");
    }
}
