//! The run's facts, folded: the newest of each role ([`FactKind`]) with the item that recorded
//! it and when, and the typed questions later items ask of them. A fact that is missing says
//! which items of the run could record it ([`MissingFact`]).
//!
//! Journals written before facts were recorded carry them only in evidence; the fold reads
//! those by the recording item's kind of check or action (never by its id).

use std::collections::BTreeMap;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::journal::state::RunState;
use crate::model::checklist::{ActionSpec, CheckSpec, Item, ReleasesMode};
use crate::model::facts::{Fact, FactKind, MissingFact, RollbackTarget, needed_by, produced_by};

/// A fact and where it came from.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RecordedFact {
    /// The fact.
    pub fact: Fact,
    /// The item that recorded it.
    pub item: String,
    /// When.
    pub at: Timestamp,
}

/// The newest fact of each role.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RunFacts {
    /// By role.
    pub by_kind: BTreeMap<FactKind, RecordedFact>,
}

impl RunFacts {
    /// Records what `item` found at `at` (a newer fact of a role replaces the older).
    pub fn record(&mut self, item: &str, at: Timestamp, facts: Vec<Fact>) {
        for fact in facts {
            self.by_kind.insert(
                fact.kind(),
                RecordedFact {
                    fact,
                    item: item.to_string(),
                    at,
                },
            );
        }
    }

    /// The fact of a role, if recorded.
    pub fn get(&self, kind: FactKind) -> Option<&RecordedFact> {
        self.by_kind.get(&kind)
    }
}

/// The facts an event of `item` carries: its own, or for journals from before facts were
/// recorded, the ones its evidence holds (read by the kind of check or action). A check that
/// did not pass records none.
pub fn recorded_facts(
    item: &Item,
    facts: &[Fact],
    evidence: &serde_json::Value,
    passed: bool,
) -> Vec<Fact> {
    if !facts.is_empty() {
        return facts.to_vec();
    }
    if !passed {
        return Vec::new();
    }
    legacy_facts(item, evidence)
}

fn legacy_facts(item: &Item, evidence: &serde_json::Value) -> Vec<Fact> {
    let text = |k: &str| evidence.get(k).and_then(|v| v.as_str()).map(str::to_string);
    let run_fact = || {
        evidence
            .get("workflow_run_id")
            .and_then(|v| v.as_i64())
            .map(|id| Fact::WorkflowRun {
                id,
                sha: text("merge_commit").unwrap_or_default(),
                html_url: text("html_url"),
            })
    };
    let mut out = Vec::new();
    match (&item.action, &item.check) {
        (Some(ActionSpec::Merge(_)), _) => {
            if let Some(sha) = text("merge_commit").or_else(|| text("sha")) {
                out.push(Fact::MergeCommit { sha });
            }
            out.push(Fact::DeployStarted);
        }
        (Some(ActionSpec::GithubApprove(_)), _) => {
            out.push(Fact::DeployStarted);
            out.extend(run_fact());
        }
        (None, Some(CheckSpec::GithubWorkflow(_) | CheckSpec::GithubPending(_))) => {
            out.extend(run_fact());
        }
        (None, Some(CheckSpec::FlyReleases(r))) if r.mode == ReleasesMode::Record => {
            if let Some(targets) = evidence
                .get("targets")
                .and_then(|t| serde_json::from_value::<Vec<RollbackTarget>>(t.clone()).ok())
                .filter(|t| !t.is_empty())
            {
                out.push(Fact::RollbackTargets { targets });
            }
        }
        _ => {}
    }
    out
}

impl RunState {
    /// Why a fact of `kind` is missing: the items of this run that record it.
    pub fn missing(&self, kind: FactKind) -> MissingFact {
        MissingFact {
            kind,
            producers: self
                .items
                .iter()
                .filter(|r| produced_by(&r.item).contains(&kind))
                .map(|r| r.item.id.clone())
                .collect(),
        }
    }

    /// Whether the fact of `kind` is recorded.
    pub fn has_fact(&self, kind: FactKind) -> bool {
        self.facts.get(kind).is_some()
    }

    /// The unsettled item of `phase` that will record a fact `item` needs and that is not
    /// recorded yet: `item` waits for it instead of running (and failing) first. A team that
    /// replaces an item with its own (added at the end of the phase) keeps the walk's order.
    pub fn waits_for(&self, item: &Item) -> Option<&str> {
        needed_by(item)
            .iter()
            .filter(|k| !self.has_fact(**k))
            .find_map(|k| {
                self.items
                    .iter()
                    .filter(|r| r.item.phase == item.phase && r.item.id != item.id)
                    .filter(|r| !r.state.is_settled() && produced_by(&r.item).contains(k))
                    .map(|r| r.item.id.as_str())
                    .next()
            })
    }

    /// The release's merge commit.
    pub fn merge_commit(&self) -> Result<&str, MissingFact> {
        match self.facts.get(FactKind::MergeCommit).map(|r| &r.fact) {
            Some(Fact::MergeCommit { sha }) => Ok(sha),
            _ => Err(self.missing(FactKind::MergeCommit)),
        }
    }

    /// When the deploy started (the approval, else the merge), and the item that says so.
    pub fn deploy_started(&self) -> Option<(Timestamp, &str)> {
        self.facts
            .get(FactKind::DeployStarted)
            .map(|r| (r.at, r.item.as_str()))
    }

    /// When the merge commit was recorded (just before the deploy, which waits for approval).
    pub fn merged_at(&self) -> Option<Timestamp> {
        self.facts.get(FactKind::MergeCommit).map(|r| r.at)
    }

    /// The workflow run that deploys the merge commit: its id, the commit it deploys (empty
    /// when not known) and its page.
    pub fn workflow_run(&self) -> Result<(i64, &str, Option<&str>), MissingFact> {
        match self.facts.get(FactKind::WorkflowRun).map(|r| &r.fact) {
            Some(Fact::WorkflowRun { id, sha, html_url }) => {
                Ok((*id, sha.as_str(), html_url.as_deref()))
            }
            _ => Err(self.missing(FactKind::WorkflowRun)),
        }
    }

    /// The release's GitHub deployment: (id, its statuses' URL).
    pub fn github_deployment(&self) -> Result<(i64, &str), MissingFact> {
        match self.facts.get(FactKind::GithubDeployment).map(|r| &r.fact) {
            Some(Fact::GithubDeployment { id, statuses_url }) => Ok((*id, statuses_url.as_str())),
            _ => Err(self.missing(FactKind::GithubDeployment)),
        }
    }

    /// Each production app's release before the deploy.
    pub fn rollback_targets(&self) -> Result<&[RollbackTarget], MissingFact> {
        match self.facts.get(FactKind::RollbackTargets).map(|r| &r.fact) {
            Some(Fact::RollbackTargets { targets }) if !targets.is_empty() => Ok(targets),
            _ => Err(self.missing(FactKind::RollbackTargets)),
        }
    }
}
