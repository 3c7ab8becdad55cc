//! End-to-end tests of the built `hotline` binary, run the way an operator runs it: in an empty
//! working directory, configured only by a file and environment variables, on SQLite and on a
//! throw-away PostgreSQL database.
//!
//! The walkthrough goes from an empty data directory to a logged-in platform admin listing a
//! tenant over HTTP, then stops the server with SIGTERM and expects a clean exit. Every child
//! process runs with a deadline and is killed when a test fails, so a hang fails the test
//! instead of stalling CI; nothing here reaches beyond 127.0.0.1.

use std::fs::File;
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use hotline_core::testing::TestDb;
use serde_json::{json, Value};

const BIN: &str = env!("CARGO_BIN_EXE_hotline");
/// A one-shot command (migrate, bootstrap, ...) that takes longer than this is hung.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(60);
/// Time a server gets to answer /healthz after start, and to exit after SIGTERM.
const SERVER_TIMEOUT: Duration = Duration::from_secs(30);

const ADMIN_EMAIL: &str = "admin@example.com";
const ADMIN_PASSWORD: &str = "correct-horse-battery-staple";

/// An empty working directory and the environment `hotline` runs with in it.
struct Sandbox {
    dir: tempfile::TempDir,
    env: Vec<(String, String)>,
    runs: AtomicU32,
}

/// What a finished command printed.
struct Run {
    status: ExitStatus,
    stdout: String,
    stderr: String,
}

impl Sandbox {
    fn new() -> Self {
        Self {
            dir: tempfile::tempdir().expect("temporary working directory"),
            env: Vec::new(),
            runs: AtomicU32::new(0),
        }
    }

    fn set(&mut self, var: &str, value: impl Into<String>) {
        self.env.push((var.into(), value.into()));
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// A `hotline` command in the sandbox. Output goes to files, not pipes, so a chatty child
    /// can never block on a full pipe while the test waits for it.
    fn command(&self, args: &[&str], extra_env: &[(&str, &str)]) -> (Command, PathBuf, PathBuf) {
        let n = self.runs.fetch_add(1, Ordering::Relaxed);
        let out = self.path(&format!("run{n}.stdout"));
        let err = self.path(&format!("run{n}.stderr"));
        let mut command = Command::new(BIN);
        command
            .current_dir(self.dir.path())
            .args(args)
            .stdin(Stdio::null())
            .stdout(File::create(&out).expect("stdout file"))
            .stderr(File::create(&err).expect("stderr file"));
        // The test runner's own configuration must not leak into the binary under test.
        for (var, _) in std::env::vars_os() {
            let var = var.to_string_lossy();
            if var.starts_with("HOTLINE_") || var == "DATABASE_URL" || var == "RUST_LOG" {
                command.env_remove(var.as_ref());
            }
        }
        command.envs(self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        command.envs(extra_env.iter().copied());
        (command, out, err)
    }

    fn run(&self, args: &[&str], extra_env: &[(&str, &str)]) -> Run {
        let (mut command, out, err) = self.command(args, extra_env);
        let mut child = command.spawn().expect("start hotline");
        let status = wait_for(&mut child, COMMAND_TIMEOUT)
            .unwrap_or_else(|| panic!("`hotline {}` did not finish in time", args.join(" ")));
        Run {
            status,
            stdout: std::fs::read_to_string(out).unwrap_or_default(),
            stderr: std::fs::read_to_string(err).unwrap_or_default(),
        }
    }

    /// Run and expect success.
    fn ok(&self, args: &[&str], extra_env: &[(&str, &str)]) -> Run {
        let run = self.run(args, extra_env);
        assert!(
            run.status.success(),
            "`hotline {}` failed ({}):\nstdout:\n{}\nstderr:\n{}",
            args.join(" "),
            run.status,
            run.stdout,
            run.stderr
        );
        run
    }

    /// Run and expect a failure with a message on standard error.
    fn fails(&self, args: &[&str], extra_env: &[(&str, &str)]) -> Run {
        let run = self.run(args, extra_env);
        assert_eq!(
            run.status.code(),
            Some(1),
            "`hotline {}` should have failed:\nstdout:\n{}\nstderr:\n{}",
            args.join(" "),
            run.stdout,
            run.stderr
        );
        assert!(
            run.stderr.contains("error:"),
            "no error message: {}",
            run.stderr
        );
        run
    }

    /// Start `hotline serve` on `port`.
    fn serve(&self, global_args: &[&str], port: u16) -> Server {
        let mut args = global_args.to_vec();
        args.push("serve");
        let listen = format!("127.0.0.1:{port}");
        let (mut command, _out, err) = self.command(&args, &[("HOTLINE_HTTP_LISTEN", &listen)]);
        Server {
            child: command.spawn().expect("start hotline serve"),
            log: err,
            base: format!("http://{listen}"),
        }
    }
}

/// Wait for `child` to exit, killing it after `timeout`.
fn wait_for(child: &mut Child, timeout: Duration) -> Option<ExitStatus> {
    let deadline = Instant::now() + timeout;
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return Some(status),
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(20)),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                return None;
            }
        }
    }
}

/// A port nobody listens on right now. (Binding port 0 in the server would not tell the test
/// which port it got.)
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free local port")
        .port()
}

/// A running `hotline serve`, killed if the test ends without stopping it.
struct Server {
    child: Child,
    log: PathBuf,
    base: String,
}

impl Server {
    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Poll until /healthz answers 200; fail early if the process died.
    async fn wait_healthy(&mut self, http: &reqwest::Client) {
        let deadline = Instant::now() + SERVER_TIMEOUT;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("hotline serve exited early ({status}):\n{}", self.log());
            }
            if let Ok(response) = http.get(self.url("/healthz")).send().await {
                if response.status() == 200 {
                    return;
                }
            }
            assert!(
                Instant::now() < deadline,
                "hotline serve not healthy in time:\n{}",
                self.log()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// SIGTERM, then wait for the graceful exit.
    fn terminate(mut self) -> (ExitStatus, String) {
        let sent = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("run kill");
        assert!(sent.success(), "kill -TERM failed");
        let status = wait_for(&mut self.child, SERVER_TIMEOUT)
            .unwrap_or_else(|| panic!("hotline serve ignored SIGTERM:\n{}", self.log()));
        (status, self.log())
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .expect("HTTP client")
}

async fn login(http: &reqwest::Client, server: &Server, email: &str, password: &str) -> String {
    let response = http
        .post(server.url("/api/v1/auth/login"))
        .json(&json!({ "email": email, "password": password }))
        .send()
        .await
        .expect("login request");
    let status = response.status();
    let body: Value = response.json().await.expect("login answer is JSON");
    assert_eq!(status, 200, "login failed: {body}");
    body["access_token"]
        .as_str()
        .unwrap_or_else(|| panic!("no access_token in {body}"))
        .to_string()
}

/// GET `path` with a bearer token; the status and the body as JSON.
async fn get(http: &reqwest::Client, server: &Server, path: &str, token: &str) -> (u16, Value) {
    let response = http
        .get(server.url(path))
        .bearer_auth(token)
        .send()
        .await
        .expect("GET request");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

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
