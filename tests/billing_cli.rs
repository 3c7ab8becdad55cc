//! End-to-end tests of billing run by hand with the built `hotline` binary, on SQLite and on a
//! throw-away PostgreSQL database: `hotline billing invoices`, `close-period` (one tenant, with
//! and without its grace period, and every tenant as of a date), and `rerate` (no differences, a
//! difference shown line by line with exit status 1, an open period); then `hotline serve` with
//! and without a Stripe key — the outbox driver calls the configured Stripe API only with one.
//!
//! The tariff, account and contract are made and call records ingested through the billing
//! crate on the same database, as the API and the call engine would; everything asserted comes
//! from the binary's output and the database.

mod support;

use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use hotline_billing::money::Currency;
use hotline_billing::store::AccountSettings;
use hotline_billing::tariff::TariffVersion;
use hotline_billing::Billing;
use hotline_core::call::{CallRecord, Direction, EndCause, Party, Phase};
use hotline_core::ids::{CallId, TenantId};
use hotline_core::testing::TestDb;
use hotline_core::{Db, PlatformScope};
use serde_json::{json, Value};
use sqlx::Row;
use support::{free_port, http_client, Sandbox};

fn at(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text)
        .expect("an RFC 3339 time")
        .with_timezone(&Utc)
}

fn call(tenant: TenantId, answered: &str, seconds: i64) -> CallRecord {
    let answered_at = at(answered);
    CallRecord {
        call_id: CallId::new(),
        direction: Direction::Inbound,
        tenant_id: Some(tenant),
        hotline_id: None,
        trunk_id: None,
        caller: "+421900123456".into(),
        dialed: "+421233000111".into(),
        branch: None,
        arrived_at: answered_at - chrono::Duration::seconds(2),
        answered_at: Some(answered_at),
        ivr: None,
        queues: vec![],
        legs: vec![],
        agent_id: None,
        agent_answered_at: None,
        holds: vec![],
        transfers: vec![],
        vars: Default::default(),
        disposition: None,
        ended_at: answered_at + chrono::Duration::seconds(seconds),
        end_cause: EndCause::Completed,
        hangup_by: Party::Caller,
        phase_at_end: Phase::Talking,
        media: Vec::new(),
        recording: None,
    }
}

/// The database the sandbox's `hotline` uses.
fn database_url(sandbox: &Sandbox, postgres: Option<&TestDb>) -> String {
    match postgres {
        Some(db) => db.url(),
        None => format!(
            "sqlite://{}?mode=rwc",
            sandbox.path("hotline-data/hotline.db").display()
        ),
    }
}

/// A migrated sandbox with tenant `acme`, billed from 2025-01-01 (Bratislava, billing day 1,
/// 20 % tax, one day of grace) on a tariff of 0.04 per inbound minute, 60/60, 100 minutes
/// included for 10.00 and a 49.90 platform fee, with calls of 600 s on 2025-01-15 and 300 s on
/// 2025-02-10. Returns the database handle and the tenant.
async fn billed_tenant(sandbox: &Sandbox, postgres: Option<&TestDb>) -> (Db, TenantId) {
    sandbox.ok(&["migrate"], &[]);
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
        ],
        &[],
    );
    let listed: Value =
        serde_json::from_str(&sandbox.ok(&["tenant", "list", "--json"], &[]).stdout)
            .expect("tenant list --json");
    let tenant: TenantId = listed[0]["id"]
        .as_str()
        .and_then(|id| id.parse().ok())
        .expect("tenant id");

    let db = Db::connect(&database_url(sandbox, postgres))
        .await
        .expect("open the sandbox's database");
    let now = at("2025-02-20T12:00:00Z");
    let billing = Billing::new(db.clone(), None).with_clock(Arc::new(move || now));
    let store = billing.store();
    let platform = PlatformScope::from_verified();
    let eur = Currency::from_code("EUR").expect("EUR");
    let tariff = store
        .platform_create_tariff(&platform, "Standard", eur, now)
        .await
        .expect("tariff");
    let version: TariffVersion = serde_json::from_value(json!({
        "tariff_id": tariff.id, "version": 1, "effective_from": "2025-01-01", "currency": "EUR",
        "metrics": [{"metric": "inbound_minutes", "rate_per_minute": "0.04",
                     "increments": {"first_seconds": 60, "next_seconds": 60}}],
        "bundles": [{"metric": "inbound_minutes", "included_minutes": 100, "period_fee": "10.00"}],
        "recurring": [{"kind": "platform", "price_per_period": "49.90"}]
    }))
    .expect("tariff version");
    store
        .platform_add_tariff_version(&platform, &version, now)
        .await
        .expect("version");
    let settings = AccountSettings {
        name: "Acme Calls s.r.o.".into(),
        email: None,
        currency: eur,
        tax_rate: Some("0.20".parse().expect("a rate")),
        billing_day: 1,
        time_zone: chrono_tz::Europe::Bratislava,
        grace_period: Duration::from_secs(24 * 3600),
    };
    store
        .platform_create_account(&platform, tenant, settings, now)
        .await
        .expect("account");
    let start = chrono::NaiveDate::from_ymd_opt(2025, 1, 1).expect("date");
    store
        .platform_create_contract(&platform, tenant, tariff.id, start, None, now)
        .await
        .expect("contract");
    for (answered, seconds) in [("2025-01-15T09:00:00Z", 600), ("2025-02-10T09:00:00Z", 300)] {
        billing
            .ingest(&call(tenant, answered, seconds))
            .await
            .expect("ingest");
    }
    (db, tenant)
}

