//! Credentials stay home, bodies are bounded, error excerpts carry no secret: each
//! integration against two loopback servers (two ports are two origins). The second server
//! stands for another host; it must never be asked anything.

use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::clients::api::{Api, ApiError, Policy, Request, Service};
use crate::model::config::test_env;
use crate::testkit::checks as testing;

const GH_TOKEN: &str = "ghp_OriginTestTokenAAAABBBBCCCCDDDDEEEEFFFF1234";

/// Another host: answers anything, and the test checks it was never asked.
async fn elsewhere() -> MockServer {
    let s = MockServer::start().await;
    Mock::given(wiremock::matchers::any())
        .respond_with(ResponseTemplate::new(200).set_body_string("[]"))
        .mount(&s)
        .await;
    s
}

async fn asked(s: &MockServer) -> usize {
    s.received_requests().await.map(|r| r.len()).unwrap_or(0)
}

fn github(server: &MockServer) -> crate::clients::github::GitHub {
    test_env::set("SHIPCHECK_TEST_ORIGIN_GH", GH_TOKEN);
    let cfg = testing::config(&format!(
        "[github]\nrepo = \"acme/app\"\napi_url = \"{}\"\ntoken_env = \"SHIPCHECK_TEST_ORIGIN_GH\"\nrequest_timeout = \"2s\"\n",
        server.uri()
    ));
    let (mut ctx, _) = testing::ctx(cfg, None, testing::STARTED);
    ctx.secrets = Arc::new(vec![GH_TOKEN.to_string()]);
    ctx.github().unwrap()
}

