//! `hotline:plugin/http`: GET and POST to the tenant's allowed hosts, with timeouts and size
//! caps (the checks are in [`crate::http_client::check_request`]).

use crate::bindings::ivr::hotline::plugin::http::{Host, HttpError, Method, Request, Response};
use crate::host::state::CallState;
use crate::http_client::check_request;
use crate::plugin_log::LogLevel;

fn kind(error: &HttpError) -> String {
    match error {
        HttpError::InvalidUrl(d) => format!("invalid-url: {d}"),
        HttpError::HostNotAllowed(h) => format!("host-not-allowed: {h}"),
        HttpError::InvalidRequest(d) => format!("invalid-request: {d}"),
        HttpError::RequestTooLarge(n) => format!("request-too-large (limit {n} bytes)"),
        HttpError::ResponseTooLarge(n) => format!("response-too-large (limit {n} bytes)"),
        HttpError::NotText => "not-text".into(),
        HttpError::Timeout => "timeout".into(),
        HttpError::ConnectionFailed(d) => format!("connection-failed: {d}"),
        HttpError::RateLimited => "rate-limited".into(),
    }
}

impl Host for CallState {
    async fn send(&mut self, request: Request) -> wasmtime::Result<Result<Response, HttpError>> {
        let method = match request.method {
            Method::Get => "GET",
            Method::Post => "POST",
        };
        if !self.enter("http.send")? {
            self.leave();
            return Ok(Err(HttpError::RateLimited));
        }
        let checked = match check_request(&request, &self.services.allow, &self.sandbox) {
            Ok(checked) => checked,
            Err(e) => {
                self.note(
                    "http",
                    format!("{method} {} -> error: {}", request.url, kind(&e)),
                );
                if matches!(e, HttpError::HostNotAllowed(_)) {
                    self.host_line(
                        LogLevel::Warn,
                        format!("http {method} {} refused: {}", request.url, kind(&e)),
                    );
                }
                self.leave();
                return Ok(Err(e));
            }
        };
        let http = self.services.http.clone();
        let result = http.fetch(&checked).await;
        match result {
            Ok(fetched) => {
                if let Some(control) = self.control.as_deref_mut() {
                    control.advance(fetched.elapsed_ms);
                }
                self.note(
                    "http",
                    format!(
                        "{method} {} -> {} ({} bytes, {} ms)",
                        request.url,
                        fetched.response.status,
                        fetched.response.body.len(),
                        fetched.elapsed_ms
                    ),
                );
                self.leave();
                Ok(Ok(fetched.response))
            }
            Err(e) => {
                self.note(
                    "http",
                    format!("{method} {} -> error: {}", request.url, kind(&e)),
                );
                if matches!(e, HttpError::ResponseTooLarge(_)) {
                    self.host_line(
                        LogLevel::Warn,
                        format!("http {method} {} refused: {}", request.url, kind(&e)),
                    );
                }
                self.leave();
                Ok(Err(e))
            }
        }
    }
}
