//! The state of a run, folded from its events. Nothing else holds run state: what the
//! store keeps is the journal, and this fold is the only reading of it.

use crate::journal::facts::recorded_facts;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::model::checklist::{Item, Phase};
use crate::model::event::{Event, NoteKind, StoredEvent};
use crate::model::outcome::Status;

/// The state of one item in a run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ItemState {
    /// Not settled yet.
    Pending,
    /// An automatic check passed.
    Pass,
    /// An automatic check failed.
    Fail,
    /// A check or action could not decide / could not complete.
    Error,
    /// A person waived it, with a reason.
    Waived,
    /// Its condition was false, with the reason.
    NotRequired,
    /// A person confirmed it, or shipcheck performed it.
    Done,
}

impl ItemState {
    /// The JSON name.
    pub fn as_str(self) -> &'static str {
        match self {
            ItemState::Pending => "pending",
            ItemState::Pass => "pass",
            ItemState::Fail => "fail",
            ItemState::Error => "error",
            ItemState::Waived => "waived",
            ItemState::NotRequired => "not_required",
            ItemState::Done => "done",
        }
    }

    /// Whether a gate counts the item as settled.
    pub fn is_settled(self) -> bool {
        matches!(
            self,
            ItemState::Pass | ItemState::Done | ItemState::Waived | ItemState::NotRequired
        )
    }
}

/// Where the run stands overall.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    /// Phases still to go.
    Active,
    /// Every phase's gate passed; the record waits for a signature.
    Completed,
    /// Signed; the deployment is over.
    Signed,
    /// Abandoned with a reason.
    Aborted,
}

impl RunStatus {
    /// The JSON name.
    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Active => "active",
            RunStatus::Completed => "completed",
            RunStatus::Signed => "signed",
            RunStatus::Aborted => "aborted",
        }
    }
    /// Whether the run still holds the deploy lock.
    pub fn is_open(self) -> bool {
        matches!(self, RunStatus::Active | RunStatus::Completed)
    }
}

/// One item and what happened to it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ItemRecord {
    /// The item as the run started with it.
    pub item: Item,
    /// Where it stands.
    pub state: ItemState,
    /// One-line evidence or the reason (not required, waived, tick note).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    /// Structured evidence of the latest check or action.
    #[serde(default, skip_serializing_if = "serde_json::Value::is_null")]
    pub evidence: serde_json::Value,
    /// Who settled it (tick, waive, action confirmation).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub by: Option<String>,
    /// When it was last changed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at: Option<Timestamp>,
    /// The tick's note.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// The waiver's reason.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Duration of the latest check.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_ms: Option<u64>,
    /// How many times the check or action ran.
    #[serde(default)]
    pub attempts: u32,
    /// An action was started and has not reported back (a crash in between).
    #[serde(default)]
    pub action_in_flight: bool,
    /// The last action attempt may or may not have happened; only a person settles it.
    #[serde(default)]
    pub unsure: bool,
}

/// A note in the record.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Note {
    /// issue, lesson or general.
    pub kind: NoteKind,
    /// The text.
    pub text: String,
    /// Who.
    pub by: String,
    /// When.
    pub at: Timestamp,
}

/// One rollback of the run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Rollback {
    /// `git-revert` or `platform`.
    pub strategy: String,
    /// Who asked for it.
    pub by: String,
    /// Why.
    pub reason: String,
    /// Only these apps (absent: every app).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub apps: Option<Vec<String>>,
    /// When it started.
    pub started_at: Timestamp,
    /// `None` while in flight (or interrupted); `Some(true)` done; `Some(false)` failed.
    pub succeeded: Option<bool>,
    /// Summary or error.
    pub outcome: Option<String>,
    /// Evidence of the completed rollback.
    #[serde(default)]
    pub evidence: serde_json::Value,
    /// When it finished.
    pub finished_at: Option<Timestamp>,
}

/// One status of the release's GitHub deployment, as the journal tells it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DeploymentStatus {
    /// The deployment.
    pub deployment: i64,
    /// `in_progress`, `failure`, `inactive` or `success`.
    pub state: String,
    /// When its intent was journaled.
    pub started_at: Timestamp,
    /// The status's id at GitHub once posted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_id: Option<i64>,
    /// Its description once posted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Failed attempts, each error.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<String>,
    /// An attempt is journaled as started without a result (interrupted).
    #[serde(default)]
    pub in_flight: bool,
}

