//! Walking Stripe list endpoints page by page (`limit` + `starting_after`), for reconciliation.
//!
//! Must never loop forever on a misbehaving answer: a page that claims more but is empty, or more
//! pages than [`MAX_PAGES`], ends the walk with an error.

use std::future::Future;

use hotline_billing::gateway::GatewayError;
use stripe_types::List;

use crate::failure::TransportError;

/// Largest page Stripe serves.
pub const PAGE_SIZE: i64 = 100;

/// 100 pages of 100: far beyond one customer's invoices or one invoice's items.
pub const MAX_PAGES: usize = 100;

/// Fetches pages until `found` matches an item (returned) or the list ends (`None`).
/// `fetch` receives the cursor: `None` for the first page, then the last id seen.
pub async fn find_in_pages<T, F, Fut>(
    mut fetch: F,
    id_of: impl Fn(&T) -> Option<String>,
    found: impl Fn(&T) -> bool,
) -> Result<Option<T>, GatewayError>
where
    F: FnMut(Option<String>) -> Fut,
    Fut: Future<Output = Result<List<T>, TransportError>>,
{
    let mut cursor = None;
    for _ in 0..MAX_PAGES {
        let page = fetch(cursor.take()).await?;
        let last_id = page.data.last().and_then(&id_of);
        let has_more = page.has_more;
        if let Some(hit) = page.data.into_iter().find(|item| found(item)) {
            return Ok(Some(hit));
        }
        match (has_more, last_id) {
            (false, _) => return Ok(None),
            (true, Some(id)) => cursor = Some(id),
            (true, None) => {
                return Err(paging_error(
                    "Stripe claimed more results after an empty page",
                ))
            }
        }
    }
    Err(paging_error("more pages than reconciliation walks"))
}

/// Fetches every page and returns all items, in Stripe's order.
pub async fn all_pages<T, F, Fut>(
    mut fetch: F,
    id_of: impl Fn(&T) -> Option<String>,
) -> Result<Vec<T>, GatewayError>
where
    F: FnMut(Option<String>) -> Fut,
    Fut: Future<Output = Result<List<T>, TransportError>>,
{
    let mut items = Vec::new();
    let mut cursor = None;
    for _ in 0..MAX_PAGES {
        let page = fetch(cursor.take()).await?;
        let last_id = page.data.last().and_then(&id_of);
        let has_more = page.has_more;
        items.extend(page.data);
        match (has_more, last_id) {
            (false, _) => return Ok(items),
            (true, Some(id)) => cursor = Some(id),
            (true, None) => {
                return Err(paging_error(
                    "Stripe claimed more results after an empty page",
                ))
            }
        }
    }
    Err(paging_error("more pages than reconciliation walks"))
}

fn paging_error(message: &str) -> GatewayError {
    GatewayError::Permanent {
        status: None,
        code: Some("unexpected_response".into()),
        message: message.to_owned(),
    }
}
