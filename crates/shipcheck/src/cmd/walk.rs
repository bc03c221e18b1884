//! `shipcheck start`, `next` and `deploy`: start a run and walk it through its phases.

use shipcheck_core::engine::{StepOptions, StepReport};
use shipcheck_core::journal::state::RunState;
use shipcheck_core::model::checklist::Item;
use shipcheck_core::runs::stream::{Confirm, NoConfirm};
use shipcheck_core::runs::{Session, StartOptions};

use crate::cli::{Global, StartArgs, StepArgs};
use crate::context;
use crate::errors::CliError;
use crate::journal_view::Tail;
use crate::json::{self, docs};
use crate::output::{self, Progress};

pub async fn start(g: &Global, args: &StartArgs) -> Result<u8, CliError> {
    let session = context::session(g).await?;
    let run = start_run(&session, args).await?;
    if g.json {
        json::print(
            "start",
            &docs::Start {
                run: run.id.clone(),
                project: run.project.clone(),
                env: run.env.clone(),
                by: run.started_by.clone(),
                phase: run.current_phase(),
            },
        );
    } else {
        say!("{}", run.id);
        say_err!(
            "started run {} of {} ({}) by {}; next: `shipcheck next`",
            run.id,
            run.project,
            run.env,
            run.started_by
        );
        say_config_trust(&run);
    }
    Ok(0)
}

async fn start_run(session: &Session, args: &StartArgs) -> Result<RunState, CliError> {
    let by = context::actor(session, &args.by).await?;
    let at = match &args.at {
        Some(t) => Some(parse_time(t, &session.loaded.config.project.timezone)?),
        None => None,
    };
    let opts = StartOptions {
        env: args.env.clone(),
        by,
        at,
        override_window: if args.override_window {
            args.reason.clone()
        } else {
            None
        },
        trust_config: args.trust_config,
    };
    Ok(session.start(&opts).await?)
}

/// How the run's programs and URLs compare with the production branch's, when not simply the
/// same: a person should know what runs with their tokens.
fn say_config_trust(run: &RunState) {
    if let Some(trust) = &run.config_trust {
        say_err!("config: {}", output::clean(trust));
    }
}

/// RFC 3339, or `YYYY-MM-DD HH:MM` in the project's time zone.
fn parse_time(text: &str, tz: &str) -> Result<jiff::Timestamp, CliError> {
    if let Ok(t) = text.parse::<jiff::Timestamp>() {
        return Ok(t);
    }
    let civil: Result<jiff::civil::DateTime, _> = text.trim().replace(' ', "T").parse();
    match civil {
        Ok(dt) => dt
            .in_tz(tz)
            .map(|z| z.timestamp())
            .map_err(|e| CliError::Usage(format!("--at {text:?}: {e}"))),
        Err(_) => Err(CliError::Usage(format!(
            "--at {text:?} is not a time; write RFC 3339 (2026-12-01T10:30:00Z) or `2026-12-01 10:30` (in {tz})"
        ))),
    }
}

pub fn step_options(step: &StepArgs, by: String) -> StepOptions {
    StepOptions {
        by,
        yes: step.yes,
        dry_run: step.dry_run,
        message: step.message.clone(),
    }
}

pub async fn next(
    g: &Global,
    step: &StepArgs,
    env: &str,
    by: &Option<String>,
) -> Result<u8, CliError> {
    let session = context::session(g).await?;
    let _guard = session.store.walk_guard(session.project(), env).await?;
    let run = session.open_run(step.run.as_deref(), env).await?;
    let by = context::actor(&session, by).await?;
    let opts = step_options(step, by);
    let progress = Progress::new(g.json);
    let confirm = TtyConfirm::new(g.json);
    let tail = Tail::follow(&session, g.json);
    let report =
        shipcheck_core::engine::walk::step(&session, &run.id, &opts, &confirm, &progress).await?;
    tail.finish().await;
    let run = session.load(&run.id).await?;
    emit(g, &run, std::slice::from_ref(&report));
    Ok(exit_for(&report))
}

