//! The sandbox against purpose-built guests (`tests/guests/probe`): each misbehaviour is stopped
//! and ends in the hotline's fallback with the reason the tenant reads in its plugin log, while
//! well-behaved calls go on.
//!
//! Time here is the simulator's call clock unless a test says otherwise: a 30 s wait for keys is
//! 30 s of call time, run in microseconds; CPU budgets are real CPU.

mod common;

use std::time::{Duration, Instant};

use common::*;
use hotline_plugins::plugin_log::LogSource;
use hotline_plugins::simulate::run_scene;

fn var<'a>(run: &'a hotline_plugins::simulate::CaseRun, name: &str) -> &'a str {
    run.vars
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
        .unwrap_or_else(|| panic!("no var {name} in {:?}", run.vars))
}

fn host_log(run: &hotline_plugins::simulate::CaseRun) -> Vec<String> {
    run.log
        .iter()
        .filter(|l| l.source == LogSource::Host)
        .map(|l| l.message.clone())
        .collect()
}

#[tokio::test]
async fn a_menu_call_runs_to_its_queue() {
    let plugin = probe();
    let scene = scene(
        r#"
caller = "+421900123456"
dialed = "+421233000111"
at = "2026-12-31T23:00"
time_zone = "Europe/Bratislava"
digits = "1"
[prompts]
welcome = 3000
menu = 4000
[[queues]]
name = "sales"
position = 3
estimated_wait_seconds = 120
[[case]]
name = "sales"
"#,
    );
    let run = run_scene(host(), &plugin, &scene).await;
    assert_eq!(run.outcome, "operator", "{}", run.transcript);
    assert_eq!(var(&run, "choice"), "sales");
    assert_eq!(var(&run, "hour"), "23");
    assert_eq!(
        run.kv.get("calls:+421900123456").map(String::as_str),
        Some("1")
    );
    let want = "\
00:00.000  call      +421900123456 -> +421233000111, hotline main (open), Thu 2026-12-31 23:00 Europe/Bratislava
00:00.000  set-var   hour = 23
00:00.000  kv        increment calls:+421900123456 by 1 -> 1
00:00.000  play      welcome (3.000 s)
00:03.000  collect   max 1, prompt menu, retries 1
00:03.000  play      menu (4.000 s), barge-in
00:03.200  caller    presses 1
00:03.200  collect   -> \"1\" (max-digits, attempt 1)
00:03.200  log       info caller chose \"1\"
00:03.200  set-var   choice = sales
00:03.200  enqueue   sales priority 0 skills [] -> position 3, about 120 s
00:03.200  outcome   operator
";
    assert_eq!(run.transcript, want);
}

#[tokio::test]
async fn a_silent_caller_is_asked_again_then_falls_back() {
    let plugin = probe();
    let run = run_scene(
        host(),
        &plugin,
        &scene("digits = \"\"\n[[case]]\nname = \"silent\"\n"),
    )
    .await;
    assert_eq!(run.outcome, "fallback");
    assert_eq!(run.fallback.as_deref(), Some("no input"));
    assert!(
        run.transcript.contains("(no-input, attempt 2)"),
        "{}",
        run.transcript
    );
    assert!(host_log(&run)
        .iter()
        .any(|l| l.contains("no input") && l.contains("fallback")));
}

/// An infinite loop is stopped near its budget, and on the same single thread other tenants'
/// calls keep running meanwhile (the loop yields every tick): they all finish before the loop is
/// stopped. Latencies are printed, not asserted.
#[tokio::test(flavor = "current_thread")]
async fn an_infinite_loop_is_stopped_near_its_budget_while_other_calls_run() {
    let plugin = probe();
    let spinner =
        scene("cpu_budget_ms = 300\nvars = { probe = \"spin\" }\n[[case]]\nname = \"spin\"\n");
    let caller = scene("digits = \"1\"\n[[queues]]\nname = \"sales\"\n[[case]]\nname = \"menu\"\n");
    let started = Instant::now();
    let spin = async {
        let run = run_scene(host(), &plugin, &spinner).await;
        (run, started.elapsed())
    };
    let others = async {
        let mut latencies = Vec::new();
        let mut finished_at = Duration::ZERO;
        for _ in 0..20 {
            let t = Instant::now();
            let run = run_scene(host(), &plugin, &caller).await;
            assert_eq!(run.outcome, "operator", "{}", run.transcript);
            latencies.push(t.elapsed());
            finished_at = started.elapsed();
        }
        (latencies, finished_at)
    };
    let ((run, spin_ended), (mut latencies, others_ended)) = tokio::join!(spin, others);
    assert_eq!(run.outcome, "fallback");
    let reason = run.fallback.clone().unwrap_or_default();
    assert_eq!(reason, "cpu budget of 300 ms exhausted");
    assert!(
        host_log(&run)
            .iter()
            .any(|l| l.contains("cpu budget of 300 ms exhausted")),
        "{:?}",
        run.log
    );
    assert!(
        others_ended < spin_ended,
        "the other calls ({others_ended:?}) finished only after the loop was stopped ({spin_ended:?})"
    );
    latencies.sort();
    eprintln!(
        "spinner stopped after {spin_ended:?}; 20 other calls meanwhile: median {:?}, max {:?}",
        latencies[10], latencies[19]
    );
}

