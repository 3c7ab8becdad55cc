//! Rerating: the differences between an invoice's stored lines and the lines recomputed from
//! stored usage and tariff versions (`hotline billing rerate --tenant --period`, a dry run).
//!
//! Lines are matched by what they charge and under which tariff version ([`LineKind`] and
//! [`TariffRef`]), which is how invoice computation groups them, so each key appears at most once
//! on either side. A line is *changed* when its quantity, unit price or amount differ; a
//! description alone (band renamed in a later version) is not a difference in money and is
//! reported only when nothing else differs.
//!
//! Pure: the store loads both sides and calls [`diff_lines`].

use std::collections::BTreeMap;

use serde::Serialize;

use crate::invoice_calc::{InvoiceLine, LineKind};
use crate::tariff::TariffRef;

/// One difference between stored and recomputed lines.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "change", rename_all = "snake_case")]
pub enum LineDifference {
    /// Recomputation charges something the stored invoice does not.
    Added { recomputed: InvoiceLine },
    /// The stored invoice charges something recomputation does not.
    Removed { stored: InvoiceLine },
    /// Both charge it, differently.
    Changed {
        stored: InvoiceLine,
        recomputed: InvoiceLine,
    },
}

impl LineDifference {
    /// Recomputed minus stored amount, in minor units.
    pub fn amount_delta_minor(&self) -> i64 {
        match self {
            Self::Added { recomputed } => recomputed.amount.minor,
            Self::Removed { stored } => -stored.amount.minor,
            Self::Changed { stored, recomputed } => recomputed.amount.minor - stored.amount.minor,
        }
    }
}

/// A line's key, and the stored and recomputed line under it.
type Paired<'a> =
    BTreeMap<(LineKind, TariffRef), (Option<&'a InvoiceLine>, Option<&'a InvoiceLine>)>;

/// Differences, in invoice line order of their key.
pub fn diff_lines(stored: &[InvoiceLine], recomputed: &[InvoiceLine]) -> Vec<LineDifference> {
    let key = |line: &InvoiceLine| -> (LineKind, TariffRef) { (line.kind, line.tariff) };
    let mut pairs: Paired<'_> = BTreeMap::new();
    for line in stored {
        pairs.entry(key(line)).or_default().0 = Some(line);
    }
    for line in recomputed {
        pairs.entry(key(line)).or_default().1 = Some(line);
    }
    pairs
        .into_values()
        .filter_map(|pair| match pair {
            (Some(stored), None) => Some(LineDifference::Removed {
                stored: stored.clone(),
            }),
            (None, Some(recomputed)) => Some(LineDifference::Added {
                recomputed: recomputed.clone(),
            }),
            (Some(stored), Some(recomputed)) if stored != recomputed => {
                Some(LineDifference::Changed {
                    stored: stored.clone(),
                    recomputed: recomputed.clone(),
                })
            }
            _ => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use rust_decimal::Decimal;

    use super::*;
    use crate::invoice_calc::Quantity;
    use crate::money::Currency;
    use crate::tariff::TariffId;
    use crate::usage::Metric;

    fn line(kind: LineKind, seconds: u64, rate_cents: i64) -> InvoiceLine {
        InvoiceLine::priced(
            kind,
            "usage".into(),
            Quantity::Seconds { seconds },
            Decimal::new(rate_cents, 2),
            TariffRef {
                tariff_id: TariffId(uuid::Uuid::nil()),
                version: 1,
            },
            Currency::from_code("EUR").unwrap(),
        )
        .unwrap()
    }

    fn usage(late: bool) -> LineKind {
        LineKind::Usage {
            metric: Metric::InboundMinutes,
            band: None,
            late,
        }
    }

    fn connect() -> LineKind {
        LineKind::ConnectFee {
            metric: Metric::InboundMinutes,
            late: false,
        }
    }

    #[test]
    fn identical_lines_have_no_differences() {
        let lines = vec![line(usage(false), 600, 4), line(connect(), 60, 1)];
        assert!(diff_lines(&lines, &lines.clone()).is_empty());
    }

    #[test]
    fn added_removed_and_changed_lines_are_reported_with_their_amounts() {
        let stored = vec![line(usage(false), 600, 4), line(connect(), 60, 1)];
        // 660 s at 0.04 = 0.44 instead of 0.40; the connect fee line is gone; a late line added.
        let recomputed = vec![line(usage(false), 660, 4), line(usage(true), 60, 4)];
        let diff = diff_lines(&stored, &recomputed);
        assert_eq!(diff.len(), 3);
        let deltas: Vec<i64> = diff.iter().map(|d| d.amount_delta_minor()).collect();
        assert_eq!(deltas, vec![4, 4, -1]);
        assert!(matches!(diff[0], LineDifference::Changed { .. }));
        assert!(matches!(diff[1], LineDifference::Added { .. }));
        assert!(matches!(diff[2], LineDifference::Removed { .. }));
    }
}
