//! The GitHub stand-in: the REST endpoints shipcheck reads and writes
//! (`reference/external-apis.md` §2), with GitHub's shapes, errors and rate-limit headers.
//!
//! - `GET /repos/{o}/{r}/actions/runs` (and per workflow `…/actions/workflows/deploy.yml/runs`),
//!   `…/actions/runs/{id}`, `…/actions/runs/{id}/jobs`;
//! - `GET|POST …/actions/runs/{id}/pending_deployments` (approving starts the deploy, see
//!   [`super::workflow`]);
//! - `GET …/commits/{sha}/pulls`, `…/pulls/{n}/reviews`, `…/commits/{ref}`,
//!   `…/commits/{sha}/check-runs`, `…/commits/{sha}/status`, `GET /rate_limit`.
//!
//! Every request needs `Authorization: Bearer <the world's token>` (401 "Bad credentials"
//! otherwise); unknown repositories, runs and pull requests are 404; a bad approval is 422.

use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::Shared;
use super::repo::{RepoInfo, StagingCommit};

/// The repository the stand-in serves.
pub const REPO: &str = "maishapoa/platform";
/// The workflow file.
pub const WORKFLOW: &str = "deploy.yml";
/// The `production` environment's id.
pub const ENVIRONMENT_ID: i64 = 161_171_787;
/// The reviewer allowed to approve (the token's user).
pub const REVIEWER: &str = "demo-deployer";

/// One job of a run.
#[derive(Clone, Debug, Serialize)]
pub struct Job {
    /// Id.
    pub id: i64,
    /// Name.
    pub name: String,
    /// queued, waiting, in_progress, completed.
    pub status: String,
    /// null until completed.
    pub conclusion: Option<String>,
    /// When it started.
    pub started_at: Option<Timestamp>,
    /// When it finished.
    pub completed_at: Option<Timestamp>,
}

/// One workflow run.
#[derive(Clone, Debug)]
pub struct Run {
    pub(crate) id: i64,
    pub(crate) run_number: i64,
    pub(crate) head_sha: String,
    pub(crate) subject: String,
    pub(crate) status: String,
    pub(crate) conclusion: Option<String>,
    pub(crate) created_at: Timestamp,
    pub(crate) updated_at: Timestamp,
    pub(crate) jobs: Vec<Job>,
    pub(crate) waiting: bool,
    pub(crate) approvals: Vec<String>,
}

/// What tests see of a run.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RunSnapshot {
    /// Id.
    pub id: i64,
    /// The commit.
    pub head_sha: String,
    /// Status.
    pub status: String,
    /// Conclusion.
    pub conclusion: Option<String>,
    /// Approvals received (their comments).
    pub approvals: Vec<String>,
    /// Jobs: (name, status, conclusion).
    pub jobs: Vec<(String, String, Option<String>)>,
}

/// Everything the stand-in knows.
pub struct GithubState {
    pub(crate) runs: Vec<Run>,
    next_id: i64,
    next_job: i64,
    next_deployment: i64,
    /// The production head a run was last created for.
    pub(crate) seen: String,
    staging: Vec<StagingCommit>,
    remaining: u32,
}

impl GithubState {
    pub(crate) fn new(repo: &RepoInfo) -> GithubState {
        GithubState {
            runs: Vec::new(),
            next_id: 30_433_642,
            next_job: 8_810_000,
            next_deployment: 2_210_000_000,
            seen: repo.production_head.clone(),
            staging: repo.staging.clone(),
            remaining: 5000,
        }
    }

    /// Every run, oldest first, for tests.
    pub fn snapshots(&self) -> Vec<RunSnapshot> {
        self.runs
            .iter()
            .map(|r| RunSnapshot {
                id: r.id,
                head_sha: r.head_sha.clone(),
                status: r.status.clone(),
                conclusion: r.conclusion.clone(),
                approvals: r.approvals.clone(),
                jobs: r
                    .jobs
                    .iter()
                    .map(|j| (j.name.clone(), j.status.clone(), j.conclusion.clone()))
                    .collect(),
            })
            .collect()
    }

