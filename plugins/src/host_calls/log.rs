//! `hotline:plugin/log`: lines into the tenant's plugin log, within the line and per-call caps.

use crate::bindings::ivr::hotline::plugin::log::{Host, Level, LogError};
use crate::host::state::CallState;
use crate::plugin_log::{LogLevel, LogSource};

impl Host for CallState {
    async fn write(
        &mut self,
        level: Level,
        message: String,
    ) -> wasmtime::Result<Result<(), LogError>> {
        // Bounded by the per-call log budget rather than the rate cap.
        self.enter_unrated()?;
        let result = if message.len() > self.sandbox.log_line_bytes as usize {
            Err(LogError::TooLong(self.sandbox.log_line_bytes))
        } else if self.log_bytes as usize + message.len() > self.sandbox.log_bytes_per_call as usize
        {
            if !self.log_dropped {
                self.log_dropped = true;
                self.host_line(
                    LogLevel::Warn,
                    format!(
                        "the call wrote its {} bytes of log; further lines were dropped",
                        self.sandbox.log_bytes_per_call
                    ),
                );
            }
            Err(LogError::BudgetExhausted(self.sandbox.log_bytes_per_call))
        } else {
            let level = match level {
                Level::Debug => LogLevel::Debug,
                Level::Info => LogLevel::Info,
                Level::Warn => LogLevel::Warn,
                Level::Error => LogLevel::Error,
            };
            self.log_bytes += message.len() as u32;
            self.note("log", format!("{} {message}", level.as_str()));
            self.push_line(level, LogSource::Plugin, message);
            Ok(())
        };
        if let Err(e) = &result {
            self.note("error", format!("log.write -> {e:?}"));
        }
        self.leave();
        Ok(result)
    }
}
