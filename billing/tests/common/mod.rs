//! Shared fixture of billing's store tests: a migrated throw-away database (SQLite or
//! PostgreSQL), a [`Billing`] on it with a clock the test moves, one tenant with an account and a
//! contract, and call records built the way the call engine folds them.

#![allow(dead_code)]

pub mod fake_gateway;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration as StdDuration;

use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;
use hotline_billing::gateway::PaymentGateway;
use hotline_billing::money::Currency;
use hotline_billing::store::{AccountSettings, BillingStore};
use hotline_billing::tariff::{TariffId, TariffVersion};
use hotline_billing::Billing;
use hotline_core::call::{
    CallRecord, Direction, EndCause, LegEnd, LegRecord, LegTarget, Party, Phase,
};
use hotline_core::ids::{AgentId, CallId, TenantId};
use hotline_core::testing::TestDb;
use hotline_core::{Backend, PlatformScope, TenantScope};
use rust_decimal::Decimal;
use serde_json::json;
use sqlx::Row;

pub const ZONE: Tz = chrono_tz::Europe::Bratislava;

pub fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

/// A local wall time in the tenant's zone, as UTC.
pub fn local(text: &str) -> DateTime<Utc> {
    let naive = NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S").unwrap();
    ZONE.from_local_datetime(&naive)
        .single()
        .unwrap()
        .with_timezone(&Utc)
}

/// A clock the test sets and moves.
#[derive(Clone)]
pub struct TestClock(Arc<Mutex<DateTime<Utc>>>);

impl TestClock {
    pub fn at(start: DateTime<Utc>) -> Self {
        Self(Arc::new(Mutex::new(start)))
    }

    pub fn now(&self) -> DateTime<Utc> {
        *self.0.lock().unwrap()
    }

    pub fn set(&self, at: DateTime<Utc>) {
        *self.0.lock().unwrap() = at;
    }

    pub fn advance(&self, by: Duration) {
        let mut now = self.0.lock().unwrap();
        *now += by;
    }
}

/// The standard contract of these tests, in EUR (arithmetic in the tests that use it):
/// - inbound minutes at 0.04 per minute, 60/60, with a 100-minute bundle for 10.00;
/// - agent-handled minutes at 0.02 per minute, per second (1/1);
/// - a 49.90 platform fee and 20.00 per seat, per period in advance.
pub fn standard_tariff(tariff_id: TariffId) -> TariffVersion {
    serde_json::from_value(json!({
        "tariff_id": tariff_id,
        "version": 1, "effective_from": "2026-01-01", "currency": "EUR",
        "metrics": [
            {"metric": "inbound_minutes", "rate_per_minute": "0.04",
             "increments": {"first_seconds": 60, "next_seconds": 60}},
            {"metric": "agent_minutes", "rate_per_minute": "0.02",
             "increments": {"first_seconds": 1, "next_seconds": 1}}
        ],
        "bundles": [{"metric": "inbound_minutes", "included_minutes": 100, "period_fee": "10.00"}],
        "recurring": [
            {"kind": "platform", "price_per_period": "49.90"},
            {"kind": "seat", "price_per_period": "20.00"}
        ]
    }))
    .unwrap()
}

/// Bratislava, billing day 1, 20 % tax, a one-day grace period.
pub fn standard_settings() -> AccountSettings {
    AccountSettings {
        name: "Acme Insurance s.r.o.".into(),
        email: Some("billing@acme.example".into()),
        currency: Currency::from_code("EUR").unwrap(),
        tax_rate: Some(Decimal::new(20, 2)),
        billing_day: 1,
        time_zone: ZONE,
        grace_period: StdDuration::from_secs(24 * 60 * 60),
    }
}

pub struct Fixture {
    pub test_db: TestDb,
    pub billing: Billing,
    pub clock: TestClock,
    pub platform: PlatformScope,
    pub tariff: TariffId,
}

impl Fixture {
    /// A database with the standard tariff, and the clock at 2026-03-10 12:00 local.
    pub async fn new(backend: Backend, gateway: Option<Arc<dyn PaymentGateway>>) -> Self {
        let test_db = TestDb::new(backend).await;
        let clock = TestClock::at(local("2026-03-10 12:00:00"));
        let billing = Self::billing_on(&test_db, &clock, gateway);
        let platform = PlatformScope::from_verified();
        let eur = Currency::from_code("EUR").unwrap();
        let tariff = billing
            .store()
            .platform_create_tariff(&platform, "Standard", eur, clock.now())
            .await
            .unwrap();
        billing
            .store()
            .platform_add_tariff_version(&platform, &standard_tariff(tariff.id), clock.now())
            .await
            .unwrap();
        Self {
            test_db,
            billing,
            clock,
            platform,
            tariff: tariff.id,
        }
    }

