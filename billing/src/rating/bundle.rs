//! Bundle consumption: a period's included minutes of a metric are used up in call order.
//!
//! Decisions:
//! - Call order is (start, call id, leg, metric) — total, so any permutation of the same usages
//!   consumes the bundle identically.
//! - Billable seconds are consumed (increments and minimum included): the bundle counts minutes
//!   as the contract bills them. Connect fees are never included; they are charged per call.
//! - Within a usage, pieces are consumed in wall-time order; the usage that crosses the limit is
//!   split inside the piece that crosses it: its `included_seconds` cover the rest of the
//!   allowance and the remainder is charged at the piece's rate.
//! - Usages that arrive after their period closed consume what that period left, after all the
//!   usages already invoiced, whatever their start time: a finalized invoice never changes.
//!   The store keeps the closing balance and passes it back in (see [`BundleAllowance`]).

use crate::tariff::TariffRef;
use crate::usage::Metric;

use super::{amount_for, RatedUsage, RatingError};

/// The included seconds of one metric in one period and how many are used.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct BundleAllowance {
    pub metric: Metric,
    /// The version whose bundle this is.
    pub tariff: TariffRef,
    pub included_seconds: u64,
    pub used_seconds: u64,
}

impl BundleAllowance {
    pub fn remaining_seconds(&self) -> u64 {
        self.included_seconds.saturating_sub(self.used_seconds)
    }
}

/// Sorts `usages` into call order and consumes `allowances` (at most one per metric) from
/// them, setting each piece's included seconds and recomputing its amount. Pieces already
/// marked included (a replay) are first reset, so the outcome depends only on the inputs.
pub fn apply_bundles(
    usages: &mut [RatedUsage],
    allowances: &mut [BundleAllowance],
) -> Result<(), RatingError> {
    usages.sort_by_key(|u| u.consumption_key());
    for usage in usages.iter_mut() {
        let allowance = allowances.iter_mut().find(|a| a.metric == usage.metric);
        let mut remaining = allowance.as_ref().map_or(0, |a| a.remaining_seconds());
        let mut used = 0_u64;
        for piece in &mut usage.pieces {
            let included = u64::from(piece.seconds).min(remaining);
            remaining -= included;
            used += included;
            // `included` ≤ `piece.seconds`, a u32.
            let included = u32::try_from(included).unwrap_or(piece.seconds);
            if included != piece.included_seconds {
                piece.included_seconds = included;
                piece.amount = amount_for(piece.rate_per_minute, piece.charged_seconds()).ok_or(
                    RatingError::Overflow {
                        call_id: usage.call_id,
                    },
                )?;
            }
        }
        if let Some(allowance) = allowance {
            allowance.used_seconds += used;
        }
    }
    Ok(())
}
