//! SIP registrations against SQLite and PostgreSQL: the registrar's bindings written through
//! and read back, expiry, the credential lookup by (realm, username) that keeps every agent in
//! its own realm, and what tenants and the operator may read.

mod common;

use chrono::{DateTime, Duration, Utc};
use common::*;
use hotline_core::ids::AgentId;
use hotline_core::{time, Backend};
use hotline_tenants::agents::{digest_ha1, Agent, AgentInput};
use hotline_tenants::sip_bindings::SipBinding;
use hotline_tenants::tenants::TenantStatus;
use hotline_tenants::PageRequest;

hotline_core::both_backends!(
    bindings_round_trip_and_refresh_in_place,
    expired_bindings_are_deleted_and_not_shown,
    credentials_are_found_only_in_their_own_realm,
    disabled_agents_and_suspended_tenants_cannot_register,
    tenants_read_only_the_registrations_of_agents_they_use,
    deleting_an_agent_deletes_its_bindings,
);

fn agent_input(username: &str, password: &str) -> AgentInput {
    AgentInput {
        name: format!("Agent {username}"),
        sip_username: username.to_string(),
        skills: Vec::new(),
        enabled: true,
        user_id: None,
        sip_password: Some(password.to_string()),
    }
}

fn binding(agent: &Agent, contact: &str, expires_at: DateTime<Utc>) -> SipBinding {
    let now = time::now();
    SipBinding {
        agent_id: agent.id,
        tenant_id: agent.tenant_id,
        aor: format!("sip:{}@{}", agent.sip_username, agent.realm),
        contact_key: format!("uri:{contact}"),
        contact_uri: contact.to_string(),
        instance_id: None,
        source: "198.51.100.7:40001".into(),
        transport: "udp".into(),
        user_agent: Some("Yealink SIP-T46S".into()),
        call_id: format!("{}@phone", AgentId::new()),
        cseq: 2,
        expires_at,
        registered_at: now,
        updated_at: now,
    }
}

fn in_secs(seconds: i64) -> DateTime<Utc> {
    time::now() + Duration::seconds(seconds)
}

async fn bindings_round_trip_and_refresh_in_place(backend: Backend) {
    let fx = Fixture::new(backend).await;
    let (_, a) = fx.tenant("acme").await;
    let alice = fx
        .store
        .create_agent(&fx.actor, &a, agent_input("alice", "alice-secret"))
        .await
        .unwrap();
    let firm = fx
        .store
        .create_firm_agent(
            &fx.actor,
            &fx.platform,
            agent_input("fiona", "fiona-secret"),
        )
        .await
        .unwrap();
    let desk = binding(&alice, "sip:alice@10.0.0.5:5060", in_secs(300));
    let mut soft = binding(
        &alice,
        "sip:alice@10.0.0.6:5062;transport=tcp",
        in_secs(600),
    );
    soft.instance_id = Some("<urn:uuid:00000000-0000-1000-8000-000A95A0E128>".into());
    soft.transport = "tcp".into();
    soft.user_agent = None;
    let fiona = binding(&firm, "sip:fiona@192.168.1.9", in_secs(120));
    for b in [&desk, &soft, &fiona] {
        fx.store
            .platform_upsert_sip_binding(&fx.platform, b)
            .await
            .unwrap();
    }
    let mut loaded = fx
        .store
        .platform_load_sip_bindings(&fx.platform)
        .await
        .unwrap();
    loaded.sort_by(|x, y| x.contact_uri.cmp(&y.contact_uri));
    assert_eq!(loaded, vec![desk.clone(), soft.clone(), fiona.clone()]);
    assert_eq!(
        loaded[2].tenant_id, None,
        "a firm agent's binding has no tenant"
    );

    let before = fx.store.agent_registrations(&a, alice.id).await.unwrap();
    let desk_id = before
        .registrations
        .iter()
        .find(|r| r.contact == desk.contact_uri)
        .unwrap()
        .id;

    // A refresh (same agent and contact key) replaces the row in place, keeping its id.
    let refreshed = SipBinding {
        source: "198.51.100.7:40999".into(),
        cseq: 3,
        expires_at: in_secs(900),
        updated_at: time::now() + Duration::seconds(1),
        ..desk.clone()
    };
    fx.store
        .platform_upsert_sip_binding(&fx.platform, &refreshed)
        .await
        .unwrap();
    assert_eq!(fx.count("sip_bindings").await, 3);
    let after = fx.store.agent_registrations(&a, alice.id).await.unwrap();
    let row = after
        .registrations
        .iter()
        .find(|r| r.contact == desk.contact_uri)
        .unwrap();
    assert_eq!(row.id, desk_id);
    assert_eq!(row.source, "198.51.100.7:40999");
    assert_eq!(row.expires_at, refreshed.expires_at);
    assert!(after.online);
    assert_eq!(after.last_seen, Some(refreshed.updated_at));
    assert_eq!(
        after.registrations[0].contact, desk.contact_uri,
        "latest refresh first"
    );

    fx.store
        .platform_remove_sip_binding(&fx.platform, alice.id, &soft.contact_key)
        .await
        .unwrap();
    // Removing what is not there is fine.
    fx.store
        .platform_remove_sip_binding(&fx.platform, alice.id, "uri:nothing")
        .await
        .unwrap();
    assert_eq!(fx.count("sip_bindings").await, 2);
    fx.finish().await;
}

