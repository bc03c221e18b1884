//! The sequential tests deciding a watch: effect sizes, the numbers an incident prints, and
//! shadow mode.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::incidents::{Decision, Severity};
use crate::model::watch::{Metric, SeriesKey};
use crate::runs::stream::WatchEvent;
use crate::watch::WatchOptions;
use crate::watch::tests::app::{Behaviour, Reply, Req};
use crate::watch::tests::scenarios::{GIT_REVERT, SHADOW};
use crate::watch::tests::world::{Seen, World, minutes};

/// `/a` fails one request in `every` from minute 30 on.
fn failing_from_30(every: usize) -> Behaviour {
    let n = Arc::new(AtomicUsize::new(0));
    Arc::new(move |r: &Req| {
        if r.path != "/a" {
            return Reply::ok();
        }
        let i = n.fetch_add(1, Ordering::SeqCst);
        if minutes(r.now) >= 30.0 && i.is_multiple_of(every) {
            Reply::status(500)
        } else {
            Reply::ok()
        }
    })
}

fn opts() -> WatchOptions {
    WatchOptions {
        by: "dee".into(),
        ..WatchOptions::default()
    }
}

#[tokio::test]
async fn a_third_of_requests_failing_is_critical_at_the_second_sample_with_its_numbers() {
    let extra = format!("{GIT_REVERT}\n[monitor]\nduration = \"1h\"\n");
    let w = World::with_repo(&extra, |_| failing_from_30(3)).await;
    let run = w.live_run().await;
    let prompt = w.prompt(false);
    crate::watch::watcher::watch(&w.session, &run.id, &opts(), &prompt, &Seen::default())
        .await
        .unwrap();
    let run = w.run(&run.id).await;
    let i = &run.monitor.incidents[0];
    assert_eq!(i.record.severity, Severity::Critical, "{:#?}", i.record);
    assert_eq!(
        i.record.series,
        Some(SeriesKey::new(Metric::HttpErrors, Some("api")))
    );
    let after = minutes(i.raised_at) - 30.0;
    assert!((0.0..=1.0).contains(&after), "raised {after} min after");
    let s = &i.record.summary;
    assert!(s.contains("failed probes above the baseline"), "{s}");
    assert!(s.contains("against a baseline of 1.0 %"), "{s}");
    assert!(s.contains("crossed its bound"), "{s}");
    let e = &i.record.evidence["sequential"];
    assert_eq!(e["test"], "binomial CUSUM");
    assert_eq!(e["samples"], 40, "two samples of 20 probes");
    let failed = e["failed"].as_u64().unwrap();
    assert!((12..=15).contains(&failed), "{failed}");
    // Critical: the policy asks to roll back at once (here a person says no).
    assert_eq!(prompt.asked.lock().unwrap().len(), 1);
    assert!(i.decided(Decision::AwaitingPerson));
}

#[tokio::test]
async fn four_percent_over_a_one_percent_floor_is_high_and_takes_longer() {
    let extra = format!("{GIT_REVERT}\n[monitor]\nduration = \"2h\"\n");
    let w = World::with_repo(&extra, |_| failing_from_30(25)).await;
    let run = w.live_run().await;
    let prompt = w.prompt(false);
    crate::watch::watcher::watch(&w.session, &run.id, &opts(), &prompt, &Seen::default())
        .await
        .unwrap();
    let run = w.run(&run.id).await;
    let i = &run.monitor.incidents[0];
    assert_eq!(i.record.severity, Severity::High, "{:#?}", i.record);
    let after = minutes(i.raised_at) - 30.0;
    assert!(
        after > 1.0,
        "a small effect needs more evidence: {after} min"
    );
    assert!(after < 60.0, "but is found: {after} min");
    assert!(i.decided(Decision::DecisionTimer));
    assert!(prompt.asked.lock().unwrap().is_empty() || i.decided(Decision::Escalated));
}

#[tokio::test]
async fn in_shadow_the_sequential_tests_are_reported_never_acted_on() {
    let extra = format!("{GIT_REVERT}\n[monitor]\nduration = \"1h\"\n{SHADOW}");
    let w = World::with_repo(&extra, |_| failing_from_30(3)).await;
    let run = w.live_run().await;
    let prompt = w.prompt(false);
    let seen = Seen::default();
    crate::watch::watcher::watch(&w.session, &run.id, &opts(), &prompt, &seen)
        .await
        .unwrap();
    let notes: Vec<String> = seen
        .0
        .lock()
        .unwrap()
        .iter()
        .filter_map(|e| match e {
            WatchEvent::Note(n) if n.starts_with("shadow") => Some(n.clone()),
            _ => None,
        })
        .collect();
    assert!(
        notes
            .iter()
            .any(|n| n.contains("critical, not acted on") && n.contains("binomial CUSUM")),
        "{notes:#?}"
    );
    // The N-consecutive-samples rule decided: high, after three samples.
    let run = w.run(&run.id).await;
    let i = &run.monitor.incidents[0];
    assert_eq!(i.record.severity, Severity::High, "{:#?}", i.record);
    assert!(i.record.evidence.get("sequential").is_none());
}

/// Minutes after the failure's onset that the first incident is raised; killed (a panic right
/// after it stores its first tick `kill_at` minutes after the onset; ticks every 5 minutes)
/// and resumed when `kill_at` is given.
async fn first_incident_after(kill_at: Option<f64>) -> (f64, usize) {
    use futures_util::FutureExt;
    let extra = format!("{GIT_REVERT}\n[monitor]\nduration = \"2h\"\ninterval = \"5m\"\n");
    let w = World::with_repo(&extra, |_| failing_from_30(25)).await;
    let run = w.live_run().await;
    let prompt = w.prompt(false);
    if let Some(at) = kill_at {
        let clock = w.clock.clone();
        let dying = w.session.clone().with_append_hook(Arc::new(move |e| {
            use crate::model::clock::Clock;
            use crate::model::event::Event;
            if matches!(e.event, Event::WatchTick { .. }) && minutes(clock.now()) - 30.0 >= at {
                panic!("killed {at} min after the onset");
            }
        }));
        let killed = std::panic::AssertUnwindSafe(crate::watch::watcher::watch(
            &dying,
            &run.id,
            &opts(),
            &prompt,
            &Seen::default(),
        ))
        .catch_unwind()
        .await;
        assert!(killed.is_err(), "the watch was killed");
        assert!(
            w.run(&run.id).await.monitor.incidents.is_empty(),
            "killed before the incident"
        );
    }
    crate::watch::watcher::watch(&w.session, &run.id, &opts(), &prompt, &Seen::default())
        .await
        .unwrap();
    let run = w.run(&run.id).await;
    let i = &run.monitor.incidents[0];
    (minutes(i.raised_at) - 30.0, run.monitor.incidents.len())
}

/// A watch killed while its evidence builds up resumes with every sample it journaled: the
/// small effect is found when the uninterrupted watch finds it. (A resumed watch used to start
/// its tests from nothing, so a kill threw its evidence away and the incident came late, or
/// not before a rollback decided by something else: the crash benchmark's criteria differed.)
#[tokio::test]
async fn a_killed_watch_resumes_with_the_evidence_it_journaled() {
    let (calm, calm_incidents) = first_incident_after(None).await;
    assert!(calm > 3.0, "a small effect needs evidence: {calm} min");
    let (killed, killed_incidents) = first_incident_after(Some(calm * 2.0 / 3.0)).await;
    assert!(
        (killed - calm).abs() <= 1.0,
        "raised {calm} min after the onset uninterrupted, {killed} min after a kill and resume"
    );
    assert_eq!(calm_incidents, killed_incidents);
}
