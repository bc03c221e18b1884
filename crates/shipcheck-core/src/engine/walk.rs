//! The walk: one step of a run. It settles what it can in the current phase — conditions,
//! automatic checks (concurrently, through the engine), actions (intent journaled first) —
//! then advances when the gate passes, and otherwise says exactly what is needed.

use serde::Serialize;

use crate::engine::runner::{self};

use crate::engine::act::perform_action;
use crate::engine::phases::monitor_step;
use crate::journal::state::{ItemRecord, ItemState, RunState, RunStatus};
use crate::model::checklist::{Item, ItemKind, Phase};
use crate::model::event::Event;
use crate::model::outcome::Status;
use crate::runs::stream::Confirm;
use crate::runs::stream::Observer;
use crate::runs::{RunError, Session};

/// How a step may act.
#[derive(Clone, Debug, Default)]
pub struct StepOptions {
    /// The person driving the walk.
    pub by: String,
    /// Destructive actions are confirmed (`--yes`, or a prompt said yes).
    pub yes: bool,
    /// Show what actions would do; perform nothing.
    pub dry_run: bool,
    /// A message for actions that take one (the release description).
    pub message: Option<String>,
}

/// Something a step noticed for the person.
#[derive(Clone, Debug, Serialize)]
pub struct Need {
    /// The item.
    pub item: String,
    /// Its title.
    pub title: String,
    /// What is needed: `tick`, `fix`, `confirm`, `retry`.
    pub need: &'static str,
    /// The exact command or reason.
    pub detail: String,
}

/// What one step did.
#[derive(Clone, Debug, Serialize)]
pub struct StepReport {
    /// The phase the step worked on (`None` when the run had no phase left).
    pub phase: Option<Phase>,
    /// Whether that phase's gate passed and the run moved on.
    pub advanced: bool,
    /// The phase the run is in now.
    pub now_in: Option<Phase>,
    /// The run's status after the step.
    pub status: RunStatus,
    /// Items settled by this step: (id, state, summary).
    pub settled: Vec<(String, ItemState, String)>,
    /// What blocks the gate.
    pub needs: Vec<Need>,
    /// Commands that actions would run (`--dry-run`).
    pub planned: Vec<(String, Vec<String>)>,
}

