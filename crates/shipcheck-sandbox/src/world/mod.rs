//! The rehearsal world: everything a production deployment touches, running on loopback in
//! one directory, with the real interfaces.
//!
//! [`World::build`] lays out and starts:
//!
//! - a git repository ([`repo`]): a bare `origin.git` and a working clone `repo/`, with
//!   `staging` ahead of `production` by a realistic change set;
//! - the seed's three apps for staging and production ([`apps`]): real HTTP servers on
//!   random ports whose behaviour (latency, 5xx rate) is the behaviour of the image their Fly
//!   release runs, each request logged in Fly's log shape, with steady traffic on production;
//! - the Fly stand-in's state (`fly/`), wired to those apps: `deploy --image` switches an
//!   app's behaviour, `logs` returns its real request logs, `scale count 0` stops it;
//! - a GitHub stand-in ([`github`], [`github_runs`], [`workflow`]): a push of `production`
//!   to the origin starts the test workflow; its success starts the deploy workflow
//!   (`workflow_run`, on the default branch's tip, as GitHub does), which waits for the
//!   `production` environment's approval; approving it deploys the pushed commit's image on
//!   the Fly stand-in and moves the jobs along;
//! - a Sentry stand-in ([`sentry`]) counting the apps' real 5xx answers, a Prometheus
//!   stand-in ([`prometheus`]) answering from the apps' real latencies, and a Slack receiver
//!   ([`slack`]), and a CDEvents sink ([`cdevents`]) recording every event it receives;
//! - PostgreSQL databases when a server answers at 127.0.0.1:5432 ([`postgres`]);
//!
//! and writes `shipcheck.toml` ([`config`]) pointing at all of it, `env.sh` with the token
//! variables the config names, and `world.json` describing it. Time in the world is the
//! config's `[clock]`: a scaled clock every process agrees on.

pub mod apps;
pub mod cdevents;
pub mod config;
mod fleet;
pub mod github;
pub mod github_runs;
pub mod github_statuses;
pub mod postgres;
pub mod prometheus;
mod query;
pub mod record;
pub mod repo;
pub mod sentry;
pub mod slack;
pub mod workflow;

pub mod serve;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use shipcheck_core::model::clock::AnchoredClock;
use tokio::task::JoinHandle;

use crate::fly::ClockSpec;

pub use apps::Behaviour;
pub use record::{RecordedRequest, SlackMessage};

/// Which release the world ships.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Scenario {
    /// The new release is as fast and clean as the old one.
    #[default]
    Good,
    /// The new release answers 30 % of requests with a 5xx.
    BadRelease,
    /// The new release never starts (its release is `failed`, the Machines stay on the old
    /// image) while the old one keeps answering 200; the team's workflow deploys with
    /// `--detach`, so it goes green anyway.
    StaleRelease,
}

impl Scenario {
    /// `good`, `bad-release` or `stale-release`.
    pub fn as_str(self) -> &'static str {
        match self {
            Scenario::Good => "good",
            Scenario::BadRelease => "bad-release",
            Scenario::StaleRelease => "stale-release",
        }
    }
    /// How the release built from the staging change set behaves (the bad release's onset
    /// can be moved with [`ONSET_ENV`], for benchmarks).
    pub fn new_release(self) -> Behaviour {
        match self {
            // A stale release never runs: how it would behave does not matter.
            Scenario::Good | Scenario::StaleRelease => Behaviour::good(),
            Scenario::BadRelease => {
                let mut b = Behaviour::bad();
                if let Some(s) = onset_override() {
                    b.onset_s = s;
                }
                b
            }
        }
    }
}

/// An environment variable for benchmarks: the bad release starts failing this many world
/// seconds after it went live (default 720, 12 minutes; at most a day).
pub const ONSET_ENV: &str = "SHIPCHECK_WORLD_ONSET_S";

fn onset_override() -> Option<u64> {
    let s: u64 = std::env::var(ONSET_ENV).ok()?.trim().parse().ok()?;
    Some(s.min(86_400))
}

impl std::str::FromStr for Scenario {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "good" => Ok(Scenario::Good),
            "bad-release" | "bad" => Ok(Scenario::BadRelease),
            "stale-release" | "stale" => Ok(Scenario::StaleRelease),
            other => Err(format!(
                "unknown scenario {other:?}; choose good, bad-release or stale-release"
            )),
        }
    }
}

