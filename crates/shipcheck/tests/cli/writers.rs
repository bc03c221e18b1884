//! Eight writers at once: while the watch runs, processes raise incidents, add notes and tick
//! items of the same run, on SQLite and on PostgreSQL.

use std::process::Stdio;
use std::time::{Duration, Instant};

use serde_json::Value;
use shipcheck_sandbox::world::{Scenario, World};

use crate::demo::{cmd, run, world_options};

/// Where a concurrency rehearsal stores its runs: the world's SQLite file, or a fresh schema of
/// the PostgreSQL test database (dropped afterwards).
enum Backend {
    Sqlite,
    Postgres { url: String, schema: String },
}

async fn postgres_backend() -> Option<Backend> {
    use sqlx::{Connection, Executor};
    let url = std::env::var("SHIPCHECK_TEST_DATABASE_URL")
        .ok()
        .filter(|u| !u.trim().is_empty())?;
    let mut admin = sqlx::postgres::PgConnection::connect_with(
        &url.parse::<sqlx::postgres::PgConnectOptions>().unwrap(),
    )
    .await
    .unwrap();
    let schema = format!("sc_cli_{}", std::process::id());
    admin
        .execute(sqlx::AssertSqlSafe(format!(
            "DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}"
        )))
        .await
        .unwrap();
    let sep = if url.contains('?') { '&' } else { '?' };
    Some(Backend::Postgres {
        url: format!("{url}{sep}options=-c%20search_path%3D{schema}"),
        schema,
    })
}

async fn drop_backend(b: &Backend) {
    use sqlx::{Connection, Executor};
    if let Backend::Postgres { schema, .. } = b {
        let url = std::env::var("SHIPCHECK_TEST_DATABASE_URL").unwrap();
        let mut admin = sqlx::postgres::PgConnection::connect_with(
            &url.parse::<sqlx::postgres::PgConnectOptions>().unwrap(),
        )
        .await
        .unwrap();
        let _ = admin
            .execute(sqlx::AssertSqlSafe(format!("DROP SCHEMA {schema} CASCADE")))
            .await;
    }
}

