//! The workflows of the world's repository, as GitHub Actions would run them (Fly's CI
//! guide's shape: a test workflow on push, the deploy workflow `on: workflow_run` of it).
//!
//! A push of `production` to the bare origin (seen by polling its ref) starts the test
//! workflow's run for that commit; [`TEST_TAKES`] later it succeeds, and that starts the
//! deploy workflow's run — on the default branch's tip, as GitHub does, deploying the pushed
//! commit: `build` done, `deploy-production` waiting for the `production` environment,
//! `health-check` queued. Approving the pending deployment (`POST …/pending_deployments`)
//! moves `deploy-production` through queued → in_progress → completed: it runs
//! `flyctl deploy --image` on the Fly stand-in for each production app with the image built
//! from the pushed commit; then `health-check` probes each app's health URL, and the run
//! completes.
//!
//! An image built from the tree production ran when the world was built (a `git revert` of
//! the release) behaves like that release; any other tree behaves as the scenario's new
//! release.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use tokio::task::JoinHandle;

use super::Shared;
use super::apps::Behaviour;
use super::github::{DEFAULT_BRANCH, ENVIRONMENT_ID, REPO};
use super::github_runs::Run;

/// How often the origin's `production` ref is read (wall clock).
const POLL: Duration = Duration::from_millis(150);
/// How long the test workflow runs (world time).
pub const TEST_TAKES: Duration = Duration::from_secs(15);

/// Watches the origin for pushes of `production`.
pub(crate) fn spawn_push_watcher(shared: Arc<Shared>) -> JoinHandle<()> {
    tokio::spawn(async move {
        while !shared.stopped() {
            tokio::time::sleep(POLL).await;
            let Some(head) = super::repo::branch_head(&shared.repo.origin, "production").await
            else {
                continue;
            };
            let seen = shared
                .github
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .seen
                .clone();
            if head == seen {
                continue;
            }
            let subject = super::repo::production_log(&shared.repo.origin, 1)
                .await
                .into_iter()
                .next()
                .map(|(_, _, s)| s)
                .unwrap_or_default();
            let now = shared.now();
            let id = shared
                .github
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(&head, &subject, now);
            tokio::spawn(run_tests(shared.clone(), id, head));
        }
    })
}

/// The test workflow's run: succeeds after [`TEST_TAKES`], which triggers the deploy run.
async fn run_tests(shared: Arc<Shared>, id: i64, sha: String) {
    shared.sleep(TEST_TAKES).await;
    update(&shared, id, |r, now| {
        set_job(r, "test", "completed", Some("success"), now);
        r.status = "completed".into();
        r.conclusion = Some("success".into());
    });
    let tip = super::repo::branch_head(&shared.repo.origin, DEFAULT_BRANCH)
        .await
        .unwrap_or_else(|| sha.clone());
    let now = shared.now();
    shared
        .github
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .trigger_deploy(&sha, &tip, now);
}

fn unprocessable(message: &str) -> Response {
    (
        StatusCode::UNPROCESSABLE_ENTITY,
        axum::Json(json!({
            "message": message,
            "documentation_url": "https://docs.github.com/rest/actions/workflow-runs#review-pending-deployments-for-a-workflow-run",
            "status": "422",
        })),
    )
        .into_response()
}

/// `POST /repos/{o}/{r}/actions/runs/{id}/pending_deployments`.
pub(crate) async fn approve(
    State(shared): State<Arc<Shared>>,
    Path((owner, repo, id)): Path<(String, String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let not_found = || {
        (
            StatusCode::NOT_FOUND,
            axum::Json(json!({ "message": "Not Found", "documentation_url": "https://docs.github.com/rest", "status": "404" })),
        )
            .into_response()
    };
    let Some(id) = id
        .parse::<i64>()
        .ok()
        .filter(|_| format!("{owner}/{repo}") == REPO)
    else {
        return not_found();
    };
    let Ok(v) = serde_json::from_slice::<Value>(&body) else {
        return (
            StatusCode::BAD_REQUEST,
            axum::Json(json!({ "message": "Problems parsing JSON", "documentation_url": "https://docs.github.com/rest", "status": "400" })),
        )
            .into_response();
    };
    for field in ["environment_ids", "state", "comment"] {
        if v.get(field).is_none() {
            return unprocessable(&format!("Invalid request.\n\n\"{field}\" wasn't supplied."));
        }
    }
    let state = v["state"].as_str().unwrap_or_default().to_string();
    if state != "approved" && state != "rejected" {
        return unprocessable(&format!(
            "Invalid request.\n\n{state:?} is not a member of [\"approved\", \"rejected\"]."
        ));
    }
    let ids: Vec<i64> = v["environment_ids"]
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_i64).collect())
        .unwrap_or_default();
    if !ids.contains(&ENVIRONMENT_ID) || ids.iter().any(|i| *i != ENVIRONMENT_ID) {
        return unprocessable(&format!(
            "Invalid request.\n\nenvironment_ids {ids:?} are not environments this run waits for ([{ENVIRONMENT_ID}])."
        ));
    }
    let comment = v["comment"].as_str().unwrap_or_default().to_string();
    let now = shared.now();
    let (sha, deploys, deployment) = {
        let mut g = shared.github.lock().unwrap_or_else(|e| e.into_inner());
        let Some(deployment) = g.deployment_of(id).cloned() else {
            return not_found();
        };
        let Some(run) = g.run_mut(id) else {
            return not_found();
        };
        if !run.waiting {
            return unprocessable("No pending deployments for this workflow run.");
        }
        run.waiting = false;
        run.approvals.push(comment);
        run.updated_at = now;
        if state == "approved" {
            run.status = "in_progress".into();
            set_job(run, "deploy-production", "queued", None, now);
        } else {
            run.status = "completed".into();
            run.conclusion = Some("failure".into());
            set_job(run, "deploy-production", "completed", Some("failure"), now);
            set_job(run, "health-check", "completed", Some("skipped"), now);
        }
        (run.head_sha.clone(), run.deploys_sha.clone(), deployment)
    };
    debug_assert_eq!(sha, deployment.sha);
    if state == "approved" {
        tokio::spawn(run_deploy(shared.clone(), id, deploys));
    }
    let base = super::github::base(&headers);
    axum::Json(json!([super::github_runs::deployment_json(
        &base,
        &deployment
    )]))
    .into_response()
}

