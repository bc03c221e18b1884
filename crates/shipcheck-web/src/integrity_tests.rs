//! The page says whether a run's journal verifies: intact, an event edited behind shipcheck's
//! back before the page first read it, one edited among the events the page reads next, a
//! deleted last event, and an old event edited after the page verified it (seen only at the
//! next whole verification), with the break kept once seen.

use std::time::Duration;

use axum::http::StatusCode;
use shipcheck_core::model::event::NoteKind;
use shipcheck_core::store::ChainReport;

use crate::tests::{World, get, send, world};

/// Runs `sql` on the world's SQLite file directly, as someone with write access to the store
/// would, binding the run id as `$1` and `seq` as `$2`.
async fn behind_shipchecks_back(w: &World, sql: &'static str, seq: i64) {
    use sqlx::{ConnectOptions, Connection};
    let mut conn = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(w._dir.path().join(".shipcheck/shipcheck.db"))
        .connect()
        .await
        .unwrap();
    let done = sqlx::query(sql)
        .bind(&w.run)
        .bind(seq)
        .execute(&mut conn)
        .await
        .unwrap();
    assert_eq!(done.rows_affected(), 1, "{sql}");
    conn.close().await.unwrap();
}

/// Edits event `seq`'s stored payload (still valid JSON: a space after it).
const EDIT: &str = "UPDATE events SET payload = payload || ' ' WHERE run_id = $1 AND seq = $2";
/// Undoes [`EDIT`].
const UNDO: &str = "UPDATE events SET payload = rtrim(payload) WHERE run_id = $1 AND seq = $2";

/// The run page as rendered now (not the live part cached for two seconds).
async fn page(w: &World) -> String {
    w.app.rendered.lock().await.clear();
    let (s, _, body) = send(&w.app, get(&format!("/runs/{}", w.run))).await;
    assert_eq!(s, StatusCode::OK, "{body}");
    body
}

async fn record(w: &World) -> String {
    let (s, _, body) = send(&w.app, get(&format!("/runs/{}/record", w.run))).await;
    assert_eq!(s, StatusCode::OK, "{body}");
    body
}

async fn note(w: &World, text: &str) {
    let run = w.session.load(&w.run).await.unwrap();
    w.session
        .note(&run, NoteKind::General, text, "bot")
        .await
        .unwrap();
}

/// How many events the run's journal holds now.
async fn count(w: &World) -> i64 {
    w.session.store.find_run(&w.run).await.unwrap().event_count
}

/// The page says the journal verifies with `n` events.
async fn verified(w: &World, n: i64) {
    let body = page(w).await;
    assert!(
        body.contains(&format!("Journal verified: {n} events chained")),
        "{body}"
    );
}

fn banner(body: &str) -> bool {
    body.contains(
        "class=\"integrity broken\" role=\"alert\">✗ This run&#39;s journal does not verify",
    )
}

#[tokio::test]
async fn an_intact_run_says_verified_with_its_head() {
    let w = world(false).await;
    let ChainReport::Intact { events, head } = w.session.store.verify_chain(&w.run).await.unwrap()
    else {
        panic!("the new run's journal verifies");
    };
    let body = page(&w).await;
    assert!(
        body.contains(&format!(
            "class=\"integrity verified\">✓ Journal verified: {events} events chained, head {}…",
            &head[..8]
        )),
        "{body}"
    );
    assert!(!banner(&body));
    let md = record(&w).await;
    assert!(
        md.starts_with(&format!("> ✓ Journal verified: {events} events chained")),
        "{md}"
    );
    let (_, _, list) = send(&w.app, get("/")).await;
    assert!(!list.contains("journal broken"), "{list}");
}

#[tokio::test]
async fn an_event_edited_before_the_page_read_it_shows_the_banner_the_record_and_the_marker() {
    let w = world(false).await;
    behind_shipchecks_back(&w, EDIT, 2).await;
    let body = page(&w).await;
    assert!(banner(&body), "{body}");
    assert!(
        body.contains(
            "event 2 — its stored content does not match its hash: it was changed after it was written"
        ),
        "{body}"
    );
    assert!(!body.contains("Journal verified"));
    let md = record(&w).await;
    assert!(
        md.starts_with("> **✗ This run's journal does not verify: event 2 — its stored content"),
        "{md}"
    );
    let (_, _, list) = send(&w.app, get("/")).await;
    assert!(list.contains("✗ journal broken"), "{list}");
}

