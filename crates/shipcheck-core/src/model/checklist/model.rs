//! The checklist's vocabulary: phases, items, kinds, conditions and check specifications.
//!
//! These types are both the config input (`[[checklist.items]]`) and what a run stores when it
//! starts, so a run keeps the checklist it was started with even if the config changes later.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::model::duration::Span;

/// The eight phases of a deployment, in order.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// Pre-Deployment (1-2 days before).
    Prepare,
    /// Day of Deployment, Pre-Deploy (1 hour before).
    Preflight,
    /// Merge to Production.
    Release,
    /// Approve Deployment.
    Approve,
    /// Monitor Deployment.
    Rollout,
    /// Post-Deployment (Immediately After).
    Verify,
    /// Ongoing Monitoring (Next 1-2 Hours).
    Watch,
    /// End of Day.
    Close,
}

impl Phase {
    /// Every phase in order.
    pub const ALL: [Phase; 8] = [
        Phase::Prepare,
        Phase::Preflight,
        Phase::Release,
        Phase::Approve,
        Phase::Rollout,
        Phase::Verify,
        Phase::Watch,
        Phase::Close,
    ];

    /// The id used in config, item ids and the CLI.
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Prepare => "prepare",
            Phase::Preflight => "preflight",
            Phase::Release => "release",
            Phase::Approve => "approve",
            Phase::Rollout => "rollout",
            Phase::Verify => "verify",
            Phase::Watch => "watch",
            Phase::Close => "close",
        }
    }

    /// The seed checklist's heading for this phase.
    pub fn heading(self) -> &'static str {
        match self {
            Phase::Prepare => "Pre-Deployment (1-2 days before)",
            Phase::Preflight => "Day of Deployment: Pre-Deploy (1 hour before)",
            Phase::Release => "Day of Deployment: Merge to Production",
            Phase::Approve => "Day of Deployment: Approve Deployment",
            Phase::Rollout => "Day of Deployment: Monitor Deployment",
            Phase::Verify => "Post-Deployment (Immediately After)",
            Phase::Watch => "Ongoing Monitoring (Next 1-2 Hours)",
            Phase::Close => "End of Day",
        }
    }

    /// The phase after this one, if any.
    pub fn next(self) -> Option<Phase> {
        let i = Phase::ALL.iter().position(|p| *p == self)?;
        Phase::ALL.get(i + 1).copied()
    }

    /// Parses a phase id (`"prepare"`); `None` if it names no phase.
    pub fn parse(s: &str) -> Option<Phase> {
        Phase::ALL.into_iter().find(|p| p.as_str() == s)
    }
}

impl std::fmt::Display for Phase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What an item is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ItemKind {
    /// Automatic, with evidence.
    Check,
    /// A side effect shipcheck performs, journaled, with confirmation.
    Action,
    /// A person confirms; shipcheck records who, when and a note.
    Manual,
}

impl ItemKind {
    /// The id used in config and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            ItemKind::Check => "check",
            ItemKind::Action => "action",
            ItemKind::Manual => "manual",
        }
    }
}

/// One line of the checklist.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Item {
    /// Stable id, `phase.name` (`prepare.backup`).
    pub id: String,
    /// The phase the item belongs to.
    pub phase: Phase,
    /// The seed's sub-heading within the phase ("Testing", "Code Review", ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub section: Option<String>,
    /// The seed's wording.
    pub title: String,
    /// check, action or manual.
    pub kind: ItemKind,
    /// Whether the phase's gate waits for this item.
    #[serde(default = "yes")]
    pub required: bool,
    /// Only required when the change set triggers it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub when: Option<Condition>,
    /// How an automatic item is checked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub check: Option<CheckSpec>,
    /// What an action item does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action: Option<ActionSpec>,
    /// Per-item timeout for its check or action (default from the engine).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<Span>,
    /// Set when the item's automation is not available (yet, or not configured): the item
    /// then runs as a manual item and this text says why, plainly. Never a pass.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manual_because: Option<String>,
    /// A tick must carry a note (the note is the content, e.g. the DB rollback plan).
    #[serde(default, skip_serializing_if = "is_false")]
    pub note_required: bool,
    /// A tick must come from someone other than the person who started the run.
    #[serde(default, skip_serializing_if = "is_false")]
    pub other_than_deployer: bool,
    /// Longer help shown next to a manual item: what to look at before ticking.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub help: Option<String>,
}

