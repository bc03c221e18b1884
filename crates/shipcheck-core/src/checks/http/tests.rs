use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use serde_json::json;

use crate::checks::http::*;
use crate::clients::Clients;
use crate::model::clock::ManualClock;
use crate::model::config::{App, Config, Environment};
use crate::model::duration::Span;
use shipcheck_testkit::http::{Reply, Server as TestServer, Silent, closed_url};

fn ctx_with(config: Config) -> Clients {
    Clients::new(
        Arc::new(config),
        PathBuf::from("."),
        Arc::new(ManualClock::new("2026-11-24T10:00:00Z".parse().unwrap())),
    )
}

fn ctx() -> Clients {
    ctx_with(Config::default())
}

async fn run(c: &HttpCheck, clients: &Clients) -> crate::model::outcome::Outcome {
    crate::checks::http::run(c, &clients.http, &clients.secrets).await
}

async fn run_health(c: &HealthCheck, clients: &Clients) -> crate::model::outcome::Outcome {
    let envs = &clients.config.environments;
    crate::checks::http::run_health(c, envs, &clients.http, &clients.secrets).await
}

/// A GET of `url` expecting 200, 2 s per attempt, 2 retries 10 ms apart.
fn check(url: String) -> HttpCheck {
    HttpCheck {
        url,
        method: "GET".into(),
        expect_status: StatusSpec::One(200),
        timeout: Some(Span::secs(2)),
        retries: None,
        backoff: Some(Span::millis(10)),
        body_contains: None,
        json_pointer: None,
        json_equals: None,
        headers: Default::default(),
    }
}

#[tokio::test]
async fn answers_200_pass() {
    let s = TestServer::routes(vec![("/health", vec![Reply::new(200, "ok")])]);
    let o = run(&check(s.url("/health")), &ctx()).await;
    assert_eq!(o.status, Status::Pass, "{}", o.summary);
    assert!(
        o.summary
            .starts_with(&format!("GET {} answered 200 in ", s.url("/health")))
    );
    assert_eq!(o.evidence["status"], 200);
    assert_eq!(o.evidence["attempts"], 1);
    assert_eq!(o.evidence["method"], "GET");
    assert!(o.evidence["latency_ms"].is_u64());
    assert!(o.evidence.get("body_excerpt").is_none());
}

#[tokio::test]
async fn answers_500_fail_after_retries() {
    let s = TestServer::routes(vec![("/h", vec![Reply::new(500, "boom: db down")])]);
    let o = run(&check(s.url("/h")), &ctx()).await;
    assert_eq!(o.status, Status::Fail);
    assert_eq!(
        o.summary,
        format!(
            "GET {} answered 500, expected 200 after 3 attempts",
            s.url("/h")
        )
    );
    assert_eq!(s.hits("/h"), 3);
    assert_eq!(o.evidence["attempts"], 3);
    assert_eq!(o.evidence["status"], 500);
    assert_eq!(o.evidence["attempt_log"].as_array().unwrap().len(), 3);
    assert_eq!(o.evidence["attempt_log"][0]["status"], 500);
    assert_eq!(o.evidence["body_excerpt"], "boom: db down");
}

#[tokio::test]
async fn answers_503_then_200_passes_on_retry() {
    let replies = vec![Reply::new(503, "starting"), Reply::new(200, "ok")];
    let s = TestServer::routes(vec![("/h", replies)]);
    let o = run(&check(s.url("/h")), &ctx()).await;
    assert_eq!(o.status, Status::Pass, "{}", o.summary);
    assert!(o.summary.ends_with("after 2 attempts"), "{}", o.summary);
    assert_eq!(o.evidence["attempts"], 2);
    assert_eq!(o.evidence["attempt_log"][0]["status"], 503);
    assert_eq!(o.evidence["attempt_log"][1]["status"], 200);
}

#[tokio::test]
async fn retries_429_but_not_other_4xx() {
    let s = TestServer::routes(vec![
        ("/missing", vec![Reply::new(404, "nope")]),
        (
            "/busy",
            vec![Reply::new(429, "slow down"), Reply::new(200, "ok")],
        ),
    ]);
    let o = run(&check(s.url("/missing")), &ctx()).await;
    assert_eq!(o.status, Status::Fail);
    assert_eq!(s.hits("/missing"), 1);
    assert_eq!(o.evidence["attempts"], 1);
    let o = run(&check(s.url("/busy")), &ctx()).await;
    assert_eq!(o.status, Status::Pass);
    assert_eq!(s.hits("/busy"), 2);
}

