//! What the admin-ui integration suites share: the whole HTTP service over a throw-away database
//! of either backend, driven in-process with `tower::ServiceExt::oneshot` (no sockets), a
//! request helper answering `(status, headers, json)`, problem+json assertions, a fingerprint of
//! everything stored (to prove a refused request wrote nothing), and a fixture with two tenants.
//!
//! The fixture ([`World`]): tenants A and B with an admin each; in A a user of every tenant role
//! and one resource of every kind (number, hotline, queue, prompt with its audio uploaded, own
//! agent, user, API key, a queue membership, and a finished call with its recording); in B one
//! of each kind too, so that B's lists are never trivially empty. Files (prompt audio,
//! recordings) live in a throw-away directory, and the fingerprint counts them too.
//! Each tenant is billed too ([`BILLING_NOW`] is billing's clock): its own tariff, an account and
//! a contract from December 2025, and a call in each of January, February and March, closed so
//! that December and January are finalized, February waits out its grace period and March is
//! open. Each tenant has a private IVR plugin (`menu-<slug>`, version 1, the probe guest) and a
//! line in its plugin log; the platform catalog holds [`CATALOG_PLUGIN`].
//!
//! [`API_ROUTES`] is the list of every `/api/v1` route; `openapi.rs` checks it against the
//! router's OpenAPI document both ways, and `cross_tenant.rs` and `rbac.rs` check that their
//! tables cover every route in it. A new endpoint therefore fails the suite until it has its
//! line in each table.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Body;
use axum::http::{header, HeaderMap, Method, Request, StatusCode};
use axum::Router;
use chrono::{DateTime, Utc};
use hotline_admin_ui::api::billing_context::{BillingContext, Seller};
use hotline_admin_ui::{router, AppState};
use hotline_billing::gateway::PaymentGateway;
use hotline_billing::Billing;
use hotline_core::blob::{BlobKey, BlobStore, DirStore};
use hotline_core::testing::TestDb;
use hotline_core::Backend;
use hotline_tenants::auth::TokenService;
use hotline_tenants::rbac::Role;
use hotline_tenants::{Store, StoreConfig};
use http_body_util::BodyExt;
use serde_json::{json, Value};
use sqlx::Row;
use tower::ServiceExt;

/// The HS256 key the service under test signs with (tests forge tokens with it, too).
pub const SECRET: &[u8] = b"hotline admin-ui test secret, 32+ bytes long";
/// Every user of the fixture has this password (argon2id hashing dominates fixture time).
pub const PASSWORD: &str = "correct horse battery staple";
pub const OPERATOR_EMAIL: &str = "operator@firm.example";

/// The answer to a request: status, headers, and the body as JSON (`Null` when empty, a JSON
/// string when the body is not JSON, e.g. `/metrics`).
pub type Reply = (StatusCode, HeaderMap, Value);

