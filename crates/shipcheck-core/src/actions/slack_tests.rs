use serde_json::json;
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use super::*;
use crate::actions::messages::MessageFacts;
use crate::model::checklist::{Checklist, SlackMessage};
use crate::model::config::test_env;
use crate::testkit::checks as testing;

/// Each test has its own server, so its own variable (tests run in parallel).
fn hook_var(server: &MockServer) -> String {
    format!("SHIPCHECK_TEST_SLACK_WEBHOOK_{}", server.address().port())
}
const HOOK_PATH: &str = "/services/T000/B000/XXXX";

fn actx(server: &MockServer) -> ActionContext {
    let hook_var = hook_var(server);
    test_env::set(&hook_var, &format!("{}{HOOK_PATH}", server.uri()));
    let cfg = testing::config(&format!(
        "[project]\nname = \"maishapoa\"\n[slack]\nwebhook_env = \"{hook_var}\"\nchannel_name = \"#deploys\"\n"
    ));
    let (parts, _) = testing::ctx(cfg, Some(testing::merged_run()), "2026-08-21T09:33:00Z");
    ActionContext {
        message: Some("Release 42: faster checkout".into()),
        ..parts.action()
    }
}

fn spec(m: SlackMessage) -> SlackNotifyAction {
    SlackNotifyAction { message: m }
}

#[test]
fn seed_texts_are_exact_and_the_body_is_block_kit_with_a_fallback() {
    assert_eq!(
        seed_text(SlackMessage::Starting),
        "Starting production deployment"
    );
    assert_eq!(
        seed_text(SlackMessage::Incident),
        "⚠️ Issue detected in production. Investigating..."
    );
    assert_eq!(seed_text(SlackMessage::Stable), "Deployment stable");
    let facts = MessageFacts {
        project: "maishapoa".into(),
        env: "production".into(),
        run_id: Some("run-1".into()),
        by: "ana".into(),
        scheduled: None,
        description: None,
        changes: vec!["abc1234 Fix <login> & logout".into()],
        more_changes: false,
        rolled_back: false,
        journal_head: None,
    };
    let body = message(SlackMessage::Starting, &facts);
    let text = body["text"].as_str().unwrap();
    assert!(
        text.starts_with(
            "Starting production deployment — maishapoa to production, run run-1, by ana"
        ),
        "{text}"
    );
    assert!(text.ends_with(": 1 change(s)"), "{text}");
    let blocks = body["blocks"].as_array().unwrap();
    assert_eq!(blocks[0]["type"], "section");
    assert_eq!(blocks[0]["text"]["type"], "mrkdwn");
    assert_eq!(
        blocks[0]["text"]["text"],
        "*Starting production deployment*"
    );
    assert!(
        blocks[1]["fields"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["text"] == "*By*\nana")
    );
    assert!(
        blocks[1]["fields"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["text"] == "*Run*\nrun-1")
    );
    assert_eq!(
        blocks[2]["text"]["text"],
        "*Changes*\n• abc1234 Fix &lt;login&gt; &amp; logout"
    );
    assert_eq!(blocks.last().unwrap()["type"], "context");
    let after_rollback = message(
        SlackMessage::Stable,
        &MessageFacts {
            rolled_back: true,
            journal_head: None,
            ..facts.clone()
        },
    );
    assert!(
        after_rollback["text"]
            .as_str()
            .unwrap()
            .starts_with("Deployment rolled back: production is stable on the previous release — "),
        "{after_rollback}"
    );
    let scheduled = message(
        SlackMessage::TeamNotified,
        &MessageFacts {
            scheduled: Some("Wed 2026-08-26 10:00 CEST".into()),
            ..facts
        },
    );
    assert!(
        scheduled["text"]
            .as_str()
            .unwrap()
            .starts_with("Production deployment scheduled for Wed 2026-08-26 10:00 CEST")
    );
}

#[tokio::test]
async fn posts_once_after_a_429_with_retry_after() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(HOOK_PATH))
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("Retry-After", "3")
                .set_body_string("rate_limited"),
        )
        .up_to_n_times(1)
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(HOOK_PATH))
        .and(header("content-type", "application/json"))
        .respond_with(ResponseTemplate::new(200).set_body_string("ok"))
        .expect(1)
        .mount(&server)
        .await;
    let ctx = actx(&server);
    let before = ctx.clients.clock.now();
    let done = perform(&spec(SlackMessage::Stable), &ctx).await.unwrap();
    assert_eq!(done.summary, "posted \"Deployment stable\" to #deploys");
    assert_eq!(ctx.clients.clock.now().duration_since(before).as_secs(), 3);
    let reqs = server.received_requests().await.unwrap();
    let body: serde_json::Value = serde_json::from_slice(&reqs[1].body).unwrap();
    let text = body["text"].as_str().unwrap();
    assert!(text.starts_with("Deployment stable — maishapoa to production, run run-1, by ana: Release 42: faster checkout"), "{text}");
    assert!(body["blocks"].as_array().unwrap().len() >= 3);
}

