//! Where the call engine's output goes and where it finds agents' phones: finished call records
//! into the call history of the tenant store (billing's ingestion joins here when it lands), and
//! the SIP registrar's location service as the engine's `AgentLocator`.

use std::sync::Arc;

use hotline_core::call::CallRecord;
use hotline_core::ids::AgentId;
use hotline_core::PlatformScope;
use hotline_routing::{AgentContact, AgentLocator, CallRecordSink, SinkError};
use hotline_sip::registrar::{Registrar, SipTransport};
use hotline_tenants::{Store, StoreError};

/// Call records into the call history. Idempotent on the call id, so the engine's retries after
/// a lost acknowledgement store nothing twice.
#[derive(Clone, Debug)]
pub struct RecordSink {
    store: Store,
}

impl RecordSink {
    pub fn new(store: Store) -> Self {
        Self { store }
    }
}

impl CallRecordSink for RecordSink {
    async fn record(&self, record: &CallRecord) -> Result<(), SinkError> {
        let platform = PlatformScope::from_verified();
        match self.store.append_call_record(&platform, record).await {
            Ok(_) => Ok(()),
            Err(StoreError::Unavailable(error)) => Err(SinkError::Unavailable(error.to_string())),
            Err(error) => Err(SinkError::Refused(error.to_string())),
        }
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
