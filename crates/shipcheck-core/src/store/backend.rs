//! The two backends behind one handle: opening them, the macro that runs one query body on
//! either pool, write transactions, and the stored time format.

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use jiff::Timestamp;
use jiff::fmt::temporal::DateTimePrinter;
use sqlx::postgres::{PgConnectOptions, PgConnection, PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{Connection, Database, Postgres, Sqlite, Transaction};

use crate::store::{StoreError, StoreTarget, schema};

/// How long a SQLite writer waits for another to finish.
const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(10);
/// How long to wait for a pooled connection (PostgreSQL: also for the server to answer).
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(10);

/// A handle on the store. Cheap to clone: clones share one connection pool.
#[derive(Clone)]
pub struct Store {
    pub(super) pool: Pool,
    pub(super) target: String,
}

/// One of the two pools.
#[derive(Clone)]
pub(super) enum Pool {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// Runs `$body` with `$pool` bound to whichever pool the store has. The body is compiled once
/// per backend, so it must be written in SQL both accept (`$1` placeholders, `ON CONFLICT`,
/// `LIMIT`, TEXT and BIGINT columns). `return`, `?` and `continue` act on the enclosing
/// function or loop.
macro_rules! on_pool {
    ($store:expr, $pool:ident => $body:expr) => {
        match &$store.pool {
            $crate::store::backend::Pool::Sqlite($pool) => $body,
            $crate::store::backend::Pool::Postgres($pool) => $body,
        }
    };
}
pub(super) use on_pool;

/// Begins transactions, the way each backend needs them.
pub(super) trait Begin {
    /// The database.
    type Db: Database;
    /// A transaction that writes. SQLite: `BEGIN IMMEDIATE`, so the write lock is taken up
    /// front and concurrent writers queue on the busy timeout instead of failing when a read
    /// turns into a write. PostgreSQL: a plain `BEGIN` (row locks and unique indexes do the
    /// rest).
    async fn begin_write(&self) -> Result<Transaction<'static, Self::Db>, sqlx::Error>;
    /// A read-only transaction whose reads all see one snapshot. SQLite in WAL mode: a
    /// deferred `BEGIN`. PostgreSQL: `REPEATABLE READ` (read committed would take a new
    /// snapshot per statement).
    async fn begin_snapshot(&self) -> Result<Transaction<'static, Self::Db>, sqlx::Error>;
}

impl Begin for SqlitePool {
    type Db = Sqlite;
    async fn begin_write(&self) -> Result<Transaction<'static, Sqlite>, sqlx::Error> {
        self.begin_with("BEGIN IMMEDIATE").await
    }
    async fn begin_snapshot(&self) -> Result<Transaction<'static, Sqlite>, sqlx::Error> {
        self.begin().await
    }
}

impl Begin for PgPool {
    type Db = Postgres;
    async fn begin_write(&self) -> Result<Transaction<'static, Postgres>, sqlx::Error> {
        self.begin().await
    }
    async fn begin_snapshot(&self) -> Result<Transaction<'static, Postgres>, sqlx::Error> {
        self.begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            .await
    }
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("backend", &self.backend())
            .field("target", &self.target)
            .finish()
    }
}

impl Store {
    /// Opens the store, creating the SQLite file and its directory when missing, and brings
    /// its schema up to date. SQLite runs in WAL mode with `synchronous=FULL` and a 10 s busy
    /// timeout.
    pub async fn open(target: &StoreTarget) -> Result<Store, StoreError> {
        match target {
            StoreTarget::Sqlite(path) => open_sqlite(path).await,
            StoreTarget::Postgres(url) => {
                let label = redact_url(url);
                if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
                    return Err(StoreError::Open {
                        target: label,
                        source: sqlx::Error::Configuration(
                            "a PostgreSQL URL starts with postgres:// or postgresql://".into(),
                        ),
                    });
                }
                let options =
                    PgConnectOptions::from_str(url).map_err(|source| StoreError::Open {
                        target: label.clone(),
                        source,
                    })?;
                open_postgres(options, label).await
            }
        }
    }

    /// `"sqlite"` or `"postgres"`.
    pub fn backend(&self) -> &'static str {
        match self.pool {
            Pool::Sqlite(_) => "sqlite",
            Pool::Postgres(_) => "postgres",
        }
    }

    /// Where the store is: the path, or the URL with any password masked.
    pub fn target(&self) -> &str {
        &self.target
    }
}

