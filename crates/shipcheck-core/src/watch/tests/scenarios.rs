//! Watches over apps that stay healthy, flap once, fail, slow down or error at a rate.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use jiff::Timestamp;

use crate::model::clock::Clock;

use crate::incidents::{Decision, Severity};
use crate::journal::watch::{VerdictKind, verdict};
use crate::model::watch::Outcome;
use crate::model::watch::{Grade, Metric, SeriesKey};
use crate::runs::stream::NoConfirm;
use crate::watch::WatchOptions;
use crate::watch::tests::app::{Behaviour, Reply, Req};
use crate::watch::tests::world::{Seen, T0, World, minutes};

fn at(min: f64) -> Timestamp {
    crate::model::clock::add(T0.parse().unwrap(), Duration::from_secs_f64(min * 60.0))
}

/// Rollbacks revert the release merge (the repository is real; the platform strategy needs
/// the Fly integration).
pub const GIT_REVERT: &str = "[incident]\nrollback_strategy = \"git-revert\"\n";

/// The sequential tests in shadow: the N-consecutive-samples rule decides every series (the
/// tests of that rule). Goes after a `[monitor]` table.
pub const SHADOW: &str = "[monitor.sequential]\nshadow = true\n";

/// An app whose `/a` answers `status(minute, n)` to its n-th request (n counts `/a`'s
/// requests only, so a share of them fails evenly over each sample's probes); every other
/// path answers 200.
fn on_a(status: impl Fn(f64, usize) -> u16 + Send + Sync + 'static) -> Behaviour {
    let n = Arc::new(AtomicUsize::new(0));
    Arc::new(move |r: &Req| {
        if r.path != "/a" {
            return Reply::ok();
        }
        let i = n.fetch_add(1, Ordering::SeqCst);
        Reply::status(status(minutes(r.now), i))
    })
}

fn opts() -> WatchOptions {
    WatchOptions {
        by: "dee".into(),
        ..WatchOptions::default()
    }
}

#[tokio::test]
async fn a_clean_watch_with_jittery_latency_raises_nothing() {
    // 0–12 ms of jitter on every answer.
    let w = World::new("", Arc::new(|r: &Req| Reply::slow((r.n * 7 % 13) as u64))).await;
    let run = w.live_run().await;
    let report =
        crate::watch::watcher::watch(&w.session, &run.id, &opts(), &NoConfirm, &Seen::default())
            .await
            .unwrap();
    let run = w.run(&run.id).await;
    let leg = &run.monitor.legs[0];
    assert_eq!(leg.ticks.len(), 8, "2 hours of 15-minute ticks");
    assert_eq!(report.ticks_recorded, 8);
    for t in &leg.ticks {
        assert_eq!(t.grade, Grade::Pass, "{t:?}");
        assert!(t.samples >= 29, "about 30 samples a tick: {}", t.samples);
        assert_eq!(t.missed, 0);
    }
    assert_eq!(leg.outcome, Some(Outcome::Pass));
    assert!(run.monitor.incidents.is_empty());
    assert_eq!(verdict(&run).verdict, VerdictKind::Success);
    assert!(minutes(w.clock.now()) >= 120.0);
    assert!(w.app.hits() >= 2 * 240, "{}", w.app.hits());
    // The checklist items read the watch.
    let ctx = crate::watch::WatchContext::of(&w.session, Some(&run));
    let errors = crate::watch::items::error_rates(&ctx);
    assert_eq!(
        errors.status,
        crate::model::outcome::Status::Pass,
        "{}",
        errors.summary
    );
    assert!(
        errors.summary.contains("not measured: error_rate"),
        "{}",
        errors.summary
    );
    let metrics = crate::watch::items::metrics(&ctx);
    assert_eq!(
        metrics.status,
        crate::model::outcome::Status::Pass,
        "{}",
        metrics.summary
    );
    // A second call finds the watch over and does nothing.
    let again =
        crate::watch::watcher::watch(&w.session, &run.id, &opts(), &NoConfirm, &Seen::default())
            .await
            .unwrap();
    assert_eq!(again.ticks_recorded, 0);
}

