//! Delivery from the journal against a loopback sink: recorded after each answer, never
//! twice once delivered, bounded and resting when the sink fails, given up after
//! `MAX_FAILURES`, and never an error for the step that called it.

use std::sync::Arc;
use std::time::{Duration, Instant};

use shipcheck_testkit::http::{Reply, Server, Silent};

use super::*;
use crate::model::clock::ManualClock;
use crate::runs::StartOptions;
use crate::store::{Store, StoreTarget};

async fn session(dir: &std::path::Path, sink: &str, clock: &ManualClock) -> Session {
    let path = dir.join("shipcheck.toml");
    let text =
        format!("[project]\nname = \"acme\"\n\n[events]\nsink = \"{sink}\"\ntimeout = \"300ms\"\n");
    std::fs::write(&path, &text).unwrap();
    let loaded = crate::model::config::load_str(&path, &text).unwrap();
    let store = Store::open(&StoreTarget::Sqlite(dir.join(".shipcheck/shipcheck.db")))
        .await
        .unwrap();
    Session::new(store, Arc::new(loaded), Arc::new(clock.clone()))
}

fn clock() -> ManualClock {
    ManualClock::new("2026-08-21T09:00:00Z".parse().unwrap())
}

async fn start(s: &Session) -> RunState {
    s.start(&StartOptions {
        env: "production".into(),
        by: "ann".into(),
        ..Default::default()
    })
    .await
    .unwrap()
}

fn kinds(events: &[crate::model::event::StoredEvent]) -> Vec<&'static str> {
    events
        .iter()
        .map(|e| e.event.type_name())
        .filter(|k| k.starts_with("cdevent"))
        .collect()
}

#[tokio::test]
async fn delivered_once_and_recorded() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(|_| Reply::new(202, ""));
    let c = clock();
    let s = session(dir.path(), &server.url("/in"), &c).await;
    let run = start(&s).await;
    let after = sync(&s, &run.id).await.unwrap();
    assert_eq!(
        after.cdevents.delivered,
        [format!("{}/pipelinerun.started", run.id)]
    );
    assert_eq!(server.requests(), 1);
    // Nothing more to send: nothing sent.
    sync(&s, &run.id).await.unwrap();
    assert_eq!(server.requests(), 1);
    let o = outbox(&s, &run.id).await.unwrap().unwrap();
    assert_eq!(o.events.len(), 1);
    assert!(o.pending.is_empty() && o.given_up.is_empty());
    let body: serde_json::Value = serde_json::from_slice(&server.seen()[0].body).unwrap();
    assert_eq!(
        body, o.events[0].body,
        "what was sent is what the journal derives"
    );
}

#[tokio::test]
async fn a_failing_sink_rests_then_is_given_up_and_never_fails_the_caller() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(|_| Reply::json(500, "{\"message\":\"down\"}"));
    let c = clock();
    let s = session(dir.path(), &server.url("/in"), &c).await;
    let run = start(&s).await;
    let id = format!("{}/pipelinerun.started", run.id);
    for round in 1..=MAX_FAILURES {
        let after = sync(&s, &run.id).await.expect("never an error");
        assert_eq!(after.cdevents.failures_of(&id), round);
        assert_eq!(server.requests(), round * 3, "three tries per send");
        // Resting: an immediate sync sends nothing.
        sync(&s, &run.id).await.unwrap();
        assert_eq!(server.requests(), round * 3);
        c.advance(REST + Duration::from_secs(1));
    }
    // Given up: not sent again, and the record says so.
    sync(&s, &run.id).await.unwrap();
    assert_eq!(server.requests(), MAX_FAILURES * 3);
    let o = outbox(&s, &run.id).await.unwrap().unwrap();
    assert_eq!(o.given_up.len(), 1);
    assert!(o.given_up[0].1.contains("HTTP 500"), "{:?}", o.given_up);
    let events = s.store.events(&run.id).await.unwrap();
    assert_eq!(kinds(&events), ["cdevent_failed"; MAX_FAILURES]);
    let markers = crate::report::markers::markers(&s.load(&run.id).await.unwrap());
    assert!(
        markers
            .iter()
            .any(|m| m.service == "cdevents" && m.outcome.contains("given up")),
        "{markers:?}"
    );
}

