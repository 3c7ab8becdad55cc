//! Role-based access through the HTTP API: every tenant role, as a logged-in user and as an API
//! key of that role, against every endpoint, with the expected allow/deny written out by hand
//! below (not derived from `rbac::permits`). A denied request answers 403 problem+json and writes
//! nothing; an allowed one succeeds (2xx). The hand-written table must also agree with
//! `rbac::permits`, so neither can change without the other.

mod common;

use axum::http::{Method, StatusCode};
use common::*;
use hotline_tenants::rbac::{permits, Action, Role};
use serde_json::{json, Value};

const Y: bool = true;
const N: bool = false;

/// What an allowed request needs made for it alone (it deletes the target, say).
#[derive(Clone, Copy, Debug, PartialEq)]
enum Fresh {
    /// The standing fixture resources do.
    No,
    Number,
    Hotline,
    Queue,
    Prompt,
    /// A new prompt with its audio uploaded (removing the audio consumes it).
    PromptAudio,
    Agent,
    User,
    ApiKey,
    /// A new queue with the standing agent as its member.
    Member,
    FirmAgent,
    /// A new firm agent assigned to A.
    FirmAssignment,
    Trunk,
    /// A's invoice that waits out its grace period (finalizing consumes it).
    ClosingInvoice,
    /// A's older finalized invoice (voiding consumes it).
    SpareInvoice,
}

struct Row {
    method: Method,
    path: &'static str,
    action: Action,
    /// Allowed for tenant-admin, supervisor, agent, plugin-author, billing-viewer (in that
    /// order). The platform admin may do everything.
    allow: [bool; 5],
    body: Option<fn(usize) -> Value>,
    fresh: Fresh,
}

