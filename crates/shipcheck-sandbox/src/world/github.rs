//! The GitHub stand-in: the REST endpoints shipcheck reads and writes
//! (`reference/external-apis.md` §2), with GitHub's shapes (`fixtures/api/github`), errors
//! (`{"message", "documentation_url", "status": "404"}`) and rate-limit headers.
//!
//! - the Actions endpoints ([`super::github_runs`]): runs (filtered by `head_sha`, `event`,
//!   `branch`, `status`, `created`), one run, its jobs, its pending deployments, and the
//!   repository's deployments;
//! - `POST …/actions/runs/{id}/pending_deployments` (approving starts the deploy, see
//!   [`super::workflow`]);
//! - `GET|POST …/deployments/{id}/statuses` ([`super::github_statuses`]);
//! - `GET …/commits/{sha}/pulls`, `…/pulls/{n}/reviews`, `…/commits/{ref}`,
//!   `…/commits/{sha}/check-runs`, `…/commits/{sha}/status`, `GET /rate_limit`.
//!
//! Every request needs `Authorization: Bearer <the world's token>` (401 "Bad credentials"
//! otherwise); unknown repositories, runs and pull requests are 404; a bad approval is 422.

use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use jiff::Timestamp;
use serde_json::{Value, json};

use super::Shared;
use super::github_runs::{self as runs, DeploymentRecord, Run};
use super::repo::{RepoInfo, StagingCommit};

/// The repository the stand-in serves.
pub const REPO: &str = "maishapoa/platform";
/// The deploy workflow's file (`on: workflow_run` of the test workflow).
pub const WORKFLOW: &str = "deploy.yml";
/// The test workflow's file (`on: push`).
pub const TEST_WORKFLOW: &str = "test.yml";
/// The repository's default branch on GitHub (a repository setting): `workflow_run` runs
/// carry its latest commit as `head_sha`, as GitHub's do, not the commit they deploy.
pub const DEFAULT_BRANCH: &str = "staging";
/// The `production` environment's id.
pub const ENVIRONMENT_ID: i64 = 161_171_787;
/// The reviewer allowed to approve (the token's user).
pub const REVIEWER: &str = "demo-deployer";

/// Everything the stand-in knows.
pub struct GithubState {
    pub(crate) runs: Vec<Run>,
    pub(crate) deployments: Vec<DeploymentRecord>,
    pub(crate) next_id: i64,
    pub(crate) next_job: i64,
    pub(crate) next_deployment: i64,
    /// The statuses deployments received, oldest first.
    pub(crate) statuses: Vec<super::github_statuses::StatusRecord>,
    pub(crate) next_status: i64,
    /// The production head a run was last created for.
    pub(crate) seen: String,
    staging: Vec<StagingCommit>,
    remaining: u32,
}

impl GithubState {
    pub(crate) fn new(repo: &RepoInfo) -> GithubState {
        GithubState {
            runs: Vec::new(),
            deployments: Vec::new(),
            next_id: 30_433_642,
            next_job: 8_810_000,
            next_deployment: 2_210_000_000,
            statuses: Vec::new(),
            next_status: 6_900_000_000,
            seen: repo.production_head.clone(),
            staging: repo.staging.clone(),
            remaining: 5000,
        }
    }
}

type St = State<Arc<Shared>>;

pub(crate) fn base(headers: &HeaderMap) -> String {
    let host = headers
        .get("host")
        .and_then(|h| h.to_str().ok())
        .unwrap_or("127.0.0.1");
    format!("http://{host}")
}

pub(crate) fn error(status: StatusCode, message: &str) -> Response {
    (
        status,
        axum::Json(json!({
            "message": message,
            "documentation_url": "https://docs.github.com/rest",
            "status": status.as_u16().to_string(),
        })),
    )
        .into_response()
}

pub(crate) fn not_found() -> Response {
    error(StatusCode::NOT_FOUND, "Not Found")
}

