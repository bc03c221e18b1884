//! The CDEvents sink client against a loopback server answering errors, rate limits, HTML,
//! redirects and nothing at all: every send ends within its bound, with the reason.

use std::time::{Duration, Instant};

use shipcheck_testkit::http::{Reply, Server, Silent};

use super::*;
use crate::model::config::test_env;

fn sink(url: &str, timeout_ms: u64, token_env: Option<&str>) -> Sink {
    let cfg = EventsConfig {
        sink: url.into(),
        token_env: token_env.map(str::to_string),
        source: None,
        timeout: crate::model::duration::Span(Duration::from_millis(timeout_ms)),
    };
    let kit = crate::clients::Kit {
        http: crate::clients::http::api_client(Duration::from_secs(5)),
        clock: std::sync::Arc::new(crate::model::clock::SystemClock),
        secrets: std::sync::Arc::default(),
    };
    let mut s = Sink::new(&cfg, &kit).unwrap();
    s.backoff = Duration::from_millis(20);
    s
}

const ATTRS: Attributes<'static> = Attributes {
    id: "run-1/pipelinerun.started",
    source: "/shipcheck/app/production",
    kind: "dev.cdevents.pipelinerun.started.0.2.0",
    subject: "run-1",
    time: "2026-12-01T07:30:00Z",
};

#[tokio::test]
async fn a_202_is_delivered_in_binary_mode_with_the_token() {
    let var = "SHIPCHECK_TEST_SINK_TOKEN_OK";
    test_env::set(var, "cde_secret_token_1234");
    let server = Server::start(|_| Reply::new(202, ""));
    let s = sink(&server.url("/cdevents"), 2000, Some(var));
    assert_eq!(s.send(&ATTRS, "{\"context\":{}}").await, Ok(202));
    let seen = server.seen();
    assert_eq!(seen.len(), 1);
    let r = &seen[0];
    assert_eq!(r.method, "POST");
    assert_eq!(r.header("ce-specversion"), Some("1.0"));
    assert_eq!(r.header("ce-id"), Some(ATTRS.id));
    assert_eq!(r.header("ce-type"), Some(ATTRS.kind));
    assert_eq!(r.header("ce-source"), Some(ATTRS.source));
    assert_eq!(r.header("ce-subject"), Some("run-1"));
    assert_eq!(r.header("ce-time"), Some("2026-12-01t07:30:00z"));
    assert_eq!(r.header("content-type"), Some(CONTENT_TYPE));
    assert!(
        r.headers
            .contains("authorization: bearer cde_secret_token_1234"),
        "{}",
        r.headers
    );
    assert_eq!(r.body, b"{\"context\":{}}");
}

#[tokio::test]
async fn a_500_is_tried_three_times_then_reported() {
    let server = Server::start(|_| Reply::json(500, "{\"message\":\"database down\"}"));
    let s = sink(&server.url("/cdevents"), 2000, None);
    let err = s.send(&ATTRS, "{}").await.unwrap_err();
    assert_eq!(server.requests(), ATTEMPTS as usize);
    assert_eq!(err.tries.len(), 3, "{err}");
    assert!(err.to_string().contains("HTTP 500"), "{err}");
    assert!(err.to_string().contains("database down"), "{err}");
}

#[tokio::test]
async fn a_500_then_a_202_is_delivered() {
    let server = Server::start(|r| {
        if r.n == 0 {
            Reply::new(500, "")
        } else {
            Reply::new(202, "")
        }
    });
    let s = sink(&server.url("/cdevents"), 2000, None);
    assert_eq!(s.send(&ATTRS, "{}").await, Ok(202));
    assert_eq!(server.requests(), 2);
}

#[tokio::test]
async fn a_429_waits_for_retry_after_within_the_bound_only() {
    // Retry-After: 1 s fits the bound (3 × 2 s): waited, then delivered.
    let server = Server::start(|r| {
        if r.n == 0 {
            Reply::new(429, "slow down").header("retry-after", "1")
        } else {
            Reply::new(200, "")
        }
    });
    let s = sink(&server.url("/cdevents"), 2000, None);
    let t = Instant::now();
    assert_eq!(s.send(&ATTRS, "{}").await, Ok(200));
    assert!(t.elapsed() >= Duration::from_millis(900));
    // Retry-After: an hour does not: reported at once, not waited for.
    let server = Server::start(|_| Reply::new(429, "").header("retry-after", "3600"));
    let s = sink(&server.url("/cdevents"), 500, None);
    let t = Instant::now();
    let err = s.send(&ATTRS, "{}").await.unwrap_err();
    assert!(t.elapsed() < Duration::from_secs(5), "{:?}", t.elapsed());
    assert_eq!(server.requests(), 1);
    assert!(err.to_string().contains("HTTP 429"), "{err}");
    assert!(
        err.to_string().contains("longer than the send's bound"),
        "{err}"
    );
}

