//! The HTTP transport async-stripe's typed requests are sent through: one attempt per call, over
//! a pooled reqwest client (rustls), with the secret key, the pinned API version and the
//! request's idempotency key as headers.
//!
//! Why our own and not async-stripe's hyper client: that client turns every non-2xx answer into
//! status + body and drops the headers, so the `Retry-After` and `Stripe-Should-Retry` headers the
//! outbox needs are lost; it mixes network failures and configuration mistakes in one string
//! variant; and it disables connection reuse. async-stripe's `StripeClient` trait exists for
//! exactly this, so the typed request builders and response types are still async-stripe's.
//!
//! This module must never retry: the outbox owns retries, their backoff and their record.

use std::time::Duration;

use bytes::Bytes;
use reqwest::header::{HeaderMap, HeaderValue, AUTHORIZATION, CONTENT_TYPE, USER_AGENT};
use stripe_client_core::{CustomizedStripeRequest, StripeClient, StripeClientErr, StripeMethod};

use crate::failure::{ApiFailure, TransportError};

/// Stripe's production endpoint, used when no base URL is configured.
pub const DEFAULT_API_BASE: &str = "https://api.stripe.com";

static USER_AGENT_VALUE: &str = concat!("hotline-billing-stripe/", env!("CARGO_PKG_VERSION"));

/// Sends one request, once. Cheap to clone (the connection pool is shared).
#[derive(Clone)]
pub struct HttpTransport {
    http: reqwest::Client,
    api_base: String,
    authorization: HeaderValue,
    stripe_version: HeaderValue,
}

impl std::fmt::Debug for HttpTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The authorization header holds the secret key: never print it.
        f.debug_struct("HttpTransport")
            .field("api_base", &self.api_base)
            .finish_non_exhaustive()
    }
}

impl HttpTransport {
    /// `api_base` without the `/v1` suffix, e.g. `https://api.stripe.com`.
    pub fn new(
        secret_key: &str,
        api_base: &str,
        timeout: Duration,
    ) -> Result<Self, TransportError> {
        let mut authorization =
            HeaderValue::try_from(format!("Bearer {secret_key}")).map_err(|_| {
                TransportError::Config("the secret key is not a valid header value".into())
            })?;
        authorization.set_sensitive(true);
        let stripe_version =
            HeaderValue::from_str(stripe_client_core::VERSION.as_str()).map_err(|_| {
                TransportError::Config("the API version is not a valid header value".into())
            })?;
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            .user_agent(USER_AGENT_VALUE)
            .build()
            .map_err(|err| {
                TransportError::Config(format!("cannot build the HTTP client: {err}"))
            })?;
        Ok(Self {
            http,
            api_base: api_base.trim_end_matches('/').to_owned(),
            authorization,
            stripe_version,
        })
    }

    async fn send(&self, request: CustomizedStripeRequest) -> Result<Bytes, TransportError> {
        let (request, overrides) = request.into_pieces();
        let mut url = format!("{}/v1{}", self.api_base, request.path);
        if let Some(query) = &request.query {
            url.push('?');
            url.push_str(query);
        }
        let method = match request.method {
            StripeMethod::Get => reqwest::Method::GET,
            StripeMethod::Post => reqwest::Method::POST,
            StripeMethod::Delete => reqwest::Method::DELETE,
        };

        let mut headers = HeaderMap::new();
        headers.insert(AUTHORIZATION, self.authorization.clone());
        headers.insert("stripe-version", self.stripe_version.clone());
        headers.insert(USER_AGENT, HeaderValue::from_static(USER_AGENT_VALUE));
        if let Some(key) = overrides
            .request_strategy
            .as_ref()
            .and_then(|s| s.get_key())
        {
            let value = HeaderValue::try_from(key.as_str()).map_err(|_| {
                TransportError::Config("idempotency key is not a valid header value".into())
            })?;
            headers.insert("idempotency-key", value);
        }

        let mut builder = self.http.request(method, url).headers(headers);
        if let Some(timeout) = overrides.timeout {
            builder = builder.timeout(timeout);
        }
        if let Some(body) = request.body {
            builder = builder
                .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(body);
        }

        let response = builder.send().await.map_err(TransportError::from_reqwest)?;
        let status = response.status();
        let headers = response.headers().clone();
        let body = response
            .bytes()
            .await
            .map_err(TransportError::from_reqwest)?;
        if status.is_success() {
            return Ok(body);
        }
        Err(TransportError::Api(ApiFailure::from_response(
            status.as_u16(),
            &headers,
            &body,
        )))
    }
}

impl StripeClient for HttpTransport {
    type Err = TransportError;

    fn execute(
        &self,
        request: CustomizedStripeRequest,
    ) -> impl std::future::Future<Output = Result<Bytes, Self::Err>> + Send {
        self.send(request)
    }
}

impl StripeClientErr for TransportError {
    fn deserialize_err(message: impl std::fmt::Display) -> Self {
        Self::Decode(message.to_string())
    }
}
