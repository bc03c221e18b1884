//! The emergency stop (`flyctl scale count 0`) and its undo, journaled on a run: the machine
//! counts are recorded before anything is scaled, so `stop --undo` puts back what was there.

use serde::Serialize;

use crate::actions::ActionContext;
use crate::actions::fly::{self as fly_actions, ScaleCounts};
use crate::journal::state::RunState;
use crate::model::event::Event;
use crate::runs::{RunError, Session};

/// What a stop (or undo) did or would do.
#[derive(Clone, Debug, Serialize)]
pub struct StopOutcome {
    /// The app.
    pub app: String,
    /// Scaling back up.
    pub undo: bool,
    /// The exact command.
    pub plan: Vec<String>,
    /// Whether anything ran.
    pub performed: bool,
    /// One line.
    pub summary: String,
    /// Evidence.
    pub evidence: serde_json::Value,
}

fn stop_context(session: &Session, run: &RunState, by: &str, dry_run: bool) -> ActionContext {
    ActionContext {
        dry_run,
        ..ActionContext::new(session.clients(), Some(run), by)
    }
}

/// The counts the last completed stop of `app` recorded, for the undo.
pub fn recorded_counts(run: &RunState, app: &str) -> Option<ScaleCounts> {
    run.stops
        .iter()
        .rev()
        .filter(|s| s.app == app && !s.undo && s.succeeded == Some(true))
        .find_map(|s| ScaleCounts::from_evidence(&s.evidence).filter(|c| c.total() > 0))
}

/// The exact command of a stop or undo.
pub async fn stop_plan(
    session: &Session,
    run: &RunState,
    app: &str,
    undo: bool,
    by: &str,
) -> Result<Vec<String>, RunError> {
    let ctx = stop_context(session, run, by, true);
    if undo {
        let counts = recorded_counts(run, app).ok_or_else(|| no_record(run, app))?;
        fly_actions::plan_stop_undo(&ctx, app, &counts)
            .await
            .map_err(RunError::Action)
    } else {
        let plan = fly_actions::plan_stop(&ctx, app)
            .await
            .map_err(RunError::Action)?;
        Ok(vec![
            format!(
                "# {} machine(s) running now: {}",
                plan.before.total(),
                serde_json::to_string(&plan.before.groups).unwrap_or_default()
            ),
            plan.command,
        ])
    }
}

/// Stops `app` (scale to zero) or undoes the last stop. The caller has confirmed.
pub async fn stop(
    session: &Session,
    run: &RunState,
    app: &str,
    undo: bool,
    by: &str,
    dry_run: bool,
) -> Result<StopOutcome, RunError> {
    let plan = stop_plan(session, run, app, undo, by).await?;
    if dry_run {
        return Ok(StopOutcome {
            app: app.to_string(),
            undo,
            plan,
            performed: false,
            summary: "dry run: nothing performed".into(),
            evidence: serde_json::Value::Null,
        });
    }
    let ctx = stop_context(session, run, by, false);
    session
        .append(
            &run.id,
            Event::StopStarted {
                app: app.to_string(),
                undo,
                by: by.to_string(),
                intent: plan.join("\n"),
            },
        )
        .await?;
    let result = if undo {
        match recorded_counts(run, app) {
            Some(counts) => fly_actions::stop_undo(&ctx, app, &counts).await,
            None => Err(crate::actions::ActionError::new(
                no_record(run, app).to_string(),
            )),
        }
    } else {
        fly_actions::stop(&ctx, app).await
    };
    match result {
        Ok(done) => {
            session
                .append(
                    &run.id,
                    Event::StopDone {
                        app: app.to_string(),
                        undo,
                        summary: done.summary.clone(),
                        evidence: done.evidence.clone(),
                    },
                )
                .await?;
            Ok(StopOutcome {
                app: app.to_string(),
                undo,
                plan,
                performed: true,
                summary: done.summary,
                evidence: done.evidence,
            })
        }
        Err(e) => {
            session
                .append(
                    &run.id,
                    Event::StopFailed {
                        app: app.to_string(),
                        undo,
                        error: e.message.clone(),
                    },
                )
                .await?;
            Err(RunError::Action(e))
        }
    }
}

fn no_record(run: &RunState, app: &str) -> RunError {
    RunError::Refused {
        message: format!(
            "run {} has no completed stop of {app} with a machine count to go back to",
            run.id
        ),
    }
}
