//! The directory lookup and hotline actions against SQLite and PostgreSQL: a dialed number
//! resolves to its tenant and hotline with the actions as configured, forward actions can only
//! ring agents that serve the tenant, existing hotlines read as the IVR path, and every write
//! that changes a route (and no other) moves the routing generation.

mod common;

use common::*;
use hotline_core::ids::{AgentId, HotlineId};
use hotline_core::Backend;
use hotline_tenants::agents::{AgentInput, Skill};
use hotline_tenants::hotlines::{ClosedAction, HotlineSpec, NoAnswer, OpenAction};
use hotline_tenants::members::MemberInput;
use hotline_tenants::numbers::NumberSpec;
use hotline_tenants::queues::QueueSpec;
use hotline_tenants::route_queues::QueueName;
use hotline_tenants::tenants::TenantStatus;
use serde_json::json;
use sqlx::Row;

hotline_core::both_backends!(
    a_number_resolves_to_its_tenant_and_hotline,
    forward_actions_ring_only_agents_serving_the_tenant,
    hotlines_stored_before_open_actions_take_the_ivr_path,
    route_changes_move_the_generation,
    queues_and_agents_resolve_inside_their_tenant_with_serving_members,
);

fn agent(name: &str, user: &str) -> AgentInput {
    AgentInput {
        name: name.into(),
        sip_username: user.into(),
        skills: vec![],
        enabled: true,
        user_id: None,
        sip_password: Some("agent-secret-1".into()),
    }
}

fn hotline_spec(value: serde_json::Value) -> HotlineSpec {
    serde_json::from_value(value).expect("hotline spec")
}

async fn a_number_resolves_to_its_tenant_and_hotline(backend: Backend) {
    let fx = Fixture::new(backend).await;
    let store = &fx.store;
    let op = &fx.actor;
    let (acme, a) = fx.tenant("acme").await;
    let own = store
        .create_agent(op, &a, agent("Ann", "ann"))
        .await
        .unwrap();
    let hotline = store
        .create(
            op,
            &a,
            hotline_spec(json!({
                "name": "support",
                "schedule": { "weekly": [{ "day": "mon", "start": "08:00", "end": "17:00" }] },
                "open_action": { "action": "forward-agent", "agent_id": own.id, "ring_timeout_s": 20,
                    "no_answer": { "action": "forward-number", "number": "00421 2 5555 0100" } },
                "closed_action": { "action": "forward", "number": "+421 2 5555 0101" },
            })),
        )
        .await
        .unwrap();
    let mut number = NumberSpec {
        e164: "+421 2 1111 0001".into(),
        label: "main".into(),
        hotline_id: Some(hotline.id),
    };
    store.create(op, &a, number.clone()).await.unwrap();

    // Any spelling of the number finds the same route.
    for dialed in ["+421211110001", "00421 2 1111 0001", "+421 (2) 1111-0001"] {
        let route = store
            .route_for_number(&fx.platform, dialed)
            .await
            .unwrap()
            .unwrap_or_else(|| panic!("{dialed} not found"));
        assert_eq!(route.e164, "+421211110001");
        assert_eq!(route.tenant.id, acme.id);
        assert_eq!(route.tenant.slug, "acme");
        assert_eq!(route.tenant.status, TenantStatus::Active);
        assert_eq!(route.tenant.time_zone, "Europe/Bratislava");
        assert_eq!(route.tenant.limits, acme.spec.limits);
        let routed = route.hotline.expect("the hotline");
        assert_eq!(routed.id, hotline.id);
        assert_eq!(routed.schedule, hotline.spec.schedule);
        assert!(!routed.always_open);
        assert_eq!(
            routed.open_action,
            OpenAction::ForwardAgent {
                agent_id: own.id,
                ring_timeout_s: 20,
                no_answer: NoAnswer::ForwardNumber {
                    number: "+421255550100".into()
                },
            }
        );
        assert_eq!(
            routed.closed_action,
            ClosedAction::Forward {
                number: "+421255550101".into(),
                ring_timeout_s: 30
            }
        );
        assert_eq!(routed.serving_agents, vec![own.id]);
    }

    // Unknown numbers and things that are no numbers at all: no route.
    for dialed in ["+421299990000", "alice", "", "0212345678"] {
        assert_eq!(
            store.route_for_number(&fx.platform, dialed).await.unwrap(),
            None,
            "{dialed}"
        );
    }

    // A number pointing nowhere still names its tenant.
    number.e164 = "+421 2 1111 0002".into();
    number.hotline_id = None;
    store.create(op, &a, number).await.unwrap();
    let route = store
        .route_for_number(&fx.platform, "+421211110002")
        .await
        .unwrap()
        .expect("a route");
    assert_eq!((route.tenant.id, route.hotline), (acme.id, None));
    fx.finish().await;
}