#[rustfmt::skip]
fn table() -> Vec<Row> {
    use Action as A;
    use Fresh as F;
    let (get, post, put, patch, delete, head) = (Method::GET, Method::POST, Method::PUT, Method::PATCH, Method::DELETE, Method::HEAD);
    let row = |method: &Method, path, action, allow, body: Option<fn(usize) -> Value>, fresh| Row { method: method.clone(), path, action, allow, body, fresh };
    //        method   path                                                     action                      TA SU AG PA BV
    vec![
        row(&get,    "/api/v1/tenants/{tenant_id}",                             A::TenantRead,         [Y, Y, Y, Y, Y], None, F::No),
        row(&patch,  "/api/v1/tenants/{tenant_id}",                             A::TenantUpdate,       [N, N, N, N, N], Some(|n| json!({ "name": format!("Company {n}") })), F::No),
        row(&get,    "/api/v1/tenants/{tenant_id}/numbers",                     A::NumberRead,         [Y, Y, N, Y, Y], None, F::No),
        row(&post,   "/api/v1/tenants/{tenant_id}/numbers",                     A::NumberAssign,       [N, N, N, N, N], Some(|n| json!({ "e164": format!("+42190{n:07}") })), F::No),
        row(&get,    "/api/v1/tenants/{tenant_id}/numbers/{id}",                A::NumberRead,         [Y, Y, N, Y, Y], None, F::No),
        row(&patch,  "/api/v1/tenants/{tenant_id}/numbers/{id}",                A::NumberRoute,        [Y, N, N, N, N], Some(|n| json!({ "label": format!("line {n}") })), F::No),
        row(&delete, "/api/v1/tenants/{tenant_id}/numbers/{id}",                A::NumberRelease,      [N, N, N, N, N], None, F::Number),
        row(&get,    "/api/v1/tenants/{tenant_id}/hotlines",                    A::HotlineRead,        [Y, Y, N, Y, N], None, F::No),
        row(&post,   "/api/v1/tenants/{tenant_id}/hotlines",                    A::HotlineWrite,       [Y, N, N, N, N], Some(|n| json!({ "name": format!("hotline {n}") })), F::No),
        row(&get,    "/api/v1/tenants/{tenant_id}/hotlines/{id}",               A::HotlineRead,        [Y, Y, N, Y, N], None, F::No),
        row(&patch,  "/api/v1/tenants/{tenant_id}/hotlines/{id}",               A::HotlineWrite,       [Y, N, N, N, N], Some(|n| json!({ "always_open": n % 2 == 0 })), F::No),
        row(&delete, "/api/v1/tenants/{tenant_id}/hotlines/{id}",               A::HotlineWrite,       [Y, N, N, N, N], None, F::Hotline),
        row(&get,    "/api/v1/tenants/{tenant_id}/queues",                      A::QueueRead,          [Y, Y, Y, Y, N], None, F::No),
        row(&post,   "/api/v1/tenants/{tenant_id}/queues",                      A::QueueWrite,         [Y, N, N, N, N], Some(|n| json!({ "name": format!("queue {n}") })), F::No),
        row(&get,    "/api/v1/tenants/{tenant_id}/queues/{id}",                 A::QueueRead,          [Y, Y, Y, Y, N], None, F::No),
        row(&patch,  "/api/v1/tenants/{tenant_id}/queues/{id}",                 A::QueueWrite,         [Y, N, N, N, N], Some(|n| json!({ "max_wait_secs": 60 + n })), F::No),
        row(&delete, "/api/v1/tenants/{tenant_id}/queues/{id}",                 A::QueueWrite,         [Y, N, N, N, N], None, F::Queue),
        row(&get,    "/api/v1/tenants/{tenant_id}/queues/{queue_id}/members",   A::QueueRead,          [Y, Y, Y, Y, N], None, F::No),
        row(&put,    "/api/v1/tenants/{tenant_id}/queues/{queue_id}/members/{agent_id}", A::QueueMembersWrite, [Y, Y, N, N, N], Some(|n| json!({ "penalty": n % 100 })), F::No),
        row(&delete, "/api/v1/tenants/{tenant_id}/queues/{queue_id}/members/{agent_id}", A::QueueMembersWrite, [Y, Y, N, N, N], None, F::Member),
        row(&get,    "/api/v1/tenants/{tenant_id}/prompts",                     A::PromptRead,         [Y, Y, Y, Y, N], None, F::No),
        row(&post,   "/api/v1/tenants/{tenant_id}/prompts",                     A::PromptWrite,        [Y, N, N, Y, N], Some(|n| json!({ "name": format!("prompt {n}") })), F::No),
        row(&get,    "/api/v1/tenants/{tenant_id}/prompts/{id}",                A::PromptRead,         [Y, Y, Y, Y, N], None, F::No),
        row(&patch,  "/api/v1/tenants/{tenant_id}/prompts/{id}",                A::PromptWrite,        [Y, N, N, Y, N], Some(|n| json!({ "description": format!("take {n}") })), F::No),
        row(&delete, "/api/v1/tenants/{tenant_id}/prompts/{id}",                A::PromptWrite,        [Y, N, N, Y, N], None, F::Prompt),
        // The upload's body is a WAV file (see `upload_body`).
        row(&put,    "/api/v1/tenants/{tenant_id}/prompts/{id}/audio",          A::PromptWrite,        [Y, N, N, Y, N], None, F::No),
        row(&get,    "/api/v1/tenants/{tenant_id}/prompts/{id}/audio",          A::PromptRead,         [Y, Y, Y, Y, N], None, F::No),
        row(&head,   "/api/v1/tenants/{tenant_id}/prompts/{id}/audio",          A::PromptRead,         [Y, Y, Y, Y, N], None, F::No),
        row(&delete, "/api/v1/tenants/{tenant_id}/prompts/{id}/audio",          A::PromptWrite,        [Y, N, N, Y, N], None, F::PromptAudio),
        row(&get,    "/api/v1/tenants/{tenant_id}/agents",                      A::AgentRead,          [Y, Y, N, N, N], None, F::No),
        row(&post,   "/api/v1/tenants/{tenant_id}/agents",                      A::AgentWrite,         [Y, N, N, N, N], Some(|n| json!({ "name": format!("Agent {n}"), "sip_username": format!("agent{n}"), "sip_password": "sip-secret-5" })), F::No),
        row(&get,    "/api/v1/tenants/{tenant_id}/agents/{id}",                 A::AgentRead,          [Y, Y, N, N, N], None, F::No),
        row(&patch,  "/api/v1/tenants/{tenant_id}/agents/{id}",                 A::AgentWrite,         [Y, N, N, N, N], Some(|n| json!({ "name": format!("Agent {n}") })), F::No),
        row(&delete, "/api/v1/tenants/{tenant_id}/agents/{id}",                 A::AgentWrite,         [Y, N, N, N, N], None, F::Agent),
        row(&get,    "/api/v1/tenants/{tenant_id}/agents/{id}/registrations",   A::AgentRead,          [Y, Y, N, N, N], None, F::No),
        row(&get,    "/api/v1/tenants/{tenant_id}/registrations",               A::AgentRead,          [Y, Y, N, N, N], None, F::No),
        row(&get,    "/api/v1/tenants/{tenant_id}/users",                       A::UserRead,           [Y, Y, N, N, N], None, F::No),
        row(&post,   "/api/v1/tenants/{tenant_id}/users",                       A::UserWrite,          [Y, N, N, N, N], Some(|n| json!({ "email": format!("user{n}@a.example"), "display_name": format!("User {n}"), "role": "agent", "password": PASSWORD })), F::No),
        row(&get,    "/api/v1/tenants/{tenant_id}/users/{id}",                  A::UserRead,           [Y, Y, N, N, N], None, F::No),
        row(&patch,  "/api/v1/tenants/{tenant_id}/users/{id}",                  A::UserWrite,          [Y, N, N, N, N], Some(|n| json!({ "display_name": format!("User {n}") })), F::No),
        row(&delete, "/api/v1/tenants/{tenant_id}/users/{id}",                  A::UserWrite,          [Y, N, N, N, N], None, F::User),
        row(&get,    "/api/v1/tenants/{tenant_id}/api-keys",                    A::ApiKeyManage,       [Y, N, N, N, N], None, F::No),
        row(&post,   "/api/v1/tenants/{tenant_id}/api-keys",                    A::ApiKeyManage,       [Y, N, N, N, N], Some(|n| json!({ "name": format!("key {n}"), "role": "agent" })), F::No),
        row(&delete, "/api/v1/tenants/{tenant_id}/api-keys/{id}",               A::ApiKeyManage,       [Y, N, N, N, N], None, F::ApiKey),
        row(&get,    "/api/v1/tenants/{tenant_id}/audit",                       A::AuditRead,          [Y, N, N, N, N], None, F::No),
        row(&get,    "/api/v1/tenants/{tenant_id}/calls",                       A::CallHistoryRead,    [Y, Y, N, N, N], None, F::No),
        row(&get,    "/api/v1/tenants/{tenant_id}/calls/{id}",                  A::CallHistoryRead,    [Y, Y, N, N, N], None, F::No),
        row(&get,    "/api/v1/tenants/{tenant_id}/calls/{id}/recording",        A::RecordingListen,    [Y, Y, N, N, N], None, F::No),
        row(&head,   "/api/v1/tenants/{tenant_id}/calls/{id}/recording",        A::RecordingListen,    [Y, Y, N, N, N], None, F::No),
        row(&get,    "/api/v1/tenants/{tenant_id}/billing/account",             A::BillingRead,        [Y, N, N, N, Y], None, F::No),
        row(&put,    "/api/v1/tenants/{tenant_id}/billing/account",             A::BillingManage,      [N, N, N, N, N], Some(|n| json!({ "name": format!("Company A {n}"), "currency": "EUR", "tax_rate": "0.20", "time_zone": "Europe/Bratislava", "grace_period_secs": 31 * 24 * 3600 })), F::No),
        row(&get,    "/api/v1/tenants/{tenant_id}/billing/contract",            A::BillingRead,        [Y, N, N, N, Y], None, F::No),
        row(&put,    "/api/v1/tenants/{tenant_id}/billing/contract",            A::BillingManage,      [N, N, N, N, N], Some(|_| json!({ "tariff_id": "{tariff_id}", "starts_on": "2025-12-01" })), F::No),
        row(&get,    "/api/v1/tenants/{tenant_id}/billing/usage",               A::BillingRead,        [Y, N, N, N, Y], None, F::No),
        row(&post,   "/api/v1/tenants/{tenant_id}/billing/close-period",        A::BillingManage,      [N, N, N, N, N], Some(|_| json!({})), F::No),
        row(&get,    "/api/v1/tenants/{tenant_id}/invoices",                    A::BillingRead,        [Y, N, N, N, Y], None, F::No),
        row(&get,    "/api/v1/tenants/{tenant_id}/invoices/{id}",               A::BillingRead,        [Y, N, N, N, Y], None, F::No),
        row(&get,    "/api/v1/tenants/{tenant_id}/invoices/{id}/lines",         A::BillingRead,        [Y, N, N, N, Y], None, F::No),
        row(&get,    "/api/v1/tenants/{tenant_id}/invoices/{id}/usage.csv",     A::BillingRead,        [Y, N, N, N, Y], None, F::No),
        row(&get,    "/api/v1/tenants/{tenant_id}/invoices/{id}/print",         A::BillingRead,        [Y, N, N, N, Y], None, F::No),
        row(&post,   "/api/v1/tenants/{tenant_id}/invoices/{id}/finalize",      A::BillingManage,      [N, N, N, N, N], None, F::ClosingInvoice),
        row(&post,   "/api/v1/tenants/{tenant_id}/invoices/{id}/void",          A::BillingManage,      [N, N, N, N, N], None, F::SpareInvoice),
        row(&get,    "/api/v1/tenants/{tenant_id}/invoices/{id}/credit-notes",  A::BillingRead,        [Y, N, N, N, Y], None, F::No),
        row(&post,   "/api/v1/tenants/{tenant_id}/invoices/{id}/credit-notes",  A::BillingManage,      [N, N, N, N, N], Some(|n| json!({ "lines": [{ "description": format!("goodwill {n}"), "amount_minor": 1 }] })), F::No),
        row(&get,    "/api/v1/tenants",                                         A::TenantList,         [N, N, N, N, N], None, F::No),
        row(&post,   "/api/v1/tenants",                                         A::TenantCreate,       [N, N, N, N, N], Some(|n| json!({ "slug": format!("rbac-{n}"), "name": format!("Company {n}"), "time_zone": "UTC" })), F::No),
        row(&get,    "/api/v1/agents",                                          A::FirmAgentManage,    [N, N, N, N, N], None, F::No),
        row(&post,   "/api/v1/agents",                                          A::FirmAgentManage,    [N, N, N, N, N], Some(|n| json!({ "name": format!("Firm {n}"), "sip_username": format!("firm{n}"), "sip_password": "sip-secret-6" })), F::No),
        row(&patch,  "/api/v1/agents/{id}",                                     A::FirmAgentManage,    [N, N, N, N, N], Some(|n| json!({ "name": format!("Firm {n}") })), F::No),
        row(&delete, "/api/v1/agents/{id}",                                     A::FirmAgentManage,    [N, N, N, N, N], None, F::FirmAgent),
        row(&get,    "/api/v1/agents/{id}/registrations",                       A::FirmAgentManage,    [N, N, N, N, N], None, F::No),
        row(&get,    "/api/v1/agents/{id}/tenants",                             A::FirmAgentManage,    [N, N, N, N, N], None, F::No),
        row(&put,    "/api/v1/agents/{id}/tenants/{tenant_id}",                 A::FirmAgentManage,    [N, N, N, N, N], None, F::No),
        row(&delete, "/api/v1/agents/{id}/tenants/{tenant_id}",                 A::FirmAgentManage,    [N, N, N, N, N], None, F::FirmAssignment),
        row(&get,    "/api/v1/users",                                           A::PlatformUserManage, [N, N, N, N, N], None, F::No),
        row(&post,   "/api/v1/users",                                           A::PlatformUserManage, [N, N, N, N, N], Some(|n| json!({ "email": format!("op{n}@firm.example"), "display_name": format!("Operator {n}"), "role": "platform-admin", "password": PASSWORD })), F::No),
        row(&patch,  "/api/v1/users/{id}",                                      A::PlatformUserManage, [N, N, N, N, N], Some(|n| json!({ "display_name": format!("Operator {n}") })), F::No),
        row(&get,    "/api/v1/audit",                                           A::PlatformAuditRead,  [N, N, N, N, N], None, F::No),
        row(&get,    "/api/v1/trunks",                                          A::TrunkManage,        [N, N, N, N, N], None, F::No),
        row(&post,   "/api/v1/trunks",                                          A::TrunkManage,        [N, N, N, N, N], Some(|n| json!({ "name": format!("Carrier {n}"), "inbound": { "sources": [format!("192.0.2.{}", n % 250 + 1)] } })), F::No),
        row(&get,    "/api/v1/trunks/{id}",                                     A::TrunkManage,        [N, N, N, N, N], None, F::No),
        row(&patch,  "/api/v1/trunks/{id}",                                     A::TrunkManage,        [N, N, N, N, N], Some(|n| json!({ "max_concurrent_calls": 10 + n })), F::No),
        row(&delete, "/api/v1/trunks/{id}",                                     A::TrunkManage,        [N, N, N, N, N], None, F::Trunk),
        row(&get,    "/api/v1/tariffs",                                         A::TariffManage,       [N, N, N, N, N], None, F::No),
        row(&post,   "/api/v1/tariffs",                                         A::TariffManage,       [N, N, N, N, N], Some(|n| json!({ "name": format!("Tariff {n}"), "currency": "EUR" })), F::No),
        row(&get,    "/api/v1/tariffs/{id}",                                    A::TariffManage,       [N, N, N, N, N], None, F::No),
        // Replacing the unused version 2 comes before adding version 3, which would make it
        // no longer the latest.
        row(&put,    "/api/v1/tariffs/{id}/versions/{version}",                 A::TariffManage,       [N, N, N, N, N], Some(|_| tariff_prices(2, "2026-07-01", "0.06")), F::No),
        row(&post,   "/api/v1/tariffs/{id}/versions",                           A::TariffManage,       [N, N, N, N, N], Some(|_| tariff_prices(3, "2026-09-01", "0.07")), F::No),
        row(&get,    "/api/v1/billing/revenue",                                 A::BillingManage,      [N, N, N, N, N], None, F::No),
        row(&get,    "/api/v1/tenants/{tenant_id}/plugins",                     A::PluginRead,         [Y, N, N, Y, N], None, F::No),
        row(&get,    "/api/v1/tenants/{tenant_id}/plugins/log",                 A::PluginLogRead,      [Y, Y, N, Y, N], None, F::No),
        row(&get,    "/api/v1/tenants/{tenant_id}/plugins/settings",            A::PluginRead,         [Y, N, N, Y, N], None, F::No),
        row(&put,    "/api/v1/tenants/{tenant_id}/plugins/settings",            A::PluginSettingsWrite, [Y, N, N, N, N], Some(|n| json!({ "http_allowlist": [format!("crm{n}.a.example")] })), F::No),
        row(&get,    "/api/v1/tenants/{tenant_id}/plugins/{name}",              A::PluginRead,         [Y, N, N, Y, N], None, F::No),
        row(&get,    "/api/v1/tenants/{tenant_id}/plugins/{name}/versions",     A::PluginRead,         [Y, N, N, Y, N], None, F::No),
        row(&post,   "/api/v1/tenants/{tenant_id}/plugins/{name}/versions",     A::PluginUpload,       [Y, N, N, Y, N], Some(|_| json!("{component}")), F::No),
        row(&get,    "/api/v1/tenants/{tenant_id}/plugins/{name}/versions/{version}", A::PluginRead,   [Y, N, N, Y, N], None, F::No),
        row(&get,    "/api/v1/plugins",                                         A::PluginRead,         [Y, N, N, Y, N], None, F::No),
        row(&get,    "/api/v1/plugins/{name}",                                  A::PluginRead,         [Y, N, N, Y, N], None, F::No),
        row(&get,    "/api/v1/plugins/{name}/versions",                         A::PluginRead,         [Y, N, N, Y, N], None, F::No),
        row(&post,   "/api/v1/plugins/{name}/versions",                         A::PluginCatalogManage, [N, N, N, N, N], Some(|_| json!("{component}")), F::No),
        row(&get,    "/api/v1/plugins/{name}/versions/{version}",               A::PluginRead,         [Y, N, N, Y, N], None, F::No),
    ]
}

