//! The tenant store against SQLite and PostgreSQL: tenants, the plain tenant-owned resources
//! (hotlines, queues, prompts, numbers), references between them, migrations, and a database
//! that went away. Agents, users and auth, and the audit log have their own files.

mod common;

use std::fmt::Debug;

use common::*;
use hotline_core::ids::{QueueId, TenantId};
use hotline_core::{Backend, TenantScope};
use hotline_tenants::audit::AuditAction;
use hotline_tenants::auth::{AuthError, TokenService};
use hotline_tenants::hotlines::{ClosedAction, HotlineSpec};
use hotline_tenants::members::MemberInput;
use hotline_tenants::numbers::NumberSpec;
use hotline_tenants::prompts::PromptSpec;
use hotline_tenants::queues::{OverflowTarget, QueueSpec};
use hotline_tenants::tenants::TenantStatus;
use hotline_tenants::{PageRequest, Spec, StoreError, Stored};

hotline_core::both_backends!(
    tenants_create_get_list_update,
    tenants_paginate,
    tenants_concurrent_updates_one_wins,
    hotlines_crud,
    queues_crud,
    prompts_crud,
    numbers_crud,
    numbers_normalized_unique_and_fixed,
    references_stay_inside_the_tenant,
    bad_opening_hours_are_refused,
    deleting_what_is_still_referenced_is_refused,
    migrating_twice_is_a_no_op,
    a_closed_database_gives_a_clear_error,
);

// --- tenants --------------------------------------------------------------------------------

async fn tenants_create_get_list_update(backend: Backend) {
    let fx = Fixture::new(backend).await;
    let store = &fx.store;
    let (acme, scope) = fx.tenant("acme").await;
    assert_eq!(acme.version, 1);
    assert_eq!(acme.spec, tenant_spec("acme"));
    assert_eq!(acme.sip_domain, "acme.sip.hotline.local");

    assert_eq!(store.get_tenant(&scope).await.unwrap(), acme);
    assert_eq!(store.find_tenant(&fx.platform, "acme").await.unwrap(), acme);
    assert_eq!(
        store
            .find_tenant(&fx.platform, &acme.id.to_string())
            .await
            .unwrap(),
        acme
    );
    assert_not_found(store.find_tenant(&fx.platform, "nobody").await);
    assert_not_found(
        store
            .get_tenant(&TenantScope::from_verified(TenantId::new()))
            .await,
    );
    let entry = fx.last_audit(acme.id).await;
    assert_entry(&entry, &fx.actor, AuditAction::Create, "tenant");
    assert_eq!(entry.tenant_id, None, "tenants are platform-level changes");

    // Update with the current version.
    let mut spec = acme.spec.clone();
    spec.name = "Acme Corporation".into();
    spec.status = TenantStatus::Suspended;
    spec.time_zone = "America/New_York".into();
    spec.limits.max_concurrent_calls = 10;
    let updated = store
        .update_tenant(&fx.actor, &fx.platform, acme.id, 1, spec.clone())
        .await
        .unwrap();
    assert_eq!(updated.version, 2);
    assert_eq!(updated.spec, spec);
    assert_eq!(updated.created_at, acme.created_at);
    assert_eq!(store.get_tenant(&scope).await.unwrap(), updated);
    let entry = fx.last_audit(acme.id).await;
    assert_entry(&entry, &fx.actor, AuditAction::Update, "tenant");
    assert_eq!(entry.before.as_ref().unwrap()["version"], 1);
    assert_eq!(entry.after.as_ref().unwrap()["name"], "Acme Corporation");

    // Refused updates change nothing and write no audit entry.
    let before = fx.snapshot().await;
    let mut other = updated.spec.clone();
    other.name = "Stale Acme".into();
    assert_version_mismatch(
        store
            .update_tenant(&fx.actor, &fx.platform, acme.id, 1, other)
            .await,
        2,
    );

    let mut renamed = updated.spec.clone();
    renamed.slug = "acme-two".into();
    assert_invalid(
        store
            .update_tenant(&fx.actor, &fx.platform, acme.id, 2, renamed)
            .await,
        "slug",
    );
    assert_not_found(store.find_tenant(&fx.platform, "acme-two").await);

    let mut bad_zone = updated.spec.clone();
    bad_zone.time_zone = "Mars/Olympus_Mons".into();
    assert_invalid(
        store
            .update_tenant(&fx.actor, &fx.platform, acme.id, 2, bad_zone)
            .await,
        "time_zone",
    );

    assert_not_found(
        store
            .update_tenant(
                &fx.actor,
                &fx.platform,
                TenantId::new(),
                1,
                updated.spec.clone(),
            )
            .await,
    );
    assert_eq!(store.get_tenant(&scope).await.unwrap(), updated);
    assert_eq!(fx.snapshot().await, before);

    // Refused creations write nothing either.
    let mut bad_zone = tenant_spec("globex");
    bad_zone.time_zone = "Europe/Atlantis".into();
    assert_invalid(
        store.create_tenant(&fx.actor, &fx.platform, bad_zone).await,
        "time_zone",
    );
    let mut bad_slug = tenant_spec("globex");
    bad_slug.slug = "Globex Inc".into();
    assert_invalid(
        store.create_tenant(&fx.actor, &fx.platform, bad_slug).await,
        "slug",
    );
    let mut same_slug = tenant_spec("acme");
    same_slug.name = "Another Acme".into();
    assert_conflict(
        store
            .create_tenant(&fx.actor, &fx.platform, same_slug)
            .await,
    );
    assert_not_found(store.find_tenant(&fx.platform, "globex").await);
    assert_eq!(fx.snapshot().await, before);

    fx.finish().await;
}

