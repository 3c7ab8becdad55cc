//! The live HTTP transport of `hotline:plugin/http` against a real HTTP server (wiremock):
//! answers read within the size cap, redirects handed back and never followed (a redirect could
//! leave the allowlist), timeouts, and (by default) no way into loopback or private networks,
//! whether the URL names an address or a name that resolves to one.

use std::time::Duration;

use hotline_plugins::http_client::{CheckedRequest, HttpError, HttpFetch, Method, ReqwestFetch};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn get(url: &str, max_response_bytes: u32) -> CheckedRequest {
    CheckedRequest {
        method: Method::Get,
        url: url.parse().expect("a URL"),
        headers: vec![("accept".into(), "application/json".into())],
        body: None,
        timeout: Duration::from_millis(1_500),
        max_response_bytes,
    }
}

#[tokio::test]
async fn answers_redirects_caps_and_timeouts() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/customers/421900123456"))
        .respond_with(ResponseTemplate::new(200).set_body_string(r#"{"vip":true,"name":"Jana"}"#))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/moved"))
        .respond_with(
            ResponseTemplate::new(302).insert_header("location", "http://elsewhere.example/"),
        )
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/big"))
        .respond_with(ResponseTemplate::new(200).set_body_string("x".repeat(10_000)))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/slow"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(5)))
        .mount(&server)
        .await;
    let http = ReqwestFetch::allowing_private_networks().expect("client");
    let base = server.uri();

    let fetched = http
        .fetch(&get(&format!("{base}/customers/421900123456"), 1_000))
        .await
        .expect("an answer");
    assert_eq!(fetched.response.status, 200);
    assert_eq!(fetched.response.body, r#"{"vip":true,"name":"Jana"}"#);

    let moved = http
        .fetch(&get(&format!("{base}/moved"), 1_000))
        .await
        .expect("the redirect itself");
    assert_eq!(moved.response.status, 302);
    assert!(moved
        .response
        .headers
        .iter()
        .any(|(k, v)| k == "location" && v == "http://elsewhere.example/"));

    assert!(matches!(
        http.fetch(&get(&format!("{base}/big"), 1_000)).await,
        Err(HttpError::ResponseTooLarge(1_000))
    ));
    let mut slow = get(&format!("{base}/slow"), 1_000);
    slow.timeout = Duration::from_millis(200);
    assert!(matches!(http.fetch(&slow).await, Err(HttpError::Timeout)));
}

#[tokio::test]
async fn private_networks_are_out_of_reach_by_default() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_string("internal"))
        .mount(&server)
        .await;
    let port = server.address().port();
    let http = ReqwestFetch::new().expect("client");
    match http
        .fetch(&get(&format!("http://127.0.0.1:{port}/"), 1_000))
        .await
    {
        Err(HttpError::HostNotAllowed(text)) => {
            assert!(text.contains("private networks"), "{text}")
        }
        other => panic!("{:?}", other.map(|f| f.response)),
    }
    match http
        .fetch(&get(&format!("http://localhost:{port}/"), 1_000))
        .await
    {
        Err(HttpError::ConnectionFailed(text)) => {
            assert!(text.contains("no public address"), "{text}")
        }
        other => panic!("{:?}", other.map(|f| f.response)),
    }
    assert_eq!(
        server.received_requests().await.map(|r| r.len()),
        Some(0),
        "nothing reached the private server"
    );
}