/// Every action the RBAC table knows. The `match` stops compiling when an action is added, so a
/// new action cannot go untested here.
#[rustfmt::skip]
fn every_action() -> Vec<Action> {
    use Action::*;
    let all = vec![
        TenantCreate, TenantUpdate, TenantList, NumberAssign, NumberRelease, FirmAgentManage,
        PlatformUserManage, PlatformAuditRead, TrunkManage, TenantRead, NumberRead, NumberRoute,
        HotlineRead, HotlineWrite, QueueRead, QueueWrite, QueueMembersWrite, AgentRead, AgentWrite,
        PromptRead, PromptWrite, UserRead, UserWrite, ApiKeyManage, AuditRead, CallHistoryRead,
        RecordingListen, TariffManage, BillingManage, BillingRead, PluginCatalogManage, PluginRead,
        PluginUpload, PluginLogRead, PluginSettingsWrite,
    ];
    for action in &all {
        match action {
            TenantCreate | TenantUpdate | TenantList | NumberAssign | NumberRelease
            | FirmAgentManage | PlatformUserManage | PlatformAuditRead | TrunkManage | TenantRead | NumberRead
            | NumberRoute | HotlineRead | HotlineWrite | QueueRead | QueueWrite
            | QueueMembersWrite | AgentRead | AgentWrite | PromptRead | PromptWrite | UserRead
            | UserWrite | ApiKeyManage | AuditRead | CallHistoryRead | RecordingListen | TariffManage
            | BillingManage | BillingRead | PluginCatalogManage | PluginRead | PluginUpload
            | PluginLogRead | PluginSettingsWrite => {}
        }
    }
    all
}