/// An emergency stop (or its undo) of one app.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Stop {
    /// The app.
    pub app: String,
    /// Scaling back up.
    pub undo: bool,
    /// Who.
    pub by: String,
    /// When it started.
    pub started_at: Timestamp,
    /// `None` in flight; `Some(true)` done; `Some(false)` failed.
    pub succeeded: Option<bool>,
    /// Summary or error.
    pub outcome: Option<String>,
    /// Evidence (`before`: machine counts).
    #[serde(default)]
    pub evidence: serde_json::Value,
}

/// A run, as its events say.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunState {
    /// The run id.
    pub id: String,
    /// Project.
    pub project: String,
    /// Environment.
    pub env: String,
    /// Who started it.
    pub started_by: String,
    /// When.
    pub started_at: Timestamp,
    /// Scheduled time, if any.
    pub scheduled_at: Option<Timestamp>,
    /// Digest of the config the run uses (started with, or accepted since).
    pub config_digest: String,
    /// Items in checklist order.
    pub items: Vec<ItemRecord>,
    /// Phases whose gate passed, in order.
    pub completed: Vec<Phase>,
    /// Notes for the record.
    pub notes: Vec<Note>,
    /// A window override, with who and why.
    pub window_override: Option<(String, String)>,
    /// How the config's programs and URLs compared with the production branch's when the run
    /// started, when they were not simply the same (trusted differences, or not compared).
    pub config_trust: Option<String>,
    /// Overall status.
    pub status: RunStatus,
    /// Abort reason and who.
    pub aborted: Option<(String, String)>,
    /// Signature: who and when.
    pub signed: Option<(String, Timestamp)>,
    /// Rollbacks, in order.
    pub rollbacks: Vec<Rollback>,
    /// Emergency stops and undos, in order.
    pub stops: Vec<Stop>,
    /// When the last event was appended.
    pub updated_at: Timestamp,
    /// The number of events.
    pub event_count: usize,
    /// The baseline, the watch, incidents and the rollback's verification.
    #[serde(default)]
    pub monitor: crate::journal::watch::MonitorState,
    /// What items recorded for later ones (the merge commit, the workflow run, …), by role.
    #[serde(default)]
    pub facts: crate::journal::facts::RunFacts,
    /// Events of the journal that could not be applied, and why (the state leaves them out).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub anomalies: Vec<String>,
    /// The hash of the last event (the chain's head).
    #[serde(skip)]
    pub head_hash: String,
    /// The config text the run uses (started with, or accepted since); `None` for runs of
    /// versions that kept only the digest.
    #[serde(skip)]
    pub config_text: Option<String>,
    /// Where the journal's head was anchored outside the store.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub anchors: Vec<crate::model::event::JournalAnchor>,
    /// SSH signatures over the journal's head (`record_ssh_signed`), oldest first.
    pub ssh_signatures: Vec<crate::model::event::SshSignature>,
    /// The statuses shipcheck posted to the release's GitHub deployment, one per state.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub deployment_statuses: Vec<DeploymentStatus>,
    /// What became of the CDEvents sent to `[events] sink`.
    #[serde(default, skip_serializing_if = "CdeventsRecord::is_empty")]
    pub cdevents: CdeventsRecord,
}

/// The CDEvents delivered to `[events] sink` and the failures, as the journal tells them.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct CdeventsRecord {
    /// The ids the sink accepted, in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub delivered: Vec<String>,
    /// Each id's failed sends (each error), for those with any.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub failures: std::collections::BTreeMap<String, Vec<String>>,
    /// When the last failure was journaled (the sink rests after it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_failure_at: Option<Timestamp>,
}

impl CdeventsRecord {
    /// Nothing was sent.
    pub fn is_empty(&self) -> bool {
        self.delivered.is_empty() && self.failures.is_empty()
    }
    /// Whether the sink accepted `id`.
    pub fn is_delivered(&self, id: &str) -> bool {
        self.delivered.iter().any(|d| d == id)
    }
    /// How many sends of `id` failed.
    pub fn failures_of(&self, id: &str) -> usize {
        self.failures.get(id).map_or(0, Vec::len)
    }
}

