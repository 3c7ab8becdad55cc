//! Where finished call records go. The engine hands every record to the sink exactly once per
//! call; the sink must be idempotent on the call id anyway, because a crash between handing
//! over and acknowledging makes the engine retry.

use hotline_core::call::{CallEvent, CallRecord};
use thiserror::Error;

#[derive(Debug, Error)]
pub enum SinkError {
    /// Worth retrying (database away).
    #[error("record sink unavailable: {0}")]
    Unavailable(String),
    /// The record was refused and retrying will not help.
    #[error("record refused: {0}")]
    Refused(String),
}

pub trait CallRecordSink: Send + Sync + 'static {
    /// Store one finished call's record.
    fn record(
        &self,
        record: &CallRecord,
    ) -> impl std::future::Future<Output = Result<(), SinkError>> + Send;

    /// Publish one live event (wallboard, live KPIs). Lossy by design: a slow consumer must not
    /// slow the call, so the default drops it.
    fn event(&self, _event: &CallEvent) {}
}
