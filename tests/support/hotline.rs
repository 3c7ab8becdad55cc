//! A running `hotline serve` for the end-to-end telephony tests (SIPp in `sipp.rs`, the
//! softphone in `media.rs`): started in its own sandbox with SIP on a free 127.0.0.1 port,
//! provisioned only through the REST API (tenants, agents, numbers, trunks), and read back
//! through it (call history, registrations, metrics). Checks run concurrently and every
//! failure is reported together with the tail of the server's log.

use std::future::Future;
use std::io::Write as _;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::pin::Pin;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use super::api::Api;
use super::sipp::{self, tail, Outcome, Running, Sipp, SCENARIOS};
use super::{
    free_port, free_udp_tcp_port, http_client, login, Sandbox, Server, ADMIN_EMAIL, ADMIN_PASSWORD,
};

/// The server logs what the SIP side and the call engine decide, for failure reports.
pub const LOG_FILTER: &str = "info,hotline=debug,hotline_sip=debug,hotline_routing=debug";
pub const DOMAIN_SUFFIX: &str = "sip.hotline.local";
/// How much of the server's log goes into a failure report.
const MAX_SERVER_LOG: usize = 40_000;

pub type Check<'a> = Pin<Box<dyn Future<Output = Result<(), String>> + Send + 'a>>;

/// Whether the tests can run; says loudly why not.
pub fn sipp_available(test: &str) -> bool {
    if sipp::installed() {
        return true;
    }
    // Straight to the stderr handle: the test harness captures eprintln! of passing tests,
    // and a skip must be seen.
    let _ = writeln!(
        std::io::stderr(),
        "SKIPPED {test}: `sipp` is not installed (Debian package sip-tester; scripts/test.sh \
         installs it)"
    );
    false
}

/// A running server, provisioned over its API.
pub struct Hotline {
    _sandbox: Sandbox,
    server: std::sync::Mutex<Server>,
    pub server_log: PathBuf,
    pub database: PathBuf,
    pub sip: SocketAddr,
    pub api: Api,
    /// Where every sipp run keeps its logs.
    pub logs: PathBuf,
}

pub struct Tenant {
    pub id: String,
    pub domain: String,
}

pub struct Agent {
    pub id: String,
    pub username: String,
    pub password: String,
    pub domain: String,
}

impl Hotline {
    /// Start `hotline serve` with `sip_settings` added to its `[sip]` section (further sections
    /// may follow, e.g. `"\n[rtp]\nmedia_timeout_secs = 2"`), bootstrap the platform admin and
    /// log in.
    pub async fn start(sip_settings: &str) -> Self {
        let mut sandbox = Sandbox::new();
        sandbox.set("HOTLINE_LOG_LEVEL", LOG_FILTER);
        let sip_port = free_udp_tcp_port("127.0.0.1");
        sandbox.set("HOTLINE_SIP_LISTEN", format!("127.0.0.1:{sip_port}"));
        // SIPp 3.6 computes MD5 digests only and answers the first challenge it gets.
        let config = format!(
            "[sip]\ndomain_suffix = \"{DOMAIN_SUFFIX}\"\n\
             digest_algorithms = [\"MD5\", \"SHA-256\"]\n{sip_settings}\n"
        );
        std::fs::write(sandbox.path("hotline.toml"), config).expect("write hotline.toml");
        let http = http_client();
        let mut server = sandbox.serve(&[], free_port());
        server.wait_healthy(&http).await;
        sandbox.ok(
            &["admin", "bootstrap", "--email", ADMIN_EMAIL],
            &[("HOTLINE_BOOTSTRAP_PASSWORD", ADMIN_PASSWORD)],
        );
        let token = login(&http, &server, ADMIN_EMAIL, ADMIN_PASSWORD).await;
        let api = Api::new(http, &server, token);
        let logs = sandbox.path("sipp");
        std::fs::create_dir_all(&logs).expect("sipp log directory");
        Self {
            server_log: server.log_path().to_path_buf(),
            database: sandbox.path("hotline-data/hotline.db"),
            server: std::sync::Mutex::new(server),
            _sandbox: sandbox,
            sip: SocketAddr::from(([127, 0, 0, 1], sip_port)),
            api,
            logs,
        }
    }

