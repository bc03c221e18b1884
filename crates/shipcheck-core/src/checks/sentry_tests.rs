use serde_json::json;
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

use super::*;
use crate::journal::state::ItemState;
use crate::model::config::test_env;
use crate::model::outcome::Status;
use crate::testkit::checks::{self as testing, MERGE};

const TOKEN_VAR: &str = "SHIPCHECK_TEST_SENTRY_TOKEN";
const NOW: &str = "2026-08-21T09:52:00Z";

fn cfg(server: &MockServer) -> crate::model::config::Config {
    test_env::set(TOKEN_VAR, "sntrys_test");
    testing::config(&format!(
        "[sentry]\nurl = \"{}\"\norg = \"acme\"\nprojects = [\"my-app\"]\ntoken_env = \"{TOKEN_VAR}\"\nenvironment = \"production\"\nrequest_timeout = \"2s\"\n",
        server.uri()
    ))
}

fn approved_run() -> crate::journal::state::RunState {
    testing::run(&[
        (
            "release.merge",
            ItemState::Done,
            json!({"merge_commit": MERGE}),
            "2026-08-21T09:30:00Z",
        ),
        (
            "approve.approve",
            ItemState::Done,
            json!({}),
            "2026-08-21T09:40:00Z",
        ),
    ])
}

async fn mount_project(server: &MockServer) {
    Mock::given(method("GET"))
        .and(path("/api/0/projects/acme/my-app/"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"id": "2", "slug": "my-app"})),
        )
        .mount(server)
        .await;
}

fn series(values: &[(f64, bool)]) -> serde_json::Value {
    json!({
        "timeSeries": [{
            "yAxis": "count()",
            "values": values.iter().enumerate().map(|(i, (v, incomplete))| json!({
                "timestamp": 1_787_300_000_000i64 + i as i64 * 60_000, "value": v, "incomplete": incomplete
            })).collect::<Vec<_>>(),
            "meta": {"valueType": "integer", "interval": 60000}
        }],
        "meta": {"dataset": "errors"}
    })
}

async fn mount_series(server: &MockServer, interval: &str, body: serde_json::Value) {
    Mock::given(method("GET"))
        .and(path("/api/0/organizations/acme/events-timeseries/"))
        .and(query_param("interval", interval))
        .and(query_param("dataset", "errors"))
        .and(query_param("project", "2"))
        .and(query_param("environment", "production"))
        .respond_with(ResponseTemplate::new(200).set_body_json(body))
        .mount(server)
        .await;
}

#[tokio::test]
async fn rate_within_tolerance_passes_and_above_fails() {
    let server = MockServer::start().await;
    mount_project(&server).await;
    // Baseline: 24 hourly buckets of 60 errors = 1 error/min.
    mount_series(&server, "1h", series(&[(60.0, false); 24])).await;
    let (ctx, _) = testing::ctx(cfg(&server), Some(approved_run()), NOW);
    // 12 minutes since the approval: 11 complete buckets of 1 and an incomplete one.
    let mut now = vec![(1.0, false); 11];
    now.push((50.0, true));
    mount_series(&server, "1m", series(&now)).await;
    let o = rate(&ctx.sentry().unwrap(), ctx.run(), &ctx.clock).await;
    assert_eq!(o.status, Status::Pass, "{}", o.summary);
    assert_eq!(o.evidence["current"]["incomplete"], 1);
    assert_eq!(o.evidence["window"]["from"], "approve.approve");
    assert_eq!(o.evidence["baseline_window"]["end"], testing::STARTED);

    let server = MockServer::start().await;
    mount_project(&server).await;
    mount_series(&server, "1h", series(&[(60.0, false); 24])).await;
    mount_series(&server, "1m", series(&[(2.0, false); 11])).await;
    let (ctx, _) = testing::ctx(cfg(&server), Some(approved_run()), NOW);
    let o = rate(&ctx.sentry().unwrap(), ctx.run(), &ctx.clock).await;
    assert_eq!(o.status, Status::Fail, "{}", o.summary);
    assert!(o.summary.contains("2.00 errors/min"), "{}", o.summary);
}

#[tokio::test]
async fn too_little_data_is_an_error_never_a_pass() {
    let server = MockServer::start().await;
    mount_project(&server).await;
    mount_series(&server, "1h", series(&[(0.0, false); 24])).await;
    mount_series(&server, "1m", series(&[(0.0, false); 11])).await;
    let (ctx, _) = testing::ctx(cfg(&server), Some(approved_run()), NOW);
    let o = rate(&ctx.sentry().unwrap(), ctx.run(), &ctx.clock).await;
    assert_eq!(o.status, Status::Error);
    assert!(o.summary.contains("not enough data"), "{}", o.summary);

    // Seconds after the approval.
    let (ctx, _) = testing::ctx(cfg(&server), Some(approved_run()), "2026-08-21T09:40:30Z");
    let o = rate(&ctx.sentry().unwrap(), ctx.run(), &ctx.clock).await;
    assert_eq!(o.status, Status::Error);
    assert!(
        o.summary.contains("not enough data: only 30s"),
        "{}",
        o.summary
    );

    // An empty answer.
    let server = MockServer::start().await;
    mount_project(&server).await;
    mount_series(&server, "1h", json!({"timeSeries": [], "meta": {}})).await;
    mount_series(&server, "1m", json!({"timeSeries": [], "meta": {}})).await;
    let (ctx, _) = testing::ctx(cfg(&server), Some(approved_run()), NOW);
    let o = rate(&ctx.sentry().unwrap(), ctx.run(), &ctx.clock).await;
    assert_eq!(o.status, Status::Error);
    assert!(o.summary.starts_with("no data"), "{}", o.summary);
}

