//! Every GitHub reader against answers recorded from GitHub or published by its makers
//! (`fixtures/api/github`, provenance in `fixtures/api/README.md`).

use serde_json::json;
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

use super::*;
use crate::checks::github_run::tests::gh_config;
use crate::testkit::checks as testing;
use crate::testkit::{fixture, recorded_response};

async fn client(server: &MockServer) -> GitHub {
    let (ctx, _) = testing::ctx(gh_config(server, ""), None, testing::STARTED);
    ctx.github().unwrap()
}

async fn serve(server: &MockServer, p: &str, body: &str) {
    Mock::given(method("GET"))
        .and(path(p))
        .respond_with(
            ResponseTemplate::new(200).set_body_raw(body.as_bytes().to_vec(), "application/json"),
        )
        .mount(server)
        .await;
}

#[tokio::test]
async fn runs_of_2020_lack_name_attempt_title_and_path_and_are_read() {
    let server = MockServer::start().await;
    serve(
        &server,
        "/repos/acme/app/actions/runs",
        fixture!("github/workflow-runs-pygithub-2020.json"),
    )
    .await;
    let runs = client(&server)
        .await
        .list_runs(&RunFilter::default())
        .await
        .unwrap();
    assert_eq!(runs.len(), 2);
    let r = &runs[0];
    assert_eq!(r.id, 110932306);
    assert_eq!(r.event, "push");
    assert_eq!(
        (
            r.name.as_deref(),
            r.run_attempt,
            r.display_title.as_deref(),
            r.path.as_deref()
        ),
        (None, None, None, None)
    );
    assert_eq!(r.label(), "workflow");
    assert_eq!(
        r.is_of("deploy.yml"),
        Some(false),
        "workflow_id still tells"
    );
    assert_eq!(r.created_at.unwrap().to_string(), "2020-05-20T23:59:37Z");
}

#[tokio::test]
async fn mixed_runs_dedupe_and_read_every_event_and_status() {
    let server = MockServer::start().await;
    serve(
        &server,
        "/repos/acme/app/actions/runs",
        fixture!("github/workflow-runs-mixed-derived.json"),
    )
    .await;
    let runs = client(&server)
        .await
        .list_runs(&RunFilter::default())
        .await
        .unwrap();
    // Two webhook-embedded runs share an id: one is kept.
    assert_eq!(runs.len(), 4);
    let events: Vec<&str> = runs.iter().map(|r| r.event.as_str()).collect();
    assert!(events.contains(&"schedule") && events.contains(&"pull_request"));
    let waiting = runs.iter().find(|r| r.state() == "waiting").unwrap();
    assert_eq!(waiting.workflow_file(), Some("pr.yaml"));
    let dispatch = runs.iter().find(|r| r.id == 289782451).unwrap();
    // `name: ""` falls back to the workflow file.
    assert!(dispatch.label() == "test.yml" || dispatch.label() == "pages build and deployment");
}

#[tokio::test]
async fn the_list_filter_is_sent_as_github_expects() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/repos/acme/app/actions/runs"))
        .and(query_param("head_sha", testing::MERGE))
        .and(query_param("created", ">=2026-08-21T09:25:00Z"))
        .and(query_param("per_page", "100"))
        .respond_with(
            ResponseTemplate::new(200).set_body_raw(
                fixture!("github/workflow-runs-spec-example.json")
                    .as_bytes()
                    .to_vec(),
                "application/json",
            ),
        )
        .expect(1)
        .mount(&server)
        .await;
    let runs = client(&server)
        .await
        .list_runs(&RunFilter {
            head_sha: Some(testing::MERGE.into()),
            created_since: Some("2026-08-21T09:25:00.4Z".parse().unwrap()),
            ..RunFilter::default()
        })
        .await
        .unwrap();
    assert_eq!(runs[0].head_sha, testing::MERGE);
    // `path` may carry `@ref`.
    assert_eq!(runs[0].workflow_file(), Some("build.yml"));
    assert_eq!(runs[0].is_of("build.yml"), Some(true));
    assert_eq!(runs[0].is_of(".github/workflows/build.yml"), Some(true));
}

#[tokio::test]
async fn a_run_of_2026_is_read_with_its_actor() {
    let server = MockServer::start().await;
    let body = fixture!("github/workflow-run-schedule-2026-pygithub.json");
    let id = serde_json::from_str::<serde_json::Value>(body).unwrap()["id"]
        .as_i64()
        .unwrap();
    serve(&server, &format!("/repos/acme/app/actions/runs/{id}"), body).await;
    let r = client(&server).await.run(id).await.unwrap();
    assert_eq!(r.event, "schedule");
    assert!(r.started_by().is_some());
    assert!(r.updated_at.is_some() && r.run_attempt.is_some());
}

