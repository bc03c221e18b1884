//! A phase's independent checks run concurrently end to end: an HTTP probe, a subprocess and
//! an API-like HTTP check (JSON pointer) through the real engine and the real checks.
//!
//! Proof without any wall-time threshold: a barrier. The two HTTP endpoints do not answer,
//! and the subprocess does not exit, until all three have started; run one after another,
//! the first would wait for the others forever (until its timeout, an error). The recorded
//! instants then show every check started before any finished.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use shipcheck_testkit::http::{Reply, Server};
use tokio::sync::watch;
use tokio::time::Instant;

use crate::engine::runner::*;
use crate::model::checklist::{Checklist, CommandCheck, HttpCheck, ItemKind, Phase, StatusSpec};
use crate::model::clock::ManualClock;
use crate::model::config::Config;
use crate::model::duration::Span;
use crate::model::outcome::Status;

type Log = Arc<Mutex<Vec<(String, Instant)>>>;

/// Answers once `go` is true; records each request's path and arrival. The server lives as
/// long as what it returns.
fn barrier_server(arrived: Log, go: watch::Receiver<bool>) -> Server {
    Server::start_async(move |req| {
        let (arrived, mut go) = (arrived.clone(), go.clone());
        async move {
            arrived.lock().unwrap().push((req.path, Instant::now()));
            let _ = go.wait_for(|g| *g).await;
            Reply::json(200, r#"{"status":"ok"}"#)
        }
    })
}

fn item(id: &str, check: CheckSpec) -> Item {
    Item {
        id: id.into(),
        phase: Phase::Preflight,
        section: None,
        title: id.into(),
        kind: ItemKind::Check,
        required: true,
        when: None,
        check: Some(check),
        action: None,
        timeout: Some(Span::secs(30)),
        manual_because: None,
        note_required: false,
        other_than_deployer: false,
        help: None,
    }
}

fn http(url: String, pointer: Option<&str>) -> CheckSpec {
    CheckSpec::Http(HttpCheck {
        url,
        method: "GET".into(),
        expect_status: StatusSpec::One(200),
        timeout: Some(Span::secs(20)),
        retries: Some(0),
        backoff: None,
        body_contains: None,
        json_pointer: pointer.map(str::to_string),
        json_equals: pointer.map(|_| serde_json::json!("ok")),
        headers: Default::default(),
    })
}

struct Recorder(Log);

impl Observer for Recorder {
    fn on_event(&self, event: EngineEvent<'_>) {
        let (what, id) = match event {
            EngineEvent::Started { item } => ("start", &item.id),
            EngineEvent::Finished { item, .. } => ("end", &item.id),
            EngineEvent::Progress { .. } => return,
        };
        self.0
            .lock()
            .unwrap()
            .push((format!("{what} {id}"), Instant::now()));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_subprocess_and_api_checks_of_a_phase_overlap() {
    let dir = tempfile::tempdir().unwrap();
    let arrived: Log = Arc::default();
    let (go_tx, go_rx) = watch::channel(false);
    let server = barrier_server(arrived.clone(), go_rx);
    let port = server.port();

    // The barrier: once both requests arrived and the subprocess touched its file, go.
    let (a, d) = (arrived.clone(), dir.path().to_path_buf());
    let barrier = tokio::spawn(async move {
        for _ in 0..4000 {
            let cmd_started = d.join("arrived").exists();
            if cmd_started && !a.lock().unwrap().iter().any(|(p, _)| p == "subprocess") {
                a.lock()
                    .unwrap()
                    .push(("subprocess".into(), Instant::now()));
            }
            if a.lock().unwrap().len() >= 3 {
                let _ = std::fs::write(d.join("go"), "");
                let _ = go_tx.send(true);
                return true;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        false
    });

    let items = vec![
        item(
            "preflight.http",
            http(format!("http://127.0.0.1:{port}/health"), None),
        ),
        item(
            "preflight.subprocess",
            CheckSpec::Command(CommandCheck {
                argv: vec![
                    "sh".into(),
                    "-c".into(),
                    "touch arrived; i=0; while [ ! -e go ] && [ $i -lt 2000 ]; do sleep 0.01; i=$((i+1)); done; test -e go"
                        .into(),
                ],
                shell: None,
                dir: None,
                timeout: Some(Span::secs(25)),
                env: Default::default(),
            }),
        ),
        item(
            "preflight.api",
            http(format!("http://127.0.0.1:{port}/api/status"), Some("/status")),
        ),
    ];
    let mut config = Config::default();
    config.engine.concurrency = 16;
    let clients = crate::clients::Clients::new(
        Arc::new(config),
        dir.path().to_path_buf(),
        Arc::new(ManualClock::new("2026-11-24T10:00:00Z".parse().unwrap())),
    );
    let ctx = Deps::new(clients, Arc::new(Checklist::default()));
    let events: Log = Arc::default();
    let results = run_checks(&items, &ctx, &Recorder(events.clone())).await;
    assert!(barrier.await.unwrap(), "the three checks never all started");
    for (id, o) in &results {
        assert_eq!(o.status, Status::Pass, "{id}: {}", o.summary);
    }

    // The work itself overlapped: all three had started before the barrier opened.
    let arrived = arrived.lock().unwrap().clone();
    let names: Vec<&str> = arrived.iter().map(|(p, _)| p.as_str()).collect();
    for n in ["/health", "/api/status", "subprocess"] {
        assert!(names.contains(&n), "{names:?}");
    }
    // And the engine's own record: every check started before any finished.
    let events = events.lock().unwrap().clone();
    let last_start = events
        .iter()
        .filter(|(e, _)| e.starts_with("start"))
        .map(|(_, t)| *t)
        .max()
        .unwrap();
    let first_end = events
        .iter()
        .filter(|(e, _)| e.starts_with("end"))
        .map(|(_, t)| *t)
        .min()
        .unwrap();
    assert_eq!(events.len(), 6, "{events:?}");
    assert!(last_start < first_end, "{events:?}");
    let latest_arrival = arrived.iter().map(|(_, t)| *t).max().unwrap();
    assert!(latest_arrival < first_end, "{arrived:?} {events:?}");
}
