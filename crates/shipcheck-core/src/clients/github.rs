//! The GitHub REST API: the few endpoints shipcheck needs (`external-apis.md` §2), as small
//! serde structs over [`crate::clients::api`]. Every list is read page by page up to a bound.

pub mod types;

use jiff::Timestamp;
use serde::de::DeserializeOwned;
use serde_json::json;
pub use types::*;

use crate::clients::api::{Api, ApiError, Policy, Request, Service, next_link, read_json};
use crate::clients::{ClientError, Kit};
use crate::model::config::GithubConfig;

/// Permission of the read endpoints of Actions (runs, jobs, pending deployments).
pub const PERM_ACTIONS_READ: &str = "the repository permission \"Actions: read\" (fine-grained token or GitHub App), or the `repo` scope (classic token, private repositories)";
/// Permission of listing deployments.
pub const PERM_DEPLOYMENTS_READ: &str = "the repository permission \"Deployments: read\" (fine-grained token or GitHub App), or the `repo` scope (classic token, private repositories)";
/// Permission of approving a pending deployment.
pub const PERM_DEPLOYMENTS_WRITE: &str = "the repository permission \"Deployments: write\" (fine-grained token), or the `repo` scope (classic token); its user must also be a required reviewer of the environment";
/// Permission to post a deployment's statuses.
pub const PERM_DEPLOYMENT_STATUSES_WRITE: &str = "the repository permission \"Deployments: write\" (fine-grained token or GitHub App), or the `repo_deployment` scope (classic token)";
/// Permission of reading pull requests and their reviews.
pub const PERM_PULLS_READ: &str = "the repository permissions \"Pull requests: read\" and \"Contents: read\" (fine-grained token), or the `repo` scope (classic token, private repositories)";
/// Permission of reading check runs and commit statuses.
pub const PERM_CHECKS_READ: &str = "the repository permissions \"Checks: read\" and \"Commit statuses: read\" (fine-grained token), or the `repo` scope (classic token, private repositories)";

/// Pages read at most from one list.
pub const MAX_PAGES: usize = 10;

/// What [`GitHub::list_runs`] asks for.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RunFilter {
    /// Runs of this commit.
    pub head_sha: Option<String>,
    /// Runs started by this event.
    pub event: Option<String>,
    /// Runs on this branch.
    pub branch: Option<String>,
    /// Runs created at or after this time.
    pub created_since: Option<Timestamp>,
}

impl RunFilter {
    fn describe(&self) -> String {
        let mut parts = Vec::new();
        if let Some(s) = &self.head_sha {
            parts.push(format!("for commit {}", s.get(..7).unwrap_or(s)));
        }
        if let Some(e) = &self.event {
            parts.push(format!("started by {e}"));
        }
        if let Some(b) = &self.branch {
            parts.push(format!("on {b}"));
        }
        if let Some(t) = self.created_since {
            parts.push(format!("created since {t}"));
        }
        if parts.is_empty() {
            String::new()
        } else {
            format!(" ({})", parts.join(", "))
        }
    }
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
        .with_secrets(kit.secrets.clone())
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
            out.extend(read_page(&reply.body, field).map_err(|r| reply.malformed(r))?);
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
        read_commit_sha(&reply.body).map_err(|r| reply.malformed(r))
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

