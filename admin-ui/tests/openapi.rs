//! The service's self-description and operations surface: the OpenAPI 3.1 document lists exactly
//! the routes the router serves; `/healthz`, `/readyz` (503 once the database is gone) and
//! `/metrics`; and the audit log as tenant admins and the platform admin read it.

mod common;

use std::collections::BTreeSet;

use axum::http::{header, StatusCode};
use common::*;
use serde_json::{json, Value};

async fn openapi_document_lists_exactly_the_routes(backend: hotline_core::Backend) {
    let app = App::new(backend).await;
    let (status, headers, doc) = app.get("/api/v1/openapi.json", None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with("application/json")));
    let version = doc["openapi"].as_str().unwrap_or_default();
    assert!(version.starts_with("3.1."), "OpenAPI version {version:?}");
    assert!(doc["info"]["title"].is_string());
    assert_eq!(
        doc["components"]["securitySchemes"]["bearer"]["scheme"],
        json!("bearer")
    );

    let mut documented = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for method in ["get", "head", "put", "post", "delete", "patch"] {
            if let Some(operation) = item.get(method) {
                documented.insert((method.to_uppercase(), path.clone()));
                // Every failure the operation documents is problem+json.
                for (code, response) in operation["responses"].as_object().expect("responses") {
                    if code.starts_with('4') || code.starts_with('5') {
                        let content = response["content"]
                            .as_object()
                            .map(|c| c.keys().cloned().collect::<Vec<_>>())
                            .unwrap_or_default();
                        assert!(
                            !content.is_empty(),
                            "{method} {path} {code} documents no body"
                        );
                    }
                }
            }
        }
    }
    let listed: BTreeSet<(String, String)> = API_ROUTES
        .iter()
        .map(|(m, p)| (m.to_string(), p.to_string()))
        .collect();
    let undocumented: Vec<_> = listed.difference(&documented).collect();
    let untested: Vec<_> = documented.difference(&listed).collect();
    assert!(
        undocumented.is_empty(),
        "routes missing from the OpenAPI document: {undocumented:?}"
    );
    assert!(
        untested.is_empty(),
        "documented routes the test tables do not list: {untested:?}"
    );

    // And each listed route is really served: an unauthenticated call is refused (401) or, for
    // the credential routes, answered (never the fallback's 404).
    for (method, path) in API_ROUTES {
        let path = path
            .replace("{tenant_id}", &uuid::Uuid::now_v7().to_string())
            .replace("{queue_id}", &uuid::Uuid::now_v7().to_string())
            .replace("{agent_id}", &uuid::Uuid::now_v7().to_string())
            .replace("{version}", "1")
            .replace("{name}", "menu")
            .replace("{id}", &uuid::Uuid::now_v7().to_string());
        let method = method.parse().expect("method");
        let (status, _, body) = app.request(method, &path, None, Some(json!({})), &[]).await;
        assert_ne!(
            status,
            StatusCode::NOT_FOUND,
            "{path} is not routed: {body}"
        );
        assert_ne!(status, StatusCode::METHOD_NOT_ALLOWED, "{path}: {body}");
    }
    app.finish().await;
}

async fn health_readiness_and_metrics(backend: hotline_core::Backend) {
    let app = App::new(backend).await;
    let (status, _, body) = app.get("/healthz", None).await;
    assert_eq!((status, body), (StatusCode::OK, json!({ "status": "ok" })));
    let (status, _, body) = app.get("/readyz", None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["database"], json!(backend.name()));

    // Some traffic, then the metrics name routes by template, never by raw id.
    let tenant = app
        .create(
            "/api/v1/tenants",
            &app.operator,
            json!({ "slug": "metered", "name": "Metered", "time_zone": "UTC" }),
        )
        .await;
    let tenant_id = str_of(&tenant, "id");
    app.read(
        &format!("/api/v1/tenants/{tenant_id}/hotlines"),
        &app.operator,
    )
    .await;
    let (status, headers, metrics) = app.get("/metrics", None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with("text/plain")));
    let text = metrics.as_str().expect("metrics are text");
    assert!(text.contains("hotline_http_requests_total"), "{text}");
    assert!(
        text.contains("route=\"/api/v1/tenants/{tenant_id}/hotlines\""),
        "{text}"
    );
    assert!(
        text.contains("hotline_http_request_duration_seconds"),
        "{text}"
    );
    assert!(
        !text.contains(&tenant_id),
        "a raw id in a metric label explodes the label space"
    );

    // The database goes away: still alive, no longer ready.
    app.store.db().close().await;
    let (status, _, body) = app.get("/readyz", None).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(app.get("/healthz", None).await.0, StatusCode::OK);
    // A request needing the database answers 503 problem+json, not 500.
    let reply = app
        .get(
            &format!("/api/v1/tenants/{tenant_id}/hotlines"),
            Some(&app.operator),
        )
        .await;
    assert_problem(&reply, StatusCode::SERVICE_UNAVAILABLE, "unavailable");
    app.finish().await;
}

fn entries(page: &Value) -> Vec<Value> {
    page["items"].as_array().expect("audit items").clone()
}