#[tokio::test]
async fn expected_500_is_not_retried() {
    let s = TestServer::routes(vec![("/h", vec![Reply::new(500, "")])]);
    let mut c = check(s.url("/h"));
    c.expect_status = StatusSpec::One(500);
    let o = run(&c, &ctx()).await;
    assert_eq!(o.status, Status::Pass);
    assert_eq!(s.hits("/h"), 1);
}

#[tokio::test]
async fn slow_answer_times_out_as_error() {
    let slow = Reply::new(200, "late").delay(Duration::from_secs(5));
    let s = TestServer::routes(vec![("/slow", vec![slow])]);
    let mut c = check(s.url("/slow"));
    c.timeout = Some(Span::millis(200));
    c.retries = Some(0);
    let o = run(&c, &ctx()).await;
    assert_eq!(o.status, Status::Error);
    assert_eq!(
        o.summary,
        format!("GET {}: timed out after 200ms", s.url("/slow"))
    );
    assert_eq!(o.evidence["status"], serde_json::Value::Null);
    assert_eq!(
        o.evidence["attempt_log"][0]["error"],
        "timed out after 200ms"
    );
}

#[tokio::test]
async fn server_that_never_answers_times_out() {
    let s = Silent::start();
    let mut c = check(s.url("/h"));
    c.timeout = Some(Span::millis(200));
    c.retries = Some(1);
    let o = run(&c, &ctx()).await;
    assert_eq!(o.status, Status::Error);
    assert!(
        o.summary
            .ends_with("timed out after 200ms after 2 attempts"),
        "{}",
        o.summary
    );
    assert_eq!(o.evidence["attempts"], 2);
}

#[tokio::test]
async fn closed_port_is_connection_refused() {
    let url = closed_url("/health");
    let o = run(&check(url.clone()), &ctx()).await;
    assert_eq!(o.status, Status::Error);
    assert_eq!(
        o.summary,
        format!("GET {url}: connection refused after 3 attempts")
    );
    assert_eq!(o.evidence["attempt_log"][2]["error"], "connection refused");
}

#[tokio::test]
async fn status_list() {
    let s = TestServer::routes(vec![
        ("/204", vec![Reply::new(204, "")]),
        ("/201", vec![Reply::new(201, "")]),
    ]);
    let mut c = check(s.url("/204"));
    c.expect_status = StatusSpec::Any(vec![200, 204]);
    assert_eq!(run(&c, &ctx()).await.status, Status::Pass);
    c.url = s.url("/201");
    let o = run(&c, &ctx()).await;
    assert_eq!(o.status, Status::Fail);
    assert!(
        o.summary.contains("answered 201, expected 200 or 204"),
        "{}",
        o.summary
    );
    assert_eq!(o.evidence["expect_status"], json!([200, 204]));
}

#[tokio::test]
async fn body_contains() {
    let s = TestServer::routes(vec![("/h", vec![Reply::new(200, "status: ok, db: up")])]);
    let mut c = check(s.url("/h"));
    c.body_contains = Some("db: up".into());
    assert_eq!(run(&c, &ctx()).await.status, Status::Pass);
    c.body_contains = Some("cache: up".into());
    let o = run(&c, &ctx()).await;
    assert_eq!(o.status, Status::Fail);
    assert!(
        o.summary
            .ends_with("answered 200 but the body does not contain \"cache: up\"")
    );
    assert_eq!(o.evidence["body_excerpt"], "status: ok, db: up");
    assert_eq!(s.hits("/h"), 2, "a body mismatch is not retried");
}

