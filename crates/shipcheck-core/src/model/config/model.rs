//! The shape of `shipcheck.toml`. Every table denies unknown keys: a mistyped key in a
//! deployment tool is a step that silently never runs.

use crate::model::checklist::conditions::PathsConfig;
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::model::checklist::{CheckSpec, Condition, Item};
use crate::model::duration::Span;

/// `[environments.*]` by name.
pub type Environments = BTreeMap<String, Environment>;

/// The whole file.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// `[project]`
    #[serde(default)]
    pub project: Project,
    /// `[git]`
    #[serde(default)]
    pub git: GitConfig,
    /// `[environments.staging]`, `[environments.production]`
    #[serde(default)]
    pub environments: BTreeMap<String, Environment>,
    /// `[window]`
    #[serde(default)]
    pub window: WindowConfig,
    /// `[contacts]`: role → contact (`team_lead = "Ana <ana@example.com>"`).
    #[serde(default)]
    pub contacts: BTreeMap<String, String>,
    /// `[engine]`
    #[serde(default)]
    pub engine: EngineConfig,
    /// `[checklist]`
    #[serde(default)]
    pub checklist: ChecklistConfig,
    /// `[paths]`: the path groups conditions and the git checks use.
    #[serde(default)]
    pub paths: PathsConfig,
    /// `[fly]`
    #[serde(default)]
    pub fly: crate::model::config::fly::FlyConfig,
    /// `[clock]`: how fast time runs (rehearsals only).
    #[serde(
        default,
        skip_serializing_if = "crate::model::config::clock::ClockConfig::is_wall_clock"
    )]
    pub clock: crate::model::config::clock::ClockConfig,
    /// `[github]`: absent → the GitHub items are manual.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub github: Option<crate::model::config::integrations::GithubConfig>,
    /// `[sentry]`: absent → the Sentry items are manual.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sentry: Option<crate::model::config::integrations::SentryConfig>,
    /// `[slack]`: absent → the Slack messages are manual.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slack: Option<crate::model::config::integrations::SlackConfig>,
    /// `[prometheus]`: absent → the Prometheus items are manual.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prometheus: Option<crate::model::config::integrations::PrometheusConfig>,
    /// `[events]`: absent → no CDEvents are sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub events: Option<crate::model::config::events::EventsConfig>,
    /// `[database]`: absent → the PostgreSQL items are manual.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub database: Option<crate::model::config::integrations::DatabaseConfig>,
    /// `[monitor]`: the baseline and the watch.
    #[serde(default)]
    pub monitor: crate::model::config::monitor::MonitorConfig,
    /// `[incident]`: the severity policy, its rollback, and the review.
    #[serde(default)]
    pub incident: crate::model::config::monitor::IncidentConfig,
    /// `[team]`: signatures (the allowed signers, whether one is required).
    #[serde(
        default,
        skip_serializing_if = "crate::model::config::team::TeamConfig::is_default"
    )]
    pub team: crate::model::config::team::TeamConfig,
}

/// `[project]`
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Project {
    /// Project name; the deploy lock is per project and environment.
    #[serde(default = "default_project_name")]
    pub name: String,
    /// IANA time zone (`Europe/Berlin`, `UTC`) for times shown and the window's default zone.
    #[serde(default = "utc")]
    pub timezone: String,
    /// Where the team's page (`shipcheck serve`) is reached (`https://deploys.example.com`):
    /// GitHub's deployment statuses link to the run's page there
    /// (`{web_url}/runs/{id}`). Unset: they link to the workflow run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub web_url: Option<String>,
}

impl Default for Project {
    fn default() -> Self {
        Project {
            name: default_project_name(),
            timezone: utc(),
            web_url: None,
        }
    }
}

fn default_project_name() -> String {
    "app".into()
}

fn utc() -> String {
    "UTC".into()
}

/// `[git]`
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GitConfig {
    /// The repository, relative to the config file's directory (default `.`).
    #[serde(default = "dot")]
    pub repo: String,
    /// The staging branch.
    #[serde(default = "staging")]
    pub staging: String,
    /// The production branch.
    #[serde(default = "production")]
    pub production: String,
    /// The remote both branches live on.
    #[serde(default = "origin")]
    pub remote: String,
}

