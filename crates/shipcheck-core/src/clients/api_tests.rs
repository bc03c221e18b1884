use std::sync::Arc;
use std::time::Duration;

use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use super::*;
use crate::model::clock::{Clock, ManualClock};

const T0: &str = "2026-08-21T09:00:00Z";

fn clock() -> ManualClock {
    ManualClock::new(T0.parse().unwrap())
}

fn api(server: &MockServer, service: Service, clock: &ManualClock) -> Api {
    Api::new(
        crate::clients::http::api_client(Duration::from_secs(5)),
        service,
        &server.uri(),
        Some("Bearer t0ken".into()),
        Policy {
            timeout: Duration::from_millis(400),
            retries: 2,
            backoff: Duration::from_millis(10),
            max_wait: Duration::from_secs(30),
        },
        Arc::new(clock.clone()),
    )
}

fn get(p: &str) -> Request {
    Request::get(p, "the thing", "Actions: read")
}

#[tokio::test]
async fn success_sends_auth_and_reads_json() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/x"))
        .and(wiremock::matchers::header("authorization", "Bearer t0ken"))
        .respond_with(ResponseTemplate::new(200).set_body_string(r#"{"a":1}"#))
        .expect(1)
        .mount(&server)
        .await;
    let c = clock();
    let v: serde_json::Value = api(&server, Service::GitHub, &c)
        .get_json(get("/x"))
        .await
        .unwrap();
    assert_eq!(v["a"], 1);
}

#[tokio::test]
async fn unauthorized_names_the_permission() {
    let server = MockServer::start().await;
    Mock::given(path("/x"))
        .respond_with(
            ResponseTemplate::new(401).set_body_string(r#"{"message":"Bad credentials"}"#),
        )
        .expect(1)
        .mount(&server)
        .await;
    let c = clock();
    let e = api(&server, Service::GitHub, &c)
        .send(get("/x"))
        .await
        .unwrap_err();
    assert!(matches!(e, ApiError::Unauthorized { .. }));
    let m = e.to_string();
    assert!(m.contains("401") && m.contains("Actions: read") && m.contains("Bad credentials"));
}

#[tokio::test]
async fn forbidden_without_rate_limit_names_the_permission() {
    let server = MockServer::start().await;
    Mock::given(path("/x"))
        .respond_with(
            ResponseTemplate::new(403)
                .insert_header("x-ratelimit-remaining", "4999")
                .set_body_string(r#"{"message":"Resource not accessible by integration"}"#),
        )
        .expect(1)
        .mount(&server)
        .await;
    let c = clock();
    let e = api(&server, Service::GitHub, &c)
        .send(get("/x"))
        .await
        .unwrap_err();
    assert!(matches!(e, ApiError::Forbidden { .. }), "{e}");
    assert!(e.to_string().contains("lacks Actions: read"));
}

#[tokio::test]
async fn github_primary_limit_waits_for_the_reset_then_succeeds() {
    let server = MockServer::start().await;
    let c = clock();
    let reset = c.now().as_second() + 10;
    Mock::given(path("/x"))
        .respond_with(
            ResponseTemplate::new(403)
                .insert_header("x-ratelimit-remaining", "0")
                .insert_header("x-ratelimit-reset", reset.to_string().as_str())
                .set_body_string(r#"{"message":"API rate limit exceeded"}"#),
        )
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(path("/x"))
        .respond_with(ResponseTemplate::new(200).set_body_string("[]"))
        .expect(1)
        .mount(&server)
        .await;
    let r = api(&server, Service::GitHub, &c).send(get("/x")).await;
    assert!(r.is_ok(), "{r:?}");
    // The manual clock moved by the wait (reset + 1s).
    assert!(c.now().as_second() >= reset);
}

#[tokio::test]
async fn github_primary_limit_past_the_bound_names_the_reset_time() {
    let server = MockServer::start().await;
    let c = clock();
    let reset = c.now().as_second() + 3600;
    Mock::given(path("/x"))
        .respond_with(
            ResponseTemplate::new(403)
                .insert_header("x-ratelimit-remaining", "0")
                .insert_header("x-ratelimit-reset", reset.to_string().as_str()),
        )
        .expect(1)
        .mount(&server)
        .await;
    let e = api(&server, Service::GitHub, &c)
        .send(get("/x"))
        .await
        .unwrap_err();
    match &e {
        ApiError::RateLimited { reset_at, .. } => assert_eq!(reset_at.as_second(), reset),
        other => panic!("{other}"),
    }
    assert!(e.to_string().contains("2026-08-21T10:00:00Z"), "{e}");
}

#[tokio::test]
async fn retry_after_429_is_honoured_for_posts_too() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(429).insert_header("retry-after", "2"))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_string("ok"))
        .expect(1)
        .mount(&server)
        .await;
    let c = clock();
    let r = api(&server, Service::Slack, &c)
        .send(Request::post(
            "/hook",
            serde_json::json!({"text":"hi"}),
            "the webhook",
            "none",
        ))
        .await
        .unwrap();
    assert_eq!(r.body, "ok");
    assert_eq!(
        c.now(),
        T0.parse::<Timestamp>().unwrap() + jiff::SignedDuration::from_secs(2)
    );
}

#[tokio::test]
async fn retry_after_beyond_the_bound_is_an_error() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(429).insert_header("retry-after", "120"))
        .expect(1)
        .mount(&server)
        .await;
    let c = clock();
    let e = api(&server, Service::Sentry, &c)
        .send(get("/x"))
        .await
        .unwrap_err();
    assert!(matches!(e, ApiError::RateLimited { .. }), "{e}");
    assert!(e.to_string().contains("2026-08-21T09:02:00Z"), "{e}");
}

