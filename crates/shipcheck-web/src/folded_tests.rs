//! The folded runs behind the live page: caught up from the events appended since, by another
//! store handle (as another process would append), equal to a full fold; folded in full again
//! when the journal does not follow on.

use axum::http::StatusCode;
use shipcheck_core::journal::state::RunState;
use shipcheck_core::model::event::NoteKind;
use shipcheck_core::runs::Session;
use shipcheck_core::store::{Store, StoreTarget};

use crate::tests::{get, send, world};

#[tokio::test]
async fn the_page_folds_only_what_was_appended_since() {
    let w = world(false).await;
    // No whole re-verification however slow this test runs.
    w.app.folded.lock().await.reverify = std::time::Duration::MAX;
    let page = format!("/runs/{}", w.run);
    let (s, _, _) = send(&w.app, get(&page)).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(w.app.folded.lock().await.full_reads, 1);

    // Another handle on the same database, with its own pool: another process's appends.
    let other = Store::open(&StoreTarget::Sqlite(
        w._dir.path().join(".shipcheck/shipcheck.db"),
    ))
    .await
    .unwrap();
    let writer = Session::new(other, w.session.loaded.clone(), w.session.clock.clone());
    for round in 0..12 {
        for n in 0..10 {
            let run = writer.load(&w.run).await.unwrap();
            writer
                .note(&run, NoteKind::General, &format!("note {round}-{n}"), "bot")
                .await
                .unwrap();
        }
        let (s, _, body) = send(&w.app, get(&page)).await;
        assert_eq!(s, StatusCode::OK);
        assert!(body.contains(&format!("note {round}-9")), "round {round}");
        let full = RunState::fold(&w.session.store.events(&w.run).await.unwrap()).unwrap();
        let folded = w.app.folded.lock().await;
        assert_eq!(folded.kept(&w.run), Some(&full), "round {round}");
        assert_eq!(
            folded.full_reads, 1,
            "round {round}: only the new events were read"
        );
    }

    // 121 notes: the page lists the newest 50 and sends the reader to the record for the rest.
    let (_, _, body) = send(&w.app, get(&page)).await;
    assert!(body.contains("The newest 50 of 121 notes"), "{body}");
    assert!(body.contains("note 11-9") && body.contains("note 7-1"));
    assert!(
        !body.contains("note 7-0<"),
        "older notes are not on the page"
    );
    let (_, _, record) = send(&w.app, get(&format!("/runs/{}/record", w.run))).await;
    assert!(record.contains("note 0-0"), "the record has every note");
}

#[tokio::test]
async fn a_journal_that_does_not_follow_on_is_folded_again_in_full() {
    let w = world(false).await;
    let page = format!("/runs/{}", w.run);
    send(&w.app, get(&page)).await;
    // What is kept claims a head the journal does not have (as if the database had been
    // replaced under the server by one with another history).
    let mut wrong = w.session.load(&w.run).await.unwrap();
    wrong.head_hash = "0".repeat(64);
    wrong.notes.clear();
    w.app.folded.lock().await.keep(wrong);
    let run = w.session.load(&w.run).await.unwrap();
    w.session
        .note(&run, NoteKind::General, "after the swap", "bot")
        .await
        .unwrap();
    let (s, _, body) = send(&w.app, get(&page)).await;
    assert_eq!(s, StatusCode::OK);
    assert!(body.contains("after the swap"));
    let full = RunState::fold(&w.session.store.events(&w.run).await.unwrap()).unwrap();
    let folded = w.app.folded.lock().await;
    assert_eq!(folded.full_reads, 2);
    assert_eq!(folded.kept(&w.run), Some(&full));
    drop(folded);

    // A count behind what was kept (a restored backup) is folded in full too.
    let mut ahead = full.clone();
    ahead.event_count += 5;
    w.app.folded.lock().await.keep(ahead);
    // (The rendered part at that count may be served for two seconds: start without it.)
    w.app.rendered.lock().await.clear();
    let (_, _, body) = send(&w.app, get(&format!("/runs/{}/fragment", w.run))).await;
    assert!(body.contains("after the swap"));
    let folded = w.app.folded.lock().await;
    assert_eq!(folded.full_reads, 3);
    assert_eq!(folded.kept(&w.run), Some(&full));
}
