//! A logged-in client of the REST API for setting things up: every call must succeed, and a
//! failure names the request and shows the answer, so provisioning never hides a problem.

use serde_json::Value;

use super::Server;

#[derive(Clone)]
pub struct Api {
    http: reqwest::Client,
    base: String,
    token: String,
}

impl Api {
    pub fn new(http: reqwest::Client, server: &Server, token: String) -> Self {
        Self {
            http,
            base: server.url(""),
            token,
        }
    }

    /// POST a JSON body; expects 200 or 201 and returns the answer.
    pub async fn post(&self, path: &str, body: Value) -> Value {
        let response = self
            .http
            .post(format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .json(&body)
            .send()
            .await
            .unwrap_or_else(|e| panic!("POST {path}: {e}"));
        let status = response.status().as_u16();
        let answer: Value = response.json().await.unwrap_or(Value::Null);
        assert!(
            status == 200 || status == 201,
            "POST {path} answered {status}: {answer}\nrequest: {body}"
        );
        answer
    }

    /// POST and return the new resource's `id`.
    pub async fn create(&self, path: &str, body: Value) -> String {
        let made = self.post(path, body).await;
        made["id"]
            .as_str()
            .unwrap_or_else(|| panic!("POST {path}: no id in {made}"))
            .to_string()
    }

    /// A request with a raw body (a plugin component, prompt audio); expects 200 or 201 and
    /// returns the answer.
    pub async fn send_bytes(
        &self,
        method: reqwest::Method,
        path: &str,
        content_type: &str,
        body: Vec<u8>,
    ) -> Value {
        let response = self
            .http
            .request(method.clone(), format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .header("content-type", content_type)
            .body(body)
            .send()
            .await
            .unwrap_or_else(|e| panic!("{method} {path}: {e}"));
        let status = response.status().as_u16();
        let answer: Value = response.json().await.unwrap_or(Value::Null);
        assert!(
            status == 200 || status == 201,
            "{method} {path} answered {status}: {answer}"
        );
        answer
    }

    /// PUT a JSON body; expects 200 and returns the answer.
    pub async fn put(&self, path: &str, body: Value) -> Value {
        let response = self
            .http
            .put(format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .json(&body)
            .send()
            .await
            .unwrap_or_else(|e| panic!("PUT {path}: {e}"));
        let status = response.status().as_u16();
        let answer: Value = response.json().await.unwrap_or(Value::Null);
        assert_eq!(
            status, 200,
            "PUT {path} answered {status}: {answer}\nrequest: {body}"
        );
        answer
    }

    /// GET; expects 200 and returns the body.
    pub async fn get(&self, path: &str) -> Value {
        let response = self
            .http
            .get(format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .send()
            .await
            .unwrap_or_else(|e| panic!("GET {path}: {e}"));
        let status = response.status().as_u16();
        let answer: Value = response.json().await.unwrap_or(Value::Null);
        assert_eq!(status, 200, "GET {path}: {answer}");
        answer
    }

    /// GET a path that answers plain text (Prometheus metrics).
    pub async fn text(&self, path: &str) -> String {
        self.http
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .unwrap_or_else(|e| panic!("GET {path}: {e}"))
            .text()
            .await
            .unwrap_or_else(|e| panic!("GET {path}: {e}"))
    }
}
