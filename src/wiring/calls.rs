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

    /// The records that piled up under load: one transaction for the call history and one for
    /// billing, whatever their number, instead of two per call. Idempotent like `record`.
    async fn record_batch(&self, records: &[CallRecord]) -> Result<(), SinkError> {
        let platform = PlatformScope::from_verified();
        match self.store.append_call_records(&platform, records).await {
            Ok(_) => {}
            Err(StoreError::Unavailable(error)) => {
                return Err(SinkError::Unavailable(error.to_string()))
            }
            Err(error) => return Err(SinkError::Refused(error.to_string())),
        }
        let outcome = self
            .billing
            .ingest_batch(records)
            .await
            .map_err(billing_failure)?;
        tracing::debug!(records = records.len(), ?outcome, "call records metered");
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

#[cfg(test)]
mod tests {
    use chrono::{DateTime, Utc};
    use hotline_billing::money::Currency;
    use hotline_billing::store::AccountSettings;
    use hotline_core::call::{Direction, EndCause, Party, Phase};
    use hotline_core::ids::{CallId, TenantId};
    use hotline_core::testing::TestDb;
    use hotline_tenants::audit::Actor;
    use hotline_tenants::tenants::{TenantLimits, TenantSpec, TenantStatus};
    use hotline_tenants::StoreConfig;

    use super::*;

    fn answered_call(tenant: Option<TenantId>, answered: &str, seconds: i64) -> CallRecord {
        let answered_at = DateTime::parse_from_rfc3339(answered)
            .expect("time")
            .with_timezone(&Utc);
        CallRecord {
            call_id: CallId::new(),
            direction: Direction::Inbound,
            tenant_id: tenant,
            hotline_id: None,
            trunk_id: None,
            caller: "+421900123456".into(),
            dialed: "+421233000111".into(),
            branch: None,
            arrived_at: answered_at - chrono::Duration::seconds(2),
            answered_at: Some(answered_at),
            ivr: None,
            queues: vec![],
            legs: vec![],
            agent_id: None,
            agent_answered_at: None,
            holds: vec![],
            transfers: vec![],
            vars: Default::default(),
            disposition: None,
            ended_at: answered_at + chrono::Duration::seconds(seconds),
            end_cause: EndCause::Completed,
            hangup_by: Party::Caller,
            phase_at_end: Phase::Talking,
            media: Vec::new(),
            recording: None,
        }
    }

    async fn tenant(store: &Store, slug: &str) -> TenantId {
        let spec = TenantSpec {
            slug: slug.into(),
            name: slug.into(),
            status: TenantStatus::Active,
            time_zone: "Europe/Bratislava".into(),
            limits: TenantLimits::default(),
        };
        store
            .create_tenant(&Actor::cli(), &PlatformScope::from_verified(), spec)
            .await
            .expect("tenant")
            .id
    }

    /// A tenant billed per inbound minute from 2025-01-01.
    async fn bill(billing: &Billing, tenant: TenantId) {
        let store = billing.store();
        let platform = PlatformScope::from_verified();
        let now = billing.now();
        let eur = Currency::from_code("EUR").expect("EUR");
        let tariff = store
            .platform_create_tariff(&platform, "Per minute", eur, now)
            .await
            .expect("tariff");
        let version = serde_json::from_value(serde_json::json!({
            "tariff_id": tariff.id, "version": 1, "effective_from": "2025-01-01", "currency": "EUR",
            "metrics": [{"metric": "inbound_minutes", "rate_per_minute": "0.04",
                         "increments": {"first_seconds": 60, "next_seconds": 60}}]
        }))
        .expect("version");
        store
            .platform_add_tariff_version(&platform, &version, now)
            .await
            .expect("add version");
        let settings = AccountSettings {
            name: "Acme".into(),
            email: None,
            currency: eur,
            tax_rate: None,
            billing_day: 1,
            time_zone: chrono_tz::Europe::Bratislava,
            grace_period: std::time::Duration::from_secs(3600),
        };
        store
            .platform_create_account(&platform, tenant, settings, now)
            .await
            .expect("account");
        let start = chrono::NaiveDate::from_ymd_opt(2025, 1, 1).expect("date");
        store
            .platform_create_contract(&platform, tenant, tariff.id, start, None, now)
            .await
            .expect("contract");
    }

    /// A record handed over (again and again, as the spool does after a lost acknowledgement)
    /// is in the call history once and billed once; records billing has nothing to do with are
    /// accepted too.
    async fn records_reach_the_history_and_billing_once(backend: hotline_core::Backend) {
        let test_db = TestDb::new(backend).await;
        let store = Store::new(test_db.db.clone(), StoreConfig::default());
        let billing = Billing::new(test_db.db.clone(), None);
        let acme = tenant(&store, "acme").await;
        let unbilled = tenant(&store, "unbilled").await;
        bill(&billing, acme).await;
        let sink = RecordSink::new(store.clone());

        let record = answered_call(Some(acme), "2026-01-15T09:00:00Z", 90);
        for _ in 0..3 {
            sink.record(&record).await.expect("stored");
        }
        let scope = PlatformScope::from_verified().tenant(acme);
        let history = store
            .get_call_record(&scope, record.call_id)
            .await
            .expect("in the history");
        assert_eq!(history.call_id, record.call_id);
        let invoices = billing.store().invoices(&scope).await.expect("invoices");
        assert_eq!(invoices.len(), 1);
        let usage = billing
            .store()
            .invoice_usage(&scope, invoices[0].id)
            .await
            .expect("usage");
        assert_eq!(usage.len(), 1, "{usage:?}");
        assert_eq!(usage[0].call_id, record.call_id);

        for record in [
            answered_call(None, "2026-01-15T10:00:00Z", 30),
            answered_call(Some(unbilled), "2026-01-15T10:00:00Z", 30),
        ] {
            sink.record(&record).await.expect("accepted");
        }
        let unbilled_scope = PlatformScope::from_verified().tenant(unbilled);
        assert!(billing
            .store()
            .invoices(&unbilled_scope)
            .await
            .expect("invoices")
            .is_empty());

        // With the database gone the spool is told to retry, not that the record is refused.
        test_db.db.close().await;
        let later = answered_call(Some(acme), "2026-01-16T09:00:00Z", 60);
        assert!(matches!(
            sink.record(&later).await,
            Err(SinkError::Unavailable(_))
        ));
        test_db.finish().await;
    }

    /// A batch — with a record stored before, the same record twice, a record without a tenant
    /// and one of a tenant billing has nothing to do with — lands in the call history and in
    /// billing once per call, like records handed over one by one.
    async fn batches_reach_the_history_and_billing_once(backend: hotline_core::Backend) {
        let test_db = TestDb::new(backend).await;
        let store = Store::new(test_db.db.clone(), StoreConfig::default());
        let billing = Billing::new(test_db.db.clone(), None);
        let acme = tenant(&store, "acme").await;
        let unbilled = tenant(&store, "unbilled").await;
        bill(&billing, acme).await;
        let sink = RecordSink::new(store.clone());

        let earlier = answered_call(Some(acme), "2026-01-15T08:00:00Z", 60);
        sink.record(&earlier).await.expect("stored alone");
        let acme_calls: Vec<CallRecord> = (0..3)
            .map(|n| answered_call(Some(acme), &format!("2026-01-15T09:0{n}:00Z"), 90))
            .collect();
        let mut batch = vec![earlier.clone()];
        batch.extend(acme_calls.iter().cloned());
        batch.push(acme_calls[0].clone());
        batch.push(answered_call(None, "2026-01-15T10:00:00Z", 30));
        batch.push(answered_call(Some(unbilled), "2026-01-15T10:00:00Z", 30));
        for _ in 0..2 {
            sink.record_batch(&batch).await.expect("stored");
        }

        let scope = PlatformScope::from_verified().tenant(acme);
        let history = store
            .list_call_records(&scope, &hotline_tenants::PageRequest::first(50))
            .await
            .expect("history");
        let mut stored: Vec<CallId> = history.items.iter().map(|r| r.call_id).collect();
        let mut expected: Vec<CallId> = std::iter::once(&earlier)
            .chain(&acme_calls)
            .map(|r| r.call_id)
            .collect();
        stored.sort();
        expected.sort();
        assert_eq!(stored, expected, "each of acme's calls once");
        let invoices = billing.store().invoices(&scope).await.expect("invoices");
        assert_eq!(invoices.len(), 1);
        let usage = billing
            .store()
            .invoice_usage(&scope, invoices[0].id)
            .await
            .expect("usage");
        let mut billed: Vec<CallId> = usage.iter().map(|u| u.call_id).collect();
        billed.sort();
        assert_eq!(billed, expected, "each of acme's calls billed once");
        let unbilled_scope = PlatformScope::from_verified().tenant(unbilled);
        assert_eq!(
            store
                .list_call_records(&unbilled_scope, &hotline_tenants::PageRequest::first(50))
                .await
                .expect("history")
                .items
                .len(),
            1
        );
        assert!(billing
            .store()
            .invoices(&unbilled_scope)
            .await
            .expect("invoices")
            .is_empty());

        test_db.db.close().await;
        assert!(matches!(
            sink.record_batch(&batch).await,
            Err(SinkError::Unavailable(_))
        ));
        test_db.finish().await;
    }

    hotline_core::both_backends!(
        records_reach_the_history_and_billing_once,
        batches_reach_the_history_and_billing_once
    );
}
