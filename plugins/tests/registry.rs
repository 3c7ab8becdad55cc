//! The registry and the tenants' stores on both backends: versions numbered and immutable,
//! private plugins invisible to other tenants (list, read, load), the platform catalog visible
//! to all, kv data invisible across tenants, the plugin log read per tenant only.

mod common;

use std::sync::Arc;

use common::*;
use hotline_core::ids::TenantId;
use hotline_core::testing::TestDb;
use hotline_core::{Backend, PlatformScope, TenantScope};
use hotline_plugins::error::{StoreError, UploadError};
use hotline_plugins::kv::{KvBackend, KvQuota, KvStore};
use hotline_plugins::plugin_log::{LogFilter, PluginLogStore};
use hotline_plugins::registry::{OwnerScope, Registry, UploadMeta};
use hotline_plugins::{HostConfig, PluginHost, World};

async fn tenant(db: &TestDb, slug: &str) -> TenantScope {
    let id = TenantId::new();
    sqlx::query(
        "INSERT INTO tenants (id, slug, name, status, time_zone, max_concurrent_calls, max_calls_per_second, plugin_cpu_ms_per_call, version, created_at, updated_at)
         VALUES ($1, $2, $2, 'active', 'UTC', 10, 5, 50, 1, 0, 0)",
    )
    .bind(id.to_db())
    .bind(slug)
    .execute(db.db.pool())
    .await
    .expect("a tenant row");
    PlatformScope::from_verified().tenant(id)
}

fn registry(db: &TestDb, dir: &std::path::Path) -> Registry {
    let host = Arc::new(
        PluginHost::new(HostConfig {
            pooling: false,
            ..HostConfig::default()
        })
        .expect("host"),
    );
    Registry::new(host, db.db.clone(), Some(dir.to_path_buf()), 64 << 20)
}

fn meta<'a>(name: &'a str, notes: &'a str) -> UploadMeta<'a> {
    UploadMeta {
        name,
        author: "ana@a.example",
        notes,
    }
}

async fn versions_are_numbered_and_private(backend: Backend) {
    let db = TestDb::new(backend).await;
    let dir = tempfile::tempdir().expect("dir");
    let reg = registry(&db, dir.path());
    let (a, b) = (tenant(&db, "a").await, tenant(&db, "b").await);
    let v1 = reg
        .upload(
            OwnerScope::Tenant(&a),
            meta("menu", "first"),
            guest("probe"),
        )
        .await
        .expect("v1");
    let v2 = reg
        .upload(
            OwnerScope::Tenant(&a),
            meta("menu", "second"),
            guest("probe"),
        )
        .await
        .expect("v2");
    assert_eq!((v1.version, v2.version, v1.world), (1, 2, World::Ivr));
    assert_eq!(v2.notes, "second");
    assert!(
        v1.imports
            .iter()
            .any(|i| i.starts_with("hotline:plugin/call@0.1.0")),
        "{:?}",
        v1.imports
    );
    // A new version must keep the world.
    let err = reg
        .upload(OwnerScope::Tenant(&a), meta("menu", "x"), guest("script"))
        .await
        .expect_err("world");
    assert!(matches!(err, UploadError::WorldChanged(..)), "{err}");
    // A refused upload stores nothing.
    let err = reg
        .upload(
            OwnerScope::Tenant(&a),
            meta("evil", "x"),
            guest("foreign-import"),
        )
        .await
        .expect_err("import");
    assert!(matches!(err, UploadError::UnknownImport(_)));

    // A sees its plugin; B cannot list, read or load it.
    let listed = reg.store().list_for_tenant(&a).await.expect("list");
    assert_eq!(
        listed
            .iter()
            .map(|p| (p.name.as_str(), p.latest_version))
            .collect::<Vec<_>>(),
        vec![("menu", 2)]
    );
    assert!(reg
        .store()
        .list_for_tenant(&b)
        .await
        .expect("list")
        .is_empty());
    assert!(matches!(
        reg.store().get(OwnerScope::Tenant(&b), "menu").await,
        Err(StoreError::NotFound(_))
    ));
    assert!(reg.visible(&b, "menu", 1).await.expect("visible").is_none());
    assert!(matches!(
        reg.load(&b, "menu", 1).await,
        Err(hotline_plugins::registry::LoadError::Store(
            StoreError::NotFound(_)
        ))
    ));
    assert!(reg.visible(&a, "menu", 2).await.expect("visible").is_some());
    assert!(reg.visible(&a, "menu", 3).await.expect("visible").is_none());

    // The platform's catalog is visible to both; a tenant's own plugin of that name wins.
    let op = PlatformScope::from_verified();
    reg.upload(
        OwnerScope::Platform(&op),
        meta("survey", "catalog"),
        guest("probe"),
    )
    .await
    .expect("catalog");
    for scope in [&a, &b] {
        assert!(reg
            .visible(scope, "survey", 1)
            .await
            .expect("visible")
            .is_some());
    }
    assert_eq!(
        reg.store().list_catalog(&op).await.expect("catalog").len(),
        1
    );
    let b_list = reg.store().list_for_tenant(&b).await.expect("list");
    assert_eq!(
        b_list
            .iter()
            .map(|p| (p.name.as_str(), p.owner.as_str()))
            .collect::<Vec<_>>(),
        vec![("survey", "platform")]
    );

    // Loaded from the database through the disk cache, it runs.
    let plugin = reg.load(&a, "menu", 2).await.expect("load");
    assert_eq!(plugin.identity.version, 2);
    let cached = std::fs::read_dir(dir.path()).expect("cache dir").count();
    assert!(cached >= 2, "artifacts on disk: {cached}");
    let fresh = registry(&db, dir.path());
    let plugin = fresh
        .load(&a, "menu", 1)
        .await
        .expect("load from the disk cache");
    let run = hotline_plugins::simulate::run_scene(
        host(),
        &load("probe"),
        &scene("digits = \"9\"\n[[case]]\nname = \"x\"\n"),
    )
    .await;
    assert_eq!(run.outcome, "self-served");
    assert_eq!(plugin.identity.name, "menu");
    db.finish().await;
}