pub async fn retry(
    g: &Global,
    item: &str,
    yes: bool,
    dry_run: bool,
    who: &crate::cli::Who,
) -> Result<u8, CliError> {
    let session = context::session(g).await?;
    let run = session.open_run(who.run.as_deref(), &who.env).await?;
    let by = context::actor(&session, &who.by).await?;
    let opts = StepOptions {
        by,
        yes,
        dry_run,
        message: None,
    };
    let progress = Progress::new(g.json);
    let confirm = TtyConfirm::new(g.json);
    let report =
        shipcheck_core::engine::act::retry(&session, &run.id, item, &opts, &confirm, &progress)
            .await?;
    let run = session.load(&run.id).await?;
    let state = run.record(item).map(|r| r.state);
    if g.json {
        emit(g, &run, std::slice::from_ref(&report));
    } else {
        for (id, state, summary) in &report.settled {
            say!("{id}: {} — {summary}", state.as_str());
        }
        for n in &report.needs {
            say!("{}: {} — {}", n.item, n.need, n.detail);
        }
    }
    Ok(if state.is_some_and(|s| s.is_settled()) {
        0
    } else {
        1
    })
}

pub async fn deploy(g: &Global, start: &StartArgs, step: &StepArgs) -> Result<u8, CliError> {
    let session = context::session(g).await?;
    let by = context::actor(&session, &start.by).await?;
    // One process walks an environment at a time; a second exits 4 (a dead one's guard is
    // released with it).
    let _guard = session
        .store
        .walk_guard(session.project(), &start.env)
        .await?;
    let run = open_or_start(g, &session, start, step).await?;
    let opts = step_options(step, by.clone());
    let interactive = !g.json && output::stdin_is_tty() && output::stdout_is_tty();
    let people = TtyPeople { by };
    walk(g, &session, &run.id, &opts, interactive.then_some(&people)).await
}

/// The run `deploy` walks: `--run`, else the open run of the environment, else a new one.
pub async fn open_or_start(
    g: &Global,
    session: &Session,
    start: &StartArgs,
    step: &StepArgs,
) -> Result<RunState, CliError> {
    Ok(match step.run.as_deref() {
        Some(id) => session.open_run(Some(id), &start.env).await?,
        None => match session.store.lock(session.project(), &start.env).await? {
            Some(lock) => {
                if !g.json {
                    say_err!("resuming run {} (started by {})", lock.run_id, lock.holder);
                }
                session.open_run(Some(&lock.run_id), &start.env).await?
            }
            None => {
                let run = start_run(session, start).await?;
                if !g.json {
                    say_err!(
                        "started run {} of {} ({}) by {}",
                        run.id,
                        run.project,
                        run.env,
                        run.started_by
                    );
                    say_config_trust(&run);
                }
                run
            }
        },
    })
}

/// Whoever settles what the walk cannot: the person at the terminal, or a stand-in for one.
pub trait People {
    /// Settles what `report` says the phase waits for (ticks, waivers, notes). Returns
    /// whether anything changed, so the walk should try again.
    async fn settle(
        &self,
        session: &Session,
        run: &RunState,
        report: &StepReport,
    ) -> Result<bool, CliError>;
}