#[tokio::test]
async fn an_html_page_is_not_a_delivery_and_is_not_retried() {
    let page = "<!DOCTYPE html><html><head><title>Sign in - Corporate Proxy</title></head><body>login</body></html>";
    let server = Server::start(move |_| Reply::new(200, page).header("content-type", "text/html"));
    let s = sink(&server.url("/cdevents"), 2000, None);
    let err = s.send(&ATTRS, "{}").await.unwrap_err();
    assert_eq!(server.requests(), 1);
    assert!(err.to_string().contains("HTML page"), "{err}");
    assert!(
        err.to_string().contains("Sign in - Corporate Proxy"),
        "{err}"
    );
}

#[tokio::test]
async fn a_400_is_not_retried_and_a_redirect_is_not_followed() {
    let server = Server::start(|_| Reply::json(400, "{\"error\":\"ce-id is required\"}"));
    let s = sink(&server.url("/cdevents"), 2000, None);
    let err = s.send(&ATTRS, "{}").await.unwrap_err();
    assert_eq!(server.requests(), 1);
    assert!(err.to_string().contains("ce-id is required"), "{err}");

    let elsewhere = Server::start(|_| Reply::new(202, ""));
    let target = elsewhere.url("/steal");
    let server = Server::start(move |_| Reply::new(307, "").header("location", target.as_str()));
    let var = "SHIPCHECK_TEST_SINK_TOKEN_REDIRECT";
    test_env::set(var, "cde_never_elsewhere_5678");
    let s = sink(&server.url("/cdevents"), 2000, Some(var));
    let err = s.send(&ATTRS, "{}").await.unwrap_err();
    assert!(err.to_string().contains("not followed"), "{err}");
    assert_eq!(elsewhere.requests(), 0, "the token went elsewhere");
}

#[tokio::test]
async fn a_hanging_sink_is_bounded() {
    let silent = Silent::start();
    let s = sink(&silent.url("/cdevents"), 300, None);
    let t = Instant::now();
    let err = s.send(&ATTRS, "{}").await.unwrap_err();
    let took = t.elapsed();
    assert!(took <= s.budget() + Duration::from_secs(2), "{took:?}");
    assert_eq!(err.tries.len(), 3, "{err}");
    assert!(err.to_string().contains("no answer within 300 ms"), "{err}");
}

#[tokio::test]
async fn a_closed_port_is_reported_after_three_tries() {
    let url = shipcheck_testkit::http::closed_url("/cdevents");
    let s = sink(&url, 300, None);
    let err = s.send(&ATTRS, "{}").await.unwrap_err();
    assert_eq!(err.tries.len(), 3, "{err}");
    assert!(err.to_string().contains("cannot reach the sink"), "{err}");
}

#[test]
fn answers_are_judged() {
    assert_eq!(judge(202, "", None, None), Ok(202));
    assert_eq!(judge(200, "{\"ok\":true}", None, None), Ok(200));
    assert_eq!(judge(204, "", None, None), Ok(204));
    let t = judge(503, "", Some(Duration::from_secs(2)), None).unwrap_err();
    assert!(t.retry);
    assert_eq!(t.wait, Some(Duration::from_secs(2)));
    assert!(judge(408, "", None, None).unwrap_err().retry);
    assert!(!judge(401, "", None, None).unwrap_err().retry);
    assert!(!judge(404, "not here", None, None).unwrap_err().retry);
    assert!(
        !judge(200, "<html><title>x</title></html>", None, None)
            .unwrap_err()
            .retry
    );
    let r = judge(301, "", None, Some("https://evil.example/x")).unwrap_err();
    assert!(
        !r.retry && r.reason.contains("https://evil.example/x"),
        "{r:?}"
    );
}

#[test]
fn the_budget_bounds_every_try_and_backoff() {
    let s = Sink {
        http: crate::clients::http::api_client(Duration::from_secs(1)),
        url: "http://127.0.0.1:9/".into(),
        token: None,
        timeout: Duration::from_secs(5),
        secrets: std::sync::Arc::default(),
        backoff: BACKOFF,
    };
    // 3 tries of 5 s, waits of 250 ms and 500 ms.
    assert_eq!(s.budget(), Duration::from_millis(15_750));
    assert!(!format!("{s:?}").contains("token: Some(\""));
}