#[tokio::test]
async fn a_run_without_head_sha_is_an_error_naming_the_field() {
    let server = MockServer::start().await;
    serve(
        &server,
        "/repos/acme/app/actions/runs/7",
        r#"{"id": 7, "status": "completed"}"#,
    )
    .await;
    let e = client(&server).await.run(7).await.unwrap_err();
    assert!(matches!(e, ApiError::Malformed { .. }), "{e}");
    assert!(e.to_string().contains("missing field `head_sha`"), "{e}");
    // And in a list, the same.
    serve(
        &server,
        "/repos/acme/app/actions/runs",
        r#"{"total_count":1,"workflow_runs":[{"id":8,"event":"push"}]}"#,
    )
    .await;
    let e = client(&server)
        .await
        .list_runs(&RunFilter::default())
        .await
        .unwrap_err();
    assert!(e.to_string().contains("missing field `head_sha`"), "{e}");
}

#[tokio::test]
async fn pending_deployments_with_a_wait_timer_and_a_team_reviewer() {
    let server = MockServer::start().await;
    serve(
        &server,
        "/repos/acme/app/actions/runs/1/pending_deployments",
        fixture!("github/pending-deployments-spec-example.json"),
    )
    .await;
    serve(
        &server,
        "/repos/acme/app/actions/runs/2/pending_deployments",
        fixture!("github/pending-deployments-derived.json"),
    )
    .await;
    let gh = client(&server).await;
    let spec = gh.pending_deployments(1).await.unwrap();
    assert_eq!(spec[0].wait_timer, 30);
    assert_eq!(
        spec[0].timer_ends_at().unwrap().to_string(),
        "2020-11-23T22:30:40Z"
    );
    assert_eq!(
        spec[0].who_can_approve(),
        vec!["octocat", "team justice-league"]
    );
    let derived = gh.pending_deployments(2).await.unwrap();
    let prod = derived
        .iter()
        .find(|p| p.environment.name == "production")
        .unwrap();
    assert!(!prod.current_user_can_approve);
    assert_eq!(prod.timer_ends_at(), None);
    assert_eq!(prod.who_can_approve(), vec!["team admins"]);
}

#[tokio::test]
async fn jobs_carry_no_environment_and_are_read() {
    let server = MockServer::start().await;
    serve(
        &server,
        "/repos/acme/app/actions/runs/1/jobs",
        fixture!("github/jobs-pygithub-2023.json"),
    )
    .await;
    serve(
        &server,
        "/repos/acme/app/actions/runs/2/jobs",
        fixture!("github/jobs-spec-example.json"),
    )
    .await;
    let gh = client(&server).await;
    let jobs = gh.jobs(1).await.unwrap();
    assert_eq!(jobs.len(), 2);
    assert_eq!(jobs[0].name, "test (Python 3.7)");
    assert_eq!(jobs[0].conclusion.as_deref(), Some("success"));
    assert_eq!(gh.jobs(2).await.unwrap()[0].name, "build");
    // A single job (`GET …/actions/jobs/{id}`) has the same shape.
    let one: Job = serde_json::from_str(fixture!("github/job-single-pygithub-2025.json")).unwrap();
    assert_eq!(one.status, "completed");
}

#[tokio::test]
async fn deployments_are_read_in_both_shapes() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/repos/acme/app/deployments"))
        .and(query_param("environment", "production"))
        .and(query_param(
            "sha",
            "743f5a58b0bce91c4eab744ff7e39dfca9e6e8a5",
        ))
        .respond_with(
            ResponseTemplate::new(200).set_body_raw(
                fixture!("github/deployments-pygithub-2020.json")
                    .as_bytes()
                    .to_vec(),
                "application/json",
            ),
        )
        .mount(&server)
        .await;
    let gh = client(&server).await;
    let list = gh
        .deployments("743f5a58b0bce91c4eab744ff7e39dfca9e6e8a5", "production")
        .await
        .unwrap();
    assert_eq!(list.len(), 2);
    assert_eq!(list[1].environment.as_deref(), Some("production"));
    assert_eq!(list[1].task.as_deref(), Some("deploy"));
    let spec: Vec<Deployment> =
        serde_json::from_str(fixture!("github/deployments-spec-example.json")).unwrap();
    assert_eq!(spec[0].original_environment.as_deref(), Some("staging"));
    assert_eq!(spec[0].git_ref.as_deref(), Some("topic-branch"));
}

#[tokio::test]
async fn an_approval_answers_an_array_of_deployments() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/repos/acme/app/actions/runs/5/pending_deployments"))
        .respond_with(
            ResponseTemplate::new(200).set_body_raw(
                fixture!("github/deployments-spec-example.json")
                    .as_bytes()
                    .to_vec(),
                "application/json",
            ),
        )
        .expect(1)
        .mount(&server)
        .await;
    let d = client(&server)
        .await
        .approve(5, &[161171787], "ok")
        .await
        .unwrap();
    assert_eq!(d[0].id, 1);
}

