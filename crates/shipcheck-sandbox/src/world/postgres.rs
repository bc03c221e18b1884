//! PostgreSQL for the world, when a server answers: two fresh databases, `…_staging`
//! (every migration of the change set applied, as the team tested it) and `…_production`
//! (the migrations production has run), each with a `schema_migrations` table. When no
//! server answers, the world says why and its config has no `[database]` table, so the DB
//! items are left to a person with that reason.

use std::str::FromStr;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use sqlx::Connection;
use sqlx::postgres::{PgConnectOptions, PgConnection};

use super::PostgresChoice;
use super::repo::RepoInfo;

/// Whether the world has databases.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum PgStatus {
    /// The databases' URLs.
    Ready {
        /// The production database.
        production: String,
        /// The staging database.
        staging: String,
    },
    /// Why there are none.
    Unavailable {
        /// The reason, for the record.
        reason: String,
    },
}

/// The databases a world made (dropped at shutdown).
pub struct PgWorld {
    admin: String,
    names: Vec<String>,
}

/// Where a server is looked for, in order.
fn candidates(choice: &PostgresChoice) -> Vec<String> {
    match choice {
        PostgresChoice::Off => Vec::new(),
        PostgresChoice::Url(u) => vec![u.clone()],
        PostgresChoice::Auto => {
            let mut c = Vec::new();
            for var in ["SHIPCHECK_DEMO_POSTGRES_URL", "SHIPCHECK_TEST_DATABASE_URL"] {
                if let Ok(u) = std::env::var(var)
                    && !u.is_empty()
                {
                    c.push(u);
                }
            }
            c.push("postgres://postgres@127.0.0.1:5432/postgres".into());
            c.push("postgres://postgres@127.0.0.1:5432/test".into());
            c
        }
    }
}

/// `url` with its database replaced by `db`.
fn with_database(url: &str, db: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map(|i| i + 3).unwrap_or(0);
    let path_start = base[scheme_end..]
        .find('/')
        .map(|i| i + scheme_end)
        .unwrap_or(base.len());
    let mut out = format!("{}/{db}", &base[..path_start]);
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    out
}

async fn connect(url: &str) -> Result<PgConnection, String> {
    let opts = PgConnectOptions::from_str(url).map_err(|e| e.to_string())?;
    match tokio::time::timeout(Duration::from_secs(3), PgConnection::connect_with(&opts)).await {
        Ok(Ok(c)) => Ok(c),
        Ok(Err(e)) => Err(e.to_string()),
        Err(_) => Err("no answer within 3 s".into()),
    }
}

async fn exec(c: &mut PgConnection, sql: &str) -> Result<(), String> {
    sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_string()))
        .execute(&mut *c)
        .await
        .map(|_| ())
        .map_err(|e| e.to_string())
}

/// Creates the databases, or says why there are none.
pub(crate) async fn setup(
    choice: &PostgresChoice,
    _repo: &RepoInfo,
) -> (Option<PgWorld>, PgStatus) {
    let list = candidates(choice);
    if list.is_empty() {
        return (
            None,
            PgStatus::Unavailable {
                reason: "PostgreSQL was turned off for this rehearsal".into(),
            },
        );
    }
    let mut last = String::new();
    for admin in list {
        let mut c = match connect(&admin).await {
            Ok(c) => c,
            Err(e) => {
                last = e;
                continue;
            }
        };
        let tag = format!(
            "{:012x}",
            super::apps::mix(
                jiff::Timestamp::now().as_nanosecond() as u64 ^ u64::from(std::process::id())
            ) & 0xffff_ffff_ffff
        );
        let prod = format!("shipcheck_demo_{tag}_production");
        let staging = format!("shipcheck_demo_{tag}_staging");
        let mut made = Vec::new();
        let mut failed = None;
        for db in [&prod, &staging] {
            match exec(&mut c, &format!("CREATE DATABASE \"{db}\"")).await {
                Ok(()) => made.push(db.clone()),
                Err(e) => {
                    failed = Some(e);
                    break;
                }
            }
        }
        let _ = c.close().await;
        let world = PgWorld {
            admin: admin.clone(),
            names: made,
        };
        if let Some(e) = failed {
            world.drop_databases().await;
            last = format!("cannot create a database: {e}");
            continue;
        }
        let prod_url = with_database(&admin, &prod);
        let staging_url = with_database(&admin, &staging);
        let schema = |versions: &[&str]| {
            let values: Vec<String> = versions.iter().map(|v| format!("('{v}')")).collect();
            format!(
                "CREATE TABLE schema_migrations (version text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now());\n\
                 INSERT INTO schema_migrations (version) VALUES {};\n\
                 CREATE TABLE agents (id bigserial PRIMARY KEY, name text NOT NULL);",
                values.join(", ")
            )
        };
        let mut result = Ok(());
        for (url, versions) in [
            (&prod_url, &["20261001"][..]),
            (&staging_url, &["20261001", "20261120"][..]),
        ] {
            result = match connect(url).await {
                Ok(mut c) => {
                    let r = exec(&mut c, &schema(versions)).await;
                    let _ = c.close().await;
                    r
                }
                Err(e) => Err(e),
            };
            if result.is_err() {
                break;
            }
        }
        if let Err(e) = result {
            world.drop_databases().await;
            last = format!("cannot set the databases up: {e}");
            continue;
        }
        return (
            Some(world),
            PgStatus::Ready {
                production: prod_url,
                staging: staging_url,
            },
        );
    }
    (
        None,
        PgStatus::Unavailable {
            reason: format!("no PostgreSQL server answered at 127.0.0.1:5432 ({last})"),
        },
    )
}

impl PgWorld {
    /// Drops the world's databases (closing any session still on them).
    pub async fn drop_databases(&self) {
        let Ok(mut c) = connect(&self.admin).await else {
            return;
        };
        for db in &self.names {
            let _ = exec(
                &mut c,
                &format!("DROP DATABASE IF EXISTS \"{db}\" WITH (FORCE)"),
            )
            .await;
        }
        let _ = c.close().await;
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn database_urls() {
        assert_eq!(
            super::with_database("postgres://u@127.0.0.1:5432/test", "x"),
            "postgres://u@127.0.0.1:5432/x"
        );
        assert_eq!(
            super::with_database("postgres://u:p@h/test?sslmode=disable", "x"),
            "postgres://u:p@h/x?sslmode=disable"
        );
        assert_eq!(super::with_database("postgres://h", "x"), "postgres://h/x");
    }
}
