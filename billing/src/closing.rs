//! Closing one tenant's ended periods by hand (`hotline billing close-period --tenant`, the
//! API's close): finalize its ended invoices oldest first, through [`Billing::close_period`] so
//! the outbox driver is woken, and stop at the first that must still wait (its grace period is
//! running and the operator did not skip it): periods finalize in order.
//!
//! Wiring only: which periods are due is the store's answer, and finalization its work.

use hotline_core::ids::TenantId;
use hotline_core::PlatformScope;

use crate::error::{BillingError, BillingResult};
use crate::store::{Grace, InvoiceSummary};
use crate::Billing;

/// What closing a tenant by hand did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TenantClose {
    /// Finalized now, oldest first.
    pub finalized: Vec<InvoiceSummary>,
    /// The first ended invoice that could not be finalized yet, and why; later ones wait for it.
    pub waiting: Option<(InvoiceSummary, String)>,
}

impl Billing {
    /// Finalizes the tenant's ended periods as of this billing's clock (see the module docs).
    pub async fn close_tenant_periods(
        &self,
        scope: &PlatformScope,
        tenant_id: TenantId,
        grace: Grace,
    ) -> BillingResult<TenantClose> {
        let due = self
            .store()
            .platform_ended_open_invoices(scope, tenant_id, self.now())
            .await?;
        let mut report = TenantClose::default();
        for invoice in due {
            match self
                .close_period(scope, tenant_id, invoice.period.start, grace)
                .await
            {
                Ok(finalized) => report.finalized.push(finalized),
                // Another node's periodic close got there first.
                Err(BillingError::InvoiceFinalized(_)) => {}
                Err(BillingError::NotReadyToFinalize { reason, .. }) => {
                    report.waiting = Some((invoice, reason));
                    break;
                }
                Err(err) => return Err(err),
            }
        }
        Ok(report)
    }
}
