//! The agent-script world: a retail client's script guest (`tests/guests/script`) renders the
//! agent's screen from the call's info and variables and handles the form, in the same sandbox
//! as an IVR (CPU budget, memory cap, trap), directly on the host and through the entry point
//! the agent page calls ([`Plugins::render_screen`] / [`Plugins::submit_form`]), which loads only
//! a script the tenant can see and stores the script's log lines in the tenant's log.

mod common;

use std::sync::Arc;

use common::*;
use hotline_core::testing::TestDb;
use hotline_core::Backend;
use hotline_plugins::agent_script::{
    FieldKind, FieldValue, ScriptError, ScriptRequest, SubmitResult, Var, MAX_FORM_FIELDS,
};
use hotline_plugins::host::run::{render_screen, submit_form, ScriptCall};
use hotline_plugins::plugin_log::{LogFilter, LogSource};
use hotline_plugins::registry::{OwnerScope, Registry, UploadMeta};
use hotline_plugins::simulate::sim_http::SimHttpFetch;
use hotline_plugins::{HostConfig, PluginHost, Plugins, SandboxLimits};

fn var(name: &str, value: &str) -> Var {
    Var {
        name: name.into(),
        value: value.into(),
    }
}

fn script_call(vars: Vec<Var>, limits: SandboxLimits) -> ScriptCall {
    ScriptCall {
        info: call_info(&[]),
        vars,
        zone: chrono_tz::Europe::Bratislava,
        limits,
        services: offline_services(),
        call_id: None,
        log: None,
    }
}

#[tokio::test]
async fn the_screen_shows_the_call_and_the_form_is_checked() {
    let script = load("script");
    let report = render_screen(
        host(),
        &script,
        script_call(
            vec![var("customer", "Jana Novakova"), var("choice", "sales")],
            SandboxLimits::default(),
        ),
    )
    .await;
    let screen = report.result.expect("a screen");
    assert_eq!(screen.title, "main: order support");
    let facts: Vec<(&str, &str)> = screen
        .facts
        .iter()
        .map(|f| (f.label.as_str(), f.value.as_str()))
        .collect();
    assert_eq!(
        facts,
        vec![
            ("Caller", "+421900123456"),
            // The offline kv store starts empty: the first visit.
            ("Visits", "1"),
            ("customer", "Jana Novakova"),
            ("choice", "sales"),
        ]
    );
    let steps: Vec<&str> = screen.script.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(steps, vec!["greet", "order", "close"]);
    assert_eq!(screen.form.len(), 2);
    assert!(matches!(screen.form[0].kind, FieldKind::Number));
    assert!(screen.form[0].required);
    assert!(
        matches!(&screen.form[1].kind, FieldKind::Choice(options) if options == &["delivery", "refund"])
    );
    assert_eq!(screen.form[1].default_value.as_deref(), Some("delivery"));
    assert!(
        report
            .log
            .iter()
            .any(|l| l.source == LogSource::Plugin
                && l.message == "screen for +421900123456 (visit 1)"),
        "{:?}",
        report.log
    );

    let form = |order: &str| {
        vec![
            FieldValue {
                name: "order_number".into(),
                value: order.into(),
            },
            FieldValue {
                name: "reason".into(),
                value: "refund".into(),
            },
        ]
    };
    let accepted = submit_form(
        host(),
        &script,
        script_call(vec![], SandboxLimits::default()),
        form("4711"),
    )
    .await;
    match accepted.result.expect("an answer") {
        SubmitResult::Accepted(a) => {
            assert_eq!(a.disposition.as_deref(), Some("resolved"));
            assert_eq!(a.message.as_deref(), Some("order 4711 noted"));
            assert_eq!(
                a.vars
                    .iter()
                    .map(|v| (v.name.as_str(), v.value.as_str()))
                    .collect::<Vec<_>>(),
                vec![("order_number", "4711")]
            );
        }
        other => panic!("{other:?}"),
    }
    let rejected = submit_form(
        host(),
        &script,
        script_call(vec![], SandboxLimits::default()),
        form("47a"),
    )
    .await;
    match rejected.result.expect("an answer") {
        SubmitResult::Rejected(errors) => {
            assert_eq!(errors.len(), 1);
            assert_eq!(
                (errors[0].name.as_str(), errors[0].message.as_str()),
                ("order_number", "digits only")
            );
        }
        other => panic!("{other:?}"),
    }
}

/// A script that spins is stopped at its CPU budget, one that allocates without end at its
/// memory cap, one that traps with its panic message: each with the reason in its log, while
/// the agent's page gets an error instead of a screen.
#[tokio::test]
async fn the_sandbox_limits_apply_to_scripts() {
    let script = load("script");
    let cases = [
        ("spin", "cpu budget of 40 ms exhausted"),
        ("memory", "memory cap of 16 MiB reached"),
        ("trap", "the script was told to trap"),
    ];
    for (probe, want) in cases {
        let limits = SandboxLimits {
            memory_bytes: 16 << 20,
            ..SandboxLimits::for_tenant(40)
        };
        let started = std::time::Instant::now();
        let report = render_screen(
            host(),
            &script,
            script_call(vec![var("probe", probe)], limits.clone()),
        )
        .await;
        let reason = report.result.expect_err("no screen");
        assert!(reason.contains(want), "{probe}: {reason}");
        assert!(
            report
                .log
                .iter()
                .any(|l| l.source == LogSource::Host && l.message.contains(want)),
            "{probe}: {:?}",
            report.log
        );
        eprintln!("{probe}: stopped after {:?}", started.elapsed());
        // The submission is held to the same limits.
        let report = submit_form(
            host(),
            &script,
            script_call(vec![var("probe", probe)], limits),
            vec![],
        )
        .await;
        assert!(
            report.result.as_ref().is_err_and(|r| r.contains(want)),
            "{probe}: {:?}",
            report.result
        );
    }
}