#[tokio::test]
async fn server_error_then_success_is_retried_for_gets() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(502))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_string("{}"))
        .expect(1)
        .mount(&server)
        .await;
    let c = clock();
    assert!(
        api(&server, Service::GitHub, &c)
            .send(get("/x"))
            .await
            .is_ok()
    );
}

#[tokio::test]
async fn server_errors_are_bounded_and_posts_are_not_repeated() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(500).set_body_string("boom"))
        .expect(3)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(500).set_body_string("rollup_error"))
        .expect(1)
        .mount(&server)
        .await;
    let c = clock();
    let a = api(&server, Service::Slack, &c);
    let e = a.send(get("/x")).await.unwrap_err();
    assert_eq!(e.status(), Some(500));
    let e = a
        .send(Request::post(
            "/h",
            serde_json::json!({}),
            "the webhook",
            "none",
        ))
        .await
        .unwrap_err();
    assert!(e.to_string().contains("rollup_error"), "{e}");
}

#[tokio::test]
async fn not_found_names_the_resource_and_422_quotes_the_message() {
    let server = MockServer::start().await;
    Mock::given(path("/missing"))
        .respond_with(ResponseTemplate::new(404).set_body_string(r#"{"message":"Not Found"}"#))
        .mount(&server)
        .await;
    Mock::given(path("/invalid"))
        .respond_with(ResponseTemplate::new(422).set_body_string(
            r#"{"message":"Validation Failed","errors":["environment_ids must be approvable"]}"#,
        ))
        .mount(&server)
        .await;
    let c = clock();
    let a = api(&server, Service::GitHub, &c);
    let e = a
        .send(Request::get("/missing", "workflow run 42 of acme/app", "x"))
        .await
        .unwrap_err();
    assert!(matches!(e, ApiError::NotFound { .. }));
    assert!(
        e.to_string()
            .contains("workflow run 42 of acme/app not found")
    );
    let e = a.send(get("/invalid")).await.unwrap_err();
    assert!(matches!(e, ApiError::Unprocessable { .. }));
    assert!(
        e.to_string()
            .contains("Validation Failed (environment_ids must be approvable)"),
        "{e}"
    );
}

#[tokio::test]
async fn malformed_json_names_the_reason() {
    let server = MockServer::start().await;
    Mock::given(path("/x"))
        .respond_with(ResponseTemplate::new(200).set_body_string("{\"total_count\": 1,"))
        .mount(&server)
        .await;
    let c = clock();
    let e = api(&server, Service::GitHub, &c)
        .get_json::<serde_json::Value>(get("/x"))
        .await
        .unwrap_err();
    assert!(matches!(e, ApiError::Malformed { .. }));
    assert!(e.to_string().contains("malformed JSON: EOF"), "{e}");
}

#[tokio::test]
async fn a_slow_answer_is_a_timeout_naming_the_limit() {
    let server = MockServer::start().await;
    Mock::given(path("/x"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_string("{}")
                .set_delay(Duration::from_secs(3)),
        )
        .mount(&server)
        .await;
    let c = clock();
    let e = api(&server, Service::Prometheus, &c)
        .send(get("/x"))
        .await
        .unwrap_err();
    assert!(matches!(e, ApiError::Timeout { .. }), "{e}");
    assert!(e.to_string().contains("within 400ms"), "{e}");
}

#[tokio::test]
async fn unreachable_is_a_network_error_without_the_url() {
    let c = clock();
    let a = Api::new(
        crate::clients::http::client(Duration::from_secs(2)),
        Service::Slack,
        "http://127.0.0.1:9/secret-path",
        None,
        Policy {
            retries: 1,
            backoff: Duration::from_millis(1),
            ..Policy::default()
        },
        Arc::new(c.clone()),
    );
    let e = a.send(get("")).await.unwrap_err();
    assert!(matches!(e, ApiError::Network { .. }), "{e}");
    assert!(!e.to_string().contains("secret-path"), "{e}");
}

#[test]
fn link_headers_are_followed() {
    let mut headers = HeaderMap::new();
    headers.insert(
        "link",
        r#"<https://api.github.com/x?page=2>; rel="next", <https://api.github.com/x?page=5>; rel="last""#
            .parse()
            .unwrap(),
    );
    let r = Reply {
        status: 200,
        headers,
        body: String::new(),
        service: Service::GitHub,
        what: String::new(),
        secrets: Arc::default(),
    };
    assert_eq!(
        next_link(&r).as_deref(),
        Some("https://api.github.com/x?page=2")
    );
    let mut h2 = HeaderMap::new();
    h2.insert(
        "link",
        r#"<https://s/x?cursor=1:0:1>; rel="previous"; results="false"; cursor="1:0:1", <https://s/x?cursor=1:100:0>; rel="next"; results="false"; cursor="1:100:0""#
            .parse()
            .unwrap(),
    );
    let r2 = Reply { headers: h2, ..r };
    assert_eq!(next_link(&r2), None);
}