#[tokio::test]
async fn an_edit_among_the_events_read_next_is_caught_without_reading_the_whole_journal() {
    let w = world(false).await;
    w.app.folded.lock().await.reverify = Duration::MAX;
    let n = count(&w).await;
    verified(&w, n).await;
    for i in 0..3 {
        note(&w, &format!("later {i}")).await;
    }
    let edited = n + 2;
    behind_shipchecks_back(&w, EDIT, edited).await;
    let body = page(&w).await;
    assert!(banner(&body), "{body}");
    assert!(
        body.contains(&format!("event {edited} — its stored content")),
        "{body}"
    );
    assert_eq!(
        w.app.folded.lock().await.full_reads,
        1,
        "only the new events were read"
    );
    // The break stays reported while the run goes on, even once the edit is undone.
    behind_shipchecks_back(&w, UNDO, edited).await;
    note(&w, "after the undo").await;
    let body = page(&w).await;
    assert!(
        banner(&body) && body.contains(&format!("event {edited} —")),
        "{body}"
    );
    assert!(body.contains("after the undo"));
}

#[tokio::test]
async fn a_deleted_last_event_is_caught_from_the_runs_row() {
    let w = world(false).await;
    w.app.folded.lock().await.reverify = Duration::MAX;
    let n = count(&w).await;
    verified(&w, n).await;
    note(&w, "to be deleted").await;
    let last = n + 1;
    behind_shipchecks_back(
        &w,
        "DELETE FROM events WHERE run_id = $1 AND seq = $2",
        last,
    )
    .await;
    let body = page(&w).await;
    assert!(banner(&body), "{body}");
    assert!(
        body.contains(&format!(
            "event {last} — event {last} is missing: the run recorded {last} events, {n} are stored"
        )),
        "{body}"
    );
    assert_eq!(w.app.folded.lock().await.full_reads, 1);
}

#[tokio::test]
async fn an_old_event_edited_after_it_was_verified_shows_at_the_next_whole_verification() {
    let w = world(false).await;
    w.app.folded.lock().await.reverify = Duration::MAX;
    let n = count(&w).await;
    verified(&w, n).await;
    behind_shipchecks_back(&w, EDIT, 1).await;
    // Reading only what follows cannot see it (docs/serve.md says so).
    let body = page(&w).await;
    assert!(
        body.contains(&format!("Journal verified: {n} events")),
        "{body}"
    );
    assert!(body.contains("the whole chain at "), "{body}");
    // The whole chain is verified again once `reverify` has passed (60 s in production).
    w.app.folded.lock().await.reverify = Duration::ZERO;
    let body = page(&w).await;
    assert!(banner(&body), "{body}");
    assert!(body.contains("event 1 — its stored content"), "{body}");
    assert_eq!(w.app.folded.lock().await.full_reads, 2);
    // Changed back: the journal verifies again, and the page still says what it saw.
    behind_shipchecks_back(&w, UNDO, 1).await;
    let body = page(&w).await;
    assert!(banner(&body) && body.contains("event 1 —"), "{body}");
    assert!(
        body.contains("The journal as stored verifies again as of"),
        "{body}"
    );
}

/// An event edited into something that is not an event cannot be folded: the run's page, its
/// live part and its record answer 500 with the banner naming the event, not a bare error.
#[tokio::test]
async fn an_event_edited_into_garbage_shows_the_banner_naming_it() {
    let w = world(false).await;
    behind_shipchecks_back(
        &w,
        "UPDATE events SET payload = substr(payload, 1, 12) WHERE run_id = $1 AND seq = $2",
        2,
    )
    .await;
    w.app.rendered.lock().await.clear();
    let (s, _, body) = send(&w.app, get(&format!("/runs/{}", w.run))).await;
    assert_eq!(s, StatusCode::INTERNAL_SERVER_ERROR, "{body}");
    assert!(
        body.contains(
            "class=\"integrity broken\" role=\"alert\">✗ This run's journal cannot be read"
        ) && body.contains("at event 2"),
        "{body}"
    );
    assert!(body.contains("<h1>Run "), "the page around it: {body}");
    let (s, _, body) = send(&w.app, get(&format!("/runs/{}/fragment", w.run))).await;
    assert_eq!(s, StatusCode::INTERNAL_SERVER_ERROR, "{body}");
    assert!(body.contains("cannot be read"), "{body}");
    let (s, _, body) = send(&w.app, get(&format!("/runs/{}/record", w.run))).await;
    assert_eq!(s, StatusCode::INTERNAL_SERVER_ERROR, "{body}");
    assert!(
        body.starts_with("> **✗ This run's journal cannot be read") && body.contains("event 2"),
        "{body}"
    );
}
