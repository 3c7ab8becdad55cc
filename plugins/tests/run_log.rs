//! The host stores a run's plugin log itself, in the tenant's log: in one batch when the run
//! ends (a failing run's reason included), and from the run's drop when its caller cuts it off
//! mid-call (the caller hung up, the server stops), so a cancelled call loses nothing it logged.
//! Both backends.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::*;
use hotline_core::ids::CallId;
use hotline_core::testing::TestDb;
use hotline_core::{Backend, TenantScope};
use hotline_plugins::plugin_log::{LogFilter, LogLine, LogSink, LogSource, PluginLogStore};
use hotline_plugins::{run_ivr, IvrCall, SandboxLimits};
use tokio::sync::Notify;

fn call(vars: &[(&str, &str)], call_id: CallId, sink: LogSink, collecting: Arc<Notify>) -> IvrCall {
    IvrCall {
        info: call_info(vars),
        zone: chrono_tz::UTC,
        limits: SandboxLimits::for_tenant(50),
        control: Box::new(Parked { collecting }),
        services: offline_services(),
        call_id: Some(call_id),
        transcript: None,
        log: Some(sink),
    }
}

async fn lines_of(logs: &PluginLogStore, scope: &TenantScope, call_id: CallId) -> Vec<LogLine> {
    let filter = LogFilter {
        call_id: Some(call_id),
        ..LogFilter::default()
    };
    logs.list(scope, &filter).await.expect("read the log")
}

async fn a_failing_run_stores_its_reason(backend: Backend) {
    let db = TestDb::new(backend).await;
    let (a, b) = (tenant(&db, "a").await, tenant(&db, "b").await);
    let logs = PluginLogStore::new(db.db.clone());
    let call_id = CallId::new();
    let sink = LogSink::new(logs.clone(), a);
    let report = run_ivr(
        host(),
        &probe(),
        call(&[("probe", "trap")], call_id, sink, Arc::new(Notify::new())),
    )
    .await;
    assert!(report.fallback.is_some(), "{:?}", report.log);
    // Stored by the time the run returns, exactly the lines of the report (newest first; the
    // store keeps whole milliseconds).
    let stored = lines_of(&logs, &a, call_id).await;
    let key = |l: &LogLine| (l.id, l.source, l.message.clone());
    assert_eq!(
        stored.iter().map(key).collect::<Vec<_>>(),
        report.log.iter().rev().map(key).collect::<Vec<_>>()
    );
    let host_lines: Vec<&str> = stored
        .iter()
        .filter(|l| l.source == LogSource::Host)
        .map(|l| l.message.as_str())
        .collect();
    assert!(
        host_lines
            .iter()
            .any(|l| l.contains("trap") && l.contains("the hotline's fallback took the call")),
        "{host_lines:?}"
    );
    assert!(
        host_lines
            .iter()
            .any(|l| l.contains("the probe was told to trap")),
        "the guest's panic message is kept: {host_lines:?}"
    );
    assert!(lines_of(&logs, &b, call_id).await.is_empty());
    db.finish().await;
}

async fn a_run_cut_off_mid_call_keeps_its_lines(backend: Backend) {
    let db = TestDb::new(backend).await;
    let a = tenant(&db, "a").await;
    let logs = PluginLogStore::new(db.db.clone());
    for how in ["aborted task", "timed out"] {
        let call_id = CallId::new();
        let collecting = Arc::new(Notify::new());
        let run = call(
            &[("probe", "log-then-wait")],
            call_id,
            LogSink::new(logs.clone(), a),
            collecting.clone(),
        );
        let plugin = probe();
        match how {
            "aborted task" => {
                let task = tokio::spawn(async move { run_ivr(host(), &plugin, run).await });
                collecting.notified().await;
                task.abort();
                assert!(task.await.is_err_and(|e| e.is_cancelled()));
            }
            _ => {
                let cut =
                    tokio::time::timeout(Duration::from_millis(300), run_ivr(host(), &plugin, run))
                        .await;
                assert!(cut.is_err(), "the parked call cannot end by itself");
            }
        }
        // The drop spawned the write; it lands shortly.
        let mut stored = Vec::new();
        for _ in 0..200 {
            stored = lines_of(&logs, &a, call_id).await;
            if stored.len() >= 2 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        let messages: Vec<(LogSource, &str)> = stored
            .iter()
            .rev()
            .map(|l| (l.source, l.message.as_str()))
            .collect();
        assert_eq!(messages.len(), 2, "{how}: {messages:?}");
        assert_eq!(
            messages[0],
            (LogSource::Plugin, "waiting for the caller's choice"),
            "{how}"
        );
        assert_eq!(messages[1].0, LogSource::Host, "{how}");
        assert!(messages[1].1.contains("cut off"), "{how}: {messages:?}");
    }
    db.finish().await;
}

hotline_core::both_backends!(
    a_failing_run_stores_its_reason,
    a_run_cut_off_mid_call_keeps_its_lines,
);
