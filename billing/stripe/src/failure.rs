//! What went wrong talking to Stripe, and what the outbox should do about it.
//!
//! The rule, from Stripe's documentation on low-level errors: `Stripe-Should-Retry` decides when
//! Stripe sends it; otherwise 409 (a concurrent request with the same idempotency key), 424,
//! 429 (rate limit) and 5xx are worth retrying with the same key, and every other 4xx is a
//! request that will fail the same way again. A network failure or timeout is always retryable:
//! Stripe may or may not have acted, and the idempotency key makes the retry safe either way.
//!
//! Pure classification; nothing here performs IO.

use std::time::Duration;

use hotline_billing::gateway::GatewayError;
use reqwest::header::HeaderMap;
use serde::Deserialize;

/// A failed attempt, as the transport saw it.
#[derive(Debug, thiserror::Error)]
pub enum TransportError {
    /// The adapter's own configuration is unusable (bad key characters, TLS setup).
    #[error("Stripe adapter misconfigured: {0}")]
    Config(String),
    /// No answer within the configured timeout. Stripe may have acted on the request.
    #[error("Stripe did not answer in time: {0}")]
    Timeout(String),
    /// The connection failed or broke before a full answer arrived.
    #[error("cannot reach Stripe: {0}")]
    Network(String),
    /// Stripe answered with an error status.
    #[error("{0}")]
    Api(ApiFailure),
    /// Stripe answered 2xx with a body that does not match the pinned API version's types.
    #[error("unexpected answer from Stripe: {0}")]
    Decode(String),
}

impl TransportError {
    pub(crate) fn from_reqwest(err: reqwest::Error) -> Self {
        if err.is_timeout() {
            Self::Timeout(err.to_string())
        } else if err.is_builder() {
            Self::Config(err.to_string())
        } else {
            Self::Network(err.to_string())
        }
    }
}

/// Stripe's error answer: status, the headers that steer retries, and the error object.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "Stripe answered {status} ({error_type:?}/{code:?}, request {request_id:?}){}: {message}",
    if *replayed { " replayed from an earlier attempt under the same idempotency key" } else { "" }
)]
pub struct ApiFailure {
    pub status: u16,
    /// `Idempotent-Replayed: true`: the answer was saved from an earlier attempt; retrying under
    /// the same key will get it again.
    pub replayed: bool,
    /// `Stripe-Should-Retry`, when sent.
    pub should_retry: Option<bool>,
    /// `Retry-After` in delta-seconds, when sent.
    pub retry_after: Option<Duration>,
    /// `Request-Id`, for Stripe support.
    pub request_id: Option<String>,
    /// `api_error`, `card_error`, `idempotency_error`, `invalid_request_error`...
    pub error_type: Option<String>,
    pub code: Option<String>,
    pub message: String,
}

#[derive(Deserialize)]
struct ErrorEnvelope {
    error: ErrorObject,
}

#[derive(Deserialize)]
struct ErrorObject {
    #[serde(rename = "type")]
    error_type: Option<String>,
    code: Option<String>,
    message: Option<String>,
}

impl ApiFailure {
    pub fn from_response(status: u16, headers: &HeaderMap, body: &[u8]) -> Self {
        let header = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::trim)
        };
        let should_retry = header("stripe-should-retry").and_then(|v| match v {
            "true" => Some(true),
            "false" => Some(false),
            _ => None,
        });
        // Only delta-seconds: Stripe does not send the HTTP-date form, and a wrong guess at a
        // date would delay payments; without a value the outbox uses its own backoff.
        let retry_after = header("retry-after")
            .and_then(|v| v.parse::<u64>().ok())
            .map(Duration::from_secs);
        let request_id = header("request-id").map(str::to_owned);
        let replayed = header("idempotent-replayed") == Some("true");
        let (error_type, code, message) = match serde_json::from_slice::<ErrorEnvelope>(body) {
            Ok(envelope) => (
                envelope.error.error_type,
                envelope.error.code,
                envelope.error.message.unwrap_or_default(),
            ),
            Err(_) => (
                None,
                None,
                String::from_utf8_lossy(body).chars().take(200).collect(),
            ),
        };
        Self {
            status,
            replayed,
            should_retry,
            retry_after,
            request_id,
            error_type,
            code,
            message,
        }
    }

    fn is_retryable(&self) -> bool {
        match self.should_retry {
            Some(decided) => decided,
            None => matches!(self.status, 409 | 424 | 429 | 500..=599),
        }
    }
}

