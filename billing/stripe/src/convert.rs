//! Translation between billing's gateway types and async-stripe's: currencies, metadata, the
//! objects Stripe returns, and the total comparison that guards finalization.
//!
//! Pure functions only; a Stripe answer that cannot be translated is a permanent error (the
//! pinned API version promised a shape and Stripe did not keep it), never a guess.

use std::collections::HashMap;
use std::str::FromStr;

use hotline_billing::gateway::{
    Amount, CurrencyCode, GatewayError, RemoteCreditNote, RemoteCustomer, RemoteInvoice,
    RemoteInvoiceItem, RemoteInvoiceStatus, METADATA_ACCOUNT_ID, METADATA_CREDIT_NOTE_ID,
    METADATA_INVOICE_ID, METADATA_LINE_ID,
};
use stripe_shared::{CreditNote, Customer, Invoice, InvoiceStatus};
use stripe_types::Currency;
use uuid::Uuid;

fn unexpected(message: String) -> GatewayError {
    GatewayError::Permanent {
        status: None,
        code: Some("unexpected_response".into()),
        message,
    }
}

/// Our currency as Stripe's. Codes async-stripe's enum lacks (KWD, BHD and the other
/// three-decimal currencies among them) pass through as `Unknown`, which serializes as the bare
/// code: Stripe, not this list, decides what it accepts.
pub fn stripe_currency(code: &CurrencyCode) -> Currency {
    let lower = code.as_str().to_ascii_lowercase();
    Currency::from_str(&lower).unwrap_or(Currency::Unknown(lower))
}

fn amount(minor_units: i64, currency: &Currency) -> Result<Amount, GatewayError> {
    let code = CurrencyCode::parse(&currency.to_string())
        .map_err(|err| unexpected(format!("Stripe returned an unusable currency: {err}")))?;
    Ok(Amount::new(minor_units, code))
}

/// One metadata entry holding one of our ids.
pub fn id_metadata(key: &str, id: Uuid) -> HashMap<String, String> {
    HashMap::from([(key.to_owned(), id.to_string())])
}

/// Our id from an object's metadata; a missing or malformed value means "not ours".
pub fn metadata_id(metadata: Option<&HashMap<String, String>>, key: &str) -> Option<Uuid> {
    metadata?
        .get(key)
        .and_then(|value| Uuid::parse_str(value).ok())
}

/// Stripe search query for the customer carrying our account id. Our ids are UUIDs, so the
/// value never needs escaping.
pub fn customer_search_query(hotline_account_id: Uuid) -> String {
    format!("metadata['{METADATA_ACCOUNT_ID}']:'{hotline_account_id}'")
}

pub fn remote_customer(customer: &Customer) -> RemoteCustomer {
    RemoteCustomer {
        provider_id: customer.id.as_str().to_owned(),
        hotline_account_id: metadata_id(customer.metadata.as_ref(), METADATA_ACCOUNT_ID),
    }
}

fn remote_status(status: Option<&InvoiceStatus>) -> RemoteInvoiceStatus {
    match status {
        Some(InvoiceStatus::Draft) => RemoteInvoiceStatus::Draft,
        Some(InvoiceStatus::Open) => RemoteInvoiceStatus::Open,
        Some(InvoiceStatus::Paid) => RemoteInvoiceStatus::Paid,
        Some(InvoiceStatus::Void) => RemoteInvoiceStatus::Void,
        Some(InvoiceStatus::Uncollectible) => RemoteInvoiceStatus::Uncollectible,
        Some(other) => RemoteInvoiceStatus::Other(other.as_str().to_owned()),
        None => RemoteInvoiceStatus::Other(String::new()),
    }
}

pub fn remote_invoice(invoice: &Invoice) -> Result<RemoteInvoice, GatewayError> {
    let id = invoice
        .id
        .as_ref()
        .ok_or_else(|| unexpected("Stripe returned an invoice without an id".into()))?;
    Ok(RemoteInvoice {
        provider_id: id.as_str().to_owned(),
        hotline_invoice_id: metadata_id(invoice.metadata.as_ref(), METADATA_INVOICE_ID),
        status: remote_status(invoice.status.as_ref()),
        total: amount(invoice.total, &invoice.currency)?,
        number: invoice.number.clone(),
        hosted_invoice_url: invoice.hosted_invoice_url.clone(),
    })
}

