//! Agents against SQLite and PostgreSQL: the firm's agents shared between tenants, tenants' own
//! agents kept inside their tenant, queue memberships, and SIP digest secrets kept only as HA1.

mod common;

use common::*;
use hotline_core::ids::{AgentId, UserId};
use hotline_core::Backend;
use hotline_tenants::agents::{AgentInput, AgentKind, Skill};
use hotline_tenants::audit::AuditAction;
use hotline_tenants::members::MemberInput;
use hotline_tenants::queues::QueueSpec;
use hotline_tenants::rbac::Role;
use hotline_tenants::users::UserInput;
use hotline_tenants::{PageRequest, StoreError};
use md5::{Digest, Md5};
use sha2::Sha256;

hotline_core::both_backends!(
    firm_agent_serves_the_tenants_it_is_assigned_to,
    tenant_agent_stays_in_its_tenant,
    memberships_penalties_and_removal,
    sip_secret_is_stored_only_as_ha1,
    sip_username_unique_per_realm,
    deleting_agents_ends_their_memberships,
    agent_login_user_stays_in_the_tenant,
);

fn agent(name: &str, sip_username: &str, password: &str) -> AgentInput {
    AgentInput {
        name: name.to_string(),
        sip_username: sip_username.to_string(),
        skills: vec![Skill {
            name: "slovak".into(),
            level: 8,
        }],
        enabled: true,
        user_id: None,
        sip_password: Some(password.to_string()),
    }
}

fn member(agent_id: AgentId, penalty: u32) -> MemberInput {
    MemberInput { agent_id, penalty }
}

async fn firm_agent_serves_the_tenants_it_is_assigned_to(backend: Backend) {
    let fx = Fixture::new(backend).await;
    let store = &fx.store;
    let actor = &fx.actor;
    let (acme, a) = fx.tenant("acme").await;
    let (globex, b) = fx.tenant("globex").await;
    let queue_a = store.create(actor, &a, queue("Sales")).await.unwrap();
    let queue_b = store.create(actor, &b, queue("Support")).await.unwrap();

    let firm = store
        .create_firm_agent(
            actor,
            &fx.platform,
            agent("Fiona", "fiona", "firm-secret-1"),
        )
        .await
        .unwrap();
    assert_eq!(firm.kind, AgentKind::Firm);
    assert_eq!(firm.tenant_id, None);
    assert_eq!(firm.realm, "sip.hotline.local");
    assert_eq!(
        store.get_firm_agent(&fx.platform, firm.id).await.unwrap(),
        firm
    );
    assert_entry(
        &fx.last_audit(firm.id).await,
        actor,
        AuditAction::Create,
        "agent",
    );

    // Unassigned, no tenant sees it or may seat it in a queue.
    assert_not_found(store.get_agent(&a, firm.id).await);
    let before = fx.snapshot().await;
    assert_invalid(
        store
            .put_queue_member(actor, &a, queue_a.id, member(firm.id, 0))
            .await,
        "agent_id",
    );
    assert_eq!(fx.snapshot().await, before);

    // Assigned to both tenants, it serves queues of both.
    store
        .assign_firm_agent(actor, &fx.platform, firm.id, acme.id)
        .await
        .unwrap();
    store
        .assign_firm_agent(actor, &fx.platform, firm.id, globex.id)
        .await
        .unwrap();
    store
        .assign_firm_agent(actor, &fx.platform, firm.id, acme.id)
        .await
        .unwrap(); // harmless twice
    let mut tenants = vec![acme.id, globex.id];
    tenants.sort();
    assert_eq!(
        store
            .firm_agent_assignments(&fx.platform, firm.id)
            .await
            .unwrap(),
        tenants
    );
    assert_eq!(store.get_agent(&a, firm.id).await.unwrap(), firm);
    assert_eq!(
        store
            .list_agents(&b, &PageRequest::first(10))
            .await
            .unwrap()
            .items,
        vec![firm.clone()]
    );

    let in_a = store
        .put_queue_member(actor, &a, queue_a.id, member(firm.id, 5))
        .await
        .unwrap();
    let in_b = store
        .put_queue_member(actor, &b, queue_b.id, member(firm.id, 0))
        .await
        .unwrap();
    assert_eq!(
        store.list_queue_members(&a, queue_a.id).await.unwrap(),
        vec![in_a.clone()]
    );
    assert_eq!(
        store.list_queue_members(&b, queue_b.id).await.unwrap(),
        vec![in_b.clone()]
    );
    // A tenant cannot reach the other's queue even with a shared agent.
    assert_not_found(
        store
            .put_queue_member(actor, &a, queue_b.id, member(firm.id, 0))
            .await,
    );
    assert_not_found(store.list_queue_members(&a, queue_b.id).await);

    // The firm agent is the operator's: a tenant may use it, not change or delete it.
    assert!(matches!(
        store
            .update_agent(actor, &a, firm.id, 1, firm.input())
            .await,
        Err(StoreError::Forbidden(_))
    ));
    assert!(matches!(
        store.delete_agent(actor, &a, firm.id).await,
        Err(StoreError::Forbidden(_))
    ));

    // Unassigned from one tenant, its memberships there end; the other tenant keeps it.
    store
        .unassign_firm_agent(actor, &fx.platform, firm.id, acme.id)
        .await
        .unwrap();
    assert_eq!(
        store.list_queue_members(&a, queue_a.id).await.unwrap(),
        vec![]
    );
    assert_eq!(
        store.list_queue_members(&b, queue_b.id).await.unwrap(),
        vec![in_b]
    );
    assert_not_found(store.get_agent(&a, firm.id).await);
    assert_invalid(
        store
            .put_queue_member(actor, &a, queue_a.id, member(firm.id, 0))
            .await,
        "agent_id",
    );
    assert_eq!(
        store
            .firm_agent_assignments(&fx.platform, firm.id)
            .await
            .unwrap(),
        vec![globex.id]
    );
    assert_not_found(
        store
            .unassign_firm_agent(actor, &fx.platform, firm.id, acme.id)
            .await,
    );
    let entry = fx.last_audit(firm.id).await;
    assert_entry(&entry, actor, AuditAction::Delete, "agent-assignment");
    assert_eq!(entry.tenant_id, Some(acme.id));
    fx.finish().await;
}

