//! `hotline plugin ...`: test an IVR plugin offline against the simulator (`test`), upload a
//! version into the local database (`upload`, as the platform operator on this host, into a
//! tenant or the platform catalog), and scaffold a project (`new`, in `plugin_new.rs`).
//!
//! `test` never touches a database or the network: everything is simulated (SCENARIOS.md in
//! plugins/ describes the scenario files). Its exit status is 0 when every case matched, 1 on
//! a mismatch, 2 when the plugin or the scenario could not be used.

use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, Result};
use hotline_core::PlatformScope;
use hotline_plugins::registry::validate::validate;
use hotline_plugins::registry::{OwnerScope, Registry, UploadMeta};
use hotline_plugins::simulate::{check, run_scene, ScenarioFile, Settings};
use hotline_plugins::{HostConfig, LoadedPlugin, PluginHost, PluginIdentity};
use hotline_tenants::{Store, StoreConfig};

use crate::cli::{PluginTestArgs, PluginUploadArgs};
use crate::config::Config;

/// One engine for a command: on-demand allocation (one call at a time needs no pool).
fn host() -> Result<PluginHost> {
    PluginHost::new(HostConfig {
        pooling: false,
        ..HostConfig::default()
    })
    .context("start the plugin engine")
}

fn read(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).with_context(|| format!("read {}", path.display()))
}

/// `hotline plugin test`: the exit status to leave with.
pub async fn test(args: PluginTestArgs) -> Result<u8> {
    let bytes = read(&args.plugin)?;
    let host = host()?;
    let validated = match validate(&host, &bytes) {
        Ok(v) => v,
        Err(e) => {
            eprintln!("error: {}: {e}", args.plugin.display());
            return Ok(2);
        }
    };
    let name = args
        .plugin
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "plugin".into());
    let plugin = LoadedPlugin {
        identity: PluginIdentity { name, version: 0 },
        prepared: validated.prepared,
    };
    let flags = Settings {
        caller: args.caller.clone(),
        dialed: args.dialed.clone(),
        at: args.at.clone(),
        time_zone: args.time_zone.clone(),
        language: args.language.clone(),
        digits: args.digits.clone(),
        ..Settings::default()
    };
    let Some(path) = &args.scenario else {
        let scene = match flags.scene("command line", &Settings::default(), Default::default()) {
            Ok(scene) => scene,
            Err(e) => {
                eprintln!("error: {e}");
                return Ok(2);
            }
        };
        let run = run_scene(&host, &plugin, &scene).await;
        print!("{}", run.transcript);
        return Ok(0);
    };
    let text = std::fs::read_to_string(path).with_context(|| format!("read {}", path.display()))?;
    let file = match ScenarioFile::parse(&text) {
        Ok(file) => file,
        Err(e) => {
            eprintln!("error: {}: {e}", path.display());
            return Ok(2);
        }
    };
    let scenes = match file.scenes() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {}: {e}", path.display());
            return Ok(2);
        }
    };
    let (mut passed, mut failed) = (0, 0);
    for scene in scenes {
        if args.case.as_ref().is_some_and(|c| *c != scene.name) {
            continue;
        }
        let run = run_scene(&host, &plugin, &scene).await;
        let problems = check(&scene.expect, &run);
        if problems.is_empty() {
            passed += 1;
            println!("ok      {}", scene.name);
            if args.verbose {
                print!("{}", run.transcript);
            }
        } else {
            failed += 1;
            println!("FAILED  {}", scene.name);
            for problem in problems {
                for line in problem.lines() {
                    println!("        {line}");
                }
            }
        }
    }
    println!("{passed} passed, {failed} failed");
    Ok(if failed > 0 { 1 } else { 0 })
}

/// `hotline plugin upload`: into the local database, as the operator on this host.
pub async fn upload(config: &Config, args: PluginUploadArgs) -> Result<()> {
    let bytes = read(&args.plugin)?;
    let db = crate::database::connect_and_migrate(config).await?;
    let operator = PlatformScope::from_verified();
    let cache = config.data_dir.join("plugins").join("cache");
    let registry = Registry::new(Arc::new(host()?), db.clone(), Some(cache), 64 << 20);
    let meta = UploadMeta {
        name: &args.name,
        author: args.author.as_deref().unwrap_or("hotline CLI"),
        notes: args.notes.as_deref().unwrap_or(""),
    };
    let info = match &args.tenant {
        Some(tenant) => {
            let store = Store::new(db.clone(), StoreConfig::default());
            let tenant = store
                .find_tenant(&operator, tenant)
                .await
                .with_context(|| format!("tenant {tenant}"))?;
            let scope = operator.tenant(tenant.id);
            registry
                .upload(OwnerScope::Tenant(&scope), meta, bytes)
                .await
        }
        None => {
            registry
                .upload(OwnerScope::Platform(&operator), meta, bytes)
                .await
        }
    }
    .with_context(|| format!("upload {}", args.plugin.display()))?;
    println!("{}", serde_json::to_string_pretty(&info)?);
    Ok(())
}
