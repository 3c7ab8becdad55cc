//! Process-wide logging: `tracing` events to standard error, as readable lines (coloured only on
//! a terminal) or as one JSON object per line (`--log-format json` or `log.format = "json"`).
//!
//! The filter is `RUST_LOG` when set, else `log.level` from the configuration. Logs go to
//! standard error so that standard output stays the command's answer (`hotline config` prints
//! TOML, `hotline admin bootstrap` the one-time password). Nothing here may log configuration
//! values: secrets reach logs only through explicit, redacted fields at the call site.

use std::io::IsTerminal;

use anyhow::{Context, Result};
use tracing_subscriber::EnvFilter;

use crate::config::{Config, LogFormat};

/// Install the global subscriber. Call once, before anything logs.
pub fn init(config: &Config) -> Result<()> {
    let filter = match std::env::var("RUST_LOG") {
        Ok(spec) if !spec.trim().is_empty() => EnvFilter::try_new(&spec)
            .with_context(|| format!("RUST_LOG={spec:?} is not a valid log filter"))?,
        // Validated with the rest of the configuration.
        _ => EnvFilter::try_new(&config.log.level)
            .with_context(|| format!("log.level {:?} is not a valid filter", config.log.level))?,
    };
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let installed = match config.log.format {
        LogFormat::Text => builder
            .with_ansi(std::io::stderr().is_terminal())
            .try_init(),
        LogFormat::Json => builder
            .json()
            .with_current_span(true)
            .with_span_list(false)
            .try_init(),
    };
    installed.map_err(|err| anyhow::anyhow!("cannot install the logger: {err}"))
}
