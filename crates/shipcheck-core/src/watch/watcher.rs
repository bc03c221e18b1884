//! The watch. Every signal is sampled every `sample_every` (no faster than it allows); a
//! tick summarises the samples every `interval` for `duration`; incidents come from the
//! samples (a series failing N samples in a row), so a bad release is caught in about a
//! minute, not after two ticks. At the end, Kayenta's rule: the final tick passes and every
//! earlier tick is at least warn.
//!
//! Resumable: the schedule, every tick and every round's raw samples are in the journal. A
//! process that died continues where the journal says: its sequential tests are rebuilt from
//! the journaled samples (a finding the journal does not show acted on is acted on then), and
//! ticks it missed run once, as one tick, not once per interval.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Serialize;
use serde_json::json;

use crate::incidents::Incident;
use crate::incidents::respond::Asker;
use crate::incidents::respond::escalate_due;
use crate::incidents::respond::raise_incident;
use crate::journal::state::RunState;
use crate::journal::watch::kayenta;
use crate::journal::watch::{Leg, Verdict, verdict};
use crate::model::checklist::Phase;
use crate::model::clock::add;
use crate::model::duration::Span;
use crate::model::event::Event;
use crate::model::incident::IncidentInput;
use crate::model::incident::Source;
use crate::model::watch::{Outcome, Purpose, Schedule, Tick};
use crate::runs::stream::Confirm;
use crate::runs::stream::Observer;
use crate::runs::stream::WatchEvent;
use crate::runs::{RunError, Session};
use crate::watch::react::verified;
use crate::watch::round::{flush_samples, sample_round};
use crate::watch::rules::Rules;
use crate::watch::sources;
use crate::watch::tick::{Live, TickAcc, worst_series};

/// Who raises the watch's incidents.
pub const WATCHER: &str = "shipcheck watch";

/// How to run the watch.
#[derive(Clone, Debug, Default)]
pub struct WatchOptions {
    /// The person running it (decisions they confirm are theirs).
    pub by: String,
    /// `--interval` (a new watch only; a resumed one keeps its schedule).
    pub interval: Option<Duration>,
    /// `--duration`.
    pub duration: Option<Duration>,
    /// `--sample-every`.
    pub sample_every: Option<Duration>,
    /// `--yes`: a rollback the policy calls for is confirmed.
    pub yes: bool,
}

/// What the watch did.
#[derive(Clone, Debug, Serialize)]
pub struct WatchReport {
    /// Every watch of the run.
    pub legs: Vec<Leg>,
    /// Every incident.
    pub incidents: Vec<Incident>,
    /// Ticks this call recorded.
    pub ticks_recorded: u32,
    /// The run's verdict.
    pub verdict: Verdict,
    /// Release live → first incident, seconds.
    pub time_to_detect_s: Option<u64>,
    /// First incident → rollback verified, seconds.
    pub time_to_recover_s: Option<u64>,
}

enum Plan {
    Resume(usize),
    Start(Purpose),
    Done,
}

fn plan(run: &RunState) -> Plan {
    let m = &run.monitor;
    if let Some(open) = m.open_leg() {
        return Plan::Resume(open.leg as usize);
    }
    let rolled_back = run
        .rollbacks
        .iter()
        .filter(|r| r.succeeded == Some(true))
        .count();
    let after = m
        .legs
        .iter()
        .filter(|l| l.purpose == Purpose::AfterRollback)
        .count();
    if m.legs.is_empty() {
        Plan::Start(if rolled_back > 0 {
            Purpose::AfterRollback
        } else {
            Purpose::Release
        })
    } else if rolled_back > after {
        Plan::Start(Purpose::AfterRollback)
    } else {
        Plan::Done
    }
}

