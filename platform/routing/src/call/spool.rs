//! Hands finished call records to the sink, retrying while the sink is unavailable (database
//! restarting), so a record is never dropped because storage blinked. Records wait in a bounded
//! queue; if even that overflows, the record is written to the log in full (JSON) so it can be
//! replayed, and counted.
//!
//! The writer hands over everything that piled up while its previous write ran, up to [`BATCH`]
//! records, in one [`CallRecordSink::record_batch`]: at a few calls a second that is one record
//! at a time with no added wait, under load one transaction for many calls instead of one each
//! (the store's commits, not the calls, were what limited the rate). A batch the sink refuses is
//! handed over again record by record, so one bad record never costs the others their place.

use std::sync::Arc;
use std::time::Duration;

use hotline_core::call::CallRecord;
use tokio::sync::mpsc;
use tracing::{error, warn};

use crate::sink::{CallRecordSink, SinkError};

/// Records waiting for the sink before overflow goes to the log.
const QUEUE: usize = 65_536;
/// Records handed to the sink in one call at most: enough to make a commit cheap per record,
/// small enough to stay one modest transaction.
const BATCH: usize = 256;

#[derive(Clone)]
pub(crate) struct RecordSpool {
    queue: mpsc::Sender<CallRecord>,
}

impl RecordSpool {
    /// Start the spool's writer task.
    pub(crate) fn start<S: CallRecordSink>(sink: Arc<S>) -> (Self, tokio::task::JoinHandle<()>) {
        let (queue, mut pending) = mpsc::channel::<CallRecord>(QUEUE);
        let writer = tokio::spawn(async move {
            let mut batch = Vec::with_capacity(BATCH);
            while pending.recv_many(&mut batch, BATCH).await > 0 {
                deliver_batch(sink.as_ref(), &batch).await;
                batch.clear();
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

/// Hand `records` over together, retrying while the sink is unavailable; after a refusal, one
/// by one, so that only the refused record is left out.
async fn deliver_batch<S: CallRecordSink>(sink: &S, records: &[CallRecord]) {
    if let [record] = records {
        return deliver(sink, record).await;
    }
    let mut delay = Duration::from_millis(100);
    loop {
        match sink.record_batch(records).await {
            Ok(()) => return,
            Err(SinkError::Refused(why)) => {
                warn!(records = records.len(), %why, "a batch of call records was refused; storing them one by one");
                for record in records {
                    deliver(sink, record).await;
                }
                return;
            }
            Err(SinkError::Unavailable(why)) => {
                warn!(records = records.len(), %why, retry_in = ?delay, "call record store unavailable");
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(5));
            }
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

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use chrono::{TimeZone, Utc};
    use hotline_core::call::{CallEventKind, CallTimeline, Direction, EndCause, Party};
    use hotline_core::ids::CallId;
    use tokio::sync::{Notify, Semaphore};

    use super::*;

    fn record() -> CallRecord {
        let start = Utc.with_ymd_and_hms(2026, 11, 2, 9, 0, 0).unwrap();
        let mut timeline = CallTimeline::new(CallId::new());
        timeline
            .record(
                start,
                CallEventKind::Arrived {
                    direction: Direction::Inbound,
                    caller: "+421900111222".into(),
                    dialed: "+421233000111".into(),
                    trunk_id: None,
                },
            )
            .unwrap();
        timeline.end(start, EndCause::Abandoned, Party::Caller);
        timeline.to_record().unwrap()
    }

    /// A sink that stores what it is given, writes only as the test lets it (`gate`), refuses one
    /// call id, and is unavailable for its first `outages` writes.
    struct Scripted {
        gate: Semaphore,
        entered: Notify,
        refuse: Option<CallId>,
        outages: Mutex<usize>,
        /// Call ids per write, in the order the writes were made (`record` is a write of one).
        writes: Mutex<Vec<Vec<CallId>>>,
    }

    impl Scripted {
        fn new(refuse: Option<CallId>, outages: usize) -> Arc<Self> {
            Arc::new(Self {
                gate: Semaphore::new(0),
                entered: Notify::new(),
                refuse,
                outages: Mutex::new(outages),
                writes: Mutex::new(Vec::new()),
            })
        }

        async fn write(&self, records: &[CallRecord]) -> Result<(), SinkError> {
            self.entered.notify_one();
            let permit = self.gate.acquire().await.unwrap();
            permit.forget();
            {
                let mut outages = self.outages.lock().unwrap();
                if *outages > 0 {
                    *outages -= 1;
                    return Err(SinkError::Unavailable("restarting".into()));
                }
            }
            if records.iter().any(|r| Some(r.call_id) == self.refuse) {
                return Err(SinkError::Refused("bad record".into()));
            }
            self.writes
                .lock()
                .unwrap()
                .push(records.iter().map(|r| r.call_id).collect());
            Ok(())
        }

        fn writes(&self) -> Vec<Vec<CallId>> {
            self.writes.lock().unwrap().clone()
        }
    }

    impl CallRecordSink for Scripted {
        async fn record(&self, record: &CallRecord) -> Result<(), SinkError> {
            self.write(std::slice::from_ref(record)).await
        }

        async fn record_batch(&self, records: &[CallRecord]) -> Result<(), SinkError> {
            self.write(records).await
        }
    }

    #[tokio::test]
    async fn records_that_pile_up_during_a_write_go_to_the_sink_together() {
        let sink = Scripted::new(None, 0);
        let (spool, writer) = RecordSpool::start(sink.clone());
        let records: Vec<CallRecord> = (0..5).map(|_| record()).collect();
        spool.submit(records[0].clone());
        sink.entered.notified().await;
        for record in &records[1..] {
            spool.submit(record.clone());
        }
        sink.gate.add_permits(Semaphore::MAX_PERMITS / 2);
        drop(spool);
        writer.await.unwrap();
        let ids: Vec<CallId> = records.iter().map(|r| r.call_id).collect();
        assert_eq!(sink.writes(), vec![ids[..1].to_vec(), ids[1..].to_vec()]);
    }

    #[tokio::test]
    async fn a_refused_batch_is_retried_one_by_one_and_only_the_bad_record_is_left_out() {
        let records: Vec<CallRecord> = (0..4).map(|_| record()).collect();
        let sink = Scripted::new(Some(records[2].call_id), 0);
        let (spool, writer) = RecordSpool::start(sink.clone());
        spool.submit(records[0].clone());
        sink.entered.notified().await;
        for record in &records[1..] {
            spool.submit(record.clone());
        }
        sink.gate.add_permits(Semaphore::MAX_PERMITS / 2);
        drop(spool);
        writer.await.unwrap();
        let ids: Vec<CallId> = records.iter().map(|r| r.call_id).collect();
        assert_eq!(
            sink.writes(),
            vec![vec![ids[0]], vec![ids[1]], vec![ids[3]]],
            "the batch [1, 2, 3] was refused for record 2; 1 and 3 were stored alone"
        );
    }

    #[tokio::test]
    async fn a_batch_is_handed_over_again_until_the_store_is_back() {
        let records: Vec<CallRecord> = (0..3).map(|_| record()).collect();
        let sink = Scripted::new(None, 2);
        let (spool, writer) = RecordSpool::start(sink.clone());
        for record in &records {
            spool.submit(record.clone());
        }
        sink.gate.add_permits(Semaphore::MAX_PERMITS / 2);
        drop(spool);
        writer.await.unwrap();
        let stored: Vec<CallId> = sink.writes().concat();
        let ids: Vec<CallId> = records.iter().map(|r| r.call_id).collect();
        assert_eq!(
            stored, ids,
            "every record stored once, in order, after two outages"
        );
    }
}