async fn tenants_paginate(backend: Backend) {
    let fx = Fixture::new(backend).await;
    let mut created = Vec::new();
    for i in 0..5 {
        created.push(fx.tenant(&format!("tenant-{i}")).await.0);
    }
    let (store, platform) = (&fx.store, &fx.platform);
    let (listed, sizes) = collect_pages(2, |page| async move {
        store.list_tenants(platform, &page).await
    })
    .await;
    assert_eq!(sizes, vec![2, 2, 1]);
    assert_eq!(
        listed, created,
        "every tenant exactly once, in creation order"
    );
    let (listed, sizes) = collect_pages(5, |page| async move {
        store.list_tenants(platform, &page).await
    })
    .await;
    assert_eq!(sizes, vec![5], "a full last page has no next cursor");
    assert_eq!(listed, created);
    fx.finish().await;
}

async fn tenants_concurrent_updates_one_wins(backend: Backend) {
    let fx = Fixture::new(backend).await;
    let (acme, scope) = fx.tenant("acme").await;
    let mut current = acme.clone();
    for round in 0..5 {
        let version = current.version;
        let mut a = acme.spec.clone();
        a.name = format!("Acme A{round}");
        let mut b = acme.spec.clone();
        b.name = format!("Acme B{round}");
        let (ra, rb) = tokio::join!(
            fx.store
                .update_tenant(&fx.actor, &fx.platform, acme.id, version, a),
            fx.store
                .update_tenant(&fx.actor, &fx.platform, acme.id, version, b),
        );
        current = match (ra, rb) {
            (Ok(won), lost) | (lost, Ok(won)) => {
                assert_version_mismatch(lost, version + 1);
                won
            }
            (ra, rb) => panic!("round {round}: neither update won: {ra:?} / {rb:?}"),
        };
        assert_eq!(current.version, version + 1);
        assert_eq!(fx.store.get_tenant(&scope).await.unwrap(), current);
    }
    fx.finish().await;
}

// --- hotlines, queues, prompts, numbers: one suite for all four ---------------------------