    /// A new run for a push of `sha`, waiting for the production environment.
    pub(crate) fn push(&mut self, sha: &str, subject: &str, now: Timestamp) -> i64 {
        let id = self.next_id;
        self.next_id += 1;
        let mut job = |name: &str, status: &str, conclusion: Option<&str>| {
            self.next_job += 1;
            Job {
                id: self.next_job,
                name: name.into(),
                status: status.into(),
                conclusion: conclusion.map(str::to_string),
                started_at: (status != "queued" && status != "waiting").then_some(now),
                completed_at: conclusion.map(|_| now),
            }
        };
        let jobs = vec![
            job("build", "completed", Some("success")),
            job("deploy-production", "waiting", None),
            job("health-check", "queued", None),
        ];
        self.runs.push(Run {
            id,
            run_number: 562 + self.runs.len() as i64,
            head_sha: sha.to_string(),
            subject: subject.to_string(),
            status: "waiting".into(),
            conclusion: None,
            created_at: now,
            updated_at: now,
            jobs,
            waiting: true,
            approvals: Vec::new(),
        });
        self.seen = sha.to_string();
        id
    }

    pub(crate) fn run_mut(&mut self, id: i64) -> Option<&mut Run> {
        self.runs.iter_mut().find(|r| r.id == id)
    }
}

pub(crate) fn run_json(base: &str, r: &Run) -> Value {
    let api = format!("{base}/repos/{REPO}/actions/runs/{}", r.id);
    json!({
        "id": r.id,
        "name": "deploy",
        "node_id": format!("WFR_kwLO{}", r.id),
        "head_branch": "production",
        "head_sha": r.head_sha,
        "path": format!(".github/workflows/{WORKFLOW}"),
        "display_title": r.subject,
        "run_number": r.run_number,
        "run_attempt": 1,
        "event": "push",
        "status": r.status,
        "conclusion": r.conclusion,
        "workflow_id": 159_038,
        "check_suite_id": r.id + 1_000_000,
        "url": api,
        "html_url": format!("{base}/{REPO}/actions/runs/{}", r.id),
        "jobs_url": format!("{api}/jobs"),
        "logs_url": format!("{api}/logs"),
        "cancel_url": format!("{api}/cancel"),
        "rerun_url": format!("{api}/rerun"),
        "created_at": r.created_at.to_string(),
        "updated_at": r.updated_at.to_string(),
        "run_started_at": r.created_at.to_string(),
        "actor": { "login": REVIEWER, "id": 1, "type": "User" },
        "triggering_actor": { "login": REVIEWER, "id": 1, "type": "User" },
        "head_commit": { "id": r.head_sha, "message": r.subject },
        "pull_requests": [],
    })
}

type St = State<Arc<Shared>>;

fn base(headers: &HeaderMap) -> String {
    let host = headers
        .get("host")
        .and_then(|h| h.to_str().ok())
        .unwrap_or("127.0.0.1");
    format!("http://{host}")
}