async fn forward_actions_ring_only_agents_serving_the_tenant(backend: Backend) {
    let fx = Fixture::new(backend).await;
    let store = &fx.store;
    let op = &fx.actor;
    let (acme, a) = fx.tenant("acme").await;
    let (_, b) = fx.tenant("globex").await;
    let theirs = store
        .create_agent(op, &b, agent("Bob", "bob"))
        .await
        .unwrap();
    let firm = store
        .create_firm_agent(op, &fx.platform, agent("Fiona", "fiona"))
        .await
        .unwrap();
    let forward = |agent_id: AgentId, fallback: AgentId| {
        hotline_spec(json!({
            "name": "forward",
            "open_action": { "action": "forward-agent", "agent_id": agent_id,
                "no_answer": { "action": "forward-agent", "agent_id": fallback } },
        }))
    };
    let own = store
        .create_agent(op, &a, agent("Ann", "ann"))
        .await
        .unwrap();

    // Another tenant's agent, or a firm agent not assigned here: refused, naming the field.
    let before = fx.snapshot().await;
    assert_invalid(
        store.create(op, &a, forward(theirs.id, own.id)).await,
        "open_action.agent_id",
    );
    assert_invalid(
        store.create(op, &a, forward(own.id, firm.id)).await,
        "open_action.no_answer.agent_id",
    );
    assert_invalid(
        store.create(op, &a, forward(AgentId::new(), own.id)).await,
        "open_action.agent_id",
    );
    assert_eq!(fx.snapshot().await, before);
    // Nor by changing an existing hotline.
    let plain = store.create(op, &a, hotline("plain")).await.unwrap();
    assert_invalid(
        store
            .update(op, &a, plain.id, 1, forward(theirs.id, own.id))
            .await,
        "open_action.agent_id",
    );

    // Assigned, the firm agent may be rung.
    store
        .assign_firm_agent(op, &fx.platform, firm.id, acme.id)
        .await
        .unwrap();
    let hotline = store
        .create(op, &a, forward(firm.id, own.id))
        .await
        .unwrap();
    store
        .create(
            op,
            &a,
            NumberSpec {
                e164: "+421211110001".into(),
                label: String::new(),
                hotline_id: Some(hotline.id),
            },
        )
        .await
        .unwrap();
    let serving = |store: hotline_tenants::Store| async move {
        let mut agents = store
            .route_for_number(
                &hotline_core::PlatformScope::from_verified(),
                "+421211110001",
            )
            .await
            .unwrap()
            .and_then(|r| r.hotline)
            .map(|h| h.serving_agents)
            .unwrap_or_default();
        agents.sort();
        agents
    };
    let mut both = vec![firm.id, own.id];
    both.sort();
    assert_eq!(serving(store.clone()).await, both);

    // Unassigned later, or disabled: still named, no longer serving.
    store
        .unassign_firm_agent(op, &fx.platform, firm.id, acme.id)
        .await
        .unwrap();
    assert_eq!(serving(store.clone()).await, vec![own.id]);
    let mut input = own.input();
    input.enabled = false;
    store.update_agent(op, &a, own.id, 1, input).await.unwrap();
    assert_eq!(serving(store.clone()).await, Vec::<AgentId>::new());
    fx.finish().await;
}

