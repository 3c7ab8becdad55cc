//! The audit log against SQLite and PostgreSQL: every configuration change leaves one entry with
//! its actor and the resource before and after; a tenant reads only its own entries, the
//! operator reads all; no secret ever reaches it.

mod common;

use common::*;
use hotline_core::ids::TenantId;
use hotline_core::Backend;
use hotline_tenants::agents::AgentInput;
use hotline_tenants::api_keys::ApiKeyInput;
use hotline_tenants::audit::{Actor, AuditAction, AuditEntry};
use hotline_tenants::hotlines::HotlineSpec;
use hotline_tenants::members::MemberInput;
use hotline_tenants::numbers::NumberSpec;
use hotline_tenants::prompts::PromptSpec;
use hotline_tenants::queues::QueueSpec;
use hotline_tenants::rbac::Role;
use hotline_tenants::users::UserInput;

hotline_core::both_backends!(every_change_is_audited_per_tenant_without_secrets);

/// What an entry must say: (tenant, actor label, action, resource, resource id).
type Expected = (Option<TenantId>, String, AuditAction, String, String);

fn expect(
    log: &mut Vec<Expected>,
    tenant: Option<TenantId>,
    actor: &Actor,
    action: AuditAction,
    resource: &str,
    id: impl ToString,
) {
    log.push((
        tenant,
        actor.label.clone(),
        action,
        resource.to_string(),
        id.to_string(),
    ));
}

fn summary(entry: &AuditEntry) -> Expected {
    (
        entry.tenant_id,
        entry.actor.label.clone(),
        entry.action,
        entry.resource.clone(),
        entry.resource_id.clone(),
    )
}

fn agent(name: &str, sip_username: &str, password: &str) -> AgentInput {
    AgentInput {
        name: name.into(),
        sip_username: sip_username.into(),
        skills: vec![],
        enabled: true,
        user_id: None,
        sip_password: Some(password.into()),
    }
}

fn user(email: &str, password: &str) -> UserInput {
    UserInput {
        email: email.into(),
        display_name: "Someone".into(),
        role: Role::Supervisor,
        disabled: false,
        password: Some(password.into()),
    }
}

/// Every object key anywhere in a JSON document.
fn keys(value: &serde_json::Value, out: &mut Vec<String>) {
    match value {
        serde_json::Value::Object(map) => {
            for (k, v) in map {
                out.push(k.clone());
                keys(v, out);
            }
        }
        serde_json::Value::Array(items) => items.iter().for_each(|v| keys(v, out)),
        _ => {}
    }
}

