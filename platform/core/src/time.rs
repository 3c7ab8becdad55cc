//! Time as Hotline stores it: UTC, whole milliseconds since the Unix epoch in an integer column
//! (portable between SQLite and PostgreSQL), `DateTime<Utc>` everywhere else.

use chrono::{DateTime, TimeZone, Utc};

/// Now, truncated to the millisecond so a value read back equals the value written.
pub fn now() -> DateTime<Utc> {
    from_millis(Utc::now().timestamp_millis())
}

pub fn to_millis(at: DateTime<Utc>) -> i64 {
    at.timestamp_millis()
}

pub fn from_millis(ms: i64) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(ms)
        .single()
        .unwrap_or(DateTime::<Utc>::UNIX_EPOCH)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn millis_round_trip() {
        let at = now();
        assert_eq!(from_millis(to_millis(at)), at);
    }
}
