//! The plugin endpoints end to end, on both backends: uploads validated with a problem type per
//! fault (and nothing stored when refused), versions numbered and read back, the catalog shared
//! by all tenants, a tenant's private plugin invisible to every other tenant (listing, reading,
//! pinning, running), pins checked and rolled back, the plugin log showing why a run failed, and
//! the HTTP allowlist round-tripping into the services a run gets.

mod common;

use axum::http::{header, Method, StatusCode};
use common::*;
use hotline_core::ids::CallId;
use hotline_core::{PlatformScope, TenantScope};
use hotline_plugins::registry::LoadError;
use hotline_plugins::{run_ivr, IvrCall, SandboxLimits};
use serde_json::{json, Value};

fn scope(tenant: &TenantFx) -> TenantScope {
    PlatformScope::from_verified().tenant(tenant.id.parse().expect("tenant id"))
}

async fn uploads_are_validated_with_a_problem_per_fault(backend: hotline_core::Backend) {
    let world = World::new(backend).await;
    let app = &world.app;
    let a = &world.a;
    let author = world.token(hotline_tenants::rbac::Role::PluginAuthor);
    let versions = a.url("/plugins/survey/versions");
    let probe = guest("probe");
    let random: Vec<u8> = (0..4096u32)
        .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
        .collect();
    let mut too_large = probe.clone();
    too_large.resize(UPLOAD_LIMIT + 1, 0);
    let cases: Vec<(&str, Vec<u8>, StatusCode, &str, &str)> = vec![
        (
            "empty",
            vec![],
            StatusCode::UNPROCESSABLE_ENTITY,
            "plugin-empty",
            "empty",
        ),
        (
            "random bytes",
            random,
            StatusCode::UNPROCESSABLE_ENTITY,
            "plugin-not-wasm",
            "not WebAssembly",
        ),
        (
            "a core module",
            b"\0asm\x01\0\0\0".to_vec(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "plugin-core-module",
            "core WebAssembly module, not a component",
        ),
        (
            "a truncated component",
            probe[..probe.len() / 2].to_vec(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "plugin-malformed",
            "truncated or malformed",
        ),
        (
            "an unknown import",
            guest("foreign-import"),
            StatusCode::UNPROCESSABLE_ENTITY,
            "plugin-unknown-import",
            "hotline:evil/files@0.1.0",
        ),
        (
            "another world",
            guest("wrong-world"),
            StatusCode::UNPROCESSABLE_ENTITY,
            "plugin-wrong-world",
            "targets no Hotline world",
        ),
        (
            "too large",
            too_large,
            StatusCode::PAYLOAD_TOO_LARGE,
            "plugin-too-large",
            "the limit is 1048576 bytes",
        ),
    ];
    for (what, bytes, status, slug, text) in cases {
        let problem = refused!(app, status, slug, app.upload(&versions, author, bytes));
        assert!(
            problem["detail"].as_str().is_some_and(|d| d.contains(text)),
            "{what}: {problem}"
        );
    }
    // The body must say what it is; names must be names, and not the API's own.
    refused!(
        app,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported-media-type",
        app.request_raw(
            Method::POST,
            &versions,
            Some(author),
            probe.clone(),
            &[("content-type", "application/json")]
        )
    );
    refused!(
        app,
        StatusCode::UNPROCESSABLE_ENTITY,
        "plugin-invalid-name",
        app.upload(&a.url("/plugins/Survey_1/versions"), author, probe.clone())
    );
    for reserved in ["log", "settings"] {
        refused!(
            app,
            StatusCode::UNPROCESSABLE_ENTITY,
            "plugin-reserved-name",
            app.upload(
                &a.url(&format!("/plugins/{reserved}/versions")),
                author,
                probe.clone()
            )
        );
    }
    refused!(
        app,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation",
        app.upload(
            &format!("{versions}?notes={}", "n".repeat(4_001)),
            author,
            probe.clone()
        )
    );
    refused!(
        app,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation",
        app.upload(&format!("{versions}?colour=red"), author, probe.clone())
    );

    // A good upload: 201, where it is, who made it, what changed.
    let (status, headers, v1) = app
        .upload(
            &format!("{versions}?notes=first%20cut"),
            author,
            probe.clone(),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{v1}");
    assert_eq!(
        headers.get(header::LOCATION).and_then(|v| v.to_str().ok()),
        Some(format!("{versions}/1").as_str())
    );
    assert_eq!(
        (
            v1["plugin"].clone(),
            v1["version"].clone(),
            v1["world"].clone(),
            v1["owner"].clone()
        ),
        (json!("survey"), json!(1), json!("ivr"), json!("tenant"))
    );
    assert_eq!(v1["author"], json!("plugin-author@tenant-a.example"));
    assert_eq!(v1["notes"], json!("first cut"));
    assert_eq!(v1["size_bytes"], json!(probe.len()));
    assert!(v1["imports"].as_array().is_some_and(|i| i.iter().any(|x| x
        .as_str()
        .is_some_and(|s| s.starts_with("hotline:plugin/call@")))));
    // An API key uploads under its own name; the next version is 2; the world must stay.
    let key = app
        .create(
            &a.url("/api-keys"),
            &a.admin,
            json!({ "name": "ci pipeline", "role": "plugin-author" }),
        )
        .await;
    let (status, _, v2) = app
        .upload(&versions, &str_of(&key, "secret"), probe.clone())
        .await;
    assert_eq!(status, StatusCode::CREATED, "{v2}");
    assert_eq!(
        (v2["version"].clone(), v2["author"].clone()),
        (json!(2), json!("api-key:ci pipeline"))
    );
    let problem = refused!(
        app,
        StatusCode::CONFLICT,
        "plugin-world-changed",
        app.upload(&versions, author, guest("script"))
    );
    assert!(
        problem["detail"]
            .as_str()
            .is_some_and(|d| d.contains("same world")),
        "{problem}"
    );

    // Read back: the plugin, its versions newest first (paged), one version.
    let plugin = app.read(&a.url("/plugins/survey"), author).await;
    assert_eq!(
        (plugin["latest_version"].clone(), plugin["owner"].clone()),
        (json!(2), json!("tenant"))
    );
    let page = app.read(&format!("{versions}?limit=1"), author).await;
    assert_eq!(page["items"][0]["version"], json!(2));
    let next = page["next_cursor"]
        .as_str()
        .expect("a second page")
        .to_string();
    let page = app
        .read(&format!("{versions}?limit=1&cursor={next}"), author)
        .await;
    assert_eq!(page["items"][0]["version"], json!(1));
    assert!(page.get("next_cursor").is_none(), "{page}");
    let (status, headers, one) = app.get(&format!("{versions}/1"), Some(author)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        headers.get(header::ETAG).and_then(|v| v.to_str().ok()),
        Some("\"1\"")
    );
    assert_eq!(one["notes"], json!("first cut"));
    for missing in [
        format!("{versions}/3"),
        format!("{versions}/x"),
        a.url("/plugins/nothing-here"),
    ] {
        assert_problem(
            &app.get(&missing, Some(author)).await,
            StatusCode::NOT_FOUND,
            "not-found",
        );
    }
    for bad in ["cursor=garbage", "limit=0", "limit=501"] {
        assert_problem(
            &app.get(&format!("{versions}?{bad}"), Some(author)).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation",
        );
    }
    world.finish().await;
}

/// B cannot list, read, pin or run A's private plugin; an upload of the same name by B makes
/// B's own plugin; the catalog is everyone's, and a tenant's own plugin hides the catalog's of
/// the same name only in the tenant's own list.
async fn private_plugins_stay_private(backend: hotline_core::Backend) {
    let world = World::new(backend).await;
    let app = &world.app;
    let (a, b) = (&world.a, &world.b);
    let a_plugin = a.ids.plugin.as_str();

    let b_list = app.read(&b.url("/plugins"), &b.admin).await;
    let names: Vec<&str> = b_list["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|p| p["name"].as_str())
        .collect();
    assert_eq!(names, vec![CATALOG_PLUGIN, b.ids.plugin.as_str()]);
    for path in [
        b.url(&format!("/plugins/{a_plugin}")),
        b.url(&format!("/plugins/{a_plugin}/versions")),
        b.url(&format!("/plugins/{a_plugin}/versions/1")),
        a.url(&format!("/plugins/{a_plugin}")),
        format!("/api/v1/plugins/{a_plugin}"),
    ] {
        assert_problem(
            &app.get(&path, Some(&b.admin)).await,
            StatusCode::NOT_FOUND,
            "not-found",
        );
    }
    // Pinning it is refused, by B's admin and by the operator acting in B.
    for token in [b.admin.as_str(), app.operator.as_str()] {
        let problem = refused!(
            app,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation",
            app.post(
                &b.url("/hotlines"),
                Some(token),
                json!({ "name": "stolen", "ivr_plugin": { "plugin": a_plugin, "version": 1 } })
            )
        );
        assert_eq!(
            error_fields(&problem),
            vec!["ivr_plugin".to_string()],
            "{problem}"
        );
    }
    // Running it: the registry does not load it for B.
    assert!(matches!(
        app.plugins.registry().load(&scope(b), a_plugin, 1).await,
        Err(LoadError::Store(
            hotline_plugins::error::StoreError::NotFound(_)
        ))
    ));
    assert!(app
        .plugins
        .registry()
        .load(&scope(a), a_plugin, 1)
        .await
        .is_ok());

    // B's upload of that name is B's own version 1; A's plugin is untouched.
    let (status, _, mine) = app
        .upload(
            &b.url(&format!("/plugins/{a_plugin}/versions")),
            &b.admin,
            guest("probe"),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{mine}");
    assert_eq!(mine["version"], json!(1));
    let a_view = app
        .read(&a.url(&format!("/plugins/{a_plugin}")), &a.admin)
        .await;
    assert_eq!(a_view["latest_version"], json!(1));
    assert_ne!(
        a_view["id"],
        app.read(&b.url(&format!("/plugins/{a_plugin}")), &b.admin)
            .await["id"]
    );

    // The catalog: both tenants list and pin it; only the operator uploads.
    for fx in [a, b] {
        let catalog = app.read("/api/v1/plugins", &fx.admin).await;
        assert_eq!(
            catalog["items"][0]["name"],
            json!(CATALOG_PLUGIN),
            "{catalog}"
        );
        assert_eq!(
            catalog["items"].as_array().map(Vec::len),
            Some(1),
            "{catalog}"
        );
        let v = app
            .read(
                &format!("/api/v1/plugins/{CATALOG_PLUGIN}/versions/1"),
                &fx.admin,
            )
            .await;
        assert_eq!(
            (v["owner"].clone(), v["notes"].clone()),
            (json!("platform"), json!("the catalog's menu"))
        );
        app.create(
            &fx.url("/hotlines"),
            &fx.admin,
            json!({ "name": "from the catalog", "ivr_plugin": { "plugin": CATALOG_PLUGIN, "version": 1 } }),
        )
        .await;
    }
    refused!(
        app,
        StatusCode::FORBIDDEN,
        "forbidden",
        app.upload(
            &format!("/api/v1/plugins/{CATALOG_PLUGIN}/versions"),
            &a.admin,
            guest("probe")
        )
    );
    // A's own "catalog-menu" hides the catalog's in A's list, not on the catalog's routes.
    let (status, _, own) = app
        .upload(
            &a.url(&format!("/plugins/{CATALOG_PLUGIN}/versions")),
            &a.admin,
            guest("probe"),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{own}");
    let a_list = app.read(&a.url("/plugins"), &a.admin).await;
    let owners: Vec<(&str, &str)> = a_list["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|p| {
            (
                p["name"].as_str().unwrap_or(""),
                p["owner"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(
        owners,
        vec![(a_plugin, "tenant"), (CATALOG_PLUGIN, "tenant")]
    );
    let catalog = app
        .read(&format!("/api/v1/plugins/{CATALOG_PLUGIN}"), &a.admin)
        .await;
    assert_eq!(catalog["owner"], json!("platform"));
    world.finish().await;
}

/// A hotline pins a version it can see and nothing else; rollback is re-pinning the older one.
async fn pins_are_checked_and_rolled_back(backend: hotline_core::Backend) {
    let world = World::new(backend).await;
    let app = &world.app;
    let a = &world.a;
    let plugin = a.ids.plugin.as_str();
    let (status, _, v2) = app
        .upload(
            &a.url(&format!("/plugins/{plugin}/versions?notes=v2")),
            &a.admin,
            guest("probe"),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{v2}");
    let (status, _, script) = app
        .upload(
            &a.url("/plugins/retail-script/versions"),
            &a.admin,
            guest("script"),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{script}");
    let hotline = a.url(&format!("/hotlines/{}", a.ids.hotline));
    let etag = |h: &axum::http::HeaderMap| {
        h.get(header::ETAG)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string()
    };

    let (status, headers, pinned) = app
        .patch(
            &hotline,
            Some(&a.admin),
            "\"1\"",
            json!({ "ivr_plugin": { "plugin": plugin, "version": 2 } }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{pinned}");
    let mut version = etag(&headers);
    for (pin, says) in [
        (json!({ "plugin": plugin, "version": 3 }), "no plugin"),
        (
            json!({ "plugin": "retail-script", "version": 1 }),
            "agent script",
        ),
        (
            json!({ "plugin": "never-uploaded", "version": 1 }),
            "no plugin",
        ),
    ] {
        let problem = refused!(
            app,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation",
            app.patch(
                &hotline,
                Some(&a.admin),
                &version,
                json!({ "ivr_plugin": pin })
            )
        );
        assert_eq!(error_fields(&problem), vec!["ivr_plugin".to_string()]);
        assert!(
            problem["detail"].as_str().is_some_and(|d| d.contains(says)),
            "{problem}"
        );
    }
    // A version 0 is the store's to refuse, with its own words.
    let problem = refused!(
        app,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation",
        app.patch(
            &hotline,
            Some(&a.admin),
            &version,
            json!({ "ivr_plugin": { "plugin": plugin, "version": 0 } })
        )
    );
    assert_eq!(
        error_fields(&problem),
        vec!["ivr_plugin.version".to_string()]
    );
    // Rollback: pin version 1 again. Other changes leave the pin alone.
    let (status, headers, rolled) = app
        .patch(
            &hotline,
            Some(&a.admin),
            &version,
            json!({ "ivr_plugin": { "plugin": plugin, "version": 1 } }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{rolled}");
    version = etag(&headers);
    let (status, _, renamed) = app
        .patch(
            &hotline,
            Some(&a.admin),
            &version,
            json!({ "name": "main line" }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{renamed}");
    let now = app.read(&hotline, &a.admin).await;
    assert_eq!(now["ivr_plugin"], json!({ "plugin": plugin, "version": 1 }));
    assert_eq!(now["name"], json!("main line"));
    // And on create.
    let made = app
        .create(
            &a.url("/hotlines"),
            &a.admin,
            json!({ "name": "second", "ivr_plugin": { "plugin": plugin, "version": 2 } }),
        )
        .await;
    assert_eq!(made["ivr_plugin"]["version"], json!(2));
    refused!(
        app,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation",
        app.post(
            &a.url("/hotlines"),
            Some(&a.admin),
            json!({ "name": "third", "ivr_plugin": { "plugin": plugin, "version": 9 } })
        )
    );
    world.finish().await;
}

/// A run of A's plugin that traps: the host stores why in A's log, where A's admin reads it by
/// call and plugin; B's log never shows it.
async fn the_plugin_log_shows_why_a_run_failed(backend: hotline_core::Backend) {
    let world = World::new(backend).await;
    let app = &world.app;
    let (a, b) = (&world.a, &world.b);
    let plugin = app
        .plugins
        .registry()
        .load(&scope(a), &a.ids.plugin, 1)
        .await
        .expect("A's plugin");
    let call_id = CallId::new();
    let scene = hotline_plugins::simulate::ScenarioFile::parse(
        "vars = { probe = \"trap\" }\n[[case]]\nname = \"trap\"\n",
    )
    .expect("a scenario")
    .scenes()
    .expect("scenes")
    .remove(0);
    let transcript = hotline_plugins::transcript::Transcript::new(scene.start);
    let report = run_ivr(
        app.plugins.registry().host(),
        &plugin,
        IvrCall {
            info: hotline_plugins::bindings::ivr::hotline::plugin::types::CallInfo {
                call_id: call_id.to_string(),
                hotline_id: a.ids.hotline.clone(),
                hotline_name: "main".into(),
                caller: "+421900123456".into(),
                dialed: a.e164.clone(),
                language: "en".into(),
                arrived_at: hotline_plugins::local_time(scene.start, scene.zone),
                branch:
                    hotline_plugins::bindings::ivr::hotline::plugin::types::ScheduleBranch::Open,
                vars: vec![
                    hotline_plugins::bindings::ivr::hotline::plugin::types::Var {
                        name: "probe".into(),
                        value: "trap".into(),
                    },
                ],
            },
            zone: scene.zone,
            limits: SandboxLimits::for_tenant(50),
            control: Box::new(hotline_plugins::simulate::sim_call::SimCall::new(
                scene.clone(),
                transcript.clone(),
            )),
            services: app.plugins.services(&scope(a)).await.expect("services"),
            call_id: Some(call_id),
            transcript: None,
            log: Some(app.plugins.log_sink(&scope(a))),
        },
    )
    .await;
    assert!(report.fallback.is_some());

    let url = a.url(&format!("/plugins/log?call_id={call_id}"));
    let page = app.read(&url, &a.admin).await;
    let messages: Vec<&str> = page["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|l| l["message"].as_str())
        .collect();
    assert!(
        messages.iter().any(|m| m.contains("trap")
            && m.contains("the probe was told to trap")
            && m.contains("fallback")),
        "{page}"
    );
    let line = &page["items"][0];
    assert_eq!(
        (
            line["plugin"].clone(),
            line["version"].clone(),
            line["source"].clone(),
            line["level"].clone(),
            line["call_id"].clone()
        ),
        (
            json!(a.ids.plugin),
            json!(1),
            json!("host"),
            json!("error"),
            json!(call_id.to_string())
        )
    );
    // The supervisor and the plugin author read it too; by plugin; paged.
    for role in [
        hotline_tenants::rbac::Role::Supervisor,
        hotline_tenants::rbac::Role::PluginAuthor,
    ] {
        app.read(&url, world.token(role)).await;
    }
    let all = app
        .read(
            &a.url(&format!("/plugins/log?plugin={}", a.ids.plugin)),
            &a.admin,
        )
        .await;
    let total = all["items"].as_array().map(Vec::len).unwrap_or_default();
    assert!(total >= 2, "the fixture's line and the run's: {all}");
    let first = app.read(&a.url("/plugins/log?limit=1"), &a.admin).await;
    let cursor = first["next_cursor"]
        .as_str()
        .expect("more lines")
        .to_string();
    let second = app
        .read(
            &a.url(&format!("/plugins/log?limit=1&cursor={cursor}")),
            &a.admin,
        )
        .await;
    assert_ne!(first["items"][0]["id"], second["items"][0]["id"]);
    let none = app
        .read(&a.url("/plugins/log?plugin=nothing-like-it"), &a.admin)
        .await;
    assert_eq!(none["items"], json!([]));
    // Not in B's log, whatever B asks.
    let b_page = app
        .read(&b.url(&format!("/plugins/log?call_id={call_id}")), &b.admin)
        .await;
    assert_eq!(b_page["items"], json!([]));
    let b_all = app
        .read(&b.url("/plugins/log?limit=500"), &b.admin)
        .await
        .to_string();
    assert!(
        !b_all.contains(&a.ids.plugin) && !b_all.contains(&call_id.to_string()),
        "{b_all}"
    );
    for bad in [
        "call_id=nope",
        "plugin=Bad_Name",
        "cursor=garbage",
        "limit=0",
        "limit=501",
        "since=yesterday",
    ] {
        assert_problem(
            &app.get(&a.url(&format!("/plugins/log?{bad}")), Some(&a.admin))
                .await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation",
        );
    }
    world.finish().await;
}

/// The allowlist: defaults at version 0, If-Match required, every bad entry named, stale
/// changes refused, the stored list what the next run's HTTP is checked against.
async fn the_http_allowlist_round_trips(backend: hotline_core::Backend) {
    let world = World::new(backend).await;
    let app = &world.app;
    let (a, b) = (&world.a, &world.b);
    let url = a.url("/plugins/settings");
    let (status, headers, fresh) = app.get(&url, Some(&a.admin)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        headers.get(header::ETAG).and_then(|v| v.to_str().ok()),
        Some("\"0\"")
    );
    assert_eq!(
        (fresh["http_allowlist"].clone(), fresh["version"].clone()),
        (json!([]), json!(0))
    );

    let good = json!({ "http_allowlist": ["crm.a.example", "*.tickets.a.example:8443"] });
    refused!(
        app,
        StatusCode::PRECONDITION_REQUIRED,
        "precondition-required",
        app.put(&url, Some(&a.admin), good.clone())
    );
    let put = |if_match: &'static str, body: Value| {
        let url = url.clone();
        async move {
            app.request(
                Method::PUT,
                &url,
                Some(&a.admin),
                Some(body),
                &[("if-match", if_match)],
            )
            .await
        }
    };
    let problem = refused!(
        app,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation",
        put(
            "\"0\"",
            json!({ "http_allowlist": ["crm.a.example", "localhost", "*", "10.0.0.1"] })
        )
    );
    assert_eq!(
        error_fields(&problem),
        vec![
            "http_allowlist[1]",
            "http_allowlist[2]",
            "http_allowlist[3]"
        ]
    );
    refused!(
        app,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation",
        put(
            "\"0\"",
            json!({ "http_allowlist": ["a.example"], "extra": 1 })
        )
    );
    refused!(
        app,
        StatusCode::BAD_REQUEST,
        "malformed-json",
        app.request_raw(
            Method::PUT,
            &url,
            Some(&a.admin),
            b"{".to_vec(),
            &[("if-match", "\"0\""), ("content-type", "application/json")]
        )
    );
    // Plugin authors read it, only admins change it.
    let author = world.token(hotline_tenants::rbac::Role::PluginAuthor);
    app.read(&url, author).await;
    refused!(
        app,
        StatusCode::FORBIDDEN,
        "forbidden",
        app.request(
            Method::PUT,
            &url,
            Some(author),
            Some(good.clone()),
            &[("if-match", "\"0\"")]
        )
    );

    let (status, headers, saved) = put("\"0\"", good.clone()).await;
    assert_eq!(status, StatusCode::OK, "{saved}");
    assert_eq!(
        headers.get(header::ETAG).and_then(|v| v.to_str().ok()),
        Some("\"1\"")
    );
    assert_eq!(saved["http_allowlist"], good["http_allowlist"]);
    assert_eq!(saved["updated_by"], json!(a.admin_email));
    assert_eq!(app.read(&url, &a.admin).await, saved);
    refused!(
        app,
        StatusCode::PRECONDITION_FAILED,
        "precondition-failed",
        put("\"0\"", json!({ "http_allowlist": [] }))
    );

    // The next run of A's plugin is checked against it; B's is not.
    let services = app.plugins.services(&scope(a)).await.expect("services");
    assert!(services.allow.allows("crm.a.example", None));
    assert!(services.allow.allows("eu.tickets.a.example", Some(8443)));
    assert!(!services.allow.allows("crm.b.example", None));
    let b_services = app.plugins.services(&scope(b)).await.expect("services");
    assert!(b_services.allow.entries().is_empty());
    assert_eq!(
        app.read(&b.url("/plugins/settings"), &b.admin).await["version"],
        json!(0)
    );

    let (status, headers, cleared) = put("\"1\"", json!({ "http_allowlist": [] })).await;
    assert_eq!(
        (status, cleared["version"].clone()),
        (StatusCode::OK, json!(2)),
        "{cleared}"
    );
    assert_eq!(
        headers.get(header::ETAG).and_then(|v| v.to_str().ok()),
        Some("\"2\"")
    );
    world.finish().await;
}

hotline_core::both_backends!(
    uploads_are_validated_with_a_problem_per_fault,
    private_plugins_stay_private,
    pins_are_checked_and_rolled_back,
    the_plugin_log_shows_why_a_run_failed,
    the_http_allowlist_round_trips,
);
