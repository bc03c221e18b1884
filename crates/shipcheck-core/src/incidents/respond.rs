//! Acting on incidents: raise one (a person or the watch), post the incident message, print
//! the contacts, apply the severity policy — roll back (once), start the high decision timer,
//! escalate it to a rollback prompt — and resolve.

use crate::incidents::policy::{self, Response};
use crate::incidents::rollback::rollback;
use crate::incidents::rollback::rollback_plan;
use crate::journal::state::RunState;
use crate::model::checklist::{Item, ItemKind, Phase};
use crate::model::event::Event;
use crate::model::incident::{Decision, Incident, IncidentRecord, Severity, Source};
use crate::model::incident::{IncidentInput, IncidentReport};
use crate::model::incident::{RollbackOptions, RollbackOutcome};
use crate::runs::stream::Confirm;
use crate::runs::stream::Observer;
use crate::runs::stream::WatchEvent;
use crate::runs::{RunError, Session};

/// Who rolls back when `auto_rollback` does.
pub const AUTO: &str = "shipcheck (auto_rollback)";
/// Who decides what the policy decides.
pub const POLICY: &str = "shipcheck policy";

/// How to answer a rollback prompt.
pub struct Asker<'a> {
    /// A person at a terminal (or nobody: `NoConfirm`).
    pub confirm: &'a dyn Confirm,
    /// `--yes`: confirmed without asking.
    pub yes: bool,
    /// Where progress goes.
    pub observer: &'a dyn Observer,
}

/// Raises an incident on the open run, posts the message, applies the severity policy.
pub async fn raise_incident(
    session: &Session,
    run_id: &str,
    input: IncidentInput,
    ask: &Asker<'_>,
) -> Result<IncidentReport, RunError> {
    let run = session.load(run_id).await?;
    if !run.status.is_open() {
        return Err(RunError::Refused {
            message: format!(
                "run {} is {}; incidents are raised on an open run",
                run.id,
                run.status.as_str()
            ),
        });
    }
    let summary = input.summary.trim().to_string();
    if summary.is_empty() {
        return Err(RunError::Refused {
            message: "an incident needs a summary: --summary TEXT".into(),
        });
    }
    // The number is decided on the run as it is when the incident is written: two raised
    // at once (the watch and a person) get two numbers.
    let mut id = 0;
    session
        .update(run_id, |run| {
            if !run.status.is_open() {
                return Err(RunError::Refused {
                    message: format!(
                        "run {} is {}; incidents are raised on an open run",
                        run.id,
                        run.status.as_str()
                    ),
                });
            }
            id = run.monitor.incidents.len() as u32 + 1;
            Ok(Some(Event::IncidentRaised {
                incident: IncidentRecord {
                    id,
                    severity: input.severity,
                    summary: summary.clone(),
                    by: input.by.clone(),
                    source: input.source,
                    series: input.series.clone(),
                    evidence: input.evidence.clone(),
                },
            }))
        })
        .await?;
    let message = policy::message(input.severity, id, &summary);
    let what = format!("incident #{id} ({}): {summary}", input.severity.as_str());
    let (posted, detail) = post_incident(session, run_id, &what, &input.by).await;
    session
        .append(
            run_id,
            Event::IncidentNotified {
                incident: id,
                posted,
                detail,
            },
        )
        .await?;
    let now = session.clock.now();
    let rollback = respond_to(
        session,
        run_id,
        id,
        input.severity,
        input.source,
        &input.by,
        now,
        ask,
    )
    .await?;
    let run = session.load(run_id).await?;
    let incident = run
        .monitor
        .incident(id)
        .cloned()
        .ok_or_else(|| RunError::Refused {
            message: format!("incident {id} vanished from run {run_id}"),
        })?;
    Ok(IncidentReport {
        incident,
        message,
        contacts: crate::incidents::contacts(&session.loaded.config),
        rollback,
    })
}