/// Every route of the `/api/v1` API, as the OpenAPI document names it.
pub const API_ROUTES: &[(&str, &str)] = &[
    ("POST", "/api/v1/auth/login"),
    ("POST", "/api/v1/auth/refresh"),
    ("POST", "/api/v1/auth/logout"),
    ("GET", "/api/v1/me"),
    ("GET", "/api/v1/tenants"),
    ("POST", "/api/v1/tenants"),
    ("GET", "/api/v1/tenants/{tenant_id}"),
    ("PATCH", "/api/v1/tenants/{tenant_id}"),
    ("GET", "/api/v1/tenants/{tenant_id}/numbers"),
    ("POST", "/api/v1/tenants/{tenant_id}/numbers"),
    ("GET", "/api/v1/tenants/{tenant_id}/numbers/{id}"),
    ("PATCH", "/api/v1/tenants/{tenant_id}/numbers/{id}"),
    ("DELETE", "/api/v1/tenants/{tenant_id}/numbers/{id}"),
    ("GET", "/api/v1/tenants/{tenant_id}/hotlines"),
    ("POST", "/api/v1/tenants/{tenant_id}/hotlines"),
    ("GET", "/api/v1/tenants/{tenant_id}/hotlines/{id}"),
    ("PATCH", "/api/v1/tenants/{tenant_id}/hotlines/{id}"),
    ("DELETE", "/api/v1/tenants/{tenant_id}/hotlines/{id}"),
    ("GET", "/api/v1/tenants/{tenant_id}/queues"),
    ("POST", "/api/v1/tenants/{tenant_id}/queues"),
    ("GET", "/api/v1/tenants/{tenant_id}/queues/{id}"),
    ("PATCH", "/api/v1/tenants/{tenant_id}/queues/{id}"),
    ("DELETE", "/api/v1/tenants/{tenant_id}/queues/{id}"),
    (
        "GET",
        "/api/v1/tenants/{tenant_id}/queues/{queue_id}/members",
    ),
    (
        "PUT",
        "/api/v1/tenants/{tenant_id}/queues/{queue_id}/members/{agent_id}",
    ),
    (
        "DELETE",
        "/api/v1/tenants/{tenant_id}/queues/{queue_id}/members/{agent_id}",
    ),
    ("GET", "/api/v1/tenants/{tenant_id}/prompts"),
    ("POST", "/api/v1/tenants/{tenant_id}/prompts"),
    ("GET", "/api/v1/tenants/{tenant_id}/prompts/{id}"),
    ("PATCH", "/api/v1/tenants/{tenant_id}/prompts/{id}"),
    ("DELETE", "/api/v1/tenants/{tenant_id}/prompts/{id}"),
    ("PUT", "/api/v1/tenants/{tenant_id}/prompts/{id}/audio"),
    ("GET", "/api/v1/tenants/{tenant_id}/prompts/{id}/audio"),
    ("HEAD", "/api/v1/tenants/{tenant_id}/prompts/{id}/audio"),
    ("DELETE", "/api/v1/tenants/{tenant_id}/prompts/{id}/audio"),
    ("GET", "/api/v1/tenants/{tenant_id}/agents"),
    ("POST", "/api/v1/tenants/{tenant_id}/agents"),
    ("GET", "/api/v1/tenants/{tenant_id}/agents/{id}"),
    ("PATCH", "/api/v1/tenants/{tenant_id}/agents/{id}"),
    ("DELETE", "/api/v1/tenants/{tenant_id}/agents/{id}"),
    (
        "GET",
        "/api/v1/tenants/{tenant_id}/agents/{id}/registrations",
    ),
    ("GET", "/api/v1/tenants/{tenant_id}/registrations"),
    ("GET", "/api/v1/tenants/{tenant_id}/users"),
    ("POST", "/api/v1/tenants/{tenant_id}/users"),
    ("GET", "/api/v1/tenants/{tenant_id}/users/{id}"),
    ("PATCH", "/api/v1/tenants/{tenant_id}/users/{id}"),
    ("DELETE", "/api/v1/tenants/{tenant_id}/users/{id}"),
    ("GET", "/api/v1/tenants/{tenant_id}/api-keys"),
    ("POST", "/api/v1/tenants/{tenant_id}/api-keys"),
    ("DELETE", "/api/v1/tenants/{tenant_id}/api-keys/{id}"),
    ("GET", "/api/v1/tenants/{tenant_id}/audit"),
    ("GET", "/api/v1/tenants/{tenant_id}/calls"),
    ("GET", "/api/v1/tenants/{tenant_id}/calls/{id}"),
    ("GET", "/api/v1/tenants/{tenant_id}/calls/{id}/recording"),
    ("HEAD", "/api/v1/tenants/{tenant_id}/calls/{id}/recording"),
    ("GET", "/api/v1/tenants/{tenant_id}/billing/account"),
    ("PUT", "/api/v1/tenants/{tenant_id}/billing/account"),
    ("GET", "/api/v1/tenants/{tenant_id}/billing/contract"),
    ("PUT", "/api/v1/tenants/{tenant_id}/billing/contract"),
    ("GET", "/api/v1/tenants/{tenant_id}/billing/usage"),
    ("POST", "/api/v1/tenants/{tenant_id}/billing/close-period"),
    ("GET", "/api/v1/tenants/{tenant_id}/invoices"),
    ("GET", "/api/v1/tenants/{tenant_id}/invoices/{id}"),
    ("GET", "/api/v1/tenants/{tenant_id}/invoices/{id}/lines"),
    ("GET", "/api/v1/tenants/{tenant_id}/invoices/{id}/usage.csv"),
    ("GET", "/api/v1/tenants/{tenant_id}/invoices/{id}/print"),
    ("POST", "/api/v1/tenants/{tenant_id}/invoices/{id}/finalize"),
    ("POST", "/api/v1/tenants/{tenant_id}/invoices/{id}/void"),
    (
        "GET",
        "/api/v1/tenants/{tenant_id}/invoices/{id}/credit-notes",
    ),
    (
        "POST",
        "/api/v1/tenants/{tenant_id}/invoices/{id}/credit-notes",
    ),
    ("GET", "/api/v1/agents"),
    ("POST", "/api/v1/agents"),
    ("PATCH", "/api/v1/agents/{id}"),
    ("DELETE", "/api/v1/agents/{id}"),
    ("GET", "/api/v1/agents/{id}/registrations"),
    ("GET", "/api/v1/agents/{id}/tenants"),
    ("PUT", "/api/v1/agents/{id}/tenants/{tenant_id}"),
    ("DELETE", "/api/v1/agents/{id}/tenants/{tenant_id}"),
    ("GET", "/api/v1/users"),
    ("POST", "/api/v1/users"),
    ("PATCH", "/api/v1/users/{id}"),
    ("GET", "/api/v1/audit"),
    ("GET", "/api/v1/trunks"),
    ("POST", "/api/v1/trunks"),
    ("GET", "/api/v1/trunks/{id}"),
    ("PATCH", "/api/v1/trunks/{id}"),
    ("DELETE", "/api/v1/trunks/{id}"),
    ("GET", "/api/v1/tariffs"),
    ("POST", "/api/v1/tariffs"),
    ("GET", "/api/v1/tariffs/{id}"),
    ("POST", "/api/v1/tariffs/{id}/versions"),
    ("PUT", "/api/v1/tariffs/{id}/versions/{version}"),
    ("GET", "/api/v1/billing/revenue"),
    ("POST", "/api/v1/billing/stripe/webhook"),
    ("GET", "/api/v1/tenants/{tenant_id}/plugins"),
    ("GET", "/api/v1/tenants/{tenant_id}/plugins/log"),
    ("GET", "/api/v1/tenants/{tenant_id}/plugins/settings"),
    ("PUT", "/api/v1/tenants/{tenant_id}/plugins/settings"),
    ("GET", "/api/v1/tenants/{tenant_id}/plugins/{name}"),
    ("GET", "/api/v1/tenants/{tenant_id}/plugins/{name}/versions"),
    (
        "POST",
        "/api/v1/tenants/{tenant_id}/plugins/{name}/versions",
    ),
    (
        "GET",
        "/api/v1/tenants/{tenant_id}/plugins/{name}/versions/{version}",
    ),
    ("GET", "/api/v1/plugins"),
    ("GET", "/api/v1/plugins/{name}"),
    ("GET", "/api/v1/plugins/{name}/versions"),
    ("POST", "/api/v1/plugins/{name}/versions"),
    ("GET", "/api/v1/plugins/{name}/versions/{version}"),
];

/// The largest component the service under test accepts (the probe guest is ~80 KiB).
pub const UPLOAD_LIMIT: usize = 1 << 20;

/// The platform catalog's plugin in the [`World`] fixture.
pub const CATALOG_PLUGIN: &str = "catalog-menu";

/// A test guest's component (built by plugins/tests/guests/build.sh, which the test command
/// runs first). A missing guest fails loudly: these tests are never skipped.
pub fn guest(name: &str) -> Vec<u8> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../plugins/tests/guests/out")
        .join(format!("{name}.wasm"));
    std::fs::read(&path).unwrap_or_else(|e| {
        panic!(
            "test guest {} is missing ({e}): run plugins/tests/guests/build.sh (scripts/test.sh does)",
            path.display()
        )
    })
}

