use serde_json::json;
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

use super::*;
use crate::model::clock::Clock;
use crate::model::config::test_env;
use crate::model::outcome::Status;
use crate::testkit::checks::{self as testing, MERGE};

const TOKEN_VAR: &str = "SHIPCHECK_TEST_GITHUB_TOKEN_B";
pub(crate) const RUN_ID: i64 = 30433642;

pub(crate) fn gh_config(server: &MockServer, extra: &str) -> crate::model::config::Config {
    test_env::set(TOKEN_VAR, "ghp_testtoken");
    testing::config(&format!(
        "[github]\nrepo = \"acme/app\"\napi_url = \"{}\"\ntoken_env = \"{TOKEN_VAR}\"\nrequest_timeout = \"2s\"\n{extra}",
        server.uri()
    ))
}

pub(crate) fn run_json(
    head_sha: &str,
    status: &str,
    conclusion: Option<&str>,
) -> serde_json::Value {
    json!({
        "id": RUN_ID, "name": "deploy", "head_branch": "production", "head_sha": head_sha,
        "event": "push", "status": status, "conclusion": conclusion, "run_number": 562,
        "run_attempt": 1, "workflow_id": 159038,
        "html_url": format!("https://github.com/acme/app/actions/runs/{RUN_ID}"),
        "created_at": "2026-08-21T09:31:00Z", "updated_at": "2026-08-21T09:31:05Z",
        "path": ".github/workflows/deploy.yml",
        "actor": {"login": "ana", "id": 7, "type": "User"}
    })
}

pub(crate) fn pending_json(env: &str, env_id: i64, can: bool) -> serde_json::Value {
    json!([{
        "environment": {"id": env_id, "node_id": "EN_x", "name": env,
            "url": "https://api.github.com/repos/acme/app/environments/production",
            "html_url": "https://github.com/acme/app/deployments/activity_log?environments_filter=production"},
        "wait_timer": 0, "wait_timer_started_at": null, "current_user_can_approve": can,
        "reviewers": [{"type": "User", "reviewer": {"login": "octocat", "id": 1, "type": "User"}}]
    }])
}

/// `created` of the runs listed since the merge: `release.merge` of
/// [`testing::merged_run`] (09:30) less the 5-minute clock skew.
pub(crate) const SINCE: &str = ">=2026-08-21T09:25:00Z";

fn list(runs: &serde_json::Value) -> serde_json::Value {
    json!({
        "total_count": runs.as_array().map(|a| a.len()).unwrap_or(0),
        "workflow_runs": runs
    })
}

/// The runs of the merge commit (`head_sha=MERGE`); the runs since the merge answer `[]`
/// unless [`mount_since`] says otherwise.
pub(crate) async fn mount_runs_list(
    server: &MockServer,
    runs: serde_json::Value,
    times: Option<u64>,
) {
    let m = Mock::given(method("GET"))
        .and(path("/repos/acme/app/actions/runs"))
        .and(query_param("head_sha", MERGE))
        .respond_with(ResponseTemplate::new(200).set_body_json(list(&runs)));
    match times {
        Some(n) => m.up_to_n_times(n).mount(server).await,
        None => m.mount(server).await,
    }
    Mock::given(method("GET"))
        .and(path("/repos/acme/app/actions/runs"))
        .and(query_param("created", SINCE))
        .respond_with(ResponseTemplate::new(200).set_body_json(list(&json!([]))))
        .with_priority(10)
        .mount(server)
        .await;
}

/// The runs created since the merge.
pub(crate) async fn mount_since(server: &MockServer, runs: serde_json::Value) {
    Mock::given(method("GET"))
        .and(path("/repos/acme/app/actions/runs"))
        .and(query_param("created", SINCE))
        .respond_with(ResponseTemplate::new(200).set_body_json(list(&runs)))
        .mount(server)
        .await;
}

/// The pending deployments of run `id`.
pub(crate) async fn mount_pending_of(
    server: &MockServer,
    id: i64,
    body: serde_json::Value,
    times: Option<u64>,
) {
    let m = Mock::given(method("GET"))
        .and(path(format!(
            "/repos/acme/app/actions/runs/{id}/pending_deployments"
        )))
        .respond_with(ResponseTemplate::new(200).set_body_json(body));
    match times {
        Some(n) => m.up_to_n_times(n).mount(server).await,
        None => m.mount(server).await,
    }
}

