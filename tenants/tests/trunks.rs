//! Carrier trunks against SQLite and PostgreSQL: the operator's CRUD with optimistic
//! concurrency and audit entries, the validation of allowlists, credentials and registration,
//! secrets that stay out of every answer and the audit log (the provider password kept for the
//! SIP stack alone), hotlines that forward through a trunk, and the change signal.

mod common;

use common::*;
use hotline_core::ids::TrunkId;
use hotline_core::Backend;
use hotline_tenants::audit::AuditAction;
use hotline_tenants::hotlines::HotlineSpec;
use hotline_tenants::trunks::{CallerIdPolicy, TrunkSpec, TrunkTransport, SECRET_MASK};
use hotline_tenants::{PageRequest, StoreError};
use md5::{Digest, Md5};
use serde_json::json;

hotline_core::both_backends!(
    trunks_create_read_update_delete,
    secrets_are_kept_masked_and_resent_only_to_sip,
    bad_trunks_are_refused,
    hotlines_forward_through_existing_trunks_only,
);

fn spec(value: serde_json::Value) -> TrunkSpec {
    serde_json::from_value(value).expect("trunk spec")
}

fn carrier(name: &str) -> TrunkSpec {
    spec(json!({
        "name": name,
        "inbound": {
            "sources": ["192.0.2.10", "198.51.100.9/24", "2001:DB8::/48"],
            "username": "carrier-in",
            "password": "inbound-secret-1",
        },
        "outbound": {
            "host": "SIP.Carrier.Example",
            "transport": "tcp",
            "username": "hotline-out",
            "password": "provider-secret-1",
            "register": true,
            "register_expires_s": 600,
            "caller_id": { "policy": "fixed", "number": "+421 2 5555 0100" },
        },
        "max_concurrent_calls": 20,
    }))
}

async fn trunks_create_read_update_delete(backend: Backend) {
    let fx = Fixture::new(backend).await;
    let store = &fx.store;
    let op = &fx.actor;
    let generation = store.trunks_generation();

    let made = store
        .create_trunk(op, &fx.platform, carrier("Carrier One"))
        .await
        .unwrap();
    assert_eq!(made.version, 1);
    assert_eq!(
        made.spec.inbound.sources,
        ["192.0.2.10/32", "198.51.100.0/24", "2001:db8::/48"]
    );
    let outbound = made.spec.outbound.clone().expect("outbound");
    assert_eq!(outbound.host, "sip.carrier.example");
    assert_eq!(outbound.port, 5060, "the default port");
    assert_eq!(outbound.transport, TrunkTransport::Tcp);
    assert_eq!(
        outbound.caller_id,
        CallerIdPolicy::Fixed {
            number: "+421255550100".into()
        }
    );
    assert!(made.spec.enabled, "enabled by default");
    assert!(store.trunks_generation() > generation, "a create bumps");
    assert_eq!(store.get_trunk(&fx.platform, made.id).await.unwrap(), made);
    let entry = fx.last_audit(made.id).await;
    assert_entry(&entry, op, AuditAction::Create, "trunk");
    assert_eq!(entry.tenant_id, None, "trunks are platform-level");

    // Names are unique; a list pages through all of them in id order.
    assert_conflict(
        store
            .create_trunk(op, &fx.platform, carrier("Carrier One"))
            .await,
    );
    let mut ids = vec![made.id];
    for n in 2..=5 {
        let trunk = store
            .create_trunk(op, &fx.platform, carrier(&format!("Carrier {n}")))
            .await
            .unwrap();
        ids.push(trunk.id);
    }
    let (listed, sizes) = collect_pages(2, |page| async move {
        store.list_trunks(&fx.platform, &page).await
    })
    .await;
    assert_eq!(listed.iter().map(|t| t.id).collect::<Vec<_>>(), ids);
    assert_eq!(sizes, [2, 2, 1]);

    // Update under optimistic concurrency; what the API returned can be sent back as it is.
    let mut changed = made.spec.clone();
    changed.enabled = false;
    changed.max_concurrent_calls = 5;
    changed.inbound.sources.push("203.0.113.0/24".into());
    let generation = store.trunks_generation();
    let updated = store
        .update_trunk(op, &fx.platform, made.id, 1, changed.clone())
        .await
        .unwrap();
    assert_eq!(updated.version, 2);
    assert_eq!(updated.spec, changed);
    assert!(store.trunks_generation() > generation, "an update bumps");
    assert_version_mismatch(
        store
            .update_trunk(op, &fx.platform, made.id, 1, changed.clone())
            .await,
        2,
    );
    let entry = fx.last_audit(made.id).await;
    assert_entry(&entry, op, AuditAction::Update, "trunk");
    assert_eq!(
        entry.before.as_ref().map(|b| b["enabled"].clone()),
        Some(json!(true))
    );
    assert_eq!(
        entry.after.as_ref().map(|a| a["enabled"].clone()),
        Some(json!(false))
    );

    // Delete, with the version read.
    assert_version_mismatch(
        store.delete_trunk(op, &fx.platform, made.id, Some(1)).await,
        2,
    );
    store
        .delete_trunk(op, &fx.platform, made.id, Some(2))
        .await
        .unwrap();
    assert_not_found(store.get_trunk(&fx.platform, made.id).await);
    assert_not_found(store.delete_trunk(op, &fx.platform, made.id, None).await);
    assert_entry(
        &fx.last_audit(made.id).await,
        op,
        AuditAction::Delete,
        "trunk",
    );
    assert_not_found(store.get_trunk(&fx.platform, TrunkId::new()).await);
    fx.finish().await;
}

