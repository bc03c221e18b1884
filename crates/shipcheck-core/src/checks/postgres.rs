//! PostgreSQL checks (`external-apis.md` §5): `postgres.health` (`verify.db-connections`)
//! and `postgres.migrations` (`prepare.migrations-tested`).
//!
//! The connection count is server-wide (it is what `max_connections` limits); long queries,
//! long transactions and blocked sessions are those of the configured database.

use crate::model::error::Invalid;
use std::str::FromStr;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use sqlx::postgres::{PgConnectOptions, PgConnection};
use sqlx::{Connection, Row};

use crate::checks::gitlog;
use crate::clients::git::Repo;
use crate::model::checklist::PostgresMigrationsCheck;
use crate::model::config::DatabaseConfig;
use crate::model::outcome::Outcome;

/// Why the database could not be asked.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// The variable holds no PostgreSQL URL.
    #[error(
        "the environment variable {var} does not hold a PostgreSQL URL (postgres://user@host:5432/db)"
    )]
    BadUrl {
        /// The variable.
        var: String,
    },
    /// No connection within the timeout, or refused.
    #[error("could not connect to PostgreSQL at {target}: {reason}")]
    Connect {
        /// host:port/db.
        target: String,
        /// Why.
        reason: String,
    },
    /// A query failed.
    #[error("PostgreSQL at {target}: {what} failed: {reason}")]
    Query {
        /// host:port/db.
        target: String,
        /// Which query.
        what: String,
        /// Why.
        reason: String,
    },
}

/// A connection with the target it names in messages (never the password).
pub struct Db {
    conn: PgConnection,
    /// `host:port/db`.
    pub target: String,
    timeout: Duration,
}

impl Db {
    /// Connects to the URL in `var` (already read as `url`) within `timeout`.
    pub async fn connect(url: &str, var: &str, timeout: Duration) -> Result<Db, DbError> {
        if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
            return Err(DbError::BadUrl { var: var.into() });
        }
        let opts = PgConnectOptions::from_str(url)
            .map_err(|_| DbError::BadUrl { var: var.into() })?
            .application_name("shipcheck");
        let target = format!(
            "{}:{}/{}",
            opts.get_host(),
            opts.get_port(),
            opts.get_database().unwrap_or(opts.get_username())
        );
        let conn = match tokio::time::timeout(timeout, PgConnection::connect_with(&opts)).await {
            Ok(Ok(c)) => c,
            Ok(Err(e)) => {
                return Err(DbError::Connect {
                    target,
                    reason: crate::model::redact::redact(&e.to_string(), &[url.to_string()]),
                });
            }
            Err(_) => {
                return Err(DbError::Connect {
                    target,
                    reason: format!(
                        "no answer within {}",
                        crate::model::duration::format(timeout)
                    ),
                });
            }
        };
        Ok(Db {
            conn,
            target,
            timeout,
        })
    }

    /// Runs `sql` and returns its rows, within the timeout.
    pub async fn rows(
        &mut self,
        what: &str,
        sql: &str,
    ) -> Result<Vec<sqlx::postgres::PgRow>, DbError> {
        // `sql` is shipcheck's own or the team's `migrations_query` from its config.
        let fut = sqlx::query(sqlx::AssertSqlSafe(sql.to_string())).fetch_all(&mut self.conn);
        match tokio::time::timeout(self.timeout, fut).await {
            Ok(Ok(rows)) => Ok(rows),
            Ok(Err(e)) => Err(self.err(what, e.to_string())),
            Err(_) => Err(self.err(
                what,
                format!(
                    "no answer within {}",
                    crate::model::duration::format(self.timeout)
                ),
            )),
        }
    }

    fn err(&self, what: &str, reason: String) -> DbError {
        DbError::Query {
            target: self.target.clone(),
            what: what.into(),
            reason,
        }
    }

    /// Closes the connection.
    pub async fn close(self) {
        let _ = self.conn.close().await;
    }
}

