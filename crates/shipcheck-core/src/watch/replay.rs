//! Replay: a recorded watch re-judged with any policy. The watch journals every health
//! sample raw (`watch_samples`: probes sent and failed, each answer's latency); replay feeds
//! them, in order, to the sequential tests built from another `[monitor]`/`[incident]` and
//! says what that policy would have done — incidents and when, rollback or not, the
//! rollback's verification, the verdict — next to what happened.
//!
//! What it re-judges: the health probes' series (the sequential tests). Sentry, Prometheus
//! and the database keep only their tick summaries, so their rules are not replayed; a
//! rollback the recorded watch did for them is shown as what happened.

use jiff::Timestamp;
use serde::Serialize;

use crate::incidents::policy::{Response, respond};
use crate::journal::state::RunState;
use crate::model::config::Config;
use crate::model::event::{Event, StoredEvent};
use crate::model::incident::Severity;
use crate::model::watch::{Metric, ProbeSample, Purpose, Reading, SeriesKey};
use crate::watch::evidence::{Evidence, bad_rate};

/// An incident, recorded or replayed.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ReplayIncident {
    /// When it was raised (replayed: the sample that crossed).
    pub at: Timestamp,
    /// Seconds after the watch started.
    pub after_s: i64,
    /// Its severity.
    pub severity: Severity,
    /// Its summary (replayed: with the test's numbers).
    pub summary: String,
    /// What the policy does: `roll back`, `ask to roll back`, `decision timer`, `fix
    /// forward`, `note`, or `shadow` (judged, not acted on).
    pub response: String,
}

/// One side of a watch: what happened, or what the replayed policy would do.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Side {
    /// Incidents, in order.
    pub incidents: Vec<ReplayIncident>,
    /// When it rolled back (replayed: when the policy would have started the rollback).
    pub rollback_at: Option<Timestamp>,
    /// When the rollback was verified (the watch after a rollback).
    pub verified_at: Option<Timestamp>,
    /// One line: the watch's outcome.
    pub verdict: String,
}

/// One watch replayed.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LegReplay {
    /// 0, 1, …
    pub leg: u32,
    /// `release` or `after_rollback`.
    pub purpose: Purpose,
    /// Raw samples kept (all apps).
    pub samples: u64,
    /// Probes in them.
    pub probes: u64,
    /// What happened.
    pub recorded: Side,
    /// What the replayed policy would have done.
    pub replayed: Side,
}

/// A run's watches replayed.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Replay {
    /// The run.
    pub run: String,
    /// Every watch.
    pub legs: Vec<LegReplay>,
}

fn response(severity: Severity, shadow: bool, config: &Config, at: Timestamp) -> String {
    if shadow {
        return "shadow".into();
    }
    match respond(severity, &config.incident, at) {
        Response::RollBack { prompt: false } => "roll back".into(),
        Response::RollBack { prompt: true } => "ask to roll back".into(),
        Response::Record { decision, .. } => match decision {
            crate::model::incident::Decision::DecisionTimer => "decision timer".into(),
            crate::model::incident::Decision::FixForward => "fix forward".into(),
            _ => "note".into(),
        },
    }
}

/// The raw samples of each watch, from the journal.
pub fn samples_by_leg(events: &[StoredEvent]) -> Vec<(u32, Vec<ProbeSample>)> {
    let mut out: Vec<(u32, Vec<ProbeSample>)> = Vec::new();
    for e in events {
        if let Event::WatchSamples { leg, samples } = &e.event {
            match out.iter_mut().find(|(l, _)| l == leg) {
                Some((_, v)) => v.extend(samples.iter().cloned()),
                None => out.push((*leg, samples.clone())),
            }
        }
    }
    out
}

/// Re-judges every watch of `run` (its journal `events`) with `config`'s policy.
pub fn replay(run: &RunState, events: &[StoredEvent], config: &Config) -> Replay {
    let by_leg = samples_by_leg(events);
    let empty = Vec::new();
    let legs = run
        .monitor
        .legs
        .iter()
        .map(|leg| {
            let samples = by_leg
                .iter()
                .find(|(l, _)| *l == leg.leg)
                .map(|(_, s)| s)
                .unwrap_or(&empty);
            judge_leg(run, leg, samples, config)
        })
        .collect();
    Replay {
        run: run.id.clone(),
        legs,
    }
}

fn after(leg: &crate::journal::watch::Leg, at: Timestamp) -> i64 {
    at.duration_since(leg.started_at).as_secs()
}