fn yes() -> bool {
    true
}

fn is_false(b: &bool) -> bool {
    !*b
}

impl Item {
    /// Whether shipcheck evaluates the item itself (a check with a check spec and no reason
    /// to fall back to a person).
    pub fn is_automatic(&self) -> bool {
        self.manual_because.is_none() && self.kind == ItemKind::Check && self.check.is_some()
    }

    /// Whether shipcheck performs the item (an action it knows how to do).
    pub fn is_performed(&self) -> bool {
        self.manual_because.is_none() && self.kind == ItemKind::Action && self.action.is_some()
    }

    /// A manual item with a check: the check runs to show evidence before the person ticks,
    /// and never settles the item itself (`prepare.env-reviewed` shows the env differences).
    pub fn has_evidence_check(&self) -> bool {
        self.manual_because.is_none() && self.kind == ItemKind::Manual && self.check.is_some()
    }

    /// Whether a person ticks the item: manual items, and any item that fell back to manual.
    pub fn is_ticked_by_person(&self) -> bool {
        !self.is_automatic() && !self.is_performed()
    }
}

/// When an item is required. Any true part makes it required; an item whose condition is
/// false is recorded `not_required` with the reason.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Condition {
    /// Globs of repository paths; any changed file matching one triggers the item.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub paths_changed: Vec<String>,
    /// Names of `[paths]` groups (`auth`, `migrations`, ...); a changed file in the group
    /// triggers the item.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub path_groups: Vec<String>,
    /// More than this many files changed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub files_changed_over: Option<u64>,
    /// More than this many lines changed (insertions plus deletions).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lines_changed_over: Option<u64>,
}

/// Expected HTTP status: one code or a list.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(untagged)]
pub enum StatusSpec {
    /// One code.
    One(u16),
    /// Any of these.
    Any(Vec<u16>),
}

impl Default for StatusSpec {
    fn default() -> Self {
        StatusSpec::One(200)
    }
}

impl StatusSpec {
    /// Whether `status` is expected.
    pub fn accepts(&self, status: u16) -> bool {
        match self {
            StatusSpec::One(s) => *s == status,
            StatusSpec::Any(list) => list.contains(&status),
        }
    }
}

/// An HTTP probe.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HttpCheck {
    /// The URL to request.
    pub url: String,
    /// HTTP method (default GET).
    #[serde(default = "get")]
    pub method: String,
    /// Expected status, one code or a list (default 200).
    #[serde(default)]
    pub expect_status: StatusSpec,
    /// Timeout of one attempt (default 10s).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<Span>,
    /// Further attempts after a failed one (default 2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retries: Option<u32>,
    /// Wait before the first retry, doubled each time (default 500ms).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backoff: Option<Span>,
    /// The body must contain this text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body_contains: Option<String>,
    /// A JSON pointer into the body (`/status`) that must equal `json_equals`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub json_pointer: Option<String>,
    /// The value at `json_pointer`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub json_equals: Option<serde_json::Value>,
    /// Request headers.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, String>,
}

fn get() -> String {
    "GET".into()
}

/// Probe every app's health URL in one environment, concurrently.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HealthCheck {
    /// `staging` or `production` (any environment in the config).
    pub env: String,
    /// Timeout of one attempt (default 10s).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<Span>,
    /// Further attempts after a failed one (default 2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retries: Option<u32>,
}

/// Run a program.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CommandCheck {
    /// Program and arguments, run directly (no shell): `["pnpm", "test"]`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub argv: Vec<String>,
    /// Or a shell line the user wrote, run with `sh -c`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shell: Option<String>,
    /// Working directory, relative to the config file's directory (default: the git repository).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dir: Option<String>,
    /// Timeout (default 10m).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<Span>,
    /// Extra environment variables.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub env: BTreeMap<String, String>,
}