async fn every_change_is_audited_per_tenant_without_secrets(backend: Backend) {
    let fx = Fixture::new(backend).await;
    let store = &fx.store;
    let op = fx.actor.clone();
    let ann = user_actor("ann@acme.test");
    let bob = user_actor("bob@globex.test");
    let mut secrets: Vec<String> = Vec::new();
    // Every change in the order it is made.
    let mut log: Vec<Expected> = Vec::new();

    let (acme, a) = fx.tenant("acme").await;
    expect(&mut log, None, &op, AuditAction::Create, "tenant", acme.id);
    let (globex, b) = fx.tenant("globex").await;
    expect(
        &mut log,
        None,
        &op,
        AuditAction::Create,
        "tenant",
        globex.id,
    );
    let ta = Some(acme.id);

    // Everything a tenant admin configures.
    let p = store.create(&ann, &a, prompt("welcome")).await.unwrap();
    expect(&mut log, ta, &ann, AuditAction::Create, "prompt", p.id);
    let p = store
        .update(
            &ann,
            &a,
            p.id,
            1,
            PromptSpec {
                description: "Hello".into(),
                ..p.spec.clone()
            },
        )
        .await
        .unwrap();
    expect(&mut log, ta, &ann, AuditAction::Update, "prompt", p.id);
    store
        .delete::<PromptSpec>(&ann, &a, p.id, Some(2))
        .await
        .unwrap();
    expect(&mut log, ta, &ann, AuditAction::Delete, "prompt", p.id);

    let q = store.create(&ann, &a, queue("Sales")).await.unwrap();
    expect(&mut log, ta, &ann, AuditAction::Create, "queue", q.id);
    let q = store
        .update(
            &ann,
            &a,
            q.id,
            1,
            QueueSpec {
                max_length: 7,
                ..q.spec.clone()
            },
        )
        .await
        .unwrap();
    expect(&mut log, ta, &ann, AuditAction::Update, "queue", q.id);

    let h = store
        .create(
            &ann,
            &a,
            HotlineSpec {
                fallback_queue_id: Some(q.id),
                ..hotline("Support")
            },
        )
        .await
        .unwrap();
    expect(&mut log, ta, &ann, AuditAction::Create, "hotline", h.id);
    let h = store
        .update(
            &ann,
            &a,
            h.id,
            1,
            HotlineSpec {
                always_open: true,
                ..h.spec.clone()
            },
        )
        .await
        .unwrap();
    expect(&mut log, ta, &ann, AuditAction::Update, "hotline", h.id);

    let n = store
        .create(
            &ann,
            &a,
            NumberSpec {
                hotline_id: Some(h.id),
                ..number("+421 2 1234 5678")
            },
        )
        .await
        .unwrap();
    expect(&mut log, ta, &ann, AuditAction::Create, "number", n.id);
    let n = store
        .update(
            &ann,
            &a,
            n.id,
            1,
            NumberSpec {
                label: "Main".into(),
                ..n.spec.clone()
            },
        )
        .await
        .unwrap();
    expect(&mut log, ta, &ann, AuditAction::Update, "number", n.id);
    store
        .delete::<NumberSpec>(&ann, &a, n.id, None)
        .await
        .unwrap();
    expect(&mut log, ta, &ann, AuditAction::Delete, "number", n.id);
    store
        .delete::<HotlineSpec>(&ann, &a, h.id, None)
        .await
        .unwrap();
    expect(&mut log, ta, &ann, AuditAction::Delete, "hotline", h.id);

    secrets.push("agent-sip-password-1".into());
    let ag = store
        .create_agent(&ann, &a, agent("Anna", "anna", "agent-sip-password-1"))
        .await
        .unwrap();
    expect(&mut log, ta, &ann, AuditAction::Create, "agent", ag.id);
    secrets.push("agent-sip-password-2".into());
    let ag = store
        .update_agent(
            &ann,
            &a,
            ag.id,
            1,
            AgentInput {
                sip_password: Some("agent-sip-password-2".into()),
                ..ag.input()
            },
        )
        .await
        .unwrap();
    expect(&mut log, ta, &ann, AuditAction::Update, "agent", ag.id);
    secrets.push(fx.column("agents", "ha1_md5", ag.id).await);
    secrets.push(fx.column("agents", "ha1_sha256", ag.id).await);

    let member_id = format!("{}/{}", q.id, ag.id);
    store
        .put_queue_member(
            &ann,
            &a,
            q.id,
            MemberInput {
                agent_id: ag.id,
                penalty: 1,
            },
        )
        .await
        .unwrap();
    expect(
        &mut log,
        ta,
        &ann,
        AuditAction::Create,
        "queue-member",
        &member_id,
    );
    store
        .put_queue_member(
            &ann,
            &a,
            q.id,
            MemberInput {
                agent_id: ag.id,
                penalty: 2,
            },
        )
        .await
        .unwrap();
    expect(
        &mut log,
        ta,
        &ann,
        AuditAction::Update,
        "queue-member",
        &member_id,
    );
    store
        .remove_queue_member(&ann, &a, q.id, ag.id)
        .await
        .unwrap();
    expect(
        &mut log,
        ta,
        &ann,
        AuditAction::Delete,
        "queue-member",
        &member_id,
    );
    store.delete_agent(&ann, &a, ag.id).await.unwrap();
    expect(&mut log, ta, &ann, AuditAction::Delete, "agent", ag.id);

    secrets.push("user-password-one".into());
    let u = store
        .create_user(&ann, &a, user("sam@acme.test", "user-password-one"))
        .await
        .unwrap();
    expect(&mut log, ta, &ann, AuditAction::Create, "user", u.id);
    secrets.push(fx.column("users", "password_hash", u.id).await);
    secrets.push("user-password-two".into());
    let u = store
        .update_user(
            &ann,
            &a,
            u.id,
            1,
            UserInput {
                password: Some("user-password-two".into()),
                ..u.input()
            },
        )
        .await
        .unwrap();
    expect(&mut log, ta, &ann, AuditAction::Update, "user", u.id);
    secrets.push(fx.column("users", "password_hash", u.id).await);
    store.delete_user(&ann, &a, u.id).await.unwrap();
    expect(&mut log, ta, &ann, AuditAction::Delete, "user", u.id);

    let key = store
        .create_api_key(
            &ann,
            &a,
            ApiKeyInput {
                name: "crm".into(),
                role: Role::Agent,
            },
        )
        .await
        .unwrap();
    expect(
        &mut log,
        ta,
        &ann,
        AuditAction::Create,
        "api-key",
        key.key.id,
    );
    secrets.push(key.secret.clone());
    secrets.push(fx.column("api_keys", "key_hash", key.key.id).await);
    store.revoke_api_key(&ann, &a, key.key.id).await.unwrap();
    expect(
        &mut log,
        ta,
        &ann,
        AuditAction::Update,
        "api-key",
        key.key.id,
    );

    // The other tenant's admin.
    let qb = store.create(&bob, &b, queue("Support")).await.unwrap();
    expect(
        &mut log,
        Some(globex.id),
        &bob,
        AuditAction::Create,
        "queue",
        qb.id,
    );
    secrets.push("globex-password".into());
    let ub = store
        .create_user(&bob, &b, user("sue@globex.test", "globex-password"))
        .await
        .unwrap();
    expect(
        &mut log,
        Some(globex.id),
        &bob,
        AuditAction::Create,
        "user",
        ub.id,
    );

    // The operator: platform-level changes, and an assignment that shows in the tenant's log.
    store
        .update_tenant(&op, &fx.platform, acme.id, 1, acme.spec.clone())
        .await
        .unwrap();
    expect(&mut log, None, &op, AuditAction::Update, "tenant", acme.id);
    secrets.push("firm-sip-password".into());
    let firm = store
        .create_firm_agent(
            &op,
            &fx.platform,
            agent("Fiona", "fiona", "firm-sip-password"),
        )
        .await
        .unwrap();
    expect(&mut log, None, &op, AuditAction::Create, "agent", firm.id);
    secrets.push(fx.column("agents", "ha1_md5", firm.id).await);
    secrets.push(fx.column("agents", "ha1_sha256", firm.id).await);
    store
        .assign_firm_agent(&op, &fx.platform, firm.id, acme.id)
        .await
        .unwrap();
    expect(
        &mut log,
        ta,
        &op,
        AuditAction::Create,
        "agent-assignment",
        firm.id,
    );
    secrets.push("operator-password".into());
    let admin = store
        .create_platform_user(
            &op,
            &fx.platform,
            UserInput {
                role: Role::PlatformAdmin,
                ..user("op@firm.test", "operator-password")
            },
        )
        .await
        .unwrap();
    expect(&mut log, None, &op, AuditAction::Create, "user", admin.id);
    secrets.push(fx.column("users", "password_hash", admin.id).await);

    // A tenant reads exactly its own entries, newest first, page by page.
    for (scope, tenant) in [(&a, acme.id), (&b, globex.id)] {
        let (entries, sizes) = collect_pages(4, |page| async move {
            store.tenant_audit_log(scope, &page).await
        })
        .await;
        let mut expected: Vec<Expected> = log
            .iter()
            .filter(|e| e.0 == Some(tenant))
            .cloned()
            .collect();
        assert_eq!(
            sizes.len(),
            expected.len().div_ceil(4),
            "pages of {sizes:?}"
        );
        assert!(
            entries.windows(2).all(|w| w[0].id > w[1].id),
            "newest first"
        );
        expected.reverse();
        assert_eq!(entries.iter().map(summary).collect::<Vec<_>>(), expected);
    }
    assert!(log.iter().filter(|e| e.0 == Some(acme.id)).count() > 20);

    // The operator reads everything, platform-level changes included, in the order it happened.
    let all = fx.audit_all().await;
    assert_eq!(all.iter().map(summary).collect::<Vec<_>>(), log);
    let (paged, _) = collect_pages(5, |page| async move {
        store.platform_audit_log(&fx.platform, &page).await
    })
    .await;
    assert_eq!(
        paged.iter().rev().map(|e| e.id).collect::<Vec<_>>(),
        all.iter().map(|e| e.id).collect::<Vec<_>>()
    );

    // Each entry: the actor in full, before and after as the action says, and no secret.
    let forbidden_keys = [
        "password",
        "password_hash",
        "sip_password",
        "ha1_md5",
        "ha1_sha256",
        "secret",
        "key_hash",
    ];
    for entry in &all {
        let actor = if entry.actor.label == ann.label {
            &ann
        } else if entry.actor.label == bob.label {
            &bob
        } else {
            &op
        };
        assert_entry(entry, actor, entry.action, &entry.resource);
        if entry.action == AuditAction::Update {
            assert_ne!(
                entry.before, entry.after,
                "an update that changed nothing: {entry:?}"
            );
        }
        for document in [&entry.before, &entry.after].into_iter().flatten() {
            let text = document.to_string();
            for secret in &secrets {
                assert!(
                    !text.contains(secret.as_str()),
                    "{} {} audit entry leaks {secret:?}",
                    entry.resource,
                    entry.resource_id
                );
            }
            let mut found = Vec::new();
            keys(document, &mut found);
            for key in forbidden_keys {
                assert!(
                    !found.iter().any(|k| k == key),
                    "{} audit entry has a {key:?} field",
                    entry.resource
                );
            }
        }
    }
    fx.finish().await;
}
