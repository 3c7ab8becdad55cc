//! Tenant isolation through the HTTP API: for every tenant-scoped endpoint, another tenant's
//! admin finds nothing (404) and changes nothing, whether it names the other tenant's URL or the
//! other tenant's ids under its own URL; lists never show another tenant's ids; references in
//! bodies cannot reach into another tenant (422). Firm agents serve the tenants they are
//! assigned to and no others; a tenant's own agent serves only its tenant.

mod common;

use axum::http::{Method, StatusCode};
use common::*;
use serde_json::{json, Value};

/// Every tenant-scoped endpoint with a body that would succeed if isolation failed (PATCH and
/// DELETE are sent with `If-Match: "1"`, the fixture's versions). One line per endpoint.
#[rustfmt::skip]
fn matrix() -> Vec<(Method, &'static str, Option<Value>)> {
    use Method as M;
    vec![
        (M::GET, "/api/v1/tenants/{tenant_id}", None),
        (M::PATCH, "/api/v1/tenants/{tenant_id}", Some(json!({ "name": "Hijacked" }))),
        (M::GET, "/api/v1/tenants/{tenant_id}/numbers", None),
        (M::POST, "/api/v1/tenants/{tenant_id}/numbers", Some(json!({ "e164": "+421 2 9999 0001" }))),
        (M::GET, "/api/v1/tenants/{tenant_id}/numbers/{id}", None),
        (M::PATCH, "/api/v1/tenants/{tenant_id}/numbers/{id}", Some(json!({ "label": "hijacked" }))),
        (M::DELETE, "/api/v1/tenants/{tenant_id}/numbers/{id}", None),
        (M::GET, "/api/v1/tenants/{tenant_id}/hotlines", None),
        (M::POST, "/api/v1/tenants/{tenant_id}/hotlines", Some(json!({ "name": "hijack" }))),
        (M::GET, "/api/v1/tenants/{tenant_id}/hotlines/{id}", None),
        (M::PATCH, "/api/v1/tenants/{tenant_id}/hotlines/{id}", Some(json!({ "name": "hijacked" }))),
        (M::DELETE, "/api/v1/tenants/{tenant_id}/hotlines/{id}", None),
        (M::GET, "/api/v1/tenants/{tenant_id}/queues", None),
        (M::POST, "/api/v1/tenants/{tenant_id}/queues", Some(json!({ "name": "hijack" }))),
        (M::GET, "/api/v1/tenants/{tenant_id}/queues/{id}", None),
        (M::PATCH, "/api/v1/tenants/{tenant_id}/queues/{id}", Some(json!({ "max_wait_secs": 1 }))),
        (M::DELETE, "/api/v1/tenants/{tenant_id}/queues/{id}", None),
        (M::GET, "/api/v1/tenants/{tenant_id}/queues/{queue_id}/members", None),
        (M::PUT, "/api/v1/tenants/{tenant_id}/queues/{queue_id}/members/{agent_id}", Some(json!({ "penalty": 99 }))),
        (M::DELETE, "/api/v1/tenants/{tenant_id}/queues/{queue_id}/members/{agent_id}", None),
        (M::GET, "/api/v1/tenants/{tenant_id}/prompts", None),
        (M::POST, "/api/v1/tenants/{tenant_id}/prompts", Some(json!({ "name": "hijack" }))),
        (M::GET, "/api/v1/tenants/{tenant_id}/prompts/{id}", None),
        (M::PATCH, "/api/v1/tenants/{tenant_id}/prompts/{id}", Some(json!({ "description": "hijacked" }))),
        (M::DELETE, "/api/v1/tenants/{tenant_id}/prompts/{id}", None),
        // The upload is sent as a WAV file (see `send`).
        (M::PUT, "/api/v1/tenants/{tenant_id}/prompts/{id}/audio", None),
        (M::GET, "/api/v1/tenants/{tenant_id}/prompts/{id}/audio", None),
        (M::HEAD, "/api/v1/tenants/{tenant_id}/prompts/{id}/audio", None),
        (M::DELETE, "/api/v1/tenants/{tenant_id}/prompts/{id}/audio", None),
        (M::GET, "/api/v1/tenants/{tenant_id}/agents", None),
        (M::POST, "/api/v1/tenants/{tenant_id}/agents", Some(json!({ "name": "Mallory", "sip_username": "mallory", "sip_password": "sip-secret-9" }))),
        (M::GET, "/api/v1/tenants/{tenant_id}/agents/{id}", None),
        (M::PATCH, "/api/v1/tenants/{tenant_id}/agents/{id}", Some(json!({ "enabled": false }))),
        (M::DELETE, "/api/v1/tenants/{tenant_id}/agents/{id}", None),
        (M::GET, "/api/v1/tenants/{tenant_id}/agents/{id}/registrations", None),
        (M::GET, "/api/v1/tenants/{tenant_id}/registrations", None),
        (M::GET, "/api/v1/tenants/{tenant_id}/users", None),
        (M::POST, "/api/v1/tenants/{tenant_id}/users", Some(json!({ "email": "mallory@evil.example", "display_name": "Mallory", "role": "tenant-admin", "password": PASSWORD }))),
        (M::GET, "/api/v1/tenants/{tenant_id}/users/{id}", None),
        (M::PATCH, "/api/v1/tenants/{tenant_id}/users/{id}", Some(json!({ "password": "a new password of mine" }))),
        (M::DELETE, "/api/v1/tenants/{tenant_id}/users/{id}", None),
        (M::GET, "/api/v1/tenants/{tenant_id}/api-keys", None),
        (M::POST, "/api/v1/tenants/{tenant_id}/api-keys", Some(json!({ "name": "backdoor", "role": "tenant-admin" }))),
        (M::DELETE, "/api/v1/tenants/{tenant_id}/api-keys/{id}", None),
        (M::GET, "/api/v1/tenants/{tenant_id}/audit", None),
        (M::GET, "/api/v1/tenants/{tenant_id}/calls", None),
        (M::GET, "/api/v1/tenants/{tenant_id}/calls/{id}", None),
        (M::GET, "/api/v1/tenants/{tenant_id}/calls/{id}/recording", None),
        (M::HEAD, "/api/v1/tenants/{tenant_id}/calls/{id}/recording", None),
        (M::GET, "/api/v1/tenants/{tenant_id}/billing/account", None),
        (M::PUT, "/api/v1/tenants/{tenant_id}/billing/account", Some(json!({ "name": "Hijacked", "currency": "EUR", "time_zone": "Europe/Bratislava" }))),
        (M::GET, "/api/v1/tenants/{tenant_id}/billing/contract", None),
        (M::PUT, "/api/v1/tenants/{tenant_id}/billing/contract", Some(json!({ "tariff_id": uuid::Uuid::now_v7(), "starts_on": "2026-01-01" }))),
        (M::GET, "/api/v1/tenants/{tenant_id}/billing/usage", None),
        (M::POST, "/api/v1/tenants/{tenant_id}/billing/close-period", Some(json!({ "skip_grace": true }))),
        (M::GET, "/api/v1/tenants/{tenant_id}/invoices", None),
        (M::GET, "/api/v1/tenants/{tenant_id}/invoices/{id}", None),
        (M::GET, "/api/v1/tenants/{tenant_id}/invoices/{id}/lines", None),
        (M::GET, "/api/v1/tenants/{tenant_id}/invoices/{id}/usage.csv", None),
        (M::GET, "/api/v1/tenants/{tenant_id}/invoices/{id}/print", None),
        (M::POST, "/api/v1/tenants/{tenant_id}/invoices/{id}/finalize", None),
        (M::POST, "/api/v1/tenants/{tenant_id}/invoices/{id}/void", None),
        (M::GET, "/api/v1/tenants/{tenant_id}/invoices/{id}/credit-notes", None),
        (M::POST, "/api/v1/tenants/{tenant_id}/invoices/{id}/credit-notes", Some(json!({ "lines": [{ "description": "refund", "amount_minor": 100 }] }))),
        (M::GET, "/api/v1/tenants/{tenant_id}/plugins", None),
        (M::GET, "/api/v1/tenants/{tenant_id}/plugins/log", None),
        (M::GET, "/api/v1/tenants/{tenant_id}/plugins/settings", None),
        (M::PUT, "/api/v1/tenants/{tenant_id}/plugins/settings", Some(json!({ "http_allowlist": ["evil.example.com"] }))),
        (M::GET, "/api/v1/tenants/{tenant_id}/plugins/{name}", None),
        (M::GET, "/api/v1/tenants/{tenant_id}/plugins/{name}/versions", None),
        (M::POST, "/api/v1/tenants/{tenant_id}/plugins/{name}/versions", None),
        (M::GET, "/api/v1/tenants/{tenant_id}/plugins/{name}/versions/{version}", None),
    ]
}