async fn secrets_are_kept_masked_and_resent_only_to_sip(backend: Backend) {
    let fx = Fixture::new(backend).await;
    let store = &fx.store;
    let op = &fx.actor;
    let made = store
        .create_trunk(op, &fx.platform, carrier("Carrier"))
        .await
        .unwrap();

    // Shown masked, never in the clear.
    assert_eq!(made.spec.inbound.password.as_deref(), Some(SECRET_MASK));
    assert_eq!(
        made.spec
            .outbound
            .as_ref()
            .and_then(|o| o.password.as_deref()),
        Some(SECRET_MASK)
    );
    let shown = serde_json::to_string(&made).unwrap();
    assert!(!shown.contains("provider-secret-1") && !shown.contains("inbound-secret-1"));

    // The SIP stack gets the provider password and the inbound HA1s in the platform realm.
    let sip = store.trunks_for_sip(&fx.platform).await.unwrap();
    assert_eq!(sip.len(), 1);
    assert_eq!(sip[0].trunk, made);
    assert_eq!(
        sip[0].outbound_password.as_deref(),
        Some("provider-secret-1")
    );
    let digest = sip[0].inbound_digest.clone().expect("inbound digest");
    assert_eq!(
        (digest.username.as_str(), digest.realm.as_str()),
        ("carrier-in", "sip.hotline.local")
    );
    assert_eq!(
        digest.ha1_md5,
        hex::encode(Md5::digest(
            b"carrier-in:sip.hotline.local:inbound-secret-1"
        ))
    );
    // The inbound password is stored nowhere; neither secret reaches the JSON or the audit log.
    fx.assert_stored_nowhere("inbound-secret-1").await;
    for value in fx.table_values("trunks").await {
        if value.contains("provider-secret-1") {
            assert_eq!(value, "provider-secret-1", "only its own column holds it");
        }
    }
    let log = serde_json::to_string(&fx.audit_all().await).unwrap();
    assert!(!log.contains("provider-secret-1") && !log.contains(&digest.ha1_md5));

    // Sending the masked form back keeps both secrets.
    let mut spec = made.spec.clone();
    spec.name = "Carrier renamed".into();
    let kept = store
        .update_trunk(op, &fx.platform, made.id, 1, spec.clone())
        .await
        .unwrap();
    let sip = store.trunks_for_sip(&fx.platform).await.unwrap();
    assert_eq!(sip[0].trunk, kept);
    assert_eq!(
        sip[0].outbound_password.as_deref(),
        Some("provider-secret-1")
    );
    assert_eq!(sip[0].inbound_digest.as_ref(), Some(&digest));

    // New secrets replace them.
    let mut spec = kept.spec.clone();
    if let Some(outbound) = &mut spec.outbound {
        outbound.password = Some("provider-secret-2".into());
    }
    spec.inbound.password = Some("inbound-secret-2".into());
    store
        .update_trunk(op, &fx.platform, made.id, 2, spec)
        .await
        .unwrap();
    let sip = store.trunks_for_sip(&fx.platform).await.unwrap();
    assert_eq!(
        sip[0].outbound_password.as_deref(),
        Some("provider-secret-2")
    );
    assert_ne!(sip[0].inbound_digest.as_ref(), Some(&digest));

    // A new inbound username without a password would keep a digest over the old one: refused.
    let mut spec = store.get_trunk(&fx.platform, made.id).await.unwrap().spec;
    spec.inbound.username = Some("carrier-new".into());
    let before = fx.snapshot().await;
    assert_invalid(
        store.update_trunk(op, &fx.platform, made.id, 3, spec).await,
        "inbound.password",
    );
    assert_eq!(fx.snapshot().await, before);

    // Dropping the usernames drops the secrets (the leftover masks are ignored).
    let mut spec = store.get_trunk(&fx.platform, made.id).await.unwrap().spec;
    spec.inbound.username = None;
    if let Some(outbound) = &mut spec.outbound {
        outbound.username = None;
        outbound.register = false;
    }
    let bare = store
        .update_trunk(op, &fx.platform, made.id, 3, spec)
        .await
        .unwrap();
    assert_eq!(bare.spec.inbound.password, None);
    assert_eq!(
        bare.spec.outbound.as_ref().and_then(|o| o.password.clone()),
        None
    );
    let sip = store.trunks_for_sip(&fx.platform).await.unwrap();
    assert_eq!(
        (
            sip[0].outbound_password.clone(),
            sip[0].inbound_digest.clone()
        ),
        (None, None)
    );
    fx.assert_stored_nowhere("provider-secret-2").await;
    fx.finish().await;
}

