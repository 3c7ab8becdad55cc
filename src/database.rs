//! Opening the configured database for a command: the SQLite file's folder is created first (so
//! the first run needs nothing installed), and a failure names the database by its redacted URL.
//!
//! Never put the unredacted URL into an error or a log line: it may carry a password.

use anyhow::{Context, Result};
use hotline_core::db::redact_url;
use hotline_core::Db;

use crate::config::Config;

/// Connect without migrating (`hotline migrate` reports what it applies itself).
pub async fn connect(config: &Config) -> Result<Db> {
    let url = prepare(config)?;
    Db::connect(&url)
        .await
        .with_context(|| format!("cannot connect to database {}", redact_url(&url)))
}

/// Connect and bring the schema up to date, as every command that uses the store does.
pub async fn connect_and_migrate(config: &Config) -> Result<Db> {
    let url = prepare(config)?;
    Db::connect_and_migrate(&url)
        .await
        .with_context(|| format!("cannot open and migrate database {}", redact_url(&url)))
}

fn prepare(config: &Config) -> Result<String> {
    let url = config.database_url();
    if let Some(dir) = crate::data_dir::sqlite_parent(&url) {
        crate::data_dir::ensure_dir(&dir)?;
    }
    Ok(url)
}
