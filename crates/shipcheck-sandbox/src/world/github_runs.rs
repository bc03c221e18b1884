//! The GitHub stand-in's Actions: the repository's two workflows and their runs, in the shapes
//! recorded from GitHub (`fixtures/api/github`, findings G1–G7).
//!
//! - `test.yml` runs on every push of `production`: event `push`, `head_sha` the pushed
//!   commit, one job `test`.
//! - `deploy.yml` runs `on: workflow_run` of the test workflow's success, the way Fly's CI
//!   guide chains them: event `workflow_run`, and — like GitHub — `head_branch` the default
//!   branch ([`super::github::DEFAULT_BRANCH`]) and `head_sha` its latest commit, not the
//!   commit it deploys (which only the triggering run knows). Its `deploy-production` job
//!   waits for the `production` environment (status `waiting`, a pending deployment, and the
//!   deployment GitHub creates when a job reaches an environment).
//!
//! Endpoints: `GET …/actions/runs` (and per workflow) with `head_sha`, `event`, `branch`,
//! `status` and `created` (`>=`, `>`, `<=`, `<`, `a..b`), `…/runs/{id}`, `…/runs/{id}/jobs`,
//! `…/runs/{id}/pending_deployments`, `GET …/deployments?sha=&environment=`.

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::Shared;
use super::github::{
    DEFAULT_BRANCH, ENVIRONMENT_ID, GithubState, REPO, REVIEWER, TEST_WORKFLOW, WORKFLOW, base,
    not_found, ours,
};

/// The two workflows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Workflow {
    /// `test.yml`, on push.
    Test,
    /// `deploy.yml`, on workflow_run of the test workflow.
    Deploy,
}

impl Workflow {
    fn name(self) -> &'static str {
        match self {
            Workflow::Test => "test",
            Workflow::Deploy => "deploy",
        }
    }
    fn file(self) -> &'static str {
        match self {
            Workflow::Test => TEST_WORKFLOW,
            Workflow::Deploy => WORKFLOW,
        }
    }
    fn id(self) -> i64 {
        match self {
            Workflow::Test => 159_037,
            Workflow::Deploy => 159_038,
        }
    }
}

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
    pub(crate) workflow: Workflow,
    pub(crate) event: String,
    pub(crate) head_branch: String,
    /// What GitHub reports (for `workflow_run`: the default branch's tip).
    pub(crate) head_sha: String,
    /// The commit the run tests or deploys.
    pub(crate) deploys_sha: String,
    pub(crate) title: String,
    pub(crate) status: String,
    pub(crate) conclusion: Option<String>,
    pub(crate) created_at: Timestamp,
    pub(crate) updated_at: Timestamp,
    pub(crate) jobs: Vec<Job>,
    pub(crate) waiting: bool,
    pub(crate) approvals: Vec<String>,
}

/// A deployment GitHub created when a job reached the environment.
#[derive(Clone, Debug)]
pub struct DeploymentRecord {
    pub(crate) id: i64,
    pub(crate) run_id: i64,
    pub(crate) sha: String,
    pub(crate) git_ref: String,
    pub(crate) created_at: Timestamp,
}

/// What tests see of a run.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RunSnapshot {
    /// Id.
    pub id: i64,
    /// `test` or `deploy`.
    pub workflow: String,
    /// The event.
    pub event: String,
    /// The commit GitHub reports.
    pub head_sha: String,
    /// The commit it tests or deploys.
    pub deploys_sha: String,
    /// Status.
    pub status: String,
    /// Conclusion.
    pub conclusion: Option<String>,
    /// Approvals received (their comments).
    pub approvals: Vec<String>,
    /// Jobs: (name, status, conclusion).
    pub jobs: Vec<(String, String, Option<String>)>,
}

