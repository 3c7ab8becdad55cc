//! Which tariff version is in effect on a local date.

use chrono::NaiveDate;

use super::{TariffError, TariffVersion};

/// A contract's tariff versions, validated and ordered by (effective date, version number), so
/// the version in effect on a date is found by binary search.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TariffSchedule {
    versions: Vec<TariffVersion>,
}

impl TariffSchedule {
    pub fn new(mut versions: Vec<TariffVersion>) -> Result<Self, TariffError> {
        for version in &versions {
            version.validate()?;
        }
        versions.sort_by_key(|v| (v.effective_from, v.version));
        Ok(Self { versions })
    }

    /// The version pricing a local date: the latest to take effect on or before it, the higher
    /// version number winning a tie. `None` before the first version.
    pub fn in_effect_on(&self, date: NaiveDate) -> Option<&TariffVersion> {
        let after = self.versions.partition_point(|v| v.effective_from <= date);
        after.checked_sub(1).map(|i| &self.versions[i])
    }

    /// The version in effect on `date`, or if none is yet, the first to take effect before
    /// `until` (a contract that starts within a period).
    pub fn in_effect_on_or_first_before(
        &self,
        date: NaiveDate,
        until: NaiveDate,
    ) -> Option<&TariffVersion> {
        self.in_effect_on(date).or_else(|| {
            self.versions
                .first()
                .filter(|first| first.effective_from < until)
        })
    }

    pub fn versions(&self) -> &[TariffVersion] {
        &self.versions
    }
}