/// While the watch runs, eight processes raise incidents, add notes and tick the watch's
/// manual items of the same run. Every change is either written once or refused with a reason;
/// the run loads, its journal verifies, and every incident has its own number.
async fn eight_writers_during_the_watch(backend: Backend) {
    let tmp = tempfile::tempdir().unwrap();
    let world = World::build_with(&tmp.path().join("w"), world_options(Scenario::Good, 300.0))
        .await
        .unwrap();
    let dir = world.dir.clone();
    let mut env = world.env().clone();
    if let Backend::Postgres { url, .. } = &backend {
        env.insert("SHIPCHECK_DATABASE_URL".into(), url.clone());
    }
    let (d, e) = (dir.clone(), env.clone());
    let outcome = tokio::task::spawn_blocking(move || {
        let operator = cmd(&d, &e, &["sandbox", "operate"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // Wait for the watch.
        let deadline = Instant::now() + Duration::from_secs(240);
        loop {
            let (code, out, _) = run(&d, &e, &["status", "--json"]);
            if code != 2
                && let Ok(v) = serde_json::from_str::<Value>(&out)
                && v["phase"] == "watch"
            {
                break;
            }
            assert!(Instant::now() < deadline, "the run never reached the watch");
            std::thread::sleep(Duration::from_millis(200));
        }
        let writers: Vec<_> = (0..8)
            .map(|w| {
                let (d, e) = (d.clone(), e.clone());
                std::thread::spawn(move || {
                    let by = format!("Writer {w}");
                    let mut done = Vec::new();
                    for i in 0..4 {
                        let summary = format!("writer {w} incident {i}");
                        let text = format!("writer {w} note {i}");
                        let item = if (w + i) % 2 == 0 {
                            "watch.user-reports"
                        } else {
                            "watch.issues-documented"
                        };
                        for (what, args) in [
                            (
                                "incident",
                                vec![
                                    "incident",
                                    "--severity",
                                    "low",
                                    "--summary",
                                    &summary,
                                    "--by",
                                    &by,
                                    "--yes",
                                ],
                            ),
                            ("note", vec!["note", "--kind", "issue", &text, "--by", &by]),
                            ("tick", vec!["tick", item, "--note", "seen", "--by", &by]),
                        ] {
                            let (code, out, err) = run(&d, &e, &args);
                            done.push((what, code, format!("{out}{err}")));
                        }
                    }
                    done
                })
            })
            .collect();
        let results: Vec<(&str, i32, String)> = writers
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect();
        let first = operator.wait_with_output().unwrap();
        let mut code = first.status.code();
        let mut err = format!(
            "{}{}",
            String::from_utf8_lossy(&first.stdout),
            String::from_utf8_lossy(&first.stderr)
        );
        // A person's tick may have settled an item the operator was about to tick: it walks
        // on from where the run is, as a person would.
        for _ in 0..3 {
            if code == Some(0) {
                break;
            }
            let (c, out, e2) = run(&d, &e, &["sandbox", "operate"]);
            code = Some(c);
            err.push_str(&format!("\n--- again: {out}{e2}"));
        }
        (results, code, err)
    })
    .await
    .unwrap();
    world.shutdown().await;
    let (results, operator_code, operator_err) = outcome;
    for (what, code, out) in &results {
        // Written (0), or refused for a reason a person can read (a tick of an item another
        // writer ticked first, exit 2). Never a lost race (exit 3/4) or a crash.
        assert!(
            *code == 0 || (*what == "tick" && *code == 2 && out.contains("already")),
            "{what} exited {code}: {out}"
        );
    }
    let incidents = results
        .iter()
        .filter(|r| r.0 == "incident" && r.1 == 0)
        .count();
    let notes = results.iter().filter(|r| r.0 == "note" && r.1 == 0).count();
    assert_eq!(incidents, 32, "every incident was raised");
    assert_eq!(notes, 32, "every note was written");
    // The run ended normally, loads, and verifies.
    // The run went on: the operator walked it to the end. (Under a heavily loaded machine the
    // watch itself may judge latency as failing and leave the run unsigned; that is the watch's
    // verdict, not a broken run, so the run's integrity is what is asserted.)
    let tail: String = {
        let start = operator_err.len().saturating_sub(4000);
        let start = (start..operator_err.len())
            .find(|i| operator_err.is_char_boundary(*i))
            .unwrap_or(0);
        operator_err[start..].to_string()
    };
    let (code, out, err) = run(&dir, &env, &["report", "--format", "json"]);
    assert_eq!(code, 0, "{err}");
    let report: Value = serde_json::from_str(&out).unwrap();
    if operator_code == Some(0) {
        assert_eq!(report["status"], "signed", "{report}");
    } else {
        eprintln!("the operator did not finish (exit {operator_code:?}): {tail}");
    }
    assert!(
        report.get("anomalies").is_none(),
        "every event applied: {}",
        report["anomalies"]
    );
    let incidents = report["watch"]["incidents"].as_array().unwrap();
    let ids: Vec<u64> = incidents
        .iter()
        .map(|i| i["id"].as_u64().unwrap())
        .collect();
    assert_eq!(
        ids,
        (1..=ids.len() as u64).collect::<Vec<u64>>(),
        "each incident numbered once"
    );
    let by_writers = incidents
        .iter()
        .filter(|i| i["summary"].as_str().unwrap_or("").starts_with("writer "))
        .count();
    assert_eq!(by_writers, 32, "every writer's incident is in the run once");
    let (code, out, err) = run(&dir, &env, &["verify"]);
    assert_eq!(code, 0, "verify: {out}{err}");
    drop_backend(&backend).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eight_writers_during_the_watch_on_sqlite() {
    eight_writers_during_the_watch(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eight_writers_during_the_watch_on_postgres() {
    match postgres_backend().await {
        Some(b) => eight_writers_during_the_watch(b).await,
        None => {
            eprintln!("SHIPCHECK_TEST_DATABASE_URL is not set: the PostgreSQL half did not run")
        }
    }
}
