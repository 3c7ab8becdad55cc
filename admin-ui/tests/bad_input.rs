//! Bad input of every kind the API must refuse: each answer is `application/problem+json` with
//! the right `status`, `type`, `title` and `detail`, and each refusal provably wrote nothing (the
//! store's fingerprint, which covers the audit log, is unchanged).

mod common;

use axum::http::{header, Method, StatusCode};
use base64::Engine;
use common::*;
use hotline_tenants::auth::Claims;
use hotline_tenants::rbac::Role;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{json, Value};

async fn malformed_json_unknown_fields_and_wrong_content_type(backend: hotline_core::Backend) {
    let world = World::new(backend).await;
    let app = &world.app;
    let a = &world.a;
    let hotlines = a.url("/hotlines");
    let hotline = a.url(&format!("/hotlines/{}", a.ids.hotline));
    let json_type = [("content-type", "application/json")];
    let patch_headers = [
        ("content-type", "application/merge-patch+json"),
        ("if-match", "\"1\""),
    ];

    // Malformed JSON: 400, on a create, a patch and the login.
    for bytes in [&b"{\"name\": "[..], b"{\"name\": \"x\",}", b"not json", b""] {
        refused!(
            app,
            StatusCode::BAD_REQUEST,
            "malformed-json",
            app.request_raw(
                Method::POST,
                &hotlines,
                Some(&a.admin),
                bytes.to_vec(),
                &json_type
            )
        );
    }
    refused!(
        app,
        StatusCode::BAD_REQUEST,
        "malformed-json",
        app.request_raw(
            Method::PATCH,
            &hotline,
            Some(&a.admin),
            b"{\"name\"".to_vec(),
            &patch_headers
        )
    );
    refused!(
        app,
        StatusCode::BAD_REQUEST,
        "malformed-json",
        app.request_raw(
            Method::POST,
            "/api/v1/auth/login",
            None,
            b"{\"email\":".to_vec(),
            &json_type
        )
    );

    // Unknown fields, wrong types, missing fields: 422, on creates and patches.
    let invalid: Vec<(String, Value)> = vec![
        (hotlines.clone(), json!({ "name": "x", "colour": "red" })),
        (
            hotlines.clone(),
            json!({ "name": "x", "schedule": { "weekly": [], "holidays": [] } }),
        ),
        (hotlines.clone(), json!({ "name": 7 })),
        (hotlines.clone(), json!({ "always_open": true })),
        (
            a.url("/queues"),
            json!({ "name": "x", "strategy": "random" }),
        ),
        (
            a.url("/prompts"),
            json!({ "name": "x", "tenant_id": world.b.id }),
        ),
        (
            a.url("/users"),
            json!({ "email": "x@a.example", "display_name": "X", "role": "agent", "password": PASSWORD, "is_admin": true }),
        ),
        (
            a.url("/api-keys"),
            json!({ "name": "x", "role": "agent", "tenant_id": world.b.id }),
        ),
        (
            "/api/v1/tenants".to_string(),
            json!({ "slug": "zz-top", "name": "ZZ", "time_zone": "UTC", "plan": "gold" }),
        ),
    ];
    for (path, body) in invalid {
        let token = if path == "/api/v1/tenants" {
            app.operator.as_str()
        } else {
            a.admin.as_str()
        };
        refused!(
            app,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation",
            app.post(&path, Some(token), body)
        );
    }
    for body in [
        json!({ "colour": "red" }),
        json!({ "schedule": { "weekly": [{ "day": "mon", "start": "08:00", "end": "09:00", "note": "x" }] } }),
        json!(["not", "an", "object"]),
        json!({ "id": a.ids.queue }),
    ] {
        refused!(
            app,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation",
            app.patch(&hotline, Some(&a.admin), "\"1\"", body)
        );
    }
    refused!(
        app,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation",
        app.put(
            &a.url(&format!("/queues/{}/members/{}", a.ids.queue, a.ids.agent)),
            Some(&a.admin),
            json!({ "penalty": 1, "priority": 2 })
        )
    );
    refused!(
        app,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation",
        app.post(
            "/api/v1/auth/login",
            None,
            json!({ "email": a.admin_email, "password": PASSWORD, "remember": true })
        )
    );

    // Wrong or missing Content-Type: 415.
    let body = json!({ "name": "typed" }).to_string().into_bytes();
    for content_type in [
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
        Some("application/xml"),
        None,
    ] {
        let headers: Vec<(&str, &str)> = content_type
            .map(|t| ("content-type", t))
            .into_iter()
            .collect();
        refused!(
            app,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported-media-type",
            app.request_raw(
                Method::POST,
                &hotlines,
                Some(&a.admin),
                body.clone(),
                &headers
            )
        );
    }
    refused!(
        app,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported-media-type",
        app.request_raw(
            Method::PATCH,
            &hotline,
            Some(&a.admin),
            body.clone(),
            &[("content-type", "text/plain"), ("if-match", "\"1\"")]
        )
    );

    // The same body with the right type is fine: the refusals above were about the input.
    let (status, _, created) = app
        .request_raw(
            Method::POST,
            &hotlines,
            Some(&a.admin),
            body,
            &[("content-type", "application/json; charset=utf-8")],
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    world.finish().await;
}

async fn numbers_must_be_e164_and_owned_once(backend: hotline_core::Backend) {
    let world = World::new(backend).await;
    let app = &world.app;
    let (a, b) = (&world.a, &world.b);
    let op = app.operator.as_str();
    for bad in [
        "02 1234 5678",
        "+0421212345",
        "+421 2 abc 5678",
        "+1234567",
        "+1234567890123456",
        "",
        "421212345678",
    ] {
        let problem = refused!(
            app,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation",
            app.post(&a.url("/numbers"), Some(op), json!({ "e164": bad }))
        );
        assert_eq!(
            error_fields(&problem),
            vec!["e164".to_string()],
            "{bad:?}: {problem}"
        );
    }
    // A's number, spelled differently, for B (and for A again): 409.
    assert_eq!(a.e164, "+421211110001");
    for (fx, spelling) in [
        (b, "00421 2 1111 0001"),
        (b, "+421-2-1111-0001"),
        (a, "+421 (2) 1111.0001"),
    ] {
        refused!(
            app,
            StatusCode::CONFLICT,
            "conflict",
            app.post(&fx.url("/numbers"), Some(op), json!({ "e164": spelling }))
        );
    }
    // A number cannot be changed in place either.
    let number = a.url(&format!("/numbers/{}", a.ids.number));
    let problem = refused!(
        app,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation",
        app.patch(&number, Some(&a.admin), "\"1\"", json!({ "e164": b.e164 }))
    );
    assert_eq!(error_fields(&problem), vec!["e164".to_string()]);
    // A well-formed new number is accepted, normalized.
    let made = app
        .create(
            &b.url("/numbers"),
            op,
            json!({ "e164": "00421 2 3333 0001" }),
        )
        .await;
    assert_eq!(made["e164"], json!("+421233330001"));
    world.finish().await;
}

async fn opening_hours_and_time_zones_are_validated(backend: hotline_core::Backend) {
    let world = World::new(backend).await;
    let app = &world.app;
    let a = &world.a;
    let hotlines = a.url("/hotlines");
    let range =
        |day: &str, start: &str, end: &str| json!({ "day": day, "start": start, "end": end });
    let cases: Vec<(Value, &str)> = vec![
        // Overlapping ranges on one day: the later range is named.
        (
            json!({ "weekly": [range("mon", "08:00", "12:00"), range("mon", "11:00", "17:00")] }),
            "schedule.weekly[1]",
        ),
        (
            json!({ "weekly": [range("tue", "13:00", "18:00"), range("wed", "09:00", "10:00"), range("tue", "09:00", "14:00")] }),
            "schedule.weekly[0]",
        ),
        // Ending before (or when) it starts.
        (
            json!({ "weekly": [range("fri", "17:00", "08:00")] }),
            "schedule.weekly[0]",
        ),
        (
            json!({ "weekly": [range("sat", "10:00", "10:00")] }),
            "schedule.weekly[0]",
        ),
        // Not times at all.
        (
            json!({ "weekly": [range("sun", "25:00", "26:00")] }),
            "schedule.weekly[0].start",
        ),
        // The same in a dated exception.
        (
            json!({ "exceptions": [{ "date": "2026-12-24", "hours": [{ "start": "09:00", "end": "12:00" }, { "start": "11:30", "end": "13:00" }] }] }),
            "schedule.exceptions[0].hours[1]",
        ),
        (
            json!({ "exceptions": [{ "date": "2026-12-31", "hours": [{ "start": "15:00", "end": "09:00" }] }] }),
            "schedule.exceptions[0].hours[0]",
        ),
    ];
    let hotline = a.url(&format!("/hotlines/{}", a.ids.hotline));
    for (schedule, field) in cases {
        let created = refused!(
            app,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation",
            app.post(
                &hotlines,
                Some(&a.admin),
                json!({ "name": "hours", "schedule": schedule })
            )
        );
        let patched = refused!(
            app,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation",
            app.patch(
                &hotline,
                Some(&a.admin),
                "\"1\"",
                json!({ "schedule": schedule })
            )
        );
        for problem in [created, patched] {
            assert!(
                error_fields(&problem).iter().any(|f| f == field),
                "{schedule}: errors must name {field}: {problem}"
            );
        }
    }
    assert_eq!(app.read(&hotline, &a.admin).await["version"], json!(1));

    // An unknown time zone, on create and on change.
    for zone in ["Mars/Olympus_Mons", "Europe/Bratislav", "", "UTC+1"] {
        let problem = refused!(
            app,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation",
            app.post(
                "/api/v1/tenants",
                Some(&app.operator),
                json!({ "slug": "zoned", "name": "Zoned", "time_zone": zone })
            )
        );
        assert_eq!(
            error_fields(&problem),
            vec!["time_zone".to_string()],
            "{zone:?}"
        );
        let problem = refused!(
            app,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation",
            app.patch(
                &a.url(""),
                Some(&app.operator),
                "\"1\"",
                json!({ "time_zone": zone })
            )
        );
        assert_eq!(
            error_fields(&problem),
            vec!["time_zone".to_string()],
            "{zone:?}"
        );
    }
    world.finish().await;
}

/// Hotline actions that cannot be carried out: refused on create and on change, naming the field;
/// shapes that are no action at all are refused before validation.
async fn hotline_actions_are_validated(backend: hotline_core::Backend) {
    let world = World::new(backend).await;
    let app = &world.app;
    let a = &world.a;
    let hotlines = a.url("/hotlines");
    let hotline = a.url(&format!("/hotlines/{}", a.ids.hotline));
    let ghost = uuid::Uuid::now_v7().to_string();
    let cases: Vec<(Value, &str)> = vec![
        (
            json!({ "action": "reject", "sip_status": 200 }),
            "open_action.sip_status",
        ),
        (
            json!({ "action": "forward-number", "number": "0900 123 456" }),
            "open_action.number",
        ),
        (
            json!({ "action": "forward-number", "number": "+421255550001", "ring_timeout_s": 1 }),
            "open_action.ring_timeout_s",
        ),
        (
            json!({ "action": "forward-number", "number": "+421255550001", "trunk_id": ghost }),
            "open_action.trunk_id",
        ),
        (
            json!({ "action": "forward-agent", "agent_id": ghost }),
            "open_action.agent_id",
        ),
        (
            json!({ "action": "forward-agent", "agent_id": a.ids.agent, "ring_timeout_s": 3600 }),
            "open_action.ring_timeout_s",
        ),
        (
            json!({ "action": "forward-agent", "agent_id": a.ids.agent, "no_answer": { "action": "reject", "sip_status": 99 } }),
            "open_action.no_answer.sip_status",
        ),
        (
            json!({ "action": "forward-agent", "agent_id": a.ids.agent, "no_answer": { "action": "forward-number", "number": "12" } }),
            "open_action.no_answer.number",
        ),
    ];
    for (action, field) in cases {
        let created = refused!(
            app,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation",
            app.post(
                &hotlines,
                Some(&a.admin),
                json!({ "name": "acting", "open_action": action })
            )
        );
        let patched = refused!(
            app,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation",
            app.patch(
                &hotline,
                Some(&a.admin),
                "\"1\"",
                json!({ "open_action": action })
            )
        );
        for problem in [created, patched] {
            assert!(
                error_fields(&problem).iter().any(|f| f == field),
                "{action}: errors must name {field}: {problem}"
            );
        }
    }
    let closed = refused!(
        app,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation",
        app.post(&hotlines, Some(&a.admin), json!({ "name": "closing",
            "closed_action": { "action": "forward", "number": "+421255550001", "ring_timeout_s": 0 } }))
    );
    assert_eq!(
        error_fields(&closed),
        vec!["closed_action.ring_timeout_s".to_string()]
    );
    for action in [
        json!({ "action": "voicemail" }),
        json!({ "action": "forward-agent" }),
        json!({ "action": "reject", "sip_status": 486, "number": "+421255550001" }),
        json!("reject"),
    ] {
        refused!(
            app,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation",
            app.post(
                &hotlines,
                Some(&a.admin),
                json!({ "name": "acting", "open_action": action })
            )
        );
    }
    // A good one goes through, with its defaults filled in.
    let made = app
        .create(
            &hotlines,
            &a.admin,
            json!({ "name": "forwarding",
            "open_action": { "action": "forward-agent", "agent_id": a.ids.agent } }),
        )
        .await;
    assert_eq!(
        made["open_action"],
        json!({ "action": "forward-agent", "agent_id": a.ids.agent, "ring_timeout_s": 30,
            "no_answer": { "action": "reject", "sip_status": 480 } })
    );
    assert_eq!(
        app.read(&hotline, &a.admin).await["open_action"],
        json!({ "action": "ivr" })
    );
    world.finish().await;
}

/// Trunks the operator gets wrong are refused, naming the field, and a trunk's secrets never
/// come back in an answer: `"***"` stands in for them, and sending it back keeps them.
async fn trunks_are_validated_and_keep_their_secrets(backend: hotline_core::Backend) {
    let app = App::new(backend).await;
    let op = app.operator.as_str();
    let cases: Vec<(Value, &str)> = vec![
        (
            json!({ "name": "x", "inbound": { "sources": ["not-an-ip"] } }),
            "inbound.sources[0]",
        ),
        (
            json!({ "name": "x", "inbound": { "username": "carrier" } }),
            "inbound.password",
        ),
        (json!({ "name": "x" }), "inbound"),
        (
            json!({ "name": "x", "outbound": { "host": "sip.example", "register": true } }),
            "outbound.register",
        ),
        (
            json!({ "name": "x", "outbound": { "host": "sip.example", "username": "u", "password": "***" } }),
            "outbound.password",
        ),
    ];
    for (body, field) in cases {
        let problem = refused!(
            app,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation",
            app.post("/api/v1/trunks", Some(op), body.clone())
        );
        assert!(
            error_fields(&problem).iter().any(|f| f == field),
            "{body}: {problem}"
        );
    }
    refused!(
        app,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation",
        app.post(
            "/api/v1/trunks",
            Some(op),
            json!({ "name": "x", "outbound": { "host": "h", "transport": "sctp" } })
        )
    );

    let made = app
        .create("/api/v1/trunks", op, json!({
            "name": "Carrier",
            "inbound": { "sources": ["192.0.2.7"], "username": "carrier", "password": "inbound-secret-1" },
            "outbound": { "host": "sip.carrier.example", "username": "hotline", "password": "provider-secret-1",
                "caller_id": { "policy": "dialed-number" } },
        }))
        .await;
    assert_eq!(made["inbound"]["password"], json!("***"));
    assert_eq!(made["outbound"]["password"], json!("***"));
    assert_eq!(made["inbound"]["sources"], json!(["192.0.2.7/32"]));
    let item = format!("/api/v1/trunks/{}", str_of(&made, "id"));
    // A patch without If-Match is refused; with it, the masked secrets stay as they were.
    refused!(
        app,
        StatusCode::PRECONDITION_REQUIRED,
        "precondition-required",
        app.request(
            Method::PATCH,
            &item,
            Some(op),
            Some(json!({ "enabled": false })),
            &[("content-type", "application/merge-patch+json")]
        )
    );
    let (status, headers, patched) = app
        .patch(
            &item,
            Some(op),
            "\"1\"",
            json!({ "enabled": false, "outbound": { "port": 5080 } }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{patched}");
    assert_eq!(
        headers.get("etag").and_then(|v| v.to_str().ok()),
        Some("\"2\"")
    );
    assert_eq!(patched["outbound"]["port"], json!(5080));
    assert_eq!(patched["outbound"]["password"], json!("***"));
    let stored: (Option<String>,) = {
        use sqlx::Row;
        let row = sqlx::query("SELECT outbound_password FROM trunks")
            .fetch_one(app.store.db().pool())
            .await
            .expect("the trunk row");
        (row.try_get("outbound_password").expect("column"),)
    };
    assert_eq!(stored.0.as_deref(), Some("provider-secret-1"));
    for path in ["/api/v1/trunks", item.as_str(), "/api/v1/audit"] {
        let text = app.read(path, op).await.to_string();
        assert!(
            !text.contains("provider-secret-1") && !text.contains("inbound-secret-1"),
            "{path} shows a trunk secret: {text}"
        );
    }
    app.finish().await;
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

async fn tokens_that_must_not_pass(backend: hotline_core::Backend) {
    let world = World::new(backend).await;
    let app = &world.app;
    let a = &world.a;
    let now = chrono::Utc::now().timestamp();
    let claims = |iat: i64, exp: i64| Claims {
        sub: a.admin_id.clone(),
        tid: Some(a.id.clone()),
        role: Role::TenantAdmin,
        email: a.admin_email.clone(),
        iss: "hotline".into(),
        iat,
        exp,
        jti: uuid::Uuid::now_v7().to_string(),
    };
    let sign = |alg: Algorithm, claims: &Claims, secret: &[u8]| {
        jsonwebtoken::encode(&Header::new(alg), claims, &EncodingKey::from_secret(secret))
            .expect("sign")
    };

    // The control: a token made here the way the service makes them passes.
    let good = sign(Algorithm::HS256, &claims(now, now + 600), SECRET);
    let target = a.url("/hotlines");
    assert_eq!(app.get(&target, Some(&good)).await.0, StatusCode::OK);
    // The auth scheme's name is case-insensitive.
    for scheme in ["bearer", "BEARER"] {
        let auth = format!("{scheme} {good}");
        let (status, _, body) = app
            .request(
                Method::GET,
                &target,
                None,
                None,
                &[("authorization", auth.as_str())],
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{scheme}: {body}");
    }

    let mut bad: Vec<(&str, String)> = vec![
        // Expired a minute ago, well past the 5 s leeway.
        (
            "expired",
            sign(Algorithm::HS256, &claims(now - 1000, now - 60), SECRET),
        ),
        (
            "forged signature",
            sign(
                Algorithm::HS256,
                &claims(now, now + 600),
                b"another secret entirely, not ours",
            ),
        ),
        (
            "HS384 with the right secret",
            sign(Algorithm::HS384, &claims(now, now + 600), SECRET),
        ),
        (
            "HS512 with the right secret",
            sign(Algorithm::HS512, &claims(now, now + 600), SECRET),
        ),
        ("garbage", "not.a.token".to_string()),
        ("empty", String::new()),
    ];
    // `alg: none`, unsigned.
    let payload = b64(&serde_json::to_vec(&claims(now, now + 600)).expect("claims"));
    bad.push((
        "alg none",
        format!("{}.{payload}.", b64(br#"{"alg":"none","typ":"JWT"}"#)),
    ));
    bad.push((
        "alg none, no dot",
        format!("{}.{payload}", b64(br#"{"alg":"none","typ":"JWT"}"#)),
    ));
    bad.push((
        "alg None",
        format!("{}.{payload}.", b64(br#"{"alg":"None","typ":"JWT"}"#)),
    ));
    // A good token whose payload was swapped for a platform admin's: the signature no longer fits.
    let mut elevated = claims(now, now + 600);
    elevated.role = Role::PlatformAdmin;
    elevated.tid = None;
    let parts: Vec<&str> = good.split('.').collect();
    bad.push((
        "tampered payload",
        format!(
            "{}.{}.{}",
            parts[0],
            b64(&serde_json::to_vec(&elevated).expect("claims")),
            parts[2]
        ),
    ));
    // A revoked API key.
    let key = app
        .create(
            &a.url("/api-keys"),
            &a.admin,
            json!({ "name": "soon revoked", "role": "tenant-admin" }),
        )
        .await;
    let (status, _, _) = app
        .delete(
            &a.url(&format!("/api-keys/{}", str_of(&key, "id"))),
            Some(&a.admin),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    bad.push(("revoked API key", str_of(&key, "secret")));
    bad.push((
        "unknown API key",
        "hlk_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA".to_string(),
    ));

    for (what, token) in &bad {
        for (method, body) in [
            (Method::GET, None),
            (Method::POST, Some(json!({ "name": format!("by {what}") }))),
        ] {
            let before = app.fingerprint().await;
            let reply = app
                .request(method.clone(), &target, Some(token), body, &[])
                .await;
            let problem = assert_problem(&reply, StatusCode::UNAUTHORIZED, "unauthorized");
            assert_eq!(
                reply
                    .1
                    .get(header::WWW_AUTHENTICATE)
                    .and_then(|v| v.to_str().ok()),
                Some("Bearer"),
                "{what}"
            );
            assert_eq!(
                app.fingerprint().await,
                before,
                "{what} {method}: {problem}"
            );
        }
    }
    let expired = assert_problem(
        &app.get(&target, Some(&bad[0].1)).await,
        StatusCode::UNAUTHORIZED,
        "unauthorized",
    );
    assert!(
        expired["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("expired"),
        "{expired}"
    );

    // No credentials, or not Bearer ones.
    for headers in [
        vec![],
        vec![("authorization", "Basic b3BlcmF0b3I6cGFzc3dvcmQ=")],
        vec![("authorization", "Bearer")],
        vec![("authorization", "Bearer ")],
        vec![("authorization", "Bearertoken")],
    ] {
        refused!(
            app,
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            app.request(Method::GET, &target, None, None, &headers)
        );
    }
    // Wrong password and unknown email answer alike.
    let wrong = refused!(
        app,
        StatusCode::UNAUTHORIZED,
        "unauthorized",
        app.post(
            "/api/v1/auth/login",
            None,
            json!({ "email": a.admin_email, "password": "not the password at all" })
        )
    );
    let unknown = refused!(
        app,
        StatusCode::UNAUTHORIZED,
        "unauthorized",
        app.post(
            "/api/v1/auth/login",
            None,
            json!({ "email": "nobody@nowhere.example", "password": "not the password at all" })
        )
    );
    assert_eq!(wrong, unknown);
    world.finish().await;
}

async fn refresh(app: &App, token: &str) -> (StatusCode, Value) {
    let (status, _, body) = app
        .post(
            "/api/v1/auth/refresh",
            None,
            json!({ "refresh_token": token }),
        )
        .await;
    (status, body)
}

async fn a_reused_refresh_token_ends_its_family(backend: hotline_core::Backend) {
    let app = App::new(backend).await;
    let other_login = app.login_pair(OPERATOR_EMAIL, PASSWORD).await;
    let first = app.login_pair(OPERATOR_EMAIL, PASSWORD).await;
    let r1 = str_of(&first, "refresh_token");

    // Rotation: r1 -> r2 -> r3.
    let (status, second) = refresh(&app, &r1).await;
    assert_eq!(status, StatusCode::OK, "{second}");
    let r2 = str_of(&second, "refresh_token");
    assert_ne!(r1, r2);
    assert_eq!(
        app.read("/api/v1/me", &str_of(&second, "access_token"))
            .await["kind"],
        json!("user")
    );
    let (status, third) = refresh(&app, &r2).await;
    assert_eq!(status, StatusCode::OK, "{third}");
    let r3 = str_of(&third, "refresh_token");

    // r1 again: refused, and the family is revoked, the newest token with it.
    let revocations = app.fingerprint().await["revoked refresh tokens"];
    let reply = app
        .post("/api/v1/auth/refresh", None, json!({ "refresh_token": r1 }))
        .await;
    let problem = assert_problem(&reply, StatusCode::UNAUTHORIZED, "unauthorized");
    assert!(
        problem["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("revoked"),
        "{problem}"
    );
    assert!(app.fingerprint().await["revoked refresh tokens"] >= revocations + 3);
    for token in [&r3, &r2, &r1] {
        let before = app.fingerprint().await;
        let reply = app
            .post(
                "/api/v1/auth/refresh",
                None,
                json!({ "refresh_token": token }),
            )
            .await;
        assert_problem(&reply, StatusCode::UNAUTHORIZED, "unauthorized");
        assert_eq!(
            app.fingerprint().await,
            before,
            "refusing a dead family's token changes nothing"
        );
    }
    // Another login's family lives on.
    let (status, body) = refresh(&app, &str_of(&other_login, "refresh_token")).await;
    assert_eq!(status, StatusCode::OK, "{body}");

    // Two refreshes of one token at once: at most one wins, and then the family is revoked, the
    // winner's successor too.
    let fresh = app.login_pair(OPERATOR_EMAIL, PASSWORD).await;
    let token = str_of(&fresh, "refresh_token");
    let (one, two) = tokio::join!(refresh(&app, &token), refresh(&app, &token));
    let winners: Vec<&Value> = [&one, &two]
        .into_iter()
        .filter(|(s, _)| *s == StatusCode::OK)
        .map(|(_, b)| b)
        .collect();
    assert_eq!(winners.len(), 1, "{one:?} {two:?}");
    for (status, body) in [&one, &two] {
        assert!(
            *status == StatusCode::OK || *status == StatusCode::UNAUTHORIZED,
            "{status}: {body}"
        );
    }
    let (status, body) = refresh(&app, &str_of(winners[0], "refresh_token")).await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "the winner's successor must be revoked with its family: {body}"
    );

    // Logging out ends a family too; an unknown token is ignored.
    let pair = app.login_pair(OPERATOR_EMAIL, PASSWORD).await;
    let r = str_of(&pair, "refresh_token");
    let (status, _, _) = app
        .post("/api/v1/auth/logout", None, json!({ "refresh_token": r }))
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(refresh(&app, &r).await.0, StatusCode::UNAUTHORIZED);
    let (status, _, _) = app
        .post(
            "/api/v1/auth/logout",
            None,
            json!({ "refresh_token": "hlr_unknown" }),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    refused!(
        app,
        StatusCode::UNAUTHORIZED,
        "unauthorized",
        app.post(
            "/api/v1/auth/refresh",
            None,
            json!({ "refresh_token": "hlr_never_issued" })
        )
    );
    app.finish().await;
}

async fn preconditions_and_pagination(backend: hotline_core::Backend) {
    let world = World::new(backend).await;
    let app = &world.app;
    let a = &world.a;
    let hotline = a.url(&format!("/hotlines/{}", a.ids.hotline));
    let body = json!({ "name": "renamed" }).to_string().into_bytes();
    let merge = ("content-type", "application/merge-patch+json");

    // Every versioned PATCH without If-Match: 428.
    for path in [
        hotline.clone(),
        a.url(&format!("/queues/{}", a.ids.queue)),
        a.url(&format!("/prompts/{}", a.ids.prompt)),
        a.url(&format!("/numbers/{}", a.ids.number)),
        a.url(&format!("/agents/{}", a.ids.agent)),
        a.url(&format!("/users/{}", a.ids.user)),
    ] {
        refused!(
            app,
            StatusCode::PRECONDITION_REQUIRED,
            "precondition-required",
            app.request_raw(Method::PATCH, &path, Some(&a.admin), body.clone(), &[merge])
        );
    }
    refused!(
        app,
        StatusCode::PRECONDITION_REQUIRED,
        "precondition-required",
        app.request_raw(
            Method::PATCH,
            &a.url(""),
            Some(&app.operator),
            body.clone(),
            &[merge]
        )
    );
    // And DELETE of a versioned resource without it.
    refused!(
        app,
        StatusCode::PRECONDITION_REQUIRED,
        "precondition-required",
        app.delete(&hotline, Some(&a.admin), None)
    );
    // A stale or meaningless If-Match: 412.
    for if_match in ["\"2\"", "\"0\"", "\"abc\""] {
        refused!(
            app,
            StatusCode::PRECONDITION_FAILED,
            "precondition-failed",
            app.patch(
                &hotline,
                Some(&a.admin),
                if_match,
                json!({ "name": "renamed" })
            )
        );
    }
    refused!(
        app,
        StatusCode::PRECONDITION_FAILED,
        "precondition-failed",
        app.delete(&hotline, Some(&a.admin), Some("\"7\""))
    );

    // Cursors and limits this API never handed out: 422.
    for query in [
        "cursor=garbage",
        "cursor=AAAA",
        "cursor=%%%",
        "limit=0",
        "limit=501",
        "limit=-1",
        "limit=ten",
    ] {
        for list in ["/hotlines", "/users", "/audit", "/api-keys", "/agents"] {
            let path = format!("{}?{query}", a.url(list));
            refused!(
                app,
                StatusCode::UNPROCESSABLE_ENTITY,
                "validation",
                app.get(&path, Some(&a.admin))
            );
        }
    }
    refused!(
        app,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation",
        app.get("/api/v1/tenants?cursor=nope", Some(&app.operator))
    );

    // Cursor pagination itself: one item a page, every item exactly once, in order.
    for n in 0..4 {
        app.create(
            &a.url("/prompts"),
            &a.admin,
            json!({ "name": format!("paged {n}") }),
        )
        .await;
    }
    let all = app.list_ids(&a.url("/prompts"), &a.admin).await;
    assert_eq!(all.len(), 5);
    let mut paged = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let url = match &cursor {
            Some(c) => format!("{}?limit=1&cursor={c}", a.url("/prompts")),
            None => format!("{}?limit=1", a.url("/prompts")),
        };
        let page = app.read(&url, &a.admin).await;
        let items = page["items"].as_array().expect("items");
        assert!(items.len() <= 1);
        paged.extend(items.iter().map(|i| str_of(i, "id")));
        match page.get("next_cursor").and_then(Value::as_str) {
            Some(next) => cursor = Some(next.to_string()),
            None => break,
        }
    }
    assert_eq!(paged, all);

    // Unknown routes and methods answer problem+json too.
    assert_problem(
        &app.get("/api/v1/nothing-here", Some(&a.admin)).await,
        StatusCode::NOT_FOUND,
        "not-found",
    );
    for (method, path) in [
        (Method::DELETE, "/api/v1/tenants".to_string()),
        (Method::PUT, a.url("/hotlines")),
        (Method::POST, hotline.clone()),
    ] {
        let reply = refused!(
            app,
            StatusCode::METHOD_NOT_ALLOWED,
            "method-not-allowed",
            app.request(method.clone(), &path, Some(&a.admin), None, &[])
        );
        let allow = app
            .request(method.clone(), &path, Some(&a.admin), None, &[])
            .await
            .1;
        assert!(
            allow.get(header::ALLOW).is_some(),
            "{method} {path}: no Allow header: {reply}"
        );
    }
    world.finish().await;
}

async fn oversized_bodies_and_resources_in_use(backend: hotline_core::Backend) {
    let world = World::new(backend).await;
    let app = &world.app;
    let a = &world.a;

    // A body over the limit: 413, not a claim that the JSON is malformed.
    let huge = format!(
        "{{\"name\": \"x\", \"description\": \"{}\"}}",
        "a".repeat(3 * 1024 * 1024)
    );
    refused!(
        app,
        StatusCode::PAYLOAD_TOO_LARGE,
        "payload-too-large",
        app.request_raw(
            Method::POST,
            &a.url("/prompts"),
            Some(&a.admin),
            huge.into_bytes(),
            &[("content-type", "application/json")]
        )
    );

    // Deleting what something else still names: 409, nothing deleted.
    let (status, _, _) = app
        .put(
            &a.url(&format!("/queues/{}/members/{}", a.ids.queue, a.ids.agent)),
            Some(&a.admin),
            json!({ "penalty": 1 }),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let lonely = app
        .create(
            &a.url("/queues"),
            &a.admin,
            json!({ "name": "members only" }),
        )
        .await;
    let lonely = str_of(&lonely, "id");
    let (status, _, _) = app
        .put(
            &a.url(&format!("/queues/{lonely}/members/{}", a.ids.agent)),
            Some(&a.admin),
            json!({ "penalty": 1 }),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    for path in [
        a.url(&format!("/hotlines/{}", a.ids.hotline)), // a number points at it
        a.url(&format!("/queues/{}", a.ids.queue)),     // the hotline falls back to it
        a.url(&format!("/prompts/{}", a.ids.prompt)),   // the queue plays it on hold
    ] {
        let version = format!("\"{}\"", app.read(&path, &a.admin).await["version"]);
        refused!(
            app,
            StatusCode::CONFLICT,
            "conflict",
            app.delete(&path, Some(&a.admin), Some(version.as_str()))
        );
    }
    // A queue with members is in use too (on both backends a clean 409, never a 500); without
    // them it goes.
    let path = a.url(&format!("/queues/{lonely}"));
    refused!(
        app,
        StatusCode::CONFLICT,
        "conflict",
        app.delete(&path, Some(&a.admin), Some("\"1\""))
    );
    let member = a.url(&format!("/queues/{lonely}/members/{}", a.ids.agent));
    assert_eq!(
        app.delete(&member, Some(&a.admin), None).await.0,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        app.delete(&path, Some(&a.admin), Some("\"1\"")).await.0,
        StatusCode::NO_CONTENT
    );

    // A disabled user can neither log in nor refresh; re-enabled, they can log in again.
    let pair = app
        .login_pair(&format!("supervisor@{}.example", a.slug), PASSWORD)
        .await;
    let user = app.list_ids(&a.url("/users"), &a.admin).await;
    let supervisor = {
        let mut found = None;
        for id in user {
            let u = app.read(&a.url(&format!("/users/{id}")), &a.admin).await;
            if u["role"] == json!("supervisor") {
                found = Some(u);
            }
        }
        found.expect("the supervisor")
    };
    let path = a.url(&format!("/users/{}", str_of(&supervisor, "id")));
    let (status, _, _) = app
        .patch(
            &path,
            Some(&a.admin),
            &format!("\"{}\"", supervisor["version"]),
            json!({ "disabled": true }),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    refused!(
        app,
        StatusCode::UNAUTHORIZED,
        "unauthorized",
        app.post(
            "/api/v1/auth/login",
            None,
            json!({ "email": supervisor["email"], "password": PASSWORD })
        )
    );
    let reply = app
        .post(
            "/api/v1/auth/refresh",
            None,
            json!({ "refresh_token": pair["refresh_token"] }),
        )
        .await;
    assert_problem(&reply, StatusCode::UNAUTHORIZED, "unauthorized");
    world.finish().await;
}

/// Uploads that are no usable prompt: each refused with the converter's words and a stable
/// `type`, and nothing stored or changed (the fingerprint counts files too); a prompt that had
/// audio keeps it, unchanged.
async fn bad_audio_uploads_are_refused_and_store_nothing(backend: hotline_core::Backend) {
    let world = World::new(backend).await;
    let app = &world.app;
    let a = &world.a;
    let fresh = app
        .create(
            &a.url("/prompts"),
            &a.admin,
            json!({ "name": "not yet voiced" }),
        )
        .await;
    let fresh_audio = a.url(&format!("/prompts/{}/audio", str_of(&fresh, "id")));
    let voiced_audio = a.url(&format!("/prompts/{}/audio", a.ids.prompt));
    let (_, _, voiced_before) = app
        .download(Method::GET, &voiced_audio, &a.admin, &[])
        .await;

    let wav = tone_wav(8000, 1, 16, 0.5);
    let mut cut_in_the_header = wav.clone();
    cut_in_the_header.truncate(30);
    let mut a_law = wav.clone();
    a_law[20] = 6; // WAVE_FORMAT_ALAW: not PCM
    let mut mp3_garbage = b"ID3\x04\x00\x00\x00\x00\x00\x00".to_vec();
    mp3_garbage.extend((0..4096u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8 | 0x01));
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    png.extend([0u8; 64]);
    let cases: Vec<(&str, Vec<u8>, StatusCode, &str, &str)> = vec![
        (
            "empty",
            Vec::new(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "audio-empty",
            "empty",
        ),
        (
            "silent",
            tone_wav(8000, 1, 16, 0.0),
            StatusCode::UNPROCESSABLE_ENTITY,
            "audio-empty",
            "no sound",
        ),
        (
            "text",
            b"this is a text file, not a recording".to_vec(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "not-audio",
            "text",
        ),
        (
            "image",
            png,
            StatusCode::UNPROCESSABLE_ENTITY,
            "not-audio",
            "an image",
        ),
        (
            "too long",
            tone_wav(8000, 1, 16, 25.0),
            StatusCode::UNPROCESSABLE_ENTITY,
            "audio-too-long",
            "limit is 20 s",
        ),
        (
            "too large",
            tone_wav(48000, 2, 16, 3.0),
            StatusCode::PAYLOAD_TOO_LARGE,
            "audio-too-large",
            "limit is 524288 bytes",
        ),
        (
            "cut WAV",
            cut_in_the_header,
            StatusCode::UNPROCESSABLE_ENTITY,
            "audio-corrupt",
            "damaged",
        ),
        (
            "A-law WAV",
            a_law,
            StatusCode::UNPROCESSABLE_ENTITY,
            "audio-unsupported",
            "unsupported",
        ),
        (
            "damaged MP3",
            mp3_garbage,
            StatusCode::UNPROCESSABLE_ENTITY,
            "audio-corrupt",
            "damaged",
        ),
    ];
    for (what, bytes, status, slug, words) in cases {
        for path in [&fresh_audio, &voiced_audio] {
            let problem = refused!(
                app,
                status,
                slug,
                app.put_audio(path, &a.admin, bytes.clone(), "audio/wav")
            );
            let detail = problem["detail"].as_str().unwrap_or_default();
            assert!(detail.contains(words), "{what}: {detail:?} lacks {words:?}");
        }
    }

    // A declared length over the limit is refused before the body is read.
    refused!(
        app,
        StatusCode::PAYLOAD_TOO_LARGE,
        "audio-too-large",
        app.request_raw(
            Method::PUT,
            &fresh_audio,
            Some(&a.admin),
            wav.clone(),
            &[
                ("content-type", "audio/wav"),
                ("content-length", "99999999")
            ]
        )
    );
    // Not sent as audio at all.
    for content_type in [
        "application/json",
        "text/plain",
        "multipart/form-data; boundary=x",
    ] {
        refused!(
            app,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported-media-type",
            app.put_audio(&fresh_audio, &a.admin, wav.clone(), content_type)
        );
    }
    // A stale If-Match: 412, the newer audio stays.
    refused!(
        app,
        StatusCode::PRECONDITION_FAILED,
        "precondition-failed",
        app.request_raw(
            Method::PUT,
            &voiced_audio,
            Some(&a.admin),
            wav.clone(),
            &[("content-type", "audio/wav"), ("if-match", "\"1\"")]
        )
    );
    // No audio to remove: 404.
    refused!(
        app,
        StatusCode::NOT_FOUND,
        "not-found",
        app.delete(&fresh_audio, Some(&a.admin), None)
    );

    let unvoiced = app
        .read(
            &a.url(&format!("/prompts/{}", str_of(&fresh, "id"))),
            &a.admin,
        )
        .await;
    assert_eq!(
        (unvoiced["has_audio"].clone(), unvoiced["version"].clone()),
        (json!(false), json!(1))
    );
    let (status, _, voiced_after) = app
        .download(Method::GET, &voiced_audio, &a.admin, &[])
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(voiced_after, voiced_before, "the earlier upload is intact");
    world.finish().await;
}

hotline_core::both_backends!(
    malformed_json_unknown_fields_and_wrong_content_type,
    numbers_must_be_e164_and_owned_once,
    hotline_actions_are_validated,
    trunks_are_validated_and_keep_their_secrets,
    opening_hours_and_time_zones_are_validated,
    tokens_that_must_not_pass,
    a_reused_refresh_token_ends_its_family,
    preconditions_and_pagination,
    oversized_bodies_and_resources_in_use,
    bad_audio_uploads_are_refused_and_store_nothing,
);