/// The walk of `deploy`: phase after phase while the gates pass; where a person is needed,
/// `people` (if any) is asked, else the walk stops and says what to run.
pub async fn walk<P: People>(
    g: &Global,
    session: &Session,
    run_id: &str,
    opts: &StepOptions,
    people: Option<&P>,
) -> Result<u8, CliError> {
    let progress = Progress::new(g.json);
    let confirm = TtyConfirm::new(g.json);
    let mut reports = Vec::new();
    // Bounded: each pass either advances a phase or asks a person.
    for _ in 0..64 {
        let tail = Tail::follow(session, g.json);
        let report =
            shipcheck_core::engine::walk::step(session, run_id, opts, &confirm, &progress).await?;
        tail.finish().await;
        let current = session.load(run_id).await?;
        if !g.json {
            output::print_step(&current, &report);
        }
        reports.push(report.clone());
        if report.advanced && report.now_in.is_some() {
            continue;
        }
        if report.advanced || report.phase.is_none() {
            break;
        }
        if let Some(p) = people
            && p.settle(session, &current, &report).await?
        {
            continue;
        }
        break;
    }
    let run = session.load(run_id).await?;
    if g.json {
        emit(g, &run, &reports);
    }
    Ok(reports.last().map(exit_for).unwrap_or(0))
}

/// The person at the terminal.
struct TtyPeople {
    by: String,
}

impl People for TtyPeople {
    async fn settle(
        &self,
        session: &Session,
        run: &RunState,
        report: &StepReport,
    ) -> Result<bool, CliError> {
        prompt_people(session, run, report, &self.by).await
    }
}

/// Asks the person at the terminal for each manual item the phase waits for. Returns
/// whether anything was settled (so the walk should try again).
async fn prompt_people(
    session: &Session,
    run: &RunState,
    report: &StepReport,
    by: &str,
) -> Result<bool, CliError> {
    let mut changed = false;
    let mut run = run.clone();
    for need in report.needs.iter().filter(|n| n.need == "tick") {
        let Some(rec) = run.record(&need.item).cloned() else {
            continue;
        };
        say!("\n{} — {}", need.item, need.title);
        say!("  {}", need.detail);
        let answer = output::ask("  [t]ick, [w]aive, [s]kip for now, [q]uit? ")?;
        match answer.as_str() {
            "t" | "tick" | "y" | "yes" => {
                let note = output::ask(if rec.item.note_required {
                    "  note (required): "
                } else {
                    "  note (optional): "
                })?;
                let note = (!note.is_empty()).then_some(note);
                match session.tick(&run, &need.item, by, note).await {
                    Ok(r) => {
                        run = r;
                        changed = true;
                    }
                    Err(e) => say!("  not ticked: {e}"),
                }
            }
            "w" | "waive" => {
                let reason = output::ask("  reason: ")?;
                match session.waive(&run, &need.item, by, &reason).await {
                    Ok(r) => {
                        run = r;
                        changed = true;
                    }
                    Err(e) => say!("  not waived: {e}"),
                }
            }
            "q" | "quit" => return Ok(false),
            _ => {}
        }
    }
    Ok(changed)
}

/// Asks on a terminal before a destructive action; never asks otherwise.
pub(crate) struct TtyConfirm {
    enabled: bool,
}

impl TtyConfirm {
    pub(crate) fn new(json: bool) -> Self {
        TtyConfirm {
            enabled: !json && output::stdin_is_tty() && output::stdout_is_tty(),
        }
    }
}

impl Confirm for TtyConfirm {
    fn confirm(&self, item: &Item, plan: &[String]) -> bool {
        if !self.enabled {
            return NoConfirm.confirm(item, plan);
        }
        say!("\n{} — {}", item.id, item.title);
        say!("  shipcheck will run:");
        for line in plan {
            say!("    {line}");
        }
        matches!(
            output::ask("  perform it? type yes: ").as_deref(),
            Ok("yes")
        )
    }
}

fn exit_for(report: &StepReport) -> u8 {
    if report.advanced || report.phase.is_none() {
        0
    } else {
        1
    }
}

fn emit(g: &Global, run: &RunState, reports: &[StepReport]) {
    if g.json {
        json::print(
            "step",
            &docs::Step {
                run: run.id.clone(),
                status: run.status,
                phase: run.current_phase(),
                steps: reports.to_vec(),
            },
        );
    } else if let Some(last) = reports.last() {
        output::print_step(run, last);
    }
}