#[tokio::test]
async fn pull_requests_reviews_and_check_runs_are_read() {
    let server = MockServer::start().await;
    let sha = testing::MERGE;
    serve(
        &server,
        &format!("/repos/acme/app/commits/{sha}/pulls"),
        fixture!("github/pulls-for-commit-pygithub-2020.json"),
    )
    .await;
    serve(
        &server,
        "/repos/acme/app/pulls/1/reviews",
        fixture!("github/reviews-pygithub.json"),
    )
    .await;
    serve(
        &server,
        &format!("/repos/acme/app/commits/{sha}/check-runs"),
        fixture!("github/check-runs-for-ref-pygithub.json"),
    )
    .await;
    let gh = client(&server).await;
    let prs = gh.pulls_for_commit(sha).await.unwrap();
    assert_eq!(prs.len(), 1);
    assert!(prs[0].user.is_some() && !prs[0].title.is_empty());
    let reviews = gh.reviews(1).await.unwrap();
    let states: Vec<&str> = reviews.iter().map(|r| r.state.as_str()).collect();
    assert_eq!(states, vec!["APPROVED", "COMMENTED"]);
    let checks = gh.check_runs(sha).await.unwrap();
    assert_eq!(checks.len(), 2);
    assert!(
        checks
            .iter()
            .any(|c| c.conclusion.as_deref() == Some("failure"))
    );
}

#[tokio::test]
async fn github_error_bodies_read_as_one_sentence() {
    let server = MockServer::start().await;
    let cases: &[(&str, u16, &str, &str)] = &[
        (
            "/a",
            404,
            fixture!("github/error-404-with-status-field-2025.json"),
            "not found (404) — Branch not found [https://docs.github.com/rest/branches",
        ),
        (
            "/b",
            404,
            fixture!("github/error-404-branch-not-protected.json"),
            "Branch not protected",
        ),
        (
            "/c",
            403,
            fixture!("github/error-403-with-status-field-2024.json"),
            "(403): the token lacks",
        ),
        (
            "/d",
            422,
            fixture!("github/error-422-validation-failed.json"),
            "Validation Failed (Label.color invalid)",
        ),
    ];
    for (p, status, body, _) in cases {
        Mock::given(path(*p))
            .respond_with(
                ResponseTemplate::new(*status)
                    .set_body_raw(body.as_bytes().to_vec(), "application/json"),
            )
            .mount(&server)
            .await;
    }
    let gh = client(&server).await;
    for (p, _, _, want) in cases {
        let e = gh
            .api
            .send(crate::clients::api::Request::get(
                *p,
                "the thing",
                PERM_ACTIONS_READ,
            ))
            .await
            .unwrap_err();
        let m = e.to_string();
        assert!(m.contains(want), "{p}: {m}");
        assert!(!m.contains('{') && !m.contains("\"status\""), "{p}: {m}");
    }
}

#[tokio::test]
async fn the_unicorn_page_is_summarised_by_its_title_after_bounded_retries() {
    let server = MockServer::start().await;
    Mock::given(path("/x"))
        .respond_with(
            ResponseTemplate::new(503).set_body_raw(
                fixture!("github/error-5xx-unicorn-derived.html")
                    .as_bytes()
                    .to_vec(),
                "text/html",
            ),
        )
        .expect(3)
        .mount(&server)
        .await;
    let e = client(&server)
        .await
        .api
        .send(crate::clients::api::Request::get(
            "/x",
            "the workflow runs of acme/app",
            PERM_ACTIONS_READ,
        ))
        .await
        .unwrap_err();
    assert_eq!(e.status(), Some(503));
    let m = e.to_string();
    assert!(
        m.contains("503") && m.contains("\u{201c}Unicorn! \u{b7} GitHub\u{201d}"),
        "{m}"
    );
    assert!(!m.contains("<") && !m.contains("GitHubber"), "{m}");
}

#[tokio::test]
async fn recorded_rate_limits_wait_or_name_the_reset() {
    // Secondary limit (2018): 403 with Retry-After: 60 — beyond the test's 2s bound, so an
    // error naming when to come back; nothing retried past the bound.
    let server = MockServer::start().await;
    Mock::given(path("/s"))
        .respond_with(recorded_response(
            fixture!("github/error-403-secondary-rate-limit-2018.headers.txt"),
            fixture!("github/error-403-secondary-rate-limit-2018.json"),
        ))
        .expect(1)
        .mount(&server)
        .await;
    // Primary limit (2013): remaining 0 without a reset header, old message.
    Mock::given(path("/p"))
        .respond_with(recorded_response(
            fixture!("github/error-403-primary-rate-limit-2013.headers.txt"),
            fixture!("github/error-403-primary-rate-limit-2013.json"),
        ))
        .expect(1)
        .mount(&server)
        .await;
    let (ctx, _) = testing::ctx(
        gh_config(&server, "rate_limit_wait = \"2s\"\n"),
        None,
        testing::STARTED,
    );
    let gh = ctx.github().unwrap();
    for p in ["/s", "/p"] {
        let e = gh
            .api
            .send(crate::clients::api::Request::get(
                p,
                "the runs",
                PERM_ACTIONS_READ,
            ))
            .await
            .unwrap_err();
        assert!(matches!(e, ApiError::RateLimited { .. }), "{p}: {e}");
        assert!(
            e.to_string().contains("resets at 2026-08-21T09:01:00Z"),
            "{p}: {e}"
        );
    }
    let _ = json!(null);
}