/// Whether the world gets PostgreSQL databases.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum PostgresChoice {
    /// Use the server at 127.0.0.1:5432 when one answers (or `SHIPCHECK_DEMO_POSTGRES_URL`).
    #[default]
    Auto,
    /// Use the server at this admin URL.
    Url(String),
    /// No database: the DB items are left to a person, with the reason.
    Off,
}

/// How to build a world.
#[derive(Clone, Debug)]
pub struct WorldOptions {
    /// Which release ships.
    pub scenario: Scenario,
    /// How many times faster than the wall clock the world's time runs.
    pub speed: f64,
    /// The flyctl stand-in as a program and leading arguments (`["/path/shipcheck",
    /// "sandbox", "flyctl"]`); `--state DIR` is appended.
    pub flyctl: Vec<String>,
    /// PostgreSQL.
    pub postgres: PostgresChoice,
    /// Requests per second (wall clock) sent to each production app.
    pub traffic_rps: u32,
    /// Traffic stops by itself after this long (wall clock).
    pub traffic_for: Duration,
    /// Print each Slack message as it arrives.
    pub echo_slack: bool,
    /// The project name (Fly apps are `{project}-{env}-{app}`).
    pub project: String,
    /// The token values the stand-ins accept (default: the world's own, derived from its start
    /// time); the planted-secrets test chooses distinctive ones to look for afterwards.
    pub secrets: Option<Secrets>,
    /// World seconds after the bad release goes live before it starts failing (default 720,
    /// or [`ONSET_ENV`]). Tests that stop and resume a walk many times give the walk more time
    /// before the fault, so it shows in the watch as in the uninterrupted run.
    pub bad_onset_s: Option<u64>,
    /// The CDEvents sink answers the first POST of each event `503` after recording it (a
    /// receiver whose answer was lost): every event arrives twice.
    pub flaky_sink: bool,
    /// Extra `key = value` lines for the world's `[monitor]` table (a test that must not
    /// judge the loaded machine's own slowness, say `latency_min_increase = "5s"`).
    pub monitor_settings: Vec<String>,
}

impl Default for WorldOptions {
    fn default() -> Self {
        WorldOptions {
            scenario: Scenario::Good,
            speed: 180.0,
            flyctl: Vec::new(),
            postgres: PostgresChoice::Auto,
            traffic_rps: 8,
            traffic_for: Duration::from_secs(30 * 60),
            echo_slack: false,
            project: "maishapoa".into(),
            secrets: None,
            bad_onset_s: None,
            flaky_sink: false,
            monitor_settings: Vec::new(),
        }
    }
}

/// Why a world could not be built.
#[derive(Debug, thiserror::Error)]
pub enum WorldError {
    /// A file could not be written or read.
    #[error("{what}: {source}")]
    Io {
        /// What was being done.
        what: String,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// git failed while the repository was laid out.
    #[error("git: {0}")]
    Git(String),
    /// Something else (a server could not start, …).
    #[error("{0}")]
    Other(String),
}

pub(crate) fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> WorldError {
    let what = what.into();
    move |source| WorldError::Io { what, source }
}

/// Token values the world's stand-ins accept, and the variables the config names for them.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Secrets {
    /// GitHub token.
    pub github: String,
    /// Sentry token.
    pub sentry: String,
    /// Prometheus token.
    pub prometheus: String,
    /// The Slack webhook path's secret part.
    pub slack: String,
    /// The CDEvents sink's bearer token.
    #[serde(default)]
    pub events: String,
}

/// Names of the environment variables the world's config reads secrets from.
pub const ENV_GITHUB: &str = "SHIPCHECK_DEMO_GITHUB_TOKEN";
/// Sentry's.
pub const ENV_SENTRY: &str = "SHIPCHECK_DEMO_SENTRY_TOKEN";
/// Prometheus's.
pub const ENV_PROMETHEUS: &str = "SHIPCHECK_DEMO_PROMETHEUS_TOKEN";
/// The Slack webhook URL's.
pub const ENV_SLACK: &str = "SHIPCHECK_DEMO_SLACK_WEBHOOK_URL";
/// The CDEvents sink token's.
pub const ENV_EVENTS: &str = "SHIPCHECK_DEMO_EVENTS_TOKEN";
/// The production database URL's.
pub const ENV_DATABASE: &str = "SHIPCHECK_DEMO_DATABASE_URL";
/// The staging database URL's.
pub const ENV_STAGING_DATABASE: &str = "SHIPCHECK_DEMO_STAGING_DATABASE_URL";

