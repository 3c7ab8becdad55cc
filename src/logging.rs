//! Process-wide logging: `tracing` events to standard error, as readable lines (coloured only on
//! a terminal) or as one JSON object per line (`--log-format json` or `log.format = "json"`).
//!
//! The filter is `RUST_LOG` when set, else `log.level` from the configuration. The SIP library
//! logs every packet at `info`; unless a filter names it, it is held at `warn` so that a busy
//! switch's log shows calls, not datagrams. Logs go to
//! standard error so that standard output stays the command's answer (`hotline config` prints
//! TOML, `hotline admin bootstrap` the one-time password). Nothing here may log configuration
//! values: secrets reach logs only through explicit, redacted fields at the call site.

use std::io::IsTerminal;

use anyhow::{Context, Result};
use tracing_subscriber::EnvFilter;

use crate::config::{Config, LogFormat};

/// Libraries too chatty at `info` for a production log, unless the filter names them.
const QUIET: &[&str] = &["rsipstack"];

fn with_quiet_libraries(filter: &str) -> String {
    let mut spec = filter.to_string();
    for library in QUIET.iter().filter(|library| !filter.contains(*library)) {
        spec.push_str(&format!(",{library}=warn"));
    }
    spec
}

/// Install the global subscriber. Call once, before anything logs.
pub fn init(config: &Config) -> Result<()> {
    let filter = match std::env::var("RUST_LOG") {
        Ok(spec) if !spec.trim().is_empty() => EnvFilter::try_new(&spec)
            .with_context(|| format!("RUST_LOG={spec:?} is not a valid log filter"))?,
        // Validated with the rest of the configuration.
        _ => EnvFilter::try_new(with_quiet_libraries(&config.log.level))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sip_packets_stay_out_of_the_log_unless_asked_for() {
        assert_eq!(with_quiet_libraries("info"), "info,rsipstack=warn");
        assert_eq!(
            with_quiet_libraries("info,rsipstack=debug"),
            "info,rsipstack=debug"
        );
        assert!(EnvFilter::try_new(with_quiet_libraries("debug")).is_ok());
    }
}