async fn expired_bindings_are_deleted_and_not_shown(backend: Backend) {
    let fx = Fixture::new(backend).await;
    let (_, a) = fx.tenant("acme").await;
    let alice = fx
        .store
        .create_agent(&fx.actor, &a, agent_input("alice", "alice-secret"))
        .await
        .unwrap();
    let live = binding(&alice, "sip:alice@10.0.0.5", in_secs(60));
    let expired = binding(&alice, "sip:alice@10.0.0.6", in_secs(-1));
    for b in [&live, &expired] {
        fx.store
            .platform_upsert_sip_binding(&fx.platform, b)
            .await
            .unwrap();
    }
    // Not swept yet, but already not shown.
    let shown = fx.store.agent_registrations(&a, alice.id).await.unwrap();
    assert_eq!(shown.registrations.len(), 1);
    assert_eq!(shown.registrations[0].contact, live.contact_uri);
    let listed = fx
        .store
        .list_registrations(&a, &PageRequest::first(50))
        .await
        .unwrap();
    assert_eq!(listed.items.len(), 1);

    let removed = fx
        .store
        .platform_remove_expired_sip_bindings(&fx.platform, time::now())
        .await
        .unwrap();
    assert_eq!(removed, 1);
    let left = fx
        .store
        .platform_load_sip_bindings(&fx.platform)
        .await
        .unwrap();
    assert_eq!(left, vec![live]);

    let gone = fx
        .store
        .platform_remove_expired_sip_bindings(&fx.platform, in_secs(61))
        .await
        .unwrap();
    assert_eq!(gone, 1);
    let offline = fx.store.agent_registrations(&a, alice.id).await.unwrap();
    assert!(!offline.online);
    assert_eq!(offline.last_seen, None);
    fx.finish().await;
}