#[test]
fn the_hand_written_table_agrees_with_rbac_permits() {
    for row in table() {
        for (role, allowed) in TENANT_ROLES.iter().zip(row.allow) {
            assert_eq!(
                permits(*role, row.action),
                allowed,
                "{} {} ({:?}) for {}: the table here says {allowed}, rbac::permits disagrees",
                row.method,
                row.path,
                row.action,
                role.as_str()
            );
        }
        assert!(permits(Role::PlatformAdmin, row.action), "{:?}", row.action);
    }
}

#[test]
fn the_table_covers_every_route_and_every_action() {
    let rows = table();
    for (method, path) in API_ROUTES {
        if UNAUTHENTICATED_ROUTES.contains(&(*method, *path)) || *path == "/api/v1/me" {
            continue; // credentials themselves, or verified otherwise: no RBAC action
        }
        assert!(
            rows.iter()
                .any(|r| r.method.as_str() == *method && r.path == *path),
            "{method} {path} has no line in the RBAC table"
        );
    }
    for action in every_action() {
        assert!(
            rows.iter().any(|r| r.action == action),
            "{action:?} is exercised by no endpoint"
        );
    }
}

/// The body of an audio upload: a WAV, a little longer each time.
fn upload_body(n: usize) -> Vec<u8> {
    tone_wav(8000, 1, 16, 0.1 + (n % 10) as f32 / 100.0)
}