/// One plugin engine for the whole test binary (on-demand allocation; it only validates and
/// compiles uploads, and runs the odd plugin).
pub fn plugin_host() -> Arc<hotline_plugins::PluginHost> {
    static HOST: std::sync::OnceLock<Arc<hotline_plugins::PluginHost>> = std::sync::OnceLock::new();
    HOST.get_or_init(|| {
        Arc::new(
            hotline_plugins::PluginHost::new(hotline_plugins::HostConfig {
                pooling: false,
                ..hotline_plugins::HostConfig::default()
            })
            .expect("a plugin engine"),
        )
    })
    .clone()
}

/// Routes called without credentials (verified otherwise), outside the RBAC table.
pub const UNAUTHENTICATED_ROUTES: &[(&str, &str)] = &[
    ("POST", "/api/v1/auth/login"),
    ("POST", "/api/v1/auth/refresh"),
    ("POST", "/api/v1/auth/logout"),
    ("POST", "/api/v1/billing/stripe/webhook"),
];

/// The version of the fixture's prompts: created, then their audio uploaded.
pub const PROMPT_VERSION: i64 = 2;

/// Billing's clock in every suite: mid-March 2026, UTC.
pub const BILLING_NOW: &str = "2026-03-15T12:00:00Z";

/// A clock tests set and move.
#[derive(Clone)]
pub struct TestClock(Arc<Mutex<DateTime<Utc>>>);

impl TestClock {
    pub fn at(text: &str) -> Self {
        let at = DateTime::parse_from_rfc3339(text)
            .expect("an RFC 3339 time")
            .with_timezone(&Utc);
        Self(Arc::new(Mutex::new(at)))
    }

    pub fn now(&self) -> DateTime<Utc> {
        *self.0.lock().expect("clock")
    }

    pub fn set(&self, text: &str) {
        *self.0.lock().expect("clock") = DateTime::parse_from_rfc3339(text)
            .expect("an RFC 3339 time")
            .with_timezone(&Utc);
    }
}

/// The tenant-scoped routes: those under `/api/v1/tenants/{tenant_id}`.
pub fn tenant_routes() -> Vec<(&'static str, &'static str)> {
    API_ROUTES
        .iter()
        .copied()
        .filter(|(_, path)| path.starts_with("/api/v1/tenants/{tenant_id}"))
        .collect()
}

/// The service under test over a fresh database, with its first platform admin logged in.
pub struct App {
    pub backend: Backend,
    pub test_db: TestDb,
    pub store: Store,
    pub tokens: TokenService,
    pub router: Router,
    /// The platform admin's access token.
    pub operator: String,
    /// Billing as the service uses it, on [`App::clock`].
    pub billing: Billing,
    pub clock: TestClock,
    /// The plugin side as the service uses it (no HTTP leaves: the transport is simulated).
    pub plugins: hotline_plugins::Plugins,
    /// The tenants' files as the service stores them (in a throw-away directory).
    pub files: Arc<DirStore>,
    _files_dir: tempfile::TempDir,
}

impl App {
    pub async fn new(backend: Backend) -> Self {
        Self::with_gateway(backend, None).await
    }

    /// The service with billing sending to `gateway`.
    pub async fn with_gateway(backend: Backend, gateway: Option<Arc<dyn PaymentGateway>>) -> Self {
        let test_db = TestDb::new(backend).await;
        let store = Store::new(test_db.db.clone(), StoreConfig::default());
        store
            .bootstrap_platform_admin(OPERATOR_EMAIL, PASSWORD)
            .await
            .expect("bootstrap the platform admin");
        let tokens = TokenService::new(
            SECRET.to_vec(),
            Duration::from_secs(900),
            Duration::from_secs(86_400),
        );
        let clock = TestClock::at(BILLING_NOW);
        let clock_handle = clock.clone();
        let billing = Billing::new(test_db.db.clone(), gateway)
            .with_clock(Arc::new(move || clock_handle.now()));
        let context = BillingContext {
            billing: billing.clone(),
            seller: Seller {
                name: "Callfirm Outsourcing a.s.".into(),
                address_lines: vec!["Main Street 1".into(), "VAT SK2020123456".into()],
            },
            default_grace: Duration::from_secs(24 * 3600),
        };
        let registry = hotline_plugins::registry::Registry::new(
            plugin_host(),
            test_db.db.clone(),
            None,
            64 << 20,
        )
        .with_max_component_bytes(UPLOAD_LIMIT);
        let plugins = hotline_plugins::Plugins::new(
            registry,
            test_db.db.clone(),
            Arc::new(hotline_plugins::simulate::sim_http::SimHttpFetch { entries: vec![] }),
        );
        let files_dir = tempfile::tempdir().expect("a directory for files");
        let files = Arc::new(DirStore::new(files_dir.path()));
        let router = router(
            AppState::new(store.clone(), tokens.clone(), files.clone())
                .with_billing(context)
                .with_plugins(plugins.clone())
                .with_prompt_limits(PROMPT_LIMITS),
        );
        let mut app = Self {
            backend,
            test_db,
            store,
            tokens,
            router,
            operator: String::new(),
            billing,
            clock,
            plugins,
            files,
            _files_dir: files_dir,
        };
        app.operator = app.login(OPERATOR_EMAIL, PASSWORD).await;
        app
    }

    /// Close the pool and drop the database.
    pub async fn finish(self) {
        self.test_db.finish().await;
    }

    /// `POST /auth/login`; the whole token pair.
    pub async fn login_pair(&self, email: &str, password: &str) -> Value {
        let (status, _, body) = self
            .post(
                "/api/v1/auth/login",
                None,
                json!({ "email": email, "password": password }),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "login {email}: {body}");
        body
    }

    /// Log in and return the access token.
    pub async fn login(&self, email: &str, password: &str) -> String {
        str_of(&self.login_pair(email, password).await, "access_token")
    }

