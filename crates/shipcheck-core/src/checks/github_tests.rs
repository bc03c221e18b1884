use serde_json::json;
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use super::*;
use crate::clients::github::User;
use crate::journal::state::ItemState;
use crate::model::checklist::CheckSpec;
use crate::model::config::test_env;
use crate::model::outcome::Status;
use crate::testkit::checks as testing;

const TOKEN_VAR: &str = "SHIPCHECK_TEST_GITHUB_TOKEN_A";

fn gh_config(server: &MockServer) -> crate::model::config::Config {
    test_env::set(TOKEN_VAR, "ghp_testtoken");
    testing::config(&format!(
        "[github]\nrepo = \"acme/app\"\napi_url = \"{}\"\ntoken_env = \"{TOKEN_VAR}\"\nrequest_timeout = \"2s\"\n",
        server.uri()
    ))
}

fn pr(n: u64, author: &str) -> PullRequest {
    PullRequest {
        number: n,
        title: format!("PR {n}"),
        html_url: format!("https://github.com/acme/app/pull/{n}"),
        state: "closed".into(),
        user: Some(User {
            login: author.into(),
        }),
    }
}

fn review(user: &str, state: &str) -> Review {
    Review {
        id: 1,
        user: Some(User { login: user.into() }),
        state: state.into(),
        submitted_at: None,
    }
}

#[test]
fn latest_deciding_review_per_reviewer_counts() {
    let p = pr(1, "ana");
    // The author's own approval does not count.
    assert!(!verdict(&p, &[review("ana", "APPROVED")]).ok());
    // Changes requested, then approved by the same reviewer: approved.
    assert!(
        verdict(
            &p,
            &[
                review("bob", "CHANGES_REQUESTED"),
                review("bob", "APPROVED")
            ]
        )
        .ok()
    );
    // Approved, then a comment: still approved (comments decide nothing).
    assert!(verdict(&p, &[review("bob", "APPROVED"), review("bob", "COMMENTED")]).ok());
    // One approves, another still requests changes: outstanding.
    let v = verdict(
        &p,
        &[review("bob", "APPROVED"), review("cy", "CHANGES_REQUESTED")],
    );
    assert!(!v.ok());
    assert_eq!(v.changes_requested_by, vec!["cy".to_string()]);
    // A dismissed change request no longer blocks.
    assert!(
        verdict(
            &p,
            &[
                review("cy", "CHANGES_REQUESTED"),
                review("cy", "DISMISSED"),
                review("bob", "APPROVED")
            ]
        )
        .ok()
    );
    assert!(!verdict(&p, &[]).ok());
}

async fn mount_json(server: &MockServer, p: &str, body: serde_json::Value) {
    Mock::given(method("GET"))
        .and(path(p))
        .respond_with(ResponseTemplate::new(200).set_body_json(body))
        .mount(server)
        .await;
}

#[tokio::test]
async fn reviews_pass_fail_and_direct_pushes() {
    let server = MockServer::start().await;
    let (ctx, _) = testing::ctx(gh_config(&server), None, testing::STARTED);
    let gh = ctx.github().unwrap();
    let (a, b, c) = ("a".repeat(40), "b".repeat(40), "c".repeat(40));
    let prj = |n: u64, author: &str| json!({"number": n, "title": format!("PR {n}"), "html_url": format!("https://github.com/acme/app/pull/{n}"), "state": "closed", "user": {"login": author}});
    mount_json(
        &server,
        &format!("/repos/acme/app/commits/{a}/pulls"),
        json!([prj(1, "ana")]),
    )
    .await;
    mount_json(
        &server,
        &format!("/repos/acme/app/commits/{b}/pulls"),
        json!([prj(1, "ana"), prj(2, "bob")]),
    )
    .await;
    mount_json(
        &server,
        &format!("/repos/acme/app/commits/{c}/pulls"),
        json!([]),
    )
    .await;
    mount_json(
        &server,
        "/repos/acme/app/pulls/1/reviews",
        json!([{"id": 1, "user": {"login": "bob"}, "state": "APPROVED", "submitted_at": "2026-08-20T10:00:00Z"}]),
    )
    .await;
    mount_json(
        &server,
        "/repos/acme/app/pulls/2/reviews",
        json!([{"id": 2, "user": {"login": "ana"}, "state": "CHANGES_REQUESTED"}]),
    )
    .await;

    let o = review_commits(&gh, &[a.clone(), b.clone()]).await;
    assert_eq!(o.status, Status::Pass, "{}", o.summary);
    assert_eq!(o.evidence["pull_requests"].as_array().unwrap().len(), 2);

    let o = review_commits(&gh, &[a.clone(), c.clone()]).await;
    assert_eq!(o.status, Status::Fail);
    assert!(
        o.summary.contains("without a pull request") && o.summary.contains("ccccccc"),
        "{}",
        o.summary
    );

    // Only PR 2 (changes requested) for a commit: fail naming the reviewer.
    let d = "d".repeat(40);
    mount_json(
        &server,
        &format!("/repos/acme/app/commits/{d}/pulls"),
        json!([prj(2, "bob")]),
    )
    .await;
    let o = review_commits(&gh, &[d]).await;
    assert_eq!(o.status, Status::Fail);
    assert!(
        o.summary.contains("#2: changes requested by ana"),
        "{}",
        o.summary
    );

    // The token went out as a bearer token with GitHub's headers.
    let reqs = server.received_requests().await.unwrap();
    assert!(reqs.iter().all(|r| {
        r.headers.get("authorization").map(|v| v.to_str().unwrap()) == Some("Bearer ghp_testtoken")
            && r.headers.get("x-github-api-version").is_some()
    }));
}

