//! Telling readers that a journal moved, on PostgreSQL: every append is announced with
//! `NOTIFY` on [`CHANNEL`] (payload `seq run_id`), and [`Store::listen`] gives a reader in
//! another process those announcements as they are committed, so it need not poll. SQLite has
//! nothing of the kind: there the readers poll (and on PostgreSQL they still poll, more slowly,
//! for what a lost listening connection missed: a notification is not kept for a listener that
//! was not connected).

use sqlx::postgres::PgListener;

use crate::store::StoreError;
use crate::store::backend::{Pool, Store};

/// The PostgreSQL channel appends are announced on.
pub const CHANNEL: &str = "shipcheck_journal";

/// One announced append: the run, and the seq of the event appended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Appended {
    /// The run.
    pub run_id: String,
    /// The event's seq (the run's event count after it).
    pub seq: i64,
}

/// Announcements of appends, from a connection of its own (PostgreSQL only).
pub struct JournalListener {
    inner: PgListener,
}

impl std::fmt::Debug for JournalListener {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("JournalListener")
    }
}

impl JournalListener {
    /// The next announcement. A lost connection is reconnected by the next call (what was
    /// announced meanwhile is not seen: poll for it); an announcement that is not one of
    /// shipcheck's is skipped.
    pub async fn next(&mut self) -> Result<Appended, StoreError> {
        loop {
            let n = self.inner.recv().await?;
            if let Some(a) = parse(n.payload()) {
                return Ok(a);
            }
        }
    }
}

fn parse(payload: &str) -> Option<Appended> {
    let (seq, run_id) = payload.split_once(' ')?;
    Some(Appended {
        run_id: run_id.to_string(),
        seq: seq.parse().ok()?,
    })
}

impl Store {
    /// Listens for appends (from any process) on PostgreSQL; `None` on SQLite, whose readers
    /// poll.
    pub async fn listen(&self) -> Result<Option<JournalListener>, StoreError> {
        match &self.pool {
            Pool::Sqlite(_) => Ok(None),
            Pool::Postgres(pool) => {
                let mut inner = PgListener::connect_with(pool).await?;
                inner.listen(CHANNEL).await?;
                Ok(Some(JournalListener { inner }))
            }
        }
    }

    /// Announces that `run_id`'s journal reached `seq` (PostgreSQL; nothing on SQLite). Called
    /// after the append committed; a failure is not the append's (readers poll as well).
    pub(super) async fn announce(&self, run_id: &str, seq: i64) {
        if let Pool::Postgres(pool) = &self.pool {
            let _ = sqlx::query("SELECT pg_notify($1, $2)")
                .bind(CHANNEL)
                .bind(format!("{seq} {run_id}"))
                .execute(pool)
                .await;
        }
    }
}

#[cfg(test)]
mod unit {
    use super::*;

    #[test]
    fn payloads() {
        assert_eq!(
            parse("12 run-1"),
            Some(Appended {
                run_id: "run-1".into(),
                seq: 12
            })
        );
        assert_eq!(parse("x run-1"), None);
        assert_eq!(parse("12"), None);
    }
}
