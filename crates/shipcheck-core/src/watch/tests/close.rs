//! The walk's part (baseline in preflight, the first five minutes in verify), a watch killed
//! mid-way and resumed, the review invitation, and the success criteria of a clean run.

use std::sync::Arc;
use std::time::Duration;

use crate::actions::ics;
use crate::engine::StepOptions;
use crate::journal::state::ItemState;
use crate::model::checklist::{ActionSpec, MonitorCheck, Phase};
use crate::model::clock::Clock;
use crate::model::event::Event;
use crate::model::outcome::Status;
use crate::model::watch::Outcome;
use crate::model::watch::{Metric, SeriesKey};
use crate::report::criteria::{self, Met};
use crate::runs::StartOptions;
use crate::runs::stream::NoConfirm;
use crate::runs::stream::WatchEvent;
use crate::runs::stream::{EngineEvent, Observer};
use crate::watch::WatchOptions;
use crate::watch::tests::app::{Reply, Req};
use crate::watch::tests::world::{Seen, World};

fn healthy() -> crate::watch::tests::app::Behaviour {
    Arc::new(|_: &Req| Reply::ok())
}

#[tokio::test]
async fn preflight_measures_the_baseline_before_the_merge() {
    let w = World::new("[monitor]\nbaseline_probes = 4\n", healthy()).await;
    let s = &w.session;
    let run = s
        .start(&StartOptions {
            env: "production".into(),
            by: "dee".into(),
            ..StartOptions::default()
        })
        .await
        .unwrap();
    s.append(
        &run.id,
        Event::PhaseCompleted {
            phase: Phase::Prepare,
        },
    )
    .await
    .unwrap();
    let seen = Seen::default();
    let opts = StepOptions {
        by: "dee".into(),
        ..StepOptions::default()
    };
    crate::engine::walk::step(s, &run.id, &opts, &NoConfirm, &seen)
        .await
        .unwrap();
    let run = w.run(&run.id).await;
    let b = run.monitor.baseline.as_ref().expect("a baseline");
    assert_eq!(b.probes, 4);
    for app in ["api", "web"] {
        let lat = b.get(&SeriesKey::new(Metric::Latency, Some(app))).unwrap();
        assert_eq!(lat.samples, 4);
        assert!(lat.p50.is_some() && lat.p95.is_some());
        assert_eq!(
            b.value(&SeriesKey::new(Metric::HttpErrors, Some(app))),
            Some(0.0)
        );
    }
    assert_eq!(w.app.hits(), 8);
    // Measured once: the next step does not measure crate::engine::walk::step(&again.s, &run.id, &opts, &NoConfirm, &seen).await.unwrap();
    assert_eq!(w.app.hits(), 8);
}

#[tokio::test]
async fn verify_waits_out_the_first_five_minutes_then_compares_response_times() {
    let w = World::new("", healthy()).await;
    let run = w.live_run().await;
    let live = run.monitor.release_live_at.unwrap();
    let seen = Seen::default();
    let opts = StepOptions {
        by: "dee".into(),
        ..StepOptions::default()
    };
    crate::engine::walk::step(&w.session, &run.id, &opts, &NoConfirm, &seen)
        .await
        .unwrap();
    assert!(w.clock.now() >= crate::model::clock::add(live, Duration::from_secs(300)));
    assert!(seen.waits() >= 2, "live progress while waiting");
    let run = w.run(&run.id).await;
    let rt = run.record("verify.response-times").unwrap();
    assert_eq!(rt.state, ItemState::Pass, "{:?}", rt.summary);
    assert!(
        rt.summary.as_deref().unwrap().contains("api p95"),
        "{:?}",
        rt.summary
    );
    assert_eq!(
        run.record("verify.health-200").unwrap().state,
        ItemState::Pass
    );
}

/// Stops the watch (drops it, as a killed process would) after its third tick.
struct KillAfter(tokio::sync::Notify, u32);

