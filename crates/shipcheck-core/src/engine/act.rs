//! Actions within the walk: the intent journaled before the side effect, the result after,
//! `reconcile` after a crash, confirmation, and `shipcheck retry`.

use crate::actions::{self, ActionContext};
use crate::engine::walk::run_segment;
use crate::engine::walk::{Need, StepOptions, StepReport};
use crate::journal::state::{ItemState, RunState, RunStatus};
use crate::model::checklist::Item;
use crate::model::event::Event;
use crate::runs::stream::Confirm;
use crate::runs::stream::Observer;
use crate::runs::{RunError, Session};

/// A non-destructive action (a Slack message) that failed is tried again by the next steps,
/// up to this many attempts; then it waits for `retry`, `tick` or `waive`.
const MAX_AUTOMATIC_ATTEMPTS: u32 = 3;

/// `shipcheck retry ITEM`: performs an action again (a failed or interrupted one), or runs
/// an automatic check again, now. A destructive action needs `opts.yes` or a yes from
/// `confirm`.
pub async fn retry(
    session: &Session,
    run_id: &str,
    item_id: &str,
    opts: &StepOptions,
    confirm: &dyn Confirm,
    observer: &dyn Observer,
) -> Result<StepReport, RunError> {
    let run = session.load(run_id).await?;
    let Some(rec) = run.record(item_id).cloned() else {
        let ids = run.items.iter().map(|r| r.item.id.as_str());
        return Err(RunError::Refused {
            message: match crate::model::checklist::suggest(item_id, ids) {
                Some(s) => format!("unknown item {item_id:?}; did you mean {s:?}?"),
                None => format!("unknown item {item_id:?}"),
            },
        });
    };
    if run.status != RunStatus::Active {
        return Err(RunError::Refused {
            message: format!(
                "run {} is {}; nothing to retry",
                run.id,
                run.status.as_str()
            ),
        });
    }
    if rec.state.is_settled() {
        return Err(RunError::Refused {
            message: format!(
                "{item_id} is already {}; nothing to retry",
                rec.state.as_str()
            ),
        });
    }
    let mut report = StepReport {
        phase: Some(rec.item.phase),
        advanced: false,
        now_in: run.current_phase(),
        status: run.status,
        settled: Vec::new(),
        needs: Vec::new(),
        planned: Vec::new(),
    };
    let run = if rec.item.is_performed() {
        // A person asked: the unsure flag no longer holds the action back.
        let mut run = run;
        if rec.unsure || rec.action_in_flight {
            run = session
                .append(
                    &run.id,
                    Event::ActionFailed {
                        item: item_id.to_string(),
                        error: format!("retried by {}", opts.by),
                        unsure: false,
                    },
                )
                .await?;
        }
        perform_action(session, &run, &rec.item, opts, confirm, &mut report, true).await?
    } else if rec.item.is_automatic() {
        run_segment(
            session,
            &run,
            std::slice::from_ref(&rec.item),
            &mut report,
            observer,
        )
        .await?
    } else {
        return Err(RunError::Refused {
            message: format!("{item_id} is a person's item; `shipcheck tick {item_id}` settles it"),
        });
    };
    report.now_in = run.current_phase();
    report.status = run.status;
    Ok(report)
}

/// Before a step does anything else: the rollback a crash interrupted is finished
/// ([`crate::incidents::resume`]), and every action journaled as started without a result
/// is reconciled with the world (done, unsure for a person, or performed again when the
/// world says it did not happen).
pub(super) async fn finish_interrupted(
    session: &Session,
    run: &RunState,
    opts: &StepOptions,
    confirm: &dyn Confirm,
    observer: &dyn Observer,
    report: &mut StepReport,
) -> Result<RunState, RunError> {
    if opts.dry_run {
        // A dry run performs nothing, not even what a crash interrupted.
        if let Some(r) = run.rollback_in_flight() {
            report.needs.push(Need {
                item: "rollback".into(),
                title: format!("The {} rollback started by {}", r.strategy, r.by),
                need: "info",
                detail: "dry run: the interrupted rollback would be finished first".into(),
            });
        }
        return Ok(run.clone());
    }
    let ask = crate::incidents::respond::Asker {
        confirm,
        yes: opts.yes,
        observer,
    };
    let mut run = crate::incidents::resume::finish_interrupted(session, &run.id, &ask).await?;
    let in_flight: Vec<Item> = run
        .items
        .iter()
        .filter(|r| r.action_in_flight)
        .map(|r| r.item.clone())
        .collect();
    for item in in_flight {
        run = perform_action(session, &run, &item, opts, confirm, report, false).await?;
    }
    Ok(run)
}

