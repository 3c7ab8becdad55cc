//! `hotline plugin ...`: test an IVR plugin offline against the simulator (`test`), upload a
//! version (`upload`: into the local database as the platform operator on this host, or with
//! `--server` over a server's API as the token's owner; into a tenant or the platform catalog),
//! and scaffold a project (`new`, in `plugin_new.rs`).
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

/// `hotline plugin upload`: into the local database, as the operator on this host, or over a
/// server's API.
pub async fn upload(config: &Config, args: PluginUploadArgs) -> Result<()> {
    if let Some(server) = args.server.clone() {
        return upload_to_server(&server, args).await;
    }
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

/// `hotline plugin upload --server URL --token T`: `POST .../plugins/{name}/versions` with the
/// component as `application/wasm`; the server validates it and answers the version, or a
/// problem whose type and detail are printed.
async fn upload_to_server(server: &str, args: PluginUploadArgs) -> Result<()> {
    let token = args.token.as_deref().filter(|t| !t.is_empty()).context(
        "--server needs --token (or HOTLINE_TOKEN): an access token or API key of a plugin author or admin",
    )?;
    if args.author.is_some() {
        anyhow::bail!("over the API the token's owner is the author: drop --author");
    }
    if !hotline_plugins::registry::valid_name(&args.name) {
        anyhow::bail!(
            "{:?} is not a plugin name: 1 to 64 of a-z, 0-9 and -, starting with a letter",
            args.name
        );
    }
    let base = server.trim_end_matches('/');
    let path = match &args.tenant {
        Some(tenant) => {
            let id: uuid::Uuid = tenant.parse().with_context(|| {
                format!("with --server, --tenant is the tenant's id (GET /api/v1/me shows it), not {tenant:?}")
            })?;
            format!("{base}/api/v1/tenants/{id}/plugins/{}/versions", args.name)
        }
        None => format!("{base}/api/v1/plugins/{}/versions", args.name),
    };
    let mut url =
        reqwest::Url::parse(&path).with_context(|| format!("--server {server} is not a URL"))?;
    if let Some(notes) = &args.notes {
        url.query_pairs_mut().append_pair("notes", notes);
    }
    let bytes = read(&args.plugin)?;
    // A Python component is tens of megabytes and compiling it takes the server seconds.
    let client = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(300))
        .build()
        .context("build the HTTP client")?;
    let response = client
        .post(url)
        .bearer_auth(token)
        .header(reqwest::header::CONTENT_TYPE, "application/wasm")
        .body(bytes)
        .send()
        .await
        .with_context(|| format!("upload to {base}"))?;
    let status = response.status();
    let text = response.text().await.context("read the server's answer")?;
    let body: serde_json::Value = serde_json::from_str(&text).unwrap_or(serde_json::Value::Null);
    if status.is_success() {
        println!("{}", serde_json::to_string_pretty(&body)?);
        return Ok(());
    }
    match (body["type"].as_str(), body["detail"].as_str()) {
        (Some(kind), Some(detail)) => {
            anyhow::bail!("the server refused the upload ({status}, {kind}): {detail}")
        }
        _ => anyhow::bail!("the server refused the upload ({status}): {text}"),
    }
}