fn cell<'r, T: sqlx::Decode<'r, sqlx::Postgres> + sqlx::Type<sqlx::Postgres>>(
    row: &'r sqlx::postgres::PgRow,
    i: usize,
) -> Option<T> {
    row.try_get::<Option<T>, _>(i).ok().flatten()
}

/// `[database]`, or the `error` outcome that says to add it.
pub fn db_config(database: Option<&DatabaseConfig>) -> Result<&DatabaseConfig, Outcome> {
    database.ok_or_else(|| {
        Outcome::error(
            "no [database] table in the config; add one with `url_env`",
            Value::Null,
        )
    })
}

/// `postgres.health`.
pub async fn health(cfg: &DatabaseConfig) -> Outcome {
    match crate::model::config::env_token(&cfg.url_env, "PostgreSQL") {
        Ok(url) => health_at(&url, cfg).await,
        Err(e) => Outcome::error(e, Value::Null),
    }
}

const CONNECTIONS: &str = "SELECT count(*) FILTER (WHERE backend_type = 'client backend')::int8, \
    current_setting('max_connections')::int8, current_setting('superuser_reserved_connections')::int8 \
    FROM pg_stat_activity";
const LONGEST_QUERY: &str = "SELECT pid, usename::text, \
    EXTRACT(EPOCH FROM (clock_timestamp() - query_start))::float8, left(query, 200) \
    FROM pg_stat_activity WHERE state = 'active' AND backend_type = 'client backend' \
    AND pid <> pg_backend_pid() AND datname = current_database() AND query_start IS NOT NULL \
    ORDER BY query_start LIMIT 1";
const LONGEST_TRANSACTION: &str = "SELECT pid, state, \
    EXTRACT(EPOCH FROM (clock_timestamp() - xact_start))::float8, left(query, 200) \
    FROM pg_stat_activity WHERE xact_start IS NOT NULL AND backend_type = 'client backend' \
    AND pid <> pg_backend_pid() AND datname = current_database() ORDER BY xact_start LIMIT 1";
const BLOCKED: &str = "SELECT pid, pg_blocking_pids(pid)::text, left(query, 200) \
    FROM pg_stat_activity WHERE cardinality(pg_blocking_pids(pid)) > 0 \
    AND datname = current_database() ORDER BY pid";

/// `postgres.health` against `url`.
pub async fn health_at(url: &str, cfg: &DatabaseConfig) -> Outcome {
    let mut db = match Db::connect(url, &cfg.url_env, cfg.timeout.get()).await {
        Ok(d) => d,
        Err(e) => return Outcome::error(e.to_string(), Value::Null),
    };
    let outcome = measure(&mut db, cfg).await;
    db.close().await;
    match outcome {
        Ok(o) => o,
        Err(e) => Outcome::error(e.to_string(), Value::Null),
    }
}