    /// A new [`Billing`] on the same database: what a restarted process gets.
    pub fn restarted(&self, gateway: Option<Arc<dyn PaymentGateway>>) -> Billing {
        Self::billing_on(&self.test_db, &self.clock, gateway)
    }

    fn billing_on(
        test_db: &TestDb,
        clock: &TestClock,
        gateway: Option<Arc<dyn PaymentGateway>>,
    ) -> Billing {
        let clock_handle = clock.clone();
        Billing::new(test_db.db.clone(), gateway).with_clock(Arc::new(move || clock_handle.now()))
    }

    pub fn store(&self) -> &BillingStore {
        self.billing.store()
    }

    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// A tenant with the standard account, on the standard tariff from 2026-01-01.
    pub async fn tenant(&self) -> (TenantId, TenantScope) {
        self.tenant_with(standard_settings(), date(2026, 1, 1))
            .await
    }

    pub async fn tenant_with(
        &self,
        settings: AccountSettings,
        contract_start: NaiveDate,
    ) -> (TenantId, TenantScope) {
        let tenant = TenantId::new();
        self.store()
            .platform_create_account(&self.platform, tenant, settings, self.now())
            .await
            .unwrap();
        self.store()
            .platform_create_contract(
                &self.platform,
                tenant,
                self.tariff,
                contract_start,
                None,
                self.now(),
            )
            .await
            .unwrap();
        (tenant, self.platform.tenant(tenant))
    }

    /// Rows in `table` matching `filter` (an SQL condition on the table's columns).
    pub async fn count(&self, table: &str, filter: &str) -> i64 {
        let row = sqlx::query(&format!("SELECT COUNT(*) AS n FROM {table} WHERE {filter}"))
            .fetch_one(self.test_db.db.pool())
            .await
            .unwrap();
        row.try_get("n").unwrap()
    }

    pub async fn finish(self) {
        self.test_db.finish().await;
    }
}

/// An inbound call of `tenant` answered by the IVR at `answered` (local), with `agent_seconds`
/// talking to an agent on leg 1 from `ivr_seconds` after the answer, ending with the agent leg.
pub fn inbound_call(
    tenant: TenantId,
    answered: &str,
    ivr_seconds: i64,
    agent_seconds: Option<i64>,
) -> CallRecord {
    let answered_at = local(answered);
    let arrived_at = answered_at - Duration::seconds(2);
    let mut legs = Vec::new();
    let mut ended_at = answered_at + Duration::seconds(ivr_seconds);
    let mut agent = None;
    if let Some(talk) = agent_seconds {
        let agent_id = AgentId::new();
        let leg_answered = answered_at + Duration::seconds(ivr_seconds);
        ended_at = leg_answered + Duration::seconds(talk);
        legs.push(LegRecord {
            leg: 1,
            target: LegTarget::Agent { agent_id },
            created_at: leg_answered - Duration::seconds(5),
            ringing_at: Some(leg_answered - Duration::seconds(4)),
            answered_at: Some(leg_answered),
            ended_at: Some(ended_at),
            end: Some(LegEnd::HungUp { by: Party::Caller }),
        });
        agent = Some((agent_id, leg_answered));
    }
    CallRecord {
        call_id: CallId::new(),
        direction: Direction::Inbound,
        tenant_id: Some(tenant),
        hotline_id: None,
        trunk_id: None,
        caller: "+421900123456".into(),
        dialed: "+421233000111".into(),
        branch: None,
        arrived_at,
        answered_at: Some(answered_at),
        ivr: None,
        queues: vec![],
        legs,
        agent_id: agent.map(|(id, _)| id),
        agent_answered_at: agent.map(|(_, at)| at),
        holds: vec![],
        transfers: vec![],
        vars: BTreeMap::new(),
        disposition: None,
        ended_at,
        end_cause: EndCause::Completed,
        hangup_by: Party::Caller,
        phase_at_end: Phase::Talking,
        media: Vec::new(),
        recording: None,
    }
}