/// The deployments to `production` (any commit).
pub(crate) async fn mount_deployments(server: &MockServer, body: serde_json::Value) {
    Mock::given(method("GET"))
        .and(path("/repos/acme/app/deployments"))
        .and(query_param("environment", "production"))
        .respond_with(ResponseTemplate::new(200).set_body_json(body))
        .mount(server)
        .await;
}

#[tokio::test]
async fn workflow_run_appears_after_polling() {
    let server = MockServer::start().await;
    mount_runs_list(&server, json!([]), Some(2)).await;
    mount_runs_list(&server, json!([run_json(MERGE, "waiting", None)]), None).await;
    mount_pending_of(
        &server,
        RUN_ID,
        pending_json("production", 161171787, true),
        None,
    )
    .await;
    let (ctx, clock) = testing::ctx(
        gh_config(&server, ""),
        Some(testing::merged_run()),
        "2026-08-21T09:31:00Z",
    );
    let o = workflow(
        &ctx.github().unwrap(),
        &ctx.config.git.production,
        ctx.run(),
        &ctx.clock,
    )
    .await;
    assert_eq!(o.status, Status::Pass, "{}", o.summary);
    assert_eq!(o.evidence["workflow_run_id"], RUN_ID);
    assert_eq!(o.evidence["polls"], 3);
    assert_eq!(o.evidence["link"]["kind"], "head_sha");
    assert_eq!(o.evidence["environment_state"]["state"], "waiting");
    assert!(
        o.evidence["html_url"]
            .as_str()
            .unwrap()
            .ends_with("/30433642")
    );
    assert!(
        o.summary.contains("Chosen: it waits for production"),
        "{}",
        o.summary
    );
    // Two waits of the default 10s poll interval on the manual clock.
    assert_eq!(clock.now().to_string(), "2026-08-21T09:31:20Z");
}

#[tokio::test]
async fn workflow_run_that_never_appears_fails_after_the_timeout() {
    let server = MockServer::start().await;
    mount_runs_list(&server, json!([]), None).await;
    let (ctx, _) = testing::ctx(
        gh_config(&server, "workflow_timeout = \"1m\"\n"),
        Some(testing::merged_run()),
        "2026-08-21T09:31:00Z",
    );
    let o = workflow(
        &ctx.github().unwrap(),
        &ctx.config.git.production,
        ctx.run(),
        &ctx.clock,
    )
    .await;
    assert_eq!(o.status, Status::Fail);
    assert!(o.summary.contains("within 1m"), "{}", o.summary);
    let polls = server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|r| r.url.query().is_some_and(|q| q.contains("head_sha")))
        .count();
    assert!((6..=8).contains(&polls), "{polls} polls");
}

#[tokio::test]
async fn workflow_needs_the_merge_commit() {
    let server = MockServer::start().await;
    let (ctx, _) = testing::ctx(gh_config(&server, ""), None, testing::STARTED);
    let o = workflow(
        &ctx.github().unwrap(),
        &ctx.config.git.production,
        ctx.run(),
        &ctx.clock,
    )
    .await;
    assert_eq!(o.status, Status::Error);
    assert!(o.summary.contains("merge commit"), "{}", o.summary);
}

async fn mount_run(server: &MockServer, run: serde_json::Value) {
    Mock::given(method("GET"))
        .and(path(format!("/repos/acme/app/actions/runs/{RUN_ID}")))
        .respond_with(ResponseTemplate::new(200).set_body_json(run))
        .mount(server)
        .await;
}

