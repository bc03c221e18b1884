//! Rolling a run back: the strategy's plan, then the rollback itself, journaled intent-first
//! on the run. A rollback interrupted by a crash is reconciled against the world before it
//! runs again, so it never happens twice.

use crate::actions::{self, ActionContext, ActionError, ActionResult};
use crate::journal::state::RunState;
use crate::model::config::RollbackStrategy;
use crate::model::event::Event;
use crate::model::incident::{RollbackOptions, RollbackOutcome};
use crate::runs::{RunError, Session};

fn rollback_context(session: &Session, run: &RunState, opts: &RollbackOptions) -> ActionContext {
    ActionContext {
        message: Some(opts.reason.clone()),
        dry_run: opts.dry_run,
        ..ActionContext::new(session.clients(), Some(run), opts.by.clone())
    }
}

/// The revert's parts: the repository, and whether to change nothing.
fn revert_of<'a>(
    ctx: &ActionContext,
    repo: &'a crate::clients::git::Repo,
) -> actions::revert::Revert<'a> {
    actions::revert::Revert {
        repo,
        dry_run: ctx.dry_run,
    }
}

/// The exact commands the rollback would run.
pub async fn rollback_plan(
    session: &Session,
    run: &RunState,
    opts: &RollbackOptions,
) -> Result<Vec<String>, RunError> {
    let ctx = rollback_context(session, run, opts);
    match opts.strategy {
        RollbackStrategy::GitRevert => {
            let sha = release_merge(run)?;
            actions::revert::plan(&revert_of(&ctx, &ctx.clients.repo()), &sha)
                .await
                .map_err(refused)
        }
        RollbackStrategy::Platform => {
            let plan = actions::fly::plan_rollback_platform(&ctx, opts.apps.as_deref())
                .await
                .map_err(RunError::Action)?;
            let mut lines: Vec<String> = plan
                .warnings
                .iter()
                .map(|w| format!("# warning: {w}"))
                .collect();
            for step in &plan.steps {
                match &step.skip {
                    Some(why) => lines.push(format!("# {}: skipped ({why})", step.app)),
                    None => lines.push(step.command.clone()),
                }
            }
            Ok(lines)
        }
    }
}

/// Rolls the run back. The caller has confirmed (a prompt or `--yes`); `dry_run` only
/// plans.
pub async fn rollback(
    session: &Session,
    run: &RunState,
    opts: &RollbackOptions,
) -> Result<RollbackOutcome, RunError> {
    if opts.reason.trim().is_empty() {
        return Err(RunError::Refused {
            message: "a rollback needs a reason: --reason TEXT".into(),
        });
    }
    let plan = rollback_plan(session, run, opts).await?;
    let ctx = rollback_context(session, run, opts);
    let strategy = opts.strategy;
    if opts.dry_run {
        return Ok(RollbackOutcome {
            strategy,
            plan,
            performed: false,
            summary: "dry run: nothing performed".into(),
            evidence: serde_json::Value::Null,
            reconciled: false,
        });
    }
    let in_flight = run
        .rollback_in_flight()
        .filter(|r| r.strategy == strategy.as_str())
        .is_some();
    if in_flight && let Some(done) = reconcile_rollback(run, &ctx, strategy).await? {
        session
            .append(
                &run.id,
                Event::RollbackDone {
                    strategy: strategy.as_str().into(),
                    summary: format!("{} (found done after an interruption)", done.summary),
                    evidence: done.evidence.clone(),
                },
            )
            .await?;
        return Ok(RollbackOutcome {
            strategy,
            plan,
            performed: true,
            summary: done.summary,
            evidence: done.evidence,
            reconciled: true,
        });
    }
    if !in_flight {
        // Started only if no one else started one meanwhile (a person's rollback racing the
        // watch's): the decision is made on the run as it is when the intent is written.
        session
            .update(&run.id, |now| {
                if let Some(other) = now.rollback_in_flight() {
                    return Err(RunError::Refused {
                        message: format!(
                            "a {} rollback started by {} at {} is in progress; wait for it (`shipcheck status`)",
                            other.strategy, other.by, other.started_at
                        ),
                    });
                }
                Ok(Some(Event::RollbackStarted {
                    strategy: strategy.as_str().into(),
                    by: opts.by.clone(),
                    reason: opts.reason.trim().to_string(),
                    intent: plan.join("\n"),
                    apps: opts.apps.clone(),
                }))
            })
            .await?;
    }
    let result = match strategy {
        RollbackStrategy::GitRevert => {
            let sha = release_merge(run)?;
            actions::revert::git_revert(&revert_of(&ctx, &ctx.clients.repo()), &sha).await
        }
        // Idempotent by itself: an app already on its target image is skipped.
        RollbackStrategy::Platform => {
            actions::fly::rollback_platform(&ctx, opts.apps.as_deref()).await
        }
    };
    match result {
        Ok(done) => {
            session
                .append(
                    &run.id,
                    Event::RollbackDone {
                        strategy: strategy.as_str().into(),
                        summary: done.summary.clone(),
                        evidence: done.evidence.clone(),
                    },
                )
                .await?;
            Ok(RollbackOutcome {
                strategy,
                plan,
                performed: true,
                summary: done.summary,
                evidence: done.evidence,
                reconciled: false,
            })
        }
        Err(e) => {
            session
                .append(
                    &run.id,
                    Event::RollbackFailed {
                        strategy: strategy.as_str().into(),
                        error: e.message.clone(),
                    },
                )
                .await?;
            Err(RunError::Action(e))
        }
    }
}

async fn reconcile_rollback(
    run: &RunState,
    ctx: &ActionContext,
    strategy: RollbackStrategy,
) -> Result<Option<ActionResult>, RunError> {
    match strategy {
        RollbackStrategy::GitRevert => {
            let sha = release_merge(run)?;
            actions::revert::reconcile(&revert_of(ctx, &ctx.clients.repo()), &sha)
                .await
                .map_err(RunError::Action)
        }
        RollbackStrategy::Platform => Ok(None),
    }
}

fn release_merge(run: &RunState) -> Result<String, RunError> {
    actions::revert::release_merge(run).ok_or_else(|| RunError::Refused {
        message: format!(
            "run {} has no release merge to revert (release.merge is not done); nothing to roll back with git-revert",
            run.id
        ),
    })
}

fn refused(e: ActionError) -> RunError {
    RunError::Action(e)
}
