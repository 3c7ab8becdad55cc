//! Billing through the HTTP API, on both backends, over the fixture of `common` (tenant A on
//! tariff "Standard": inbound minutes at 0.04 per minute, 60/60, 100 minutes included for
//! 10.00, a 49.90 platform fee per period in advance, 20 % tax; calls of 600 s on 2026-01-15,
//! 300 s on 2026-02-10 and 420 s on 2026-03-05; billing's clock at 2026-03-15 12:00 UTC, so
//! December and January are finalized, February waits out its 31-day grace, March is open).
//!
//! The arithmetic of every amount is written out where it is asserted.

mod common;

use std::sync::Arc;

use axum::http::{header, Method, StatusCode};
use chrono::{DateTime, Utc};
use common::*;
use hotline_billing::gateway::{
    CreditNoteRequest, CustomerRequest, DraftInvoiceRequest, FinalizeInvoiceRequest, GatewayError,
    GatewayFuture, InvoiceItemRequest, PaymentGateway, RemoteCreditNote, RemoteCustomer,
    RemoteInvoice, RemoteInvoiceItem, WebhookError, WebhookEvent, WebhookEventKind,
};
use serde_json::{json, Value};
use uuid::Uuid;

/// Dec: the contract's first period, paid whole (49.90 for December's days) plus January's
/// platform fee in advance (49.90) plus the bundle fee (10.00) = 109.80; tax 20 % = 21.96;
/// total 131.76.
const DECEMBER_TOTAL: i64 = 13_176;
/// A later period: next period's platform fee in advance (49.90) plus the bundle fee (10.00)
/// = 59.90, its calls inside the 100 included minutes; tax 11.98; total 71.88.
const MONTH_TOTAL: i64 = 7_188;

fn items(page: &Value) -> Vec<Value> {
    page["items"].as_array().cloned().unwrap_or_default()
}

async fn ingest(app: &App, tenant: &str, answered: &str, seconds: i64) {
    app.billing
        .ingest(&answered_call(tenant, answered, seconds))
        .await
        .expect("ingest");
}