/// The answer on the victim's URL: 404, except for changing a tenant, which is the operator's
/// alone, so another tenant's admin is refused (403) exactly as for its own tenant or one that
/// does not exist.
fn expected_on_victims_url(method: &Method, template: &str) -> StatusCode {
    if *method == Method::PATCH && template == "/api/v1/tenants/{tenant_id}" {
        StatusCode::FORBIDDEN
    } else {
        StatusCode::NOT_FOUND
    }
}

/// The answer on the attacker's own URL naming the victim's ids: 404, except for what no tenant
/// role may do to any id (403 whatever the id): releasing a number, and the operator's billing
/// actions on an invoice.
fn expected_on_own_url(method: &Method, template: &str) -> StatusCode {
    let operator_only = [
        (Method::DELETE, "/api/v1/tenants/{tenant_id}/numbers/{id}"),
        (
            Method::POST,
            "/api/v1/tenants/{tenant_id}/invoices/{id}/finalize",
        ),
        (
            Method::POST,
            "/api/v1/tenants/{tenant_id}/invoices/{id}/void",
        ),
        (
            Method::POST,
            "/api/v1/tenants/{tenant_id}/invoices/{id}/credit-notes",
        ),
    ];
    if operator_only
        .iter()
        .any(|(m, t)| m == method && *t == template)
    {
        StatusCode::FORBIDDEN
    } else {
        StatusCode::NOT_FOUND
    }
}

