//! Billing in `hotline serve`: the payment gateway built from the configuration (Stripe, only
//! when a secret key is configured), what the HTTP API needs of billing, and the background work
//! — the outbox driver that mirrors finalized invoices to Stripe (only with a gateway), the
//! periodic close of due billing periods, and the reconciler that keeps billing's seat and
//! number ownership in step with the tenant store.
//!
//! Why a reconciler rather than the HTTP handlers calling billing after each change: a handler's
//! second write can be lost (the process dies between the two, billing's database blinks, or the
//! change came through another path — the CLI, another node, a deleted agent), and nothing would
//! ever replay it. The reconciler compares the *state* of both stores — which firm agents are
//! assigned to each tenant, which numbers it owns — with billing's open intervals and records the
//! difference, so whatever went wrong before, the next pass converges. Passes run as soon as this
//! process's tenant store reports a change (its routing generation, checked every second) and
//! every few minutes regardless (other nodes' changes). A number's interval starts when the
//! number was created for the tenant; a seat's, and every release, when the pass saw it, which is
//! within a second for changes made through this process. An assignment shorter than one pass
//! is not seen; recurring fees are prorated by day, so this never moves an amount by more than
//! one day of one unit.
//!
//! Seats are the firm's agents assigned to a tenant (the tenant store's definition of a billed
//! seat); a tenant's own agents are its own staff and are not billed per seat.
//!
//! Rules live in the billing crate: this module only wires and schedules.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use chrono::{DateTime, Utc};
use hotline_admin_ui::api::billing_context::{BillingContext, Seller};
use hotline_billing::gateway::PaymentGateway;
use hotline_billing::outbox::DriverConfig;
use hotline_billing::store::UnitChange;
use hotline_billing::tariff::RecurringKind;
use hotline_billing::{Billing, BillingResult};
use hotline_billing_stripe::{StripeConfig, StripeGateway};
use hotline_core::ids::{AgentId, NumberId, TenantId};
use hotline_core::{PlatformScope, TenantScope};
use hotline_tenants::agents::AgentKind;
use hotline_tenants::numbers::NumberSpec;
use hotline_tenants::{PageRequest, Store, StoreResult};
use tokio::sync::watch;
use tokio::task::JoinHandle;
use uuid::Uuid;

use crate::config::Config;

/// How often due billing periods are opened, closed and finalized.
const CLOSE_INTERVAL: Duration = Duration::from_secs(5 * 60);
/// How often the reconciler looks for a change made through this process.
const CHANGE_POLL: Duration = Duration::from_secs(1);
/// How often the reconciler compares everything anyway (changes made elsewhere).
const FULL_RECONCILE: Duration = Duration::from_secs(5 * 60);

/// The Stripe gateway when `billing.stripe_secret_key` is set; `None` means nothing is sent.
pub fn gateway(config: &Config) -> Result<Option<Arc<dyn PaymentGateway>>> {
    let Some(key) = &config.billing.stripe_secret_key else {
        return Ok(None);
    };
    let mut stripe = StripeConfig::new(key.clone());
    if let Some(base) = &config.billing.stripe_api_base {
        stripe = stripe.with_api_base(base.clone());
    }
    if let Some(secret) = &config.billing.stripe_webhook_secret {
        stripe = stripe.with_webhook_secret(secret.clone());
    }
    let gateway = StripeGateway::new(stripe)
        .context("cannot set up the Stripe gateway (billing.stripe_* settings)")?;
    Ok(Some(Arc::new(gateway)))
}

/// What the HTTP API's billing endpoints need.
pub fn api_context(config: &Config, billing: Billing) -> BillingContext {
    BillingContext {
        billing,
        seller: Seller {
            name: config.billing.seller_name.clone(),
            address_lines: config.billing.seller_address.clone(),
        },
        default_grace: Duration::from_secs(u64::from(config.billing.grace_period_hours) * 3600),
    }
}

