//! The store's test suite, written once and run on both backends: SQLite in a temporary
//! directory always, PostgreSQL in a fresh schema when `SHIPCHECK_TEST_DATABASE_URL` is set.

use std::future::Future;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;

use jiff::Timestamp;
use sqlx::postgres::{PgConnectOptions, PgConnection};
use sqlx::{AssertSqlSafe, Connection, Executor};

use crate::model::checklist::Checklist;
use crate::model::event::{Event, NoteKind};
use crate::store::backend::{on_pool, open_postgres, redact_url};
use crate::store::{Store, StoreError, StoreTarget};

mod bad_input;
mod cases;
mod concurrency;
mod incremental;
mod people;
mod scale;

/// One test database: a SQLite file in a temporary directory, or a PostgreSQL schema.
#[derive(Clone)]
pub(super) struct TestDb {
    kind: Kind,
}

#[derive(Clone)]
enum Kind {
    Sqlite {
        _dir: Arc<tempfile::TempDir>,
        path: PathBuf,
    },
    Postgres {
        options: Box<PgConnectOptions>,
        label: String,
    },
}

impl TestDb {
    /// Opens a new handle (its own pool) on the test database.
    pub(super) async fn try_open(&self) -> Result<Store, StoreError> {
        match &self.kind {
            Kind::Sqlite { path, .. } => Store::open(&StoreTarget::Sqlite(path.clone())).await,
            Kind::Postgres { options, label } => {
                open_postgres((**options).clone(), label.clone()).await
            }
        }
    }

    /// [`TestDb::try_open`], which must succeed.
    pub(super) async fn open(&self) -> Store {
        match self.try_open().await {
            Ok(store) => store,
            Err(e) => panic!("cannot open the {} test store: {e}", self.backend()),
        }
    }

    pub(super) fn backend(&self) -> &'static str {
        match self.kind {
            Kind::Sqlite { .. } => "sqlite",
            Kind::Postgres { .. } => "postgres",
        }
    }

    pub(super) fn sqlite_path(&self) -> Option<&Path> {
        match &self.kind {
            Kind::Sqlite { path, .. } => Some(path),
            Kind::Postgres { .. } => None,
        }
    }
}

/// Runs `case` against a fresh SQLite store, then against a fresh PostgreSQL schema when
/// `SHIPCHECK_TEST_DATABASE_URL` is set (and says it skipped it otherwise). The schema is
/// dropped afterwards even when the case fails.
pub(super) async fn for_each_backend<F, Fut>(case: F)
where
    F: Fn(TestDb) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let dir = Arc::new(tempfile::tempdir().expect("a temporary directory"));
    let path = dir.path().join(".shipcheck").join("shipcheck.db");
    let db = TestDb {
        kind: Kind::Sqlite { _dir: dir, path },
    };
    finish("sqlite", tokio::spawn(case(db)).await);

    let url = match std::env::var("SHIPCHECK_TEST_DATABASE_URL") {
        Ok(url) if !url.trim().is_empty() => url,
        _ => {
            say_postgres_skipped();
            return;
        }
    };
    let base = PgConnectOptions::from_str(&url)
        .unwrap_or_else(|e| panic!("SHIPCHECK_TEST_DATABASE_URL is not a PostgreSQL URL: {e}"));
    let mut admin = PgConnection::connect_with(&base)
        .await
        .unwrap_or_else(|e| panic!("cannot reach PostgreSQL at {}: {e}", redact_url(&url)));
    let schema = format!("sc_{}", uuid::Uuid::now_v7().simple());
    admin
        .execute(AssertSqlSafe(format!("CREATE SCHEMA {schema}")))
        .await
        .unwrap_or_else(|e| panic!("cannot create schema {schema}: {e}"));
    let db = TestDb {
        kind: Kind::Postgres {
            options: Box::new(base.options([("search_path", schema.as_str())])),
            label: format!("{} (schema {schema})", redact_url(&url)),
        },
    };
    let outcome = tokio::spawn(case(db)).await;
    if let Err(e) = admin
        .execute(AssertSqlSafe(format!("DROP SCHEMA {schema} CASCADE")))
        .await
    {
        eprintln!("could not drop test schema {schema}: {e}");
    }
    let _ = admin.close().await;
    finish("postgres", outcome);
}

/// Says once per test binary, past the test harness's output capture, that the PostgreSQL half
/// did not run.
fn say_postgres_skipped() {
    use std::io::Write;
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let _ = writeln!(
            std::io::stderr(),
            "PostgreSQL store tests skipped: SHIPCHECK_TEST_DATABASE_URL not set"
        );
    });
}

fn finish(backend: &str, outcome: Result<(), tokio::task::JoinError>) {
    if let Err(e) = outcome {
        eprintln!("store test failed on {backend}");
        if e.is_panic() {
            std::panic::resume_unwind(e.into_panic());
        }
        panic!("store test on {backend} did not finish: {e}");
    }
}

impl Store {
    /// Runs raw SQL (tampering, test set-up); returns the rows affected.
    pub(super) async fn exec_raw(&self, sql: &str) -> u64 {
        let result = on_pool!(self, pool => {
            sqlx::raw_sql(AssertSqlSafe(sql.to_string()))
                .execute(pool)
                .await
                .map(|r| r.rows_affected())
        });
        result.unwrap_or_else(|e| panic!("raw SQL failed on {}: {e}\n{sql}", self.backend()))
    }
}

/// A time from RFC 3339 text.
pub(super) fn ts(text: &str) -> Timestamp {
    text.parse()
        .unwrap_or_else(|e| panic!("bad test time {text}: {e}"))
}

/// A `run_started` event with the built-in checklist.
pub(super) fn started(project: &str, env: &str, by: &str) -> Event {
    Event::RunStarted {
        project: project.into(),
        env: env.into(),
        by: by.into(),
        scheduled_at: None,
        config_digest: "0".repeat(64),
        config: None,
        items: Checklist::builtin().items,
    }
}

/// A general note.
pub(super) fn note(text: &str) -> Event {
    Event::NoteAdded {
        kind: NoteKind::General,
        text: text.into(),
        by: "ada".into(),
    }
}

/// What an append after the first phase leaves in the `runs` row.
pub(super) fn active() -> crate::store::RunSummaryUpdate {
    crate::store::RunSummaryUpdate {
        phase: Some("prepare".into()),
        status: "active".into(),
    }
}

/// Starts run `id` of `project`/`env` at `at`, which must succeed.
pub(super) async fn start(store: &Store, id: &str, project: &str, env: &str, at: &str) {
    if let Err(e) = store
        .create_run(
            id,
            project,
            env,
            "ada",
            ts(at),
            &started(project, env, "ada"),
        )
        .await
    {
        panic!("create_run {id}: {e}");
    }
}