    pub async fn tenant(&self, slug: &str, max_concurrent_calls: u32) -> Tenant {
        let id = self
            .api
            .create(
                "/api/v1/tenants",
                json!({
                    "slug": slug,
                    "name": format!("Tenant {slug}"),
                    "time_zone": "Europe/Bratislava",
                    // A high rate limit, so that a concurrent-call refusal is the only one.
                    "limits": { "max_concurrent_calls": max_concurrent_calls, "max_calls_per_second": 1000 },
                }),
            )
            .await;
        Tenant {
            id,
            domain: format!("{slug}.{DOMAIN_SUFFIX}"),
        }
    }

    pub async fn agent(&self, tenant: &Tenant, username: &str) -> Agent {
        let password = format!("{username}-sip-secret");
        let id = self
            .api
            .create(
                &format!("/api/v1/tenants/{}/agents", tenant.id),
                json!({ "name": username, "sip_username": username, "sip_password": password }),
            )
            .await;
        Agent {
            id,
            username: username.to_string(),
            password,
            domain: tenant.domain.clone(),
        }
    }

    /// A hotline open around the clock with `open_action`, reached at `number`.
    pub async fn number(&self, tenant: &Tenant, number: &str, open_action: Value) {
        self.number_with(tenant, number, open_action, json!({}))
            .await;
    }

    /// Like [`Hotline::number`], with more of the hotline's fields (`recording_policy`, ...).
    pub async fn number_with(
        &self,
        tenant: &Tenant,
        number: &str,
        open_action: Value,
        more: Value,
    ) {
        let mut spec = json!({ "name": format!("Line {number}"), "always_open": true, "open_action": open_action });
        if let (Some(spec), Some(more)) = (spec.as_object_mut(), more.as_object()) {
            spec.extend(more.clone());
        }
        let hotline = self
            .api
            .create(&format!("/api/v1/tenants/{}/hotlines", tenant.id), spec)
            .await;
        self.api
            .create(
                &format!("/api/v1/tenants/{}/numbers", tenant.id),
                json!({ "e164": number, "hotline_id": hotline }),
            )
            .await;
    }

    /// The carrier: INVITEs from 127.0.0.1 are its, and calls out go to 127.0.0.1:`outbound_port`.
    pub async fn trunk(&self, outbound_port: u16) -> String {
        self.api
            .create(
                "/api/v1/trunks",
                json!({
                    "name": "loopback carrier",
                    "inbound": { "sources": ["127.0.0.1/32"] },
                    "outbound": { "host": "127.0.0.1", "port": outbound_port, "transport": "udp" },
                }),
            )
            .await
    }