async fn auth(State(shared): St, req: axum::extract::Request, next: Next) -> Response {
    let ok = req
        .headers()
        .get("authorization")
        .and_then(|h| h.to_str().ok())
        .is_some_and(|h| {
            h.strip_prefix("Bearer ")
                .or_else(|| h.strip_prefix("token "))
                .is_some_and(|t| t.trim() == shared.secrets.github)
        });
    let remaining = {
        let mut g = shared.github.lock().unwrap_or_else(|e| e.into_inner());
        g.remaining = g.remaining.saturating_sub(1).max(1);
        g.remaining
    };
    let mut resp = if ok {
        next.run(req).await
    } else {
        error(StatusCode::UNAUTHORIZED, "Bad credentials")
    };
    let reset = (Timestamp::now().as_second() / 3600 + 1) * 3600;
    let h = resp.headers_mut();
    for (k, v) in [
        ("x-ratelimit-limit", "5000".to_string()),
        ("x-ratelimit-remaining", remaining.to_string()),
        ("x-ratelimit-used", (5000 - remaining).to_string()),
        ("x-ratelimit-reset", reset.to_string()),
        ("x-ratelimit-resource", "core".to_string()),
    ] {
        if let Ok(v) = HeaderValue::from_str(&v) {
            h.insert(k, v);
        }
    }
    resp
}

/// The router, with the request recorder and the token check.
pub(crate) fn router(shared: Arc<Shared>) -> Router {
    let repo = "/repos/{owner}/{repo}";
    Router::new()
        .route(&format!("{repo}/actions/runs"), get(runs::list_runs))
        .route(
            &format!("{repo}/actions/workflows/{{workflow}}/runs"),
            get(runs::list_workflow_runs),
        )
        .route(&format!("{repo}/actions/runs/{{id}}"), get(runs::get_run))
        .route(&format!("{repo}/actions/runs/{{id}}/jobs"), get(runs::jobs))
        .route(
            &format!("{repo}/actions/runs/{{id}}/pending_deployments"),
            get(runs::pending).post(super::workflow::approve),
        )
        .route(&format!("{repo}/deployments"), get(runs::deployments))
        .route(
            &format!("{repo}/deployments/{{id}}/statuses"),
            get(super::github_statuses::list).post(super::github_statuses::create),
        )
        .route(&format!("{repo}/commits/{{sha}}/pulls"), get(pulls))
        .route(&format!("{repo}/pulls/{{n}}/reviews"), get(reviews))
        .route(
            &format!("{repo}/commits/{{sha}}/check-runs"),
            get(check_runs),
        )
        .route(&format!("{repo}/commits/{{sha}}/status"), get(status))
        .route(&format!("{repo}/commits/{{sha}}"), get(commit))
        .route("/rate_limit", get(rate_limit))
        .fallback(|| async { not_found() })
        .layer(middleware::from_fn_with_state(shared.clone(), auth))
        .layer(middleware::from_fn_with_state(
            (shared.clone(), "github"),
            super::record::layer::record,
        ))
        .with_state(shared)
}

pub(crate) fn ours(owner: &str, repo: &str) -> bool {
    format!("{owner}/{repo}") == REPO
}

fn staging_commit(shared: &Shared, sha: &str) -> Option<StagingCommit> {
    let g = shared.github.lock().unwrap_or_else(|e| e.into_inner());
    g.staging
        .iter()
        .find(|c| c.sha == sha || (sha.len() >= 7 && c.sha.starts_with(sha)))
        .cloned()
}

fn pull_json(base: &str, c: &StagingCommit, merged_at: Timestamp) -> Value {
    json!({
        "url": format!("{base}/repos/{REPO}/pulls/{}", c.pr),
        "id": 1_900_000_000u64 + c.pr,
        "number": c.pr,
        "state": "closed",
        "title": c.pr_title,
        "user": { "login": c.author, "id": 100 + c.pr, "type": "User" },
        "html_url": format!("{base}/{REPO}/pull/{}", c.pr),
        "merged_at": merged_at.to_string(),
        "merge_commit_sha": c.sha,
        "base": { "ref": "staging" },
        "head": { "ref": format!("pr-{}", c.pr) },
    })
}

