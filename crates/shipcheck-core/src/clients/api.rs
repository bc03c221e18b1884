//! The request helper every HTTP integration (GitHub, Sentry, Slack, Prometheus) goes
//! through, over the one client from [`crate::clients::http::client`]:
//!
//! - a timeout on every request;
//! - bounded retries with doubling backoff for idempotent reads (GET) on 5xx answers and
//!   network errors; a write (POST) is sent once unless the service said it was not
//!   processed (429, or a rate-limited 403);
//! - rate limits honoured: GitHub's `x-ratelimit-remaining: 0` with `x-ratelimit-reset`,
//!   429/403 secondary limits with `retry-after`, Sentry's 429 `X-Sentry-Rate-Limit-Reset`
//!   (or `Retry-After`), Slack's 429 `Retry-After`.
//!   shipcheck waits up to a bound (`rate_limit_wait`) and then gives up with the reset time;
//! - typed errors: 401/403 name the permission the token needs, 404 names the resource,
//!   422 quotes the API's message, malformed JSON names the reason, a timeout names the limit;
//!   every error body is read into one line by [`api_message`] (an HTML page by its title),
//!   secrets removed before it is cut;
//! - credentials only to the configured origin, bodies bounded ([`crate::clients::bounds`]):
//!   a link or redirect to another origin is not followed at all and the error says so; a
//!   Slack webhook's redirect never; a body over the service's cap is an error naming it.
//!
//! Every loop here is bounded in count and in time.

use std::time::Duration;

use jiff::Timestamp;
use reqwest::Method;
use reqwest::header::HeaderMap;
use serde::de::DeserializeOwned;

use crate::model::clock::SharedClock;

pub use crate::clients::api_error::{ApiError, api_message, error_chain};

/// Which service a request goes to (for messages and rate-limit rules).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Service {
    /// The GitHub REST API.
    GitHub,
    /// The Sentry API.
    Sentry,
    /// A Slack incoming webhook.
    Slack,
    /// A Prometheus query API.
    Prometheus,
}

impl std::fmt::Display for Service {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Service::GitHub => "GitHub",
            Service::Sentry => "Sentry",
            Service::Slack => "Slack",
            Service::Prometheus => "Prometheus",
        })
    }
}

/// Timeouts, retries and waits.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Policy {
    /// Timeout of one request.
    pub timeout: Duration,
    /// Further attempts of a GET after a 5xx or a network error.
    pub retries: u32,
    /// Wait before the first retry, doubled each time.
    pub backoff: Duration,
    /// The longest total wait for rate limits.
    pub max_wait: Duration,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            timeout: Duration::from_secs(30),
            retries: 2,
            backoff: Duration::from_millis(500),
            max_wait: Duration::from_secs(30),
        }
    }
}

impl From<crate::model::config::RequestLimits> for Policy {
    fn from(l: crate::model::config::RequestLimits) -> Self {
        Policy {
            timeout: l.request_timeout.get(),
            max_wait: l.rate_limit_wait.get(),
            ..Policy::default()
        }
    }
}

/// How many times a rate-limited request is tried again at most (besides the time bound).
const MAX_RATE_LIMIT_RETRIES: u32 = 3;
/// The wait an answer's `Retry-After` asks for, in its delay-seconds form (the form GitHub,
/// Sentry and Slack send; an HTTP date is not read).
pub(crate) fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    headers
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(Duration::from_secs)
}

/// GitHub's advice for a secondary limit without `retry-after`: wait at least a minute.
const GITHUB_SECONDARY_WAIT: Duration = Duration::from_secs(60);
/// A 429 without any hint from Sentry or Slack.
const DEFAULT_429_WAIT: Duration = Duration::from_secs(5);

/// One request.
#[derive(Clone, Debug)]
pub struct Request {
    /// GET, POST, ...
    pub method: Method,
    /// A path under the base URL (`/repos/...`), or a full URL.
    pub url: String,
    /// Query parameters (repeatable).
    pub query: Vec<(String, String)>,
    /// A JSON body.
    pub body: Option<serde_json::Value>,
    /// What is asked for, for messages ("the pending deployments of run 42").
    pub what: String,
    /// The permission the token needs, for 401/403 messages.
    pub permission: String,
    /// Further statuses that count as success (Sentry's 208 "already exists").
    pub also_ok: Vec<u16>,
}