    /// The SIP side reloads trunks when they change (every 500 ms at most): until then an
    /// INVITE is "not from a trunk". A call to `unknown_number` answered 404 shows the trunk is
    /// in place; it is retried for a few seconds, then the test fails with its report.
    pub async fn wait_for_trunks(&self, unknown_number: &str) {
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let probe = self
                .run(self.refused("unknown-number", unknown_number, 404))
                .await;
            match probe.check() {
                Ok(()) => return,
                Err(report) if Instant::now() > deadline => {
                    self.fail_if_any(
                        vec![format!("==== unknown number 404 FAILED:\n{report}")],
                        1,
                    );
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(300)).await,
            }
        }
    }

    /// A sipp phone registered as `agent`, answering `calls` calls with the out-of-call
    /// scenario `answers_with`; returned once the registration is confirmed.
    pub async fn phone(
        &self,
        label: &str,
        agent: &Agent,
        answers_with: &str,
        calls: u32,
        tcp: bool,
    ) -> Result<Running, String> {
        let ready = self.logs.join(format!("{label}.registered"));
        let mut phone = Sipp::new(label, "phone_register.xml")
            .to(self.sip)
            .service(&agent.username)
            .credentials(&agent.username, &agent.password, &agent.domain)
            .arg("-oocsf")
            .arg(&format!("{SCENARIOS}/{answers_with}"))
            .set("calls", &calls.to_string())
            .set("ready_file", &ready.display().to_string())
            .timeout(Duration::from_secs(40));
        if tcp {
            phone = phone.tcp();
        }
        let mut running = phone.spawn(&self.logs);
        match running.wait_for_file(&ready, Duration::from_secs(10)).await {
            Ok(()) => Ok(running),
            Err(why) => Err(format!("{why}\n{}", running.finish().await.report())),
        }
    }

    /// A carrier's call to `number`.
    pub fn carrier(&self, label: &str, scenario: &str, number: &str) -> Sipp {
        Sipp::new(label, scenario).to(self.sip).service(number)
    }

    /// A carrier's call to `number` that must end with `status`.
    pub fn refused(&self, label: &str, number: &str, status: u16) -> Sipp {
        self.carrier(label, "carrier_expect_status.xml", number)
            .set("expected", &status.to_string())
    }

    pub async fn run(&self, sipp: Sipp) -> Outcome {
        sipp.spawn(&self.logs).finish().await
    }

    /// The tenant's stored calls to `number`, once exactly `count` are there (records are
    /// written after the call, by a background task).
    pub async fn records(
        &self,
        tenant: &Tenant,
        number: &str,
        count: usize,
    ) -> Result<Vec<Value>, String> {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let page = self
                .api
                .get(&format!("/api/v1/tenants/{}/calls?limit=500", tenant.id))
                .await;
            let found: Vec<Value> = page["items"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|record| record["dialed"] == number)
                .cloned()
                .collect();
            if found.len() > count || (found.len() < count && Instant::now() > deadline) {
                return Err(format!(
                    "expected {count} call record(s) for {number}, found {}: {found:#?}",
                    found.len()
                ));
            }
            if found.len() == count {
                return Ok(found);
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// Stored calls that belong to no tenant (refused before the number resolved), read from
    /// the database: no API shows them. Waits until exactly `count` are there.
    pub async fn tenantless_records(&self, count: usize) -> Result<Vec<Value>, String> {
        let url = format!("sqlite://{}?mode=rw", self.database.display());
        let db = hotline_core::Db::connect(&url)
            .await
            .map_err(|e| format!("cannot open {url}: {e}"))?;
        let deadline = Instant::now() + Duration::from_secs(10);
        let found = loop {
            let rows: Vec<(String,)> =
                sqlx::query_as("SELECT record FROM call_records WHERE tenant_id IS NULL")
                    .fetch_all(db.pool())
                    .await
                    .map_err(|e| format!("cannot read call_records: {e}"))?;
            let found = rows
                .into_iter()
                .map(|(text,)| serde_json::from_str::<Value>(&text).map_err(|e| e.to_string()))
                .collect::<Result<Vec<Value>, String>>()?;
            if found.len() >= count || Instant::now() > deadline {
                break found;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        };
        db.pool().close().await;
        if found.len() == count {
            Ok(found)
        } else {
            Err(format!(
                "expected {count} call record(s) without a tenant, found {}: {found:#?}",
                found.len()
            ))
        }
    }

    /// The data directory of the server (its database, its files).
    pub fn data_dir(&self) -> PathBuf {
        self.database
            .parent()
            .map(PathBuf::from)
            .unwrap_or_default()
    }

    pub async fn registrations(&self, tenant: &Tenant, agent: &Agent) -> Value {
        self.api
            .get(&format!(
                "/api/v1/tenants/{}/agents/{}/registrations",
                tenant.id, agent.id
            ))
            .await
    }

    /// One Prometheus sample (summed over its label sets when `labels` is empty).
    pub async fn metric(&self, name: &str, labels: &str) -> f64 {
        let text = self.api.text("/metrics").await;
        metric_value(&text, name, labels)
    }

    /// Run every check at once; panic with all failures, the server's log and whether it is
    /// still alive.
    pub async fn expect_all(&self, checks: Vec<(&str, Check<'_>)>) {
        let (names, futures): (Vec<&str>, Vec<Check<'_>>) = checks.into_iter().unzip();
        let results = join_all(futures).await;
        let failures: Vec<String> = names
            .iter()
            .zip(results)
            .filter_map(|(name, result)| {
                result
                    .err()
                    .map(|why| format!("==== {name} FAILED:\n{why}"))
            })
            .collect();
        self.fail_if_any(failures, names.len());
    }

    /// Panic with the failures, the server's log and whether it is still alive; also when the
    /// only failure is that the server died.
    pub fn fail_if_any(&self, mut failures: Vec<String>, checks: usize) {
        let alive = self
            .server
            .lock()
            .map(|mut server| server.is_running())
            .unwrap_or(false);
        if !alive {
            failures.push("==== hotline serve is not running any more".into());
        }
        if failures.is_empty() {
            return;
        }
        let log = std::fs::read_to_string(&self.server_log).unwrap_or_default();
        panic!(
            "{} of {checks} checks failed\n{}\n==== hotline serve log (tail):\n{}",
            failures.len(),
            failures.join("\n"),
            tail(&log, MAX_SERVER_LOG)
        );
    }
}

/// Run the futures concurrently on the test's runtime and collect their results in order.
pub async fn join_all(futures: Vec<Check<'_>>) -> Vec<Result<(), String>> {
    // Scoped: the checks borrow the fixture, so they are polled here rather than spawned.
    let mut pending: Vec<Option<Check<'_>>> = futures.into_iter().map(Some).collect();
    let mut results: Vec<Option<Result<(), String>>> = pending.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut all_done = true;
        for (slot, result) in pending.iter_mut().zip(results.iter_mut()) {
            if let Some(future) = slot {
                match future.as_mut().poll(cx) {
                    std::task::Poll::Ready(done) => {
                        *result = Some(done);
                        *slot = None;
                    }
                    std::task::Poll::Pending => all_done = false,
                }
            }
        }
        if all_done {
            std::task::Poll::Ready(())
        } else {
            std::task::Poll::Pending
        }
    })
    .await;
    results
        .into_iter()
        .map(|result| result.unwrap_or_else(|| Err("never finished".into())))
        .collect()
}

/// Ok when every run succeeded; otherwise the reports of all of them (the passing ones show
/// the other side of the conversation).
pub fn all_ok(outcomes: &[&Outcome]) -> Result<(), String> {
    if outcomes.iter().all(|outcome| outcome.check().is_ok()) {
        return Ok(());
    }
    Err(outcomes
        .iter()
        .map(|outcome| outcome.report())
        .collect::<Vec<_>>()
        .join("\n"))
}

/// What a field of a call record must be.
pub enum Expect {
    Is(&'static str, Value),
    Set(&'static str),
    Unset(&'static str),
}

pub fn check_record(record: &Value, expectations: &[Expect]) -> Result<(), String> {
    let field = |pointer: &str| record.pointer(pointer).cloned().unwrap_or(Value::Null);
    let wrong: Vec<String> = expectations
        .iter()
        .filter_map(|expect| match expect {
            Expect::Is(pointer, want) => {
                let got = field(pointer);
                (got != *want).then(|| format!("{pointer}: expected {want}, got {got}"))
            }
            Expect::Set(pointer) => field(pointer)
                .is_null()
                .then(|| format!("{pointer}: expected a value, got none")),
            Expect::Unset(pointer) => {
                let got = field(pointer);
                (!got.is_null()).then(|| format!("{pointer}: expected none, got {got}"))
            }
        })
        .collect();
    if wrong.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "call record differs:\n  {}\nrecord: {record:#}",
            wrong.join("\n  ")
        ))
    }
}

/// The value of `name{labels}` in a Prometheus text page, summed over every series whose
/// labels contain `labels` (all series when it is empty); 0 when absent.
pub fn metric_value(text: &str, name: &str, labels: &str) -> f64 {
    text.lines()
        .filter(|line| !line.starts_with('#'))
        .filter_map(|line| {
            let (series, value) = line.rsplit_once(' ')?;
            let (metric, series_labels) = match series.split_once('{') {
                Some((metric, rest)) => (metric, rest.trim_end_matches('}')),
                None => (series, ""),
            };
            if metric != name || !series_labels.contains(labels) {
                return None;
            }
            value.parse::<f64>().ok()
        })
        .sum()
}