async fn bad_trunks_are_refused(backend: Backend) {
    let fx = Fixture::new(backend).await;
    let store = &fx.store;
    let op = &fx.actor;
    let cases: Vec<(serde_json::Value, &str)> = vec![
        (
            json!({ "name": "x", "inbound": { "sources": ["carrier.example"] } }),
            "inbound.sources[0]",
        ),
        (
            json!({ "name": "x", "inbound": { "sources": ["10.0.0.0/33"] } }),
            "inbound.sources[0]",
        ),
        (
            json!({ "name": "x", "inbound": { "sources": ["0.0.0.0/0"] } }),
            "inbound.sources[0]",
        ),
        (
            json!({ "name": "x", "inbound": { "sources": ["192.0.2.1", "192.0.2.1/32"] } }),
            "inbound.sources[1]",
        ),
        (
            json!({ "name": "x", "inbound": { "sources": ["::ffff:192.0.2.1", "192.0.2.1"] } }),
            "inbound.sources[1]",
        ),
        (
            json!({ "name": "x", "inbound": { "username": "carrier" } }),
            "inbound.password",
        ),
        (
            json!({ "name": "x", "inbound": { "username": "carrier", "password": SECRET_MASK } }),
            "inbound.password",
        ),
        (
            json!({ "name": "x", "inbound": { "username": "carrier", "password": "short" } }),
            "inbound.password",
        ),
        (
            json!({ "name": "x", "inbound": { "username": "bad user", "password": "long enough" } }),
            "inbound.username",
        ),
        (
            json!({ "name": "x", "inbound": { "sources": ["192.0.2.1"], "password": "long enough" } }),
            "inbound.password",
        ),
        (json!({ "name": "x" }), "inbound"),
        (
            json!({ "name": "", "inbound": { "sources": ["192.0.2.1"] } }),
            "name",
        ),
        (
            json!({ "name": "x", "inbound": { "sources": ["192.0.2.1"] }, "max_concurrent_calls": 0 }),
            "max_concurrent_calls",
        ),
        (
            json!({ "name": "x", "outbound": { "host": "bad host" } }),
            "outbound.host",
        ),
        (
            json!({ "name": "x", "outbound": { "host": "sip.example", "port": 0 } }),
            "outbound.port",
        ),
        (
            json!({ "name": "x", "outbound": { "host": "sip.example", "username": "u" } }),
            "outbound.password",
        ),
        (
            json!({ "name": "x", "outbound": { "host": "sip.example", "password": "p" } }),
            "outbound.password",
        ),
        (
            json!({ "name": "x", "outbound": { "host": "sip.example", "register": true } }),
            "outbound.register",
        ),
        (
            json!({ "name": "x", "outbound": { "host": "sip.example", "register_expires_s": 10 } }),
            "outbound.register_expires_s",
        ),
        (
            json!({ "name": "x", "outbound": { "host": "sip.example", "caller_id": { "policy": "fixed", "number": "12" } } }),
            "outbound.caller_id.number",
        ),
    ];
    let before = fx.snapshot().await;
    for (value, field) in cases {
        assert_invalid(
            store
                .create_trunk(op, &fx.platform, spec(value.clone()))
                .await,
            field,
        );
    }
    assert_eq!(
        fx.snapshot().await,
        before,
        "a refused trunk wrote something"
    );
    // Shapes that do not parse never reach the store.
    for value in [
        json!({ "name": "x", "outbound": { "host": "h", "transport": "tls" } }),
        json!({ "name": "x", "outbound": { "host": "h", "caller_id": { "policy": "random" } } }),
        json!({ "name": "x", "colour": "red" }),
    ] {
        assert!(
            serde_json::from_value::<TrunkSpec>(value.clone()).is_err(),
            "{value}"
        );
    }
    // IPv6 hosts may come bracketed, as in a SIP URI.
    let made = store
        .create_trunk(
            op,
            &fx.platform,
            spec(json!({ "name": "v6", "outbound": { "host": "[2001:DB8::1]" } })),
        )
        .await
        .unwrap();
    assert_eq!(
        made.spec.outbound.map(|o| o.host),
        Some("2001:db8::1".to_string())
    );
    fx.finish().await;
}