/// The running period against its bundle, crossed by a call; invoices listed, read and
/// previewed as billed.
async fn usage_against_the_bundle_and_invoices_as_billed(backend: hotline_core::Backend) {
    let world = World::new(backend).await;
    let app = &world.app;
    let a = &world.a;
    let viewer = world.token(hotline_tenants::rbac::Role::BillingViewer);

    let usage = app.read(&a.url("/billing/usage"), viewer).await;
    assert_eq!(
        (
            &usage["period_start"],
            &usage["period_end"],
            &usage["status"]
        ),
        (&json!("2026-03-01"), &json!("2026-04-01"), &json!("open"))
    );
    assert_eq!(
        usage["metrics"],
        json!([{ "metric": "inbound_minutes", "billable_seconds": 420, "included_seconds": 420, "charged_seconds": 0 }])
    );
    assert_eq!(usage["invoice"]["final"], json!(false));
    assert_eq!(usage["invoice"]["total_minor"], json!(MONTH_TOTAL));
    let bundle = &usage["invoice"]["bundles"][0];
    assert_eq!(
        (
            &bundle["included_seconds"],
            &bundle["used_seconds"],
            &bundle["remaining_seconds"]
        ),
        (&json!(6000), &json!(420), &json!(5580))
    );

    // Two 50-minute calls: 420 + 3000 + 3000 = 6420 s against 6000 included; the second one
    // crosses the limit, 2580 s included and 420 s (7 min) charged at 0.04 = 0.28. Subtotal
    // 59.90 + 0.28 = 60.18; tax 12.036 rounds half up to 12.04; total 72.22.
    ingest(app, &a.id, "2026-03-10T09:00:00Z", 3000).await;
    ingest(app, &a.id, "2026-03-12T09:00:00Z", 3000).await;
    let usage = app.read(&a.url("/billing/usage"), viewer).await;
    assert_eq!(
        usage["metrics"],
        json!([{ "metric": "inbound_minutes", "billable_seconds": 6420, "included_seconds": 6000, "charged_seconds": 420 }])
    );
    assert_eq!(usage["invoice"]["subtotal_minor"], json!(6018));
    assert_eq!(usage["invoice"]["tax_minor"], json!(1204));
    assert_eq!(usage["invoice"]["total_minor"], json!(7222));
    assert_eq!(
        usage["invoice"]["bundles"][0]["remaining_seconds"],
        json!(0)
    );

    // Any date of a period names it; a period with nothing stored shows its fees alone.
    let june = app
        .read(&a.url("/billing/usage?date=2026-06-15"), viewer)
        .await;
    assert_eq!(june["period_start"], json!("2026-06-01"));
    assert_eq!(june["invoice_id"], Value::Null);
    assert_eq!(june["metrics"], json!([]));
    assert_eq!(june["invoice"]["total_minor"], json!(MONTH_TOTAL));
    let reply = app
        .get(&a.url("/billing/usage?date=June"), Some(viewer))
        .await;
    assert_problem(&reply, StatusCode::UNPROCESSABLE_ENTITY, "validation");

    // Newest period first, two per page.
    let first = app.read(&a.url("/invoices?limit=2"), viewer).await;
    let second_url = format!("/invoices?limit=2&cursor={}", str_of(&first, "next_cursor"));
    let second = app.read(&a.url(&second_url), viewer).await;
    assert!(second.get("next_cursor").is_none(), "{second}");
    let listed: Vec<(String, String, Value)> = items(&first)
        .iter()
        .chain(items(&second).iter())
        .map(|i| {
            (
                str_of(i, "period_start"),
                str_of(i, "status"),
                i["total_minor"].clone(),
            )
        })
        .collect();
    assert_eq!(
        listed,
        vec![
            ("2026-03-01".into(), "open".into(), Value::Null),
            ("2026-02-01".into(), "closing".into(), Value::Null),
            ("2026-01-01".into(), "finalized".into(), json!(MONTH_TOTAL)),
            (
                "2025-12-01".into(),
                "finalized".into(),
                json!(DECEMBER_TOTAL)
            ),
        ]
    );

    let january = app
        .read(&a.url(&format!("/invoices/{}", a.ids.invoice)), viewer)
        .await;
    assert_eq!(january["billed"]["total_minor"], json!(MONTH_TOTAL));
    assert_eq!(january["billed"]["subtotal_minor"], json!(5990));
    assert_eq!(january["billed"]["tax_minor"], json!(1198));
    assert_eq!(str_of(&january, "content_hash").len(), 64);
    let kinds: Vec<&str> = january["billed"]["lines"]
        .as_array()
        .expect("lines")
        .iter()
        .filter_map(|l| l["kind"]["type"].as_str())
        .collect();
    assert_eq!(
        kinds,
        vec!["recurring_in_advance", "bundle_fee", "included_usage"]
    );
    let lines = app
        .read(
            &a.url(&format!("/invoices/{}/lines", a.ids.invoice)),
            viewer,
        )
        .await;
    assert_eq!(lines["final"], json!(true));
    assert_eq!(lines["lines"], january["billed"]["lines"]);
    // An open invoice has no lines yet, only their preview.
    let march = str_of(&items(&first)[0], "id");
    let detail = app
        .read(&a.url(&format!("/invoices/{march}")), viewer)
        .await;
    assert_eq!(detail["billed"], Value::Null);
    let preview = app
        .read(&a.url(&format!("/invoices/{march}/lines")), viewer)
        .await;
    assert_eq!(
        (&preview["final"], &preview["total_minor"]),
        (&json!(false), &json!(7222))
    );
    world.finish().await;
}

