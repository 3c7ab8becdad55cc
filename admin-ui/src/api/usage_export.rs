//! `GET /tenants/{tenant_id}/invoices/{id}/usage.csv`: every rated usage an invoice bills, one
//! CSV row each (RFC 4180, UTF-8, CRLF), for a client to check its invoice call by call:
//! call id, leg, metric, start and end (UTC), measured and billable seconds, seconds a bundle
//! included, the band(s) it was priced in, the tariff version, and its exact unrounded amount
//! (an invoice rounds once per line, so rows summed per line give each line's amount before its
//! rounding). Late usages of earlier periods billed here are marked.
//!
//! Text the operator typed (band names) is quoted, and prefixed with `'` when a spreadsheet
//! would read it as a formula.

use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue};
use hotline_billing::ids::InvoiceId;
use hotline_billing::store::UsageExport;
use hotline_core::ids::TenantId;
use hotline_tenants::rbac::Action;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::api::invoices::metric_name;
use crate::extract::{ApiPath, TenantCtx};
use crate::problem::{ApiResult, Problem};
use crate::AppState;

/// The first row.
pub const CSV_HEADER: &str = "call_id,leg,metric,started_at,ended_at,measured_seconds,billable_seconds,included_seconds,band,tariff_id,tariff_version,amount,currency,late";

/// The band printed for seconds priced at a metric's base rate.
const BASE_RATE: &str = "standard";

/// One CSV field: quoted when it holds a separator, quote or line break; defused when a
/// spreadsheet would evaluate it.
fn field(text: &str) -> String {
    let defused = if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}")
    } else {
        text.to_owned()
    };
    if defused.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", defused.replace('"', "\"\""))
    } else {
        defused
    }
}

/// The whole export as CSV text.
pub fn render_csv(export: &UsageExport) -> String {
    let currency = export.invoice.currency.code();
    let mut out = String::with_capacity(64 + export.usages.len() * 160);
    out.push_str(CSV_HEADER);
    out.push_str("\r\n");
    for usage in &export.usages {
        let rated = &usage.rated;
        let mut bands: Vec<&str> = Vec::new();
        for piece in &rated.pieces {
            let name = export
                .band_name(piece.tariff, rated.metric, piece.band)
                .unwrap_or(BASE_RATE);
            if bands.last() != Some(&name) {
                bands.push(name);
            }
        }
        let row = [
            rated.call_id.to_string(),
            rated.leg.to_string(),
            metric_name(rated.metric),
            rated.started_at.to_rfc3339(),
            rated.ended_at.to_rfc3339(),
            rated.measured_seconds.to_string(),
            rated.billable_seconds.to_string(),
            rated.included_seconds().to_string(),
            field(&bands.join("+")),
            rated.tariff.tariff_id.to_string(),
            rated.tariff.version.to_string(),
            rated.amount().normalize().to_string(),
            currency.to_owned(),
            usage.late.to_string(),
        ];
        out.push_str(&row.join(","));
        out.push_str("\r\n");
    }
    out
}

#[utoipa::path(get, path = "/api/v1/tenants/{tenant_id}/invoices/{id}/usage.csv", tag = "billing",
    params(("tenant_id" = String, Path), ("id" = String, Path)),
    responses((status = 200, description = "One row per rated usage", content_type = "text/csv", body = String),
        (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn export(
    State(state): State<AppState>,
    ctx: TenantCtx,
    ApiPath((_, id)): ApiPath<(TenantId, InvoiceId)>,
) -> ApiResult<(HeaderMap, String)> {
    ctx.require(Action::BillingRead)?;
    let export = state
        .billing
        .billing
        .store()
        .invoice_usage_export(&ctx.scope, id)
        .await?;
    let mut headers = HeaderMap::new();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    let filename = format!(
        "attachment; filename=\"usage-{}.csv\"",
        export.invoice.period.start
    );
    if let Ok(value) = HeaderValue::from_str(&filename) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    Ok((headers, render_csv(&export)))
}

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(export))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_quoted_and_defused() {
        assert_eq!(field("Peak"), "Peak");
        assert_eq!(field("Peak, weekdays"), "\"Peak, weekdays\"");
        assert_eq!(field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(field("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(field("-1"), "'-1");
        assert_eq!(field("line\nbreak"), "\"line\nbreak\"");
    }
}
