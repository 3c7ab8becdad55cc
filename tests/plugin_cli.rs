//! `hotline plugin test` and `hotline plugin upload` end to end, on the built binary with the
//! plugin sandbox's probe guest (built by plugins/tests/guests/build.sh, which the test
//! command runs first).

use std::path::PathBuf;
use std::process::Command;

fn probe() -> PathBuf {
    let path: PathBuf = [
        env!("CARGO_MANIFEST_DIR"),
        "plugins",
        "tests",
        "guests",
        "out",
        "probe.wasm",
    ]
    .iter()
    .collect();
    assert!(
        path.is_file(),
        "run plugins/tests/guests/build.sh first: {} is missing",
        path.display()
    );
    path
}

fn hotline() -> Command {
    Command::new(env!("CARGO_BIN_EXE_hotline"))
}

#[test]
fn plugin_test_prints_the_call_and_checks_scenarios() {
    let out = hotline()
        .args(["plugin", "test"])
        .arg(probe())
        .args([
            "--caller",
            "+421900123456",
            "--dialed",
            "+421233000111",
            "--digits",
            "1",
            "--at",
            "2026-12-31T23:00",
            "--time-zone",
            "Europe/Bratislava",
        ])
        .output()
        .expect("run hotline");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.starts_with("00:00.000  call      +421900123456 -> +421233000111, hotline main (open), Thu 2026-12-31 23:00 Europe/Bratislava"), "{stdout}");
    assert!(
        stdout.contains("outcome   fallback: enqueue failed: CallError::UnknownQueue(\"sales\")"),
        "{stdout}"
    );

    let dir = tempfile::tempdir().expect("dir");
    let scenario = dir.path().join("menu.toml");
    std::fs::write(
        &scenario,
        r#"
at = "2026-12-31T23:00"
[[queues]]
name = "sales"
[[case]]
name = "sales"
digits = "1"
[case.expect]
outcome = "operator"
vars = { choice = "sales" }
[[case]]
name = "wrong on purpose"
digits = "2"
[case.expect]
outcome = "self-served"
transcript = """
00:00.000  call      nobody
"""
"#,
    )
    .expect("write the scenario");
    let out = hotline()
        .args(["plugin", "test"])
        .arg(probe())
        .arg("--scenario")
        .arg(&scenario)
        .output()
        .expect("run");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("ok      sales"), "{stdout}");
    assert!(stdout.contains("FAILED  wrong on purpose"), "{stdout}");
    assert!(
        stdout.contains("outcome: expected self-served, got fallback"),
        "{stdout}"
    );
    assert!(stdout.contains("- 00:00.000  call      nobody"), "{stdout}");
    assert!(
        stdout.trim_end().ends_with("1 passed, 1 failed"),
        "{stdout}"
    );

    let out = hotline()
        .args(["plugin", "test"])
        .arg(&scenario)
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not WebAssembly"));
}

#[test]
fn plugin_upload_stores_numbered_versions_in_the_local_database() {
    let dir = tempfile::tempdir().expect("dir");
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("h.db").display());
    let upload = |notes: &str| {
        hotline()
            .env("DATABASE_URL", &url)
            .env("HOTLINE_DATA_DIR", dir.path())
            .args(["plugin", "upload"])
            .arg(probe())
            .args(["--name", "menu", "--author", "ana", "--notes", notes])
            .output()
            .expect("run")
    };
    for (notes, version) in [("first", 1), ("second", 2)] {
        let out = upload(notes);
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{stdout}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let info: serde_json::Value = serde_json::from_str(&stdout).expect("json");
        assert_eq!(info["version"], serde_json::json!(version));
        assert_eq!(info["world"], serde_json::json!("ivr"));
        assert_eq!(info["notes"], serde_json::json!(notes));
    }
}

mod support;

/// `hotline plugin upload --server`: over a running server's API with a plugin author's API
/// key; the server validates, numbers and attributes the version, and its refusals (an unknown
/// import, the catalog for a tenant's key) come back with their problem type and detail.
#[tokio::test]
async fn plugin_upload_over_the_api_is_checked_by_the_server() {
    use support::{api::Api, free_port, http_client, login, Sandbox, ADMIN_EMAIL, ADMIN_PASSWORD};

    let sandbox = Sandbox::new();
    let http = http_client();
    sandbox.ok(
        &["admin", "bootstrap", "--email", ADMIN_EMAIL],
        &[("HOTLINE_BOOTSTRAP_PASSWORD", ADMIN_PASSWORD)],
    );
    let mut server = sandbox.serve(&[], free_port());
    server.wait_healthy(&http).await;
    let operator = Api::new(
        http.clone(),
        &server,
        login(&http, &server, ADMIN_EMAIL, ADMIN_PASSWORD).await,
    );
    let tenant = operator
        .create(
            "/api/v1/tenants",
            serde_json::json!({ "slug": "acme", "name": "Acme", "time_zone": "Europe/Bratislava" }),
        )
        .await;
    let key = operator
        .post(
            &format!("/api/v1/tenants/{tenant}/api-keys"),
            serde_json::json!({ "name": "ci", "role": "plugin-author" }),
        )
        .await["secret"]
        .as_str()
        .expect("a key")
        .to_string();
    let base = server.url("");
    let probe = probe().display().to_string();
    let env = [("HOTLINE_TOKEN", key.as_str())];

    for (notes, version) in [("first", 1), ("second", 2)] {
        let run = sandbox.ok(
            &[
                "plugin", "upload", &probe, "--name", "menu", "--tenant", &tenant, "--server",
                &base, "--notes", notes,
            ],
            &env,
        );
        let info: serde_json::Value = serde_json::from_str(&run.stdout).expect("json");
        assert_eq!(
            info["version"],
            serde_json::json!(version),
            "{}",
            run.stdout
        );
        assert_eq!(
            (
                info["owner"].as_str(),
                info["author"].as_str(),
                info["notes"].as_str()
            ),
            (Some("tenant"), Some("api-key:ci"), Some(notes))
        );
    }
    let foreign = probe.replace("probe.wasm", "foreign-import.wasm");
    let refused = sandbox.fails(
        &[
            "plugin", "upload", &foreign, "--name", "menu", "--tenant", &tenant, "--server", &base,
        ],
        &env,
    );
    assert!(
        refused
            .stderr
            .contains("urn:hotline:problem:plugin-unknown-import")
            && refused.stderr.contains("hotline:evil/files@0.1.0"),
        "{}",
        refused.stderr
    );
    let catalog = sandbox.fails(
        &[
            "plugin", "upload", &probe, "--name", "menu", "--server", &base,
        ],
        &env,
    );
    assert!(
        catalog.stderr.contains("403") && catalog.stderr.contains("forbidden"),
        "{}",
        catalog.stderr
    );
    let no_token = sandbox.fails(
        &[
            "plugin", "upload", &probe, "--name", "menu", "--server", &base,
        ],
        &[],
    );
    assert!(
        no_token.stderr.contains("--server needs --token"),
        "{}",
        no_token.stderr
    );
    let slug = sandbox.fails(
        &[
            "plugin", "upload", &probe, "--name", "menu", "--tenant", "acme", "--server", &base,
        ],
        &env,
    );
    assert!(slug.stderr.contains("the tenant's id"), "{}", slug.stderr);
    // The server's own listing agrees.
    let versions = Api::new(http.clone(), &server, key.clone())
        .get(&format!("/api/v1/tenants/{tenant}/plugins/menu/versions"))
        .await;
    assert_eq!(
        versions["items"].as_array().map(Vec::len),
        Some(2),
        "{versions}"
    );
    server.terminate();
}
