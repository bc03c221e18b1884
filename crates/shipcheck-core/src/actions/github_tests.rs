use serde_json::json;
use wiremock::matchers::{body_partial_json, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use super::*;
use crate::actions::ActionContext;
use crate::checks::github_run::tests::{
    RUN_ID, gh_config, mount_deployments, mount_runs_list, mount_since, pending_json, run_json,
};
use crate::testkit::checks::{self as testing, MERGE};
use crate::testkit::fixture;

const ENV_ID: i64 = 161171787;

fn actx(server: &MockServer) -> ActionContext {
    let (parts, _) = testing::ctx(
        gh_config(server, ""),
        Some(testing::merged_run()),
        "2026-08-21T09:33:00Z",
    );
    parts.action()
}

// The approval with the parts the actions' dispatcher gives it.

async fn plan(ctx: &ActionContext) -> Result<Vec<String>, ActionError> {
    let c = &ctx.clients;
    let gh = c.github().unwrap();
    super::plan(&gh, &c.config.git.production, ctx.run(), &c.clock, &ctx.by).await
}

async fn perform(ctx: &ActionContext) -> Result<ActionResult, ActionError> {
    let c = &ctx.clients;
    let gh = c.github().unwrap();
    super::perform(&gh, &c.config.git.production, ctx.run(), &c.clock, &ctx.by).await
}

async fn reconcile(ctx: &ActionContext) -> Result<Option<ActionResult>, ActionError> {
    let c = &ctx.clients;
    let gh = c.github().unwrap();
    super::reconcile(&gh, &c.config.git.production, ctx.run(), &c.clock).await
}

async fn mount_pending(server: &MockServer, body: serde_json::Value, times: Option<u64>) {
    let m = Mock::given(method("GET"))
        .and(path(format!(
            "/repos/acme/app/actions/runs/{RUN_ID}/pending_deployments"
        )))
        .respond_with(ResponseTemplate::new(200).set_body_json(body));
    match times {
        Some(n) => m.up_to_n_times(n).mount(server).await,
        None => m.mount(server).await,
    }
}

async fn mount_approve(server: &MockServer, expect: u64) {
    Mock::given(method("POST"))
        .and(path(format!(
            "/repos/acme/app/actions/runs/{RUN_ID}/pending_deployments"
        )))
        .and(body_partial_json(
            json!({ "environment_ids": [ENV_ID], "state": "approved" }),
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([
            { "id": 42, "sha": MERGE, "environment": "production" }
        ])))
        .expect(expect)
        .mount(server)
        .await;
}

fn posts(reqs: &[wiremock::Request]) -> Vec<serde_json::Value> {
    reqs.iter()
        .filter(|r| r.method == wiremock::http::Method::POST)
        .map(|r| serde_json::from_slice(&r.body).unwrap())
        .collect()
}

#[tokio::test]
async fn approves_once_with_the_environment_id_and_reconciles_as_done() {
    let server = MockServer::start().await;
    // Before the approval the run waits; afterwards it is in progress.
    mount_runs_list(&server, json!([run_json(MERGE, "waiting", None)]), Some(2)).await;
    mount_runs_list(&server, json!([run_json(MERGE, "in_progress", None)]), None).await;
    mount_pending(&server, pending_json("production", ENV_ID, true), Some(2)).await;
    mount_pending(&server, json!([]), None).await;
    mount_approve(&server, 1).await;
    // The deployment Actions created when the job reached the environment.
    mount_deployments(
        &server,
        json!([{ "id": 42, "sha": MERGE, "ref": "production", "environment": "production",
                 "task": "deploy", "created_at": "2026-08-21T09:31:30Z" }]),
    )
    .await;
    let ctx = actx(&server);

    let plan = plan(&ctx).await.unwrap();
    assert!(
        plan[0].contains(&format!("\"environment_ids\":[{ENV_ID}]")),
        "{plan:?}"
    );
    let done = perform(&ctx).await.unwrap();
    assert_eq!(done.evidence["environment_id"], ENV_ID);
    assert_eq!(done.evidence["deployments"], json!([42]));

    // A crash after the POST: reconcile finds the run no longer waiting.
    let found = reconcile(&ctx).await.unwrap().expect("already approved");
    assert_eq!(found.evidence["already_approved"], true);
    // And performing again sends nothing.
    let again = perform(&ctx).await.unwrap();
    assert!(again.summary.contains("nothing sent"), "{}", again.summary);

    let bodies = posts(&server.received_requests().await.unwrap());
    assert_eq!(bodies.len(), 1, "approved exactly once");
    let comment = bodies[0]["comment"].as_str().unwrap();
    assert!(
        comment.contains("ana") && comment.contains(&RUN_ID.to_string()),
        "{comment}"
    );
    assert!(comment.contains("run-1"), "{comment}");
}

#[tokio::test]
async fn a_crash_before_the_post_reconciles_as_not_done() {
    let server = MockServer::start().await;
    mount_runs_list(&server, json!([run_json(MERGE, "waiting", None)]), None).await;
    mount_pending(&server, pending_json("production", ENV_ID, true), None).await;
    mount_approve(&server, 0).await;
    let ctx = actx(&server);
    assert!(reconcile(&ctx).await.unwrap().is_none());
}

#[tokio::test]
async fn a_head_sha_mismatch_refuses_to_approve() {
    let server = MockServer::start().await;
    // A recorded run id whose head is not the merge commit.
    Mock::given(method("GET"))
        .and(path(format!("/repos/acme/app/actions/runs/{RUN_ID}")))
        .respond_with(ResponseTemplate::new(200).set_body_json(run_json(
            &"f".repeat(40),
            "waiting",
            None,
        )))
        .mount(&server)
        .await;
    mount_pending(&server, pending_json("production", ENV_ID, true), None).await;
    mount_approve(&server, 0).await;
    let mut ctx = actx(&server);
    ctx.run = Some(std::sync::Arc::new(testing::run(&[
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
    ])));
    let e = perform(&ctx).await.unwrap_err();
    assert!(e.message.contains("refusing to approve"), "{}", e.message);
    assert!(plan(&ctx).await.is_err());
}

#[tokio::test]
async fn refuses_when_the_user_cannot_approve() {
    let server = MockServer::start().await;
    mount_runs_list(&server, json!([run_json(MERGE, "waiting", None)]), None).await;
    mount_pending(&server, pending_json("production", ENV_ID, false), None).await;
    mount_approve(&server, 0).await;
    let e = perform(&actx(&server)).await.unwrap_err();
    assert!(
        e.message.contains("cannot approve") && e.message.contains("octocat"),
        "{}",
        e.message
    );
    assert!(!e.integration);
}

#[tokio::test]
async fn a_rejected_approval_quotes_github() {
    let server = MockServer::start().await;
    mount_runs_list(&server, json!([run_json(MERGE, "waiting", None)]), None).await;
    mount_pending(&server, pending_json("production", ENV_ID, true), None).await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(422).set_body_json(json!({
            "message": "Validation Failed",
            "errors": ["Reviewer cannot approve their own deployment"]
        })))
        .expect(1)
        .mount(&server)
        .await;
    let e = perform(&actx(&server)).await.unwrap_err();
    assert!(e.integration);
    assert!(
        e.message
            .contains("Reviewer cannot approve their own deployment"),
        "{}",
        e.message
    );
}