/// The deploy window, from `[window]`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WindowCheck {}

/// Re-run other items' checks (the seed's "Check staging one final time").
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RerunCheck {
    /// Item ids whose checks run again.
    pub items: Vec<String>,
}

/// The built-in load test (`shipcheck loadtest`) as a check: against `url`, or else against
/// every app of `env` that has a `health_url`, one app after another. Only loopback and the
/// staging apps' hosts are accepted as targets.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LoadtestCheck {
    /// One URL to load-test instead of the environment's health URLs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// The environment whose apps' health URLs are load-tested (default `staging`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub env: Option<String>,
    /// Connections (default 10).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub concurrency: Option<usize>,
    /// Requests per second, the open model (default: as fast as answers come, the closed model).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate: Option<f64>,
    /// How long per target (default 10s unless `requests` is set).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration: Option<Span>,
    /// How many requests per target.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requests: Option<u64>,
    /// Timeout of one request (default 10s).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<Span>,
    /// Fail when the 95th percentile latency is above this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_p95: Option<Span>,
    /// Fail when the 99th percentile latency is above this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_p99: Option<Span>,
    /// Fail when more than this share of requests fail or answer 4xx/5xx (`0.01` = 1 %).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_error_rate: Option<f64>,
    /// Fail when fewer answers per second than this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_rps: Option<f64>,
    /// Fail when the 95th percentile grew by more than this share since the previous run's
    /// load test of the same URL (`0.5` = 50 % slower).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_p95_increase: Option<f64>,
}