#[tokio::test]
async fn github_does_not_follow_a_page_link_to_another_origin() {
    let home = MockServer::start().await;
    let other = elsewhere().await;
    Mock::given(path("/repos/acme/app/actions/runs"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header(
                    "link",
                    format!(
                        "<{}/repos/acme/app/actions/runs?page=2>; rel=\"next\"",
                        other.uri()
                    ),
                )
                .set_body_raw(
                    r#"{"total_count":1,"workflow_runs":[]}"#.as_bytes().to_vec(),
                    "application/json",
                ),
        )
        .mount(&home)
        .await;
    let e = github(&home)
        .list_runs(&Default::default())
        .await
        .unwrap_err();
    assert!(matches!(e, ApiError::OtherOrigin { .. }), "{e}");
    let m = e.to_string();
    assert!(
        m.contains("another origin") && m.contains(&other.uri()),
        "{m}"
    );
    assert!(m.contains(&format!("only to {}", home.uri())), "{m}");
    assert_eq!(asked(&other).await, 0, "the other host was asked");
}

#[tokio::test]
async fn github_follows_a_same_origin_redirect_with_the_token_and_no_other() {
    let home = MockServer::start().await;
    let other = elsewhere().await;
    Mock::given(path("/repos/acme/app/actions/runs/1"))
        .respond_with(
            ResponseTemplate::new(301).insert_header("location", "/repositories/9/actions/runs/1"),
        )
        .mount(&home)
        .await;
    Mock::given(path("/repositories/9/actions/runs/1"))
        .and(header(
            "authorization",
            format!("Bearer {GH_TOKEN}").as_str(),
        ))
        .respond_with(
            ResponseTemplate::new(302)
                .insert_header("location", format!("{}/steal", other.uri()).as_str()),
        )
        .expect(1)
        .mount(&home)
        .await;
    let e = github(&home).run(1).await.unwrap_err();
    assert!(matches!(e, ApiError::OtherOrigin { .. }), "{e}");
    assert!(e.to_string().contains("redirect (302)"), "{e}");
    assert_eq!(asked(&other).await, 0, "the redirect was followed");
}

#[tokio::test]
async fn sentry_does_not_follow_a_cursor_link_to_another_origin() {
    let home = MockServer::start().await;
    let other = elsewhere().await;
    test_env::set("SHIPCHECK_TEST_ORIGIN_SENTRY", "sntrys_origin_test_token");
    let cfg = testing::config(&format!(
        "[sentry]\nurl = \"{}\"\norg = \"acme\"\nprojects = [\"2\"]\ntoken_env = \"SHIPCHECK_TEST_ORIGIN_SENTRY\"\nrequest_timeout = \"2s\"\n",
        home.uri()
    ));
    let (ctx, _) = testing::ctx(cfg, None, testing::STARTED);
    let sentry = ctx.sentry().unwrap();
    Mock::given(path("/api/0/organizations/acme/issues/"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header(
                    "link",
                    format!(
                        "<{}/api/0/organizations/acme/issues/?cursor=1:100:0>; rel=\"next\"; results=\"true\"; cursor=\"1:100:0\"",
                        other.uri()
                    ),
                )
                .set_body_raw("[]".as_bytes().to_vec(), "application/json"),
        )
        .mount(&home)
        .await;
    let since: jiff::Timestamp = testing::STARTED.parse().unwrap();
    let e = sentry
        .new_issues(&["2".into()], since, since)
        .await
        .unwrap_err();
    assert!(matches!(e, ApiError::OtherOrigin { .. }), "{e}");
    assert_eq!(asked(&other).await, 0);
}

#[tokio::test]
async fn prometheus_does_not_follow_a_redirect_to_another_origin() {
    let home = MockServer::start().await;
    let other = elsewhere().await;
    test_env::set("SHIPCHECK_TEST_ORIGIN_PROM", "prom_origin_test_token");
    let cfg = testing::config(&format!(
        "[prometheus]\nurl = \"{}/prom\"\ntoken_env = \"SHIPCHECK_TEST_ORIGIN_PROM\"\nrequest_timeout = \"2s\"\n",
        home.uri()
    ));
    let (ctx, _) = testing::ctx(cfg, None, testing::STARTED);
    Mock::given(path("/prom/api/v1/query"))
        .respond_with(ResponseTemplate::new(307).insert_header(
            "location",
            format!("{}/api/v1/query?query=up", other.uri()).as_str(),
        ))
        .mount(&home)
        .await;
    let e = ctx
        .prometheus()
        .unwrap()
        .query("up", None)
        .await
        .unwrap_err();
    assert!(matches!(e, ApiError::OtherOrigin { .. }), "{e}");
    assert_eq!(asked(&other).await, 0);
}

#[tokio::test]
async fn a_slack_webhook_redirect_is_never_followed_even_on_its_own_host() {
    let home = MockServer::start().await;
    let other = elsewhere().await;
    Mock::given(method("POST"))
        .and(path("/services/T0/B0/hooksecret"))
        .respond_with(ResponseTemplate::new(308).insert_header("location", "/services/moved"))
        .mount(&home)
        .await;
    Mock::given(method("POST"))
        .and(path("/services/T0/B0/elsewhere"))
        .respond_with(
            ResponseTemplate::new(302)
                .insert_header("location", format!("{}/collect", other.uri()).as_str()),
        )
        .mount(&home)
        .await;
    for hook in ["hooksecret", "elsewhere"] {
        let var = format!("SHIPCHECK_TEST_ORIGIN_SLACK_{hook}");
        test_env::set(&var, &format!("{}/services/T0/B0/{hook}", home.uri()));
        let cfg = testing::config(&format!("[slack]\nwebhook_env = \"{var}\"\n"));
        let (ctx, _) = testing::ctx(cfg, None, testing::STARTED);
        let e = ctx
            .slack()
            .unwrap()
            .post(json!({"text": "hi"}))
            .await
            .unwrap_err();
        assert!(matches!(e, ApiError::OtherOrigin { .. }), "{e}");
        assert!(e.to_string().contains("never followed"), "{e}");
    }
    let moved = home
        .received_requests()
        .await
        .unwrap_or_default()
        .iter()
        .filter(|r| r.url.path() == "/services/moved")
        .count();
    assert_eq!(moved, 0, "a same-host webhook redirect was followed");
    assert_eq!(asked(&other).await, 0);
}

fn api(server: &MockServer, service: Service, secrets: &[&str]) -> Api {
    Api::new(
        crate::clients::http::api_client(Duration::from_secs(5)),
        service,
        &server.uri(),
        Some("Bearer x".into()),
        Policy {
            timeout: Duration::from_secs(5),
            retries: 0,
            backoff: Duration::from_millis(1),
            max_wait: Duration::from_secs(1),
        },
        Arc::new(crate::model::clock::SystemClock),
    )
    .with_secrets(Arc::new(secrets.iter().map(|s| s.to_string()).collect()))
}

#[tokio::test]
async fn a_body_over_the_cap_is_an_error_naming_the_cap() {
    let server = MockServer::start().await;
    Mock::given(path("/big"))
        .respond_with(ResponseTemplate::new(200).set_body_string("x".repeat(2 << 20)))
        .mount(&server)
        .await;
    let e = api(&server, Service::GitHub, &[])
        .with_body_cap(1 << 20)
        .send(Request::get("/big", "the big list", "read"))
        .await
        .unwrap_err();
    assert!(matches!(e, ApiError::TooLarge { .. }), "{e}");
    assert_eq!(
        e.to_string(),
        "GitHub answered more than 1 MiB for the big list; shipcheck reads at most 1 MiB from GitHub"
    );
}

/// A body without a length that never ends: reading stops at the cap (the issue's 2 GiB
/// answer took the process to 4.1 GB).
#[tokio::test]
async fn an_endless_chunked_body_stops_at_the_cap() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let Ok((mut sock, _)) = listener.accept().await else {
            return;
        };
        let mut req = [0u8; 4096];
        let _ = sock.read(&mut req).await;
        let _ = sock
            .write_all(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n")
            .await;
        let chunk = format!("{:x}\r\n{}\r\n", 64 * 1024, "y".repeat(64 * 1024));
        // At most 64 MiB: far past the cap, and the test still ends if reading never stops.
        for _ in 0..1024 {
            if sock.write_all(chunk.as_bytes()).await.is_err() {
                return;
            }
        }
    });
    let a = Api::new(
        crate::clients::http::api_client(Duration::from_secs(20)),
        Service::Sentry,
        &format!("http://{addr}"),
        None,
        Policy {
            timeout: Duration::from_secs(20),
            retries: 0,
            ..Policy::default()
        },
        Arc::new(crate::model::clock::SystemClock),
    );
    let e = a
        .send(Request::get("/stream", "the endless list", "read"))
        .await
        .unwrap_err();
    assert!(
        matches!(e, ApiError::TooLarge { cap, .. } if cap == 4 << 20),
        "{e}"
    );
}

