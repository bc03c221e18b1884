//! The Sentry API (`external-apis.md` §3): error counts over a window, issues first seen
//! since a time, releases and deploys.
//!
//! Error counts come from `events-timeseries` (dataset `errors`, `yAxis=count()`), which
//! takes an environment and minute intervals; `stats_v2` has a 1-hour minimum interval and no
//! environment filter, too coarse for "the minutes after the deploy".

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::clients::api::{Api, ApiError, Policy, Request, Service, next_link, read_json};
use crate::clients::{ClientError, Kit};
use crate::model::config::SentryConfig;

/// Scope of the organization endpoints that read events and stats.
pub const PERM_ORG_READ: &str = "the `org:read` scope";
/// Scope of the issues endpoint.
pub const PERM_EVENT_READ: &str = "the `event:read` scope";
/// Scope of reading a project (to resolve its slug to an id).
pub const PERM_PROJECT_READ: &str = "the `project:read` scope";
/// Scope of creating releases and deploys.
pub const PERM_RELEASES: &str = "the `project:releases` scope (or `org:ci`)";

const MAX_PAGES: usize = 5;

/// An error count over a window.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Count {
    /// Error events in the complete buckets.
    pub events: f64,
    /// Complete buckets.
    pub buckets: usize,
    /// Buckets still inside Sentry's ingestion delay (not counted).
    pub incomplete: usize,
    /// Bucket length in minutes.
    pub interval_minutes: f64,
}

impl Count {
    /// Minutes the complete buckets cover.
    pub fn minutes(&self) -> f64 {
        self.buckets as f64 * self.interval_minutes
    }
    /// Events per minute, `None` without a complete bucket.
    pub fn per_minute(&self) -> Option<f64> {
        (self.buckets > 0).then(|| self.events / self.minutes())
    }
}

/// An issue (the fields shipcheck reports).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Issue {
    /// The id.
    pub id: String,
    /// `MY-APP-1A2`.
    #[serde(rename = "shortId", default)]
    pub short_id: String,
    /// The title.
    #[serde(default)]
    pub title: String,
    /// error, fatal, warning, ...
    #[serde(default)]
    pub level: String,
    /// First seen.
    #[serde(rename = "firstSeen")]
    pub first_seen: Timestamp,
    /// Event count (a string in Sentry's answer).
    #[serde(default)]
    pub count: Value,
    /// The web page.
    #[serde(default)]
    pub permalink: String,
}

/// A deploy of a release.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Deploy {
    /// The id.
    #[serde(default)]
    pub id: Value,
    /// The environment.
    pub environment: String,
    /// Its name (shipcheck names each app's deploy after the app and the run).
    #[serde(default)]
    pub name: Option<String>,
    /// When it started.
    #[serde(rename = "dateStarted", default)]
    pub date_started: Option<String>,
    /// When it finished.
    #[serde(rename = "dateFinished", default)]
    pub date_finished: Option<String>,
}

/// A deploy to record ([`Sentry::create_deploy`]).
#[derive(Clone, Debug, PartialEq)]
pub struct NewDeploy<'a> {
    /// The environment.
    pub environment: &'a str,
    /// Its name.
    pub name: &'a str,
    /// A link (the workflow run).
    pub url: Option<&'a str>,
    /// When it started.
    pub started: Timestamp,
    /// When it finished.
    pub finished: Option<Timestamp>,
    /// The projects it is for.
    pub projects: &'a [String],
}

impl NewDeploy<'_> {
    /// The request's body.
    pub fn body(&self) -> Value {
        let mut body = json!({
            "environment": self.environment,
            "name": self.name,
            "dateStarted": self.started.to_string(),
            "projects": self.projects,
        });
        if let Some(f) = self.finished {
            body["dateFinished"] = json!(f.to_string());
        }
        if let Some(u) = self.url {
            body["url"] = json!(u);
        }
        body
    }
}

/// A Sentry client for the configured organization.
#[derive(Clone, Debug)]
pub struct Sentry {
    /// The HTTP client.
    pub api: Api,
    /// `[sentry]`.
    pub cfg: SentryConfig,
}

