//! Small validators shared by the resources' `validate` functions.

use crate::error::Invalid;

pub(crate) fn name(invalid: &mut Invalid, field: &str, value: &str) {
    let trimmed = value.trim();
    if trimmed.is_empty() {
        invalid.add(field, "must not be empty");
    } else if trimmed.chars().count() > 200 {
        invalid.add(field, "must be at most 200 characters");
    } else if trimmed != value {
        invalid.add(field, "must not start or end with spaces");
    }
}

pub(crate) fn time_zone(invalid: &mut Invalid, field: &str, value: &str) {
    if value.parse::<chrono_tz::Tz>().is_err() {
        invalid.add(
            field,
            format!("{value:?} is not an IANA time zone such as Europe/Bratislava"),
        );
    }
}

/// BCP 47-ish language tag: `en`, `sk`, `pt-BR`.
pub(crate) fn language(invalid: &mut Invalid, field: &str, value: &str) {
    let ok = !value.is_empty()
        && value.len() <= 35
        && value.split('-').all(|part| {
            !part.is_empty() && part.len() <= 8 && part.chars().all(|c| c.is_ascii_alphanumeric())
        });
    if !ok {
        invalid.add(
            field,
            format!("{value:?} is not a language tag such as en or pt-BR"),
        );
    }
}

pub(crate) fn range(invalid: &mut Invalid, field: &str, value: u32, min: u32, max: u32) {
    if value < min || value > max {
        invalid.add(field, format!("must be between {min} and {max}"));
    }
}
