//! Races: two starts on one lock, many appends on one run, from separate handles.

use crate::model::error::HasKind;
use std::sync::Arc;

use tokio::sync::Barrier;

use crate::model::event::StoredEvent;
use crate::store::ChainReport;
use crate::store::tests::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_concurrent_starts_exactly_one_wins() {
    for_each_backend(|db| async move {
        // Two handles opened at once on a fresh store also race the migrations.
        let (a, b) = tokio::join!(db.open(), db.open());
        for round in 0..20 {
            let project = format!("race-{round}");
            let barrier = Arc::new(Barrier::new(2));
            let contender = |store: Store, run_id: String| {
                let barrier = barrier.clone();
                let project = project.clone();
                tokio::spawn(async move {
                    let event = started(&project, "production", &run_id);
                    barrier.wait().await;
                    let at = jiff::Timestamp::now();
                    (
                        run_id.clone(),
                        store
                            .create_run(&run_id, &project, "production", &run_id, at, &event)
                            .await,
                    )
                })
            };
            let one = contender(a.clone(), format!("{project}-a"));
            let two = contender(b.clone(), format!("{project}-b"));
            let results = [one.await.expect("task"), two.await.expect("task")];
            let winners: Vec<&String> = results
                .iter()
                .filter(|(_, r)| r.is_ok())
                .map(|(id, _)| id)
                .collect();
            assert_eq!(winners.len(), 1, "round {round}: {results:?}");
            let winner = winners[0];
            for (id, result) in &results {
                match result {
                    Ok(stored) => assert_eq!(stored.seq, 1),
                    Err(StoreError::LockHeld(info)) => {
                        assert_ne!(id, winner);
                        assert_eq!(&info.run_id, winner, "round {round}");
                        assert_eq!(&info.holder, winner);
                    }
                    Err(e) => panic!("round {round}: {id} failed with {e}"),
                }
            }
            let runs = a.list_runs(Some(&project), 10).await.unwrap();
            assert_eq!(runs.len(), 1, "round {round}: the loser left a run behind");
            assert_eq!(&runs[0].id, winner);
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_appends_keep_the_chain_contiguous() {
    for_each_backend(|db| async move {
        let a = db.open().await;
        let b = db.open().await;
        start(
            &a,
            "run-x",
            "maishapoa",
            "production",
            "2026-11-26T10:00:00Z",
        )
        .await;
        const WRITERS: usize = 4;
        const EACH: usize = 10;
        let barrier = Arc::new(Barrier::new(WRITERS));
        let mut tasks = Vec::new();
        for w in 0..WRITERS {
            let store = if w % 2 == 0 { a.clone() } else { b.clone() };
            let barrier = barrier.clone();
            tasks.push(tokio::spawn(async move {
                barrier.wait().await;
                let mut mine: Vec<StoredEvent> = Vec::new();
                for n in 0..EACH {
                    let event = note(&format!("writer {w} note {n}"));
                    let stored = store
                        .append("run-x", jiff::Timestamp::now(), &event, &active())
                        .await
                        .unwrap_or_else(|e| panic!("writer {w} append {n}: {e}"));
                    mine.push(stored);
                }
                mine
            }));
        }
        // A reader verifying while they write always sees a whole chain (one snapshot).
        let reader = {
            let b = b.clone();
            tokio::spawn(async move {
                let mut checks = 0;
                loop {
                    match b.verify_chain("run-x").await {
                        Ok(ChainReport::Intact { events, .. }) => {
                            checks += 1;
                            if events == 1 + WRITERS * EACH {
                                return checks;
                            }
                        }
                        other => panic!("verify during appends: {other:?}"),
                    }
                }
            })
        };
        let mut returned = Vec::new();
        for t in tasks {
            returned.extend(t.await.expect("writer task"));
        }
        let checks = reader.await.expect("reader task");
        assert!(checks >= 1);
        let events = a.events("run-x").await.unwrap();
        let total = 1 + WRITERS * EACH;
        assert_eq!(events.len(), total);
        for (i, e) in events.iter().enumerate() {
            assert_eq!(e.seq, i as i64 + 1, "seq gap at {i}");
        }
        // What each append returned is what was stored.
        for r in &returned {
            assert_eq!(&events[(r.seq - 1) as usize], r);
        }
        assert!(matches!(
            b.verify_chain("run-x").await.unwrap(),
            ChainReport::Intact { events, .. } if events == total
        ));
        let summary = b.run_summary("run-x").await.unwrap().unwrap();
        assert_eq!(summary.event_count, total as i64);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_walker_per_environment_released_when_dropped() {
    for_each_backend(|db| async move {
        let (a, b) = tokio::join!(db.open(), db.open());
        let guard = a.walk_guard("walkers", "production").await.unwrap();
        match b.walk_guard("walkers", "production").await {
            Err(e @ StoreError::WalkerBusy { .. }) => {
                assert_eq!(e.kind(), crate::model::error::ErrorKind::Locked)
            }
            other => panic!("{}: a second walker got {other:?}", db.backend()),
        }
        // Another environment is another walk.
        let staging = b.walk_guard("walkers", "staging").await.unwrap();
        drop(guard);
        // Released at once (a PostgreSQL session lock goes with its connection's close).
        let mut again = None;
        for _ in 0..50 {
            match b.walk_guard("walkers", "production").await {
                Ok(g) => {
                    again = Some(g);
                    break;
                }
                Err(StoreError::WalkerBusy { .. }) => {
                    tokio::time::sleep(std::time::Duration::from_millis(20)).await
                }
                Err(e) => panic!("{e}"),
            }
        }
        assert!(
            again.is_some(),
            "{}: the guard was not released",
            db.backend()
        );
        drop(staging);
    })
    .await;
}