/// The severity policy's response to incident `id` raised at `at`: a rollback (asked for or
/// not), or a decision recorded (a timer, fix forward, a note). Called when the incident is
/// raised, and on resume for one raised but never answered (killed in between).
#[allow(clippy::too_many_arguments)]
pub(crate) async fn respond_to(
    session: &Session,
    run_id: &str,
    id: u32,
    severity: Severity,
    source: Source,
    raised_by: &str,
    at: jiff::Timestamp,
    ask: &Asker<'_>,
) -> Result<Option<RollbackOutcome>, RunError> {
    let by = if source == Source::Person {
        raised_by.to_string()
    } else {
        POLICY.to_string()
    };
    let mut rollback = None;
    match policy::respond(severity, &session.loaded.config.incident, at) {
        Response::RollBack { prompt } => {
            rollback = roll_back_for(session, run_id, id, prompt, &by, ask).await?;
        }
        Response::Record {
            decision,
            reason,
            until,
        } => {
            decide(
                session,
                run_id,
                id,
                decision,
                &by,
                &reason,
                until,
                ask.observer,
            )
            .await?;
        }
    }
    Ok(rollback)
}

/// Resolves an open incident.
pub async fn resolve_incident(
    session: &Session,
    run_id: &str,
    id: u32,
    by: &str,
    reason: &str,
) -> Result<RunState, RunError> {
    let run = session.load(run_id).await?;
    match run.monitor.incident(id) {
        None => Err(RunError::Refused {
            message: format!(
                "run {} has no incident #{id} (it has {})",
                run.id,
                run.monitor.incidents.len()
            ),
        }),
        Some(i) if !i.open => Err(RunError::Refused {
            message: format!("incident #{id} is already resolved"),
        }),
        Some(_) if reason.trim().is_empty() => Err(RunError::Refused {
            message: "resolving an incident needs a reason: --summary TEXT".into(),
        }),
        Some(_) => {
            session
                .append(
                    run_id,
                    Event::IncidentDecision {
                        incident: id,
                        decision: Decision::Resolved,
                        by: by.to_string(),
                        reason: reason.trim().to_string(),
                        until: None,
                    },
                )
                .await
        }
    }
}