/// What `world.json` says about a running world.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Manifest {
    /// The scenario.
    pub scenario: Scenario,
    /// The clock.
    pub clock: ClockSpec,
    /// `shipcheck.toml`.
    pub config: PathBuf,
    /// The working clone.
    pub repo: PathBuf,
    /// The bare origin.
    pub origin: PathBuf,
    /// The Fly stand-in's state directory.
    pub fly_state: PathBuf,
    /// Base URLs of the stand-ins: `github`, `sentry`, `prometheus`, `slack`, `cdevents`.
    pub services: BTreeMap<String, String>,
    /// Each app's base URL, by Fly app name.
    pub apps: BTreeMap<String, String>,
    /// The environment variables a shipcheck process needs (token values are the world's
    /// own, good only here).
    pub env: BTreeMap<String, String>,
    /// PostgreSQL: the databases' URLs, or why there are none.
    pub postgres: postgres::PgStatus,
    /// The image each production app ran before the release (the rollback target).
    pub previous_images: BTreeMap<String, String>,
}

/// State shared by the world's servers and tasks.
pub(crate) struct Shared {
    pub fly_dir: PathBuf,
    pub clock: AnchoredClock,
    pub scenario: Scenario,
    pub bad_onset_s: Option<u64>,
    pub secrets: Secrets,
    pub apps: apps::Apps,
    pub github: Mutex<github::GithubState>,
    pub sentry: sentry::SentryState,
    pub slack: Mutex<Vec<SlackMessage>>,
    pub recorder: record::Recorder,
    pub echo_slack: bool,
    pub flaky_sink: bool,
    pub sink_seen: Mutex<Vec<String>>,
    pub http: reqwest::Client,
    pub repo: repo::RepoInfo,
    pub stop: tokio::sync::watch::Sender<bool>,
    /// The instant the world's clock started at.
    pub start: Timestamp,
    urls: std::sync::RwLock<BTreeMap<String, String>>,
}