impl Request {
    /// A GET.
    pub fn get(url: impl Into<String>, what: impl Into<String>, permission: &str) -> Request {
        Request {
            method: Method::GET,
            url: url.into(),
            query: Vec::new(),
            body: None,
            what: what.into(),
            permission: permission.into(),
            also_ok: Vec::new(),
        }
    }
    /// A POST of a JSON body.
    pub fn post(
        url: impl Into<String>,
        body: serde_json::Value,
        what: impl Into<String>,
        permission: &str,
    ) -> Request {
        Request {
            method: Method::POST,
            body: Some(body),
            ..Request::get(url, what, permission)
        }
    }
    /// Adds a query parameter.
    pub fn query(mut self, k: &str, v: impl ToString) -> Request {
        self.query.push((k.into(), v.to_string()));
        self
    }
    /// Counts `status` as success too.
    pub fn also_ok(mut self, status: u16) -> Request {
        self.also_ok.push(status);
        self
    }
}

/// A successful answer.
#[derive(Clone, Debug)]
pub struct Reply {
    /// The HTTP status.
    pub status: u16,
    /// The headers.
    pub headers: HeaderMap,
    /// The body as text.
    pub body: String,
    service: Service,
    what: String,
    secrets: std::sync::Arc<Vec<String>>,
}

impl Reply {
    /// The body as `T`. Malformed JSON, an HTML page, an empty body, or JSON without a
    /// required field (named) is an error with the reason; optional fields may be missing.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, ApiError> {
        read_json(&self.body).map_err(|reason| self.malformed(reason))
    }

    /// One line from the body for a message: secrets removed first, then cut
    /// ([`api_message`]).
    pub fn message(&self) -> String {
        api_message(&crate::model::redact::redact(&self.body, &self.secrets))
    }

    /// A header as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// A `Malformed` error for this answer (secrets removed from the reason).
    pub fn malformed(&self, reason: impl Into<String>) -> ApiError {
        ApiError::Malformed {
            service: self.service,
            what: self.what.clone(),
            reason: crate::model::redact::redact(&reason.into(), &self.secrets),
        }
    }
}

/// Reads an answer's body as `T`; `Err` is the reason (for [`Reply::malformed`]): an empty
/// body, an HTML page (by its title), JSON that is not the documented shape, or malformed JSON.
pub fn read_json<T: DeserializeOwned>(body: &str) -> Result<T, String> {
    serde_json::from_str(body).map_err(|e| {
        if body.trim().is_empty() {
            "the body is empty".to_string()
        } else if crate::clients::api_error::looks_html(body) {
            crate::clients::api_error::html_summary(body)
        } else if e.is_data() {
            format!("an answer that is not the documented shape: {e}")
        } else {
            format!("malformed JSON: {e}")
        }
    })
}

/// A client for one service.
#[derive(Clone)]
pub struct Api {
    http: reqwest::Client,
    /// The service.
    pub service: Service,
    /// The base URL, without a trailing slash.
    pub base: String,
    auth: Option<String>,
    headers: Vec<(&'static str, String)>,
    /// Timeouts, retries and waits.
    pub policy: Policy,
    clock: SharedClock,
    /// The largest body read ([`crate::clients::bounds::body_cap`] unless set).
    pub body_cap: usize,
    secrets: std::sync::Arc<Vec<String>>,
}

impl std::fmt::Debug for Api {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Api")
            .field("service", &self.service)
            .field("base", &self.base)
            .field("auth", &self.auth.as_ref().map(|_| "[REDACTED]"))
            .field("policy", &self.policy)
            .finish()
    }
}

impl Api {
    /// A client for `service` at `base`, sending `auth` as the `Authorization` header.
    pub fn new(
        http: reqwest::Client,
        service: Service,
        base: &str,
        auth: Option<String>,
        policy: Policy,
        clock: SharedClock,
    ) -> Api {
        Api {
            http,
            service,
            base: base.trim_end_matches('/').to_string(),
            auth,
            headers: Vec::new(),
            policy,
            clock,
            body_cap: crate::clients::bounds::body_cap(service),
            secrets: std::sync::Arc::default(),
        }
    }

    /// The values removed from every error message and every body sent (see
    /// [`crate::model::redact`]): error bodies are redacted before they are cut to an excerpt.
    pub fn with_secrets(mut self, secrets: std::sync::Arc<Vec<String>>) -> Api {
        self.secrets = secrets;
        self
    }

    /// Reads at most `bytes` of any answer.
    pub fn with_body_cap(mut self, bytes: usize) -> Api {
        self.body_cap = bytes;
        self
    }

    /// `scheme://host:port` of the base URL: the one origin credentials are sent to.
    pub fn home(&self) -> String {
        reqwest::Url::parse(&self.base)
            .map(|u| crate::clients::bounds::origin(&u))
            .unwrap_or_else(|_| self.base.clone())
    }

