//! `[github]`, `[sentry]`, `[slack]`, `[prometheus]` and `[database]`: the HTTP APIs and the
//! database shipcheck reads and writes. Each table is optional; an item backed by a table
//! that is absent runs as a manual item with the reason (see
//! [`crate::model::checklist::apply_integration_fallbacks`]).
//!
//! Tokens are never written here: each table names the *environment variable* that holds
//! its token. A variable that is unset when the integration is used is an `error` naming it.

use crate::model::error::Invalid;
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::model::duration::Span;

fn thirty_seconds() -> Span {
    Span::secs(30)
}
fn ten_seconds() -> Span {
    Span::secs(10)
}

/// Request limits of one HTTP integration.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RequestLimits {
    /// Timeout of one request.
    pub request_timeout: Span,
    /// The longest total wait for rate limits.
    pub rate_limit_wait: Span,
}

macro_rules! limits {
    ($($t:ty),*) => {$(
        impl $t {
            /// The request timeout and rate-limit wait of this table.
            pub fn limits(&self) -> RequestLimits {
                RequestLimits {
                    request_timeout: self.request_timeout,
                    rate_limit_wait: self.rate_limit_wait,
                }
            }
        }
    )*};
}
limits!(GithubConfig, SentryConfig, SlackConfig, PrometheusConfig);

/// `[github]`
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GithubConfig {
    /// `owner/name`.
    pub repo: String,
    /// API base URL (default `https://api.github.com`; GHES: `https://HOST/api/v3`).
    #[serde(default = "github_api")]
    pub api_url: String,
    /// The environment variable holding the token (default `GITHUB_TOKEN`).
    #[serde(default = "github_token_env")]
    pub token_env: String,
    /// The deploy workflow's file name (`deploy.yml`); default: any workflow.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workflow: Option<String>,
    /// The GitHub environment whose deployment is approved (default `production`).
    #[serde(default = "production")]
    pub environment: String,
    /// How long the workflow run may take to appear after the push (default 10m).
    #[serde(default = "ten_minutes")]
    pub workflow_timeout: Span,
    /// How long shipcheck follows the run's jobs to completion (default 30m).
    #[serde(default = "thirty_minutes")]
    pub jobs_timeout: Span,
    /// How often a run or its jobs are polled (default 10s).
    #[serde(default = "ten_seconds")]
    pub poll_interval: Span,
    /// The longest shipcheck waits for the environment's wait timer before approving
    /// (default 30m); a timer ending later is an `error` naming when to come back.
    #[serde(default = "thirty_minutes")]
    pub wait_timer_limit: Span,
    /// Names of the workflow's health-check jobs (`verify.actions-health`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub health_jobs: Vec<String>,
    /// Timeout of one request (default 30s).
    #[serde(default = "thirty_seconds")]
    pub request_timeout: Span,
    /// The longest shipcheck waits in total for a rate limit to reset or a `Retry-After`
    /// before giving up with an `error` naming the reset time (default 30s).
    #[serde(default = "thirty_seconds")]
    pub rate_limit_wait: Span,
}

fn github_api() -> String {
    "https://api.github.com".into()
}
fn github_token_env() -> String {
    "GITHUB_TOKEN".into()
}
fn production() -> String {
    "production".into()
}
fn ten_minutes() -> Span {
    Span::secs(600)
}
fn thirty_minutes() -> Span {
    Span::secs(1800)
}

impl GithubConfig {
    /// `(owner, name)`, when `repo` has that shape.
    pub fn owner_name(&self) -> Option<(&str, &str)> {
        let (o, n) = self.repo.split_once('/')?;
        (!o.is_empty() && !n.is_empty() && !n.contains('/')).then_some((o, n))
    }
}

/// `[sentry]`
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SentryConfig {
    /// Base URL (default `https://sentry.io`; a region host like `https://de.sentry.io`, or a
    /// self-hosted Sentry). Paths start with `/api/0/`.
    #[serde(default = "sentry_url")]
    pub url: String,
    /// The organization slug.
    pub org: String,
    /// Project slugs (or numeric project ids).
    pub projects: Vec<String>,
    /// The environment variable holding the auth token (default `SENTRY_AUTH_TOKEN`).
    #[serde(default = "sentry_token_env")]
    pub token_env: String,
    /// Sentry's environment name to filter on (`production`); default: all environments.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub environment: Option<String>,
    /// The window before the run whose error rate is the baseline (default 24h).
    #[serde(default = "twenty_four_hours")]
    pub baseline_lookback: Span,
    /// The watch's window: each sample is the errors per minute of the last complete minutes
    /// of this span (default 3m). Shorter finds an onset and a recovery sooner; longer is
    /// steadier on a quiet project. At least 1m (Sentry's buckets).
    #[serde(default = "three_minutes")]
    pub watch_window: Span,
    /// How far above the baseline the rate after the deploy may be (default 0.10 = +10 %).
    #[serde(default = "ten_percent")]
    pub tolerance: f64,
    /// Fewer error events than this in the baseline window is "not enough data" (default 20).
    #[serde(default = "twenty")]
    pub min_events: u64,
    /// Timeout of one request (default 30s).
    #[serde(default = "thirty_seconds")]
    pub request_timeout: Span,
    /// The longest shipcheck waits in total for a rate limit to reset or a `Retry-After`
    /// before giving up with an `error` naming the reset time (default 30s).
    #[serde(default = "thirty_seconds")]
    pub rate_limit_wait: Span,
}