/// Someone calling: a user's access token or an API key.
struct Principal {
    name: String,
    /// `None` for the platform admin.
    role: Option<Role>,
    token: String,
}

/// Ids the table's paths are filled with: A's standing resources, and for the operator's
/// routes the standing firm agent (`/agents/{id}`), the platform admin (`/users/{id}`), the
/// standing trunk (`/trunks/{id}`) and the standing tariff (`/tariffs/{id}`).
fn path_for(template: &str, tenant: &str, tenant_ids: &Ids, platform_ids: &Ids) -> String {
    if template.starts_with("/api/v1/tenants/{tenant_id}") {
        fill(template, tenant, tenant_ids)
    } else {
        fill(template, tenant, platform_ids)
    }
}

/// A body with its placeholders (`"{tariff_id}"`) replaced by the fixture's ids.
fn with_ids(body: Value, ids: &Ids) -> Value {
    match body {
        Value::String(text) if text == "{tariff_id}" => Value::String(ids.tariff.clone()),
        Value::Object(map) => map
            .into_iter()
            .map(|(key, value)| (key, with_ids(value, ids)))
            .collect(),
        other => other,
    }
}

/// The version the resource at `path` is at now (for `If-Match`).
async fn version_of(app: &App, path: &str) -> String {
    let op = app.operator.as_str();
    let (list, id) = if let Some(id) = path.strip_prefix("/api/v1/agents/") {
        ("/api/v1/agents", id)
    } else if let Some(id) = path.strip_prefix("/api/v1/users/") {
        ("/api/v1/users", id)
    } else {
        let item = app.read(path, op).await;
        return format!("\"{}\"", item["version"]);
    };
    let page = app.read(&format!("{list}?limit=500"), op).await;
    let item = page["items"]
        .as_array()
        .and_then(|items| items.iter().find(|i| i["id"] == json!(id)))
        .unwrap_or_else(|| panic!("{id} not in {list}"));
    format!("\"{}\"", item["version"])
}

