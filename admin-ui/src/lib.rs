//! Hotline's HTTP face: the `/api/v1` JSON API (documented by the OpenAPI 3.1 document generated
//! from these handlers at `/api/v1/openapi.json`), health and readiness, and Prometheus metrics.
//! The web console and live wallboard join it later.
//!
//! Conventions every endpoint keeps:
//! - tenant resources live under `/api/v1/tenants/{tenant_id}/...`; the tenant scope is built
//!   from the credentials and checked against the URL (another tenant's caller gets 404);
//! - one RBAC action per handler, decided by `hotline_tenants::rbac`;
//! - errors are `application/problem+json` (RFC 9457);
//! - lists are cursor-paginated (`?limit=&cursor=`, answer `next_cursor`);
//! - every representation carries an `ETag`; updates need `If-Match` (428 without,
//!   412 when stale) and are JSON Merge Patch (RFC 7396); deleting a number, hotline, queue or
//!   prompt needs `If-Match` too (users and agents are deleted without one);
//! - files (prompt audio, call recordings) are served from the tenants' file store with byte
//!   ranges (`Accept-Ranges: bytes`, 206, 416) and `HEAD`, only by key checked against the
//!   caller's tenant.
//!
//! This crate holds no business rules and no SQL: it must only translate HTTP to store calls
//! (and, for an upload, to the media crate's converter).

pub mod api;
pub mod byte_ranges;
pub mod download;
pub mod extract;
pub mod merge_patch;
pub mod metrics;
pub mod problem;

use std::sync::Arc;

use axum::http::Request;
use axum::routing::get;
use axum::{Json, Router};
use hotline_core::blob::BlobStore;
use hotline_media::prompt::PromptLimits;
use hotline_tenants::auth::TokenService;
use hotline_tenants::Store;
use metrics_exporter_prometheus::PrometheusHandle;
use tower_http::trace::TraceLayer;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::OpenApi as OpenApiDoc;
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub tokens: TokenService,
    pub metrics: PrometheusHandle,
    pub billing: api::billing_context::BillingContext,
    /// The plugin registry, settings and log; `None` until [`AppState::with_plugins`]: the
    /// plugin endpoints then answer 503 and hotlines cannot pin a plugin.
    pub plugins: Option<hotline_plugins::Plugins>,
    /// The tenants' files: prompt audio and call recordings, under each tenant's prefix.
    pub files: Arc<dyn BlobStore>,
    /// What a prompt upload may be (size, duration).
    pub prompt_limits: PromptLimits,
}

impl AppState {
    /// The service over `store` and `files`, with billing on the same database and no payment
    /// gateway, and the converter's default upload limits.
    pub fn new(store: Store, tokens: TokenService, files: Arc<dyn BlobStore>) -> Self {
        let billing = api::billing_context::BillingContext::local(store.db().clone());
        Self {
            store,
            tokens,
            metrics: metrics::handle(),
            billing,
            plugins: None,
            files,
            prompt_limits: PromptLimits::default(),
        }
    }

    /// The same service with the installation's plugin side (its registry's engine validates
    /// and compiles uploads).
    pub fn with_plugins(mut self, plugins: hotline_plugins::Plugins) -> Self {
        self.plugins = Some(plugins);
        self
    }

    /// The plugin side, or 503 when this server runs without it.
    pub fn plugins(&self) -> problem::ApiResult<&hotline_plugins::Plugins> {
        self.plugins
            .as_ref()
            .ok_or_else(|| problem::ApiError::unavailable("plugins are not enabled on this server"))
    }

    /// The same service with these upload limits.
    pub fn with_prompt_limits(mut self, limits: PromptLimits) -> Self {
        self.prompt_limits = limits;
        self
    }