    fn refused(&self, what: &str, refusal: crate::clients::bounds::OriginRefusal) -> ApiError {
        ApiError::OtherOrigin {
            service: self.service,
            what: what.to_string(),
            refusal,
            home: self.home(),
        }
    }

    /// Adds a header to every request.
    pub fn with_header(mut self, name: &'static str, value: impl Into<String>) -> Api {
        self.headers.push((name, value.into()));
        self
    }

    /// The clock (polling loops sleep on it).
    pub fn clock(&self) -> &SharedClock {
        &self.clock
    }

    /// The full URL of a path.
    pub fn url(&self, path: &str) -> String {
        if path.starts_with("http://") || path.starts_with("https://") {
            path.to_string()
        } else {
            format!("{}{}", self.base, path)
        }
    }

    /// GET `req` and read the body as `T`.
    pub async fn get_json<T: DeserializeOwned>(&self, req: Request) -> Result<T, ApiError> {
        self.send(req).await?.json()
    }

    /// Sends `req` with the policy's timeout, retries and rate-limit waits.
    pub async fn send(&self, req: Request) -> Result<Reply, ApiError> {
        let idempotent = req.method == Method::GET;
        let mut retries = 0u32;
        let mut rate_limited = 0u32;
        let mut waited = Duration::ZERO;
        let mut backoff = self.policy.backoff;
        let mut url = reqwest::Url::parse(&self.url(&req.url)).map_err(|e| ApiError::Network {
            service: self.service,
            what: req.what.clone(),
            reason: format!("the configured URL is not valid: {e}"),
        })?;
        if !req.query.is_empty() {
            url.query_pairs_mut().extend_pairs(&req.query);
        }
        // A URL from an answer (a pagination link) on another origin is not requested at all.
        if crate::clients::bounds::origin(&url) != self.home() {
            return Err(self.refused(
                &req.what,
                crate::clients::bounds::OriginRefusal::Link {
                    origin: crate::clients::bounds::origin(&url),
                },
            ));
        }
        let body = req.body.clone().map(|mut b| {
            crate::model::redact::redact_json(&mut b, &self.secrets);
            b
        });
        let mut hops = 0u32;
        let max_attempts = 1 + self.policy.retries + MAX_RATE_LIMIT_RETRIES;
        for _attempt in 0..max_attempts + crate::clients::bounds::MAX_REDIRECTS {
            let mut rb = self
                .http
                .request(req.method.clone(), url.clone())
                .timeout(self.policy.timeout);
            for (k, v) in &self.headers {
                rb = rb.header(*k, v);
            }
            if let Some(a) = &self.auth {
                rb = rb.header(reqwest::header::AUTHORIZATION, a);
            }
            if let Some(b) = &body {
                rb = rb.json(b);
            }
            let answer = match rb.send().await {
                Ok(resp) => {
                    let status = resp.status().as_u16();
                    let headers = resp.headers().clone();
                    match crate::clients::bounds::read_body(resp, self.body_cap).await {
                        Ok(body) => Ok((status, headers, body)),
                        Err(crate::clients::bounds::BodyError::Http(e)) => Err(e),
                        Err(crate::clients::bounds::BodyError::TooLarge) => {
                            return Err(ApiError::TooLarge {
                                service: self.service,
                                what: req.what.clone(),
                                cap: self.body_cap,
                            });
                        }
                    }
                }
                Err(e) => Err(e),
            };
            let (status, headers, body) = match answer {
                Ok(a) => a,
                Err(e) if e.is_timeout() => {
                    return Err(ApiError::Timeout {
                        service: self.service,
                        what: req.what.clone(),
                        limit: self.policy.timeout,
                    });
                }
                Err(e) => {
                    if idempotent && retries < self.policy.retries {
                        retries += 1;
                        self.clock.sleep(backoff).await;
                        backoff *= 2;
                        continue;
                    }
                    return Err(ApiError::Network {
                        service: self.service,
                        what: req.what.clone(),
                        reason: error_chain(&e.without_url()),
                    });
                }
            };
            if (200..300).contains(&status) || req.also_ok.contains(&status) {
                return Ok(Reply {
                    status,
                    headers,
                    body,
                    service: self.service,
                    what: req.what.clone(),
                    secrets: self.secrets.clone(),
                });
            }
            if crate::clients::bounds::is_redirect(status) {
                let location = headers.get("location").and_then(|v| v.to_str().ok());
                match crate::clients::bounds::follow(
                    self.service,
                    &self.base,
                    &url,
                    status,
                    location,
                    idempotent,
                    hops,
                ) {
                    Ok(to) => {
                        hops += 1;
                        url = to;
                        continue;
                    }
                    Err(refusal) => return Err(self.refused(&req.what, refusal)),
                }
            }
            if let Some((wait, reset_at)) = self.rate_limit(status, &headers, &body) {
                if rate_limited < MAX_RATE_LIMIT_RETRIES && waited + wait <= self.policy.max_wait {
                    rate_limited += 1;
                    waited += wait;
                    self.clock.sleep(wait).await;
                    continue;
                }
                return Err(ApiError::RateLimited {
                    service: self.service,
                    what: req.what.clone(),
                    reset_at,
                    waited,
                    bound: self.policy.max_wait,
                });
            }
            if status >= 500 && idempotent && retries < self.policy.retries {
                retries += 1;
                self.clock.sleep(backoff).await;
                backoff *= 2;
                continue;
            }
            return Err(self.classify(status, &body, &req));
        }
        Err(ApiError::Status {
            service: self.service,
            what: req.what.clone(),
            status: 0,
            message: format!("gave up after {max_attempts} attempts"),
        })
    }

