//! Which billing errors mean "the database is away, try again" rather than "refused": the
//! call-record sink retries the first kind through the engine's spool and drops nothing, and
//! the API answers it 503 instead of 500.
//!
//! Must never call a refusal (a rule, a missing row, bad data) retryable: retrying it forever
//! would stall the spool behind one record.

use crate::error::BillingError;

impl BillingError {
    /// The database could not be reached or the pool gave up waiting for it.
    pub fn is_unavailable(&self) -> bool {
        matches!(
            self,
            BillingError::Database(
                sqlx::Error::PoolTimedOut
                    | sqlx::Error::PoolClosed
                    | sqlx::Error::Io(_)
                    | sqlx::Error::Tls(_)
            )
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_connection_failures_are_worth_retrying() {
        assert!(BillingError::Database(sqlx::Error::PoolTimedOut).is_unavailable());
        let io = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "refused");
        assert!(BillingError::Database(sqlx::Error::Io(io)).is_unavailable());
        assert!(!BillingError::Database(sqlx::Error::RowNotFound).is_unavailable());
        assert!(!BillingError::NotFound("invoice").is_unavailable());
        assert!(!BillingError::TenantMismatch.is_unavailable());
    }
}
