//! `Session::refresh`: a kept run caught up with what any process appended since, equal to a
//! fresh read; read whole again when what was kept does not chain on.

use std::sync::Arc;

use crate::model::event::NoteKind;
use crate::runs::{Session, StartOptions};
use crate::store::{Store, StoreTarget};

async fn session(dir: &std::path::Path) -> Session {
    let path = dir.join("shipcheck.toml");
    let text = "[project]\nname = \"acme\"\n";
    if !path.exists() {
        std::fs::write(&path, text).unwrap();
    }
    let loaded = crate::model::config::load_str(&path, text).unwrap();
    let store = Store::open(&StoreTarget::Sqlite(dir.join(".shipcheck/shipcheck.db")))
        .await
        .unwrap();
    let clock = crate::model::clock::ManualClock::new("2026-08-21T09:00:00Z".parse().unwrap());
    Session::new(store, Arc::new(loaded), Arc::new(clock))
}

#[tokio::test]
async fn a_kept_run_catches_up_with_another_process_and_equals_a_fresh_read() {
    let dir = tempfile::tempdir().unwrap();
    let mine = session(dir.path()).await;
    let other = session(dir.path()).await;
    let start = StartOptions {
        env: "production".into(),
        by: "ann".into(),
        ..Default::default()
    };
    let mut kept = mine.start(&start).await.unwrap();
    let before = kept.event_count;
    // Another process appends two notes.
    let run = other.load(&kept.id).await.unwrap();
    let run = other
        .note(&run, NoteKind::General, "first", "bo")
        .await
        .unwrap();
    other
        .note(&run, NoteKind::General, "second", "bo")
        .await
        .unwrap();
    mine.refresh(&mut kept).await.unwrap();
    assert_eq!(kept.event_count, before + 2);
    assert_eq!(kept, mine.load(&kept.id).await.unwrap());
    // Nothing new: unchanged.
    let same = kept.clone();
    mine.refresh(&mut kept).await.unwrap();
    assert_eq!(kept, same);
}

#[tokio::test]
async fn a_kept_run_that_does_not_chain_on_is_read_whole_again() {
    let dir = tempfile::tempdir().unwrap();
    let s = session(dir.path()).await;
    let start = StartOptions {
        env: "production".into(),
        by: "ann".into(),
        ..Default::default()
    };
    let run = s.start(&start).await.unwrap();
    // What was kept is not what the store holds (a restored database, another journal).
    let mut kept = run.clone();
    kept.head_hash = "f".repeat(64);
    s.note(&run, NoteKind::General, "after", "ann")
        .await
        .unwrap();
    s.refresh(&mut kept).await.unwrap();
    assert_eq!(kept, s.load(&run.id).await.unwrap());
    assert_ne!(kept.head_hash, "f".repeat(64));
}