/// Random ids for every placeholder: resources that exist nowhere.
fn ghost_ids() -> Ids {
    let id = || uuid::Uuid::now_v7().to_string();
    Ids {
        number: id(),
        hotline: id(),
        queue: id(),
        prompt: id(),
        agent: id(),
        user: id(),
        api_key: id(),
        trunk: id(),
        call: id(),
        invoice: id(),
        closing_invoice: id(),
        spare_invoice: id(),
        tariff: id(),
        tariff_version: "2".into(),
        plugin: format!("ghost-{}", uuid::Uuid::now_v7().simple()),
        plugin_version: "1".into(),
    }
}

/// Send what would succeed on the fixture's own resource: PATCH and DELETE with the version the
/// fixture left it at, PUT of plugin settings with `If-Match: "0"` (never changed), an upload
/// with the probe guest as its body, an audio upload as a WAV file.
async fn send(app: &App, method: &Method, path: &str, token: &str, body: &Option<Value>) -> Reply {
    if *method == Method::POST && path.ends_with("/versions") && path.contains("/plugins/") {
        return app.upload(path, token, guest("probe")).await;
    }
    if *method == Method::PUT && path.ends_with("/plugins/settings") {
        return app
            .request(
                method.clone(),
                path,
                Some(token),
                body.clone(),
                &[("if-match", "\"0\"")],
            )
            .await;
    }
    if *method == Method::PUT && path.ends_with("/audio") {
        return app
            .put_audio(path, token, tone_wav(8000, 1, 16, 0.25), "audio/wav")
            .await;
    }
    let version = if path.contains("/prompts/") {
        format!("\"{PROMPT_VERSION}\"")
    } else {
        "\"1\"".to_string()
    };
    let mut headers = vec![];
    if *method == Method::PATCH || *method == Method::DELETE {
        headers.push(("if-match", version.as_str()));
    }
    if *method == Method::PATCH {
        headers.push(("content-type", "application/merge-patch+json"));
    }
    app.request(method.clone(), path, Some(token), body.clone(), &headers)
        .await
}