async fn hotlines_stored_before_open_actions_take_the_ivr_path(backend: Backend) {
    let fx = Fixture::new(backend).await;
    let store = &fx.store;
    let (acme, a) = fx.tenant("acme").await;
    // A row as the schema before open actions wrote it: the column's default fills in.
    let id = HotlineId::new();
    let always_open: &str = match backend {
        Backend::Sqlite => "1",
        Backend::Postgres => "TRUE",
    };
    sqlx::query(&format!(
        "INSERT INTO hotlines (id, tenant_id, name, always_open, schedule, closed_action, recording_policy, language, version, created_at, updated_at)
         VALUES ($1, $2, 'legacy', {always_open}, '{{}}', '{{\"action\":\"forward\",\"number\":\"+421255550101\"}}', 'never', 'en', 1, 0, 0)"
    ))
    .bind(id.to_db())
    .bind(acme.id.to_db())
    .execute(store.db().pool())
    .await
    .unwrap();
    let legacy = store.get::<HotlineSpec>(&a, id).await.unwrap();
    assert_eq!(legacy.spec.open_action, OpenAction::Ivr);
    assert_eq!(
        legacy.spec.closed_action,
        ClosedAction::Forward {
            number: "+421255550101".into(),
            ring_timeout_s: 30
        }
    );
    let stored: String = sqlx::query("SELECT open_action FROM hotlines WHERE id = $1")
        .bind(id.to_db())
        .fetch_one(store.db().pool())
        .await
        .unwrap()
        .try_get("open_action")
        .unwrap();
    assert_eq!(
        serde_json::from_str::<OpenAction>(&stored).unwrap(),
        OpenAction::Ivr
    );
    // And it can be changed like any other.
    let mut spec = legacy.spec.clone();
    spec.open_action = OpenAction::Reject { sip_status: 486 };
    let changed = store.update(&fx.actor, &a, id, 1, spec).await.unwrap();
    assert_eq!(
        changed.spec.open_action,
        OpenAction::Reject { sip_status: 486 }
    );
    fx.finish().await;
}

