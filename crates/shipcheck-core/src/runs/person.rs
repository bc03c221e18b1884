//! What a person does to a run: tick or waive an item, add a note, abort, sign. Each is
//! decided on the run as it is when it is written (see [`Session::update`]).

use super::{RunError, Session, anchor};
use crate::journal::state::{ItemState, RunState, RunStatus};
use crate::model::checklist::Phase;
use crate::model::event::{Event, NoteKind};

impl Session {
    /// A person confirms a manual item.
    pub async fn tick(
        &self,
        run: &RunState,
        item_id: &str,
        by: &str,
        note: Option<String>,
    ) -> Result<RunState, RunError> {
        let note = note.filter(|n| !n.trim().is_empty());
        // Decided on the run as it is when the tick is written, not as it was read.
        self.update(&run.id, |run| {
        let record = item_for_person(run, item_id, "tick")?;
        // An action shipcheck could not finish (interrupted, or failed) may be confirmed by
        // a person who looked at the world: "if the message is there, tick this item".
        let unfinished_action = record.item.is_performed()
            && (record.action_in_flight || record.state == ItemState::Error);
        if !record.item.is_ticked_by_person() && !unfinished_action {
            return Err(RunError::refused(format!(
                "{item_id} is automatic: shipcheck {} it. If it cannot pass, `shipcheck waive {item_id} --reason TEXT` records why it was skipped",
                if record.item.is_performed() {
                    "performs"
                } else {
                    "checks"
                }
            )));
        }
        if record.item.note_required && note.is_none() {
            return Err(RunError::refused(format!(
                "{item_id} needs a note: `shipcheck tick {item_id} --note TEXT`{}",
                record
                    .item
                    .help
                    .as_deref()
                    .map(|h| format!(" ({h})"))
                    .unwrap_or_default()
            )));
        }
        if record.item.other_than_deployer && by == run.started_by {
            return Err(RunError::refused(format!(
                "{item_id} must be confirmed by someone other than the deployer ({}); the reviewer runs it (with their own token when the store has a team, else `--by NAME`)",
                run.started_by
            )));
        }
        Ok(Some(Event::ItemTicked {
            item: item_id.to_string(),
            by: by.to_string(),
            note: note.clone(),
        }))
        })
        .await
    }

    /// A person waives a required item, with a reason.
    pub async fn waive(
        &self,
        run: &RunState,
        item_id: &str,
        by: &str,
        reason: &str,
    ) -> Result<RunState, RunError> {
        if reason.trim().is_empty() {
            return Err(RunError::refused(format!(
                "a waiver needs a reason: `shipcheck waive {item_id} --reason TEXT`"
            )));
        }
        self.update(&run.id, |run| {
            item_for_person(run, item_id, "waive")?;
            Ok(Some(Event::ItemWaived {
                item: item_id.to_string(),
                by: by.to_string(),
                reason: reason.trim().to_string(),
            }))
        })
        .await
    }

    /// Adds a note for the record.
    pub async fn note(
        &self,
        run: &RunState,
        kind: NoteKind,
        text: &str,
        by: &str,
    ) -> Result<RunState, RunError> {
        if text.trim().is_empty() {
            return Err(RunError::refused("a note needs text"));
        }
        self.append(
            &run.id,
            Event::NoteAdded {
                kind,
                text: text.trim().to_string(),
                by: by.to_string(),
            },
        )
        .await
    }

    /// Abandons the run and releases the deploy lock.
    pub async fn abort(
        &self,
        run: &RunState,
        reason: &str,
        by: &str,
    ) -> Result<RunState, RunError> {
        if reason.trim().is_empty() {
            return Err(RunError::refused(
                "abort needs a reason: `shipcheck abort --reason TEXT`",
            ));
        }
        self.update(&run.id, |run| {
            if !run.status.is_open() {
                return Err(RunError::refused(format!(
                    "run {} is already {}",
                    run.id,
                    run.status.as_str()
                )));
            }
            Ok(Some(Event::RunAborted {
                reason: reason.trim().to_string(),
                by: by.to_string(),
            }))
        })
        .await
    }

    /// Signs the record of a completed run and releases the deploy lock. The journal's head
    /// is anchored first ([`anchor`]: a git note on the release's merge commit, pushed).
    pub async fn sign(&self, run: &RunState, by: &str) -> Result<RunState, RunError> {
        let now = self.load(&run.id).await?;
        if now.status == RunStatus::Completed {
            anchor::anchor_before_signing(self, &now).await?;
        }
        self.update(&run.id, |run| {
        match run.status {
            RunStatus::Completed => {}
            RunStatus::Active => {
                let phase = run.current_phase().unwrap_or(Phase::Close);
                let open = run.blocking(phase).len();
                return Err(RunError::refused(format!(
                    "the run is still in phase {phase} ({open} required item(s) open); sign when every phase is complete"
                )));
            }
            other => {
                return Err(RunError::refused(format!(
                    "run {} is {}; it cannot be signed",
                    run.id,
                    other.as_str()
                )));
            }
        }
        Ok(Some(Event::RunSigned { by: by.to_string() }))
        })
        .await
    }
}

/// The item a person ticks or waives, if they may.
fn item_for_person<'r>(
    run: &'r RunState,
    item_id: &str,
    verb: &str,
) -> Result<&'r crate::journal::state::ItemRecord, RunError> {
    if !run.status.is_open() {
        return Err(RunError::refused(format!(
            "run {} is {}; nothing can be changed",
            run.id,
            run.status.as_str()
        )));
    }
    let Some(record) = run.record(item_id) else {
        let ids = run.items.iter().map(|r| r.item.id.as_str());
        return Err(RunError::refused(
            match crate::model::checklist::suggest(item_id, ids) {
                Some(s) => format!("unknown item {item_id:?}; did you mean {s:?}?"),
                None => {
                    format!("unknown item {item_id:?}; `shipcheck status` lists this run's items")
                }
            },
        ));
    };
    let current = run.current_phase();
    if run.completed.contains(&record.item.phase) {
        return Err(RunError::refused(format!(
            "cannot {verb} {item_id}: its phase ({}) is already complete",
            record.item.phase
        )));
    }
    match record.state {
        ItemState::Pass | ItemState::Done | ItemState::Waived => Err(RunError::refused(format!(
            "{item_id} is already {}{}",
            record.state.as_str(),
            record
                .by
                .as_deref()
                .map(|b| format!(" (by {b})"))
                .unwrap_or_default()
        ))),
        ItemState::NotRequired => Err(RunError::refused(format!(
            "{item_id} is not required for this run: {}",
            record
                .summary
                .as_deref()
                .unwrap_or("its condition is false")
        ))),
        _ => {
            let _ = current;
            Ok(record)
        }
    }
}