fn problem_slug(status: StatusCode) -> &'static str {
    match status {
        StatusCode::NOT_FOUND => "not-found",
        StatusCode::FORBIDDEN => "forbidden",
        other => panic!("no slug for {other}"),
    }
}

#[test]
fn the_matrix_covers_every_tenant_scoped_route() {
    let rows: Vec<(String, &str)> = matrix()
        .iter()
        .map(|(m, p, _)| (m.to_string(), *p))
        .collect();
    for (method, path) in tenant_routes() {
        assert!(
            rows.iter().any(|(m, p)| m == method && *p == path),
            "{method} {path} is missing from the cross-tenant matrix"
        );
    }
    for (method, path) in &rows {
        assert!(
            API_ROUTES.iter().any(|(m, p)| m == method && p == path),
            "{method} {path} is in the matrix but not a route"
        );
    }
}

/// Another tenant's admin, on the victim's URL and with the victim's ids under its own URL:
/// 404 (problem+json) and not a single row written. Both directions.
async fn other_tenants_admin_finds_nothing(backend: hotline_core::Backend) {
    let world = World::new(backend).await;
    let app = &world.app;
    let before = app.fingerprint().await;
    for (attacker, victim) in [(&world.b, &world.a), (&world.a, &world.b)] {
        for (method, template, body) in matrix() {
            // The victim's URL, the victim's ids.
            let want = expected_on_victims_url(&method, template);
            let path = fill(template, &victim.id, &victim.ids);
            let reply = send(app, &method, &path, &attacker.admin, &body).await;
            assert_refused(&method, &reply, want, problem_slug(want));
            assert_eq!(
                app.fingerprint().await,
                before,
                "{method} {path} wrote something"
            );
            // The same answer as for a tenant that does not exist: nothing tells them apart.
            let ghost = fill(template, &uuid::Uuid::now_v7().to_string(), &ghost_ids());
            let ghost_reply = send(app, &method, &ghost, &attacker.admin, &body).await;
            assert_eq!(
                ghost_reply.0, reply.0,
                "{method} {ghost}: {}",
                ghost_reply.2
            );

            // The attacker's own URL with the victim's ids. (Uploading under its own URL with the
            // victim's plugin name makes a plugin of the attacker's own: names are per tenant,
            // which `plugins.rs` shows.)
            let own_upload = method == Method::POST && template.ends_with("/versions");
            if template.contains("{id}")
                || template.contains("{queue_id}")
                || (template.contains("{name}") && !own_upload)
            {
                let want = expected_on_own_url(&method, template);
                let path = fill(template, &attacker.id, &victim.ids);
                let reply = send(app, &method, &path, &attacker.admin, &body).await;
                assert_refused(&method, &reply, want, problem_slug(want));
                assert_eq!(
                    app.fingerprint().await,
                    before,
                    "{method} {path} wrote something"
                );
                let ghost = fill(template, &attacker.id, &ghost_ids());
                let ghost_reply = send(app, &method, &ghost, &attacker.admin, &body).await;
                assert_eq!(
                    ghost_reply.0, reply.0,
                    "{method} {ghost}: {}",
                    ghost_reply.2
                );
            }
        }
    }
    // The victim's resources are as they were, seen by the victim.
    for fx in [&world.a, &world.b] {
        for collection in [
            "numbers", "hotlines", "queues", "prompts", "agents", "users",
        ] {
            let path = fx.url(&format!(
                "/{collection}/{}",
                fx.ids.for_collection(collection)
            ));
            let item = app.read(&path, &fx.admin).await;
            let version = if collection == "prompts" {
                PROMPT_VERSION
            } else {
                1
            };
            assert_eq!(item["version"], json!(version), "{path} changed: {item}");
        }
    }
    world.finish().await;
}