async fn tenant_agent_stays_in_its_tenant(backend: Backend) {
    let fx = Fixture::new(backend).await;
    let store = &fx.store;
    let actor = &fx.actor;
    let (acme, a) = fx.tenant("acme").await;
    let (globex, b) = fx.tenant("globex").await;
    let queue_a = store.create(actor, &a, queue("Sales")).await.unwrap();
    let queue_b = store.create(actor, &b, queue("Support")).await.unwrap();

    let own = store
        .create_agent(actor, &a, agent("Anna", "anna", "anna-secret-1"))
        .await
        .unwrap();
    assert_eq!(own.kind, AgentKind::Tenant);
    assert_eq!(own.tenant_id, Some(acme.id));
    assert_eq!(own.realm, "acme.sip.hotline.local");
    let entry = fx.last_audit(own.id).await;
    assert_entry(&entry, actor, AuditAction::Create, "agent");
    assert_eq!(entry.tenant_id, Some(acme.id));

    // Its own tenant seats it; the other tenant cannot, and never sees it.
    store
        .put_queue_member(actor, &a, queue_a.id, member(own.id, 0))
        .await
        .unwrap();
    let before = fx.snapshot().await;
    assert_invalid(
        store
            .put_queue_member(actor, &b, queue_b.id, member(own.id, 0))
            .await,
        "agent_id",
    );
    assert_not_found(store.get_agent(&b, own.id).await);
    assert_not_found(store.update_agent(actor, &b, own.id, 1, own.input()).await);
    assert_not_found(store.delete_agent(actor, &b, own.id).await);
    assert!(store
        .list_agents(&b, &PageRequest::first(50))
        .await
        .unwrap()
        .items
        .is_empty());
    // Nor can the operator assign it elsewhere: it is not a firm agent.
    assert_not_found(
        store
            .assign_firm_agent(actor, &fx.platform, own.id, globex.id)
            .await,
    );
    assert_not_found(store.get_firm_agent(&fx.platform, own.id).await);
    assert_eq!(fx.snapshot().await, before);
    assert_eq!(
        store.list_queue_members(&b, queue_b.id).await.unwrap(),
        vec![]
    );

    // Its tenant changes it, under version control.
    let mut input = own.input();
    input.name = "Anna Nováková".into();
    input.enabled = false;
    let updated = store
        .update_agent(actor, &a, own.id, 1, input.clone())
        .await
        .unwrap();
    assert_eq!(
        (updated.version, updated.name.as_str(), updated.enabled),
        (2, "Anna Nováková", false)
    );
    assert_eq!(store.get_agent(&a, own.id).await.unwrap(), updated);
    assert!(matches!(
        store.update_agent(actor, &a, own.id, 1, input).await,
        Err(StoreError::VersionMismatch { current: 2, .. })
    ));
    assert_entry(
        &fx.last_audit(own.id).await,
        actor,
        AuditAction::Update,
        "agent",
    );

    // Paging over the tenant's own agents and the firm agents assigned to it.
    let firm = store
        .create_firm_agent(
            actor,
            &fx.platform,
            agent("Fiona", "fiona", "firm-secret-1"),
        )
        .await
        .unwrap();
    store
        .assign_firm_agent(actor, &fx.platform, firm.id, acme.id)
        .await
        .unwrap();
    let mut expected = vec![updated];
    for i in 0..3 {
        expected.push(
            store
                .create_agent(
                    actor,
                    &a,
                    agent(
                        &format!("Agent {i}"),
                        &format!("agent{i}"),
                        "agent-secret-1",
                    ),
                )
                .await
                .unwrap(),
        );
    }
    expected.push(store.get_agent(&a, firm.id).await.unwrap());
    expected.sort_by_key(|agent| agent.id); // ids are time-ordered: the firm agent came second
    let (listed, sizes) =
        collect_pages(2, |page| async move { store.list_agents(&a, &page).await }).await;
    assert_eq!(sizes, vec![2, 2, 1]);
    assert_eq!(listed, expected);
    fx.finish().await;
}

