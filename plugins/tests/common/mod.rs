//! What the plugin host's tests share: the test guests (built by `tests/guests/build.sh`, which
//! `scripts/test.sh` runs first), a host, scenes for the simulator, tenants in a test database,
//! and [`Parked`], a live-like call whose caller never presses a key.

#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use async_trait::async_trait;
use hotline_core::ids::TenantId;
use hotline_core::testing::TestDb;
use hotline_core::{PlatformScope, TenantScope};
use hotline_plugins::call_control::*;
use tokio::sync::Notify;

use hotline_plugins::registry::validate::validate;
use hotline_plugins::simulate::{ScenarioFile, Scene};
use hotline_plugins::{HostConfig, LoadedPlugin, PluginHost, PluginIdentity};

/// A guest component's bytes. Missing guests fail the test loudly: they are never skipped.
pub fn guest(name: &str) -> Vec<u8> {
    let path: PathBuf = [
        env!("CARGO_MANIFEST_DIR"),
        "tests",
        "guests",
        "out",
        &format!("{name}.wasm"),
    ]
    .iter()
    .collect();
    std::fs::read(&path).unwrap_or_else(|e| {
        panic!(
            "test guest {} is missing ({e}): run plugins/tests/guests/build.sh (scripts/test.sh does)",
            path.display()
        )
    })
}

/// One host for the whole test binary (an engine per test would cost a ticker thread each).
pub fn host() -> &'static PluginHost {
    static HOST: OnceLock<PluginHost> = OnceLock::new();
    HOST.get_or_init(|| {
        PluginHost::new(HostConfig {
            max_concurrent_calls: 64,
            total_core_instances: 1_000,
            total_memories: 256,
            ..HostConfig::default()
        })
        .expect("a plugin host")
    })
}

/// The probe guest, loaded.
pub fn probe() -> LoadedPlugin {
    load("probe")
}

pub fn load(name: &str) -> LoadedPlugin {
    let validated = validate(host(), &guest(name)).expect("a valid test guest");
    LoadedPlugin {
        identity: PluginIdentity {
            name: name.into(),
            version: 1,
        },
        prepared: validated.prepared,
    }
}

/// The one case of a scenario text.
pub fn scene(text: &str) -> Scene {
    let file = ScenarioFile::parse(text).expect("a scenario");
    file.scenes().expect("scenes").remove(0)
}

/// A tenant row as the tenant store writes one; its scope.
pub async fn tenant(db: &TestDb, slug: &str) -> TenantScope {
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

/// A call on the wall clock whose caller never presses a key: `collect` waits for ever (the
/// run is cut off by its caller), after telling `collecting`.
pub struct Parked {
    pub collecting: Arc<Notify>,
}

#[async_trait]
impl CallControl for Parked {
    async fn answer(&mut self) -> Result<(), CallError> {
        Ok(())
    }
    async fn play(&mut self, _: &Prompt, _: &PlayOptions) -> Result<Option<char>, CallError> {
        Ok(None)
    }
    async fn collect(&mut self, _: &CollectOptions) -> Result<Collected, CallError> {
        self.collecting.notify_one();
        std::future::pending().await
    }
    async fn say_digits(&mut self, _: &str) -> Result<(), CallError> {
        Ok(())
    }
    async fn say_number(&mut self, _: i64) -> Result<(), CallError> {
        Ok(())
    }
    async fn record_voicemail(&mut self, _: &VoicemailOptions) -> Result<Voicemail, CallError> {
        Err(CallError::Unavailable("not on this call".into()))
    }
    async fn enqueue(&mut self, queue: &str, _: &EnqueueOptions) -> Result<QueueTicket, CallError> {
        Err(CallError::UnknownQueue(queue.into()))
    }
    async fn transfer(&mut self, _: &TransferTarget) -> Result<(), CallError> {
        Ok(())
    }
    async fn offer_callback(&mut self, _: &CallbackOptions) -> Result<CallbackDecision, CallError> {
        Ok(CallbackDecision::Declined)
    }
    async fn hangup(&mut self, _: HangupCause) -> Result<(), CallError> {
        Ok(())
    }
    fn now(&self) -> chrono::DateTime<chrono::Utc> {
        chrono::Utc::now()
    }
}

/// The call description a live call would give the plugin, with these variables.
pub fn call_info(
    vars: &[(&str, &str)],
) -> hotline_plugins::bindings::ivr::hotline::plugin::types::CallInfo {
    use hotline_plugins::bindings::ivr::hotline::plugin::types::{CallInfo, ScheduleBranch, Var};
    CallInfo {
        call_id: hotline_core::ids::CallId::new().to_string(),
        hotline_id: uuid::Uuid::now_v7().to_string(),
        hotline_name: "main".into(),
        caller: "+421900123456".into(),
        dialed: "+421233000111".into(),
        language: "en".into(),
        arrived_at: hotline_plugins::local_time(chrono::Utc::now(), chrono_tz::UTC),
        branch: ScheduleBranch::Open,
        vars: vars
            .iter()
            .map(|(name, value)| Var {
                name: (*name).into(),
                value: (*value).into(),
            })
            .collect(),
    }
}

/// Services that reach nothing: an empty in-memory kv store, no HTTP.
pub fn offline_services() -> hotline_plugins::CallServices {
    hotline_plugins::CallServices {
        kv: Arc::new(hotline_plugins::kv::MemoryKv::default()),
        http: Arc::new(hotline_plugins::simulate::sim_http::SimHttpFetch { entries: vec![] }),
        allow: hotline_plugins::http_client::Allowlist::default(),
    }
}
