//! Runs: a session over the store (the loaded config, the clock), reading a run and appending
//! to it, and the operations a person performs on a run — start, tick, waive, note, abort,
//! sign. Every change is one appended event; the lock
//! is taken when a run starts and released when it ends.

pub mod anchor;
mod person;
pub mod pin;
pub mod signature;
pub mod stream;
pub mod team;
pub mod trust;

use std::sync::Arc;

use jiff::Timestamp;

use crate::journal::state::{FoldError, RunState, RunStatus};
use crate::model::clock::SharedClock;
use crate::model::config::LoadedConfig;
use crate::model::event::{Event, StoredEvent};
use crate::store::{RunSummaryUpdate, Store, StoreError};

/// Why an operation on a run was refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The store failed (lock held, not found, corrupt, …).
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The journal cannot be read as a run.
    #[error(transparent)]
    Fold(#[from] FoldError),
    /// The user asked for something the run's rules refuse (exit 2).
    #[error("{message}")]
    Refused {
        /// What and why, and what to do instead.
        message: String,
    },
    /// An action (merge, revert, rollback, …) failed; the world is as its message says.
    #[error("{0}")]
    Action(crate::model::outcome::ActionError),
    /// The config on disk is not the one the run uses (exit 2, a config error).
    #[error("{message}")]
    ConfigChanged {
        /// What changed, and what to do.
        message: String,
    },
    /// The record could not be signed with an SSH key (ssh-keygen refused or is missing).
    #[error("{message}")]
    Signature {
        /// What ssh-keygen said, and what to do.
        message: String,
    },
    /// There is no open run to act on.
    #[error("{message}")]
    NoRun {
        /// What to do.
        message: String,
    },
}

impl RunError {
    fn refused(message: impl Into<String>) -> Self {
        RunError::Refused {
            message: message.into(),
        }
    }
}

/// How often [`Session::update`] reads the run again after losing a race.
pub const UPDATE_TRIES: u32 = 50;

/// The store, the config and time, for one invocation; and the stream of what it appends.
#[derive(Clone)]
pub struct Session {
    /// Where runs live.
    pub store: Store,
    /// The config the session was started with.
    pub loaded: Arc<LoadedConfig>,
    /// Time.
    pub clock: SharedClock,
    /// Every event this session appends, as stored, the moment it is stored
    /// ([`Session::subscribe`]): the terminal renders them, a web view forwards them.
    events: tokio::sync::broadcast::Sender<StoredEvent>,
    /// The values no event may carry (see [`crate::model::redact`]): every event is redacted
    /// before it is stored, so the journal, reports and every view of it are free of them.
    secrets: Arc<Vec<String>>,
    /// Called synchronously right after each append is stored, before anything else
    /// happens ([`Session::with_append_hook`]).
    after_append: Option<AppendHook>,
}

/// A function called with each event the moment it is stored.
pub type AppendHook = Arc<dyn Fn(&StoredEvent) + Send + Sync>;

/// How many appended events a slow subscriber may fall behind before it misses some (it is
/// told how many, and can read them from the journal).
pub const STREAM_BUFFER: usize = 1024;

impl Session {
    /// A session over `store` with `loaded` config and `clock`.
    pub fn new(store: Store, loaded: Arc<LoadedConfig>, clock: SharedClock) -> Session {
        let secrets = Arc::new(crate::model::redact::secrets_from_env(
            &loaded.config.secret_env_names(),
        ));
        Session {
            store,
            loaded,
            clock,
            events: tokio::sync::broadcast::channel(STREAM_BUFFER).0,
            secrets,
            after_append: None,
        }
    }

    /// The clients of the session's config (a fresh change set; secrets from the environment
    /// variables the config names).
    pub fn clients(&self) -> crate::clients::Clients {
        crate::clients::Clients::new(
            Arc::new(self.loaded.config.clone()),
            self.loaded.base_dir(),
            self.clock.clone(),
        )
    }

    /// Also keeps `secrets` out of every event this session stores.
    pub fn with_secrets(mut self, secrets: impl IntoIterator<Item = String>) -> Session {
        let mut all = (*self.secrets).clone();
        all.extend(secrets);
        self.secrets = Arc::new(all);
        self
    }

