//! Ingestion: final call records in, metered usage appended exactly once.
//!
//! Decisions:
//! - A record is metered for the metrics the tenant's contract bills ([`crate::metering`]);
//!   each usage belongs to the billing period of the local date it started, and is kept only
//!   when the contract covers that date and the tariff version in effect then prices its metric
//!   (so every stored usage can be rated, and a period can always be closed).
//! - Appends are idempotent on (call id, leg, metric): the primary key, with `ON CONFLICT DO
//!   NOTHING`, so a record handed over twice — in sequence, concurrently from two tasks or two
//!   nodes, or after a restart — is stored once, and a duplicate is a no-op, not an error.
//! - Usage of a period whose invoice is open or closing is appended to it. Usage of a period
//!   already finalized (paid, void) is appended as *late* usage billed on the tenant's next
//!   invoice that is not final (made if needed): an adjustment, never an edit.
//! - A batch is one transaction; its rows are inserted in key order in multi-row statements, so
//!   two batches that share keys take their locks in the same order and cannot deadlock. A
//!   transaction PostgreSQL still aborts as a deadlock or serialization failure runs again.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use hotline_core::call::CallRecord;
use hotline_core::ids::{CallId, TenantId};
use hotline_core::{time, Backend, PlatformScope, TenantScope};
use sqlx::AnyConnection;

use super::invoices::{ensure_invoice_locked, metric_to_db, InvoiceHandle};
use super::terms::{load_terms, MissingTerms, TenantTerms};
use super::BillingStore;
use crate::error::{BillingError, BillingResult};
use crate::ids::InvoiceId;
use crate::metering::meter;
use crate::period::BillingPeriod;
use crate::usage::{MeteredUsage, Metric};

/// How often a transaction aborted by a deadlock or serialization failure is run again.
const CONFLICT_RETRIES: usize = 5;
/// Periods searched for the next invoice that is not final (a hundred years).
const MAX_PERIODS_AHEAD: usize = 1200;

/// Why a record adds nothing to any invoice.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NotBilledReason {
    /// Refused before it reached a tenant (unknown number, not a trunk).
    NoTenant,
    NoAccount,
    NoContract,
    /// Unanswered, no metric the contract bills, or outside the contract's dates.
    NothingMetered,
}

/// What one ingestion appended.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct IngestCounts {
    /// Usages appended to their own period's invoice.
    pub stored: u32,
    /// Usages of finalized periods, appended as adjustments to the next open invoice.
    pub late: u32,
    /// Usages that were already stored: no-ops.
    pub duplicates: u32,
}

impl IngestCounts {
    fn add(&mut self, other: IngestCounts) {
        self.stored += other.stored;
        self.late += other.late;
        self.duplicates += other.duplicates;
    }
}

/// The outcome of ingesting one call record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IngestOutcome {
    NotBilled(NotBilledReason),
    Ingested(IngestCounts),
}

impl IngestOutcome {
    /// Nothing new was stored because everything was stored before.
    pub fn is_duplicate(&self) -> bool {
        matches!(self, IngestOutcome::Ingested(c) if c.stored == 0 && c.late == 0 && c.duplicates > 0)
    }
}

/// The outcome of ingesting a batch of records.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BatchOutcome {
    pub records: u32,
    pub usages: IngestCounts,
    /// Records that add nothing to any invoice (see [`NotBilledReason`]).
    pub not_billed: u32,
}

/// One usage ready to append: where it is billed, and for late usage, where it belonged.
struct PendingUsage {
    usage: MeteredUsage,
    invoice_id: InvoiceId,
    source_invoice_id: Option<InvoiceId>,
}

impl BillingStore {
    /// Appends the usage of one final call record of the scope's tenant.
    pub async fn ingest(
        &self,
        scope: &TenantScope,
        record: &CallRecord,
        now: DateTime<Utc>,
    ) -> BillingResult<IngestOutcome> {
        if record.tenant_id != Some(scope.tenant_id()) {
            return Err(BillingError::TenantMismatch);
        }
        let records = [record];
        self.retrying(|store| async move {
            let mut tx = store.db.begin().await?;
            let (outcome, _) = store
                .ingest_tenant(&mut tx, scope.tenant_id(), &records, now)
                .await?;
            tx.commit().await?;
            Ok(outcome)
        })
        .await
    }

