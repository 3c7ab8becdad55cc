//! Running SIPp (Debian's `sip-tester`) against the server under test: a builder for one sipp
//! process with the scenario files of `tests/sipp/`, and its outcome with everything it logged.
//!
//! Every run gets its own directory for its logs (`-trace_err`, `-trace_msg`, `-trace_logs`,
//! `-trace_screen`), SIPp's own global timeout with `-timeout_error` (so a run that waits forever
//! exits non-zero instead of lingering: SIPp's plain `-timeout` waits for calls in progress), and
//! a hard deadline a little later after which the process is killed. A failure report carries
//! the command line, the exit status and the logs, so a failing scenario can be read without
//! rerunning it.

use std::fmt::Write as _;
use std::fs::File;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// Where the scenario files live.
pub const SCENARIOS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/sipp");

/// Extra time after SIPp's own timeout before the process is killed.
const KILL_GRACE: Duration = Duration::from_secs(10);
/// The longest part of one log put into a failure report.
const MAX_REPORTED_LOG: usize = 24_000;

/// Whether a `sipp` binary can be started at all.
pub fn installed() -> bool {
    Command::new("sipp")
        .arg("-v")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok()
}

/// One sipp process to start.
#[derive(Clone, Debug)]
pub struct Sipp {
    label: String,
    scenario: String,
    remote: Option<SocketAddr>,
    args: Vec<String>,
    timeout: Duration,
}

impl Sipp {
    /// `label` names the run in reports and its log directory; `scenario` is a file name in
    /// [`SCENARIOS`]. Defaults: one call, local address 127.0.0.1, 20 s timeout.
    pub fn new(label: &str, scenario: &str) -> Self {
        Self {
            label: label.to_string(),
            scenario: scenario.to_string(),
            remote: None,
            args: vec!["-i".into(), "127.0.0.1".into()],
            timeout: Duration::from_secs(20),
        }
        .calls(1)
    }

    /// The address requests are sent to (Hotline's SIP address). Scenarios that only answer
    /// (sipp as the carrier behind a trunk) have none.
    pub fn to(mut self, remote: SocketAddr) -> Self {
        self.remote = Some(remote);
        self
    }

    /// Bind to this local address instead of 127.0.0.1 (another "host" on the loopback).
    pub fn local_ip(mut self, ip: &str) -> Self {
        self.replace_option("-i", ip);
        self
    }

    pub fn local_port(self, port: u16) -> Self {
        self.arg("-p").arg(&port.to_string())
    }

    /// One TCP connection for everything (`-t t1`) instead of UDP.
    pub fn tcp(self) -> Self {
        self.arg("-t").arg("t1")
    }

    /// The Request-URI user (`[service]`): the dialed number, or the phone's user name.
    pub fn service(self, service: &str) -> Self {
        self.arg("-s").arg(service)
    }

    /// Digest credentials for `[authentication]`, with the URI the registrar expects (the
    /// registration domain, i.e. the REGISTER's Request-URI).
    pub fn credentials(self, user: &str, password: &str, domain: &str) -> Self {
        self.arg("-au")
            .arg(user)
            .arg("-ap")
            .arg(password)
            .arg("-auth_uri")
            .arg(domain)
            .key("tenant_domain", domain)
    }

    /// `[name]` in the scenario's messages.
    pub fn key(self, name: &str, value: &str) -> Self {
        self.arg("-key").arg(name).arg(value)
    }

    /// A global variable of the scenario (`[$name]`).
    pub fn set(self, name: &str, value: &str) -> Self {
        self.arg("-set").arg(name).arg(value)
    }

    /// How many calls to make (`-m`).
    pub fn calls(mut self, calls: u32) -> Self {
        self.replace_option("-m", &calls.to_string());
        self
    }

    /// `-d`: how long a bare `<pause/>` lasts.
    pub fn pause(self, pause: Duration) -> Self {
        self.arg("-d").arg(&pause.as_millis().to_string())
    }

    /// Lose this percentage of the messages sent and received (`-lost`).
    pub fn lossy(self, percent: u32) -> Self {
        self.arg("-lost").arg(&percent.to_string())
    }

