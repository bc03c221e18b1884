//! Finishing what a crash interrupted, before anything else happens on a resumed run.
//!
//! Every command that walks a run (`next`, `deploy`, `monitor`, the demo operator) calls
//! [`finish_interrupted`] first. It looks at the journal for side effects that were started
//! and never reported back, and takes each to its end:
//!
//! - a rollback journaled as started (its intent) without a result is reconciled with the
//!   world and finished (a platform rollback skips the apps already on their previous image;
//!   a git revert already pushed is found, not pushed again);
//! - a rollback the policy or a person decided (`decision: rollback`) whose intent was never
//!   journaled is performed now: the decision was made, production still runs the failing
//!   release;
//! - a verified rollback whose incidents were never resolved has them resolved, as the watch
//!   would have right after the verification;
//! - an incident whose message was never journaled as sent is posted, marked as sent again
//!   after an interruption (an alert that may arrive twice is better than none);
//! - an incident raised but never answered by the severity policy (killed in between) is
//!   answered now: a critical one rolls back, a high one's timer runs from when it was raised.
//!
//! The watch after the rollback, which verifies it, then starts from the journal as usual.

use crate::incidents::respond::{Asker, POLICY, decide};
use crate::incidents::rollback::rollback;
use crate::journal::state::RunState;
use crate::model::config::RollbackStrategy;
use crate::model::event::Event;
use crate::model::incident::{Decision, RollbackOptions};
use crate::runs::stream::WatchEvent;
use crate::runs::{RunError, Session};

/// Who resolves the incidents of a verified rollback.
const RESUMED: &str = "shipcheck (resumed)";

/// Finishes every side effect of the watch and the incidents that a crash left half done;
/// returns the run as it is after. A closed run is left as it is.
pub async fn finish_interrupted(
    session: &Session,
    run_id: &str,
    ask: &Asker<'_>,
) -> Result<RunState, RunError> {
    let run = session.load(run_id).await?;
    if !run.status.is_open() {
        return Ok(run);
    }
    let mut run = run;
    if let Some(r) = run.rollback_in_flight().cloned() {
        let strategy = RollbackStrategy::parse(&r.strategy)
            .unwrap_or(session.loaded.config.incident.rollback_strategy);
        ask.observer.on_watch(&WatchEvent::Note(format!(
            "a {} rollback started by {} at {} was interrupted before it reported back; finishing it now",
            r.strategy, r.by, r.started_at
        )));
        let opts = RollbackOptions {
            strategy,
            by: r.by.clone(),
            reason: r.reason.clone(),
            apps: r.apps.clone(),
            dry_run: false,
        };
        finish_rollback(session, &run, &opts, ask).await?;
        run = session.load(run_id).await?;
    } else if let Some((id, by, reason)) = decided_not_started(&run) {
        ask.observer.on_watch(&WatchEvent::Note(format!(
            "incident #{id}: a rollback was decided but never started (interrupted); rolling back now"
        )));
        let opts = RollbackOptions {
            strategy: session.loaded.config.incident.rollback_strategy,
            by,
            reason,
            apps: None,
            dry_run: false,
        };
        finish_rollback(session, &run, &opts, ask).await?;
        run = session.load(run_id).await?;
    }
    if let Some(v) = run.monitor.verification.as_ref().filter(|v| v.ok) {
        let open: Vec<u32> = run
            .monitor
            .open_incidents()
            .filter(|i| i.raised_at <= v.at)
            .map(|i| i.record.id)
            .collect();
        for id in open {
            run = decide(
                session,
                run_id,
                id,
                Decision::Resolved,
                RESUMED,
                "rolled back; the rollback is verified (resolved on resume after an interruption)",
                None,
                ask.observer,
            )
            .await?;
        }
    }
    let unsent: Vec<(u32, String)> = run
        .monitor
        .incidents
        .iter()
        .filter(|i| i.notified.is_none())
        .map(|i| {
            (
                i.record.id,
                format!(
                    "incident #{} ({}): {} (sent after an interruption; it may appear twice)",
                    i.record.id,
                    i.record.severity.as_str(),
                    i.record.summary
                ),
            )
        })
        .collect();
    for (id, what) in unsent {
        let (posted, detail) =
            crate::incidents::respond::post_incident(session, run_id, &what, POLICY).await;
        run = session
            .append(
                run_id,
                Event::IncidentNotified {
                    incident: id,
                    posted,
                    detail,
                },
            )
            .await?;
    }
    // Raised (and told) but never answered by the policy: killed between the incident and
    // its response. The policy answers it now, as it would have then (a critical incident
    // rolls back; a high one starts its timer from when it was raised).
    let unanswered: Vec<u32> = run
        .monitor
        .open_incidents()
        .filter(|i| {
            i.decisions
                .iter()
                .all(|d| d.decision == Decision::AlsoFailing)
        })
        .map(|i| i.record.id)
        .collect();
    for id in unanswered {
        let Some(i) = run.monitor.incident(id).cloned() else {
            continue;
        };
        let severity = i.record.severity;
        ask.observer.on_watch(&WatchEvent::Note(format!(
            "incident #{id} ({}) was raised but never answered (interrupted); the policy answers it now",
            severity.as_str()
        )));
        crate::incidents::respond::respond_to(
            session,
            run_id,
            id,
            severity,
            i.record.source,
            &i.record.by,
            i.raised_at,
            ask,
        )
        .await?;
        run = session.load(run_id).await?;
    }
    Ok(run)
}

/// An open incident whose latest decision is to roll back, with no rollback started since
/// and none done: (incident, who decided, the rollback's reason).
fn decided_not_started(run: &RunState) -> Option<(u32, String, String)> {
    if run.rollbacks.iter().any(|r| r.succeeded == Some(true)) {
        return None;
    }
    run.monitor.open_incidents().find_map(|i| {
        let d = i
            .decisions
            .iter()
            .rfind(|d| d.decision != Decision::AlsoFailing)?;
        let started_since = run.rollbacks.iter().any(|r| r.started_at >= d.at);
        (d.decision == Decision::Rollback && !started_since).then(|| {
            (
                i.record.id,
                d.by.clone(),
                format!(
                    "incident #{} ({}): {}",
                    i.record.id,
                    i.record.severity.as_str(),
                    i.record.summary
                ),
            )
        })
    })
}

/// Performs (or reconciles) the rollback; a failure is decided on the incidents that asked
/// for it, as the watch does.
async fn finish_rollback(
    session: &Session,
    run: &RunState,
    opts: &RollbackOptions,
    ask: &Asker<'_>,
) -> Result<(), RunError> {
    match rollback(session, run, opts).await {
        Ok(outcome) => {
            ask.observer.on_watch(&WatchEvent::Note(format!(
                "rolled back: {}",
                outcome.summary
            )));
            Ok(())
        }
        Err(RunError::Store(e)) => Err(RunError::Store(e)),
        Err(e) => {
            let reason = format!("the rollback failed: {e}");
            let ids: Vec<u32> = run
                .monitor
                .open_incidents()
                .filter(|i| i.decided(Decision::Rollback))
                .map(|i| i.record.id)
                .collect();
            for id in ids {
                decide(
                    session,
                    &run.id,
                    id,
                    Decision::RollbackFailed,
                    POLICY,
                    &reason,
                    None,
                    ask.observer,
                )
                .await?;
            }
            Ok(())
        }
    }
}