#[tokio::test]
async fn a_one_sample_flap_raises_nothing() {
    let w = World::new(
        "[monitor]\nsample_every = \"5s\"\n",
        Arc::new(|r: &Req| {
            let t = minutes(r.now);
            match r.path.as_str() {
                // One sample's worth (5 s) of failures, and of slowness.
                "/a" if (20.0..20.08).contains(&t) => Reply::status(500),
                "/b" if (40.0..40.08).contains(&t) => Reply::slow(300),
                _ => Reply::ok(),
            }
        }),
    )
    .await;
    let run = w.live_run().await;
    crate::watch::watcher::watch(&w.session, &run.id, &opts(), &NoConfirm, &Seen::default())
        .await
        .unwrap();
    let run = w.run(&run.id).await;
    assert!(
        run.monitor.incidents.is_empty(),
        "{:#?}",
        run.monitor.incidents
    );
    let leg = &run.monitor.legs[0];
    assert_eq!(leg.outcome, Some(Outcome::Pass), "{:?}", leg.reason);
    // The flap is in the record, but it never counted.
    let tick2 = &leg.ticks[1];
    let health_a = tick2
        .series
        .iter()
        .find(|s| s.key == SeriesKey::new(Metric::Health, Some("api")))
        .unwrap();
    assert_eq!(health_a.failed, 1);
    assert_eq!(health_a.grade, Grade::Pass);
}

#[tokio::test]
async fn a_sustained_outage_is_critical_within_seconds() {
    // The default pace: every 5 s.
    let extra = format!("{GIT_REVERT}[monitor]\nsample_every = \"5s\"\n");
    let w = World::with_repo(&extra, |_| {
        Arc::new(|r: &Req| {
            if r.path == "/a" && minutes(r.now) >= 30.0 {
                Reply::status(500)
            } else {
                Reply::ok()
            }
        })
    })
    .await;
    let run = w.live_run().await;
    let prompt = w.prompt(false);
    crate::watch::watcher::watch(&w.session, &run.id, &opts(), &prompt, &Seen::default())
        .await
        .unwrap();
    let run = w.run(&run.id).await;
    let m = &run.monitor;
    assert_eq!(
        m.incidents.len(),
        1,
        "one incident, not one per series: {:#?}",
        m.incidents
    );
    let i = &m.incidents[0];
    assert_eq!(i.record.severity, Severity::Critical);
    assert_eq!(
        i.record.series,
        Some(SeriesKey::new(Metric::Health, Some("api")))
    );
    let after = i.raised_at.duration_since(at(30.0)).as_secs_f64();
    // The sequential test: the second failing sample (one sample is one moment), samples
    // every 5 s.
    assert!(
        (5.0..=15.0).contains(&after),
        "detected {after}s after it broke"
    );
    for part in [
        "answered 500",
        "against a baseline of 1.0 %",
        "binomial CUSUM",
        "crossed its bound",
        "after 10 probes",
    ] {
        assert!(
            i.record.summary.contains(part),
            "{part}: {}",
            i.record.summary
        );
    }
    assert_eq!(i.record.evidence["sequential"]["samples"], 10);
    // Not auto_rollback: a person is asked, says no, and the record says what to do.
    assert_eq!(prompt.asked.lock().unwrap().len(), 1);
    let d = i.decisions.last().unwrap();
    assert_eq!(d.decision, Decision::AwaitingPerson);
    assert!(d.reason.contains("shipcheck rollback"), "{}", d.reason);
    assert!(i.notified.as_ref().is_some_and(|n| !n.posted));
    assert!(i.open);
    assert!(run.rollbacks.is_empty());
    // The watch ran to its end and failed by Kayenta's rule.
    let leg = &m.legs[0];
    assert_eq!(leg.ticks.len(), 8);
    assert_eq!(leg.ticks[0].grade, Grade::Pass);
    assert_eq!(leg.ticks[2].grade, Grade::Fail);
    assert_eq!(leg.outcome, Some(Outcome::Fail));
    assert_eq!(verdict(&run).verdict, VerdictKind::Failed);
    let ttd = m.time_to_detect().unwrap().as_secs_f64() / 60.0;
    assert!((29.5..30.5).contains(&ttd), "{ttd}");
    let ctx = crate::watch::WatchContext::of(&w.session, Some(&run));
    assert_eq!(
        crate::watch::items::no_critical(&ctx).await.status,
        crate::model::outcome::Status::Fail
    );
}

