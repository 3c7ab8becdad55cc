//! Stripe webhook deliveries: signature verification and parsing into billing's
//! [`WebhookEvent`].
//!
//! The `Stripe-Signature` header is `t=<unix seconds>,v1=<hex>[,v1=<hex>...]`; each `v1` is
//! HMAC-SHA256 over `"<t>.<raw body>"` keyed with the endpoint's signing secret (several appear
//! while a secret is being rolled; any one matching is enough). Comparison is constant-time
//! (`Mac::verify_slice`). The timestamp must lie within the tolerance of now in either direction,
//! so a captured delivery cannot be replayed later.
//!
//! Written here rather than taken from async-stripe-webhook, which would compile the typed event
//! enum of every billing object for the four fields we read. Only the fields billing acts on
//! are parsed, which also keeps parsing independent of the endpoint's API version.
//!
//! Must never act on an event: it verifies and describes; deduplication on the event id and the
//! payment-status update are the billing store's.

use std::collections::HashMap;
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use hmac::{Hmac, Mac};
use hotline_billing::gateway::{WebhookError, WebhookEvent, WebhookEventKind, METADATA_INVOICE_ID};
use serde::Deserialize;
use sha2::Sha256;

use crate::convert::metadata_id;

type HmacSha256 = Hmac<Sha256>;

/// Checks deliveries against one endpoint's signing secret.
#[derive(Clone)]
pub struct WebhookVerifier {
    /// Keyed once with the signing secret; cloned per delivery.
    keyed: HmacSha256,
    tolerance: Duration,
}

impl std::fmt::Debug for WebhookVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookVerifier")
            .field("tolerance", &self.tolerance)
            .finish_non_exhaustive()
    }
}

struct SignatureHeader {
    timestamp: i64,
    signatures: Vec<Vec<u8>>,
}

fn parse_header(header: &str) -> Result<SignatureHeader, WebhookError> {
    let mut timestamp = None;
    let mut signatures = Vec::new();
    for part in header.split(',') {
        let (key, value) = part
            .trim()
            .split_once('=')
            .ok_or_else(|| WebhookError::MalformedHeader(format!("no key=value in {part:?}")))?;
        match key {
            "t" => {
                if timestamp.is_some() {
                    return Err(WebhookError::MalformedHeader(
                        "more than one timestamp".into(),
                    ));
                }
                let parsed = value
                    .parse::<i64>()
                    .map_err(|_| WebhookError::MalformedHeader(format!("timestamp {value:?}")))?;
                timestamp = Some(parsed);
            }
            // A v1 value that is not hex cannot match; it is skipped like any wrong signature.
            "v1" => signatures.extend(hex::decode(value).ok()),
            // v0 (test-mode legacy) and future schemes are ignored, as Stripe's libraries do.
            _ => {}
        }
    }
    let timestamp =
        timestamp.ok_or_else(|| WebhookError::MalformedHeader("no timestamp".into()))?;
    if signatures.is_empty() {
        return Err(WebhookError::MalformedHeader("no v1 signature".into()));
    }
    Ok(SignatureHeader {
        timestamp,
        signatures,
    })
}

impl WebhookVerifier {
    /// `None` only if the HMAC implementation refuses the key (it accepts every length).
    pub fn new(secret: &str, tolerance: Duration) -> Option<Self> {
        let keyed = HmacSha256::new_from_slice(secret.as_bytes()).ok()?;
        Some(Self { keyed, tolerance })
    }

    fn mac(&self, timestamp: i64, payload: &[u8]) -> HmacSha256 {
        let mut mac = self.keyed.clone();
        mac.update(timestamp.to_string().as_bytes());
        mac.update(b".");
        mac.update(payload);
        mac
    }

    /// Verifies the signature, then the timestamp, then parses the event.
    pub fn verify(
        &self,
        payload: &[u8],
        signature_header: &str,
        now: DateTime<Utc>,
    ) -> Result<WebhookEvent, WebhookError> {
        let header = parse_header(signature_header)?;
        let mac = self.mac(header.timestamp, payload);
        let matches = header
            .signatures
            .iter()
            .any(|signature| mac.clone().verify_slice(signature).is_ok());
        if !matches {
            return Err(WebhookError::BadSignature);
        }
        let age_seconds = now.timestamp().saturating_sub(header.timestamp);
        if age_seconds.unsigned_abs() > self.tolerance.as_secs() {
            return Err(WebhookError::OutsideTolerance {
                age_seconds,
                tolerance_seconds: self.tolerance.as_secs(),
            });
        }
        parse_event(payload)
    }
}

