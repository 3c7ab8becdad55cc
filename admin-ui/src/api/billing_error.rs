//! How billing's errors answer over HTTP (problem+json), in one place: a missing row is 404,
//! what breaks a rule of state (final, in use, not ready, exists) is 409, bad input is 422, a
//! webhook that does not verify is 400, and the database being away — or the payment gateway
//! or its webhook secret not being configured — is 503 (the provider retries later).
//!
//! Details of database and corruption errors are logged, never sent.

use axum::http::StatusCode;
use hotline_billing::BillingError;
use hotline_tenants::FieldError;

use crate::problem::ApiError;

fn conflict(detail: String) -> ApiError {
    ApiError::new(StatusCode::CONFLICT, "conflict", "Conflict", detail)
}

impl From<BillingError> for ApiError {
    fn from(err: BillingError) -> Self {
        if err.is_unavailable() {
            tracing::error!(error = %err, "billing database unavailable");
            return ApiError::unavailable("the database is unavailable; nothing was changed");
        }
        let detail = err.to_string();
        match err {
            BillingError::NotFound(what) => ApiError::not_found(what),
            BillingError::AlreadyExists(_)
            | BillingError::Immutable(_)
            | BillingError::InvoiceFinalized(_)
            | BillingError::VersionInUse { .. }
            | BillingError::VersionConflict { .. }
            | BillingError::NotReadyToFinalize { .. } => conflict(detail),
            BillingError::Invalid { field, reason } => ApiError {
                errors: vec![FieldError {
                    field: field.to_string(),
                    message: reason,
                }],
                ..ApiError::unprocessable(detail)
            },
            BillingError::Tariff(_)
            | BillingError::BillingDay(_)
            | BillingError::Invoice(_)
            | BillingError::Money(_)
            | BillingError::TenantMismatch
            | BillingError::CreditExceedsInvoice { .. } => ApiError::unprocessable(detail),
            // The endpoint is not set up yet: the provider should keep the event and retry.
            BillingError::Webhook(hotline_billing::gateway::WebhookError::NotConfigured) => {
                ApiError::unavailable(
                    "no webhook signing secret is configured (billing.stripe_webhook_secret); the provider should retry later",
                )
            }
            BillingError::Webhook(_) => ApiError::new(
                StatusCode::BAD_REQUEST,
                "bad-webhook",
                "Webhook not accepted",
                detail,
            ),
            BillingError::NoGateway => ApiError::unavailable(
                "no payment gateway is configured (billing.stripe_secret_key); the provider should retry later",
            ),
            BillingError::Database(_) | BillingError::Content(_) | BillingError::Corrupt(_) => {
                tracing::error!(error = %detail, "billing failed");
                ApiError::internal()
            }
        }
    }
}
