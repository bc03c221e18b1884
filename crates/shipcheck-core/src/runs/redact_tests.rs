//! Nothing stored carries a secret: every event is redacted on its way to the journal.

use std::sync::Arc;

use crate::model::event::{Event, NoteKind};
use crate::runs::{Session, StartOptions};
use crate::store::{Store, StoreTarget};

const TOKEN: &str = "ghp_StoredNoteTokenAAAABBBBCCCCDDDD9876";

async fn session(dir: &std::path::Path) -> Session {
    let path = dir.join("shipcheck.toml");
    let text = "[project]\nname = \"acme\"\n";
    std::fs::write(&path, text).unwrap();
    let loaded = crate::model::config::load_str(&path, text).unwrap();
    let store = Store::open(&StoreTarget::Sqlite(dir.join(".shipcheck/shipcheck.db")))
        .await
        .unwrap();
    let clock = crate::model::clock::ManualClock::new("2026-08-21T09:00:00Z".parse().unwrap());
    Session::new(store, Arc::new(loaded), Arc::new(clock)).with_secrets([TOKEN.to_string()])
}

#[tokio::test]
async fn a_note_quoting_part_of_a_token_is_stored_without_it() {
    let dir = tempfile::tempdir().unwrap();
    let s = session(dir.path()).await;
    let run = s
        .start(&StartOptions {
            env: "production".into(),
            by: "ann".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    let run = s
        .note(
            &run,
            NoteKind::General,
            &format!("pasted the header: Bearer {}", &TOKEN[..20]),
            "ann",
        )
        .await
        .unwrap();
    let events = s.store.events(&run.id).await.unwrap();
    let Some(Event::NoteAdded { text, .. }) = events.last().map(|e| &e.event) else {
        panic!("no note: {events:?}");
    };
    assert_eq!(text, "pasted the header: Bearer [REDACTED]");
    let raw = std::fs::read(dir.path().join(".shipcheck/shipcheck.db")).unwrap();
    let raw = String::from_utf8_lossy(&raw);
    assert!(
        !raw.contains(&TOKEN[..20]),
        "the store file holds the token"
    );
    assert!(
        matches!(
            s.store.verify_chain(&run.id).await.unwrap(),
            crate::store::ChainReport::Intact { .. }
        ),
        "the chain is computed over what is stored"
    );
}

/// A secret that is a plain word of the vocabulary (a database password `postgres`, set as
/// `PGPASSWORD`) is removed from text, never from the `type` tags the run cannot be read
/// without: the run still starts.
#[tokio::test]
async fn a_secret_that_is_a_word_of_the_vocabulary_does_not_stop_a_run() {
    let dir = tempfile::tempdir().unwrap();
    let s = session(dir.path())
        .await
        .with_secrets(["postgres".to_string()]);
    let run = s
        .start(&StartOptions {
            env: "production".into(),
            by: "ann".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    let run = s
        .note(
            &run,
            NoteKind::General,
            "the postgres password leaked",
            "ann",
        )
        .await
        .unwrap();
    let events = s.store.events(&run.id).await.unwrap();
    let Some(Event::NoteAdded { text, .. }) = events.last().map(|e| &e.event) else {
        panic!("no note: {events:?}");
    };
    assert_eq!(text, "the [REDACTED] password leaked");
    assert!(
        run.items.iter().any(|i| i.item.id.contains("migrations")),
        "the checklist was stored"
    );
}