    /// Send one request. A `body` is sent as `application/json` unless `headers` name another
    /// Content-Type.
    pub async fn request(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
        headers: &[(&str, &str)],
    ) -> Reply {
        let has_type = headers
            .iter()
            .any(|(name, _)| name.eq_ignore_ascii_case("content-type"));
        let mut all: Vec<(&str, &str)> = headers.to_vec();
        if body.is_some() && !has_type {
            all.push(("content-type", "application/json"));
        }
        let bytes = body.map(|b| b.to_string().into_bytes()).unwrap_or_default();
        self.request_raw(method, path, token, bytes, &all).await
    }

    /// Send one request with exactly these body bytes and headers.
    pub async fn request_raw(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Vec<u8>,
        headers: &[(&str, &str)],
    ) -> Reply {
        send(
            self.router.clone(),
            build_request(method, path, token, body, headers),
        )
        .await
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> Reply {
        self.request(Method::GET, path, token, None, &[]).await
    }

    pub async fn post(&self, path: &str, token: Option<&str>, body: Value) -> Reply {
        self.request(Method::POST, path, token, Some(body), &[])
            .await
    }

    pub async fn put(&self, path: &str, token: Option<&str>, body: Value) -> Reply {
        self.request(Method::PUT, path, token, Some(body), &[])
            .await
    }

    pub async fn patch(
        &self,
        path: &str,
        token: Option<&str>,
        if_match: &str,
        body: Value,
    ) -> Reply {
        self.request(
            Method::PATCH,
            path,
            token,
            Some(body),
            &[
                ("if-match", if_match),
                ("content-type", "application/merge-patch+json"),
            ],
        )
        .await
    }

    /// `POST` a component's bytes as `application/wasm`.
    pub async fn upload(&self, path: &str, token: &str, component: Vec<u8>) -> Reply {
        self.request_raw(
            Method::POST,
            path,
            Some(token),
            component,
            &[("content-type", "application/wasm")],
        )
        .await
    }

    /// `PUT` an audio upload with this content type.
    pub async fn put_audio(
        &self,
        path: &str,
        token: &str,
        bytes: Vec<u8>,
        content_type: &str,
    ) -> Reply {
        self.request_raw(
            Method::PUT,
            path,
            Some(token),
            bytes,
            &[("content-type", content_type)],
        )
        .await
    }

    /// A request for a file with these headers; the status, headers and body bytes.
    pub async fn download(
        &self,
        method: Method,
        path: &str,
        token: &str,
        headers: &[(&str, &str)],
    ) -> (StatusCode, HeaderMap, Vec<u8>) {
        let request = build_request(method, path, Some(token), Vec::new(), headers);
        send_for_bytes(self.router.clone(), request).await
    }

    pub async fn delete(&self, path: &str, token: Option<&str>, if_match: Option<&str>) -> Reply {
        let headers: Vec<(&str, &str)> = if_match.map(|m| ("if-match", m)).into_iter().collect();
        self.request(Method::DELETE, path, token, None, &headers)
            .await
    }

    /// `POST` that must answer 201; the created representation.
    pub async fn create(&self, path: &str, token: &str, body: Value) -> Value {
        let (status, _, json) = self.post(path, Some(token), body.clone()).await;
        assert_eq!(status, StatusCode::CREATED, "POST {path} {body}: {json}");
        json
    }

    /// `GET` that must answer 200.
    pub async fn read(&self, path: &str, token: &str) -> Value {
        let (status, _, json) = self.get(path, Some(token)).await;
        assert_eq!(status, StatusCode::OK, "GET {path}: {json}");
        json
    }

    /// Every id of a (cursor-paginated) list, following `next_cursor` to the end.
    pub async fn list_ids(&self, path: &str, token: &str) -> Vec<String> {
        let mut ids = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let url = match &cursor {
                Some(c) => format!("{path}?limit=500&cursor={c}"),
                None => format!("{path}?limit=500"),
            };
            let page = self.read(&url, token).await;
            for item in page["items"].as_array().expect("a list has items") {
                ids.push(str_of(item, "id"));
            }
            match page.get("next_cursor").and_then(Value::as_str) {
                Some(next) => cursor = Some(next.to_string()),
                None => return ids,
            }
        }
    }

    /// What is stored, in numbers: rows of every table, the sum of every versioned table's
    /// versions (catches updates), revocations and used refresh tokens. Equal fingerprints
    /// before and after a refused request prove it wrote nothing.
    pub async fn fingerprint(&self) -> BTreeMap<String, i64> {
        let mut queries: Vec<(String, String)> = Vec::new();
        for table in self.test_db.tables().await {
            queries.push((
                format!("{table} rows"),
                format!("SELECT COUNT(*) AS n FROM {table}"),
            ));
        }
        for table in [
            "tenants",
            "prompts",
            "queues",
            "hotlines",
            "numbers",
            "agents",
            "users",
            "trunks",
            "plugin_settings",
        ] {
            queries.push((
                format!("{table} versions"),
                format!("SELECT CAST(COALESCE(SUM(version), 0) AS BIGINT) AS n FROM {table}"),
            ));
        }
        for (name, sql) in [
            (
                "revoked api keys",
                "SELECT COUNT(*) AS n FROM api_keys WHERE revoked_at IS NOT NULL",
            ),
            (
                "revoked refresh tokens",
                "SELECT COUNT(*) AS n FROM refresh_tokens WHERE revoked_at IS NOT NULL",
            ),
            (
                "used refresh tokens",
                "SELECT COUNT(*) AS n FROM refresh_tokens WHERE used_at IS NOT NULL",
            ),
            (
                "penalties",
                "SELECT CAST(COALESCE(SUM(penalty), 0) AS BIGINT) AS n FROM queue_members",
            ),
            (
                "plugin versions",
                "SELECT CAST(COALESCE(SUM(latest_version), 0) AS BIGINT) AS n FROM plugins",
            ),
        ] {
            queries.push((name.to_string(), sql.to_string()));
        }
        let mut out = BTreeMap::new();
        let (files, bytes) = files_under(self.files.root());
        out.insert("files".to_string(), files);
        out.insert("file bytes".to_string(), bytes);
        for (name, sql) in queries {
            let row = sqlx::query(&sql)
                .fetch_one(self.store.db().pool())
                .await
                .unwrap_or_else(|e| panic!("{sql}: {e}"));
            let n: i64 = row.try_get("n").expect("a count");
            out.insert(name, n);
        }
        out
    }