/// A caller who takes 30 s (call clock) to press a key, on a 50 ms budget: waiting is not CPU.
#[tokio::test]
async fn waiting_thirty_seconds_for_digits_on_a_50_ms_budget_is_not_killed() {
    let plugin = probe();
    let run = run_scene(
        host(),
        &plugin,
        &scene(
            "cpu_budget_ms = 50\nvars = { probe = \"wait\", wait_ms = \"30000\" }\nkeys = [{ at_ms = 30000, key = \"7\" }]\n[[case]]\nname = \"wait\"\n",
        ),
    )
    .await;
    assert_eq!(run.outcome, "self-served", "{}", run.transcript);
    assert_eq!(var(&run, "digits"), "7");
    assert!(
        run.transcript.contains("00:30.000  caller    presses 7"),
        "{}",
        run.transcript
    );
}

/// The same on the wall clock: a call control that really sleeps 2 s while the guest waits,
/// with a 20 ms budget. A plain epoch deadline would have killed it 100 times over.
#[tokio::test]
async fn waiting_on_the_wall_clock_is_not_charged_either() {
    use std::sync::Arc;

    use async_trait::async_trait;
    use hotline_plugins::call_control::*;
    use hotline_plugins::host::CallServices;
    use hotline_plugins::http_client::Allowlist;
    use hotline_plugins::kv::MemoryKv;
    use hotline_plugins::simulate::sim_http::SimHttpFetch;

    struct Sleepy;
    #[async_trait]
    impl CallControl for Sleepy {
        async fn answer(&mut self) -> Result<(), CallError> {
            Ok(())
        }
        async fn play(&mut self, _: &Prompt, _: &PlayOptions) -> Result<Option<char>, CallError> {
            Ok(None)
        }
        async fn collect(&mut self, _: &CollectOptions) -> Result<Collected, CallError> {
            tokio::time::sleep(Duration::from_secs(2)).await;
            Ok(Collected {
                digits: "5".into(),
                terminator: None,
                end: CollectEnd::MaxDigits,
                attempts: 1,
            })
        }
        async fn say_digits(&mut self, _: &str) -> Result<(), CallError> {
            Ok(())
        }
        async fn say_number(&mut self, _: i64) -> Result<(), CallError> {
            Ok(())
        }
        async fn record_voicemail(&mut self, _: &VoicemailOptions) -> Result<Voicemail, CallError> {
            Err(CallError::Unavailable("no".into()))
        }
        async fn enqueue(&mut self, _: &str, _: &EnqueueOptions) -> Result<QueueTicket, CallError> {
            Err(CallError::UnknownQueue("x".into()))
        }
        async fn transfer(&mut self, _: &TransferTarget) -> Result<(), CallError> {
            Ok(())
        }
        async fn offer_callback(
            &mut self,
            _: &CallbackOptions,
        ) -> Result<CallbackDecision, CallError> {
            Ok(CallbackDecision::Declined)
        }
        async fn hangup(&mut self, _: HangupCause) -> Result<(), CallError> {
            Ok(())
        }
        fn now(&self) -> chrono::DateTime<chrono::Utc> {
            chrono::Utc::now()
        }
    }

    let plugin = probe();
    let scene = scene("vars = { probe = \"wait\", wait_ms = \"2000\" }\n[[case]]\nname = \"x\"\n");
    let info = hotline_plugins::bindings::ivr::hotline::plugin::types::CallInfo {
        call_id: "c".into(),
        hotline_id: "h".into(),
        hotline_name: "main".into(),
        caller: scene.caller.clone(),
        dialed: scene.dialed.clone(),
        language: "en".into(),
        arrived_at: hotline_plugins::local_time(chrono::Utc::now(), chrono_tz::UTC),
        branch: hotline_plugins::bindings::ivr::hotline::plugin::types::ScheduleBranch::Open,
        vars: vec![
            hotline_plugins::bindings::ivr::hotline::plugin::types::Var {
                name: "probe".into(),
                value: "wait".into(),
            },
        ],
    };
    let started = Instant::now();
    let report = hotline_plugins::run_ivr(
        host(),
        &plugin,
        hotline_plugins::IvrCall {
            info,
            zone: chrono_tz::UTC,
            limits: hotline_plugins::SandboxLimits::for_tenant(20),
            control: Box::new(Sleepy),
            services: CallServices {
                kv: Arc::new(MemoryKv::default()),
                http: Arc::new(SimHttpFetch { entries: vec![] }),
                allow: Allowlist::default(),
            },
            call_id: None,
            transcript: None,
            log: None,
        },
    )
    .await;
    assert!(started.elapsed() >= Duration::from_secs(2));
    assert_eq!(report.fallback, None, "{:?}", report.log);
    assert_eq!(report.outcome, hotline_core::call::IvrOutcome::SelfServed);
    assert!(
        report.cpu < Duration::from_millis(20),
        "charged {:?}",
        report.cpu
    );
}