#[tokio::test]
async fn pending_deployment_of_the_configured_environment_passes() {
    let server = MockServer::start().await;
    mount_runs_list(&server, json!([run_json(MERGE, "waiting", None)]), None).await;
    mount_pending_of(
        &server,
        RUN_ID,
        pending_json("production", 161171787, true),
        None,
    )
    .await;
    let (ctx, _) = testing::ctx(
        gh_config(&server, ""),
        Some(testing::merged_run()),
        "2026-08-21T09:32:00Z",
    );
    let o = crate::checks::github_pending::pending(
        &ctx.github().unwrap(),
        &ctx.repo(),
        ctx.run(),
        &ctx.clock,
    )
    .await;
    assert_eq!(o.status, Status::Pass, "{}", o.summary);
    assert_eq!(o.evidence["environment_state"]["environment_id"], 161171787);
    assert!(o.summary.contains("can approve"));

    // Another environment configured: nothing waits for it (looked for 1 minute).
    let (ctx, _) = testing::ctx(
        gh_config(
            &server,
            "environment = \"prod-eu\"\nworkflow_timeout = \"1m\"\n",
        ),
        Some(testing::merged_run()),
        "2026-08-21T09:32:00Z",
    );
    let o = crate::checks::github_pending::pending(
        &ctx.github().unwrap(),
        &ctx.repo(),
        ctx.run(),
        &ctx.clock,
    )
    .await;
    assert_eq!(o.status, Status::Fail);
    assert!(
        o.summary.contains("prod-eu") && o.summary.contains("waits for production"),
        "{}",
        o.summary
    );
}

#[tokio::test]
async fn a_run_for_another_commit_fails_verify_commit() {
    let server = MockServer::start().await;
    // The recorded run (from approve.find-run) points at a run whose head is another commit.
    let other = "f".repeat(40);
    mount_run(&server, run_json(&other, "waiting", None)).await;
    let run = testing::run(&[
        (
            "release.merge",
            crate::journal::state::ItemState::Done,
            json!({"merge_commit": MERGE}),
            "2026-08-21T09:30:00Z",
        ),
        (
            "approve.find-run",
            crate::journal::state::ItemState::Pass,
            json!({"workflow_run_id": RUN_ID, "merge_commit": MERGE}),
            "2026-08-21T09:31:00Z",
        ),
    ]);
    let (ctx, _) = testing::ctx(gh_config(&server, ""), Some(run), "2026-08-21T09:32:00Z");
    let o = crate::checks::github_pending::pending(
        &ctx.github().unwrap(),
        &ctx.repo(),
        ctx.run(),
        &ctx.clock,
    )
    .await;
    assert_eq!(o.status, Status::Fail);
    assert!(
        o.summary.contains("is for commit fffffff") && o.summary.contains("do not approve it"),
        "{}",
        o.summary
    );
}

fn jobs_json(list: &[(&str, &str, Option<&str>)]) -> serde_json::Value {
    json!({
        "total_count": list.len(),
        "jobs": list.iter().enumerate().map(|(i, (name, status, conclusion))| json!({
            "id": i as i64 + 1, "run_id": RUN_ID, "name": name, "status": status,
            "conclusion": conclusion, "html_url": format!("https://github.com/acme/app/actions/runs/{RUN_ID}/job/{}", i + 1),
            "steps": []
        })).collect::<Vec<_>>()
    })
}

async fn mount_jobs(server: &MockServer, body: serde_json::Value, times: Option<u64>) {
    let m = Mock::given(method("GET"))
        .and(path(format!("/repos/acme/app/actions/runs/{RUN_ID}/jobs")))
        .respond_with(ResponseTemplate::new(200).set_body_json(body));
    match times {
        Some(n) => m.up_to_n_times(n).mount(server).await,
        None => m.mount(server).await,
    }
}

fn with_run_id() -> crate::journal::state::RunState {
    testing::run(&[
        (
            "release.merge",
            crate::journal::state::ItemState::Done,
            json!({"merge_commit": MERGE}),
            "2026-08-21T09:30:00Z",
        ),
        (
            "release.workflow-triggered",
            crate::journal::state::ItemState::Pass,
            json!({"workflow_run_id": RUN_ID, "merge_commit": MERGE}),
            "2026-08-21T09:31:00Z",
        ),
    ])
}

