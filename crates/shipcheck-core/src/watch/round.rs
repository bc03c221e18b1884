//! One round of the watch: every signal due is sampled and judged; the raw health samples are
//! journaled before anything is done about them; findings become incidents; recoveries are
//! looked for.

use crate::checks::join_all;

use crate::incidents::respond::Asker;
use crate::journal::state::RunState;
use crate::journal::watch::Leg;
use crate::model::event::Event;
use crate::model::watch::{Grade, Metric, Purpose, Reading};
use crate::runs::stream::WatchEvent;
use crate::runs::{RunError, Session};
use crate::watch::WatchContext;
use crate::watch::react::{raise_from_watch, recoveries};
use crate::watch::signal::Signal;
use crate::watch::tick::Live;

/// The longest a watch keeps raw samples before journaling them when nothing is acted on.
const FLUSH_EVERY: std::time::Duration = std::time::Duration::from_secs(30);

/// Keeps a health reading's raw observations (and the edge's counts) for replay and resume.
fn keep_sample(
    samples: &mut Vec<crate::model::watch::ProbeSample>,
    r: &Reading,
    now: jiff::Timestamp,
) {
    let Some(app) = r.key.app.as_deref() else {
        return;
    };
    let slot = |samples: &mut Vec<crate::model::watch::ProbeSample>| -> usize {
        match samples.iter().rposition(|s| s.app == app && s.at == now) {
            Some(i) => i,
            None => {
                samples.push(crate::model::watch::ProbeSample {
                    at: now,
                    app: app.to_string(),
                    sent: 0,
                    failed: 0,
                    ms: Vec::new(),
                    edge: None,
                });
                samples.len() - 1
            }
        }
    };
    match r.key.metric {
        Metric::HttpErrors if !r.observations.is_empty() => {
            let i = slot(samples);
            samples[i].sent = r.observations.len() as u32;
            samples[i].failed = r.observations.iter().filter(|x| **x >= 0.5).count() as u32;
        }
        Metric::Latency if !r.observations.is_empty() => {
            if let Some(s) = samples
                .iter_mut()
                .rev()
                .find(|s| s.app == app && s.at == now)
            {
                s.ms = r
                    .observations
                    .iter()
                    .map(|ms| ms.round().clamp(0.0, f64::from(u32::MAX)) as u32)
                    .collect();
            }
        }
        Metric::EdgeErrors if r.counts.is_some() => {
            let i = slot(samples);
            samples[i].edge = r.counts;
        }
        _ => {}
    }
}

/// Journals the raw samples taken since the last flush.
pub(super) async fn flush_samples(
    session: &Session,
    run_id: &str,
    leg: &Leg,
    live: &mut Live,
) -> Result<(), RunError> {
    if live.samples.is_empty() {
        return Ok(());
    }
    let samples = std::mem::take(&mut live.samples);
    session
        .append(
            run_id,
            Event::WatchSamples {
                leg: leg.leg,
                samples,
            },
        )
        .await?;
    Ok(())
}

