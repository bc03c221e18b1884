//! The run as versioned JSON (`shipcheck/v1`, document `run`): typed, so the binary can
//! publish its JSON Schema (`shipcheck schema run`). Fields are only ever added.

use jiff::Timestamp;
use serde::Serialize;
use serde_json::Value;

use crate::journal::state::{ItemState, Rollback, RunState, RunStatus, Stop};
use crate::journal::watch::Verdict;
use crate::model::checklist::{ItemKind, Phase};
use crate::model::event::NoteKind;
use crate::report::criteria::{self, Criterion};
use crate::report::watch::WatchSummary;

/// The `run` document: what `status --json` and `report --format json` print.
#[derive(Clone, Debug, Serialize)]
pub struct RunReport {
    /// `shipcheck/v1`.
    pub schema: &'static str,
    /// `run`.
    pub kind: &'static str,
    /// The run's id.
    pub id: String,
    /// The project.
    pub project: String,
    /// The environment.
    pub env: String,
    /// active, completed, signed or aborted.
    pub status: RunStatus,
    /// The phase the run is in (`null` when every phase is done).
    pub phase: Option<Phase>,
    /// The phases whose gate passed.
    pub completed_phases: Vec<Phase>,
    /// Who started it.
    pub started_by: String,
    /// When.
    pub started_at: Timestamp,
    /// The release time it was scheduled for.
    pub scheduled_at: Option<Timestamp>,
    /// Its last event.
    pub updated_at: Timestamp,
    /// The digest of the config it was started with.
    pub config_digest: String,
    /// How the config's programs and URLs compared with the production branch's at the start,
    /// when not simply the same (trusted differences, or not compared and why).
    pub config_trust: Option<String>,
    /// A deploy window overridden: who and why.
    pub window_override: Option<ByReason>,
    /// Aborted: who and why.
    pub aborted: Option<ByReason>,
    /// Signed: who and when.
    pub signed: Option<Signed>,
    /// Every item with its state.
    pub items: Vec<ItemReport>,
    /// Rollbacks.
    pub rollbacks: Vec<Rollback>,
    /// Emergency stops.
    pub stops: Vec<Stop>,
    /// The markers written in other services (GitHub's deployment record, Sentry's deploys).
    pub markers: Vec<crate::report::markers::Marker>,
    /// Notes by kind.
    pub notes: Notes,
    /// The seed's success criteria.
    pub success_criteria: Vec<Criterion>,
    /// Events in the journal.
    pub events: usize,
    /// The run's verdict.
    pub verdict: Verdict,
    /// The watch.
    pub watch: WatchSummary,
    /// Events the fold could not apply (present only when there are some).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub anomalies: Vec<String>,
}

/// Who and why.
#[derive(Clone, Debug, Serialize)]
pub struct ByReason {
    /// Who.
    pub by: String,
    /// Why.
    pub reason: String,
}

/// Who and when.
#[derive(Clone, Debug, Serialize)]
pub struct Signed {
    /// Who.
    pub by: String,
    /// When.
    pub at: Timestamp,
    /// The SSH signatures over the journal's head (`shipcheck sign --key`).
    pub ssh_signatures: Vec<crate::model::event::SshSignature>,
}

/// One item of the run.
#[derive(Clone, Debug, Serialize)]
pub struct ItemReport {
    /// The item's id.
    pub id: String,
    /// Its phase.
    pub phase: Phase,
    /// Its section in the seed's layout.
    pub section: Option<String>,
    /// Its title.
    pub title: String,
    /// check, action or manual.
    pub kind: ItemKind,
    /// Whether the gate needs it.
    pub required: bool,
    /// Whether shipcheck checks it.
    pub automatic: bool,
    /// Why a person does it.
    pub manual_because: Option<String>,
    /// Its state.
    pub state: ItemState,
    /// One line.
    pub summary: Option<String>,
    /// The check's or action's evidence (free-form per kind of check).
    pub evidence: Value,
    /// Who settled it.
    pub by: Option<String>,
    /// When.
    pub at: Option<Timestamp>,
    /// The note given.
    pub note: Option<String>,
    /// Why it was waived.
    pub reason: Option<String>,
    /// How long its check took.
    pub duration_ms: Option<u64>,
    /// Attempts.
    pub attempts: u32,
}

/// The notes of a run by kind.
#[derive(Clone, Debug, Serialize)]
pub struct Notes {
    /// Issues.
    pub issues: Vec<NoteReport>,
    /// Lessons.
    pub lessons: Vec<NoteReport>,
    /// Anything else.
    pub general: Vec<NoteReport>,
}

/// One note.
#[derive(Clone, Debug, Serialize)]
pub struct NoteReport {
    /// The text.
    pub text: String,
    /// Who.
    pub by: String,
    /// When.
    pub at: Timestamp,
}

/// The run's document.
pub fn report(run: &RunState) -> RunReport {
    let items = run
        .items
        .iter()
        .map(|r| ItemReport {
            id: r.item.id.clone(),
            phase: r.item.phase,
            section: r.item.section.clone(),
            title: r.item.title.clone(),
            kind: r.item.kind,
            required: r.item.required,
            automatic: r.item.is_automatic(),
            manual_because: r.item.manual_because.clone(),
            state: r.state,
            summary: r.summary.clone(),
            evidence: r.evidence.clone(),
            by: r.by.clone(),
            at: r.at,
            note: r.note.clone(),
            reason: r.reason.clone(),
            duration_ms: r.duration_ms,
            attempts: r.attempts,
        })
        .collect();
    let notes = |k: NoteKind| -> Vec<NoteReport> {
        run.notes_of(k)
            .map(|n| NoteReport {
                text: n.text.clone(),
                by: n.by.clone(),
                at: n.at,
            })
            .collect()
    };
    let by_reason = |o: &Option<(String, String)>| {
        o.as_ref().map(|(by, reason)| ByReason {
            by: by.clone(),
            reason: reason.clone(),
        })
    };
    RunReport {
        schema: crate::JSON_SCHEMA,
        kind: "run",
        id: run.id.clone(),
        project: run.project.clone(),
        env: run.env.clone(),
        status: run.status,
        phase: run.current_phase(),
        completed_phases: run.completed.clone(),
        started_by: run.started_by.clone(),
        started_at: run.started_at,
        scheduled_at: run.scheduled_at,
        updated_at: run.updated_at,
        config_digest: run.config_digest.clone(),
        config_trust: run.config_trust.clone(),
        window_override: by_reason(&run.window_override),
        aborted: by_reason(&run.aborted),
        signed: run.signed.as_ref().map(|(by, at)| Signed {
            by: by.clone(),
            at: *at,
            ssh_signatures: run.ssh_signatures.clone(),
        }),
        items,
        rollbacks: run.rollbacks.clone(),
        stops: run.stops.clone(),
        markers: crate::report::markers::markers(run),
        notes: Notes {
            issues: notes(NoteKind::Issue),
            lessons: notes(NoteKind::Lesson),
            general: notes(NoteKind::General),
        },
        success_criteria: criteria::evaluate(run),
        events: run.event_count,
        verdict: crate::journal::watch::verdict(run),
        watch: crate::report::watch::summary(run),
        anomalies: run.anomalies.clone(),
    }
}

/// The JSON value of a run.
pub fn value(run: &RunState) -> Value {
    serde_json::to_value(report(run)).unwrap_or(Value::Null)
}

/// Pretty JSON text.
pub fn render(run: &RunState) -> String {
    serde_json::to_string_pretty(&report(run)).unwrap_or_else(|_| "{}".into())
}
