//! Incidents: their severity (the seed's ladder), who raised them, and the decisions taken
//! about them. [`crate::incidents::respond`] applies the policy; this module is the vocabulary.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::model::config::RollbackStrategy;
use crate::model::watch::SeriesKey;

/// The seed's severity ladder.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Cosmetic → note for next deploy.
    Low,
    /// Minor issues → fix forward.
    Medium,
    /// Some users affected → quick fix or rollback.
    High,
    /// Users affected, data loss risk → roll back immediately.
    Critical,
}

impl Severity {
    /// `critical`, `high`, `medium`, `low`.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }

    /// Parses `critical|high|medium|low`.
    pub fn parse(s: &str) -> Option<Severity> {
        match s.trim().to_ascii_lowercase().as_str() {
            "critical" => Some(Severity::Critical),
            "high" => Some(Severity::High),
            "medium" => Some(Severity::Medium),
            "low" => Some(Severity::Low),
            _ => None,
        }
    }
}

/// Who raised an incident.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// A person (`shipcheck incident`).
    Person,
    /// The watch, from its samples or its verdict.
    Watch,
}

/// An incident as raised.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct IncidentRecord {
    /// 1, 2, 3, … within the run.
    pub id: u32,
    /// Its severity.
    pub severity: Severity,
    /// One line.
    pub summary: String,
    /// Who raised it (a person, or `shipcheck watch`).
    pub by: String,
    /// Person or watch.
    pub source: Source,
    /// The series that failed, when the watch raised it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub series: Option<SeriesKey>,
    /// The samples, limits and baseline behind it.
    #[serde(default, skip_serializing_if = "serde_json::Value::is_null")]
    pub evidence: serde_json::Value,
}

/// What was decided about an incident.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    /// Roll back (the rollback itself is journaled next to it).
    Rollback,
    /// The rollback was attempted and failed.
    RollbackFailed,
    /// A rollback is called for and nobody could confirm it here; a person decides.
    AwaitingPerson,
    /// High: a quick fix or a rollback, decided before the timer runs out.
    DecisionTimer,
    /// The decision timer ran out; the rollback prompt was raised.
    Escalated,
    /// Medium: fix forward.
    FixForward,
    /// Low: note it for the next deploy.
    NoteForNextDeploy,
    /// The incident is over (recovered, rolled back and verified, or closed by a person).
    Resolved,
    /// Another series of the same kind failed while this incident was open; it is part of
    /// this incident (one incident and one message for one bad release, not one per app).
    AlsoFailing,
}

impl Decision {
    /// The JSON name.
    pub fn as_str(self) -> &'static str {
        match self {
            Decision::Rollback => "rollback",
            Decision::RollbackFailed => "rollback_failed",
            Decision::AwaitingPerson => "awaiting_person",
            Decision::DecisionTimer => "decision_timer",
            Decision::Escalated => "escalated",
            Decision::FixForward => "fix_forward",
            Decision::NoteForNextDeploy => "note_for_next_deploy",
            Decision::Resolved => "resolved",
            Decision::AlsoFailing => "also_failing",
        }
    }
}

/// A decision as recorded.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DecisionRecord {
    /// What.
    pub decision: Decision,
    /// Who (a person, or `shipcheck policy`).
    pub by: String,
    /// Why.
    pub reason: String,
    /// The decision timer's end.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<Timestamp>,
    /// When.
    pub at: Timestamp,
}

/// Whether the incident message went out.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Notice {
    /// Posted to the team's channel.
    pub posted: bool,
    /// Where, or why not.
    pub detail: String,
    /// When.
    pub at: Timestamp,
}

/// An incident and what happened to it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Incident {
    /// As raised.
    #[serde(flatten)]
    pub record: IncidentRecord,
    /// When.
    pub raised_at: Timestamp,
    /// Decisions, in order.
    pub decisions: Vec<DecisionRecord>,
    /// The incident message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notified: Option<Notice>,
    /// Not resolved yet.
    pub open: bool,
}

impl Incident {
    /// The decision timer's end, while it runs (no later decision than the timer).
    pub fn timer_until(&self) -> Option<Timestamp> {
        match self
            .decisions
            .iter()
            .rfind(|d| d.decision != Decision::AlsoFailing)
        {
            Some(d) if d.decision == Decision::DecisionTimer => d.until,
            _ => None,
        }
    }

    /// Whether any decision of this kind was taken.
    pub fn decided(&self, d: Decision) -> bool {
        self.decisions.iter().any(|x| x.decision == d)
    }
}

/// A new incident.
#[derive(Clone, Debug)]
pub struct IncidentInput {
    /// Its severity.
    pub severity: Severity,
    /// One line.
    pub summary: String,
    /// Who raises it.
    pub by: String,
    /// Person or watch.
    pub source: Source,
    /// The failing series.
    pub series: Option<SeriesKey>,
    /// The evidence.
    pub evidence: serde_json::Value,
}

/// What raising an incident did.
#[derive(Clone, Debug, Serialize)]
pub struct IncidentReport {
    /// The incident after the policy acted.
    pub incident: Incident,
    /// The message posted (or to post by hand).
    pub message: String,
    /// Emergency contacts.
    pub contacts: Vec<(String, String)>,
    /// The rollback, when one ran.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rollback: Option<RollbackOutcome>,
}

/// What to roll back and how.
#[derive(Clone, Debug)]
pub struct RollbackOptions {
    /// The strategy.
    pub strategy: RollbackStrategy,
    /// Who asks for it.
    pub by: String,
    /// Why.
    pub reason: String,
    /// Only these apps (platform strategy).
    pub apps: Option<Vec<String>>,
    /// Show the commands; change nothing.
    pub dry_run: bool,
}

/// What a rollback did.
#[derive(Clone, Debug, Serialize)]
pub struct RollbackOutcome {
    /// The strategy.
    pub strategy: RollbackStrategy,
    /// The exact commands (or requests).
    pub plan: Vec<String>,
    /// Whether anything was performed (false for `--dry-run`).
    pub performed: bool,
    /// One line.
    pub summary: String,
    /// Evidence.
    pub evidence: serde_json::Value,
    /// Found already done after an interruption.
    pub reconciled: bool,
}
