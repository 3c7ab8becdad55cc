//! Webhook deliveries as Stripe signs them: a good signature, a bad one, an expired timestamp,
//! a rolled secret, and the same event delivered twice. Signatures here are computed
//! independently of the adapter (HMAC-SHA256 of `"<t>.<body>"`, hex).

mod support;

use chrono::{DateTime, TimeZone, Utc};
use hmac::{Hmac, Mac};
use hotline_billing::gateway::{PaymentGateway, WebhookError, WebhookEventKind};
use hotline_billing_stripe::{StripeConfig, StripeGateway};
use sha2::Sha256;
use support::{fixture, SECRET_KEY};
use uuid::Uuid;

const WEBHOOK_SECRET: &str = "whsec_5f2c1a9e8d7b6a5f4e3d2c1b0a9f8e7d";

fn sign(secret: &str, timestamp: i64, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("{timestamp}.").as_bytes());
    mac.update(body);
    hex::encode(mac.finalize().into_bytes())
}

fn gateway() -> StripeGateway {
    StripeGateway::new(StripeConfig::new(SECRET_KEY).with_webhook_secret(WEBHOOK_SECRET)).unwrap()
}

fn paid_event() -> Vec<u8> {
    serde_json::to_vec(&fixture("event_invoice_paid")).unwrap()
}

fn at(seconds: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(seconds, 0).unwrap()
}

const SENT_AT: i64 = 1_793_611_802;

#[test]
fn a_correctly_signed_invoice_paid_event_is_accepted_and_parsed() {
    let body = paid_event();
    let header = format!("t={SENT_AT},v1={}", sign(WEBHOOK_SECRET, SENT_AT, &body));

    let event = gateway()
        .verify_webhook(&body, &header, at(SENT_AT + 5))
        .unwrap();
    assert_eq!(event.id, "evt_1SaC1dLkdIwHu7ixK9pQ2rSt");
    assert_eq!(event.kind, WebhookEventKind::InvoicePaid);
    assert_eq!(event.created, at(1_793_611_801));
    assert_eq!(
        event.provider_invoice_id.as_deref(),
        Some("in_1SZx9kLkdIwHu7ix0aBcDeFg")
    );
    assert_eq!(
        event.hotline_invoice_id,
        Some(Uuid::parse_str("0190f5b3-0a11-7b22-8c33-4d44e55f6607").unwrap())
    );
}

#[test]
fn a_signature_made_with_another_secret_or_over_another_body_is_rejected() {
    let body = paid_event();
    let wrong_secret = format!(
        "t={SENT_AT},v1={}",
        sign("whsec_someone_else", SENT_AT, &body)
    );
    assert_eq!(
        gateway()
            .verify_webhook(&body, &wrong_secret, at(SENT_AT))
            .unwrap_err(),
        WebhookError::BadSignature
    );

    let signed = format!("t={SENT_AT},v1={}", sign(WEBHOOK_SECRET, SENT_AT, &body));
    let mut tampered = body.clone();
    let text =
        String::from_utf8(tampered.clone())
            .unwrap()
            .replacen("invoice.paid", "invoice.voided", 1);
    tampered = text.into_bytes();
    assert_eq!(
        gateway()
            .verify_webhook(&tampered, &signed, at(SENT_AT))
            .unwrap_err(),
        WebhookError::BadSignature
    );

    // The signature binds the timestamp too: moving t invalidates it.
    let moved = format!(
        "t={},v1={}",
        SENT_AT + 1,
        sign(WEBHOOK_SECRET, SENT_AT, &body)
    );
    assert_eq!(
        gateway()
            .verify_webhook(&body, &moved, at(SENT_AT))
            .unwrap_err(),
        WebhookError::BadSignature
    );
}

