//! The walk: one step of a run. It settles what it can in the current phase — conditions,
//! automatic checks (concurrently, through the engine), actions (intent journaled first) —
//! then advances when the gate passes, and otherwise says exactly what is needed.

use serde::Serialize;

use super::event::Event;
use super::session::{RunError, Session};
use super::state::{ItemRecord, ItemState, RunState, RunStatus};
use crate::actions::{self, ActionContext};
use crate::checklist::{Item, ItemKind, Phase};
use crate::checks::Status;
use crate::engine::{self, Observer};

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

/// A prompt for a destructive action (a TTY asks the person; otherwise `None`).
pub trait Confirm: Send + Sync {
    /// Asks whether to perform `item` with these commands; `true` performs it.
    fn confirm(&self, item: &Item, plan: &[String]) -> bool;
}

/// Never confirms (non-interactive without `--yes`).
pub struct NoConfirm;
impl Confirm for NoConfirm {
    fn confirm(&self, _item: &Item, _plan: &[String]) -> bool {
        false
    }
}

impl Session {
    /// One step of the walk on `run_id`.
    pub async fn step(
        &self,
        run_id: &str,
        opts: &StepOptions,
        confirm: &dyn Confirm,
        observer: &dyn Observer,
    ) -> Result<StepReport, RunError> {
        let mut run = self.load(run_id).await?;
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
            return Ok(report);
        }
        let Some(phase) = run.current_phase() else {
            return Ok(report);
        };

        // 1. Conditions: an item whose `when` is false is not required, with the reason.
        run = self.settle_conditions(&run, phase, &mut report).await?;
        // The watch's part: the baseline (preflight), the first minutes (verify), the watch.
        run = self
            .monitor_step(&run, phase, opts, confirm, observer, &mut report.needs)
            .await?;

        // 2. Walk the phase in order. Checks run concurrently up to the first destructive
        //    action not yet done; that action runs only when everything before it is settled.
        let items: Vec<ItemRecord> = run.phase_items(phase).cloned().collect();
        let mut segment: Vec<Item> = Vec::new();
        let mut stop = false;
        for rec in &items {
            let item = &rec.item;
            if item.is_performed() && is_destructive(item) && !rec.state.is_settled() {
                run = self
                    .run_segment(&run, &segment, &mut report, observer)
                    .await?;
                segment.clear();
                let before_settled = run
                    .phase_items(phase)
                    .take_while(|r| r.item.id != item.id)
                    .all(|r| !r.item.required || r.state.is_settled());
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
                run = self
                    .perform_action(&run, item, opts, confirm, &mut report, false)
                    .await?;
                if !run.record(&item.id).is_some_and(|r| r.state.is_settled()) {
                    stop = true;
                    break;
                }
            } else if (item.is_automatic() && needs_check(rec))
                || (item.has_evidence_check() && rec.attempts == 0 && !rec.state.is_settled())
            {
                segment.push(item.clone());
            } else if item.is_performed() && !rec.state.is_settled() {
                run = self
                    .perform_action(&run, item, opts, confirm, &mut report, false)
                    .await?;
            }
        }
        if !stop {
            run = self
                .run_segment(&run, &segment, &mut report, observer)
                .await?;
        }

