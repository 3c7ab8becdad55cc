//! Where the call engine's output goes and where it finds agents' phones: finished call records
//! into the call history of the tenant store and then into billing's ingestion, and the SIP
//! registrar's location service as the engine's `AgentLocator`.
//!
//! A record is written to the call history first and metered second, and both are idempotent on
//! the call id: when either store is away the sink answers `Unavailable`, the engine's spool hands
//! the same record over again, and whatever was stored already is a no-op the second time. So a
//! record is never billed without being in the history, and never billed twice. Records billing
//! has nothing to do with (no tenant, no contract, unanswered) are fine, not errors.

use std::sync::Arc;

use hotline_billing::{Billing, BillingError, IngestOutcome};
use hotline_core::call::CallRecord;
use hotline_core::ids::AgentId;
use hotline_core::PlatformScope;
use hotline_routing::{AgentContact, AgentLocator, CallRecordSink, SinkError};
use hotline_sip::registrar::{Registrar, SipTransport};
use hotline_tenants::{Store, StoreError};

/// Call records into the call history, then into billing. Idempotent on the call id, so the
/// engine's retries after a lost acknowledgement store and bill nothing twice.
#[derive(Clone)]
pub struct RecordSink {
    store: Store,
    billing: Billing,
}

impl RecordSink {
    /// Billing on the store's database; ingestion needs no payment gateway (that is the outbox's).
    pub fn new(store: Store) -> Self {
        let billing = Billing::new(store.db().clone(), None);
        Self { store, billing }
    }
}

/// How a billing failure reaches the spool: the database being away is retried, anything else
/// is a refusal that retrying would not fix.
fn billing_failure(error: BillingError) -> SinkError {
    if error.is_unavailable() {
        SinkError::Unavailable(error.to_string())
    } else {
        SinkError::Refused(format!("billing: {error}"))
    }
}

impl CallRecordSink for RecordSink {
    async fn record(&self, record: &CallRecord) -> Result<(), SinkError> {
        let platform = PlatformScope::from_verified();
        match self.store.append_call_record(&platform, record).await {
            Ok(_) => {}
            Err(StoreError::Unavailable(error)) => {
                return Err(SinkError::Unavailable(error.to_string()))
            }
            Err(error) => return Err(SinkError::Refused(error.to_string())),
        }
        match self.billing.ingest(record).await.map_err(billing_failure)? {
            IngestOutcome::Ingested(counts) => {
                tracing::debug!(call_id = %record.call_id, stored = counts.stored, late = counts.late,
                    duplicates = counts.duplicates, "call record metered");
            }
            IngestOutcome::NotBilled(reason) => {
                tracing::debug!(call_id = %record.call_id, ?reason, "call record not billed");
            }
        }
        Ok(())
    }
}

/// The registrar's live bindings, as the engine's view of where an agent can be rung.
#[derive(Clone)]
pub struct RegisteredPhones(pub Arc<Registrar>);

impl AgentLocator for RegisteredPhones {
    fn contacts(&self, agent_id: AgentId) -> Vec<AgentContact> {
        self.0
            .contacts(agent_id)
            .into_iter()
            .map(|contact| AgentContact {
                uri: contact.contact_uri,
                destination: contact.target,
                tcp: contact.transport == SipTransport::Tcp,
            })
            .collect()
    }
}