    /// `event` with every secret (and identifying fragment of one) removed from its text.
    fn redacted(&self, event: Event) -> Result<Event, RunError> {
        if self.secrets.is_empty() {
            return Ok(event);
        }
        let mut value = serde_json::to_value(&event).map_err(|e| {
            RunError::refused(format!("cannot store a {} event: {e}", event.type_name()))
        })?;
        let before = value.clone();
        crate::model::redact::redact_json(&mut value, &self.secrets);
        if value == before {
            return Ok(event);
        }
        if let Ok(e) = serde_json::from_value(value.clone()) {
            return Ok(e);
        }
        // A redaction hit a word of the vocabulary (a `type` tag, a phase, a state) — a
        // secret that is a plain word. Keep the text redacted, the vocabulary as it is: redact
        // the strings one by one, leaving those the event cannot be read without.
        let mut leaves = Vec::new();
        changed_leaves(&before, &value, String::new(), &mut leaves);
        let mut kept = before;
        for (pointer, redacted) in leaves {
            let mut trial = kept.clone();
            if let Some(slot) = trial.pointer_mut(&pointer) {
                *slot = redacted;
            }
            if serde_json::from_value::<Event>(trial.clone()).is_ok() {
                kept = trial;
            }
        }
        serde_json::from_value(kept).map_err(|e| {
            RunError::refused(format!(
                "a {} event carried a secret and could not be stored without it: {e}",
                event.type_name()
            ))
        })
    }

    /// The same session, calling `hook` with each event it appends, synchronously, the
    /// moment the event is stored and before the caller continues. The rehearsal world's
    /// operator uses it to stop the process at an exact point of the journal (a
    /// deterministic crash); nothing else needs it.
    pub fn with_append_hook(mut self, hook: AppendHook) -> Session {
        self.after_append = Some(hook);
        self
    }

    /// Every event this session appends from now on, in order, as stored.
    pub fn subscribe(&self) -> tokio::sync::broadcast::Receiver<StoredEvent> {
        self.events.subscribe()
    }
}

/// The JSON pointers of the string leaves that differ between `a` and `b` (same shape), with
/// their value in `b`.
fn changed_leaves(
    a: &serde_json::Value,
    b: &serde_json::Value,
    at: String,
    out: &mut Vec<(String, serde_json::Value)>,
) {
    use serde_json::Value;
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            for (k, v) in x {
                if let Some(w) = y.get(k) {
                    let key = k.replace('~', "~0").replace('/', "~1");
                    changed_leaves(v, w, format!("{at}/{key}"), out);
                }
            }
        }
        (Value::Array(x), Value::Array(y)) => {
            for (i, (v, w)) in x.iter().zip(y).enumerate() {
                changed_leaves(v, w, format!("{at}/{i}"), out);
            }
        }
        (x, y) if x != y => out.push((at, y.clone())),
        _ => {}
    }
}

/// Options of `start`.
#[derive(Clone, Debug, Default)]
pub struct StartOptions {
    /// Environment (default `production`).
    pub env: String,
    /// Who starts the run.
    pub by: String,
    /// Scheduled time, if not now.
    pub at: Option<Timestamp>,
    /// Deploy outside the window, with this reason.
    pub override_window: Option<String>,
    /// Start even though the config's programs and URLs differ from the production branch's
    /// committed config (the person read the differences; journaled).
    pub trust_config: bool,
}

impl Session {
    /// The project name.
    pub fn project(&self) -> &str {
        &self.loaded.config.project.name
    }

