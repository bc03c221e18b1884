//! The GitHub REST API: the few endpoints shipcheck needs (`external-apis.md` §2), as small
//! serde structs over [`crate::clients::api`]. Every list is read page by page up to a bound.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::clients::api::{Api, ApiError, Policy, Request, Service, next_link};
use crate::clients::{ClientError, Kit};
use crate::model::config::GithubConfig;

/// Permission of the read endpoints of Actions (runs, jobs, pending deployments).
pub const PERM_ACTIONS_READ: &str = "the repository permission \"Actions: read\" (fine-grained token or GitHub App), or the `repo` scope (classic token, private repositories)";
/// Permission of approving a pending deployment.
pub const PERM_DEPLOYMENTS_WRITE: &str = "the repository permission \"Deployments: write\" (fine-grained token), or the `repo` scope (classic token); its user must also be a required reviewer of the environment";
/// Permission of reading pull requests and their reviews.
pub const PERM_PULLS_READ: &str = "the repository permissions \"Pull requests: read\" and \"Contents: read\" (fine-grained token), or the `repo` scope (classic token, private repositories)";
/// Permission of reading check runs and commit statuses.
pub const PERM_CHECKS_READ: &str = "the repository permissions \"Checks: read\" and \"Commit statuses: read\" (fine-grained token), or the `repo` scope (classic token, private repositories)";

/// Pages read at most from one list.
const MAX_PAGES: usize = 10;

/// A pull request (as listed for a commit).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PullRequest {
    /// The number.
    pub number: u64,
    /// The title.
    #[serde(default)]
    pub title: String,
    /// The web page.
    #[serde(default)]
    pub html_url: String,
    /// open / closed.
    #[serde(default)]
    pub state: String,
    /// The author.
    #[serde(default)]
    pub user: Option<User>,
}

/// A user or bot.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct User {
    /// The login.
    pub login: String,
}

/// A pull request review.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Review {
    /// The id.
    #[serde(default)]
    pub id: u64,
    /// The reviewer (null for a deleted account).
    #[serde(default)]
    pub user: Option<User>,
    /// APPROVED, CHANGES_REQUESTED, COMMENTED, DISMISSED, PENDING.
    pub state: String,
    /// When it was submitted.
    #[serde(default)]
    pub submitted_at: Option<String>,
}

/// A check run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CheckRun {
    /// The name.
    pub name: String,
    /// queued, in_progress, completed, ...
    pub status: String,
    /// success, failure, neutral, cancelled, skipped, timed_out, action_required, stale.
    #[serde(default)]
    pub conclusion: Option<String>,
    /// The web page.
    #[serde(default)]
    pub html_url: Option<String>,
}

/// One commit status.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CommitStatus {
    /// The context (`ci/circleci`).
    pub context: String,
    /// success, pending, failure, error.
    pub state: String,
    /// Where it links to.
    #[serde(default)]
    pub target_url: Option<String>,
}

/// The combined status of a ref.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CombinedStatus {
    /// success, pending, failure, error (pending when there are no statuses).
    pub state: String,
    /// The statuses.
    #[serde(default)]
    pub statuses: Vec<CommitStatus>,
}

/// A workflow run (§2.1).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WorkflowRun {
    /// The run id.
    pub id: i64,
    /// The workflow's name.
    #[serde(default)]
    pub name: Option<String>,
    /// The branch.
    #[serde(default)]
    pub head_branch: Option<String>,
    /// The commit.
    pub head_sha: String,
    /// push, workflow_dispatch, ...
    #[serde(default)]
    pub event: String,
    /// queued, in_progress, waiting, completed, ...
    #[serde(default)]
    pub status: Option<String>,
    /// null until completed.
    #[serde(default)]
    pub conclusion: Option<String>,
    /// The run number.
    #[serde(default)]
    pub run_number: Option<i64>,
    /// The attempt.
    #[serde(default)]
    pub run_attempt: Option<i64>,
    /// The web page.
    #[serde(default)]
    pub html_url: String,
    /// When it was created.
    #[serde(default)]
    pub created_at: Option<String>,
    /// The workflow file (`.github/workflows/deploy.yml`).
    #[serde(default)]
    pub path: Option<String>,
}

#[derive(Deserialize)]
struct RunList {
    workflow_runs: Vec<WorkflowRun>,
}

/// An environment.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EnvironmentRef {
    /// The id (what an approval names).
    pub id: i64,
    /// The name.
    pub name: String,
    /// The web page.
    #[serde(default)]
    pub html_url: Option<String>,
}

/// A reviewer of a pending deployment.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Reviewer {
    /// User or Team.
    #[serde(rename = "type", default)]
    pub kind: String,
    /// The user or team object.
    #[serde(default)]
    pub reviewer: serde_json::Value,
}