async fn credentials_are_found_only_in_their_own_realm(backend: Backend) {
    let fx = Fixture::new(backend).await;
    let (acme, a) = fx.tenant("acme").await;
    let (globex, g) = fx.tenant("globex").await;
    let acme_alice = fx
        .store
        .create_agent(&fx.actor, &a, agent_input("alice", "acme-secret"))
        .await
        .unwrap();
    let globex_alice = fx
        .store
        .create_agent(&fx.actor, &g, agent_input("alice", "globex-secret"))
        .await
        .unwrap();
    let firm = fx
        .store
        .create_firm_agent(&fx.actor, &fx.platform, agent_input("alice", "firm-secret"))
        .await
        .unwrap();

    let found = fx
        .store
        .platform_sip_credentials(&fx.platform, &acme.sip_domain, "alice")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.agent_id, acme_alice.id);
    assert_eq!(found.tenant_id, Some(acme.id));
    assert_eq!(found.realm, acme.sip_domain);
    let (md5, sha256) = digest_ha1("alice", &acme.sip_domain, "acme-secret");
    assert_eq!(
        (found.ha1_md5.as_str(), found.ha1_sha256.as_str()),
        (md5.as_str(), sha256.as_str())
    );
    assert!(found.enabled);
    assert!(
        !format!("{found:?}").contains(&md5),
        "Debug must not show the HA1"
    );

    let other = fx
        .store
        .platform_sip_credentials(&fx.platform, &globex.sip_domain, "alice")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(other.agent_id, globex_alice.id);
    assert_eq!(other.tenant_id, Some(globex.id));
    assert_ne!(other.ha1_md5, found.ha1_md5);

    let platform = fx
        .store
        .platform_sip_credentials(&fx.platform, "sip.hotline.local", "alice")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(platform.agent_id, firm.id);
    assert_eq!(platform.tenant_id, None);

    for (realm, user) in [
        ("unknown.sip.hotline.local", "alice"),
        (acme.sip_domain.as_str(), "bob"),
        (acme.sip_domain.as_str(), "ALICE"),
        ("", ""),
    ] {
        assert!(
            fx.store
                .platform_sip_credentials(&fx.platform, realm, user)
                .await
                .unwrap()
                .is_none(),
            "{realm} {user}"
        );
    }
    fx.finish().await;
}

async fn disabled_agents_and_suspended_tenants_cannot_register(backend: Backend) {
    let fx = Fixture::new(backend).await;
    let (acme, a) = fx.tenant("acme").await;
    let alice = fx
        .store
        .create_agent(&fx.actor, &a, agent_input("alice", "alice-secret"))
        .await
        .unwrap();
    let enabled = |store: hotline_tenants::Store, platform, realm: String| async move {
        store
            .platform_sip_credentials(&platform, &realm, "alice")
            .await
            .unwrap()
            .unwrap()
            .enabled
    };
    assert!(enabled(fx.store.clone(), fx.platform, acme.sip_domain.clone()).await);

    let mut input = alice.input();
    input.enabled = false;
    let alice = fx
        .store
        .update_agent(&fx.actor, &a, alice.id, alice.version, input)
        .await
        .unwrap();
    assert!(!enabled(fx.store.clone(), fx.platform, acme.sip_domain.clone()).await);

    let mut input = alice.input();
    input.enabled = true;
    fx.store
        .update_agent(&fx.actor, &a, alice.id, alice.version, input)
        .await
        .unwrap();
    let mut spec = acme.spec.clone();
    spec.status = TenantStatus::Suspended;
    fx.store
        .update_tenant(&fx.actor, &fx.platform, acme.id, acme.version, spec)
        .await
        .unwrap();
    assert!(!enabled(fx.store.clone(), fx.platform, acme.sip_domain.clone()).await);
    fx.finish().await;
}