fn sentry_url() -> String {
    "https://sentry.io".into()
}
fn sentry_token_env() -> String {
    "SENTRY_AUTH_TOKEN".into()
}
fn three_minutes() -> Span {
    Span::secs(180)
}
fn twenty_four_hours() -> Span {
    Span::secs(86_400)
}
fn ten_percent() -> f64 {
    0.10
}
fn twenty() -> u64 {
    20
}

/// `[slack]`
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SlackConfig {
    /// The environment variable holding the incoming-webhook URL (default `SLACK_WEBHOOK_URL`).
    #[serde(default = "slack_webhook_env")]
    pub webhook_env: String,
    /// The channel the webhook posts to, for messages to the person (`#deploys`); display only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel_name: Option<String>,
    /// Timeout of one request (default 30s).
    #[serde(default = "thirty_seconds")]
    pub request_timeout: Span,
    /// The longest shipcheck waits in total for a rate limit to reset or a `Retry-After`
    /// before giving up with an `error` naming the reset time (default 30s).
    #[serde(default = "thirty_seconds")]
    pub rate_limit_wait: Span,
}

fn slack_webhook_env() -> String {
    "SLACK_WEBHOOK_URL".into()
}

/// How the Prometheus token is sent.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum PrometheusAuth {
    /// `Authorization: Bearer TOKEN` (Fly's docs, `flyctl auth token`).
    #[default]
    Bearer,
    /// `Authorization: FlyV1 TOKEN` (macaroon tokens from `fly tokens create`).
    Flyv1,
}

/// `[prometheus]`
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PrometheusConfig {
    /// The query base URL; Fly: `https://api.fly.io/prometheus/ORG-SLUG`.
    pub url: String,
    /// The environment variable holding the token; none → no `Authorization` header.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_env: Option<String>,
    /// `bearer` (default) or `flyv1`.
    #[serde(default)]
    pub auth: PrometheusAuth,
    /// `[prometheus.queries]`: replaces a built-in query (`cpu`, `memory`, `p95`). `{app}`
    /// stands for each production app's Fly app name.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub queries: BTreeMap<String, String>,
    /// Timeout of one request (default 30s).
    #[serde(default = "thirty_seconds")]
    pub request_timeout: Span,
    /// The longest shipcheck waits in total for a rate limit to reset or a `Retry-After`
    /// before giving up with an `error` naming the reset time (default 30s).
    #[serde(default = "thirty_seconds")]
    pub rate_limit_wait: Span,
}

/// `[database]`
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DatabaseConfig {
    /// The environment variable holding the production database URL (default `DATABASE_URL`).
    #[serde(default = "database_url_env")]
    pub url_env: String,
    /// The environment variable holding the staging database URL (default
    /// `STAGING_DATABASE_URL`), for `prepare.migrations-tested`.
    #[serde(default = "staging_database_url_env")]
    pub staging_url_env: String,
    /// The table the migration tool records applied migrations in (default
    /// `schema_migrations`).
    #[serde(default = "schema_migrations")]
    pub migrations_table: String,
    /// A query returning one text column: the applied migrations' names or versions
    /// (default `SELECT version::text FROM <migrations_table>`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub migrations_query: Option<String>,
    /// Client connections above this fraction of the usable `max_connections` fail (0.8).
    #[serde(default = "eighty_percent")]
    pub max_connections_ratio: f64,
    /// An active query running longer than this fails (default 5m).
    #[serde(default = "five_minutes")]
    pub long_query: Span,
    /// A transaction open longer than this fails (default 10m).
    #[serde(default = "ten_minutes")]
    pub long_transaction: Span,
    /// Timeout of the connection and of each query (default 10s).
    #[serde(default = "ten_seconds")]
    pub timeout: Span,
}

