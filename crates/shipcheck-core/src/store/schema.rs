//! Migrations: embedded SQL per backend, applied in order inside one write transaction, each
//! recorded in `schema_version`. A store whose highest version is newer than this build's is
//! refused, untouched.

use crate::store::StoreError;
use crate::store::backend::{Begin, Pool, Store, on_pool, ts_text};

/// The newest schema this build knows.
pub const SCHEMA_VERSION: i64 = 2;

/// One step of the schema.
struct Migration {
    version: i64,
    sqlite: &'static str,
    postgres: &'static str,
}

/// Every migration, oldest first. Never edit one that has shipped: add the next.
const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        sqlite: V1_SQLITE,
        postgres: V1_POSTGRES,
    },
    Migration {
        version: 2,
        sqlite: V2_SQLITE,
        postgres: V2_POSTGRES,
    },
];

/// Version 2 on SQLite: the team's people. A token is kept only as its SHA-256.
const V2_SQLITE: &str = r#"
CREATE TABLE people (
    name       TEXT NOT NULL PRIMARY KEY,
    email      TEXT NOT NULL UNIQUE,
    role       TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    added_at   TEXT NOT NULL,
    added_by   TEXT NOT NULL
) STRICT;
"#;

/// Version 2 on PostgreSQL.
const V2_POSTGRES: &str = r#"
CREATE TABLE people (
    name       TEXT NOT NULL PRIMARY KEY,
    email      TEXT NOT NULL UNIQUE,
    role       TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    added_at   TEXT NOT NULL,
    added_by   TEXT NOT NULL
);
"#;

/// Version 1 on SQLite: STRICT tables, so a stored value always has its declared type.
const V1_SQLITE: &str = r#"
CREATE TABLE runs (
    id          TEXT NOT NULL PRIMARY KEY,
    project     TEXT NOT NULL,
    env         TEXT NOT NULL,
    started_by  TEXT NOT NULL,
    started_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    phase       TEXT,
    status      TEXT NOT NULL,
    event_count INTEGER NOT NULL,
    head_hash   TEXT NOT NULL
) STRICT;
CREATE INDEX runs_by_start ON runs (started_at DESC, id DESC);
CREATE INDEX runs_by_project_start ON runs (project, started_at DESC, id DESC);
CREATE INDEX runs_by_project_env_start ON runs (project, env, started_at DESC, id DESC);

CREATE TABLE events (
    run_id    TEXT NOT NULL REFERENCES runs (id),
    seq       INTEGER NOT NULL,
    at        TEXT NOT NULL,
    kind      TEXT NOT NULL,
    payload   TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash      TEXT NOT NULL,
    PRIMARY KEY (run_id, seq)
) STRICT;

CREATE TABLE locks (
    project TEXT NOT NULL,
    env     TEXT NOT NULL,
    run_id  TEXT NOT NULL REFERENCES runs (id),
    holder  TEXT NOT NULL,
    since   TEXT NOT NULL,
    PRIMARY KEY (project, env)
) STRICT;

CREATE TABLE lock_breaks (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    project   TEXT NOT NULL,
    env       TEXT NOT NULL,
    run_id    TEXT NOT NULL,
    holder    TEXT NOT NULL,
    broken_by TEXT NOT NULL,
    reason    TEXT NOT NULL,
    at        TEXT NOT NULL
) STRICT;
CREATE INDEX lock_breaks_by_project ON lock_breaks (project, at);
"#;

/// Version 1 on PostgreSQL.
const V1_POSTGRES: &str = r#"
CREATE TABLE runs (
    id          TEXT NOT NULL PRIMARY KEY,
    project     TEXT NOT NULL,
    env         TEXT NOT NULL,
    started_by  TEXT NOT NULL,
    started_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    phase       TEXT,
    status      TEXT NOT NULL,
    event_count BIGINT NOT NULL,
    head_hash   TEXT NOT NULL
);
CREATE INDEX runs_by_start ON runs (started_at DESC, id DESC);
CREATE INDEX runs_by_project_start ON runs (project, started_at DESC, id DESC);
CREATE INDEX runs_by_project_env_start ON runs (project, env, started_at DESC, id DESC);

CREATE TABLE events (
    run_id    TEXT NOT NULL REFERENCES runs (id),
    seq       BIGINT NOT NULL,
    at        TEXT NOT NULL,
    kind      TEXT NOT NULL,
    payload   TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash      TEXT NOT NULL,
    PRIMARY KEY (run_id, seq)
);

CREATE TABLE locks (
    project TEXT NOT NULL,
    env     TEXT NOT NULL,
    run_id  TEXT NOT NULL REFERENCES runs (id),
    holder  TEXT NOT NULL,
    since   TEXT NOT NULL,
    PRIMARY KEY (project, env)
);

