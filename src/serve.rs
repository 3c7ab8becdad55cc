//! `hotline serve`: wires the configuration, the database, the tenant store, the tenants' file
//! store (`wiring::files`), billing and the token service into the HTTP API, starts the telephony
//! side (SIP stack, registrar, trunks, call engine; see `wiring::sip`) and billing's background
//! work (periodic close, seat and number ownership, and the Stripe outbox only when a key is
//! configured; see `wiring::billing`), and runs them until Ctrl-C or SIGTERM.
//!
//! Start-up order matters: the database is migrated, the signing key loaded and the recordings a
//! crash left open repaired before the port is bound and before any call is taken, so a server
//! that accepts connections is a server that can answer them. On shutdown the listener stops
//! accepting at once and requests in flight get [`DRAIN_TIMEOUT`] to finish; a connection that
//! outlives it (a stuck client) is dropped rather than holding the process.
//!
//! What is logged: the listen address, the database backend and its redacted URL, the files
//! directory, and, while no platform admin exists, the exact commands to create one and log in.
//! Never a secret.

use std::future::IntoFuture;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use hotline_admin_ui::AppState;
use hotline_core::db::redact_url;
use hotline_tenants::auth::TokenService;
use hotline_tenants::{Store, StoreConfig};
use tokio::sync::Notify;

use crate::config::Config;

/// How long requests in flight may take to finish after a shutdown signal.
pub const DRAIN_TIMEOUT: Duration = Duration::from_secs(20);

pub async fn run(config: &Config, config_file: Option<&Path>) -> Result<()> {
    let db = crate::database::connect_and_migrate(config).await?;
    tracing::info!(
        backend = db.backend().name(),
        url = %redact_url(&config.database_url()),
        "database ready"
    );
    let store = Store::new(
        db.clone(),
        StoreConfig {
            sip_domain_suffix: config.sip.domain_suffix.clone(),
        },
    );
    let tokens = TokenService::new(
        crate::data_dir::jwt_signing_key(config)?,
        Duration::from_secs(config.auth.access_token_ttl_secs),
        Duration::from_secs(config.auth.refresh_token_ttl_secs),
    );
    let files = crate::wiring::files::open(config)?;
    crate::wiring::files::repair_recordings(files.root()).await?;

    let listener = tokio::net::TcpListener::bind(config.http.listen)
        .await
        .with_context(|| format!("cannot listen on {} (http.listen)", config.http.listen))?;
    let local = listener
        .local_addr()
        .context("cannot read the bound address")?;

    let admins = store
        .platform_admin_count()
        .await
        .context("cannot count platform admins")?;
    if admins == 0 {
        tracing::warn!(
            "no platform admin exists yet. Create the first one (prints a generated password \
             unless HOTLINE_BOOTSTRAP_PASSWORD is set), then log in:\n  {}\n  {}",
            bootstrap_command(config_file),
            login_command(config, "admin@example.com", None, Some(local)),
        );
    }

    let gateway = crate::wiring::billing::gateway(config)?;
    let billing = hotline_billing::Billing::new(db.clone(), gateway);
    let billing_tasks = crate::wiring::billing::BillingTasks::start(billing.clone(), store.clone());

    let plugins = plugins(config, &db)?;
    let telephony =
        crate::wiring::sip::start(config, store.clone(), files.clone(), plugins.clone()).await?;
    let app = hotline_admin_ui::router(
        AppState::new(store, tokens, files)
            .with_billing(crate::wiring::billing::api_context(config, billing))
            .with_plugins(plugins),
    );
    tracing::info!(
        http = %local,
        sip = ?telephony.sip_addrs(),
        backend = db.backend().name(),
        data_dir = %config.data_dir.display(),
        files = %config.files_dir().display(),
        "hotline listening"
    );

    // Installed before serving so that a failure shows at start, not at the first SIGTERM.
    let mut sigterm = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .context("cannot listen for SIGTERM")?;
    let stop = Arc::new(Notify::new());
    let server = axum::serve(listener, app)
        .with_graceful_shutdown({
            let stop = Arc::clone(&stop);
            async move { stop.notified().await }
        })
        .into_future();
    tokio::pin!(server);

    let outcome = tokio::select! {
        served = &mut server => served.context("HTTP server failed"),
        signal = shutdown_signal(&mut sigterm) => {
            tracing::info!(signal, "shutting down: finishing requests in flight");
            // notify_one keeps a permit, so the server sees it even if not yet waiting.
            stop.notify_one();
            match tokio::time::timeout(DRAIN_TIMEOUT, &mut server).await {
                Ok(served) => served.context("HTTP server failed while draining"),
                Err(_) => {
                    tracing::warn!(
                        timeout_secs = DRAIN_TIMEOUT.as_secs(),
                        "requests still open after the drain timeout; closing them"
                    );
                    Ok(())
                }
            }
        }
    };
    telephony.shutdown(Duration::from_secs(5)).await;
    billing_tasks.shutdown(Duration::from_secs(5)).await;
    // Closing waits for connections in use; a request stuck past the drain must not hold us.
    if tokio::time::timeout(Duration::from_secs(5), db.close())
        .await
        .is_err()
    {
        tracing::warn!("database connections still busy; exiting without waiting for them");
    }
    tracing::info!("stopped");
    outcome
}

