//! Round trips, locks, tampering, bad stores, listing and lookup.

use crate::journal::state::{ItemState, RunState, RunStatus};
use crate::model::error::HasKind;
use crate::store::tests::*;
use crate::store::{ChainReport, LockInfo, RunSummaryUpdate};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_append_read_back_and_fold() {
    for_each_backend(|db| async move {
        let store = db.open().await;
        assert_eq!(store.backend(), db.backend());
        let first = store
            .create_run(
                "run-1",
                "maishapoa",
                "production",
                "ada",
                ts("2026-11-26T10:00:00.123456789Z"),
                &started("maishapoa", "production", "ada"),
            )
            .await
            .expect("create_run");
        assert_eq!(first.seq, 1);
        assert_eq!(first.prev_hash, crate::model::event::GENESIS_HASH);
        assert_eq!(first.at, ts("2026-11-26T10:00:00.123456789Z"));

        let manual = crate::model::checklist::Checklist::builtin()
            .items
            .into_iter()
            .find(|i| i.is_ticked_by_person())
            .expect("the built-in checklist has a manual item");
        let tick = Event::ItemTicked {
            item: manual.id.clone(),
            by: "grace".into(),
            note: Some("looks fine".into()),
        };
        let mut appended = vec![first];
        for (at, event) in [
            ("2026-11-26T10:01:00Z", tick),
            ("2026-11-26T10:02:00Z", note("all quiet")),
        ] {
            appended.push(
                store
                    .append("run-1", ts(at), &event, &active())
                    .await
                    .expect("append"),
            );
        }
        assert_eq!(appended[1].seq, 2);
        assert_eq!(appended[1].prev_hash, appended[0].hash);
        assert_eq!(appended[2].prev_hash, appended[1].hash);

        let events = store.events("run-1").await.expect("events");
        assert_eq!(events, appended);

        let run = RunState::fold(&events).expect("fold");
        assert_eq!(run.id, "run-1");
        assert_eq!(run.project, "maishapoa");
        assert_eq!(run.status, RunStatus::Active);
        assert_eq!(run.event_count, 3);
        let record = run.record(&manual.id).expect("the ticked item");
        assert_eq!(record.state, ItemState::Done);
        assert_eq!(record.by.as_deref(), Some("grace"));
        assert_eq!(run.notes.len(), 1);

        let summary = store.run_summary("run-1").await.unwrap().expect("summary");
        assert_eq!(summary.started_at, ts("2026-11-26T10:00:00.123456789Z"));
        assert_eq!(summary.updated_at, ts("2026-11-26T10:02:00Z"));
        assert_eq!(summary.event_count, 3);
        assert_eq!(summary.phase.as_deref(), Some("prepare"));
        assert_eq!(summary.status, "active");
        assert_eq!(summary.started_by, "ada");
        assert!(store.run_summary("nope").await.unwrap().is_none());

        assert_eq!(
            store.verify_chain("run-1").await.unwrap(),
            ChainReport::Intact {
                events: 3,
                head: appended[2].hash.clone()
            }
        );

        // Misuse is refused without writing anything.
        let e = store
            .append("missing", ts("2026-11-26T10:03:00Z"), &note("x"), &active())
            .await
            .unwrap_err();
        assert!(
            matches!(e, StoreError::NotFound(ref id) if id == "missing"),
            "{e}"
        );
        let e = store
            .append(
                "run-1",
                ts("2026-11-26T10:03:00Z"),
                &started("maishapoa", "production", "ada"),
                &active(),
            )
            .await
            .unwrap_err();
        assert!(matches!(e, StoreError::Invalid(_)), "{e}");
        let e = store
            .create_run(
                "run-2",
                "maishapoa",
                "staging",
                "ada",
                ts("2026-11-26T10:00:00Z"),
                &note("x"),
            )
            .await
            .unwrap_err();
        assert!(matches!(e, StoreError::Invalid(_)), "{e}");
        let e = store
            .create_run(
                "run-2",
                "maishapoa",
                "staging",
                "ada",
                ts("2026-11-26T10:00:00Z"),
                &started("maishapoa", "production", "ada"),
            )
            .await
            .unwrap_err();
        assert!(e.to_string().contains("maishapoa/production"), "{e}");
        store
            .release_lock("maishapoa", "production", "run-1")
            .await
            .unwrap();
        let e = store
            .create_run(
                "run-1",
                "maishapoa",
                "production",
                "ada",
                ts("2026-11-26T10:00:00Z"),
                &started("maishapoa", "production", "ada"),
            )
            .await
            .unwrap_err();
        assert_eq!(e.to_string(), "a run with id run-1 already exists");
        assert!(
            store
                .lock("maishapoa", "production")
                .await
                .unwrap()
                .is_none()
        );
        assert!(matches!(
            store.events("nope").await,
            Err(StoreError::NotFound(_))
        ));
        assert!(matches!(
            store.verify_chain("nope").await,
            Err(StoreError::NotFound(_))
        ));
        assert_eq!(store.events("run-1").await.unwrap().len(), 3);

        // The summary update is what the caller says.
        store
            .append(
                "run-1",
                ts("2026-11-26T10:04:00Z"),
                &Event::RunAborted {
                    reason: "r".into(),
                    by: "ada".into(),
                },
                &RunSummaryUpdate {
                    phase: None,
                    status: "aborted".into(),
                },
            )
            .await
            .unwrap();
        let summary = store.run_summary("run-1").await.unwrap().unwrap();
        assert_eq!((summary.phase, summary.status.as_str()), (None, "aborted"));
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_held_lock_names_its_holder() {
    for_each_backend(|db| async move {
        let store = db.open().await;
        start(
            &store,
            "run-a",
            "maishapoa",
            "production",
            "2026-11-26T10:00:00.5Z",
        )
        .await;
        let e = store
            .create_run(
                "run-b",
                "maishapoa",
                "production",
                "bob",
                ts("2026-11-26T10:05:00Z"),
                &started("maishapoa", "production", "bob"),
            )
            .await
            .unwrap_err();
        let StoreError::LockHeld(ref info) = e else {
            panic!("expected LockHeld, got {e}")
        };
        assert_eq!(
            *info,
            LockInfo {
                project: "maishapoa".into(),
                env: "production".into(),
                run_id: "run-a".into(),
                holder: "ada".into(),
                since: ts("2026-11-26T10:00:00.5Z"),
            }
        );
        assert_eq!(e.kind(), crate::model::error::ErrorKind::Locked);
        assert_eq!(
            e.to_string(),
            "production deploy of maishapoa is locked by run run-a, started by ada at \
             2026-11-26T10:00:00Z; wait for it, or break the lock with \
             `shipcheck unlock --reason TEXT`"
        );
        // The losing run left nothing behind.
        assert!(store.run_summary("run-b").await.unwrap().is_none());
        assert_eq!(
            store
                .lock("maishapoa", "production")
                .await
                .unwrap()
                .as_ref(),
            Some(info)
        );
        // Other environments and projects have their own locks.
        start(
            &store,
            "run-c",
            "maishapoa",
            "staging",
            "2026-11-26T10:06:00Z",
        )
        .await;
        start(
            &store,
            "run-d",
            "other",
            "production",
            "2026-11-26T10:07:00Z",
        )
        .await;
        assert!(store.lock("nobody", "production").await.unwrap().is_none());

        // A run that ended without releasing keeps the lock until it is broken.
        store
            .append(
                "run-a",
                ts("2026-11-26T11:00:00Z"),
                &Event::RunSigned { by: "ada".into() },
                &RunSummaryUpdate {
                    phase: None,
                    status: "signed".into(),
                },
            )
            .await
            .unwrap();
        let e = store
            .create_run(
                "run-e",
                "maishapoa",
                "production",
                "bob",
                ts("2026-11-26T11:05:00Z"),
                &started("maishapoa", "production", "bob"),
            )
            .await
            .unwrap_err();
        assert!(
            matches!(e, StoreError::LockHeld(ref i) if i.run_id == "run-a"),
            "{e}"
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn release_and_break_the_lock() {
    for_each_backend(|db| async move {
        let store = db.open().await;
        start(
            &store,
            "run-a",
            "maishapoa",
            "production",
            "2026-11-26T10:00:00Z",
        )
        .await;
        // Only the holder releases.
        store
            .release_lock("maishapoa", "production", "run-x")
            .await
            .unwrap();
        assert!(
            store
                .lock("maishapoa", "production")
                .await
                .unwrap()
                .is_some()
        );
        store
            .release_lock("maishapoa", "production", "run-a")
            .await
            .unwrap();
        assert!(
            store
                .lock("maishapoa", "production")
                .await
                .unwrap()
                .is_none()
        );

        start(
            &store,
            "run-b",
            "maishapoa",
            "production",
            "2026-11-26T12:00:00Z",
        )
        .await;
        let e = store
            .break_lock(
                "maishapoa",
                "production",
                "grace",
                "  ",
                ts("2026-11-26T13:00:00Z"),
            )
            .await
            .unwrap_err();
        assert!(matches!(e, StoreError::Invalid(_)), "{e}");
        let broken = store
            .break_lock(
                "maishapoa",
                "production",
                "grace",
                "bob's laptop died mid-deploy",
                ts("2026-11-26T13:00:00Z"),
            )
            .await
            .unwrap()
            .expect("the lock was held");
        assert_eq!(broken.run_id, "run-b");
        assert_eq!(broken.holder, "ada");
        assert!(
            store
                .lock("maishapoa", "production")
                .await
                .unwrap()
                .is_none()
        );
        // Breaking a free lock breaks nothing and records nothing.
        let none = store
            .break_lock(
                "maishapoa",
                "production",
                "grace",
                "again",
                ts("2026-11-26T13:01:00Z"),
            )
            .await
            .unwrap();
        assert!(none.is_none());

        let breaks = store.lock_breaks("maishapoa").await.unwrap();
        assert_eq!(breaks.len(), 1);
        let b = &breaks[0];
        assert_eq!(
            (
                b.project.as_str(),
                b.env.as_str(),
                b.run_id.as_str(),
                b.holder.as_str()
            ),
            ("maishapoa", "production", "run-b", "ada")
        );
        assert_eq!(
            (b.by.as_str(), b.reason.as_str()),
            ("grace", "bob's laptop died mid-deploy")
        );
        assert_eq!(b.at, ts("2026-11-26T13:00:00Z"));
        assert!(store.lock_breaks("other").await.unwrap().is_empty());

        // The lock is free for the next run.
        start(
            &store,
            "run-c",
            "maishapoa",
            "production",
            "2026-11-26T14:00:00Z",
        )
        .await;
    })
    .await;
}

/// A run with four events whose third carries `text`.
pub(super) async fn four_events(store: &Store, id: &str) {
    start(store, id, id, "production", "2026-11-26T10:00:00Z").await;
    for (n, text) in ["first", "looks fine", "last"].into_iter().enumerate() {
        let at = ts("2026-11-26T10:00:00Z") + jiff::SignedDuration::from_mins(n as i64 + 1);
        store
            .append(id, at, &note(text), &active())
            .await
            .expect("append");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_edited_event_breaks_the_chain_at_its_seq() {
    for_each_backend(|db| async move {
        let store = db.open().await;
        four_events(&store, "run-e").await;
        assert!(matches!(
            store.verify_chain("run-e").await.unwrap(),
            ChainReport::Intact { events: 4, .. }
        ));
        let n = store
            .exec_raw(
                "UPDATE events SET payload = replace(payload, 'looks fine', 'looks great') \
                 WHERE run_id = 'run-e' AND seq = 3",
            )
            .await;
        assert_eq!(n, 1);
        let ChainReport::Broken { seq, reason } = store.verify_chain("run-e").await.unwrap() else {
            panic!("an edited payload went unnoticed");
        };
        assert_eq!(seq, 3);
        assert!(reason.contains("changed after it was written"), "{reason}");
        // The edit is still readable; the chain is what tells.
        assert_eq!(store.events("run-e").await.unwrap().len(), 4);

        // Editing a time is caught the same way.
        four_events(&store, "run-t").await;
        store
            .exec_raw(
                "UPDATE events SET at = '2026-11-26T09:00:00.000000000Z' \
                 WHERE run_id = 'run-t' AND seq = 2",
            )
            .await;
        assert!(matches!(
            store.verify_chain("run-t").await.unwrap(),
            ChainReport::Broken { seq: 2, .. }
        ));
        // Re-hashing the edited event does not help: the next one no longer links to it.
        four_events(&store, "run-h").await;
        store
            .exec_raw("UPDATE events SET hash = 'ab' WHERE run_id = 'run-h' AND seq = 2")
            .await;
        let report = store.verify_chain("run-h").await.unwrap();
        assert!(
            matches!(report, ChainReport::Broken { seq: 2, .. }),
            "{report:?}"
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deleted_event_breaks_the_chain() {
    for_each_backend(|db| async move {
        let store = db.open().await;
        four_events(&store, "run-m").await;
        store
            .exec_raw("DELETE FROM events WHERE run_id = 'run-m' AND seq = 2")
            .await;
        let ChainReport::Broken { seq, reason } = store.verify_chain("run-m").await.unwrap() else {
            panic!("a deleted event went unnoticed");
        };
        assert_eq!(seq, 2);
        assert!(reason.contains("missing"), "{reason}");

        // Dropping the last event leaves a valid-looking chain; the recorded count catches it.
        four_events(&store, "run-l").await;
        store
            .exec_raw("DELETE FROM events WHERE run_id = 'run-l' AND seq = 4")
            .await;
        let ChainReport::Broken { seq, reason } = store.verify_chain("run-l").await.unwrap() else {
            panic!("a deleted last event went unnoticed");
        };
        assert_eq!(seq, 4);
        assert!(
            reason.contains("recorded 4 events, 3 are stored"),
            "{reason}"
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_runs_newest_first_with_a_limit() {
    for_each_backend(|db| async move {
        let store = db.open().await;
        let runs = [
            ("r1", "alpha", "production", "2026-11-20T10:00:00Z"),
            ("r2", "alpha", "staging", "2026-11-21T10:00:00Z"),
            ("r3", "beta", "production", "2026-11-22T10:00:00Z"),
            // Same start as r5: the id breaks the tie, descending.
            ("r4", "alpha", "production", "2026-11-23T10:00:00Z"),
            ("r5", "alpha", "production", "2026-11-23T10:00:00Z"),
            // A fraction must sort after the whole second.
            ("r6", "beta", "production", "2026-11-22T10:00:00.25Z"),
        ];
        for (id, project, env, at) in runs {
            start(&store, id, project, env, at).await;
            store.release_lock(project, env, id).await.unwrap();
        }
        let ids =
            |v: Vec<crate::store::RunSummary>| v.into_iter().map(|r| r.id).collect::<Vec<_>>();
        assert_eq!(
            ids(store.list_runs(None, 100).await.unwrap()),
            ["r5", "r4", "r6", "r3", "r2", "r1"]
        );
        assert_eq!(ids(store.list_runs(None, 2).await.unwrap()), ["r5", "r4"]);
        assert_eq!(
            ids(store.list_runs(Some("alpha"), 3).await.unwrap()),
            ["r5", "r4", "r2"]
        );
        assert_eq!(
            ids(store.list_runs(Some("beta"), 10).await.unwrap()),
            ["r6", "r3"]
        );
        assert!(store.list_runs(Some("gamma"), 10).await.unwrap().is_empty());
        assert!(store.list_runs(None, 0).await.unwrap().is_empty());

        let latest = |p: &'static str, e: Option<&'static str>| {
            let store = store.clone();
            async move { store.latest_run(p, e).await.unwrap().map(|r| r.id) }
        };
        assert_eq!(latest("alpha", None).await.as_deref(), Some("r5"));
        assert_eq!(
            latest("alpha", Some("staging")).await.as_deref(),
            Some("r2")
        );
        assert_eq!(latest("beta", Some("staging")).await, None);
        assert_eq!(latest("gamma", None).await, None);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn find_run_by_id_or_unique_prefix() {
    for_each_backend(|db| async move {
        let store = db.open().await;
        for (id, env, at) in [
            ("0190aaaa-1111", "e1", "2026-11-20T10:00:00Z"),
            ("0190aaab-2222", "e2", "2026-11-21T10:00:00Z"),
            ("0190bbbb-3333", "e3", "2026-11-22T10:00:00Z"),
            ("0190b", "e4", "2026-11-19T10:00:00Z"),
        ] {
            start(&store, id, "maishapoa", env, at).await;
        }
        let found = |q: &'static str| {
            let store = store.clone();
            async move { store.find_run(q).await }
        };
        assert_eq!(found("0190aaaa-1111").await.unwrap().id, "0190aaaa-1111");
        assert_eq!(found("0190bb").await.unwrap().id, "0190bbbb-3333");
        // An exact id wins over the runs it is a prefix of.
        assert_eq!(found("0190b").await.unwrap().id, "0190b");
        let e = found("0190aa").await.unwrap_err();
        let StoreError::Ambiguous {
            ref prefix,
            ref matches,
        } = e
        else {
            panic!("{e}")
        };
        assert_eq!(prefix, "0190aa");
        assert_eq!(matches, &["0190aaab-2222", "0190aaaa-1111"]);
        assert_eq!(
            e.to_string(),
            "`0190aa` matches more than one run (0190aaab-2222, 0190aaaa-1111); give more of the id"
        );
        assert_eq!(e.kind(), crate::model::error::ErrorKind::Usage);
        for missing in ["0190c", "", "0190A", "0190%", "0190_aaa"] {
            let e = found(missing).await.unwrap_err();
            assert!(matches!(e, StoreError::NotFound(_)), "{missing:?}: {e}");
            assert_eq!(e.kind(), crate::model::error::ErrorKind::Usage);
        }
        assert_eq!(
            found("0190c").await.unwrap_err().to_string(),
            "no run matches `0190c`"
        );
    })
    .await;
}