CREATE TABLE lock_breaks (
    id        BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    project   TEXT NOT NULL,
    env       TEXT NOT NULL,
    run_id    TEXT NOT NULL,
    holder    TEXT NOT NULL,
    broken_by TEXT NOT NULL,
    reason    TEXT NOT NULL,
    at        TEXT NOT NULL
);
CREATE INDEX lock_breaks_by_project ON lock_breaks (project, at);
"#;

const CREATE_VERSION_TABLE: &str = "CREATE TABLE IF NOT EXISTS schema_version \
     (version BIGINT NOT NULL PRIMARY KEY, applied_at TEXT NOT NULL)";

/// An arbitrary constant key for PostgreSQL's advisory lock around migrations.
const PG_MIGRATION_LOCK: i64 = 0x7368_6970_6368_6b31;

/// Brings the store to [`SCHEMA_VERSION`]. Cheap when it is already there (one read, no
/// write lock). Concurrent openers of a fresh store serialize on the write transaction
/// (SQLite) or an advisory lock (PostgreSQL) and re-read the version inside it.
pub(super) async fn migrate(store: &Store) -> Result<(), StoreError> {
    let found = current_version(store).await?;
    check_not_newer(store, found)?;
    if found == Some(SCHEMA_VERSION) {
        return Ok(());
    }
    let now = ts_text(jiff::Timestamp::now());
    let sqlite = store.backend() == "sqlite";
    on_pool!(store, pool => {
        let mut tx = pool.begin_write().await?;
        if !sqlite {
            sqlx::query("SELECT pg_advisory_xact_lock($1)")
                .bind(PG_MIGRATION_LOCK)
                .execute(&mut *tx)
                .await?;
        }
        if sqlite {
            // Re-read inside the write lock: another opener may have migrated meanwhile.
            let names: Vec<String> = sqlx::query_scalar(
                "SELECT name FROM sqlite_master WHERE type = 'table' \
                 AND name NOT LIKE 'sqlite%' ORDER BY name",
            )
            .fetch_all(&mut *tx)
            .await?;
            if !names.is_empty() && !names.iter().any(|n| n == "schema_version") {
                let others: Vec<&str> = names.iter().take(5).map(String::as_str).collect();
                return Err(StoreError::NotADatabase {
                    target: store.target.clone(),
                    reason: format!(
                        "it is a SQLite database holding other tables: {}",
                        others.join(", ")
                    ),
                });
            }
        }
        sqlx::query(CREATE_VERSION_TABLE).execute(&mut *tx).await?;
        let current: i64 =
            sqlx::query_scalar("SELECT COALESCE(MAX(version), 0) FROM schema_version")
                .fetch_one(&mut *tx)
                .await?;
        check_not_newer(store, Some(current))?;
        for m in MIGRATIONS.iter().filter(|m| m.version > current) {
            let sql = if sqlite { m.sqlite } else { m.postgres };
            sqlx::raw_sql(sql)
                .execute(&mut *tx)
                .await
                .map_err(|source| migration_error(store, m.version, source))?;
            sqlx::query("INSERT INTO schema_version (version, applied_at) VALUES ($1, $2)")
                .bind(m.version)
                .bind(&now)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
    });
    Ok(())
}

/// The highest recorded version; `None` when there is no `schema_version` table yet.
async fn current_version(store: &Store) -> Result<Option<i64>, StoreError> {
    let exists: i64 = match &store.pool {
        Pool::Sqlite(pool) => sqlx::query_scalar(
            "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'",
        )
        .fetch_one(pool)
        .await?,
        Pool::Postgres(pool) => {
            sqlx::query_scalar(
                "SELECT COUNT(*) FROM pg_catalog.pg_tables \
                 WHERE tablename = 'schema_version' AND schemaname = current_schema()",
            )
            .fetch_one(pool)
            .await?
        }
    };
    if exists == 0 {
        return Ok(None);
    }
    let version: i64 = on_pool!(store, pool => {
        sqlx::query_scalar("SELECT COALESCE(MAX(version), 0) FROM schema_version")
            .fetch_one(pool)
            .await?
    });
    Ok(Some(version))
}

fn check_not_newer(store: &Store, found: Option<i64>) -> Result<(), StoreError> {
    match found {
        Some(found) if found > SCHEMA_VERSION => Err(StoreError::NewerSchema {
            found,
            supported: SCHEMA_VERSION,
            target: store.target.clone(),
        }),
        _ => Ok(()),
    }
}

fn migration_error(store: &Store, version: i64, source: sqlx::Error) -> StoreError {
    StoreError::Migration {
        target: store.target.clone(),
        version,
        source,
    }
}
