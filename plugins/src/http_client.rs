//! Outbound HTTP for `hotline:plugin/http`: the tenant's host allowlist ([`Allowlist`]), the
//! checks every request passes before it leaves ([`check_request`]: method, URL, headers, body
//! size, timeout), and the transport behind them ([`HttpFetch`]): [`ReqwestFetch`] on live
//! calls, scripted responses in the simulator.
//!
//! The transport is only ever handed requests that passed the checks; it must not follow
//! redirects (a redirect could leave the allowlist) and must stop reading at the size cap.

use std::time::Duration;

use async_trait::async_trait;

use crate::allowlist::is_public_ip;
pub use crate::allowlist::Allowlist;
pub use crate::bindings::ivr::hotline::plugin::http::{HttpError, Method, Request, Response};
use crate::limits::SandboxLimits;

/// A request that passed the checks.
#[derive(Clone, Debug)]
pub struct CheckedRequest {
    pub method: Method,
    pub url: reqwest::Url,
    pub headers: Vec<(String, String)>,
    pub body: Option<String>,
    pub timeout: Duration,
    /// The largest response body accepted.
    pub max_response_bytes: u32,
}

const RESERVED_HEADERS: [&str; 4] = ["host", "content-length", "connection", "transfer-encoding"];

/// Check a guest's request against the tenant's allowlist and the limits.
pub fn check_request(
    request: &Request,
    allow: &Allowlist,
    limits: &SandboxLimits,
) -> Result<CheckedRequest, HttpError> {
    let url = reqwest::Url::parse(&request.url)
        .map_err(|e| HttpError::InvalidUrl(format!("{}: {e}", request.url)))?;
    if url.scheme() != "http" && url.scheme() != "https" {
        return Err(HttpError::InvalidUrl(format!(
            "{}: only http and https are allowed",
            request.url
        )));
    }
    let host = url
        .host_str()
        .ok_or_else(|| HttpError::InvalidUrl(format!("{}: no host", request.url)))?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err(HttpError::InvalidUrl(
            "credentials in the URL are not allowed; send an authorization header".into(),
        ));
    }
    if !allow.allows(host, url.port()) {
        let shown = match url.port() {
            Some(port) => format!("{host}:{port}"),
            None => host.to_string(),
        };
        return Err(HttpError::HostNotAllowed(shown));
    }
    for (name, _) in &request.headers {
        let lower = name.to_ascii_lowercase();
        if RESERVED_HEADERS.contains(&lower.as_str()) {
            return Err(HttpError::InvalidRequest(format!(
                "the {lower} header is set by the host"
            )));
        }
    }
    match (request.method, &request.body) {
        (Method::Get, Some(_)) => {
            return Err(HttpError::InvalidRequest("a GET has no body".into()));
        }
        (Method::Post, Some(body)) if body.len() > limits.http_request_bytes as usize => {
            return Err(HttpError::RequestTooLarge(limits.http_request_bytes));
        }
        _ => {}
    }
    let timeout = request
        .timeout_ms
        .map(|ms| Duration::from_millis(u64::from(ms)))
        .unwrap_or(limits.http_default_timeout)
        .min(limits.http_max_timeout);
    Ok(CheckedRequest {
        method: request.method,
        url,
        headers: request.headers.clone(),
        body: request.body.clone(),
        timeout,
        max_response_bytes: limits.http_response_bytes,
    })
}

/// What a transport answers: the response and how long it took on the call's clock (the
/// simulator's delays move the simulated clock; live, the wall clock moved by itself).
pub struct Fetched {
    pub response: Response,
    pub elapsed_ms: u64,
}

/// Sends checked requests.
#[async_trait]
pub trait HttpFetch: Send + Sync {
    async fn fetch(&self, request: &CheckedRequest) -> Result<Fetched, HttpError>;
}

/// The live transport: one shared client, no redirects, no proxy from the environment, and
/// (unless made with [`ReqwestFetch::allowing_private_networks`]) only public addresses: a name
/// that resolves to loopback, a private network or link-local space is refused, so an allowed
/// name pointed at the installation's own network reaches nothing there.
#[derive(Clone, Debug)]
pub struct ReqwestFetch {
    client: reqwest::Client,
    private_networks: bool,
}

impl ReqwestFetch {
    pub fn new() -> Result<Self, reqwest::Error> {
        Self::build(false)
    }

    /// A transport that may also reach loopback and private addresses: for installations whose
    /// tenants' systems live on the same private network, and for tests.
    pub fn allowing_private_networks() -> Result<Self, reqwest::Error> {
        Self::build(true)
    }

    fn build(private_networks: bool) -> Result<Self, reqwest::Error> {
        let mut builder = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .user_agent("Hotline-Plugin/0.1");
        if !private_networks {
            builder = builder.dns_resolver(std::sync::Arc::new(PublicOnly));
        }
        Ok(Self {
            client: builder.build()?,
            private_networks,
        })
    }
}

/// The system resolver, keeping only public addresses.
struct PublicOnly;

