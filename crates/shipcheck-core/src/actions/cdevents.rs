//! Delivering the run's CDEvents to `[events] sink`, at least once, from the journal.
//!
//! The CDEvents are derived from the journal ([`crate::report::cdevents::derive`], pure);
//! the journal also says which the sink accepted (`cdevent_delivered`, written after the
//! POST) and which failed (`cdevent_failed`). [`sync`] sends, in journal order, every one
//! not delivered yet: after a crash between a POST and its record the same event (same id,
//! same content) goes again, and nothing is ever sent that the journal does not hold.
//!
//! Bounded: each send is the sink client's (a few tries within a time bound); the first
//! failure ends the sync (the sink rests for [`REST`] of the run's clock before the next
//! try), and an event that failed [`MAX_FAILURES`] times is given up (the record says so).
//! A sink that errs, hangs or answers nonsense never fails the step that called the sync.

use std::time::Duration;

use serde::Serialize;

use crate::clients::sink::Attributes;
use crate::journal::state::RunState;
use crate::model::event::Event;
use crate::report::cdevents::{CdEvent, Context, derive};
use crate::runs::{RunError, Session};

pub use crate::report::cdevents::MAX_FAILURES;
/// After a failed send, how long (run clock) the sink is left alone.
pub const REST: Duration = Duration::from_secs(60);

/// The CDEvents of a run and what became of them.
#[derive(Clone, Debug, Serialize)]
pub struct Outbox {
    /// Where they go (`[events] sink`).
    pub sink: String,
    /// Every CDEvent the journal calls for, in order.
    pub events: Vec<CdEvent>,
    /// The ids the sink accepted.
    pub delivered: Vec<String>,
    /// Not delivered, still to be tried: their ids.
    pub pending: Vec<String>,
    /// Given up after [`MAX_FAILURES`] failures: (id, last error).
    pub given_up: Vec<(String, String)>,
}

/// Events not delivered and not given up, in order.
pub fn pending<'a>(run: &RunState, all: &'a [CdEvent]) -> Vec<&'a CdEvent> {
    all.iter()
        .filter(|e| {
            !run.cdevents.is_delivered(&e.id) && run.cdevents.failures_of(&e.id) < MAX_FAILURES
        })
        .collect()
}

/// The run's outbox (`None` without `[events]`): what `status`, `report` and `--dry-run`
/// show.
pub async fn outbox(session: &Session, run_id: &str) -> Result<Option<Outbox>, RunError> {
    let Some(cfg) = &session.loaded.config.events else {
        return Ok(None);
    };
    let summary = session.store.find_run(run_id).await?;
    let journal = session.store.events(&summary.id).await?;
    let run = RunState::fold(&journal)?;
    let ctx = Context::of(&session.loaded.config, &run.id, &run.env);
    let events = derive(&run.id, &journal, &ctx);
    let pending = pending(&run, &events)
        .iter()
        .map(|e| e.id.clone())
        .collect();
    let given_up = run
        .cdevents
        .failures
        .iter()
        .filter(|(id, f)| f.len() >= MAX_FAILURES && !run.cdevents.is_delivered(id))
        .map(|(id, f)| (id.clone(), f.last().cloned().unwrap_or_default()))
        .collect();
    Ok(Some(Outbox {
        sink: cfg.sink.clone(),
        delivered: run.cdevents.delivered.clone(),
        events,
        pending,
        given_up,
    }))
}

/// [`sync`] when the config has `[events]`; otherwise `run` as it is.
pub async fn sync_run(session: &Session, run: RunState) -> Result<RunState, RunError> {
    if session.loaded.config.events.is_none() {
        return Ok(run);
    }
    sync(session, &run.id).await
}

/// Sends the run's CDEvents not delivered yet, each recorded after its answer.
pub async fn sync(session: &Session, run_id: &str) -> Result<RunState, RunError> {
    deliver(session, run_id, false).await
}

/// What a person asks for with `shipcheck events --send`: every CDEvent of the run the sink
/// has not accepted, now — those given up after [`MAX_FAILURES`] failures too, and without
/// the [`REST`] after a failure. For a run signed (or aborted) while the sink was down, which
/// nothing walks again. Each answer is journaled as in [`sync`]; the first failure stops.
pub async fn send_owed(session: &Session, run_id: &str) -> Result<RunState, RunError> {
    deliver(session, run_id, true).await
}

async fn deliver(session: &Session, run_id: &str, asked: bool) -> Result<RunState, RunError> {
    let journal = session.store.events(run_id).await?;
    let mut run = RunState::fold(&journal)?;
    if session.loaded.config.events.is_none() {
        return Ok(run);
    }
    let ctx = Context::of(&session.loaded.config, &run.id, &run.env);
    let all = derive(&run.id, &journal, &ctx);
    let todo: Vec<CdEvent> = if asked {
        all.iter()
            .filter(|e| !run.cdevents.is_delivered(&e.id))
            .cloned()
            .collect()
    } else {
        pending(&run, &all).into_iter().cloned().collect()
    };
    if todo.is_empty() {
        return Ok(run);
    }
    if let Some(at) = run.cdevents.last_failure_at.filter(|_| !asked) {
        let rest = jiff::SignedDuration::try_from(REST).unwrap_or_default();
        if session.clock.now() < at + rest {
            return Ok(run);
        }
    }
    let sink = match session.clients().sink() {
        Ok(s) => s,
        Err(e) => {
            return session
                .append(
                    run_id,
                    Event::CdeventFailed {
                        id: todo[0].id.clone(),
                        error: e.to_string(),
                    },
                )
                .await;
        }
    };
    for ev in todo {
        let body = serde_json::to_string(&ev.body).unwrap_or_default();
        let attrs = Attributes {
            id: &ev.id,
            source: &ctx.source,
            kind: &ev.kind,
            subject: &ev.subject,
            time: &ev.time,
        };
        match sink.send(&attrs, &body).await {
            Ok(status) => {
                run = session
                    .append(
                        run_id,
                        Event::CdeventDelivered {
                            id: ev.id.clone(),
                            status,
                        },
                    )
                    .await?;
            }
            Err(e) => {
                return session
                    .append(
                        run_id,
                        Event::CdeventFailed {
                            id: ev.id.clone(),
                            error: e.to_string(),
                        },
                    )
                    .await;
            }
        }
    }
    Ok(run)
}

#[cfg(test)]
#[path = "cdevents_tests.rs"]
mod tests;