/// Every list a tenant can read, read by B's admin and B's API key: none shows an id of A, nor
/// A's tenant id, number or names.
async fn lists_never_show_another_tenants_ids(backend: hotline_core::Backend) {
    let world = World::new(backend).await;
    let app = &world.app;
    let mut foreign: Vec<String> = world.a.ids.all();
    foreign.push(world.a.id.clone());
    foreign.push(world.a.e164.clone());
    foreign.push(world.a.admin_email.clone());
    for (viewer, victim, foreign) in [
        (&world.b, &world.a, foreign.clone()),
        (&world.a, &world.b, {
            let mut f = world.b.ids.all();
            f.push(world.b.id.clone());
            f.push(world.b.e164.clone());
            f
        }),
    ] {
        let lists: Vec<&str> = matrix()
            .iter()
            .filter(|(m, p, _)| {
                *m == Method::GET
                    && !p.ends_with("{id}")
                    && !p.ends_with("/audio")
                    && !p.ends_with("/recording")
                    && *p != "/api/v1/tenants/{tenant_id}"
            })
            .map(|(_, p, _)| *p)
            .collect();
        assert!(lists.len() >= 9, "{lists:?}");
        for template in lists {
            let path = fill(template, &viewer.id, &viewer.ids);
            for token in [&viewer.admin, &viewer.api_key_secret] {
                let (status, _, body) = app.get(&format!("{path}?limit=500"), Some(token)).await;
                if status == StatusCode::FORBIDDEN {
                    continue; // the API key's role may not read this list
                }
                assert_eq!(status, StatusCode::OK, "GET {path}: {body}");
                let text = body.to_string();
                for id in &foreign {
                    assert!(
                        !text.contains(id.as_str()),
                        "{} sees {id} of {} in GET {path}: {text}",
                        viewer.slug,
                        victim.slug
                    );
                }
            }
        }
    }
    // Every list holds the viewer's own items, so the check above is not vacuous.
    let b = &world.b;
    for collection in [
        "numbers", "hotlines", "queues", "prompts", "agents", "users", "api-keys",
    ] {
        let ids = app
            .list_ids(&b.url(&format!("/{collection}")), &b.admin)
            .await;
        assert!(
            ids.contains(&b.ids.for_collection(collection).to_string()),
            "{collection}: {ids:?}"
        );
    }
    world.finish().await;
}