    /// `Some((wait, reset time))` when the answer is a rate limit.
    fn rate_limit(
        &self,
        status: u16,
        headers: &HeaderMap,
        body: &str,
    ) -> Option<(Duration, Timestamp)> {
        if status != 429 && !(status == 403 && self.service == Service::GitHub) {
            return None;
        }
        let now = self.clock.now();
        let h = |n: &str| headers.get(n).and_then(|v| v.to_str().ok()).map(str::trim);
        let at = |wait: Duration| {
            (now + jiff::SignedDuration::try_from(wait).unwrap_or_default())
                .round(jiff::Unit::Second)
                .unwrap_or(now)
        };
        if let Some(wait) = retry_after(headers) {
            return Some((wait, at(wait)));
        }
        if self.service == Service::GitHub {
            if h("x-ratelimit-remaining") == Some("0")
                && let Some(reset) = h("x-ratelimit-reset").and_then(|v| v.parse::<i64>().ok())
            {
                let reset_at = Timestamp::from_second(reset).unwrap_or(now);
                let wait = reset_at
                    .duration_since(now)
                    .max(jiff::SignedDuration::ZERO)
                    .unsigned_abs()
                    + Duration::from_secs(1);
                return Some((wait, reset_at));
            }
            let secondary = body.to_ascii_lowercase().contains("rate limit");
            if status == 429 || secondary {
                return Some((GITHUB_SECONDARY_WAIT, at(GITHUB_SECONDARY_WAIT)));
            }
            return None;
        }
        // Sentry documents no Retry-After but `X-Sentry-Rate-Limit-Reset` (epoch seconds).
        if self.service == Service::Sentry
            && let Some(reset) = h("x-sentry-rate-limit-reset").and_then(|v| v.parse::<i64>().ok())
            && let Ok(reset_at) = Timestamp::from_second(reset)
        {
            let wait = reset_at
                .duration_since(now)
                .max(jiff::SignedDuration::ZERO)
                .unsigned_abs()
                + Duration::from_secs(1);
            return Some((wait, reset_at));
        }
        Some((DEFAULT_429_WAIT, at(DEFAULT_429_WAIT)))
    }

    fn classify(&self, status: u16, body: &str, req: &Request) -> ApiError {
        // Secrets out first, then cut: an excerpt never ends inside a secret it kept.
        let message = api_message(&crate::model::redact::redact(body, &self.secrets));
        let service = self.service;
        let what = req.what.clone();
        let permission = req.permission.clone();
        match status {
            401 => ApiError::Unauthorized {
                service,
                what,
                permission,
                message,
            },
            403 => ApiError::Forbidden {
                service,
                what,
                permission,
                message,
            },
            404 => ApiError::NotFound {
                service,
                what,
                message,
            },
            422 => ApiError::Unprocessable {
                service,
                what,
                message: if message.is_empty() {
                    "no message".into()
                } else {
                    message
                },
            },
            _ => ApiError::Status {
                service,
                what,
                status,
                message,
            },
        }
    }
}

/// Follows `Link: <…>; rel="next"` (GitHub, Sentry). Sentry marks the end with
/// `results="false"`.
pub fn next_link(reply: &Reply) -> Option<String> {
    let link = reply.header("link")?;
    for part in link.split(',') {
        let mut segs = part.split(';').map(str::trim);
        let url = segs.next()?.trim_start_matches('<').trim_end_matches('>');
        let attrs: Vec<&str> = segs.collect();
        if attrs.iter().any(|a| a.replace(' ', "") == "rel=\"next\"")
            && !attrs
                .iter()
                .any(|a| a.replace(' ', "") == "results=\"false\"")
        {
            return Some(url.to_string());
        }
    }
    None
}

#[cfg(test)]
#[path = "api_tests.rs"]
mod tests;
