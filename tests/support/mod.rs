//! What the end-to-end tests of the built `hotline` binary share: an empty working directory
//! with its own environment ([`Sandbox`]), one-shot commands run in it with a deadline, a running
//! `hotline serve` that is killed if a test ends without stopping it ([`Server`]), free local
//! ports, and a logged-in HTTP client.
//!
//! Every child process gets a deadline and output files instead of pipes, so a hang fails the test
//! instead of stalling CI and a chatty child never blocks on a full pipe. Nothing here reaches
//! beyond 127.0.0.x.

// Each test binary (cli.rs, sipp.rs) uses a different part of this module.
#![allow(dead_code)]

pub mod api;
pub mod audio;
pub mod hotline;
pub mod sipp;
pub mod softphone;

use std::fs::File;
use std::net::{TcpListener, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

pub const BIN: &str = env!("CARGO_BIN_EXE_hotline");
/// A one-shot command (migrate, bootstrap, ...) that takes longer than this is hung.
pub const COMMAND_TIMEOUT: Duration = Duration::from_secs(60);
/// Time a server gets to answer /healthz after start, and to exit after SIGTERM.
pub const SERVER_TIMEOUT: Duration = Duration::from_secs(30);

pub const ADMIN_EMAIL: &str = "admin@example.com";
pub const ADMIN_PASSWORD: &str = "correct-horse-battery-staple";

/// An empty working directory and the environment `hotline` runs with in it.
pub struct Sandbox {
    dir: tempfile::TempDir,
    env: Vec<(String, String)>,
    runs: AtomicU32,
}

/// What a finished command printed.
pub struct Run {
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
}

impl Default for Sandbox {
    fn default() -> Self {
        Self::new()
    }
}

impl Sandbox {
    pub fn new() -> Self {
        Self {
            dir: tempfile::tempdir().expect("temporary working directory"),
            env: Vec::new(),
            runs: AtomicU32::new(0),
        }
    }

    pub fn set(&mut self, var: &str, value: impl Into<String>) {
        self.env.push((var.into(), value.into()));
    }

    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// A `hotline` command in the sandbox. Output goes to files, not pipes, so a chatty child
    /// can never block on a full pipe while the test waits for it.
    pub fn command(
        &self,
        args: &[&str],
        extra_env: &[(&str, &str)],
    ) -> (Command, PathBuf, PathBuf) {
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

    pub fn run(&self, args: &[&str], extra_env: &[(&str, &str)]) -> Run {
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
    pub fn ok(&self, args: &[&str], extra_env: &[(&str, &str)]) -> Run {
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
    pub fn fails(&self, args: &[&str], extra_env: &[(&str, &str)]) -> Run {
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

    /// Start `hotline serve` with its HTTP API on `port`, and SIP on a free 127.0.0.1 port
    /// unless the sandbox sets `HOTLINE_SIP_LISTEN` (the default, 0.0.0.0:5060, would make
    /// servers started side by side fail to bind).
    pub fn serve(&self, global_args: &[&str], port: u16) -> Server {
        let mut args = global_args.to_vec();
        args.push("serve");
        let listen = format!("127.0.0.1:{port}");
        let sip_listen = format!("127.0.0.1:{}", free_udp_tcp_port("127.0.0.1"));
        let mut env = vec![("HOTLINE_HTTP_LISTEN", listen.as_str())];
        if !self.env.iter().any(|(var, _)| var == "HOTLINE_SIP_LISTEN") {
            env.push(("HOTLINE_SIP_LISTEN", sip_listen.as_str()));
        }
        let (mut command, _out, err) = self.command(&args, &env);
        Server {
            child: command.spawn().expect("start hotline serve"),
            log: err,
            base: format!("http://{listen}"),
        }
    }
}

/// Wait for `child` to exit, killing it after `timeout`.
pub fn wait_for(child: &mut Child, timeout: Duration) -> Option<ExitStatus> {
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

/// A TCP port nobody listens on right now. (Binding port 0 in the server would not tell the
/// test which port it got.)
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free local port")
        .port()
}

/// A port free for both UDP and TCP on `ip` right now (SIP serves both on one port): the
/// system picks a UDP port, and it is kept only if TCP can have the same one too.
pub fn free_udp_tcp_port(ip: &str) -> u16 {
    for _ in 0..50 {
        let udp = UdpSocket::bind((ip, 0)).expect("bind a UDP port");
        let port = udp.local_addr().expect("UDP address").port();
        if TcpListener::bind((ip, port)).is_ok() {
            return port;
        }
    }
    panic!("no port free for both UDP and TCP on {ip}");
}

/// An even UDP port whose odd neighbour is free too, for a peer's RTP and RTCP, never handed
/// out twice by this process (two phones given neighbouring ports would each take the other's
/// RTCP port).
pub fn free_rtp_pair() -> u16 {
    static GIVEN: std::sync::Mutex<Vec<u16>> = std::sync::Mutex::new(Vec::new());
    for _ in 0..200 {
        let udp = UdpSocket::bind(("127.0.0.1", 0)).expect("bind a UDP port");
        let port = udp.local_addr().expect("UDP address").port() & !1;
        drop(udp);
        let mut given = GIVEN.lock().expect("ports given");
        if given.contains(&port) || port < 1024 {
            continue;
        }
        let pair_free = [port, port + 1]
            .iter()
            .all(|p| UdpSocket::bind(("127.0.0.1", *p)).is_ok());
        if pair_free {
            given.push(port);
            return port;
        }
    }
    panic!("no free RTP port pair on 127.0.0.1");
}

/// A running `hotline serve`, killed if the test ends without stopping it.
pub struct Server {
    child: Child,
    log: PathBuf,
    base: String,
}

impl Server {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// The file its standard error (the log) goes to.
    pub fn log_path(&self) -> &Path {
        &self.log
    }

    /// Poll until /healthz answers 200; fail early if the process died.
    pub async fn wait_healthy(&mut self, http: &reqwest::Client) {
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

    /// Whether the process is still running (a crash shows here).
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// SIGTERM, then wait for the graceful exit.
    pub fn terminate(mut self) -> (ExitStatus, String) {
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

pub fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .expect("HTTP client")
}

pub async fn login(http: &reqwest::Client, server: &Server, email: &str, password: &str) -> String {
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
pub async fn get(http: &reqwest::Client, server: &Server, path: &str, token: &str) -> (u16, Value) {
    let response = http
        .get(server.url(path))
        .bearer_auth(token)
        .send()
        .await
        .expect("GET request");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}