#[tokio::test]
async fn jobs_are_followed_to_completion_with_transitions() {
    let server = MockServer::start().await;
    // The run record: in progress twice, then completed.
    Mock::given(method("GET"))
        .and(path(format!("/repos/acme/app/actions/runs/{RUN_ID}")))
        .respond_with(ResponseTemplate::new(200).set_body_json(run_json(
            MERGE,
            "in_progress",
            None,
        )))
        .up_to_n_times(3)
        .mount(&server)
        .await;
    mount_run(&server, run_json(MERGE, "completed", Some("success"))).await;
    mount_jobs(
        &server,
        jobs_json(&[("build", "in_progress", None), ("deploy", "queued", None)]),
        Some(1),
    )
    .await;
    mount_jobs(
        &server,
        jobs_json(&[
            ("build", "completed", Some("success")),
            ("deploy", "in_progress", None),
        ]),
        Some(1),
    )
    .await;
    mount_jobs(
        &server,
        jobs_json(&[
            ("build", "completed", Some("success")),
            ("deploy", "completed", Some("success")),
            ("health (internal-api)", "completed", Some("success")),
        ]),
        None,
    )
    .await;
    let (ctx, _) = testing::ctx(
        gh_config(&server, "health_jobs = [\"health\"]\n"),
        Some(with_run_id()),
        "2026-08-21T09:40:00Z",
    );
    let o = jobs(
        &GithubJobsCheck { health: false },
        &ctx.github().unwrap(),
        &ctx.config.git.production,
        ctx.run(),
        &ctx.clock,
    )
    .await;
    assert_eq!(o.status, Status::Pass, "{}", o.summary);
    let t = o.evidence["transitions"].as_array().unwrap();
    assert!(
        t.iter()
            .any(|x| x["job"] == "deploy" && x["to"] == "completed/success")
    );
    assert!(t.len() >= 5, "{t:?}");
    let o = jobs(
        &GithubJobsCheck { health: true },
        &ctx.github().unwrap(),
        &ctx.config.git.production,
        ctx.run(),
        &ctx.clock,
    )
    .await;
    assert_eq!(o.status, Status::Pass, "{}", o.summary);
}

#[tokio::test]
async fn failed_job_and_missing_health_job_fail() {
    let server = MockServer::start().await;
    mount_run(&server, run_json(MERGE, "completed", Some("failure"))).await;
    mount_jobs(
        &server,
        jobs_json(&[
            ("build", "completed", Some("success")),
            ("deploy", "completed", Some("failure")),
        ]),
        None,
    )
    .await;
    let (ctx, _) = testing::ctx(
        gh_config(&server, "health_jobs = [\"smoke\"]\n"),
        Some(with_run_id()),
        "2026-08-21T09:40:00Z",
    );
    let o = jobs(
        &GithubJobsCheck { health: false },
        &ctx.github().unwrap(),
        &ctx.config.git.production,
        ctx.run(),
        &ctx.clock,
    )
    .await;
    assert_eq!(o.status, Status::Fail);
    assert!(
        o.summary.contains("job deploy completed/failure"),
        "{}",
        o.summary
    );
    let o = jobs(
        &GithubJobsCheck { health: true },
        &ctx.github().unwrap(),
        &ctx.config.git.production,
        ctx.run(),
        &ctx.clock,
    )
    .await;
    assert_eq!(o.status, Status::Fail);
    assert!(
        o.summary.contains("health job \"smoke\" is not in the run"),
        "{}",
        o.summary
    );
}

#[tokio::test]
async fn jobs_still_running_at_the_timeout_are_an_error() {
    let server = MockServer::start().await;
    mount_run(&server, run_json(MERGE, "in_progress", None)).await;
    mount_jobs(&server, jobs_json(&[("deploy", "waiting", None)]), None).await;
    let (ctx, _) = testing::ctx(
        gh_config(&server, "jobs_timeout = \"1m\"\n"),
        Some(with_run_id()),
        "2026-08-21T09:40:00Z",
    );
    let o = jobs(
        &GithubJobsCheck { health: false },
        &ctx.github().unwrap(),
        &ctx.config.git.production,
        ctx.run(),
        &ctx.clock,
    )
    .await;
    assert_eq!(o.status, Status::Error);
    assert!(
        o.summary.contains("still running after 1m") && o.summary.contains("deploy waiting"),
        "{}",
        o.summary
    );
}