/// Bodies that name another tenant's rows under one's own URL: refused as invalid (422, the
/// field named), nothing written.
async fn references_cannot_cross_tenants(backend: hotline_core::Backend) {
    let world = World::new(backend).await;
    let app = &world.app;
    let (a, b) = (&world.a, &world.b);
    let cases: Vec<(Method, String, Value, &str)> = vec![
        (
            Method::POST,
            b.url("/hotlines"),
            json!({ "name": "x1", "fallback_queue_id": a.ids.queue }),
            "fallback_queue_id",
        ),
        (
            Method::POST,
            b.url("/hotlines"),
            json!({ "name": "x2", "closed_action": { "action": "message", "prompt_id": a.ids.prompt } }),
            "closed_action.prompt_id",
        ),
        (
            Method::PATCH,
            b.url(&format!("/hotlines/{}", b.ids.hotline)),
            json!({ "fallback_queue_id": a.ids.queue }),
            "fallback_queue_id",
        ),
        (
            Method::POST,
            b.url("/hotlines"),
            json!({ "name": "x6", "open_action": { "action": "forward-agent", "agent_id": a.ids.agent } }),
            "open_action.agent_id",
        ),
        (
            Method::PATCH,
            b.url(&format!("/hotlines/{}", b.ids.hotline)),
            json!({ "open_action": { "action": "forward-number", "number": "+421 2 5555 0001",
                "no_answer": { "action": "forward-agent", "agent_id": a.ids.agent } } }),
            "open_action.no_answer.agent_id",
        ),
        (
            Method::POST,
            b.url("/queues"),
            json!({ "name": "x3", "moh_prompt_id": a.ids.prompt }),
            "moh_prompt_id",
        ),
        (
            Method::POST,
            b.url("/queues"),
            json!({ "name": "x4", "overflow": { "type": "queue", "queue_id": a.ids.queue } }),
            "overflow.queue_id",
        ),
        (
            Method::PATCH,
            b.url(&format!("/queues/{}", b.ids.queue)),
            json!({ "overflow": { "type": "hangup", "prompt_id": a.ids.prompt } }),
            "overflow.prompt_id",
        ),
        (
            Method::PATCH,
            b.url(&format!("/numbers/{}", b.ids.number)),
            json!({ "hotline_id": a.ids.hotline }),
            "hotline_id",
        ),
        (
            Method::PUT,
            b.url(&format!("/queues/{}/members/{}", b.ids.queue, a.ids.agent)),
            json!({ "penalty": 1 }),
            "agent_id",
        ),
        (
            Method::POST,
            b.url("/agents"),
            json!({ "name": "Linked", "sip_username": "linked", "sip_password": "sip-secret-2", "user_id": a.ids.user }),
            "user_id",
        ),
        (
            Method::PATCH,
            b.url(&format!("/agents/{}", b.ids.agent)),
            json!({ "user_id": a.ids.user }),
            "user_id",
        ),
        (
            Method::POST,
            b.url("/hotlines"),
            json!({ "name": "x8", "ivr_plugin": { "plugin": a.ids.plugin, "version": 1 } }),
            "ivr_plugin",
        ),
        (
            Method::PATCH,
            b.url(&format!("/hotlines/{}", b.ids.hotline)),
            json!({ "ivr_plugin": { "plugin": a.ids.plugin, "version": 1 } }),
            "ivr_plugin",
        ),
    ];
    let before = app.fingerprint().await;
    // The operator, too, cannot point one tenant's number at another tenant's hotline.
    let op = app.operator.as_str();
    let cases: Vec<(Method, String, Value, &str, &str)> = cases
        .into_iter()
        .map(|(m, p, body, field)| (m, p, body, field, b.admin.as_str()))
        .chain([
            (
                Method::POST,
                b.url("/numbers"),
                json!({ "e164": "+421 2 5555 0001", "hotline_id": a.ids.hotline }),
                "hotline_id",
                op,
            ),
            (
                Method::PATCH,
                b.url(&format!("/numbers/{}", b.ids.number)),
                json!({ "hotline_id": a.ids.hotline }),
                "hotline_id",
                op,
            ),
            (
                Method::POST,
                b.url("/hotlines"),
                json!({ "name": "x5", "fallback_queue_id": a.ids.queue }),
                "fallback_queue_id",
                op,
            ),
            (
                Method::POST,
                b.url("/hotlines"),
                json!({ "name": "x7", "open_action": { "action": "forward-agent", "agent_id": a.ids.agent } }),
                "open_action.agent_id",
                op,
            ),
            (
                Method::PATCH,
                b.url(&format!("/hotlines/{}", b.ids.hotline)),
                json!({ "ivr_plugin": { "plugin": a.ids.plugin, "version": 1 } }),
                "ivr_plugin",
                op,
            ),
        ])
        .collect();
    for (method, path, body, field, token) in cases {
        let reply = send(app, &method, &path, token, &Some(body.clone())).await;
        let problem = assert_problem(&reply, StatusCode::UNPROCESSABLE_ENTITY, "validation");
        assert!(
            error_fields(&problem).iter().any(|f| f == field),
            "{method} {path} {body}: errors must name {field}: {problem}"
        );
        assert_eq!(
            app.fingerprint().await,
            before,
            "{method} {path} {body} wrote something"
        );
    }
    world.finish().await;
}