/// Percent-encodes a path segment.
pub fn encode_segment(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

impl Sentry {
    /// A client for `[sentry]`, with the token from the environment variable it names. `Err`
    /// names what is missing.
    pub fn new(cfg: &SentryConfig, kit: &Kit) -> Result<Sentry, ClientError> {
        let cfg = cfg.clone();
        if cfg.projects.is_empty() {
            return Err(ClientError(
                "[sentry] projects is empty; name the Sentry projects".into(),
            ));
        }
        let token = crate::model::config::env_token(&cfg.token_env, "Sentry")
            .map_err(|e| ClientError(e.0))?;
        let api = Api::new(
            kit.http.clone(),
            Service::Sentry,
            &cfg.url,
            Some(format!("Bearer {token}")),
            Policy::from(cfg.limits()),
            kit.clock.clone(),
        )
        .with_secrets(kit.secrets.clone());
        Ok(Sentry { api, cfg })
    }

    fn org(&self) -> String {
        encode_segment(&self.cfg.org)
    }

    /// The configured projects' numeric ids (slugs are looked up).
    pub async fn project_ids(&self) -> Result<Vec<String>, ApiError> {
        let mut out = Vec::new();
        for p in &self.cfg.projects {
            if !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()) {
                out.push(p.clone());
                continue;
            }
            let reply = self
                .api
                .send(Request::get(
                    format!("/api/0/projects/{}/{}/", self.org(), encode_segment(p)),
                    format!("Sentry project {}/{p}", self.cfg.org),
                    PERM_PROJECT_READ,
                ))
                .await?;
            out.push(read_project_id(&reply.body).map_err(|r| reply.malformed(r))?);
        }
        Ok(out)
    }

    /// Error events of `projects` in `[start, end)`, in buckets of `interval_minutes`.
    pub async fn error_count(
        &self,
        projects: &[String],
        start: Timestamp,
        end: Timestamp,
        interval_minutes: u32,
    ) -> Result<Count, ApiError> {
        let interval = if interval_minutes.is_multiple_of(1440) {
            format!("{}d", interval_minutes / 1440)
        } else if interval_minutes.is_multiple_of(60) {
            format!("{}h", interval_minutes / 60)
        } else {
            format!("{interval_minutes}m")
        };
        let mut req = Request::get(
            format!("/api/0/organizations/{}/events-timeseries/", self.org()),
            format!("the error counts of {} from {start} to {end}", self.cfg.org),
            PERM_ORG_READ,
        )
        .query("dataset", "errors")
        .query("yAxis", "count()")
        .query("start", start)
        .query("end", end)
        .query("interval", &interval);
        for p in projects {
            req = req.query("project", p);
        }
        if let Some(env) = &self.cfg.environment {
            req = req.query("environment", env);
        }
        let reply = self.api.send(req).await?;
        read_error_count(&reply.body, interval_minutes).map_err(|r| reply.malformed(r))
    }

    /// Unresolved issues of `projects` first seen at or after `since`, newest first.
    pub async fn new_issues(
        &self,
        projects: &[String],
        since: Timestamp,
        now: Timestamp,
    ) -> Result<Vec<Issue>, ApiError> {
        let minutes = (now.duration_since(since).as_secs().max(0) / 60) + 1;
        let mut req = Request::get(
            format!("/api/0/organizations/{}/issues/", self.org()),
            format!("the issues of {} first seen since {since}", self.cfg.org),
            PERM_EVENT_READ,
        )
        .query("query", format!("is:unresolved firstSeen:-{minutes}m"))
        .query("sort", "new")
        .query("limit", 100)
        .query("start", since)
        .query("end", now);
        for p in projects {
            req = req.query("project", p);
        }
        if let Some(env) = &self.cfg.environment {
            req = req.query("environment", env);
        }
        let mut out = Vec::new();
        for _ in 0..MAX_PAGES {
            let reply = self.api.send(req.clone()).await?;
            let page = read_issues(&reply.body).map_err(|r| reply.malformed(r))?;
            out.extend(page.into_iter().filter(|i| i.first_seen >= since));
            match next_link(&reply) {
                Some(url) => {
                    req = Request {
                        url,
                        query: Vec::new(),
                        ..req
                    }
                }
                None => break,
            }
        }
        Ok(out)
    }

    /// Creates release `version` for `projects`; an existing one (208, 409) is fine.
    pub async fn create_release(
        &self,
        version: &str,
        projects: &[String],
    ) -> Result<u16, ApiError> {
        let reply = self
            .api
            .send(
                Request::post(
                    format!("/api/0/organizations/{}/releases/", self.org()),
                    json!({ "version": version, "projects": projects }),
                    format!("the creation of Sentry release {version}"),
                    PERM_RELEASES,
                )
                .also_ok(208)
                .also_ok(409),
            )
            .await?;
        Ok(reply.status)
    }

    /// The URL deploys of release `version` are posted to.
    pub fn deploys_url(&self, version: &str) -> String {
        self.api.url(&format!(
            "/api/0/organizations/{}/releases/{}/deploys/",
            self.org(),
            encode_segment(version)
        ))
    }

    /// Records a deploy of release `version`.
    pub async fn create_deploy(
        &self,
        version: &str,
        d: &NewDeploy<'_>,
    ) -> Result<Deploy, ApiError> {
        self.api
            .get_json(Request::post(
                format!(
                    "/api/0/organizations/{}/releases/{}/deploys/",
                    self.org(),
                    encode_segment(version)
                ),
                d.body(),
                format!(
                    "the deploy of Sentry release {version} to {} ({})",
                    d.environment, d.name
                ),
                PERM_RELEASES,
            ))
            .await
    }

    /// The deploys of release `version` (404 when the release does not exist).
    pub async fn deploys(&self, version: &str) -> Result<Vec<Deploy>, ApiError> {
        self.api
            .get_json(Request::get(
                format!(
                    "/api/0/organizations/{}/releases/{}/deploys/",
                    self.org(),
                    encode_segment(version)
                ),
                format!("Sentry release {version}"),
                PERM_RELEASES,
            ))
            .await
    }
}