#[tokio::test]
async fn through_the_dispatch_it_is_destructive_and_wired() {
    let spec = crate::model::checklist::ActionSpec::GithubApprove(Default::default());
    assert!(spec.is_destructive());
    assert_eq!(spec.type_name(), "github.approve");
}

#[tokio::test]
async fn when_the_token_cannot_approve_it_names_who_can_and_posts_nothing() {
    let server = MockServer::start().await;
    mount_runs_list(&server, json!([run_json(MERGE, "waiting", None)]), None).await;
    // Recorded shape: production waits for team admins; the token's user may not approve.
    let derived: serde_json::Value =
        serde_json::from_str(fixture!("github/pending-deployments-derived.json")).unwrap();
    mount_pending(&server, derived, None).await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([])))
        .expect(0)
        .mount(&server)
        .await;
    let ctx = actx(&server);
    let e = perform(&ctx).await.unwrap_err();
    assert!(!e.integration);
    assert!(
        e.message.contains("cannot approve")
            && e.message.contains("team admins can")
            && e.message.contains("shipcheck retry approve.approve"),
        "{}",
        e.message
    );
    assert!(plan(&ctx).await.is_err());
    // After a crash nothing was approved, and nothing will be.
    assert!(reconcile(&ctx).await.unwrap().is_none());
}

#[tokio::test]
async fn self_review_is_named_when_the_run_s_starter_is_the_only_reviewer() {
    let server = MockServer::start().await;
    let mut run = run_json(MERGE, "waiting", None);
    run["triggering_actor"] = json!({"login": "octocat", "id": 1, "type": "User"});
    mount_runs_list(&server, json!([run]), None).await;
    mount_pending(&server, pending_json("production", ENV_ID, false), None).await;
    mount_approve(&server, 0).await;
    let e = perform(&actx(&server)).await.unwrap_err();
    assert!(
        e.message.contains("octocat started this run") && e.message.contains("prevent self-review"),
        "{}",
        e.message
    );
}

#[tokio::test]
async fn a_running_wait_timer_holds_the_approval_back() {
    let server = MockServer::start().await;
    mount_runs_list(&server, json!([run_json(MERGE, "waiting", None)]), None).await;
    let mut p = pending_json("production", ENV_ID, true);
    p[0]["wait_timer"] = json!(10);
    p[0]["wait_timer_started_at"] = json!("2026-08-21T09:30:00Z");
    mount_pending(&server, p, None).await;
    mount_approve(&server, 0).await;
    let ctx = actx(&server);
    let e = perform(&ctx).await.unwrap_err();
    assert!(
        e.message
            .contains("wait timer runs until 2026-08-21T09:40:00Z"),
        "{}",
        e.message
    );
    assert!(reconcile(&ctx).await.unwrap().is_none());
}

#[tokio::test]
async fn the_workflow_run_triggered_deploy_run_is_approved_once() {
    let server = MockServer::start().await;
    // The test workflow ran for the merge commit (push) and completed at 09:32:00; the deploy
    // workflow (workflow_run) was created 3 s later on the default branch's tip.
    let mut test = run_json(MERGE, "completed", Some("success"));
    test["id"] = json!(RUN_ID - 1);
    test["name"] = json!("test");
    test["path"] = json!(".github/workflows/test.yml");
    test["workflow_id"] = json!(11);
    test["updated_at"] = json!("2026-08-21T09:32:00Z");
    let mut deploy = run_json(&"0".repeat(40), "waiting", None);
    deploy["event"] = json!("workflow_run");
    deploy["head_branch"] = json!("main");
    deploy["created_at"] = json!("2026-08-21T09:32:03Z");
    mount_runs_list(&server, json!([test.clone()]), None).await;
    mount_since(&server, json!([deploy, test])).await;
    // The test run never reached production.
    mount_deployments(&server, json!([])).await;
    mount_pending(&server, pending_json("production", ENV_ID, true), None).await;
    mount_approve(&server, 1).await;
    let done = perform(&actx(&server)).await.unwrap();
    assert_eq!(done.evidence["workflow_run_id"], RUN_ID);
    assert!(
        done.summary.contains("approved the production deployment"),
        "{}",
        done.summary
    );
}
