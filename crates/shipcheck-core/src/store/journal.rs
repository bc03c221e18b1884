//! The event journal: creating a run (with its deploy lock), appending and reading back (its
//! hash chain is verified in `chain.rs`).

use jiff::Timestamp;

use crate::journal::state::RunState;
use crate::model::event::{Event, StoredEvent};
use crate::model::event::{GENESIS_HASH, chain_hash};
use crate::store::backend::{Begin, Store, is_unique_violation, on_pool, parse_ts, ts_text};
use crate::store::{LockInfo, RunSummaryUpdate, StoreError};

/// How often an append that lost a race on `(run_id, seq)` is retried.
const APPEND_TRIES: usize = 20;
/// How often `create_run` retries when the lock it collided with vanished before it could
/// be read (released between the two statements).
const CREATE_TRIES: usize = 5;

/// One raw `events` row: seq, at, payload, prev_hash, hash.
pub(super) type EventRow = (i64, String, String, String, String);

/// Inserts one event row in the caller's transaction (a macro: its body runs on either pool).
macro_rules! insert_event {
    ($tx:expr, $e:expr, $at_text:expr, $payload:expr) => {
        sqlx::query(
            "INSERT INTO events (run_id, seq, at, kind, payload, prev_hash, hash) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind($e.run_id.as_str())
        .bind($e.seq)
        .bind($at_text)
        .bind($e.event.type_name())
        .bind($payload)
        .bind($e.prev_hash.as_str())
        .bind($e.hash.as_str())
        .execute(&mut *$tx)
        .await
    };
}

impl Store {
    /// Starts a run, atomically: inserts its `runs` row, takes the deploy lock for
    /// `(project, env)` and appends `event` (which must be the run's `run_started`, for this
    /// project and environment) as event 1.
    ///
    /// A lock held by any run, open or not, is [`StoreError::LockHeld`]: a lock left by a run
    /// that ended without releasing it is taken over only through [`Store::break_lock`].
    pub async fn create_run(
        &self,
        run_id: &str,
        project: &str,
        env: &str,
        holder: &str,
        at: Timestamp,
        event: &Event,
    ) -> Result<StoredEvent, StoreError> {
        let Event::RunStarted {
            project: event_project,
            env: event_env,
            ..
        } = event
        else {
            return Err(StoreError::Invalid(format!(
                "run {run_id} must begin with run_started, not {}",
                event.type_name()
            )));
        };
        if event_project != project || event_env != env {
            return Err(StoreError::Invalid(format!(
                "run {run_id} is for {project}/{env} but its run_started event says \
                 {event_project}/{event_env}"
            )));
        }
        let payload = payload_text(run_id, event)?;
        let at_text = ts_text(at);
        let hash = chain_hash(GENESIS_HASH, run_id, 1, &at_text, &payload);
        let stored = StoredEvent {
            run_id: run_id.to_string(),
            seq: 1,
            at: parse_ts(&at_text).map_err(StoreError::Invalid)?,
            event: event.clone(),
            prev_hash: GENESIS_HASH.to_string(),
            hash: hash.clone(),
        };
        let state = RunState::fold(std::slice::from_ref(&stored))
            .map_err(|e| StoreError::Invalid(e.to_string()))?;
        let phase = state.current_phase().map(|p| p.as_str().to_string());
        let status = state.status.as_str();

        for _ in 0..CREATE_TRIES {
            let held: Option<LockInfo> = on_pool!(self, pool => {
                let mut tx = pool.begin_write().await?;
                sqlx::query(
                    "INSERT INTO runs (id, project, env, started_by, started_at, updated_at, \
                     phase, status, event_count, head_hash) \
                     VALUES ($1, $2, $3, $4, $5, $5, $6, $7, 1, $8)",
                )
                .bind(run_id)
                .bind(project)
                .bind(env)
                .bind(holder)
                .bind(&at_text)
                .bind(&phase)
                .bind(status)
                .bind(&hash)
                .execute(&mut *tx)
                .await
                .map_err(|e| {
                    if is_unique_violation(&e) {
                        StoreError::Invalid(format!("a run with id {run_id} already exists"))
                    } else {
                        StoreError::Database(e)
                    }
                })?;
                let taken = sqlx::query(
                    "INSERT INTO locks (project, env, run_id, holder, since) \
                     VALUES ($1, $2, $3, $4, $5) ON CONFLICT (project, env) DO NOTHING",
                )
                .bind(project)
                .bind(env)
                .bind(run_id)
                .bind(holder)
                .bind(&at_text)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                if taken == 1 {
                    insert_event!(tx, stored, &at_text, &payload)?;
                    tx.commit().await?;
                    return Ok(stored);
                }
                let row: Option<(String, String, String)> = sqlx::query_as(
                    "SELECT run_id, holder, since FROM locks WHERE project = $1 AND env = $2",
                )
                .bind(project)
                .bind(env)
                .fetch_optional(&mut *tx)
                .await?;
                tx.rollback().await?;
                match row {
                    Some((run_id, holder, since)) => Some(LockInfo {
                        project: project.to_string(),
                        env: env.to_string(),
                        since: lock_time(&run_id, &since)?,
                        run_id,
                        holder,
                    }),
                    None => None,
                }
            });
            if let Some(info) = held {
                return Err(StoreError::LockHeld(info));
            }
        }
        Err(StoreError::Busy(format!(
            "could not take the deploy lock of {project}/{env}: it changed hands {CREATE_TRIES} \
             times while run {run_id} was being created"
        )))
    }

    /// Appends the run's next event (seq = last + 1, chained to the last one's hash) and
    /// updates the `runs` row's phase, status, event count and updated time, in one
    /// transaction. The `runs` row is updated first, which serializes concurrent appends to
    /// one run on both backends; an insert that still collides on `(run_id, seq)` is retried.
    pub async fn append(
        &self,
        run_id: &str,
        at: Timestamp,
        event: &Event,
        summary: &RunSummaryUpdate,
    ) -> Result<StoredEvent, StoreError> {
        self.append_after(run_id, None, at, event, summary).await
    }

    /// Compare-and-append: appends `event` as event `after + 1` only if the run's last event is
    /// still `after` (the position the caller read the run at); otherwise nothing is written
    /// and the answer is [`StoreError::Conflict`], so the caller re-reads the run and decides
    /// again whether the change still applies. `None` appends after whatever is last.
    pub async fn append_after(
        &self,
        run_id: &str,
        after: Option<i64>,
        at: Timestamp,
        event: &Event,
        summary: &RunSummaryUpdate,
    ) -> Result<StoredEvent, StoreError> {
        if matches!(event, Event::RunStarted { .. }) {
            return Err(StoreError::Invalid(format!(
                "run {run_id} already started: run_started only begins a run"
            )));
        }
        let payload = payload_text(run_id, event)?;
        let at_text = ts_text(at);
        let at = parse_ts(&at_text).map_err(StoreError::Invalid)?;

        for _ in 0..APPEND_TRIES {
            on_pool!(self, pool => {
                let mut tx = pool.begin_write().await?;
                let touched = sqlx::query("UPDATE runs SET updated_at = $2 WHERE id = $1")
                    .bind(run_id)
                    .bind(&at_text)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                if touched == 0 {
                    return Err(StoreError::NotFound(run_id.to_string()));
                }
                let last: Option<(i64, String)> = sqlx::query_as(
                    "SELECT seq, hash FROM events WHERE run_id = $1 ORDER BY seq DESC LIMIT 1",
                )
                .bind(run_id)
                .fetch_optional(&mut *tx)
                .await?;
                let Some((last_seq, prev_hash)) = last else {
                    return Err(StoreError::Corrupt {
                        run_id: run_id.to_string(),
                        seq: None,
                        problem: "the run has no events".into(),
                    });
                };
                if let Some(expected) = after
                    && expected != last_seq
                {
                    tx.rollback().await?;
                    return Err(StoreError::Conflict {
                        run_id: run_id.to_string(),
                        expected,
                        found: last_seq,
                    });
                }
                let seq = last_seq + 1;
                let stored = StoredEvent {
                    run_id: run_id.to_string(),
                    seq,
                    at,
                    event: event.clone(),
                    hash: chain_hash(&prev_hash, run_id, seq, &at_text, &payload),
                    prev_hash,
                };
                match insert_event!(tx, stored, &at_text, &payload) {
                    Err(e) if is_unique_violation(&e) => {
                        tx.rollback().await?;
                        continue;
                    }
                    other => {
                        other?;
                    }
                }
                sqlx::query(
                    "UPDATE runs SET phase = $2, status = $3, event_count = $4, head_hash = $5 \
                     WHERE id = $1",
                )
                .bind(run_id)
                .bind(&summary.phase)
                .bind(&summary.status)
                .bind(seq)
                .bind(&stored.hash)
                .execute(&mut *tx)
                .await?;
                tx.commit().await?;
                self.announce(run_id, seq).await;
                return Ok(stored);
            });
        }
        Err(StoreError::Busy(format!(
            "gave up appending to run {run_id}: {APPEND_TRIES} concurrent writers got there first"
        )))
    }

    /// The run's events in order. A stored time or payload that cannot be read is
    /// [`StoreError::Corrupt`], naming the run and the event; an unknown run is
    /// [`StoreError::NotFound`].
    pub async fn events(&self, run_id: &str) -> Result<Vec<StoredEvent>, StoreError> {
        let (_, _, rows) = self.journal(run_id, 0).await?;
        read_rows(run_id, rows)
    }

    /// The run's events after event `after` (seq > `after`), in order, read in one statement:
    /// what a reader that already folded the first `after` events needs to catch up (appends
    /// to one run are serialized, so what it returns is always a contiguous run of seqs from
    /// `after + 1`, though an append committed meanwhile may be missing from its end). Empty
    /// when nothing follows; an unknown run is [`StoreError::NotFound`]; a row that cannot be
    /// read is [`StoreError::Corrupt`], as in [`Store::events`].
    pub async fn events_after(
        &self,
        run_id: &str,
        after: i64,
    ) -> Result<Vec<StoredEvent>, StoreError> {
        let rows: Vec<EventRow> = on_pool!(self, pool => {
            sqlx::query_as(
                "SELECT seq, at, payload, prev_hash, hash FROM events WHERE run_id = $1 \
                 AND seq > $2 ORDER BY seq",
            )
            .bind(run_id)
            .bind(after)
            .fetch_all(pool)
            .await?
        });
        if rows.is_empty() && self.run_summary(run_id).await?.is_none() {
            return Err(StoreError::NotFound(run_id.to_string()));
        }
        read_rows(run_id, rows)
    }

    /// The run's recorded event count and head hash, and its raw event rows after event
    /// `after` (0: all of them), read in one snapshot (a concurrent append is either wholly in
    /// it or not at all). [`StoreError::NotFound`] when there is no such run.
    pub(super) async fn journal(
        &self,
        run_id: &str,
        after: i64,
    ) -> Result<(i64, String, Vec<EventRow>), StoreError> {
        let (head, rows): (Option<(i64, String)>, Vec<EventRow>) = on_pool!(self, pool => {
            let mut tx = pool.begin_snapshot().await?;
            let head = sqlx::query_as("SELECT event_count, head_hash FROM runs WHERE id = $1")
                .bind(run_id)
                .fetch_optional(&mut *tx)
                .await?;
            let rows = sqlx::query_as(
                "SELECT seq, at, payload, prev_hash, hash FROM events WHERE run_id = $1 \
                 AND seq > $2 ORDER BY seq",
            )
            .bind(run_id)
            .bind(after)
            .fetch_all(&mut *tx)
            .await?;
            tx.commit().await?;
            (head, rows)
        });
        let (count, head) = head.ok_or_else(|| StoreError::NotFound(run_id.to_string()))?;
        Ok((count, head, rows))
    }
}

/// Raw rows as events: a stored time or payload that cannot be read is [`StoreError::Corrupt`].
pub(super) fn read_rows(run_id: &str, rows: Vec<EventRow>) -> Result<Vec<StoredEvent>, StoreError> {
    rows.into_iter()
        .map(|(seq, at, payload, prev_hash, hash)| {
            let corrupt = |problem: String| StoreError::Corrupt {
                run_id: run_id.to_string(),
                seq: Some(seq),
                problem,
            };
            let at = parse_ts(&at).map_err(|e| corrupt(format!("its time {e}")))?;
            let event = serde_json::from_str::<Event>(&payload)
                .map_err(|e| corrupt(format!("its payload is not a shipcheck event ({e})")))?;
            Ok(StoredEvent {
                run_id: run_id.to_string(),
                seq,
                at,
                event,
                prev_hash,
                hash,
            })
        })
        .collect()
}

fn payload_text(run_id: &str, event: &Event) -> Result<String, StoreError> {
    serde_json::to_string(event).map_err(|e| {
        StoreError::Invalid(format!(
            "the {} event of run {run_id} cannot be stored as JSON: {e}",
            event.type_name()
        ))
    })
}

/// A lock row's time, read back.
pub(super) fn lock_time(run_id: &str, since: &str) -> Result<Timestamp, StoreError> {
    parse_ts(since).map_err(|problem| StoreError::Corrupt {
        run_id: run_id.to_string(),
        seq: None,
        problem: format!("its deploy lock's time {problem}"),
    })
}