impl Reviewer {
    /// The login or team slug.
    pub fn name(&self) -> String {
        ["login", "slug", "name"]
            .iter()
            .find_map(|k| self.reviewer.get(*k).and_then(|v| v.as_str()))
            .unwrap_or("?")
            .to_string()
    }
}

/// A deployment waiting for approval (§2.2).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PendingDeployment {
    /// The environment.
    pub environment: EnvironmentRef,
    /// Minutes of the wait timer.
    #[serde(default)]
    pub wait_timer: i64,
    /// Whether the token's user may approve it.
    pub current_user_can_approve: bool,
    /// Who may.
    #[serde(default)]
    pub reviewers: Vec<Reviewer>,
}

/// A deployment (the answer to an approval).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Deployment {
    /// The id.
    pub id: i64,
    /// The environment.
    #[serde(default)]
    pub environment: Option<String>,
    /// The commit.
    #[serde(default)]
    pub sha: Option<String>,
}

/// A job of a run (§2.3).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Job {
    /// The id.
    pub id: i64,
    /// The name.
    pub name: String,
    /// queued, in_progress, completed, waiting, ...
    pub status: String,
    /// null until completed.
    #[serde(default)]
    pub conclusion: Option<String>,
    /// The web page.
    #[serde(default)]
    pub html_url: Option<String>,
}

/// A GitHub client for the configured repository.
#[derive(Clone, Debug)]
pub struct GitHub {
    /// The HTTP client.
    pub api: Api,
    /// `[github]`.
    pub cfg: GithubConfig,
    repo_path: String,
}

impl GitHub {
    /// A client for `[github]`, with the token from the environment variable it names. `Err`
    /// names what is missing.
    pub fn new(cfg: &GithubConfig, kit: &Kit) -> Result<GitHub, ClientError> {
        let cfg = cfg.clone();
        let Some((owner, name)) = cfg.owner_name() else {
            return Err(ClientError(format!(
                "[github] repo = {:?} is not \"owner/name\"",
                cfg.repo
            )));
        };
        let repo_path = format!("/repos/{owner}/{name}");
        let token = crate::model::config::env_token(&cfg.token_env, "GitHub")
            .map_err(|e| ClientError(e.0))?;
        let api = Api::new(
            kit.http.clone(),
            Service::GitHub,
            &cfg.api_url,
            Some(format!("Bearer {token}")),
            Policy::from(cfg.limits()),
            kit.clock.clone(),
        )
        .with_header("accept", "application/vnd.github+json")
        .with_header("x-github-api-version", "2022-11-28");
        Ok(GitHub {
            api,
            cfg,
            repo_path,
        })
    }

    fn path(&self, rest: &str) -> String {
        format!("{}{rest}", self.repo_path)
    }

    /// Every page of a list; `field` names the array in an object answer (`jobs`).
    async fn paged<T: DeserializeOwned>(
        &self,
        first: Request,
        field: Option<&str>,
    ) -> Result<Vec<T>, ApiError> {
        let mut out = Vec::new();
        let mut req = first;
        for _ in 0..MAX_PAGES {
            let reply = self.api.send(req.clone()).await?;
            let value: serde_json::Value = reply.json()?;
            let list = match field {
                Some(f) => value.get(f).cloned(),
                None => Some(value),
            };
            let Some(serde_json::Value::Array(items)) = list else {
                return Err(reply.malformed(match field {
                    Some(f) => format!("expected an object with an array `{f}`"),
                    None => "expected an array".into(),
                }));
            };
            for item in items {
                out.push(serde_json::from_value(item).map_err(|e| reply.malformed(e.to_string()))?);
            }
            match next_link(&reply) {
                Some(url) => {
                    req = Request {
                        url,
                        query: Vec::new(),
                        ..req
                    }
                }
                None => return Ok(out),
            }
        }
        Ok(out)
    }

    /// The pull requests a commit belongs to.
    pub async fn pulls_for_commit(&self, sha: &str) -> Result<Vec<PullRequest>, ApiError> {
        let req = Request::get(
            self.path(&format!("/commits/{sha}/pulls")),
            format!("the pull requests of commit {sha} in {}", self.cfg.repo),
            PERM_PULLS_READ,
        )
        .query("per_page", 100);
        self.paged(req, None).await
    }

    /// The reviews of a pull request, oldest first.
    pub async fn reviews(&self, number: u64) -> Result<Vec<Review>, ApiError> {
        let req = Request::get(
            self.path(&format!("/pulls/{number}/reviews")),
            format!("the reviews of pull request #{number} in {}", self.cfg.repo),
            PERM_PULLS_READ,
        )
        .query("per_page", 100);
        self.paged(req, None).await
    }