/// Billing's background tasks, running until [`BillingTasks::shutdown`].
pub struct BillingTasks {
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

impl BillingTasks {
    /// Starts the periodic close, the ownership reconciler and, with a gateway, the outbox driver.
    pub fn start(billing: Billing, store: Store) -> Self {
        let (stop, stopped) = watch::channel(false);
        let mut tasks = Vec::new();
        match billing.outbox_driver(DriverConfig::default()) {
            Some(driver) => {
                tracing::info!("billing: sending finalized invoices to Stripe");
                tasks.push(tokio::spawn(driver.run(until_stopped(stopped.clone()))));
            }
            None => tracing::info!(
                "billing: no Stripe key configured (billing.stripe_secret_key); invoices stay local"
            ),
        }
        tasks.push(tokio::spawn(close_periodically(
            billing.clone(),
            stopped.clone(),
        )));
        tasks.push(tokio::spawn(reconcile_ownership(store, billing, stopped)));
        Self { stop, tasks }
    }

    /// Stops the tasks, giving work in progress `grace` to finish.
    pub async fn shutdown(self, grace: Duration) {
        let _ = self.stop.send(true);
        for task in self.tasks {
            let abort = task.abort_handle();
            if tokio::time::timeout(grace, task).await.is_err() {
                tracing::warn!("a billing task did not stop in time; abandoning it");
                abort.abort();
            }
        }
    }
}

async fn until_stopped(mut stopped: watch::Receiver<bool>) {
    let _ = stopped.wait_for(|stop| *stop).await;
}

/// Sleeps `period`; false when asked to stop meanwhile.
async fn pause(stopped: &mut watch::Receiver<bool>, period: Duration) -> bool {
    tokio::select! {
        _ = until_stopped(stopped.clone()) => false,
        _ = tokio::time::sleep(period) => !*stopped.borrow(),
    }
}

async fn close_periodically(billing: Billing, mut stopped: watch::Receiver<bool>) {
    let platform = PlatformScope::from_verified();
    loop {
        match billing.close_due_periods(&platform).await {
            Ok(report) => {
                let busy = report.opened > 0
                    || report.closing > 0
                    || !report.finalized.is_empty()
                    || !report.failed.is_empty();
                if busy {
                    tracing::info!(
                        opened = report.opened,
                        closing = report.closing,
                        finalized = report.finalized.len(),
                        failed = report.failed.len(),
                        "billing periods closed"
                    );
                }
            }
            Err(err) => {
                tracing::warn!(error = %err, "closing billing periods failed; trying again later")
            }
        }
        if !pause(&mut stopped, CLOSE_INTERVAL).await {
            return;
        }
    }
}

async fn reconcile_ownership(store: Store, billing: Billing, mut stopped: watch::Receiver<bool>) {
    let mut seen_generation = None;
    let mut last_full = tokio::time::Instant::now();
    loop {
        let generation = store.routing_generation();
        let due = seen_generation != Some(generation) || last_full.elapsed() >= FULL_RECONCILE;
        if due {
            match reconcile_all(&store, &billing, billing.now()).await {
                Ok(changes) if changes > 0 => {
                    tracing::info!(changes, "billing: seat and number ownership updated")
                }
                Ok(_) => {}
                // Retried at the next change or the next full pass, not every second: state is
                // compared, so nothing is lost by waiting.
                Err(err) => tracing::warn!(error = %format!("{err:#}"),
                    "reconciling seat and number ownership failed; trying again later"),
            }
            seen_generation = Some(generation);
            last_full = tokio::time::Instant::now();
        }
        if !pause(&mut stopped, CHANGE_POLL).await {
            return;
        }
    }
}

/// Units a tenant holds now, with when each interval should start, against the units billing
/// has an open interval for: what to assign (with its start) and what to release.
pub fn ownership_changes(
    held: &BTreeMap<Uuid, DateTime<Utc>>,
    billed: &BTreeSet<Uuid>,
) -> (Vec<(Uuid, DateTime<Utc>)>, Vec<Uuid>) {
    let assign = held
        .iter()
        .filter(|(unit, _)| !billed.contains(*unit))
        .map(|(unit, from)| (*unit, *from))
        .collect();
    let release = billed
        .iter()
        .filter(|unit| !held.contains_key(*unit))
        .copied()
        .collect();
    (assign, release)
}

/// One pass over every tenant; the number of intervals started or ended. A tenant that fails
/// is skipped, and the pass then reports the failure after finishing the others.
pub async fn reconcile_all(store: &Store, billing: &Billing, now: DateTime<Utc>) -> Result<usize> {
    let platform = PlatformScope::from_verified();
    let mut tenants: Vec<TenantId> = Vec::new();
    let mut page = PageRequest::first(PageRequest::MAX_LIMIT);
    loop {
        let batch = store.list_tenants(&platform, &page).await?;
        tenants.extend(batch.items.iter().map(|t| t.id));
        match batch.next {
            Some(after) => page.after = Some(after),
            None => break,
        }
    }
    // One tenant failing must not keep the others from being reconciled.
    let (mut changes, mut failed) = (0, Vec::new());
    for tenant in tenants {
        match reconcile_tenant(store, billing, &platform.tenant(tenant), now).await {
            Ok(made) => changes += made,
            Err(err) => {
                tracing::warn!(%tenant, error = %format!("{err:#}"), "reconciling a tenant's ownership failed");
                failed.push(tenant);
            }
        }
    }
    if !failed.is_empty() {
        anyhow::bail!(
            "{} tenant(s) could not be reconciled ({} change(s) made for the others)",
            failed.len(),
            changes
        );
    }
    Ok(changes)
}

async fn reconcile_tenant(
    store: &Store,
    billing: &Billing,
    scope: &TenantScope,
    now: DateTime<Utc>,
) -> Result<usize> {
    let (seats, numbers) = held_units(store, scope, now).await?;
    let open = billing
        .store()
        .ownership(scope, now, now + chrono::Duration::milliseconds(1))
        .await?;
    let billed = |kind: RecurringKind| -> BTreeSet<Uuid> {
        open.iter()
            .filter(|o| o.kind == kind && o.until.is_none())
            .map(|o| o.unit_id)
            .collect()
    };
    let mut changes = 0;
    let (assign, release) = ownership_changes(&seats, &billed(RecurringKind::Seat));
    for (agent, from) in assign {
        record(
            billing
                .store()
                .record_seat_change(scope, AgentId(agent), UnitChange::Assigned, from)
                .await,
        )?;
        changes += 1;
    }
    for agent in release {
        record(
            billing
                .store()
                .record_seat_change(scope, AgentId(agent), UnitChange::Released, now)
                .await,
        )?;
        changes += 1;
    }
    let (assign, release) = ownership_changes(&numbers, &billed(RecurringKind::Number));
    for (number, from) in assign {
        record(
            billing
                .store()
                .record_number_change(scope, NumberId(number), UnitChange::Assigned, from)
                .await,
        )?;
        changes += 1;
    }
    for number in release {
        record(
            billing
                .store()
                .record_number_change(scope, NumberId(number), UnitChange::Released, now)
                .await,
        )?;
        changes += 1;
    }
    Ok(changes)
}

fn record<T>(outcome: BillingResult<T>) -> Result<()> {
    outcome
        .map(|_| ())
        .context("cannot record an ownership change")
}

/// The firm agents assigned to the tenant (from now) and the numbers it owns (from when each
/// was created for it).
async fn held_units(
    store: &Store,
    scope: &TenantScope,
    now: DateTime<Utc>,
) -> StoreResult<(BTreeMap<Uuid, DateTime<Utc>>, BTreeMap<Uuid, DateTime<Utc>>)> {
    let mut seats = BTreeMap::new();
    let mut page = PageRequest::first(PageRequest::MAX_LIMIT);
    loop {
        let batch = store.list_agents(scope, &page).await?;
        for agent in batch.items.iter().filter(|a| a.kind == AgentKind::Firm) {
            seats.insert(agent.id.0, now);
        }
        match batch.next {
            Some(after) => page.after = Some(after),
            None => break,
        }
    }
    let mut numbers = BTreeMap::new();
    let mut page = PageRequest::first(PageRequest::MAX_LIMIT);
    loop {
        let batch = store.list::<NumberSpec>(scope, &page).await?;
        for number in &batch.items {
            numbers.insert(number.id.0, number.created_at.min(now));
        }
        match batch.next {
            Some(after) => page.after = Some(after),
            None => break,
        }
    }
    Ok((seats, numbers))
}

#[cfg(test)]
mod tests {
    use hotline_core::testing::TestDb;
    use hotline_tenants::agents::AgentInput;
    use hotline_tenants::audit::Actor;
    use hotline_tenants::tenants::{TenantLimits, TenantSpec, TenantStatus};
    use hotline_tenants::StoreConfig;

