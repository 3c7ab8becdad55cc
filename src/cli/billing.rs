//! `hotline billing ...`: running billing by hand as the local operator, through the same billing
//! store and rules as `hotline serve` and the API — closing periods, checking an invoice against
//! its recomputation (`rerate`, a dry run), listing invoices.
//!
//! With a Stripe key configured, invoices finalized here are queued for Stripe exactly as the
//! server's would be, and `hotline serve` sends them; without one they stay local. These commands
//! never send anything themselves.

use std::sync::Arc;

use anyhow::{bail, Context, Result};
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use hotline_billing::closing::TenantClose;
use hotline_billing::invoice_calc::{InvoiceLine, Quantity};
use hotline_billing::money::Money;
use hotline_billing::rerate::LineDifference;
use hotline_billing::store::{CloseReport, Grace, InvoiceSummary, RerateReport};
use hotline_billing::Billing;
use hotline_core::PlatformScope;
use hotline_tenants::tenants::Tenant;
use hotline_tenants::{Store, StoreConfig};
use serde_json::json;

use crate::cli::ClosePeriodArgs;
use crate::config::Config;

struct Session {
    store: Store,
    billing: Billing,
}

impl Session {
    /// The stores, and billing reading its time from `at` when given (never after now).
    async fn open(config: &Config, at: Option<DateTime<Utc>>) -> Result<Self> {
        let db = crate::database::connect_and_migrate(config).await?;
        let store = Store::new(
            db.clone(),
            StoreConfig {
                sip_domain_suffix: config.sip.domain_suffix.clone(),
            },
        );
        let gateway = crate::wiring::billing::gateway(config)?;
        let mut billing = Billing::new(db, gateway);
        if let Some(at) = at {
            billing = billing.with_clock(Arc::new(move || at));
        }
        Ok(Self { store, billing })
    }

    async fn tenant(&self, slug_or_id: &str) -> Result<Tenant> {
        self.store
            .find_tenant(&PlatformScope::from_verified(), slug_or_id)
            .await
            .with_context(|| format!("cannot find tenant {slug_or_id:?}"))
    }

    async fn close(self) {
        self.store.db().close().await;
    }
}

/// `--at`: a date (its midnight UTC) or an RFC 3339 instant, not after `now`.
pub fn parse_at(text: &str, now: DateTime<Utc>) -> Result<DateTime<Utc>> {
    let at = match NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        Ok(date) => date
            .and_hms_opt(0, 0, 0)
            .map(|midnight| midnight.and_utc())
            .context("--at: not a representable date")?,
        Err(_) => DateTime::parse_from_rfc3339(text)
            .with_context(|| {
                format!("--at {text:?}: expected YYYY-MM-DD or an RFC 3339 time such as 2026-04-01T00:00:00Z")
            })?
            .with_timezone(&Utc),
    };
    if at > now {
        bail!("--at {text}: periods cannot be closed ahead of time (it is {now} now)");
    }
    Ok(at)
}

fn period_text(invoice: &InvoiceSummary) -> String {
    let last = invoice.period.end.pred_opt().unwrap_or(invoice.period.end);
    format!("{} to {last}", invoice.period.start)
}

fn total_text(invoice: &InvoiceSummary) -> String {
    invoice
        .total
        .map_or_else(|| "-".to_owned(), |total| total.to_string())
}

fn invoice_json(invoice: &InvoiceSummary) -> serde_json::Value {
    json!({
        "id": invoice.id,
        "tenant_id": invoice.tenant_id,
        "period_start": invoice.period.start,
        "period_end": invoice.period.end,
        "status": invoice.status,
        "currency": invoice.currency.code(),
        "total_minor": invoice.total.map(|t| t.minor),
        "content_hash": invoice.content_hash,
        "payment_status": invoice.payment_status,
    })
}

pub async fn close_period(config: &Config, args: ClosePeriodArgs) -> Result<()> {
    let at = args
        .at
        .as_deref()
        .map(|text| parse_at(text, hotline_core::time::now()))
        .transpose()?;
    let session = Session::open(config, at).await?;
    let outcome = match &args.tenant {
        Some(tenant) => close_tenant(&session, tenant, args.skip_grace, args.json).await,
        None => close_all(&session, args.json).await,
    };
    session.close().await;
    outcome
}

