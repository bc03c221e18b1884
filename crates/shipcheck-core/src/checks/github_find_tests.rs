//! The run-finding rule, on run objects recorded from GitHub (`fixtures/api/github`),
//! re-pointed at this test's commits and times.

use serde_json::{Value, json};

use super::*;
use crate::checks::github_run::tests::{
    RUN_ID, gh_config, mount_deployments, mount_pending_of, mount_runs_list, mount_since,
    pending_json, run_json,
};
use crate::model::clock::Clock;
use crate::model::outcome::Status;
use crate::testkit::checks::{self as testing, MERGE};
use crate::testkit::fixture;

/// The default branch's tip: what GitHub runs a `workflow_run` workflow on.
const DEFAULT_TIP: &str = "9e602444f49b8b69c3a9a51fa97a115f3d323508";
const UPSTREAM_ID: i64 = 101;

fn recorded(list: &str, i: usize) -> Value {
    serde_json::from_str::<Value>(list).unwrap()["workflow_runs"][i].clone()
}

/// The test workflow's run of the merge commit: a recorded 2020 push run (no `name`, no
/// `path`), re-pointed at the merge commit; created at 09:30:10, completed at 09:33:00.
fn upstream() -> Value {
    let mut r = recorded(fixture!("github/workflow-runs-pygithub-2020.json"), 0);
    r["id"] = json!(UPSTREAM_ID);
    r["head_sha"] = json!(MERGE);
    r["head_branch"] = json!("production");
    r["workflow_id"] = json!(11);
    r["created_at"] = json!("2026-08-21T09:30:10Z");
    r["updated_at"] = json!("2026-08-21T09:33:00Z");
    r
}

/// The deploy run the upstream triggered (`workflow_run`): the 2026 run shape, on the
/// default branch's tip, created `secs` after the upstream completed.
fn deploy(status: &str, secs: i64) -> Value {
    let mut r: Value =
        serde_json::from_str(fixture!("github/workflow-run-schedule-2026-pygithub.json")).unwrap();
    let created: jiff::Timestamp = "2026-08-21T09:33:00Z".parse().unwrap();
    let created = created + jiff::SignedDuration::from_secs(secs);
    r["id"] = json!(RUN_ID);
    r["event"] = json!("workflow_run");
    r["name"] = json!("deploy");
    r["display_title"] = json!("deploy");
    r["path"] = json!(".github/workflows/deploy.yml");
    r["workflow_id"] = json!(159038);
    r["head_sha"] = json!(DEFAULT_TIP);
    r["head_branch"] = json!("main");
    r["status"] = json!(status);
    r["conclusion"] = Value::Null;
    r["created_at"] = json!(created.to_string());
    r["updated_at"] = json!(created.to_string());
    r
}

fn runs(v: &[Value]) -> Vec<WorkflowRun> {
    v.iter()
        .map(|r| serde_json::from_value(r.clone()).unwrap())
        .collect()
}

#[test]
fn a_commit_is_named_by_seven_or_more_leading_hex_digits() {
    assert!(names_commit("Deploy acb5820 to production", MERGE));
    assert!(names_commit(&format!("deploy {MERGE}"), MERGE));
    assert!(names_commit("Deploy (ACB5820CED)", MERGE));
    assert!(!names_commit("Deploy acb582", MERGE), "six digits");
    assert!(!names_commit("Deploy acb5821", MERGE));
    assert!(!names_commit("deploy", MERGE));
}