async fn open_sqlite(path: &Path) -> Result<Store, StoreError> {
    let target = path.display().to_string();
    let open_err = |source: sqlx::Error| classify_sqlite(&target, source);
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        tokio::fs::create_dir_all(dir).await.map_err(|e| {
            open_err(sqlx::Error::Configuration(
                format!("cannot create directory {}: {e}", dir.display()).into(),
            ))
        })?;
    }
    if path.is_dir() {
        return Err(StoreError::NotADatabase {
            target,
            reason: "it is a directory".into(),
        });
    }
    let options = SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Full)
        .busy_timeout(SQLITE_BUSY_TIMEOUT)
        .foreign_keys(true);
    // Two processes opening a fresh store at once can meet SQLite's lock while one of them
    // switches to WAL or migrates (that lock is not always waited for by the busy timeout):
    // try again, a bounded number of times.
    let mut attempt = 0u32;
    loop {
        attempt += 1;
        match connect_and_migrate(&options, &target).await {
            Err(e) if attempt < 20 && e.to_string().contains("database is locked") => {
                tokio::time::sleep(std::time::Duration::from_millis(
                    50 * u64::from(attempt.min(8)),
                ))
                .await;
            }
            other => return other,
        }
    }
}

async fn connect_and_migrate(
    options: &SqliteConnectOptions,
    target: &str,
) -> Result<Store, StoreError> {
    let pool = SqlitePoolOptions::new()
        .max_connections(4)
        .acquire_timeout(ACQUIRE_TIMEOUT)
        // no background maintenance task: sqlx 0.9.0's reaper can spin forever in its idle
        // queue (seen on this machine); a CLI's connections live for one command anyway.
        .idle_timeout(None)
        .max_lifetime(None)
        .connect_with(options.clone())
        .await
        .map_err(|source| classify_sqlite(target, source))?;
    let store = Store {
        pool: Pool::Sqlite(pool),
        target: target.to_string(),
    };
    let migrated = schema::migrate(&store).await.map_err(|e| match e {
        StoreError::Database(source) => classify_sqlite(&store.target, source),
        other => other,
    });
    if let Err(e) = migrated {
        if let Pool::Sqlite(pool) = &store.pool {
            pool.close().await;
        }
        return Err(e);
    }
    Ok(store)
}

/// Opens a PostgreSQL store from connect options; `label` names it in messages.
pub(super) async fn open_postgres(
    options: PgConnectOptions,
    label: String,
) -> Result<Store, StoreError> {
    let classify = |source: sqlx::Error| match source {
        sqlx::Error::Io(_) | sqlx::Error::Tls(_) | sqlx::Error::PoolTimedOut => {
            StoreError::Unreachable {
                target: label.clone(),
                source,
            }
        }
        source => StoreError::Open {
            target: label.clone(),
            source,
        },
    };
    // One direct connection first: the pool retries a refused connection until its acquire
    // timeout, and a server that is down should be reported at once.
    let probe = tokio::time::timeout(ACQUIRE_TIMEOUT, PgConnection::connect_with(&options))
        .await
        .map_err(|_| {
            classify(sqlx::Error::Io(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                format!("no answer within {} s", ACQUIRE_TIMEOUT.as_secs()),
            )))
        })?
        .map_err(classify)?;
    let _ = probe.close().await;
    let pool = PgPoolOptions::new()
        .max_connections(5)
        .acquire_timeout(ACQUIRE_TIMEOUT)
        // no background maintenance task: sqlx 0.9.0's reaper can spin forever in its idle
        // queue (seen on this machine); a CLI's connections live for one command anyway.
        .idle_timeout(None)
        .max_lifetime(None)
        .connect_with(options)
        .await
        .map_err(classify)?;
    let store = Store {
        pool: Pool::Postgres(pool),
        target: label,
    };
    schema::migrate(&store).await?;
    Ok(store)
}