impl GithubState {
    /// Every run, oldest first, for tests.
    pub fn snapshots(&self) -> Vec<RunSnapshot> {
        self.runs
            .iter()
            .map(|r| RunSnapshot {
                id: r.id,
                workflow: r.workflow.name().into(),
                event: r.event.clone(),
                head_sha: r.head_sha.clone(),
                deploys_sha: r.deploys_sha.clone(),
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

    fn job(&mut self, name: &str, status: &str, conclusion: Option<&str>, now: Timestamp) -> Job {
        self.next_job += 1;
        Job {
            id: self.next_job,
            name: name.into(),
            status: status.into(),
            conclusion: conclusion.map(str::to_string),
            started_at: (status != "queued" && status != "waiting").then_some(now),
            completed_at: conclusion.map(|_| now),
        }
    }

    fn add(&mut self, mut run: Run) -> i64 {
        run.id = self.next_id;
        run.run_number = 562 + self.runs.len() as i64;
        self.next_id += 1;
        let id = run.id;
        self.runs.push(run);
        id
    }

    /// The test workflow's run for a push of `sha` to `production`.
    pub(crate) fn push(&mut self, sha: &str, subject: &str, now: Timestamp) -> i64 {
        let jobs = vec![self.job("test", "in_progress", None, now)];
        self.seen = sha.to_string();
        self.add(Run {
            id: 0,
            run_number: 0,
            workflow: Workflow::Test,
            event: "push".into(),
            head_branch: "production".into(),
            head_sha: sha.into(),
            deploys_sha: sha.into(),
            title: subject.into(),
            status: "in_progress".into(),
            conclusion: None,
            created_at: now,
            updated_at: now,
            jobs,
            waiting: false,
            approvals: Vec::new(),
        })
    }

    /// The deploy workflow's run, triggered by the test run's success: on the default
    /// branch's tip `default_tip`, deploying `sha`, waiting for `production` (with the
    /// deployment GitHub creates for the waiting job).
    pub(crate) fn trigger_deploy(&mut self, sha: &str, default_tip: &str, now: Timestamp) -> i64 {
        let jobs = vec![
            self.job("build", "completed", Some("success"), now),
            self.job("deploy-production", "waiting", None, now),
            self.job("health-check", "queued", None, now),
        ];
        let id = self.add(Run {
            id: 0,
            run_number: 0,
            workflow: Workflow::Deploy,
            event: "workflow_run".into(),
            head_branch: DEFAULT_BRANCH.into(),
            head_sha: default_tip.into(),
            deploys_sha: sha.into(),
            title: "Deploy to production".into(),
            status: "waiting".into(),
            conclusion: None,
            created_at: now,
            updated_at: now,
            jobs,
            waiting: true,
            approvals: Vec::new(),
        });
        self.next_deployment += 1;
        self.deployments.push(DeploymentRecord {
            id: self.next_deployment,
            run_id: id,
            sha: default_tip.into(),
            git_ref: DEFAULT_BRANCH.into(),
            created_at: now,
        });
        id
    }

    pub(crate) fn run_mut(&mut self, id: i64) -> Option<&mut Run> {
        self.runs.iter_mut().find(|r| r.id == id)
    }

    /// The deployment of run `id`.
    pub(crate) fn deployment_of(&self, id: i64) -> Option<&DeploymentRecord> {
        self.deployments.iter().find(|d| d.run_id == id)
    }
}

pub(crate) fn run_json(base: &str, r: &Run) -> Value {
    let api = format!("{base}/repos/{REPO}/actions/runs/{}", r.id);
    let actor = json!({ "login": REVIEWER, "id": 1, "type": "User" });
    json!({
        "id": r.id,
        "name": r.workflow.name(),
        "node_id": format!("WFR_kwLO{}", r.id),
        "head_branch": r.head_branch,
        "head_sha": r.head_sha,
        "path": format!(".github/workflows/{}", r.workflow.file()),
        "display_title": r.title,
        "run_number": r.run_number,
        "run_attempt": 1,
        "referenced_workflows": [],
        "event": r.event,
        "status": r.status,
        "conclusion": r.conclusion,
        "workflow_id": r.workflow.id(),
        "check_suite_id": r.id + 1_000_000,
        "url": api,
        "html_url": format!("{base}/{REPO}/actions/runs/{}", r.id),
        "pull_requests": [],
        "created_at": r.created_at.to_string(),
        "updated_at": r.updated_at.to_string(),
        "actor": actor,
        "run_started_at": r.created_at.to_string(),
        "triggering_actor": actor,
        "jobs_url": format!("{api}/jobs"),
        "logs_url": format!("{api}/logs"),
        "cancel_url": format!("{api}/cancel"),
        "rerun_url": format!("{api}/rerun"),
        "previous_attempt_url": null,
        "workflow_url": format!("{base}/repos/{REPO}/actions/workflows/{}", r.workflow.id()),
        "head_commit": { "id": r.head_sha, "tree_id": null, "message": r.title },
    })
}

type St = State<Arc<Shared>>;

#[derive(Deserialize)]
pub(crate) struct RunQuery {
    head_sha: Option<String>,
    branch: Option<String>,
    event: Option<String>,
    status: Option<String>,
    created: Option<String>,
}

/// GitHub's date-range search syntax, enough of it: `>=T`, `>T`, `<=T`, `<T`, `A..B`.
fn in_range(range: &str, t: Timestamp) -> bool {
    let at = |s: &str| s.trim().parse::<Timestamp>().ok();
    if let Some((a, b)) = range.split_once("..") {
        return at(a).is_none_or(|a| t >= a) && at(b).is_none_or(|b| t <= b);
    }
    for (op, f) in [
        (">=", (|t, x| t >= x) as fn(Timestamp, Timestamp) -> bool),
        ("<=", |t, x| t <= x),
        (">", |t, x| t > x),
        ("<", |t, x| t < x),
    ] {
        if let Some(rest) = range.strip_prefix(op) {
            return at(rest).is_some_and(|x| f(t, x));
        }
    }
    at(range).is_some_and(|x| t == x)
}

fn runs_answer(
    shared: &Shared,
    headers: &HeaderMap,
    q: &RunQuery,
    workflow: Option<Workflow>,
) -> Response {
    let g = shared.github.lock().unwrap_or_else(|e| e.into_inner());
    let base = base(headers);
    let list: Vec<Value> = g
        .runs
        .iter()
        .rev()
        .filter(|r| workflow.is_none_or(|w| w == r.workflow))
        .filter(|r| q.head_sha.as_deref().is_none_or(|s| s == r.head_sha))
        .filter(|r| q.branch.as_deref().is_none_or(|b| b == r.head_branch))
        .filter(|r| q.event.as_deref().is_none_or(|e| e == r.event))
        .filter(|r| {
            q.status
                .as_deref()
                .is_none_or(|s| s == r.status || r.conclusion.as_deref() == Some(s))
        })
        .filter(|r| {
            q.created
                .as_deref()
                .is_none_or(|c| in_range(c, r.created_at))
        })
        .map(|r| run_json(&base, r))
        .collect();
    axum::Json(json!({ "total_count": list.len(), "workflow_runs": list })).into_response()
}

pub(crate) async fn list_runs(
    State(shared): St,
    Path((owner, repo)): Path<(String, String)>,
    Query(q): Query<RunQuery>,
    headers: HeaderMap,
) -> Response {
    if !ours(&owner, &repo) {
        return not_found();
    }
    runs_answer(&shared, &headers, &q, None)
}

pub(crate) async fn list_workflow_runs(
    State(shared): St,
    Path((owner, repo, workflow)): Path<(String, String, String)>,
    Query(q): Query<RunQuery>,
    headers: HeaderMap,
) -> Response {
    let w = [Workflow::Test, Workflow::Deploy]
        .into_iter()
        .find(|w| workflow == w.file() || workflow == w.id().to_string());
    match w {
        Some(w) if ours(&owner, &repo) => runs_answer(&shared, &headers, &q, Some(w)),
        _ => not_found(),
    }
}

fn find<'a>(g: &'a GithubState, owner: &str, repo: &str, id: &str) -> Option<&'a Run> {
    id.parse::<i64>()
        .ok()
        .filter(|_| ours(owner, repo))
        .and_then(|id| g.runs.iter().find(|r| r.id == id))
}

pub(crate) async fn get_run(
    State(shared): St,
    Path((owner, repo, id)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> Response {
    let g = shared.github.lock().unwrap_or_else(|e| e.into_inner());
    match find(&g, &owner, &repo, &id) {
        Some(r) => axum::Json(run_json(&base(&headers), r)).into_response(),
        None => not_found(),
    }
}

/// Jobs as GitHub lists them: no environment on a job (G1).
pub(crate) async fn jobs(
    State(shared): St,
    Path((owner, repo, id)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> Response {
    let g = shared.github.lock().unwrap_or_else(|e| e.into_inner());
    let Some(r) = find(&g, &owner, &repo, &id) else {
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
                "workflow_name": r.workflow.name(),
                "head_branch": r.head_branch,
                "run_url": format!("{base}/repos/{REPO}/actions/runs/{}", r.id),
                "run_attempt": 1,
                "node_id": format!("CR_kwDO{}", j.id),
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
                "check_run_url": format!("{base}/repos/{REPO}/check-runs/{}", j.id),
                "labels": ["ubuntu-latest"],
                "runner_id": null,
                "runner_name": null,
                "runner_group_id": null,
                "runner_group_name": null,
            })
        })
        .collect();
    axum::Json(json!({ "total_count": jobs.len(), "jobs": jobs })).into_response()
}

/// The pending deployment of a waiting deploy run (§2.2).
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

pub(crate) async fn pending(
    State(shared): St,
    Path((owner, repo, id)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> Response {
    let g = shared.github.lock().unwrap_or_else(|e| e.into_inner());
    let Some(r) = find(&g, &owner, &repo, &id) else {
        return not_found();
    };
    let list = if r.waiting {
        vec![pending_json(&base(&headers))]
    } else {
        Vec::new()
    };
    axum::Json(Value::Array(list)).into_response()
}

/// A deployment as the deployments API returns it (G7: Actions' have task `deploy`,
/// `payload: {}`, `performed_via_github_app.slug: "github-actions"`).
pub(crate) fn deployment_json(base: &str, d: &DeploymentRecord) -> Value {
    json!({
        "url": format!("{base}/repos/{REPO}/deployments/{}", d.id),
        "id": d.id,
        "node_id": format!("DE_kwDO{}", d.id),
        "task": "deploy",
        "original_environment": "production",
        "environment": "production",
        "description": null,
        "created_at": d.created_at.to_string(),
        "updated_at": d.created_at.to_string(),
        "statuses_url": format!("{base}/repos/{REPO}/deployments/{}/statuses", d.id),
        "repository_url": format!("{base}/repos/{REPO}"),
        "creator": { "login": REVIEWER, "id": 1, "type": "User" },
        "sha": d.sha,
        "ref": d.git_ref,
        "payload": {},
        "transient_environment": false,
        "production_environment": true,
        "performed_via_github_app": { "id": 15368, "slug": "github-actions", "name": "GitHub Actions" },
    })
}

#[derive(Deserialize)]
pub(crate) struct DeploymentQuery {
    sha: Option<String>,
    environment: Option<String>,
}

pub(crate) async fn deployments(
    State(shared): St,
    Path((owner, repo)): Path<(String, String)>,
    Query(q): Query<DeploymentQuery>,
    headers: HeaderMap,
) -> Response {
    if !ours(&owner, &repo) {
        return not_found();
    }
    let g = shared.github.lock().unwrap_or_else(|e| e.into_inner());
    let base = base(&headers);
    let list: Vec<Value> = g
        .deployments
        .iter()
        .rev()
        .filter(|d| {
            q.sha
                .as_deref()
                .is_none_or(|s| s == d.sha || s == d.git_ref)
        })
        .filter(|_| q.environment.as_deref().is_none_or(|e| e == "production"))
        .map(|d| deployment_json(&base, d))
        .collect();
    axum::Json(Value::Array(list)).into_response()
}