fn error(status: StatusCode, message: &str) -> Response {
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

fn not_found() -> Response {
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
        .route(&format!("{repo}/actions/runs"), get(list_runs))
        .route(
            &format!("{repo}/actions/workflows/{{workflow}}/runs"),
            get(list_workflow_runs),
        )
        .route(&format!("{repo}/actions/runs/{{id}}"), get(get_run))
        .route(&format!("{repo}/actions/runs/{{id}}/jobs"), get(jobs))
        .route(
            &format!("{repo}/actions/runs/{{id}}/pending_deployments"),
            get(pending).post(super::workflow::approve),
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

fn ours(owner: &str, repo: &str) -> bool {
    format!("{owner}/{repo}") == REPO
}

#[derive(Deserialize)]
struct RunQuery {
    head_sha: Option<String>,
    branch: Option<String>,
    event: Option<String>,
    status: Option<String>,
}

fn runs_answer(shared: &Shared, headers: &HeaderMap, q: &RunQuery) -> Response {
    let g = shared.github.lock().unwrap_or_else(|e| e.into_inner());
    let base = base(headers);
    let list: Vec<Value> = g
        .runs
        .iter()
        .rev()
        .filter(|r| q.head_sha.as_deref().is_none_or(|s| s == r.head_sha))
        .filter(|_| q.branch.as_deref().is_none_or(|b| b == "production"))
        .filter(|_| q.event.as_deref().is_none_or(|e| e == "push"))
        .filter(|r| {
            q.status
                .as_deref()
                .is_none_or(|s| s == r.status || r.conclusion.as_deref() == Some(s))
        })
        .map(|r| run_json(&base, r))
        .collect();
    axum::Json(json!({ "total_count": list.len(), "workflow_runs": list })).into_response()
}

async fn list_runs(
    State(shared): St,
    Path((owner, repo)): Path<(String, String)>,
    Query(q): Query<RunQuery>,
    headers: HeaderMap,
) -> Response {
    if !ours(&owner, &repo) {
        return not_found();
    }
    runs_answer(&shared, &headers, &q)
}

async fn list_workflow_runs(
    State(shared): St,
    Path((owner, repo, workflow)): Path<(String, String, String)>,
    Query(q): Query<RunQuery>,
    headers: HeaderMap,
) -> Response {
    if !ours(&owner, &repo) || (workflow != WORKFLOW && workflow != "159038") {
        return not_found();
    }
    runs_answer(&shared, &headers, &q)
}

async fn get_run(
    State(shared): St,
    Path((owner, repo, id)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> Response {
    let g = shared.github.lock().unwrap_or_else(|e| e.into_inner());
    match (ours(&owner, &repo), id.parse::<i64>().ok()) {
        (true, Some(id)) => match g.runs.iter().find(|r| r.id == id) {
            Some(r) => axum::Json(run_json(&base(&headers), r)).into_response(),
            None => not_found(),
        },
        _ => not_found(),
    }
}

async fn jobs(
    State(shared): St,
    Path((owner, repo, id)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> Response {
    let g = shared.github.lock().unwrap_or_else(|e| e.into_inner());
    let Some(r) = id
        .parse::<i64>()
        .ok()
        .filter(|_| ours(&owner, &repo))
        .and_then(|id| g.runs.iter().find(|r| r.id == id))
    else {
        return not_found();
    };
    let base = base(&headers);
    let jobs: Vec<Value> = r
        .jobs
        .iter()
        .map(|j| {
            json!({
                "id": j.id,
                "run_id": r.id,
                "run_url": format!("{base}/repos/{REPO}/actions/runs/{}", r.id),
                "node_id": format!("CR_kwDO{}", j.id),
                "head_branch": "production",
                "head_sha": r.head_sha,
                "url": format!("{base}/repos/{REPO}/actions/jobs/{}", j.id),
                "html_url": format!("{base}/{REPO}/actions/runs/{}/job/{}", r.id, j.id),
                "status": j.status,
                "conclusion": j.conclusion,
                "created_at": r.created_at.to_string(),
                "started_at": j.started_at.map(|t| t.to_string()),
                "completed_at": j.completed_at.map(|t| t.to_string()),
                "name": j.name,
                "steps": [],
                "labels": ["ubuntu-latest"],
                "run_attempt": 1,
                "workflow_name": "deploy",
            })
        })
        .collect();
    axum::Json(json!({ "total_count": jobs.len(), "jobs": jobs })).into_response()
}

/// The pending deployment of a waiting run (§2.2).
pub(crate) fn pending_json(base: &str) -> Value {
    json!({
        "environment": {
            "id": ENVIRONMENT_ID,
            "node_id": "EN_kwDOAbc",
            "name": "production",
            "url": format!("{base}/repos/{REPO}/environments/production"),
            "html_url": format!("{base}/{REPO}/deployments/activity_log?environments_filter=production"),
        },
        "wait_timer": 0,
        "wait_timer_started_at": null,
        "current_user_can_approve": true,
        "reviewers": [ { "type": "User", "reviewer": { "login": REVIEWER, "id": 1, "type": "User" } } ],
    })
}

async fn pending(
    State(shared): St,
    Path((owner, repo, id)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> Response {
    let g = shared.github.lock().unwrap_or_else(|e| e.into_inner());
    let Some(r) = id
        .parse::<i64>()
        .ok()
        .filter(|_| ours(&owner, &repo))
        .and_then(|id| g.runs.iter().find(|r| r.id == id))
    else {
        return not_found();
    };
    let list = if r.waiting {
        vec![pending_json(&base(&headers))]
    } else {
        Vec::new()
    };
    axum::Json(Value::Array(list)).into_response()
}

pub(crate) fn next_deployment(shared: &Shared) -> i64 {
    let mut g = shared.github.lock().unwrap_or_else(|e| e.into_inner());
    g.next_deployment += 1;
    g.next_deployment
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