/// Finalize, credit and void as the operator, each at most once per Idempotency-Key.
async fn money_moving_posts_honour_idempotency_keys(backend: hotline_core::Backend) {
    let world = World::new(backend).await;
    let app = &world.app;
    let a = &world.a;
    let op = app.operator.as_str();
    let lines_of = |invoice: &str| format!("tenant_id = '{}' AND invoice_id = '{invoice}'", a.id);

    // Finalizing February (before its grace is over: the operator's call) twice with one key.
    let finalize = a.url(&format!("/invoices/{}/finalize", a.ids.closing_invoice));
    let key = [("idempotency-key", "finalize-feb-1")];
    let first = app
        .request(Method::POST, &finalize, Some(op), None, &key)
        .await;
    assert_eq!(first.0, StatusCode::OK, "{}", first.2);
    assert_eq!(
        (&first.2["status"], &first.2["total_minor"]),
        (&json!("finalized"), &json!(MONTH_TOTAL))
    );
    assert!(first.1.get("idempotent-replayed").is_none());
    let lines_after_first = count(
        app,
        "billing_invoice_lines",
        &lines_of(&a.ids.closing_invoice),
    )
    .await;
    let outbox_after_first = count(app, "billing_outbox", &lines_of(&a.ids.closing_invoice)).await;
    assert_eq!(lines_after_first, 3);
    let again = app
        .request(Method::POST, &finalize, Some(op), None, &key)
        .await;
    assert_eq!(again.0, StatusCode::OK);
    assert_eq!(again.2, first.2);
    assert_eq!(
        again
            .1
            .get("idempotent-replayed")
            .and_then(|v| v.to_str().ok()),
        Some("true")
    );
    assert_eq!(
        count(
            app,
            "billing_invoice_lines",
            &lines_of(&a.ids.closing_invoice)
        )
        .await,
        lines_after_first
    );
    assert_eq!(
        count(app, "billing_outbox", &lines_of(&a.ids.closing_invoice)).await,
        outbox_after_first
    );
    // The same key for another request is refused; no key: it runs, and is final already.
    let other = format!("{finalize}?respect_grace=true");
    let reply = app
        .request(Method::POST, &other, Some(op), None, &key)
        .await;
    assert_problem(
        &reply,
        StatusCode::UNPROCESSABLE_ENTITY,
        "idempotency-mismatch",
    );
    let reply = app
        .request(Method::POST, &finalize, Some(op), None, &[])
        .await;
    assert_problem(&reply, StatusCode::CONFLICT, "conflict");
    let reply = app
        .request(
            Method::POST,
            &finalize,
            Some(op),
            None,
            &[("idempotency-key", "bad key")],
        )
        .await;
    assert_problem(&reply, StatusCode::BAD_REQUEST, "bad-idempotency-key");

    // A credit note on January, sent twice with one key: one credit note.
    let credits = a.url(&format!("/invoices/{}/credit-notes", a.ids.invoice));
    let body = json!({ "lines": [{ "description": "Outage on 20 January", "amount_minor": 1000 }],
                       "reason": "product_unsatisfactory", "memo": "as agreed" });
    let key = [("idempotency-key", "credit-jan-1")];
    let note = app
        .request(Method::POST, &credits, Some(op), Some(body.clone()), &key)
        .await;
    assert_eq!(note.0, StatusCode::CREATED, "{}", note.2);
    let replay = app
        .request(Method::POST, &credits, Some(op), Some(body.clone()), &key)
        .await;
    assert_eq!((replay.0, &replay.2), (StatusCode::CREATED, &note.2));
    let listed = app.read(&credits, &a.admin).await;
    assert_eq!(listed.as_array().map(Vec::len), Some(1), "{listed}");
    assert_eq!(listed[0]["total_minor"], json!(1000));
    assert_eq!(listed[0]["reason"], json!("product_unsatisfactory"));

    // The same key sent twice at once: one runs, the other waits its turn or is told it runs.
    let body2 = json!({ "lines": [{ "description": "Second outage", "amount_minor": 500 }] });
    let request = || {
        build_request(
            Method::POST,
            &credits,
            Some(op),
            body2.to_string().into_bytes(),
            &[
                ("idempotency-key", "credit-jan-2"),
                ("content-type", "application/json"),
            ],
        )
    };
    let (one, two) = tokio::join!(
        send(app.router.clone(), request()),
        send(app.router.clone(), request())
    );
    let mut statuses = [one.0, two.0];
    statuses.sort();
    assert!(
        statuses == [StatusCode::CREATED, StatusCode::CREATED]
            || statuses == [StatusCode::CREATED, StatusCode::CONFLICT],
        "{statuses:?}: {} / {}",
        one.2,
        two.2
    );
    let listed = app.read(&credits, &a.admin).await;
    assert_eq!(listed.as_array().map(Vec::len), Some(2), "{listed}");
    let exact = app
        .post(
            &credits,
            Some(op),
            json!({ "lines": [{ "description": "probe", "amount_minor": 0 }] }),
        )
        .await;
    assert_problem(&exact, StatusCode::UNPROCESSABLE_ENTITY, "validation");

    // A key is kept for a day; after that it may name a new request.
    app.clock.set("2026-03-16T12:00:01Z");
    let later = json!({ "lines": [{ "description": "A day later", "amount_minor": 100 }] });
    let reply = app
        .request(Method::POST, &credits, Some(op), Some(later), &key)
        .await;
    assert_eq!(reply.0, StatusCode::CREATED, "{}", reply.2);
    assert_ne!(reply.2["id"], note.2["id"]);
    assert!(reply.1.get("idempotent-replayed").is_none());

    // Credits never exceed the invoice: 71.88 - 10.00 - 5.00 - 1.00 = 55.88 is left.
    let reply = app
        .post(
            &credits,
            Some(op),
            json!({ "lines": [{ "description": "too much", "amount_minor": 5589 }] }),
        )
        .await;
    assert_problem(&reply, StatusCode::UNPROCESSABLE_ENTITY, "validation");

    // Voiding: not a credited invoice, once for one never sent anywhere, never twice.
    let void = |invoice: &str| a.url(&format!("/invoices/{invoice}/void"));
    let reply = app
        .request(Method::POST, &void(&a.ids.invoice), Some(op), None, &[])
        .await;
    let problem = assert_problem(&reply, StatusCode::UNPROCESSABLE_ENTITY, "validation");
    assert!(
        str_of(&problem, "detail").contains("credit notes"),
        "{problem}"
    );
    let voided = app
        .request(
            Method::POST,
            &void(&a.ids.spare_invoice),
            Some(op),
            None,
            &[],
        )
        .await;
    assert_eq!(voided.0, StatusCode::OK, "{}", voided.2);
    assert_eq!(
        (&voided.2["status"], &voided.2["payment_status"]),
        (&json!("void"), &json!("void"))
    );
    assert_eq!(
        count(app, "billing_outbox", &lines_of(&a.ids.spare_invoice)).await,
        0,
        "a void invoice keeps nothing to send"
    );
    let reply = app
        .request(
            Method::POST,
            &void(&a.ids.spare_invoice),
            Some(op),
            None,
            &[],
        )
        .await;
    assert_problem(&reply, StatusCode::UNPROCESSABLE_ENTITY, "validation");
    let reply = app
        .post(
            &a.url(&format!("/invoices/{}/credit-notes", a.ids.spare_invoice)),
            Some(op),
            json!({ "lines": [{ "description": "x", "amount_minor": 1 }] }),
        )
        .await;
    assert_problem(&reply, StatusCode::UNPROCESSABLE_ENTITY, "validation");
    // What a void invoice said is unchanged.
    let december = app
        .read(
            &a.url(&format!("/invoices/{}", a.ids.spare_invoice)),
            &a.admin,
        )
        .await;
    assert_eq!(december["billed"]["total_minor"], json!(DECEMBER_TOTAL));
    world.finish().await;
}

