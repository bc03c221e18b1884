//! A load test as data: its options, their bounds, and when a run stops ([`Options::plan`]).
//! The load generator itself is [`crate::loadtest`]; the `loadtest` check builds its options
//! from a checklist spec here, so a config is validated without running anything.

use std::time::Duration;

use crate::model::checklist::LoadtestCheck;

/// The options contradict each other or exceed the bounds.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct InvalidOptions(pub String);

/// At most this many connections.
pub const MAX_CONCURRENCY: usize = 1024;

/// No run lasts longer than this (plus one request timeout to finish what is in flight).
pub const MAX_DURATION: Duration = Duration::from_secs(600);

/// No run makes more requests than this.
pub const MAX_REQUESTS: u64 = 10_000_000;

/// The highest arrival rate, requests per second.
pub const MAX_RATE: f64 = 100_000.0;

/// The longest request timeout.
pub const MAX_TIMEOUT: Duration = Duration::from_secs(60);

/// Connections unless set.
pub const DEFAULT_CONCURRENCY: usize = 10;

/// Duration unless a duration or a request count is set.
pub const DEFAULT_DURATION: Duration = Duration::from_secs(10);

/// Request timeout unless set.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// How to load-test one URL.
#[derive(Clone, Debug, PartialEq)]
pub struct Options {
    /// `http://` or `https://` URL; GET requests.
    pub url: String,
    /// Connections (the closed model's concurrency; in the open model, how many requests can
    /// be outstanding at once).
    pub concurrency: usize,
    /// Requests per second (the open model); `None` sends as fast as answers come back.
    pub rate: Option<f64>,
    /// Stop after this long.
    pub duration: Option<Duration>,
    /// Stop after this many requests.
    pub requests: Option<u64>,
    /// Timeout of one request (connecting included).
    pub timeout: Duration,
}

impl Options {
    /// Defaults: [`DEFAULT_CONCURRENCY`] connections, the closed model, [`DEFAULT_DURATION`].
    pub fn new(url: impl Into<String>) -> Options {
        Options {
            url: url.into(),
            concurrency: DEFAULT_CONCURRENCY,
            rate: None,
            duration: None,
            requests: None,
            timeout: DEFAULT_TIMEOUT,
        }
    }

    /// Checks the bounds and works out when and after how many requests the run stops.
    pub fn plan(&self) -> Result<Plan, InvalidOptions> {
        let bad = |m: String| Err(InvalidOptions(m));
        if self.concurrency == 0 || self.concurrency > MAX_CONCURRENCY {
            return bad(format!(
                "concurrency must be between 1 and {MAX_CONCURRENCY} (got {})",
                self.concurrency
            ));
        }
        if self.timeout.is_zero() || self.timeout > MAX_TIMEOUT {
            return bad(format!(
                "the request timeout must be above 0 and at most {} (got {})",
                crate::model::duration::format(MAX_TIMEOUT),
                crate::model::duration::format(self.timeout)
            ));
        }
        if let Some(d) = self.duration
            && (d.is_zero() || d > MAX_DURATION)
        {
            return bad(format!(
                "the duration must be above 0 and at most {} (got {})",
                crate::model::duration::format(MAX_DURATION),
                crate::model::duration::format(d)
            ));
        }
        if let Some(n) = self.requests
            && (n == 0 || n > MAX_REQUESTS)
        {
            return bad(format!(
                "the request count must be between 1 and {MAX_REQUESTS} (got {n})"
            ));
        }
        let duration = match (self.duration, self.requests) {
            (None, None) => Some(DEFAULT_DURATION),
            (d, _) => d,
        };
        match self.rate {
            Some(r) if !(r.is_finite() && r > 0.0 && r <= MAX_RATE) => bad(format!(
                "the rate must be above 0 and at most {MAX_RATE} requests per second (got {r})"
            )),
            Some(rate) => {
                // The schedule: every request has a due time inside the run.
                let by_time = duration.map(|d| (d.as_secs_f64() * rate).floor() as u64);
                let total = match (self.requests, by_time) {
                    (Some(n), Some(t)) => n.min(t),
                    (Some(n), None) => n,
                    (None, Some(t)) => t,
                    (None, None) => 0,
                };
                if total == 0 {
                    return bad(format!(
                        "a rate of {rate}/s sends no request in {}; raise the rate or the duration",
                        crate::model::duration::format(duration.unwrap_or_default())
                    ));
                }
                let secs = total as f64 / rate;
                if !secs.is_finite() || secs > MAX_DURATION.as_secs_f64() {
                    return bad(format!(
                        "{total} requests at {rate}/s take {secs:.0}s, more than the limit of {}",
                        crate::model::duration::format(MAX_DURATION)
                    ));
                }
                let span = Duration::from_secs_f64(secs);
                Ok(Plan {
                    total,
                    rate: Some(rate),
                    stop_after: span,
                    timeout: self.timeout,
                    concurrency: self.concurrency,
                })
            }
            None => Ok(Plan {
                total: self.requests.unwrap_or(MAX_REQUESTS),
                rate: None,
                stop_after: duration.unwrap_or(MAX_DURATION),
                timeout: self.timeout,
                concurrency: self.concurrency,
            }),
        }
    }
}