pub fn remote_invoice_item(
    item: &stripe_billing::InvoiceItem,
) -> Result<RemoteInvoiceItem, GatewayError> {
    Ok(RemoteInvoiceItem {
        provider_id: item.id.as_str().to_owned(),
        hotline_line_id: metadata_id(item.metadata.as_ref(), METADATA_LINE_ID),
        amount: amount(item.amount, &item.currency)?,
    })
}

pub fn remote_credit_note(note: &CreditNote) -> Result<RemoteCreditNote, GatewayError> {
    Ok(RemoteCreditNote {
        provider_id: note.id.as_str().to_owned(),
        hotline_credit_note_id: metadata_id(note.metadata.as_ref(), METADATA_CREDIT_NOTE_ID),
        total: amount(note.total, &note.currency)?,
    })
}

/// The guard before finalization: Stripe's total must be ours to the minor unit, in our currency.
pub fn check_total(expected: &Amount, invoice: &RemoteInvoice) -> Result<(), GatewayError> {
    if invoice.total == *expected {
        Ok(())
    } else {
        Err(GatewayError::TotalMismatch {
            provider_invoice_id: invoice.provider_id.clone(),
            expected: expected.clone(),
            actual: invoice.total.clone(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eur(minor: i64) -> Amount {
        Amount::new(minor, CurrencyCode::parse("EUR").unwrap())
    }

    fn draft(total: Amount) -> RemoteInvoice {
        RemoteInvoice {
            provider_id: "in_1".into(),
            hotline_invoice_id: None,
            status: RemoteInvoiceStatus::Draft,
            total,
            number: None,
            hosted_invoice_url: None,
        }
    }

    #[test]
    fn totals_must_match_to_the_minor_unit_and_the_currency() {
        assert!(check_total(&eur(12_345), &draft(eur(12_345))).is_ok());
        match check_total(&eur(12_345), &draft(eur(12_346))) {
            Err(GatewayError::TotalMismatch {
                expected,
                actual,
                provider_invoice_id,
            }) => {
                assert_eq!(expected, eur(12_345));
                assert_eq!(actual, eur(12_346));
                assert_eq!(provider_invoice_id, "in_1");
            }
            other => panic!("{other:?}"),
        }
        let usd = Amount::new(12_345, CurrencyCode::parse("USD").unwrap());
        assert!(matches!(
            check_total(&eur(12_345), &draft(usd)),
            Err(GatewayError::TotalMismatch { .. })
        ));
    }

    #[test]
    fn currencies_round_trip_through_stripe_lower_case() {
        // KWD is missing from async-stripe's enum and must still reach Stripe as "kwd".
        for code in ["EUR", "JPY", "KWD", "USD"] {
            let ours = CurrencyCode::parse(code).unwrap();
            let theirs = stripe_currency(&ours);
            assert_eq!(theirs.to_string(), code.to_ascii_lowercase());
            assert_eq!(amount(5, &theirs).unwrap(), Amount::new(5, ours));
        }
    }

    #[test]
    fn only_well_formed_ids_in_metadata_count_as_ours() {
        let id = Uuid::now_v7();
        let metadata = id_metadata(METADATA_INVOICE_ID, id);
        assert_eq!(metadata_id(Some(&metadata), METADATA_INVOICE_ID), Some(id));
        assert_eq!(metadata_id(Some(&metadata), METADATA_LINE_ID), None);
        let garbage = HashMap::from([(METADATA_INVOICE_ID.to_owned(), "42".to_owned())]);
        assert_eq!(metadata_id(Some(&garbage), METADATA_INVOICE_ID), None);
        assert_eq!(metadata_id(None, METADATA_INVOICE_ID), None);
    }

    #[test]
    fn the_customer_search_names_our_metadata_key() {
        let id = Uuid::parse_str("0190f5b2-7c4e-7d2a-9f0b-3a1c2d4e5f60").unwrap();
        assert_eq!(
            customer_search_query(id),
            "metadata['hotline_account_id']:'0190f5b2-7c4e-7d2a-9f0b-3a1c2d4e5f60'"
        );
    }
}