/// Make what an allowed request of `fresh` kind consumes; the ids to fill its path with.
async fn make_fresh(
    world: &World,
    fresh: Fresh,
    n: usize,
    base: &Ids,
    platform: &Ids,
) -> (Ids, Ids) {
    let app = &world.app;
    let op = app.operator.as_str();
    let a = &world.a;
    let (mut tenant_ids, mut platform_ids) = (base.clone(), platform.clone());
    match fresh {
        Fresh::No => {}
        Fresh::Number => {
            let made = app
                .create(
                    &a.url("/numbers"),
                    op,
                    json!({ "e164": format!("+42191{n:07}") }),
                )
                .await;
            tenant_ids.number = str_of(&made, "id");
        }
        Fresh::Hotline => {
            let made = app
                .create(
                    &a.url("/hotlines"),
                    op,
                    json!({ "name": format!("doomed {n}") }),
                )
                .await;
            tenant_ids.hotline = str_of(&made, "id");
        }
        Fresh::Queue | Fresh::Member => {
            let made = app
                .create(
                    &a.url("/queues"),
                    op,
                    json!({ "name": format!("doomed {n}") }),
                )
                .await;
            tenant_ids.queue = str_of(&made, "id");
            if fresh == Fresh::Member {
                let member = a.url(&format!(
                    "/queues/{}/members/{}",
                    tenant_ids.queue, tenant_ids.agent
                ));
                let (status, _, body) = app.put(&member, Some(op), json!({ "penalty": 5 })).await;
                assert_eq!(status, StatusCode::OK, "{body}");
            }
        }
        Fresh::Prompt | Fresh::PromptAudio => {
            let made = app
                .create(
                    &a.url("/prompts"),
                    op,
                    json!({ "name": format!("doomed {n}") }),
                )
                .await;
            tenant_ids.prompt = str_of(&made, "id");
            if fresh == Fresh::PromptAudio {
                let path = a.url(&format!("/prompts/{}/audio", tenant_ids.prompt));
                let (status, _, body) = app
                    .put_audio(&path, op, tone_wav(8000, 1, 16, 0.2), "audio/wav")
                    .await;
                assert_eq!(status, StatusCode::OK, "{body}");
            }
        }
        Fresh::Agent => {
            let made = app
                .create(&a.url("/agents"), op, json!({ "name": format!("Doomed {n}"), "sip_username": format!("doomed{n}"), "sip_password": "sip-secret-7" }))
                .await;
            tenant_ids.agent = str_of(&made, "id");
        }
        Fresh::User => {
            let made = app
                .create(&a.url("/users"), op, json!({ "email": format!("doomed{n}@a.example"), "display_name": "Doomed", "role": "agent", "password": PASSWORD }))
                .await;
            tenant_ids.user = str_of(&made, "id");
        }
        Fresh::ApiKey => {
            let made = app
                .create(
                    &a.url("/api-keys"),
                    op,
                    json!({ "name": format!("doomed {n}"), "role": "agent" }),
                )
                .await;
            tenant_ids.api_key = str_of(&made, "id");
        }
        Fresh::Trunk => {
            let made = app
                .create(
                    "/api/v1/trunks",
                    op,
                    json!({ "name": format!("Doomed {n}"), "inbound": { "sources": ["198.51.100.0/24"] } }),
                )
                .await;
            platform_ids.trunk = str_of(&made, "id");
        }
        Fresh::ClosingInvoice => tenant_ids.invoice = tenant_ids.closing_invoice.clone(),
        Fresh::SpareInvoice => tenant_ids.invoice = tenant_ids.spare_invoice.clone(),
        Fresh::FirmAgent | Fresh::FirmAssignment => {
            let made = app
                .create("/api/v1/agents", op, json!({ "name": format!("Doomed {n}"), "sip_username": format!("doomedfirm{n}"), "sip_password": "sip-secret-8" }))
                .await;
            platform_ids.agent = str_of(&made, "id");
            if fresh == Fresh::FirmAssignment {
                let path = format!("/api/v1/agents/{}/tenants/{}", platform_ids.agent, a.id);
                let (status, _, body) = app.request(Method::PUT, &path, Some(op), None, &[]).await;
                assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
            }
        }
    }
    (tenant_ids, platform_ids)
}