async fn pulls(
    State(shared): St,
    Path((owner, repo, sha)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> Response {
    if !ours(&owner, &repo) {
        return not_found();
    }
    // A commit the repository does not have is 422 on GitHub; one with no pull request
    // (a direct push) is an empty list.
    if !sha.chars().all(|c| c.is_ascii_hexdigit()) || sha.len() < 7 {
        return error(
            StatusCode::UNPROCESSABLE_ENTITY,
            &format!("No commit found for SHA: {sha}"),
        );
    }
    let list = match staging_commit(&shared, &sha) {
        Some(c) => vec![pull_json(&base(&headers), &c, shared.start)],
        None => Vec::new(),
    };
    axum::Json(Value::Array(list)).into_response()
}

async fn reviews(
    State(shared): St,
    Path((owner, repo, n)): Path<(String, String, String)>,
) -> Response {
    let g = shared.github.lock().unwrap_or_else(|e| e.into_inner());
    let Some(c) = n
        .parse::<u64>()
        .ok()
        .filter(|_| ours(&owner, &repo))
        .and_then(|n| g.staging.iter().find(|c| c.pr == n))
    else {
        return not_found();
    };
    let at = shared.start - jiff::SignedDuration::from_hours(30);
    axum::Json(json!([
        { "id": 2_000_000 + c.pr, "user": { "login": c.author, "id": 100 + c.pr, "type": "User" },
          "body": "Addressed the review comments.", "state": "COMMENTED",
          "submitted_at": (at - jiff::SignedDuration::from_hours(2)).to_string(), "commit_id": c.sha },
        { "id": 2_000_100 + c.pr, "user": { "login": c.reviewer, "id": 200 + c.pr, "type": "User" },
          "body": "Looks good.", "state": "APPROVED",
          "submitted_at": at.to_string(), "commit_id": c.sha },
    ]))
    .into_response()
}

async fn resolve(shared: &Shared, r: &str) -> Option<String> {
    if r.len() == 40 && r.chars().all(|c| c.is_ascii_hexdigit()) {
        return super::repo::tree_of(&shared.repo.origin, r)
            .await
            .ok()
            .map(|_| r.to_string());
    }
    super::repo::branch_head(&shared.repo.origin, r).await
}

async fn commit(
    State(shared): St,
    Path((owner, repo, r)): Path<(String, String, String)>,
) -> Response {
    if !ours(&owner, &repo) {
        return not_found();
    }
    match resolve(&shared, &r).await {
        Some(sha) => axum::Json(json!({ "sha": sha, "commit": { "message": "" } })).into_response(),
        None => error(
            StatusCode::UNPROCESSABLE_ENTITY,
            &format!("No commit found for SHA: {r}"),
        ),
    }
}

async fn check_runs(
    State(shared): St,
    Path((owner, repo, r)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> Response {
    if !ours(&owner, &repo) || resolve(&shared, &r).await.is_none() {
        return not_found();
    }
    let base = base(&headers);
    axum::Json(json!({ "total_count": 2, "check_runs": [
        { "name": "test", "status": "completed", "conclusion": "success", "html_url": format!("{base}/{REPO}/runs/1") },
        { "name": "lint", "status": "completed", "conclusion": "success", "html_url": format!("{base}/{REPO}/runs/2") },
    ]}))
    .into_response()
}

async fn status(
    State(shared): St,
    Path((owner, repo, r)): Path<(String, String, String)>,
) -> Response {
    match resolve(&shared, &r).await.filter(|_| ours(&owner, &repo)) {
        Some(sha) => axum::Json(json!({ "state": "success", "sha": sha, "total_count": 1,
            "statuses": [ { "context": "ci/test", "state": "success", "target_url": null } ] }))
        .into_response(),
        None => not_found(),
    }
}

async fn rate_limit(State(shared): St) -> Response {
    let remaining = shared
        .github
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .remaining;
    let reset = (Timestamp::now().as_second() / 3600 + 1) * 3600;
    let core =
        json!({ "limit": 5000, "remaining": remaining, "used": 5000 - remaining, "reset": reset });
    axum::Json(json!({ "resources": { "core": core }, "rate": core })).into_response()
}