/// One step of the walk on `run_id`.
pub async fn step(
    session: &Session,
    run_id: &str,
    opts: &StepOptions,
    confirm: &dyn Confirm,
    observer: &dyn Observer,
) -> Result<StepReport, RunError> {
    let mut run = session.load(run_id).await?;
    let mut report = StepReport {
        phase: run.current_phase(),
        advanced: false,
        now_in: run.current_phase(),
        status: run.status,
        settled: Vec::new(),
        needs: Vec::new(),
        planned: Vec::new(),
    };
    if run.status != RunStatus::Active {
        // A signed run may still owe GitHub's deployment record its last status (a crash
        // right after signing).
        if !opts.dry_run && run.status == RunStatus::Signed {
            let run = crate::actions::deployment_record::sync_run(session, run).await?;
            crate::actions::cdevents::sync_run(session, run).await?;
        }
        return Ok(report);
    }
    // 0. What a crash left half done, before anything else: a rollback in flight (finished,
    //    then verified by the watch after it), an action journaled as started without a
    //    result (reconciled with the world).
    run =
        crate::engine::act::finish_interrupted(session, &run, opts, confirm, observer, &mut report)
            .await?;
    // The statuses GitHub's deployment record is owed (one interrupted is finished first).
    if !opts.dry_run {
        run = crate::actions::deployment_record::sync_run(session, run).await?;
        run = crate::actions::cdevents::sync_run(session, run).await?;
    } else if let Some(o) = crate::actions::cdevents::outbox(session, &run.id).await?
        && !o.pending.is_empty()
    {
        // What `[events]` would be sent now (a dry run sends nothing).
        report.planned.push((
            "[events]".into(),
            o.pending
                .iter()
                .map(|id| format!("POST {} CDEvent {id}", o.sink))
                .collect(),
        ));
    }
    if run.status != RunStatus::Active {
        report.status = run.status;
        return Ok(report);
    }
    let Some(phase) = run.current_phase() else {
        return Ok(report);
    };

    // 1. Conditions: an item whose `when` is false is not required, with the reason.
    run = settle_conditions(session, &run, phase, &mut report).await?;
    // The watch's part: the baseline (preflight), the first minutes (verify), the watch.
    run = monitor_step(
        session,
        &run,
        phase,
        opts,
        confirm,
        observer,
        &mut report.needs,
    )
    .await?;

    // 2. Walk the phase in order. Checks run concurrently up to the first destructive
    //    action not yet done; that action runs only when everything before it is settled.
    //    An item that needs a fact a later item of the phase records (the merge commit)
    //    waits for it, and runs at the end of the step once it is recorded.
    let items: Vec<ItemRecord> = run.phase_items(phase).cloned().collect();
    let mut segment: Vec<Item> = Vec::new();
    let mut waiting: Vec<Item> = Vec::new();
    let mut stop = false;
    for rec in &items {
        let item = &rec.item;
        if !rec.state.is_settled() && run.waits_for(item).is_some() {
            waiting.push(item.clone());
            continue;
        }
        if item.is_performed() && is_destructive(item) && !rec.state.is_settled() {
            run = run_segment(session, &run, &segment, &mut report, observer).await?;
            segment.clear();
            let before_settled = run
                .phase_items(phase)
                .take_while(|r| r.item.id != item.id)
                .all(|r| {
                    !r.item.required
                        || r.state.is_settled()
                        || waiting.iter().any(|w| w.id == r.item.id)
                });
            if !before_settled {
                report.needs.push(Need {
                    item: item.id.clone(),
                    title: item.title.clone(),
                    need: "wait",
                    detail: "runs once every required item before it is settled".into(),
                });
                stop = true;
                break;
            }
            run = perform_action(session, &run, item, opts, confirm, &mut report, false).await?;
            if !run.record(&item.id).is_some_and(|r| r.state.is_settled()) {
                stop = true;
                break;
            }
        } else if (item.is_automatic() && needs_check(rec))
            || (item.has_evidence_check() && rec.attempts == 0 && !rec.state.is_settled())
        {
            segment.push(item.clone());
        } else if item.is_performed() && !rec.state.is_settled() {
            run = perform_action(session, &run, item, opts, confirm, &mut report, false).await?;
        }
    }
    if !stop {
        run = run_segment(session, &run, &segment, &mut report, observer).await?;
        // What waited for a fact of this step: run it now that the fact is recorded.
        let ready: Vec<Item> = waiting
            .iter()
            .filter(|i| run.waits_for(i).is_none())
            .filter(|i| {
                run.record(&i.id).is_some_and(|r| {
                    (i.is_automatic() && needs_check(r))
                        || (i.is_performed() && !r.state.is_settled())
                })
            })
            .cloned()
            .collect();
        let (checks, actions): (Vec<Item>, Vec<Item>) =
            ready.into_iter().partition(|i| i.is_automatic());
        run = run_segment(session, &run, &checks, &mut report, observer).await?;
        for item in &actions {
            run = perform_action(session, &run, item, opts, confirm, &mut report, false).await?;
        }
    }

    // 3. The window override turns a failed window check into a recorded waiver.
    if let Some((by, reason)) = run.window_override.clone() {
        for rec in run.phase_items(phase).cloned().collect::<Vec<_>>() {
            if matches!(
                rec.item.check,
                Some(crate::model::checklist::CheckSpec::Window(_))
            ) && matches!(rec.state, ItemState::Fail | ItemState::Error)
            {
                run = session
                    .append(
                        &run.id,
                        Event::ItemWaived {
                            item: rec.item.id.clone(),
                            by: by.clone(),
                            reason: format!("window override: {reason}"),
                        },
                    )
                    .await?;
                report.settled.push((
                    rec.item.id.clone(),
                    ItemState::Waived,
                    format!("window override: {reason}"),
                ));
            }
        }
    }

    // 4. The gate.
    if run.gate_passes(phase) {
        run = session
            .append(&run.id, Event::PhaseCompleted { phase })
            .await?;
        report.advanced = true;
    } else {
        for rec in run.blocking(phase) {
            if report.needs.iter().any(|n| n.item == rec.item.id) {
                continue;
            }
            report.needs.push(match run.waits_for(&rec.item) {
                Some(producer) => Need {
                    item: rec.item.id.clone(),
                    title: rec.item.title.clone(),
                    need: "wait",
                    detail: format!("waits for {producer}, which records what it needs"),
                },
                None => need_for(rec),
            });
        }
    }
    if !opts.dry_run {
        run = crate::actions::deployment_record::sync_run(session, run).await?;
        run = crate::actions::cdevents::sync_run(session, run).await?;
    }
    report.now_in = run.current_phase();
    report.status = run.status;
    Ok(report)
}