#[tokio::test]
async fn json_pointer_equality_and_mismatch() {
    let body = r#"{"status":"ok","checks":{"db":{"up":true,"latency":3}}}"#;
    let s = TestServer::routes(vec![
        ("/json", vec![Reply::json(200, body)]),
        ("/text", vec![Reply::new(200, "<html>ok</html>")]),
    ]);
    let mut c = check(s.url("/json"));
    c.json_pointer = Some("/checks/db/up".into());
    c.json_equals = Some(json!(true));
    let o = run(&c, &ctx()).await;
    assert_eq!(o.status, Status::Pass, "{}", o.summary);

    c.json_pointer = Some("/status".into());
    c.json_equals = Some(json!("degraded"));
    let o = run(&c, &ctx()).await;
    assert_eq!(o.status, Status::Fail);
    assert!(
        o.summary
            .ends_with(r#"answered 200 but /status is "ok", expected "degraded""#),
        "{}",
        o.summary
    );

    c.json_pointer = Some("/nope".into());
    let o = run(&c, &ctx()).await;
    assert_eq!(o.status, Status::Fail);
    assert!(
        o.summary.contains(r#"the JSON has no value at "/nope""#),
        "{}",
        o.summary
    );

    c.json_pointer = Some("status".into());
    let o = run(&c, &ctx()).await;
    assert!(
        o.summary.contains("a JSON pointer starts with /"),
        "{}",
        o.summary
    );

    c.url = s.url("/text");
    c.json_pointer = Some("/status".into());
    let o = run(&c, &ctx()).await;
    assert_eq!(o.status, Status::Fail);
    assert!(
        o.summary
            .contains("answered 200 but the body is not JSON (/status was asked for)"),
        "{}",
        o.summary
    );
}

#[tokio::test]
async fn method_and_headers_are_sent_and_header_values_kept_out_of_evidence() {
    let s = TestServer::routes(vec![("/h", vec![Reply::new(200, "ok")])]);
    let mut c = check(s.url("/h"));
    c.method = "post".into();
    c.headers
        .insert("X-Probe".into(), "shipcheck-test-value".into());
    let o = run(&c, &ctx()).await;
    assert_eq!(o.status, Status::Pass, "{}", o.summary);
    let seen = s.seen();
    assert_eq!(seen[0].method, "POST");
    assert!(seen[0].headers.contains("x-probe: shipcheck-test-value"));
    assert_eq!(o.evidence["method"], "POST");
    assert_eq!(o.evidence["headers"], json!(["X-Probe"]));
    assert!(!o.evidence.to_string().contains("shipcheck-test-value"));
}

#[tokio::test]
async fn body_excerpt_is_short_and_redacted() {
    let body = format!("token=s3cr3t-value {}", "x".repeat(1000));
    let s = TestServer::routes(vec![("/h", vec![Reply::new(400, &body)])]);
    let mut ctx = ctx();
    ctx.secrets = Arc::new(vec!["s3cr3t-value".into()]);
    let o = run(&check(s.url("/h")), &ctx).await;
    assert_eq!(o.status, Status::Fail);
    let x = o.evidence["body_excerpt"].as_str().unwrap();
    assert!(x.starts_with("token=[REDACTED] xxx"), "{x}");
    assert_eq!(
        x.chars().count(),
        EXCERPT_CHARS + 1,
        "300 characters and an ellipsis"
    );
    assert!(!o.evidence.to_string().contains("s3cr3t-value"));
}

#[tokio::test]
async fn secret_in_url_is_redacted() {
    let s = TestServer::routes(vec![("/h", vec![Reply::new(500, "")])]);
    let mut ctx = ctx();
    ctx.secrets = Arc::new(vec!["tok-123456".into()]);
    let mut c = check(format!("{}?key=tok-123456", s.url("/h")));
    c.retries = Some(0);
    let o = run(&c, &ctx).await;
    assert!(!o.summary.contains("tok-123456"), "{}", o.summary);
    assert!(!o.evidence.to_string().contains("tok-123456"));
    assert_eq!(
        display_url("https://u:pw@example.invalid/x"),
        "https://u:***@example.invalid/x"
    );
}

#[tokio::test]
async fn invalid_request_is_an_error_without_retries() {
    let o = run(&check("not a url".into()), &ctx()).await;
    assert_eq!(o.status, Status::Error);
    assert!(
        o.summary
            .contains("invalid request: \"not a url\" is not a URL"),
        "{}",
        o.summary
    );
    assert_eq!(o.evidence["attempts"], 1);
    let mut c = check("ftp://example.invalid/x".into());
    assert!(run(&c, &ctx()).await.summary.contains("not http or https"));
    c.url = "http://127.0.0.1:1/".into();
    c.method = "GE T".into();
    assert!(
        run(&c, &ctx())
            .await
            .summary
            .contains("is not an HTTP method")
    );
}

#[tokio::test]
async fn probe_is_one_attempt_with_status_and_latency() {
    let s = TestServer::routes(vec![("/h", vec![Reply::new(503, "")])]);
    let p = probe(&ctx().http, &check(s.url("/h"))).await;
    assert_eq!(p.status, Some(503));
    assert!(p.error.is_none());
    assert!(p.retryable(&StatusSpec::One(200)));
    assert_eq!(s.hits("/h"), 1);
    let p = probe(&ctx().http, &check(closed_url("/"))).await;
    assert_eq!(p.status, None);
    assert_eq!(p.error, Some(ProbeError::Refused));
}

fn app(name: &str, url: Option<String>) -> App {
    App {
        name: name.into(),
        fly_app: None,
        health_url: url,
        expect_status: 200,
        region: None,
        required_secrets: vec![],
        version: None,
        sentry_project: None,
    }
}

fn health_ctx(env: &str, apps: Vec<App>) -> Clients {
    let mut config = Config::default();
    config.environments.insert(env.into(), Environment { apps });
    ctx_with(config)
}

fn health(env: &str) -> HealthCheck {
    HealthCheck {
        env: env.into(),
        timeout: Some(Span::secs(2)),
        retries: Some(1),
    }
}

#[tokio::test]
async fn health_all_apps_pass_concurrently() {
    let slow = |body| Reply::new(200, body).delay(Duration::from_millis(300));
    let s = TestServer::routes(vec![
        ("/a", vec![slow("a")]),
        ("/b", vec![slow("b")]),
        ("/c", vec![slow("c")]),
    ]);
    let ctx = health_ctx(
        "staging",
        vec![
            app("internal-api", Some(s.url("/a"))),
            app("agent-registration", Some(s.url("/b"))),
            app("public-api", Some(s.url("/c"))),
        ],
    );
    let o = run_health(&health("staging"), &ctx).await;
    assert_eq!(o.status, Status::Pass, "{}", o.summary);
    assert!(
        o.summary.starts_with("3/3 healthy (internal-api 200 in "),
        "{}",
        o.summary
    );
    assert!(o.summary.contains(", agent-registration 200 in "));
    assert!(o.summary.contains(", public-api 200 in "));
    assert_eq!(
        s.max_in_flight(),
        3,
        "the three apps were probed at the same time"
    );
    let apps = o.evidence["apps"].as_array().unwrap();
    assert_eq!(apps.len(), 3);
    assert_eq!(apps[0]["name"], "internal-api");
    assert_eq!(apps[0]["url"], s.url("/a"));
    assert_eq!(apps[0]["status"], 200);
    assert_eq!(apps[0]["attempts"], 1);
    assert!(apps[0]["latency_ms"].is_u64());
}

#[tokio::test]
async fn health_one_app_failing_fails_naming_it() {
    let s = TestServer::routes(vec![
        ("/a", vec![Reply::new(200, "ok")]),
        ("/b", vec![Reply::new(500, "db down")]),
        ("/c", vec![Reply::new(200, "ok")]),
    ]);
    let mut b = app("agent-registration", Some(s.url("/b")));
    b.expect_status = 200;
    let ctx = health_ctx(
        "production",
        vec![
            app("internal-api", Some(s.url("/a"))),
            b,
            app("public-api", Some(s.url("/c"))),
            app("worker", None),
        ],
    );
    let o = run_health(&health("production"), &ctx).await;
    assert_eq!(o.status, Status::Fail);
    assert!(
        o.summary.starts_with(
            "2/3 healthy; agent-registration answered 500, expected 200 after 2 attempts \
             (healthy: internal-api 200 in "
        ),
        "{}",
        o.summary
    );
    assert!(
        o.summary.ends_with("; not probed, no health_url: worker"),
        "{}",
        o.summary
    );
    assert_eq!(o.evidence["apps"][1]["result"], "fail");
    assert_eq!(o.evidence["apps"][1]["body_excerpt"], "db down");
    assert_eq!(o.evidence["apps_without_health_url"], json!(["worker"]));
}

#[tokio::test]
async fn health_unreachable_app_is_an_error() {
    let s = TestServer::routes(vec![("/a", vec![Reply::new(200, "ok")])]);
    let ctx = health_ctx(
        "staging",
        vec![
            app("internal-api", Some(s.url("/a"))),
            app("public-api", Some(closed_url("/h"))),
        ],
    );
    let o = run_health(&health("staging"), &ctx).await;
    assert_eq!(o.status, Status::Error);
    assert!(
        o.summary
            .contains("public-api connection refused after 2 attempts"),
        "{}",
        o.summary
    );
}

#[tokio::test]
async fn health_without_apps_is_an_error() {
    let o = run_health(&health("staging"), &health_ctx("staging", vec![])).await;
    assert_eq!(o.status, Status::Error);
    assert!(
        o.summary
            .starts_with("environment staging has no apps with a health_url in shipcheck.toml"),
        "{}",
        o.summary
    );
    let o = run_health(
        &health("staging"),
        &health_ctx("staging", vec![app("internal-api", None)]),
    )
    .await;
    assert_eq!(o.status, Status::Error);
    assert_eq!(
        o.evidence["apps_without_health_url"],
        json!(["internal-api"])
    );
    let o = run_health(&health("qa"), &ctx()).await;
    assert_eq!(o.status, Status::Error);
    assert!(
        o.summary.contains("there is no [environments.qa] at all"),
        "{}",
        o.summary
    );
}

#[test]
fn describes_expected_statuses() {
    assert_eq!(describe_expected(&StatusSpec::One(200)), "200");
    assert_eq!(
        describe_expected(&StatusSpec::Any(vec![200, 204])),
        "200 or 204"
    );
    assert_eq!(
        describe_expected(&StatusSpec::Any(vec![200, 201, 204])),
        "200, 201 or 204"
    );
    assert_eq!(fmt_latency(Duration::from_millis(12)), "12ms");
    assert_eq!(fmt_latency(Duration::from_millis(1234)), "1.2s");
}

/// A check's own headers (a key, say) go only to its URL's origin: a redirect to another
/// origin is not followed at all (the other server sees nothing) and the check says where it
/// pointed; within the origin a redirect is followed with the headers; a check without headers
/// follows redirects anywhere, like a browser.
#[tokio::test]
async fn a_checks_headers_never_follow_a_redirect_to_another_origin() {
    let elsewhere = TestServer::routes(vec![("/steal", vec![Reply::new(200, "thanks")])]);
    let target = elsewhere.url("/steal");
    let s = TestServer::routes(vec![
        (
            "/away",
            vec![Reply::new(302, "").header("location", &target)],
        ),
        ("/old", vec![Reply::new(301, "").header("location", "/new")]),
        ("/new", vec![Reply::new(200, "ok")]),
    ]);
    let mut c = check(s.url("/away"));
    c.retries = Some(0);
    c.headers.insert("X-Api-Key".into(), "k-123456".into());
    let o = run(&c, &ctx()).await;
    assert_ne!(o.status, Status::Pass, "{}", o.summary);
    assert!(
        o.summary.contains("another origin") && o.summary.contains(&elsewhere.url("")[..20]),
        "{}",
        o.summary
    );
    assert_eq!(elsewhere.requests(), 0, "the other origin was asked");
    assert!(!o.evidence.to_string().contains("k-123456"));

    let mut same = check(s.url("/old"));
    same.headers.insert("X-Api-Key".into(), "k-123456".into());
    let o = run(&same, &ctx()).await;
    assert_eq!(o.status, Status::Pass, "{}", o.summary);
    let seen = s.seen();
    let new = seen.iter().find(|r| r.path == "/new").expect("followed");
    assert_eq!(new.header("x-api-key"), Some("k-123456"));

    let plain = check(s.url("/away"));
    let o = run(&plain, &ctx()).await;
    assert_eq!(o.status, Status::Pass, "{}", o.summary);
    assert_eq!(elsewhere.hits("/steal"), 1);
}