impl Observer for KillAfter {
    fn on_event(&self, _e: EngineEvent<'_>) {}
    fn on_watch(&self, e: &WatchEvent) {
        if let WatchEvent::Tick(t) = e
            && t.n == self.1
        {
            self.0.notify_one();
        }
    }
}

#[tokio::test]
async fn a_killed_watch_resumes_and_runs_missed_ticks_once() {
    let w = World::new("", healthy()).await;
    let run = w.live_run().await;
    let kill = KillAfter(tokio::sync::Notify::new(), 3);
    let opts = WatchOptions {
        by: "dee".into(),
        ..WatchOptions::default()
    };
    tokio::select! {
        r = crate::watch::watcher::watch(&w.session, &run.id, &opts, &NoConfirm, &kill) => panic!("the watch ended: {r:?}"),
        _ = kill.0.notified() => {}
    }
    let ticks = |run: &crate::journal::state::RunState| -> Vec<(u32, u32)> {
        run.monitor.legs[0]
            .ticks
            .iter()
            .map(|t| (t.n, t.missed))
            .collect()
    };
    let before = w.run(&run.id).await;
    assert_eq!(ticks(&before), [(1, 0), (2, 0), (3, 0)]);
    assert!(
        before.monitor.legs[0].outcome.is_none(),
        "still running as far as the journal knows"
    );
    // The process stays dead for 40 minutes: ticks 4 and 5 are missed.
    w.clock.advance(Duration::from_secs(40 * 60));
    let report =
        crate::watch::watcher::watch(&w.session, &run.id, &opts, &NoConfirm, &Seen::default())
            .await
            .unwrap();
    let after = w.run(&run.id).await;
    assert_eq!(
        ticks(&after),
        [(1, 0), (2, 0), (3, 0), (5, 1), (6, 0), (7, 0), (8, 0)],
        "the missed ticks run once, as one"
    );
    assert_eq!(report.ticks_recorded, 4);
    assert_eq!(after.monitor.legs.len(), 1);
    assert_eq!(after.monitor.legs[0].outcome, Some(Outcome::Pass));
    // A tick the journal already has cannot be appended again.
    let dup = w
        .session
        .append(
            &run.id,
            Event::WatchTick {
                tick: after.monitor.legs[0].ticks[0].clone(),
            },
        )
        .await;
    assert!(dup.is_err());
}

#[tokio::test]
async fn the_review_invitation_is_valid_icalendar_for_the_next_working_day() {
    let w = World::new("", healthy()).await;
    let run = w.live_run().await;
    let perform = |run: &crate::journal::state::RunState| {
        let actx = crate::actions::ActionContext::new(w.session.clients(), Some(run), "dee");
        async move {
            crate::actions::perform(&ActionSpec::MonitorReview(MonitorCheck {}), &actx)
                .await
                .unwrap()
        }
    };
    let done = perform(&run).await;
    let path = done.evidence["path"].as_str().unwrap().to_string();
    assert!(path.contains(".shipcheck/review-"), "{path}");
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(
        !text.replace("\r\n", "").contains('\n'),
        "every line ends in CRLF"
    );
    let props = ics::parse(&text).unwrap();
    let get =
        |name: &str| -> Vec<&ics::Property> { props.iter().filter(|p| p.name == name).collect() };
    let one = |name: &str| get(name)[0].value.clone();
    assert_eq!(one("BEGIN"), "VCALENDAR");
    assert_eq!(one("VERSION"), "2.0");
    assert!(one("PRODID").contains("shipcheck"));
    assert_eq!(one("UID"), format!("{}-review@shipcheck", run.id));
    assert!(
        one("DTSTAMP").starts_with("20261125T11"),
        "{}",
        one("DTSTAMP")
    );
    // Wednesday 2026-11-25 → Thursday 10:00 in Berlin (CET, UTC+1) = 09:00 UTC.
    assert_eq!(one("DTSTART"), "20261126T090000Z");
    assert_eq!(one("DTEND"), "20261126T100000Z");
    assert!(one("DESCRIPTION").contains(&run.id));
    assert!(
        one("DESCRIPTION").contains("Cy (on_call)"),
        "{}",
        one("DESCRIPTION")
    );
    assert!(
        text.lines().any(|l| l.starts_with(' ')),
        "the description is folded"
    );
    let attendees: Vec<String> = get("ATTENDEE").iter().map(|p| p.value.clone()).collect();
    // [contacts] in key order: devops, on_call (no address: named in the text only), team_lead.
    assert_eq!(
        attendees,
        ["mailto:ben@example.com", "mailto:ana@example.com"]
    );
    assert!(
        get("ATTENDEE")[1]
            .params
            .contains(&"CN=Ana Lima".to_string())
    );
    assert_eq!(one("ORGANIZER"), "mailto:ana@example.com");
    assert_eq!(props.last().unwrap().value, "VCALENDAR");
    assert!(
        done.summary.contains("Thu 2026-11-26 10:00 CET"),
        "{}",
        done.summary
    );
    // On a Friday the review is on Monday.
    w.clock.advance(Duration::from_secs(2 * 86400));
    let text =
        std::fs::read_to_string(perform(&run).await.evidence["path"].as_str().unwrap()).unwrap();
    let props = ics::parse(&text).unwrap();
    let start = props.iter().find(|p| p.name == "DTSTART").unwrap();
    assert_eq!(start.value, "20261130T090000Z");
}

#[tokio::test]
async fn the_success_criteria_reflect_a_clean_run() {
    let w = World::new(
        "[monitor]\ninterval = \"10m\"\nduration = \"20m\"\n",
        healthy(),
    )
    .await;
    let run = w.live_run().await;
    let s = &w.session;
    for item in [
        "prepare.staging-health",
        "verify.health-200",
        "verify.response-times",
    ] {
        s.append(
            &run.id,
            Event::CheckFinished {
                item: item.into(),
                status: Status::Pass,
                summary: "ok".into(),
                evidence: serde_json::Value::Null,
                duration_ms: 1,
                facts: Vec::new(),
            },
        )
        .await
        .unwrap();
    }
    let before = criteria::evaluate(&w.run(&run.id).await);
    assert_eq!(before[0].met, Met::Met);
    assert_eq!(
        before[4].met,
        Met::Unknown,
        "not watched yet: {}",
        before[4].because
    );
    crate::watch::watcher::watch(
        s,
        &run.id,
        &WatchOptions::default(),
        &NoConfirm,
        &Seen::default(),
    )
    .await
    .unwrap();
    s.append(
        &run.id,
        Event::PhaseCompleted {
            phase: Phase::Verify,
        },
    )
    .await
    .unwrap();
    s.append(
        &run.id,
        Event::PhaseCompleted {
            phase: Phase::Watch,
        },
    )
    .await
    .unwrap();
    let run = w.run(&run.id).await;
    let c = criteria::evaluate(&run);
    assert_eq!(c[0].met, Met::Met, "{}", c[0].because);
    assert!(
        c[0].because.contains("watch: health endpoints"),
        "{}",
        c[0].because
    );
    // Error rates: the watch passed, but Sentry's rate is not measured: not met yet.
    assert_eq!(c[1].met, Met::Unknown, "{}", c[1].because);
    assert_eq!(c[2].met, Met::Met, "{}", c[2].because);
    assert_eq!(c[4].met, Met::Met, "{}", c[4].because);
    assert_eq!(c[5].met, Met::Unknown);
    // Close: the final evaluation passes, nothing critical is open.
    let ctx = crate::watch::WatchContext::of(s, Some(&run));
    let fin = crate::watch::items::final_check(&ctx).await;
    assert_eq!(fin.status, Status::Pass, "{}", fin.summary);
    assert_eq!(
        crate::watch::items::no_critical(&ctx).await.status,
        Status::Pass
    );
}

#[tokio::test]
async fn a_run_goes_from_verify_through_the_watch_to_close_on_a_simulated_clock() {
    let w = World::new("", healthy()).await;
    let run = w.live_run().await;
    let live = run.monitor.release_live_at.unwrap();
    let s = &w.session;
    // What a person confirms (manual items, and items whose integration is not configured).
    for phase in [Phase::Verify, Phase::Watch, Phase::Close] {
        let people: Vec<String> = run
            .phase_items(phase)
            .filter(|r| r.item.is_ticked_by_person())
            .map(|r| r.item.id.clone())
            .collect();
        for id in people {
            let run = w.run(&run.id).await;
            s.tick(&run, &id, "dee", Some("checked".into()))
                .await
                .unwrap();
        }
    }
    let opts = StepOptions {
        by: "dee".into(),
        ..StepOptions::default()
    };
    let seen = Seen::default();
    let mut steps = 0;
    while w.run(&run.id).await.status == crate::journal::state::RunStatus::Active && steps < 10 {
        let r = crate::engine::walk::step(s, &run.id, &opts, &NoConfirm, &seen)
            .await
            .unwrap();
        assert!(r.advanced, "{:#?}", r.needs);
        steps += 1;
    }
    let run = w.run(&run.id).await;
    assert_eq!(run.status, crate::journal::state::RunStatus::Completed);
    assert_eq!(steps, 3, "verify, watch, close");
    let elapsed = w.clock.now().duration_since(live).as_secs();
    assert!(
        elapsed >= 5 * 60 + 2 * 3600,
        "{elapsed}s: the first minutes and the 2-hour watch"
    );
    assert_eq!(run.monitor.legs[0].ticks.len(), 8);
    for id in [
        "verify.response-times",
        "watch.error-rates",
        "watch.metrics",
        "close.final-check",
        "close.no-critical",
    ] {
        assert_eq!(run.record(id).unwrap().state, ItemState::Pass, "{id}");
    }
    let review = run.record("close.review-scheduled").unwrap();
    assert_eq!(review.state, ItemState::Done);
    assert!(std::path::Path::new(review.evidence["path"].as_str().unwrap()).is_file());
    assert_eq!(
        crate::journal::watch::verdict(&run).verdict,
        crate::journal::watch::VerdictKind::Success
    );
    let run = s.sign(&run, "dee").await.unwrap();
    let c = criteria::evaluate(&run);
    assert_eq!(c[4].met, Met::Met, "{}", c[4].because);
    assert_eq!(c[5].met, Met::Met, "{}", c[5].because);
}

#[tokio::test]
async fn response_times_fail_only_when_slow_probes_are_sustained() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let a = Arc::new(AtomicUsize::new(0));
    let counter = a.clone();
    let w = World::new(
        "",
        Arc::new(move |r: &Req| {
            if r.path != "/a" {
                return Reply::ok();
            }
            match counter.fetch_add(1, Ordering::SeqCst) {
                // The baseline takes probes 0–9; the first check 10–19, the second 20–29.
                14 => Reply::slow(150),
                20.. => Reply::slow(150),
                _ => Reply::ok(),
            }
        }),
    )
    .await;
    let run = w.live_run().await;
    assert_eq!(a.load(Ordering::SeqCst), 10);
    let ctx = crate::watch::WatchContext::of(&w.session, Some(&run));
    let once = crate::watch::items::response_times(&ctx).await;
    assert_eq!(once.status, Status::Pass, "{}", once.summary);
    assert!(once.summary.contains("not sustained"), "{}", once.summary);
    let always = crate::watch::items::response_times(&ctx).await;
    assert_eq!(always.status, Status::Fail, "{}", always.summary);
    assert!(always.summary.contains("api p95"), "{}", always.summary);
}