#[test]
fn a_workflow_run_deploy_is_linked_through_its_upstream_run() {
    let same = runs(&[upstream()]);
    let since = runs(&[deploy("waiting", 4), upstream()]);
    let s = link_runs(MERGE, "production", Some("deploy.yml"), &same, &since);
    assert_eq!(s.candidates.len(), 1, "{:?}", s.left_out);
    let c = &s.candidates[0];
    assert_eq!(c.run.id, RUN_ID);
    match &c.link {
        Link::Upstream {
            run_id, event, at, ..
        } => {
            assert_eq!(*run_id, UPSTREAM_ID);
            assert_eq!(event, "push");
            assert_eq!(at.to_string(), "2026-08-21T09:33:00Z");
        }
        other => panic!("{other:?}"),
    }
    // The upstream itself is left out: not the configured workflow (its recorded 2020 shape
    // has no path, but its workflow id tells).
    assert!(
        s.left_out
            .iter()
            .any(|l| l.contains("run 101") && l.contains("not deploy.yml")),
        "{:?}",
        s.left_out
    );
}

#[test]
fn a_run_name_naming_the_commit_links_exactly() {
    let mut d = deploy("waiting", 900);
    d["display_title"] = json!(format!("Deploy {}", &MERGE[..12]));
    let s = link_runs(MERGE, "production", None, &[], &runs(&[d]));
    assert_eq!(s.candidates[0].link, Link::RunName);
}

#[test]
fn no_upstream_within_the_window_or_a_rival_leaves_the_run_out() {
    // Created 10 minutes after the upstream completed.
    let s = link_runs(
        MERGE,
        "production",
        None,
        &runs(&[upstream()]),
        &runs(&[deploy("waiting", 600)]),
    );
    assert!(s.candidates.iter().all(|c| c.run.id != RUN_ID));
    assert!(
        s.left_out
            .iter()
            .any(|l| l.contains("no run of the merge commit started or completed within 2m")),
        "{:?}",
        s.left_out
    );
    // The test workflow also completed for another commit just before: ambiguous.
    let mut rival = upstream();
    rival["id"] = json!(102);
    rival["head_sha"] = json!("7abf600480089550b4224aa97004367c2fa25b38");
    rival["updated_at"] = json!("2026-08-21T09:33:02Z");
    let s = link_runs(
        MERGE,
        "production",
        None,
        &runs(&[upstream()]),
        &runs(&[deploy("waiting", 4), rival]),
    );
    assert!(s.candidates.iter().all(|c| c.run.id != RUN_ID));
    assert!(
        s.left_out
            .iter()
            .any(|l| l.contains("ambiguous: run 102 of commit 7abf600")),
        "{:?}",
        s.left_out
    );
}

#[test]
fn pull_request_runs_and_pushes_of_other_branches_are_not_candidates() {
    let mixed = fixture!("github/workflow-runs-mixed-derived.json");
    let mut pr = recorded(mixed, 1);
    pr["head_sha"] = json!(MERGE);
    let mut push = recorded(fixture!("github/workflow-runs-pygithub-2020.json"), 1);
    push["head_sha"] = json!(MERGE);
    let s = link_runs(MERGE, "production", None, &runs(&[pr, push]), &[]);
    assert!(s.candidates.is_empty());
    assert!(
        s.left_out[0].contains("a pull request run"),
        "{:?}",
        s.left_out
    );
    assert!(
        s.left_out[1].contains("a push of master"),
        "{:?}",
        s.left_out
    );
}

