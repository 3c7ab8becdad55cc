//! Reading billing's columns back into typed values, and the few SQL fragments that differ per
//! backend. A value that does not parse is [`BillingError::Corrupt`], naming the column.

use std::str::FromStr;

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use hotline_core::{time, Backend};
use rust_decimal::Decimal;
use sqlx::any::AnyRow;
use sqlx::Row;

use crate::error::{BillingError, BillingResult};

/// Local dates are stored as `YYYY-MM-DD`, which sorts as the dates do.
pub(crate) fn date_to_db(date: NaiveDate) -> String {
    date.format("%Y-%m-%d").to_string()
}

pub(crate) fn text(row: &AnyRow, column: &str) -> BillingResult<String> {
    Ok(row.try_get::<String, _>(column)?)
}

pub(crate) fn opt_text(row: &AnyRow, column: &str) -> BillingResult<Option<String>> {
    Ok(row.try_get::<Option<String>, _>(column)?)
}

pub(crate) fn int(row: &AnyRow, column: &str) -> BillingResult<i64> {
    Ok(row.try_get::<i64, _>(column)?)
}

pub(crate) fn opt_int(row: &AnyRow, column: &str) -> BillingResult<Option<i64>> {
    Ok(row.try_get::<Option<i64>, _>(column)?)
}

pub(crate) fn parsed<T: FromStr>(row: &AnyRow, column: &str) -> BillingResult<T>
where
    T::Err: std::fmt::Display,
{
    parse_text(&text(row, column)?, column)
}

pub(crate) fn opt_parsed<T: FromStr>(row: &AnyRow, column: &str) -> BillingResult<Option<T>>
where
    T::Err: std::fmt::Display,
{
    opt_text(row, column)?
        .map(|value| parse_text(&value, column))
        .transpose()
}

pub(crate) fn parse_text<T: FromStr>(value: &str, column: &str) -> BillingResult<T>
where
    T::Err: std::fmt::Display,
{
    value
        .parse()
        .map_err(|e| BillingError::Corrupt(format!("{column} = {value:?}: {e}")))
}

pub(crate) fn date(row: &AnyRow, column: &str) -> BillingResult<NaiveDate> {
    parsed(row, column)
}

pub(crate) fn opt_date(row: &AnyRow, column: &str) -> BillingResult<Option<NaiveDate>> {
    opt_parsed(row, column)
}

pub(crate) fn instant(row: &AnyRow, column: &str) -> BillingResult<DateTime<Utc>> {
    Ok(time::from_millis(int(row, column)?))
}

pub(crate) fn opt_instant(row: &AnyRow, column: &str) -> BillingResult<Option<DateTime<Utc>>> {
    Ok(opt_int(row, column)?.map(time::from_millis))
}

pub(crate) fn decimal(row: &AnyRow, column: &str) -> BillingResult<Decimal> {
    parsed(row, column)
}

pub(crate) fn opt_decimal(row: &AnyRow, column: &str) -> BillingResult<Option<Decimal>> {
    opt_parsed(row, column)
}

pub(crate) fn zone(row: &AnyRow, column: &str) -> BillingResult<Tz> {
    parsed(row, column)
}

pub(crate) fn json<T: serde::de::DeserializeOwned>(row: &AnyRow, column: &str) -> BillingResult<T> {
    let value = text(row, column)?;
    serde_json::from_str(&value).map_err(|e| BillingError::Corrupt(format!("{column}: {e}")))
}

/// A boolean column: BOOLEAN in PostgreSQL, INTEGER 0/1 in SQLite (whose BOOLEAN columns
/// sqlx's Any driver cannot read).
pub(crate) fn boolean(row: &AnyRow, column: &str) -> BillingResult<bool> {
    match row.try_get::<bool, _>(column) {
        Ok(value) => Ok(value),
        Err(_) => Ok(row.try_get::<i64, _>(column)? != 0),
    }
}

pub(crate) fn count(row: &AnyRow) -> BillingResult<i64> {
    int(row, "n")
}

/// Appended to a `SELECT` of an invoice row that ingestion is about to append to: PostgreSQL
/// needs a shared row lock so finalization (which takes the write lock) waits for appends in
/// flight; SQLite has no row locks and needs none, since `BEGIN IMMEDIATE` already serializes
/// every writer. The one backend-specific fragment of the store.
pub(crate) fn share_lock(backend: Backend) -> &'static str {
    match backend {
        Backend::Sqlite => "",
        Backend::Postgres => " FOR SHARE",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_dates_sort_as_dates() {
        let a = date_to_db(NaiveDate::from_ymd_opt(2026, 9, 30).unwrap());
        let b = date_to_db(NaiveDate::from_ymd_opt(2026, 10, 1).unwrap());
        assert_eq!(a, "2026-09-30");
        assert!(a < b);
    }
}