fn database_url_env() -> String {
    "DATABASE_URL".into()
}
fn staging_database_url_env() -> String {
    "STAGING_DATABASE_URL".into()
}
fn schema_migrations() -> String {
    "schema_migrations".into()
}
fn eighty_percent() -> f64 {
    0.8
}
fn five_minutes() -> Span {
    Span::secs(300)
}

impl DatabaseConfig {
    /// The query listing applied migrations.
    pub fn migrations_sql(&self) -> String {
        match &self.migrations_query {
            Some(q) => q.clone(),
            None => format!(
                "SELECT version::text FROM {}",
                quote_ident_path(&self.migrations_table)
            ),
        }
    }
}

/// Quotes `schema.table` (or `table`) as SQL identifiers.
pub fn quote_ident_path(name: &str) -> String {
    name.split('.')
        .map(|p| format!("\"{}\"", p.replace('"', "\"\"")))
        .collect::<Vec<_>>()
        .join(".")
}

impl crate::model::config::Config {
    /// The names of the environment variables the integration tables read secrets from, so
    /// their values are redacted even when the names do not look secret (`GH_PAT`).
    pub fn secret_env_names(&self) -> Vec<String> {
        let mut out = Vec::new();
        if let Some(g) = &self.github {
            out.push(g.token_env.clone());
        }
        if let Some(s) = &self.sentry {
            out.push(s.token_env.clone());
        }
        if let Some(s) = &self.slack {
            out.push(s.webhook_env.clone());
        }
        if let Some(p) = &self.prometheus {
            out.extend(p.token_env.clone());
        }
        if let Some(e) = &self.events {
            out.extend(e.token_env.clone());
        }
        if let Some(d) = &self.database {
            out.push(d.url_env.clone());
            out.push(d.staging_url_env.clone());
        }
        out
    }
}

/// The value of the environment variable `var`, or an error message naming it.
pub fn env_token(var: &str, integration: &str) -> Result<String, Invalid> {
    match env_value(var) {
        Some(v) if !v.trim().is_empty() => Ok(v.trim().to_string()),
        Some(_) => Err(format!(
            "{integration}: the environment variable {var} is empty; set it to the token"
        ).into()),
        None => Err(format!(
            "{integration}: the environment variable {var} is not set; set it to the token (its name comes from the config)"
        ).into()),
    }
}

/// An environment variable (tests may stand in for it, since setting the process environment
/// is `unsafe` in edition 2024).
pub fn env_value(var: &str) -> Option<String> {
    #[cfg(test)]
    if let Some(v) = test_env::get(var) {
        return Some(v);
    }
    std::env::var(var).ok()
}

/// Stand-in environment variables for unit tests.
#[cfg(test)]
pub mod test_env {
    use std::collections::BTreeMap;
    use std::sync::Mutex;

    static VARS: Mutex<BTreeMap<String, String>> = Mutex::new(BTreeMap::new());

    /// Sets `var` for [`super::env_value`] (use a name unique to the test).
    pub fn set(var: &str, value: &str) {
        VARS.lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(var.into(), value.into());
    }

    pub(super) fn get(var: &str) -> Option<String> {
        VARS.lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(var)
            .cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_unknown_keys() {
        let g: GithubConfig = toml::from_str("repo = \"acme/app\"").unwrap();
        assert_eq!(g.api_url, "https://api.github.com");
        assert_eq!(g.token_env, "GITHUB_TOKEN");
        assert_eq!(g.environment, "production");
        assert_eq!(g.workflow_timeout, Span::secs(600));
        assert_eq!(g.owner_name(), Some(("acme", "app")));
        assert!(toml::from_str::<GithubConfig>("repo = \"a/b\"\nrepoo = 1").is_err());
        let s: SentryConfig = toml::from_str("org = \"acme\"\nprojects = [\"api\"]").unwrap();
        assert_eq!(s.tolerance, 0.10);
        assert_eq!(s.baseline_lookback, Span::secs(86_400));
        assert_eq!(s.watch_window, Span::secs(180));
        let d: DatabaseConfig = toml::from_str("").unwrap();
        assert_eq!(
            d.migrations_sql(),
            "SELECT version::text FROM \"schema_migrations\""
        );
        let p: PrometheusConfig =
            toml::from_str("url = \"http://x\"\nauth = \"flyv1\"\nrequest_timeout = \"2s\"")
                .unwrap();
        assert_eq!(p.auth, PrometheusAuth::Flyv1);
        assert_eq!(p.limits().request_timeout, Span::secs(2));
        let sl: SlackConfig = toml::from_str("").unwrap();
        assert_eq!(sl.webhook_env, "SLACK_WEBHOOK_URL");
    }
}