    /// Appends the usage of many records, of any tenants, in one transaction: the fast path for
    /// backfills and the benchmark. Records without a tenant count as not billed.
    pub async fn platform_ingest_batch(
        &self,
        _scope: &PlatformScope,
        records: &[CallRecord],
        now: DateTime<Utc>,
    ) -> BillingResult<BatchOutcome> {
        let mut by_tenant: BTreeMap<TenantId, Vec<&CallRecord>> = BTreeMap::new();
        let mut without_tenant = 0_u32;
        for record in records {
            match record.tenant_id {
                Some(tenant) => by_tenant.entry(tenant).or_default().push(record),
                None => without_tenant += 1,
            }
        }
        let by_tenant = &by_tenant;
        self.retrying(|store| async move {
            let mut outcome = BatchOutcome {
                records: u32::try_from(records.len()).unwrap_or(u32::MAX),
                not_billed: without_tenant,
                ..BatchOutcome::default()
            };
            let mut tx = store.db.begin().await?;
            for (tenant, records) in by_tenant {
                let (tenant_outcome, not_billed) =
                    store.ingest_tenant(&mut tx, *tenant, records, now).await?;
                match tenant_outcome {
                    IngestOutcome::Ingested(counts) => outcome.usages.add(counts),
                    IngestOutcome::NotBilled(_) => {}
                }
                outcome.not_billed += not_billed;
            }
            tx.commit().await?;
            Ok(outcome)
        })
        .await
    }

    /// Runs `attempt` again when PostgreSQL aborted it to break a deadlock or a serialization
    /// conflict; any other error is returned as it is.
    async fn retrying<'a, T, F, Fut>(&'a self, attempt: F) -> BillingResult<T>
    where
        F: Fn(&'a BillingStore) -> Fut,
        Fut: std::future::Future<Output = BillingResult<T>>,
    {
        let mut tries = 0;
        loop {
            match attempt(self).await {
                Err(err) if err.is_transient_conflict() && tries < CONFLICT_RETRIES => {
                    tries += 1;
                    tracing::debug!(error = %err, tries, "ingestion transaction conflicted; running it again");
                }
                other => return other,
            }
        }
    }

    /// Meters and appends one tenant's records inside `conn`'s transaction. Returns the summed
    /// outcome and how many records added nothing.
    async fn ingest_tenant(
        &self,
        conn: &mut AnyConnection,
        tenant_id: TenantId,
        records: &[&CallRecord],
        now: DateTime<Utc>,
    ) -> BillingResult<(IngestOutcome, u32)> {
        let record_count = u32::try_from(records.len()).unwrap_or(u32::MAX);
        let terms = match load_terms(conn, tenant_id).await? {
            Ok(terms) => terms,
            Err(missing) => {
                let reason = match missing {
                    MissingTerms::Account => NotBilledReason::NoAccount,
                    MissingTerms::Contract => NotBilledReason::NoContract,
                };
                return Ok((IngestOutcome::NotBilled(reason), record_count));
            }
        };
        let metered = terms.metered();
        let mut by_period: BTreeMap<NaiveDate, (BillingPeriod, Vec<MeteredUsage>)> =
            BTreeMap::new();
        let mut not_billed = 0;
        for record in records {
            let mut any = false;
            for usage in meter(record, metered) {
                let started_on = terms.local_date(usage.started_at);
                if terms.bills(usage.metric, started_on) {
                    let period = terms.period_containing(started_on)?;
                    by_period
                        .entry(period.start)
                        .or_insert_with(|| (period, Vec::new()))
                        .1
                        .push(usage);
                    any = true;
                }
            }
            if !any {
                not_billed += 1;
            }
        }
        if by_period.is_empty() {
            return Ok((
                IngestOutcome::NotBilled(NotBilledReason::NothingMetered),
                not_billed,
            ));
        }

        let mut pending = Vec::new();
        for (period, usages) in by_period.into_values() {
            let invoice = ensure_invoice_locked(conn, self.backend(), &terms, &period, now).await?;
            let (billed_on, source) = if invoice.status.accepts_usage() {
                (invoice.id, None)
            } else {
                let target = next_open_invoice(conn, self.backend(), &terms, &period, now).await?;
                (target.id, Some(invoice.id))
            };
            pending.extend(usages.into_iter().map(|usage| PendingUsage {
                usage,
                invoice_id: billed_on,
                source_invoice_id: source,
            }));
        }
        let total = pending.len();
        let (regular, late): (Vec<PendingUsage>, Vec<PendingUsage>) = pending
            .into_iter()
            .partition(|p| p.source_invoice_id.is_none());
        let stored = insert_usages(conn, self.backend(), tenant_id, regular, now).await?;
        let late = insert_usages(conn, self.backend(), tenant_id, late, now).await?;
        let counts = IngestCounts {
            stored: stored as u32,
            late: late as u32,
            duplicates: (total - stored - late) as u32,
        };
        Ok((IngestOutcome::Ingested(counts), not_billed))
    }
}