/// A journal that cannot be read as a run.
#[derive(Debug, thiserror::Error)]
#[error("run {run_id}: event {seq} ({kind}) {problem}")]
pub struct FoldError {
    /// The run.
    pub run_id: String,
    /// The offending event.
    pub seq: i64,
    /// Its type.
    pub kind: &'static str,
    /// What is wrong.
    pub problem: String,
}

impl RunState {
    /// Folds a run's events, in order. The first must be `run_started`.
    pub fn fold(events: &[StoredEvent]) -> Result<RunState, FoldError> {
        let first = events.first().ok_or_else(|| FoldError {
            run_id: String::new(),
            seq: 0,
            kind: "none",
            problem: "the run has no events".into(),
        })?;
        let Event::RunStarted {
            project,
            env,
            by,
            scheduled_at,
            config_digest,
            config,
            items,
        } = &first.event
        else {
            return Err(FoldError {
                run_id: first.run_id.clone(),
                seq: first.seq,
                kind: first.event.type_name(),
                problem: "is not run_started".into(),
            });
        };
        let mut run = RunState {
            id: first.run_id.clone(),
            project: project.clone(),
            env: env.clone(),
            started_by: by.clone(),
            started_at: first.at,
            scheduled_at: *scheduled_at,
            config_digest: config_digest.clone(),
            items: items
                .iter()
                .map(|item| ItemRecord {
                    item: item.clone(),
                    state: ItemState::Pending,
                    summary: None,
                    evidence: serde_json::Value::Null,
                    by: None,
                    at: None,
                    note: None,
                    reason: None,
                    duration_ms: None,
                    attempts: 0,
                    action_in_flight: false,
                    unsure: false,
                })
                .collect(),
            completed: Vec::new(),
            notes: Vec::new(),
            window_override: None,
            config_trust: None,
            status: RunStatus::Active,
            aborted: None,
            signed: None,
            rollbacks: Vec::new(),
            stops: Vec::new(),
            updated_at: first.at,
            event_count: 1,
            monitor: Default::default(),
            facts: Default::default(),
            anomalies: Vec::new(),
            head_hash: first.hash.clone(),
            anchors: Vec::new(),
            ssh_signatures: Vec::new(),
            deployment_statuses: Vec::new(),
            cdevents: CdeventsRecord::default(),
            config_text: config.clone(),
        };
        // A journal that verifies always loads: an event that cannot be applied (written by a
        // shipcheck with other rules, or a race it lost before compare-and-append) is kept in
        // the journal, left out of the state, and named in `anomalies`.
        for e in &events[1..] {
            if let Err(problem) = run.apply(e) {
                run.anomalies.push(problem.to_string());
            }
        }
        Ok(run)
    }

    /// Applies the events that follow the ones already folded, as [`RunState::fold`] would
    /// have: `fold(&all[..n])` then `extend(&all[n..])` equals `fold(all)`. Each event must be
    /// the next of this run's journal, seq `event_count + 1` and chained to the head
    /// (`prev_hash` = [`RunState::head_hash`]); the first that is not is an error and nothing
    /// from it on is applied (the state stays as it was after the event before it), so the
    /// caller reads the journal in full instead.
    pub fn extend(&mut self, events: &[StoredEvent]) -> Result<(), FoldError> {
        for e in events {
            let expected = i64::try_from(self.event_count)
                .unwrap_or(i64::MAX)
                .saturating_add(1);
            let problem = if e.run_id != self.id {
                Some(format!("belongs to run {}, not {}", e.run_id, self.id))
            } else if e.seq != expected {
                Some(format!("is not the next event (expected event {expected})"))
            } else if e.prev_hash != self.head_hash {
                Some("is not chained to the last event folded (its previous hash differs)".into())
            } else {
                None
            };
            if let Some(problem) = problem {
                return Err(FoldError {
                    run_id: self.id.clone(),
                    seq: e.seq,
                    kind: e.event.type_name(),
                    problem,
                });
            }
            if let Err(problem) = self.apply(e) {
                self.anomalies.push(problem.to_string());
            }
        }
        Ok(())
    }

    /// The `state` status of GitHub deployment `deployment` the run started, if any.
    fn started_status(&mut self, deployment: i64, state: &str) -> Option<&mut DeploymentStatus> {
        self.deployment_statuses
            .iter_mut()
            .find(|d| d.deployment == deployment && d.state == state)
    }