/// Escalates every high incident whose decision timer ran out to a rollback prompt.
pub async fn escalate_due(
    session: &Session,
    run_id: &str,
    ask: &Asker<'_>,
) -> Result<(), RunError> {
    let run = session.load(run_id).await?;
    let now = session.clock.now();
    let due: Vec<(u32, String)> = run
        .monitor
        .open_incidents()
        .filter(|i| i.timer_until().is_some_and(|u| u <= now))
        .map(|i| (i.record.id, i.record.summary.clone()))
        .collect();
    for (id, _) in due {
        let reason = format!(
            "the decision timer ({}) ran out with the incident still open; asking to roll back",
            session.loaded.config.incident.high_decision_timer
        );
        decide(
            session,
            run_id,
            id,
            Decision::Escalated,
            POLICY,
            &reason,
            None,
            ask.observer,
        )
        .await?;
        roll_back_for(session, run_id, id, true, POLICY, ask).await?;
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
pub(crate) async fn decide(
    session: &Session,
    run_id: &str,
    id: u32,
    decision: Decision,
    by: &str,
    reason: &str,
    until: Option<jiff::Timestamp>,
    observer: &dyn Observer,
) -> Result<RunState, RunError> {
    observer.on_watch(&WatchEvent::Decision {
        incident: id,
        decision,
        reason: reason.to_string(),
    });
    session
        .append(
            run_id,
            Event::IncidentDecision {
                incident: id,
                decision,
                by: by.to_string(),
                reason: reason.to_string(),
                until,
            },
        )
        .await
}

/// Rolls back for incident `id`, at most once per run: a run that already rolled back
/// asks a person what next instead. `prompt`: a person confirms first (`--yes` does).
async fn roll_back_for(
    session: &Session,
    run_id: &str,
    id: u32,
    prompt: bool,
    by: &str,
    ask: &Asker<'_>,
) -> Result<Option<RollbackOutcome>, RunError> {
    let run = session.load(run_id).await?;
    let Some(incident) = run.monitor.incident(id).cloned() else {
        return Ok(None);
    };
    let strategy = session.loaded.config.incident.rollback_strategy;
    if let Some(done) = run.rollbacks.iter().find(|r| r.succeeded == Some(true)) {
        let reason = format!(
            "the release was already rolled back ({}: {}); a person decides what else to do",
            done.strategy, done.reason
        );
        decide(
            session,
            run_id,
            id,
            Decision::AwaitingPerson,
            POLICY,
            &reason,
            None,
            ask.observer,
        )
        .await?;
        return Ok(None);
    }
    let opts = RollbackOptions {
        strategy: run
            .rollback_in_flight()
            .and_then(|r| crate::model::config::RollbackStrategy::parse(&r.strategy))
            .unwrap_or(strategy),
        by: if prompt {
            by.to_string()
        } else {
            AUTO.to_string()
        },
        reason: format!(
            "incident #{id} ({}): {}",
            incident.record.severity.as_str(),
            incident.record.summary
        ),
        apps: None,
        dry_run: false,
    };
    let plan = match rollback_plan(session, &run, &opts).await {
        Ok(p) => p,
        Err(RunError::Store(e)) => return Err(RunError::Store(e)),
        Err(e) => {
            let reason = format!(
                "a rollback is called for but cannot be planned: {e}; roll back by hand (the run's rollback commands) and resolve with `shipcheck incident --resolve {id} --summary TEXT`"
            );
            decide(
                session,
                run_id,
                id,
                Decision::RollbackFailed,
                POLICY,
                &reason,
                None,
                ask.observer,
            )
            .await?;
            return Ok(None);
        }
    };
    if prompt && !ask.yes && !ask.confirm.confirm(&prompt_item(&incident), &plan) {
        let reason = format!(
            "{} calls for a rollback; nobody confirmed it here. Roll back with `shipcheck rollback --strategy {} --reason \"{}\"`, or resolve it with `shipcheck incident --resolve {id} --summary TEXT`",
            incident.record.severity.as_str(),
            opts.strategy.as_str(),
            opts.reason
        );
        decide(
            session,
            run_id,
            id,
            Decision::AwaitingPerson,
            POLICY,
            &reason,
            None,
            ask.observer,
        )
        .await?;
        return Ok(None);
    }
    let why = if prompt {
        format!("rollback confirmed ({})", opts.strategy.as_str())
    } else {
        format!(
            "critical: rolled back immediately without a prompt (auto_rollback, {})",
            opts.strategy.as_str()
        )
    };
    decide(
        session,
        run_id,
        id,
        Decision::Rollback,
        &opts.by,
        &why,
        None,
        ask.observer,
    )
    .await?;
    match rollback(session, &run, &opts).await {
        Ok(outcome) => {
            ask.observer.on_watch(&WatchEvent::Note(format!(
                "rolled back: {}",
                outcome.summary
            )));
            Ok(Some(outcome))
        }
        Err(RunError::Store(e)) => Err(RunError::Store(e)),
        Err(e) => {
            let reason = format!("the rollback failed: {e}");
            decide(
                session,
                run_id,
                id,
                Decision::RollbackFailed,
                POLICY,
                &reason,
                None,
                ask.observer,
            )
            .await?;
            Ok(None)
        }
    }
}

/// Posts the incident message to the team's channel (`[slack]`); without it, or when
/// Slack refuses, the record says why and the message is printed for a person to post.
pub(crate) async fn post_incident(
    session: &Session,
    run_id: &str,
    incident: &str,
    by: &str,
) -> (bool, String) {
    use crate::actions::messages::{MessageFacts, message};
    if session.loaded.config.slack.is_none() {
        return (
            false,
            "not posted: no [slack] webhook configured; post the message by hand".into(),
        );
    }
    let run = session.load(run_id).await.ok();
    let slack = match session.clients().slack() {
        Ok(s) => s,
        Err(e) => return (false, format!("not posted: {e}; post the message by hand")),
    };
    let facts = MessageFacts {
        project: session.project().to_string(),
        env: run.as_ref().map(|r| r.env.clone()).unwrap_or_default(),
        run_id: Some(run_id.to_string()),
        by: by.to_string(),
        scheduled: None,
        description: Some(incident.to_string()),
        changes: Vec::new(),
        more_changes: false,
        rolled_back: false,
        journal_head: None,
    };
    let body = message(crate::model::checklist::SlackMessage::Incident, &facts);
    match slack.post(body).await {
        Ok(_) => (true, format!("posted to {}", slack.destination())),
        Err(e) => (false, format!("not posted: {e}; post the message by hand")),
    }
}

/// The item a rollback prompt shows.
fn prompt_item(i: &Incident) -> Item {
    Item {
        id: format!("incident.{}", i.record.id),
        phase: Phase::Watch,
        section: None,
        title: format!(
            "Roll back for incident #{} ({}): {}",
            i.record.id,
            i.record.severity.as_str(),
            i.record.summary
        ),
        kind: ItemKind::Action,
        required: false,
        when: None,
        check: None,
        action: None,
        timeout: None,
        manual_because: None,
        note_required: false,
        other_than_deployer: false,
        help: None,
    }
}
