//! Reading a journal from a position: `events_after`, and `RunState::extend` over it, which a
//! reader keeping a folded run (the web page) uses instead of folding the whole journal.

use std::sync::Arc;

use tokio::sync::Barrier;

use crate::journal::state::RunState;
use crate::model::event::Event;
use crate::store::tests::cases::four_events;
use crate::store::tests::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_after_a_position() {
    for_each_backend(|db| async move {
        let store = db.open().await;
        four_events(&store, "run-a").await;
        four_events(&store, "run-b").await;
        let all = store.events("run-a").await.unwrap();
        assert_eq!(all.len(), 4);
        assert_eq!(store.events_after("run-a", 0).await.unwrap(), all);
        assert_eq!(store.events_after("run-a", 2).await.unwrap(), all[2..]);
        assert!(store.events_after("run-a", 4).await.unwrap().is_empty());
        assert!(store.events_after("run-a", 99).await.unwrap().is_empty());
        // Only this run's events, never another's.
        assert!(
            store
                .events_after("run-b", 1)
                .await
                .unwrap()
                .iter()
                .all(|e| e.run_id == "run-b")
        );
        let missing = store.events_after("no-such-run", 0).await;
        assert!(
            matches!(missing, Err(StoreError::NotFound(ref id)) if id == "no-such-run"),
            "{missing:?}"
        );

        // Folding the first two, then extending by what follows, is folding all four.
        let mut run = RunState::fold(&all[..2]).unwrap();
        run.extend(&store.events_after("run-a", 2).await.unwrap())
            .unwrap();
        assert_eq!(run, RunState::fold(&all).unwrap());
        assert_eq!(run.head_hash, all[3].hash);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn extend_refuses_what_does_not_follow() {
    for_each_backend(|db| async move {
        let store = db.open().await;
        four_events(&store, "run-a").await;
        four_events(&store, "run-b").await;
        let a = store.events("run-a").await.unwrap();
        let b = store.events("run-b").await.unwrap();
        let two = RunState::fold(&a[..2]).unwrap();

        // A gap: event 4 after event 2.
        let mut run = two.clone();
        let gap = run.extend(&a[3..]).unwrap_err();
        assert_eq!(gap.seq, 4, "{gap}");
        assert_eq!(run, two, "nothing of a refused extension is applied");

        // Another run's event 3.
        let mut run = two.clone();
        assert!(run.extend(&b[2..3]).is_err());
        assert_eq!(run, two);

        // The right seq, but not chained to the head (the journal was rewritten under it).
        let mut forged = a[2].clone();
        forged.prev_hash = "f".repeat(64);
        let mut run = two.clone();
        let unchained = run.extend(&[forged]).unwrap_err();
        assert!(unchained.problem.contains("previous hash"), "{unchained}");
        assert_eq!(run, two);

        // Good events before a bad one stay applied; the bad one and after do not.
        let mut run = two.clone();
        assert!(run.extend(&[a[2].clone(), a[2].clone()]).is_err());
        assert_eq!(run, RunState::fold(&a[..3]).unwrap());
    })
    .await;
}

/// A reader catching up with `events_after` while two other handles (each its own pool, as
/// another process would be) append: at every position it reaches, its state is what folding
/// that many events of the final journal gives.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn incremental_fold_equals_full_fold_under_concurrent_appends() {
    for_each_backend(|db| async move {
        let a = db.open().await;
        let b = db.open().await;
        let reader = db.open().await;
        start(
            &a,
            "run-x",
            "maishapoa",
            "production",
            "2026-11-26T10:00:00Z",
        )
        .await;
        let manual: Vec<String> = crate::model::checklist::Checklist::builtin()
            .items
            .into_iter()
            .filter(|i| i.is_ticked_by_person())
            .map(|i| i.id)
            .collect();
        assert!(manual.len() >= 2, "the built-in checklist has manual items");
        const WRITERS: usize = 2;
        const EACH: usize = 60;
        let barrier = Arc::new(Barrier::new(WRITERS + 1));
        let mut tasks = Vec::new();
        for (w, store) in [a.clone(), b.clone()].into_iter().enumerate() {
            let barrier = barrier.clone();
            let manual = manual.clone();
            tasks.push(tokio::spawn(async move {
                barrier.wait().await;
                for n in 0..EACH {
                    let event = match n % 3 {
                        0 => Event::ItemTicked {
                            item: manual[(w + n) % manual.len()].clone(),
                            by: format!("writer {w}"),
                            note: Some(format!("tick {n}")),
                        },
                        1 => Event::ItemWaived {
                            item: manual[(w + n + 1) % manual.len()].clone(),
                            by: format!("writer {w}"),
                            reason: format!("waive {n}"),
                        },
                        _ => note(&format!("writer {w} note {n}")),
                    };
                    store
                        .append("run-x", jiff::Timestamp::now(), &event, &active())
                        .await
                        .unwrap_or_else(|e| panic!("writer {w} append {n}: {e}"));
                }
            }));
        }
        let total = 1 + WRITERS * EACH;
        let mut run = RunState::fold(&reader.events("run-x").await.unwrap()).unwrap();
        let mut seen = vec![run.clone()];
        barrier.wait().await;
        for _ in 0..100_000 {
            if run.event_count >= total {
                break;
            }
            let at = i64::try_from(run.event_count).unwrap();
            let more = reader.events_after("run-x", at).await.unwrap();
            run.extend(&more).unwrap();
            if !more.is_empty() {
                seen.push(run.clone());
            }
        }
        for t in tasks {
            t.await.expect("writer task");
        }
        assert_eq!(run.event_count, total, "the reader caught up");
        let all = reader.events("run-x").await.unwrap();
        for state in &seen {
            assert_eq!(
                *state,
                RunState::fold(&all[..state.event_count]).unwrap(),
                "at event {}",
                state.event_count
            );
        }
        assert_eq!(run, RunState::fold(&all).unwrap());
        assert!(seen.len() > 2, "the reader saw the journal grow");
    })
    .await;
}

/// On PostgreSQL a listener on one handle hears of every append made through another (another
/// process's pool), in order; on SQLite there is nothing to listen to. (The channel is the
/// database's: other tests' runs are announced on it too, so only this run's count.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn appends_are_announced_to_listeners_on_postgres() {
    for_each_backend(|db| async move {
        let writer = db.open().await;
        let reader = db.open().await;
        let id = format!("run-{}", uuid::Uuid::now_v7());
        start(
            &writer,
            &id,
            "maishapoa",
            "production",
            "2026-11-26T10:00:00Z",
        )
        .await;
        let Some(mut listener) = reader.listen().await.expect("listen") else {
            assert_eq!(db.backend(), "sqlite");
            return;
        };
        assert_eq!(db.backend(), "postgres");
        for n in 0..5 {
            writer
                .append(
                    &id,
                    jiff::Timestamp::now(),
                    &note(&format!("n{n}")),
                    &active(),
                )
                .await
                .unwrap();
        }
        let mut heard = Vec::new();
        while heard.len() < 5 {
            let a = tokio::time::timeout(std::time::Duration::from_secs(30), listener.next())
                .await
                .expect("an announcement within 30 s")
                .expect("the listener");
            if a.run_id == id {
                heard.push(a.seq);
            }
        }
        assert_eq!(heard, [2, 3, 4, 5, 6]);
    })
    .await;
}

/// Verifying the chain over the rows read after a position, as the web page does, says what
/// `verify_chain` says of an intact journal, and finds an edit among the new rows and a deleted
/// last event (from the `runs` row read in the same snapshot); an edit before the position is
/// what only `verify_chain` sees.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verifying_the_chain_after_a_position() {
    use crate::store::{ChainCheck, ChainReport};
    for_each_backend(|db| async move {
        let store = db.open().await;
        four_events(&store, "run-v").await;
        let (all, mut check, whole) = store.events_verified("run-v").await.unwrap();
        assert_eq!(all, store.events("run-v").await.unwrap());
        assert_eq!(whole, store.verify_chain("run-v").await.unwrap());
        assert!(matches!(whole, ChainReport::Intact { events: 4, .. }));
        assert_eq!((check.events(), check.head()), (4, all[3].hash.as_str()));

        // From the start: the same verdict, the same rows, the same check.
        let mut from_start = ChainCheck::new("run-v");
        let (rows, report) = store
            .events_after_verified("run-v", 0, &mut from_start)
            .await
            .unwrap();
        assert_eq!((rows, report), (all.clone(), whole));
        assert_eq!(from_start, check);
        // A check that has not verified up to the position asked for is refused.
        let mut fresh = ChainCheck::new("run-v");
        assert!(
            store
                .events_after_verified("run-v", 2, &mut fresh)
                .await
                .is_err()
        );

        // Two more events, the first of them edited behind the store's back.
        for text in ["fifth", "sixth"] {
            store
                .append("run-v", ts("2026-11-26T11:00:00Z"), &note(text), &active())
                .await
                .unwrap();
        }
        store
            .exec_raw(
                "UPDATE events SET payload = replace(payload, 'fifth', 'FIFTH') \
                 WHERE run_id = 'run-v' AND seq = 5",
            )
            .await;
        let (rows, report) = store
            .events_after_verified("run-v", 4, &mut check)
            .await
            .unwrap();
        assert_eq!(rows.len(), 2, "the rows are still read");
        let ChainReport::Broken { seq, reason } = report else {
            panic!("an edit among the new rows went unnoticed");
        };
        assert_eq!(seq, 5);
        assert!(reason.contains("changed after it was written"), "{reason}");
        assert_eq!(check.broken().map(|b| b.0), Some(5), "it stays broken");

        // A deleted last event: the runs row still counts it.
        four_events(&store, "run-d").await;
        let (_, mut check, _) = store.events_verified("run-d").await.unwrap();
        store
            .append(
                "run-d",
                ts("2026-11-26T11:00:00Z"),
                &note("fifth"),
                &active(),
            )
            .await
            .unwrap();
        store
            .exec_raw("DELETE FROM events WHERE run_id = 'run-d' AND seq = 5")
            .await;
        let (rows, report) = store
            .events_after_verified("run-d", 4, &mut check)
            .await
            .unwrap();
        assert!(rows.is_empty());
        assert_eq!(
            report,
            ChainReport::Broken {
                seq: 5,
                reason: "event 5 is missing: the run recorded 5 events, 4 are stored".into()
            }
        );
        assert_eq!(report, store.verify_chain("run-d").await.unwrap());

        // An edit before the position: not seen from there on, seen by the whole check.
        four_events(&store, "run-o").await;
        let (_, mut check, _) = store.events_verified("run-o").await.unwrap();
        store
            .exec_raw(
                "UPDATE events SET payload = replace(payload, 'first', 'FIRST') \
                 WHERE run_id = 'run-o' AND seq = 2",
            )
            .await;
        let (_, report) = store
            .events_after_verified("run-o", 4, &mut check)
            .await
            .unwrap();
        assert!(matches!(report, ChainReport::Intact { events: 4, .. }));
        assert!(matches!(
            store.verify_chain("run-o").await.unwrap(),
            ChainReport::Broken { seq: 2, .. }
        ));
    })
    .await;
}