impl From<TransportError> for GatewayError {
    fn from(err: TransportError) -> Self {
        match err {
            TransportError::Timeout(_) | TransportError::Network(_) => GatewayError::Retryable {
                message: err.to_string(),
                retry_after: None,
            },
            TransportError::Api(failure) if failure.is_retryable() => GatewayError::Retryable {
                retry_after: failure.retry_after,
                message: failure.to_string(),
            },
            TransportError::Api(failure) => GatewayError::Permanent {
                status: Some(failure.status),
                code: failure.code.clone().or_else(|| failure.error_type.clone()),
                message: failure.to_string(),
            },
            TransportError::Config(_) | TransportError::Decode(_) => GatewayError::Permanent {
                status: None,
                code: None,
                message: err.to_string(),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use reqwest::header::HeaderValue;

    use super::*;

    fn failure(status: u16, headers: &[(&'static str, &'static str)], body: &str) -> GatewayError {
        let mut map = HeaderMap::new();
        for (name, value) in headers {
            map.insert(*name, HeaderValue::from_static(value));
        }
        TransportError::Api(ApiFailure::from_response(status, &map, body.as_bytes())).into()
    }

    const INVALID: &str = r#"{"error":{"type":"invalid_request_error","code":"parameter_missing","message":"Missing required param: customer."}}"#;

    #[test]
    fn server_errors_rate_limits_and_key_conflicts_are_retryable() {
        for status in [500, 502, 503, 504, 429, 409, 424] {
            assert!(failure(status, &[], "{}").is_retryable(), "status {status}");
        }
    }

    #[test]
    fn validation_and_auth_errors_are_permanent_with_stripe_code() {
        for status in [400, 401, 402, 403, 404] {
            let err = failure(status, &[], INVALID);
            match err {
                GatewayError::Permanent {
                    status: s,
                    code,
                    message,
                } => {
                    assert_eq!(s, Some(status));
                    assert_eq!(code.as_deref(), Some("parameter_missing"));
                    assert!(message.contains("Missing required param"), "{message}");
                }
                other => panic!("status {status}: {other:?}"),
            }
        }
    }

    #[test]
    fn stripe_should_retry_overrides_the_status() {
        assert!(!failure(500, &[("stripe-should-retry", "false")], "{}").is_retryable());
        assert!(failure(400, &[("stripe-should-retry", "true")], INVALID).is_retryable());
    }

    #[test]
    fn retry_after_in_seconds_is_passed_on() {
        let err = failure(
            429,
            &[("retry-after", "7")],
            r#"{"error":{"type":"rate_limit_error"}}"#,
        );
        assert_eq!(err.retry_after(), Some(Duration::from_secs(7)));
        let dated = failure(
            429,
            &[("retry-after", "Wed, 21 Oct 2015 07:28:00 GMT")],
            "{}",
        );
        assert!(dated.is_retryable());
        assert_eq!(dated.retry_after(), None);
    }

    #[test]
    fn a_key_reused_with_other_parameters_is_permanent() {
        let body = r#"{"error":{"type":"idempotency_error","message":"Keys for idempotent requests can only be used with the same parameters they were first used with."}}"#;
        match failure(400, &[], body) {
            GatewayError::Permanent { code, .. } => {
                assert_eq!(code.as_deref(), Some("idempotency_error"))
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn timeouts_and_network_failures_are_retryable_decode_errors_are_not() {
        let timeout: GatewayError = TransportError::Timeout("deadline".into()).into();
        let network: GatewayError = TransportError::Network("reset".into()).into();
        let decode: GatewayError = TransportError::Decode("missing field".into()).into();
        assert!(timeout.is_retryable());
        assert!(network.is_retryable());
        assert!(!decode.is_retryable());
    }

    #[test]
    fn a_replayed_failure_says_so() {
        let replayed = failure(500, &[("idempotent-replayed", "true")], "{}");
        assert!(replayed.is_retryable());
        assert!(replayed.to_string().contains("replayed"), "{replayed}");
        assert!(!failure(500, &[], "{}").to_string().contains("replayed"));
    }

    #[test]
    fn a_non_json_error_body_is_kept_truncated_in_the_message() {
        let html = "<html>".to_owned() + &"x".repeat(1000);
        let mut map = HeaderMap::new();
        map.insert("request-id", HeaderValue::from_static("req_123"));
        let parsed = ApiFailure::from_response(502, &map, html.as_bytes());
        assert_eq!(parsed.message.len(), 200);
        assert_eq!(parsed.request_id.as_deref(), Some("req_123"));
        assert_eq!(parsed.code, None);
    }
}