#[tokio::test]
async fn slow_responses_are_medium_fixed_forward_and_resolved_when_they_recover() {
    let w = World::new(
        "[monitor]\ninterval = \"10m\"\nduration = \"30m\"\n",
        Arc::new(|r: &Req| {
            if r.path == "/b" && (10.0..14.0).contains(&minutes(r.now)) {
                Reply::slow(200)
            } else {
                Reply::ok()
            }
        }),
    )
    .await;
    let run = w.live_run().await;
    crate::watch::watcher::watch(&w.session, &run.id, &opts(), &NoConfirm, &Seen::default())
        .await
        .unwrap();
    let run = w.run(&run.id).await;
    let m = &run.monitor;
    assert_eq!(m.incidents.len(), 1, "{:#?}", m.incidents);
    let i = &m.incidents[0];
    assert_eq!(i.record.severity, Severity::Medium);
    assert_eq!(
        i.record.series,
        Some(SeriesKey::new(Metric::Latency, Some("web")))
    );
    let kinds: Vec<Decision> = i.decisions.iter().map(|d| d.decision).collect();
    assert_eq!(kinds, [Decision::FixForward, Decision::Resolved]);
    assert!(!i.open);
    let leg = &m.legs[0];
    assert_eq!(leg.ticks.len(), 3);
    assert_eq!(leg.ticks[1].grade, Grade::Fail);
    assert_eq!(leg.ticks[2].grade, Grade::Pass);
    // Kayenta: the final tick passed, but an earlier one failed.
    assert_eq!(leg.outcome, Some(Outcome::Fail));
    assert!(leg.reason.as_deref().unwrap().contains("tick 2 was fail"));
    let ctx = crate::watch::WatchContext::of(&w.session, Some(&run));
    assert_eq!(
        crate::watch::items::metrics(&ctx).status,
        crate::model::outcome::Status::Fail
    );
    assert_eq!(
        crate::watch::items::error_rates(&ctx).status,
        crate::model::outcome::Status::Pass
    );
}

#[tokio::test]
async fn an_error_rate_over_its_criterion_is_high_and_escalates_after_its_timer() {
    // The N-consecutive-samples rule (the sequential tests in shadow: 25 % is critical to
    // them, see `sequential_*` below).
    let extra = format!("{GIT_REVERT}\n[monitor]\nduration = \"1h\"\n{SHADOW}");
    let w = World::with_repo(&extra, |_| {
        on_a(|t, n| {
            if t >= 10.0 && n.is_multiple_of(4) {
                503
            } else {
                200
            }
        })
    })
    .await;
    let run = w.live_run().await;
    let prompt = w.prompt(false);
    crate::watch::watcher::watch(&w.session, &run.id, &opts(), &prompt, &Seen::default())
        .await
        .unwrap();
    let run = w.run(&run.id).await;
    let m = &run.monitor;
    assert_eq!(m.incidents.len(), 1, "{:#?}", m.incidents);
    let i = &m.incidents[0];
    assert_eq!(i.record.severity, Severity::High);
    assert_eq!(
        i.record.series,
        Some(SeriesKey::new(Metric::HttpErrors, Some("api")))
    );
    let kinds: Vec<Decision> = i.decisions.iter().map(|d| d.decision).collect();
    assert_eq!(
        kinds,
        [
            Decision::DecisionTimer,
            Decision::Escalated,
            Decision::AwaitingPerson
        ]
    );
    let until = i.decisions[0].until.unwrap();
    assert_eq!(
        until,
        crate::model::clock::add(i.raised_at, Duration::from_secs(1800))
    );
    let escalated = i.decisions[1].at;
    assert!(escalated >= until);
    assert!(
        escalated.duration_since(until).as_secs() <= 30,
        "{escalated} vs {until}"
    );
    let asked = prompt.asked.lock().unwrap();
    assert_eq!(asked.len(), 1, "asked once");
    assert!(asked[0].0.contains("incident #1 (high)"), "{}", asked[0].0);
    assert!(run.rollbacks.is_empty());
}

#[tokio::test]
async fn thirty_percent_errors_are_seen_in_the_next_sample_and_raised_after_three() {
    // From minute 30, 3 answers in 10 are a 500 (spread over the probes of each sample).
    let extra = format!("{GIT_REVERT}\n[monitor]\nduration = \"1h\"\n{SHADOW}");
    let w = World::with_repo(&extra, |_| {
        on_a(|t, n| if t >= 30.0 && n % 10 < 3 { 500 } else { 200 })
    })
    .await;
    let run = w.live_run().await;
    let prompt = w.prompt(false);
    crate::watch::watcher::watch(&w.session, &run.id, &opts(), &prompt, &Seen::default())
        .await
        .unwrap();
    let run = w.run(&run.id).await;
    let i = &run.monitor.incidents[0];
    assert_eq!(i.record.severity, Severity::High, "{:#?}", i.record);
    assert_eq!(
        i.record.series,
        Some(SeriesKey::new(Metric::HttpErrors, Some("api")))
    );
    // Every sample's 20 probes show the rate, so three samples in a row raise it.
    let after = i.raised_at.duration_since(at(30.0)).as_secs_f64();
    assert!(
        (60.0..=90.0).contains(&after),
        "raised {after}s after the errors began"
    );
    assert!(i.record.summary.contains("30.0%"), "{}", i.record.summary);
    // Most probes still answer, so the app is not "down" (that would be critical).
    assert!(
        run.monitor
            .incidents
            .iter()
            .all(|i| i.record.series != Some(SeriesKey::new(Metric::Health, Some("api")))),
        "{:#?}",
        run.monitor.incidents
    );
}