    /// SIPp's global timeout; the process is killed a little after it.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    pub fn arg(mut self, arg: &str) -> Self {
        self.args.push(arg.to_string());
        self
    }

    fn option(&self, option: &str) -> Option<&str> {
        let at = self.args.iter().position(|a| a == option)?;
        self.args.get(at + 1).map(String::as_str)
    }

    fn replace_option(&mut self, option: &str, value: &str) {
        if let Some(at) = self.args.iter().position(|a| a == option) {
            self.args[at + 1] = value.to_string();
        } else {
            self.args.push(option.to_string());
            self.args.push(value.to_string());
        }
    }

    /// The full argument list (without the program).
    fn command_line(&self, logs: &Path) -> Vec<String> {
        let mut line = Vec::new();
        if let Some(remote) = self.remote {
            line.push(remote.to_string());
        }
        line.push("-sf".into());
        line.push(format!("{SCENARIOS}/{}", self.scenario));
        line.extend(self.args.iter().cloned());
        let log = |name: &str| logs.join(name).display().to_string();
        line.extend([
            "-timeout".into(),
            format!("{}s", self.timeout.as_secs().max(1)),
            "-timeout_error".into(),
            "-nostdin".into(),
            "-trace_err".into(),
            "-error_file".into(),
            log("errors.log"),
            "-trace_msg".into(),
            "-message_file".into(),
            log("messages.log"),
            "-trace_logs".into(),
            "-log_file".into(),
            log("actions.log"),
            "-trace_screen".into(),
            "-screen_file".into(),
            log("screen.log"),
        ]);
        line
    }

    /// Start it; its logs go to `<root>/<label>/`.
    pub fn spawn(mut self, root: &Path) -> Running {
        // SIPp's default local port is 5060 (or the next free one): keep clear of it, where a
        // `hotline serve` with the default configuration listens.
        if !self.args.iter().any(|arg| arg == "-p") {
            let ip = self.option("-i").unwrap_or("127.0.0.1").to_string();
            self = self.local_port(super::free_udp_tcp_port(&ip));
        }
        let dir = root.join(sanitize(&self.label));
        std::fs::create_dir_all(&dir).expect("sipp log directory");
        let args = self.command_line(&dir);
        let child = Command::new("sipp")
            .args(&args)
            .current_dir(&dir)
            .stdin(Stdio::null())
            .stdout(File::create(dir.join("stdout.log")).expect("sipp stdout file"))
            .stderr(File::create(dir.join("stderr.log")).expect("sipp stderr file"))
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start sipp for {}: {e}", self.label));
        Running {
            label: self.label,
            command: format!("sipp {}", args.join(" ")),
            dir,
            deadline: Instant::now() + self.timeout + KILL_GRACE,
            child,
        }
    }
}

fn sanitize(label: &str) -> String {
    label
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// A sipp process that has been started. Killed if dropped unfinished.
pub struct Running {
    label: String,
    command: String,
    dir: PathBuf,
    deadline: Instant,
    child: Child,
}

impl Running {
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The exit status if it has finished.
    pub fn poll(&mut self) -> Option<ExitStatus> {
        self.child.try_wait().ok().flatten()
    }

    /// Wait until `path` exists (a scenario touched it), failing if the process ends or the
    /// deadline passes first.
    pub async fn wait_for_file(&mut self, path: &Path, within: Duration) -> Result<(), String> {
        let deadline = Instant::now() + within;
        loop {
            if path.exists() {
                return Ok(());
            }
            if let Some(status) = self.poll() {
                return Err(format!(
                    "{} ended ({status}) before signalling {}",
                    self.label,
                    path.display()
                ));
            }
            if Instant::now() > deadline {
                return Err(format!(
                    "{} did not signal {} within {within:?}",
                    self.label,
                    path.display()
                ));
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Wait for the exit (killing the process at its deadline) and collect what it logged.
    pub async fn finish(mut self) -> Outcome {
        let status = loop {
            if let Some(status) = self.poll() {
                break Some(status);
            }
            if Instant::now() > self.deadline {
                let _ = self.child.kill();
                let _ = self.child.wait();
                break None;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
        Outcome {
            label: self.label.clone(),
            command: self.command.clone(),
            dir: self.dir.clone(),
            status,
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// How a sipp run ended.
pub struct Outcome {
    pub label: String,
    pub command: String,
    pub dir: PathBuf,
    /// `None` when it had to be killed.
    pub status: Option<ExitStatus>,
}

impl Outcome {
    /// SIPp exits 0 when every call of the scenario succeeded; anything else (1: a call failed,
    /// 255: fatal error or timeout, 99: no call made) is a failure, reported with the logs.
    pub fn check(&self) -> Result<(), String> {
        match self.status {
            Some(status) if status.success() => Ok(()),
            _ => Err(self.report()),
        }
    }

    /// The messages SIPp sent and received.
    pub fn messages(&self) -> String {
        std::fs::read_to_string(self.dir.join("messages.log")).unwrap_or_default()
    }

    /// The command line, the status and every log, for a failure message.
    pub fn report(&self) -> String {
        let mut text = String::new();
        let status = match self.status {
            Some(status) => status.to_string(),
            None => "killed at its deadline".into(),
        };
        let _ = writeln!(text, "---- sipp run `{}`: {status}", self.label);
        let _ = writeln!(text, "{}", self.command);
        for name in [
            "errors.log",
            "actions.log",
            "stderr.log",
            "screen.log",
            "messages.log",
        ] {
            let content = std::fs::read_to_string(self.dir.join(name)).unwrap_or_default();
            if content.trim().is_empty() {
                continue;
            }
            let _ = writeln!(text, "---- {name}:\n{}", tail(&content, MAX_REPORTED_LOG));
        }
        text
    }
}

/// The last `max` bytes of `text` (at a character boundary), marked when cut.
pub fn tail(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_string();
    }
    let mut start = text.len() - max;
    while !text.is_char_boundary(start) {
        start += 1;
    }
    format!("[... {start} bytes cut ...]\n{}", &text[start..])
}