async fn close_tenant(session: &Session, slug: &str, skip_grace: bool, json: bool) -> Result<()> {
    let tenant = session.tenant(slug).await?;
    let grace = if skip_grace {
        Grace::Skip
    } else {
        Grace::Respect
    };
    let TenantClose { finalized, waiting } = session
        .billing
        .close_tenant_periods(&PlatformScope::from_verified(), tenant.id, grace)
        .await
        .with_context(|| format!("cannot close the billing periods of {}", tenant.spec.slug))?;
    if json {
        let out = json!({
            "tenant": tenant.spec.slug,
            "finalized": finalized.iter().map(invoice_json).collect::<Vec<_>>(),
            "waiting": waiting.as_ref().map(|(invoice, reason)| json!({
                "invoice": invoice_json(invoice), "reason": reason,
            })),
        });
        println!("{}", serde_json::to_string_pretty(&out)?);
        return Ok(());
    }
    if finalized.is_empty() && waiting.is_none() {
        println!(
            "Nothing to finalize: {} has no ended billing period that is still open.",
            tenant.spec.slug
        );
    }
    for invoice in &finalized {
        println!(
            "Finalized {} {}: total {}, invoice {}, content hash {}.",
            tenant.spec.slug,
            period_text(invoice),
            total_text(invoice),
            invoice.id,
            invoice.content_hash.as_deref().unwrap_or("-"),
        );
    }
    if let Some((invoice, reason)) = &waiting {
        println!(
            "Waiting: {} {} (invoice {}): {reason}. Pass --skip-grace to finalize it now.",
            tenant.spec.slug,
            period_text(invoice),
            invoice.id,
        );
    }
    Ok(())
}

async fn close_all(session: &Session, json: bool) -> Result<()> {
    let CloseReport {
        opened,
        closing,
        finalized,
        failed,
    } = session
        .billing
        .close_due_periods(&PlatformScope::from_verified())
        .await
        .context("cannot close billing periods")?;
    if json {
        let out = json!({
            "opened": opened,
            "closing": closing,
            "finalized": finalized,
            "failed": failed.iter().map(|(id, why)| json!({ "invoice_id": id, "error": why })).collect::<Vec<_>>(),
        });
        println!("{}", serde_json::to_string_pretty(&out)?);
    } else {
        println!(
            "Opened {opened} invoice(s); {closing} period(s) ended and wait out their grace period; \
             finalized {} invoice(s).",
            finalized.len()
        );
        for id in &finalized {
            println!("Finalized invoice {id}.");
        }
        for (id, why) in &failed {
            println!("Could not finalize invoice {id}: {why}");
        }
    }
    if !failed.is_empty() {
        bail!(
            "{} invoice(s) could not be finalized; they are tried again on the next run",
            failed.len()
        );
    }
    Ok(())
}

/// The tenant's invoice `period` names: the one starting in that month (YYYY-MM), or the one
/// containing that date (YYYY-MM-DD).
fn pick_period(invoices: &[InvoiceSummary], period: &str) -> Result<Option<NaiveDate>> {
    if let Ok(date) = NaiveDate::parse_from_str(period, "%Y-%m-%d") {
        return Ok(invoices
            .iter()
            .find(|i| i.period.contains(date))
            .map(|i| i.period.start));
    }
    let month = NaiveDate::parse_from_str(&format!("{period}-01"), "%Y-%m-%d")
        .with_context(|| format!("--period {period:?}: expected YYYY-MM or YYYY-MM-DD"))?;
    Ok(invoices
        .iter()
        .filter(|i| {
            i.period.start.year() == month.year() && i.period.start.month() == month.month()
        })
        .map(|i| i.period.start)
        .min())
}

fn quantity_text(quantity: Quantity) -> String {
    match quantity {
        Quantity::Seconds { seconds } => format!("{seconds} s"),
        Quantity::Count { count } => format!("{count} ×"),
        Quantity::Days { days, period_days } => format!("{days}/{period_days} days ×"),
    }
}

fn line_text(line: &InvoiceLine) -> String {
    let per = match line.quantity {
        Quantity::Seconds { .. } => "/min",
        _ => "",
    };
    format!(
        "{} (tariff v{}): {} at {}{per} = {}",
        line.description,
        line.tariff.version,
        quantity_text(line.quantity),
        line.unit_price.normalize(),
        line.amount
    )
}

fn signed(money: Money) -> String {
    if money.minor > 0 {
        format!("+{money}")
    } else {
        money.to_string()
    }
}

/// One difference, on one line.
pub fn difference_text(
    difference: &LineDifference,
    currency: hotline_billing::money::Currency,
) -> String {
    let delta = signed(Money {
        minor: difference.amount_delta_minor(),
        currency,
    });
    match difference {
        LineDifference::Added { recomputed } => {
            format!("added    {}  ({delta})", line_text(recomputed))
        }
        LineDifference::Removed { stored } => {
            format!("removed  {}  ({delta})", line_text(stored))
        }
        LineDifference::Changed { stored, recomputed } => format!(
            "changed  {}  ->  {}  ({delta})",
            line_text(stored),
            line_text(recomputed)
        ),
    }
}