    /// Starts a run: takes the deploy lock and stores the checklist it runs.
    pub async fn start(&self, opts: &StartOptions) -> Result<RunState, RunError> {
        if !self.loaded.config.environments.is_empty()
            && !self.loaded.config.environments.contains_key(&opts.env)
        {
            return Err(RunError::refused(format!(
                "environment {:?} is not in {} (have: {})",
                opts.env,
                self.loaded.path.display(),
                self.loaded
                    .config
                    .environments
                    .keys()
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
        if let Some(reason) = &opts.override_window
            && reason.trim().is_empty()
        {
            return Err(RunError::refused(
                "--override-window needs a non-empty --reason",
            ));
        }
        // The programs and URLs this run would use with the deployer's tokens: the production
        // branch's, or confirmed by the person.
        let trusted = match trust::compare_with_production(self).await {
            trust::Trust::Differs(lines) if !opts.trust_config => {
                return Err(RunError::ConfigChanged {
                    message: format!(
                        "{}'s programs and URLs differ from the production branch's committed config; they would run with the deployer's tokens:\n{}\nread them, then start again with --trust-config (recorded in the run)",
                        self.loaded.path.display(),
                        lines
                            .iter()
                            .map(|l| format!("  {l}"))
                            .collect::<Vec<_>>()
                            .join("\n")
                    ),
                });
            }
            trust::Trust::Differs(lines) => Some(Event::ConfigTrusted {
                differences: lines,
                by: opts.by.clone(),
            }),
            // Not silent: the run records why, and what it will run.
            trust::Trust::NotCompared(reason) => Some(Event::ConfigNotCompared {
                reason,
                settings: trust::integration_settings(&self.loaded)
                    .into_iter()
                    .map(|(k, v)| format!("{k}: {v}"))
                    .collect(),
            }),
            trust::Trust::Same => None,
        };
        let id = uuid::Uuid::now_v7().to_string();
        let now = self.clock.now();
        let event = Event::RunStarted {
            project: self.project().to_string(),
            env: opts.env.clone(),
            by: opts.by.clone(),
            scheduled_at: opts.at,
            config_digest: digest(&self.loaded.source),
            config: Some(self.loaded.source.clone()),
            items: self.loaded.checklist.items.clone(),
        };
        let event = self.redacted(event)?;
        self.store
            .create_run(&id, self.project(), &opts.env, &opts.by, now, &event)
            .await?;
        if let Some(event) = trusted {
            self.append(&id, event).await?;
        }
        if let Some(reason) = &opts.override_window {
            self.append(
                &id,
                Event::WindowOverridden {
                    reason: reason.clone(),
                    by: opts.by.clone(),
                },
            )
            .await?;
        }
        self.load(&id).await
    }

    /// Reads a run by id (or unique prefix).
    pub async fn load(&self, id: &str) -> Result<RunState, RunError> {
        let summary = self.store.find_run(id).await?;
        let events = self.store.events(&summary.id).await?;
        Ok(RunState::fold(&events)?)
    }

    /// Brings `run` up to date with the events appended since it was read, by this process or
    /// any other, reading only those ([`RunState::extend`]); the whole journal again when they
    /// do not follow on from what was folded. A loop that reads its run every pass (the watch)
    /// folds each event once instead of the whole journal every pass.
    pub async fn refresh(&self, run: &mut RunState) -> Result<(), RunError> {
        let after = i64::try_from(run.event_count).unwrap_or(i64::MAX);
        let more = self.store.events_after(&run.id, after).await?;
        if run.extend(&more).is_err() {
            *run = self.load(&run.id).await?;
        }
        Ok(())
    }

    /// The run a command acts on: the given id, else the open run of `env` (the lock holder),
    /// else the newest run of the project.
    pub async fn resolve(&self, id: Option<&str>, env: &str) -> Result<RunState, RunError> {
        match id {
            // `load` finds the run by its id or prefix itself.
            Some(id) => self.load(id).await,
            None => self.load(&self.resolve_id(None, env).await?).await,
        }
    }

    /// The id of the run a command acts on, as [`Session::resolve`] chooses it, without
    /// reading its journal (`verify` must reach a run whose journal no longer reads).
    pub async fn resolve_id(&self, id: Option<&str>, env: &str) -> Result<String, RunError> {
        if let Some(id) = id {
            return Ok(self.store.find_run(id).await?.id);
        }
        if let Some(lock) = self.store.lock(self.project(), env).await? {
            return Ok(lock.run_id);
        }
        match self.store.latest_run(self.project(), Some(env)).await? {
            Some(r) => Ok(r.id),
            None => Err(RunError::NoRun {
                message: format!(
                    "no run of {} ({env}) yet; start one with `shipcheck start` or `shipcheck deploy`",
                    self.project()
                ),
            }),
        }
    }

    /// The open run of `env`, or an error saying how to start one.
    pub async fn open_run(&self, id: Option<&str>, env: &str) -> Result<RunState, RunError> {
        let run = self.resolve(id, env).await?;
        match run.status {
            RunStatus::Active | RunStatus::Completed => {
                pin::check(self, &run)?;
                Ok(run)
            }
            RunStatus::Signed => Err(RunError::NoRun {
                message: format!(
                    "run {} is signed and closed; start a new one with `shipcheck start`",
                    run.id
                ),
            }),
            RunStatus::Aborted => Err(RunError::NoRun {
                message: format!(
                    "run {} was aborted; start a new one with `shipcheck start`",
                    run.id
                ),
            }),
        }
    }

    /// Appends one event and returns the new state. The event is appended right after the
    /// state it was folded against (compare-and-append); if another process appended in
    /// between, the run is read again and the event appended after what is there now.
    pub async fn append(&self, run_id: &str, event: Event) -> Result<RunState, RunError> {
        self.update(run_id, |_| Ok(Some(event.clone()))).await
    }

    /// Changes a run safely under concurrent writers: reads the run, asks `change` what to
    /// append given the run as it is now (`None`: nothing to do; `Err`: refused), and appends
    /// it only if the run has not moved since it was read. When another process got there
    /// first, the run is read again and `change` decides again, so a decision is never made
    /// on a stale state (two incidents never share a number, an item is never ticked twice).
    /// Bounded: after [`UPDATE_TRIES`] lost races it gives up with `Busy`, nothing written.
    pub async fn update<F>(&self, run_id: &str, mut change: F) -> Result<RunState, RunError>
    where
        F: FnMut(&RunState) -> Result<Option<Event>, RunError>,
    {
        for attempt in 0..UPDATE_TRIES {
            let mut events = self.store.events(run_id).await?;
            let before = RunState::fold(&events)?;
            let Some(event) = change(&before)? else {
                return Ok(before);
            };
            let event = self.redacted(event)?;
            // Fold first so the summary written with the event is the state after it.
            let now = self.clock.now();
            let last = events.last().map(|e| e.seq).unwrap_or(0);
            events.push(crate::model::event::StoredEvent {
                run_id: run_id.to_string(),
                seq: last + 1,
                at: now,
                event: event.clone(),
                prev_hash: String::new(),
                hash: String::new(),
            });
            let after = RunState::fold(&events)?;
            // A new event must apply to the run as it is; only old journals may carry events
            // the fold leaves out.
            if let Some(problem) = after.anomalies.get(before.anomalies.len()) {
                return Err(RunError::Refused {
                    message: format!("refused: {problem}"),
                });
            }
            let summary = RunSummaryUpdate {
                phase: after.current_phase().map(|p| p.as_str().to_string()),
                status: after.status.as_str().to_string(),
            };
            match self
                .store
                .append_after(run_id, Some(last), now, &event, &summary)
                .await
            {
                Ok(stored) => {
                    if let Some(hook) = &self.after_append {
                        hook(&stored);
                    }
                    // Nobody listening is fine: the journal has it.
                    let _ = self.events.send(stored);
                    if !after.status.is_open() {
                        self.store
                            .release_lock(&after.project, &after.env, run_id)
                            .await?;
                    }
                    return self.load(run_id).await;
                }
                Err(StoreError::Conflict { .. }) => {
                    // Another writer appended: back off a little (spread by attempt and
                    // process) and decide again on the new state.
                    let jitter = (std::process::id() as u64 + attempt as u64 * 7) % 11;
                    tokio::time::sleep(std::time::Duration::from_millis(
                        2 + jitter + attempt as u64 * 3,
                    ))
                    .await;
                }
                Err(e) => return Err(e.into()),
            }
        }
        Err(RunError::Store(StoreError::Busy(format!(
            "gave up changing run {run_id}: {UPDATE_TRIES} other writers changed it first"
        ))))
    }
}

/// SHA-256 of text, hex.
pub fn digest(text: &str) -> String {
    use sha2::{Digest, Sha256};
    crate::model::hex::encode(&Sha256::digest(text.as_bytes()))
}

impl crate::model::error::HasKind for RunError {
    fn kind(&self) -> crate::model::error::ErrorKind {
        use crate::model::error::ErrorKind;
        match self {
            RunError::Store(e) => e.kind(),
            RunError::Fold(_) => ErrorKind::Usage,
            RunError::Refused { .. } | RunError::NoRun { .. } => ErrorKind::Usage,
            RunError::ConfigChanged { .. } => ErrorKind::Config,
            RunError::Signature { .. } => ErrorKind::Integration,
            RunError::Action(a) => a.kind(),
        }
    }
}

#[cfg(test)]
#[path = "redact_tests.rs"]
mod redact_tests;
#[cfg(test)]
mod refresh_tests;