async fn tenants_read_only_the_registrations_of_agents_they_use(backend: Backend) {
    let fx = Fixture::new(backend).await;
    let (acme, a) = fx.tenant("acme").await;
    let (globex, g) = fx.tenant("globex").await;
    let alice = fx
        .store
        .create_agent(&fx.actor, &a, agent_input("alice", "alice-secret"))
        .await
        .unwrap();
    let gus = fx
        .store
        .create_agent(&fx.actor, &g, agent_input("gus", "gus-secret"))
        .await
        .unwrap();
    let firm = fx
        .store
        .create_firm_agent(
            &fx.actor,
            &fx.platform,
            agent_input("fiona", "fiona-secret"),
        )
        .await
        .unwrap();
    fx.store
        .assign_firm_agent(&fx.actor, &fx.platform, firm.id, acme.id)
        .await
        .unwrap();
    let mut acme_contacts = Vec::new();
    for i in 0..5 {
        let b = binding(&alice, &format!("sip:alice@10.0.0.{i}"), in_secs(300));
        fx.store
            .platform_upsert_sip_binding(&fx.platform, &b)
            .await
            .unwrap();
        acme_contacts.push(b.contact_uri);
    }
    let fiona = binding(&firm, "sip:fiona@10.9.9.9", in_secs(300));
    let gus_binding = binding(&gus, "sip:gus@10.1.1.1", in_secs(300));
    for b in [&fiona, &gus_binding] {
        fx.store
            .platform_upsert_sip_binding(&fx.platform, b)
            .await
            .unwrap();
    }
    acme_contacts.push(fiona.contact_uri.clone());
    acme_contacts.sort();

    // Acme lists its own agent's phones and its assigned firm agent's, page by page.
    let (items, sizes) = collect_pages(2, |page| {
        let store = fx.store.clone();
        async move { store.list_registrations(&a, &page).await }
    })
    .await;
    assert_eq!(sizes, vec![2, 2, 2]);
    let mut seen: Vec<String> = items.iter().map(|r| r.contact.clone()).collect();
    seen.sort();
    assert_eq!(seen, acme_contacts);
    assert!(items.iter().all(|r| r.agent_id != gus.id));

    // Globex sees only Gus; the firm agent is not assigned to it.
    let globex_list = fx
        .store
        .list_registrations(&g, &PageRequest::first(50))
        .await
        .unwrap();
    let agents: Vec<AgentId> = globex_list.items.iter().map(|r| r.agent_id).collect();
    assert_eq!(agents, vec![gus.id]);
    assert_eq!(globex_list.items[0].tenant_id, Some(globex.id));

    // Per agent: another tenant's agent does not exist for Globex.
    assert_not_found(fx.store.agent_registrations(&g, alice.id).await);
    assert_not_found(fx.store.agent_registrations(&g, firm.id).await);
    let fiona_for_acme = fx.store.agent_registrations(&a, firm.id).await.unwrap();
    assert!(fiona_for_acme.online);
    assert_eq!(fiona_for_acme.registrations[0].tenant_id, None);

    // The operator reads firm agents' registrations there, and only theirs.
    let op = fx
        .store
        .firm_agent_registrations(&fx.platform, firm.id)
        .await
        .unwrap();
    assert_eq!(op.registrations.len(), 1);
    assert_not_found(
        fx.store
            .firm_agent_registrations(&fx.platform, alice.id)
            .await,
    );
    assert_not_found(
        fx.store
            .firm_agent_registrations(&fx.platform, AgentId::new())
            .await,
    );
    fx.finish().await;
}

async fn deleting_an_agent_deletes_its_bindings(backend: Backend) {
    let fx = Fixture::new(backend).await;
    let (_, a) = fx.tenant("acme").await;
    let alice = fx
        .store
        .create_agent(&fx.actor, &a, agent_input("alice", "alice-secret"))
        .await
        .unwrap();
    let bob = fx
        .store
        .create_agent(&fx.actor, &a, agent_input("bob", "bob-secret"))
        .await
        .unwrap();
    for b in [
        binding(&alice, "sip:alice@10.0.0.5", in_secs(300)),
        binding(&bob, "sip:bob@10.0.0.6", in_secs(300)),
    ] {
        fx.store
            .platform_upsert_sip_binding(&fx.platform, &b)
            .await
            .unwrap();
    }
    fx.store
        .delete_agent(&fx.actor, &a, alice.id)
        .await
        .unwrap();
    let left = fx
        .store
        .platform_load_sip_bindings(&fx.platform)
        .await
        .unwrap();
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].agent_id, bob.id);
    fx.finish().await;
}