async fn hotlines_forward_through_existing_trunks_only(backend: Backend) {
    let fx = Fixture::new(backend).await;
    let store = &fx.store;
    let op = &fx.actor;
    let (_, a) = fx.tenant("acme").await;
    let trunk = store
        .create_trunk(op, &fx.platform, carrier("Carrier"))
        .await
        .unwrap();
    let forward = |trunk_id: TrunkId| -> HotlineSpec {
        serde_json::from_value(json!({
            "name": "forwarding",
            "open_action": { "action": "forward-number", "number": "+421 2 5555 0199", "trunk_id": trunk_id },
        }))
        .expect("hotline spec")
    };
    assert_invalid(
        store.create(op, &a, forward(TrunkId::new())).await,
        "open_action.trunk_id",
    );
    let hotline = store.create(op, &a, forward(trunk.id)).await.unwrap();

    // The trunk cannot go while a hotline forwards through it; the error names the hotline.
    let message = assert_conflict(store.delete_trunk(op, &fx.platform, trunk.id, None).await);
    assert!(message.contains(&hotline.id.to_string()), "{message}");
    store
        .delete::<HotlineSpec>(op, &a, hotline.id, None)
        .await
        .unwrap();
    store
        .delete_trunk(op, &fx.platform, trunk.id, None)
        .await
        .unwrap();
    assert!(matches!(
        store.list_trunks(&fx.platform, &PageRequest::first(10)).await,
        Ok(page) if page.items.is_empty()
    ));
    // A store error stays a store error.
    assert!(matches!(
        store.get_trunk(&fx.platform, trunk.id).await,
        Err(StoreError::NotFound { .. })
    ));
    fx.finish().await;
}
