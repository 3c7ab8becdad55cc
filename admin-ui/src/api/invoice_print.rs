//! `GET /tenants/{tenant_id}/invoices/{id}/print`: a finalized invoice as one self-contained
//! HTML page to print or save as PDF from a browser — seller and buyer, period, lines, tax,
//! total, credit notes issued against it, and the content hash that proves what was billed.
//!
//! Rules of the page: no scripts, no external resources (inline CSS only, and a
//! Content-Security-Policy that forbids anything else), and every piece of text escaped — names,
//! descriptions and the purchase order are typed by people. Amounts and lines come from the
//! invoice's hashed content; the buyer's name and e-mail are the account's current ones.
//! An invoice that is not finalized has no printable page (409): its lines are not final.

use std::fmt::Write as _;

use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, StatusCode};
use chrono::{DateTime, Utc};
use hotline_billing::content::InvoiceContent;
use hotline_billing::ids::InvoiceId;
use hotline_billing::invoice_calc::{InvoiceLine, Quantity};
use hotline_billing::money::Money;
use hotline_billing::store::{Account, CreditNote, InvoiceSummary};
use hotline_core::ids::TenantId;
use hotline_tenants::rbac::Action;
use rust_decimal::{Decimal, RoundingStrategy};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::api::billing_context::Seller;
use crate::extract::{ApiPath, TenantCtx};
use crate::problem::{ApiError, ApiResult, Problem};
use crate::AppState;

/// Nothing but the page itself and its inline style may load or run.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

const STYLE: &str =
    "body{font-family:system-ui,sans-serif;margin:2rem auto;max-width:52rem;color:#111}\
h1{font-size:1.6rem;margin:0 0 1rem}\
.parties{display:flex;justify-content:space-between;gap:2rem;margin-bottom:1.5rem}\
.parties div{flex:1}\
table{width:100%;border-collapse:collapse;margin:1rem 0}\
th,td{padding:.35rem .5rem;border-bottom:1px solid #ccc;text-align:left;vertical-align:top}\
td.n,th.n{text-align:right;white-space:nowrap}\
tfoot td{border-bottom:none;font-weight:600}\
.meta td{border:none;padding:.1rem .5rem .1rem 0}\
.hash{font-family:monospace;font-size:.8rem;word-break:break-all}\
@media print{body{margin:0}}";

/// Text safe inside HTML elements and quoted attributes.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn money(amount: Money) -> String {
    escape(&amount.to_string())
}

fn quantity(q: Quantity) -> String {
    match q {
        Quantity::Seconds { seconds } => {
            let minutes = (Decimal::from(seconds) / Decimal::from(60))
                .round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero);
            format!("{minutes} min ({seconds} s)")
        }
        Quantity::Count { count } => count.to_string(),
        Quantity::Days { days, period_days } => format!("{days} of {period_days} days"),
    }
}

fn unit_price(line: &InvoiceLine) -> String {
    let price = line.unit_price.normalize();
    let currency = line.amount.currency;
    match line.quantity {
        Quantity::Seconds { .. } => format!("{price} {currency} / min"),
        Quantity::Count { .. } => format!("{price} {currency}"),
        Quantity::Days { .. } => format!("{price} {currency} / period"),
    }
}

fn instant(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%d %H:%M UTC").to_string()
}

/// Everything the page shows.
pub struct PrintedInvoice<'a> {
    pub seller: &'a Seller,
    pub buyer: &'a Account,
    pub summary: &'a InvoiceSummary,
    pub content: &'a InvoiceContent,
    pub credit_notes: &'a [CreditNote],
}