/// How an automatic item is checked. `type` selects the kind.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum CheckSpec {
    /// One HTTP probe.
    Http(HttpCheck),
    /// Every app's health URL in an environment.
    Health(HealthCheck),
    /// A program or shell line; pass on exit 0.
    Command(CommandCheck),
    /// Now (or the run's scheduled time) inside the deploy window.
    Window(WindowCheck),
    /// Other items' checks again.
    Rerun(RerunCheck),
    /// There is something to ship in `production..staging`; the commits are the evidence.
    #[serde(rename = "git.pending")]
    GitPending(GitCheck),
    /// The `[paths] changelog` file changed in the change set.
    #[serde(rename = "git.changelog")]
    GitChangelog(GitCheck),
    /// No `[paths] todo_patterns` in lines added under the `critical` paths.
    #[serde(rename = "git.todo")]
    GitTodo(GitCheck),
    /// `api` paths changed ⇒ `api_docs` paths changed.
    #[serde(rename = "git.docs")]
    GitDocs(GitCheck),
    /// Working tree clean; local staging and production match the remote.
    #[serde(rename = "git.clean")]
    GitClean(GitCheck),
    /// Every machine of every app in its region.
    #[serde(rename = "fly.region")]
    FlyRegion(crate::model::checklist::fly::FlyRegionCheck),
    /// Required secret names present; parity with staging.
    #[serde(rename = "fly.secrets")]
    FlySecrets(crate::model::checklist::fly::FlySecretsCheck),
    /// Env differences between staging and production app configs (evidence).
    #[serde(rename = "fly.env")]
    FlyEnv(crate::model::checklist::fly::FlyEnvCheck),
    /// Record rollback targets, or check each app has a newer complete release.
    #[serde(rename = "fly.releases")]
    FlyReleases(crate::model::checklist::fly::FlyReleasesCheck),
    /// Machines started, on the current release, checks passing.
    #[serde(rename = "fly.status")]
    FlyStatus(crate::model::checklist::fly::FlyStatusCheck),
    /// Every app serves the promoted commit.
    #[serde(rename = "fly.version")]
    FlyVersion(crate::model::checklist::fly::FlyVersionCheck),
    /// Logs after the deploy scanned for error patterns.
    #[serde(rename = "fly.logs")]
    FlyLogs(crate::model::checklist::fly::FlyLogsCheck),
    /// Every commit of production..staging in an approved pull request.
    #[serde(rename = "github.reviews")]
    GithubReviews(crate::model::checklist::apis::GithubReviewsCheck),
    /// The check runs and statuses of the staging head all succeeded.
    #[serde(rename = "github.checks")]
    GithubChecks(crate::model::checklist::apis::GithubChecksCheck),
    /// The workflow run of the release merge commit appeared.
    #[serde(rename = "github.workflow")]
    GithubWorkflow(crate::model::checklist::apis::GithubWorkflowCheck),
    /// The run's pending deployment, and its head commit is the merge commit.
    #[serde(rename = "github.pending")]
    GithubPending(crate::model::checklist::apis::GithubPendingCheck),
    /// The run's jobs, followed to completion.
    #[serde(rename = "github.jobs")]
    GithubJobs(crate::model::checklist::apis::GithubJobsCheck),
    /// Sentry's error rate since the deploy against the baseline.
    #[serde(rename = "sentry.rate")]
    SentryRate(crate::model::checklist::apis::SentryRateCheck),
    /// Sentry issues first seen since the deploy.
    #[serde(rename = "sentry.new_issues")]
    SentryNewIssues(crate::model::checklist::apis::SentryNewIssuesCheck),
    /// A Prometheus instant query against a condition.
    #[serde(rename = "prometheus")]
    Prometheus(crate::model::checklist::apis::PrometheusCheck),
    /// PostgreSQL connections, long queries and transactions, blocked sessions.
    #[serde(rename = "postgres.health")]
    PostgresHealth(crate::model::checklist::apis::PostgresHealthCheck),
    /// The staging database has the newest migration.
    #[serde(rename = "postgres.migrations")]
    PostgresMigrations(crate::model::checklist::apis::PostgresMigrationsCheck),
    /// Production healthy in the baseline measured before the merge (`preflight`).
    #[serde(rename = "monitor.baseline")]
    MonitorBaseline(MonitorCheck),
    /// Response times now vs the baseline measured before the release.
    #[serde(rename = "monitor.response_times")]
    MonitorResponseTimes(MonitorCheck),
    /// The watch's verdict on health and error rates.
    #[serde(rename = "monitor.error_rates")]
    MonitorErrorRates(MonitorCheck),
    /// The watch's verdict on latency and resources.
    #[serde(rename = "monitor.metrics")]
    MonitorMetrics(MonitorCheck),
    /// One last evaluation of every signal.
    #[serde(rename = "monitor.final")]
    MonitorFinal(MonitorCheck),
    /// No critical incident open.
    #[serde(rename = "monitor.no_critical")]
    MonitorNoCritical(MonitorCheck),
    /// The built-in load test.
    Loadtest(LoadtestCheck),
}

/// A check (or action) of the watch; its settings come from `[monitor]` and `[incident]`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MonitorCheck {}

/// A git check; its settings come from `[git]` and `[paths]`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GitCheck {}

