//! Running the real softphone (`tests/softphone/phone.py`, PJSIP's pjsua2) against the server
//! under test: a builder for one phone process, and what it reported (its events as JSON, the
//! WAV it recorded).
//!
//! The phone needs a Python with the `pjsua2-python` wheel; `scripts/test.sh` makes one in
//! `target/softphone-venv` (or set `HOTLINE_TEST_SOFTPHONE_PYTHON`). Without it the tests that
//! use a softphone fail, saying how to get it: they never skip.

use std::fmt::Write as _;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/softphone/phone.py");
/// Extra time after the phone's own `--duration` before it is killed.
const KILL_GRACE: Duration = Duration::from_secs(15);

/// The Python that has pjsua2, or a panic that says how to make one.
pub fn python() -> PathBuf {
    let python = std::env::var_os("HOTLINE_TEST_SOFTPHONE_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/softphone-venv/bin/python")
        });
    let works = Command::new(&python)
        .args(["-c", "import pjsua2"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success());
    assert!(
        works,
        "no Python with pjsua2 at {} — run scripts/test.sh once (it creates \
         target/softphone-venv with pip install pjsua2-python), or set \
         HOTLINE_TEST_SOFTPHONE_PYTHON",
        python.display()
    );
    python
}

/// One softphone to start.
#[derive(Clone, Debug)]
pub struct Softphone {
    label: String,
    args: Vec<String>,
    duration: Duration,
}

impl Softphone {
    pub fn new(label: &str) -> Self {
        Self {
            label: label.to_string(),
            args: Vec::new(),
            duration: Duration::from_secs(20),
        }
    }

    fn arg(mut self, name: &str, value: impl ToString) -> Self {
        self.args.push(name.to_string());
        self.args.push(value.to_string());
        self
    }

    /// Register `aor` (`sip:user@domain`) with the registrar at `registrar` (`host:port`).
    pub fn register(self, aor: &str, password: &str, registrar: &str) -> Self {
        self.arg("--register", aor)
            .arg("--password", password)
            .arg("--registrar", registrar)
    }

    pub fn call(self, uri: &str) -> Self {
        self.arg("--call", uri)
    }

    pub fn caller_id(self, uri: &str) -> Self {
        self.arg("--from-uri", uri)
    }

    pub fn sip_port(self, port: u16) -> Self {
        self.arg("--port", port)
    }

    /// First local RTP port (the phone takes it and the next one).
    pub fn rtp_port(self, port: u16) -> Self {
        self.arg("--rtp-port", port)
    }

    pub fn answer_after(self, ms: u64) -> Self {
        self.arg("--answer-after", ms)
    }

    /// Send this WAV file into the call, looped.
    pub fn play(self, wav: &Path) -> Self {
        self.arg("--play", wav.display())
    }

    /// Record what the phone hears; the file is named in the run's directory.
    pub fn record(self) -> Self {
        let label = self.label.clone();
        self.arg("--record", format!("{{dir}}/{label}-heard.wav"))
    }

    pub fn dtmf(self, digits: &str, after_ms: u64) -> Self {
        self.arg("--dtmf", digits).arg("--dtmf-after", after_ms)
    }

    pub fn hold(self, after_ms: u64, resume_after_ms: u64) -> Self {
        self.arg("--hold-after", after_ms)
            .arg("--resume-after", resume_after_ms)
    }

    pub fn hangup_after(self, ms: u64) -> Self {
        self.arg("--hangup-after", ms)
    }

    /// Offer only this codec (`PCMU` or `PCMA`).
    pub fn codec(self, codec: &str) -> Self {
        self.arg("--codec", codec)
    }

    pub fn duration(mut self, duration: Duration) -> Self {
        self.duration = duration;
        self
    }

