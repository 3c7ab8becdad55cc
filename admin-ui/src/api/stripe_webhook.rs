//! `POST /billing/stripe/webhook`: payment status from Stripe. No bearer token: the request is
//! trusted only once the payment gateway verified its `Stripe-Signature` over the raw body
//! (signing secret, timestamp tolerance); a bad signature is 400 and changes nothing. Events are
//! deduplicated on their id by billing's store, and may change an invoice's payment status only.
//!
//! Without a configured gateway the answer is 503, so Stripe keeps retrying (for days) until the
//! operator configures it rather than the events being lost.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::Json;
use hotline_billing::store::WebhookOutcome;
use serde::Serialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::problem::{ApiResult, Problem};
use crate::AppState;

/// The header Stripe signs deliveries in.
pub const SIGNATURE_HEADER: &str = "stripe-signature";

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct WebhookReceipt {
    /// `applied`, `duplicate` (seen before), `ignored` (not about payment, or not our invoice)
    /// or `stale` (the invoice's status had moved past it).
    pub outcome: String,
    pub invoice_id: Option<String>,
    pub payment_status: Option<String>,
}

impl From<&WebhookOutcome> for WebhookReceipt {
    fn from(outcome: &WebhookOutcome) -> Self {
        let (label, invoice, status) = match outcome {
            WebhookOutcome::Duplicate => ("duplicate", None, None),
            WebhookOutcome::Ignored => ("ignored", None, None),
            WebhookOutcome::Applied {
                invoice_id,
                payment_status,
            } => ("applied", Some(*invoice_id), Some(*payment_status)),
            WebhookOutcome::Stale { invoice_id } => ("stale", Some(*invoice_id), None),
        };
        Self {
            outcome: label.to_owned(),
            invoice_id: invoice.map(|id| id.to_string()),
            payment_status: status.map(|s| s.as_str().to_owned()),
        }
    }
}

#[utoipa::path(post, path = "/api/v1/billing/stripe/webhook", tag = "billing", security(()),
    params(("Stripe-Signature" = String, Header, description = "Stripe's signature of the raw body")),
    request_body(content = Object, description = "A Stripe event, as Stripe sends it"),
    responses((status = 200, body = WebhookReceipt), (status = 400, body = Problem), (status = 503, body = Problem)))]
pub async fn receive(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Json<WebhookReceipt>> {
    let signature = headers
        .get(SIGNATURE_HEADER)
        .and_then(|value| value.to_str().ok())
        .unwrap_or("");
    let outcome = state
        .billing
        .billing
        .handle_webhook(&body, signature)
        .await?;
    tracing::info!(outcome = ?outcome, "stripe webhook");
    Ok(Json((&outcome).into()))
}

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(receive))
}