/// The issue's finding: a token cut by the 300-character excerpt leaked 31 of its 48
/// characters. Redaction now runs before the cut, and removes fragments too.
#[tokio::test]
async fn an_error_excerpt_is_cut_after_redaction() {
    let server = MockServer::start().await;
    let token = "ghp_CutByTheExcerptAAAABBBBCCCCDDDDEEEEFFFF5678";
    // Placed so that the 300-character cut falls 31 characters into the token.
    let body = json!({"message": format!("{} {token} end", "p".repeat(268))}).to_string();
    Mock::given(path("/x"))
        .respond_with(ResponseTemplate::new(500).set_body_string(body))
        .mount(&server)
        .await;
    let e = api(&server, Service::GitHub, &[token])
        .send(Request::get("/x", "the thing", "read"))
        .await
        .unwrap_err();
    let m = e.to_string();
    assert!(m.contains("[REDACTED]"), "{m}");
    for w in token.as_bytes().windows(8) {
        let w = std::str::from_utf8(w).unwrap();
        assert!(!m.contains(w), "{w} of the token is in: {m}");
    }
}

/// The issue's finding: an error page quoting the request path wrote the webhook's secret
/// path into the journal, the reports and the terminal.
#[tokio::test]
async fn a_slack_error_page_quoting_the_webhook_path_is_redacted() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(404).set_body_raw(
            "<html><head><title>No route for POST /services/T0SECRET1/B0SECRET2/zzWebhookSecretPath42</title></head></html>"
                .as_bytes()
                .to_vec(),
            "text/html",
        ))
        .mount(&server)
        .await;
    let hook = format!(
        "{}/services/T0SECRET1/B0SECRET2/zzWebhookSecretPath42",
        server.uri()
    );
    let var = "SHIPCHECK_TEST_ORIGIN_SLACK_PAGE";
    test_env::set(var, &hook);
    let cfg = testing::config(&format!("[slack]\nwebhook_env = \"{var}\"\n"));
    let (mut ctx, _) = testing::ctx(cfg, None, testing::STARTED);
    ctx.secrets = Arc::new(vec![hook.clone()]);
    let e = ctx
        .slack()
        .unwrap()
        .post(json!({"text": "hi"}))
        .await
        .unwrap_err();
    let m = e.to_string();
    assert!(m.contains("No route for POST"), "{m}");
    for part in ["T0SECRET1", "B0SECRET2", "zzWebhookSecretPath42"] {
        assert!(!m.contains(part), "{part} in: {m}");
    }
}

/// What is sent carries no secret either (a message quoting an error that quoted a token).
#[tokio::test]
async fn a_body_sent_is_redacted() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(wiremock::matchers::body_json(
            json!({"text": "failed: [REDACTED]"}),
        ))
        .respond_with(ResponseTemplate::new(200).set_body_string("ok"))
        .expect(1)
        .mount(&server)
        .await;
    api(&server, Service::Slack, &["ghp_SentTokenAAAABBBB"])
        .send(Request::post(
            "",
            json!({"text": "failed: ghp_SentTokenAAAABBBB"}),
            "the message",
            "webhook",
        ))
        .await
        .unwrap();
}