/// Reads a project's answer: its numeric id (a string or a number in Sentry's answers).
pub fn read_project_id(body: &str) -> Result<String, String> {
    let v: Value = read_json(body)?;
    match v.get("id") {
        Some(Value::String(s)) => Ok(s.clone()),
        Some(Value::Number(n)) => Ok(n.to_string()),
        _ => Err("no `id` in the project".into()),
    }
}

/// Reads an `events-timeseries` answer in buckets of `interval_minutes`: the events of the
/// complete buckets, summed over every series. `Err` is the reason it is malformed.
pub fn read_error_count(body: &str, interval_minutes: u32) -> Result<Count, String> {
    let v: Value = read_json(body)?;
    let series = v
        .get("timeSeries")
        .and_then(|t| t.as_array())
        .ok_or("no `timeSeries` array")?;
    let mut count = Count {
        events: 0.0,
        buckets: 0,
        incomplete: 0,
        interval_minutes: f64::from(interval_minutes),
    };
    // One series without `groupBy`; should Sentry split it (top events, "other"), the
    // events of every series are summed over the first series' buckets.
    for (n, s) in series.iter().enumerate() {
        let values = s
            .get("values")
            .and_then(|t| t.as_array())
            .ok_or("no `values` in the time series")?;
        for b in values {
            let complete = b.get("incomplete").and_then(|i| i.as_bool()) != Some(true);
            let value = match b.get("value") {
                Some(Value::Number(v)) if complete => {
                    let x = v.as_f64().unwrap_or(f64::NAN);
                    if !x.is_finite() || x < 0.0 {
                        return Err(format!("a bucket has the value {v}"));
                    }
                    Some(x)
                }
                Some(Value::Number(_) | Value::Null) | None => None,
                Some(other) => {
                    return Err(format!("a bucket has the value {other}"));
                }
            };
            match value {
                Some(x) => {
                    count.events += x;
                    if n == 0 {
                        count.buckets += 1;
                    }
                }
                None if n == 0 => count.incomplete += 1,
                None => {}
            }
        }
    }
    Ok(count)
}

/// Reads one page of issues.
pub fn read_issues(body: &str) -> Result<Vec<Issue>, String> {
    read_json(body)
}

#[cfg(test)]
#[path = "sentry_tests.rs"]
mod tests;