/// Create, read, page, update under optimistic concurrency, isolate between tenants, delete.
/// `make(i, tag)` is the i-th item; a different `tag` changes it without breaking uniqueness.
async fn crud_suite<S>(backend: Backend, make: impl Fn(usize, &str) -> S)
where
    S: Spec + PartialEq + Debug,
{
    let fx = Fixture::new(backend).await;
    let store = &fx.store;
    let actor = user_actor("admin@acme.test");
    let (acme, a) = fx.tenant("acme").await;
    let (_, b) = fx.tenant("globex").await;

    // Create and read back.
    let mut created: Vec<Stored<S>> = Vec::new();
    for i in 0..7 {
        let item = store.create(&actor, &a, make(i, "")).await.unwrap();
        assert_eq!(item.version, 1);
        assert_eq!(item.tenant_id, acme.id);
        assert_eq!(item.created_at, item.updated_at);
        assert_eq!(store.get::<S>(&a, item.id).await.unwrap(), item);
        let entry = fx.last_audit(item.id).await;
        assert_entry(&entry, &actor, AuditAction::Create, S::RESOURCE);
        assert_eq!(entry.tenant_id, Some(acme.id));
        assert_eq!(entry.after.as_ref().unwrap()["id"], item.id.to_string());
        created.push(item);
    }
    let mut theirs = Vec::new();
    for i in 100..102 {
        theirs.push(store.create(&actor, &b, make(i, "")).await.unwrap());
    }

    // Every item exactly once, in order, whatever the page size.
    for (limit, pages) in [
        (3, vec![3, 3, 1]),
        (2, vec![2, 2, 2, 1]),
        (7, vec![7]),
        (500, vec![7]),
    ] {
        let (listed, sizes) = fx.list_all::<S>(&a, limit).await;
        assert_eq!(sizes, pages, "page sizes with limit {limit}");
        assert_eq!(listed, created, "limit {limit}");
    }
    let (listed, _) = fx.list_all::<S>(&b, 1).await;
    assert_eq!(listed, theirs, "another tenant lists only its own");

    // Update with the right version; a stale one is refused.
    let first = &created[0];
    let updated = store
        .update(&actor, &a, first.id, 1, make(0, "-renamed"))
        .await
        .unwrap();
    assert_eq!(updated.version, 2);
    assert_eq!(updated.created_at, first.created_at);
    assert_ne!(updated.spec, first.spec);
    assert_eq!(store.get::<S>(&a, first.id).await.unwrap(), updated);
    let entry = fx.last_audit(first.id).await;
    assert_entry(&entry, &actor, AuditAction::Update, S::RESOURCE);
    assert_eq!(entry.before.as_ref().unwrap()["version"], 1);
    assert_eq!(entry.after.as_ref().unwrap()["version"], 2);

    let before = fx.snapshot().await;
    assert_version_mismatch(
        store
            .update(&actor, &a, first.id, 1, make(0, "-stale"))
            .await,
        2,
    );
    assert_eq!(store.get::<S>(&a, first.id).await.unwrap(), updated);
    assert_eq!(fx.snapshot().await, before);

    // Two updates with the same expected version, at the same time: one wins.
    let mut current = updated;
    for round in 0..5 {
        let v = current.version;
        let (ra, rb) = tokio::join!(
            store.update(&actor, &a, first.id, v, make(0, &format!("-a{round}"))),
            store.update(&actor, &a, first.id, v, make(0, &format!("-b{round}"))),
        );
        current = match (ra, rb) {
            (Ok(won), lost) | (lost, Ok(won)) => {
                assert_version_mismatch(lost, v + 1);
                won
            }
            (ra, rb) => panic!("round {round}: neither update won: {ra:?} / {rb:?}"),
        };
        assert_eq!(current.version, v + 1);
        assert_eq!(store.get::<S>(&a, first.id).await.unwrap(), current);
    }

    // Another tenant's scope: not found, whatever it tries, and nothing changes.
    let before = fx.snapshot().await;
    let second = &created[1];
    for (scope, item) in [(&b, second), (&a, &theirs[0])] {
        assert_not_found(store.get::<S>(scope, item.id).await);
        assert_not_found(
            store
                .update(&actor, scope, item.id, 1, make(1, "-hijacked"))
                .await,
        );
        assert_not_found(store.delete::<S>(&actor, scope, item.id, Some(1)).await);
        assert_not_found(store.delete::<S>(&actor, scope, item.id, None).await);
    }
    assert_eq!(store.get::<S>(&a, second.id).await.unwrap(), *second);
    assert_eq!(store.get::<S>(&b, theirs[0].id).await.unwrap(), theirs[0]);
    assert_eq!(fx.snapshot().await, before);

    // Delete: version-checked, then gone.
    assert_version_mismatch(store.delete::<S>(&actor, &a, second.id, Some(7)).await, 1);
    store
        .delete::<S>(&actor, &a, second.id, Some(1))
        .await
        .unwrap();
    assert_not_found(store.get::<S>(&a, second.id).await);
    assert_not_found(store.delete::<S>(&actor, &a, second.id, None).await);
    let entry = fx.last_audit(second.id).await;
    assert_entry(&entry, &actor, AuditAction::Delete, S::RESOURCE);
    assert_eq!(entry.before.as_ref().unwrap()["id"], second.id.to_string());
    store
        .delete::<S>(&actor, &a, created[2].id, None)
        .await
        .unwrap();

    let (listed, sizes) = fx.list_all::<S>(&a, 2).await;
    assert_eq!(sizes, vec![2, 2, 1]);
    let expected: Vec<_> = [current.id]
        .into_iter()
        .chain(created[3..].iter().map(|s| s.id))
        .collect();
    assert_eq!(listed.iter().map(|s| s.id).collect::<Vec<_>>(), expected);
    let (listed, _) = fx.list_all::<S>(&b, 10).await;
    assert_eq!(listed, theirs);

    fx.finish().await;
}