async fn route_changes_move_the_generation(backend: Backend) {
    let fx = Fixture::new(backend).await;
    let store = &fx.store;
    let op = &fx.actor;
    let (acme, a) = fx.tenant("acme").await;
    let firm = store
        .create_firm_agent(op, &fx.platform, agent("Fiona", "fiona"))
        .await
        .unwrap();

    // Writes that do not route calls leave it alone.
    let still = store.routing_generation();
    store.create(op, &a, queue("sales")).await.unwrap();
    store.create(op, &a, prompt("welcome")).await.unwrap();
    store
        .create_trunk(
            op,
            &fx.platform,
            serde_json::from_value(json!({ "name": "t", "inbound": { "sources": ["192.0.2.1"] } }))
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(store.routing_generation(), still);
    // A refused write does not move it either.
    assert!(store.create(op, &a, number("not a number")).await.is_err());
    assert_eq!(store.routing_generation(), still);

    let mut last = store.routing_generation();
    let mut moved = |what: &str, store: &hotline_tenants::Store| {
        let now = store.routing_generation();
        assert!(now > last, "{what} did not move the routing generation");
        last = now;
    };
    let h = store.create(op, &a, hotline("main")).await.unwrap();
    moved("creating a hotline", store);
    let n = store.create(op, &a, number("+421211110001")).await.unwrap();
    moved("assigning a number", store);
    let mut spec = n.spec.clone();
    spec.hotline_id = Some(h.id);
    store.update(op, &a, n.id, 1, spec).await.unwrap();
    moved("pointing a number at a hotline", store);
    let mut hs = h.spec.clone();
    hs.always_open = true;
    store.update(op, &a, h.id, 1, hs).await.unwrap();
    moved("changing a hotline", store);
    let mut tenant = acme.spec.clone();
    tenant.status = TenantStatus::Suspended;
    store
        .update_tenant(op, &fx.platform, acme.id, 1, tenant)
        .await
        .unwrap();
    moved("suspending a tenant", store);
    store
        .assign_firm_agent(op, &fx.platform, firm.id, acme.id)
        .await
        .unwrap();
    moved("assigning a firm agent", store);
    store
        .unassign_firm_agent(op, &fx.platform, firm.id, acme.id)
        .await
        .unwrap();
    moved("unassigning a firm agent", store);
    store
        .delete::<NumberSpec>(op, &a, n.id, None)
        .await
        .unwrap();
    moved("releasing a number", store);
    store
        .delete_firm_agent(op, &fx.platform, firm.id)
        .await
        .unwrap();
    moved("deleting an agent", store);

    // Clones share the counter: the cache in the SIP side sees the API's writes.
    let clone = store.clone();
    store
        .delete::<HotlineSpec>(op, &a, h.id, None)
        .await
        .unwrap();
    moved("deleting a hotline", &clone);
    fx.finish().await;
}

async fn queues_and_agents_resolve_inside_their_tenant_with_serving_members(backend: Backend) {
    let fx = Fixture::new(backend).await;
    let store = &fx.store;
    let op = &fx.actor;
    let (acme, a) = fx.tenant("acme").await;
    let (_, b) = fx.tenant("globex").await;
    let queue_spec = |name: &str| -> QueueSpec {
        serde_json::from_value(json!({ "name": name, "max_wait_secs": 90 })).expect("queue")
    };
    let sales = store.create(op, &a, queue_spec("sales")).await.unwrap();
    let theirs = store.create(op, &b, queue_spec("sales")).await.unwrap();
    let mut russian = agent("Olga", "olga");
    russian.skills = vec![Skill {
        name: "ru".into(),
        level: 8,
    }];
    let olga = store.create_agent(op, &a, russian).await.unwrap();
    let mut disabled = agent("Dan", "dan");
    disabled.enabled = false;
    let dan = store.create_agent(op, &a, disabled).await.unwrap();
    let firm = store
        .create_firm_agent(op, &fx.platform, agent("Fiona", "fiona"))
        .await
        .unwrap();
    store
        .assign_firm_agent(op, &fx.platform, firm.id, acme.id)
        .await
        .unwrap();
    for (agent_id, penalty) in [(olga.id, 5), (dan.id, 0), (firm.id, 1)] {
        store
            .put_queue_member(op, &a, sales.id, MemberInput { agent_id, penalty })
            .await
            .unwrap();
    }
    let bob = store
        .create_agent(op, &b, agent("Bob", "bob"))
        .await
        .unwrap();
    store
        .put_queue_member(
            op,
            &b,
            theirs.id,
            MemberInput {
                agent_id: bob.id,
                penalty: 0,
            },
        )
        .await
        .unwrap();

    let by_name = store
        .route_queue(&a, QueueName::Name("sales"))
        .await
        .unwrap()
        .expect("acme's sales");
    assert_eq!(
        by_name.id, sales.id,
        "acme's own queue, not globex's of the same name"
    );
    assert_eq!(by_name.max_wait_secs, 90);
    let members: Vec<_> = by_name.members.iter().map(|m| m.agent_id).collect();
    assert_eq!(
        members,
        vec![firm.id, olga.id],
        "serving members, lowest penalty first"
    );
    assert_eq!(by_name.members[1].skills[0].name, "ru");
    let by_id = store
        .route_queue(&a, QueueName::Id(sales.id))
        .await
        .unwrap()
        .expect("by id");
    assert_eq!(by_id, by_name);
    assert_eq!(
        store
            .route_queue(&a, QueueName::Id(theirs.id))
            .await
            .unwrap(),
        None,
        "another tenant's queue id"
    );
    assert_eq!(
        store
            .route_queue(&a, QueueName::Name("support"))
            .await
            .unwrap(),
        None
    );

    // A firm agent no longer assigned stops serving at once.
    store
        .unassign_firm_agent(op, &fx.platform, firm.id, acme.id)
        .await
        .unwrap();
    let after = store
        .route_queue(&a, QueueName::Name("sales"))
        .await
        .unwrap()
        .expect("sales");
    assert_eq!(
        after.members.iter().map(|m| m.agent_id).collect::<Vec<_>>(),
        vec![olga.id]
    );

    assert_eq!(
        store.route_agent_by_username(&a, "olga").await.unwrap(),
        Some(olga.id)
    );
    assert_eq!(
        store.route_agent_by_username(&a, "dan").await.unwrap(),
        None,
        "disabled"
    );
    assert_eq!(
        store.route_agent_by_username(&a, "bob").await.unwrap(),
        None,
        "globex's"
    );
    assert_eq!(
        store.route_agent_by_username(&b, "bob").await.unwrap(),
        Some(bob.id)
    );
    fx.finish().await;
}
