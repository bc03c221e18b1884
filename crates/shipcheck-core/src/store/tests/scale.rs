//! Listing stays fast with many runs: the queries are served by the `runs` indexes.

use std::time::{Duration, Instant};

use crate::store::tests::*;

const RUNS: usize = 10_000;

/// Inserts `RUNS` runs rows directly (500 per statement): three projects, one start per
/// minute.
async fn many_runs(store: &Store) {
    let base = ts("2025-01-01T00:00:00Z");
    let mut rows = Vec::with_capacity(500);
    for i in 0..RUNS {
        let at = crate::store::backend::ts_text(base + jiff::SignedDuration::from_mins(i as i64));
        let project = ["maishapoa", "alpha", "beta"][i % 3];
        rows.push(format!(
            "('run-{i:05}', '{project}', 'production', 'ada', '{at}', '{at}', NULL, 'signed', 9, 'h')"
        ));
        if rows.len() == 500 || i + 1 == RUNS {
            store
                .exec_raw(&format!(
                    "INSERT INTO runs (id, project, env, started_by, started_at, updated_at, \
                     phase, status, event_count, head_hash) VALUES {}",
                    rows.join(", ")
                ))
                .await;
            rows.clear();
        }
    }
}

async fn timed<T>(what: &str, backend: &str, f: impl Future<Output = T>) -> (T, Duration) {
    let t = Instant::now();
    let out = f.await;
    let took = t.elapsed();
    eprintln!("[{backend}] {what} over {RUNS} runs: {took:?}");
    (out, took)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listing_stays_fast_with_ten_thousand_runs() {
    for_each_backend(|db| async move {
        let store = db.open().await;
        let t = Instant::now();
        many_runs(&store).await;
        eprintln!("[{}] inserting {RUNS} runs rows: {:?}", db.backend(), t.elapsed());
        if db.backend() == "postgres" {
            store.exec_raw("ANALYZE runs").await;
        }
        let backend = db.backend();
        // Warm the pool and the statement cache once.
        store.list_runs(None, 20).await.unwrap();

        let (all, t1) = timed("list_runs(None, 20)", backend, store.list_runs(None, 20)).await;
        let all = all.unwrap();
        assert_eq!(all.len(), 20);
        assert_eq!(all[0].id, format!("run-{:05}", RUNS - 1));
        assert!(all.windows(2).all(|w| w[0].started_at > w[1].started_at));

        let (mine, t2) = timed(
            "list_runs(Some(project), 20)",
            backend,
            store.list_runs(Some("alpha"), 20),
        )
        .await;
        let mine = mine.unwrap();
        assert_eq!(mine.len(), 20);
        assert!(mine.iter().all(|r| r.project == "alpha"));

        let (latest, t3) = timed(
            "latest_run(project, env)",
            backend,
            store.latest_run("beta", Some("production")),
        )
        .await;
        assert!(latest.unwrap().is_some());

        let (found, t4) = timed("find_run(prefix)", backend, store.find_run("run-0999")).await;
        assert!(matches!(found, Err(StoreError::Ambiguous { .. })));
        let (found, _) = timed("find_run(prefix) again", backend, store.find_run("run-0999")).await;
        assert!(matches!(found, Err(StoreError::Ambiguous { .. })));
        let (found, _) = timed("find_run(exact id of an old run)", backend, store.find_run("run-00001")).await;
        assert_eq!(found.unwrap().id, "run-00001");
        let (found, _) = timed("find_run(prefix of the oldest runs)", backend, store.find_run("run-0000")).await;
        assert!(matches!(found, Err(StoreError::Ambiguous { .. })));

        // Generous bounds (2 shared cores); the plan check below is the real guarantee.
        for t in [t1, t2, t3, t4] {
            assert!(t < Duration::from_millis(1500), "{t:?}");
        }

        let plan_sql = "SELECT id FROM runs ORDER BY started_at DESC, id DESC LIMIT 20";
        let plan = query_plan(&store, plan_sql).await;
        assert!(plan.contains("runs_by_start"), "list_runs is not served by its index: {plan}");
        assert!(!plan.contains("TEMP B-TREE"), "list_runs sorts: {plan}");
        let plan = query_plan(
            &store,
            "SELECT id FROM runs WHERE project = 'alpha' ORDER BY started_at DESC, id DESC LIMIT 20",
        )
        .await;
        assert!(plan.contains("runs_by_project"), "list_runs(project) is not served by its index: {plan}");
    })
    .await;
}

/// The query plan as one string.
async fn query_plan(store: &Store, sql: &str) -> String {
    use sqlx::Row;
    let rows = on_pool!(store, pool => {
        let explain = if store.backend() == "sqlite" { "EXPLAIN QUERY PLAN" } else { "EXPLAIN" };
        sqlx::query(AssertSqlSafe(format!("{explain} {sql}")))
            .fetch_all(pool)
            .await
            .expect("explain")
            .iter()
            .map(|row| {
                let col = if store.backend() == "sqlite" { 3 } else { 0 };
                row.try_get::<String, _>(col).unwrap_or_default()
            })
            .collect::<Vec<_>>()
    });
    rows.join(" | ")
}