async fn memberships_penalties_and_removal(backend: Backend) {
    let fx = Fixture::new(backend).await;
    let store = &fx.store;
    let actor = &fx.actor;
    let (_, a) = fx.tenant("acme").await;
    let (_, b) = fx.tenant("globex").await;
    let sales = store.create(actor, &a, queue("Sales")).await.unwrap();
    let anna = store
        .create_agent(actor, &a, agent("Anna", "anna", "anna-secret-1"))
        .await
        .unwrap();
    let boris = store
        .create_agent(actor, &a, agent("Boris", "boris", "boris-secret-1"))
        .await
        .unwrap();

    assert_invalid(
        store
            .put_queue_member(actor, &a, sales.id, member(anna.id, 101))
            .await,
        "penalty",
    );
    assert_invalid(
        store
            .put_queue_member(actor, &a, sales.id, member(AgentId::new(), 0))
            .await,
        "agent_id",
    );
    let first = store
        .put_queue_member(actor, &a, sales.id, member(anna.id, 10))
        .await
        .unwrap();
    store
        .put_queue_member(actor, &a, sales.id, member(boris.id, 20))
        .await
        .unwrap();
    // Putting again changes the penalty and keeps the membership's age.
    let changed = store
        .put_queue_member(actor, &a, sales.id, member(anna.id, 30))
        .await
        .unwrap();
    assert_eq!(changed.created_at, first.created_at);
    assert_eq!(changed.penalty, 30);
    let members = store.list_queue_members(&a, sales.id).await.unwrap();
    assert_eq!(
        members
            .iter()
            .map(|m| (m.agent_id, m.penalty))
            .collect::<Vec<_>>(),
        vec![(boris.id, 20), (anna.id, 30)]
    );
    let entry = fx.last_audit(format!("{}/{}", sales.id, anna.id)).await;
    assert_entry(&entry, actor, AuditAction::Update, "queue-member");
    assert_eq!(entry.before.as_ref().unwrap()["penalty"], 10);
    assert_eq!(entry.after.as_ref().unwrap()["penalty"], 30);

    // Another tenant can neither see nor remove them.
    assert_not_found(store.list_queue_members(&b, sales.id).await);
    assert_not_found(
        store
            .remove_queue_member(actor, &b, sales.id, anna.id)
            .await,
    );
    assert_eq!(
        store.list_queue_members(&a, sales.id).await.unwrap().len(),
        2
    );

    store
        .remove_queue_member(actor, &a, sales.id, anna.id)
        .await
        .unwrap();
    assert_not_found(
        store
            .remove_queue_member(actor, &a, sales.id, anna.id)
            .await,
    );
    assert_eq!(
        store
            .list_queue_members(&a, sales.id)
            .await
            .unwrap()
            .iter()
            .map(|m| m.agent_id)
            .collect::<Vec<_>>(),
        vec![boris.id]
    );
    assert_entry(
        &fx.last_audit(format!("{}/{}", sales.id, anna.id)).await,
        actor,
        AuditAction::Delete,
        "queue-member",
    );

    // A queue with members cannot be deleted from under them: a clear conflict.
    match store.delete::<QueueSpec>(actor, &a, sales.id, None).await {
        Err(StoreError::Conflict(message)) => assert!(message.contains("in use"), "{message}"),
        other => panic!("deleting a queue with members: expected Conflict, got {other:?}"),
    }
    store
        .remove_queue_member(actor, &a, sales.id, boris.id)
        .await
        .unwrap();
    store
        .delete::<QueueSpec>(actor, &a, sales.id, None)
        .await
        .unwrap();
    fx.finish().await;
}

