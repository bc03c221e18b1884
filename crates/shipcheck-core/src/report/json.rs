//! The run as versioned JSON (`shipcheck/v1`). Fields are only ever added.

use serde_json::{Value, json};

use crate::journal::state::RunState;
use crate::model::event::NoteKind;
use crate::report::criteria;

/// The JSON value of a run.
pub fn value(run: &RunState) -> Value {
    let items: Vec<Value> = run
        .items
        .iter()
        .map(|r| {
            json!({
                "id": r.item.id,
                "phase": r.item.phase,
                "section": r.item.section,
                "title": r.item.title,
                "kind": r.item.kind,
                "required": r.item.required,
                "automatic": r.item.is_automatic(),
                "manual_because": r.item.manual_because,
                "state": r.state,
                "summary": r.summary,
                "evidence": r.evidence,
                "by": r.by,
                "at": r.at,
                "note": r.note,
                "reason": r.reason,
                "duration_ms": r.duration_ms,
                "attempts": r.attempts,
            })
        })
        .collect();
    let notes = |k: NoteKind| -> Vec<Value> {
        run.notes_of(k)
            .map(|n| json!({"text": n.text, "by": n.by, "at": n.at}))
            .collect()
    };
    let mut v = json!({
        "schema": crate::JSON_SCHEMA,
        "kind": "run",
        "id": run.id,
        "project": run.project,
        "env": run.env,
        "status": run.status,
        "phase": run.current_phase(),
        "completed_phases": run.completed,
        "started_by": run.started_by,
        "started_at": run.started_at,
        "scheduled_at": run.scheduled_at,
        "updated_at": run.updated_at,
        "config_digest": run.config_digest,
        "window_override": run.window_override.as_ref().map(|(by, reason)| json!({"by": by, "reason": reason})),
        "aborted": run.aborted.as_ref().map(|(by, reason)| json!({"by": by, "reason": reason})),
        "signed": run.signed.as_ref().map(|(by, at)| json!({"by": by, "at": at})),
        "items": items,
        "rollbacks": run.rollbacks,
        "stops": run.stops,
        "notes": {
            "issues": notes(NoteKind::Issue),
            "lessons": notes(NoteKind::Lesson),
            "general": notes(NoteKind::General),
        },
        "success_criteria": criteria::evaluate(run),
        "events": run.event_count,
        "verdict": crate::journal::watch::verdict(run),
        "watch": crate::report::watch::json(run),
    });
    if !run.anomalies.is_empty() {
        v["anomalies"] = json!(run.anomalies);
    }
    v
}

/// Pretty JSON text.
pub fn render(run: &RunState) -> String {
    serde_json::to_string_pretty(&value(run)).unwrap_or_else(|_| "{}".into())
}
