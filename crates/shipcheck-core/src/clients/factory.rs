//! [`Clients`]: every client of the outside world, built on demand from the config's own
//! sections and one [`Kit`]. It knows nothing of checks or runs; the engine's dispatcher
//! hands each check the client it needs.

use std::path::PathBuf;
use std::sync::Arc;

use crate::clients::fly::Fly;
use crate::clients::git::{Git, Repo};
use crate::clients::github::GitHub;
use crate::clients::prometheus::Prometheus;
use crate::clients::sentry::Sentry;
use crate::clients::slack::Slack;
use crate::clients::{ClientError, Kit};
use crate::model::clock::SharedClock;
use crate::model::config::Config;

/// Builds the clients of one config. Cheap to clone; clones share the release's change set
/// ([`Repo::change_set`]), computed on first use. Make a new one for a fresh view.
#[derive(Clone, Debug)]
pub struct Clients {
    /// The validated config the clients are built from.
    pub config: Arc<Config>,
    /// The directory of the config file; relative paths in config are relative to it.
    pub base_dir: PathBuf,
    /// Time.
    pub clock: SharedClock,
    /// The one HTTP client for probes of the team's own URLs ([`crate::clients::http::client`]).
    pub http: reqwest::Client,
    /// The client of the APIs that carry credentials ([`crate::clients::http::api_client`]:
    /// no redirect is followed by itself).
    pub api_http: reqwest::Client,
    /// Values that must never appear in evidence (secrets read from the environment).
    pub secrets: Arc<Vec<String>>,
    /// The change set of `[git]`, shared by every clone.
    changes: Arc<tokio::sync::OnceCell<Arc<crate::model::changes::ChangeSet>>>,
}

impl Clients {
    /// The clients of `config`, whose file lives in `base_dir`: HTTP clients with a 30 s
    /// timeout, secrets from the environment variables the config names. Set the public
    /// fields to change them.
    pub fn new(config: Arc<Config>, base_dir: PathBuf, clock: SharedClock) -> Clients {
        let secrets = Arc::new(crate::model::redact::secrets_from_env(
            &config.secret_env_names(),
        ));
        let timeout = std::time::Duration::from_secs(30);
        Clients {
            config,
            base_dir,
            clock,
            http: crate::clients::http::client(timeout),
            api_http: crate::clients::http::api_client(timeout),
            secrets,
            changes: Arc::default(),
        }
    }

    /// The git repository directory (`[git] repo`, relative to the config's directory).
    pub fn repo_dir(&self) -> PathBuf {
        self.base_dir.join(&self.config.git.repo)
    }

    /// A git client for the repository.
    pub fn git(&self) -> Git {
        Git::new(self.repo_dir())
    }

    /// The repository of `[git]` with its branches and the shared change set.
    pub fn repo(&self) -> Repo {
        Repo::new(self.git(), self.config.git.clone(), self.changes.clone())
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

    /// The CDEvents sink of `[events]`.
    pub fn sink(&self) -> Result<crate::clients::sink::Sink, ClientError> {
        let cfg = self
            .config
            .events
            .as_ref()
            .ok_or_else(|| ClientError::not_configured("no [events] table in the config"))?;
        crate::clients::sink::Sink::new(cfg, &self.kit())
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