fn plugins(db: &TestDb) -> Plugins {
    let host = Arc::new(
        PluginHost::new(HostConfig {
            pooling: false,
            ..HostConfig::default()
        })
        .expect("host"),
    );
    let registry = Registry::new(host, db.db.clone(), None, 16 << 20);
    Plugins::new(
        registry,
        db.db.clone(),
        Arc::new(SimHttpFetch { entries: vec![] }),
    )
}

fn request(plugin: &str, version: u32, vars: Vec<Var>) -> ScriptRequest {
    ScriptRequest {
        plugin: plugin.into(),
        version,
        info: call_info(&[]),
        vars,
        zone: chrono_tz::Europe::Bratislava,
        limits: SandboxLimits::for_tenant(50),
        call_id: Some(hotline_core::ids::CallId::new()),
    }
}

/// The agent page's entry point: the tenant's own script renders (its kv and log are the
/// tenant's), another tenant cannot run it, an IVR plugin is no script, oversized forms are
/// refused before the guest sees them.
async fn the_agent_page_runs_only_the_tenants_scripts(backend: Backend) {
    let db = TestDb::new(backend).await;
    let (a, b) = (tenant(&db, "a").await, tenant(&db, "b").await);
    let plugins = plugins(&db);
    let meta = |name| UploadMeta {
        name,
        author: "author@a.example",
        notes: "",
    };
    plugins
        .registry()
        .upload(OwnerScope::Tenant(&a), meta("retail"), guest("script"))
        .await
        .expect("upload the script");
    plugins
        .registry()
        .upload(OwnerScope::Tenant(&a), meta("menu"), guest("probe"))
        .await
        .expect("upload an IVR");

    for visit in 1..=2 {
        let screen = plugins
            .render_screen(&a, request("retail", 1, vec![]))
            .await
            .expect("a screen");
        assert!(
            screen
                .facts
                .iter()
                .any(|f| f.label == "Visits" && f.value == visit.to_string()),
            "{:?}",
            screen.facts
        );
    }
    // The tenant's own kv store counted them; its log holds the script's lines.
    let kv = plugins
        .kv()
        .get(&a, "visits:+421900123456")
        .await
        .expect("kv");
    assert_eq!(kv.as_deref(), Some("2"));
    let lines = plugins
        .log()
        .list(&a, &LogFilter::default())
        .await
        .expect("log");
    assert_eq!(
        lines
            .iter()
            .filter(|l| l.plugin == "retail" && l.message.starts_with("screen for"))
            .count(),
        2,
        "{lines:?}"
    );
    let failed = plugins
        .render_screen(&a, request("retail", 1, vec![var("probe", "trap")]))
        .await
        .expect_err("a trap");
    assert!(
        matches!(failed, ScriptError::Failed(ref r) if r.contains("trap")),
        "{failed}"
    );
    let lines = plugins
        .log()
        .list(&a, &LogFilter::default())
        .await
        .expect("log");
    assert!(
        lines
            .iter()
            .any(|l| l.source == LogSource::Host && l.message.contains("the agent script failed")),
        "{lines:?}"
    );

    // B cannot run A's script, nor does anything of it land in B's log or kv.
    let err = plugins
        .render_screen(&b, request("retail", 1, vec![]))
        .await
        .expect_err("not B's");
    assert!(matches!(err, ScriptError::NotFound { .. }), "{err}");
    let err = plugins
        .submit_form(&b, request("retail", 1, vec![]), vec![])
        .await
        .expect_err("not B's");
    assert!(matches!(err, ScriptError::NotFound { .. }), "{err}");
    assert!(plugins
        .log()
        .list(&b, &LogFilter::default())
        .await
        .expect("log")
        .is_empty());
    assert_eq!(
        plugins
            .kv()
            .get(&b, "visits:+421900123456")
            .await
            .expect("kv"),
        None
    );

    let err = plugins
        .render_screen(&a, request("menu", 1, vec![]))
        .await
        .expect_err("an IVR");
    assert!(matches!(err, ScriptError::NotAScript { .. }), "{err}");
    let err = plugins
        .render_screen(&a, request("retail", 2, vec![]))
        .await
        .expect_err("no version 2");
    assert!(
        matches!(err, ScriptError::NotFound { version: 2, .. }),
        "{err}"
    );
    let many: Vec<FieldValue> = (0..=MAX_FORM_FIELDS)
        .map(|i| FieldValue {
            name: format!("f{i}"),
            value: "x".into(),
        })
        .collect();
    let err = plugins
        .submit_form(&a, request("retail", 1, vec![]), many)
        .await
        .expect_err("too many fields");
    assert!(matches!(err, ScriptError::FormTooLarge { .. }), "{err}");
    match plugins
        .submit_form(
            &a,
            request("retail", 1, vec![]),
            vec![FieldValue {
                name: "order_number".into(),
                value: "12".into(),
            }],
        )
        .await
        .expect("an answer")
    {
        SubmitResult::Accepted(accepted) => {
            assert_eq!(accepted.message.as_deref(), Some("order 12 noted"))
        }
        other => panic!("{other:?}"),
    }
    db.finish().await;
}

hotline_core::both_backends!(the_agent_page_runs_only_the_tenants_scripts);
