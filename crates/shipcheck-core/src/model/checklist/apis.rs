//! Check and action specifications backed by `[github]`, `[sentry]`, `[slack]`,
//! `[prometheus]` and `[database]`, and the rule that an item whose table is absent runs as a
//! manual item with the reason ([`apply_integration_fallbacks`]).

use serde::{Deserialize, Serialize};

fn production() -> String {
    "production".into()
}

/// `github.reviews`: every commit of `production..staging` belongs to a pull request approved
/// by someone other than its author, with no outstanding "changes requested".
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GithubReviewsCheck {}

/// `github.checks`: the check runs and commit statuses of the branch head all succeeded.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GithubChecksCheck {
    /// The branch (default `[git] staging`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub branch: Option<String>,
}

/// `github.workflow`: the push run of the release merge commit on the production branch
/// appears within `[github] workflow_timeout`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GithubWorkflowCheck {}

/// `github.pending`: the run waits for approval of the configured environment, and its head
/// commit is the release merge commit.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GithubPendingCheck {}

/// `github.jobs`: follows the run's jobs to completion.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GithubJobsCheck {
    /// Only the `[github] health_jobs` must have succeeded (`verify.actions-health`);
    /// otherwise every job and the run must succeed.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub health: bool,
}

/// `sentry.rate`: the error rate since the deploy is not above the baseline + tolerance.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SentryRateCheck {}

/// `sentry.new_issues`: no issue first seen since the deploy started.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SentryNewIssuesCheck {}

/// Built-in query sets for Fly's managed Prometheus.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum PrometheusPreset {
    /// CPU busy fraction (`< 0.8`) and memory used fraction (`< 0.9`) per instance.
    CpuMemory,
    /// p95 edge response time in seconds (`< 2`), and at most 1.5× its value just before the
    /// deploy.
    ResponseTime,
}

/// `prometheus`: an instant query per production app against a condition.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PrometheusCheck {
    /// A built-in query set (Fly's metrics) instead of `query`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preset: Option<PrometheusPreset>,
    /// PromQL; `{app}` is replaced by each app's Fly app name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query: Option<String>,
    /// `< 0.8`, `<= 2`, `> 0`, `== 1`, `!= 0`: every series must satisfy it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub condition: Option<String>,
    /// Also at most this multiple of the same query evaluated just before the deploy (when
    /// `release.merge` was done, else at the run's start).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub baseline_factor: Option<f64>,
    /// The environment whose apps fill `{app}` (default `production`).
    #[serde(default = "production")]
    pub env: String,
    /// A name for the query in evidence (default `query`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// `postgres.health`: connections, long queries and transactions, blocked sessions.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PostgresHealthCheck {}

/// `postgres.migrations`: the staging database has applied the newest migration changed in
/// `production..staging`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PostgresMigrationsCheck {
    /// Globs of migration files in the repository (default: `[paths] migrations`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paths: Option<Vec<String>>,
}

/// `github.approve`: approves the run's pending deployment of the configured environment.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GithubApproveAction {}

/// Which Slack message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum SlackMessage {
    /// The deployment time (`prepare.team-notified`).
    TeamNotified,
    /// "Starting production deployment".
    Starting,
    /// "⚠️ Issue detected in production. Investigating...".
    Incident,
    /// "Deployment stable".
    Stable,
}

/// `slack.notify`: posts one message to the webhook (at most once).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SlackNotifyAction {
    /// Which message.
    pub message: SlackMessage,
}

/// `sentry.release`: creates the release for the merge commit and a deploy of it for each
/// production app (its `sentry_project`), with the run's start and end.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SentryReleaseAction {}

/// `github.deployment_status`: marks the GitHub deployment of the release (the one the
/// workflow's environment created) `in_progress` while shipcheck watches; the run's later
/// statuses (`failure`, `inactive`, `success`) follow on that deployment.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GithubDeploymentStatusAction {}
