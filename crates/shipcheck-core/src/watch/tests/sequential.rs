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