async fn count(app: &App, table: &str, filter: &str) -> i64 {
    use sqlx::Row;
    sqlx::query(&format!("SELECT COUNT(*) AS n FROM {table} WHERE {filter}"))
        .fetch_one(app.store.db().pool())
        .await
        .expect("count")
        .try_get("n")
        .expect("n")
}

/// Closing by hand waits out the grace period unless told not to, and finalizes in order.
async fn close_period_waits_for_grace_unless_skipped(backend: hotline_core::Backend) {
    let world = World::new(backend).await;
    let app = &world.app;
    let a = &world.a;
    let op = app.operator.as_str();
    let close = a.url("/billing/close-period");

    let report = app.read_post(&close, op, json!({})).await;
    assert_eq!(report["finalized"], json!([]));
    assert_eq!(
        report["waiting"]["invoice"]["id"],
        json!(a.ids.closing_invoice)
    );
    assert!(
        str_of(&report["waiting"], "reason").contains("late records are accepted until"),
        "{report}"
    );

    let report = app
        .read_post(&close, op, json!({ "skip_grace": true }))
        .await;
    let finalized: Vec<String> = report["finalized"]
        .as_array()
        .expect("finalized")
        .iter()
        .map(|i| str_of(i, "id"))
        .collect();
    assert_eq!(finalized, vec![a.ids.closing_invoice.clone()]);
    assert_eq!(report["finalized"][0]["total_minor"], json!(MONTH_TOTAL));
    assert_eq!(report["waiting"], Value::Null);
    let report = app
        .read_post(&close, op, json!({ "skip_grace": true }))
        .await;
    assert_eq!(
        (&report["finalized"], &report["waiting"]),
        (&json!([]), &Value::Null)
    );

    // After March ends (local midnight of 1 April, 22:00 UTC in summer time) it waits too.
    app.clock.set("2026-04-02T00:00:00Z");
    let report = app.read_post(&close, op, json!({})).await;
    assert_eq!(
        report["waiting"]["invoice"]["period_start"],
        json!("2026-03-01")
    );
    // A tenant admin may read but never close.
    let reply = app.post(&close, Some(&a.admin), json!({})).await;
    assert_problem(&reply, StatusCode::FORBIDDEN, "forbidden");
    world.finish().await;
}

trait ReadPost {
    async fn read_post(&self, path: &str, token: &str, body: Value) -> Value;
}

impl ReadPost for App {
    /// `POST` that must answer 200.
    async fn read_post(&self, path: &str, token: &str, body: Value) -> Value {
        let (status, _, json) = self.post(path, Some(token), body.clone()).await;
        assert_eq!(status, StatusCode::OK, "POST {path} {body}: {json}");
        json
    }
}

async fn csv_of(app: &App, path: &str, token: &str) -> Vec<Vec<String>> {
    let (status, headers, body) = app.get(path, Some(token)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok()),
        Some("text/csv; charset=utf-8")
    );
    assert!(headers
        .get(header::CONTENT_DISPOSITION)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("attachment; filename=\"usage-")));
    let text = body.as_str().expect("CSV is text").to_owned();
    assert!(text.ends_with("\r\n"), "{text:?}");
    text.split("\r\n")
        .filter(|line| !line.is_empty())
        .map(|line| line.split(',').map(str::to_owned).collect())
        .collect()
}