/// SQLite's "not a database" (26) and "malformed" (11) become [`StoreError::NotADatabase`];
/// anything else while opening is [`StoreError::Open`].
fn classify_sqlite(target: &str, source: sqlx::Error) -> StoreError {
    if let Some(db) = source.as_database_error() {
        let code = db.code();
        let primary = code
            .as_deref()
            .and_then(|c| c.parse::<i32>().ok())
            .map(|c| c & 0xff);
        if matches!(primary, Some(26 | 11)) {
            return StoreError::NotADatabase {
                target: target.to_string(),
                reason: db.message().to_string(),
            };
        }
    }
    StoreError::Open {
        target: target.to_string(),
        source,
    }
}

/// The URL with the password (in the authority or a `password=` parameter) masked.
pub(super) fn redact_url(url: &str) -> String {
    let mut out = url.to_string();
    if let Some(scheme_end) = out.find("://") {
        let rest_start = scheme_end + 3;
        let authority_end = out[rest_start..]
            .find(['/', '?', '#'])
            .map_or(out.len(), |i| rest_start + i);
        if let Some(at) = out[rest_start..authority_end].rfind('@') {
            let userinfo = &out[rest_start..rest_start + at];
            if let Some(colon) = userinfo.find(':') {
                out.replace_range(rest_start + colon + 1..rest_start + at, "***");
            }
        }
    }
    if let Some(q) = out.find('?') {
        let (base, query) = out.split_at(q + 1);
        let masked: Vec<String> = query
            .split('&')
            .map(|pair| match pair.split_once('=') {
                Some((k, _)) if k.eq_ignore_ascii_case("password") => format!("{k}=***"),
                _ => pair.to_string(),
            })
            .collect();
        out = format!("{base}{}", masked.join("&"));
    }
    out
}

/// The stored form of a time: RFC 3339 in UTC with nine fractional digits
/// (`2026-11-26T10:00:00.000000000Z`), so text order is time order.
pub(super) fn ts_text(t: Timestamp) -> String {
    const PRINTER: DateTimePrinter = DateTimePrinter::new().precision(Some(9));
    PRINTER.timestamp_to_string(&t)
}

/// Reads a stored time back.
pub(super) fn parse_ts(text: &str) -> Result<Timestamp, String> {
    text.parse::<Timestamp>()
        .map_err(|e| format!("`{text}` is not an RFC 3339 time ({e})"))
}

/// Whether the error is a unique or primary-key violation.
pub(super) fn is_unique_violation(e: &sqlx::Error) -> bool {
    e.as_database_error()
        .is_some_and(|d| d.is_unique_violation())
}

/// A count or limit as a bound value.
pub(super) fn to_i64(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod unit {
    use super::*;

    #[test]
    fn masks_passwords() {
        assert_eq!(
            redact_url("postgres://u:hunter22@db:5432/x?sslmode=require&password=p"),
            "postgres://u:***@db:5432/x?sslmode=require&password=***"
        );
        assert_eq!(
            redact_url("postgres://postgres@127.0.0.1:5432/test"),
            "postgres://postgres@127.0.0.1:5432/test"
        );
    }

    #[test]
    fn stored_times_sort_as_text_and_round_trip() {
        let a: Timestamp = "2026-11-26T10:00:00Z".parse().unwrap();
        let b: Timestamp = "2026-11-26T10:00:00.5Z".parse().unwrap();
        assert!(ts_text(a) < ts_text(b));
        assert_eq!(ts_text(a), "2026-11-26T10:00:00.000000000Z");
        assert_eq!(parse_ts(&ts_text(b)).unwrap(), b);
        assert!(parse_ts("yesterday").is_err());
    }
}