async fn hotlines_crud(backend: Backend) {
    // Every field set, so that each one makes the round trip through both databases.
    crud_suite(backend, |i, tag| {
        serde_json::from_value::<HotlineSpec>(serde_json::json!({
            "name": format!("Hotline {i}{tag}"),
            "always_open": i % 2 == 0,
            "schedule": {
                "weekly": [
                    { "day": "mon", "start": "08:00", "end": "12:00" },
                    { "day": "mon", "start": "13:00", "end": "17:30" },
                    { "day": "sat", "start": "09:00", "end": "24:00" },
                ],
                "exceptions": [
                    { "date": "2026-12-24", "name": "Christmas Eve", "hours": [{ "start": "08:00", "end": "12:00" }] },
                    { "date": "2026-12-25", "name": "Christmas Day" },
                ],
            },
            "closed_action": { "action": "forward", "number": "+421 900 123 456" },
            "ivr_plugin": { "plugin": "menu", "version": i + 1 },
            "recording_policy": "on-demand",
            "language": "sk",
        }))
        .expect("hotline spec")
    })
    .await
}

async fn queues_crud(backend: Backend) {
    crud_suite(backend, |i, tag| {
        serde_json::from_value::<QueueSpec>(serde_json::json!({
            "name": format!("Queue {i}{tag}"),
            "strategy": "skills",
            "max_wait_secs": 60 + i,
            "max_length": 12,
            "wrap_up_secs": 0,
            "service_level_secs": 30,
            "overflow": { "type": "number", "number": "00421 2 9876 5432" },
            "announce_position_secs": 45,
        }))
        .expect("queue spec")
    })
    .await
}

async fn prompts_crud(backend: Backend) {
    crud_suite(backend, |i, tag| PromptSpec {
        name: format!("prompt-{i}"),
        language: "en".into(),
        description: format!("Prompt number {i}{tag}"),
    })
    .await
}

async fn numbers_crud(backend: Backend) {
    crud_suite(backend, |i, tag| NumberSpec {
        e164: format!("+421 2 5555 {i:04}"),
        label: format!("Line {i}{tag}"),
        hotline_id: None,
    })
    .await
}

// --- numbers ----------------------------------------------------------------------------------