    /// The commit SHA a branch or ref points to.
    pub async fn commit_sha(&self, git_ref: &str) -> Result<String, ApiError> {
        let reply = self
            .api
            .send(Request::get(
                self.path(&format!("/commits/{git_ref}")),
                format!("commit {git_ref} of {}", self.cfg.repo),
                PERM_CHECKS_READ,
            ))
            .await?;
        let v: serde_json::Value = reply.json()?;
        v.get("sha")
            .and_then(|s| s.as_str())
            .map(str::to_string)
            .ok_or_else(|| reply.malformed("no `sha` in the commit"))
    }

    /// The check runs of a commit.
    pub async fn check_runs(&self, sha: &str) -> Result<Vec<CheckRun>, ApiError> {
        let req = Request::get(
            self.path(&format!("/commits/{sha}/check-runs")),
            format!("the check runs of {sha} in {}", self.cfg.repo),
            PERM_CHECKS_READ,
        )
        .query("per_page", 100);
        self.paged(req, Some("check_runs")).await
    }

    /// The combined status of a commit.
    pub async fn combined_status(&self, sha: &str) -> Result<CombinedStatus, ApiError> {
        self.api
            .get_json(
                Request::get(
                    self.path(&format!("/commits/{sha}/status")),
                    format!("the combined status of {sha} in {}", self.cfg.repo),
                    PERM_CHECKS_READ,
                )
                .query("per_page", 100),
            )
            .await
    }

    /// Push runs of `sha` on `branch` (of the configured workflow, if any), newest first.
    pub async fn runs_for(&self, sha: &str, branch: &str) -> Result<Vec<WorkflowRun>, ApiError> {
        let path = match &self.cfg.workflow {
            Some(w) => self.path(&format!("/actions/workflows/{w}/runs")),
            None => self.path("/actions/runs"),
        };
        let what = match &self.cfg.workflow {
            Some(w) => format!("the runs of workflow {w} in {}", self.cfg.repo),
            None => format!("the workflow runs of {}", self.cfg.repo),
        };
        let list: RunList = self
            .api
            .get_json(
                Request::get(path, what, PERM_ACTIONS_READ)
                    .query("head_sha", sha)
                    .query("event", "push")
                    .query("branch", branch)
                    .query("per_page", 20),
            )
            .await?;
        let mut runs: Vec<WorkflowRun> = list
            .workflow_runs
            .into_iter()
            .filter(|r| {
                r.head_sha == sha
                    && r.event == "push"
                    && r.head_branch.as_deref().is_none_or(|b| b == branch)
            })
            .collect();
        runs.sort_by_key(|r| std::cmp::Reverse(r.id));
        Ok(runs)
    }

    /// One run.
    pub async fn run(&self, id: i64) -> Result<WorkflowRun, ApiError> {
        self.api
            .get_json(Request::get(
                self.path(&format!("/actions/runs/{id}")),
                format!("workflow run {id} of {}", self.cfg.repo),
                PERM_ACTIONS_READ,
            ))
            .await
    }

    /// The run's deployments waiting for approval.
    pub async fn pending_deployments(&self, id: i64) -> Result<Vec<PendingDeployment>, ApiError> {
        self.api
            .get_json(Request::get(
                self.path(&format!("/actions/runs/{id}/pending_deployments")),
                format!(
                    "the pending deployments of workflow run {id} of {}",
                    self.cfg.repo
                ),
                PERM_ACTIONS_READ,
            ))
            .await
    }

    /// Approves the pending deployments of `environment_ids` in run `id`.
    pub async fn approve(
        &self,
        id: i64,
        environment_ids: &[i64],
        comment: &str,
    ) -> Result<Vec<Deployment>, ApiError> {
        self.api
            .get_json(Request::post(
                self.path(&format!("/actions/runs/{id}/pending_deployments")),
                json!({
                    "environment_ids": environment_ids,
                    "state": "approved",
                    "comment": comment,
                }),
                format!("the approval of workflow run {id} of {}", self.cfg.repo),
                PERM_DEPLOYMENTS_WRITE,
            ))
            .await
    }

    /// The latest attempt's jobs of run `id`.
    pub async fn jobs(&self, id: i64) -> Result<Vec<Job>, ApiError> {
        let req = Request::get(
            self.path(&format!("/actions/runs/{id}/jobs")),
            format!("the jobs of workflow run {id} of {}", self.cfg.repo),
            PERM_ACTIONS_READ,
        )
        .query("filter", "latest")
        .query("per_page", 100);
        self.paged(req, Some("jobs")).await
    }
}
