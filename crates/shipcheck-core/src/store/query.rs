//! Reading runs: one by id or prefix, the newest first, the latest of a project.

use crate::store::backend::{Store, on_pool, parse_ts, to_i64};
use crate::store::{RunSummary, StoreError};

/// A `runs` row as selected by [`run_select!`].
type RunRow = (
    String,
    String,
    String,
    String,
    String,
    String,
    Option<String>,
    String,
    i64,
);

/// `SELECT <the summary columns> FROM runs <tail>`, as one static string.
macro_rules! run_select {
    ($tail:literal) => {
        concat!(
            "SELECT id, project, env, started_by, started_at, updated_at, phase, status, \
             event_count FROM runs ",
            $tail
        )
    };
}

/// How many ids an ambiguous prefix reports.
const AMBIGUOUS_SHOWN: usize = 10;

impl Store {
    /// The run's summary; `None` when there is no such run.
    pub async fn run_summary(&self, run_id: &str) -> Result<Option<RunSummary>, StoreError> {
        let row: Option<RunRow> = on_pool!(self, pool => {
            sqlx::query_as(run_select!("WHERE id = $1"))
                .bind(run_id)
                .fetch_optional(pool)
                .await?
        });
        row.map(summary).transpose()
    }

    /// The run with this exact id, or the one run whose id starts with it.
    /// [`StoreError::NotFound`] when none does, [`StoreError::Ambiguous`] (newest first, at
    /// most ten) when several do. Ids compare case-sensitively on both backends.
    pub async fn find_run(&self, id_or_prefix: &str) -> Result<RunSummary, StoreError> {
        if let Some(run) = self.run_summary(id_or_prefix).await? {
            return Ok(run);
        }
        if id_or_prefix.is_empty() {
            return Err(StoreError::NotFound(String::new()));
        }
        let rows: Vec<RunRow> = on_pool!(self, pool => {
            sqlx::query_as(run_select!(
                "WHERE substr(id, 1, length($1)) = $1 ORDER BY started_at DESC, id DESC LIMIT $2"
            ))
            .bind(id_or_prefix)
            .bind(to_i64(AMBIGUOUS_SHOWN))
            .fetch_all(pool)
            .await?
        });
        match rows.len() {
            0 => Err(StoreError::NotFound(id_or_prefix.to_string())),
            1 => rows
                .into_iter()
                .next()
                .map(summary)
                .unwrap_or_else(|| Err(StoreError::NotFound(id_or_prefix.to_string()))),
            _ => Err(StoreError::Ambiguous {
                prefix: id_or_prefix.to_string(),
                matches: rows.into_iter().map(|r| r.0).collect(),
            }),
        }
    }

    /// Runs newest first (started_at, then id, both descending), of one project or of all,
    /// at most `limit`. Served by an index: fast at any number of runs.
    pub async fn list_runs(
        &self,
        project: Option<&str>,
        limit: usize,
    ) -> Result<Vec<RunSummary>, StoreError> {
        let limit = to_i64(limit);
        let rows: Vec<RunRow> = on_pool!(self, pool => match project {
            Some(project) => {
                sqlx::query_as(run_select!(
                    "WHERE project = $1 ORDER BY started_at DESC, id DESC LIMIT $2"
                ))
                .bind(project)
                .bind(limit)
                .fetch_all(pool)
                .await?
            }
            None => {
                sqlx::query_as(run_select!("ORDER BY started_at DESC, id DESC LIMIT $1"))
                    .bind(limit)
                    .fetch_all(pool)
                    .await?
            }
        });
        rows.into_iter().map(summary).collect()
    }

    /// The project's newest run, in one environment or any.
    pub async fn latest_run(
        &self,
        project: &str,
        env: Option<&str>,
    ) -> Result<Option<RunSummary>, StoreError> {
        let row: Option<RunRow> = on_pool!(self, pool => match env {
            Some(env) => {
                sqlx::query_as(run_select!(
                    "WHERE project = $1 AND env = $2 ORDER BY started_at DESC, id DESC LIMIT 1"
                ))
                .bind(project)
                .bind(env)
                .fetch_optional(pool)
                .await?
            }
            None => {
                sqlx::query_as(run_select!(
                    "WHERE project = $1 ORDER BY started_at DESC, id DESC LIMIT 1"
                ))
                .bind(project)
                .fetch_optional(pool)
                .await?
            }
        });
        row.map(summary).transpose()
    }
}

fn summary(row: RunRow) -> Result<RunSummary, StoreError> {
    let (id, project, env, started_by, started_at, updated_at, phase, status, event_count) = row;
    let time = |what: &str, text: &str| {
        parse_ts(text).map_err(|problem| StoreError::Corrupt {
            run_id: id.clone(),
            seq: None,
            problem: format!("its {what} time {problem}"),
        })
    };
    let started_at = time("start", &started_at)?;
    let updated_at = time("last update", &updated_at)?;
    Ok(RunSummary {
        id,
        project,
        env,
        started_by,
        started_at,
        updated_at,
        phase,
        status,
        event_count,
    })
}