#[tokio::test]
async fn a_memory_bomb_is_stopped_at_the_cap() {
    let plugin = probe();
    let run = run_scene(
        host(),
        &plugin,
        &scene("memory_mib = 16\ncpu_budget_ms = 5000\nvars = { probe = \"memory\" }\n[[case]]\nname = \"bomb\"\n"),
    )
    .await;
    assert_eq!(run.outcome, "fallback");
    assert_eq!(
        run.fallback.as_deref(),
        Some("memory cap of 16 MiB reached"),
        "{:?}",
        run.log
    );
    assert!(host_log(&run)
        .iter()
        .any(|l| l.contains("memory cap of 16 MiB reached")));
}

#[tokio::test]
async fn a_host_call_flood_is_throttled() {
    let plugin = probe();
    let run = run_scene(
        host(),
        &plugin,
        &scene("cpu_budget_ms = 5000\nvars = { probe = \"flood\" }\n[[case]]\nname = \"flood\"\n"),
    )
    .await;
    assert_eq!(run.outcome, "self-served", "{:?}", run.fallback);
    let ok: u32 = var(&run, "ok").parse().expect("count");
    let limited: u32 = var(&run, "limited").parse().expect("count");
    // No call time passes in the loop, so only the burst (200) gets through.
    assert!(ok <= 200, "{ok} calls got through");
    assert_eq!(ok + limited, 20_000);
    assert!(
        host_log(&run)
            .iter()
            .any(|l| l.contains("host-call rate cap hit")),
        "{:?}",
        run.log
    );
}

#[tokio::test]
async fn oversized_log_kv_and_http_output_is_refused() {
    let plugin = probe();
    let big = "x".repeat(300 * 1024);
    let text = format!(
        "allow_hosts = [\"crm.example.com\"]\nvars = {{ probe = \"oversized\", big_url = \"https://crm.example.com/big\" }}\n[[http]]\nmethod = \"GET\"\nurl = \"https://crm.example.com/big\"\nbody = \"{big}\"\n[[case]]\nname = \"big\"\n"
    );
    let run = run_scene(host(), &plugin, &scene(&text)).await;
    assert_eq!(run.outcome, "self-served", "{:?}", run.fallback);
    assert_eq!(var(&run, "log_long"), "Err(LogError::TooLong(2048))");
    assert_eq!(var(&run, "log_lines"), "8");
    assert_eq!(var(&run, "log_budget"), "LogError::BudgetExhausted(16384)");
    assert_eq!(var(&run, "kv_big"), "Err(KvError::ValueTooLarge(65536))");
    assert_eq!(var(&run, "http_big"), "HttpError::ResponseTooLarge(262144)");
    assert_eq!(
        var(&run, "http_forbidden"),
        "Err(HttpError::HostNotAllowed(\"forbidden.example\"))"
    );
    let host_lines = host_log(&run);
    for want in [
        "further lines were dropped",
        "value-too-large",
        "response-too-large",
        "host-not-allowed",
    ] {
        assert!(
            host_lines.iter().any(|l| l.contains(want)),
            "{want}: {host_lines:?}"
        );
    }
}

#[tokio::test]
async fn a_trap_and_a_dishonest_outcome_fall_back_with_the_reason() {
    let plugin = probe();
    let trap = run_scene(
        host(),
        &plugin,
        &scene("vars = { probe = \"trap\" }\n[[case]]\nname = \"t\"\n"),
    )
    .await;
    assert_eq!(trap.outcome, "fallback");
    let reason = trap.fallback.clone().unwrap_or_default();
    assert!(reason.starts_with("trap: "), "{reason}");
    assert!(
        reason.contains("the probe was told to trap"),
        "the panic message is kept: {reason}"
    );
    let liar = run_scene(
        host(),
        &plugin,
        &scene("vars = { probe = \"dishonest\" }\n[[case]]\nname = \"d\"\n"),
    )
    .await;
    assert_eq!(liar.outcome, "fallback");
    assert!(liar
        .fallback
        .as_deref()
        .is_some_and(|r| r.contains("never enqueued or transferred")));
}
