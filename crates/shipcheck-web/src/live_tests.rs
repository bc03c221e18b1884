//! The event streams' watchers: one per run however many viewers; PostgreSQL's announcements
//! reach a stream with polling turned off.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use futures_util::StreamExt;
use shipcheck_core::model::event::NoteKind;
use shipcheck_core::runs::{Session, StartOptions};
use shipcheck_core::store::{Store, StoreTarget};
use sqlx::{AssertSqlSafe, Connection, Executor};
use tower::ServiceExt;

use crate::tests::world;
use crate::{App, Options, router};

type Frames = axum::body::BodyDataStream;

async fn stream(app: &App, run: &str) -> Frames {
    let res = router(app.clone())
        .oneshot(
            Request::get(format!("/runs/{run}/events"))
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    res.into_body().into_data_stream()
}

/// The next `journal` notice's count, within 30 s (a bound, not a measurement; the stream's
/// keep-alive comments do not extend it).
async fn next_count(frames: &mut Frames) -> i64 {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let frame = tokio::time::timeout_at(deadline, frames.next())
            .await
            .expect("a notice within 30 s")
            .expect("the stream is open")
            .unwrap();
        let text = String::from_utf8_lossy(&frame).into_owned();
        if let Some(n) = text
            .lines()
            .find_map(|l| l.strip_prefix("data: "))
            .and_then(|n| n.trim().parse().ok())
        {
            return n;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_streams_on_one_run_share_one_watcher_which_ends_with_them() {
    let w = world(false).await;
    let n = w.session.store.events(&w.run).await.unwrap().len() as i64;
    let mut streams = Vec::new();
    for _ in 0..5 {
        let mut s = stream(&w.app, &w.run).await;
        assert_eq!(next_count(&mut s).await, n);
        streams.push(s);
    }
    assert_eq!(w.app.positions.watched(), 1);
    assert!(!w.app.positions.listening(), "SQLite announces nothing");
    let run = w.session.load(&w.run).await.unwrap();
    w.session
        .note(&run, NoteKind::General, "polled", "ben")
        .await
        .unwrap();
    for s in &mut streams {
        assert_eq!(next_count(s).await, n + 1);
    }
    drop(streams);
    for _ in 0..300 {
        if w.app.positions.watched() == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        w.app.positions.watched(),
        0,
        "the watcher ended with its last viewer"
    );
}

/// With PostgreSQL (`SHIPCHECK_TEST_DATABASE_URL`), in a schema of its own: polling set to an
/// hour, an append through another pool (another process) still reaches the stream, so it came
/// by `LISTEN`/`NOTIFY`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_postgres_an_append_by_another_process_is_announced_to_the_stream() {
    let url = match std::env::var("SHIPCHECK_TEST_DATABASE_URL") {
        Ok(u) if !u.trim().is_empty() => u,
        _ => {
            eprintln!("skipped: SHIPCHECK_TEST_DATABASE_URL not set");
            return;
        }
    };
    let mut admin = sqlx::PgConnection::connect(&url).await.unwrap();
    let schema = format!("scweb_{}", uuid::Uuid::now_v7().simple());
    admin
        .execute(AssertSqlSafe(format!("CREATE SCHEMA {schema}")))
        .await
        .unwrap();
    let sep = if url.contains('?') { '&' } else { '?' };
    let target = StoreTarget::Postgres(format!("{url}{sep}options[search_path]={schema}"));
    let outcome = tokio::spawn(async move {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("shipcheck.toml");
        let text = "[project]\nname = \"acme\"\n";
        let loaded = Arc::new(shipcheck_core::model::config::load_str(&path, text).unwrap());
        let clock = Arc::new(shipcheck_core::model::clock::SystemClock);
        let server = Session::new(
            Store::open(&target).await.unwrap(),
            loaded.clone(),
            clock.clone(),
        );
        let terminal = Session::new(Store::open(&target).await.unwrap(), loaded, clock);
        let run = terminal
            .start(&StartOptions {
                env: "production".into(),
                by: "ben".into(),
                ..Default::default()
            })
            .await
            .unwrap();
        let hour = Duration::from_secs(3600);
        let app = App::new(
            server,
            Options {
                tls: false,
                client_ip_header: None,
            },
        )
        .with_poll(hour, hour);
        let mut s = stream(&app, &run.id).await;
        let first = next_count(&mut s).await;
        for _ in 0..200 {
            if app.positions.listening() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert!(
            app.positions.listening(),
            "the server listens on PostgreSQL"
        );
        for n in 1..=3 {
            let now = terminal.load(&run.id).await.unwrap();
            terminal
                .note(
                    &now,
                    NoteKind::General,
                    &format!("from a terminal {n}"),
                    "ben",
                )
                .await
                .unwrap();
            assert_eq!(next_count(&mut s).await, first + n);
        }
    })
    .await;
    let _ = admin
        .execute(AssertSqlSafe(format!("DROP SCHEMA {schema} CASCADE")))
        .await;
    if let Err(e) = outcome {
        std::panic::resume_unwind(e.into_panic());
    }
}