async fn numbers_normalized_unique_and_fixed(backend: Backend) {
    let fx = Fixture::new(backend).await;
    let store = &fx.store;
    let (_, a) = fx.tenant("acme").await;
    let (_, b) = fx.tenant("globex").await;

    let created = store
        .create(&fx.actor, &a, number("+421 2 1234 5678"))
        .await
        .unwrap();
    assert_eq!(created.spec.e164, "+421212345678");
    assert_eq!(
        store
            .get::<NumberSpec>(&a, created.id)
            .await
            .unwrap()
            .spec
            .e164,
        "+421212345678"
    );
    assert_eq!(
        fx.column("numbers", "e164", created.id).await,
        "+421212345678"
    );

    // Owned by one tenant: the same number, however written, is taken.
    let before = fx.snapshot().await;
    for (scope, spelling) in [
        (&b, "00421 2 1234 5678"),
        (&b, "+421212345678"),
        (&a, "+421-2-1234-5678"),
    ] {
        let message = assert_conflict(store.create(&fx.actor, scope, number(spelling)).await);
        assert!(message.contains("number"), "{message}");
    }
    // Not E.164: refused before anything is written.
    for bad in [
        "02 1234 5678",
        "+421 2 ABCD 5678",
        "+1234",
        "",
        "+0421212345678",
    ] {
        assert_invalid(store.create(&fx.actor, &a, number(bad)).await, "e164");
    }
    assert_eq!(fx.snapshot().await, before);
    assert_eq!(fx.list_all::<NumberSpec>(&b, 10).await.0, vec![]);

    // The number itself never changes; the label does, and another spelling of the same number is fine.
    let mut changed = created.spec.clone();
    changed.e164 = "+421 2 9999 0000".into();
    assert_invalid(
        store.update(&fx.actor, &a, created.id, 1, changed).await,
        "e164",
    );
    let mut bad = created.spec.clone();
    bad.e164 = "not a number".into();
    assert_invalid(
        store.update(&fx.actor, &a, created.id, 1, bad).await,
        "e164",
    );
    assert_eq!(fx.snapshot().await, before);
    let relabelled = NumberSpec {
        e164: "00421 2 1234 5678".into(),
        label: "Main line".into(),
        hotline_id: None,
    };
    let updated = store
        .update(&fx.actor, &a, created.id, 1, relabelled)
        .await
        .unwrap();
    assert_eq!(updated.spec.e164, "+421212345678");
    assert_eq!(updated.spec.label, "Main line");

    // Released, it can go to another tenant.
    store
        .delete::<NumberSpec>(&fx.actor, &a, created.id, Some(2))
        .await
        .unwrap();
    let moved = store
        .create(&fx.actor, &b, number("+421 2 1234 5678"))
        .await
        .unwrap();
    assert_eq!(moved.spec.e164, "+421212345678");
    fx.finish().await;
}

async fn bad_opening_hours_are_refused(backend: Backend) {
    let fx = Fixture::new(backend).await;
    let (_, a) = fx.tenant("acme").await;
    let with_hours = |weekly: serde_json::Value| -> HotlineSpec {
        serde_json::from_value(
            serde_json::json!({ "name": "Support", "schedule": { "weekly": weekly } }),
        )
        .expect("hotline spec")
    };
    let before = fx.snapshot().await;
    let overlapping = with_hours(serde_json::json!([
        { "day": "tue", "start": "08:00", "end": "12:00" },
        { "day": "tue", "start": "11:00", "end": "15:00" },
    ]));
    assert_invalid(
        fx.store.create(&fx.actor, &a, overlapping).await,
        "schedule.weekly[1]",
    );
    let backwards =
        with_hours(serde_json::json!([{ "day": "wed", "start": "17:00", "end": "09:00" }]));
    assert_invalid(
        fx.store.create(&fx.actor, &a, backwards).await,
        "schedule.weekly[0]",
    );
    assert_eq!(fx.snapshot().await, before);

    let fine = fx
        .store
        .create(
            &fx.actor,
            &a,
            with_hours(serde_json::json!([{ "day": "wed", "start": "09:00", "end": "17:00" }])),
        )
        .await
        .unwrap();
    let overlapping = with_hours(serde_json::json!([
        { "day": "wed", "start": "09:00", "end": "17:00" },
        { "day": "wed", "start": "16:00", "end": "18:00" },
    ]));
    assert_invalid(
        fx.store
            .update(&fx.actor, &a, fine.id, 1, overlapping)
            .await,
        "schedule.weekly[1]",
    );
    assert_eq!(
        fx.store.get::<HotlineSpec>(&a, fine.id).await.unwrap(),
        fine
    );
    fx.finish().await;
}