    fn apply(&mut self, e: &StoredEvent) -> Result<(), FoldError> {
        self.updated_at = e.at;
        self.head_hash.clone_from(&e.hash);
        self.event_count += 1;
        let bad = |problem: String| FoldError {
            run_id: e.run_id.clone(),
            seq: e.seq,
            kind: e.event.type_name(),
            problem,
        };
        self.monitor
            .apply(&e.event, e.at, self.rollbacks.len())
            .map_err(|e| bad(e.0))?;
        match &e.event {
            Event::RunStarted { .. } => return Err(bad("appears twice".into())),
            Event::WindowOverridden { reason, by } => {
                self.window_override = Some((by.clone(), reason.clone()))
            }
            Event::ItemNotRequired { item, reason } => {
                let r = self
                    .record_mut(item)
                    .ok_or_else(|| bad(format!("names unknown item {item}")))?;
                r.state = ItemState::NotRequired;
                r.summary = Some(reason.clone());
                r.at = Some(e.at);
            }
            Event::CheckFinished {
                item,
                status,
                summary,
                evidence,
                duration_ms,
                facts,
            } => {
                let r = self
                    .record_mut(item)
                    .ok_or_else(|| bad(format!("names unknown item {item}")))?;
                // An evidence check on a manual item shows what to review; the person settles it.
                if !r.item.has_evidence_check() {
                    r.state = match status {
                        Status::Pass => ItemState::Pass,
                        Status::Fail => ItemState::Fail,
                        Status::Error => ItemState::Error,
                    };
                }
                r.summary = Some(summary.clone());
                r.evidence = evidence.clone();
                r.duration_ms = Some(*duration_ms);
                r.at = Some(e.at);
                r.by = None;
                r.attempts += 1;
                let found = recorded_facts(&r.item, facts, evidence, *status == Status::Pass);
                self.facts.record(item, e.at, found);
            }
            Event::ItemTicked { item, by, note } => {
                let r = self
                    .record_mut(item)
                    .ok_or_else(|| bad(format!("names unknown item {item}")))?;
                r.state = ItemState::Done;
                r.action_in_flight = false;
                r.by = Some(by.clone());
                r.note = note.clone();
                r.at = Some(e.at);
                if r.summary.is_none() {
                    r.summary = note.clone();
                }
            }
            Event::ItemWaived { item, by, reason } => {
                let r = self
                    .record_mut(item)
                    .ok_or_else(|| bad(format!("names unknown item {item}")))?;
                r.state = ItemState::Waived;
                r.by = Some(by.clone());
                r.reason = Some(reason.clone());
                r.at = Some(e.at);
            }
            Event::ActionStarted { item, by, .. } => {
                let r = self
                    .record_mut(item)
                    .ok_or_else(|| bad(format!("names unknown item {item}")))?;
                r.by = Some(by.clone());
                r.action_in_flight = true;
                r.unsure = false;
                r.attempts += 1;
                r.at = Some(e.at);
            }
            Event::ActionDone {
                item,
                summary,
                evidence,
                facts,
            } => {
                let r = self
                    .record_mut(item)
                    .ok_or_else(|| bad(format!("names unknown item {item}")))?;
                r.state = ItemState::Done;
                r.summary = Some(summary.clone());
                r.evidence = evidence.clone();
                r.action_in_flight = false;
                r.at = Some(e.at);
                let found = recorded_facts(&r.item, facts, evidence, true);
                self.facts.record(item, e.at, found);
            }
            Event::ActionFailed {
                item,
                error,
                unsure,
            } => {
                let r = self
                    .record_mut(item)
                    .ok_or_else(|| bad(format!("names unknown item {item}")))?;
                r.state = ItemState::Error;
                r.summary = Some(error.clone());
                r.action_in_flight = false;
                r.unsure = *unsure;
                r.at = Some(e.at);
            }
            Event::PhaseCompleted { phase } => {
                if !self.completed.contains(phase) {
                    self.completed.push(*phase);
                }
                if self.current_phase().is_none() && self.status == RunStatus::Active {
                    self.status = RunStatus::Completed;
                }
            }
            Event::NoteAdded { kind, text, by } => self.notes.push(Note {
                kind: *kind,
                text: text.clone(),
                by: by.clone(),
                at: e.at,
            }),
            Event::RunAborted { reason, by } => {
                self.status = RunStatus::Aborted;
                self.aborted = Some((by.clone(), reason.clone()));
            }
            Event::RollbackStarted {
                strategy,
                by,
                reason,
                apps,
                ..
            } => self.rollbacks.push(Rollback {
                strategy: strategy.clone(),
                by: by.clone(),
                reason: reason.clone(),
                apps: apps.clone(),
                started_at: e.at,
                succeeded: None,
                outcome: None,
                evidence: serde_json::Value::Null,
                finished_at: None,
            }),
            Event::RollbackDone {
                strategy,
                summary,
                evidence,
            } => {
                let r = self
                    .rollbacks
                    .iter_mut()
                    .rev()
                    .find(|r| &r.strategy == strategy && r.succeeded.is_none())
                    .ok_or_else(|| bad("has no rollback_started before it".into()))?;
                r.succeeded = Some(true);
                r.outcome = Some(summary.clone());
                r.evidence = evidence.clone();
                r.finished_at = Some(e.at);
            }
            Event::RollbackFailed { strategy, error } => {
                let r = self
                    .rollbacks
                    .iter_mut()
                    .rev()
                    .find(|r| &r.strategy == strategy && r.succeeded.is_none())
                    .ok_or_else(|| bad("has no rollback_started before it".into()))?;
                r.succeeded = Some(false);
                r.outcome = Some(error.clone());
                r.finished_at = Some(e.at);
            }
            Event::StopStarted { app, undo, by, .. } => self.stops.push(Stop {
                app: app.clone(),
                undo: *undo,
                by: by.clone(),
                started_at: e.at,
                succeeded: None,
                outcome: None,
                evidence: serde_json::Value::Null,
            }),
            Event::StopDone {
                app,
                undo,
                summary,
                evidence,
            } => {
                let s = self
                    .stops
                    .iter_mut()
                    .rev()
                    .find(|s| &s.app == app && s.undo == *undo && s.succeeded.is_none())
                    .ok_or_else(|| bad("has no stop_started before it".into()))?;
                s.succeeded = Some(true);
                s.outcome = Some(summary.clone());
                s.evidence = evidence.clone();
            }
            Event::StopFailed { app, undo, error } => {
                let s = self
                    .stops
                    .iter_mut()
                    .rev()
                    .find(|s| &s.app == app && s.undo == *undo && s.succeeded.is_none())
                    .ok_or_else(|| bad("has no stop_started before it".into()))?;
                s.succeeded = Some(false);
                s.outcome = Some(error.clone());
            }
            Event::RunSigned { by } => {
                self.status = RunStatus::Signed;
                self.signed = Some((by.clone(), e.at));
            }
            Event::JournalAnchored { anchor } => self.anchors.push(anchor.clone()),
            Event::ConfigTrusted { differences, by } => {
                self.config_trust = Some(format!(
                    "{} of the config's programs and URLs differ from the production branch's committed config; {by} read them and started anyway: {}",
                    differences.len(),
                    differences.join("; ")
                ));
            }
            Event::ConfigNotCompared { reason, settings } => {
                self.config_trust = Some(format!(
                    "the config's programs and URLs were not compared with the production branch's committed config ({reason}); the run uses {}",
                    settings.join(", ")
                ));
            }
            Event::RecordSshSigned { signature } => {
                if self.status != RunStatus::Signed {
                    return Err(bad("comes before the run was signed".into()));
                }
                self.ssh_signatures.push(signature.clone());
            }
            Event::DeploymentStatusStarted {
                deployment, state, ..
            } => match self.started_status(*deployment, state) {
                Some(d) => d.in_flight = true,
                None => self.deployment_statuses.push(DeploymentStatus {
                    deployment: *deployment,
                    state: state.clone(),
                    started_at: e.at,
                    status_id: None,
                    description: None,
                    errors: Vec::new(),
                    in_flight: true,
                }),
            },
            Event::DeploymentStatusPosted {
                deployment,
                state,
                status_id,
                description,
            } => {
                let d = self.started_status(*deployment, state).ok_or_else(|| {
                    bad(format!(
                        "no {state} status of deployment {deployment} was started"
                    ))
                })?;
                d.in_flight = false;
                d.status_id = Some(*status_id);
                d.description = Some(description.clone());
            }
            Event::DeploymentStatusFailed {
                deployment,
                state,
                error,
            } => {
                let d = self.started_status(*deployment, state).ok_or_else(|| {
                    bad(format!(
                        "no {state} status of deployment {deployment} was started"
                    ))
                })?;
                d.in_flight = false;
                d.errors.push(error.clone());
            }
            Event::CdeventDelivered { id, .. } => {
                if !self.cdevents.is_delivered(id) {
                    self.cdevents.delivered.push(id.clone());
                }
            }
            Event::CdeventFailed { id, error } => {
                self.cdevents
                    .failures
                    .entry(id.clone())
                    .or_default()
                    .push(error.clone());
                self.cdevents.last_failure_at = Some(e.at);
            }
            Event::ConfigAccepted { digest, config, .. } => {
                self.config_digest.clone_from(digest);
                self.config_text = Some(config.clone());
            }
            // The watch's events change `self.monitor` (above).
            Event::BaselineRecorded { .. }
            | Event::WatchStarted { .. }
            | Event::WatchTick { .. }
            | Event::WatchSamples { .. }
            | Event::WatchEnded { .. }
            | Event::IncidentRaised { .. }
            | Event::IncidentDecision { .. }
            | Event::IncidentNotified { .. }
            | Event::RollbackVerified { .. } => {}
        }
        Ok(())
    }