/// Every principal against every line of the table.
async fn each_role_does_exactly_what_the_table_says(backend: hotline_core::Backend) {
    let world = World::new(backend).await;
    let app = &world.app;
    let a = &world.a;
    let op = app.operator.clone();

    // Who calls: the platform admin, A's users of every tenant role, an API key of every role.
    let mut principals = vec![Principal {
        name: "platform-admin".into(),
        role: None,
        token: op.clone(),
    }];
    for (role, token) in &world.a_roles {
        principals.push(Principal {
            name: format!("user {}", role.as_str()),
            role: Some(*role),
            token: token.clone(),
        });
    }
    for role in TENANT_ROLES {
        let key = app
            .create(
                &a.url("/api-keys"),
                &a.admin,
                json!({ "name": format!("{} key", role.as_str()), "role": role }),
            )
            .await;
        principals.push(Principal {
            name: format!("api key {}", role.as_str()),
            role: Some(role),
            token: str_of(&key, "secret"),
        });
    }

    // The standing targets of the operator's routes.
    let firm = app.create("/api/v1/agents", &op, json!({ "name": "Standing Firm", "sip_username": "standing", "sip_password": "sip-secret-9" })).await;
    let me = app.read("/api/v1/me", &op).await;
    let trunk = app
        .create(
            "/api/v1/trunks",
            &op,
            json!({ "name": "Standing Carrier", "inbound": { "sources": ["203.0.113.0/24"] } }),
        )
        .await;
    let tariff = standard_tariff(app, "Standing Tariff", "2025-01-01").await;
    let platform_ids = Ids {
        agent: str_of(&firm, "id"),
        user: str_of(&me, "id"),
        trunk: str_of(&trunk, "id"),
        tariff,
        tariff_version: "2".into(),
        plugin: CATALOG_PLUGIN.into(),
        plugin_version: "1".into(),
        ..Ids::default()
    };

    let mut n = 0;
    for row in table() {
        for who in &principals {
            n += 1;
            let allowed = match who.role {
                None => true,
                Some(role) => {
                    row.allow[TENANT_ROLES
                        .iter()
                        .position(|r| *r == role)
                        .expect("a tenant role")]
                }
            };
            let fresh = if allowed { row.fresh } else { Fresh::No };
            let (tenant_ids, platform) = make_fresh(&world, fresh, n, &a.ids, &platform_ids).await;
            let path = path_for(row.path, &a.id, &tenant_ids, &platform);
            let mut headers: Vec<(&str, String)> = Vec::new();
            let audio = row.path.ends_with("/audio");
            if row.method == Method::PATCH {
                headers.push(("if-match", version_of(app, &path).await));
                headers.push(("content-type", "application/merge-patch+json".into()));
            } else if row.method == Method::PUT && path.ends_with("/plugins/settings") {
                headers.push(("if-match", version_of(app, &path).await));
            } else if row.method == Method::DELETE && !audio {
                // Fresh targets are at version 1; routes without versions ignore it. (A prompt's
                // audio takes If-Match only when sent.)
                headers.push(("if-match", "\"1\"".into()));
            }
            let headers: Vec<(&str, &str)> =
                headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let body = row.body.map(|f| with_ids(f(n), &tenant_ids));
            let before = app.fingerprint().await;
            let reply = if body == Some(json!("{component}")) {
                app.upload(&path, &who.token, guest("probe")).await
            } else if audio && row.method == Method::PUT {
                app.put_audio(&path, &who.token, upload_body(n), "audio/wav")
                    .await
            } else {
                app.request(
                    row.method.clone(),
                    &path,
                    Some(&who.token),
                    body.clone(),
                    &headers,
                )
                .await
            };
            if allowed {
                assert!(
                    reply.0.is_success(),
                    "{} may {} {} ({:?}) but got {}: {}",
                    who.name,
                    row.method,
                    path,
                    row.action,
                    reply.0,
                    reply.2
                );
            } else {
                let problem =
                    assert_refused(&row.method, &reply, StatusCode::FORBIDDEN, "forbidden");
                assert_eq!(
                    app.fingerprint().await,
                    before,
                    "{} was refused {} {path} but something was written: {problem}",
                    who.name,
                    row.method
                );
            }
        }
    }
    world.finish().await;
}