// --- references between rows --------------------------------------------------------------

async fn references_stay_inside_the_tenant(backend: Backend) {
    let fx = Fixture::new(backend).await;
    let store = &fx.store;
    let actor = &fx.actor;
    let (_, a) = fx.tenant("acme").await;
    let (_, b) = fx.tenant("globex").await;
    let queue_a = store.create(actor, &a, queue("Sales")).await.unwrap();
    let queue_b = store.create(actor, &b, queue("Their sales")).await.unwrap();
    let prompt_b = store.create(actor, &b, prompt("their-moh")).await.unwrap();
    let hotline_b = store
        .create(actor, &b, hotline("Their hotline"))
        .await
        .unwrap();
    let before = fx.snapshot().await;

    // A hotline falling back to another tenant's queue (or to no queue at all).
    for queue_id in [queue_b.id, QueueId::new()] {
        let spec = HotlineSpec {
            fallback_queue_id: Some(queue_id),
            ..hotline("Support")
        };
        assert_invalid(store.create(actor, &a, spec).await, "fallback_queue_id");
    }
    let spec = HotlineSpec {
        closed_action: ClosedAction::Message {
            prompt_id: prompt_b.id,
        },
        ..hotline("Support")
    };
    assert_invalid(
        store.create(actor, &a, spec).await,
        "closed_action.prompt_id",
    );
    // A queue playing another tenant's prompt, or overflowing into another tenant's queue.
    let spec = QueueSpec {
        moh_prompt_id: Some(prompt_b.id),
        ..queue("Support")
    };
    assert_invalid(store.create(actor, &a, spec).await, "moh_prompt_id");
    let spec = QueueSpec {
        overflow: Some(OverflowTarget::Queue {
            queue_id: queue_b.id,
        }),
        ..queue("Support")
    };
    assert_invalid(store.create(actor, &a, spec).await, "overflow.queue_id");
    let spec = QueueSpec {
        overflow: Some(OverflowTarget::Hangup {
            prompt_id: Some(prompt_b.id),
        }),
        ..queue("Support")
    };
    assert_invalid(store.create(actor, &a, spec).await, "overflow.prompt_id");
    // A number pointing at another tenant's hotline.
    let spec = NumberSpec {
        hotline_id: Some(hotline_b.id),
        ..number("+421 2 1111 2222")
    };
    assert_invalid(store.create(actor, &a, spec).await, "hotline_id");
    assert_eq!(
        fx.snapshot().await,
        before,
        "refused references write nothing"
    );

    // Inside the tenant all of it is fine.
    let hotline_a = store
        .create(
            actor,
            &a,
            HotlineSpec {
                fallback_queue_id: Some(queue_a.id),
                ..hotline("Support")
            },
        )
        .await
        .unwrap();
    assert_eq!(hotline_a.spec.fallback_queue_id, Some(queue_a.id));
    let number_a = store
        .create(
            actor,
            &a,
            NumberSpec {
                hotline_id: Some(hotline_a.id),
                ..number("+421 2 1111 2222")
            },
        )
        .await
        .unwrap();
    assert_eq!(number_a.spec.hotline_id, Some(hotline_a.id));

    // ... and an update cannot point outside it either.
    let before = fx.snapshot().await;
    let spec = HotlineSpec {
        fallback_queue_id: Some(queue_b.id),
        ..hotline_a.spec.clone()
    };
    assert_invalid(
        store.update(actor, &a, hotline_a.id, 1, spec).await,
        "fallback_queue_id",
    );
    let spec = NumberSpec {
        hotline_id: Some(hotline_b.id),
        ..number_a.spec.clone()
    };
    assert_invalid(
        store.update(actor, &a, number_a.id, 1, spec).await,
        "hotline_id",
    );
    assert_eq!(fx.snapshot().await, before);
    assert_eq!(
        store.get::<HotlineSpec>(&a, hotline_a.id).await.unwrap(),
        hotline_a
    );
    assert_eq!(
        store.get::<NumberSpec>(&a, number_a.id).await.unwrap(),
        number_a
    );
    fx.finish().await;
}