        // 3. The window override turns a failed window check into a recorded waiver.
        if let Some((by, reason)) = run.window_override.clone() {
            for rec in run.phase_items(phase).cloned().collect::<Vec<_>>() {
                if matches!(rec.item.check, Some(crate::checklist::CheckSpec::Window(_)))
                    && matches!(rec.state, ItemState::Fail | ItemState::Error)
                {
                    run = self
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
            run = self
                .append(&run.id, Event::PhaseCompleted { phase })
                .await?;
            report.advanced = true;
        } else {
            for rec in run.blocking(phase) {
                if report.needs.iter().any(|n| n.item == rec.item.id) {
                    continue;
                }
                report.needs.push(need_for(rec));
            }
        }
        report.now_in = run.current_phase();
        report.status = run.status;
        Ok(report)
    }

    /// `shipcheck retry ITEM`: performs an action again (a failed or interrupted one), or runs
    /// an automatic check again, now. A destructive action needs `opts.yes` or a yes from
    /// `confirm`.
    pub async fn retry(
        &self,
        run_id: &str,
        item_id: &str,
        opts: &StepOptions,
        confirm: &dyn Confirm,
        observer: &dyn Observer,
    ) -> Result<StepReport, RunError> {
        let run = self.load(run_id).await?;
        let Some(rec) = run.record(item_id).cloned() else {
            let ids = run.items.iter().map(|r| r.item.id.as_str());
            return Err(RunError::Refused {
                message: match crate::checklist::suggest(item_id, ids) {
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
                run = self
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
            self.perform_action(&run, &rec.item, opts, confirm, &mut report, true)
                .await?
        } else if rec.item.is_automatic() {
            self.run_segment(&run, std::slice::from_ref(&rec.item), &mut report, observer)
                .await?
        } else {
            return Err(RunError::Refused {
                message: format!(
                    "{item_id} is a person's item; `shipcheck tick {item_id}` settles it"
                ),
            });
        };
        report.now_in = run.current_phase();
        report.status = run.status;
        Ok(report)
    }

    async fn settle_conditions(
        &self,
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
        let ctx = self.check_context(Some(&run));
        let changes = match ctx.change_set().await {
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
            let result = crate::conditions::evaluate(cond, &changes, &self.loaded.config.paths);
            if !result.required {
                let reason = result.reason;
                run = self
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

    async fn run_segment(
        &self,
        run: &RunState,
        segment: &[Item],
        report: &mut StepReport,
        observer: &dyn Observer,
    ) -> Result<RunState, RunError> {
        if segment.is_empty() {
            return Ok(run.clone());
        }
        let ctx = self.check_context(Some(run));
        let results = engine::run_checks(segment, &ctx, observer).await;
        let mut run = run.clone();
        for (id, mut outcome) in results {
            crate::redact::redact_json(&mut outcome.evidence, &ctx.secrets);
            let summary = crate::redact::redact(&outcome.summary, &ctx.secrets);
            run = self
                .append(
                    &run.id,
                    Event::CheckFinished {
                        item: id.clone(),
                        status: outcome.status,
                        summary: summary.clone(),
                        evidence: outcome.evidence,
                        duration_ms: outcome.duration_ms,
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

    async fn perform_action(
        &self,
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
            check: self.check_context(Some(run)),
            by: opts.by.clone(),
            message: opts.message.clone(),
            dry_run: opts.dry_run,
        };
        // The release description is fixed before the intent is journaled, so the plan, the
        // journal and the merge carry the same text.
        if matches!(spec, crate::checklist::ActionSpec::Merge(_))
            && actx.message.is_none()
            && let Ok(changes) = actx.check.change_set().await
        {
            actx.message = Some(crate::actions::merge::describe_release(&changes.commits));
        }
        let rec = run.record(&item.id).cloned();
        // A crash between intent and result: look at the world before doing anything again.
        if rec.as_ref().is_some_and(|r| r.action_in_flight) {
            match actions::reconcile(spec, &actx).await {
                Ok(Some(done)) => {
                    let run = self
                        .append(
                            &run.id,
                            Event::ActionDone {
                                item: item.id.clone(),
                                summary: format!(
                                    "{} (found done after an interruption)",
                                    done.summary
                                ),
                                evidence: done.evidence,
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
                    let run = self
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
                    let run = self
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
                let run = self
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
                detail: "run `shipcheck next --yes` to perform it (or answer yes at the prompt)"
                    .into(),
            });
            return Ok(run.clone());
        }
        let run = self
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
            check: self.check_context(Some(&run)),
            ..actx
        };
        let result = actions::perform(spec, &actx).await;
        match result {
            Ok(done) => {
                let run = self
                    .append(
                        &run.id,
                        Event::ActionDone {
                            item: item.id.clone(),
                            summary: done.summary.clone(),
                            evidence: done.evidence,
                        },
                    )
                    .await?;
                report
                    .settled
                    .push((item.id.clone(), ItemState::Done, done.summary));
                Ok(run)
            }
            Err(e) => {
                let run = self
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
}

/// A non-destructive action (a Slack message) that failed is tried again by the next steps,
/// up to this many attempts; then it waits for `retry`, `tick` or `waive`.
const MAX_AUTOMATIC_ATTEMPTS: u32 = 3;

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
