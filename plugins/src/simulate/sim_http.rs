//! The simulator's HTTP: each request answered by the scene's matching `[[http]]` entry, after
//! its delay on the call's clock; nothing leaves the machine.

use async_trait::async_trait;

use super::scenario::SimHttp;
use crate::http_client::{CheckedRequest, Fetched, HttpError, HttpFetch, Method, Response};

pub struct SimHttpFetch {
    pub entries: Vec<SimHttp>,
}

#[async_trait]
impl HttpFetch for SimHttpFetch {
    async fn fetch(&self, request: &CheckedRequest) -> Result<Fetched, HttpError> {
        let method = match request.method {
            Method::Get => "GET",
            Method::Post => "POST",
        };
        let url = request.url.as_str();
        let entry = self
            .entries
            .iter()
            .find(|e| {
                e.method == method
                    && (e.url == url || e.url.trim_end_matches('/') == url.trim_end_matches('/'))
            })
            .ok_or_else(|| {
                HttpError::ConnectionFailed(format!("no simulated response for {method} {url}"))
            })?;
        if entry.delay_ms as u128 > request.timeout.as_millis() {
            return Err(HttpError::Timeout);
        }
        match entry.error.as_deref() {
            Some("timeout") => return Err(HttpError::Timeout),
            Some(_) => {
                return Err(HttpError::ConnectionFailed(
                    "simulated connection failure".into(),
                ))
            }
            None => {}
        }
        if entry.body.len() > request.max_response_bytes as usize {
            return Err(HttpError::ResponseTooLarge(request.max_response_bytes));
        }
        Ok(Fetched {
            response: Response {
                status: entry.status,
                headers: entry
                    .headers
                    .iter()
                    .map(|(k, v)| (k.to_ascii_lowercase(), v.clone()))
                    .collect(),
                body: entry.body.clone(),
            },
            elapsed_ms: entry.delay_ms,
        })
    }
}
