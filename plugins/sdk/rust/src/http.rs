//! Outbound HTTP to the hosts the tenant allowlists: `http::get(url).header(..).send()?`.
//! Bodies are text; any status is a response (check [`Response::is_success`]); a timeout, a
//! refused connection or a host off the allowlist is an [`Error::Http`](crate::Error::Http).

use crate::bindings::wit_http::{self, Method, Request};
use crate::Result;

/// A response of any status.
#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    /// Names in lower case.
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Response {
    /// A 2xx status.
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// The first header of this name (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// A request being built; [`RequestBuilder::send`] sends it.
#[must_use = "a request does nothing until .send()"]
pub struct RequestBuilder {
    request: Request,
}

/// A GET request to `url`.
pub fn get(url: impl Into<String>) -> RequestBuilder {
    RequestBuilder::new(Method::Get, url.into())
}

/// A POST request to `url`; add the body with [`RequestBuilder::body`].
pub fn post(url: impl Into<String>) -> RequestBuilder {
    RequestBuilder::new(Method::Post, url.into())
}

impl RequestBuilder {
    fn new(method: Method, url: String) -> Self {
        Self {
            request: Request {
                method,
                url,
                headers: Vec::new(),
                body: None,
                timeout_ms: None,
            },
        }
    }

    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.request
            .headers
            .push((name.to_string(), value.to_string()));
        self
    }

    /// The body of a POST (at most 64 KiB of text).
    pub fn body(mut self, body: impl Into<String>) -> Self {
        self.request.body = Some(body.into());
        self
    }

    /// Give up after this many milliseconds (the tenant's default otherwise; at most 10,000).
    pub fn timeout_ms(mut self, ms: u32) -> Self {
        self.request.timeout_ms = Some(ms);
        self
    }

    pub fn send(self) -> Result<Response> {
        let response = wit_http::send(&self.request)?;
        Ok(Response {
            status: response.status,
            headers: response.headers,
            body: response.body,
        })
    }
}

/// `text` percent-encoded for a URL's query (`+421...` becomes `%2B421...`).
pub fn encode_query(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(byte as char)
            }
            other => out.push_str(&format!("%{other:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn query_encoding_keeps_unreserved_characters() {
        assert_eq!(super::encode_query("+421 90/x~"), "%2B421%2090%2Fx~");
    }
}