    /// Runs of the repository matching `filter`, newest first (by id), read page by page up
    /// to [`MAX_PAGES`] pages of 100 (GitHub caps a filtered list at 1,000 runs anyway).
    pub async fn list_runs(&self, filter: &RunFilter) -> Result<Vec<WorkflowRun>, ApiError> {
        let mut req = Request::get(
            self.path("/actions/runs"),
            format!(
                "the workflow runs of {}{}",
                self.cfg.repo,
                filter.describe()
            ),
            PERM_ACTIONS_READ,
        );
        if let Some(sha) = &filter.head_sha {
            req = req.query("head_sha", sha);
        }
        if let Some(event) = &filter.event {
            req = req.query("event", event);
        }
        if let Some(branch) = &filter.branch {
            req = req.query("branch", branch);
        }
        if let Some(since) = filter.created_since {
            req = req.query(
                "created",
                format!(">={}", since.round(jiff::Unit::Second).unwrap_or(since)),
            );
        }
        let mut runs: Vec<WorkflowRun> = self
            .paged(req.query("per_page", 100), Some("workflow_runs"))
            .await?;
        runs.sort_by_key(|r| std::cmp::Reverse(r.id));
        runs.dedup_by_key(|r| r.id);
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

    /// The deployments of `sha` to `environment`, newest first (one page of 30 is plenty: an
    /// Actions job creates one deployment per attempt).
    pub async fn deployments(
        &self,
        sha: &str,
        environment: &str,
    ) -> Result<Vec<Deployment>, ApiError> {
        self.api
            .get_json(
                Request::get(
                    self.path("/deployments"),
                    format!(
                        "the deployments of {} to {environment} in {}",
                        sha.get(..7).unwrap_or(sha),
                        self.cfg.repo
                    ),
                    PERM_DEPLOYMENTS_READ,
                )
                .query("sha", sha)
                .query("environment", environment)
                .query("per_page", 30),
            )
            .await
    }

    /// The statuses of deployment `id`, newest first (one page of 100: shipcheck posts at most
    /// four, and an Actions job a few).
    pub async fn deployment_statuses(&self, id: i64) -> Result<Vec<DeploymentStatus>, ApiError> {
        self.api
            .get_json(
                Request::get(
                    self.path(&format!("/deployments/{id}/statuses")),
                    format!("the statuses of deployment {id} in {}", self.cfg.repo),
                    PERM_DEPLOYMENTS_READ,
                )
                .query("per_page", 100),
            )
            .await
    }

    /// Posts a status (`body`: `state`, `description`, `log_url`, `environment_url`) to
    /// deployment `id`.
    pub async fn create_deployment_status(
        &self,
        id: i64,
        body: serde_json::Value,
    ) -> Result<DeploymentStatus, ApiError> {
        let state = body["state"].as_str().unwrap_or("?").to_string();
        self.api
            .get_json(Request::post(
                self.path(&format!("/deployments/{id}/statuses")),
                body,
                format!("the {state} status of deployment {id} in {}", self.cfg.repo),
                PERM_DEPLOYMENT_STATUSES_WRITE,
            ))
            .await
    }

    /// The API URL of deployment `id`'s statuses (for the request shown before it is sent).
    pub fn deployment_statuses_url(&self, id: i64) -> String {
        self.api
            .url(&self.path(&format!("/deployments/{id}/statuses")))
    }

    /// The API URL of the deployments of `sha` to `environment`.
    pub fn deployments_url(&self, sha: &str, environment: &str) -> String {
        format!(
            "{}?sha={sha}&environment={environment}",
            self.api.url(&self.path("/deployments"))
        )
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

/// Reads one page of a list answer: the array itself, or the array `field` of an object
/// (`jobs`). `Err` is the reason the answer is malformed.
pub fn read_page<T: DeserializeOwned>(body: &str, field: Option<&str>) -> Result<Vec<T>, String> {
    let value: serde_json::Value = read_json(body)?;
    let list = match field {
        Some(f) => value.get(f).cloned(),
        None => Some(value),
    };
    let Some(serde_json::Value::Array(items)) = list else {
        return Err(match field {
            Some(f) => format!("expected an object with an array `{f}`"),
            None => "expected an array".into(),
        });
    };
    items
        .into_iter()
        .map(|item| {
            serde_json::from_value(item)
                .map_err(|e| format!("an item that is not the documented shape: {e}"))
        })
        .collect()
}

/// Reads a commit's answer: its SHA.
pub fn read_commit_sha(body: &str) -> Result<String, String> {
    let v: serde_json::Value = read_json(body)?;
    v.get("sha")
        .and_then(|s| s.as_str())
        .map(str::to_string)
        .ok_or_else(|| "no `sha` in the commit".to_string())
}

#[cfg(test)]
mod tests;
