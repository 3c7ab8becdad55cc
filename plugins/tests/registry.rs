//! The registry and the tenants' stores on both backends: versions numbered and immutable,
//! private plugins invisible to other tenants (list, read, load), the platform catalog visible
//! to all, kv data invisible across tenants, the plugin log read per tenant only.

mod common;

use std::sync::Arc;

use common::*;
use hotline_core::testing::TestDb;
use hotline_core::{Backend, PlatformScope};
use hotline_plugins::error::{StoreError, UploadError};
use hotline_plugins::kv::{KvBackend, KvQuota, KvStore};
use hotline_plugins::plugin_log::{LogFilter, PluginLogStore};
use hotline_plugins::registry::store::{ListPage, VersionPage};
use hotline_plugins::registry::{OwnerScope, PluginSummary, Registry, UploadMeta};
use hotline_plugins::{HostConfig, PluginHost, World};

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

async fn list(reg: &Registry, view: OwnerScope<'_>) -> Vec<PluginSummary> {
    reg.store()
        .list(
            view,
            &ListPage {
                limit: 500,
                after: None,
            },
        )
        .await
        .expect("list")
        .0
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
    let listed = list(&reg, OwnerScope::Tenant(&a)).await;
    assert_eq!(
        listed
            .iter()
            .map(|p| (p.name.as_str(), p.latest_version))
            .collect::<Vec<_>>(),
        vec![("menu", 2)]
    );
    assert!(list(&reg, OwnerScope::Tenant(&b)).await.is_empty());
    assert!(matches!(
        reg.store().plugin(OwnerScope::Tenant(&b), "menu").await,
        Err(StoreError::NotFound(_))
    ));
    assert!(matches!(
        reg.store()
            .versions(
                OwnerScope::Tenant(&b),
                "menu",
                &VersionPage {
                    limit: 10,
                    before: None
                }
            )
            .await,
        Err(StoreError::NotFound(_))
    ));
    assert!(matches!(
        reg.store().version(OwnerScope::Tenant(&b), "menu", 1).await,
        Err(StoreError::NotFound(_))
    ));
    // Versions page newest first.
    let (page, next) = reg
        .store()
        .versions(
            OwnerScope::Tenant(&a),
            "menu",
            &VersionPage {
                limit: 1,
                before: None,
            },
        )
        .await
        .expect("versions");
    assert_eq!((page[0].version, next), (2, Some(2)));
    let (page, next) = reg
        .store()
        .versions(
            OwnerScope::Tenant(&a),
            "menu",
            &VersionPage {
                limit: 1,
                before: next,
            },
        )
        .await
        .expect("versions");
    assert_eq!(
        (page[0].version, page[0].notes.as_str(), next),
        (1, "first", None)
    );
    // Names the API uses for itself, and components over the installation's size, are refused.
    for reserved in ["log", "settings"] {
        let err = reg
            .upload(OwnerScope::Tenant(&a), meta(reserved, ""), guest("probe"))
            .await
            .expect_err("reserved");
        assert!(matches!(err, UploadError::ReservedName(_)), "{err}");
    }
    let small = registry(&db, dir.path()).with_max_component_bytes(1_000);
    let err = small
        .upload(OwnerScope::Tenant(&a), meta("big", ""), guest("probe"))
        .await
        .expect_err("too large");
    assert!(
        matches!(err, UploadError::TooLarge { limit: 1_000, .. }),
        "{err}"
    );
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
    assert_eq!(list(&reg, OwnerScope::Platform(&op)).await.len(), 1);
    let b_list = list(&reg, OwnerScope::Tenant(&b)).await;
    assert_eq!(
        b_list
            .iter()
            .map(|p| (p.name.as_str(), p.owner.as_str()))
            .collect::<Vec<_>>(),
        vec![("survey", "platform")]
    );
    // A's own "survey" hides the catalog's for A, not for the catalog view, nor for B; a tenant
    // cannot write through the catalog view.
    reg.upload(
        OwnerScope::Tenant(&a),
        meta("survey", "own"),
        guest("probe"),
    )
    .await
    .expect("own survey");
    let a_list = list(&reg, OwnerScope::Tenant(&a)).await;
    assert_eq!(
        a_list
            .iter()
            .map(|p| (p.name.as_str(), p.owner.as_str()))
            .collect::<Vec<_>>(),
        vec![("menu", "tenant"), ("survey", "tenant")]
    );
    let catalog = reg
        .store()
        .version(OwnerScope::Catalog(&a), "survey", 1)
        .await
        .expect("the catalog's survey")
        .0;
    assert_eq!(
        (catalog.owner.as_str(), catalog.notes.as_str()),
        ("platform", "catalog")
    );
    assert_eq!(
        reg.store()
            .plugin(OwnerScope::Tenant(&b), "survey")
            .await
            .expect("catalog survey")
            .owner,
        "platform"
    );
    assert!(matches!(
        reg.upload(OwnerScope::Catalog(&a), meta("sneaky", ""), guest("probe"))
            .await,
        Err(UploadError::Invalid(_))
    ));
    // Pages follow the cursor.
    let (first, next) = reg
        .store()
        .list(
            OwnerScope::Tenant(&a),
            &ListPage {
                limit: 1,
                after: None,
            },
        )
        .await
        .expect("page");
    let (second, last) = reg
        .store()
        .list(
            OwnerScope::Tenant(&a),
            &ListPage {
                limit: 1,
                after: next,
            },
        )
        .await
        .expect("page");
    assert_eq!(
        (first[0].name.as_str(), second[0].name.as_str(), last),
        ("menu", "survey", None)
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
    // Writing the same lines again (a retried or re-spawned write) stores them once.
    logs.append(&a, std::slice::from_ref(&line))
        .await
        .expect("append again");
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

/// A run's many lines go in multi-row batches; pages and filters read them back newest first.
async fn log_batches_and_filters(backend: Backend) {
    let db = TestDb::new(backend).await;
    let a = tenant(&db, "a").await;
    let logs = PluginLogStore::new(db.db.clone());
    let call = hotline_core::ids::CallId::new();
    let lines: Vec<_> = (0..250)
        .map(|i| hotline_plugins::plugin_log::LogLine {
            id: uuid::Uuid::now_v7(),
            at: hotline_core::time::now(),
            call_id: (i % 2 == 0).then_some(call),
            plugin: if i < 200 { "menu" } else { "survey" }.into(),
            version: 1,
            level: hotline_plugins::plugin_log::LogLevel::Info,
            source: hotline_plugins::plugin_log::LogSource::Plugin,
            message: format!("line {i}"),
        })
        .collect();
    logs.append(&a, &lines).await.expect("append 250 lines");
    let newest = logs
        .list(
            &a,
            &LogFilter {
                limit: 10,
                ..LogFilter::default()
            },
        )
        .await
        .expect("list");
    assert_eq!(newest[0].message, "line 249");
    let before = logs
        .list(
            &a,
            &LogFilter {
                limit: 1000,
                before: Some(newest[9].id),
                ..LogFilter::default()
            },
        )
        .await
        .expect("list");
    assert_eq!(
        (before.len(), before[0].message.as_str()),
        (240, "line 239")
    );
    let of_call = logs
        .list(
            &a,
            &LogFilter {
                limit: 1000,
                call_id: Some(call),
                plugin: Some("survey".into()),
                ..LogFilter::default()
            },
        )
        .await
        .expect("list");
    assert_eq!(of_call.len(), 25);
    db.finish().await;
}

/// Settings: defaults at version 0, a change bumps the version, a change based on an old
/// version is refused, and another tenant's settings are its own.
async fn settings_round_trip_per_tenant(backend: Backend) {
    use hotline_plugins::allowlist::Allowlist;
    use hotline_plugins::settings::SettingsStore;
    let db = TestDb::new(backend).await;
    let (a, b) = (tenant(&db, "a").await, tenant(&db, "b").await);
    let settings = SettingsStore::new(db.db.clone());
    let fresh = settings.get(&a).await.expect("defaults");
    assert_eq!((fresh.version, fresh.http_allowlist.len()), (0, 0));
    let list = Allowlist::parse(["crm.a.example", "*.tickets.a.example:8443"]).expect("list");
    let saved = settings
        .set_allowlist(&a, 0, &list, "admin@a.example")
        .await
        .expect("first change");
    assert_eq!(saved.version, 1);
    assert_eq!(settings.get(&a).await.expect("read"), saved);
    assert!(saved.allowlist().allows("eu.tickets.a.example", Some(8443)));
    for stale in [0, 2] {
        assert!(matches!(
            settings
                .set_allowlist(&a, stale, &Allowlist::default(), "x")
                .await,
            Err(StoreError::VersionMismatch { current: 1, .. })
        ));
    }
    let cleared = settings
        .set_allowlist(&a, 1, &Allowlist::default(), "admin@a.example")
        .await
        .expect("second change");
    assert_eq!((cleared.version, cleared.http_allowlist.len()), (2, 0));
    assert_eq!(settings.get(&b).await.expect("b").version, 0);
    db.finish().await;
}

/// Uploads of one plugin at the same moment get consecutive versions, none refused; so do the
/// first uploads of a plugin that does not exist yet.
async fn concurrent_uploads_get_consecutive_versions(backend: Backend) {
    let db = TestDb::new(backend).await;
    let dir = tempfile::tempdir().expect("dir");
    let reg = registry(&db, dir.path());
    let a = tenant(&db, "a").await;
    let bytes = guest("probe");
    let uploads = (0..4).map(|i| {
        let (reg, bytes) = (reg.clone(), bytes.clone());
        async move {
            let notes = format!("upload {i}");
            reg.upload(OwnerScope::Tenant(&a), meta("menu", &notes), bytes)
                .await
                .map(|v| v.version)
        }
    });
    let mut versions: Vec<u32> = futures_all(uploads)
        .await
        .into_iter()
        .map(|r| r.expect("every upload is stored"))
        .collect();
    versions.sort();
    assert_eq!(versions, vec![1, 2, 3, 4]);
    let plugin = reg
        .store()
        .plugin(OwnerScope::Tenant(&a), "menu")
        .await
        .expect("plugin");
    assert_eq!(plugin.latest_version, 4);
    db.finish().await;
}

/// Run futures concurrently on the test's runtime and collect their results in order.
async fn futures_all<F>(futures: impl Iterator<Item = F>) -> Vec<F::Output>
where
    F: std::future::Future + Send + 'static,
    F::Output: Send + 'static,
{
    let handles: Vec<_> = futures.map(tokio::spawn).collect();
    let mut out = Vec::new();
    for handle in handles {
        out.push(handle.await.expect("the task ran"));
    }
    out
}

hotline_core::both_backends!(
    versions_are_numbered_and_private,
    kv_and_logs_stay_inside_their_tenant,
    log_batches_and_filters,
    settings_round_trip_per_tenant,
    concurrent_uploads_get_consecutive_versions,
);