pub(super) async fn perform_action(
    session: &Session,
    run: &RunState,
    item: &Item,
    opts: &StepOptions,
    confirm: &dyn Confirm,
    report: &mut StepReport,
    explicit: bool,
) -> Result<RunState, RunError> {
    let Some(spec) = &item.action else {
        return Ok(run.clone());
    };
    let mut actx = ActionContext {
        clients: session.clients(),
        run: Some(std::sync::Arc::new(run.clone())),
        by: opts.by.clone(),
        message: opts.message.clone(),
        dry_run: opts.dry_run,
    };
    // The release description is fixed before the intent is journaled, so the plan, the
    // journal and the merge carry the same text.
    if matches!(spec, crate::model::checklist::ActionSpec::Merge(_))
        && actx.message.is_none()
        && let Ok(changes) = actx.clients.repo().change_set().await
    {
        actx.message = Some(crate::actions::merge::describe_release(&changes.commits));
    }
    let rec = run.record(&item.id).cloned();
    // A crash between intent and result: look at the world before doing anything again.
    if rec.as_ref().is_some_and(|r| r.action_in_flight) {
        match actions::reconcile(spec, &actx).await {
            Ok(Some(done)) => {
                let run = session
                    .append(
                        &run.id,
                        Event::ActionDone {
                            item: item.id.clone(),
                            summary: format!("{} (found done after an interruption)", done.summary),
                            evidence: done.evidence,
                            facts: done.facts,
                        },
                    )
                    .await?;
                report.settled.push((
                    item.id.clone(),
                    ItemState::Done,
                    "found done after an interruption".into(),
                ));
                return Ok(run);
            }
            Ok(None) if !actions::reconcile_is_authoritative(spec) => {
                let run = session
                    .append(
                        &run.id,
                        Event::ActionFailed {
                            item: item.id.clone(),
                            error: "interrupted before it reported back, and shipcheck cannot tell whether it happened; check by hand, then `shipcheck tick` it (it happened, or you did it) or `shipcheck retry` it".into(),
                            unsure: true,
                        },
                    )
                    .await?;
                return Ok(run);
            }
            Ok(None) => {}
            Err(e) => {
                let run = session
                    .append(
                        &run.id,
                        Event::ActionFailed {
                            item: item.id.clone(),
                            error: e.message.clone(),
                            unsure: true,
                        },
                    )
                    .await?;
                return Ok(run);
            }
        }
    }
    if !explicit && rec.as_ref().is_some_and(|r| r.unsure) {
        // Settled by a person only: `tick` (it happened) or `retry`.
        return Ok(run.clone());
    }
    let failures = rec.as_ref().map_or(0, |r| r.attempts);
    if !explicit
        && rec.as_ref().is_some_and(|r| r.state == ItemState::Error)
        && !spec.is_destructive()
        && failures >= MAX_AUTOMATIC_ATTEMPTS
    {
        return Ok(run.clone());
    }
    if !explicit
        && rec.as_ref().is_some_and(|r| r.state == ItemState::Error)
        && spec.is_destructive()
        && !opts.yes
    {
        report.needs.push(Need {
            item: item.id.clone(),
            title: item.title.clone(),
            need: "retry",
            detail: format!(
                "{}; fix the cause, then `shipcheck retry {}` (or `shipcheck next --yes`)",
                rec.as_ref()
                    .and_then(|r| r.summary.clone())
                    .unwrap_or_default(),
                item.id
            ),
        });
        return Ok(run.clone());
    }
    let plan = match actions::plan(spec, &actx).await {
        Ok(p) => p,
        Err(e) => {
            let run = session
                .append(
                    &run.id,
                    Event::ActionFailed {
                        item: item.id.clone(),
                        error: e.message.clone(),
                        unsure: false,
                    },
                )
                .await?;
            return Ok(run);
        }
    };
    if opts.dry_run {
        report.planned.push((item.id.clone(), plan));
        report.needs.push(Need {
            item: item.id.clone(),
            title: item.title.clone(),
            need: "confirm",
            detail: "dry run: nothing performed".into(),
        });
        return Ok(run.clone());
    }
    if spec.is_destructive() && !opts.yes && !confirm.confirm(item, &plan) {
        report.planned.push((item.id.clone(), plan.clone()));
        report.needs.push(Need {
            item: item.id.clone(),
            title: item.title.clone(),
            need: "confirm",
            detail: "run `shipcheck next --yes` to perform it (or answer yes at the prompt)".into(),
        });
        return Ok(run.clone());
    }
    let run = session
        .append(
            &run.id,
            Event::ActionStarted {
                item: item.id.clone(),
                by: opts.by.clone(),
                intent: plan.join("\n"),
            },
        )
        .await?;
    let actx = ActionContext {
        clients: session.clients(),
        run: Some(std::sync::Arc::new(run.clone())),
        ..actx
    };
    let result = actions::perform(spec, &actx).await;
    match result {
        Ok(done) => {
            let run = session
                .append(
                    &run.id,
                    Event::ActionDone {
                        item: item.id.clone(),
                        summary: done.summary.clone(),
                        evidence: done.evidence,
                        facts: done.facts,
                    },
                )
                .await?;
            report
                .settled
                .push((item.id.clone(), ItemState::Done, done.summary));
            Ok(run)
        }
        Err(e) => {
            let run = session
                .append(
                    &run.id,
                    Event::ActionFailed {
                        item: item.id.clone(),
                        error: e.message.clone(),
                        unsure: false,
                    },
                )
                .await?;
            report
                .settled
                .push((item.id.clone(), ItemState::Error, e.message));
            Ok(run)
        }
    }
}