/// A tenant admin (a user, or an API key with that role) hands out tenant roles only: never
/// platform-admin, to a user or an API key, by creating or by changing.
async fn tenant_admins_cannot_grant_platform_admin(backend: hotline_core::Backend) {
    let world = World::new(backend).await;
    let app = &world.app;
    let a = &world.a;
    let key = app
        .create(
            &a.url("/api-keys"),
            &a.admin,
            json!({ "name": "admin key", "role": "tenant-admin" }),
        )
        .await;
    let key = str_of(&key, "secret");
    let user_path = a.url(&format!("/users/{}", a.ids.user));
    for token in [a.admin.as_str(), key.as_str()] {
        let before = app.fingerprint().await;
        let reply = app
            .post(&a.url("/users"), Some(token), json!({ "email": "root@a.example", "display_name": "Root", "role": "platform-admin", "password": PASSWORD }))
            .await;
        assert_problem(&reply, StatusCode::FORBIDDEN, "forbidden");
        let reply = app
            .post(
                &a.url("/api-keys"),
                Some(token),
                json!({ "name": "root key", "role": "platform-admin" }),
            )
            .await;
        assert_problem(&reply, StatusCode::FORBIDDEN, "forbidden");
        let version = version_of(app, &user_path).await;
        let reply = app
            .patch(
                &user_path,
                Some(token),
                &version,
                json!({ "role": "platform-admin" }),
            )
            .await;
        assert_problem(&reply, StatusCode::FORBIDDEN, "forbidden");
        assert_eq!(app.fingerprint().await, before);
    }
    // Nor may it create one on the operator's own route.
    let reply = app
        .post("/api/v1/users", Some(&a.admin), json!({ "email": "root@a.example", "display_name": "Root", "role": "platform-admin", "password": PASSWORD }))
        .await;
    assert_problem(&reply, StatusCode::FORBIDDEN, "forbidden");
    // What it may grant, it grants.
    let made = app
        .create(
            &a.url("/api-keys"),
            &a.admin,
            json!({ "name": "sup key", "role": "supervisor" }),
        )
        .await;
    assert_eq!(made["role"], json!("supervisor"));
    let me = app.read("/api/v1/me", &str_of(&made, "secret")).await;
    assert_eq!(
        (
            me["kind"].clone(),
            me["role"].clone(),
            me["tenant_id"].clone()
        ),
        (json!("api-key"), json!("supervisor"), json!(a.id))
    );
    world.finish().await;
}

hotline_core::both_backends!(
    each_role_does_exactly_what_the_table_says,
    tenant_admins_cannot_grant_platform_admin,
);