#[tokio::test]
async fn a_token_without_the_scope_names_it() {
    let server = MockServer::start().await;
    Mock::given(path("/api/0/projects/acme/my-app/"))
        .respond_with(
            ResponseTemplate::new(403).set_body_json(
                json!({"detail": "You do not have permission to perform this action."}),
            ),
        )
        .mount(&server)
        .await;
    let (ctx, _) = testing::ctx(cfg(&server), Some(approved_run()), NOW);
    let o = new_issues(&ctx.sentry().unwrap(), ctx.run(), &ctx.clock).await;
    assert_eq!(o.status, Status::Error);
    assert!(
        o.summary.contains("project:read") && o.summary.contains("You do not have permission"),
        "{}",
        o.summary
    );
}

#[tokio::test]
async fn new_issues_since_the_deploy_are_listed() {
    let server = MockServer::start().await;
    mount_project(&server).await;
    Mock::given(method("GET"))
        .and(path("/api/0/organizations/acme/issues/"))
        .and(query_param("query", "is:unresolved firstSeen:-13m"))
        .and(query_param("sort", "new"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([
            { "id": "4509912345", "shortId": "MY-APP-1A2", "title": "TypeError: x is undefined",
              "culprit": "handlers/checkout", "level": "error", "status": "unresolved",
              "firstSeen": "2026-08-21T09:44:12Z", "lastSeen": "2026-08-21T09:49:40Z",
              "count": "37", "userCount": 12, "permalink": "https://acme.sentry.io/issues/4509912345/",
              "project": { "id": "2", "name": "my-app", "slug": "my-app", "platform": "rust" } },
            { "id": "1", "shortId": "MY-APP-1", "title": "old", "level": "error",
              "firstSeen": "2026-08-21T09:10:00Z", "count": "3", "permalink": "https://acme.sentry.io/issues/1/" }
        ])))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/0/organizations/acme/issues/"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([])))
        .mount(&server)
        .await;
    let (ctx, _) = testing::ctx(cfg(&server), Some(approved_run()), NOW);
    let o = new_issues(&ctx.sentry().unwrap(), ctx.run(), &ctx.clock).await;
    assert_eq!(o.status, Status::Fail, "{}", o.summary);
    assert!(
        o.summary.contains("1 new Sentry issue") && o.summary.contains("TypeError: x is undefined")
    );
    assert!(
        o.summary
            .contains("https://acme.sentry.io/issues/4509912345/")
    );
    let o = new_issues(&ctx.sentry().unwrap(), ctx.run(), &ctx.clock).await;
    assert_eq!(o.status, Status::Pass, "{}", o.summary);
}

#[tokio::test]
async fn malformed_issues_answer_is_an_error() {
    let server = MockServer::start().await;
    mount_project(&server).await;
    Mock::given(path("/api/0/organizations/acme/issues/"))
        .respond_with(ResponseTemplate::new(200).set_body_string("<html>oops</html>"))
        .mount(&server)
        .await;
    let (ctx, _) = testing::ctx(cfg(&server), Some(approved_run()), NOW);
    let o = new_issues(&ctx.sentry().unwrap(), ctx.run(), &ctx.clock).await;
    assert_eq!(o.status, Status::Error);
    assert!(
        o.summary
            .contains("an HTML page without a title instead of an API answer"),
        "{}",
        o.summary
    );
}

#[tokio::test]
async fn release_and_deploy_are_registered_once() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(format!(
            "/api/0/organizations/acme/releases/{MERGE}/deploys/"
        )))
        .respond_with(ResponseTemplate::new(404).set_body_json(json!({"detail": "Not found"})))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("/api/0/organizations/acme/releases/{MERGE}/deploys/")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([
            {"id": "7", "environment": "production", "dateStarted": null, "dateFinished": "2026-08-21T09:52:00Z", "name": "shipcheck run run-1", "url": null}
        ])))
        .mount(&server)
        .await;
    // The release already exists (208): fine.
    Mock::given(method("POST"))
        .and(path("/api/0/organizations/acme/releases/"))
        .respond_with(ResponseTemplate::new(208).set_body_json(json!({"version": MERGE})))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(format!(
            "/api/0/organizations/acme/releases/{MERGE}/deploys/"
        )))
        .respond_with(
            ResponseTemplate::new(201)
                .set_body_json(json!({"id": "7", "environment": "production"})),
        )
        .expect(1)
        .mount(&server)
        .await;
    let (ctx, _) = testing::ctx(cfg(&server), Some(approved_run()), NOW);
    let sentry = ctx.sentry().unwrap();
    let done = crate::actions::sentry::perform(&sentry, ctx.run(), &ctx.clock)
        .await
        .unwrap();
    assert!(done.summary.contains("already existed"), "{}", done.summary);
    // After a crash: the deploy is there, nothing is sent again.
    let found = crate::actions::sentry::reconcile(&sentry, ctx.run())
        .await
        .unwrap();
    assert!(found.is_some());
    let again = crate::actions::sentry::perform(&sentry, ctx.run(), &ctx.clock)
        .await
        .unwrap();
    assert!(again.summary.contains("already has a deploy"));
}