/// When a run stops, as [`Options::plan`] works it out.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Plan {
    /// Requests at most (the count asked for, the open model's schedule, or
    /// [`MAX_REQUESTS`]).
    pub total: u64,
    /// The open model's rate.
    pub rate: Option<f64>,
    /// No new request starts after this (the closed model), or the last one is due by then
    /// (the open model).
    pub stop_after: Duration,
    /// Request timeout.
    pub timeout: Duration,
    /// Connections.
    pub concurrency: usize,
}

impl Plan {
    /// The hard limit: nothing runs past it.
    pub fn time_limit(&self) -> Duration {
        self.stop_after + self.timeout + Duration::from_secs(1)
    }
}

/// The load-test options `spec` asks for, for `url`.
pub fn options(spec: &LoadtestCheck, url: &str) -> Options {
    Options {
        url: url.to_string(),
        concurrency: spec.concurrency.unwrap_or(DEFAULT_CONCURRENCY),
        rate: spec.rate,
        duration: spec.duration.map(|d| d.get()),
        requests: spec.requests,
        timeout: spec.timeout.map(|t| t.get()).unwrap_or(DEFAULT_TIMEOUT),
    }
}

/// What is wrong with `spec` as written: (key, problem, help).
pub fn problems(spec: &LoadtestCheck) -> Vec<(&'static str, String, String)> {
    let mut out = Vec::new();
    if let Some(url) = &spec.url
        && !(url.trim().starts_with("http://") || url.trim().starts_with("https://"))
    {
        out.push((
            "url",
            format!("{url:?} is not an http:// or https:// URL"),
            "write the staging URL to load-test, like url = \"https://myapp-staging.fly.dev/health\"".into(),
        ));
    }
    if let Err(e) = options(spec, "http://127.0.0.1/").plan() {
        out.push((
            "concurrency",
            e.to_string(),
            "set concurrency (1–1024), rate (requests per second), duration and requests within the load test's bounds".into(),
        ));
    }
    if let Some(v) = spec.min_rps
        && !(v.is_finite() && v >= 0.0)
    {
        out.push((
            "min_rps",
            format!("{v} is not a number of requests per second"),
            "write the lowest acceptable throughput, like min_rps = 50".into(),
        ));
    }
    for (key, v) in [
        ("max_error_rate", spec.max_error_rate),
        ("max_p95_increase", spec.max_p95_increase),
    ] {
        if let Some(v) = v
            && !(v.is_finite() && v >= 0.0 && (key != "max_error_rate" || v <= 1.0))
        {
            out.push((
                key,
                format!("{v} is not a share (0.01 = 1 %)"),
                "write a share like 0.01 for 1 %".into(),
            ));
        }
    }
    out
}

impl crate::model::error::HasKind for InvalidOptions {
    fn kind(&self) -> crate::model::error::ErrorKind {
        crate::model::error::ErrorKind::Usage
    }
}