    /// Entries in the audit log (the platform admin's view).
    pub async fn audit_len(&self) -> usize {
        self.list_ids("/api/v1/audit", &self.operator).await.len()
    }
}

/// A request with exactly these body bytes and headers, and the token as `Bearer`.
pub fn build_request(
    method: Method,
    path: &str,
    token: Option<&str>,
    body: Vec<u8>,
    headers: &[(&str, &str)],
) -> Request<Body> {
    let mut request = Request::builder().method(method).uri(path);
    if let Some(token) = token {
        request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
    }
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request.body(Body::from(body)).expect("a valid request")
}

/// Files under `dir` (recursively) and their total size.
fn files_under(dir: &std::path::Path) -> (i64, i64) {
    let (mut files, mut bytes) = (0, 0);
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let meta = entry.metadata().expect("file metadata");
            if meta.is_dir() {
                pending.push(entry.path());
            } else {
                files += 1;
                bytes += meta.len() as i64;
            }
        }
    }
    (files, bytes)
}

/// What the service under test accepts as a prompt upload: small, so the suites can cross the
/// limits cheaply.
pub const PROMPT_LIMITS: hotline_media::prompt::PromptLimits =
    hotline_media::prompt::PromptLimits {
        max_bytes: 512 * 1024,
        max_duration: Duration::from_secs(20),
    };

/// A WAV file of a 440 Hz tone: `rate` Hz, `channels`, `bits` per sample (integer PCM),
/// `seconds` long.
pub fn tone_wav(rate: u32, channels: u16, bits: u16, seconds: f32) -> Vec<u8> {
    let spec = hound::WavSpec {
        channels,
        sample_rate: rate,
        bits_per_sample: bits,
        sample_format: hound::SampleFormat::Int,
    };
    let mut out = std::io::Cursor::new(Vec::new());
    let mut writer = hound::WavWriter::new(&mut out, spec).expect("wav writer");
    let amplitude = ((1i64 << (bits - 1)) - 1) as f32 * 0.5;
    let frames = (rate as f32 * seconds) as u32;
    for n in 0..frames {
        let value = (2.0 * std::f32::consts::PI * 440.0 * n as f32 / rate as f32).sin() * amplitude;
        for _ in 0..channels {
            writer.write_sample(value as i32).expect("sample");
        }
    }
    writer.finalize().expect("finish the wav");
    out.into_inner()
}

/// Run one request through (a clone of) the service; usable from a spawned task.
pub async fn send(router: Router, request: Request<Body>) -> Reply {
    let (status, headers, bytes) = send_for_bytes(router, request).await;
    let json = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()))
    };
    (status, headers, json)
}

/// The same, with the body as the bytes it is.
pub async fn send_for_bytes(
    router: Router,
    request: Request<Body>,
) -> (StatusCode, HeaderMap, Vec<u8>) {
    let response = router
        .oneshot(request)
        .await
        .expect("the router is infallible");
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response
        .into_body()
        .collect()
        .await
        .expect("read the response body")
        .to_bytes()
        .to_vec();
    (status, headers, bytes)
}

/// A string field of a JSON object, or a panic naming it.
pub fn str_of(value: &Value, field: &str) -> String {
    value
        .get(field)
        .and_then(Value::as_str)
        .unwrap_or_else(|| panic!("no string {field:?} in {value}"))
        .to_string()
}

/// Assert an RFC 9457 answer: the status, `application/problem+json`, and a body with `type`
/// (`urn:hotline:problem:<slug>`), `title`, `status` and `detail`. Returns the body.
#[track_caller]
pub fn assert_problem(reply: &Reply, status: StatusCode, slug: &str) -> Value {
    let (got, headers, body) = reply;
    assert_eq!(*got, status, "status; body: {body}");
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    assert_eq!(
        content_type, "application/problem+json",
        "content type of a {status} answer; body: {body}"
    );
    assert_eq!(
        body["status"],
        json!(status.as_u16()),
        "status field: {body}"
    );
    assert_eq!(
        body["type"],
        json!(format!("urn:hotline:problem:{slug}")),
        "type field: {body}"
    );
    for field in ["title", "detail"] {
        assert!(
            body[field].as_str().is_some_and(|s| !s.is_empty()),
            "{field} must be a non-empty string: {body}"
        );
    }
    body.clone()
}

/// [`assert_problem`] for a request made with `method`; an answer to `HEAD` has no body, so
/// only its status is checked.
#[track_caller]
pub fn assert_refused(method: &Method, reply: &Reply, status: StatusCode, slug: &str) -> Value {
    if *method == Method::HEAD {
        assert_eq!(reply.0, status, "status of a HEAD answer");
        assert_eq!(reply.2, Value::Null, "a HEAD answer has no body");
        return Value::Null;
    }
    assert_problem(reply, status, slug)
}

/// The fields named by a validation problem's `errors`.
pub fn error_fields(problem: &Value) -> Vec<String> {
    problem["errors"]
        .as_array()
        .map(|errors| {
            errors
                .iter()
                .map(|e| e["field"].as_str().unwrap_or_default().to_string())
                .collect()
        })
        .unwrap_or_default()
}

/// Send `request` and expect the problem `status`/`slug`, with nothing written (the store's
/// fingerprint is unchanged). Returns the problem body.
#[allow(unused_macros)]
macro_rules! refused {
    ($app:expr, $status:expr, $slug:expr, $request:expr) => {{
        let before = $app.fingerprint().await;
        let reply = $request.await;
        let problem = assert_problem(&reply, $status, $slug);
        assert_eq!(
            $app.fingerprint().await,
            before,
            "a refused request wrote something: {problem}"
        );
        problem
    }};
}
#[allow(unused_imports)]
pub(crate) use refused;