/// One CSV row per rated usage, late usage of a closed period marked, amounts exact.
async fn usage_export_lists_every_rated_usage(backend: hotline_core::Backend) {
    let world = World::new(backend).await;
    let app = &world.app;
    let a = &world.a;
    let viewer = world.token(hotline_tenants::rbac::Role::BillingViewer);

    let january = csv_of(
        app,
        &a.url(&format!("/invoices/{}/usage.csv", a.ids.invoice)),
        viewer,
    )
    .await;
    assert_eq!(
        january[0].join(","),
        "call_id,leg,metric,started_at,ended_at,measured_seconds,billable_seconds,included_seconds,band,tariff_id,tariff_version,amount,currency,late"
    );
    assert_eq!(january.len(), 2, "{january:?}");
    let row = &january[1];
    assert_eq!(
        row[1..].to_vec(),
        vec![
            "0",
            "inbound_minutes",
            "2026-01-15T09:00:00+00:00",
            "2026-01-15T09:10:00+00:00",
            "600",
            "600",
            "600",
            "standard",
            a.ids.tariff.as_str(),
            "1",
            "0",
            "EUR",
            "false"
        ]
    );

    // A January call arriving now lands late on February: 90 s bills 120 s (60/60), inside
    // what January's bundle left (6000 - 600), so it costs nothing.
    ingest(app, &a.id, "2026-01-20T10:00:00Z", 90).await;
    // Two March calls cross the bundle (see the usage test): the second is charged 420 s.
    ingest(app, &a.id, "2026-03-10T09:00:00Z", 3000).await;
    ingest(app, &a.id, "2026-03-12T09:00:00Z", 3000).await;

    let february = csv_of(
        app,
        &a.url(&format!("/invoices/{}/usage.csv", a.ids.closing_invoice)),
        viewer,
    )
    .await;
    let summary: Vec<(String, String, String, String)> = february[1..]
        .iter()
        .map(|r| (r[3].clone(), r[6].clone(), r[7].clone(), r[13].clone()))
        .collect();
    assert_eq!(
        summary,
        vec![
            (
                "2026-02-10T09:00:00+00:00".into(),
                "300".into(),
                "300".into(),
                "false".into()
            ),
            (
                "2026-01-20T10:00:00+00:00".into(),
                "120".into(),
                "120".into(),
                "true".into()
            ),
        ]
    );
    // Finalized, the export reads the late usage as billed: the same rows.
    let finalize = a.url(&format!("/invoices/{}/finalize", a.ids.closing_invoice));
    let (status, _, body) = app
        .request(Method::POST, &finalize, Some(&app.operator), None, &[])
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let billed = csv_of(
        app,
        &a.url(&format!("/invoices/{}/usage.csv", a.ids.closing_invoice)),
        viewer,
    )
    .await;
    assert_eq!(billed, february);

    let invoices = app.read(&a.url("/invoices"), viewer).await;
    let march = str_of(&items(&invoices)[0], "id");
    let march = csv_of(app, &a.url(&format!("/invoices/{march}/usage.csv")), viewer).await;
    let amounts: Vec<(String, String)> = march[1..]
        .iter()
        .map(|r| (r[7].clone(), r[11].clone()))
        .collect();
    // 420 + 3000 included; the third: 2580 included, 420 s × 0.04 / 60 = 0.28.
    assert_eq!(
        amounts,
        vec![
            ("420".into(), "0".into()),
            ("3000".into(), "0".into()),
            ("2580".into(), "0.28".into())
        ]
    );
    world.finish().await;
}

