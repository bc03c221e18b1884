//! The engine: runs a phase's automatic checks concurrently, each bounded by a timeout, and
//! tells an [`Observer`] what happens (started, still running, finished). It never prints;
//! front ends render the events.
//!
//! Each check runs as its own tokio task, so a check that panics becomes an `error` outcome
//! instead of taking the run down, and checks proceed in parallel on a multi-threaded runtime.

use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use tokio::task::JoinSet;
use tokio::time::Instant;

use jiff::Timestamp;

use crate::checks::{self, join_all};
use crate::clients::{ClientError, Clients};
use crate::journal::state::RunState;
use crate::model::checklist::{CheckSpec, Checklist, Item};
use crate::model::outcome::Outcome;
use crate::model::outcome::Status;
use crate::model::redact::{redact, redact_json};
use crate::runs::Session;
use crate::runs::stream::{EngineEvent, Observer};
use crate::store::Store;
use crate::watch::WatchContext;

/// What the dispatcher ([`run_check`]) hands out: each check gets the parts it uses (its
/// client, the clock, the run's facts, a config section), never the whole. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Deps {
    /// The clients of the config (built on demand; one change set shared by the checks).
    pub clients: Clients,
    /// The checklist (for `rerun`, and to name the item a command check belongs to).
    pub checklist: Arc<Checklist>,
    /// The run the checks belong to (`None` for `shipcheck check`): the facts earlier items
    /// recorded (the merge commit, the rollback targets, the deploy's start).
    pub run: Option<Arc<RunState>>,
    /// The run's scheduled time, when it has one (the window check uses it).
    pub scheduled_at: Option<Timestamp>,
    /// The store, when the checks run with one: the load test compares with earlier runs.
    pub store: Option<Store>,
}

impl Deps {
    /// The parts for `clients` and `checklist`, outside a run and without a store.
    pub fn new(clients: Clients, checklist: Arc<Checklist>) -> Deps {
        Deps {
            clients,
            checklist,
            run: None,
            scheduled_at: None,
            store: None,
        }
    }

    /// The parts for a session, optionally bound to a run (its facts and scheduled time).
    pub fn of(session: &Session, run: Option<&RunState>) -> Deps {
        Deps {
            clients: session.clients(),
            checklist: Arc::new(session.loaded.checklist.clone()),
            run: run.map(|r| Arc::new(r.clone())),
            scheduled_at: run.and_then(|r| r.scheduled_at),
            store: Some(session.store.clone()),
        }
    }

    /// The run's facts.
    pub fn run(&self) -> Option<&RunState> {
        self.run.as_deref()
    }

    /// What the watch's items read: the clients and the run.
    pub fn watch(&self) -> WatchContext {
        WatchContext {
            clients: self.clients.clone(),
            run: self.run.clone(),
        }
    }
}

/// How often a running check reports that it is still running.
pub const HEARTBEAT: Duration = Duration::from_secs(5);

/// Added to a check's own limits when they exceed the engine's default timeout, so the check's
/// own timeout fires first (and kills what it started) before the engine gives up on it.
pub const GRACE: Duration = Duration::from_secs(5);

/// Runs the automatic checks of `items` concurrently (at most `config.engine.concurrency` at
/// once), each bounded by [`check_limit`] (a timeout is an error outcome "timed out after …"),
/// and returns (item id, outcome) in the items' order. Items that are not automatic (manual
/// without an evidence check, actions, no check spec, or `manual_because` set) are skipped
/// and not returned. Never
/// panics: a check that panics becomes an error outcome. Outcomes are redacted with
/// the clients' secrets.
pub async fn run_checks(
    items: &[Item],
    ctx: &Deps,
    observer: &dyn Observer,
) -> Vec<(String, Outcome)> {
    let runner: Runner = Arc::new(|item: Item, ctx: Deps| {
        Box::pin(async move {
            match &item.check {
                Some(spec) => run_check(spec, &ctx).await,
                None => Outcome::error("the item has no check to run", serde_json::Value::Null),
            }
        })
    });
    run_with(items, ctx, observer, HEARTBEAT, runner).await
}

/// The timeout the engine gives `item`'s check: the item's own `timeout` when set; otherwise
/// `config.engine.check_timeout`, or, when the check's own limits add up to more (a command
/// with `timeout = "15m"`, an HTTP probe's attempts and backoff), those plus [`GRACE`].
pub fn check_limit(item: &Item, ctx: &Deps) -> Duration {
    if let Some(t) = item.timeout {
        return t.get();
    }
    let default = ctx.clients.config.engine.check_timeout.get();
    match item.check.as_ref().and_then(|s| own_limit(s, ctx, 0)) {
        Some(own) if own > default => own.saturating_add(GRACE),
        _ => default,
    }
}

