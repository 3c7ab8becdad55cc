//! The tenant's plugin log. [`info`] and friends never fail the call: a line over the limit
//! or past the call's log budget is dropped (use [`write`] to see why).

use crate::bindings::wit_log;
pub use crate::bindings::wit_log::Level;
use crate::Result;

/// Append a line; the host's reason if it was not written.
pub fn write(level: Level, message: &str) -> Result<()> {
    Ok(wit_log::write(level, message)?)
}

pub fn debug(message: impl AsRef<str>) {
    let _ = wit_log::write(Level::Debug, message.as_ref());
}

pub fn info(message: impl AsRef<str>) {
    let _ = wit_log::write(Level::Info, message.as_ref());
}

pub fn warn(message: impl AsRef<str>) {
    let _ = wit_log::write(Level::Warn, message.as_ref());
}

pub fn error(message: impl AsRef<str>) {
    let _ = wit_log::write(Level::Error, message.as_ref());
}