async fn invoice_id(db: &Db, tenant: TenantId, period_start: &str) -> String {
    sqlx::query("SELECT id FROM billing_invoices WHERE tenant_id = $1 AND period_start = $2")
        .bind(tenant.to_db())
        .bind(period_start)
        .fetch_one(db.pool())
        .await
        .expect("invoice")
        .try_get("id")
        .expect("id")
}

async fn billing_by_hand(postgres: Option<&TestDb>) {
    let mut sandbox = Sandbox::new();
    if let Some(db) = postgres {
        sandbox.set("DATABASE_URL", db.url());
    }
    let (db, tenant) = billed_tenant(&sandbox, postgres).await;

    let listed = sandbox.ok(&["billing", "invoices", "--tenant", "acme"], &[]);
    for needle in [
        "2025-02-01 to 2025-02-28    open",
        "2025-01-01 to 2025-01-31    open",
    ] {
        assert!(listed.stdout.contains(needle), "{}", listed.stdout);
    }

    // January ended at local midnight (2025-01-31 23:00 UTC); its day of grace runs until
    // 2025-02-01 23:00 UTC, so at noon it waits ...
    let early = sandbox.ok(
        &[
            "billing",
            "close-period",
            "--tenant",
            "acme",
            "--at",
            "2025-02-01T12:00:00Z",
        ],
        &[],
    );
    assert!(
        early
            .stdout
            .contains("Waiting: acme 2025-01-01 to 2025-01-31")
            && early.stdout.contains("late records are accepted until"),
        "{}",
        early.stdout
    );
    // ... and two days later it is finalized. The first period of a contract starting on its
    // first day: January's platform fee whole (49.90), February's in advance (49.90), the
    // bundle (10.00), the 10 minutes included = 109.80; tax 21.96; total 131.76.
    let closed = sandbox.ok(
        &[
            "billing",
            "close-period",
            "--tenant",
            "acme",
            "--at",
            "2025-02-03",
        ],
        &[],
    );
    assert!(
        closed
            .stdout
            .contains("Finalized acme 2025-01-01 to 2025-01-31: total 131.76 EUR"),
        "{}",
        closed.stdout
    );
    let again = sandbox.ok(
        &[
            "billing",
            "close-period",
            "--tenant",
            "acme",
            "--at",
            "2025-02-03",
        ],
        &[],
    );
    assert!(
        again.stdout.contains("Nothing to finalize"),
        "{}",
        again.stdout
    );

    // Every tenant as of 5 March: March's invoice is made, February starts and ends its grace
    // and is finalized.
    let all = sandbox.ok(
        &[
            "billing",
            "close-period",
            "--all",
            "--at",
            "2025-03-05",
            "--json",
        ],
        &[],
    );
    let report: Value = serde_json::from_str(&all.stdout).expect("JSON");
    let february = invoice_id(&db, tenant, "2025-02-01").await;
    assert_eq!(
        report,
        json!({ "opened": 1, "closing": 1, "finalized": [february], "failed": [] })
    );
    let future = sandbox.fails(
        &["billing", "close-period", "--all", "--at", "2999-01-01"],
        &[],
    );
    assert!(future.stderr.contains("ahead of time"), "{}", future.stderr);
    let neither = sandbox.run(&["billing", "close-period"], &[]);
    assert_eq!(neither.status.code(), Some(2), "{}", neither.stderr);

    let rerated = sandbox.ok(
        &[
            "billing", "rerate", "--tenant", "acme", "--period", "2025-01",
        ],
        &[],
    );
    assert!(
        rerated.stdout.contains("No differences"),
        "{}",
        rerated.stdout
    );

    // Usage that reached the finalized January invoice behind billing's back (a bug, a hand
    // edit): 6000 s more starting on 20 January. Recomputed, 600 + 6000 s exceed the 6000
    // included by 600 s = 10 min × 0.04 = 0.40 more, tax 0.08 more: 132.24.
    let january = invoice_id(&db, tenant, "2025-01-01").await;
    let started = at("2025-01-20T10:00:00Z").timestamp_millis();
    sqlx::query(
        "INSERT INTO billing_usage (call_id, leg, metric, tenant_id, invoice_id, source_invoice_id, started_at, ended_at, ingested_at)
         VALUES ($1, 0, 'inbound_minutes', $2, $3, NULL, $4, $5, $4)",
    )
    .bind(CallId::new().to_db())
    .bind(tenant.to_db())
    .bind(&january)
    .bind(started)
    .bind(started + 6_000_000)
    .execute(db.pool())
    .await
    .expect("slip in a usage");
    let differs = sandbox.fails(
        &[
            "billing", "rerate", "--tenant", "acme", "--period", "2025-01",
        ],
        &[],
    );
    for needle in [
        "changed  Inbound minutes",
        "added    ",
        "(+0.40 EUR)",
        "Total: stored 131.76 EUR, recomputed 132.24 EUR (+0.48 EUR)",
    ] {
        assert!(
            differs.stdout.contains(needle),
            "{needle:?} in:\n{}",
            differs.stdout
        );
    }
    assert!(
        differs
            .stderr
            .contains("differs from its recomputation in 2 line(s)"),
        "{}",
        differs.stderr
    );
    let as_json = sandbox.fails(
        &[
            "billing",
            "rerate",
            "--tenant",
            "acme",
            "--period",
            "2025-01-31",
            "--json",
        ],
        &[],
    );
    let report: Value = serde_json::from_str(&as_json.stdout).expect("JSON");
    assert_eq!(
        (
            &report["matches"],
            &report["stored_total_minor"],
            &report["recomputed_total_minor"]
        ),
        (&json!(false), &json!(13_176), &json!(13_224))
    );

    let open = sandbox.ok(
        &[
            "billing", "rerate", "--tenant", "acme", "--period", "2025-03",
        ],
        &[],
    );
    assert!(open.stdout.contains("not finalized"), "{}", open.stdout);
    let missing = sandbox.fails(
        &[
            "billing", "rerate", "--tenant", "acme", "--period", "2024-12",
        ],
        &[],
    );
    assert!(
        missing.stderr.contains("no invoice for the period 2024-12"),
        "{}",
        missing.stderr
    );
    let nobody = sandbox.fails(&["billing", "invoices", "--tenant", "nobody"], &[]);
    assert!(
        nobody.stderr.contains("cannot find tenant"),
        "{}",
        nobody.stderr
    );

    let listed: Value = serde_json::from_str(
        &sandbox
            .ok(&["billing", "invoices", "--tenant", "acme", "--json"], &[])
            .stdout,
    )
    .expect("JSON");
    let statuses: Vec<(&str, &str)> = listed
        .as_array()
        .expect("invoices")
        .iter()
        .map(|i| {
            (
                i["period_start"].as_str().unwrap_or_default(),
                i["status"].as_str().unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(
        statuses,
        vec![
            ("2025-03-01", "open"),
            ("2025-02-01", "finalized"),
            ("2025-01-01", "finalized"),
        ]
    );
    db.close().await;
}

#[tokio::test]
async fn billing_by_hand_on_sqlite() {
    billing_by_hand(None).await;
}

#[tokio::test]
async fn billing_by_hand_on_postgres() {
    let db = TestDb::postgres().await;
    billing_by_hand(Some(&db)).await;
    db.finish().await;
}

/// A stand-in for Stripe's API: records the head of every request and answers 500 (the outbox
/// then retries later; what matters here is whether it called at all).
struct FakeStripe {
    port: u16,
    heads: Arc<Mutex<Vec<String>>>,
    stop: Arc<AtomicBool>,
}

impl FakeStripe {
    fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.set_nonblocking(true).expect("nonblocking");
        let port = listener.local_addr().expect("addr").port();
        let heads = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (seen, stopped) = (heads.clone(), stop.clone());
        std::thread::spawn(move || {
            while !stopped.load(Ordering::Relaxed) {
                let Ok((mut stream, _)) = listener.accept() else {
                    std::thread::sleep(Duration::from_millis(20));
                    continue;
                };
                let _ = stream.set_nonblocking(false);
                let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
                let mut head = Vec::new();
                let mut byte = [0_u8; 1];
                while !head.ends_with(b"\r\n\r\n") && stream.read(&mut byte).is_ok_and(|n| n == 1) {
                    head.push(byte[0]);
                }
                seen.lock()
                    .expect("heads")
                    .push(String::from_utf8_lossy(&head).into_owned());
                let body = r#"{"error":{"type":"api_error","message":"test double"}}"#;
                let _ = write!(
                    stream,
                    "HTTP/1.1 500 Internal Server Error\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
            }
        });
        Self { port, heads, stop }
    }

    fn heads(&self) -> Vec<String> {
        self.heads.lock().expect("heads").clone()
    }
}

impl Drop for FakeStripe {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

async fn outbox_rows(db: &Db, status: &str) -> i64 {
    sqlx::query("SELECT COUNT(*) AS n FROM billing_outbox WHERE status = $1")
        .bind(status)
        .fetch_one(db.pool())
        .await
        .expect("count")
        .try_get("n")
        .expect("n")
}

/// Without a Stripe key nothing is queued for Stripe and `serve` starts no driver; with one,
/// finalized invoices are queued and `serve` sends them to the configured API.
#[tokio::test]
async fn serve_sends_to_stripe_only_with_a_key() {
    let http = http_client();

    let local = Sandbox::new();
    let (db, _) = billed_tenant(&local, None).await;
    local.ok(
        &[
            "billing",
            "close-period",
            "--tenant",
            "acme",
            "--at",
            "2025-02-03",
        ],
        &[],
    );
    assert!(outbox_rows(&db, "local").await > 0);
    assert_eq!(outbox_rows(&db, "pending").await, 0);
    let mut server = local.serve(&[], free_port());
    server.wait_healthy(&http).await;
    let (status, log) = server.terminate();
    assert!(status.success(), "{log}");
    assert!(log.contains("no Stripe key configured"), "{log}");
    assert_eq!(
        outbox_rows(&db, "pending").await,
        0,
        "nothing is queued without a key"
    );
    db.close().await;

    let stripe = FakeStripe::start();
    let key = "sk_test_hotline_e2e_key";
    let mut sandbox = Sandbox::new();
    sandbox.set("HOTLINE_BILLING_STRIPE_SECRET_KEY", key);
    sandbox.set(
        "HOTLINE_BILLING_STRIPE_API_BASE",
        format!("http://127.0.0.1:{}", stripe.port),
    );
    let shown = sandbox.ok(&["config"], &[]);
    assert!(
        shown.stdout.contains("stripe_secret_key = \"***\"") && !shown.stdout.contains(key),
        "{}",
        shown.stdout
    );
    let (db, _) = billed_tenant(&sandbox, None).await;
    sandbox.ok(
        &[
            "billing",
            "close-period",
            "--tenant",
            "acme",
            "--at",
            "2025-02-03",
        ],
        &[],
    );
    assert!(outbox_rows(&db, "pending").await > 0);
    assert!(stripe.heads().is_empty(), "the CLI itself sends nothing");

    let mut server = sandbox.serve(&[], free_port());
    server.wait_healthy(&http).await;
    let deadline = Instant::now() + Duration::from_secs(20);
    while stripe.heads().is_empty() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let heads = stripe.heads();
    let (status, log) = server.terminate();
    assert!(status.success(), "{log}");
    assert!(
        log.contains("sending finalized invoices to Stripe"),
        "{log}"
    );
    let first = heads
        .first()
        .unwrap_or_else(|| panic!("Stripe was never called:\n{log}"));
    assert!(first.starts_with("GET /v1/customers/search"), "{first}");
    assert!(
        first
            .to_ascii_lowercase()
            .contains(&format!("authorization: bearer {key}")),
        "{first}"
    );
    assert!(!log.contains(key), "the key reached the log");
    db.close().await;
}
