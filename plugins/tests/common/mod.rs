//! What the plugin host's tests share: the test guests (built by `tests/guests/build.sh`, which
//! `scripts/test.sh` runs first), a host, and scenes for the simulator.

#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::OnceLock;

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
