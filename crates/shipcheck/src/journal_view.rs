//! The journal on the terminal: one line per change a person would want to see as it
//! happens — an action's intent and result, a Slack message, a tick, a waiver, a note, a
//! rollback or a stop. The same lines render a run's history (`shipcheck events`), so the live
//! view and the record read alike. Checks and the watch have their own live lines
//! ([`crate::output::Progress`], [`crate::watch_output`]).

use shipcheck_core::model::event::{Event, StoredEvent};
use shipcheck_core::runs::Session;
use tokio::sync::{broadcast, oneshot};

/// The line for one stored event, if it has one.
pub fn line(e: &StoredEvent) -> Option<String> {
    Some(match &e.event {
        Event::ActionStarted { item, by, intent } => {
            let first = intent.lines().next().unwrap_or_default();
            let more = intent.lines().count().saturating_sub(1);
            format!(
                "  → {item}  performing (confirmed by {by}): {first}{}",
                if more > 0 {
                    format!(" … and {more} more step(s)")
                } else {
                    String::new()
                }
            )
        }
        Event::ActionDone { item, summary, .. } => format!("  ✓ {item}  done  {summary}"),
        Event::ActionFailed {
            item,
            error,
            unsure,
        } => format!(
            "  ! {item}  {}  {error}",
            if *unsure { "unsure" } else { "error" }
        ),
        Event::ItemTicked { item, by, note } => format!(
            "  ✓ {item}  ticked by {by}{}",
            note.as_deref()
                .map(|n| format!(": {n}"))
                .unwrap_or_default()
        ),
        Event::ItemWaived { item, by, reason } => {
            format!("  w {item}  waived by {by}: {reason}")
        }
        Event::ItemNotRequired { item, reason } => format!("  - {item}  not required: {reason}"),
        Event::NoteAdded { kind, text, by } => format!("  note ({kind:?}) by {by}: {text}"),
        Event::RollbackStarted {
            strategy,
            by,
            reason,
            ..
        } => format!("  → rollback ({strategy}) started by {by}: {reason}"),
        Event::RollbackDone {
            strategy, summary, ..
        } => format!("  ✓ rollback ({strategy}) done: {summary}"),
        Event::RollbackFailed { strategy, error } => {
            format!("  ! rollback ({strategy}) failed: {error}")
        }
        Event::StopStarted { app, undo, by, .. } => format!(
            "  → {} of {app} started by {by}",
            if *undo {
                "undo of the stop"
            } else {
                "emergency stop"
            }
        ),
        Event::StopDone { app, summary, .. } => format!("  ✓ {app}: {summary}"),
        Event::StopFailed { app, error, .. } => format!("  ! {app}: {error}"),
        Event::IncidentNotified {
            incident,
            posted,
            detail,
        } => format!(
            "  {} incident #{incident}: {detail}",
            if *posted { "posted" } else { "not posted" }
        ),
        Event::DeploymentStatusPosted {
            deployment, state, ..
        } => format!("  ✓ GitHub deployment {deployment} marked {state}"),
        Event::DeploymentStatusFailed {
            deployment,
            state,
            error,
        } => format!("  ! GitHub deployment {deployment}: {state} not posted: {error}"),
        Event::CdeventDelivered { id, .. } => format!(
            "  ✓ CDEvent {} delivered",
            id.split_once('/').map_or(id.as_str(), |(_, k)| k)
        ),
        Event::CdeventFailed { id, error } => format!("  ! CDEvent {id} not delivered: {error}"),
        Event::RunAborted { reason, by } => format!("run aborted by {by}: {reason}"),
        Event::RunSigned { by } => format!("run signed by {by}"),
        Event::RecordSshSigned { signature } => format!(
            "record signed with {} by {} (event {})",
            signature.key, signature.by, signature.seq
        ),
        _ => return None,
    })
}

/// A short line for any event (the history view's fallback where [`line`] has none).
pub fn brief(e: &StoredEvent) -> String {
    match &e.event {
        Event::RunStarted {
            project, env, by, ..
        } => {
            format!("run of {project} ({env}) started by {by}")
        }
        Event::ConfigTrusted { differences, by } => format!(
            "config: {by} trusted {} difference(s) from the production branch's programs and URLs",
            differences.len()
        ),
        Event::ConfigNotCompared { reason, settings } => format!(
            "config: programs and URLs not compared with the production branch's ({reason}); this run uses {}",
            settings.join(", ")
        ),
        Event::WindowOverridden { reason, by } => format!("window overridden by {by}: {reason}"),
        Event::CheckFinished {
            item,
            status,
            summary,
            ..
        } => format!("{item}  {}  {summary}", status.as_str()),
        Event::PhaseCompleted { phase } => format!("phase {phase} complete"),
        Event::BaselineRecorded { baseline } => format!("baseline: {}", baseline.summary()),
        Event::WatchStarted { leg, purpose, .. } => format!("watch {leg} started ({purpose:?})"),
        Event::WatchTick { tick } => shipcheck_core::journal::watch::tick_line(tick),
        Event::WatchSamples { leg, samples } => {
            format!("watch {leg}: {} raw health sample(s) kept", samples.len())
        }
        Event::WatchEnded {
            leg,
            outcome,
            reason,
        } => format!("watch {leg} ended {}: {reason}", outcome.as_str()),
        Event::IncidentRaised { incident } => format!(
            "incident #{} ({}) by {}: {}",
            incident.id,
            incident.severity.as_str(),
            incident.by,
            incident.summary
        ),
        Event::IncidentDecision {
            incident,
            decision,
            by,
            reason,
            ..
        } => format!("incident #{incident}: {decision:?} by {by}: {reason}"),
        Event::RollbackVerified { ok, summary, .. } => format!(
            "rollback {}: {summary}",
            if *ok { "verified" } else { "not verified" }
        ),
        _ => e.event.type_name().to_string(),
    }
}

/// Prints what a session appends while a command works, until [`Tail::finish`].
pub struct Tail {
    stop: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl Tail {
    /// Follows `session`'s stream; prints nothing when `quiet` (`--json`).
    pub fn follow(session: &Session, quiet: bool) -> Tail {
        if quiet {
            return Tail {
                stop: None,
                task: None,
            };
        }
        let mut rx = session.subscribe();
        let (stop, mut stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            loop {
                tokio::select! {
                    biased;
                    got = rx.recv() => match got {
                        Ok(e) => show(&e),
                        Err(broadcast::error::RecvError::Lagged(n)) => {
                            say!("  … {n} change(s) not shown (`shipcheck events` lists them)");
                        }
                        Err(broadcast::error::RecvError::Closed) => break,
                    },
                    _ = &mut stopped => {
                        while let Ok(e) = rx.try_recv() {
                            show(&e);
                        }
                        break;
                    }
                }
            }
        });
        Tail {
            stop: Some(stop),
            task: Some(task),
        }
    }

    /// Prints what is left and stops.
    pub async fn finish(mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.task.take() {
            let _ = t.await;
        }
    }
}

fn show(e: &StoredEvent) {
    if let Some(l) = line(e) {
        say!("{l}");
    }
}