/// The longest a check can take by its own settings, when it bounds itself.
fn own_limit(spec: &CheckSpec, ctx: &Deps, depth: u8) -> Option<Duration> {
    use crate::checks::{command, http};
    let get =
        |s: Option<crate::model::duration::Span>, d: Duration| s.map(|s| s.get()).unwrap_or(d);
    match spec {
        CheckSpec::Command(c) => Some(get(c.timeout, command::DEFAULT_TIMEOUT)),
        CheckSpec::Http(h) => Some(http_limit(
            get(h.timeout, http::DEFAULT_TIMEOUT),
            h.retries.unwrap_or(http::DEFAULT_RETRIES),
            get(h.backoff, http::DEFAULT_BACKOFF),
        )),
        CheckSpec::Health(h) => Some(http_limit(
            get(h.timeout, http::DEFAULT_TIMEOUT),
            h.retries.unwrap_or(http::DEFAULT_RETRIES),
            http::DEFAULT_BACKOFF,
        )),
        CheckSpec::Window(_) => None,
        CheckSpec::Loadtest(l) => Some(crate::checks::loadtest::limit(
            l,
            &ctx.clients.config.environments,
        )),
        // The items of a rerun run concurrently: the longest of them.
        CheckSpec::Rerun(r) if depth == 0 => r
            .items
            .iter()
            .filter_map(|id| ctx.checklist.get(id)?.check.as_ref())
            .filter_map(|s| own_limit(s, ctx, depth + 1))
            .max(),
        // The GitHub run checks poll up to their own timeouts (and the wait timer's bound).
        CheckSpec::GithubWorkflow(_) => ctx
            .clients
            .config
            .github
            .as_ref()
            .map(|g| g.workflow_timeout.get()),
        CheckSpec::GithubPending(_) => ctx.clients.config.github.as_ref().map(|g| {
            g.workflow_timeout
                .get()
                .saturating_add(g.wait_timer_limit.get())
        }),
        CheckSpec::GithubJobs(_) => ctx
            .clients
            .config
            .github
            .as_ref()
            .map(|g| g.jobs_timeout.get()),
        // Other checks (git, integrations) bound themselves within the engine default.
        _ => None,
    }
}

/// Every attempt's timeout plus the waits between them (doubling, each at most 60 s).
fn http_limit(timeout: Duration, retries: u32, backoff: Duration) -> Duration {
    let attempts = retries.saturating_add(1);
    let mut total = timeout.saturating_mul(attempts);
    let mut wait = backoff;
    for _ in 0..retries.min(64) {
        total = total.saturating_add(wait);
        wait = wait.saturating_mul(2).min(Duration::from_secs(60));
    }
    let rest = retries.saturating_sub(64);
    total.saturating_add(Duration::from_secs(60).saturating_mul(rest))
}

type BoxedOutcome = Pin<Box<dyn Future<Output = Outcome> + Send>>;
/// Runs one item's check (the real one, or a stand-in in tests).
type Runner = Arc<dyn Fn(Item, Deps) -> BoxedOutcome + Send + Sync>;

struct Running {
    index: usize,
    started: Instant,
    next_beat: Instant,
}

