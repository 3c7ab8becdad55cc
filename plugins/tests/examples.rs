//! The example plugins (`plugins/examples/<name>/{rust,python,js}`), built by
//! `plugins/build.sh` into `target/plugins/<name>-<lang>.wasm`: each of the fifteen components
//! is uploaded through the registry into a tenant (validation, world and precompilation for all
//! three languages), loaded back as a live call would load it, and run against its example's
//! one `scenarios.toml`, and the Python and JavaScript builds must then do exactly what the
//! Rust build does in every case (the same transcript line for line; the same screen, answer
//! and stored data): that is what shows the three SDKs are equivalent.
//!
//! IVR examples use the simulator's scenario format (`plugins/SCENARIOS.md`). The agent-script
//! example uses the format described in `plugins/examples/README.md`, run here through
//! `render_screen` / `submit_form` with the simulator's in-memory kv store.
//!
//! A missing component fails with "run plugins/build.sh": nothing here is ever skipped.

mod common;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use hotline_core::testing::TestDb;
use hotline_core::Backend;
use hotline_plugins::agent_script::{FieldKind, FieldValue, Screen, SubmitResult, Var};
use hotline_plugins::bindings::ivr::hotline::plugin::types::{CallInfo, ScheduleBranch};
use hotline_plugins::host::run::{render_screen, submit_form, ScriptCall};
use hotline_plugins::http_client::Allowlist;
use hotline_plugins::kv::MemoryKv;
use hotline_plugins::registry::{OwnerScope, Registry, UploadMeta, VersionInfo};
use hotline_plugins::simulate::scenario::parse_local;
use hotline_plugins::simulate::sim_http::SimHttpFetch;
use hotline_plugins::simulate::{check, run_scene, ScenarioFile};
use hotline_plugins::{
    local_time, CallServices, HostConfig, LoadedPlugin, PluginHost, SandboxLimits, World,
};
use serde::Deserialize;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("plugins/ sits in the repository")
        .to_path_buf()
}

/// A built example. Missing ones fail loudly: the examples are never skipped.
fn component(example: &str, lang: &str) -> Vec<u8> {
    let path = repo()
        .join("target/plugins")
        .join(format!("{example}-{lang}.wasm"));
    std::fs::read(&path).unwrap_or_else(|e| {
        panic!(
            "example component {} is missing ({e}): run plugins/build.sh (scripts/test.sh does)",
            path.display()
        )
    })
}

