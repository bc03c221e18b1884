//! The store: runs, their hash-chained event journals and the deploy lock, in SQLite (the
//! default, a file under `.shipcheck/`) or PostgreSQL (the team's shared store).
//!
//! One API over both backends. Every query is written once, with `$1` placeholders that both
//! SQLite and PostgreSQL accept, and run on either pool by `on_pool!`; only the migrations
//! (`schema.rs`) are written per backend. Timestamps are stored as RFC 3339 text with a fixed
//! nine-digit fraction, so that text order is time order and nothing is lost in the round trip.
//!
//! What the store keeps is the journal. A run's state is the fold of its events
//! ([`crate::journal::state::RunState::fold`]); the `runs` row only caches what listing needs (phase,
//! status, event count) plus the head of the hash chain.

use std::fmt;
use std::path::PathBuf;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

mod backend;
mod chain;
mod journal;
mod lock;
mod notify;
mod people;
mod query;
mod schema;
#[cfg(test)]
mod tests;
mod walker;

pub use backend::Store;
pub use chain::ChainCheck;
pub use notify::{Appended, CHANNEL, JournalListener};
pub use schema::SCHEMA_VERSION;
pub use walker::WalkGuard;

/// Where the store lives.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StoreTarget {
    /// A SQLite file (created, with its directory, when missing).
    Sqlite(PathBuf),
    /// A PostgreSQL URL (`postgres://user@host:5432/db`).
    Postgres(String),
}

impl fmt::Display for StoreTarget {
    /// The path, or the URL with any password masked: safe to print.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoreTarget::Sqlite(path) => write!(f, "{}", path.display()),
            StoreTarget::Postgres(url) => f.write_str(&backend::redact_url(url)),
        }
    }
}

/// A run as listings show it: the `runs` row.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunSummary {
    /// The run id.
    pub id: String,
    /// Project.
    pub project: String,
    /// Environment.
    pub env: String,
    /// Who started it.
    pub started_by: String,
    /// When it started.
    pub started_at: Timestamp,
    /// When its last event was appended.
    pub updated_at: Timestamp,
    /// The phase it is in (`None` once every phase's gate passed).
    pub phase: Option<String>,
    /// `active`, `completed`, `signed` or `aborted`.
    pub status: String,
    /// How many events its journal holds.
    pub event_count: i64,
}

/// What [`Store::append`] writes to the `runs` row along with the event: the run's phase and
/// status after it, as the fold says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunSummaryUpdate {
    /// The phase the run is in now.
    pub phase: Option<String>,
    /// Its status now (`active`, `completed`, `signed`, `aborted`).
    pub status: String,
}

/// Who holds the deploy lock of a project's environment.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockInfo {
    /// Project.
    pub project: String,
    /// Environment.
    pub env: String,
    /// The run holding it.
    pub run_id: String,
    /// Who started that run.
    pub holder: String,
    /// Since when.
    pub since: Timestamp,
}

/// A lock broken by hand (`shipcheck unlock --reason`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockBreak {
    /// Project.
    pub project: String,
    /// Environment.
    pub env: String,
    /// The run that held the lock.
    pub run_id: String,
    /// Who started that run.
    pub holder: String,
    /// Who broke it.
    pub by: String,
    /// Why.
    pub reason: String,
    /// When.
    pub at: Timestamp,
}

/// What [`Store::verify_chain`] found.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum ChainReport {
    /// Every event is there, in order, and hashes to what was recorded.
    Intact {
        /// How many events.
        events: usize,
        /// The hash of the last one.
        head: String,
    },
    /// The first event at which the record stops being what was written.
    Broken {
        /// That event's number.
        seq: i64,
        /// What is wrong with it.
        reason: String,
    },
}