/// One round: every signal that may be sampled now, judged; incidents for series that
/// just reached N failures; recoveries. `run` is the run as the watch loop last read it.
pub(super) async fn sample_round(
    session: &Session,
    run: &RunState,
    ctx: &WatchContext,
    signals: &[Box<dyn Signal>],
    live: &mut Live,
    leg: &Leg,
    ask: &Asker<'_>,
) -> Result<(), RunError> {
    let run_id = run.id.as_str();
    let now = session.clock.now();
    let due: Vec<usize> = (0..signals.len())
        .filter(|&i| {
            live.last_sampled[i].is_none_or(|t: jiff::Timestamp| {
                now.duration_since(t).unsigned_abs() >= signals[i].min_interval()
            })
        })
        .collect();
    live.version_this_round = None;
    let sampling = join_all(due.iter().map(|&i| signals[i].sample(ctx)).collect());
    // After a rollback, the version check runs beside the sampling until it finds the
    // rollback's commit live.
    let verifying = leg.purpose == Purpose::AfterRollback && run.monitor.verification.is_none();
    let readings = if verifying && live.version_live.is_none() {
        let fly_apps = crate::checks::fly::FlyApps::of(&ctx.clients);
        let (readings, version) = tokio::join!(
            sampling,
            crate::checks::fly::version_after_rollback(&fly_apps, Some(run), &run.env)
        );
        match version {
            Some(o) if o.status != crate::model::outcome::Status::Pass => {
                live.version_this_round = Some(o);
            }
            v => live.version_live = Some(v),
        }
        readings
    } else {
        sampling.await
    };
    let readings: Vec<Reading> = readings.into_iter().flatten().collect();
    for &i in &due {
        live.last_sampled[i] = Some(now);
    }
    // The raw samples are stamped when their probes had answered (replay's clock).
    let taken = session.clock.now();
    live.acc.rounds += 1;
    let mut failing_now = Vec::new();
    let mut recovered = Vec::new();
    let mut findings = Vec::new();
    live.evidence.verified_now = false;
    for mut reading in readings {
        // The sequential tests see every probe of the sample (before the window below).
        if let Some(f) = live.evidence.observe(&reading, live.baseline.as_ref()) {
            findings.push(f);
        }
        keep_sample(&mut live.samples, &reading, taken);
        // A sample's failed-probe rate becomes the rate over the window's samples (no
        // value while the window holds fewer than `min_probes` probes).
        if reading.key.metric == Metric::HttpErrors
            && let Some(v) = reading.value
        {
            let (window, probes, min) =
                (live.rules.window, live.rules.probes, live.rules.min_probes);
            let failed = (v * probes as f64 / 100.0).round() as u32;
            let w = live
                .windows
                .entry(reading.key.app.clone().unwrap_or_default())
                .or_default();
            match w.push(failed, probes as u32, window, min) {
                Some(rate) => reading.value = Some(rate),
                // Warming up: not judged yet.
                None => continue,
            }
        }
        let recent = live.recent.entry(reading.key.clone()).or_default();
        match reading.value.filter(|v| v.is_finite()) {
            Some(v) => recent.push_back(v),
            None => recent.clear(),
        }
        while recent.len() > live.rules.consecutive as usize {
            recent.pop_front();
        }
        let judged = live
            .rules
            .judge(&reading.key, reading.value, live.baseline.as_ref());
        let streak = live.streaks.entry(reading.key.clone()).or_default();
        let (counted, t) = streak.push(judged.grade, live.rules.consecutive);
        live.acc.add(&reading, &judged, counted);
        // A series that just counted as failing is raised; one that goes on failing is
        // raised again when it has worsened to a higher severity (a rising error rate
        // reaching its critical limit on N samples in a row).
        // The series the sequential tests decide keep this rule's record, not its incidents.
        if (t.now_failing || counted == Grade::Fail) && !live.evidence.decides(&reading.key) {
            let severity = live.severity(&reading, &judged);
            let worse = live.raised.get(&reading.key).is_none_or(|s| severity > *s);
            if t.now_failing || worse {
                live.raised.insert(reading.key.clone(), severity);
                failing_now.push((reading.clone(), judged.clone()));
            }
        }
        if t.now_passing {
            recovered.push(reading.key.clone());
        }
    }
    let failing: Vec<String> = live
        .streaks
        .iter()
        .filter(|(_, s)| s.failing(live.rules.consecutive))
        .map(|(k, _)| k.to_string())
        .collect();
    ask.observer.on_watch(&WatchEvent::Sampled {
        round: live.acc.rounds,
        failing,
    });
    // The round's samples are journaled before anything is done about them, so a resumed
    // watch rebuilds its tests from every sample its decisions stood on; otherwise at least
    // every `FLUSH_EVERY` (a kill loses at most that much evidence, not a tick's).
    let acting = !findings.is_empty()
        || !failing_now.is_empty()
        || !recovered.is_empty()
        || live.evidence.verified_now
        || live.version_pending.is_some()
        || live.recheck;
    let due = live
        .samples
        .first()
        .is_some_and(|s| taken.duration_since(s.at).unsigned_abs() >= FLUSH_EVERY);
    if acting || due {
        flush_samples(session, run_id, leg, live).await?;
    }
    let shadow = live.evidence.shadow;
    for f in findings {
        crate::watch::evidence::act(session, run_id, f, shadow, ask).await?;
    }
    for (reading, judged) in failing_now {
        raise_from_watch(session, run_id, &reading, &judged, live, ask).await?;
    }
    // After a rollback whose health is back but whose version was not yet live, the
    // verification is tried again every round.
    // A resumed watch's first round looks again at what its rebuilt tests verified.
    let recheck = std::mem::take(&mut live.recheck);
    if !recovered.is_empty()
        || live.version_pending.is_some()
        || live.evidence.verified_now
        || recheck
    {
        recoveries(session, run_id, ctx, leg, &recovered, live, ask).await?;
    }
    Ok(())
}