/// The plugin side: the engine (pooling, sized by `HostConfig`'s defaults), the registry with
/// its precompiled artifacts under `<data_dir>/plugins/cache`, and the live HTTP transport
/// (public addresses only).
fn plugins(config: &Config, db: &hotline_core::Db) -> Result<hotline_plugins::Plugins> {
    let host = hotline_plugins::PluginHost::new(hotline_plugins::HostConfig::default())
        .context("cannot start the plugin engine")?;
    let cache = config.data_dir.join("plugins").join("cache");
    let registry = hotline_plugins::registry::Registry::new(
        Arc::new(host),
        db.clone(),
        Some(cache),
        256 << 20,
    );
    let http = hotline_plugins::http_client::ReqwestFetch::new()
        .context("cannot build the plugins' HTTP client")?;
    Ok(hotline_plugins::Plugins::new(
        registry,
        db.clone(),
        Arc::new(http),
    ))
}

/// Resolves with the signal's name on Ctrl-C (SIGINT) or SIGTERM.
async fn shutdown_signal(sigterm: &mut tokio::signal::unix::Signal) -> &'static str {
    tokio::select! {
        ctrl_c = tokio::signal::ctrl_c() => {
            if let Err(err) = ctrl_c {
                // Without a SIGINT handler only SIGTERM can stop us; keep serving until it comes.
                tracing::warn!(error = %err, "cannot listen for Ctrl-C");
                sigterm.recv().await;
                return "SIGTERM";
            }
            "SIGINT"
        }
        _ = sigterm.recv() => "SIGTERM",
    }
}

/// The command that creates the first admin, spelled as this process was started, so it can be
/// pasted in the same directory.
fn bootstrap_command(config_file: Option<&Path>) -> String {
    let program = std::env::args()
        .next()
        .filter(|p| !p.is_empty())
        .unwrap_or_else(|| "hotline".into());
    let mut command = shell_quote(&program);
    if let Some(file) = config_file {
        command.push_str(" --config ");
        command.push_str(&shell_quote(&file.display().to_string()));
    }
    command.push_str(" admin bootstrap --email admin@example.com");
    command
}

/// A curl command that logs `email` in at this server (`local` when bound, else the configured
/// address); without a `password` it holds a placeholder for the reader to replace.
pub fn login_command(
    config: &Config,
    email: &str,
    password: Option<&str>,
    local: Option<SocketAddr>,
) -> String {
    let addr = reachable(local.unwrap_or(config.http.listen));
    let password = password.unwrap_or("PASSWORD");
    let body = serde_json::json!({ "email": email, "password": password }).to_string();
    format!(
        "curl -sS -X POST http://{addr}/api/v1/auth/login -H 'content-type: application/json' -d {}",
        shell_quote(&body)
    )
}

/// A wildcard listen address is not something a client can connect to: use loopback instead.
fn reachable(addr: SocketAddr) -> SocketAddr {
    match addr.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => {
            SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), addr.port())
        }
        IpAddr::V6(ip) if ip.is_unspecified() => {
            SocketAddr::new(IpAddr::V6(Ipv6Addr::LOCALHOST), addr.port())
        }
        _ => addr,
    }
}

/// Quote for a POSIX shell when needed.
fn shell_quote(text: &str) -> String {
    let plain = !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=:@,+".contains(c));
    if plain {
        text.to_string()
    } else {
        format!("'{}'", text.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn login_command_targets_a_reachable_address() {
        let mut config = Config::default();
        config.http.listen = "0.0.0.0:9000".parse().expect("addr");
        let command = login_command(&config, "a@example.com", None, None);
        assert!(
            command.contains("http://127.0.0.1:9000/api/v1/auth/login"),
            "{command}"
        );
        assert!(
            command.ends_with(r#"-d '{"email":"a@example.com","password":"PASSWORD"}'"#),
            "{command}"
        );
    }

    #[test]
    fn quoting() {
        assert_eq!(shell_quote("target/debug/hotline"), "target/debug/hotline");
        assert_eq!(shell_quote("my dir/x"), "'my dir/x'");
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
    }
}