fn hex_digest<D: Digest>(material: &str) -> String {
    hex::encode(D::digest(material.as_bytes()))
}

async fn sip_secret_is_stored_only_as_ha1(backend: Backend) {
    let fx = Fixture::new(backend).await;
    let store = &fx.store;
    let actor = &fx.actor;
    let (_, a) = fx.tenant("acme").await;
    let password = "Pl41n-SIP-p4ssw0rd";
    let own = store
        .create_agent(actor, &a, agent("Anna", "anna", password))
        .await
        .unwrap();
    let firm_password = "F1rm-SIP-p4ssw0rd";
    let firm = store
        .create_firm_agent(actor, &fx.platform, agent("Fiona", "fiona", firm_password))
        .await
        .unwrap();

    for (id, user, realm, password) in [
        (own.id, "anna", "acme.sip.hotline.local", password),
        (firm.id, "fiona", "sip.hotline.local", firm_password),
    ] {
        let material = format!("{user}:{realm}:{password}");
        assert_eq!(
            fx.column("agents", "ha1_md5", id).await,
            hex_digest::<Md5>(&material)
        );
        assert_eq!(
            fx.column("agents", "ha1_sha256", id).await,
            hex_digest::<Sha256>(&material)
        );
        fx.assert_stored_nowhere(password).await;
    }

    // A new password: a new HA1, and still never the password itself.
    let new_password = "N3w-SIP-p4ssw0rd";
    let mut input = own.input();
    input.sip_password = Some(new_password.into());
    store
        .update_agent(actor, &a, own.id, 1, input)
        .await
        .unwrap();
    let material = format!("anna:acme.sip.hotline.local:{new_password}");
    assert_eq!(
        fx.column("agents", "ha1_md5", own.id).await,
        hex_digest::<Md5>(&material)
    );
    fx.assert_stored_nowhere(new_password).await;

    // Without a password the HA1 stays; a new username needs one (the digest covers both).
    let mut input = store.get_agent(&a, own.id).await.unwrap().input();
    input.name = "Anna N.".into();
    store
        .update_agent(actor, &a, own.id, 2, input.clone())
        .await
        .unwrap();
    assert_eq!(
        fx.column("agents", "ha1_md5", own.id).await,
        hex_digest::<Md5>(&material)
    );
    input.sip_username = "anna2".into();
    assert_invalid(
        store
            .update_agent(actor, &a, own.id, 3, input.clone())
            .await,
        "sip_password",
    );
    input.sip_password = Some(new_password.into());
    store
        .update_agent(actor, &a, own.id, 3, input)
        .await
        .unwrap();
    let material = format!("anna2:acme.sip.hotline.local:{new_password}");
    assert_eq!(
        fx.column("agents", "ha1_md5", own.id).await,
        hex_digest::<Md5>(&material)
    );

    // A password is required to create, and a short one is refused; nothing written.
    let before = fx.snapshot().await;
    let mut no_password = agent("Carl", "carl", "x");
    no_password.sip_password = None;
    assert_invalid(
        store.create_agent(actor, &a, no_password).await,
        "sip_password",
    );
    assert_invalid(
        store
            .create_agent(actor, &a, agent("Carl", "carl", "short"))
            .await,
        "sip_password",
    );
    assert_eq!(fx.snapshot().await, before);
    fx.finish().await;
}