async fn deleting_what_is_still_referenced_is_refused(backend: Backend) {
    let fx = Fixture::new(backend).await;
    let store = &fx.store;
    let actor = &fx.actor;
    let (_, a) = fx.tenant("acme").await;
    let moh = store.create(actor, &a, prompt("moh")).await.unwrap();
    let closed = store.create(actor, &a, prompt("closed")).await.unwrap();
    let goodbye = store.create(actor, &a, prompt("goodbye")).await.unwrap();
    let overflow = store
        .create(
            actor,
            &a,
            QueueSpec {
                overflow: Some(OverflowTarget::Hangup {
                    prompt_id: Some(goodbye.id),
                }),
                ..queue("Overflow")
            },
        )
        .await
        .unwrap();
    let sales = store
        .create(
            actor,
            &a,
            QueueSpec {
                moh_prompt_id: Some(moh.id),
                overflow: Some(OverflowTarget::Queue {
                    queue_id: overflow.id,
                }),
                ..queue("Sales")
            },
        )
        .await
        .unwrap();
    let support = store
        .create(
            actor,
            &a,
            HotlineSpec {
                fallback_queue_id: Some(sales.id),
                closed_action: ClosedAction::Message {
                    prompt_id: closed.id,
                },
                ..hotline("Support")
            },
        )
        .await
        .unwrap();
    let line = store
        .create(
            actor,
            &a,
            NumberSpec {
                hotline_id: Some(support.id),
                ..number("+421 2 3333 4444")
            },
        )
        .await
        .unwrap();

    let before = fx.snapshot().await;
    let refused: Vec<(&str, Result<(), StoreError>)> = vec![
        (
            "queue used as fallback",
            store.delete::<QueueSpec>(actor, &a, sales.id, None).await,
        ),
        (
            "queue used as overflow",
            store
                .delete::<QueueSpec>(actor, &a, overflow.id, None)
                .await,
        ),
        (
            "hotline a number points at",
            store
                .delete::<HotlineSpec>(actor, &a, support.id, None)
                .await,
        ),
        (
            "prompt used as music on hold",
            store.delete::<PromptSpec>(actor, &a, moh.id, None).await,
        ),
        (
            "prompt played when closed",
            store.delete::<PromptSpec>(actor, &a, closed.id, None).await,
        ),
        (
            "prompt played on overflow",
            store
                .delete::<PromptSpec>(actor, &a, goodbye.id, None)
                .await,
        ),
    ];
    for (what, result) in refused {
        match result {
            Err(StoreError::Conflict(message)) => {
                assert!(
                    message.contains("in use"),
                    "{what}: unclear message {message:?}"
                )
            }
            other => panic!("deleting a {what}: expected Conflict, got {other:?}"),
        }
    }
    assert_eq!(fx.snapshot().await, before, "refused deletes write nothing");
    assert_eq!(store.get::<QueueSpec>(&a, sales.id).await.unwrap(), sales);
    assert_eq!(
        store.get::<HotlineSpec>(&a, support.id).await.unwrap(),
        support
    );

    // Removed in order, everything goes.
    store
        .delete::<NumberSpec>(actor, &a, line.id, None)
        .await
        .unwrap();
    store
        .delete::<HotlineSpec>(actor, &a, support.id, None)
        .await
        .unwrap();
    store
        .delete::<QueueSpec>(actor, &a, sales.id, None)
        .await
        .unwrap();
    store
        .delete::<QueueSpec>(actor, &a, overflow.id, None)
        .await
        .unwrap();
    for prompt in [moh.id, closed.id, goodbye.id] {
        store
            .delete::<PromptSpec>(actor, &a, prompt, None)
            .await
            .unwrap();
    }
    assert_eq!(
        fx.count("queues").await + fx.count("hotlines").await + fx.count("prompts").await,
        0
    );
    fx.finish().await;
}

// --- the database itself ------------------------------------------------------------------