/// The page, as HTML text.
pub fn render(page: &PrintedInvoice<'_>) -> String {
    let invoice = &page.content.invoice;
    let period = &invoice.period;
    let last_day = period.end.pred_opt().unwrap_or(period.end);
    let mut html = String::with_capacity(8 * 1024);
    let _ = write!(
        html,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>Invoice {id}</title><style>{STYLE}</style></head><body>\n\
         <h1>Invoice</h1>\n<div class=\"parties\"><div><strong>From</strong><br>{seller}",
        id = escape(&page.summary.id.to_string()),
        seller = escape(&page.seller.name),
    );
    for line in &page.seller.address_lines {
        let _ = write!(html, "<br>{}", escape(line));
    }
    let _ = write!(
        html,
        "</div><div><strong>Bill to</strong><br>{buyer}",
        buyer = escape(&page.buyer.settings.name)
    );
    if let Some(email) = &page.buyer.settings.email {
        let _ = write!(html, "<br>{}", escape(email));
    }
    let _ = write!(
        html,
        "</div></div>\n<table class=\"meta\">\
         <tr><td>Invoice</td><td>{id}</td></tr>\
         <tr><td>Period</td><td>{start} to {last} ({zone})</td></tr>\
         <tr><td>Issued</td><td>{issued}</td></tr>\
         <tr><td>Status</td><td>{status}</td></tr>",
        id = escape(&page.summary.id.to_string()),
        start = period.start,
        last = last_day,
        zone = escape(&page.content.time_zone),
        issued = instant(page.content.finalized_at),
        status = escape(page.summary.status.as_str()),
    );
    if let Some(po) = &page.content.purchase_order {
        let _ = write!(
            html,
            "<tr><td>Purchase order</td><td>{}</td></tr>",
            escape(po)
        );
    }
    html.push_str(
        "</table>\n<table><thead><tr><th>Description</th><th class=\"n\">Quantity</th>\
         <th class=\"n\">Unit price</th><th class=\"n\">Amount</th></tr></thead><tbody>\n",
    );
    for line in &invoice.lines {
        let _ = writeln!(
            html,
            "<tr><td>{description}<br><small>tariff version {version}</small></td>\
             <td class=\"n\">{quantity}</td><td class=\"n\">{price}</td><td class=\"n\">{amount}</td></tr>",
            description = escape(&line.description),
            version = line.tariff.version,
            quantity = escape(&quantity(line.quantity)),
            price = escape(&unit_price(line)),
            amount = money(line.amount),
        );
    }
    let tax_label = match invoice.tax_rate {
        Some(rate) => format!("Tax ({}%)", (rate * Decimal::ONE_HUNDRED).normalize()),
        None => "Tax".to_owned(),
    };
    let _ = writeln!(
        html,
        "</tbody><tfoot>\
         <tr><td colspan=\"3\" class=\"n\">Subtotal</td><td class=\"n\">{subtotal}</td></tr>\
         <tr><td colspan=\"3\" class=\"n\">{tax_label}</td><td class=\"n\">{tax}</td></tr>\
         <tr><td colspan=\"3\" class=\"n\">Total</td><td class=\"n\">{total}</td></tr>\
         </tfoot></table>",
        subtotal = money(invoice.subtotal),
        tax_label = escape(&tax_label),
        tax = money(invoice.tax),
        total = money(invoice.total),
    );
    if !page.credit_notes.is_empty() {
        html.push_str(
            "<h2>Credit notes</h2>\n<table><thead><tr><th>Credit note</th><th>Issued</th>\
             <th>Memo</th><th class=\"n\">Amount</th></tr></thead><tbody>\n",
        );
        for note in page.credit_notes {
            let _ = writeln!(
                html,
                "<tr><td>{id}</td><td>{issued}</td><td>{memo}</td><td class=\"n\">{amount}</td></tr>",
                id = escape(&note.id.to_string()),
                issued = instant(note.created_at),
                memo = escape(note.memo.as_deref().unwrap_or("")),
                amount = money(note.total),
            );
        }
        html.push_str("</tbody></table>\n");
    }
    let _ = write!(
        html,
        "<p>Content hash (SHA-256 of the finalized invoice):<br><span class=\"hash\">{hash}</span></p>\n\
         </body></html>\n",
        hash = escape(page.summary.content_hash.as_deref().unwrap_or("")),
    );
    html
}

#[utoipa::path(get, path = "/api/v1/tenants/{tenant_id}/invoices/{id}/print", tag = "billing",
    params(("tenant_id" = String, Path), ("id" = String, Path)),
    responses((status = 200, description = "The printable invoice", content_type = "text/html", body = String),
        (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)))]
pub async fn print(
    State(state): State<AppState>,
    ctx: TenantCtx,
    ApiPath((_, id)): ApiPath<(TenantId, InvoiceId)>,
) -> ApiResult<(HeaderMap, String)> {
    ctx.require(Action::BillingRead)?;
    let store = state.billing.billing.store();
    let detail = store.invoice(&ctx.scope, id).await?;
    let content = detail.content.ok_or_else(|| {
        ApiError::new(
            StatusCode::CONFLICT,
            "conflict",
            "Not final",
            "the invoice is not finalized yet; its lines still change (read them at /lines)",
        )
    })?;
    let buyer = store.account(&ctx.scope).await?;
    let credit_notes = store.credit_notes(&ctx.scope, id).await?;
    let html = render(&PrintedInvoice {
        seller: &state.billing.seller,
        buyer: &buyer,
        summary: &detail.summary,
        content: &content,
        credit_notes: &credit_notes,
    });
    let mut headers = HeaderMap::new();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    headers.insert(
        HeaderName::from_static("x-content-type-options"),
        HeaderValue::from_static("nosniff"),
    );
    Ok((headers, html))
}

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(print))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_in_text_is_escaped() {
        assert_eq!(
            escape("<script>alert('x')</script> & \"co\""),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;co&quot;"
        );
    }

    #[test]
    fn quantities_read_as_people_count() {
        assert_eq!(
            quantity(Quantity::Seconds { seconds: 6090 }),
            "101.50 min (6090 s)"
        );
        assert_eq!(quantity(Quantity::Count { count: 3 }), "3");
        assert_eq!(
            quantity(Quantity::Days {
                days: 17,
                period_days: 31
            }),
            "17 of 31 days"
        );
    }
}