async fn measure(db: &mut Db, cfg: &DatabaseConfig) -> Result<Outcome, DbError> {
    let t0 = Instant::now();
    db.rows("SELECT 1", "SELECT 1").await?;
    let latency_ms = t0.elapsed().as_secs_f64() * 1000.0;

    let rows = db.rows("counting connections", CONNECTIONS).await?;
    let row = rows
        .first()
        .ok_or_else(|| db.err("counting connections", "no row".into()))?;
    let (clients, max, reserved) = (
        cell::<i64>(row, 0).unwrap_or(0),
        cell::<i64>(row, 1).unwrap_or(0),
        cell::<i64>(row, 2).unwrap_or(0),
    );
    let usable = (max - reserved).max(1);
    let ratio = clients as f64 / usable as f64;

    let long_q = db.rows("finding the longest query", LONGEST_QUERY).await?;
    let long_q = long_q.first().map(|r| {
        json!({
            "pid": cell::<i32>(r, 0),
            "user": cell::<String>(r, 1),
            "seconds": cell::<f64>(r, 2).unwrap_or(0.0),
            "query": cell::<String>(r, 3),
        })
    });
    let long_t = db
        .rows("finding the longest transaction", LONGEST_TRANSACTION)
        .await?;
    let long_t = long_t.first().map(|r| {
        json!({
            "pid": cell::<i32>(r, 0),
            "state": cell::<String>(r, 1),
            "seconds": cell::<f64>(r, 2).unwrap_or(0.0),
            "query": cell::<String>(r, 3),
        })
    });
    let blocked: Vec<Value> = db
        .rows("finding blocked sessions", BLOCKED)
        .await?
        .iter()
        .map(|r| {
            json!({
                "pid": cell::<i32>(r, 0),
                "blocked_by": cell::<String>(r, 1),
                "query": cell::<String>(r, 2),
            })
        })
        .collect();

    let secs = |v: &Option<Value>| {
        v.as_ref()
            .and_then(|x| x["seconds"].as_f64())
            .unwrap_or(0.0)
    };
    let (q_secs, t_secs) = (secs(&long_q), secs(&long_t));
    let q_limit = cfg.long_query.get().as_secs_f64();
    let t_limit = cfg.long_transaction.get().as_secs_f64();
    let mut problems = Vec::new();
    if ratio > cfg.max_connections_ratio {
        problems.push(format!(
            "{clients} client connections of {usable} usable ({:.0} %, limit {:.0} %)",
            ratio * 100.0,
            cfg.max_connections_ratio * 100.0
        ));
    }
    if q_secs > q_limit {
        problems.push(format!(
            "a query has run for {} (pid {}, limit {})",
            crate::model::duration::format(Duration::from_secs_f64(q_secs)),
            long_q
                .as_ref()
                .map(|v| v["pid"].clone())
                .unwrap_or_default(),
            crate::model::duration::format(cfg.long_query.get())
        ));
    }
    if t_secs > t_limit {
        problems.push(format!(
            "a transaction has been open for {} (pid {}, limit {})",
            crate::model::duration::format(Duration::from_secs_f64(t_secs)),
            long_t
                .as_ref()
                .map(|v| v["pid"].clone())
                .unwrap_or_default(),
            crate::model::duration::format(cfg.long_transaction.get())
        ));
    }
    if !blocked.is_empty() {
        problems.push(format!("{} session(s) blocked on locks", blocked.len()));
    }
    let evidence = json!({
        "target": db.target,
        "select_1_ms": latency_ms,
        "client_connections": clients,
        "max_connections": max,
        "superuser_reserved_connections": reserved,
        "usage": ratio,
        "max_connections_ratio": cfg.max_connections_ratio,
        "longest_query": long_q,
        "longest_transaction": long_t,
        "blocked": blocked,
    });
    let status = format!(
        "{}: SELECT 1 in {latency_ms:.1} ms, {clients}/{usable} connections ({:.0} %), longest query {}, longest transaction {}",
        db.target,
        ratio * 100.0,
        crate::model::duration::format(Duration::from_secs_f64(q_secs)),
        crate::model::duration::format(Duration::from_secs_f64(t_secs)),
    );
    Ok(if problems.is_empty() {
        Outcome::pass(format!("{status}, no blocked sessions"), evidence)
    } else {
        Outcome::fail(format!("{}; {status}", problems.join("; ")), evidence)
    })
}

/// The migration a changed file stands for: its file name without extensions, or its
/// directory's name when the file name has no digit (`…/20240101_add_users/migration.sql`).
pub fn migration_id(path: &str) -> String {
    let mut comps: Vec<&str> = path.split('/').filter(|c| !c.is_empty()).collect();
    let file = comps.pop().unwrap_or_default();
    let stem = file.split('.').next().unwrap_or(file);
    if stem.chars().any(|c| c.is_ascii_digit()) {
        stem.to_string()
    } else {
        comps.pop().unwrap_or(stem).to_string()
    }
}