#[derive(Deserialize)]
struct RawEvent {
    id: String,
    #[serde(rename = "type")]
    event_type: String,
    created: i64,
    data: RawData,
}

#[derive(Deserialize)]
struct RawData {
    object: RawObject,
}

#[derive(Deserialize)]
struct RawObject {
    id: Option<String>,
    object: Option<String>,
    metadata: Option<HashMap<String, String>>,
}

fn kind(event_type: &str) -> WebhookEventKind {
    match event_type {
        "invoice.paid" => WebhookEventKind::InvoicePaid,
        "invoice.payment_failed" => WebhookEventKind::InvoicePaymentFailed,
        "invoice.voided" => WebhookEventKind::InvoiceVoided,
        "invoice.marked_uncollectible" => WebhookEventKind::InvoiceMarkedUncollectible,
        other => WebhookEventKind::Other(other.to_owned()),
    }
}

/// Parses a (verified) event body. Only an invoice object yields invoice ids.
pub fn parse_event(payload: &[u8]) -> Result<WebhookEvent, WebhookError> {
    let raw: RawEvent = serde_json::from_slice(payload)
        .map_err(|err| WebhookError::MalformedPayload(err.to_string()))?;
    let created = Utc
        .timestamp_opt(raw.created, 0)
        .single()
        .ok_or_else(|| WebhookError::MalformedPayload(format!("created {}", raw.created)))?;
    let is_invoice = raw.data.object.object.as_deref() == Some("invoice");
    let (provider_invoice_id, hotline_invoice_id) = if is_invoice {
        (
            raw.data.object.id,
            metadata_id(raw.data.object.metadata.as_ref(), METADATA_INVOICE_ID),
        )
    } else {
        (None, None)
    };
    Ok(WebhookEvent {
        id: raw.id,
        created,
        kind: kind(&raw.event_type),
        provider_invoice_id,
        hotline_invoice_id,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_parsing_requires_a_timestamp_and_a_v1_signature() {
        assert!(matches!(
            parse_header("v1=00"),
            Err(WebhookError::MalformedHeader(_))
        ));
        assert!(matches!(
            parse_header("t=1"),
            Err(WebhookError::MalformedHeader(_))
        ));
        assert!(matches!(
            parse_header("t=x,v1=00"),
            Err(WebhookError::MalformedHeader(_))
        ));
        assert!(matches!(
            parse_header("t=1,t=2,v1=00"),
            Err(WebhookError::MalformedHeader(_))
        ));
        assert!(matches!(
            parse_header("garbage"),
            Err(WebhookError::MalformedHeader(_))
        ));
        let parsed = parse_header("t=1700000000, v1=00ff, v0=abcd, v1=zz, v1=0a").unwrap();
        assert_eq!(parsed.timestamp, 1_700_000_000);
        assert_eq!(parsed.signatures, vec![vec![0x00, 0xff], vec![0x0a]]);
    }

    #[test]
    fn event_types_map_to_the_kinds_billing_acts_on() {
        assert_eq!(kind("invoice.paid"), WebhookEventKind::InvoicePaid);
        assert_eq!(
            kind("invoice.payment_failed"),
            WebhookEventKind::InvoicePaymentFailed
        );
        assert_eq!(kind("invoice.voided"), WebhookEventKind::InvoiceVoided);
        assert_eq!(
            kind("invoice.marked_uncollectible"),
            WebhookEventKind::InvoiceMarkedUncollectible
        );
        assert_eq!(
            kind("customer.created"),
            WebhookEventKind::Other("customer.created".into())
        );
    }

    #[test]
    fn non_invoice_objects_carry_no_invoice_ids() {
        let body = br#"{"id":"evt_1","type":"customer.updated","created":1700000000,
            "data":{"object":{"id":"cus_1","object":"customer","metadata":{"hotline_invoice_id":"0190f5b2-7c4e-7d2a-9f0b-3a1c2d4e5f60"}}}}"#;
        let event = parse_event(body).unwrap();
        assert_eq!(event.provider_invoice_id, None);
        assert_eq!(event.hotline_invoice_id, None);
        assert_eq!(
            event.kind,
            WebhookEventKind::Other("customer.updated".into())
        );
    }

    #[test]
    fn a_body_that_is_not_an_event_is_malformed() {
        assert!(matches!(
            parse_event(b"{}"),
            Err(WebhookError::MalformedPayload(_))
        ));
        assert!(matches!(
            parse_event(b"not json"),
            Err(WebhookError::MalformedPayload(_))
        ));
    }
}