/// The printable invoice: self-contained, no scripts, everything typed by people escaped.
async fn printable_invoice_is_self_contained_and_escaped(backend: hotline_core::Backend) {
    let world = World::new(backend).await;
    let app = &world.app;
    let a = &world.a;
    let (status, _, account) = app
        .put(
            &a.url("/billing/account"),
            Some(&app.operator),
            json!({ "name": "Acme <script>alert(\"x\")</script> & Co", "currency": "EUR", "tax_rate": "0.20",
                    "time_zone": "Europe/Bratislava", "grace_period_secs": 31 * 24 * 3600 }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{account}");
    let (status, headers, body) = app
        .get(
            &a.url(&format!("/invoices/{}/print", a.ids.invoice)),
            Some(&a.admin),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok()),
        Some("text/html; charset=utf-8")
    );
    assert_eq!(
        headers
            .get(header::CONTENT_SECURITY_POLICY)
            .and_then(|v| v.to_str().ok()),
        Some(hotline_admin_ui::api::invoice_print::CONTENT_SECURITY_POLICY)
    );
    let html = body.as_str().expect("HTML is text");
    let lower = html.to_ascii_lowercase();
    for forbidden in [
        "<script",
        "src=",
        "href=",
        "<link",
        "<iframe",
        "javascript:",
    ] {
        assert!(!lower.contains(forbidden), "{forbidden} in {html}");
    }
    let hash = app
        .read(&a.url(&format!("/invoices/{}", a.ids.invoice)), &a.admin)
        .await["content_hash"]
        .clone();
    for expected in [
        "Acme &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; Co",
        "Callfirm Outsourcing a.s.",
        "VAT SK2020123456",
        "2026-01-01 to 2026-01-31",
        "Tax (20%)",
        "11.98 EUR",
        "71.88 EUR",
        hash.as_str().expect("hash"),
    ] {
        assert!(html.contains(expected), "{expected:?} missing from {html}");
    }
    // An open invoice has no printable page.
    let invoices = app.read(&a.url("/invoices"), &a.admin).await;
    let march = str_of(&items(&invoices)[0], "id");
    let reply = app
        .get(&a.url(&format!("/invoices/{march}/print")), Some(&a.admin))
        .await;
    assert_problem(&reply, StatusCode::CONFLICT, "conflict");
    world.finish().await;
}

/// Tariffs: a used version never changes (409); an unused latest one may be replaced; versions
/// follow in order and never reach into the past.
async fn tariff_versions_in_use_never_change(backend: hotline_core::Backend) {
    let world = World::new(backend).await;
    let app = &world.app;
    let op = app.operator.as_str();
    let tariff = format!("/api/v1/tariffs/{}", world.a.ids.tariff);
    let detail = app.read(&tariff, op).await;
    let versions: Vec<(Value, Value, Value)> = detail["versions"]
        .as_array()
        .expect("versions")
        .iter()
        .map(|v| {
            (
                v["version"].clone(),
                v["effective_from"].clone(),
                v["billed"].clone(),
            )
        })
        .collect();
    assert_eq!(
        versions,
        vec![
            (json!(1), json!("2025-12-01"), json!(true)),
            (json!(2), json!("2026-06-01"), json!(false)),
        ]
    );
    let reply = app
        .put(
            &format!("{tariff}/versions/1"),
            Some(op),
            tariff_prices(1, "2025-12-01", "0.01"),
        )
        .await;
    assert_problem(&reply, StatusCode::CONFLICT, "conflict");
    let (status, _, replaced) = app
        .put(
            &format!("{tariff}/versions/2"),
            Some(op),
            tariff_prices(2, "2026-07-01", "0.06"),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{replaced}");
    assert_eq!(replaced["metrics"][0]["rate_per_minute"], json!("0.06"));
    let reply = app
        .put(
            &format!("{tariff}/versions/2"),
            Some(op),
            tariff_prices(3, "2026-07-01", "0.06"),
        )
        .await;
    assert_problem(&reply, StatusCode::UNPROCESSABLE_ENTITY, "validation");
    for body in [
        tariff_prices(3, "2026-03-01", "0.07"),
        tariff_prices(4, "2026-09-01", "0.07"),
    ] {
        let reply = app
            .post(&format!("{tariff}/versions"), Some(op), body)
            .await;
        assert_problem(&reply, StatusCode::UNPROCESSABLE_ENTITY, "validation");
    }
    let reply = app
        .post(
            "/api/v1/tariffs",
            Some(op),
            json!({ "name": "Moon money", "currency": "XYZ" }),
        )
        .await;
    assert_problem(&reply, StatusCode::UNPROCESSABLE_ENTITY, "validation");
    // Billing's settings that fix the invoices cannot change once there are invoices.
    let reply = app
        .put(
            &world.a.url("/billing/account"),
            Some(op),
            json!({ "name": "Company A", "currency": "EUR", "billing_day": 15, "time_zone": "Europe/Bratislava" }),
        )
        .await;
    assert_problem(&reply, StatusCode::UNPROCESSABLE_ENTITY, "validation");
    let reply = app
        .put(
            &world.a.url("/billing/contract"),
            Some(op),
            json!({ "tariff_id": world.b.ids.tariff, "starts_on": "2025-12-01" }),
        )
        .await;
    assert_problem(&reply, StatusCode::CONFLICT, "conflict");
    // Ending the contract after today is the one change it takes.
    let (status, _, contract) = app
        .put(
            &world.a.url("/billing/contract"),
            Some(op),
            json!({ "tariff_id": world.a.ids.tariff, "starts_on": "2025-12-01", "ends_on": "2026-07-01" }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{contract}");
    assert_eq!(contract["ends_on"], json!("2026-07-01"));
    let read = app
        .read(&world.a.url("/billing/contract"), &world.a.admin)
        .await;
    assert_eq!(read, contract);
    world.finish().await;
}

/// The firm's revenue per tenant: final invoices of the range, less credit notes.
async fn revenue_per_tenant(backend: hotline_core::Backend) {
    let world = World::new(backend).await;
    let app = &world.app;
    let (a, b) = (&world.a, &world.b);
    let op = app.operator.as_str();
    let (status, _, note) = app
        .post(
            &a.url(&format!("/invoices/{}/credit-notes", a.ids.invoice)),
            Some(op),
            json!({ "lines": [{ "description": "goodwill", "amount_minor": 1000 }] }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{note}");
    let revenue = app
        .read(
            "/api/v1/billing/revenue?from=2025-12-01&until=2026-02-01",
            op,
        )
        .await;
    let of = |tenant: &str| {
        revenue
            .as_array()
            .expect("rows")
            .iter()
            .find(|r| r["tenant_id"] == json!(tenant))
            .cloned()
            .unwrap_or_else(|| panic!("no row for {tenant}: {revenue}"))
    };
    // December and January: subtotals 109.80 + 59.90, tax 21.96 + 11.98, totals 131.76 +
    // 71.88 = 203.64; A was credited 10.00.
    let row = of(&a.id);
    assert_eq!(
        [
            &row["invoices"],
            &row["subtotal_minor"],
            &row["tax_minor"],
            &row["total_minor"],
            &row["credited_minor"],
            &row["net_minor"],
            &row["paid_minor"],
        ],
        [
            &json!(2),
            &json!(16_970),
            &json!(3_394),
            &json!(20_364),
            &json!(1_000),
            &json!(19_364),
            &json!(0),
        ]
    );
    assert_eq!(
        row["metrics"],
        json!([{ "metric": "inbound_minutes", "billable_seconds": 600, "included_seconds": 600, "charged_seconds": 0 }])
    );
    assert_eq!(of(&b.id)["net_minor"], json!(20_364));
    // Only January.
    let january = app
        .read(
            "/api/v1/billing/revenue?from=2026-01-01&until=2026-02-01",
            op,
        )
        .await;
    assert_eq!(january.as_array().map(Vec::len), Some(2));
    assert!(january
        .as_array()
        .expect("rows")
        .iter()
        .all(|r| r["total_minor"] == json!(MONTH_TOTAL)));
    let reply = app
        .get(
            "/api/v1/billing/revenue?from=2026-02-01&until=2026-01-01",
            Some(op),
        )
        .await;
    assert_problem(&reply, StatusCode::UNPROCESSABLE_ENTITY, "validation");
    let reply = app.get("/api/v1/billing/revenue", Some(&a.admin)).await;
    assert_problem(&reply, StatusCode::FORBIDDEN, "forbidden");
    world.finish().await;
}

/// A gateway that verifies webhooks as `v1=ok` (and has no secret for `unconfigured`) and parses `{"id", "type", "invoice"}`; every
/// other call fails (nothing in these tests sends to it).
struct WebhookOnlyGateway;

fn unused<'a, T: Send + 'a>() -> GatewayFuture<'a, T> {
    Box::pin(async {
        Err(GatewayError::Permanent {
            status: None,
            code: None,
            message: "not used in these tests".into(),
        })
    })
}

impl PaymentGateway for WebhookOnlyGateway {
    fn ensure_customer<'a>(&'a self, _: &'a CustomerRequest) -> GatewayFuture<'a, RemoteCustomer> {
        unused()
    }
    fn create_draft_invoice<'a>(
        &'a self,
        _: &'a DraftInvoiceRequest,
    ) -> GatewayFuture<'a, RemoteInvoice> {
        unused()
    }
    fn add_invoice_item<'a>(
        &'a self,
        _: &'a InvoiceItemRequest,
    ) -> GatewayFuture<'a, RemoteInvoiceItem> {
        unused()
    }
    fn invoice<'a>(&'a self, _: &'a str) -> GatewayFuture<'a, RemoteInvoice> {
        unused()
    }
    fn finalize_invoice<'a>(
        &'a self,
        _: &'a FinalizeInvoiceRequest,
    ) -> GatewayFuture<'a, RemoteInvoice> {
        unused()
    }
    fn create_credit_note<'a>(
        &'a self,
        _: &'a CreditNoteRequest,
    ) -> GatewayFuture<'a, RemoteCreditNote> {
        unused()
    }
    fn find_customer<'a>(&'a self, _: Uuid) -> GatewayFuture<'a, Option<RemoteCustomer>> {
        unused()
    }
    fn find_invoice<'a>(&'a self, _: &'a str, _: Uuid) -> GatewayFuture<'a, Option<RemoteInvoice>> {
        unused()
    }
    fn invoice_items<'a>(&'a self, _: &'a str) -> GatewayFuture<'a, Vec<RemoteInvoiceItem>> {
        unused()
    }
    fn find_credit_note<'a>(
        &'a self,
        _: &'a str,
        _: Uuid,
    ) -> GatewayFuture<'a, Option<RemoteCreditNote>> {
        unused()
    }
    fn verify_webhook(
        &self,
        payload: &[u8],
        signature_header: &str,
        now: DateTime<Utc>,
    ) -> Result<WebhookEvent, WebhookError> {
        match signature_header {
            "v1=ok" => {}
            "unconfigured" => return Err(WebhookError::NotConfigured),
            _ => return Err(WebhookError::BadSignature),
        }
        let event: Value = serde_json::from_slice(payload)
            .map_err(|e| WebhookError::MalformedPayload(e.to_string()))?;
        let kind = match event["type"].as_str().unwrap_or_default() {
            "invoice.paid" => WebhookEventKind::InvoicePaid,
            "invoice.voided" => WebhookEventKind::InvoiceVoided,
            other => WebhookEventKind::Other(other.to_owned()),
        };
        Ok(WebhookEvent {
            id: event["id"].as_str().unwrap_or_default().to_owned(),
            created: now,
            kind,
            provider_invoice_id: None,
            hotline_invoice_id: event["invoice"].as_str().and_then(|t| t.parse().ok()),
        })
    }
}

