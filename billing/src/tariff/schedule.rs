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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::money::Currency;
    use crate::tariff::TariffId;

    fn version(number: u32, from: NaiveDate) -> TariffVersion {
        TariffVersion {
            tariff_id: TariffId(uuid::Uuid::nil()),
            version: number,
            effective_from: from,
            currency: Currency::from_code("EUR").unwrap(),
            metrics: vec![],
            bundles: vec![],
            recurring: vec![],
        }
    }

    fn date(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2025, 3, d).unwrap()
    }

    #[test]
    fn latest_effective_version_wins_and_higher_number_breaks_ties() {
        let schedule = TariffSchedule::new(vec![
            version(3, date(10)),
            version(1, date(1)),
            version(2, date(10)),
        ])
        .unwrap();
        let number = |d| schedule.in_effect_on(date(d)).map(|v| v.version);
        assert_eq!(number(1), Some(1));
        assert_eq!(number(9), Some(1));
        assert_eq!(number(10), Some(3));
        assert_eq!(
            schedule
                .in_effect_on(NaiveDate::from_ymd_opt(2025, 2, 28).unwrap())
                .map(|v| v.version),
            None
        );
    }

    #[test]
    fn invalid_versions_are_refused() {
        assert_eq!(
            TariffSchedule::new(vec![version(0, date(1))]),
            Err(TariffError::VersionZero)
        );
    }
}