fn scenarios(example: &str) -> String {
    let path = repo()
        .join("plugins/examples")
        .join(example)
        .join("scenarios.toml");
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

/// The CPU budget the example runs get. The scenario files keep the tenant default (50 ms, what
/// an author running `hotline plugin test` alone should see), but here other tests compile
/// 18 MB Python components meanwhile with wasmtime's parallel compiler on both cores, and a
/// guest sharing its core with a compiler runs slower and is charged the ticks it ran. The
/// budget itself is the sandbox tests' subject, not these.
const TEST_CPU_BUDGET_MS: u32 = 5_000;

/// One engine for the test binary, sized for a few Python guests at once.
fn host() -> Arc<PluginHost> {
    static HOST: OnceLock<Arc<PluginHost>> = OnceLock::new();
    HOST.get_or_init(|| {
        Arc::new(
            PluginHost::new(HostConfig {
                max_concurrent_calls: 16,
                total_core_instances: 800,
                total_memories: 128,
                ..HostConfig::default()
            })
            .expect("a plugin host"),
        )
    })
    .clone()
}

/// Upload a component as plugin `name` into a fresh tenant and load it back as a call would.
async fn upload_and_load(bytes: Vec<u8>, name: &str, notes: &str) -> (VersionInfo, LoadedPlugin) {
    let db = TestDb::new(Backend::Sqlite).await;
    let scope = common::tenant(&db, "examples").await;
    let registry = Registry::new(host(), db.db.clone(), None, 64 << 20);
    let meta = UploadMeta {
        name,
        author: "examples",
        notes,
    };
    let info = registry
        .upload(OwnerScope::Tenant(&scope), meta, bytes)
        .await
        .unwrap_or_else(|e| panic!("{name} ({notes}) refused at upload: {e}"));
    let plugin = registry
        .load(&scope, name, info.version)
        .await
        .unwrap_or_else(|e| panic!("{name} ({notes}) does not load: {e}"));
    (info, plugin)
}

/// Upload an example, check its world and imports, and load it back.
async fn uploaded(example: &str, lang: &str, world: World) -> LoadedPlugin {
    let (info, plugin) = upload_and_load(component(example, lang), example, lang).await;
    assert_eq!(
        info.world, world,
        "{example} ({lang}) targets the wrong world"
    );
    let imports = info.imports.join(", ");
    assert!(
        info.imports.iter().all(|i| i.starts_with("hotline:plugin/")
            || i.starts_with("wasi:cli/")
            || i.starts_with("wasi:io/")
            || i.starts_with("wasi:clocks/")
            || i.starts_with("wasi:random/")
            || i.starts_with("wasi:filesystem/")
            || i.starts_with("wasi:sockets/")),
        "{example} ({lang}) imports {imports}"
    );
    if world == World::AgentScript {
        assert!(
            !info
                .imports
                .iter()
                .any(|i| i.starts_with("hotline:plugin/call@")),
            "an agent script must not import call control: {imports}"
        );
    }
    plugin
}

/// What one implementation did in each case: its transcript (IVR) or its screen and answers
/// (agent script), to hold the three languages against each other.
type Observed = Vec<(String, String)>;

/// The Rust build is the reference the other languages must match case by case (it is cheap to
/// run again in each test: a 70 KB component compiles in milliseconds).
async fn same_as_rust(example: &str, lang: &str, observed: &Observed, world: World) {
    if lang == "rust" {
        return;
    }
    let reference = match world {
        World::Ivr => run_ivr_cases(example, "rust").await.0,
        World::AgentScript => run_script_cases(example, "rust").await.0,
    };
    let mut differ = Vec::new();
    for ((case, want), (_, got)) in reference.iter().zip(observed) {
        if want != got {
            let want: Vec<String> = want.lines().map(String::from).collect();
            let got: Vec<String> = got.lines().map(String::from).collect();
            differ.push(format!(
                "case {case:?} (- rust, + {lang}):\n{}",
                hotline_plugins::simulate::diff(&want, &got)
            ));
        }
    }
    assert_eq!(reference.len(), observed.len());
    assert!(
        differ.is_empty(),
        "{example}: the {lang} build does not do what the Rust build does:\n{}",
        differ.join("\n")
    );
}

async fn run_ivr_cases(example: &str, lang: &str) -> (Observed, Vec<String>) {
    let plugin = uploaded(example, lang, World::Ivr).await;
    let file = ScenarioFile::parse(&scenarios(example)).expect("a scenario file");
    let scenes = file.scenes().expect("scenes");
    assert!(scenes.len() >= 5, "{example} has too few cases");
    let (mut observed, mut failures) = (Vec::new(), Vec::new());
    for mut scene in scenes {
        scene.cpu_budget_ms = scene.cpu_budget_ms.max(TEST_CPU_BUDGET_MS);
        let run = run_scene(&host(), &plugin, &scene).await;
        let problems = check(&scene.expect, &run);
        if !problems.is_empty() {
            failures.push(format!(
                "case {:?}:\n{}\ntranscript:\n{}",
                scene.name,
                problems.join("\n"),
                run.transcript
            ));
        }
        observed.push((scene.name.clone(), run.transcript));
    }
    (observed, failures)
}

async fn ivr_example(example: &str, lang: &str) {
    let (observed, failures) = run_ivr_cases(example, lang).await;
    assert!(
        failures.is_empty(),
        "{example} ({lang}) failed {} of {} cases:\n{}",
        failures.len(),
        observed.len(),
        failures.join("\n")
    );
    same_as_rust(example, lang, &observed, World::Ivr).await;
}

// ---- agent-script scenarios ---------------------------------------------------------------

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ScriptFile {
    caller: String,
    dialed: String,
    hotline: String,
    at: String,
    time_zone: String,
    #[serde(default)]
    kv: BTreeMap<String, String>,
    #[serde(default)]
    vars: BTreeMap<String, String>,
    #[serde(rename = "case")]
    cases: Vec<ScriptCase>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ScriptCase {
    name: String,
    vars: Option<BTreeMap<String, String>>,
    kv: Option<BTreeMap<String, String>>,
    submit: Option<BTreeMap<String, String>>,
    expect: ScriptExpect,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ScriptExpect {
    /// The screen as [`screen_text`] writes it.
    screen: Option<String>,
    /// `accepted` or `rejected`.
    result: Option<String>,
    #[serde(default)]
    vars: BTreeMap<String, String>,
    disposition: Option<String>,
    message: Option<String>,
    /// Exactly these field errors (name = message).
    errors: Option<BTreeMap<String, String>>,
    #[serde(default)]
    kv: BTreeMap<String, String>,
    #[serde(default)]
    kv_absent: Vec<String>,
}

/// One line per title, fact, step and field, in the screen's order.
fn screen_text(screen: &Screen) -> String {
    let quote = |s: &str| serde_json::to_string(s).unwrap_or_default();
    let mut out = vec![format!("title  {}", screen.title)];
    for fact in &screen.facts {
        out.push(format!("fact   {}: {}", fact.label, fact.value));
    }
    for step in &screen.script {
        out.push(format!(
            "step   {} ({}) {}",
            step.id,
            step.title,
            quote(&step.text)
        ));
    }
    for field in &screen.form {
        let mut kind = match &field.kind {
            FieldKind::Text => "text".to_string(),
            FieldKind::Multiline => "multiline".into(),
            FieldKind::Number => "number".into(),
            FieldKind::Choice(options) => format!("choice [{}]", options.join(", ")),
            FieldKind::Checkbox => "checkbox".into(),
        };
        if field.required {
            kind.push_str(", required");
        }
        if let Some(default) = &field.default_value {
            kind.push_str(&format!(", default {}", quote(default)));
        }
        out.push(format!(
            "field  {} ({kind}) {}",
            field.name,
            quote(&field.label)
        ));
    }
    out.join("\n")
}

fn trimmed(text: &str) -> String {
    text.trim()
        .lines()
        .map(str::trim_end)
        .collect::<Vec<_>>()
        .join("\n")
}

async fn script_example(example: &str, lang: &str) {
    let (observed, failures) = run_script_cases(example, lang).await;
    assert!(
        failures.is_empty(),
        "{example} ({lang}):\n{}",
        failures.join("\n")
    );
    same_as_rust(example, lang, &observed, World::AgentScript).await;
}

async fn run_script_cases(example: &str, lang: &str) -> (Observed, Vec<String>) {
    let plugin = uploaded(example, lang, World::AgentScript).await;
    let file: ScriptFile = toml::from_str(&scenarios(example)).expect("an agent-script scenario");
    let zone: chrono_tz::Tz = file.time_zone.parse().expect("a time zone");
    let at = parse_local(&file.at, zone).expect("a time");
    let (mut observed, mut failures) = (Vec::new(), Vec::new());
    for case in &file.cases {
        let vars: Vec<Var> = case
            .vars
            .as_ref()
            .unwrap_or(&file.vars)
            .iter()
            .map(|(name, value)| Var {
                name: name.clone(),
                value: value.clone(),
            })
            .collect();
        let info = CallInfo {
            call_id: hotline_core::ids::CallId::new().to_string(),
            hotline_id: uuid::Uuid::nil().to_string(),
            hotline_name: file.hotline.clone(),
            caller: file.caller.clone(),
            dialed: file.dialed.clone(),
            language: "en".into(),
            arrived_at: local_time(at, zone),
            branch: ScheduleBranch::Open,
            vars: vars.clone(),
        };
        let kv = Arc::new(MemoryKv::new(
            case.kv.clone().unwrap_or_else(|| file.kv.clone()),
        ));
        let call = ScriptCall {
            info,
            vars,
            zone,
            limits: SandboxLimits {
                cpu_budget: std::time::Duration::from_millis(TEST_CPU_BUDGET_MS.into()),
                ..SandboxLimits::default()
            },
            services: CallServices {
                kv: kv.clone(),
                http: Arc::new(SimHttpFetch { entries: vec![] }),
                allow: Allowlist::default(),
            },
            call_id: None,
            log: None,
        };
        let mut problems = Vec::new();
        let want = &case.expect;
        let mut seen = String::new();
        match &case.submit {
            None => match render_screen(&host(), &plugin, call).await.result {
                Ok(screen) => {
                    seen = screen_text(&screen);
                    if let Some(expected) = &want.screen {
                        let got = screen_text(&screen);
                        if trimmed(expected) != got {
                            problems.push(format!("screen differs; got:\n{got}"));
                        }
                    }
                }
                Err(reason) => problems.push(format!("render failed: {reason}")),
            },
            Some(form) => {
                let form = form
                    .iter()
                    .map(|(name, value)| FieldValue {
                        name: name.clone(),
                        value: value.clone(),
                    })
                    .collect();
                let answer = submit_form(&host(), &plugin, call, form).await.result;
                if let Ok(answer) = &answer {
                    seen = format!("{answer:#?}");
                }
                match answer {
                    Ok(SubmitResult::Accepted(accepted)) => {
                        if want.result.as_deref() != Some("accepted") {
                            problems.push(format!("accepted, expected {:?}", want.result));
                        }
                        for (name, value) in &want.vars {
                            let got = accepted.vars.iter().find(|v| &v.name == name);
                            if got.map(|v| &v.value) != Some(value) {
                                problems
                                    .push(format!("var {name}: expected {value:?}, got {got:?}"));
                            }
                        }
                        if want.disposition.is_some() && want.disposition != accepted.disposition {
                            problems.push(format!("disposition {:?}", accepted.disposition));
                        }
                        if want.message.is_some() && want.message != accepted.message {
                            problems.push(format!("message {:?}", accepted.message));
                        }
                    }
                    Ok(SubmitResult::Rejected(errors)) => {
                        if want.result.as_deref() != Some("rejected") {
                            problems
                                .push(format!("rejected ({errors:?}), expected {:?}", want.result));
                        }
                        let got: BTreeMap<String, String> =
                            errors.into_iter().map(|e| (e.name, e.message)).collect();
                        if let Some(expected) = &want.errors {
                            if expected != &got {
                                problems.push(format!("errors {got:?}"));
                            }
                        }
                    }
                    Err(reason) => problems.push(format!("submit failed: {reason}")),
                }
            }
        }
        let stored = kv.snapshot();
        seen.push_str(&format!("\nkv {stored:#?}"));
        observed.push((case.name.clone(), seen));
        for (key, value) in &want.kv {
            if stored.get(key) != Some(value) {
                problems.push(format!(
                    "kv {key}: expected {value:?}, got {:?}",
                    stored.get(key)
                ));
            }
        }
        for key in &want.kv_absent {
            if stored.contains_key(key) {
                problems.push(format!("kv {key} should not be set"));
            }
        }
        if !problems.is_empty() {
            failures.push(format!("case {:?}: {}", case.name, problems.join("; ")));
        }
    }
    (observed, failures)
}

/// The registry accepts the `wasi:sockets` imports every componentize-py guest carries; the
/// host must still refuse every socket. The probe tries TCP, name lookup, listening and UDP
/// (on loopback only) and reports what the runtime raised.
#[tokio::test]
async fn python_guests_get_no_sockets() {
    let (info, plugin) = upload_and_load(
        component("probe", "python-sockets"),
        "socket-probe",
        "python",
    )
    .await;
    assert!(info
        .imports
        .iter()
        .any(|i| i.starts_with("wasi:sockets/tcp-create-socket@")));
    let scene = common::scene(&format!(
        "cpu_budget_ms = {TEST_CPU_BUDGET_MS}\n[[case]]\nname = \"sockets\"\n"
    ));
    let run = run_scene(&host(), &plugin, &scene).await;
    let sockets = run
        .vars
        .iter()
        .find(|(name, _)| name == "sockets")
        .map(|(_, value)| value.as_str());
    assert_eq!(
        sockets,
        Some(
            "connect: refused (PermissionError); resolve: refused (gaierror); \
             listen: refused (PermissionError); udp: refused (PermissionError)"
        ),
        "{}",
        run.transcript
    );
    assert_eq!(run.outcome, "self-served");
}

macro_rules! examples {
    ($($test:ident: $kind:ident($example:literal, $lang:literal);)*) => {$(
        #[tokio::test]
        async fn $test() {
            $kind($example, $lang).await;
        }
    )*};
}

examples! {
    language_menu_rust: ivr_example("language-menu", "rust");
    language_menu_python: ivr_example("language-menu", "python");
    language_menu_js: ivr_example("language-menu", "js");
    business_hours_rust: ivr_example("business-hours", "rust");
    business_hours_python: ivr_example("business-hours", "python");
    business_hours_js: ivr_example("business-hours", "js");
    crm_lookup_rust: ivr_example("crm-lookup", "rust");
    crm_lookup_python: ivr_example("crm-lookup", "python");
    crm_lookup_js: ivr_example("crm-lookup", "js");
    satisfaction_survey_rust: ivr_example("satisfaction-survey", "rust");
    satisfaction_survey_python: ivr_example("satisfaction-survey", "python");
    satisfaction_survey_js: ivr_example("satisfaction-survey", "js");
    retail_agent_script_rust: script_example("retail-agent-script", "rust");
    retail_agent_script_python: script_example("retail-agent-script", "python");
    retail_agent_script_js: script_example("retail-agent-script", "js");
    sdk_tour_rust: ivr_example("sdk-tour", "rust");
    sdk_tour_python: ivr_example("sdk-tour", "python");
    sdk_tour_js: ivr_example("sdk-tour", "js");
}