async fn sip_username_unique_per_realm(backend: Backend) {
    let fx = Fixture::new(backend).await;
    let store = &fx.store;
    let actor = &fx.actor;
    let (_, a) = fx.tenant("acme").await;
    let (_, b) = fx.tenant("globex").await;
    store
        .create_agent(actor, &a, agent("Anna", "anna", "anna-secret-1"))
        .await
        .unwrap();

    let before = fx.snapshot().await;
    let message = assert_conflict(
        store
            .create_agent(actor, &a, agent("Anna Two", "anna", "anna-secret-2"))
            .await,
    );
    assert!(message.contains("SIP username"), "{message}");
    assert_eq!(fx.snapshot().await, before);

    // Other realms: another tenant's, and the firm's.
    let other = store
        .create_agent(actor, &b, agent("Anna", "anna", "anna-secret-3"))
        .await
        .unwrap();
    assert_eq!(other.realm, "globex.sip.hotline.local");
    let firm = store
        .create_firm_agent(actor, &fx.platform, agent("Anna", "anna", "anna-secret-4"))
        .await
        .unwrap();
    assert_eq!(firm.realm, "sip.hotline.local");
    assert_conflict(
        store
            .create_firm_agent(actor, &fx.platform, agent("Anna", "anna", "anna-secret-5"))
            .await,
    );

    // Renaming onto a taken username is a conflict too.
    let boris = store
        .create_agent(actor, &a, agent("Boris", "boris", "boris-secret-1"))
        .await
        .unwrap();
    let mut input = boris.input();
    input.sip_username = "anna".into();
    input.sip_password = Some("boris-secret-2".into());
    assert_conflict(store.update_agent(actor, &a, boris.id, 1, input).await);
    assert_eq!(store.get_agent(&a, boris.id).await.unwrap(), boris);
    fx.finish().await;
}