impl Default for GitConfig {
    fn default() -> Self {
        GitConfig {
            repo: dot(),
            staging: staging(),
            production: production(),
            remote: origin(),
        }
    }
}

fn dot() -> String {
    ".".into()
}
fn staging() -> String {
    "staging".into()
}
fn production() -> String {
    "production".into()
}
fn origin() -> String {
    "origin".into()
}

/// `[environments.NAME]`
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Environment {
    /// `[[environments.NAME.apps]]`
    #[serde(default)]
    pub apps: Vec<App>,
}

/// One app in one environment.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct App {
    /// Short name shared across environments (`internal-api`).
    pub name: String,
    /// The Fly app (`maishapoa-production-internal-api`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fly_app: Option<String>,
    /// The health endpoint (`https://…fly.dev/api/health`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub health_url: Option<String>,
    /// The status the health endpoint must answer (default 200).
    #[serde(default = "status_200")]
    #[schemars(range(min = 100, max = 599))]
    pub expect_status: u16,
    /// Fly region every machine must be in (`fra`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// Secret names the app must have.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub required_secrets: Vec<String>,
    /// Where the app says which commit it runs (`verify.version-live`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<VersionSource>,
    /// The app's Sentry project (slug): `sentry.release` records a deploy of the release
    /// for it. Unset on every app: one deploy for `[sentry] projects`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sentry_project: Option<String>,
}

/// `version = { … }` of an app: where it says which commit it runs. The value read must name
/// the commit (the full SHA, or an abbreviation of at least 7 hex digits, alone or as a part
/// like `deployment-3f2a9c1d7e4b` or `1.4.0+3f2a9c1`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum VersionSource {
    /// A JSON pointer into the health answer's body (`"/version"`).
    JsonPointer(String),
    /// A header of the health answer (`"x-release"`).
    Header(String),
    /// A label of each Machine's image (`image_ref.labels`): `"GH_SHA"`, which flyctl sets
    /// when it builds on GitHub Actions, or one set with `fly deploy --label sha=…`.
    ImageLabel(String),
    /// The tag of each Machine's image: `fly deploy --image-label <sha>` tags it so
    /// (`registry.fly.io/APP:<sha>`). Only `true` is meaningful.
    ImageRef(bool),
}

impl VersionSource {
    /// Read from the health answer (sampled over HTTP), rather than from each Machine.
    pub fn is_http(&self) -> bool {
        matches!(
            self,
            VersionSource::JsonPointer(_) | VersionSource::Header(_)
        )
    }
    /// What is wrong with it, as (message, how to fix it), given whether the app has a
    /// health URL and a Fly app.
    pub fn problems(&self, health_url: bool, fly_app: bool) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = Vec::new();
        let mut push = |m: String, h: &str| out.push((m, h.to_string()));
        match self {
            VersionSource::JsonPointer(p) if !p.is_empty() && !p.starts_with('/') => push(
                format!("json_pointer {p:?} is not a JSON pointer"),
                "a JSON pointer starts with `/`, like json_pointer = \"/version\" (or \"/build/sha\")",
            ),
            VersionSource::Header(h)
                if reqwest::header::HeaderName::from_bytes(h.trim().as_bytes()).is_err() =>
            {
                push(
                    format!("header {h:?} is not an HTTP header name"),
                    "write the header's name, like header = \"x-release\"",
                )
            }
            VersionSource::ImageLabel(l) if l.trim().is_empty() => push(
                "image_label is empty".to_string(),
                "write the label's name, like image_label = \"GH_SHA\" (flyctl sets it when it builds on GitHub Actions)",
            ),
            VersionSource::ImageRef(false) => push(
                "image_ref = false reads nothing".to_string(),
                "write image_ref = true to read each Machine's image tag, or remove `version`",
            ),
            _ => {}
        }
        if self.is_http() && !health_url {
            push(
                format!("{} needs the app's health_url", self.describe()),
                "add health_url, or read the version from the image: version = { image_ref = true }",
            );
        } else if !self.is_http() && !fly_app {
            push(
                format!("{} needs the app's fly_app", self.describe()),
                "add fly_app, or read the version from the health answer: version = { json_pointer = \"/version\" }",
            );
        }
        out
    }

    /// As written in `shipcheck.toml`.
    pub fn describe(&self) -> String {
        match self {
            VersionSource::JsonPointer(p) => format!("json_pointer {p:?} of the health answer"),
            VersionSource::Header(h) => format!("header {h:?} of the health answer"),
            VersionSource::ImageLabel(l) => format!("image label {l:?} of each Machine"),
            VersionSource::ImageRef(_) => "the image tag of each Machine".to_string(),
        }
    }
}

