//! How the adapter is configured: the secret key, where Stripe is (a mock in tests), how long one
//! attempt may take, and the webhook signing secret. With no secret key the binary does not build
//! the adapter at all, so nothing here has a "disabled" mode.

use std::fmt;
use std::time::Duration;

/// Default time one attempt may take, connecting included. Stripe answers in well under a
/// second; past this the outbox retries with the same idempotency key, which is safe.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// How far a webhook's signed timestamp may be from now: Stripe's libraries use 300 s.
pub const DEFAULT_WEBHOOK_TOLERANCE: Duration = Duration::from_secs(300);

#[derive(Clone)]
pub struct StripeConfig {
    /// `sk_live_...`, `sk_test_...` or a restricted `rk_...` key.
    pub secret_key: String,
    /// Stripe's API root without `/v1`; `None` means `https://api.stripe.com`.
    pub api_base: Option<String>,
    pub timeout: Duration,
    /// `whsec_...`; without it every webhook is rejected.
    pub webhook_secret: Option<String>,
    pub webhook_tolerance: Duration,
}

impl StripeConfig {
    pub fn new(secret_key: impl Into<String>) -> Self {
        Self {
            secret_key: secret_key.into(),
            api_base: None,
            timeout: DEFAULT_TIMEOUT,
            webhook_secret: None,
            webhook_tolerance: DEFAULT_WEBHOOK_TOLERANCE,
        }
    }

    pub fn with_api_base(mut self, api_base: impl Into<String>) -> Self {
        self.api_base = Some(api_base.into());
        self
    }

    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    pub fn with_webhook_secret(mut self, secret: impl Into<String>) -> Self {
        self.webhook_secret = Some(secret.into());
        self
    }

    pub(crate) fn validate(&self) -> Result<(), ConfigError> {
        let key = self.secret_key.trim();
        if key.is_empty() || key != self.secret_key {
            return Err(ConfigError::SecretKey);
        }
        if let Some(base) = &self.api_base {
            if !(base.starts_with("https://") || base.starts_with("http://")) {
                return Err(ConfigError::ApiBase(base.clone()));
            }
        }
        if self.timeout.is_zero() {
            return Err(ConfigError::Timeout);
        }
        if self
            .webhook_secret
            .as_deref()
            .is_some_and(|s| s.trim().is_empty())
        {
            return Err(ConfigError::WebhookSecret);
        }
        Ok(())
    }
}

impl fmt::Debug for StripeConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Secrets stay out of logs and panic messages.
        f.debug_struct("StripeConfig")
            .field("secret_key", &"<redacted>")
            .field("api_base", &self.api_base)
            .field("timeout", &self.timeout)
            .field(
                "webhook_secret",
                &self.webhook_secret.as_ref().map(|_| "<redacted>"),
            )
            .field("webhook_tolerance", &self.webhook_tolerance)
            .finish()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("the Stripe secret key is empty or has surrounding whitespace")]
    SecretKey,
    #[error("the Stripe API base must be an http(s) URL, got {0:?}")]
    ApiBase(String),
    #[error("the Stripe timeout must be longer than zero")]
    Timeout,
    #[error("the Stripe webhook secret is empty")]
    WebhookSecret,
    #[error("cannot set up the HTTP client: {0}")]
    Http(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_never_shows_secrets() {
        let config = StripeConfig::new("sk_test_secret123").with_webhook_secret("whsec_abc");
        let printed = format!("{config:?}");
        assert!(!printed.contains("secret123"), "{printed}");
        assert!(!printed.contains("whsec_abc"), "{printed}");
    }

    #[test]
    fn unusable_settings_are_refused() {
        assert!(matches!(
            StripeConfig::new("").validate(),
            Err(ConfigError::SecretKey)
        ));
        assert!(matches!(
            StripeConfig::new(" sk_test_1").validate(),
            Err(ConfigError::SecretKey)
        ));
        assert!(matches!(
            StripeConfig::new("sk_test_1")
                .with_api_base("api.stripe.com")
                .validate(),
            Err(ConfigError::ApiBase(_))
        ));
        assert!(matches!(
            StripeConfig::new("sk_test_1")
                .with_timeout(Duration::ZERO)
                .validate(),
            Err(ConfigError::Timeout)
        ));
        assert!(matches!(
            StripeConfig::new("sk_test_1")
                .with_webhook_secret(" ")
                .validate(),
            Err(ConfigError::WebhookSecret)
        ));
        assert!(StripeConfig::new("sk_test_1")
            .with_api_base("http://127.0.0.1:1")
            .validate()
            .is_ok());
    }
}