async fn deleting_agents_ends_their_memberships(backend: Backend) {
    let fx = Fixture::new(backend).await;
    let store = &fx.store;
    let actor = &fx.actor;
    let (acme, a) = fx.tenant("acme").await;
    let (globex, b) = fx.tenant("globex").await;
    let queue_a = store.create(actor, &a, queue("Sales")).await.unwrap();
    let queue_b = store.create(actor, &b, queue("Support")).await.unwrap();
    let own = store
        .create_agent(actor, &a, agent("Anna", "anna", "anna-secret-1"))
        .await
        .unwrap();
    let firm = store
        .create_firm_agent(
            actor,
            &fx.platform,
            agent("Fiona", "fiona", "firm-secret-1"),
        )
        .await
        .unwrap();
    for tenant in [acme.id, globex.id] {
        store
            .assign_firm_agent(actor, &fx.platform, firm.id, tenant)
            .await
            .unwrap();
    }
    store
        .put_queue_member(actor, &a, queue_a.id, member(own.id, 0))
        .await
        .unwrap();
    store
        .put_queue_member(actor, &a, queue_a.id, member(firm.id, 0))
        .await
        .unwrap();
    store
        .put_queue_member(actor, &b, queue_b.id, member(firm.id, 0))
        .await
        .unwrap();

    store.delete_agent(actor, &a, own.id).await.unwrap();
    assert_not_found(store.get_agent(&a, own.id).await);
    assert_eq!(
        store
            .list_queue_members(&a, queue_a.id)
            .await
            .unwrap()
            .iter()
            .map(|m| m.agent_id)
            .collect::<Vec<_>>(),
        vec![firm.id]
    );
    assert_entry(
        &fx.last_audit(own.id).await,
        actor,
        AuditAction::Delete,
        "agent",
    );

    store
        .delete_firm_agent(actor, &fx.platform, firm.id)
        .await
        .unwrap();
    assert_not_found(store.get_firm_agent(&fx.platform, firm.id).await);
    assert_eq!(
        store.list_queue_members(&a, queue_a.id).await.unwrap(),
        vec![]
    );
    assert_eq!(
        store.list_queue_members(&b, queue_b.id).await.unwrap(),
        vec![]
    );
    assert_eq!(fx.count("agent_assignments").await, 0);
    assert_eq!(fx.count("agents").await, 0);
    fx.finish().await;
}

async fn agent_login_user_stays_in_the_tenant(backend: Backend) {
    let fx = Fixture::new(backend).await;
    let store = &fx.store;
    let actor = &fx.actor;
    let (_, a) = fx.tenant("acme").await;
    let (_, b) = fx.tenant("globex").await;
    let login = |email: &str, role: Role| UserInput {
        email: email.into(),
        display_name: "Agent login".into(),
        role,
        disabled: false,
        password: Some("agent login password".into()),
    };
    let ours = store
        .create_user(actor, &a, login("anna@acme.test", Role::Agent))
        .await
        .unwrap();
    let theirs = store
        .create_user(actor, &b, login("bob@globex.test", Role::Agent))
        .await
        .unwrap();
    let operator = store
        .create_platform_user(
            actor,
            &fx.platform,
            login("op@firm.test", Role::PlatformAdmin),
        )
        .await
        .unwrap();
    let with_user = |user: UserId| AgentInput {
        user_id: Some(user),
        ..agent("Anna", "anna", "anna-secret-1")
    };

    // Another tenant's user, or no user at all, is refused, on create and on update.
    let before = fx.snapshot().await;
    for user in [theirs.id, operator.id, UserId::new()] {
        assert_invalid(
            store.create_agent(actor, &a, with_user(user)).await,
            "user_id",
        );
    }
    for user in [ours.id, theirs.id, UserId::new()] {
        assert_invalid(
            store
                .create_firm_agent(actor, &fx.platform, with_user(user))
                .await,
            "user_id",
        );
    }
    assert_eq!(fx.snapshot().await, before);

    let anna = store
        .create_agent(actor, &a, with_user(ours.id))
        .await
        .unwrap();
    assert_eq!(anna.user_id, Some(ours.id));
    let mut input = anna.input();
    input.user_id = Some(theirs.id);
    assert_invalid(
        store.update_agent(actor, &a, anna.id, 1, input).await,
        "user_id",
    );
    assert_eq!(store.get_agent(&a, anna.id).await.unwrap(), anna);

    let firm = store
        .create_firm_agent(
            actor,
            &fx.platform,
            AgentInput {
                user_id: Some(operator.id),
                ..agent("Fiona", "fiona", "firm-secret-1")
            },
        )
        .await
        .unwrap();
    let mut input = firm.input();
    input.user_id = Some(ours.id);
    assert_invalid(
        store
            .update_firm_agent(actor, &fx.platform, firm.id, 1, input)
            .await,
        "user_id",
    );
    fx.finish().await;
}
