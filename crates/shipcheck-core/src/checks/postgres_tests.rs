//! Against the real server named by `SHIPCHECK_TEST_DATABASE_URL`
//! (`postgres://postgres@127.0.0.1:5432/test`); skipped, with a line saying so, without it.

use std::time::Duration;

use sqlx::{AssertSqlSafe, Connection, Executor};

use super::*;
use crate::model::duration::Span;
use crate::model::outcome::Status;

/// The tests look at server-wide activity: one at a time.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn url() -> Option<String> {
    match std::env::var("SHIPCHECK_TEST_DATABASE_URL") {
        Ok(u) if !u.is_empty() => Some(u),
        _ => {
            eprintln!(
                "skipped: SHIPCHECK_TEST_DATABASE_URL is not set (postgres://postgres@127.0.0.1:5432/test)"
            );
            None
        }
    }
}

fn cfg() -> DatabaseConfig {
    toml::from_str("url_env = \"SHIPCHECK_TEST_DATABASE_URL\"\nstaging_url_env = \"SHIPCHECK_TEST_DATABASE_URL\"\n").unwrap()
}

async fn connect(url: &str) -> PgConnection {
    PgConnection::connect(url).await.expect("connect")
}

/// Waits (bounded) until `sql` returns a row.
async fn until_row(conn: &mut PgConnection, sql: &'static str) {
    for _ in 0..100 {
        if sqlx::query(sql)
            .fetch_optional(&mut *conn)
            .await
            .unwrap()
            .is_some()
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("never saw a row for {sql}");
}

#[test]
fn migration_ids_and_the_newest_one() {
    assert_eq!(
        migration_id("db/migrations/20240101120000_add_users.up.sql"),
        "20240101120000_add_users"
    );
    assert_eq!(
        migration_id("prisma/migrations/20240315_x/migration.sql"),
        "20240315_x"
    );
    assert!(applied_matches(
        "20240101120000",
        "20240101120000_add_users"
    ));
    assert!(applied_matches("20240315_x", "20240315_x"));
    assert!(applied_matches("3", "0003_users"));
    assert!(!applied_matches("20240101", "20240315_x"));
    let files: Vec<String> = [
        "src/main.rs",
        "db/migrations/20240101_a.sql",
        "db/migrations/20240301_b.sql",
        "db/migrations/README.md",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let globs = vec!["**/migrations/**".to_string()];
    assert_eq!(
        newest_migration(&files, &globs).unwrap().as_deref(),
        Some("20240301_b")
    );
    assert_eq!(newest_migration(&files[..1], &globs).unwrap(), None);
}

#[tokio::test]
async fn healthy_then_connections_over_a_low_threshold() {
    let Some(url) = url() else { return };
    let _g = SERIAL.lock().await;
    let mut c = cfg();
    let o = health_at(&url, &c).await;
    assert_eq!(o.status, Status::Pass, "{}", o.summary);
    assert!(o.summary.contains("no blocked sessions"));
    let clients = o.evidence["client_connections"].as_i64().unwrap() as f64;
    let usable = (o.evidence["max_connections"].as_i64().unwrap()
        - o.evidence["superuser_reserved_connections"]
            .as_i64()
            .unwrap()) as f64;
    // A threshold just above what is open now; five more sessions cross it.
    c.max_connections_ratio = (clients + 2.5) / usable;
    let mut extra = Vec::new();
    for _ in 0..5 {
        extra.push(connect(&url).await);
    }
    let o = health_at(&url, &c).await;
    assert_eq!(o.status, Status::Fail, "{}", o.summary);
    assert!(o.summary.contains("client connections of"), "{}", o.summary);
    for e in extra {
        let _ = e.close().await;
    }
}

#[tokio::test]
async fn a_long_query_fails_a_tiny_threshold() {
    let Some(url) = url() else { return };
    let _g = SERIAL.lock().await;
    let sleeper_url = url.clone();
    let sleeper = tokio::spawn(async move {
        let mut conn = connect(&sleeper_url).await;
        let _ = sqlx::query("SELECT pg_sleep(2)").execute(&mut conn).await;
        let _ = conn.close().await;
    });
    let mut watch = connect(&url).await;
    until_row(
        &mut watch,
        "SELECT 1 FROM pg_stat_activity WHERE state = 'active' AND query = 'SELECT pg_sleep(2)'",
    )
    .await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut c = cfg();
    c.long_query = Span::millis(100);
    let o = health_at(&url, &c).await;
    assert_eq!(o.status, Status::Fail, "{}", o.summary);
    assert!(o.summary.contains("a query has run for"), "{}", o.summary);
    assert!(
        o.evidence["longest_query"]["query"]
            .as_str()
            .unwrap()
            .contains("pg_sleep")
    );
    sleeper.await.unwrap();
    let _ = watch.close().await;
}

#[tokio::test]
async fn a_blocked_session_fails() {
    let Some(url) = url() else { return };
    let _g = SERIAL.lock().await;
    let schema = format!("shipcheck_t_{}", uuid::Uuid::now_v7().simple());
    let mut a = connect(&url).await;
    a.execute(AssertSqlSafe(format!(
        "CREATE SCHEMA {schema}; CREATE TABLE {schema}.t (id int PRIMARY KEY, v int); INSERT INTO {schema}.t VALUES (1, 0);"
    )))
    .await
    .unwrap();
    a.execute("BEGIN").await.unwrap();
    a.execute(AssertSqlSafe(format!(
        "UPDATE {schema}.t SET v = 1 WHERE id = 1"
    )))
    .await
    .unwrap();
    let (b_url, b_schema) = (url.clone(), schema.clone());
    let blocked = tokio::spawn(async move {
        let mut b = connect(&b_url).await;
        b.execute(AssertSqlSafe(format!(
            "UPDATE {b_schema}.t SET v = 2 WHERE id = 1"
        )))
        .await
        .unwrap();
        let _ = b.close().await;
    });
    let mut watch = connect(&url).await;
    until_row(
        &mut watch,
        "SELECT 1 FROM pg_stat_activity WHERE cardinality(pg_blocking_pids(pid)) > 0",
    )
    .await;
    let o = health_at(&url, &cfg()).await;
    assert_eq!(o.status, Status::Fail, "{}", o.summary);
    assert!(
        o.summary.contains("1 session(s) blocked on locks"),
        "{}",
        o.summary
    );
    a.execute("ROLLBACK").await.unwrap();
    blocked.await.unwrap();
    a.execute(AssertSqlSafe(format!("DROP SCHEMA {schema} CASCADE")))
        .await
        .unwrap();
    let _ = a.close().await;
    let _ = watch.close().await;
}

#[tokio::test]
async fn the_migration_table_holds_the_newest_migration() {
    let Some(url) = url() else { return };
    let schema = format!("shipcheck_t_{}", uuid::Uuid::now_v7().simple());
    let mut a = connect(&url).await;
    a.execute(AssertSqlSafe(format!(
        "CREATE SCHEMA {schema}; CREATE TABLE {schema}.schema_migrations (version text PRIMARY KEY); \
         INSERT INTO {schema}.schema_migrations VALUES ('20240101120000'), ('20240315090000');"
    )))
    .await
    .unwrap();
    let mut c = cfg();
    c.migrations_table = format!("{schema}.schema_migrations");
    let o = migrations_at(&url, &c, "20240315090000_add_users").await;
    assert_eq!(o.status, Status::Pass, "{}", o.summary);
    let o = migrations_at(&url, &c, "20250101000000_new_table").await;
    assert_eq!(o.status, Status::Fail, "{}", o.summary);
    assert!(
        o.summary.contains("latest applied: 20240315090000"),
        "{}",
        o.summary
    );
    // A team's own query.
    c.migrations_query = Some(format!(
        "SELECT version || '_add_users' FROM {schema}.schema_migrations"
    ));
    let o = migrations_at(&url, &c, "20240315090000_add_users").await;
    assert_eq!(o.status, Status::Pass, "{}", o.summary);
    // A table that is not there.
    c.migrations_query = None;
    c.migrations_table = format!("{schema}.nope");
    let o = migrations_at(&url, &c, "20240315090000_add_users").await;
    assert_eq!(o.status, Status::Error, "{}", o.summary);
    assert!(o.summary.contains("does not exist"), "{}", o.summary);
    a.execute(AssertSqlSafe(format!("DROP SCHEMA {schema} CASCADE")))
        .await
        .unwrap();
    let _ = a.close().await;
}

#[tokio::test]
async fn unreachable_and_bad_urls_are_errors() {
    let c = cfg();
    let o = health_at("postgres://nobody@127.0.0.1:1/x", &c).await;
    assert_eq!(o.status, Status::Error);
    assert!(
        o.summary
            .contains("could not connect to PostgreSQL at 127.0.0.1:1/x"),
        "{}",
        o.summary
    );
    let o = health_at("mysql://x", &c).await;
    assert_eq!(o.status, Status::Error);
    assert!(
        o.summary
            .contains("SHIPCHECK_TEST_DATABASE_URL does not hold"),
        "{}",
        o.summary
    );
}
