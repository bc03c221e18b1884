//! Bad stores and bad stored data: clear errors with the documented exit codes, never a
//! panic, and nothing changed.

use crate::model::error::HasKind;
use crate::store::SCHEMA_VERSION;
use crate::store::tests::cases::four_events;
use crate::store::tests::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreadable_stored_events_are_corrupt_not_panics() {
    for_each_backend(|db| async move {
        let store = db.open().await;
        four_events(&store, "run-c").await;
        store
            .exec_raw(
                "UPDATE events SET payload = '{\"type\":\"teleported\"}' \
                 WHERE run_id = 'run-c' AND seq = 2",
            )
            .await;
        let e = store.events("run-c").await.unwrap_err();
        assert!(matches!(e, StoreError::Corrupt { seq: Some(2), .. }), "{e}");
        let msg = e.to_string();
        assert!(
            msg.contains("run run-c") && msg.contains("event 2"),
            "{msg}"
        );
        assert_eq!(e.kind(), crate::model::error::ErrorKind::Usage);

        four_events(&store, "run-d").await;
        store
            .exec_raw("UPDATE events SET at = 'last tuesday' WHERE run_id = 'run-d' AND seq = 3")
            .await;
        let e = store.events("run-d").await.unwrap_err();
        assert!(matches!(e, StoreError::Corrupt { seq: Some(3), .. }), "{e}");
        assert!(e.to_string().contains("last tuesday"), "{e}");

        store
            .exec_raw("UPDATE runs SET started_at = 'soon' WHERE id = 'run-d'")
            .await;
        let e = store.run_summary("run-d").await.unwrap_err();
        assert!(
            matches!(e, StoreError::Corrupt { seq: None, ref run_id, .. } if run_id == "run-d"),
            "{e}"
        );
        assert!(store.list_runs(None, 10).await.is_err());
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_newer_schema_is_refused_untouched() {
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
        // Opening again is a no-op migration.
        drop(db.open().await);
        store
            .exec_raw("UPDATE schema_version SET version = 99 WHERE version = 1")
            .await;
        let e = db
            .try_open()
            .await
            .expect_err("a newer schema must be refused");
        let StoreError::NewerSchema {
            found,
            supported,
            ref target,
        } = e
        else {
            panic!("expected NewerSchema, got {e}");
        };
        assert_eq!((found, supported), (99, SCHEMA_VERSION));
        assert_eq!(
            e.to_string(),
            format!(
                "{target} was written by a newer shipcheck (schema 99, this build knows \
                 {SCHEMA_VERSION}); upgrade shipcheck"
            )
        );
        if let Some(path) = db.sqlite_path() {
            assert_eq!(target, &path.display().to_string());
        }
        assert_eq!(e.kind(), crate::model::error::ErrorKind::Usage);
        // Nothing was changed.
        assert_eq!(store.events("run-a").await.unwrap().len(), 1);
    })
    .await;
}

#[tokio::test]
async fn a_file_that_is_not_a_database_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("shipcheck.db");
    let garbage = "this is not a database\n".repeat(200);
    std::fs::write(&path, &garbage).unwrap();
    let e = Store::open(&StoreTarget::Sqlite(path.clone()))
        .await
        .expect_err("must fail");
    assert!(matches!(e, StoreError::NotADatabase { .. }), "{e:?}");
    let msg = e.to_string();
    assert!(
        msg.starts_with(&format!(
            "{} is not a shipcheck database (file is not a database)",
            path.display()
        )),
        "{msg}"
    );
    assert_eq!(e.kind(), crate::model::error::ErrorKind::Usage);
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        garbage,
        "the file was changed"
    );

    // A SQLite database that belongs to something else is not taken over.
    let other = dir.path().join("other.db");
    {
        let pool = sqlx::SqlitePool::connect_with(
            sqlx::sqlite::SqliteConnectOptions::new()
                .filename(&other)
                .create_if_missing(true),
        )
        .await
        .unwrap();
        sqlx::query("CREATE TABLE invoices (id INTEGER)")
            .execute(&pool)
            .await
            .unwrap();
        pool.close().await;
    }
    let e = Store::open(&StoreTarget::Sqlite(other))
        .await
        .expect_err("must fail");
    assert!(
        e.to_string().contains("holding other tables: invoices"),
        "{e}"
    );

    // A directory.
    let e = Store::open(&StoreTarget::Sqlite(dir.path().to_path_buf()))
        .await
        .expect_err("must fail");
    assert!(e.to_string().contains("it is a directory"), "{e}");

    // A path that cannot be created.
    let blocked = dir.path().join("shipcheck.db").join("sub").join("x.db");
    let e = Store::open(&StoreTarget::Sqlite(blocked))
        .await
        .expect_err("must fail");
    assert!(matches!(e, StoreError::Open { .. }), "{e:?}");
    assert_eq!(e.kind(), crate::model::error::ErrorKind::Usage);
}

#[tokio::test]
async fn an_unreachable_or_malformed_postgres_url_is_a_clear_error() {
    let e = Store::open(&StoreTarget::Postgres(
        "postgres://postgres:hunter22@127.0.0.1:1/test".into(),
    ))
    .await
    .expect_err("nothing listens on port 1");
    assert!(matches!(e, StoreError::Unreachable { .. }), "{e:?}");
    assert_eq!(e.kind(), crate::model::error::ErrorKind::Integration);
    let msg = e.to_string();
    assert!(
        msg.contains("postgres://postgres:***@127.0.0.1:1/test"),
        "{msg}"
    );
    assert!(!msg.contains("hunter22"), "{msg}");

    let e = Store::open(&StoreTarget::Postgres("mysql://db/x".into()))
        .await
        .expect_err("not PostgreSQL");
    assert_eq!(
        e.to_string(),
        "cannot open the store at mysql://db/x: a PostgreSQL URL starts with postgres:// or postgresql://"
    );
    let e = Store::open(&StoreTarget::Postgres("postgres://[nope".into()))
        .await
        .expect_err("bad URL");
    assert!(matches!(e, StoreError::Open { .. }), "{e:?}");
    assert_eq!(e.kind(), crate::model::error::ErrorKind::Usage);

    // A server that answers but has no such database: a usage error, not an outage.
    if let Ok(url) = std::env::var("SHIPCHECK_TEST_DATABASE_URL") {
        let mut options: sqlx::postgres::PgConnectOptions = url.parse().expect("a PostgreSQL URL");
        options = options.database("shipcheck_no_such_database");
        let e = open_postgres(options, "test".into())
            .await
            .expect_err("no such database");
        assert!(matches!(e, StoreError::Open { .. }), "{e:?}");
        assert!(e.to_string().contains("shipcheck_no_such_database"), "{e}");
        assert_eq!(e.kind(), crate::model::error::ErrorKind::Usage);
    }
}