fn status_200() -> u16 {
    200
}

/// A weekday as written in `[window] days`.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Day {
    /// Monday
    Mon,
    /// Tuesday
    Tue,
    /// Wednesday
    Wed,
    /// Thursday
    Thu,
    /// Friday
    Fri,
    /// Saturday
    Sat,
    /// Sunday
    Sun,
}

impl Day {
    /// The jiff weekday.
    pub fn weekday(self) -> jiff::civil::Weekday {
        use jiff::civil::Weekday as W;
        match self {
            Day::Mon => W::Monday,
            Day::Tue => W::Tuesday,
            Day::Wed => W::Wednesday,
            Day::Thu => W::Thursday,
            Day::Fri => W::Friday,
            Day::Sat => W::Saturday,
            Day::Sun => W::Sunday,
        }
    }
}

/// `[window]`: when deploys may happen (the seed: Tue-Thu, 10 AM-2 PM).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WindowConfig {
    /// Days deploys may happen.
    #[serde(default = "default_days")]
    #[schemars(length(min = 1))]
    pub days: Vec<Day>,
    /// Local start time, `HH:MM`.
    #[serde(default = "ten")]
    #[schemars(regex(pattern = crate::model::config::schema::HHMM_PATTERN))]
    pub start: String,
    /// Local end time, `HH:MM` (exclusive).
    #[serde(default = "fourteen")]
    #[schemars(regex(pattern = crate::model::config::schema::HHMM_PATTERN))]
    pub end: String,
    /// IANA time zone of `start`/`end`; defaults to `[project] timezone`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timezone: Option<String>,
}

impl Default for WindowConfig {
    fn default() -> Self {
        WindowConfig {
            days: default_days(),
            start: ten(),
            end: fourteen(),
            timezone: None,
        }
    }
}

fn default_days() -> Vec<Day> {
    vec![Day::Tue, Day::Wed, Day::Thu]
}
fn ten() -> String {
    "10:00".into()
}
fn fourteen() -> String {
    "14:00".into()
}

/// `[engine]`: how checks run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EngineConfig {
    /// How many checks run at once (default 16).
    #[serde(default = "sixteen")]
    pub concurrency: usize,
    /// Timeout of one check unless the item sets its own (default 5m).
    #[serde(default = "five_minutes")]
    pub check_timeout: Span,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            concurrency: sixteen(),
            check_timeout: five_minutes(),
        }
    }
}

fn sixteen() -> usize {
    16
}
fn five_minutes() -> Span {
    Span::secs(300)
}

/// `[checklist]`: how a team changes the built-in checklist.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ChecklistConfig {
    /// Item ids removed from the checklist.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub disable: Vec<String>,
    /// `[[checklist.items]]`: items added.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub items: Vec<Item>,
    /// `[checklist.override."prepare.tests"]`: retune a built-in item.
    #[serde(
        default,
        rename = "override",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub overrides: BTreeMap<String, ItemOverride>,
}

/// Fields of an item a team may retune. Each given field replaces the built-in one.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ItemOverride {
    /// New title.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Required or not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub required: Option<bool>,
    /// New condition.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub when: Option<Condition>,
    /// New check (replaces the whole check spec).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub check: Option<CheckSpec>,
    /// New timeout.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<Span>,
    /// A tick must carry a note.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note_required: Option<bool>,
}