/// Runs (or resumes) the run's watch until it ends, then the watch after a rollback if
/// one happened. Refused before the release is live.
pub async fn watch(
    session: &Session,
    run_id: &str,
    opts: &WatchOptions,
    confirm: &dyn Confirm,
    observer: &dyn Observer,
) -> Result<WatchReport, RunError> {
    let run = session.load(run_id).await?;
    if !run.status.is_open() {
        return Err(RunError::Refused {
            message: format!(
                "run {} is {}; there is nothing to watch",
                run.id,
                run.status.as_str()
            ),
        });
    }
    if !run.completed.contains(&Phase::Rollout) {
        return Err(RunError::Refused {
            message: format!(
                "the release of run {} is not live yet (phase {}); the watch starts once the rollout phase is complete",
                run.id,
                run.current_phase().map(|p| p.as_str()).unwrap_or("none")
            ),
        });
    }
    let ask = Asker {
        confirm,
        yes: opts.yes,
        observer,
    };
    // What a crash left half done (a rollback in flight) is finished before anything else.
    let run = crate::incidents::resume::finish_interrupted(session, run_id, &ask).await?;
    let run = crate::actions::deployment_record::sync_run(session, run).await?;
    crate::actions::cdevents::sync_run(session, run).await?;
    let mut ticks = 0;
    for _ in 0..8 {
        let run = session.load(run_id).await?;
        if !run.status.is_open() {
            break;
        }
        let leg = match plan(&run) {
            Plan::Resume(i) => i,
            Plan::Start(purpose) => {
                let schedule = schedule(session, purpose, opts);
                let leg = run.monitor.legs.len();
                session
                    .append(
                        run_id,
                        Event::WatchStarted {
                            leg: leg as u32,
                            purpose,
                            schedule,
                        },
                    )
                    .await?;
                leg
            }
            Plan::Done => break,
        };
        ticks += run_leg(session, run_id, leg, opts, &ask).await?;
    }
    let run = session.load(run_id).await?;
    Ok(WatchReport {
        legs: run.monitor.legs.clone(),
        incidents: run.monitor.incidents.clone(),
        ticks_recorded: ticks,
        verdict: verdict(&run),
        time_to_detect_s: run.monitor.time_to_detect().map(|d| d.as_secs()),
        time_to_recover_s: run.monitor.time_to_recover().map(|d| d.as_secs()),
    })
}

/// The schedule of a new watch: config, then the options.
pub fn schedule(session: &Session, purpose: Purpose, opts: &WatchOptions) -> Schedule {
    let m = &session.loaded.config.monitor;
    let interval = opts.interval.unwrap_or(m.interval.get());
    let mut s = Schedule {
        interval: Span(interval),
        duration: Span(opts.duration.unwrap_or(m.duration.get())),
        sample_every: Span(opts.sample_every.unwrap_or(m.sample_every.get())),
        consecutive_failures: m.consecutive_failures.max(1),
    };
    if purpose == Purpose::AfterRollback {
        s.duration = session.loaded.config.incident.after_rollback_watch;
    }
    s.interval = s.interval.min(s.duration);
    s.sample_every = s.sample_every.min(s.interval);
    s
}