    /// The item record with this id.
    pub fn record(&self, id: &str) -> Option<&ItemRecord> {
        self.items.iter().find(|r| r.item.id == id)
    }

    fn record_mut(&mut self, id: &str) -> Option<&mut ItemRecord> {
        self.items.iter_mut().find(|r| r.item.id == id)
    }

    /// The first phase whose gate has not passed; `None` when all have.
    pub fn current_phase(&self) -> Option<Phase> {
        Phase::ALL.into_iter().find(|p| !self.completed.contains(p))
    }

    /// The records of one phase.
    pub fn phase_items(&self, phase: Phase) -> impl Iterator<Item = &ItemRecord> {
        self.items.iter().filter(move |r| r.item.phase == phase)
    }

    /// Required items of `phase` that are not settled (what blocks its gate).
    pub fn blocking(&self, phase: Phase) -> Vec<&ItemRecord> {
        self.phase_items(phase)
            .filter(|r| r.item.required && !r.state.is_settled())
            .collect()
    }

    /// Whether `phase`'s gate passes now.
    pub fn gate_passes(&self, phase: Phase) -> bool {
        self.blocking(phase).is_empty()
    }

    /// A rollback that started and never reported back (the process died mid-rollback).
    pub fn rollback_in_flight(&self) -> Option<&Rollback> {
        self.rollbacks.last().filter(|r| r.succeeded.is_none())
    }

