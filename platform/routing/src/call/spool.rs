//! Hands finished call records to the sink, retrying while the sink is unavailable (database
//! restarting), so a record is never dropped because storage blinked. Records wait in a bounded
//! queue; if even that overflows, the record is written to the log in full (JSON) so it can be
//! replayed, and counted.

use std::sync::Arc;
use std::time::Duration;

use hotline_core::call::CallRecord;
use tokio::sync::mpsc;
use tracing::{error, warn};

use crate::sink::{CallRecordSink, SinkError};

/// Records waiting for the sink before overflow goes to the log.
const QUEUE: usize = 65_536;

#[derive(Clone)]
pub(crate) struct RecordSpool {
    queue: mpsc::Sender<CallRecord>,
}

impl RecordSpool {
    /// Start the spool's writer task.
    pub(crate) fn start<S: CallRecordSink>(sink: Arc<S>) -> (Self, tokio::task::JoinHandle<()>) {
        let (queue, mut pending) = mpsc::channel::<CallRecord>(QUEUE);
        let writer = tokio::spawn(async move {
            while let Some(record) = pending.recv().await {
                deliver(sink.as_ref(), &record).await;
            }
        });
        (Self { queue }, writer)
    }

    pub(crate) fn submit(&self, record: CallRecord) {
        if let Err(refused) = self.queue.try_send(record) {
            let record = match refused {
                mpsc::error::TrySendError::Full(record)
                | mpsc::error::TrySendError::Closed(record) => record,
            };
            metrics::counter!("hotline_call_records_overflow_total").increment(1);
            error!(
                call_id = %record.call_id,
                record = %serde_json::to_string(&record).unwrap_or_default(),
                "call record queue full: the record is in this log line"
            );
        }
    }
}

async fn deliver<S: CallRecordSink>(sink: &S, record: &CallRecord) {
    let mut delay = Duration::from_millis(100);
    loop {
        match sink.record(record).await {
            Ok(()) => return,
            Err(SinkError::Refused(why)) => {
                metrics::counter!("hotline_call_records_refused_total").increment(1);
                error!(
                    call_id = %record.call_id,
                    %why,
                    record = %serde_json::to_string(record).unwrap_or_default(),
                    "call record refused by the store: the record is in this log line"
                );
                return;
            }
            Err(SinkError::Unavailable(why)) => {
                warn!(call_id = %record.call_id, %why, retry_in = ?delay, "call record store unavailable");
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(5));
            }
        }
    }
}