fn set_job(
    run: &mut Run,
    name: &str,
    status: &str,
    conclusion: Option<&str>,
    now: jiff::Timestamp,
) {
    if let Some(j) = run.jobs.iter_mut().find(|j| j.name == name) {
        j.status = status.into();
        j.conclusion = conclusion.map(str::to_string);
        if status == "in_progress" {
            j.started_at = Some(now);
        }
        if status == "completed" {
            j.completed_at = Some(now);
        }
    }
}

fn update(shared: &Shared, id: i64, f: impl FnOnce(&mut Run, jiff::Timestamp)) {
    let now = shared.now();
    let mut g = shared.github.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(run) = g.run_mut(id) {
        f(run, now);
        run.updated_at = now;
    }
}

/// The approved run: deploy `sha` (the commit the test run tested) to each production app,
/// then the health check.
async fn run_deploy(shared: Arc<Shared>, id: i64, sha: String) {
    shared.sleep(Duration::from_secs(10)).await;
    update(&shared, id, |r, now| {
        set_job(r, "deploy-production", "in_progress", None, now)
    });
    let tree = super::repo::tree_of(&shared.repo.origin, &sha).await.ok();
    let behaviour = if tree.as_deref() == Some(shared.repo.production_tree.as_str()) {
        Behaviour::good()
    } else {
        let mut b = shared.scenario.new_release();
        if let (Some(s), super::Scenario::BadRelease) = (shared.bad_onset_s, shared.scenario) {
            b.onset_s = s.min(86_400);
        }
        b
    };
    let short: String = sha.chars().take(12).collect();
    let apps: Vec<String> = shared
        .apps
        .specs
        .iter()
        .filter(|s| s.env == "production")
        .map(|s| s.fly_app.clone())
        .collect();
    let mut ok = true;
    for app in &apps {
        shared.sleep(Duration::from_secs(20)).await;
        let image = format!("registry.fly.io/{app}:deployment-{short}");
        shared.apps.register(&image, behaviour, &sha);
        let mut args: Vec<String> = [
            "deploy",
            "--image",
            &image,
            "-a",
            app,
            "--yes",
            "--strategy",
            "rolling",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        if shared.scenario == super::Scenario::StaleRelease {
            // This team's workflow does not wait for Fly: the job is green whatever Fly
            // makes of the release.
            args.push("--detach".into());
        }
        let dir = shared.fly_dir.clone();
        let out = tokio::task::spawn_blocking(move || crate::fly::invoke(&dir, &args)).await;
        if !out.is_ok_and(|o| o.code == 0) {
            ok = false;
            break;
        }
        shared.apps.refresh(&shared.fly_dir);
    }
    update(&shared, id, |r, now| {
        set_job(
            r,
            "deploy-production",
            "completed",
            Some(if ok { "success" } else { "failure" }),
            now,
        );
        if ok {
            set_job(r, "health-check", "in_progress", None, now);
        } else {
            set_job(r, "health-check", "completed", Some("skipped"), now);
        }
    });
    let healthy = ok && health_check(&shared).await;
    shared.sleep(Duration::from_secs(15)).await;
    update(&shared, id, |r, now| {
        if ok {
            set_job(
                r,
                "health-check",
                "completed",
                Some(if healthy { "success" } else { "failure" }),
                now,
            );
        }
        r.status = "completed".into();
        r.conclusion = Some(if ok && healthy { "success" } else { "failure" }.into());
    });
}

/// The workflow's health-check job: each production app's health URL answers 200 within
/// three tries (a smoke test, like the team's `curl`s).
async fn health_check(shared: &Shared) -> bool {
    let urls = shared.app_urls();
    for s in shared.apps.specs.iter().filter(|s| s.env == "production") {
        let Some(base) = urls.get(&s.fly_app) else {
            return false;
        };
        let url = format!("{base}{}", s.health_path);
        let mut passed = false;
        for _ in 0..3 {
            if let Ok(Ok(r)) =
                tokio::time::timeout(Duration::from_secs(2), shared.http.get(&url).send()).await
                && r.status().is_success()
            {
                passed = true;
                break;
            }
        }
        if !passed {
            return false;
        }
    }
    true
}