#[tokio::test]
async fn the_workflow_run_triggered_deploy_is_found_waiting_with_the_reason() {
    let server = MockServer::start().await;
    mount_runs_list(&server, json!([upstream()]), None).await;
    mount_since(&server, json!([deploy("waiting", 4), upstream()])).await;
    mount_pending_of(
        &server,
        RUN_ID,
        pending_json("production", 161171787, true),
        None,
    )
    .await;
    let (ctx, _) = testing::ctx(
        gh_config(&server, "workflow = \"deploy.yml\"\n"),
        Some(testing::merged_run()),
        "2026-08-21T09:33:10Z",
    );
    let o = crate::checks::github_run::workflow(
        &ctx.github().unwrap(),
        &ctx.config.git.production,
        ctx.run(),
        &ctx.clock,
    )
    .await;
    assert_eq!(o.status, Status::Pass, "{}", o.summary);
    assert_eq!(o.evidence["workflow_run_id"], RUN_ID);
    assert_eq!(o.evidence["event"], "workflow_run");
    assert_eq!(o.evidence["link"]["kind"], "upstream");
    assert_eq!(o.evidence["link"]["run_id"], UPSTREAM_ID);
    assert!(
        o.summary.contains("after upstream run 101"),
        "{}",
        o.summary
    );
    assert!(
        o.summary.contains("it waits for production"),
        "{}",
        o.summary
    );

    // verify-commit accepts it through the recorded link (the upstream is asked again).
    Mock::given(method("GET"))
        .and(path(format!("/repos/acme/app/actions/runs/{RUN_ID}")))
        .respond_with(ResponseTemplate::new(200).set_body_json(deploy("waiting", 4)))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("/repos/acme/app/actions/runs/{UPSTREAM_ID}")))
        .respond_with(ResponseTemplate::new(200).set_body_json(upstream()))
        .expect(1)
        .mount(&server)
        .await;
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
            o.evidence.clone(),
            "2026-08-21T09:33:10Z",
        ),
    ]);
    let (ctx, _) = testing::ctx(
        gh_config(&server, "workflow = \"deploy.yml\"\n"),
        Some(run),
        "2026-08-21T09:33:20Z",
    );
    let p = crate::checks::github_pending::pending(
        &ctx.github().unwrap(),
        &ctx.repo(),
        ctx.run(),
        &ctx.clock,
    )
    .await;
    assert_eq!(p.status, Status::Pass, "{}", p.summary);
    assert!(p.summary.contains("can approve"), "{}", p.summary);
}

#[tokio::test]
async fn among_several_the_newest_waiting_run_is_chosen_and_the_others_are_listed() {
    let server = MockServer::start().await;
    let mut push = run_json(MERGE, "waiting", None);
    push["id"] = json!(200);
    let mut dispatch = run_json(MERGE, "waiting", None);
    dispatch["id"] = json!(201);
    dispatch["event"] = json!("workflow_dispatch");
    dispatch["created_at"] = json!("2026-08-21T09:35:00Z");
    let mut staging_only = run_json(MERGE, "waiting", None);
    staging_only["id"] = json!(202);
    staging_only["created_at"] = json!("2026-08-21T09:36:00Z");
    mount_runs_list(&server, json!([push, dispatch, staging_only]), None).await;
    for id in [200, 201] {
        mount_pending_of(
            &server,
            id,
            pending_json("production", 161171787, true),
            None,
        )
        .await;
    }
    mount_pending_of(&server, 202, pending_json("staging", 5, true), None).await;
    let (ctx, _) = testing::ctx(
        gh_config(&server, ""),
        Some(testing::merged_run()),
        "2026-08-21T09:37:00Z",
    );
    let o = crate::checks::github_run::workflow(
        &ctx.github().unwrap(),
        &ctx.config.git.production,
        ctx.run(),
        &ctx.clock,
    )
    .await;
    assert_eq!(o.status, Status::Pass, "{}", o.summary);
    assert_eq!(o.evidence["workflow_run_id"], 201);
    assert!(
        o.summary
            .contains("workflow run 201 (deploy, workflow_dispatch) deploys")
            && o.summary
                .contains("Chosen: it waits for production; its head SHA is the merge commit"),
        "{}",
        o.summary
    );
    assert!(
        o.summary.contains("2 other candidate(s) rank lower"),
        "{}",
        o.summary
    );
    let listed = o.evidence["considered"]["candidates"].as_array().unwrap();
    assert_eq!(listed.len(), 3);
    assert!(
        listed
            .iter()
            .any(|c| c["environment"]["state"] == "waiting_for_others")
    );
}