/// Everything the store can fail with; its kind says how a front end answers it.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The store cannot be opened as given (bad path or URL, permissions, …).
    #[error("cannot open the store at {target}: {}", describe(source))]
    Open {
        /// The path or (password-masked) URL.
        target: String,
        /// Why.
        #[source]
        source: sqlx::Error,
    },
    /// The PostgreSQL server could not be reached.
    #[error("cannot reach the PostgreSQL store at {target}: {}", describe(source))]
    Unreachable {
        /// The (password-masked) URL.
        target: String,
        /// Why.
        #[source]
        source: sqlx::Error,
    },
    /// The file is not a SQLite database, or one that holds something other than shipcheck.
    #[error(
        "{target} is not a shipcheck database ({reason}); move it aside, or choose another \
         store"
    )]
    NotADatabase {
        /// The path.
        target: String,
        /// What SQLite said, or what the file holds instead.
        reason: String,
    },
    /// The store was written by a newer shipcheck.
    #[error(
        "{target} was written by a newer shipcheck (schema {found}, this build knows \
         {supported}); upgrade shipcheck"
    )]
    NewerSchema {
        /// The schema version found.
        found: i64,
        /// The newest this build knows.
        supported: i64,
        /// The path or URL.
        target: String,
    },
    /// A migration failed; the store is left at the version before it.
    #[error(
        "cannot bring the store at {target} to schema {version}: {}",
        describe(source)
    )]
    Migration {
        /// The path or URL.
        target: String,
        /// The migration that failed.
        version: i64,
        /// Why.
        #[source]
        source: sqlx::Error,
    },
    /// Stored data cannot be read back.
    #[error("{}", corrupt_message(run_id, *seq, problem))]
    Corrupt {
        /// The run.
        run_id: String,
        /// The event, when the problem is in one.
        seq: Option<i64>,
        /// What is wrong.
        problem: String,
    },
    /// The deploy lock is held by another run.
    #[error(
        "{} deploy of {} is locked by run {}, started by {} at {:.0}; wait for it, or break \
         the lock with `shipcheck unlock --reason TEXT`",
        .0.env, .0.project, .0.run_id, .0.holder, .0.since
    )]
    LockHeld(LockInfo),
    /// Another process is walking this project's environment right now.
    #[error(
        "another shipcheck process is walking the {env} deploy of {project} right now; wait for it to finish (a process that died releases this at once)"
    )]
    WalkerBusy {
        /// Project.
        project: String,
        /// Environment.
        env: String,
    },
    /// No run has this id or id prefix.
    #[error("no run matches `{0}`")]
    NotFound(String),
    /// More than one run starts with this prefix.
    #[error(
        "`{prefix}` matches more than one run ({}); give more of the id",
        matches.join(", ")
    )]
    Ambiguous {
        /// What was given.
        prefix: String,
        /// The matching ids (at most ten, newest first).
        matches: Vec<String>,
    },
    /// The caller asked for something the store refuses to record.
    #[error("{0}")]
    Invalid(String),
    /// Concurrent writers kept winning; nothing was written.
    #[error("{0}")]
    Busy(String),
    /// The run moved on since the caller read it (another process appended): nothing was
    /// written; re-read the run and decide again.
    #[error(
        "run {run_id} changed while this change was being made (it was read at event \
         {expected}, another process has appended up to {found}); nothing was written"
    )]
    Conflict {
        /// The run.
        run_id: String,
        /// The last event the caller saw.
        expected: i64,
        /// The last event stored.
        found: i64,
    },
    /// Any other database failure.
    #[error("the store failed: {}", describe(.0))]
    Database(#[from] sqlx::Error),
}

/// What went wrong, without sqlx's generic prefixes ("error communicating with database: ").
fn describe(e: &sqlx::Error) -> String {
    match e {
        sqlx::Error::Io(io) => io.to_string(),
        sqlx::Error::Configuration(c) => c.to_string(),
        sqlx::Error::Database(d) => d.message().to_string(),
        other => other.to_string(),
    }
}

fn corrupt_message(run_id: &str, seq: Option<i64>, problem: &str) -> String {
    match seq {
        Some(seq) => format!(
            "the stored record of run {run_id} is corrupt at event {seq}: {problem}; \
             `shipcheck verify {run_id}` checks the whole journal"
        ),
        None => format!("the stored record of run {run_id} is corrupt: {problem}"),
    }
}

impl crate::model::error::HasKind for StoreError {
    /// The lock is held or another process walks: `Locked`; the store given cannot be used
    /// (not a database, newer schema, corrupt record, unknown or ambiguous run, a refused
    /// request): `Usage`; the database failed or could not be reached, or concurrent writers
    /// kept winning: `Integration`; the run moved on: `Conflict`.
    fn kind(&self) -> crate::model::error::ErrorKind {
        use crate::model::error::ErrorKind;
        match self {
            StoreError::LockHeld(_) | StoreError::WalkerBusy { .. } => ErrorKind::Locked,
            StoreError::Open { .. }
            | StoreError::NotADatabase { .. }
            | StoreError::NewerSchema { .. }
            | StoreError::Migration { .. }
            | StoreError::Corrupt { .. }
            | StoreError::NotFound(_)
            | StoreError::Ambiguous { .. }
            | StoreError::Invalid(_) => ErrorKind::Usage,
            StoreError::Unreachable { .. } | StoreError::Busy(_) | StoreError::Database(_) => {
                ErrorKind::Integration
            }
            StoreError::Conflict { .. } => ErrorKind::Conflict,
        }
    }
}