/// One tenant's resources, as ids.
#[derive(Clone, Debug, Default)]
pub struct Ids {
    pub number: String,
    pub hotline: String,
    pub queue: String,
    pub prompt: String,
    /// The tenant's own agent (a member of `queue`).
    pub agent: String,
    pub user: String,
    pub api_key: String,
    /// A carrier trunk (platform-level; filled for the operator's routes only).
    pub trunk: String,
    /// A finished call in the tenant's call history (written by the store, as the call engine does).
    pub call: String,
    /// The tenant's finalized January 2026 invoice.
    pub invoice: String,
    /// The tenant's February 2026 invoice, ended and waiting out its grace period.
    pub closing_invoice: String,
    /// The tenant's finalized December 2025 invoice, for what consumes one (voiding).
    pub spare_invoice: String,
    /// The tenant's tariff (or, on the operator's routes, a standing one).
    pub tariff: String,
    /// Its latest version, not yet in effect.
    pub tariff_version: String,
    /// The tenant's private IVR plugin (on the operator's routes: the catalog's), by name.
    pub plugin: String,
    /// A version of it.
    pub plugin_version: String,
}

impl Ids {
    /// The id a path segment `{id}` stands for, by the collection before it.
    pub fn for_collection(&self, collection: &str) -> &str {
        match collection {
            "numbers" => &self.number,
            "hotlines" => &self.hotline,
            "queues" => &self.queue,
            "prompts" => &self.prompt,
            "agents" => &self.agent,
            "users" => &self.user,
            "api-keys" => &self.api_key,
            "trunks" => &self.trunk,
            "calls" => &self.call,
            "invoices" => &self.invoice,
            "tariffs" => &self.tariff,
            "plugins" => &self.plugin,
            other => panic!("no fixture id for collection {other:?}"),
        }
    }

    pub fn all(&self) -> Vec<String> {
        vec![
            self.number.clone(),
            self.hotline.clone(),
            self.queue.clone(),
            self.prompt.clone(),
            self.agent.clone(),
            self.user.clone(),
            self.api_key.clone(),
            self.call.clone(),
            self.invoice.clone(),
            self.closing_invoice.clone(),
            self.spare_invoice.clone(),
            self.tariff.clone(),
            self.plugin.clone(),
        ]
    }
}

/// Fill an OpenAPI path template: `{tenant_id}` with `tenant`, `{queue_id}` and `{agent_id}`
/// with the queue and agent of `ids`, `{name}` with its plugin, `{version}` with its plugin's
/// or tariff's version, and `{id}` with the id of the collection before it.
pub fn fill(template: &str, tenant: &str, ids: &Ids) -> String {
    let segments: Vec<&str> = template.split('/').collect();
    let mut out: Vec<String> = Vec::new();
    for (i, segment) in segments.iter().enumerate() {
        let value = match *segment {
            "{tenant_id}" => tenant.to_string(),
            "{queue_id}" => ids.queue.clone(),
            "{agent_id}" => ids.agent.clone(),
            "{name}" => ids.plugin.clone(),
            "{version}" if i >= 3 && segments[i - 3] == "plugins" => ids.plugin_version.clone(),
            "{version}" => ids.tariff_version.clone(),
            "{id}" => ids.for_collection(segments[i - 1]).to_string(),
            literal => literal.to_string(),
        };
        out.push(value);
    }
    out.join("/")
}

/// One tenant of the fixture.
#[derive(Clone, Debug)]
pub struct TenantFx {
    pub id: String,
    pub slug: String,
    /// The tenant admin's access token.
    pub admin: String,
    pub admin_email: String,
    pub admin_id: String,
    pub ids: Ids,
    /// The secret of `ids.api_key` (role supervisor).
    pub api_key_secret: String,
    /// An E.164 number the tenant owns, as stored.
    pub e164: String,
}

impl TenantFx {
    /// `/api/v1/tenants/{id}` followed by `rest`.
    pub fn url(&self, rest: &str) -> String {
        format!("/api/v1/tenants/{}{rest}", self.id)
    }
}

/// Two tenants, A fully populated, and A's users of every tenant role.
pub struct World {
    pub app: App,
    pub a: TenantFx,
    pub b: TenantFx,
    /// Access tokens of A's users, one per tenant role (tenant-admin is `a.admin`).
    pub a_roles: Vec<(Role, String)>,
}

pub const TENANT_ROLES: [Role; 5] = [
    Role::TenantAdmin,
    Role::Supervisor,
    Role::Agent,
    Role::PluginAuthor,
    Role::BillingViewer,
];

impl World {
    pub async fn new(backend: Backend) -> Self {
        Self::with_gateway(backend, None).await
    }

    /// The fixture with billing sending to `gateway`.
    pub async fn with_gateway(backend: Backend, gateway: Option<Arc<dyn PaymentGateway>>) -> Self {
        let app = App::with_gateway(backend, gateway).await;
        let (status, _, catalog) = app
            .upload(
                &format!(
                    "/api/v1/plugins/{CATALOG_PLUGIN}/versions?notes=the%20catalog%27s%20menu"
                ),
                &app.operator,
                guest("probe"),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "catalog upload: {catalog}");
        let mut a = populate(&app, "tenant-a", "+421 2 1111 0001").await;
        let b = populate(&app, "tenant-b", "+421 2 2222 0001").await;
        let mut a_roles = vec![(Role::TenantAdmin, a.admin.clone())];
        for role in TENANT_ROLES.into_iter().skip(1) {
            let email = format!("{}@{}.example", role.as_str(), a.slug);
            let user = app
                .create(
                    &a.url("/users"),
                    &a.admin,
                    json!({
                        "email": email,
                        "display_name": format!("A {}", role.as_str()),
                        "role": role,
                        "password": PASSWORD,
                    }),
                )
                .await;
            if role == Role::BillingViewer {
                a.ids.user = str_of(&user, "id");
            }
            a_roles.push((role, app.login(&email, PASSWORD).await));
        }
        Self { app, a, b, a_roles }
    }

    pub fn token(&self, role: Role) -> &str {
        self.a_roles
            .iter()
            .find(|(r, _)| *r == role)
            .map(|(_, t)| t.as_str())
            .unwrap_or_else(|| panic!("no token for {role:?}"))
    }

    pub async fn finish(self) {
        self.app.finish().await;
    }
}