impl CheckSpec {
    /// The `type` as written in config.
    pub fn type_name(&self) -> &'static str {
        match self {
            CheckSpec::Http(_) => "http",
            CheckSpec::Health(_) => "health",
            CheckSpec::Command(_) => "command",
            CheckSpec::Window(_) => "window",
            CheckSpec::Rerun(_) => "rerun",
            CheckSpec::GitPending(_) => "git.pending",
            CheckSpec::GitChangelog(_) => "git.changelog",
            CheckSpec::GitTodo(_) => "git.todo",
            CheckSpec::GitDocs(_) => "git.docs",
            CheckSpec::GitClean(_) => "git.clean",
            CheckSpec::FlyRegion(_) => "fly.region",
            CheckSpec::FlySecrets(_) => "fly.secrets",
            CheckSpec::FlyEnv(_) => "fly.env",
            CheckSpec::FlyReleases(_) => "fly.releases",
            CheckSpec::FlyStatus(_) => "fly.status",
            CheckSpec::FlyVersion(_) => "fly.version",
            CheckSpec::FlyLogs(_) => "fly.logs",
            CheckSpec::GithubReviews(_) => "github.reviews",
            CheckSpec::GithubChecks(_) => "github.checks",
            CheckSpec::GithubWorkflow(_) => "github.workflow",
            CheckSpec::GithubPending(_) => "github.pending",
            CheckSpec::GithubJobs(_) => "github.jobs",
            CheckSpec::SentryRate(_) => "sentry.rate",
            CheckSpec::SentryNewIssues(_) => "sentry.new_issues",
            CheckSpec::Prometheus(_) => "prometheus",
            CheckSpec::PostgresHealth(_) => "postgres.health",
            CheckSpec::PostgresMigrations(_) => "postgres.migrations",
            CheckSpec::MonitorBaseline(_) => "monitor.baseline",
            CheckSpec::MonitorResponseTimes(_) => "monitor.response_times",
            CheckSpec::MonitorErrorRates(_) => "monitor.error_rates",
            CheckSpec::MonitorMetrics(_) => "monitor.metrics",
            CheckSpec::MonitorFinal(_) => "monitor.final",
            CheckSpec::MonitorNoCritical(_) => "monitor.no_critical",
            CheckSpec::Loadtest(_) => "loadtest",
        }
    }
}

/// What an action item does. Later integrations add variants (merge, approve, notify, ...).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ActionSpec {
    /// Run a program (a team's own step), journaled like every action.
    Command(CommandCheck),
    /// Print this run's rollback commands (not destructive; needs no confirmation).
    RollbackCommands(RollbackCommandsAction),
    /// Merge staging into production with `--no-ff` and push (the seed's release steps).
    #[serde(rename = "git.merge")]
    Merge(MergeAction),
    /// Approve the run's pending deployment in GitHub (destructive).
    #[serde(rename = "github.approve")]
    GithubApprove(crate::model::checklist::apis::GithubApproveAction),
    /// Post a message to Slack (at most once; not destructive).
    #[serde(rename = "slack.notify")]
    SlackNotify(crate::model::checklist::apis::SlackNotifyAction),
    /// Create the Sentry release of the merge commit and its deploy (not destructive).
    #[serde(rename = "sentry.release")]
    SentryRelease(crate::model::checklist::apis::SentryReleaseAction),
    /// Mark the release's GitHub deployment `in_progress` (its later statuses follow the
    /// run; not destructive).
    #[serde(rename = "github.deployment_status")]
    GithubDeploymentStatus(crate::model::checklist::apis::GithubDeploymentStatusAction),
    /// Write the post-deployment review invitation (`.ics`) for the next working day.
    #[serde(rename = "monitor.review")]
    MonitorReview(MonitorCheck),
}

/// The release merge; branches and remote come from `[git]`, the description from
/// `--message` or the commit subjects.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MergeAction {}

/// Print the rollback commands for this run.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RollbackCommandsAction {}

impl ActionSpec {
    /// The `type` as written in config.
    pub fn type_name(&self) -> &'static str {
        match self {
            ActionSpec::Command(_) => "command",
            ActionSpec::RollbackCommands(_) => "rollback_commands",
            ActionSpec::Merge(_) => "git.merge",
            ActionSpec::GithubApprove(_) => "github.approve",
            ActionSpec::SlackNotify(_) => "slack.notify",
            ActionSpec::SentryRelease(_) => "sentry.release",
            ActionSpec::GithubDeploymentStatus(_) => "github.deployment_status",
            ActionSpec::MonitorReview(_) => "monitor.review",
        }
    }

    /// Whether the action changes the world and so needs confirmation (`--yes` or a prompt).
    pub fn is_destructive(&self) -> bool {
        match self {
            ActionSpec::Command(_) => true,
            ActionSpec::RollbackCommands(_) => false,
            ActionSpec::Merge(_) => true,
            ActionSpec::GithubApprove(_) => true,
            ActionSpec::SlackNotify(_)
            | ActionSpec::SentryRelease(_)
            | ActionSpec::GithubDeploymentStatus(_) => false,
            ActionSpec::MonitorReview(_) => false,
        }
    }
}
