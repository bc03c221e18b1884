//! Run facts: what one item of a run records and later items need — the merge commit, the
//! deploy's start, the workflow run, the rollback targets. Each is a typed value recorded with
//! the check or action that produced it, and found later by its **role** ([`FactKind`]),
//! never by an item id: a team may rename, replace or override any item in `shipcheck.toml`
//! and the items that depend on it still find what it recorded. (The baseline is a fact too;
//! it has its own event, `baseline_recorded`.)

use serde::{Deserialize, Serialize};

use crate::model::checklist::{ActionSpec, CheckSpec, Item, ReleasesMode};

/// One app's release before the deploy: what a platform rollback redeploys.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RollbackTarget {
    /// The app's short name (`internal-api`).
    pub app: String,
    /// The Fly app.
    pub fly_app: String,
    /// The release version.
    pub version: u64,
    /// The release's image (`registry.fly.io/APP:deployment-…`).
    pub image_ref: String,
    /// The release's status when recorded (`complete`).
    pub status: String,
    /// When the release was made (RFC 3339), if known.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub created_at: String,
}

/// A fact, as the item that produced it records it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "fact", rename_all = "snake_case")]
pub enum Fact {
    /// The release's merge commit on the production branch.
    MergeCommit {
        /// The full SHA.
        sha: String,
    },
    /// The deploy started now (the approval; the merge when nothing needs approving). The time
    /// is the recording event's.
    DeployStarted,
    /// The workflow run that deploys the merge commit.
    WorkflowRun {
        /// The run id.
        id: i64,
        /// The commit it deploys.
        #[serde(default, skip_serializing_if = "String::is_empty")]
        sha: String,
        /// Its page.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        html_url: Option<String>,
    },
    /// Each production app's release before the deploy.
    RollbackTargets {
        /// One per app.
        targets: Vec<RollbackTarget>,
    },
    /// The GitHub deployment of the release (the one the workflow's environment created),
    /// which the run's deployment statuses go to.
    GithubDeployment {
        /// The deployment id.
        id: i64,
        /// Its statuses' API URL, as GitHub gave it.
        #[serde(default, skip_serializing_if = "String::is_empty")]
        statuses_url: String,
    },
}

/// The role of a fact: how dependants ask for it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FactKind {
    /// [`Fact::MergeCommit`].
    MergeCommit,
    /// [`Fact::DeployStarted`].
    DeployStarted,
    /// [`Fact::WorkflowRun`].
    WorkflowRun,
    /// [`Fact::RollbackTargets`].
    RollbackTargets,
    /// [`Fact::GithubDeployment`].
    GithubDeployment,
}

impl Fact {
    /// Its role.
    pub fn kind(&self) -> FactKind {
        match self {
            Fact::MergeCommit { .. } => FactKind::MergeCommit,
            Fact::DeployStarted => FactKind::DeployStarted,
            Fact::WorkflowRun { .. } => FactKind::WorkflowRun,
            Fact::RollbackTargets { .. } => FactKind::RollbackTargets,
            Fact::GithubDeployment { .. } => FactKind::GithubDeployment,
        }
    }
}

impl FactKind {
    /// What the fact is, for people.
    pub fn describe(self) -> &'static str {
        match self {
            FactKind::MergeCommit => "the release's merge commit",
            FactKind::DeployStarted => "the deploy's start",
            FactKind::WorkflowRun => "the workflow run that deploys the merge commit",
            FactKind::RollbackTargets => "each production app's release before the deploy",
            FactKind::GithubDeployment => "the release's GitHub deployment",
        }
    }

    /// The kind of item that records it, as written in `shipcheck.toml`.
    pub fn producer_kinds(self) -> &'static str {
        match self {
            FactKind::MergeCommit => "an action of type \"git.merge\"",
            FactKind::DeployStarted => "an action of type \"github.approve\" or \"git.merge\"",
            FactKind::WorkflowRun => {
                "a check of type \"github.workflow\" or \"github.pending\", or an action of type \"github.approve\""
            }
            FactKind::RollbackTargets => "a check of type \"fly.releases\" with mode = \"record\"",
            FactKind::GithubDeployment => "an action of type \"github.deployment_status\"",
        }
    }
}

/// The facts an item's check or action records when it succeeds.
pub fn produced_by(item: &Item) -> &'static [FactKind] {
    if let Some(action) = &item.action {
        return match action {
            ActionSpec::Merge(_) => &[FactKind::MergeCommit, FactKind::DeployStarted],
            ActionSpec::GithubApprove(_) => &[FactKind::DeployStarted, FactKind::WorkflowRun],
            ActionSpec::GithubDeploymentStatus(_) => &[FactKind::GithubDeployment],
            _ => &[],
        };
    }
    match &item.check {
        Some(CheckSpec::GithubWorkflow(_) | CheckSpec::GithubPending(_)) => {
            &[FactKind::WorkflowRun]
        }
        Some(CheckSpec::FlyReleases(r)) if r.mode == ReleasesMode::Record => {
            &[FactKind::RollbackTargets]
        }
        _ => &[],
    }
}

/// The facts an item's check or action needs from earlier items.
pub fn needed_by(item: &Item) -> &'static [FactKind] {
    if let Some(action) = &item.action {
        return match action {
            ActionSpec::GithubApprove(_)
            | ActionSpec::SentryRelease(_)
            | ActionSpec::GithubDeploymentStatus(_) => &[FactKind::MergeCommit],
            _ => &[],
        };
    }
    match &item.check {
        Some(
            CheckSpec::GithubWorkflow(_) | CheckSpec::GithubPending(_) | CheckSpec::GithubJobs(_),
        ) => &[FactKind::MergeCommit],
        Some(CheckSpec::FlyReleases(r)) if r.mode == ReleasesMode::Deployed => {
            &[FactKind::RollbackTargets]
        }
        _ => &[],
    }
}

/// A fact an item needs is not recorded (yet): which fact, and which items of the run could
/// record it.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{}", self.describe())]
pub struct MissingFact {
    /// The fact.
    pub kind: FactKind,
    /// The run's items that record it (ids), in checklist order.
    pub producers: Vec<String>,
}

impl MissingFact {
    fn describe(&self) -> String {
        let what = self.kind.describe();
        match self.producers.as_slice() {
            [] => format!(
                "{what} is not recorded, and no item of this run records it: add {} to the checklist, or settle this item by hand",
                self.kind.producer_kinds()
            ),
            [one] => format!("{what} is not recorded yet: {one} records it once it has run"),
            many => format!(
                "{what} is not recorded yet: {} record it once one has run",
                many.join(" or ")
            ),
        }
    }
}

impl crate::model::error::HasKind for MissingFact {
    /// An item asked before what it needs was recorded: the walk's order, or a person's.
    fn kind(&self) -> crate::model::error::ErrorKind {
        crate::model::error::ErrorKind::Usage
    }
}