async fn audit_log_for_tenant_admins_and_the_operator(backend: hotline_core::Backend) {
    let world = World::new(backend).await;
    let app = &world.app;
    let (a, b) = (&world.a, &world.b);

    // A change with a before and an after, then a delete.
    let hotline = a.url(&format!("/hotlines/{}", a.ids.hotline));
    let (status, _, _) = app
        .patch(
            &hotline,
            Some(&a.admin),
            "\"1\"",
            json!({ "name": "renamed" }),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let prompt = app
        .create(&a.url("/prompts"), &a.admin, json!({ "name": "doomed" }))
        .await;
    let prompt_id = str_of(&prompt, "id");
    let (status, _, _) = app
        .delete(
            &a.url(&format!("/prompts/{prompt_id}")),
            Some(&a.admin),
            Some("\"1\""),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);

    // The tenant admin reads A's log: only A's entries, newest first, with before and after.
    let log = entries(
        &app.read(&format!("{}?limit=500", a.url("/audit")), &a.admin)
            .await,
    );
    assert!(log.len() >= 10, "{log:?}");
    assert!(
        log.iter().all(|e| e["tenant_id"] == json!(a.id)),
        "another tenant's entry in A's log"
    );
    let ids: Vec<&str> = log.iter().filter_map(|e| e["id"].as_str()).collect();
    let mut sorted = ids.clone();
    sorted.sort_by(|x, y| y.cmp(x));
    assert_eq!(ids, sorted, "newest first");
    let update = log
        .iter()
        .find(|e| e["action"] == json!("update") && e["resource"] == json!("hotline"))
        .expect("the hotline's update");
    assert_eq!(update["resource_id"], json!(a.ids.hotline));
    assert_eq!(update["before"]["name"], json!("main"));
    assert_eq!(update["after"]["name"], json!("renamed"));
    assert_eq!(
        (
            update["before"]["version"].clone(),
            update["after"]["version"].clone()
        ),
        (json!(1), json!(2))
    );
    assert_eq!(update["actor"]["label"], json!(a.admin_email));
    assert_eq!(update["actor"]["kind"], json!("user"));
    assert!(update["at"].is_string());
    let created = log
        .iter()
        .find(|e| e["action"] == json!("create") && e["resource_id"] == json!(prompt_id))
        .expect("the prompt's creation");
    assert!(
        created["before"].is_null() && created["after"]["name"] == json!("doomed"),
        "{created}"
    );
    let deleted = log
        .iter()
        .find(|e| e["action"] == json!("delete") && e["resource_id"] == json!(prompt_id))
        .expect("the prompt's deletion");
    assert!(
        deleted["after"].is_null() && deleted["before"]["name"] == json!("doomed"),
        "{deleted}"
    );
    assert_eq!(log[0]["id"], deleted["id"], "the newest entry comes first");
    for kind in [
        "prompt",
        "queue",
        "hotline",
        "number",
        "agent",
        "queue-member",
        "user",
        "api-key",
    ] {
        assert!(
            log.iter().any(|e| e["resource"] == json!(kind)),
            "no {kind} entry in {log:?}"
        );
    }
    let b_log = entries(
        &app.read(&format!("{}?limit=500", b.url("/audit")), &b.admin)
            .await,
    );
    assert!(b_log.iter().all(|e| e["tenant_id"] == json!(b.id)));
    assert!(!b_log
        .iter()
        .any(|e| ids.contains(&e["id"].as_str().unwrap_or_default())));

    // The operator reads everything: both tenants' entries and the platform's own.
    let all = entries(&app.read("/api/v1/audit?limit=500", &app.operator).await);
    for entry in log.iter().chain(b_log.iter()) {
        assert!(
            all.iter().any(|e| e["id"] == entry["id"]),
            "{entry} missing from the platform log"
        );
    }
    let platform: Vec<&Value> = all.iter().filter(|e| e["tenant_id"].is_null()).collect();
    assert!(
        platform
            .iter()
            .any(|e| e["resource"] == json!("tenant") && e["resource_id"] == json!(a.id)),
        "{platform:?}"
    );
    // The operator may also read a tenant's log.
    assert_eq!(
        entries(
            &app.read(&format!("{}?limit=500", a.url("/audit")), &app.operator)
                .await
        )
        .len(),
        log.len()
    );

    // Secrets never reach the log.
    let text = serde_json::to_string(&all).expect("json");
    for secret in [
        PASSWORD,
        "password_hash",
        "ha1",
        "sip-secret",
        a.api_key_secret.as_str(),
        "hlk_",
    ] {
        assert!(!text.contains(secret), "the audit log holds {secret:?}");
    }

    // Other roles may not read it.
    for role in [
        hotline_tenants::rbac::Role::Supervisor,
        hotline_tenants::rbac::Role::Agent,
        hotline_tenants::rbac::Role::BillingViewer,
    ] {
        let token = world.token(role);
        assert_problem(
            &app.get(&a.url("/audit"), Some(token)).await,
            StatusCode::FORBIDDEN,
            "forbidden",
        );
        assert_problem(
            &app.get("/api/v1/audit", Some(token)).await,
            StatusCode::FORBIDDEN,
            "forbidden",
        );
    }
    assert_problem(
        &app.get(&a.url("/audit"), Some(&a.api_key_secret)).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    );
    assert_problem(
        &app.get("/api/v1/audit", Some(&a.admin)).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    );
    world.finish().await;
}

hotline_core::both_backends!(
    openapi_document_lists_exactly_the_routes,
    health_readiness_and_metrics,
    audit_log_for_tenant_admins_and_the_operator,
);