/// A finished call of the tenant, stored as the call engine stores it; its id.
async fn finished_call(app: &App, tenant_id: &str) -> String {
    use hotline_core::call::{
        CallEventKind, CallTimeline, Direction, EndCause, Party, ScheduleBranch,
    };
    let tenant_id: hotline_core::ids::TenantId = tenant_id.parse().expect("tenant id");
    let mut timeline = CallTimeline::new(hotline_core::ids::CallId::new());
    let at = hotline_core::time::now();
    let arrived = CallEventKind::Arrived {
        direction: Direction::Inbound,
        caller: "+421900555666".into(),
        dialed: "+421233000999".into(),
        trunk_id: None,
    };
    timeline.record(at, arrived).expect("arrived");
    let routed = CallEventKind::Routed {
        tenant_id,
        hotline_id: hotline_core::ids::HotlineId::new(),
        branch: ScheduleBranch::Open,
    };
    timeline.record(at, routed).expect("routed");
    // Recorded, as a call whose hotline records every call: one second of stereo audio.
    let scope = hotline_core::TenantScope::from_verified(tenant_id);
    let key = BlobKey::recording(&scope, timeline.call_id(), at);
    app.files
        .put(&key, tone_wav(8000, 2, 16, 1.0))
        .await
        .expect("store the recording");
    let started = CallEventKind::RecordingStarted {
        key: key.to_string(),
    };
    timeline.record(at, started).expect("recording");
    timeline.end(at, EndCause::Abandoned, Party::Caller);
    let record = timeline.to_record().expect("record");
    app.store
        .append_call_record(&hotline_core::PlatformScope::from_verified(), &record)
        .await
        .expect("store a call record");
    record.call_id.to_string()
}

/// A line in the tenant's plugin log, as the host writes one about a failed run.
async fn plugin_log_line(app: &App, tenant_id: &str, plugin: &str) {
    use hotline_plugins::plugin_log::{LogLevel, LogLine, LogSource};
    let scope =
        hotline_core::PlatformScope::from_verified().tenant(tenant_id.parse().expect("tenant id"));
    let line = LogLine {
        id: uuid::Uuid::now_v7(),
        at: hotline_core::time::now(),
        call_id: Some(hotline_core::ids::CallId::new()),
        plugin: plugin.to_string(),
        version: 1,
        level: LogLevel::Error,
        source: LogSource::Host,
        message: "the plugin failed (cpu budget of 50 ms exhausted); the hotline's fallback took the call".into(),
    };
    app.plugins
        .log()
        .append(&scope, &[line])
        .await
        .expect("a plugin log line");
}