    /// Start it; its files go to `<root>/<label>/`.
    pub fn spawn(self, root: &Path) -> RunningPhone {
        let python = python();
        let dir = root.join(&self.label);
        std::fs::create_dir_all(&dir).expect("softphone directory");
        let ready = dir.join("ready");
        let result = dir.join("result.json");
        let recording = dir.join(format!("{}-heard.wav", self.label));
        let dir_text = dir.display().to_string();
        let mut args: Vec<String> = vec![SCRIPT.into()];
        args.extend(self.args.iter().map(|a| a.replace("{dir}", &dir_text)));
        args.extend([
            "--duration".into(),
            format!("{:.1}", self.duration.as_secs_f64()),
            "--ready-file".into(),
            ready.display().to_string(),
            "--result".into(),
            result.display().to_string(),
        ]);
        let child = Command::new(&python)
            .args(&args)
            .current_dir(&dir)
            .stdin(Stdio::null())
            .stdout(File::create(dir.join("stdout.log")).expect("softphone stdout"))
            .stderr(File::create(dir.join("stderr.log")).expect("softphone stderr"))
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start the softphone {}: {e}", self.label));
        RunningPhone {
            label: self.label,
            command: format!("{} {}", python.display(), args.join(" ")),
            dir,
            ready,
            result,
            recording,
            deadline: Instant::now() + self.duration + KILL_GRACE,
            child,
        }
    }
}

/// A started phone; killed if dropped unfinished.
pub struct RunningPhone {
    label: String,
    command: String,
    dir: PathBuf,
    ready: PathBuf,
    result: PathBuf,
    recording: PathBuf,
    deadline: Instant,
    child: Child,
}

impl RunningPhone {
    /// Wait until the phone registered (agents) or started (callers).
    pub async fn ready(&mut self, within: Duration) -> Result<(), String> {
        let deadline = Instant::now() + within;
        loop {
            if self.ready.exists() {
                return Ok(());
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(format!(
                    "{} ended ({status}) before it was ready",
                    self.label
                ));
            }
            if Instant::now() > deadline {
                return Err(format!("{} not ready within {within:?}", self.label));
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Wait for the exit (killing at the deadline) and read what the phone reported.
    pub async fn finish(mut self) -> PhoneReport {
        let status = loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                break Some(status);
            }
            if Instant::now() > self.deadline {
                let _ = self.child.kill();
                let _ = self.child.wait();
                break None;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        let events = std::fs::read_to_string(&self.result)
            .ok()
            .and_then(|text| serde_json::from_str::<Value>(&text).ok())
            .and_then(|value| value.get("events").cloned())
            .and_then(|events| events.as_array().cloned())
            .unwrap_or_default();
        PhoneReport {
            label: self.label.clone(),
            command: self.command.clone(),
            dir: self.dir.clone(),
            status,
            events,
            recording: self.recording.exists().then(|| self.recording.clone()),
        }
    }
}

impl Drop for RunningPhone {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// What a phone saw.
pub struct PhoneReport {
    pub label: String,
    pub command: String,
    pub dir: PathBuf,
    /// `None` when it had to be killed.
    pub status: Option<ExitStatus>,
    pub events: Vec<Value>,
    pub recording: Option<PathBuf>,
}

impl PhoneReport {
    /// The events of one kind, in order.
    pub fn events(&self, kind: &str) -> Vec<&Value> {
        self.events
            .iter()
            .filter(|event| event["event"] == kind)
            .collect()
    }

    /// The digits the phone received (RFC 4733 or INFO), in order.
    pub fn digits(&self) -> String {
        self.events("dtmf")
            .iter()
            .filter_map(|event| event["digit"].as_str())
            .collect()
    }

    /// Whether the call reached CONFIRMED (answered and ACKed).
    pub fn was_connected(&self) -> bool {
        self.events("state")
            .iter()
            .any(|event| event["state"] == "CONFIRMED")
    }

    /// The codec names the call's audio stream used, in order.
    pub fn codecs(&self) -> Vec<String> {
        self.events("codec")
            .iter()
            .filter_map(|event| event["name"].as_str().map(str::to_string))
            .collect()
    }

    /// The exit status and logs, for a failure message.
    pub fn report(&self) -> String {
        let mut text = String::new();
        let status = match self.status {
            Some(status) => status.to_string(),
            None => "killed at its deadline".into(),
        };
        let _ = writeln!(text, "---- softphone `{}`: {status}", self.label);
        let _ = writeln!(text, "{}", self.command);
        let _ = writeln!(
            text,
            "events: {}",
            serde_json::to_string_pretty(&self.events).unwrap_or_default()
        );
        for name in ["stderr.log", "stdout.log"] {
            let content = std::fs::read_to_string(self.dir.join(name)).unwrap_or_default();
            if !content.trim().is_empty() {
                let _ = writeln!(text, "---- {name}:\n{}", super::sipp::tail(&content, 8_000));
            }
        }
        text
    }
}
