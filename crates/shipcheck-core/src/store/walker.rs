//! The walker guard: at most one process walks a project's environment at a time.
//!
//! The deploy lock says which *run* is open; it does not stop two `shipcheck deploy`
//! processes from resuming that run together and performing its actions twice. The guard
//! does: `deploy` and `next` hold it while they walk. It is held by the operating system
//! for the process — an advisory file lock beside the SQLite file, a session-level advisory
//! lock on PostgreSQL — so a process that dies, however it dies, releases it at once, and a
//! resumed walk after a crash never waits for a lease to expire.

use sqlx::Connection;
use sqlx::postgres::PgConnection;

use crate::store::StoreError;
use crate::store::backend::{Pool, Store};

/// Held while a process walks a run; dropping it releases the guard.
pub struct WalkGuard {
    _held: Held,
}

enum Held {
    File(#[allow(dead_code)] std::fs::File),
    Postgres(#[allow(dead_code)] PgConnection),
}

impl std::fmt::Debug for WalkGuard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WalkGuard")
    }
}

/// A stable 63-bit key for `project`/`env` (FNV-1a).
fn key(project: &str, env: &str) -> i64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in project.bytes().chain([0u8]).chain(env.bytes()) {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    (h >> 1) as i64
}

impl Store {
    /// Takes the walker guard of `project`'s `env`, or fails at once with
    /// [`StoreError::WalkerBusy`] (exit 4) when another process holds it.
    pub async fn walk_guard(&self, project: &str, env: &str) -> Result<WalkGuard, StoreError> {
        let busy = || StoreError::WalkerBusy {
            project: project.to_string(),
            env: env.to_string(),
        };
        match &self.pool {
            Pool::Sqlite(_) => {
                let path = std::path::PathBuf::from(format!(
                    "{}.walk-{:016x}.lock",
                    self.target,
                    key(project, env)
                ));
                let file = std::fs::OpenOptions::new()
                    .create(true)
                    .truncate(false)
                    .write(true)
                    .open(&path)
                    .map_err(|e| {
                        StoreError::Invalid(format!("cannot open {}: {e}", path.display()))
                    })?;
                match file.try_lock() {
                    Ok(()) => Ok(WalkGuard {
                        _held: Held::File(file),
                    }),
                    Err(std::fs::TryLockError::WouldBlock) => Err(busy()),
                    Err(std::fs::TryLockError::Error(e)) => Err(StoreError::Invalid(format!(
                        "cannot lock {}: {e}",
                        path.display()
                    ))),
                }
            }
            Pool::Postgres(pool) => {
                // A connection of its own, detached from the pool: the session lock lives as
                // long as it, and closing it (or the process dying) releases the lock.
                let mut conn = pool.acquire().await?.detach();
                let got: bool = sqlx::query_scalar("SELECT pg_try_advisory_lock($1)")
                    .bind(key(project, env))
                    .fetch_one(&mut conn)
                    .await?;
                if got {
                    Ok(WalkGuard {
                        _held: Held::Postgres(conn),
                    })
                } else {
                    let _ = conn.close().await;
                    Err(busy())
                }
            }
        }
    }
}
