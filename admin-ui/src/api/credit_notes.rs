//! `/tenants/{tenant_id}/invoices/{id}/credit-notes`: how a finalized invoice is corrected —
//! money given back, never an edit of the invoice. The platform operator issues them (honouring
//! `Idempotency-Key`, so a retried request never credits twice); the tenant's admins and billing
//! viewers read them. Credit notes never add up to more than the invoice's total (422).

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::{DateTime, Utc};
use hotline_billing::gateway::CreditNoteReason;
use hotline_billing::ids::InvoiceId;
use hotline_billing::store::{CreditNote, CreditNoteLineInput};
use hotline_core::ids::TenantId;
use hotline_tenants::rbac::Action;
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::api::idempotency::IdempotencyKey;
use crate::extract::{ApiJson, ApiPath, TenantCtx};
use crate::problem::{ApiError, ApiResult, Problem};
use crate::AppState;

/// Why a credit note is issued (the payment provider's vocabulary).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    Duplicate,
    Fraudulent,
    OrderChange,
    ProductUnsatisfactory,
}

impl From<Reason> for CreditNoteReason {
    fn from(reason: Reason) -> Self {
        match reason {
            Reason::Duplicate => CreditNoteReason::Duplicate,
            Reason::Fraudulent => CreditNoteReason::Fraudulent,
            Reason::OrderChange => CreditNoteReason::OrderChange,
            Reason::ProductUnsatisfactory => CreditNoteReason::ProductUnsatisfactory,
        }
    }
}

impl From<CreditNoteReason> for Reason {
    fn from(reason: CreditNoteReason) -> Self {
        match reason {
            CreditNoteReason::Duplicate => Reason::Duplicate,
            CreditNoteReason::Fraudulent => Reason::Fraudulent,
            CreditNoteReason::OrderChange => Reason::OrderChange,
            CreditNoteReason::ProductUnsatisfactory => Reason::ProductUnsatisfactory,
        }
    }
}

#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreditLine {
    pub description: String,
    /// Positive, in minor units of the invoice's currency.
    pub amount_minor: i64,
}

#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreditNoteInput {
    pub lines: Vec<CreditLine>,
    #[serde(default)]
    pub reason: Option<Reason>,
    #[serde(default)]
    pub memo: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CreditNoteView {
    pub id: String,
    pub invoice_id: String,
    pub tenant_id: String,
    pub reason: Option<Reason>,
    pub memo: Option<String>,
    pub currency: String,
    pub total_minor: i64,
    pub lines: Vec<CreditLine>,
    pub created_at: DateTime<Utc>,
}

impl From<CreditNote> for CreditNoteView {
    fn from(note: CreditNote) -> Self {
        Self {
            id: note.id.to_string(),
            invoice_id: note.invoice_id.to_string(),
            tenant_id: note.tenant_id.to_string(),
            reason: note.reason.map(Reason::from),
            memo: note.memo,
            currency: note.total.currency.code().to_owned(),
            total_minor: note.total.minor,
            lines: note
                .lines
                .into_iter()
                .map(|line| CreditLine {
                    description: line.description,
                    amount_minor: line.amount_minor,
                })
                .collect(),
            created_at: note.created_at,
        }
    }
}

#[utoipa::path(get, path = "/api/v1/tenants/{tenant_id}/invoices/{id}/credit-notes", tag = "billing",
    params(("tenant_id" = String, Path), ("id" = String, Path)),
    responses((status = 200, body = Vec<CreditNoteView>), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn list(
    State(state): State<AppState>,
    ctx: TenantCtx,
    ApiPath((_, id)): ApiPath<(TenantId, InvoiceId)>,
) -> ApiResult<Json<Vec<CreditNoteView>>> {
    ctx.require(Action::BillingRead)?;
    let store = state.billing.billing.store();
    // The invoice must be the tenant's: another tenant's id is not found, not an empty list.
    store.invoice(&ctx.scope, id).await?;
    let notes = store.credit_notes(&ctx.scope, id).await?;
    Ok(Json(notes.into_iter().map(CreditNoteView::from).collect()))
}

#[utoipa::path(post, path = "/api/v1/tenants/{tenant_id}/invoices/{id}/credit-notes", tag = "billing",
    params(("tenant_id" = String, Path), ("id" = String, Path),
        ("Idempotency-Key" = Option<String>, Header, description = "Repeating a request with the same key answers as the first time")),
    request_body = CreditNoteInput,
    responses((status = 201, body = CreditNoteView), (status = 400, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn issue(
    State(state): State<AppState>,
    ctx: TenantCtx,
    ApiPath((_, id)): ApiPath<(TenantId, InvoiceId)>,
    idempotency: IdempotencyKey,
    ApiJson(input): ApiJson<CreditNoteInput>,
) -> ApiResult<Response> {
    ctx.require(Action::BillingManage)?;
    let platform = ctx
        .caller
        .0
        .platform_scope()
        .ok_or_else(|| ApiError::forbidden("only the platform operator may do this"))?;
    let billing = state.billing.billing.clone();
    let scope = ctx.scope;
    let body = serde_json::to_value(&input).unwrap_or_default();
    Ok(idempotency
        .once(&state.billing, &ctx.caller, &body, || async move {
            let run = async {
                // Another tenant's invoice id is not found here, whatever the operator meant.
                billing.store().invoice(&scope, id).await?;
                let lines = input
                    .lines
                    .into_iter()
                    .map(|line| CreditNoteLineInput {
                        description: line.description,
                        amount_minor: line.amount_minor,
                    })
                    .collect();
                let note = billing
                    .issue_credit_note(
                        &platform,
                        scope.tenant_id(),
                        id,
                        lines,
                        input.reason.map(CreditNoteReason::from),
                        input.memo,
                    )
                    .await?;
                ApiResult::Ok((StatusCode::CREATED, Json(CreditNoteView::from(note))))
            };
            run.await.into_response()
        })
        .await)
}

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list, issue))
}