async fn run_leg(
    session: &Session,
    run_id: &str,
    idx: usize,
    opts: &WatchOptions,
    ask: &Asker<'_>,
) -> Result<u32, RunError> {
    let run = session.load(run_id).await?;
    let Some(leg) = run.monitor.legs.get(idx).cloned() else {
        return Ok(0);
    };
    let sched = leg.schedule;
    let of = sched.ticks();
    let ctx = crate::watch::WatchContext::of(session, Some(&run));
    let rules = Rules::new(
        &session.loaded.config.monitor,
        sched.interval.get(),
        sched.sample_every.get(),
        sched.consecutive_failures,
    );
    let signals = sources::signals(&ctx, &run.env, rules.probes as u32);
    let mut next = leg.ticks.last().map(|t| t.n + 1).unwrap_or(1);
    let requested = [
        (opts.interval, sched.interval),
        (opts.duration, sched.duration),
        (opts.sample_every, sched.sample_every),
    ];
    if next > 1
        && requested
            .iter()
            .any(|(o, s)| o.is_some_and(|o| o != s.get()))
    {
        ask.observer.on_watch(&WatchEvent::Note(
            "this watch started before; it keeps the schedule it started with".into(),
        ));
    }
    ask.observer.on_watch(&WatchEvent::Started {
        leg: leg.leg,
        purpose: leg.purpose,
        schedule: sched,
        next_tick: next,
        of,
        signals: signals.iter().map(|s| s.name()).collect(),
        resumed: next > 1 || session.clock.now() > add(leg.started_at, sched.sample_every.get()),
    });
    let apps = session
        .loaded
        .config
        .environments
        .get(&run.env)
        .map(|e| e.apps.len())
        .unwrap_or(1)
        .saturating_sub(sources::unwatched_apps(&ctx, &run.env).len());
    let mut evidence = crate::watch::evidence::Evidence::new(
        &session.loaded.config.monitor,
        sched.duration.get(),
        sched.sample_every.get(),
        rules.probes,
        apps,
        crate::watch::evidence::bad_rate(&run),
    );
    // A resumed watch's tests start from every sample it journaled before it stopped, not
    // from nothing: its decisions are those of a watch that never stopped.
    let journaled = session.store.events(run_id).await?;
    let journaled = crate::watch::replay::samples_by_leg(&journaled)
        .into_iter()
        .find(|(l, _)| *l == leg.leg)
        .map(|(_, s)| s)
        .unwrap_or_default();
    let pending = evidence.rebuild(
        &journaled,
        run.monitor.baseline.as_ref(),
        &run,
        leg.started_at,
    );
    let recheck = !journaled.is_empty();
    let shadow = evidence.shadow;
    for f in pending {
        crate::watch::evidence::act(session, run_id, f, shadow, ask).await?;
    }
    let mut live = Live {
        evidence,
        samples: Vec::new(),
        rules,
        baseline: run.monitor.baseline.clone(),
        streaks: BTreeMap::new(),
        recent: BTreeMap::new(),
        raised: BTreeMap::new(),
        windows: BTreeMap::new(),
        last_sampled: vec![None; signals.len()],
        acc: TickAcc::default(),
        version_pending: None,
        version_live: None,
        version_this_round: None,
        recheck,
    };
    let mut recorded = 0;
    let sample_every = sched
        .sample_every
        .get()
        .max(crate::model::config::monitor::MIN_SAMPLE_EVERY);
    // Bounded: every pass either records a tick or sleeps toward the next sample or tick.
    let bound = (sched.duration.get().as_secs_f64() / sample_every.as_secs_f64()) as u64 * 3
        + u64::from(of) * 4
        + 1000;
    let mut run = session.load(run_id).await?;
    for pass in 0..bound.min(5_000_000) {
        if pass > 0 {
            session.refresh(&mut run).await?;
        }
        let Some(l) = run.monitor.legs.get(idx) else {
            return Ok(recorded);
        };
        if l.outcome.is_some() {
            return Ok(recorded);
        }
        if !run.status.is_open() {
            let reason = format!("the run is {}", run.status.as_str());
            flush_samples(session, run_id, &leg, &mut live).await?;
            end_leg(session, run_id, idx, Outcome::Stopped, &reason, ask).await?;
            return Ok(recorded);
        }
        if leg.purpose == Purpose::Release
            && let Some(r) = run.rollbacks[l.rollbacks_before.min(run.rollbacks.len())..]
                .iter()
                .find(|r| r.succeeded == Some(true))
        {
            let reason = format!("rolled back ({}) by {}: {}", r.strategy, r.by, r.reason);
            flush_samples(session, run_id, &leg, &mut live).await?;
            end_leg(session, run_id, idx, Outcome::RolledBack, &reason, ask).await?;
            return Ok(recorded);
        }
        // Every tick recorded but the watch not ended (a crash right after the last tick):
        // decide it now.
        if next > of {
            flush_samples(session, run_id, &leg, &mut live).await?;
            finish_leg(session, run_id, idx, &live, ask).await?;
            return Ok(recorded);
        }
        let now = session.clock.now();
        if now >= sched.due(leg.started_at, next) {
            let k = sched.reached(leg.started_at, now).clamp(next, of);
            if live.acc.rounds == 0 {
                // A tick never goes without a sample (a resumed watch samples now).
                sample_round(session, &run, &ctx, &signals, &mut live, &leg, ask).await?;
            }
            flush_samples(session, run_id, &leg, &mut live).await?;
            let tick = live.acc.finish(
                &leg,
                k,
                of,
                sched.due(leg.started_at, k),
                k - next,
                live.baseline.as_ref(),
            );
            let after = session
                .append(run_id, Event::WatchTick { tick: tick.clone() })
                .await?;
            ask.observer.on_watch(&WatchEvent::Tick(tick));
            // An incident or a rollback of this interval changes GitHub's deployment record.
            let after = crate::actions::deployment_record::sync_run(session, after).await?;
            crate::actions::cdevents::sync_run(session, after).await?;
            recorded += 1;
            next = k + 1;
            if k >= of {
                flush_samples(session, run_id, &leg, &mut live).await?;
                finish_leg(session, run_id, idx, &live, ask).await?;
                return Ok(recorded);
            }
            continue;
        }
        let round_start = now;
        sample_round(session, &run, &ctx, &signals, &mut live, &leg, ask).await?;
        escalate_due(session, run_id, ask).await?;
        let wake = add(round_start, sample_every).min(sched.due(leg.started_at, next));
        let now = session.clock.now();
        if wake > now {
            session
                .clock
                .sleep(wake.duration_since(now).unsigned_abs())
                .await;
        } else {
            tokio::task::yield_now().await;
        }
    }
    flush_samples(session, run_id, &leg, &mut live).await?;
    end_leg(
        session,
        run_id,
        idx,
        Outcome::Stopped,
        "the watch loop reached its bound",
        ask,
    )
    .await?;
    Ok(recorded)
}