#[tokio::test]
async fn a_missing_token_is_an_error_naming_the_variable() {
    let server = MockServer::start().await;
    let mut cfg = gh_config(&server);
    cfg.github.as_mut().unwrap().token_env = "SHIPCHECK_TEST_UNSET_VARIABLE_9".into();
    let (ctx, _) = testing::ctx(cfg, None, testing::STARTED);
    let o = crate::engine::runner::run_check(
        &CheckSpec::GithubReviews(Default::default()),
        &ctx.deps(),
    )
    .await;
    assert_eq!(o.status, Status::Error);
    assert!(
        o.summary.contains("SHIPCHECK_TEST_UNSET_VARIABLE_9"),
        "{}",
        o.summary
    );
}

#[tokio::test]
async fn staging_checks_all_green_pending_failed_and_no_data() {
    let server = MockServer::start().await;
    let mut cfg = gh_config(&server);
    cfg.git.staging = "staging".into();
    let (ctx, _) = testing::ctx(cfg, None, testing::STARTED);
    let sha = "e".repeat(40);
    Mock::given(method("GET"))
        .and(path("/repos/acme/app/commits/staging"))
        .and(header("accept", "application/vnd.github+json"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"sha": sha})))
        .mount(&server)
        .await;
    let runs = |list: serde_json::Value| json!({"total_count": 1, "check_runs": list});
    Mock::given(path(format!("/repos/acme/app/commits/{sha}/check-runs")))
        .respond_with(ResponseTemplate::new(200).set_body_json(runs(json!([
            {"name": "test", "status": "completed", "conclusion": "success"},
            {"name": "lint", "status": "completed", "conclusion": "skipped"}
        ]))))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(path(format!("/repos/acme/app/commits/{sha}/check-runs")))
        .respond_with(ResponseTemplate::new(200).set_body_json(runs(json!([
            {"name": "test", "status": "in_progress", "conclusion": null},
            {"name": "e2e", "status": "completed", "conclusion": "failure"}
        ]))))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(path(format!("/repos/acme/app/commits/{sha}/check-runs")))
        .respond_with(ResponseTemplate::new(200).set_body_json(runs(json!([]))))
        .mount(&server)
        .await;
    Mock::given(path(format!("/repos/acme/app/commits/{sha}/status")))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"state": "pending", "statuses": []})),
        )
        .mount(&server)
        .await;
    let spec = GithubChecksCheck::default();
    let o = checks(&spec, &ctx.github().unwrap(), &ctx.config.git.staging).await;
    assert_eq!(o.status, Status::Pass, "{}", o.summary);
    let o = checks(&spec, &ctx.github().unwrap(), &ctx.config.git.staging).await;
    assert_eq!(o.status, Status::Fail);
    assert!(
        o.summary.contains("e2e (failure)") && o.summary.contains("test (in_progress)"),
        "{}",
        o.summary
    );
    let o = checks(&spec, &ctx.github().unwrap(), &ctx.config.git.staging).await;
    assert_eq!(o.status, Status::Error);
    assert!(o.summary.contains("no data"), "{}", o.summary);
}

#[test]
fn merge_commit_comes_from_the_merge_actions_fact_and_names_its_item_when_missing() {
    assert_eq!(
        merge_commit(Some(&testing::merged_run())).unwrap(),
        testing::MERGE
    );
    let r = testing::run(&[(
        "release.merge",
        ItemState::Done,
        json!({ "sha": "abcdef1234567" }),
        "2026-08-21T09:30:00Z",
    )]);
    assert_eq!(merge_commit(Some(&r)).unwrap(), "abcdef1234567");
    assert!(
        merge_commit(Some(&testing::run(&[])))
            .unwrap_err()
            .contains("release.merge records it")
    );
    assert!(merge_commit(None).is_err());
}