#[tokio::test]
async fn a_hanging_sink_costs_one_bounded_send_per_rest() {
    let dir = tempfile::tempdir().unwrap();
    let silent = Silent::start();
    let c = clock();
    let s = session(dir.path(), &silent.url("/in"), &c).await;
    let run = start(&s).await;
    // A second event waits behind the first: the sync stops at the first failure.
    s.abort(&run, "tests red", "ann").await.unwrap();
    let t = Instant::now();
    let after = sync(&s, &run.id).await.unwrap();
    assert!(t.elapsed() < Duration::from_secs(3), "{:?}", t.elapsed());
    assert_eq!(after.cdevents.failures.len(), 1);
    let o = outbox(&s, &run.id).await.unwrap().unwrap();
    assert_eq!(o.pending.len(), 2, "both still to send");
}

#[tokio::test]
async fn a_missing_token_is_a_recorded_failure() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("shipcheck.toml");
    let text = "[project]\nname = \"acme\"\n\n[events]\nsink = \"http://127.0.0.1:9/in\"\ntoken_env = \"SHIPCHECK_TEST_CDEVENTS_UNSET_TOKEN\"\n";
    std::fs::write(&path, text).unwrap();
    let loaded = crate::model::config::load_str(&path, text).unwrap();
    let store = Store::open(&StoreTarget::Sqlite(dir.path().join("s.db")))
        .await
        .unwrap();
    let s = Session::new(store, Arc::new(loaded), Arc::new(clock()));
    let run = start(&s).await;
    let after = sync(&s, &run.id).await.unwrap();
    let errors: Vec<&String> = after.cdevents.failures.values().flatten().collect();
    assert_eq!(errors.len(), 1);
    assert!(
        errors[0].contains("SHIPCHECK_TEST_CDEVENTS_UNSET_TOKEN"),
        "{errors:?}"
    );
}

#[tokio::test]
async fn a_person_sends_what_was_given_up_or_resting_once_the_sink_is_back() {
    let dir = tempfile::tempdir().unwrap();
    let up = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let flag = up.clone();
    let server = Server::start(move |_| {
        if flag.load(std::sync::atomic::Ordering::SeqCst) {
            Reply::new(202, "")
        } else {
            Reply::json(503, "{\"message\":\"down\"}")
        }
    });
    let c = clock();
    let s = session(dir.path(), &server.url("/in"), &c).await;
    let run = start(&s).await;
    let id = format!("{}/pipelinerun.started", run.id);
    for _ in 0..MAX_FAILURES {
        sync(&s, &run.id).await.unwrap();
        c.advance(REST + Duration::from_secs(1));
    }
    // Given up: the walk's sync leaves it; asked while the sink is still down, one more
    // failure is recorded and nothing is lost.
    let after = send_owed(&s, &run.id).await.unwrap();
    assert_eq!(after.cdevents.failures_of(&id), MAX_FAILURES + 1);
    assert!(!after.cdevents.is_delivered(&id));
    // The sink is back: asked right after a failure (no rest), it is delivered, once.
    up.store(true, std::sync::atomic::Ordering::SeqCst);
    sync(&s, &run.id).await.unwrap();
    assert!(!s.load(&run.id).await.unwrap().cdevents.is_delivered(&id));
    let after = send_owed(&s, &run.id).await.unwrap();
    assert!(after.cdevents.is_delivered(&id));
    let sent = server.requests();
    send_owed(&s, &run.id).await.unwrap();
    assert_eq!(server.requests(), sent, "nothing owed: nothing sent");
    let o = outbox(&s, &run.id).await.unwrap().unwrap();
    assert!(o.pending.is_empty() && o.given_up.is_empty(), "{o:?}");
}