fn with_timer(minutes: i64, started: &str) -> Value {
    let mut p: Value =
        serde_json::from_str(fixture!("github/pending-deployments-spec-example.json")).unwrap();
    p[0]["environment"]["name"] = json!("production");
    p[0]["wait_timer"] = json!(minutes);
    p[0]["wait_timer_started_at"] = json!(started);
    p
}

#[tokio::test]
async fn a_running_wait_timer_is_waited_then_the_check_passes() {
    let server = MockServer::start().await;
    mount_runs_list(&server, json!([run_json(MERGE, "waiting", None)]), None).await;
    mount_pending_of(&server, RUN_ID, with_timer(5, "2026-08-21T09:30:00Z"), None).await;
    let (ctx, clock) = testing::ctx(
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
    assert!(
        o.summary
            .contains("5-minute wait timer ended at 2026-08-21T09:35:00Z (waited 3m)"),
        "{}",
        o.summary
    );
    assert_eq!(o.evidence["wait_timer_waited_secs"], 180);
    assert_eq!(clock.now().to_string(), "2026-08-21T09:35:00Z");
    // Polled every 10 s meanwhile: about 18 looks, not more.
    let looks = server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|r| r.url.path().ends_with("/pending_deployments"))
        .count();
    assert!((18..=20).contains(&looks), "{looks}");
}

#[tokio::test]
async fn a_wait_timer_beyond_the_limit_is_an_error_naming_when_to_come_back() {
    let server = MockServer::start().await;
    mount_runs_list(&server, json!([run_json(MERGE, "waiting", None)]), None).await;
    mount_pending_of(
        &server,
        RUN_ID,
        with_timer(60, "2026-08-21T09:31:00Z"),
        None,
    )
    .await;
    let (ctx, clock) = testing::ctx(
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
    assert_eq!(o.status, Status::Error, "{}", o.summary);
    assert!(
        o.summary.contains(
            "ends at 2026-08-21T10:31:00Z (59m from now), beyond [github] wait_timer_limit = 30m"
        ),
        "{}",
        o.summary
    );
    assert!(o.summary.contains("nothing was approved"), "{}", o.summary);
    assert_eq!(
        clock.now().to_string(),
        "2026-08-21T09:32:00Z",
        "no pointless wait"
    );
}

#[tokio::test]
async fn when_the_token_cannot_approve_the_check_says_who_can() {
    let server = MockServer::start().await;
    mount_runs_list(&server, json!([run_json(MERGE, "waiting", None)]), None).await;
    let derived: Value =
        serde_json::from_str(fixture!("github/pending-deployments-derived.json")).unwrap();
    mount_pending_of(&server, RUN_ID, derived, None).await;
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
    assert!(
        o.summary
            .contains("the token's user cannot approve it; team admins can"),
        "{}",
        o.summary
    );
    assert_eq!(
        o.evidence["environment_state"]["reviewers"],
        json!(["team admins"])
    );
}

#[tokio::test]
async fn a_run_past_its_approval_is_seen_through_its_deployment() {
    let server = MockServer::start().await;
    mount_runs_list(&server, json!([run_json(MERGE, "in_progress", None)]), None).await;
    let mut deps: Value =
        serde_json::from_str(fixture!("github/deployments-pygithub-2020.json")).unwrap();
    deps[1]["created_at"] = json!("2026-08-21T09:31:30Z");
    mount_deployments(&server, deps).await;
    let (ctx, _) = testing::ctx(
        gh_config(&server, ""),
        Some(testing::merged_run()),
        "2026-08-21T09:40:00Z",
    );
    let o = crate::checks::github_pending::pending(
        &ctx.github().unwrap(),
        &ctx.repo(),
        ctx.run(),
        &ctx.clock,
    )
    .await;
    assert_eq!(o.status, Status::Pass, "{}", o.summary);
    assert!(
        o.summary
            .contains("no longer waits for production: deployment 262350588"),
        "{}",
        o.summary
    );
}

use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};
