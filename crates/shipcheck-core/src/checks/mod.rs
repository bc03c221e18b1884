//! Automatic checks. Each kind of check is a module that turns a [`CheckSpec`] into an
//! [`Outcome`]: pass, fail or error, with a one-line summary, structured evidence and how
//! long it took. An integration that answers nonsense is an `error` with the reason; "no
//! data" is never a pass.

pub mod command;
pub mod fly;
pub mod git;
pub mod github;
pub mod github_find;
pub mod github_pending;
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

use jiff::Timestamp;

use crate::clients::fly::Fly;
use crate::clients::github::GitHub;
use crate::clients::prometheus::Prometheus;
use crate::clients::sentry::Sentry;
use crate::clients::slack::Slack;
use crate::clients::{ClientError, Kit};
use crate::journal::state::RunState;
use crate::model::checklist::Checklist;
use crate::model::clock::SharedClock;
use crate::model::config::Config;
use crate::runs::Session;

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
    /// The client of the APIs that carry credentials (from
    /// [`crate::clients::http::api_client`]: no redirect is followed by itself).
    pub api_http: reqwest::Client,
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
            api_http: crate::clients::http::api_client(std::time::Duration::from_secs(30)),
            secrets,
            run: None,
            changes: Arc::default(),
            store: None,
        }
    }

    /// A context for a session, optionally bound to a run.
    pub fn of(session: &Session, run: Option<&RunState>) -> CheckContext {
        let mut ctx = CheckContext::new(
            Arc::new(session.loaded.config.clone()),
            session.loaded.base_dir(),
            Arc::new(session.loaded.checklist.clone()),
            session.clock.clone(),
        );
        ctx.store = Some(session.store.clone());
        if let Some(run) = run {
            ctx.scheduled_at = run.scheduled_at;
            ctx.run = Some(Arc::new(run.clone()));
        }
        ctx
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

    /// What the HTTP clients are built with.
    pub fn kit(&self) -> Kit {
        Kit {
            http: self.api_http.clone(),
            clock: self.clock.clone(),
            secrets: self.secrets.clone(),
        }
    }

    /// The flyctl client of `[fly]`.
    pub fn fly(&self) -> Fly {
        Fly::new(&self.config.fly, &self.secrets)
    }

    /// The GitHub client of `[github]`.
    pub fn github(&self) -> Result<GitHub, ClientError> {
        let cfg = self.config.github.as_ref().ok_or_else(|| {
            ClientError::not_configured(
                "no [github] table in the config; add one with `repo = \"owner/name\"`",
            )
        })?;
        GitHub::new(cfg, &self.kit())
    }

    /// The Sentry client of `[sentry]`.
    pub fn sentry(&self) -> Result<Sentry, ClientError> {
        let cfg = self.config.sentry.as_ref().ok_or_else(|| {
            ClientError::not_configured(
                "no [sentry] table in the config; add one with `org` and `projects`",
            )
        })?;
        Sentry::new(cfg, &self.kit())
    }

    /// The Prometheus client of `[prometheus]`.
    pub fn prometheus(&self) -> Result<Prometheus, ClientError> {
        let cfg = self.config.prometheus.as_ref().ok_or_else(|| {
            ClientError::not_configured("no [prometheus] table in the config; add one with `url`")
        })?;
        Prometheus::new(cfg, &self.kit())
    }

    /// The Slack client of `[slack]`.
    pub fn slack(&self) -> Result<Slack, ClientError> {
        let cfg = self
            .config
            .slack
            .as_ref()
            .ok_or_else(|| ClientError::not_configured("no [slack] table in the config"))?;
        Slack::new(cfg, &self.kit())
    }
}

/// Awaits all futures concurrently, keeping their order. Each wake-up polls only the future
/// that was woken (futures-util's `join_all`), so a health check over 1,000 apps does not
/// poll 1,000 futures for each of the 1,000 answers.
pub async fn join_all<F: Future>(futs: Vec<F>) -> Vec<F::Output> {
    futures_util::future::join_all(futs).await
}