/// A tenant with an admin and one resource of every kind, made through the API.
async fn populate(app: &App, slug: &str, number: &str) -> TenantFx {
    let op = app.operator.clone();
    let tenant = app
        .create(
            "/api/v1/tenants",
            &op,
            json!({ "slug": slug, "name": format!("Company {slug}"), "time_zone": "Europe/Bratislava" }),
        )
        .await;
    let id = str_of(&tenant, "id");
    let base = format!("/api/v1/tenants/{id}");
    let admin_email = format!("admin@{slug}.example");
    let admin_user = app
        .create(
            &format!("{base}/users"),
            &op,
            json!({
                "email": admin_email,
                "display_name": format!("{slug} admin"),
                "role": "tenant-admin",
                "password": PASSWORD,
            }),
        )
        .await;
    let admin = app.login(&admin_email, PASSWORD).await;
    let prompt = app
        .create(
            &format!("{base}/prompts"),
            &admin,
            json!({ "name": "welcome", "description": format!("{slug} welcome") }),
        )
        .await;
    let (status, _, voiced) = app
        .put_audio(
            &format!("{base}/prompts/{}/audio", str_of(&prompt, "id")),
            &admin,
            tone_wav(16000, 1, 16, 0.5),
            "audio/wav",
        )
        .await;
    assert_eq!(
        status,
        StatusCode::OK,
        "upload the welcome prompt: {voiced}"
    );
    assert_eq!(voiced["version"], json!(PROMPT_VERSION));
    let queue = app
        .create(
            &format!("{base}/queues"),
            &admin,
            json!({ "name": "support", "moh_prompt_id": prompt["id"] }),
        )
        .await;
    let hotline = app
        .create(
            &format!("{base}/hotlines"),
            &admin,
            json!({
                "name": "main",
                "fallback_queue_id": queue["id"],
                "schedule": { "weekly": [{ "day": "mon", "start": "08:00", "end": "17:00" }] },
            }),
        )
        .await;
    let number = app
        .create(
            &format!("{base}/numbers"),
            &op,
            json!({ "e164": number, "label": "main line", "hotline_id": hotline["id"] }),
        )
        .await;
    let agent = app
        .create(
            &format!("{base}/agents"),
            &admin,
            json!({ "name": format!("{slug} agent"), "sip_username": "alice", "sip_password": "sip-secret-1" }),
        )
        .await;
    let (status, _, member) = app
        .put(
            &format!(
                "{base}/queues/{}/members/{}",
                str_of(&queue, "id"),
                str_of(&agent, "id")
            ),
            Some(&admin),
            json!({ "penalty": 0 }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "standing membership: {member}");
    let key = app
        .create(
            &format!("{base}/api-keys"),
            &admin,
            json!({ "name": "wallboard", "role": "supervisor" }),
        )
        .await;
    let call = finished_call(app, &id).await;
    let billed = bill(app, &id, slug).await;
    let plugin = format!("menu-{slug}");
    let (status, _, version) = app
        .upload(
            &format!("{base}/plugins/{plugin}/versions"),
            &admin,
            guest("probe"),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "plugin upload: {version}");
    plugin_log_line(app, &id, &plugin).await;
    TenantFx {
        id,
        slug: slug.to_string(),
        admin,
        admin_email,
        admin_id: str_of(&admin_user, "id"),
        e164: str_of(&number, "e164"),
        ids: Ids {
            number: str_of(&number, "id"),
            hotline: str_of(&hotline, "id"),
            queue: str_of(&queue, "id"),
            prompt: str_of(&prompt, "id"),
            agent: str_of(&agent, "id"),
            user: str_of(&admin_user, "id"),
            api_key: str_of(&key, "id"),
            trunk: String::new(),
            call,
            invoice: billed.january,
            closing_invoice: billed.february,
            spare_invoice: billed.december,
            tariff: billed.tariff,
            tariff_version: "2".into(),
            plugin,
            plugin_version: "1".into(),
        },
        api_key_secret: str_of(&key, "secret"),
    }
}

/// A tariff version's prices in EUR: inbound minutes at `rate` per minute, 60/60, with 100
/// minutes included for 10.00, a 49.90 platform fee and 20.00 per seat per period.
pub fn tariff_prices(version: u32, effective_from: &str, rate: &str) -> Value {
    json!({
        "version": version,
        "effective_from": effective_from,
        "metrics": [{"metric": "inbound_minutes", "rate_per_minute": rate,
                     "increments": {"first_seconds": 60, "next_seconds": 60}}],
        "bundles": [{"metric": "inbound_minutes", "included_minutes": 100, "period_fee": "10.00"}],
        "recurring": [{"kind": "platform", "price_per_period": "49.90"},
                      {"kind": "seat", "price_per_period": "20.00"}],
    })
}

/// A tariff with version 1 in effect since `effective_from` at 0.04 per minute and version 2
/// from 2026-06-01 (after [`BILLING_NOW`]) at 0.05; its id.
pub async fn standard_tariff(app: &App, name: &str, effective_from: &str) -> String {
    let op = app.operator.as_str();
    let tariff = app
        .create(
            "/api/v1/tariffs",
            op,
            json!({ "name": name, "currency": "EUR" }),
        )
        .await;
    let id = str_of(&tariff, "id");
    let versions = format!("/api/v1/tariffs/{id}/versions");
    app.create(&versions, op, tariff_prices(1, effective_from, "0.04"))
        .await;
    app.create(&versions, op, tariff_prices(2, "2026-06-01", "0.05"))
        .await;
    id
}

/// An inbound call of `tenant` answered at `answered` (UTC, RFC 3339) and lasting `seconds`,
/// folded as the call engine folds it.
pub fn answered_call(tenant: &str, answered: &str, seconds: i64) -> hotline_core::call::CallRecord {
    use hotline_core::call::{CallRecord, Direction, EndCause, Party, Phase};
    let answered_at = DateTime::parse_from_rfc3339(answered)
        .expect("an RFC 3339 time")
        .with_timezone(&Utc);
    CallRecord {
        call_id: hotline_core::ids::CallId::new(),
        direction: Direction::Inbound,
        tenant_id: Some(tenant.parse().expect("tenant id")),
        hotline_id: None,
        trunk_id: None,
        caller: "+421900123456".into(),
        dialed: "+421233000111".into(),
        branch: None,
        arrived_at: answered_at - chrono::Duration::seconds(2),
        answered_at: Some(answered_at),
        ivr: None,
        queues: vec![],
        legs: vec![],
        agent_id: None,
        agent_answered_at: None,
        holds: vec![],
        transfers: vec![],
        vars: BTreeMap::new(),
        disposition: None,
        ended_at: answered_at + chrono::Duration::seconds(seconds),
        end_cause: EndCause::Completed,
        hangup_by: Party::Caller,
        phase_at_end: Phase::Talking,
        media: Vec::new(),
        recording: None,
    }
}

/// A tenant's billing fixture, as ids.
pub struct Billed {
    pub tariff: String,
    pub december: String,
    pub january: String,
    pub february: String,
}

/// Bill the tenant through the API: its own tariff, an account (Bratislava, 20 % tax, billing
/// day 1, a 31-day grace period) and a contract from 2025-12-01; one call in each of January,
/// February and March ingested; then the periodic close at [`BILLING_NOW`].
async fn bill(app: &App, tenant: &str, slug: &str) -> Billed {
    let op = app.operator.as_str();
    let tariff = standard_tariff(app, &format!("Standard {slug}"), "2025-12-01").await;
    let base = format!("/api/v1/tenants/{tenant}/billing");
    let (status, _, account) = app
        .put(
            &format!("{base}/account"),
            Some(op),
            json!({ "name": format!("Company {slug} s.r.o."), "email": format!("billing@{slug}.example"),
                    "currency": "EUR", "tax_rate": "0.20", "billing_day": 1,
                    "time_zone": "Europe/Bratislava", "grace_period_secs": 31 * 24 * 3600 }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{account}");
    let (status, _, contract) = app
        .put(
            &format!("{base}/contract"),
            Some(op),
            json!({ "tariff_id": tariff, "starts_on": "2025-12-01" }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{contract}");
    for (answered, seconds) in [
        ("2026-01-15T09:00:00Z", 600),
        ("2026-02-10T09:00:00Z", 300),
        ("2026-03-05T09:00:00Z", 420),
    ] {
        app.billing
            .ingest(&answered_call(tenant, answered, seconds))
            .await
            .expect("ingest a call");
    }
    let report = app
        .billing
        .close_due_periods(&hotline_core::PlatformScope::from_verified())
        .await
        .expect("close due periods");
    assert!(report.failed.is_empty(), "{report:?}");
    let scope = hotline_core::PlatformScope::from_verified().tenant(tenant.parse().expect("id"));
    let invoices = app
        .billing
        .store()
        .invoices(&scope)
        .await
        .expect("invoices");
    let of = |start: &str| {
        invoices
            .iter()
            .find(|i| i.period.start.to_string() == start)
            .unwrap_or_else(|| panic!("no invoice from {start}: {invoices:?}"))
    };
    assert_eq!(of("2025-12-01").status.as_str(), "finalized");
    assert_eq!(of("2026-01-01").status.as_str(), "finalized");
    assert_eq!(of("2026-02-01").status.as_str(), "closing");
    assert_eq!(of("2026-03-01").status.as_str(), "open");
    Billed {
        tariff,
        december: of("2025-12-01").id.to_string(),
        january: of("2026-01-01").id.to_string(),
        february: of("2026-02-01").id.to_string(),
    }
}
