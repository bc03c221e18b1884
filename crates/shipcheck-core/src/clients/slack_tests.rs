//! The webhook client against Slack's documented and recorded answers (`fixtures/api/slack`).

use serde_json::json;
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

use super::*;
use crate::model::config::test_env;
use crate::testkit::checks as testing;
use crate::testkit::fixture;

async fn answering(status: u16, body: &str, content_type: &str) -> (Slack, MockServer) {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(status).set_body_raw(body.as_bytes().to_vec(), content_type),
        )
        .mount(&server)
        .await;
    let var = format!("SHIPCHECK_TEST_SLACK_CLIENT_{}", server.address().port());
    test_env::set(&var, &format!("{}/services/T0/B0/secret", server.uri()));
    let cfg = testing::config(&format!(
        "[slack]\nwebhook_env = \"{var}\"\nchannel_name = \"#deploys\"\n"
    ));
    let (ctx, _) = testing::ctx(cfg, None, testing::STARTED);
    (ctx.slack().unwrap(), server)
}

#[tokio::test]
async fn ok_is_success() {
    let (s, _server) = answering(200, fixture!("slack/webhook-200-ok.txt"), "text/plain").await;
    assert_eq!(s.post(json!({"text": "hi"})).await.unwrap(), "ok");
}

#[tokio::test]
async fn a_200_that_is_not_ok_is_an_error() {
    let (s, _server) = answering(
        200,
        fixture!("slack/webhook-500-server-error-page.html"),
        "text/html",
    )
    .await;
    let e = s.post(json!({"text": "hi"})).await.unwrap_err();
    assert!(
        e.to_string().contains("Server Error | Slack")
            && e.to_string().contains("where Slack answers `ok`"),
        "{e}"
    );
}

#[tokio::test]
async fn every_error_code_reads_as_one_sentence_and_the_url_stays_secret() {
    for (status, body, kind) in [
        (
            400,
            fixture!("slack/webhook-400-invalid_payload.txt"),
            "answered 400",
        ),
        (
            400,
            fixture!("slack/webhook-400-user_not_found.txt"),
            "answered 400",
        ),
        (
            403,
            fixture!("slack/webhook-403-action_prohibited.txt"),
            "refused the message to #deploys (403)",
        ),
        (
            403,
            fixture!("slack/webhook-403-invalid_token.txt"),
            "refused the message to #deploys (403)",
        ),
        (
            404,
            fixture!("slack/webhook-404-channel_not_found.txt"),
            "not found (404)",
        ),
        (
            404,
            fixture!("slack/webhook-404-no_service.txt"),
            "not found (404)",
        ),
        (
            410,
            fixture!("slack/webhook-410-channel_is_archived.txt"),
            "answered 410",
        ),
        (
            500,
            fixture!("slack/webhook-500-rollup_error.txt"),
            "answered 500",
        ),
    ] {
        let (s, _server) = answering(status, body, "text/plain").await;
        let e = s.post(json!({"text": "hi"})).await.unwrap_err();
        let m = e.to_string();
        assert!(
            m.contains(kind) && m.contains(body.trim()) && m.contains(" ("),
            "{status} {body}: {m}"
        );
        assert!(!m.contains("secret"), "{m}");
    }
    // Slack's HTML 500: the page's title, not the page; a POST is not repeated.
    let (s, server) = answering(
        500,
        fixture!("slack/webhook-500-server-error-page.html"),
        "text/html",
    )
    .await;
    let m = s.post(json!({"text": "hi"})).await.unwrap_err().to_string();
    assert!(
        m.contains("answered 500") && m.contains("\u{201c}Server Error | Slack\u{201d}"),
        "{m}"
    );
    assert!(!m.contains("<script"), "{m}");
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
}