/// The first invoice after `closed` that is not final, made if needed: where late usage of
/// `closed` is billed. Periods close in order, so this is the next open one.
async fn next_open_invoice(
    conn: &mut AnyConnection,
    backend: Backend,
    terms: &TenantTerms,
    closed: &BillingPeriod,
    now: DateTime<Utc>,
) -> BillingResult<InvoiceHandle> {
    let cycle = terms.cycle()?;
    let mut period = *closed;
    for _ in 0..MAX_PERIODS_AHEAD {
        period = cycle
            .next(&period)
            .ok_or_else(|| BillingError::Corrupt("no billing period follows".into()))?;
        let invoice = ensure_invoice_locked(conn, backend, terms, &period, now).await?;
        if invoice.status.accepts_usage() {
            return Ok(invoice);
        }
    }
    Err(BillingError::Corrupt(format!(
        "no open invoice within {MAX_PERIODS_AHEAD} periods after {}",
        closed.start
    )))
}

/// Rows per multi-row insert, measured here: sqlx's SQLite driver binds parameters by name at a
/// cost that grows with the square of their number (50k rows/s at 100 rows per statement, 10k
/// at 400); PostgreSQL peaks around 250 (55–60k rows/s, falling off both ways).
fn rows_per_insert(backend: Backend) -> usize {
    match backend {
        Backend::Sqlite => 100,
        Backend::Postgres => 250,
    }
}

/// Inserts usages in key order, skipping those already stored; returns how many were new.
/// Columns equal for every row of a statement (tenant, invoices, ingestion time) are bound
/// once and named by every row.
async fn insert_usages(
    conn: &mut AnyConnection,
    backend: Backend,
    tenant_id: TenantId,
    mut usages: Vec<PendingUsage>,
    now: DateTime<Utc>,
) -> BillingResult<usize> {
    const SHARED: usize = 4;
    const PER_ROW: usize = 5;
    usages.sort_by_key(|p| (p.invoice_id, p.source_invoice_id, usage_key(&p.usage)));
    usages.dedup_by_key(|p| usage_key(&p.usage));
    let tenant = tenant_id.to_db();
    let ingested_at = time::to_millis(now);
    let mut inserted = 0;
    // One statement per run of rows billed alike (a batch may span periods).
    let mut start = 0;
    while start < usages.len() {
        let first = &usages[start];
        let (invoice, source) = (first.invoice_id, first.source_invoice_id);
        let end = usages[start..]
            .iter()
            .take(rows_per_insert(backend))
            .position(|p| p.invoice_id != invoice || p.source_invoice_id != source)
            .map_or_else(
                || (start + rows_per_insert(backend)).min(usages.len()),
                |n| start + n,
            );
        let chunk = &usages[start..end];
        start = end;
        let values: Vec<String> = (0..chunk.len())
            .map(|row| {
                let p = SHARED + row * PER_ROW;
                format!(
                    "(${}, ${}, ${}, $1, $2, $3, ${}, ${}, $4)",
                    p + 1,
                    p + 2,
                    p + 3,
                    p + 4,
                    p + 5
                )
            })
            .collect();
        let sql = format!(
            "INSERT INTO billing_usage (call_id, leg, metric, tenant_id, invoice_id, source_invoice_id, started_at, ended_at, ingested_at)
             VALUES {} ON CONFLICT (call_id, leg, metric) DO NOTHING",
            values.join(", ")
        );
        let mut query = sqlx::query(&sql)
            .bind(tenant.clone())
            .bind(invoice.to_db())
            .bind(source.map(InvoiceId::to_db))
            .bind(ingested_at);
        for pending in chunk {
            let usage = &pending.usage;
            query = query
                .bind(usage.call_id.to_db())
                .bind(i64::from(usage.leg))
                .bind(metric_to_db(usage.metric))
                .bind(time::to_millis(usage.started_at))
                .bind(time::to_millis(usage.ended_at));
        }
        inserted += query.execute(&mut *conn).await?.rows_affected() as usize;
    }
    Ok(inserted)
}

/// The order every transaction inserts in: two transactions that share keys then wait for each
/// other's rows in the same order, never crosswise.
fn usage_key(usage: &MeteredUsage) -> (CallId, u16, Metric) {
    (usage.call_id, usage.leg, usage.metric)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_duplicate_is_an_ingestion_that_stored_nothing_new() {
        let dup = IngestOutcome::Ingested(IngestCounts {
            stored: 0,
            late: 0,
            duplicates: 2,
        });
        assert!(dup.is_duplicate());
        let partly_new = IngestOutcome::Ingested(IngestCounts {
            stored: 1,
            late: 0,
            duplicates: 1,
        });
        assert!(!partly_new.is_duplicate());
        assert!(!IngestOutcome::NotBilled(NotBilledReason::NoContract).is_duplicate());
    }
}
