//! The GitHub answers shipcheck reads, as small serde structs. Real answers vary by age and
//! by route (`fixtures/api/README.md`, G1–G7): a 2020 run has no `name`, `run_attempt`,
//! `display_title` or `path`, a webhook-embedded run has 21 keys, jobs carry no environment.
//! So every field whose meaning is clear without it is optional; the ones shipcheck cannot
//! do without (`id`, `head_sha`, a job's `name` and `status`, a pending deployment's
//! `environment` and `current_user_can_approve`) are required, and an answer without them is
//! an `error` naming the field.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

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
    /// The workflow's name (absent before 2021, `""` for some dispatch runs).
    #[serde(default)]
    pub name: Option<String>,
    /// The run's title (`run-name`, else the commit message or PR title); absent before 2022.
    #[serde(default)]
    pub display_title: Option<String>,
    /// The branch (the default branch for `workflow_run`, `schedule`, `repository_dispatch`).
    #[serde(default)]
    pub head_branch: Option<String>,
    /// The commit GitHub ran the workflow file of (for `workflow_run`: the default branch's
    /// latest commit, not the triggering run's).
    pub head_sha: String,
    /// push, workflow_dispatch, workflow_run, release, deployment, ...
    #[serde(default)]
    pub event: String,
    /// queued, in_progress, waiting, completed, ...
    #[serde(default)]
    pub status: Option<String>,
    /// null until completed.
    #[serde(default)]
    pub conclusion: Option<String>,
    /// The workflow's id.
    #[serde(default)]
    pub workflow_id: Option<i64>,
    /// The run number.
    #[serde(default)]
    pub run_number: Option<i64>,
    /// The attempt (absent before 2022).
    #[serde(default)]
    pub run_attempt: Option<i64>,
    /// The web page.
    #[serde(default)]
    pub html_url: String,
    /// When it was created.
    #[serde(default)]
    pub created_at: Option<Timestamp>,
    /// When it last changed (for a completed run: when it completed).
    #[serde(default)]
    pub updated_at: Option<Timestamp>,
    /// The workflow file (`.github/workflows/deploy.yml`, sometimes with `@ref`).
    #[serde(default)]
    pub path: Option<String>,
    /// Who started it.
    #[serde(default)]
    pub actor: Option<User>,
    /// Who started this attempt.
    #[serde(default)]
    pub triggering_actor: Option<User>,
}

impl WorkflowRun {
    /// The status, `unknown` when absent.
    pub fn state(&self) -> &str {
        self.status.as_deref().unwrap_or("unknown")
    }

    /// The workflow file's name (`deploy.yml`), from `path`.
    pub fn workflow_file(&self) -> Option<&str> {
        let path = self.path.as_deref()?;
        let path = path.split('@').next().unwrap_or(path);
        path.rsplit('/').next().filter(|f| !f.is_empty())
    }

    /// A name for people: the workflow's name, else its file, else `workflow`.
    pub fn label(&self) -> &str {
        self.name
            .as_deref()
            .filter(|n| !n.is_empty())
            .or_else(|| self.workflow_file())
            .unwrap_or("workflow")
    }

    /// Whether this run is of `workflow` (a file name like `deploy.yml`, a path ending in
    /// it, or the numeric workflow id). `None` when the run does not say (no `path`, no
    /// `workflow_id`).
    pub fn is_of(&self, workflow: &str) -> Option<bool> {
        let wanted = workflow.rsplit('/').next().unwrap_or(workflow);
        let by_file = self.workflow_file().map(|f| f == wanted);
        let by_id = self.workflow_id.map(|id| id.to_string() == workflow);
        match (by_file, by_id) {
            (Some(true), _) | (_, Some(true)) => Some(true),
            (None, None) => None,
            _ => Some(false),
        }
    }

    /// Who started the run (this attempt's actor first).
    pub fn started_by(&self) -> Option<&str> {
        self.triggering_actor
            .as_ref()
            .or(self.actor.as_ref())
            .map(|u| u.login.as_str())
    }
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
    /// The login (a user) or slug (a team).
    pub fn name(&self) -> String {
        let keys: &[&str] = if self.kind == "Team" {
            &["slug", "name", "login"]
        } else {
            &["login", "slug", "name"]
        };
        keys.iter()
            .find_map(|k| self.reviewer.get(*k).and_then(|v| v.as_str()))
            .unwrap_or("?")
            .to_string()
    }

    /// For people: `octocat`, or `team justice-league` (any of its members may approve).
    pub fn describe(&self) -> String {
        if self.kind == "Team" {
            format!("team {}", self.name())
        } else {
            self.name()
        }
    }
}

/// A deployment waiting for its protection rules (§2.2): required reviewers, a wait timer,
/// or a custom rule of a GitHub App.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PendingDeployment {
    /// The environment.
    pub environment: EnvironmentRef,
    /// Minutes of the wait timer (0: none).
    #[serde(default)]
    pub wait_timer: i64,
    /// When the wait timer started (null without one, or before it starts).
    #[serde(default)]
    pub wait_timer_started_at: Option<Timestamp>,
    /// Whether the token's user may approve it (false when not a required reviewer, or when
    /// the environment prevents self-review and this user started the run).
    pub current_user_can_approve: bool,
    /// Who may approve it: users and teams; one approval from any of them suffices.
    #[serde(default)]
    pub reviewers: Vec<Reviewer>,
}

impl PendingDeployment {
    /// When the wait timer ends, if there is one that has started.
    pub fn timer_ends_at(&self) -> Option<Timestamp> {
        if self.wait_timer <= 0 {
            return None;
        }
        let started = self.wait_timer_started_at?;
        started
            .checked_add(jiff::SignedDuration::from_mins(self.wait_timer))
            .ok()
    }

    /// The reviewers for people: `octocat, team justice-league`.
    pub fn who_can_approve(&self) -> Vec<String> {
        self.reviewers.iter().map(Reviewer::describe).collect()
    }
}

/// A deployment (`GET …/deployments`, and the answer to an approval).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Deployment {
    /// The id.
    pub id: i64,
    /// The environment.
    #[serde(default)]
    pub environment: Option<String>,
    /// The environment it was first created for, when it was renamed since.
    #[serde(default)]
    pub original_environment: Option<String>,
    /// The commit.
    #[serde(default)]
    pub sha: Option<String>,
    /// The ref.
    #[serde(rename = "ref", default)]
    pub git_ref: Option<String>,
    /// `deploy` for Actions' environment jobs.
    #[serde(default)]
    pub task: Option<String>,
    /// When it was created (when the job reached the environment).
    #[serde(default)]
    pub created_at: Option<Timestamp>,
    /// Who created it.
    #[serde(default)]
    pub creator: Option<User>,
}

/// A job of a run (§2.3). Jobs carry no environment (G1).
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

/// A status of a deployment (`GET|POST /repos/{o}/{r}/deployments/{id}/statuses`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DeploymentStatus {
    /// The id.
    pub id: i64,
    /// `error`, `failure`, `inactive`, `in_progress`, `queued`, `pending` or `success`.
    pub state: String,
    /// The description (up to 140 characters).
    #[serde(default)]
    pub description: Option<String>,
    /// The output's URL.
    #[serde(default)]
    pub log_url: Option<String>,
    /// The environment's URL.
    #[serde(default)]
    pub environment_url: Option<String>,
    /// When it was created.
    #[serde(default)]
    pub created_at: Option<Timestamp>,
}