/// Whether an applied row (a name or a version) is migration `id`.
pub fn applied_matches(row: &str, id: &str) -> bool {
    let row = row.trim();
    let version: String = id.chars().take_while(|c| c.is_ascii_digit()).collect();
    row == id
        || (!version.is_empty() && row.trim_start_matches('0') == version.trim_start_matches('0'))
}

/// The newest migration among `files` matching `globs` (ids compare as text: tools name
/// them by timestamp or sequence number).
pub fn newest_migration(files: &[String], globs: &[String]) -> Result<Option<String>, Invalid> {
    let mut b = globset::GlobSetBuilder::new();
    for g in globs {
        b.add(globset::Glob::new(g).map_err(|e| format!("migration glob {g:?}: {e}"))?);
    }
    let set = b.build().map_err(|e| e.to_string())?;
    Ok(files
        .iter()
        .filter(|f| set.is_match(f.as_str()))
        .map(|f| migration_id(f))
        .filter(|id| id.chars().any(|c| c.is_ascii_digit()))
        .max())
}

/// `postgres.migrations`.
/// `default_globs` are `[paths] migrations`, for a check without its own `paths`.
pub async fn migrations(
    spec: &PostgresMigrationsCheck,
    cfg: &DatabaseConfig,
    repo: &Repo,
    default_globs: &[String],
) -> Outcome {
    let url = match crate::model::config::env_token(&cfg.staging_url_env, "PostgreSQL (staging)") {
        Ok(u) => u,
        Err(e) => return Outcome::error(e, Value::Null),
    };
    let files = match gitlog::release_files(repo).await {
        Ok(f) => f,
        Err(e) => return Outcome::error(e, Value::Null),
    };
    let globs = spec.paths.clone().unwrap_or_else(|| default_globs.to_vec());
    let newest = match newest_migration(&files, &globs) {
        Ok(Some(n)) => n,
        Ok(None) => {
            return Outcome::error(
                format!(
                    "no migration among the {} file(s) changed in {} (globs: {}); set the check's `paths`",
                    files.len(),
                    gitlog::release_range(repo),
                    globs.join(", ")
                ),
                Value::Null,
            );
        }
        Err(e) => return Outcome::error(e, Value::Null),
    };
    migrations_at(&url, cfg, &newest).await
}

/// Whether the database at `url` has applied migration `newest`.
pub async fn migrations_at(url: &str, cfg: &DatabaseConfig, newest: &str) -> Outcome {
    let mut db = match Db::connect(url, &cfg.staging_url_env, cfg.timeout.get()).await {
        Ok(d) => d,
        Err(e) => return Outcome::error(e.to_string(), Value::Null),
    };
    let sql = cfg.migrations_sql();
    let rows = db.rows("reading the applied migrations", &sql).await;
    let target = db.target.clone();
    db.close().await;
    let rows = match rows {
        Ok(r) => r,
        Err(e) => return Outcome::error(e.to_string(), json!({ "query": sql })),
    };
    let applied: Vec<String> = rows.iter().filter_map(|r| cell::<String>(r, 0)).collect();
    let evidence = json!({
        "target": target,
        "query": sql,
        "newest_in_change_set": newest,
        "applied_count": applied.len(),
        "latest_applied": applied.iter().max(),
    });
    if applied.is_empty() {
        return Outcome::error(
            format!("{target}: the migrations query returned no rows (no data): {sql}"),
            evidence,
        );
    }
    if applied.iter().any(|r| applied_matches(r, newest)) {
        Outcome::pass(
            format!("{target} has applied the newest migration {newest}"),
            evidence,
        )
    } else {
        Outcome::fail(
            format!(
                "{target} has not applied {newest} (latest applied: {})",
                applied.iter().max().map(String::as_str).unwrap_or("none")
            ),
            evidence,
        )
    }
}

#[cfg(test)]
#[path = "postgres_tests.rs"]
mod tests;