/// A firm agent assigned to A and B serves queues of both; a tenant's own agent cannot join the
/// other tenant's queue, nor can a firm agent assigned elsewhere; unassigning ends memberships.
async fn firm_agents_serve_the_tenants_they_are_assigned_to(backend: hotline_core::Backend) {
    let world = World::new(backend).await;
    let app = &world.app;
    let (a, b) = (&world.a, &world.b);
    let op = app.operator.as_str();

    let firm = app
        .create("/api/v1/agents", op, json!({ "name": "Firm Frank", "sip_username": "frank", "sip_password": "sip-secret-3" }))
        .await;
    assert_eq!(firm["kind"], json!("firm"));
    let firm_id = str_of(&firm, "id");
    let loner = app
        .create(
            "/api/v1/agents",
            op,
            json!({ "name": "Firm Lone", "sip_username": "lone", "sip_password": "sip-secret-4" }),
        )
        .await;
    let loner_id = str_of(&loner, "id");

    // Before any assignment neither tenant may use it.
    for fx in [a, b] {
        let member = fx.url(&format!("/queues/{}/members/{firm_id}", fx.ids.queue));
        let before = app.fingerprint().await;
        let reply = app
            .put(&member, Some(&fx.admin), json!({ "penalty": 1 }))
            .await;
        assert_problem(&reply, StatusCode::UNPROCESSABLE_ENTITY, "validation");
        assert_eq!(app.fingerprint().await, before);
        assert_problem(
            &app.get(&fx.url(&format!("/agents/{firm_id}")), Some(&fx.admin))
                .await,
            StatusCode::NOT_FOUND,
            "not-found",
        );
    }

    for fx in [a, b] {
        let (status, _, body) = app
            .request(
                Method::PUT,
                &format!("/api/v1/agents/{firm_id}/tenants/{}", fx.id),
                Some(op),
                None,
                &[],
            )
            .await;
        assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    }
    let assigned = app
        .read(&format!("/api/v1/agents/{firm_id}/tenants"), op)
        .await;
    let mut want = vec![json!(a.id), json!(b.id)];
    want.sort_by_key(|v| v.to_string());
    assert_eq!(assigned, json!(want));

    // A member of a queue of each tenant, added by each tenant's own admin.
    for fx in [a, b] {
        let member = fx.url(&format!("/queues/{}/members/{firm_id}", fx.ids.queue));
        let (status, _, body) = app
            .put(&member, Some(&fx.admin), json!({ "penalty": 3 }))
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let members = app
            .read(
                &fx.url(&format!("/queues/{}/members", fx.ids.queue)),
                &fx.admin,
            )
            .await;
        let agents: Vec<&str> = members
            .as_array()
            .expect("members")
            .iter()
            .filter_map(|m| m["agent_id"].as_str())
            .collect();
        assert!(
            agents.contains(&firm_id.as_str()) && agents.contains(&fx.ids.agent.as_str()),
            "{members}"
        );
        // Each tenant sees the firm agent (read-only) among its agents.
        let listed = app.list_ids(&fx.url("/agents"), &fx.admin).await;
        assert!(listed.contains(&firm_id), "{listed:?}");
        assert!(!listed.contains(&loner_id), "{listed:?}");
        // ... but it is the operator's to change or delete.
        let before = app.fingerprint().await;
        let reply = app
            .patch(
                &fx.url(&format!("/agents/{firm_id}")),
                Some(&fx.admin),
                "\"1\"",
                json!({ "name": "Renamed" }),
            )
            .await;
        assert_problem(&reply, StatusCode::FORBIDDEN, "forbidden");
        let reply = app
            .delete(
                &fx.url(&format!("/agents/{firm_id}")),
                Some(&fx.admin),
                Some("\"1\""),
            )
            .await;
        assert_problem(&reply, StatusCode::FORBIDDEN, "forbidden");
        assert_eq!(app.fingerprint().await, before);
    }

    // A tenant's own agent is no firm agent: the operator cannot assign it to another tenant,
    // nor change it on the firm's routes.
    let before = app.fingerprint().await;
    let own = format!("/api/v1/agents/{}", a.ids.agent);
    let reply = app
        .request(
            Method::PUT,
            &format!("{own}/tenants/{}", b.id),
            Some(op),
            None,
            &[],
        )
        .await;
    assert_problem(&reply, StatusCode::NOT_FOUND, "not-found");
    assert_problem(
        &app.patch(&own, Some(op), "\"1\"", json!({ "name": "Moved" }))
            .await,
        StatusCode::NOT_FOUND,
        "not-found",
    );
    assert_problem(
        &app.delete(&own, Some(op), None).await,
        StatusCode::NOT_FOUND,
        "not-found",
    );
    assert_problem(
        &app.get(&format!("{own}/tenants"), Some(op)).await,
        StatusCode::NOT_FOUND,
        "not-found",
    );
    assert_eq!(app.fingerprint().await, before);

    // A's own agent cannot join B's queue, even when the operator asks; nor can a firm agent
    // assigned to A only (the loner, assigned to A now).
    let (status, _, _) = app
        .request(
            Method::PUT,
            &format!("/api/v1/agents/{loner_id}/tenants/{}", a.id),
            Some(op),
            None,
            &[],
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let before = app.fingerprint().await;
    for agent in [&a.ids.agent, &loner_id] {
        let member = b.url(&format!("/queues/{}/members/{agent}", b.ids.queue));
        for token in [b.admin.as_str(), op] {
            let reply = app.put(&member, Some(token), json!({ "penalty": 0 })).await;
            let problem = assert_problem(&reply, StatusCode::UNPROCESSABLE_ENTITY, "validation");
            assert_eq!(error_fields(&problem), vec!["agent_id".to_string()]);
        }
    }
    assert_eq!(app.fingerprint().await, before);

    // Unassigned from B: its membership in B's queue ends; A's stays.
    let (status, _, _) = app
        .delete(
            &format!("/api/v1/agents/{firm_id}/tenants/{}", b.id),
            Some(op),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let b_members = app
        .read(
            &b.url(&format!("/queues/{}/members", b.ids.queue)),
            &b.admin,
        )
        .await;
    assert!(!b_members.to_string().contains(&firm_id), "{b_members}");
    let a_members = app
        .read(
            &a.url(&format!("/queues/{}/members", a.ids.queue)),
            &a.admin,
        )
        .await;
    assert!(a_members.to_string().contains(&firm_id), "{a_members}");
    assert_problem(
        &app.get(&b.url(&format!("/agents/{firm_id}")), Some(&b.admin))
            .await,
        StatusCode::NOT_FOUND,
        "not-found",
    );

    world.finish().await;
}

/// Trunks are the operator's: no tenant role, as a user or an API key, may list, read, make,
/// change or remove one (403, nothing written), and no tenant answer ever shows a trunk.
async fn trunks_are_the_operators_alone(backend: hotline_core::Backend) {
    let world = World::new(backend).await;
    let app = &world.app;
    let op = app.operator.as_str();
    let trunk = app
        .create(
            "/api/v1/trunks",
            op,
            json!({ "name": "Carrier", "inbound": { "sources": ["192.0.2.0/24"] },
                "outbound": { "host": "sip.carrier.example", "username": "hotline", "password": "provider-secret-1" } }),
        )
        .await;
    let trunk_id = str_of(&trunk, "id");
    let item = format!("/api/v1/trunks/{trunk_id}");
    let mut callers: Vec<String> = world.a_roles.iter().map(|(_, t)| t.clone()).collect();
    callers.push(world.b.admin.clone());
    callers.push(world.a.api_key_secret.clone());
    let before = app.fingerprint().await;
    for token in &callers {
        let requests: Vec<(Method, &str, Option<Value>)> = vec![
            (Method::GET, "/api/v1/trunks", None),
            (
                Method::POST,
                "/api/v1/trunks",
                Some(json!({ "name": "Mine", "inbound": { "sources": ["198.51.100.1"] } })),
            ),
            (Method::GET, item.as_str(), None),
            (
                Method::PATCH,
                item.as_str(),
                Some(json!({ "enabled": false })),
            ),
            (Method::DELETE, item.as_str(), None),
        ];
        for (method, path, body) in requests {
            let reply = send(app, &method, path, token, &body).await;
            assert_problem(&reply, StatusCode::FORBIDDEN, "forbidden");
        }
    }
    assert_eq!(
        app.fingerprint().await,
        before,
        "a refused trunk request wrote something"
    );
    // A tenant may name a trunk to forward through, but reads nothing of it back.
    let hotline = app
        .create(
            &world.a.url("/hotlines"),
            &world.a.admin,
            json!({ "name": "out", "open_action": { "action": "forward-number", "number": "+421255550001", "trunk_id": trunk_id } }),
        )
        .await;
    let text = hotline.to_string();
    assert!(
        !text.contains("sip.carrier.example") && !text.contains("provider-secret"),
        "{text}"
    );
    world.finish().await;
}

hotline_core::both_backends!(
    trunks_are_the_operators_alone,
    other_tenants_admin_finds_nothing,
    lists_never_show_another_tenants_ids,
    references_cannot_cross_tenants,
    firm_agents_serve_the_tenants_they_are_assigned_to,
);