impl reqwest::dns::Resolve for PublicOnly {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let host = name.as_str().to_string();
        Box::pin(async move {
            let addrs: Vec<std::net::SocketAddr> = tokio::net::lookup_host((host.as_str(), 0))
                .await?
                .filter(|a| is_public_ip(a.ip()))
                .collect();
            if addrs.is_empty() {
                return Err(format!(
                    "{host} resolves to no public address (plugins may not reach private networks)"
                )
                .into());
            }
            Ok(Box::new(addrs.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

#[async_trait]
impl HttpFetch for ReqwestFetch {
    async fn fetch(&self, request: &CheckedRequest) -> Result<Fetched, HttpError> {
        let started = std::time::Instant::now();
        let literal = request
            .url
            .host_str()
            .map(|h| h.trim_start_matches('[').trim_end_matches(']'))
            .and_then(|h| h.parse::<std::net::IpAddr>().ok());
        if let Some(ip) = literal.filter(|ip| !self.private_networks && !is_public_ip(*ip)) {
            return Err(HttpError::HostNotAllowed(format!(
                "{ip} (plugins may not reach private networks)"
            )));
        }
        let method = match request.method {
            Method::Get => reqwest::Method::GET,
            Method::Post => reqwest::Method::POST,
        };
        let mut builder = self.client.request(method, request.url.clone());
        for (name, value) in &request.headers {
            builder = builder.header(name.as_str(), value.as_str());
        }
        if let Some(body) = &request.body {
            builder = builder.body(body.clone());
        }
        let exchange = async {
            let mut response = builder.send().await.map_err(connection_error)?;
            if let Some(length) = response.content_length() {
                if length > u64::from(request.max_response_bytes) {
                    return Err(HttpError::ResponseTooLarge(request.max_response_bytes));
                }
            }
            let status = response.status().as_u16();
            let headers = response
                .headers()
                .iter()
                .map(|(k, v)| {
                    (
                        k.as_str().to_ascii_lowercase(),
                        String::from_utf8_lossy(v.as_bytes()).into_owned(),
                    )
                })
                .collect();
            let mut body: Vec<u8> = Vec::new();
            while let Some(chunk) = response.chunk().await.map_err(connection_error)? {
                if body.len() + chunk.len() > request.max_response_bytes as usize {
                    return Err(HttpError::ResponseTooLarge(request.max_response_bytes));
                }
                body.extend_from_slice(&chunk);
            }
            let body = String::from_utf8(body).map_err(|_| HttpError::NotText)?;
            Ok(Response {
                status,
                headers,
                body,
            })
        };
        let response = tokio::time::timeout(request.timeout, exchange)
            .await
            .map_err(|_| HttpError::Timeout)??;
        Ok(Fetched {
            response,
            elapsed_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
        })
    }
}

fn connection_error(err: reqwest::Error) -> HttpError {
    if err.is_timeout() {
        return HttpError::Timeout;
    }
    // reqwest's own text is "error sending request"; the reason is down the source chain.
    let err = err.without_url();
    let mut text = err.to_string();
    let mut source = std::error::Error::source(&err);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    HttpError::ConnectionFailed(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get(url: &str) -> Request {
        Request {
            method: Method::Get,
            url: url.into(),
            headers: vec![],
            body: None,
            timeout_ms: None,
        }
    }

    #[test]
    fn only_listed_hosts_pass() {
        let allow = Allowlist::new(["crm.example.com", "*.tickets.example", "api.example:8443"]);
        let limits = SandboxLimits::default();
        assert!(check_request(&get("https://crm.example.com/x"), &allow, &limits).is_ok());
        assert!(check_request(&get("https://eu.tickets.example/x"), &allow, &limits).is_ok());
        assert!(check_request(&get("https://api.example:8443/x"), &allow, &limits).is_ok());
        for (url, want) in [
            ("https://tickets.example/x", "tickets.example"),
            (
                "https://crm.example.com.evil.example/",
                "crm.example.com.evil.example",
            ),
            ("https://api.example/x", "api.example"),
            ("http://crm.example.com:8080/", "crm.example.com:8080"),
        ] {
            match check_request(&get(url), &allow, &limits) {
                Err(HttpError::HostNotAllowed(host)) => assert_eq!(host, want),
                other => panic!("{url}: {other:?}"),
            }
        }
    }

    #[test]
    fn bad_requests_are_refused_before_leaving() {
        let allow = Allowlist::new(["crm.example.com"]);
        let limits = SandboxLimits::default();
        assert!(matches!(
            check_request(&get("ftp://crm.example.com/"), &allow, &limits),
            Err(HttpError::InvalidUrl(_))
        ));
        assert!(matches!(
            check_request(&get("not a url"), &allow, &limits),
            Err(HttpError::InvalidUrl(_))
        ));
        let mut with_host = get("https://crm.example.com/");
        with_host.headers.push(("Host".into(), "other".into()));
        assert!(matches!(
            check_request(&with_host, &allow, &limits),
            Err(HttpError::InvalidRequest(_))
        ));
        let big = Request {
            method: Method::Post,
            body: Some("x".repeat(limits.http_request_bytes as usize + 1)),
            ..get("https://crm.example.com/")
        };
        assert!(matches!(
            check_request(&big, &allow, &limits),
            Err(HttpError::RequestTooLarge(_))
        ));
        let slow = Request {
            timeout_ms: Some(600_000),
            ..get("https://crm.example.com/")
        };
        assert_eq!(
            check_request(&slow, &allow, &limits)
                .map(|r| r.timeout)
                .ok(),
            Some(limits.http_max_timeout)
        );
    }
}
