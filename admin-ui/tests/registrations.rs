//! Agents' SIP registration state through the API: a tenant sees whether its agents (and the
//! firm agents assigned to it) are online and on which phones, never another tenant's; the
//! operator sees a firm agent's; expired registrations are not shown. Bindings are written
//! through the store exactly as the registrar writes them.

mod common;

use axum::http::StatusCode;
use chrono::{DateTime, Duration, Utc};
use common::*;
use hotline_core::ids::{AgentId, TenantId};
use hotline_core::{time, PlatformScope};
use hotline_tenants::sip_bindings::SipBinding;
use serde_json::{json, Value};

fn binding(
    agent: &str,
    tenant: Option<&str>,
    aor: &str,
    contact: &str,
    expires_at: DateTime<Utc>,
) -> SipBinding {
    let now = time::now();
    SipBinding {
        agent_id: agent.parse::<AgentId>().expect("agent id"),
        tenant_id: tenant.map(|t| t.parse::<TenantId>().expect("tenant id")),
        aor: aor.to_string(),
        contact_key: format!("uri:{contact}"),
        contact_uri: contact.to_string(),
        instance_id: None,
        source: "198.51.100.7:40001".into(),
        transport: "udp".into(),
        user_agent: Some("Yealink SIP-T46S".into()),
        call_id: format!("{}@phone", AgentId::new()),
        cseq: 7,
        expires_at,
        registered_at: now,
        updated_at: now,
    }
}

async fn write(app: &App, binding: &SipBinding) {
    app.store
        .platform_upsert_sip_binding(&PlatformScope::from_verified(), binding)
        .await
        .expect("store a binding");
}

fn contacts(list: &Value) -> Vec<String> {
    let mut contacts: Vec<String> = list["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|r| str_of(r, "contact"))
        .collect();
    contacts.sort();
    contacts
}

async fn tenants_see_their_agents_phones_and_nobody_elses(backend: hotline_core::Backend) {
    let world = World::new(backend).await;
    let app = &world.app;
    let (a, b) = (&world.a, &world.b);
    let op = app.operator.as_str();
    let in_5_min = time::now() + Duration::minutes(5);

    let firm = app
        .create(
            "/api/v1/agents",
            op,
            json!({ "name": "Firm Frank", "sip_username": "frank", "sip_password": "sip-secret-3" }),
        )
        .await;
    let firm_id = str_of(&firm, "id");
    let (status, _, body) = app
        .request(
            axum::http::Method::PUT,
            &format!("/api/v1/agents/{firm_id}/tenants/{}", a.id),
            Some(op),
            None,
            &[],
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");

    let a_aor = "sip:alice@tenant-a.sip.hotline.local";
    write(
        app,
        &binding(
            &a.ids.agent,
            Some(&a.id),
            a_aor,
            "sip:alice@10.0.0.5:5060",
            in_5_min,
        ),
    )
    .await;
    write(
        app,
        &binding(
            &a.ids.agent,
            Some(&a.id),
            a_aor,
            "sip:alice@10.0.0.6:5062;transport=tcp",
            in_5_min,
        ),
    )
    .await;
    write(
        app,
        &binding(
            &a.ids.agent,
            Some(&a.id),
            a_aor,
            "sip:alice@10.0.0.7",
            time::now() - Duration::seconds(1),
        ),
    )
    .await;
    write(
        app,
        &binding(
            &firm_id,
            None,
            "sip:frank@sip.hotline.local",
            "sip:frank@10.9.9.9",
            in_5_min,
        ),
    )
    .await;
    write(
        app,
        &binding(
            &b.ids.agent,
            Some(&b.id),
            "sip:alice@tenant-b.sip.hotline.local",
            "sip:alice@10.1.1.1",
            in_5_min,
        ),
    )
    .await;

    // Tenant A: its agent's two live phones and the assigned firm agent's, not the expired one.
    for token in [a.admin.as_str(), a.api_key_secret.as_str()] {
        let list = app.read(&a.url("/registrations"), token).await;
        assert_eq!(
            contacts(&list),
            vec![
                "sip:alice@10.0.0.5:5060",
                "sip:alice@10.0.0.6:5062;transport=tcp",
                "sip:frank@10.9.9.9"
            ]
        );
    }
    let agent = app
        .read(
            &a.url(&format!("/agents/{}/registrations", a.ids.agent)),
            &a.admin,
        )
        .await;
    assert_eq!(agent["agent_id"], json!(a.ids.agent));
    assert_eq!(agent["online"], json!(true));
    assert!(agent["last_seen"].is_string(), "{agent}");
    let phones = agent["registrations"].as_array().expect("registrations");
    assert_eq!(phones.len(), 2);
    let phone = &phones[0];
    for field in [
        "id",
        "aor",
        "contact",
        "source",
        "transport",
        "user_agent",
        "registered_at",
        "last_seen",
        "expires_at",
    ] {
        assert!(
            phone.get(field).is_some_and(|v| !v.is_null()),
            "{field} missing: {phone}"
        );
    }
    assert_eq!(phone["aor"], json!(a_aor));
    assert_eq!(phone["source"], json!("198.51.100.7:40001"));
    assert_eq!(phone["tenant_id"], json!(a.id));
    let frank = app
        .read(
            &a.url(&format!("/agents/{firm_id}/registrations")),
            &a.admin,
        )
        .await;
    assert_eq!(frank["online"], json!(true));

    // Tenant B sees only its own agent's phone; A's agent and the firm agent do not exist for it.
    let list = app.read(&b.url("/registrations"), &b.admin).await;
    assert_eq!(contacts(&list), vec!["sip:alice@10.1.1.1"]);
    for agent in [a.ids.agent.as_str(), firm_id.as_str()] {
        let reply = app
            .get(
                &b.url(&format!("/agents/{agent}/registrations")),
                Some(&b.admin),
            )
            .await;
        assert_problem(&reply, StatusCode::NOT_FOUND, "not-found");
    }

    // The operator: the firm agent's phones on the firm route, not a tenant's own agent there.
    let firm_view = app
        .read(&format!("/api/v1/agents/{firm_id}/registrations"), op)
        .await;
    assert_eq!(
        firm_view["registrations"][0]["contact"],
        json!("sip:frank@10.9.9.9")
    );
    assert_eq!(firm_view["registrations"][0]["tenant_id"], Value::Null);
    let reply = app
        .get(
            &format!("/api/v1/agents/{}/registrations", a.ids.agent),
            Some(op),
        )
        .await;
    assert_problem(&reply, StatusCode::NOT_FOUND, "not-found");
    world.finish().await;
}

async fn an_agent_without_phones_is_offline(backend: hotline_core::Backend) {
    let world = World::new(backend).await;
    let app = &world.app;
    let a = &world.a;
    let agent = app
        .read(
            &a.url(&format!("/agents/{}/registrations", a.ids.agent)),
            &a.admin,
        )
        .await;
    assert_eq!(
        agent,
        json!({ "agent_id": a.ids.agent, "online": false, "last_seen": null, "registrations": [] })
    );
    let list = app.read(&a.url("/registrations"), &a.admin).await;
    assert_eq!(list["items"], json!([]));
    world.finish().await;
}

hotline_core::both_backends!(
    tenants_see_their_agents_phones_and_nobody_elses,
    an_agent_without_phones_is_offline,
);