async fn settle_conditions(
    session: &Session,
    run: &RunState,
    phase: Phase,
    report: &mut StepReport,
) -> Result<RunState, RunError> {
    let mut run = run.clone();
    let pending: Vec<ItemRecord> = run
        .phase_items(phase)
        .filter(|r| r.state == ItemState::Pending && r.item.when.is_some())
        .cloned()
        .collect();
    if pending.is_empty() {
        return Ok(run);
    }
    // Conditions need the change set. Without it (no repository, git failing) every
    // conditional item stays required: a step that might matter is never skipped on a guess.
    let changes = match session.clients().repo().change_set().await {
        Ok(c) => c,
        Err(e) => {
            report.needs.push(Need {
                item: "conditions".into(),
                title: format!("{} conditional item(s)", pending.len()),
                need: "info",
                detail: format!(
                    "conditional items stay required: the change set is unavailable ({e})"
                ),
            });
            return Ok(run);
        }
    };
    for rec in pending {
        let Some(cond) = &rec.item.when else { continue };
        let result = crate::model::checklist::conditions::evaluate(
            cond,
            &changes,
            &session.loaded.config.paths,
        );
        if !result.required {
            let reason = result.reason;
            run = session
                .append(
                    &run.id,
                    Event::ItemNotRequired {
                        item: rec.item.id.clone(),
                        reason: reason.clone(),
                    },
                )
                .await?;
            report
                .settled
                .push((rec.item.id.clone(), ItemState::NotRequired, reason));
        }
    }
    Ok(run)
}

pub(super) async fn run_segment(
    session: &Session,
    run: &RunState,
    segment: &[Item],
    report: &mut StepReport,
    observer: &dyn Observer,
) -> Result<RunState, RunError> {
    if segment.is_empty() {
        return Ok(run.clone());
    }
    let deps = runner::Deps::of(session, Some(run));
    let results = runner::run_checks(segment, &deps, observer).await;
    let mut run = run.clone();
    let secrets = &deps.clients.secrets;
    for (id, mut outcome) in results {
        crate::model::redact::redact_json(&mut outcome.evidence, secrets);
        let summary = crate::model::redact::redact(&outcome.summary, secrets);
        run = session
            .append(
                &run.id,
                Event::CheckFinished {
                    item: id.clone(),
                    status: outcome.status,
                    summary: summary.clone(),
                    evidence: outcome.evidence,
                    duration_ms: outcome.duration_ms,
                    facts: outcome.facts,
                },
            )
            .await?;
        let evidence_only = segment.iter().any(|i| i.id == id && i.has_evidence_check());
        let state = match outcome.status {
            _ if evidence_only => ItemState::Pending,
            Status::Pass => ItemState::Pass,
            Status::Fail => ItemState::Fail,
            Status::Error => ItemState::Error,
        };
        report.settled.push((id, state, summary));
    }
    Ok(run)
}

fn is_destructive(item: &Item) -> bool {
    item.action.as_ref().is_some_and(|a| a.is_destructive())
}

fn needs_check(rec: &ItemRecord) -> bool {
    matches!(
        rec.state,
        ItemState::Pending | ItemState::Fail | ItemState::Error
    )
}

fn need_for(rec: &ItemRecord) -> Need {
    let item = &rec.item;
    let (need, detail) = match rec.state {
        ItemState::Error if rec.unsure => (
            "tick",
            format!(
                "{} — `shipcheck tick {id}` if it happened (or you did it yourself), `shipcheck retry {id}` to do it again",
                rec.summary.as_deref().unwrap_or("interrupted"),
                id = item.id
            ),
        ),
        ItemState::Error if item.is_performed() => (
            "retry",
            format!(
                "{} — `shipcheck retry {id}` once the cause is fixed, `shipcheck tick {id}` if you did it by hand, or `shipcheck waive {id} --reason TEXT`",
                rec.summary.as_deref().unwrap_or("failed"),
                id = item.id
            ),
        ),
        ItemState::Fail | ItemState::Error => (
            "fix",
            format!(
                "{}: {} — fix it and run `shipcheck next` again, or `shipcheck waive {} --reason TEXT`",
                rec.state.as_str(),
                rec.summary.as_deref().unwrap_or("no detail"),
                item.id
            ),
        ),
        _ if item.is_ticked_by_person() => {
            let mut d = format!(
                "`shipcheck tick {}{}`",
                item.id,
                if item.note_required {
                    " --note TEXT"
                } else {
                    ""
                }
            );
            if let Some(why) = &item.manual_because {
                d.push_str(&format!(" — {why}"));
            } else if let Some(help) = &item.help {
                d.push_str(&format!(" — {help}"));
            }
            if item.has_evidence_check()
                && let Some(found) = &rec.summary
            {
                d.push_str(&format!(" [shipcheck found: {found}]"));
            }
            if item.other_than_deployer {
                d.push_str(" (by someone other than the deployer)");
            }
            ("tick", d)
        }
        _ if item.kind == ItemKind::Action => {
            ("confirm", "run `shipcheck next --yes` to perform it".into())
        }
        _ => ("wait", "runs with the next step".into()),
    };
    Need {
        item: item.id.clone(),
        title: item.title.clone(),
        need,
        detail,
    }
}