#[tokio::test]
async fn a_rejected_webhook_is_an_error_and_not_repeated() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(404).set_body_string("channel_not_found"))
        .expect(1)
        .mount(&server)
        .await;
    let e = perform(&spec(SlackMessage::Starting), &actx(&server))
        .await
        .unwrap_err();
    assert!(e.integration);
    assert!(
        e.message.contains("channel_not_found") && e.message.contains("retry"),
        "{}",
        e.message
    );
    assert!(
        !e.message.contains(HOOK_PATH),
        "the webhook URL is secret: {}",
        e.message
    );
}

#[tokio::test]
async fn reconcile_never_resends() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_string("ok"))
        .expect(0)
        .mount(&server)
        .await;
    let e = reconcile(&spec(SlackMessage::Starting), &actx(&server))
        .await
        .unwrap_err();
    assert!(
        e.message.contains("#deploys") && e.message.contains("shipcheck tick"),
        "{}",
        e.message
    );
    assert!(e.message.contains("\"Starting production deployment\""));
}

#[tokio::test]
async fn plan_never_shows_the_url_and_a_missing_variable_is_named() {
    let server = MockServer::start().await;
    let ctx = actx(&server);
    let planned = plan(&spec(SlackMessage::Starting), &ctx).await.unwrap();
    assert!(
        planned[0].contains(&format!("${}", hook_var(&server))) && !planned[0].contains(HOOK_PATH),
        "{planned:?}"
    );
    let mut ctx = ctx;
    let mut cfg = (*ctx.clients.config).clone();
    cfg.slack.as_mut().unwrap().webhook_env = "SHIPCHECK_TEST_UNSET_HOOK".into();
    ctx.clients.config = std::sync::Arc::new(cfg);
    let e = plan(&spec(SlackMessage::Starting), &ctx).await.unwrap_err();
    assert!(
        e.message.contains("SHIPCHECK_TEST_UNSET_HOOK"),
        "{}",
        e.message
    );
}

#[test]
fn without_the_tables_the_items_stay_manual_with_a_reason() {
    let bare = Checklist::from_config(&testing::config("")).unwrap();
    for id in [
        "prepare.team-notified",
        "preflight.announce",
        "close.announce-stable",
    ] {
        let item = bare.get(id).unwrap();
        assert_eq!(
            item.manual_because.as_deref(),
            Some("no [slack] webhook configured; post the message yourself and tick")
        );
        assert!(item.is_ticked_by_person());
        assert!(matches!(
            item.action,
            Some(crate::model::checklist::ActionSpec::SlackNotify(_))
        ));
    }
    for id in [
        "prepare.prs-approved",
        "release.workflow-triggered",
        "approve.approve",
        "rollout.actions-logs",
        "verify.actions-health",
        "rollout.sentry-new-errors",
        "verify.sentry-rate",
        "verify.cpu-memory",
        "verify.db-connections",
        "prepare.migrations-tested",
    ] {
        let item = bare.get(id).unwrap();
        assert!(item.is_ticked_by_person(), "{id}");
        assert!(
            item.manual_because.as_deref().unwrap().starts_with("no ["),
            "{id}"
        );
    }
    let full = Checklist::from_config(&testing::config(
        "[github]\nrepo = \"a/b\"\n[slack]\n[sentry]\norg = \"o\"\nprojects = [\"p\"]\n[prometheus]\nurl = \"http://p\"\n[database]\n",
    ))
    .unwrap();
    assert!(full.get("approve.approve").unwrap().is_performed());
    assert!(full.get("preflight.announce").unwrap().is_performed());
    assert!(full.get("verify.db-connections").unwrap().is_automatic());
    assert!(
        full.get("release.workflow-triggered")
            .unwrap()
            .is_automatic()
    );
    // No health_jobs: verify.actions-health stays manual with its own reason.
    assert!(
        full.get("verify.actions-health")
            .unwrap()
            .manual_because
            .as_deref()
            .unwrap()
            .contains("health_jobs")
    );
    assert_eq!(full.items.len(), 62);
}

#[test]
fn item_json_round_trip() {
    let v = json!({"type": "slack.notify", "message": "team_notified"});
    let a: crate::model::checklist::ActionSpec = serde_json::from_value(v.clone()).unwrap();
    assert_eq!(serde_json::to_value(&a).unwrap(), v);
    assert!(!a.is_destructive());
}