pub async fn rerate(config: &Config, slug: &str, period: &str, json: bool) -> Result<()> {
    let session = Session::open(config, None).await?;
    let outcome = rerate_in(&session, slug, period, json).await;
    session.close().await;
    outcome
}

async fn rerate_in(session: &Session, slug: &str, period: &str, json: bool) -> Result<()> {
    let tenant = session.tenant(slug).await?;
    let scope = PlatformScope::from_verified().tenant(tenant.id);
    let store = session.billing.store();
    let invoices = store
        .invoices(&scope)
        .await
        .with_context(|| format!("cannot read the invoices of {}", tenant.spec.slug))?;
    let Some(start) = pick_period(&invoices, period)? else {
        bail!(
            "{} has no invoice for the period {period} (see `hotline billing invoices --tenant {}`)",
            tenant.spec.slug,
            tenant.spec.slug
        );
    };
    let report: RerateReport = store
        .rerate(&scope, start)
        .await
        .with_context(|| format!("cannot rerate {} {start}", tenant.spec.slug))?;
    let currency = report.recomputed.currency;
    if json {
        let out = json!({
            "tenant": tenant.spec.slug,
            "invoice_id": report.invoice_id,
            "period_start": report.period.start,
            "period_end": report.period.end,
            "status": report.status,
            "final": report.stored.is_some(),
            "matches": report.matches(),
            "stored_total_minor": report.stored.as_ref().map(|s| s.total.minor),
            "recomputed_total_minor": report.recomputed.total.minor,
            "differences": report.differences,
        });
        println!("{}", serde_json::to_string_pretty(&out)?);
    } else {
        let last = report.period.end.pred_opt().unwrap_or(report.period.end);
        println!(
            "Rerating {} {} to {last} (invoice {}, {}).",
            tenant.spec.slug, report.period.start, report.invoice_id, report.status
        );
    }
    let Some(stored) = &report.stored else {
        if !json {
            println!(
                "The period is not finalized, so nothing is stored to compare with. Finalizing it now would bill:"
            );
            for line in &report.recomputed.lines {
                println!("  {}", line_text(line));
            }
            println!("Total {}.", report.recomputed.total);
        }
        return Ok(());
    };
    if report.matches() {
        if !json {
            println!(
                "No differences: the stored invoice ({}) matches its recomputation line by line, to the minor unit.",
                stored.total
            );
        }
        return Ok(());
    }
    if !json {
        for difference in &report.differences {
            println!("  {}", difference_text(difference, currency));
        }
        println!(
            "Total: stored {}, recomputed {} ({}).",
            stored.total,
            report.recomputed.total,
            signed(report.total_difference())
        );
    }
    bail!(
        "the stored invoice of {} {} differs from its recomputation in {} line(s) ({} in total); \
         correct it with a credit note or investigate the tariff and usage",
        tenant.spec.slug,
        report.period.start,
        report.differences.len(),
        signed(report.total_difference())
    )
}

pub async fn invoices(config: &Config, slug: &str, json: bool) -> Result<()> {
    let session = Session::open(config, None).await?;
    let outcome = async {
        let tenant = session.tenant(slug).await?;
        let scope = PlatformScope::from_verified().tenant(tenant.id);
        let invoices = session
            .billing
            .store()
            .invoices(&scope)
            .await
            .with_context(|| format!("cannot read the invoices of {}", tenant.spec.slug))?;
        if json {
            let out: Vec<_> = invoices.iter().map(invoice_json).collect();
            println!("{}", serde_json::to_string_pretty(&out)?);
        } else if invoices.is_empty() {
            println!("{} has no invoices yet.", tenant.spec.slug);
        } else {
            println!(
                "{:<26}  {:<10}  {:>16}  {:<14}  ID",
                "PERIOD", "STATUS", "TOTAL", "PAYMENT"
            );
            for invoice in &invoices {
                println!(
                    "{:<26}  {:<10}  {:>16}  {:<14}  {}",
                    period_text(invoice),
                    invoice.status.as_str(),
                    total_text(invoice),
                    invoice.payment_status.map_or("-", |p| p.as_str()),
                    invoice.id
                );
            }
        }
        Ok(())
    }
    .await;
    session.close().await;
    outcome
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn at_is_a_date_or_an_instant_and_never_the_future() {
        let now = DateTime::parse_from_rfc3339("2026-04-10T12:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(
            parse_at("2026-04-01", now).unwrap().to_rfc3339(),
            "2026-04-01T00:00:00+00:00"
        );
        assert_eq!(
            parse_at("2026-04-02T08:30:00+02:00", now)
                .unwrap()
                .to_rfc3339(),
            "2026-04-02T06:30:00+00:00"
        );
        assert!(parse_at("2026-04-11", now)
            .unwrap_err()
            .to_string()
            .contains("ahead of time"));
        assert!(parse_at("April", now).is_err());
    }
}
