//! One call's bookkeeping: its timeline of events (published live as they happen) and the
//! guarantee that it ends with a record. Dropping a context that was never finished — a panic,
//! a task cancelled at shutdown — still ends the timeline and hands the record over.

use std::sync::Arc;

use hotline_core::call::{CallEventKind, CallTimeline, EndCause, Party};
use hotline_core::ids::CallId;
use tracing::warn;

use super::spool::RecordSpool;
use crate::sink::CallRecordSink;

pub(crate) struct CallContext<S: CallRecordSink> {
    timeline: CallTimeline,
    sink: Arc<S>,
    spool: RecordSpool,
    finished: bool,
}

impl<S: CallRecordSink> CallContext<S> {
    pub(crate) fn new(call_id: CallId, sink: Arc<S>, spool: RecordSpool) -> Self {
        Self {
            timeline: CallTimeline::new(call_id),
            sink,
            spool,
            finished: false,
        }
    }

    pub(crate) fn call_id(&self) -> CallId {
        self.timeline.call_id()
    }

    /// Record one step now and publish it.
    pub(crate) fn emit(&mut self, kind: CallEventKind) {
        match self.timeline.record(hotline_core::time::now(), kind) {
            Ok(event) => self.sink.event(&event),
            Err(error) => warn!(call_id = %self.call_id(), %error, "call event out of place"),
        }
    }

    /// End the call and hand its record to the spool.
    pub(crate) fn finish(mut self, cause: EndCause, hangup_by: Party) {
        self.end(cause, hangup_by);
    }

    fn end(&mut self, cause: EndCause, hangup_by: Party) {
        if self.finished {
            return;
        }
        self.finished = true;
        if let Some(event) = self
            .timeline
            .end(hotline_core::time::now(), cause, hangup_by)
        {
            self.sink.event(&event);
        }
        match self.timeline.to_record() {
            Ok(record) => self.spool.submit(record),
            Err(error) => warn!(call_id = %self.call_id(), %error, "call ended without a record"),
        }
    }
}

impl<S: CallRecordSink> Drop for CallContext<S> {
    fn drop(&mut self) {
        if !self.finished {
            self.end(EndCause::Failed { status: 500 }, Party::System);
        }
    }
}
