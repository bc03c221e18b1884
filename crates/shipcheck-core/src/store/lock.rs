//! The deploy lock: one row per (project, env), taken by [`Store::create_run`], released by
//! the run's end, broken by hand with a recorded reason.

use jiff::Timestamp;

use crate::store::backend::{Begin, Store, on_pool, parse_ts, ts_text};
use crate::store::journal::lock_time;
use crate::store::{LockBreak, LockInfo, StoreError};

impl Store {
    /// Who holds the deploy lock of `project`'s `env`, if anyone.
    pub async fn lock(&self, project: &str, env: &str) -> Result<Option<LockInfo>, StoreError> {
        let row: Option<(String, String, String)> = on_pool!(self, pool => {
            sqlx::query_as(
                "SELECT run_id, holder, since FROM locks WHERE project = $1 AND env = $2",
            )
            .bind(project)
            .bind(env)
            .fetch_optional(pool)
            .await?
        });
        row.map(|(run_id, holder, since)| {
            Ok(LockInfo {
                project: project.to_string(),
                env: env.to_string(),
                since: lock_time(&run_id, &since)?,
                run_id,
                holder,
            })
        })
        .transpose()
    }

    /// Releases the lock if `run_id` holds it; does nothing otherwise.
    pub async fn release_lock(
        &self,
        project: &str,
        env: &str,
        run_id: &str,
    ) -> Result<(), StoreError> {
        on_pool!(self, pool => {
            sqlx::query("DELETE FROM locks WHERE project = $1 AND env = $2 AND run_id = $3")
                .bind(project)
                .bind(env)
                .bind(run_id)
                .execute(pool)
                .await?;
        });
        Ok(())
    }

    /// Breaks the lock, whoever holds it, and records who broke it, why, when, and which run
    /// held it, in the same transaction. Returns what was broken; `None` (and nothing
    /// recorded) when the lock was free. A blank reason is refused.
    pub async fn break_lock(
        &self,
        project: &str,
        env: &str,
        by: &str,
        reason: &str,
        at: Timestamp,
    ) -> Result<Option<LockInfo>, StoreError> {
        if reason.trim().is_empty() {
            return Err(StoreError::Invalid(format!(
                "breaking the {env} deploy lock of {project} needs a reason"
            )));
        }
        let at_text = ts_text(at);
        on_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let row: Option<(String, String, String)> = sqlx::query_as(
                "SELECT run_id, holder, since FROM locks WHERE project = $1 AND env = $2",
            )
            .bind(project)
            .bind(env)
            .fetch_optional(&mut *tx)
            .await?;
            let Some((run_id, holder, since)) = row else {
                tx.rollback().await?;
                return Ok(None);
            };
            sqlx::query("DELETE FROM locks WHERE project = $1 AND env = $2 AND run_id = $3")
                .bind(project)
                .bind(env)
                .bind(&run_id)
                .execute(&mut *tx)
                .await?;
            sqlx::query(
                "INSERT INTO lock_breaks (project, env, run_id, holder, broken_by, reason, at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(project)
            .bind(env)
            .bind(&run_id)
            .bind(&holder)
            .bind(by)
            .bind(reason)
            .bind(&at_text)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            Ok(Some(LockInfo {
                project: project.to_string(),
                env: env.to_string(),
                since: lock_time(&run_id, &since)?,
                run_id,
                holder,
            }))
        })
    }

    /// Every lock of `project` broken by hand, oldest first.
    pub async fn lock_breaks(&self, project: &str) -> Result<Vec<LockBreak>, StoreError> {
        type Row = (String, String, String, String, String, String);
        let rows: Vec<Row> = on_pool!(self, pool => {
            sqlx::query_as(
                "SELECT env, run_id, holder, broken_by, reason, at FROM lock_breaks \
                 WHERE project = $1 ORDER BY at, id",
            )
            .bind(project)
            .fetch_all(pool)
            .await?
        });
        rows.into_iter()
            .map(|(env, run_id, holder, by, reason, at)| {
                let at = parse_ts(&at).map_err(|problem| StoreError::Corrupt {
                    run_id: run_id.clone(),
                    seq: None,
                    problem: format!("the time its deploy lock was broken {problem}"),
                })?;
                Ok(LockBreak {
                    project: project.to_string(),
                    env,
                    run_id,
                    holder,
                    by,
                    reason,
                    at,
                })
            })
            .collect()
    }
}
