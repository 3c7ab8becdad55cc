//! End-to-end tests of the built `hotline` binary, run the way an operator runs it: in an empty
//! working directory, configured only by a file and environment variables, on SQLite and on a
//! throw-away PostgreSQL database.
//!
//! The walkthrough goes from an empty data directory to a logged-in platform admin listing a
//! tenant over HTTP, then stops the server with SIGTERM and expects a clean exit. Every child
//! process runs with a deadline and is killed when a test fails, so a hang fails the test
//! instead of stalling CI; nothing here reaches beyond 127.0.0.1.

mod support;

use std::os::unix::fs::PermissionsExt;

use hotline_core::testing::TestDb;
use serde_json::Value;
use support::{free_port, get, http_client, login, Sandbox, ADMIN_EMAIL, ADMIN_PASSWORD};

/// From nothing to a tenant listed over HTTP, as the README walks an operator through it.
async fn walkthrough(postgres: Option<&TestDb>) {
    let mut sandbox = Sandbox::new();
    if let Some(db) = postgres {
        sandbox.set("DATABASE_URL", db.url());
    }
    let http = http_client();

    let migrated = sandbox.ok(&["migrate"], &[]);
    assert!(
        migrated.stdout.contains("schema up to date"),
        "{}",
        migrated.stdout
    );
    if postgres.is_none() {
        assert!(sandbox.path("hotline-data/hotline.db").is_file());
    }

    // First start: no platform admin yet, so the server says how to make one. The PostgreSQL
    // run logs JSON, one object per line.
    let json_logs = postgres.is_some();
    let global: &[&str] = if json_logs {
        &["--log-format", "json"]
    } else {
        &[]
    };
    let port = free_port();
    let mut server = sandbox.serve(global, port);
    server.wait_healthy(&http).await;
    let ready = http
        .get(server.url("/readyz"))
        .send()
        .await
        .expect("readyz");
    assert_eq!(ready.status(), 200);
    let log = server.log();
    assert!(log.contains("admin bootstrap --email"), "no hint:\n{log}");
    assert!(log.contains("/api/v1/auth/login"), "no login hint:\n{log}");

    // Bootstrap while the server runs, as an operator would after reading the hint.
    let boot = sandbox.ok(
        &["admin", "bootstrap", "--email", ADMIN_EMAIL],
        &[("HOTLINE_BOOTSTRAP_PASSWORD", ADMIN_PASSWORD)],
    );
    assert!(!boot.stdout.contains(ADMIN_PASSWORD), "{}", boot.stdout);
    let again = sandbox.fails(
        &["admin", "bootstrap", "--email", ADMIN_EMAIL],
        &[("HOTLINE_BOOTSTRAP_PASSWORD", ADMIN_PASSWORD)],
    );
    assert!(again.stderr.contains("exists already"), "{}", again.stderr);

    // Without the variable a password is generated and printed once.
    let ops = sandbox.ok(&["admin", "bootstrap", "--email", "ops@example.com"], &[]);
    let generated = ops
        .stdout
        .lines()
        .find_map(|line| line.strip_prefix("Password (shown only this once; store it now): "))
        .unwrap_or_else(|| panic!("no generated password in:\n{}", ops.stdout))
        .to_string();
    assert!(generated.len() >= 20, "weak password {generated:?}");

    sandbox.ok(
        &[
            "tenant",
            "create",
            "--slug",
            "acme",
            "--name",
            "Acme Calls",
            "--time-zone",
            "Europe/Bratislava",
            "--max-concurrent-calls",
            "12",
        ],
        &[],
    );
    let bad_zone = sandbox.fails(
        &[
            "tenant",
            "create",
            "--slug",
            "globex",
            "--name",
            "Globex",
            "--time-zone",
            "Mars/Olympus",
        ],
        &[],
    );
    assert!(bad_zone.stderr.contains("time_zone"), "{}", bad_zone.stderr);
    let listed = sandbox.ok(&["tenant", "list"], &[]);
    assert!(listed.stdout.contains("acme"), "{}", listed.stdout);
    assert!(!listed.stdout.contains("globex"), "{}", listed.stdout);
    let listed: Value =
        serde_json::from_str(&sandbox.ok(&["tenant", "list", "--json"], &[]).stdout)
            .expect("tenant list --json is JSON");
    assert_eq!(listed[0]["slug"], "acme");
    assert_eq!(listed[0]["limits"]["max_concurrent_calls"], 12);

    // Over HTTP: log in, see the tenant; no token, no tenants.
    let token = login(&http, &server, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    login(&http, &server, "ops@example.com", &generated).await;
    let (status, body) = get(&http, &server, "/api/v1/tenants", &token).await;
    assert_eq!(status, 200, "{body}");
    assert!(body.to_string().contains("\"acme\""), "{body}");
    let anonymous = http
        .get(server.url("/api/v1/tenants"))
        .send()
        .await
        .expect("anonymous GET");
    assert_eq!(anonymous.status(), 401);

    let (status, log) = server.terminate();
    assert!(status.success(), "unclean exit {status}:\n{log}");
    assert!(log.contains("shutting down"), "{log}");
    // With no call going on, the record writer has nothing left and stops at once.
    assert!(
        !log.contains("call records still being written"),
        "the record writer did not stop at shutdown:\n{log}"
    );
    if json_logs {
        for line in log.lines().filter(|l| !l.trim().is_empty()) {
            serde_json::from_str::<Value>(line)
                .unwrap_or_else(|e| panic!("log line is not JSON ({e}): {line}"));
        }
    }

    // The generated signing key is private and survives a restart: the old token still works.
    if postgres.is_none() {
        let key = sandbox.path("hotline-data/jwt.key");
        let mode = std::fs::metadata(&key)
            .expect("jwt.key")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "jwt.key mode {mode:o}");

        let mut server = sandbox.serve(&[], free_port());
        server.wait_healthy(&http).await;
        let log = server.log();
        assert!(
            !log.contains("admin bootstrap --email"),
            "hint with an admin:\n{log}"
        );
        let (status, body) = get(&http, &server, "/api/v1/tenants", &token).await;
        assert_eq!(status, 200, "token not accepted after restart: {body}");
        let (status, _) = server.terminate();
        assert!(status.success());
    }
}