fn recorded(run: &RunState, leg: &crate::journal::watch::Leg) -> Side {
    let end = leg.ended_at.unwrap_or(Timestamp::MAX);
    let incidents = run
        .monitor
        .incidents
        .iter()
        .filter(|i| i.raised_at >= leg.started_at && i.raised_at <= end)
        .map(|i| ReplayIncident {
            at: i.raised_at,
            after_s: after(leg, i.raised_at),
            severity: i.record.severity,
            summary: i.record.summary.clone(),
            response: i
                .decisions
                .first()
                .map(|d| d.decision.as_str().to_string())
                .unwrap_or_default(),
        })
        .collect();
    let rollback_at = run
        .rollbacks
        .iter()
        .map(|r| r.started_at)
        .find(|t| *t >= leg.started_at && *t <= end);
    let verified_at = (leg.purpose == Purpose::AfterRollback)
        .then_some(run.monitor.verification.as_ref())
        .flatten()
        .filter(|v| v.ok)
        .map(|v| v.at);
    let verdict = match (&leg.outcome, &leg.reason) {
        (Some(o), Some(r)) => format!("{}: {r}", o.as_str()),
        (Some(o), None) => o.as_str().to_string(),
        _ => "still running".into(),
    };
    Side {
        incidents,
        rollback_at,
        verified_at,
        verdict,
    }
}

fn judge_leg(
    run: &RunState,
    leg: &crate::journal::watch::Leg,
    samples: &[ProbeSample],
    config: &Config,
) -> LegReplay {
    let m = &config.monitor;
    let sched = &leg.schedule;
    let mut apps: Vec<&str> = samples.iter().map(|s| s.app.as_str()).collect();
    apps.sort_unstable();
    apps.dedup();
    let probes = samples.iter().map(|s| s.sent as usize).max().unwrap_or(1);
    let bad = if leg.purpose == Purpose::AfterRollback {
        bad_rate(run)
    } else {
        0.0
    };
    let mut ev = Evidence::new(
        m,
        sched.duration.get(),
        sched.sample_every.get(),
        probes,
        apps.len(),
        bad,
    );
    let shadow = ev.shadow;
    let baseline = run.monitor.baseline.as_ref();
    let mut side = Side::default();
    let mut verified: Vec<String> = Vec::new();
    for s in samples {
        let errors = Reading {
            key: SeriesKey::new(Metric::HttpErrors, Some(&s.app)),
            value: None,
            detail: Some(format!("{} of {} probes failed", s.failed, s.sent)),
            observations: (0..s.sent)
                .map(|i| if i < s.failed { 1.0 } else { 0.0 })
                .collect(),
            counts: None,
        };
        let latency = Reading {
            key: SeriesKey::new(Metric::Latency, Some(&s.app)),
            value: None,
            detail: None,
            observations: s.ms.iter().map(|ms| f64::from(*ms)).collect(),
            counts: None,
        };
        for r in [errors, latency] {
            if let Some(f) = ev.observe(&r, baseline) {
                let severity = f.crossing.severity;
                let resp = response(severity, shadow, config, s.at);
                if side.rollback_at.is_none()
                    && leg.purpose == Purpose::Release
                    && (resp == "roll back" || resp == "ask to roll back")
                {
                    side.rollback_at = Some(s.at);
                }
                side.incidents.push(ReplayIncident {
                    at: s.at,
                    after_s: after(leg, s.at),
                    severity,
                    summary: f.summary(),
                    response: resp,
                });
            }
        }
        if leg.purpose == Purpose::AfterRollback
            && side.verified_at.is_none()
            && ev.verified(&s.app).is_some()
        {
            if !verified.iter().any(|a| a == &s.app) {
                verified.push(s.app.clone());
            }
            if verified.len() == apps.len() && !ev.failing() {
                side.verified_at = Some(s.at);
            }
        }
    }
    side.verdict = match (leg.purpose, &side.rollback_at, side.incidents.first()) {
        (Purpose::Release, Some(t), _) => format!("rolled back {}s into the watch", after(leg, *t)),
        (Purpose::Release, None, Some(i)) => format!(
            "{} incident at {}s; no rollback by this policy",
            i.severity.as_str(),
            i.after_s
        ),
        (Purpose::AfterRollback, _, _) => match side.verified_at {
            Some(t) => format!(
                "rollback verified {}s after this watch began",
                after(leg, t)
            ),
            None => "rollback not verified from these samples".into(),
        },
        _ if samples.is_empty() => {
            "no samples kept (recorded before samples were kept): nothing to judge".into()
        }
        _ => "pass: no incident from the health probes".into(),
    };
    LegReplay {
        leg: leg.leg,
        purpose: leg.purpose,
        samples: samples.len() as u64,
        probes: samples.iter().map(|s| u64::from(s.sent)).sum(),
        recorded: recorded(run, leg),
        replayed: side,
    }
}