async fn kv_and_logs_stay_inside_their_tenant(backend: Backend) {
    let db = TestDb::new(backend).await;
    let (a, b) = (tenant(&db, "a").await, tenant(&db, "b").await);
    let kv = KvStore::new(db.db.clone());
    let quota = KvQuota {
        value_bytes: 16,
        keys: 2,
        total_bytes: 1_000,
    };
    let (ka, kb) = (kv.for_tenant(a), kv.for_tenant(b));
    ka.set("secret", "a's", &quota).await.expect("set");
    assert_eq!(kb.get("secret").await.expect("get"), None);
    assert_eq!(ka.get("secret").await.expect("get").as_deref(), Some("a's"));
    assert!(kb.list_keys("", 100).await.expect("list").is_empty());
    assert!(!kb.delete("secret").await.expect("delete"));
    assert_eq!(ka.increment("n", 2, &quota).await.expect("incr"), 2);
    assert_eq!(ka.increment("n", 3, &quota).await.expect("incr"), 5);
    // Quotas: value size, key count; B's quota is its own.
    assert!(matches!(
        ka.set("big", &"x".repeat(17), &quota).await,
        Err(hotline_plugins::kv::KvFailure::ValueTooLarge(16))
    ));
    assert!(matches!(
        ka.set("third", "x", &quota).await,
        Err(hotline_plugins::kv::KvFailure::QuotaExceeded(_))
    ));
    kb.set("mine", "b's", &quota).await.expect("b has room");
    assert!(matches!(
        ka.increment("secret", 1, &quota).await,
        Err(hotline_plugins::kv::KvFailure::NotANumber)
    ));
    assert_eq!(
        ka.list_keys("", 10).await.expect("list"),
        vec!["n".to_string(), "secret".to_string()]
    );

    // Logs.
    let logs = PluginLogStore::new(db.db.clone());
    let line = hotline_plugins::plugin_log::LogLine {
        id: uuid::Uuid::now_v7(),
        at: hotline_core::time::now(),
        call_id: None,
        plugin: "menu".into(),
        version: 1,
        level: hotline_plugins::plugin_log::LogLevel::Error,
        source: hotline_plugins::plugin_log::LogSource::Host,
        message: "cpu budget of 50 ms exhausted".into(),
    };
    logs.append(&a, std::slice::from_ref(&line))
        .await
        .expect("append");
    assert_eq!(
        logs.list(&a, &LogFilter::default()).await.expect("list"),
        vec![line]
    );
    assert!(logs
        .list(&b, &LogFilter::default())
        .await
        .expect("list")
        .is_empty());
    db.finish().await;
}

hotline_core::both_backends!(
    versions_are_numbered_and_private,
    kv_and_logs_stay_inside_their_tenant
);