#[tokio::test]
async fn walkthrough_on_sqlite() {
    walkthrough(None).await;
}

#[tokio::test]
async fn walkthrough_on_postgres() {
    let db = TestDb::postgres().await;
    walkthrough(Some(&db)).await;
    db.finish().await;
}

#[test]
fn config_shows_overrides_and_hides_secrets() {
    let mut sandbox = Sandbox::new();
    std::fs::write(
        sandbox.path("hotline.toml"),
        "[sip]\ndomain_suffix = \"sip.example.com\"\n[http]\nlisten = \"127.0.0.1:8181\"\n",
    )
    .expect("write hotline.toml");
    let secret = "jwt-secret-that-must-never-be-printed-0123";
    sandbox.set("HOTLINE_AUTH_JWT_SECRET", secret);
    sandbox.set("HOTLINE_HTTP_LISTEN", "127.0.0.1:18080");
    sandbox.set(
        "DATABASE_URL",
        "postgres://hotline:db-password-never-printed@db.example:5432/hotline",
    );

    let run = sandbox.ok(&["config"], &[]);
    let shown: toml::Table = toml::from_str(&run.stdout).expect("config prints TOML");
    assert_eq!(shown["http"]["listen"].as_str(), Some("127.0.0.1:18080"));
    assert_eq!(
        shown["sip"]["domain_suffix"].as_str(),
        Some("sip.example.com")
    );
    assert_eq!(shown["auth"]["jwt_secret"].as_str(), Some("***"));
    assert_eq!(
        shown["database"]["url"].as_str(),
        Some("postgres://hotline:***@db.example:5432/hotline")
    );
    for text in [&run.stdout, &run.stderr] {
        assert!(!text.contains(secret) && !text.contains("db-password-never-printed"));
    }
    // Printing the configuration has no side effects.
    assert!(!sandbox.path("hotline-data").exists());

    // --config names another file; the global flag overrides the file's log format.
    std::fs::write(sandbox.path("other.toml"), "[log]\nformat = \"text\"\n").expect("write");
    let run = sandbox.ok(
        &["--config", "other.toml", "--log-format", "json", "config"],
        &[],
    );
    let shown: toml::Table = toml::from_str(&run.stdout).expect("TOML");
    assert_eq!(shown["log"]["format"].as_str(), Some("json"));
    assert_eq!(
        shown["sip"]["domain_suffix"].as_str(),
        Some("sip.hotline.local")
    );
}

#[test]
fn bad_configuration_is_named_and_nothing_is_written() {
    let sandbox = Sandbox::new();
    let toml_path = sandbox.path("hotline.toml");

    std::fs::write(&toml_path, "[http\nlisten = \"127.0.0.1:8080\"\n").expect("write");
    let run = sandbox.fails(&["migrate"], &[]);
    assert!(
        run.stderr.contains("hotline.toml is not valid TOML") && run.stderr.contains("line 1"),
        "{}",
        run.stderr
    );

    std::fs::write(
        &toml_path,
        "[http]\nlisten = \"127.0.0.1:8080\"\nlisen = 1\n",
    )
    .expect("write");
    let run = sandbox.fails(&["serve"], &[]);
    assert!(
        run.stderr.contains("unknown key `http.lisen`"),
        "{}",
        run.stderr
    );

    std::fs::write(&toml_path, "[rtp]\nport_min = 20001\n").expect("write");
    let run = sandbox.fails(&["config"], &[]);
    assert!(run.stderr.contains("rtp.port_min"), "{}", run.stderr);

    std::fs::remove_file(&toml_path).expect("remove");
    let run = sandbox.fails(&["migrate"], &[("HOTLINE_RTP_PORT_MAX", "lots")]);
    assert!(
        run.stderr.contains("HOTLINE_RTP_PORT_MAX"),
        "{}",
        run.stderr
    );

    let run = sandbox.fails(&["--config", "missing.toml", "config"], &[]);
    assert!(run.stderr.contains("missing.toml"), "{}", run.stderr);

    assert!(
        !sandbox.path("hotline-data").exists(),
        "a failed start wrote data"
    );
}

#[test]
fn every_command_has_help() {
    let sandbox = Sandbox::new();
    for command in [
        &[][..],
        &["serve"],
        &["migrate"],
        &["config"],
        &["admin"],
        &["admin", "bootstrap"],
        &["tenant"],
        &["tenant", "create"],
        &["tenant", "list"],
    ] {
        let mut args = command.to_vec();
        args.push("--help");
        let run = sandbox.ok(&args, &[]);
        assert!(
            run.stdout.contains("Usage: hotline"),
            "{args:?}: {}",
            run.stdout
        );
    }
    let run = sandbox.run(&["tenant", "create", "--slug", "x"], &[]);
    assert_eq!(run.status.code(), Some(2), "a usage error exits 2");
}