    /// The notes of one kind.
    pub fn notes_of(&self, kind: NoteKind) -> impl Iterator<Item = &Note> {
        self.notes.iter().filter(move |n| n.kind == kind)
    }
}

impl crate::model::error::HasKind for FoldError {
    /// A journal shipcheck cannot read as a run: the store given cannot be used as it is.
    fn kind(&self) -> crate::model::error::ErrorKind {
        crate::model::error::ErrorKind::Usage
    }
}

#[cfg(test)]
mod tests {
    use crate::model::event::Event;
    use crate::model::incident::{IncidentRecord, Severity, Source};

    fn incident(id: u32) -> Event {
        Event::IncidentRaised {
            incident: IncidentRecord {
                id,
                severity: Severity::Low,
                summary: format!("incident {id}"),
                by: "ana".into(),
                source: Source::Person,
                series: None,
                evidence: serde_json::Value::Null,
            },
        }
    }

    /// Two incidents with one number (a race lost before compare-and-append existed) and an
    /// event naming an unknown item: the run still loads, without them, and says why.
    #[test]
    fn a_journal_with_events_that_do_not_apply_still_loads_and_names_them() {
        let run = crate::testkit::repo::run_state(
            "run-1",
            vec![
                incident(1),
                incident(1),
                Event::ItemTicked {
                    item: "prepare.nonexistent".into(),
                    by: "ana".into(),
                    note: None,
                },
                incident(2),
            ],
        );
        let ids: Vec<u32> = run.monitor.incidents.iter().map(|i| i.record.id).collect();
        assert_eq!(ids, [1, 2]);
        assert_eq!(run.anomalies.len(), 2, "{:?}", run.anomalies);
        assert!(
            run.anomalies[0].contains("out of order"),
            "{:?}",
            run.anomalies
        );
        assert!(
            run.anomalies[1].contains("prepare.nonexistent"),
            "{:?}",
            run.anomalies
        );
        assert_eq!(run.event_count, 5);
    }
}
