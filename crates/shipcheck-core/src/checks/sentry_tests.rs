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

/// Two production apps with their own Sentry projects.
fn cfg_with_apps(server: &MockServer) -> crate::model::config::Config {
    test_env::set(TOKEN_VAR, "sntrys_test");
    testing::config(&format!(
        "[sentry]\nurl = \"{}\"\norg = \"acme\"\nprojects = [\"my-app\"]\ntoken_env = \"{TOKEN_VAR}\"\nenvironment = \"production\"\nrequest_timeout = \"2s\"\n\n[[environments.production.apps]]\nname = \"api\"\nsentry_project = \"api-proj\"\n\n[[environments.production.apps]]\nname = \"web\"\nsentry_project = \"web-proj\"\n",
        server.uri()
    ))
}

/// Each app's deploy marker is written once: after a crash that wrote the release and the
/// first app's deploy, only the second is written; then reconcile finds both.
#[tokio::test]
async fn deploy_markers_are_written_once_per_app_across_a_crash() {
    let server = MockServer::start().await;
    let deploys = format!("/api/0/organizations/acme/releases/{MERGE}/deploys/");
    let api = json!({"id": "7", "environment": "production", "dateStarted": testing::STARTED, "dateFinished": NOW, "name": "api · shipcheck run run-1", "url": null});
    let web = json!({"id": "8", "environment": "production", "dateStarted": testing::STARTED, "dateFinished": NOW, "name": "web · shipcheck run run-1", "url": null});
    // What the crashed attempt left: the release and api's deploy (and another run's).
    let other = json!({"id": "3", "environment": "production", "dateStarted": null, "dateFinished": NOW, "name": "web · shipcheck run run-0", "url": null});
    Mock::given(method("GET"))
        .and(path(deploys.clone()))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([other, api])))
        .up_to_n_times(2)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(deploys.clone()))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([other, api, web])))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/0/organizations/acme/releases/"))
        .and(wiremock::matchers::body_json(
            json!({"version": MERGE, "projects": ["api-proj", "web-proj"]}),
        ))
        .respond_with(ResponseTemplate::new(208).set_body_json(json!({"version": MERGE})))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(deploys.clone()))
        .and(wiremock::matchers::body_json(json!({
            "environment": "production",
            "name": "web · shipcheck run run-1",
            "dateStarted": testing::STARTED,
            "dateFinished": NOW,
            "projects": ["web-proj"],
        })))
        .respond_with(ResponseTemplate::new(201).set_body_json(web.clone()))
        .expect(1)
        .mount(&server)
        .await;
    let (ctx, _) = testing::ctx(cfg_with_apps(&server), Some(approved_run()), NOW);
    let sentry = ctx.sentry().unwrap();
    let config = ctx.clients.config.clone();
    // After the crash: one marker missing, so not done.
    let found = crate::actions::sentry::reconcile(&sentry, &config, ctx.run())
        .await
        .unwrap();
    assert!(found.is_none());
    let done = crate::actions::sentry::perform(&sentry, &config, ctx.run(), &ctx.clock)
        .await
        .unwrap();
    assert!(done.summary.contains("api, web"), "{}", done.summary);
    let markers = done.evidence["markers"].as_array().unwrap();
    assert_eq!(markers.len(), 2);
    assert_eq!(markers[0]["app"], "api");
    assert_eq!(
        markers[0]["written"],
        "before (found after an interruption)"
    );
    assert_eq!(markers[1]["app"], "web");
    assert_eq!(markers[1]["written"], "now");
    assert_eq!(markers[1]["dateStarted"], testing::STARTED);
    assert_eq!(markers[1]["dateFinished"], NOW);
    // Both there now: reconcile says done, nothing is sent again (the POSTs expect 1).
    let found = crate::actions::sentry::reconcile(&sentry, &config, ctx.run())
        .await
        .unwrap()
        .expect("both markers found");
    assert_eq!(found.evidence["markers"].as_array().unwrap().len(), 2);
}

/// Without any app's `sentry_project`, one deploy for `[sentry] projects`; the plan shows the
/// exact requests.
#[tokio::test]
async fn without_app_projects_one_marker_for_the_sentry_projects() {
    let server = MockServer::start().await;
    let (ctx, _) = testing::ctx(cfg(&server), Some(approved_run()), NOW);
    let sentry = ctx.sentry().unwrap();
    let plan = crate::actions::sentry::plan(&sentry, &ctx.clients.config, ctx.run(), &ctx.clock)
        .await
        .unwrap();
    assert_eq!(plan.len(), 2, "{plan:?}");
    assert!(plan[0].contains(r#""projects":["my-app"]"#), "{}", plan[0]);
    assert!(
        plan[1].contains(r#""name":"shipcheck run run-1""#)
            && plan[1].contains(&format!(r#""dateFinished":"{NOW}""#)),
        "{}",
        plan[1]
    );
}
