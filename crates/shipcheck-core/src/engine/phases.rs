//! What the watch adds to the walk, before a phase's items run: the baseline in `preflight`
//! (before the merge), the first five minutes in `verify`, and the watch itself in `watch`.

use std::time::Duration;

use crate::engine::{Need, StepOptions};
use crate::journal::state::{ItemState, RunState};
use crate::model::checklist::{ActionSpec, CheckSpec, Phase};
use crate::model::event::Event;
use crate::runs::stream::Confirm;
use crate::runs::stream::Observer;
use crate::runs::stream::WatchEvent;
use crate::runs::{RunError, Session};
use crate::watch::sources;
use crate::watch::watcher::watch;
use crate::watch::{WatchOptions, baseline};

/// The watch's part of one step of `phase`; returns the run as it is after.
pub(crate) async fn monitor_step(
    session: &Session,
    run: &RunState,
    phase: Phase,
    opts: &StepOptions,
    confirm: &dyn Confirm,
    observer: &dyn Observer,
    needs: &mut Vec<Need>,
) -> Result<RunState, RunError> {
    match phase {
        Phase::Preflight | Phase::Release if run.monitor.baseline.is_none() => {
            // Once the release is merging (whatever its item is called), production is no
            // longer the previous release: measuring it now would not be a baseline.
            let merged = run.merge_commit().is_ok()
                || run.items.iter().any(|r| {
                    matches!(r.item.action, Some(ActionSpec::Merge(_)))
                        && (r.state.is_settled() || r.action_in_flight)
                });
            if merged {
                return Ok(run.clone());
            }
            record_baseline(session, run, observer).await
        }
        Phase::Verify if pending_monitor_items(run, phase) => {
            wait_first_minutes(session, run, observer).await;
            Ok(run.clone())
        }
        Phase::Watch if pending_monitor_items(run, phase) => {
            if opts.dry_run {
                needs.push(Need {
                    item: run
                        .items
                        .iter()
                        .find(|r| matches!(r.item.check, Some(CheckSpec::MonitorErrorRates(_))))
                        .map(|r| r.item.id.clone())
                        .unwrap_or_else(|| "watch".into()),
                    title: "The watch".into(),
                    need: "info",
                    detail: "dry run: the watch would run now".into(),
                });
                return Ok(run.clone());
            }
            let w = WatchOptions {
                by: opts.by.clone(),
                yes: opts.yes,
                ..WatchOptions::default()
            };
            watch(session, &run.id, &w, confirm, observer).await?;
            session.load(&run.id).await
        }
        _ => Ok(run.clone()),
    }
}

/// Measures the baseline (every signal of the run's environment) and records it.
pub async fn record_baseline(
    session: &Session,
    run: &RunState,
    observer: &dyn Observer,
) -> Result<RunState, RunError> {
    let ctx = crate::watch::WatchContext::of(session, Some(run));
    let signals = sources::signals(&ctx, &run.env, 1);
    let probes = session.loaded.config.monitor.baseline_probes;
    observer.on_watch(&WatchEvent::Note(format!(
        "measuring the baseline: {} signal(s), {probes} probe(s) each",
        signals.len()
    )));
    let baseline = baseline::capture(&ctx, &signals, probes).await;
    observer.on_watch(&WatchEvent::Baseline {
        summary: baseline.summary(),
    });
    session
        .append(&run.id, Event::BaselineRecorded { baseline })
        .await
}

/// Waits until `logs_window` has passed since the release went live, with progress.
async fn wait_first_minutes(session: &Session, run: &RunState, observer: &dyn Observer) {
    let window = session.loaded.config.monitor.logs_window.get();
    let live = run
        .monitor
        .release_live_at
        .unwrap_or_else(|| session.clock.now());
    let until = crate::model::clock::add(live, window);
    let step = (window / 1000).max(Duration::from_secs(5));
    for _ in 0..2000 {
        let now = session.clock.now();
        if now >= until {
            break;
        }
        let remaining = until.duration_since(now).unsigned_abs();
        observer.on_watch(&WatchEvent::Waiting {
            what: format!(
                "the first {} after the deploy before verifying",
                crate::model::duration::format(window)
            ),
            remaining,
        });
        session.clock.sleep(remaining.min(step)).await;
    }
}

/// Whether `phase` has an automatic item of the watch still to settle.
fn pending_monitor_items(run: &RunState, phase: Phase) -> bool {
    run.phase_items(phase).any(|r| {
        r.item.is_automatic()
            && matches!(
                r.state,
                ItemState::Pending | ItemState::Fail | ItemState::Error
            )
            && match phase {
                Phase::Watch => matches!(
                    r.item.check,
                    Some(CheckSpec::MonitorErrorRates(_) | CheckSpec::MonitorMetrics(_))
                ),
                _ => r.state == ItemState::Pending,
            }
    })
}
