//! `Idempotency-Key` records for the billing API's money-moving requests (closing a period,
//! finalizing, voiding, issuing a credit note): the first request under a key runs and its
//! answer is kept; a retry with the same key and the same request gets that answer again and
//! acts on nothing.
//!
//! Decisions (after the IETF `Idempotency-Key` header draft):
//! - A key belongs to the caller that sent it (`owner`), so two callers never share one.
//! - The request is remembered by its SHA-256 (method, path, query and body as the API hands
//!   them over): the same key with a different request is refused ([`IdempotencyClaim::Mismatch`]),
//!   never answered with another request's answer.
//! - A claim is a row without an answer. While it exists, a second request with the key is told
//!   so ([`IdempotencyClaim::InFlight`]) rather than run beside the first. A claim whose request
//!   failed in a way worth retrying is released ([`BillingStore::platform_release_idempotency_key`]).
//! - A claim left behind by a crash between the work and its answer is never taken over: the
//!   work may have happened, and running it again could credit twice. It expires with the key.
//! - Keys are kept for [`KEY_LIFETIME`]; after that the key may be used for a new request.
//!
//! This module stores answers; it must never interpret or change them.

use chrono::{DateTime, Duration, Utc};
use hotline_core::{time, PlatformScope};
use sha2::{Digest, Sha256};

use super::rows;
use super::BillingStore;
use crate::error::BillingResult;

/// How long an answer is kept for retries: a day, like the payment providers do.
pub const KEY_LIFETIME: Duration = Duration::hours(24);

/// A kept answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredResponse {
    pub status: u16,
    pub content_type: String,
    pub body: String,
}

/// What claiming a key found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum IdempotencyClaim {
    /// The key is new (or expired): run the request, then complete or release the claim.
    Claimed,
    /// The same request ran before: answer this.
    Replay(StoredResponse),
    /// The same request is running now, or was interrupted before it answered.
    InFlight,
    /// The key was used for a different request.
    Mismatch,
}

fn request_hash(request: &[u8]) -> String {
    hex::encode(Sha256::digest(request))
}

impl BillingStore {
    /// Claims `key` of `owner` for `request`, or reports what an earlier request with it left.
    pub async fn platform_claim_idempotency_key(
        &self,
        _scope: &PlatformScope,
        owner: &str,
        key: &str,
        request: &[u8],
        now: DateTime<Utc>,
    ) -> BillingResult<IdempotencyClaim> {
        let hash = request_hash(request);
        let mut tx = self.db.begin().await?;
        sqlx::query(
            "DELETE FROM billing_idempotency_keys WHERE owner = $1 AND idempotency_key = $2 AND created_at < $3",
        )
        .bind(owner)
        .bind(key)
        .bind(time::to_millis(now - KEY_LIFETIME))
        .execute(&mut *tx)
        .await?;
        let inserted = sqlx::query(
            "INSERT INTO billing_idempotency_keys (owner, idempotency_key, request_hash, created_at)
             VALUES ($1, $2, $3, $4) ON CONFLICT (owner, idempotency_key) DO NOTHING",
        )
        .bind(owner)
        .bind(key)
        .bind(&hash)
        .bind(time::to_millis(now))
        .execute(&mut *tx)
        .await?;
        let claim = if inserted.rows_affected() == 1 {
            IdempotencyClaim::Claimed
        } else {
            let row = sqlx::query(
                "SELECT request_hash, status, content_type, body FROM billing_idempotency_keys
                 WHERE owner = $1 AND idempotency_key = $2",
            )
            .bind(owner)
            .bind(key)
            .fetch_one(&mut *tx)
            .await?;
            if rows::text(&row, "request_hash")? != hash {
                IdempotencyClaim::Mismatch
            } else {
                match rows::opt_int(&row, "status")? {
                    None => IdempotencyClaim::InFlight,
                    Some(status) => IdempotencyClaim::Replay(StoredResponse {
                        status: u16::try_from(status).map_err(|e| {
                            crate::BillingError::Corrupt(format!("idempotency status: {e}"))
                        })?,
                        content_type: rows::opt_text(&row, "content_type")?.unwrap_or_default(),
                        body: rows::opt_text(&row, "body")?.unwrap_or_default(),
                    }),
                }
            }
        };
        tx.commit().await?;
        Ok(claim)
    }

    /// Keeps the answer of a claimed request for its retries.
    pub async fn platform_complete_idempotency_key(
        &self,
        _scope: &PlatformScope,
        owner: &str,
        key: &str,
        response: &StoredResponse,
        now: DateTime<Utc>,
    ) -> BillingResult<()> {
        sqlx::query(
            "UPDATE billing_idempotency_keys SET status = $1, content_type = $2, body = $3, completed_at = $4
             WHERE owner = $5 AND idempotency_key = $6 AND status IS NULL",
        )
        .bind(i64::from(response.status))
        .bind(&response.content_type)
        .bind(&response.body)
        .bind(time::to_millis(now))
        .bind(owner)
        .bind(key)
        .execute(self.db.pool())
        .await?;
        Ok(())
    }

    /// Forgets a claim whose request failed before acting (the database was away): the client
    /// may retry under the same key.
    pub async fn platform_release_idempotency_key(
        &self,
        _scope: &PlatformScope,
        owner: &str,
        key: &str,
    ) -> BillingResult<()> {
        sqlx::query(
            "DELETE FROM billing_idempotency_keys WHERE owner = $1 AND idempotency_key = $2 AND status IS NULL",
        )
        .bind(owner)
        .bind(key)
        .execute(self.db.pool())
        .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_are_told_apart_by_every_byte() {
        let a = request_hash(b"POST /x {\"amount_minor\":100}");
        let b = request_hash(b"POST /x {\"amount_minor\":101}");
        assert_ne!(a, b);
        assert_eq!(a, request_hash(b"POST /x {\"amount_minor\":100}"));
        assert_eq!(a.len(), 64);
    }
}