async fn run_with(
    items: &[Item],
    ctx: &Deps,
    observer: &dyn Observer,
    heartbeat: Duration,
    runner: Runner,
) -> Vec<(String, Outcome)> {
    let automatic: Vec<usize> = (0..items.len())
        .filter(|&i| items[i].is_automatic() || items[i].has_evidence_check())
        .collect();
    let mut queue: VecDeque<usize> = automatic.iter().copied().collect();
    let max_running = ctx.clients.config.engine.concurrency.max(1);
    let heartbeat = heartbeat.max(Duration::from_millis(1));
    let mut results: Vec<Option<Outcome>> = vec![None; items.len()];
    let mut set: JoinSet<Outcome> = JoinSet::new();
    let mut running: HashMap<tokio::task::Id, Running> = HashMap::new();

    loop {
        while running.len() < max_running {
            let Some(index) = queue.pop_front() else {
                break;
            };
            let item = &items[index];
            observer.on_event(EngineEvent::Started { item });
            let limit = check_limit(item, ctx);
            let (runner, item_owned, ctx_owned) = (runner.clone(), item.clone(), ctx.clone());
            let handle = set.spawn(async move {
                let start = std::time::Instant::now();
                match tokio::time::timeout(limit, runner(item_owned, ctx_owned)).await {
                    Ok(outcome) => outcome,
                    Err(_) => {
                        let shown = crate::model::duration::format(limit);
                        Outcome::error(
                            format!("timed out after {shown}"),
                            json!({ "timeout": shown, "timed_out": true }),
                        )
                        .timed(start)
                    }
                }
            });
            let now = Instant::now();
            running.insert(
                handle.id(),
                Running {
                    index,
                    started: now,
                    next_beat: now + heartbeat,
                },
            );
        }
        let Some(next_beat) = running.values().map(|r| r.next_beat).min() else {
            break;
        };
        tokio::select! {
            joined = set.join_next_with_id() => {
                let Some(joined) = joined else { break };
                let (id, outcome) = match joined {
                    Ok((id, outcome)) => (id, outcome),
                    Err(e) => {
                        let id = e.id();
                        let started = running.get(&id).map(|r| r.started);
                        (id, crashed(e, started))
                    }
                };
                let Some(r) = running.remove(&id) else { continue };
                let mut outcome = outcome;
                outcome.summary = redact(&outcome.summary, &ctx.clients.secrets);
                redact_json(&mut outcome.evidence, &ctx.clients.secrets);
                observer.on_event(EngineEvent::Finished { item: &items[r.index], outcome: &outcome });
                results[r.index] = Some(outcome);
            }
            _ = tokio::time::sleep_until(next_beat) => {
                let now = Instant::now();
                let mut due: Vec<&mut Running> =
                    running.values_mut().filter(|r| r.next_beat <= now).collect();
                due.sort_by_key(|r| r.index);
                for r in due {
                    r.next_beat = now + heartbeat;
                    observer.on_event(EngineEvent::Progress {
                        item: &items[r.index],
                        elapsed: now.duration_since(r.started),
                    });
                }
            }
        }
    }

    automatic
        .into_iter()
        .map(|i| {
            let outcome = results[i].take().unwrap_or_else(|| {
                Outcome::error(
                    "the check ended without an outcome",
                    serde_json::Value::Null,
                )
            });
            (items[i].id.clone(), outcome)
        })
        .collect()
}

/// The outcome of a check whose task panicked (or was cancelled).
fn crashed(e: tokio::task::JoinError, started: Option<Instant>) -> Outcome {
    let why = if e.is_panic() {
        let payload = e.into_panic();
        let text = payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "no message".into());
        format!("the check crashed (panicked: {text}); this is a bug in shipcheck")
    } else {
        "the check was cancelled".to_string()
    };
    let mut o = Outcome::error(why, json!({ "crashed": true }));
    if let Some(s) = started {
        o.duration_ms = s.elapsed().as_millis() as u64;
    }
    o
}

/// Runs one check spec. Never panics; never returns without an outcome.
pub fn run_check<'a>(
    spec: &'a CheckSpec,
    ctx: &'a Deps,
) -> std::pin::Pin<Box<dyn Future<Output = Outcome> + Send + 'a>> {
    Box::pin(async move {
        let start = std::time::Instant::now();
        dispatch(spec, ctx).await.timed(start)
    })
}

/// The `error` outcome of a client that cannot be built (the message names the config table
/// or the environment variable to add).
fn unavailable(e: ClientError) -> Outcome {
    Outcome::error(e, serde_json::Value::Null)
}