#[test]
fn a_delivery_older_than_the_tolerance_is_rejected_even_if_signed() {
    let body = paid_event();
    let header = format!("t={SENT_AT},v1={}", sign(WEBHOOK_SECRET, SENT_AT, &body));

    assert!(gateway()
        .verify_webhook(&body, &header, at(SENT_AT + 300))
        .is_ok());
    assert_eq!(
        gateway()
            .verify_webhook(&body, &header, at(SENT_AT + 301))
            .unwrap_err(),
        WebhookError::OutsideTolerance {
            age_seconds: 301,
            tolerance_seconds: 300
        }
    );
    assert!(matches!(
        gateway()
            .verify_webhook(&body, &header, at(SENT_AT - 301))
            .unwrap_err(),
        WebhookError::OutsideTolerance {
            age_seconds: -301,
            ..
        }
    ));
}

#[test]
fn during_a_secret_roll_any_matching_v1_signature_is_enough() {
    let body = paid_event();
    let header = format!(
        "t={SENT_AT},v1={},v1={},v0={}",
        sign("whsec_old_secret", SENT_AT, &body),
        sign(WEBHOOK_SECRET, SENT_AT, &body),
        sign(WEBHOOK_SECRET, SENT_AT, b"v0 is ignored"),
    );
    assert!(gateway()
        .verify_webhook(&body, &header, at(SENT_AT))
        .is_ok());
}

#[test]
fn the_same_event_delivered_twice_parses_to_the_same_id() {
    let body = paid_event();
    let first_header = format!("t={SENT_AT},v1={}", sign(WEBHOOK_SECRET, SENT_AT, &body));
    // Stripe's redelivery is signed anew, with a later timestamp.
    let later = SENT_AT + 3_600;
    let second_header = format!("t={later},v1={}", sign(WEBHOOK_SECRET, later, &body));

    let first = gateway()
        .verify_webhook(&body, &first_header, at(SENT_AT))
        .unwrap();
    let second = gateway()
        .verify_webhook(&body, &second_header, at(later + 1))
        .unwrap();
    assert_eq!(first.id, second.id);
    assert_eq!(first, second);
}

#[test]
fn other_invoice_events_map_to_their_kinds() {
    for (event_type, kind) in [
        (
            "invoice.payment_failed",
            WebhookEventKind::InvoicePaymentFailed,
        ),
        ("invoice.voided", WebhookEventKind::InvoiceVoided),
        (
            "invoice.marked_uncollectible",
            WebhookEventKind::InvoiceMarkedUncollectible,
        ),
        (
            "invoice.finalized",
            WebhookEventKind::Other("invoice.finalized".into()),
        ),
    ] {
        let mut event = fixture("event_invoice_paid");
        event["type"] = serde_json::json!(event_type);
        let body = serde_json::to_vec(&event).unwrap();
        let header = format!("t={SENT_AT},v1={}", sign(WEBHOOK_SECRET, SENT_AT, &body));
        let parsed = gateway()
            .verify_webhook(&body, &header, at(SENT_AT))
            .unwrap();
        assert_eq!(parsed.kind, kind);
        assert_eq!(
            parsed.provider_invoice_id.as_deref(),
            Some("in_1SZx9kLkdIwHu7ix0aBcDeFg")
        );
    }
}

#[test]
fn without_a_signing_secret_every_delivery_is_rejected() {
    let gateway = StripeGateway::new(StripeConfig::new(SECRET_KEY)).unwrap();
    let body = paid_event();
    let header = format!("t={SENT_AT},v1={}", sign(WEBHOOK_SECRET, SENT_AT, &body));
    assert_eq!(
        gateway
            .verify_webhook(&body, &header, at(SENT_AT))
            .unwrap_err(),
        WebhookError::NotConfigured
    );
}

#[test]
fn a_missing_or_garbled_header_is_malformed() {
    let body = paid_event();
    for header in ["", "t=1793611802", "v1=abcdef", "t=yesterday,v1=abcdef"] {
        assert!(
            matches!(
                gateway()
                    .verify_webhook(&body, header, at(SENT_AT))
                    .unwrap_err(),
                WebhookError::MalformedHeader(_)
            ),
            "{header:?}"
        );
    }
}