    use super::*;

    #[test]
    fn held_units_are_assigned_and_billed_units_no_longer_held_released() {
        let at = |s: i64| DateTime::<Utc>::from_timestamp(s, 0).unwrap();
        let (a, b, c) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
        let held: BTreeMap<Uuid, DateTime<Utc>> = [(a, at(10)), (b, at(20))].into();
        let billed: BTreeSet<Uuid> = [b, c].into();
        let (assign, release) = ownership_changes(&held, &billed);
        assert_eq!(assign, vec![(a, at(10))]);
        assert_eq!(release, vec![c]);
        let (assign, release) = ownership_changes(&held, &held.keys().copied().collect());
        assert!(assign.is_empty() && release.is_empty());
    }

    fn agent(name: &str) -> AgentInput {
        AgentInput {
            name: name.into(),
            sip_username: name.to_lowercase(),
            skills: vec![],
            enabled: true,
            user_id: None,
            sip_password: Some("sip-secret-1".into()),
        }
    }

    /// What an ownership interval is: kind, unit, from, until.
    type Interval = (RecurringKind, Uuid, DateTime<Utc>, Option<DateTime<Utc>>);

    /// Seats (firm agents assigned) and numbers reach billing's ownership when they appear and
    /// end when they go; the tenant's own agents are no seats; a pass with nothing new changes
    /// nothing.
    async fn ownership_follows_the_tenant_store(backend: hotline_core::Backend) {
        let test_db = TestDb::new(backend).await;
        let store = Store::new(test_db.db.clone(), StoreConfig::default());
        let billing = Billing::new(test_db.db.clone(), None);
        let actor = Actor::cli();
        let platform = PlatformScope::from_verified();
        let spec = TenantSpec {
            slug: "acme".into(),
            name: "Acme".into(),
            status: TenantStatus::Active,
            time_zone: "Europe/Bratislava".into(),
            limits: TenantLimits::default(),
        };
        let tenant = store
            .create_tenant(&actor, &platform, spec)
            .await
            .expect("tenant")
            .id;
        let scope = platform.tenant(tenant);
        let firm = store
            .create_firm_agent(&actor, &platform, agent("Frank"))
            .await
            .expect("firm agent");
        store
            .assign_firm_agent(&actor, &platform, firm.id, tenant)
            .await
            .expect("assign");
        store
            .create_agent(&actor, &scope, agent("Olga"))
            .await
            .expect("own agent");
        let number = store
            .create::<NumberSpec>(
                &actor,
                &scope,
                NumberSpec {
                    e164: "+421 2 1111 0001".into(),
                    label: String::new(),
                    hotline_id: None,
                },
            )
            .await
            .expect("number");

        let first = hotline_core::time::now();
        assert_eq!(
            reconcile_all(&store, &billing, first).await.expect("pass"),
            2
        );
        let held = billing
            .store()
            .ownership(&scope, first, first + chrono::Duration::milliseconds(1))
            .await
            .expect("ownership");
        let mut got: Vec<Interval> = held
            .iter()
            .map(|o| (o.kind, o.unit_id, o.from, o.until))
            .collect();
        got.sort();
        let mut want = vec![
            (RecurringKind::Seat, firm.id.0, first, None),
            (RecurringKind::Number, number.id.0, number.created_at, None),
        ];
        want.sort();
        assert_eq!(got, want);
        assert_eq!(
            reconcile_all(&store, &billing, first).await.expect("pass"),
            0
        );

        store
            .unassign_firm_agent(&actor, &platform, firm.id, tenant)
            .await
            .expect("unassign");
        store
            .delete::<NumberSpec>(&actor, &scope, number.id, None)
            .await
            .expect("release the number");
        let second = first + chrono::Duration::minutes(1);
        assert_eq!(
            reconcile_all(&store, &billing, second).await.expect("pass"),
            2
        );
        let after = billing
            .store()
            .ownership(&scope, first, second + chrono::Duration::milliseconds(1))
            .await
            .expect("ownership");
        assert_eq!(after.len(), 2);
        assert!(after.iter().all(|o| o.until == Some(second)), "{after:?}");
        assert_eq!(
            reconcile_all(&store, &billing, second).await.expect("pass"),
            0
        );
        test_db.finish().await;
    }

    hotline_core::both_backends!(ownership_follows_the_tenant_store);
}