/// The Stripe webhook: unauthenticated but verified, deduplicated, payment status only.
async fn stripe_webhook_is_verified_and_applied_once(backend: hotline_core::Backend) {
    let world = World::with_gateway(backend, Some(Arc::new(WebhookOnlyGateway))).await;
    let app = &world.app;
    let a = &world.a;
    let hook = "/api/v1/billing/stripe/webhook";
    let deliver = |signature: &'static str, event: Value| async move {
        app.request_raw(
            Method::POST,
            hook,
            None,
            event.to_string().into_bytes(),
            &[
                ("stripe-signature", signature),
                ("content-type", "application/json"),
            ],
        )
        .await
    };
    let paid = json!({ "id": "evt_1", "type": "invoice.paid", "invoice": a.ids.invoice });

    let before = app.fingerprint().await;
    let reply = deliver("v1=forged", paid.clone()).await;
    assert_problem(&reply, StatusCode::BAD_REQUEST, "bad-webhook");
    assert_eq!(
        app.fingerprint().await,
        before,
        "a forged webhook wrote something"
    );

    let reply = deliver("v1=ok", paid.clone()).await;
    assert_eq!(reply.0, StatusCode::OK, "{}", reply.2);
    assert_eq!(
        reply.2,
        json!({ "outcome": "applied", "invoice_id": a.ids.invoice, "payment_status": "paid" })
    );
    let invoice = app
        .read(&a.url(&format!("/invoices/{}", a.ids.invoice)), &a.admin)
        .await;
    assert_eq!(
        (&invoice["status"], &invoice["payment_status"]),
        (&json!("paid"), &json!("paid"))
    );
    assert_eq!(invoice["billed"]["total_minor"], json!(MONTH_TOTAL));

    let reply = deliver("v1=ok", paid).await;
    assert_eq!(reply.2["outcome"], json!("duplicate"));
    let voided = json!({ "id": "evt_2", "type": "invoice.voided", "invoice": a.ids.invoice });
    assert_eq!(deliver("v1=ok", voided).await.2["outcome"], json!("stale"));
    let other = json!({ "id": "evt_3", "type": "customer.created" });
    assert_eq!(deliver("v1=ok", other).await.2["outcome"], json!("ignored"));
    let revenue = app
        .read(
            "/api/v1/billing/revenue?from=2026-01-01&until=2026-02-01",
            &app.operator,
        )
        .await;
    let row = revenue
        .as_array()
        .expect("rows")
        .iter()
        .find(|r| r["tenant_id"] == json!(a.id))
        .cloned()
        .expect("A's row");
    assert_eq!(row["paid_minor"], json!(MONTH_TOTAL));
    world.finish().await;

    // Without a gateway the webhook asks Stripe to come back later.
    let app = App::new(backend).await;
    let reply = app
        .request_raw(
            Method::POST,
            hook,
            None,
            b"{}".to_vec(),
            &[("stripe-signature", "v1=ok")],
        )
        .await;
    assert_problem(&reply, StatusCode::SERVICE_UNAVAILABLE, "unavailable");
    app.finish().await;
}

hotline_core::both_backends!(
    usage_against_the_bundle_and_invoices_as_billed,
    money_moving_posts_honour_idempotency_keys,
    close_period_waits_for_grace_unless_skipped,
    usage_export_lists_every_rated_usage,
    printable_invoice_is_self_contained_and_escaped,
    tariff_versions_in_use_never_change,
    revenue_per_tenant,
    stripe_webhook_is_verified_and_applied_once,
);
