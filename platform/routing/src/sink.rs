//! Where finished call records go. The engine hands every record to the sink exactly once per
//! call; the sink must be idempotent on the call id anyway, because a crash between handing
//! over and acknowledging makes the engine retry.
//!
//! Under load the engine hands over the records that piled up while the previous write ran in
//! one [`CallRecordSink::record_batch`] call, so a store can write them in one transaction
//! instead of one per call. A sink that cannot batch need not: the default stores them one by one.

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

    /// Store several finished calls' records. On an error the engine hands the same records
    /// over again (all of them, or one by one after a refusal), so a batch stored in part is
    /// fine: storing is idempotent on the call id.
    fn record_batch(
        &self,
        records: &[CallRecord],
    ) -> impl std::future::Future<Output = Result<(), SinkError>> + Send {
        async move {
            for record in records {
                self.record(record).await?;
            }
            Ok(())
        }
    }

    /// Publish one live event (wallboard, live KPIs). Lossy by design: a slow consumer must not
    /// slow the call, so the default drops it.
    fn event(&self, _event: &CallEvent) {}
}