async fn migrating_twice_is_a_no_op(backend: Backend) {
    let fx = Fixture::new(backend).await;
    let (_, a) = fx.tenant("acme").await;
    let q = fx
        .store
        .create(&fx.actor, &a, queue("Sales"))
        .await
        .unwrap();
    let applied = fx.count("hotline_migrations").await;
    assert!(
        applied >= 2,
        "TestDb migrates: {applied} migrations applied"
    );
    assert_eq!(fx.store.db().migrate().await.unwrap(), 0);
    assert_eq!(fx.store.db().migrate().await.unwrap(), 0);
    assert_eq!(fx.count("hotline_migrations").await, applied);
    // The migrations made exactly the expected tables (other crates' tables carry their
    // crate's prefix and are checked by that crate).
    let mut expected: Vec<String> = TABLES.iter().map(|t| t.to_string()).collect();
    expected.sort();
    let ours: Vec<String> = fx
        .test_db
        .tables()
        .await
        .into_iter()
        .filter(|table| !table.starts_with("billing_") && !table.starts_with("plugin"))
        .collect();
    assert_eq!(ours, expected);
    assert_eq!(
        fx.store.get::<QueueSpec>(&a, q.id).await.unwrap(),
        q,
        "data survives"
    );
    fx.finish().await;
}

async fn a_closed_database_gives_a_clear_error(backend: Backend) {
    let fx = Fixture::new(backend).await;
    let store = &fx.store;
    let (acme, a) = fx.tenant("acme").await;
    let q = store.create(&fx.actor, &a, queue("Sales")).await.unwrap();
    store.db().close().await;

    #[track_caller]
    fn unavailable<T: Debug>(what: &str, result: Result<T, StoreError>) {
        match result {
            Err(e @ StoreError::Unavailable(_)) => {
                assert!(
                    e.to_string().contains("database is unavailable"),
                    "{what}: {e}"
                )
            }
            other => panic!("{what}: expected Unavailable, got {other:?}"),
        }
    }
    unavailable("get", store.get::<QueueSpec>(&a, q.id).await);
    unavailable(
        "list",
        store.list::<QueueSpec>(&a, &PageRequest::first(10)).await,
    );
    unavailable(
        "create",
        store.create(&fx.actor, &a, queue("Support")).await,
    );
    unavailable(
        "update",
        store.update(&fx.actor, &a, q.id, 1, queue("Renamed")).await,
    );
    unavailable(
        "delete",
        store.delete::<QueueSpec>(&fx.actor, &a, q.id, None).await,
    );
    unavailable("get tenant", store.get_tenant(&a).await);
    unavailable(
        "update tenant",
        store
            .update_tenant(&fx.actor, &fx.platform, acme.id, 1, acme.spec.clone())
            .await,
    );
    unavailable(
        "list users",
        store.list_users(&a, &PageRequest::first(10)).await,
    );
    unavailable("members", store.list_queue_members(&a, q.id).await);
    unavailable(
        "put member",
        store
            .put_queue_member(
                &fx.actor,
                &a,
                q.id,
                MemberInput {
                    agent_id: Default::default(),
                    penalty: 0,
                },
            )
            .await,
    );
    unavailable("api key", store.authenticate_api_key("hlk_whatever").await);
    unavailable(
        "audit",
        store.tenant_audit_log(&a, &PageRequest::first(10)).await,
    );

    let tokens = TokenService::new(
        b"0123456789abcdef0123456789abcdef".to_vec(),
        std::time::Duration::from_secs(60),
        std::time::Duration::from_secs(600),
    );
    match tokens
        .login(store, "ann@acme.test", "correct horse battery")
        .await
    {
        Err(AuthError::Store(StoreError::Unavailable(_))) => {}
        other => panic!("login: expected Store(Unavailable), got {other:?}"),
    }
    match tokens.refresh(store, "hlr_whatever").await {
        Err(AuthError::Store(StoreError::Unavailable(_))) => {}
        other => panic!("refresh: expected Store(Unavailable), got {other:?}"),
    }
    fx.finish().await;
}
