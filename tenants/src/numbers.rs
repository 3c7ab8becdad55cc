//! Phone numbers: E.164, normalized on input, unique across the installation, owned by one
//! tenant and pointing at one of its hotlines. The operator assigns and releases numbers; the
//! tenant points them at hotlines. The number itself never changes: release and assign anew.

use hotline_core::ids::{HotlineId, NumberId};
use serde::{Deserialize, Serialize};
use sqlx::any::AnyRow;
use sqlx::Row;

use crate::crud::{opt_uuid_column, AnyQuery, Spec, Stored};
use crate::error::{Invalid, StoreResult};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NumberSpec {
    /// E.164; spaces, dashes, dots, parentheses and a leading `00` are accepted and normalized.
    #[schema(example = "+421 2 1234 5678")]
    pub e164: String,
    #[serde(default)]
    pub label: String,
    /// The hotline calls to this number reach; none: calls are refused as unknown.
    #[serde(default)]
    pub hotline_id: Option<HotlineId>,
}

pub type Number = Stored<NumberSpec>;

pub use hotline_core::e164::normalize as normalize_e164;

impl Spec for NumberSpec {
    type Id = NumberId;
    const RESOURCE: &'static str = "number";
    const TABLE: &'static str = "numbers";
    const COLUMNS: &'static [&'static str] = &["e164", "label", "hotline_id"];
    const ROUTES_CALLS: bool = true;

    fn bind<'q>(&'q self, query: AnyQuery<'q>) -> AnyQuery<'q> {
        query
            .bind(&self.e164)
            .bind(&self.label)
            .bind(self.hotline_id.map(|h| h.to_db()))
    }

    fn from_row(row: &AnyRow) -> StoreResult<Self> {
        Ok(Self {
            e164: row.try_get("e164")?,
            label: row.try_get("label")?,
            hotline_id: opt_uuid_column(row, "hotline_id")?.map(HotlineId),
        })
    }

    fn normalize(&mut self) {
        if let Ok(normalized) = normalize_e164(&self.e164) {
            self.e164 = normalized;
        }
    }

    fn validate(&self) -> Result<(), Invalid> {
        let mut invalid = Invalid::new();
        if let Err(why) = normalize_e164(&self.e164) {
            invalid.add(
                "e164",
                format!("{:?} is not an E.164 number: {why}", self.e164),
            );
        }
        if self.label.chars().count() > 200 {
            invalid.add("label", "must be at most 200 characters");
        }
        invalid.into_result()
    }

    fn references(&self) -> Vec<(&'static str, &'static str, uuid::Uuid)> {
        self.hotline_id
            .map(|h| ("hotline_id", "hotlines", h.0))
            .into_iter()
            .collect()
    }

    fn check_update(&self, before: &Self) -> Result<(), Invalid> {
        if self.e164 != before.e164 {
            return Err(Invalid::one(
                "e164",
                "a number cannot change; release it and assign the new one",
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::normalize_e164;

    #[test]
    fn normalizes_common_spellings() {
        assert_eq!(
            normalize_e164("+421 2 1234-5678").as_deref(),
            Ok("+421212345678")
        );
        assert_eq!(
            normalize_e164("00421 (2) 1234.5678").as_deref(),
            Ok("+421212345678")
        );
        assert_eq!(
            normalize_e164("+1 212 555 0100").as_deref(),
            Ok("+12125550100")
        );
    }

    #[test]
    fn refuses_what_is_not_e164() {
        for bad in [
            "02 1234 5678",
            "+0421212345",
            "+4212abc5678",
            "+1234567",
            "+1234567890123456",
            "",
            "+",
        ] {
            assert!(normalize_e164(bad).is_err(), "{bad:?} accepted");
        }
    }
}