#[tokio::test]
async fn a_release_failing_on_two_apps_is_one_incident_until_both_recover() {
    // From minute 10 to 25 every 4th answer of both apps is a 503; /b recovers at 30.
    let (na, nb) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let extra = format!("{GIT_REVERT}\n[monitor]\nduration = \"1h\"\n{SHADOW}");
    let w = World::with_repo(&extra, move |_| {
        let (na, nb) = (na.clone(), nb.clone());
        Arc::new(move |r: &Req| {
            let counter = if r.path == "/b" { &nb } else { &na };
            let i = counter.fetch_add(1, Ordering::SeqCst);
            let t = minutes(r.now);
            let until = if r.path == "/b" { 30.0 } else { 25.0 };
            if (10.0..until).contains(&t) && i.is_multiple_of(4) {
                Reply::status(503)
            } else {
                Reply::ok()
            }
        })
    })
    .await;
    let run = w.live_run().await;
    let prompt = w.prompt(false);
    crate::watch::watcher::watch(&w.session, &run.id, &opts(), &prompt, &Seen::default())
        .await
        .unwrap();
    let run = w.run(&run.id).await;
    let m = &run.monitor;
    assert_eq!(m.incidents.len(), 1, "one incident: {:#?}", m.incidents);
    let i = &m.incidents[0];
    assert_eq!(i.record.severity, Severity::High);
    let also: Vec<&str> = i
        .decisions
        .iter()
        .filter(|d| d.decision == Decision::AlsoFailing)
        .map(|d| d.reason.as_str())
        .collect();
    assert_eq!(also.len(), 1, "{:#?}", i.decisions);
    let other = if i.record.series == Some(SeriesKey::new(Metric::HttpErrors, Some("api"))) {
        "http_errors of web"
    } else {
        "http_errors of api"
    };
    assert!(also[0].starts_with(other), "{also:?}");
    // Resolved only when neither app fails any more: after /b recovered at minute 30.
    let resolved = i
        .decisions
        .iter()
        .find(|d| d.decision == Decision::Resolved)
        .expect("resolved");
    assert!(resolved.at > at(30.0), "{} resolved too early", resolved.at);
    assert!(!i.open);
    // The decision timer still ran from the first decision (no escalation within 30 min of
    // a 20-minute incident).
    assert!(!i.decided(Decision::Escalated), "{:#?}", i.decisions);
}

#[tokio::test]
async fn the_severity_of_three_failing_samples_is_that_of_the_mildest() {
    // 30 % errors for two samples, then 50 % (half the probes still answer: the app is not
    // down): three failing samples, but only the last at the critical limit (50 points over a
    // clean baseline) — high, not critical; critical once three samples in a row are.
    let extra = format!("{GIT_REVERT}\n[monitor]\nduration = \"1h\"\n{SHADOW}");
    let w = World::with_repo(&extra, |_| {
        on_a(|t, n| {
            let share = if t >= 31.0 {
                5
            } else if t >= 30.0 {
                3
            } else {
                0
            };
            if n % 10 < share { 500 } else { 200 }
        })
    })
    .await;
    let run = w.live_run().await;
    let prompt = w.prompt(false);
    crate::watch::watcher::watch(&w.session, &run.id, &opts(), &prompt, &Seen::default())
        .await
        .unwrap();
    let run = w.run(&run.id).await;
    let i = &run.monitor.incidents[0];
    assert_eq!(
        i.record.series,
        Some(SeriesKey::new(Metric::HttpErrors, Some("api")))
    );
    assert!(i.record.summary.contains("50.0%"), "{}", i.record.summary);
    assert_eq!(i.record.severity, Severity::High, "{:#?}", i.record);
    // It goes on at 50 %: once three samples in a row are at the critical limit, the worse
    // failure is raised again, as critical (here a person is asked and says no).
    let incidents = &run.monitor.incidents;
    assert_eq!(incidents.len(), 2, "{incidents:#?}");
    let c = &incidents[1];
    assert_eq!(c.record.severity, Severity::Critical);
    assert_eq!(c.record.series, i.record.series);
    let after = c.raised_at.duration_since(at(31.0)).as_secs_f64();
    assert!(
        (60.0..=90.0).contains(&after),
        "critical {after}s after 50 % began"
    );
    assert!(run.rollbacks.is_empty());
}