    /// The same service with this billing (a payment gateway, the seller, a clock).
    pub fn with_billing(mut self, billing: api::billing_context::BillingContext) -> Self {
        self.billing = billing;
        self
    }
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Hotline API",
        description = "Multi-tenant call-center platform. Tenant resources live under /api/v1/tenants/{tenant_id}; \
errors are application/problem+json; updates are JSON Merge Patch with If-Match.",
        version = "1"
    ),
    modifiers(&BearerAuth),
    security(("bearer" = [])),
    tags(
        (name = "auth", description = "Log in, refresh, log out"),
        (name = "tenants", description = "Client companies"),
        (name = "platform", description = "The operator's users and firm agents"),
        (name = "numbers", description = "Phone numbers of a tenant"),
        (name = "hotlines", description = "Hotlines: schedule, IVR, fallback"),
        (name = "queues", description = "ACD queues and their members"),
        (name = "agents", description = "Agents a tenant may use"),
        (name = "prompts", description = "Audio prompts: metadata, and the audio uploaded for them"),
        (name = "users", description = "A tenant's users"),
        (name = "api-keys", description = "A tenant's machine credentials"),
        (name = "audit", description = "Configuration changes"),
        (name = "trunks", description = "Carrier trunks (the operator's)"),
        (name = "calls", description = "Call history: one record per finished call, and its recording"),
        (name = "plugins", description = "IVR and agent-script plugins: the tenant's own and the platform catalog, immutable versions, the plugin log, plugin settings"),
        (name = "billing", description = "Tariffs, contracts, usage, invoices, credit notes, revenue; Idempotency-Key on money-moving POSTs")
    )
)]
struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut OpenApiDoc) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "A JWT access token from /api/v1/auth/login, or an API key (hlk_...)",
                    ))
                    .build(),
            ),
        );
    }
}

/// The API routes and the OpenAPI document describing exactly them.
pub fn api() -> (Router<AppState>, OpenApiDoc) {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(api::auth::routes())
        .merge(api::tenants::routes())
        .merge(api::users::routes())
        .merge(api::api_keys::routes())
        .merge(api::numbers::routes())
        .merge(api::hotlines::routes())
        .merge(api::queues::routes())
        .merge(api::members::routes())
        .merge(api::agents::routes())
        .merge(api::registrations::routes())
        .merge(api::prompts::routes())
        .merge(api::prompt_audio::routes())
        .merge(api::audit::routes())
        .merge(api::trunks::routes())
        .merge(api::calls::routes())
        .merge(api::plugins::routes())
        .merge(api::plugin_catalog::routes())
        .merge(api::plugin_log::routes())
        .merge(api::plugin_settings::routes())
        .merge(api::recordings::routes())
        .merge(api::tariffs::routes())
        .merge(api::billing_accounts::routes())
        .merge(api::contracts::routes())
        .merge(api::billing_periods::routes())
        .merge(api::invoices::routes())
        .merge(api::credit_notes::routes())
        .merge(api::usage::routes())
        .merge(api::usage_export::routes())
        .merge(api::invoice_print::routes())
        .merge(api::revenue::routes())
        .merge(api::stripe_webhook::routes())
        .split_for_parts()
}

/// The whole HTTP service.
pub fn router(state: AppState) -> Router {
    let (api, doc) = api();
    let doc = std::sync::Arc::new(doc);
    api.route("/api/v1/openapi.json", get(move || {
        let doc = doc.clone();
        async move { Json(doc.as_ref().clone()) }
    }))
    .merge(api::health::routes())
    .fallback(|| async { problem::ApiError::not_found("route") })
    // After every route is in: axum's own 405 has an empty body; ours is problem+json (axum
    // still adds the Allow header).
    .method_not_allowed_fallback(|| async { problem::ApiError::method_not_allowed() })
    .layer(axum::middleware::from_fn(metrics::track))
    .layer(TraceLayer::new_for_http().make_span_with(|request: &Request<_>| {
        let route = request
            .extensions()
            .get::<axum::extract::MatchedPath>()
            .map(|p| p.as_str().to_string())
            .unwrap_or_default();
        tracing::info_span!("http", method = %request.method(), route = %route, tenant = tracing::field::Empty, role = tracing::field::Empty)
    }))
    .with_state(state)
}
