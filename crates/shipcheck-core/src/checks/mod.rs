//! Automatic checks. Each kind of check is a module that turns a [`CheckSpec`] into an
//! [`Outcome`]: pass, fail or error, with a one-line summary, structured evidence and how
//! long it took. An integration that answers nonsense is an `error` with the reason; "no
//! data" is never a pass.

pub mod command;
pub mod fly;
pub mod git;
pub mod github;
pub mod github_run;
pub mod gitlog;
pub mod http;
pub mod loadtest;
pub mod postgres;
pub mod prometheus;
pub mod sentry;
pub mod window;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use jiff::Timestamp;

use crate::model::checklist::{CheckSpec, Checklist};
use crate::model::clock::SharedClock;
use crate::model::config::Config;
use crate::model::outcome::Outcome;
use crate::model::outcome::Status;

/// Everything a check may need. Cheap to clone.
#[derive(Clone, Debug)]
pub struct CheckContext {
    /// The validated config.
    pub config: Arc<Config>,
    /// The directory of the config file; relative paths in config are relative to it.
    pub base_dir: PathBuf,
    /// The checklist (for `rerun`).
    pub checklist: Arc<Checklist>,
    /// Time.
    pub clock: SharedClock,
    /// The run's scheduled time, when it has one (the window check uses it).
    pub scheduled_at: Option<Timestamp>,
    /// The one HTTP client (from [`crate::clients::http::client`]).
    pub http: reqwest::Client,
    /// Values that must never appear in evidence (secrets read from the environment).
    pub secrets: Arc<Vec<String>>,
    /// The run the check belongs to (`None` for `shipcheck check`): earlier items' evidence
    /// (the merge commit, the recorded releases) is read from here.
    pub run: Option<Arc<crate::journal::state::RunState>>,
    /// The change set, computed once per context and shared by every check that reads it
    /// ([`CheckContext::change_set`]). A failure is not kept: the next call tries again.
    pub changes: Arc<tokio::sync::OnceCell<Arc<crate::model::changes::ChangeSet>>>,
    /// The store, when the check runs in a session (a run or `shipcheck check` with a store):
    /// checks that compare with earlier runs (the load test) read them from here.
    pub store: Option<crate::store::Store>,
}

impl CheckContext {
    /// A context for `config` whose file lives in `base_dir`. The HTTP client, secrets and run
    /// take their defaults; set the public fields to change them.
    pub fn new(
        config: Arc<Config>,
        base_dir: PathBuf,
        checklist: Arc<Checklist>,
        clock: SharedClock,
    ) -> CheckContext {
        let secrets = Arc::new(crate::model::redact::secrets_from_env(
            &config.secret_env_names(),
        ));
        CheckContext {
            config,
            base_dir,
            checklist,
            clock,
            scheduled_at: None,
            http: crate::clients::http::client(std::time::Duration::from_secs(30)),
            secrets,
            run: None,
            changes: Arc::default(),
            store: None,
        }
    }

    /// The change set after `git fetch` of `[git] remote`: computed on first use, then
    /// shared. A context lives for one command or one phase; make a new one for a fresh view.
    pub async fn change_set(
        &self,
    ) -> Result<Arc<crate::model::changes::ChangeSet>, crate::clients::git::GitError> {
        let git = crate::clients::git::Git::new(self.repo_dir());
        self.changes
            .get_or_try_init(|| async {
                git.fetch_change_set(&self.config.git).await.map(Arc::new)
            })
            .await
            .cloned()
    }

    /// The git repository directory.
    pub fn repo_dir(&self) -> PathBuf {
        self.base_dir.join(&self.config.git.repo)
    }
}

/// Runs one check spec. Never panics; never returns without an outcome.
pub fn run<'a>(
    spec: &'a CheckSpec,
    ctx: &'a CheckContext,
) -> std::pin::Pin<Box<dyn Future<Output = Outcome> + Send + 'a>> {
    Box::pin(async move {
        let start = Instant::now();
        let outcome = match spec {
            CheckSpec::Http(h) => http::run(h, ctx).await,
            CheckSpec::Health(h) => http::run_health(h, ctx).await,
            CheckSpec::Command(c) => command::run(c, ctx).await,
            CheckSpec::Window(_) => window::run(ctx),
            CheckSpec::Rerun(r) => rerun(&r.items, ctx).await,
            CheckSpec::GitPending(_) => git::pending(ctx).await,
            CheckSpec::GitChangelog(_) => git::changelog(ctx).await,
            CheckSpec::GitTodo(_) => git::todo(ctx).await,
            CheckSpec::GitDocs(_) => git::docs(ctx).await,
            CheckSpec::GitClean(_) => git::clean(ctx).await,
            CheckSpec::FlyRegion(c) => fly::region(c, ctx).await,
            CheckSpec::FlySecrets(c) => fly::secrets(c, ctx).await,
            CheckSpec::FlyEnv(c) => fly::env(c, ctx).await,
            CheckSpec::FlyReleases(c) => fly::releases(c, ctx).await,
            CheckSpec::FlyStatus(c) => fly::status(c, ctx).await,
            CheckSpec::FlyLogs(c) => fly::logs(c, ctx).await,
            CheckSpec::GithubReviews(_) => github::reviews(ctx).await,
            CheckSpec::GithubChecks(c) => github::checks(c, ctx).await,
            CheckSpec::GithubWorkflow(_) => github_run::workflow(ctx).await,
            CheckSpec::GithubPending(_) => github_run::pending(ctx).await,
            CheckSpec::GithubJobs(c) => github_run::jobs(c, ctx).await,
            CheckSpec::SentryRate(_) => sentry::rate(ctx).await,
            CheckSpec::SentryNewIssues(_) => sentry::new_issues(ctx).await,
            CheckSpec::Prometheus(c) => prometheus::run(c, ctx).await,
            CheckSpec::PostgresHealth(_) => postgres::health(ctx).await,
            CheckSpec::PostgresMigrations(c) => postgres::migrations(c, ctx).await,
            CheckSpec::MonitorResponseTimes(_) => crate::watch::items::response_times(ctx).await,
            CheckSpec::MonitorErrorRates(_) => crate::watch::items::error_rates(ctx),
            CheckSpec::MonitorMetrics(_) => crate::watch::items::metrics(ctx),
            CheckSpec::MonitorFinal(_) => crate::watch::items::final_check(ctx).await,
            CheckSpec::MonitorNoCritical(_) => crate::watch::items::no_critical(ctx).await,
            CheckSpec::Loadtest(l) => loadtest::run(l, ctx).await,
        };
        outcome.timed(start)
    })
}

async fn rerun(ids: &[String], ctx: &CheckContext) -> Outcome {
    let mut parts = Vec::new();
    let mut status = Status::Pass;
    let mut evidence = serde_json::Map::new();
    let mut futures = Vec::new();
    for id in ids {
        match ctx.checklist.get(id).and_then(|i| i.check.as_ref()) {
            Some(spec) if !matches!(spec, CheckSpec::Rerun(_)) => {
                futures.push((id, run(spec, ctx)))
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

/// Awaits all futures concurrently, keeping their order. Each wake-up polls only the future
/// that was woken (futures-util's `join_all`), so a health check over 1,000 apps does not
/// poll 1,000 futures for each of the 1,000 answers.
pub async fn join_all<F: Future>(futs: Vec<F>) -> Vec<F::Output> {
    futures_util::future::join_all(futs).await
}