/// The last tick was recorded: Kayenta's rule decides the watch; a failed release watch
/// that raised nothing raises an incident now.
async fn finish_leg(
    session: &Session,
    run_id: &str,
    idx: usize,
    live: &Live,
    ask: &Asker<'_>,
) -> Result<(), RunError> {
    let run = session.load(run_id).await?;
    let Some(leg) = run.monitor.legs.get(idx).cloned() else {
        return Ok(());
    };
    // After a verified rollback, the ticks that still held the bad release's samples (up
    // to the verification) are the rollback's transition, not a failure of the watch.
    let judged: Vec<Tick> = match (&leg.purpose, &run.monitor.verification) {
        (Purpose::AfterRollback, Some(v)) if v.ok => {
            let mut from = leg.started_at;
            let mut kept = Vec::new();
            for t in &leg.ticks {
                if from >= v.at {
                    kept.push(t.clone());
                }
                from = t.due_at;
            }
            kept
        }
        _ => leg.ticks.clone(),
    };
    let (outcome, reason) = if judged.is_empty() && !leg.ticks.is_empty() {
        (
            Outcome::Pass,
            "the rollback was verified; no tick began after it".to_string(),
        )
    } else {
        kayenta(&judged)
    };
    if leg.purpose == Purpose::AfterRollback && run.monitor.verification.is_none() {
        let mut summary = format!(
            "not healthy again within {} after the rollback: {reason}",
            leg.schedule.duration
        );
        if let Some(v) = &live.version_pending {
            summary.push_str(&format!("; the version: {v}"));
        }
        verified(session, run_id, false, &summary, None, live, ask).await?;
    }
    let raised_during = run
        .monitor
        .incidents
        .iter()
        .any(|i| i.raised_at >= leg.started_at);
    if outcome == Outcome::Fail && !raised_during {
        let (severity, key) = worst_series(&leg, live);
        let summary = format!("the watch failed: {reason}");
        let report = raise_incident(
            session,
            run_id,
            IncidentInput {
                severity,
                summary,
                by: WATCHER.into(),
                source: Source::Watch,
                series: key,
                evidence: json!({ "ticks": leg.ticks.len() }),
            },
            ask,
        )
        .await?;
        ask.observer
            .on_watch(&WatchEvent::Incident(Box::new(report)));
    }
    end_leg(session, run_id, idx, outcome, &reason, ask).await
}

async fn end_leg(
    session: &Session,
    run_id: &str,
    idx: usize,
    outcome: Outcome,
    reason: &str,
    ask: &Asker<'_>,
) -> Result<(), RunError> {
    session
        .append(
            run_id,
            Event::WatchEnded {
                leg: idx as u32,
                outcome,
                reason: reason.to_string(),
            },
        )
        .await?;
    ask.observer.on_watch(&WatchEvent::Ended {
        leg: idx as u32,
        outcome,
        reason: reason.to_string(),
    });
    Ok(())
}