impl Shared {
    pub fn now(&self) -> Timestamp {
        self.clock.now_at_wall()
    }
    /// Sleeps `d` of world time (at least a millisecond of wall time).
    pub async fn sleep(&self, d: Duration) {
        let wall = self.clock.wall(d).max(Duration::from_millis(1));
        tokio::time::sleep(wall).await;
    }
    pub fn stopped(&self) -> bool {
        *self.stop.borrow()
    }
    /// Each app's base URL, by Fly app name.
    pub fn app_urls(&self) -> BTreeMap<String, String> {
        self.urls.read().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

trait NowAtWall {
    fn now_at_wall(&self) -> Timestamp;
}
impl NowAtWall for AnchoredClock {
    fn now_at_wall(&self) -> Timestamp {
        self.at(Timestamp::now())
    }
}

/// A running world. [`World::shutdown`] stops it; dropping it stops the servers and drops
/// its databases too.
pub struct World {
    /// The world's directory.
    pub dir: PathBuf,
    /// What `world.json` says.
    pub manifest: Manifest,
    shared: Arc<Shared>,
    tasks: Vec<JoinHandle<()>>,
    pg: Option<postgres::PgWorld>,
}

impl World {
    /// Builds and starts a world in `dir` (created if missing; it should be empty) with the
    /// default options for `scenario` and `speed`.
    pub async fn build(dir: &Path, scenario: Scenario, speed: f64) -> Result<World, WorldError> {
        let options = WorldOptions {
            scenario,
            speed,
            ..WorldOptions::default()
        };
        World::build_with(dir, options).await
    }

    /// Builds and starts a world in `dir`.
    pub async fn build_with(dir: &Path, options: WorldOptions) -> Result<World, WorldError> {
        shipcheck_core::clients::http::install_crypto_provider();
        std::fs::create_dir_all(dir).map_err(io(format!("create {}", dir.display())))?;
        let dir = dir
            .canonicalize()
            .map_err(io(format!("resolve {}", dir.display())))?;
        let world_dir = dir.join("world");
        std::fs::create_dir_all(&world_dir).map_err(io("create world/"))?;
        let since = Timestamp::now();
        let start = config::start_instant(since);
        let clock_spec = ClockSpec {
            since,
            start,
            speed: options
                .speed
                .clamp(1.0, shipcheck_core::model::config::clock::MAX_SPEED),
        };
        let clock = clock_spec.clock();
        let repo = repo::build(&dir, start).await?;
        let secrets = options.secrets.clone().unwrap_or_else(|| Secrets {
            github: format!("ghp_demo{}", token_suffix(since, 1)),
            sentry: format!("sntrys_demo{}", token_suffix(since, 2)),
            prometheus: format!("fm2_demo{}", token_suffix(since, 3)),
            slack: format!("demo{}", token_suffix(since, 4)),
            events: format!("cde_demo{}", token_suffix(since, 5)),
        });
        let fly_dir = dir.join("fly");
        let apps = apps::Apps::new(&options.project);
        fleet::write(
            &apps,
            &fly_dir,
            clock_spec,
            start,
            &repo.production_head,
            options.scenario,
        )?;
        let (stop, _) = tokio::sync::watch::channel(false);
        let shared = Arc::new(Shared {
            fly_dir: fly_dir.clone(),
            clock,
            scenario: options.scenario,
            bad_onset_s: options.bad_onset_s,
            secrets: secrets.clone(),
            apps,
            github: Mutex::new(github::GithubState::new(&repo)),
            sentry: sentry::SentryState::new(start),
            slack: Mutex::new(Vec::new()),
            recorder: record::Recorder::new(&world_dir),
            echo_slack: options.echo_slack,
            flaky_sink: options.flaky_sink,
            sink_seen: Mutex::new(Vec::new()),
            http: shipcheck_core::clients::http::client(Duration::from_secs(5)),
            repo,
            stop,
            start,
            urls: std::sync::RwLock::new(BTreeMap::new()),
        });
        let mut tasks = Vec::new();
        let app_urls = apps::start(&shared, &mut tasks).await?;
        *shared.urls.write().unwrap_or_else(|e| e.into_inner()) = app_urls.clone();
        let mut services = BTreeMap::new();
        for (name, router) in [
            ("github", github::router(shared.clone())),
            ("sentry", sentry::router(shared.clone())),
            ("prometheus", prometheus::router(shared.clone())),
            ("slack", slack::router(shared.clone())),
            ("cdevents", cdevents::router(shared.clone())),
        ] {
            let (url, task) = serve::spawn(router, shared.stop.subscribe()).await?;
            services.insert(name.to_string(), url);
            tasks.push(task);
        }
        tasks.push(workflow::spawn_push_watcher(shared.clone()));
        tasks.push(apps::spawn_traffic(
            shared.clone(),
            &app_urls,
            options.traffic_rps,
            options.traffic_for,
        ));
        let (pg, pg_status) = postgres::setup(&options.postgres, &shared.repo).await;
        let mut env = BTreeMap::new();
        env.insert(ENV_GITHUB.to_string(), secrets.github.clone());
        env.insert(ENV_SENTRY.to_string(), secrets.sentry.clone());
        env.insert(ENV_PROMETHEUS.to_string(), secrets.prometheus.clone());
        env.insert(ENV_EVENTS.to_string(), secrets.events.clone());
        env.insert(
            ENV_SLACK.to_string(),
            format!(
                "{}/services/T0DEMO/B0DEMO/{}",
                services["slack"], secrets.slack
            ),
        );
        if let postgres::PgStatus::Ready {
            production,
            staging,
        } = &pg_status
        {
            env.insert(ENV_DATABASE.to_string(), production.clone());
            env.insert(ENV_STAGING_DATABASE.to_string(), staging.clone());
        }
        let config_path = dir.join("shipcheck.toml");
        let previous_images = shared.apps.production_images();
        let manifest = Manifest {
            scenario: options.scenario,
            clock: clock_spec,
            config: config_path.clone(),
            repo: shared.repo.clone_dir.clone(),
            origin: shared.repo.origin.clone(),
            fly_state: fly_dir.clone(),
            services,
            apps: app_urls,
            env,
            postgres: pg_status,
            previous_images,
        };
        let mut flyctl = options.flyctl.clone();
        flyctl.push("--state".into());
        flyctl.push(fly_dir.display().to_string());
        let text = config::render(
            &manifest,
            &options.project,
            &flyctl,
            &options.monitor_settings,
        );
        std::fs::write(&config_path, text).map_err(io("write shipcheck.toml"))?;
        std::fs::write(dir.join("env.sh"), config::env_sh(&manifest.env))
            .map_err(io("write env.sh"))?;
        let json = serde_json::to_string_pretty(&manifest).unwrap_or_default();
        std::fs::write(dir.join("world.json"), json).map_err(io("write world.json"))?;
        Ok(World {
            dir,
            manifest,
            shared,
            tasks,
            pg,
        })
    }

    /// `shipcheck.toml`.
    pub fn config_path(&self) -> &Path {
        &self.manifest.config
    }

    /// The environment variables a shipcheck process needs to run against this world.
    pub fn env(&self) -> &BTreeMap<String, String> {
        &self.manifest.env
    }

    /// Every request the GitHub, Sentry, Prometheus and Slack stand-ins answered, oldest
    /// first.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.shared.recorder.requests()
    }

    /// The Slack messages received, oldest first.
    pub fn slack_messages(&self) -> Vec<SlackMessage> {
        self.shared
            .slack
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// The workflow runs the GitHub stand-in knows, oldest first.
    pub fn workflow_runs(&self) -> Vec<github_runs::RunSnapshot> {
        self.shared
            .github
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .snapshots()
    }

    /// The POSTs the CDEvents sink received, oldest first.
    pub fn cdevents(&self) -> Vec<cdevents::ReceivedEvent> {
        record::read_cdevents(&self.dir)
    }

    /// The statuses the GitHub stand-in's deployments received, oldest first.
    pub fn deployment_statuses(&self) -> Vec<github_statuses::StatusRecord> {
        self.shared
            .github
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .statuses
            .clone()
    }

    /// "Now" in the world.
    pub fn now(&self) -> Timestamp {
        self.shared.now()
    }

    /// Stops every server and task, and drops the world's databases.
    pub async fn shutdown(mut self) {
        let _ = self.shared.stop.send(true);
        for t in self.tasks.drain(..) {
            let _ = tokio::time::timeout(Duration::from_secs(2), t).await;
        }
        if let Some(pg) = self.pg.take() {
            pg.drop_databases().await;
        }
    }

    /// Waits until the world is stopped from outside ([`World::stop_handle`]) or `limit`
    /// passes, then shuts it down.
    pub async fn serve_until(self, limit: Duration) {
        let mut rx = self.shared.stop.subscribe();
        let _ = tokio::time::timeout(limit, rx.wait_for(|s| *s)).await;
        self.shutdown().await;
    }

    /// A handle that stops the world from another task.
    pub fn stop_handle(&self) -> StopHandle {
        StopHandle(self.shared.stop.clone())
    }
}

impl Drop for World {
    fn drop(&mut self) {
        let _ = self.shared.stop.send(true);
        for t in &self.tasks {
            t.abort();
        }
        // A world dropped without `shutdown` (a panicking test) still drops its databases:
        // on a thread of its own, with its own runtime, bounded by the connect timeouts.
        if let Some(pg) = self.pg.take() {
            let _ = std::thread::spawn(move || {
                if let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    rt.block_on(pg.drop_databases());
                }
            })
            .join();
        }
    }
}

/// Stops a world from elsewhere.
#[derive(Clone)]
pub struct StopHandle(tokio::sync::watch::Sender<bool>);

impl StopHandle {
    /// Stops it.
    pub fn stop(&self) {
        let _ = self.0.send(true);
    }
}

fn token_suffix(t: Timestamp, n: u64) -> String {
    let x = (t.as_nanosecond() as u64)
        .wrapping_mul(0x9E37_79B9_7F4A_7C15)
        .wrapping_add(n.wrapping_mul(0xBF58_476D_1CE4_E5B9));
    format!("{:016x}", x ^ (x >> 31))
}
