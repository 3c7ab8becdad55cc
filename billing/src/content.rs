//! The content of a finalized invoice, its one canonical serialization, and its SHA-256 hash.
//!
//! Decisions:
//! - The content is everything the invoice says and everything needed to recompute it: the
//!   computed invoice (period, lines, totals, tax rate, closing bundle balances), the line ids,
//!   the account terms it was computed under (currency, tax rate, contract dates), the tenant's
//!   zone, the tariff, the purchase order reference and the finalization time.
//! - Canonical form: compact JSON of [`InvoiceContent`], fields in declaration order, lists in
//!   invoice order, decimals as strings with their scale, no maps. serde_json writes a struct's
//!   fields in declaration order, so the same content always gives the same bytes; the store
//!   keeps exactly those bytes beside the hash, and [`verify`] recomputes both.
//! - [`CONTENT_FORMAT`] names the layout; a future layout gets a new number and old invoices keep
//!   verifying under theirs.
//!
//! Pure: no IO, no clock.

use chrono::{DateTime, Utc};
use hotline_core::ids::TenantId;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::ids::{AccountId, InvoiceId, LineId};
use crate::invoice_calc::{BillingAccount, ComputedInvoice};
use crate::tariff::TariffId;

/// The layout of [`InvoiceContent`] this build writes.
pub const CONTENT_FORMAT: u32 = 1;

/// What a finalized invoice says, as hashed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvoiceContent {
    pub format: u32,
    pub invoice_id: InvoiceId,
    pub tenant_id: TenantId,
    pub account_id: AccountId,
    /// IANA zone name the period, bands and effective dates were read in.
    pub time_zone: String,
    pub account: BillingAccount,
    pub tariff_id: TariffId,
    pub purchase_order: Option<String>,
    pub finalized_at: DateTime<Utc>,
    pub invoice: ComputedInvoice,
    /// One per line of `invoice.lines`, in the same order.
    pub line_ids: Vec<LineId>,
}

/// Canonical bytes and their hash.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SealedContent {
    pub canonical: String,
    /// Lower-case hex SHA-256 of `canonical`.
    pub hash: String,
}

/// Why stored content does not verify.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ContentError {
    #[error("the stored invoice content is not valid JSON of format {CONTENT_FORMAT}: {0}")]
    Unreadable(String),
    #[error("the stored invoice content is not in canonical form")]
    NotCanonical,
    #[error("the stored hash {stored} does not match the content's {computed}")]
    HashMismatch { stored: String, computed: String },
    #[error("invoice content could not be serialized: {0}")]
    Serialize(String),
}

impl InvoiceContent {
    /// The canonical bytes and their hash.
    pub fn seal(&self) -> Result<SealedContent, ContentError> {
        let canonical =
            serde_json::to_string(self).map_err(|e| ContentError::Serialize(e.to_string()))?;
        let hash = sha256_hex(&canonical);
        Ok(SealedContent { canonical, hash })
    }
}

/// Checks stored content against its stored hash, and that it is in canonical form; returns the
/// content read back.
pub fn verify(canonical: &str, stored_hash: &str) -> Result<InvoiceContent, ContentError> {
    let computed = sha256_hex(canonical);
    if computed != stored_hash {
        return Err(ContentError::HashMismatch {
            stored: stored_hash.to_owned(),
            computed,
        });
    }
    let content: InvoiceContent =
        serde_json::from_str(canonical).map_err(|e| ContentError::Unreadable(e.to_string()))?;
    if content.seal()?.canonical != canonical {
        return Err(ContentError::NotCanonical);
    }
    Ok(content)
}

fn sha256_hex(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

#[cfg(test)]
mod tests {
    use chrono::{NaiveDate, TimeZone};
    use rust_decimal::Decimal;

    use super::*;
    use crate::invoice_calc::{InvoiceLine, LineKind, Quantity};
    use crate::money::{Currency, Money};
    use crate::period::BillingPeriod;
    use crate::recurring::ContractTerm;
    use crate::tariff::{RecurringKind, TariffRef};

    fn content() -> InvoiceContent {
        let eur = Currency::from_code("EUR").unwrap();
        let tariff = TariffRef {
            tariff_id: TariffId(uuid::Uuid::from_u128(7)),
            version: 1,
        };
        let line = InvoiceLine::priced(
            LineKind::RecurringInAdvance {
                fee: RecurringKind::Platform,
            },
            "Platform fee, next period in advance".into(),
            Quantity::Count { count: 1 },
            Decimal::new(4990, 2),
            tariff,
            eur,
        )
        .unwrap();
        let start = NaiveDate::from_ymd_opt(2026, 3, 1).unwrap();
        InvoiceContent {
            format: CONTENT_FORMAT,
            invoice_id: InvoiceId(uuid::Uuid::from_u128(1)),
            tenant_id: TenantId(uuid::Uuid::from_u128(2)),
            account_id: AccountId(uuid::Uuid::from_u128(3)),
            time_zone: "Europe/Bratislava".into(),
            account: BillingAccount {
                currency: eur,
                tax_rate: Some(Decimal::new(20, 2)),
                contract: ContractTerm { start, end: None },
            },
            tariff_id: tariff.tariff_id,
            purchase_order: Some("PO-77".into()),
            finalized_at: Utc.with_ymd_and_hms(2026, 4, 4, 0, 0, 0).unwrap(),
            invoice: ComputedInvoice {
                period: BillingPeriod::new(start, NaiveDate::from_ymd_opt(2026, 4, 1).unwrap())
                    .unwrap(),
                currency: eur,
                lines: vec![line],
                subtotal: Money {
                    minor: 4990,
                    currency: eur,
                },
                tax_rate: Some(Decimal::new(20, 2)),
                tax: Money {
                    minor: 998,
                    currency: eur,
                },
                total: Money {
                    minor: 5988,
                    currency: eur,
                },
                bundles: vec![],
            },
            line_ids: vec![LineId(uuid::Uuid::from_u128(9))],
        }
    }

    #[test]
    fn the_same_content_always_seals_to_the_same_bytes_and_hash() {
        let a = content().seal().unwrap();
        let b = content().seal().unwrap();
        assert_eq!(a, b);
        assert_eq!(a.hash.len(), 64);
        assert!(
            a.canonical.contains(r#""unit_price":"49.90""#),
            "{}",
            a.canonical
        );
        assert_eq!(verify(&a.canonical, &a.hash).unwrap(), content());
    }

    #[test]
    fn any_change_changes_the_hash() {
        let original = content().seal().unwrap();
        let mut changed = content();
        changed.invoice.total.minor += 1;
        assert_ne!(changed.seal().unwrap().hash, original.hash);
        let mut renamed = content();
        renamed.purchase_order = Some("PO-78".into());
        assert_ne!(renamed.seal().unwrap().hash, original.hash);
    }

    #[test]
    fn tampered_or_reformatted_content_does_not_verify() {
        let sealed = content().seal().unwrap();
        let tampered = sealed.canonical.replace("5988", "5989");
        assert!(matches!(
            verify(&tampered, &sealed.hash),
            Err(ContentError::HashMismatch { .. })
        ));
        let pretty = serde_json::to_string_pretty(&content()).unwrap();
        let pretty_hash = sha256_hex(&pretty);
        assert_eq!(
            verify(&pretty, &pretty_hash),
            Err(ContentError::NotCanonical)
        );
    }
}