/// Calls the check of `spec` with the parts it uses.
async fn dispatch(spec: &CheckSpec, ctx: &Deps) -> Outcome {
    let c = &ctx.clients;
    let cfg = &*c.config;
    let run = ctx.run();
    let secrets = c.secrets.as_slice();
    macro_rules! client {
        ($built:expr) => {
            match $built {
                Ok(client) => client,
                Err(e) => return unavailable(e),
            }
        };
    }
    match spec {
        CheckSpec::Http(h) => checks::http::run(h, &c.http, secrets).await,
        CheckSpec::Health(h) => {
            checks::http::run_health(h, &cfg.environments, &c.http, secrets).await
        }
        CheckSpec::Command(cmd) => {
            let repo_dir = c.repo_dir();
            checks::command::run(cmd, &c.base_dir, &repo_dir, &ctx.checklist, secrets).await
        }
        CheckSpec::Window(_) => checks::window::run(
            &cfg.window,
            &cfg.project.timezone,
            ctx.scheduled_at,
            c.clock.now(),
        ),
        CheckSpec::Rerun(r) => rerun(&r.items, ctx).await,
        CheckSpec::GitPending(_) => checks::git::pending(&c.repo(), secrets).await,
        CheckSpec::GitChangelog(_) => checks::git::changelog(&c.repo(), &cfg.paths, secrets).await,
        CheckSpec::GitTodo(_) => checks::git::todo(&c.repo(), &cfg.paths, secrets).await,
        CheckSpec::GitDocs(_) => checks::git::docs(&c.repo(), &cfg.paths, secrets).await,
        CheckSpec::GitClean(_) => checks::git::clean(&c.repo(), secrets).await,
        CheckSpec::FlyRegion(s) => checks::fly::region(s, &checks::fly::FlyApps::of(c)).await,
        CheckSpec::FlySecrets(s) => checks::fly::secrets(s, &checks::fly::FlyApps::of(c)).await,
        CheckSpec::FlyEnv(s) => checks::fly::env(s, &checks::fly::FlyApps::of(c)).await,
        CheckSpec::FlyReleases(s) => {
            checks::fly::releases(s, &checks::fly::FlyApps::of(c), run).await
        }
        CheckSpec::FlyStatus(s) => checks::fly::status(s, &checks::fly::FlyApps::of(c), run).await,
        CheckSpec::FlyVersion(s) => {
            checks::fly::version(s, &checks::fly::FlyApps::of(c), run).await
        }
        CheckSpec::FlyLogs(s) => checks::fly::logs(s, &checks::fly::FlyApps::of(c), &cfg.fly).await,
        CheckSpec::GithubReviews(_) => {
            checks::github::reviews(&client!(c.github()), &c.repo()).await
        }
        CheckSpec::GithubChecks(s) => {
            checks::github::checks(s, &client!(c.github()), &cfg.git.staging).await
        }
        CheckSpec::GithubWorkflow(_) => {
            let gh = client!(c.github());
            checks::github_run::workflow(&gh, &cfg.git.production, run, &c.clock).await
        }
        CheckSpec::GithubPending(_) => {
            let gh = client!(c.github());
            checks::github_pending::pending(&gh, &c.repo(), run, &c.clock).await
        }
        CheckSpec::GithubJobs(s) => {
            let gh = client!(c.github());
            checks::github_run::jobs(s, &gh, &cfg.git.production, run, &c.clock).await
        }
        CheckSpec::SentryRate(_) => checks::sentry::rate(&client!(c.sentry()), run, &c.clock).await,
        CheckSpec::SentryNewIssues(_) => {
            checks::sentry::new_issues(&client!(c.sentry()), run, &c.clock).await
        }
        CheckSpec::Prometheus(s) => {
            let prom = client!(c.prometheus());
            checks::prometheus::run(s, &prom, &cfg.environments, run).await
        }
        CheckSpec::PostgresHealth(_) => match checks::postgres::db_config(cfg.database.as_ref()) {
            Ok(db) => checks::postgres::health(db).await,
            Err(o) => o,
        },
        CheckSpec::PostgresMigrations(s) => {
            match checks::postgres::db_config(cfg.database.as_ref()) {
                Ok(db) => {
                    checks::postgres::migrations(s, db, &c.repo(), &cfg.paths.migrations).await
                }
                Err(o) => o,
            }
        }
        CheckSpec::MonitorBaseline(_) => crate::watch::items::baseline_health(&ctx.watch()),
        CheckSpec::MonitorResponseTimes(_) => {
            crate::watch::items::response_times(&ctx.watch()).await
        }
        CheckSpec::MonitorErrorRates(_) => crate::watch::items::error_rates(&ctx.watch()),
        CheckSpec::MonitorMetrics(_) => crate::watch::items::metrics(&ctx.watch()),
        CheckSpec::MonitorFinal(_) => crate::watch::items::final_check(&ctx.watch()).await,
        CheckSpec::MonitorNoCritical(_) => crate::watch::items::no_critical(&ctx.watch()).await,
        CheckSpec::Loadtest(l) => {
            let history = ctx.store.as_ref().map(|store| checks::loadtest::History {
                store,
                project: &cfg.project.name,
                run,
            });
            checks::loadtest::run(l, &cfg.environments, history).await
        }
    }
}

async fn rerun(ids: &[String], ctx: &Deps) -> Outcome {
    let mut parts = Vec::new();
    let mut status = Status::Pass;
    let mut evidence = serde_json::Map::new();
    let mut futures = Vec::new();
    for id in ids {
        match ctx.checklist.get(id).and_then(|i| i.check.as_ref()) {
            Some(spec) if !matches!(spec, CheckSpec::Rerun(_)) => {
                futures.push((id, run_check(spec, ctx)))
            }
            _ => {
                return Outcome::error(
                    format!("rerun: item {id} has no automatic check to run again"),
                    serde_json::Value::Null,
                );
            }
        }
    }
    let (ids, futs): (Vec<_>, Vec<_>) = futures.into_iter().unzip();
    let outcomes = join_all(futs).await;
    for (id, o) in ids.into_iter().zip(outcomes) {
        status = status.worst(o.status);
        parts.push(format!("{id}: {}", o.summary));
        evidence.insert(id.clone(), serde_json::to_value(&o).unwrap_or_default());
    }
    Outcome::new(
        status,
        parts.join("; "),
        serde_json::Value::Object(evidence),
    )
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod parallel_tests;
